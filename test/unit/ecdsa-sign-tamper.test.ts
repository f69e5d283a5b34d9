import { sha256 } from '@noble/hashes/sha2.js';
import { describe, expect, it } from 'vitest';
import { ConclaveError, CulpritError } from '../../src/errors.js';
import { fromHex, toHex, utf8 } from '../../src/crypto/encoding.js';
import {
  dklsCombineInput,
  dklsPresignFinish,
  dklsSignCombine,
  dklsSignOnline,
  dklsSignRound1,
  dklsSignRound2,
  type DklsKeyShare,
} from '../../src/crypto/ecdsa/dkls-sign.js';
import {
  agreeZeroSeeds,
  deal,
  expectValidSignature,
  Fn,
  G,
  idealMultiplier,
  makeInputs,
  rt,
  runSign,
  seedFor,
  type Hooks,
  type Run,
} from './ecdsa-sign-fixtures.js';

const SESSION = 'c3'.repeat(32);
const MESSAGE = utf8('transfer 42 to bc1q...');
const HASH = sha256(MESSAGE);

const k23 = deal(2, 3, 'tamper-2-of-3');
const k33 = deal(3, 3, 'tamper-3-of-3');
const ids23 = k23.keys.map((k) => k.identifier);
const ids33 = k33.keys.map((k) => k.identifier);
const seeds23 = agreeZeroSeeds(ids23);
const seeds33 = agreeZeroSeeds(ids33);
const [A, B] = ids23 as [string, string, string];
const [P, Q, R] = ids33 as [string, string, string];

const run2 = (h: Hooks = {}, signers = [A, B], session = SESSION) =>
  runSign(makeInputs(k23.keys, seeds23, signers, session), HASH, h);
const run3 = (h: Hooks = {}) => runSign(makeInputs(k33.keys, seeds33, ids33, SESSION), HASH, h);

function errorOf(run: Run, id: string, round?: number): unknown {
  const e = run.errors.get(id);
  expect(e, `party ${id.slice(-2)} should have failed`).toBeDefined();
  if (round !== undefined) expect(e!.round).toBe(round);
  return e!.error;
}

function expectCulprit(e: unknown, code: string, culprit: string, msg?: RegExp) {
  expect(e).toBeInstanceOf(CulpritError);
  expect((e as CulpritError).code).toBe(code);
  expect((e as CulpritError).culprit).toBe(culprit);
  if (msg) expect((e as Error).message).toMatch(msg);
}

function expectCode(e: unknown, code: string, msg?: RegExp) {
  expect(e).toBeInstanceOf(ConclaveError);
  expect(e).not.toBeInstanceOf(CulpritError);
  expect((e as ConclaveError).code).toBe(code);
  if (msg) expect((e as Error).message).toMatch(msg);
}

function throws(f: () => unknown): unknown {
  try {
    f();
  } catch (e) {
    return e;
  }
  throw new Error('expected a throw');
}

const otherPoint = (label: string) =>
  G.multiply(Fn.create(BigInt(`0x${toHex(sha256(utf8(label)))}`))).toHex(true);
const bump = (hex: string) => toHex(Fn.toBytes(Fn.add(Fn.fromBytes(fromHex(hex, 's')), 1n)));

