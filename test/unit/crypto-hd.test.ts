import { createHash, createHmac } from 'node:crypto';
import { ed25519 } from '@noble/curves/ed25519.js';
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { bytesToNumberLE, numberToBytesBE } from '@noble/curves/utils.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { createBase58check } from '@scure/base';
import * as tiny from 'tiny-secp256k1';
import { describe, expect, it } from 'vitest';
import { fromHex, toHex } from '../../src/crypto/encoding.js';
import { chainCodeFor, derivePublic, formatPath, parsePath, type HdCurve } from '../../src/crypto/hd.js';
import { expectCode } from './expect-errors.js';
import { readVectors, titled } from './vectors.js';

const b58check = createBase58check(sha256);

/** BIP32 serialization: version(4) depth(1) fingerprint(4) child number(4) chain code(32) key(33). */
function parseXpub(s: string) {
  const b = b58check.decode(s);
  expect(b.length).toBe(78);
  return {
    depth: b[4] as number,
    childNumber: new DataView(b.buffer, b.byteOffset).getUint32(9, false),
    chainCode: b.slice(13, 45),
    key: b.slice(45, 78),
  };
}

describe('parsePath / formatPath', () => {
  it('parses canonical non-hardened paths', () => {
    expect(parsePath('m')).toEqual([]);
    expect(parsePath('m/0')).toEqual([0]);
    expect(parsePath('m/0/7')).toEqual([0, 7]);
    expect(parsePath('m/2147483647/1000000000/10')).toEqual([2147483647, 1000000000, 10]);
    expect(parsePath('m' + '/1'.repeat(255))).toHaveLength(255);
  });

  it('formats and round-trips', () => {
    expect(formatPath([])).toBe('m');
    expect(formatPath([0, 7])).toBe('m/0/7');
    for (const p of ['m', 'm/0', 'm/0/7', 'm/2147483647/3']) expect(formatPath(parsePath(p))).toBe(p);
  });

  it.each([
    ['', /start with "m"/],
    ['0/1', /start with "m"/],
    ['M/0', /start with "m"/],
    ['/0', /start with "m"/],
    [' m/0', /start with "m"/],
    ['m/', /component 1 \(""\) is empty/],
    ['m//1', /component 1 \(""\) is empty/],
    ['m/0/', /component 2 \(""\) is empty/],
    ["m/0/2'", /component 2 \("2'"\) is hardened/],
    ['m/0h', /component 1 \("0h"\) is hardened/],
    ['m/44H/0', /component 1 \("44H"\) is hardened/],
    ['m/2147483648', /component 1 \("2147483648"\) is not below 2\^31/],
    ['m/4294967295', /not below 2\^31/],
    ['m/99999999999999999999999', /not below 2\^31/],
    ['m/07', /component 1 \("07"\) is not a canonical decimal index/],
    ['m/00', /"00"\) is not a canonical/],
    ['m/-1', /"-1"\) is not a canonical/],
    ['m/+1', /"\+1"\) is not a canonical/],
    ['m/1.5', /"1.5"\) is not a canonical/],
    ['m/1e3', /"1e3"\) is not a canonical/],
    ['m/0x10', /"0x10"\) is not a canonical/],
    ['m/ 1', /" 1"\) is not a canonical/],
    ['m/1 ', /"1 "\) is not a canonical/],
    ['m/a', /"a"\) is not a canonical/],
    ["m/1''", /not a canonical/],
    ['m/１', /not a canonical/],
    ['m' + '/1'.repeat(256), /more than 255 levels/],
  ])('rejects %j', (path, msg) => {
    expectCode(() => parsePath(path), 'BAD_INPUT', msg);
  });

  it('rejects non-strings and bad index arrays', () => {
    expectCode(() => parsePath(7 as unknown as string), 'BAD_INPUT');
    expectCode(() => formatPath([-1]), 'BAD_INPUT');
    expectCode(() => formatPath([2 ** 31]), 'BAD_INPUT');
    expectCode(() => formatPath([1.5]), 'BAD_INPUT');
    expectCode(() => formatPath(new Array<number>(256).fill(0)), 'BAD_INPUT');
  });
});

