import { randomBytes } from 'node:crypto';
import { defaultPayloadConverter, ensureApplicationFailure, type Payload } from '@temporalio/common';
import { describe, expect, it } from 'vitest';
import {
  ConclavePayloadCodec,
  encryptedEncoding,
  warnWithoutPayloadKey,
} from '../../src/codec/payload-codec.js';
import { ConclaveError, UnencryptedPayloadError } from '../../src/errors.js';

const key = randomBytes(32);
const codec = new ConclavePayloadCodec(key);
const payload = (v: unknown) => defaultPayloadConverter.toPayload(v)!;
const utf8 = (s: string) => new TextEncoder().encode(s);
const text = (u: Uint8Array | null | undefined) => new TextDecoder().decode(u ?? new Uint8Array());

describe('payload codec', () => {
  it.each<[string, unknown, string]>([
    ['a request of tenant acme', { tenant: 'acme', walletId: 'w1', message: 'cafe' }, 'acme'],
    ['a string argument', 'acme', ''],
    ['a list', [{ tenant: 'acme' }], ''],
    ['null', null, ''],
    ['binary', new Uint8Array([1, 2, 3]), ''],
  ])('encrypts %s and decrypts it back, bound to its tenant', async (_n, value, tenant) => {
    const [enc] = await codec.encode([payload(value)]);
    expect(text(enc!.metadata!.encoding)).toBe(encryptedEncoding);
    expect(text(enc!.metadata!['conclave-tenant'])).toBe(tenant);
    if (typeof value === 'object' && value && 'message' in value)
      expect(text(enc!.data)).not.toContain('cafe');
    const [dec] = await codec.decode([enc!]);
    expect(defaultPayloadConverter.fromPayload(dec!)).toEqual(value);
  });

  it('two encryptions of one payload differ (fresh nonce)', async () => {
    const [a] = await codec.encode([payload({ tenant: 'acme' })]);
    const [b] = await codec.encode([payload({ tenant: 'acme' })]);
    expect(Buffer.from(a!.data!).equals(Buffer.from(b!.data!))).toBe(false);
  });

  it('refuses a payload moved to another tenant, a changed byte, and another key', async () => {
    const [enc] = await codec.encode([payload({ tenant: 'acme', amount: '5' })]);
    const moved = {
      ...enc!,
      metadata: { ...enc!.metadata, 'conclave-tenant': new TextEncoder().encode('globex') },
    };
    await expect(codec.decode([moved])).rejects.toThrow(/does not decrypt/);
    const flipped = new Uint8Array(enc!.data!);
    flipped[20] = flipped[20]! ^ 1;
    await expect(codec.decode([{ ...enc!, data: flipped }])).rejects.toThrow(/does not decrypt/);
    await expect(new ConclavePayloadCodec(randomBytes(32)).decode([enc!])).rejects.toThrow(
      /encrypted under key/,
    );
  });

  it.each<[string, Payload]>([
    ['a JSON payload', payload({ tenant: 'acme', message: 'cafe' })],
    ['binary/null', payload(undefined)],
    ['binary/plain', payload(new Uint8Array([0xca, 0xfe]))],
    ['another encoding', { metadata: { encoding: utf8('binary/other-codec') }, data: utf8('cafe') }],
    ['no encoding', { metadata: {}, data: utf8('cafe') }],
    ['no metadata', { data: utf8('cafe') }],
    ['an empty payload', {}],
    ['a hostile encoding name', { metadata: { encoding: utf8('json/plain\ncafe') }, data: utf8('{}') }],
  ])('refuses %s with UNENCRYPTED_PAYLOAD, naming no contents', async (_n, plain) => {
    const ours = (await codec.encode([payload({ tenant: 'acme' })]))[0]!;
    const err = await codec.decode([ours, plain]).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UnencryptedPayloadError);
    expect(err).toBeInstanceOf(ConclaveError);
    expect((err as ConclaveError).code).toBe('UNENCRYPTED_PAYLOAD');
    expect((err as Error).message).toMatch(/^refused a Temporal payload that is not encrypted \(encoding /);
    expect((err as Error).message).not.toMatch(/cafe|acme/);
    // the type Temporal gives a failure made from it (the SDK names it after the constructor)
    expect(ensureApplicationFailure(err).type).toBe('UNENCRYPTED_PAYLOAD');
  });

  it('names a safe encoding, and none or an unsafe one as such', async () => {
    const message = (p: Payload) => codec.decode([p]).catch((e: unknown) => (e as Error).message);
    expect(await message(payload('x'))).toContain('(encoding json/plain)');
    expect(await message({ data: utf8('x') })).toContain('(encoding none)');
    expect(await message({ metadata: { encoding: utf8('a b') } })).toContain('(encoding unrecognised)');
  });

  it('decodes an empty list, and refuses a list with one plaintext payload among its own', async () => {
    expect(await codec.decode([])).toEqual([]);
    const ours = await codec.encode([payload('a'), payload('b')]);
    await expect(codec.decode([ours[0]!, payload('x'), ours[1]!])).rejects.toThrow(UnencryptedPayloadError);
    expect(() => new ConclavePayloadCodec(randomBytes(16))).toThrow(/32 bytes/);
  });

  it('a process without the key says so once, loudly; with a key, nothing', () => {
    const lines: string[] = [];
    warnWithoutPayloadKey(key, 'party p9', (l) => lines.push(l));
    expect(lines).toEqual([]);
    warnWithoutPayloadKey(undefined, 'party p9', (l) => lines.push(l));
    warnWithoutPayloadKey(undefined, 'party p9', (l) => lines.push(l));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^party p9: WARNING: CONCLAVE_PAYLOAD_KEY is not set: .*NOT encrypted/);
    expect(lines[0]).not.toContain('\n');
  });
});
