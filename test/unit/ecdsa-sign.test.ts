import { sha256 } from '@noble/hashes/sha2.js';
import { describe, expect, it } from 'vitest';
import { toHex, utf8 } from '../../src/crypto/encoding.js';
import {
  dklsCombineInput,
  dklsPresignFinish,
  dklsPresignatureId,
  dklsSignCombine,
  dklsSignOnline,
  dklsSignRound1,
  dklsSignRound2,
  type DklsKeyShare,
} from '../../src/crypto/ecdsa/dkls-sign.js';
import { runDkg } from './frost-fixtures.js';
import {
  agreeZeroSeeds,
  deal,
  expectValidSignature,
  Fn,
  G,
  idealMultiplier,
  makeInputs,
  reconstruct,
  rt,
  runSign,
  S,
  seedFor,
  subsets,
} from './ecdsa-sign-fixtures.js';

const SESSION = 'a1'.repeat(32);

function signAndCheck(
  keys: DklsKeyShare[],
  seeds: Record<string, Record<string, string>>,
  signers: string[],
  text: string,
) {
  const message = utf8(text);
  const run = runSign(makeInputs(keys, seeds, signers, SESSION), sha256(message));
  expect([...run.errors.values()]).toEqual([]);
  const groupKey = keys[0]!.public.commitments[0]!;
  const sigs = [...run.sigs.values()];
  expect(sigs).toHaveLength(signers.length);
  for (const sig of sigs) expect(sig).toEqual(sigs[0]);
  expectValidSignature(sigs[0]!, groupKey, message);
  return { run, sig: sigs[0]! };
}

