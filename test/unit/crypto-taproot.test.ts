import { schnorr, secp256k1 } from '@noble/curves/secp256k1.js';
import { numberToBytesBE } from '@noble/curves/utils.js';
import { sha256 } from '@noble/hashes/sha2.js';
import * as tiny from 'tiny-secp256k1';
import { describe, expect, it } from 'vitest';
import { fromHex, toHex, utf8 } from '../../src/crypto/encoding.js';
import { p2trAddress } from '../../src/crypto/addresses.js';
import { taprootTweak, xOnly } from '../../src/crypto/taproot.js';
import { expectCode } from './expect-errors.js';
import { readVectors, titled } from './vectors.js';

const hx = (s: string) => fromHex(s, 'test');
const Fn = secp256k1.Point.Fn;

interface Bip341 {
  source: string;
  scriptPubKey: Array<{
    given: { internalPubkey: string };
    intermediary: { merkleRoot: string | null; tweak: string; tweakedPubkey: string };
    expected: { bip350Address: string };
  }>;
}
interface Bip340 {
  source: string;
  invalidPublicKeys: Array<{ index: number; publicKey: string; comment: string }>;
}

const SCRIPT_PUBKEY = readVectors<Bip341>('bip341.json').scriptPubKey;
const BIP340 = readVectors<Bip340>('bip340.json');

type SpkCase = Bip341['scriptPubKey'][number];
const rootOf = (c: SpkCase) =>
  c.intermediary.merkleRoot === null ? undefined : hx(c.intermediary.merkleRoot);

describe('taprootTweak: BIP341 wallet test vectors (scriptPubKey)', () => {
  it.each(SCRIPT_PUBKEY.map((c, i) => [i, c] as const))('case %i', (_i, c) => {
    const { internalPubkey } = c.given;
    const { tweak, tweakedPubkey } = c.intermediary;
    const r = taprootTweak(hx(internalPubkey), rootOf(c));
    expect(toHex(numberToBytesBE(r.tweak, 32))).toBe(tweak);
    expect(toHex(r.outputKey)).toBe(tweakedPubkey);
    expect(r.internalNegated).toBe(false);
    expect(p2trAddress(r.outputKey, 'mainnet')).toBe(c.expected.bip350Address);
    expect(p2trAddress(hx(tweakedPubkey), 'mainnet')).toBe(c.expected.bip350Address);
    // Independent implementation (libsecp256k1).
    const viaTiny = tiny.xOnlyPointAddTweak(hx(internalPubkey), numberToBytesBE(r.tweak, 32));
    expect(viaTiny).not.toBeNull();
    expect(toHex(viaTiny!.xOnlyPubkey)).toBe(tweakedPubkey);
    expect(r.parity).toBe(viaTiny!.parity);
  });

  it('covers both output parities across the vectors', () => {
    const parities = new Set(
      SCRIPT_PUBKEY.map((c) => taprootTweak(hx(c.given.internalPubkey), rootOf(c)).parity),
    );
    expect(parities).toEqual(new Set([0, 1]));
  });

  it('a 33-byte key gives the output of its x-only form; odd y is reported as negated', () => {
    for (const c of SCRIPT_PUBKEY) {
      const want = taprootTweak(hx(c.given.internalPubkey), rootOf(c));
      const even = taprootTweak(hx('02' + c.given.internalPubkey), rootOf(c));
      const odd = taprootTweak(hx('03' + c.given.internalPubkey), rootOf(c));
      for (const r of [even, odd]) {
        expect(toHex(r.outputKey)).toBe(c.intermediary.tweakedPubkey);
        expect(r.tweak).toBe(want.tweak);
        expect(r.parity).toBe(want.parity);
      }
      expect(even.internalNegated).toBe(false);
      expect(odd.internalNegated).toBe(true);
    }
  });
});

