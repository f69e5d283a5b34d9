import { createPublicKey, verify as nodeVerify } from 'node:crypto';
import { x25519 } from '@noble/curves/ed25519.js';
import { describe, expect, it } from 'vitest';
import { generatePartyKeys, signBytes, verifyBytes } from '../../src/crypto/identity.js';
import { utf8 } from '../../src/crypto/encoding.js';

const spki = (pk: Uint8Array) =>
  createPublicKey({
    key: Buffer.concat([Buffer.from('302a300506032b6570032100', 'hex'), Buffer.from(pk)]),
    format: 'der',
    type: 'spki',
  });

describe('party keys', () => {
  it('generates distinct, consistent Ed25519 and X25519 key pairs', () => {
    const a = generatePartyKeys();
    const b = generatePartyKeys();
    for (const k of [a.identitySecret, a.identityPublic, a.transportSecret, a.transportPublic]) {
      expect(k).toBeInstanceOf(Uint8Array);
      expect(k.length).toBe(32);
    }
    expect(a.identitySecret).not.toEqual(b.identitySecret);
    expect(x25519.getPublicKey(a.transportSecret)).toEqual(a.transportPublic);
    // ECDH agreement between two parties' transport keys.
    expect(x25519.getSharedSecret(a.transportSecret, b.transportPublic)).toEqual(
      x25519.getSharedSecret(b.transportSecret, a.transportPublic),
    );
  });

  it('signs so that OpenSSL verifies, and rejects wrong key / message / signature', () => {
    const a = generatePartyKeys();
    const b = generatePartyKeys();
    const msg = utf8('hello');
    const sig = signBytes(a.identitySecret, msg);
    expect(verifyBytes(a.identityPublic, msg, sig)).toBe(true);
    expect(nodeVerify(null, msg, spki(a.identityPublic), sig)).toBe(true);
    expect(verifyBytes(b.identityPublic, msg, sig)).toBe(false);
    expect(verifyBytes(a.identityPublic, utf8('hellp'), sig)).toBe(false);
    const flipped = sig.slice();
    flipped[5] = (flipped[5] as number) ^ 1;
    expect(verifyBytes(a.identityPublic, msg, flipped)).toBe(false);
    expect(verifyBytes(a.identityPublic, msg, sig.subarray(0, 63))).toBe(false);
    expect(verifyBytes(new Uint8Array(3), msg, sig)).toBe(false);
  });
});