interface Bip32 {
  source: { publicDerivation: string; invalidPublicKeys: string };
  publicDerivation: Array<{ name: string; parent: string; index: number; child: string }>;
  invalidPublicKeys: Array<{ comment: string; xpub: string; publicKey?: string }>;
}

const BIP32 = readVectors<Bip32>('bip32.json');

describe('derivePublic secp256k1 (BIP32 CKDpub)', () => {
  it.each(titled(BIP32.publicDerivation, (c) => c.name))('%s', (_title, c) => {
    const { parent: parentXpub, index, child: childXpub } = c;
    const parent = parseXpub(parentXpub);
    const child = parseXpub(childXpub);
    expect(child.depth).toBe(parent.depth + 1);
    expect(child.childNumber).toBe(index);
    const d = derivePublic('secp256k1', parent.key, parent.chainCode, [index]);
    expect(toHex(d.publicKey)).toBe(toHex(child.key));
    expect(toHex(d.chainCode)).toBe(toHex(child.chainCode));
    // Independent implementation (libsecp256k1): parent + tweak·G.
    const viaTiny = tiny.pointAddScalar(parent.key, numberToBytesBE(d.tweak, 32), true);
    expect(viaTiny && toHex(viaTiny)).toBe(toHex(child.key));
  });

  const root = parseXpub(BIP32.publicDerivation[3]!.parent);

  it('empty path returns the parent with tweak 0', () => {
    const d = derivePublic('secp256k1', root.key, root.chainCode, []);
    expect(toHex(d.publicKey)).toBe(toHex(root.key));
    expect(toHex(d.chainCode)).toBe(toHex(root.chainCode));
    expect(d.tweak).toBe(0n);
  });

  it('a multi-level path equals chained single steps; tweaks add up', () => {
    const path = [0, 7, 2147483647, 1000000000, 3];
    const whole = derivePublic('secp256k1', root.key, root.chainCode, path);
    const Fn = secp256k1.Point.Fn;
    let key: Uint8Array = root.key;
    let cc: Uint8Array = root.chainCode;
    let sum = 0n;
    for (const i of path) {
      const step = derivePublic('secp256k1', key, cc, [i]);
      key = step.publicKey;
      cc = step.chainCode;
      sum = Fn.add(sum, step.tweak);
    }
    expect(toHex(whole.publicKey)).toBe(toHex(key));
    expect(toHex(whole.chainCode)).toBe(toHex(cc));
    expect(whole.tweak).toBe(sum);
    const P = secp256k1.Point;
    expect(toHex(P.fromBytes(root.key).add(P.BASE.multiply(whole.tweak)).toBytes(true))).toBe(
      toHex(whole.publicKey),
    );
    const viaTiny = tiny.pointAddScalar(root.key, numberToBytesBE(whole.tweak, 32), true);
    expect(viaTiny && toHex(viaTiny)).toBe(toHex(whole.publicKey));
  });

  it.each(titled(BIP32.invalidPublicKeys, (c) => c.comment))(
    'rejects the parent key of BIP32 test vector 5: %s',
    (_title, c) => {
      const x = parseXpub(c.xpub);
      if (c.publicKey !== undefined) expect(toHex(x.key)).toBe(c.publicKey);
      expectCode(() => derivePublic('secp256k1', x.key, x.chainCode, [0]), 'BAD_INPUT');
    },
  );

  it('rejects invalid parent keys', () => {
    const uncompressed = secp256k1.Point.fromBytes(root.key).toBytes(false);
    expectCode(() => derivePublic('secp256k1', uncompressed, root.chainCode, [0]), 'BAD_INPUT', /33-byte/);
    expectCode(() => derivePublic('secp256k1', root.key.slice(1), root.chainCode, [0]), 'BAD_INPUT');
  });

  it('rejects bad chain codes, hardened/invalid indices, unknown curves', () => {
    expectCode(
      () => derivePublic('secp256k1', root.key, root.chainCode.slice(1), [0]),
      'BAD_INPUT',
      /chain code/,
    );
    expectCode(() => derivePublic('secp256k1', root.key, root.chainCode, [2 ** 31]), 'BAD_INPUT', /level 1/);
    expectCode(() => derivePublic('secp256k1', root.key, root.chainCode, [0, -1]), 'BAD_INPUT', /level 2/);
    expectCode(() => derivePublic('secp256k1', root.key, root.chainCode, [0.5]), 'BAD_INPUT');
    expectCode(() => derivePublic('p256' as HdCurve, root.key, root.chainCode, [0]), 'UNKNOWN_CURVE');
  });
});

