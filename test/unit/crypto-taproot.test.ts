import { schnorr, secp256k1 } from '@noble/curves/secp256k1.js';
import { numberToBytesBE } from '@noble/curves/utils.js';
import { sha256 } from '@noble/hashes/sha2.js';
import * as tiny from 'tiny-secp256k1';
import { describe, expect, it } from 'vitest';
import { fromHex, toHex, utf8 } from '../../src/crypto/encoding.js';
import { p2trAddress } from '../../src/crypto/addresses.js';
import { taprootTweak, xOnly } from '../../src/crypto/taproot.js';
import { expectCode } from './expect-errors.js';

const hx = (s: string) => fromHex(s, 'test');
const Fn = secp256k1.Point.Fn;

interface SpkCase {
  internalPubkey: string;
  merkleRoot: string | null;
  tweak: string;
  tweakedPubkey: string;
  bip350Address: string;
}

// bitcoin/bips bip-0341/wallet-test-vectors.json, "scriptPubKey" section (all 7 cases):
// given.internalPubkey, intermediary.merkleRoot / tweak / tweakedPubkey, expected.bip350Address.
const SCRIPT_PUBKEY: SpkCase[] = [
  {
    internalPubkey: 'd6889cb081036e0faefa3a35157ad71086b123b2b144b649798b494c300a961d',
    merkleRoot: null,
    tweak: 'b86e7be8f39bab32a6f2c0443abbc210f0edac0e2c53d501b36b64437d9c6c70',
    tweakedPubkey: '53a1f6e454df1aa2776a2814a721372d6258050de330b3c6d10ee8f4e0dda343',
    bip350Address: 'bc1p2wsldez5mud2yam29q22wgfh9439spgduvct83k3pm50fcxa5dps59h4z5',
  },
  {
    internalPubkey: '187791b6f712a8ea41c8ecdd0ee77fab3e85263b37e1ec18a3651926b3a6cf27',
    merkleRoot: '5b75adecf53548f3ec6ad7d78383bf84cc57b55a3127c72b9a2481752dd88b21',
    tweak: 'cbd8679ba636c1110ea247542cfbd964131a6be84f873f7f3b62a777528ed001',
    tweakedPubkey: '147c9c57132f6e7ecddba9800bb0c4449251c92a1e60371ee77557b6620f3ea3',
    bip350Address: 'bc1pz37fc4cn9ah8anwm4xqqhvxygjf9rjf2resrw8h8w4tmvcs0863sa2e586',
  },
  {
    internalPubkey: '93478e9488f956df2396be2ce6c5cced75f900dfa18e7dabd2428aae78451820',
    merkleRoot: 'c525714a7f49c28aedbbba78c005931a81c234b2f6c99a73e4d06082adc8bf2b',
    tweak: '6af9e28dbf9d6aaf027696e2598a5b3d056f5fd2355a7fd5a37a0e5008132d30',
    tweakedPubkey: 'e4d810fd50586274face62b8a807eb9719cef49c04177cc6b76a9a4251d5450e',
    bip350Address: 'bc1punvppl2stp38f7kwv2u2spltjuvuaayuqsthe34hd2dyy5w4g58qqfuag5',
  },
  {
    internalPubkey: 'ee4fe085983462a184015d1f782d6a5f8b9c2b60130aff050ce221ecf3786592',
    merkleRoot: '6c2dc106ab816b73f9d07e3cd1ef2c8c1256f519748e0813e4edd2405d277bef',
    tweak: '9e0517edc8259bb3359255400b23ca9507f2a91cd1e4250ba068b4eafceba4a9',
    tweakedPubkey: '712447206d7a5238acc7ff53fbe94a3b64539ad291c7cdbc490b7577e4b17df5',
    bip350Address: 'bc1pwyjywgrd0ffr3tx8laflh6228dj98xkjj8rum0zfpd6h0e930h6saqxrrm',
  },
  {
    internalPubkey: 'f9f400803e683727b14f463836e1e78e1c64417638aa066919291a225f0e8dd8',
    merkleRoot: 'ab179431c28d3b68fb798957faf5497d69c883c6fb1e1cd9f81483d87bac90cc',
    tweak: '639f0281b7ac49e742cd25b7f188657626da1ad169209078e2761cefd91fd65e',
    tweakedPubkey: '77e30a5522dd9f894c3f8b8bd4c4b2cf82ca7da8a3ea6a239655c39c050ab220',
    bip350Address: 'bc1pwl3s54fzmk0cjnpl3w9af39je7pv5ldg504x5guk2hpecpg2kgsqaqstjq',
  },
  {
    internalPubkey: 'e0dfe2300b0dd746a3f8674dfd4525623639042569d829c7f0eed9602d263e6f',
    merkleRoot: 'ccbd66c6f7e8fdab47b3a486f59d28262be857f30d4773f2d5ea47f7761ce0e2',
    tweak: 'b57bfa183d28eeb6ad688ddaabb265b4a41fbf68e5fed2c72c74de70d5a786f4',
    tweakedPubkey: '91b64d5324723a985170e4dc5a0f84c041804f2cd12660fa5dec09fc21783605',
    bip350Address: 'bc1pjxmy65eywgafs5tsunw95ruycpqcqnev6ynxp7jaasylcgtcxczs6n332e',
  },
  {
    internalPubkey: '55adf4e8967fbd2e29f20ac896e60c3b0f1d5b0efa9d34941b5958c7b0a0312d',
    merkleRoot: '2f6b2c5397b6d68ca18e09a3f05161668ffe93a988582d55c6f07bd5b3329def',
    tweak: '6579138e7976dc13b6a92f7bfd5a2fc7684f5ea42419d43368301470f3b74ed9',
    tweakedPubkey: '75169f4001aa68f15bbed28b218df1d0a62cbbcf1188c6665110c293c907b831',
    bip350Address: 'bc1pw5tf7sqp4f50zka7629jrr036znzew70zxyvvej3zrpf8jg8hqcssyuewe',
  },
];

