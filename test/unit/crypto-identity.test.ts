import { createPublicKey, randomBytes, verify as nodeVerify } from 'node:crypto';
import { ed25519, x25519 } from '@noble/curves/ed25519.js';
import { bytesToNumberLE, numberToBytesLE } from '@noble/curves/utils.js';
import { sha512 } from '@noble/hashes/sha2.js';
import { describe, expect, it, vi } from 'vitest';
import { generatePartyKeys, signBytes, verifyBytes } from '../../src/crypto/identity.js';
import { utf8 } from '../../src/crypto/encoding.js';

const toHexStr = (b: Uint8Array) => Buffer.from(b).toString('hex');

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

// ---- Node's OpenSSL behind signBytes/verifyBytes: same bytes, same verdicts as noble ----------

const { Point } = ed25519;
const L = Point.Fn.ORDER;
const P = Point.Fp.ORDER;
const le32 = (n: bigint) => numberToBytesLE(n, 32);
const cat = (...parts: Uint8Array[]) => Uint8Array.from(Buffer.concat(parts));
const modL = (n: bigint) => ((n % L) + L) % L;
/** RFC 8032's k = SHA-512(R || A || M) mod L, over the bytes as given. */
const challenge = (r: Uint8Array, a: Uint8Array, m: Uint8Array) =>
  modL(bytesToNumberLE(sha512(cat(r, a, m))));
const sigOf = (r: Uint8Array, s: bigint) => cat(r, le32(s));
/** What noble's strict verification (the rules verifyBytes promises) says. */
const strict = (pk: Uint8Array, msg: Uint8Array, sig: Uint8Array) => {
  try {
    return ed25519.verify(sig, msg, pk, { zip215: false });
  } catch {
    return false;
  }
};
const randomScalar = () => modL(bytesToNumberLE(randomBytes(64)));
/** The encoding of `y` (any value below 2^255) with the sign bit `x0`. */
const encodeY = (y: bigint, x0: boolean) => {
  const b = le32(y);
  if (x0) b[31] = (b[31] as number) | 0x80;
  return b;
};

// A point of order 8, and the eight points of small order.
const T8 = Point.fromBytes(
  Uint8Array.from(Buffer.from('c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a', 'hex')),
);
const torsion = Array.from({ length: 8 }, (_, i) => {
  let p = Point.ZERO;
  for (let j = 0; j < i; j++) p = p.add(T8);
  return p;
});

interface Case {
  what: string;
  pk: Uint8Array;
  msg: Uint8Array;
  sig: Uint8Array;
}

/** A key that signs with its scalar `a` directly (RFC 8032's S = r + k·a), and its encoding. */
function scalarKey(a: bigint, A: typeof Point.BASE = Point.BASE.multiply(a)) {
  const pk = A.toBytes();
  return {
    pk,
    /** Signs with nonce point rB + extra (extra: a small-order point, or none). */
    sign(msg: Uint8Array, r: bigint, extra: typeof Point.BASE = Point.ZERO, rBytes?: Uint8Array) {
      const R = rBytes ?? Point.BASE.multiply(r).add(extra).toBytes();
      return sigOf(R, modL(r + challenge(R, pk, msg) * a));
    },
  };
}