describe('derivePublic ed25519 (additive scheme)', () => {
  const Point = ed25519.Point;
  const L = Point.Fn.ORDER;
  const parent = ed25519.getPublicKey(
    fromHex('9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60', 'seed'),
  );
  const cc = chainCodeFor('22'.repeat(32), parent);
  const hx = (s: string) => fromHex(s, 'test');

  it('matches the documented construction, recomputed with node:crypto', () => {
    const i = 42;
    const data = Buffer.concat([Buffer.from([0x03]), Buffer.from(parent), Buffer.from([0, 0, 0, 42])]);
    const I = createHmac('sha512', Buffer.from(cc)).update(data).digest();
    const t = bytesToNumberLE(Uint8Array.from(I.subarray(0, 32))) % L;
    const d = derivePublic('ed25519', parent, cc, [i]);
    expect(d.tweak).toBe(t);
    expect(toHex(d.chainCode)).toBe(I.subarray(32).toString('hex'));
    expect(toHex(d.publicKey)).toBe(toHex(Point.fromBytes(parent).add(Point.BASE.multiply(t)).toBytes()));
  });

  it('is deterministic; indices give distinct children; child differs from parent', () => {
    const a = derivePublic('ed25519', parent, cc, [0, 5]);
    const b = derivePublic('ed25519', parent, cc, [0, 5]);
    expect(toHex(a.publicKey)).toBe(toHex(b.publicKey));
    expect(toHex(a.chainCode)).toBe(toHex(b.chainCode));
    expect(a.tweak).toBe(b.tweak);
    const keys = new Set<string>([toHex(parent)]);
    for (const i of [0, 1, 2, 3, 2147483647])
      keys.add(toHex(derivePublic('ed25519', parent, cc, [i]).publicKey));
    expect(keys.size).toBe(6);
    const other = derivePublic('ed25519', parent, chainCodeFor('33'.repeat(32), parent), [0]);
    expect(keys.has(toHex(other.publicKey))).toBe(false);
    expect(a.publicKey).toHaveLength(32);
    expect(a.chainCode).toHaveLength(32);
  });

  it('tweak consistency: parent + tweak·B == child, multi-level == chained steps', () => {
    const path = [1, 2147483647, 0, 99];
    const whole = derivePublic('ed25519', parent, cc, path);
    let key: Uint8Array = parent;
    let c: Uint8Array = cc;
    let sum = 0n;
    for (const i of path) {
      const step = derivePublic('ed25519', key, c, [i]);
      key = step.publicKey;
      c = step.chainCode;
      sum = (sum + step.tweak) % L;
    }
    expect(toHex(whole.publicKey)).toBe(toHex(key));
    expect(toHex(whole.chainCode)).toBe(toHex(c));
    expect(whole.tweak).toBe(sum);
    expect(whole.tweak).toBeLessThan(L);
    const child = Point.fromBytes(parent).add(Point.BASE.multiply(whole.tweak));
    expect(toHex(child.toBytes())).toBe(toHex(whole.publicKey));
    // The secret side: (s + tweak)·B is the child key.
    const s = ed25519.utils.getExtendedPublicKey(
      fromHex('9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60', 'seed'),
    ).scalar;
    expect(toHex(Point.BASE.multiply((s + whole.tweak) % L).toBytes())).toBe(toHex(whole.publicKey));
    expect(derivePublic('ed25519', parent, cc, []).tweak).toBe(0n);
  });

  it.each([
    ['identity', '0100000000000000000000000000000000000000000000000000000000000000'],
    ['order 2', 'ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f'],
    ['order 4', '0000000000000000000000000000000000000000000000000000000000000000'],
    ['order 8', 'c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a'],
    ['order 8', '26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05'],
    ['B + order-8 point (mixed order)', '98519eadf35b995233b51b5cd23e9cc5a28b639b5a4af0ec903cb960d81b7819'],
  ])('rejects a parent that is not of prime order: %s', (_what, key) => {
    const P = Point.fromBytes(hx(key));
    expect(P.isTorsionFree() && !P.isSmallOrder()).toBe(false);
    expectCode(() => derivePublic('ed25519', hx(key), cc, [0]), 'BAD_INPUT', /prime order/);
  });

  it('rejects non-points, non-canonical encodings and wrong lengths', () => {
    // y = 2 has no x on the curve.
    const nonPoint = hx('0200000000000000000000000000000000000000000000000000000000000000');
    expect(() => Point.fromBytes(nonPoint)).toThrow();
    expectCode(() => derivePublic('ed25519', nonPoint, cc, [0]), 'BAD_INPUT', /not a valid point/);
    // y = p (non-canonical encoding of y = 0).
    const yIsP = hx('edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f');
    expectCode(() => derivePublic('ed25519', yIsP, cc, [0]), 'BAD_INPUT');
    expectCode(() => derivePublic('ed25519', Uint8Array.of(2, ...parent), cc, [0]), 'BAD_INPUT', /32 bytes/);
    expectCode(() => derivePublic('ed25519', parent, cc, [2 ** 31]), 'BAD_INPUT');
  });
});