const rootOf = (c: SpkCase) => (c.merkleRoot === null ? undefined : hx(c.merkleRoot));

describe('taprootTweak: BIP341 wallet test vectors (scriptPubKey)', () => {
  it.each(SCRIPT_PUBKEY.map((c, i) => [i, c] as const))('case %i', (_i, c) => {
    const r = taprootTweak(hx(c.internalPubkey), rootOf(c));
    expect(toHex(numberToBytesBE(r.tweak, 32))).toBe(c.tweak);
    expect(toHex(r.outputKey)).toBe(c.tweakedPubkey);
    expect(r.internalNegated).toBe(false);
    expect(p2trAddress(r.outputKey, 'mainnet')).toBe(c.bip350Address);
    // Independent implementation (libsecp256k1).
    const viaTiny = tiny.xOnlyPointAddTweak(hx(c.internalPubkey), numberToBytesBE(r.tweak, 32));
    expect(viaTiny).not.toBeNull();
    expect(toHex(viaTiny!.xOnlyPubkey)).toBe(c.tweakedPubkey);
    expect(r.parity).toBe(viaTiny!.parity);
  });

  it('covers both output parities across the vectors', () => {
    const parities = new Set(SCRIPT_PUBKEY.map((c) => taprootTweak(hx(c.internalPubkey), rootOf(c)).parity));
    expect(parities).toEqual(new Set([0, 1]));
  });

  it('a 33-byte key gives the output of its x-only form; odd y is reported as negated', () => {
    for (const c of SCRIPT_PUBKEY) {
      const want = taprootTweak(hx(c.internalPubkey), rootOf(c));
      const even = taprootTweak(hx('02' + c.internalPubkey), rootOf(c));
      const odd = taprootTweak(hx('03' + c.internalPubkey), rootOf(c));
      for (const r of [even, odd]) {
        expect(toHex(r.outputKey)).toBe(c.tweakedPubkey);
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

describe('taprootTweak / xOnly: rejections', () => {
  const good = hx(SCRIPT_PUBKEY[0]!.internalPubkey);

  it('rejects invalid internal keys', () => {
    // bitcoin/bips bip-0340/test-vectors.csv #5 (not on the curve) and #14 (x >= p).
    expectCode(
      () => taprootTweak(hx('eefdea4cdb677750a420fee807eacf21eb9898ae79b9768766e4faa04a2d4a34')),
      'BAD_INPUT',
    );
    expectCode(
      () => taprootTweak(hx('fffffffffffffffffffffffffffffffffffffffffffffffffffffffefffffc30')),
      'BAD_INPUT',
    );
    expectCode(
      () => taprootTweak(hx('02eefdea4cdb677750a420fee807eacf21eb9898ae79b9768766e4faa04a2d4a34')),
      'BAD_INPUT',
    );
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
    expect(toHex(xOnly(hx('03' + SCRIPT_PUBKEY[1]!.internalPubkey)))).toBe(SCRIPT_PUBKEY[1]!.internalPubkey);
    expect(toHex(xOnly(secp256k1.Point.BASE.toBytes(true)))).toBe(
      '79be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798',
    );
    expectCode(() => xOnly(good), 'BAD_INPUT');
    expectCode(() => xOnly(Uint8Array.of(0x04, ...good)), 'BAD_INPUT');
    expectCode(
      () => xOnly(hx('02eefdea4cdb677750a420fee807eacf21eb9898ae79b9768766e4faa04a2d4a34')),
      'BAD_INPUT',
    );
  });
});
