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

// bitcoin/bips bip-0032.mediawiki, test vectors 1 and 2: every non-hardened step (parent xpub,
// index, child xpub). Vectors 3 and 4 only have hardened steps.
const BIP32_PUBLIC_STEPS: Array<[string, string, number, string]> = [
  [
    'vector 1: m/0H -> m/0H/1',
    'xpub68Gmy5EdvgibQVfPdqkBBCHxA5htiqg55crXYuXoQRKfDBFA1WEjWgP6LHhwBZeNK1VTsfTFUHCdrfp1bgwQ9xv5ski8PX9rL2dZXvgGDnw',
    1,
    'xpub6ASuArnXKPbfEwhqN6e3mwBcDTgzisQN1wXN9BJcM47sSikHjJf3UFHKkNAWbWMiGj7Wf5uMash7SyYq527Hqck2AxYysAA7xmALppuCkwQ',
  ],
  [
    'vector 1: m/0H/1/2H -> m/0H/1/2H/2',
    'xpub6D4BDPcP2GT577Vvch3R8wDkScZWzQzMMUm3PWbmWvVJrZwQY4VUNgqFJPMM3No2dFDFGTsxxpG5uJh7n7epu4trkrX7x7DogT5Uv6fcLW5',
    2,
    'xpub6FHa3pjLCk84BayeJxFW2SP4XRrFd1JYnxeLeU8EqN3vDfZmbqBqaGJAyiLjTAwm6ZLRQUMv1ZACTj37sR62cfN7fe5JnJ7dh8zL4fiyLHV',
  ],
  [
    'vector 1: m/0H/1/2H/2 -> m/0H/1/2H/2/1000000000',
    'xpub6FHa3pjLCk84BayeJxFW2SP4XRrFd1JYnxeLeU8EqN3vDfZmbqBqaGJAyiLjTAwm6ZLRQUMv1ZACTj37sR62cfN7fe5JnJ7dh8zL4fiyLHV',
    1000000000,
    'xpub6H1LXWLaKsWFhvm6RVpEL9P4KfRZSW7abD2ttkWP3SSQvnyA8FSVqNTEcYFgJS2UaFcxupHiYkro49S8yGasTvXEYBVPamhGW6cFJodrTHy',
  ],
  [
    'vector 2: m -> m/0',
    'xpub661MyMwAqRbcFW31YEwpkMuc5THy2PSt5bDMsktWQcFF8syAmRUapSCGu8ED9W6oDMSgv6Zz8idoc4a6mr8BDzTJY47LJhkJ8UB7WEGuduB',
    0,
    'xpub69H7F5d8KSRgmmdJg2KhpAK8SR3DjMwAdkxj3ZuxV27CprR9LgpeyGmXUbC6wb7ERfvrnKZjXoUmmDznezpbZb7ap6r1D3tgFxHmwMkQTPH',
  ],
  [
    'vector 2: m/0/2147483647H -> m/0/2147483647H/1',
    'xpub6ASAVgeehLbnwdqV6UKMHVzgqAG8Gr6riv3Fxxpj8ksbH9ebxaEyBLZ85ySDhKiLDBrQSARLq1uNRts8RuJiHjaDMBU4Zn9h8LZNnBC5y4a',
    1,
    'xpub6DF8uhdarytz3FWdA8TvFSvvAh8dP3283MY7p2V4SeE2wyWmG5mg5EwVvmdMVCQcoNJxGoWaU9DCWh89LojfZ537wTfunKau47EL2dhHKon',
  ],
  [
    'vector 2: m/0/2147483647H/1/2147483646H -> .../2',
    'xpub6ERApfZwUNrhLCkDtcHTcxd75RbzS1ed54G1LkBUHQVHQKqhMkhgbmJbZRkrgZw4koxb5JaHWkY4ALHY2grBGRjaDMzQLcgJvLJuZZvRcEL',
    2,
    'xpub6FnCn6nSzZAw5Tw7cgR9bi15UV96gLZhjDstkXXxvCLsUXBGXPdSnLFbdpq8p9HmGsApME5hQTZ3emM2rnY5agb9rXpVGyy3bdW6EEgAtqt',
  ],
];

describe('derivePublic secp256k1 (BIP32 CKDpub)', () => {
  it.each(BIP32_PUBLIC_STEPS)('%s', (_label, parentXpub, index, childXpub) => {
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

  const root = parseXpub(BIP32_PUBLIC_STEPS[3]![1]);

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

  it('rejects invalid parent keys (incl. BIP32 test vector 5 xpubs)', () => {
    // bip-0032 vector 5: "invalid pubkey 0200…07", "invalid pubkey prefix 04", "invalid pubkey prefix 01"
    for (const bad of [
      'xpub661MyMwAqRbcEYS8w7XLSVeEsBXy79zSzH1J8vCdxAZningWLdN3zgtU6Q5JXayek4PRsn35jii4veMimro1xefsM58PgBMrvdYre8QyULY',
      'xpub661MyMwAqRbcEYS8w7XLSVeEsBXy79zSzH1J8vCdxAZningWLdN3zgtU6Txnt3siSujt9RCVYsx4qHZGc62TG4McvMGcAUjeuwZdduYEvFn',
      'xpub661MyMwAqRbcEYS8w7XLSVeEsBXy79zSzH1J8vCdxAZningWLdN3zgtU6N8ZMMXctdiCjxTNq964yKkwrkBJJwpzZS4HS2fxvyYUA4q2Xe4',
    ]) {
      const x = parseXpub(bad);
      expectCode(() => derivePublic('secp256k1', x.key, x.chainCode, [0]), 'BAD_INPUT');
    }
    expect(
      toHex(
        parseXpub(
          'xpub661MyMwAqRbcEYS8w7XLSVeEsBXy79zSzH1J8vCdxAZningWLdN3zgtU6Q5JXayek4PRsn35jii4veMimro1xefsM58PgBMrvdYre8QyULY',
        ).key,
      ),
    ).toBe('020000000000000000000000000000000000000000000000000000000000000007');
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
