import { ed25519, ed25519_FROST } from '@noble/curves/ed25519.js';
import { describe, expect, it } from 'vitest';
import { ConclaveError } from '../../src/errors.js';
import { toHex, utf8 } from '../../src/crypto/encoding.js';
import { getScheme, listSchemes } from '../../src/crypto/schemes.js';

function errOf(fn: () => unknown): unknown {
  try {
    fn();
  } catch (e) {
    return e;
  }
  throw new Error('expected a throw');
}

describe('scheme registry', () => {
  it('resolves by curve and by scheme name to the same scheme', () => {
    const a = getScheme('ed25519');
    expect(a).toBe(getScheme('frost-ed25519'));
    expect(a.name).toBe('frost-ed25519');
    expect(a.curve).toBe('ed25519');
    expect(a.frost).toBe(ed25519_FROST);
    expect(listSchemes()).toEqual(['frost-ed25519']);
  });

  it('rejects unknown names, including prototype keys', () => {
    for (const x of ['secp256k1', 'ED25519', '', '__proto__', 'constructor', 'toString']) {
      const e = errOf(() => getScheme(x));
      expect(e).toBeInstanceOf(ConclaveError);
      expect((e as ConclaveError).code).toBe('UNKNOWN_CURVE');
      expect((e as Error).message).toBe(`unknown curve or scheme "${x}" (known: ed25519)`);
    }
  });

  it('verify accepts a valid Ed25519 signature and rejects bad ones without throwing', () => {
    const s = getScheme('ed25519');
    const { secretKey, publicKey } = ed25519.keygen();
    const msg = utf8('m');
    const sig = ed25519.sign(msg, secretKey);
    expect(s.verify(sig, msg, publicKey)).toBe(true);
    expect(s.verify(sig, utf8('n'), publicKey)).toBe(false);
    expect(s.verify(sig.subarray(1), msg, publicKey)).toBe(false);
    expect(s.verify(sig, msg, new Uint8Array(32))).toBe(false);
  });

  it('scalarBaseMult and isValidPoint follow the group rules', () => {
    const s = getScheme('ed25519');
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
