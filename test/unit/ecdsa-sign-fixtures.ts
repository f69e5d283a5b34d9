/**
 * Test-only fixtures for DKLs23 signing: an IDEAL two-party multiplier (it sends Bob's b in the clear so
 * Alice can compute correct shares — never use outside tests), a Shamir dealer, zero-seed agreement
 * among all parties, a round driver with tamper hooks, and independent signature verifiers.
 */
import { createPublicKey, verify as nodeVerify } from 'node:crypto';
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { sha256, sha512 } from '@noble/hashes/sha2.js';
import { expect } from 'vitest';
import { fromHex, toHex } from '../../src/crypto/encoding.js';
import { identifierFor, type PublicPackage } from '../../src/crypto/frost.js';
import { getScheme } from '../../src/crypto/schemes.js';
import {
  dklsCombineInput,
  dklsPresignFinish,
  dklsSignCombine,
  dklsSignOnline,
  dklsSignRound1,
  dklsSignRound2,
  type DklsKeyShare,
  type DklsOnlineMsg,
  type DklsPresignature,
  type DklsRound1Msg,
  type DklsRound2Msg,
  type DklsSignInput,
  type DklsSignState,
  type DklsSignature,
  type DklsUsedPresignature,
  type Multiplier,
} from '../../src/crypto/ecdsa/dkls-sign.js';
import { zeroSeedsFinish, zeroSeedsRound1, zeroSeedsRound2 } from '../../src/crypto/ecdsa/zero-share.js';

export const Fn = secp256k1.Point.Fn;
export const G = secp256k1.Point.BASE;
export const S = getScheme('frost-secp256k1');
export const rt = <T>(x: T): T => JSON.parse(JSON.stringify(x)) as T;

const scalarOf = (bytes: Uint8Array) => Fn.create(BigInt(`0x${toHex(sha512(bytes))}`));
const cat = (...parts: Uint8Array[]) => new Uint8Array(Buffer.concat(parts.map((p) => Buffer.from(p))));
const u32 = (k: number) => new Uint8Array([k >>> 24, (k >>> 16) & 255, (k >>> 8) & 255, k & 255]);
const sh = (k: bigint) => toHex(Fn.toBytes(k));

/** IDEAL multiplier: correct outputs, deterministic in the seeds, zero privacy. TEST ONLY. */
export const idealMultiplier: Multiplier = {
  mulBobStart(_setup, sessionId, seed, length) {
    const b = scalarOf(cat(new TextEncoder().encode('ideal-bob'), seed));
    const sid = toHex(sessionId);
    return { state: { sid, b: sh(b), length }, msg: { sid, b: sh(b) }, b };
  },
  mulAliceRespond(_setup, sessionId, seed, a, msg) {
    const m = msg as { sid: string; b: string };
    if (m.sid !== toHex(sessionId)) throw new Error('multiplication session mismatch');
    const b = Fn.fromBytes(fromHex(m.b, 'b'));
    const alice = a.map((_, k) => scalarOf(cat(new TextEncoder().encode('ideal-alice'), seed, u32(k))));
    const bob = a.map((ak, k) => Fn.sub(Fn.mul(ak, b), alice[k] as bigint));
    return { shares: alice, msg: { sid: m.sid, shares: bob.map(sh) } };
  },
  mulBobFinish(state, msg) {
    const st = state as { sid: string; length: number };
    const m = msg as { sid: string; shares: string[] };
    if (m.sid !== st.sid) throw new Error('multiplication session mismatch');
    if (m.shares.length !== st.length) throw new Error('wrong number of shares');
    return { shares: m.shares.map((x) => Fn.fromBytes(fromHex(x, 'share'))) };
  },
};

export function randomScalar(): bigint {
  return Fn.create(BigInt(`0x${toHex(secp256k1.utils.randomSecretKey())}`));
}

/**
 * Shamir dealer over the secp256k1 scalar field; shares at the FROST identifiers 1..n. Random, or
 * deterministic when `label` is given.
 */
export function deal(t: number, n: number, label?: string): { keys: DklsKeyShare[]; secret: bigint } {
  const coeff = (k: number) =>
    label === undefined ? randomScalar() : scalarOf(new TextEncoder().encode(`dealer|${label}|${k}`));
  const coeffs = Array.from({ length: t }, (_, k) => coeff(k));
  const secret = coeffs[0] as bigint;
  const ids = Array.from({ length: n }, (_, i) => identifierFor(S, i + 1));
  const evalAt = (x: bigint) => coeffs.reduceRight((acc, c) => Fn.add(Fn.mul(acc, x), c), 0n);
  const shares = ids.map((id) => evalAt(BigInt(`0x${id}`)));
  const pub: PublicPackage = {
    threshold: t,
    total: n,
    commitments: coeffs.map((c) => G.multiply(c).toHex(true)),
    verifyingShares: Object.fromEntries(
      ids.map((id, i) => [id, G.multiply(shares[i] as bigint).toHex(true)]),
    ),
  };
  return {
    keys: ids.map((id, i) => ({ identifier: id, signingShare: sh(shares[i] as bigint), public: pub })),
    secret,
  };
}

