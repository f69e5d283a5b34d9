import { ed25519, ed25519_FROST } from '@noble/curves/ed25519.js';
import { schnorr, schnorr_FROST, secp256k1, secp256k1_FROST } from '@noble/curves/secp256k1.js';
import { describe, expect, it } from 'vitest';
import { ConclaveError } from '../../src/errors.js';
import { toHex, utf8 } from '../../src/crypto/encoding.js';
import { getScheme, listSchemes, resolveScheme } from '../../src/crypto/schemes.js';

function errOf(fn: () => unknown): unknown {
  try {
    fn();
  } catch (e) {
    return e;
  }
  throw new Error('expected a throw');
}

describe('scheme registry', () => {
  it('resolves by name, or by curve when the curve has one scheme', () => {
    const a = resolveScheme('ed25519');
    expect(a).toBe(getScheme('frost-ed25519'));
    expect(a.curve).toBe('ed25519');
    expect(a.frost).toBe(ed25519_FROST);
    expect(listSchemes()).toEqual(['frost-ed25519', 'frost-secp256k1', 'frost-taproot', 'dkls23-secp256k1']);
    expect(listSchemes().map((n) => getScheme(n).protocol)).toEqual(['frost', 'frost', 'frost', 'dkls23']);
    // threshold ECDSA keys come from the same secp256k1 DKG and sign 32-byte hashes
    expect(getScheme('dkls23-secp256k1').frost).toBe(secp256k1_FROST);
    expect(getScheme('dkls23-secp256k1').messageBytes).toBe(32);
    expect(getScheme('dkls23-secp256k1').address).toBe('ethereum');
    expect(resolveScheme('secp256k1', 'frost-taproot')).toBe(getScheme('frost-taproot'));
    expect(resolveScheme(undefined, 'frost-secp256k1').curve).toBe('secp256k1');
    // Taproot keys come from the plain suite's DKG and sign with the BIP340 suite
    expect(getScheme('frost-taproot').frost).toBe(secp256k1_FROST);
    expect(getScheme('frost-taproot').signer).toBe(schnorr_FROST);
  });

  it('refuses an ambiguous curve, a scheme of another curve, and unknown names', () => {
    const ambiguous = errOf(() => resolveScheme('secp256k1'));
    expect((ambiguous as ConclaveError).code).toBe('BAD_INPUT');
    expect((ambiguous as Error).message).toMatch(
      /several schemes \(frost-secp256k1, frost-taproot, dkls23-secp256k1\)/,
    );
    const mismatch = errOf(() => resolveScheme('ed25519', 'frost-taproot'));
    expect((mismatch as Error).message).toBe('scheme frost-taproot is a secp256k1 scheme, not ed25519');
    expect((errOf(() => resolveScheme('p256')) as ConclaveError).code).toBe('UNKNOWN_CURVE');
    for (const x of ['secp256k1', 'ed25519', 'FROST-ED25519', '', '__proto__', 'constructor', 'toString']) {
      const e = errOf(() => getScheme(x));
      expect(e).toBeInstanceOf(ConclaveError);
      expect((e as ConclaveError).code).toBe('UNKNOWN_SCHEME');
      expect((e as Error).message).toBe(
        `unknown scheme "${x}" (known: frost-ed25519, frost-secp256k1, frost-taproot, dkls23-secp256k1)`,
      );
    }
  });

  it('Taproot verifies BIP340 signatures under an x-only or compressed key', () => {
    const s = getScheme('frost-taproot');
    const sk = secp256k1.utils.randomSecretKey();
    const msg = utf8('m');
    const sig = schnorr.sign(msg, sk);
    expect(s.verify(sig, msg, schnorr.getPublicKey(sk))).toBe(true);
    expect(s.verify(sig, msg, secp256k1.getPublicKey(sk, true))).toBe(true);
    expect(s.verify(sig, utf8('n'), schnorr.getPublicKey(sk))).toBe(false);
    expect(s.verify(sig, msg, new Uint8Array(32))).toBe(false);
  });

  it('secp256k1 points must be compressed, on the curve and not the identity', () => {
    const s = getScheme('frost-secp256k1');
    const G = secp256k1.Point.BASE;
    expect(s.isValidPoint(G.toBytes(true))).toBe(true);
    expect(s.isValidPoint(G.toBytes(false))).toBe(false);
    const offCurve = G.toBytes(true);
    offCurve[32] = offCurve[32]! ^ 1;
    expect(s.isValidPoint(offCurve) && secp256k1.Point.fromBytes(offCurve).equals(G)).toBe(false);
    expect(s.isValidPoint(new Uint8Array(33))).toBe(false);
    const one = new Uint8Array(32);
    one[31] = 1;
    expect(toHex(s.scalarBaseMult(one))).toBe(toHex(G.toBytes(true)));
  });

  it('verify accepts a valid Ed25519 signature and rejects bad ones without throwing', () => {
    const s = getScheme('frost-ed25519');
    const { secretKey, publicKey } = ed25519.keygen();
    const msg = utf8('m');
    const sig = ed25519.sign(msg, secretKey);
    expect(s.verify(sig, msg, publicKey)).toBe(true);
    expect(s.verify(sig, utf8('n'), publicKey)).toBe(false);
    expect(s.verify(sig.subarray(1), msg, publicKey)).toBe(false);
    expect(s.verify(sig, msg, new Uint8Array(32))).toBe(false);
  });

  it('scalarBaseMult and isValidPoint follow the group rules', () => {
    const s = getScheme('frost-ed25519');
    const one = new Uint8Array(32);
    one[0] = 1;
    expect(toHex(s.scalarBaseMult(one))).toBe(toHex(ed25519.Point.BASE.toBytes()));
    expect(s.isValidPoint(ed25519.Point.BASE.toBytes())).toBe(true);
    const identity = new Uint8Array(32);
    identity[0] = 1;
    expect(s.isValidPoint(identity)).toBe(false);
    // Order-2 point (0, -1).
    const minusOne = ed25519.Point.fromAffine({ x: 0n, y: ed25519.Point.Fp.ORDER - 1n }).toBytes();
    expect(s.isValidPoint(minusOne)).toBe(false);
    // On the curve but with a small-order component: not in the prime-order subgroup.
    const mixed = ed25519.Point.BASE.add(ed25519.Point.fromBytes(minusOne)).toBytes();
    expect(s.isValidPoint(mixed)).toBe(false);
    // Non-canonical y (>= p) and wrong length.
    expect(s.isValidPoint(new Uint8Array(32).fill(0xff).map((v, i) => (i === 31 ? 0x7f : v)))).toBe(false);
    expect(s.isValidPoint(new Uint8Array(31))).toBe(false);
  });
});