describe('DKLs23 signing: misbehaviour is rejected and the culprit named', () => {
  it('baseline: the fixtures sign correctly', () => {
    const run = run2();
    expect(run.errors.size).toBe(0);
    expectValidSignature(run.sigs.get(A)!, k23.keys[0]!.public.commitments[0]!, MESSAGE);
  });

  it('a wrong R_i opening (another point, or another salt) is BAD_PROOF naming the sender', () => {
    let run = run2({ t2: (m) => (m.from === B ? { ...m, instancePoint: otherPoint('R') } : m) });
    expectCulprit(errorOf(run, A, 3), 'BAD_PROOF', B, /does not open its round-1 commitment/);
    run = run2({ t2: (m) => (m.from === A ? { ...m, salt: bump(m.salt) } : m) });
    expectCulprit(errorOf(run, B, 3), 'BAD_PROOF', A, /does not open/);
  });

  it('a wrong Γ_u or Γ_v is BAD_PROOF naming the sender (the paper’s consistency checks)', () => {
    let run = run2({ t2: (m) => (m.from === B ? { ...m, gammaU: otherPoint('gu') } : m) });
    expectCulprit(errorOf(run, A, 3), 'BAD_PROOF', B, /Γ_u check failed/);
    run = run2({ t2: (m) => (m.from === A ? { ...m, gammaV: otherPoint('gv') } : m) });
    expectCulprit(errorOf(run, B, 3), 'BAD_PROOF', A, /Γ_v check failed/);
  });

  it('a multiplication output that does not match R_j / pk_j is caught by the Γ checks', () => {
    // Alice (B) shifts the share she hands Bob (A): A's d_u is then off by one.
    const run = run2({
      t2: (m) => {
        if (m.from !== B) return m;
        const mul = m.mul as { sid: string; shares: string[] };
        return { ...m, mul: { ...mul, shares: [bump(mul.shares[0]!), mul.shares[1]!] } };
      },
    });
    expectCulprit(errorOf(run, A, 3), 'BAD_PROOF', B, /Γ_u check failed/);
    // a multiplication message the multiplier refuses (other session) names the sender in round 2
    const run2b = run2({
      t1: (m) => (m.from === B ? { ...m, mul: { ...(m.mul as object), sid: '00'.repeat(32) } } : m),
    });
    expectCulprit(errorOf(run2b, A, 2), 'BAD_PROOF', B, /multiplication message rejected/);
  });

  it('a public share inconsistent with the verifying share / zero-share terms is BAD_SHARE', () => {
    let run = run2({ t2: (m) => (m.from === B ? { ...m, publicShare: otherPoint('pk') } : m) });
    expectCulprit(errorOf(run, A, 3), 'BAD_SHARE', B, /public share/);
    run = run2({
      t2: (m) => (m.from === B ? { ...m, zeroTerms: { ...m.zeroTerms, [A]: otherPoint('z') } } : m),
    });
    expectCulprit(errorOf(run, A, 3), 'BAD_SHARE', B, /zero-share term/);
  });

  it('equivocated round-1 commitments are detected (culprit when attributable)', () => {
    // R sends Q a different commitment than it sends P.
    const run = run3({ t1: (m) => (m.from === R && m.to === Q ? { ...m, commitment: 'ab'.repeat(32) } : m) });
    // Q: R's own echo contradicts the commitment R sent Q
    expectCulprit(errorOf(run, Q, 3), 'DISAGREEMENT', R, /round-1 commitments/);
    // P sees Q's echo disagree about R's commitment: it cannot tell R from Q, so no single culprit.
    expectCode(errorOf(run, P, 3), 'DISAGREEMENT', /sent different round-1 commitments/);
    // a peer misreporting our own commitment is named
    const run2b = run3({
      t2: (m) =>
        m.from === Q && m.to === P ? { ...m, commitments: { ...m.commitments, [P]: 'cd'.repeat(32) } } : m,
    });
    expectCulprit(errorOf(run2b, P, 3), 'DISAGREEMENT', Q, /round-1 commitments/);
  });

  it('a wrong w_i or u_i is rejected at combine with the culprit named', () => {
    // 3-of-3: both honest parties name the one whose w is off
    let run = run3({ t3: (m) => (m.from === Q ? { ...m, w: bump(m.w) } : m) });
    for (const id of [P, R]) {
      expectCulprit(errorOf(run, id, 4), 'BAD_SHARE', Q, /does not match its public values/);
    }
    run = run2({ t3: (m) => (m.from === B ? { ...m, u: bump(m.u) } : m) });
    expectCulprit(errorOf(run, A, 4), 'BAD_SHARE', B, /does not match its public values/);
    // a malformed value is named too
    run = run2({ t3: (m) => (m.from === A ? { ...m, u: 'zz' } : m) });
    expectCulprit(errorOf(run, B, 4), 'BAD_SHARE', A, /malformed/);
    // the pairwise points and proof only matter when the signature fails
    run = run2({ t3: (m) => (m.from === A ? { ...m, proof: { c: m.proof.z, z: m.proof.c } } : m) });
    expect(run.errors.size).toBe(0);
  });

  it('a peer that lies with ψ (not checkable in round 3) is named at combine by its victim', () => {
    const run = run3({ t2: (m) => (m.from === Q && m.to === P ? { ...m, psi: bump(m.psi) } : m) });
    expect([...run.errors.values()].map((e) => e.round)).toEqual([4, 4, 4]);
    expectCulprit(errorOf(run, P, 4), 'DISAGREEMENT', Q, /pairwise values contradict/);
    // R, a bystander, sees the pair disagree but cannot tell which of the two lies
    expectCode(errorOf(run, R, 4), 'DISAGREEMENT', /contradicting pairwise values/);
  });

  it('a peer that signs another message, or another R, is named', () => {
    let run = run2({ hashOf: (id) => (id === B ? sha256(utf8('other')) : HASH) });
    expectCulprit(errorOf(run, A, 4), 'DISAGREEMENT', B, /different message hash/);
    run = run2({ t3: (m) => (m.from === B ? { ...m, R: otherPoint('R3') } : m) });
    expectCulprit(errorOf(run, A, 4), 'DISAGREEMENT', B, /different instance point/);
  });

  it('messages from another session (any round) are REPLAY naming the sender', () => {
    const other = run2({}, [A, B], 'd4'.repeat(32));
    const fromOther = <T extends { from: string; to?: string }>(list: T[], from: string, to?: string) =>
      list.find((m) => m.from === from && (to === undefined || m.to === to))!;
    let run = run2({ t1: (m) => (m.from === B ? fromOther(other.m1, B, A) : m) });
    expectCulprit(errorOf(run, A, 2), 'REPLAY', B, /another signing session/);
    run = run2({ t2: (m) => (m.from === A ? fromOther(other.m2, A, B) : m) });
    expectCulprit(errorOf(run, B, 3), 'REPLAY', A);
    // a round-3 broadcast replayed from an earlier signature (another session)
    run = run2({ t3: (m) => (m.from === B ? fromOther(other.m3, B) : m) });
    expectCulprit(errorOf(run, A, 4), 'REPLAY', B);
    // misaddressed or mislabelled messages
    run = run2({ t2: (m) => (m.from === B ? { ...m, kind: 'dkls23-sign/1' as never } : m) });
    expectCulprit(errorOf(run, A, 3), 'TAMPERED', B);
  });

  it('a presignature cannot be used twice', () => {
    const run = run2();
    const used = run.s3.get(A)!;
    expect(used.step).toBe('used');
    expect(used.used.on).toMatch(/^[0-9a-f]{64}$/);
    // the used presignature keeps no secret
    expect(Object.keys(used)).not.toContain('phi');
    expect(JSON.stringify(used)).not.toMatch(/"(phi|ui|vi|rho|rhoR|rhoPk)"/);
    // same message and tweak: the same broadcast again (an idempotent retry)
    const again = dklsSignOnline(used, HASH);
    expect(rt(again.broadcast)).toEqual(run.m3.find((m) => m.from === A));
    expect(rt(again.presignature)).toEqual(used);
    // a second message: refused
    expectCode(
      throws(() => dklsSignOnline(used, sha256(utf8('second')))),
      'NONCE_REUSE',
      /already used/,
    );
    // the same message under another tweak: refused too
    expectCode(
      throws(() => dklsSignOnline(used, HASH, { tweak: '00'.repeat(31) + '07' })),
      'NONCE_REUSE',
    );
    // an online broadcast from a reused presignature for another message is named by its peers
    const fresh = run2();
    const replayed = dklsSignOnline(fresh.pre.get(B)!, sha256(utf8('second')));
    expectCulprit(
      throws(() =>
        dklsSignCombine(
          dklsCombineInput(fresh.s3.get(A)!),
          rt([fresh.m3.find((m) => m.from === A)!, replayed.broadcast]),
        ),
      ),
      'DISAGREEMENT',
      B,
      /different message hash/,
    );
  });

  it('the finish is deterministic in its inputs, and refuses a state that is not at round 2', () => {
    const run = run2();
    const input = makeInputs(k23.keys, seeds23, [A, B], SESSION).get(A)!;
    const recv = rt(run.m2.filter((m) => m.to === A));
    expect(rt(dklsPresignFinish(idealMultiplier, input, run.s2.get(A)!, recv))).toEqual(run.pre.get(A));
    expectCode(
      throws(() => dklsPresignFinish(idealMultiplier, input, run.s1.get(A)!, recv)),
      'BAD_INPUT',
      /not ready for the finish/,
    );
  });

  it('a round-2 retry must see the same round-1 messages and seed', () => {
    const run = run2();
    const input = makeInputs(k23.keys, seeds23, [A, B], SESSION).get(A)!;
    const recv = rt(run.m1.filter((m) => m.to === A));
    const s2 = run.s2.get(A)!;
    const again = dklsSignRound2(idealMultiplier, input, s2, recv, seedFor(A, 'r2'));
    expect(Object.values(rt(again.messages))).toEqual(run.m2.filter((m) => m.from === A));
    // the state is returned unchanged
    expect(dklsSignRound2(idealMultiplier, input, s2, recv, seedFor(A, 'r2')).state).toEqual(s2);
    expectCode(
      throws(() => dklsSignRound2(idealMultiplier, input, s2, recv, seedFor(A, 'r2', 'x'))),
      'DISAGREEMENT',
    );
    const other = recv.map((m) => ({ ...m, commitment: 'ee'.repeat(32) }));
    expectCode(
      throws(() => dklsSignRound2(idealMultiplier, input, s2, other, seedFor(A, 'r2'))),
      'DISAGREEMENT',
    );
  });

  it('rejects bad inputs and states with BAD_INPUT', () => {
    const inputs = makeInputs(k23.keys, seeds23, [A, B], SESSION);
    const input = inputs.get(A)!;
    const seed = seedFor(A, 'r1');
    const bad = (f: () => unknown, re?: RegExp) => expectCode(throws(f), 'BAD_INPUT', re);
    bad(() => dklsSignRound1(idealMultiplier, { ...input, signers: [A] }, seed), /signer set/);
    bad(() => dklsSignRound1(idealMultiplier, { ...input, signers: [A, A] }, seed), /duplicate/);
    bad(
      () => dklsSignRound1(idealMultiplier, { ...input, signers: [B, ids23[2]!] }, seed),
      /include this party/,
    );
    bad(() => dklsSignRound1(idealMultiplier, { ...input, sessionId: 'ab' }, seed), /session id/);
    bad(() => dklsSignRound1(idealMultiplier, input, new Uint8Array(8)), /seed/);
    const wrongShare: DklsKeyShare = { ...input.key, signingShare: k23.keys[1]!.signingShare };
    bad(() => dklsSignRound1(idealMultiplier, { ...input, key: wrongShare }, seed), /does not match/);
    bad(() => dklsSignRound1(idealMultiplier, { ...input, peers: {} }, seed), /setup/);
    const run = run2();
    // a state from another session, or another party, is refused
    const s1 = run.s1.get(A)!;
    const otherSession = makeInputs(k23.keys, seeds23, [A, B], 'ef'.repeat(32)).get(A)!;
    bad(() => dklsSignRound2(idealMultiplier, otherSession, s1, [], seed), /another session/);
    bad(() => dklsPresignFinish(idealMultiplier, input, s1, []), /expected 1 messages|not ready/);
    bad(() => dklsSignOnline(run.pre.get(A)!, new Uint8Array(31)), /32 bytes/);
    bad(() => dklsSignOnline(run.s2.get(A)! as never, HASH), /invalid presignature/);
    bad(() => dklsSignOnline(run.pre.get(A)!, HASH, { tweak: 'ff'.repeat(32) }), /tweak/);
    bad(() => dklsCombineInput(run.pre.get(A)! as never), /not been used/);
    // our own broadcast altered before combine
    const own = dklsCombineInput(run.s3.get(A)!);
    const m3 = rt(run.m3).map((m) => (m.from === A ? { ...m, w: bump(m.w) } : m));
    bad(() => dklsSignCombine(own, m3), /own online broadcast/);
    bad(() => dklsSignCombine(own, run.m3.slice(0, 1)), /expected 2 messages/);
  });
});