/** Lagrange interpolation at 0 of the given shares. */
export function reconstruct(keys: DklsKeyShare[]): bigint {
  const xs = keys.map((k) => BigInt(`0x${k.identifier}`));
  let acc = 0n;
  keys.forEach((k, i) => {
    let num = 1n;
    let den = 1n;
    xs.forEach((xj, j) => {
      if (j === i) return;
      num = Fn.mul(num, xj);
      den = Fn.mul(den, Fn.sub(xj, xs[i] as bigint));
    });
    acc = Fn.add(acc, Fn.mul(Fn.fromBytes(fromHex(k.signingShare, 's')), Fn.mul(num, Fn.inv(den))));
  });
  return acc;
}

/** Runs the pairwise seed agreement among all parties; seeds[i][j] === seeds[j][i]. */
export function agreeZeroSeeds(ids: string[], context = 'c0ffee'): Record<string, Record<string, string>> {
  const r1 = new Map(
    ids.map((id) => [
      id,
      zeroSeedsRound1(
        id,
        ids.filter((x) => x !== id),
        context,
        seedFor(id, 'z'),
      ),
    ]),
  );
  const to = <M extends { to: string }>(all: Array<Record<string, M>>, id: string) =>
    rt(all.flatMap((m) => Object.values(m)).filter((m) => m.to === id));
  const r2 = new Map(
    ids.map((id) => [
      id,
      zeroSeedsRound2(
        r1.get(id)!.state,
        to(
          [...r1.values()].map((x) => x.messages),
          id,
        ),
      ),
    ]),
  );
  return Object.fromEntries(
    ids.map((id) => [
      id,
      zeroSeedsFinish(
        r2.get(id)!.state,
        to(
          [...r2.values()].map((x) => x.messages),
          id,
        ),
      ),
    ]),
  );
}

/** Deterministic test seeds (32 bytes) per party and label. */
export function seedFor(id: string, label: string, salt = ''): Uint8Array {
  return sha256(new TextEncoder().encode(`test-seed|${salt}|${id}|${label}`));
}

export function makeInputs(
  keys: DklsKeyShare[],
  zeroSeeds: Record<string, Record<string, string>>,
  signers: string[],
  sessionId: string,
): Map<string, DklsSignInput> {
  return new Map(
    signers.map((id) => {
      const key = keys.find((k) => k.identifier === id)!;
      const peers = Object.fromEntries(
        signers
          .filter((p) => p !== id)
          .map((p) => [
            p,
            {
              zeroSeed: zeroSeeds[id]![p]!,
              mulSender: { role: 'alice', p },
              mulReceiver: { role: 'bob', p },
            },
          ]),
      );
      return [id, { key, signers, sessionId, peers }];
    }),
  );
}

export interface Hooks {
  seedSalt?: string;
  t1?: (m: DklsRound1Msg) => DklsRound1Msg;
  t2?: (m: DklsRound2Msg) => DklsRound2Msg;
  /** Rewrites a broadcast as seen by `receiver`. */
  t3?: (m: DklsOnlineMsg, receiver: string) => DklsOnlineMsg;
  /** Per-party message hash (defaults to the shared one). */
  hashOf?: (id: string) => Uint8Array;
  /** Per-party additive tweak (hex scalar) chosen at the online step (none by default). */
  tweakOf?: (id: string) => string | undefined;
  /** The multiplier (the ideal one by default). */
  mul?: Multiplier;
}

export interface Run {
  ids: string[];
  errors: Map<string, { round: number; error: unknown }>;
  s1: Map<string, DklsSignState>;
  s2: Map<string, DklsSignState>;
  /** Presignatures (after the finish). */
  pre: Map<string, DklsPresignature>;
  /** Used presignatures (after the online step). */
  s3: Map<string, DklsUsedPresignature>;
  m1: DklsRound1Msg[];
  m2: DklsRound2Msg[];
  m3: DklsOnlineMsg[];
  sigs: Map<string, DklsSignature>;
  ms: { r1: number; r2: number; finish: number; online: number; combine: number };
}

/**
 * Drives every signer through all rounds over JSON; records each party's first error instead of
 * throwing. Error rounds: 1 and 2, 3 for the finish and the online step, 4 for combine (every
 * signer combines from its own used presignature).
 */
