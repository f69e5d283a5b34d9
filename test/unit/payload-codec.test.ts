import { randomBytes } from 'node:crypto';
import { defaultPayloadConverter } from '@temporalio/common';
import { describe, expect, it } from 'vitest';
import { ConclavePayloadCodec, encryptedEncoding } from '../../src/codec/payload-codec.js';

const key = randomBytes(32);
const codec = new ConclavePayloadCodec(key);
const payload = (v: unknown) => defaultPayloadConverter.toPayload(v)!;
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

  it('passes payloads that are not its own through', async () => {
    const plain = payload({ tenant: 'acme' });
    expect(await codec.decode([plain])).toEqual([plain]);
    expect(() => new ConclavePayloadCodec(randomBytes(16))).toThrow(/32 bytes/);
  });
});