describe('taprootTweak: secret-side arithmetic', () => {
  // Deterministic secrets, so the parity coverage below cannot flake.
  const secrets = Array.from({ length: 8 }, (_, i) =>
    Fn.create(BigInt('0x' + toHex(sha256(utf8(`taproot-${i}`))))),
  );
  const roots = [undefined, sha256(utf8('some script tree'))];

  it("d' = ±d + t signs BIP340 under the output key (verified by libsecp256k1)", () => {
    const negated = new Set<boolean>();
    const parities = new Set<number>();
    for (const d of secrets) {
      for (const root of roots) {
        const P = secp256k1.Point.BASE.multiply(d).toBytes(true);
        const r = taprootTweak(P, root);
        negated.add(r.internalNegated);
        parities.add(r.parity);
        const dPrime = Fn.add(r.internalNegated ? Fn.neg(d) : d, r.tweak);
        const sk = Fn.toBytes(dPrime);
        expect(toHex(tiny.xOnlyPointFromScalar(sk))).toBe(toHex(r.outputKey));
        const msg = sha256(utf8(`spend ${toHex(P)}`));
        const sig = schnorr.sign(msg, sk, new Uint8Array(32));
        expect(tiny.verifySchnorr(msg, r.outputKey, sig)).toBe(true);
        // And not under the untweaked key.
        expect(tiny.verifySchnorr(msg, xOnly(P), sig)).toBe(false);
      }
    }
    expect(negated).toEqual(new Set([false, true]));
    expect(parities).toEqual(new Set([0, 1]));
  });

  it('forgetting the negation breaks the signature for odd-y internal keys', () => {
    const d = secrets.find((s) => secp256k1.Point.BASE.multiply(s).y % 2n === 1n)!;
    const P = secp256k1.Point.BASE.multiply(d).toBytes(true);
    const r = taprootTweak(P);
    expect(r.internalNegated).toBe(true);
    const wrong = Fn.toBytes(Fn.add(d, r.tweak));
    const msg = sha256(utf8('x'));
    expect(tiny.verifySchnorr(msg, r.outputKey, schnorr.sign(msg, wrong, new Uint8Array(32)))).toBe(false);
  });
});

describe(`BIP340 public keys that are not points (${BIP340.source})`, () => {
  it.each(titled(BIP340.invalidPublicKeys, (c) => `#${c.index} (${c.comment})`))(
    '%s: refused as an x-only key, a compressed key, a P2TR key',
    (_title, c) => {
      // The reason the file gives holds: x is not a field element, or x^3 + 7 has no square root.
      const Fp = secp256k1.Point.Fp;
      const x = BigInt('0x' + c.publicKey);
      expect(['x >= p', 'not on the curve']).toContain(c.comment);
      expect(x >= Fp.ORDER).toBe(c.comment === 'x >= p');
      if (c.comment === 'not on the curve') expect(() => Fp.sqrt(Fp.add(Fp.pow(x, 3n), 7n))).toThrow();
      expectCode(() => taprootTweak(hx(c.publicKey)), 'BAD_INPUT');
      expectCode(() => taprootTweak(hx('02' + c.publicKey)), 'BAD_INPUT');
      expectCode(() => xOnly(hx('02' + c.publicKey)), 'BAD_INPUT');
      expectCode(() => p2trAddress(hx(c.publicKey), 'mainnet'), 'BAD_INPUT');
    },
  );
});

describe('taprootTweak / xOnly: rejections', () => {
  const good = hx(SCRIPT_PUBKEY[0]!.given.internalPubkey);

  it('rejects invalid internal keys', () => {
    expectCode(() => taprootTweak(Uint8Array.of(0x04, ...good)), 'BAD_INPUT', /compressed/);
    expectCode(() => taprootTweak(good.slice(1)), 'BAD_INPUT');
    expectCode(
      () => taprootTweak(secp256k1.Point.fromBytes(Uint8Array.of(2, ...good)).toBytes(false)),
      'BAD_INPUT',
    );
  });

  it('rejects a merkle root that is not 32 bytes', () => {
    expectCode(() => taprootTweak(good, new Uint8Array(31)), 'BAD_INPUT', /merkle root/);
    expectCode(() => taprootTweak(good, new Uint8Array(33)), 'BAD_INPUT', /merkle root/);
    // An empty root is not "no script tree".
    expectCode(() => taprootTweak(good, new Uint8Array(0)), 'BAD_INPUT', /merkle root/);
  });

  it('xOnly takes the x coordinate of a valid compressed point', () => {
    const key = SCRIPT_PUBKEY[1]!.given.internalPubkey;
    expect(toHex(xOnly(hx('03' + key)))).toBe(key);
    expect(toHex(xOnly(secp256k1.Point.BASE.toBytes(true)))).toBe(
      '79be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798',
    );
    expectCode(() => xOnly(good), 'BAD_INPUT');
    expectCode(() => xOnly(Uint8Array.of(0x04, ...good)), 'BAD_INPUT');
  });
});