describe('chainCodeFor', () => {
  const G = fromHex('0279be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798', 'G');
  const th = '11'.repeat(32);

  it('is the tagged hash of transcript hash || group key (pinned; recomputed with node:crypto)', () => {
    const cc = chainCodeFor(th, G);
    expect(cc).toHaveLength(32);
    // Computed independently with Python hashlib.
    expect(toHex(cc)).toBe('af5f5067de1974354c7fdbe7f0d77c6d04367d25095036668eeaafc7a6946b99');
    const tag = createHash('sha256').update('conclave/chain-code/v1').digest();
    const expected = createHash('sha256')
      .update(tag)
      .update(tag)
      .update(Buffer.from(th, 'hex'))
      .update(G)
      .digest();
    expect(toHex(cc)).toBe(expected.toString('hex'));
    expect(toHex(chainCodeFor(th, G))).toBe(toHex(cc));
  });

  it('changes when either input changes', () => {
    const cc = toHex(chainCodeFor(th, G));
    expect(toHex(chainCodeFor('12' + '11'.repeat(31), G))).not.toBe(cc);
    const G2 = Uint8Array.from(G);
    G2[32] = (G2[32] as number) ^ 1;
    expect(toHex(chainCodeFor(th, G2))).not.toBe(cc);
  });

  it('rejects bad transcript hashes and empty keys', () => {
    expectCode(() => chainCodeFor('11'.repeat(31), G), 'BAD_INPUT', /32 bytes/);
    expectCode(() => chainCodeFor('zz'.repeat(32), G), 'BAD_INPUT', /hex/);
    expectCode(() => chainCodeFor(th, new Uint8Array(0)), 'BAD_INPUT');
  });
});