describe('DKLs23 signing (ideal multiplier)', () => {
  it('2-of-3 with a dealt key: every signer subset, every party gets the same verified signature', () => {
    const { keys, secret } = deal(2, 3);
    const ids = keys.map((k) => k.identifier);
    const seeds = agreeZeroSeeds(ids);
    expect(G.multiply(secret).toHex(true)).toBe(keys[0]!.public.commitments[0]);
    for (const signers of subsets(ids, 2)) {
      // any t shares reconstruct the group key
      const x = reconstruct(keys.filter((k) => signers.includes(k.identifier)));
      expect(G.multiply(x).toHex(true)).toBe(keys[0]!.public.commitments[0]);
      signAndCheck(keys, seeds, signers, `pay 1 BTC, signers ${signers.join('/')}`);
    }
    // the full set (|S| = n > t) also signs
    signAndCheck(keys, seeds, ids, 'all three');
  });

  it('3-of-5 with a dealt key: every 3-subset signs', () => {
    const { keys } = deal(3, 5);
    const ids = keys.map((k) => k.identifier);
    const seeds = agreeZeroSeeds(ids);
    const sets = subsets(ids, 3);
    expect(sets).toHaveLength(10);
    for (const signers of sets) {
      const x = reconstruct(keys.filter((k) => signers.includes(k.identifier)));
      expect(G.multiply(x).toHex(true)).toBe(keys[0]!.public.commitments[0]);
      signAndCheck(keys, seeds, signers, `3-of-5 ${signers.join('/')}`);
    }
  });

  it('signs with shares from the FROST secp256k1 DKG (2-of-3), every subset', () => {
    const parties = runDkg(S, 2, 3);
    const keys: DklsKeyShare[] = parties.map((p) => ({
      identifier: p.identifier,
      signingShare: p.signingShare,
      public: p.public,
    }));
    const ids = keys.map((k) => k.identifier);
    const seeds = agreeZeroSeeds(ids);
    for (const signers of subsets(ids, 2)) {
      const x = reconstruct(keys.filter((k) => signers.includes(k.identifier)));
      expect(G.multiply(x).toHex(true)).toBe(keys[0]!.public.commitments[0]);
      signAndCheck(keys, seeds, signers, `dkg ${signers.join('/')}`);
    }
  });

  it('low-S always, and the recovery id takes both values (deterministic key and seeds)', () => {
    const { keys } = deal(2, 2, 'low-s');
    const ids = keys.map((k) => k.identifier);
    const seeds = agreeZeroSeeds(ids);
    const recoveries = new Set<number>();
    const flipped = new Set<boolean>();
    for (let i = 0; i < 6; i++) {
      const message = utf8(`low-s ${i}`);
      const run = runSign(makeInputs(keys, seeds, ids, SESSION), sha256(message), { seedSalt: `ls${i}` });
      const sig = run.sigs.get(ids[0]!)!;
      expectValidSignature(sig, keys[0]!.public.commitments[0]!, message);
      recoveries.add(sig.recovery);
      // the raw s = Σw/Σu, before normalisation: both halves occur, and high ones were flipped
      const sum = (f: (m: (typeof run.m3)[number]) => string) =>
        run.m3.reduce((acc, m) => Fn.add(acc, BigInt(`0x${f(m)}`)), 0n);
      const raw = Fn.mul(
        sum((m) => m.w),
        Fn.inv(sum((m) => m.u)),
      );
      flipped.add(raw !== BigInt(`0x${sig.s}`));
      expect(BigInt(`0x${sig.s}`)).toBe(raw > Fn.ORDER >> 1n ? Fn.neg(raw) : raw);
    }
    expect(recoveries).toEqual(new Set([0, 1]));
    expect(flipped).toEqual(new Set([true, false]));
  });

  it('is deterministic in the seeds: same seeds give identical messages and signature, new seeds a new R', () => {
    const { keys } = deal(2, 3);
    const ids = keys.map((k) => k.identifier);
    const seeds = agreeZeroSeeds(ids);
    const signers = ids.slice(0, 2);
    const hash = sha256(utf8('determinism'));
    const a = runSign(makeInputs(keys, seeds, signers, SESSION), hash);
    const b = runSign(makeInputs(keys, seeds, signers, SESSION), hash);
    expect(b.m1).toEqual(a.m1);
    expect(b.m2).toEqual(a.m2);
    expect(b.m3).toEqual(a.m3);
    expect(b.sigs.get(signers[0]!)).toEqual(a.sigs.get(signers[0]!));
    const c = runSign(makeInputs(keys, seeds, signers, SESSION), hash, { seedSalt: 'other' });
    expect(c.m3[0]!.R).not.toBe(a.m3[0]!.R);
    expect(c.sigs.get(signers[0]!)!.r).not.toBe(a.sigs.get(signers[0]!)!.r);
    // the same seeds in another session give another nonce too
    const d = runSign(makeInputs(keys, seeds, signers, 'b2'.repeat(32)), hash);
    expect(d.m3[0]!.R).not.toBe(a.m3[0]!.R);

    // retried rounds (same seed, same inputs) recompute the same output
    const id = signers[0]!;
    const input = makeInputs(keys, seeds, signers, SESSION).get(id)!;
    const r1 = dklsSignRound1(idealMultiplier, input, seedFor(id, 'r1'));
    expect(rt(r1.state)).toEqual(a.s1.get(id));
    const recv1 = rt(a.m1.filter((m) => m.to === id));
    const again2 = dklsSignRound2(idealMultiplier, input, a.s2.get(id)!, recv1, seedFor(id, 'r2'));
    expect(Object.values(rt(again2.messages))).toEqual(a.m2.filter((m) => m.from === id));
    expect(rt(again2.state)).toEqual(a.s2.get(id));
    const recv2 = rt(a.m2.filter((m) => m.to === id));
    const pre = dklsPresignFinish(idealMultiplier, input, a.s2.get(id)!, recv2);
    expect(rt(pre)).toEqual(a.pre.get(id));
    const again3 = dklsSignOnline(a.s3.get(id)!, hash);
    expect(rt(again3.broadcast)).toEqual(a.m3.find((m) => m.from === id));
  });

  it('reports per-round timings of a 2-of-3 signature', () => {
    const { keys } = deal(2, 3);
    const ids = keys.map((k) => k.identifier);
    const seeds = agreeZeroSeeds(ids);
    const signers = ids.slice(0, 2);
    const hash = sha256(utf8('timing'));
    runSign(makeInputs(keys, seeds, signers, SESSION), hash, { seedSalt: 'warm' }); // JIT warm-up
    const N = 3;
    const tot = { r1: 0, r2: 0, finish: 0, online: 0, combine: 0 };
    for (let i = 0; i < N; i++) {
      const run = runSign(makeInputs(keys, seeds, signers, SESSION), hash, { seedSalt: `t${i}` });
      expect(run.sigs.size).toBe(2);
      for (const k of Object.keys(tot) as Array<keyof typeof tot>) tot[k] += run.ms[k];
    }
    const per = (ms: number) => `${(ms / N / 2).toFixed(1)} ms/party`;
    console.log(
      `DKLs23 2-of-3 (ideal multiplier), mean of ${N}: round1 ${per(tot.r1)}, round2 ${per(tot.r2)}, ` +
        `finish ${per(tot.finish)}, online ${per(tot.online)}, combine ${per(tot.combine)}`,
    );
  });

  it('presignature ids are stable and distinct per party', () => {
    const { keys } = deal(2, 2);
    const ids = keys.map((k) => k.identifier);
    const run = runSign(makeInputs(keys, agreeZeroSeeds(ids), ids, SESSION), sha256(utf8('x')));
    const a = dklsPresignatureId(run.pre.get(ids[0]!)!);
    expect(dklsPresignatureId(run.s3.get(ids[0]!)!)).toBe(a);
    expect(dklsPresignatureId(run.pre.get(ids[1]!)!)).not.toBe(a);
    expect(a).toMatch(/^[0-9a-f]{64}$/);
    // combine output is the same whichever party combines, and independent of broadcast order
    const sig = dklsSignCombine(dklsCombineInput(run.s3.get(ids[1]!)!), rt([...run.m3].reverse()));
    expect(sig).toEqual(run.sigs.get(ids[0]!));
    expect(toHex(sha256(utf8('x')))).toBe(sig.messageHash);
  });
});