function edgeCases(): Case[] {
  const cases: Case[] = [];
  const msg = utf8('edge case');
  const a = randomScalar();
  const key = scalarKey(a);
  const honest = key.sign(msg, randomScalar());
  cases.push({ what: 'honest', pk: key.pk, msg, sig: honest });
  cases.push({
    what: 'honest, empty message',
    pk: key.pk,
    msg: new Uint8Array(0),
    sig: key.sign(new Uint8Array(0), 5n),
  });

  // S >= L: the honest S plus L, L itself, the largest 32-byte value, S + 8L
  const S = bytesToNumberLE(honest.subarray(32));
  const R = honest.subarray(0, 32);
  for (const [what, s] of [
    ['S + L', S + L],
    ['S = L', L],
    ['S = 2^256 - 1', 2n ** 256n - 1n],
    ['S + 8L', S + 8n * L],
  ] as const) {
    cases.push({ what, pk: key.pk, msg, sig: sigOf(R, s) });
  }

  // R of small order or the identity, in canonical and non-canonical spellings, with the S that
  // makes [S]B = [k]A hold: canonical ones satisfy the cofactored equation, the others only ZIP-215's
  const rSpellings: Array<[string, Uint8Array]> = torsion.map((t, i) => [`R = ${i}·T8`, t.toBytes()]);
  rSpellings.push(
    ['R = identity, y + p', encodeY(1n + P, false)],
    ['R = identity, sign bit set', encodeY(1n, true)],
    ['R = (0, -1), sign bit set', encodeY(P - 1n, true)],
    ['R = (±√-1, 0), y + p', encodeY(P, false)],
    ['R = (±√-1, 0), y + p, sign bit set', encodeY(P, true)],
  );
  for (const [what, r] of rSpellings) {
    cases.push({ what, pk: key.pk, msg, sig: sigOf(r, modL(challenge(r, key.pk, msg) * a)) });
  }
  // R off by a small-order point: only the cofactored equation holds (OpenSSL alone refuses it)
  for (let i = 1; i < 8; i++) {
    cases.push({
      what: `R = rB + ${i}·T8`,
      pk: key.pk,
      msg,
      sig: key.sign(msg, randomScalar(), torsion[i]!),
    });
  }
  // R that is not a point: y = 2 has no x on the curve
  cases.push({ what: 'R not on the curve', pk: key.pk, msg, sig: sigOf(le32(2n), S) });

  // A of small order, every spelling, with a signature OpenSSL's [S]B - [k]A = R accepts: R = [S]B
  // with k·A = 0 (any S for the identity, one in eight for a point of order 8)
  const aSpellings: Array<[string, Uint8Array]> = torsion.map((t, i) => [`A = ${i}·T8`, t.toBytes()]);
  aSpellings.push(
    ['A = identity, y + p', encodeY(1n + P, false)],
    ['A = identity, sign bit set', encodeY(1n, true)],
    ['A = (0, -1), sign bit set', encodeY(P - 1n, true)],
    ['A = (±√-1, 0), y + p', encodeY(P, false)],
    ['A = (±√-1, 0), y + p, sign bit set', encodeY(P, true)],
  );
  for (const [what, pk] of aSpellings) {
    const A = Point.fromBytes(pk, true);
    for (let tries = 0; tries < 200; tries++) {
      const s = randomScalar();
      const r = Point.BASE.multiply(s).toBytes();
      const m = randomBytes(16);
      if (!A.multiplyUnsafe(challenge(r, pk, m)).is0()) continue;
      cases.push({ what, pk, msg: m, sig: sigOf(r, s) });
      break;
    }
  }
  // A with a small-order component (not of small order): honest signatures satisfy the cofactored
  // equation only
  for (const i of [1, 4]) {
    const mixed = scalarKey(a, Point.BASE.multiply(a).add(torsion[i]!));
    cases.push({ what: `A = aB + ${i}·T8`, pk: mixed.pk, msg, sig: mixed.sign(msg, randomScalar()) });
  }
  // A spelled y + p for points of the curve with a small y (not of small order)
  for (let y = 2n; y < 19n; y++) {
    let point: typeof Point.BASE;
    try {
      point = Point.fromBytes(le32(y));
    } catch {
      continue;
    }
    if (point.isSmallOrder()) continue;
    cases.push({ what: `A = y + p (y = ${y})`, pk: encodeY(y + P, false), msg, sig: honest });
  }
  // A that is not a point; wrong lengths
  cases.push({ what: 'A not on the curve', pk: le32(2n), msg, sig: honest });
  cases.push({ what: 'short signature', pk: key.pk, msg, sig: honest.subarray(0, 63) });
  cases.push({ what: 'long signature', pk: key.pk, msg, sig: cat(honest, new Uint8Array(1)) });
  cases.push({ what: 'short key', pk: key.pk.subarray(0, 31), msg, sig: honest });
  return cases;
}

/** identity.ts as Temporal's workflow sandbox loads it: no node:crypto, noble alone. */
async function identityWithoutNode(): Promise<typeof import('../../src/crypto/identity.js')> {
  const saved = process.getBuiltinModule;
  (process as { getBuiltinModule?: unknown }).getBuiltinModule = undefined;
  try {
    vi.resetModules();
    return await import('../../src/crypto/identity.js');
  } finally {
    process.getBuiltinModule = saved;
    vi.resetModules();
  }
}