export function runSign(inputs: Map<string, DklsSignInput>, msgHash: Uint8Array, h: Hooks = {}): Run {
  const ids = [...inputs.keys()];
  const run: Run = {
    ids,
    errors: new Map(),
    s1: new Map(),
    s2: new Map(),
    pre: new Map(),
    s3: new Map(),
    m1: [],
    m2: [],
    m3: [],
    sigs: new Map(),
    ms: { r1: 0, r2: 0, finish: 0, online: 0, combine: 0 },
  };
  const alive = (id: string) => !run.errors.has(id);
  const attempt = (id: string, round: number, f: () => void) => {
    if (!alive(id)) return;
    try {
      f();
    } catch (error) {
      run.errors.set(id, { round, error });
    }
  };
  const salt = h.seedSalt ?? '';
  let t = performance.now();
  for (const id of ids) {
    attempt(id, 1, () => {
      const o = dklsSignRound1(h.mul ?? idealMultiplier, inputs.get(id)!, seedFor(id, 'r1', salt));
      run.s1.set(id, rt(o.state));
      run.m1.push(...Object.values(rt(o.messages)).map((m) => (h.t1 ? h.t1(m) : m)));
    });
  }
  run.ms.r1 = performance.now() - t;
  t = performance.now();
  for (const id of ids) {
    attempt(id, 2, () => {
      const recv = rt(run.m1.filter((m) => m.to === id));
      const o = dklsSignRound2(
        h.mul ?? idealMultiplier,
        inputs.get(id)!,
        run.s1.get(id)!,
        recv,
        seedFor(id, 'r2', salt),
      );
      run.s2.set(id, rt(o.state));
      run.m2.push(...Object.values(rt(o.messages)).map((m) => (h.t2 ? h.t2(m) : m)));
    });
  }
  run.ms.r2 = performance.now() - t;
  t = performance.now();
  for (const id of ids) {
    attempt(id, 3, () => {
      const recv = rt(run.m2.filter((m) => m.to === id));
      const pre = dklsPresignFinish(h.mul ?? idealMultiplier, inputs.get(id)!, run.s2.get(id)!, recv);
      run.pre.set(id, rt(pre));
    });
  }
  run.ms.finish = performance.now() - t;
  t = performance.now();
  for (const id of ids) {
    attempt(id, 3, () => {
      const tweak = h.tweakOf?.(id);
      const o = dklsSignOnline(run.pre.get(id)!, h.hashOf?.(id) ?? msgHash, tweak ? { tweak } : {});
      run.s3.set(id, rt(o.presignature));
      run.m3.push(rt(o.broadcast));
    });
  }
  run.ms.online = performance.now() - t;
  t = performance.now();
  for (const id of ids) {
    attempt(id, 4, () => {
      const recv = rt(run.m3).map((m) => (h.t3 && m.from !== id ? h.t3(m, id) : m));
      run.sigs.set(id, dklsSignCombine(dklsCombineInput(run.s3.get(id)!), recv));
    });
  }
  run.ms.combine = performance.now() - t;
  return run;
}

const SPKI_SECP256K1 = Buffer.from('3056301006072a8648ce3d020106052b8104000a034200', 'hex');

/** Verifies with node:crypto (OpenSSL): `message` is hashed with SHA-256 by the verifier itself. */
export function nodeVerifies(sig: DklsSignature, groupKey: string, message: Uint8Array): boolean {
  const uncompressed = secp256k1.Point.fromHex(groupKey).toBytes(false);
  const key = createPublicKey({
    key: Buffer.concat([SPKI_SECP256K1, uncompressed]),
    format: 'der',
    type: 'spki',
  });
  const p1363 = nodeVerify(
    'sha256',
    message,
    { key, dsaEncoding: 'ieee-p1363' },
    Buffer.from(sig.compact, 'hex'),
  );
  const der = nodeVerify('sha256', message, key, Buffer.from(sig.der, 'hex'));
  return p1363 && der;
}

/** Checks everything a verifier cares about for one signature (`groupKey`: the key it must be under). */
export function expectValidSignature(sig: DklsSignature, groupKey: string, message: Uint8Array): void {
  const hash = sha256(message);
  expect(sig.messageHash).toBe(toHex(hash));
  expect(sig.publicKey).toBe(groupKey);
  expect(sig.compact).toBe(sig.r + sig.s);
  expect(BigInt(`0x${sig.s}`) <= Fn.ORDER >> 1n).toBe(true);
  expect(BigInt(`0x${sig.s}`) > 0n).toBe(true);
  expect([0, 1]).toContain(sig.recovery);
  expect(nodeVerifies(sig, groupKey, message)).toBe(true);
  const recovered = secp256k1.Signature.fromBytes(fromHex(sig.compact, 'sig'), 'compact')
    .addRecoveryBit(sig.recovery)
    .recoverPublicKey(hash)
    .toHex(true);
  expect(recovered).toBe(groupKey);
  expect(
    secp256k1.verify(fromHex(sig.compact, 'sig'), hash, fromHex(groupKey, 'pk'), { prehash: false }),
  ).toBe(true);
}

export function subsets<T>(xs: T[], k: number): T[][] {
  if (k === 0) return [[]];
  if (xs.length < k) return [];
  const [h, ...rest] = xs as [T, ...T[]];
  return [...subsets(rest, k - 1).map((s) => [h, ...s]), ...subsets(rest, k)];
}
