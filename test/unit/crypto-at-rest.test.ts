import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { ConclaveError } from '../../src/errors.js';
import { fromHex, toHex, utf8 } from '../../src/crypto/encoding.js';
import {
  decryptAtRest,
  encryptAtRest,
  openJson,
  sealJson,
  type AtRestContext,
  type SealedBox,
} from '../../src/crypto/at-rest.js';

const kek = new Uint8Array(randomBytes(32));
const ctx: AtRestContext = { purpose: 'share', tenant: 'acme', party: 'p1', keyId: 'wallet-7', version: 3 };
const secret = utf8('signing-share-0123456789abcdef');

function errOf(fn: () => unknown): unknown {
  try {
    fn();
  } catch (e) {
    return e;
  }
  throw new Error('expected a throw');
}

function expectDecryptFailed(fn: () => unknown, box: SealedBox) {
  const e = errOf(fn);
  expect(e).toBeInstanceOf(ConclaveError);
  expect((e as ConclaveError).code).toBe('DECRYPT_FAILED');
  const m = (e as Error).message;
  expect(m).toMatch(/^record could not be decrypted: wrong key-encryption key or tampered record \(/);
  // No secret material in the message.
  for (const s of [toHex(kek), toHex(secret), new TextDecoder().decode(secret), box.ct, box.nonce]) {
    expect(m).not.toContain(s);
  }
}

describe('at-rest encryption', () => {
  it('round-trips bytes and JSON', () => {
    const box = encryptAtRest(kek, secret, ctx);
    expect(box.v).toBe(1);
    expect(fromHex(box.nonce, 'n').length).toBe(12);
    expect(fromHex(box.ct, 'ct').length).toBe(secret.length + 16);
    expect(decryptAtRest(kek, JSON.parse(JSON.stringify(box)), { ...ctx })).toEqual(secret);
    const value = { share: 'ab', n: 3, nested: [1, { x: null }] };
    expect(openJson(kek, sealJson(kek, value, ctx), ctx)).toEqual(value);
  });

  it('uses a fresh nonce per record and does not leak plaintext', () => {
    const a = encryptAtRest(kek, secret, ctx);
    const b = encryptAtRest(kek, secret, ctx);
    expect(a.nonce).not.toBe(b.nonce);
    expect(a.ct).not.toBe(b.ct);
    expect(a.ct).not.toContain(toHex(secret).slice(0, 16));
  });

  it('fails with the wrong KEK, with a message naming only purpose/keyId/version', () => {
    const box = encryptAtRest(kek, secret, ctx);
    const e = errOf(() => decryptAtRest(new Uint8Array(randomBytes(32)), box, ctx));
    expect((e as Error).message).toBe(
      'record could not be decrypted: wrong key-encryption key or tampered record (share wallet-7 v3)',
    );
    expectDecryptFailed(() => decryptAtRest(new Uint8Array(randomBytes(32)), box, ctx), box);
  });

  it('fails when any context field changes', () => {
    const box = encryptAtRest(kek, secret, ctx);
    const changed: AtRestContext[] = [
      { ...ctx, tenant: 'acme2' },
      { ...ctx, party: 'p2' },
      { ...ctx, keyId: 'wallet-8' },
      { ...ctx, version: 4 },
      { ...ctx, purpose: 'nonce' },
    ];
    for (const c of changed) expectDecryptFailed(() => decryptAtRest(kek, box, c), box);
  });

  it('fails on flipped ciphertext, tag or nonce bytes and on malformed boxes', () => {
    const box = encryptAtRest(kek, secret, ctx);
    const flip = (hex: string, i: number) => {
      const b = fromHex(hex, 'x');
      b[i] = (b[i] as number) ^ 0x80;
      return toHex(b);
    };
    const ctLen = fromHex(box.ct, 'ct').length;
    const bad: SealedBox[] = [
      { ...box, ct: flip(box.ct, 0) },
      { ...box, ct: flip(box.ct, ctLen - 1) },
      { ...box, nonce: flip(box.nonce, 5) },
      { ...box, ct: box.ct.slice(0, -2) },
      { ...box, ct: 'zz' },
      { ...box, nonce: '00' },
      { ...box, v: 2 as 1 },
    ];
    for (const b of bad) expectDecryptFailed(() => decryptAtRest(kek, b, ctx), box);
  });

  it('rejects a KEK of the wrong length with CONFIG', () => {
    for (const k of [new Uint8Array(16), new Uint8Array(33)]) {
      const e = errOf(() => encryptAtRest(k, secret, ctx));
      expect((e as ConclaveError).code).toBe('CONFIG');
      expect(
        (errOf(() => decryptAtRest(k, encryptAtRest(kek, secret, ctx), ctx)) as ConclaveError).code,
      ).toBe('CONFIG');
    }
  });

  it('rejects invalid contexts and non-JSON values with BAD_INPUT', () => {
    expect((errOf(() => encryptAtRest(kek, secret, { ...ctx, version: -1 })) as ConclaveError).code).toBe(
      'BAD_INPUT',
    );
    expect(
      (errOf(() => encryptAtRest(kek, secret, { ...ctx, purpose: 'other' as 'share' })) as ConclaveError)
        .code,
    ).toBe('BAD_INPUT');
    expect((errOf(() => sealJson(kek, { n: 1n }, ctx)) as ConclaveError).code).toBe('BAD_INPUT');
    expect((errOf(() => sealJson(kek, undefined, ctx)) as ConclaveError).code).toBe('BAD_INPUT');
  });
});