describe('signBytes and verifyBytes on Node (OpenSSL)', () => {
  it('sign byte for byte as noble, and each side verifies the other', () => {
    for (let i = 0; i < 40; i++) {
      const secret = ed25519.utils.randomSecretKey();
      const pub = ed25519.getPublicKey(secret);
      const msg = randomBytes([0, 1, 32, 64, 1000][i % 5]!);
      const sig = signBytes(secret, msg);
      expect(sig).toBeInstanceOf(Uint8Array);
      expect(toHexStr(sig)).toBe(toHexStr(ed25519.sign(msg, secret)));
      expect(ed25519.verify(sig, msg, pub, { zip215: false })).toBe(true);
      expect(verifyBytes(pub, msg, ed25519.sign(msg, secret))).toBe(true);
      // a second signature with the same (now cached) key, then another message
      expect(toHexStr(signBytes(secret, msg))).toBe(toHexStr(sig));
      expect(verifyBytes(pub, utf8('other'), sig)).toBe(false);
    }
  });

  it('keys stay apart: the same bytes sign the same, a changed secret signs as itself', () => {
    const secret = ed25519.utils.randomSecretKey();
    const msg = utf8('m');
    const first = signBytes(secret, msg);
    expect(toHexStr(signBytes(Uint8Array.from(secret), msg))).toBe(toHexStr(first));
    secret[0] = (secret[0] as number) ^ 1; // the caller reuses its buffer for another key
    expect(toHexStr(signBytes(secret, msg))).toBe(toHexStr(ed25519.sign(msg, secret)));
    expect(() => signBytes(new Uint8Array(31), msg)).toThrow(/32 bytes/);
  });

  it("agree with noble's strict verification (zip215: false) on every edge case", async () => {
    const cases = edgeCases();
    const verdicts = new Set<boolean>();
    const noNode = await identityWithoutNode();
    for (const c of cases) {
      const expected = strict(c.pk, c.msg, c.sig);
      verdicts.add(expected);
      expect({ what: c.what, ok: verifyBytes(c.pk, c.msg, c.sig) }).toEqual({ what: c.what, ok: expected });
      // once more, with the key cached (a refused key is remembered as refused)
      expect({ what: c.what, ok: verifyBytes(c.pk, c.msg, c.sig) }).toEqual({ what: c.what, ok: expected });
      expect({ what: c.what, ok: noNode.verifyBytes(c.pk, c.msg, c.sig) }).toEqual({
        what: c.what,
        ok: expected,
      });
    }
    // the cases cover both verdicts, and every small-order key spelling made it in
    expect(verdicts).toEqual(new Set([true, false]));
    expect(cases.filter((c) => c.what.startsWith('A = ') && c.what.includes('T8')).length).toBe(10);
    expect(cases.filter((c) => /^A = (identity|\(0|\(±)/.test(c.what)).length).toBe(5);
  });

  it('without node:crypto (a workflow sandbox) sign the same bytes with noble', async () => {
    const noNode = await identityWithoutNode();
    const secret = ed25519.utils.randomSecretKey();
    const msg = utf8('sandbox');
    expect(toHexStr(noNode.signBytes(secret, msg))).toBe(toHexStr(signBytes(secret, msg)));
    expect(noNode.verifyBytes(ed25519.getPublicKey(secret), msg, signBytes(secret, msg))).toBe(true);
  });

  it('never throw on what is not bytes', () => {
    const k = generatePartyKeys();
    const sig = signBytes(k.identitySecret, utf8('x'));
    const junk = [undefined, null, 'aa', 1, {}, [1, 2], new Uint16Array(32)] as unknown as Uint8Array[];
    for (const j of junk) {
      expect(verifyBytes(j, utf8('x'), sig)).toBe(false);
      expect(verifyBytes(k.identityPublic, j, sig)).toBe(false);
      expect(verifyBytes(k.identityPublic, utf8('x'), j)).toBe(false);
    }
  });
});
