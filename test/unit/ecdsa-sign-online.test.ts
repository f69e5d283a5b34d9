/**
 * DKLs23's presignature and online step: a presignature made with the untweaked key, then signed
 * under a tweak chosen only afterwards (pk + t·G, as BIP32 CKDpub gives), with Groth–Shoup
 * re-randomisation; single use of the presignature; blame of a tampered online broadcast.
 */
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { describe, expect, it } from 'vitest';
import * as mul from '../../src/crypto/ecdsa/multiply.js';
import { fromHex, toHex, utf8 } from '../../src/crypto/encoding.js';
import {
  dklsCombineInput,
  dklsSignCombine,
  dklsSignOnline,
  type DklsCombineInput,
  type DklsPeerSetup,
  type DklsSignInput,
  type DklsUsedPresignature,
  type Multiplier,
} from '../../src/crypto/ecdsa/dkls-sign.js';
import { ConclaveError, CulpritError } from '../../src/errors.js';
import {
  agreeZeroSeeds,
  deal,
  expectValidSignature,
  Fn,
  G,
  idealMultiplier,
  makeInputs,
  randomScalar,
  reconstruct,
  rt,
  runSign,
  seedFor,
  type Run,
} from './ecdsa-sign-fixtures.js';

const scalarHex = (x: bigint) => toHex(Fn.toBytes(x));
const bump = (hex: string) => scalarHex(Fn.add(Fn.fromBytes(fromHex(hex, 's')), 1n));

/** Real OT setups for every ordered pair of `signers` (Bob starts, Alice answers, Bob finishes). */
function withRealSetups(
  inputs: Map<string, DklsSignInput>,
  zeroSeeds: Record<string, Record<string, string>>,
) {
  const signers = [...inputs.keys()];
  const setups = new Map<string, { sender: unknown; receiver: unknown }>();
  for (const alice of signers) {
    for (const bob of signers) {
      if (alice === bob) continue;
      const id = utf8(`ot-setup|${alice}->${bob}`);
      const start = mul.otSetupReceiverStart(id, seedFor(bob, `ot-${alice}`));
      const sent = mul.otSetupSenderRespond(id, seedFor(alice, `ot-${bob}`), start.msg, bob);
      const got = mul.otSetupReceiverFinish(start.state, sent.msg, alice);
      setups.set(`${alice}->${bob}`, { sender: sent.setup, receiver: got.setup });
    }
  }
  for (const self of signers) {
    const peers: Record<string, DklsPeerSetup> = {};
    for (const other of signers) {
      if (other === self) continue;
      peers[other] = {
        zeroSeed: zeroSeeds[self]![other]!,
        mulSender: setups.get(`${self}->${other}`)!.sender,
        mulReceiver: setups.get(`${other}->${self}`)!.receiver,
      };
    }
    inputs.get(self)!.peers = peers;
  }
  return inputs;
}

function throws(f: () => unknown): unknown {
  try {
    f();
  } catch (e) {
    return e;
  }
  throw new Error('expected a throw');
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

/** What a combiner holding no share (the coordinator) has: public values only, no own broadcast. */
const publicCombine = (used: DklsUsedPresignature): DklsCombineInput => {
  const { own: _own, ...rest } = dklsCombineInput(used);
  return rest;
};

describe('DKLs23 presignature, then the online step under a tweak chosen afterwards', () => {
  const cases: Array<{ name: string; t: number; n: number; real: boolean }> = [
    { name: '2-of-3, ideal multiplier', t: 2, n: 3, real: false },
    { name: '3-of-5, ideal multiplier', t: 3, n: 5, real: false },
    { name: '2-of-3, real multiplication', t: 2, n: 3, real: true },
    { name: '3-of-5, real multiplication', t: 3, n: 5, real: true },
  ];
  for (const c of cases) {
    it(`${c.name}: the signature verifies under pk + t·G, the key rebuilt from the shares plus t`, () => {
      const { keys } = deal(c.t, c.n);
      const ids = keys.map((k) => k.identifier);
      // the last t parties sign (not the first ones, so Lagrange coefficients are not trivial)
      const signers = ids.slice(c.n - c.t);
      const zeroSeeds = agreeZeroSeeds(ids);
      let inputs = makeInputs(keys, zeroSeeds, signers, 'e1'.repeat(32));
      if (c.real) inputs = withRealSetups(inputs, zeroSeeds);
      const m: Multiplier = c.real ? mul : idealMultiplier;

      // presign: rounds 1, 2 and the finish, with no message and no tweak
      const presigned = runSign(inputs, new Uint8Array(32), { mul: m });
      expect([...presigned.errors.values()]).toEqual([]);
      const R = presigned.pre.get(signers[0]!)!.R;
      for (const id of signers) expect(presigned.pre.get(id)!.R).toBe(R);
      expect(JSON.stringify([...presigned.pre.values()])).not.toMatch(/bob|alice|chi|mulSender/);

      // only now: the tweak and the message
      const t = randomScalar();
      const message = utf8(`pay under a derived key, ${c.name}`);
      const hash = sha256(message);
      const online = signers.map((id) =>
        dklsSignOnline(presigned.pre.get(id)!, hash, { tweak: scalarHex(t) }),
      );
      const broadcasts = rt(online.map((o) => o.broadcast));
      const sigs = online.map((o) => dklsSignCombine(dklsCombineInput(o.presignature), broadcasts));
      for (const sig of sigs) expect(sig).toEqual(sigs[0]);
      const sig = sigs[0]!;

      // pk' = pk + t·G, computed here from the package and again from the shares themselves
      const pk = secp256k1.Point.fromHex(keys[0]!.public.commitments[0]!);
      const tweaked = pk.add(G.multiply(t)).toHex(true);
      const x = reconstruct(keys.filter((k) => signers.includes(k.identifier)));
      expect(G.multiply(Fn.add(x, t)).toHex(true)).toBe(tweaked);
      expect(sig.publicKey).toBe(tweaked);
      expect(
        secp256k1.verify(fromHex(sig.compact, 'sig'), hash, fromHex(tweaked, 'pk'), {
          prehash: false,
          lowS: true,
        }),
      ).toBe(true);
      expectValidSignature(sig, tweaked, message);
      // and not under the untweaked key
      expect(secp256k1.verify(fromHex(sig.compact, 'sig'), hash, pk.toBytes(true), { prehash: false })).toBe(
        false,
      );
      // the coordinator combines the same signature from public values only
      expect(dklsSignCombine(publicCombine(online[0]!.presignature), broadcasts)).toEqual(sig);
    });
  }

  it('signs with t = 0 under the group key itself; re-randomisation still applies', () => {
    const { keys } = deal(2, 3, 'online-zero');
    const ids = keys.map((k) => k.identifier);
    const run = runSign(
      makeInputs(keys, agreeZeroSeeds(ids), ids.slice(0, 2), 'e2'.repeat(32)),
      sha256(utf8('m')),
    );
    expect([...run.errors.values()]).toEqual([]);
    const sig = run.sigs.get(ids[0]!)!;
    expectValidSignature(sig, keys[0]!.public.commitments[0]!, utf8('m'));
    // the signature's R is not the presignature's
    const Rpre = secp256k1.Point.fromHex(run.pre.get(ids[0]!)!.R);
    expect(run.m3[0]!.R).not.toBe(Rpre.toHex(true));
    expect(BigInt(`0x${sig.r}`)).not.toBe(Fn.create(Rpre.toAffine().x));
    expect(run.m3[0]!.R).toBe(run.m3[1]!.R);
  });

  it('δ depends on the message and on the tweak (each from a fresh copy of one presignature)', () => {
    const { keys } = deal(2, 3, 'online-delta');
    const ids = keys.map((k) => k.identifier);
    const run = runSign(
      makeInputs(keys, agreeZeroSeeds(ids), ids.slice(0, 2), 'e3'.repeat(32)),
      sha256(utf8('a')),
    );
    const pre = run.pre.get(ids[0]!)!;
    const Rof = (hash: Uint8Array, tweak?: string) =>
      dklsSignOnline(rt(pre), hash, tweak ? { tweak } : {}).broadcast.R;
    const a = Rof(sha256(utf8('a')));
    expect(Rof(sha256(utf8('a')))).toBe(a); // deterministic
    expect(Rof(sha256(utf8('b')))).not.toBe(a);
    expect(Rof(sha256(utf8('a')), scalarHex(7n))).not.toBe(a);
    expect(Rof(sha256(utf8('a')), scalarHex(7n))).not.toBe(Rof(sha256(utf8('a')), scalarHex(8n)));
    // and R' − R is δ·G for a δ that is neither 0 nor the same for another message
    const Rpre = secp256k1.Point.fromHex(pre.R);
    expect(secp256k1.Point.fromHex(a).equals(Rpre)).toBe(false);
  });

  it('single use: a second message or tweak is NONCE_REUSE, a byte-identical retry the same broadcast', () => {
    const { keys } = deal(2, 3, 'online-once');
    const ids = keys.map((k) => k.identifier);
    const signers = ids.slice(0, 2);
    const run = runSign(makeInputs(keys, agreeZeroSeeds(ids), signers, 'e4'.repeat(32)), sha256(utf8('one')));
    const used = run.s3.get(signers[0]!)!;
    const mine = run.m3.find((m) => m.from === signers[0])!;
    expect(rt(dklsSignOnline(used, sha256(utf8('one'))).broadcast)).toEqual(mine);
    expect(rt(dklsSignOnline(used, sha256(utf8('one')), { tweak: scalarHex(0n) }).broadcast)).toEqual(mine);
    expectCode(
      throws(() => dklsSignOnline(used, sha256(utf8('two')))),
      'NONCE_REUSE',
    );
    expectCode(
      throws(() => dklsSignOnline(used, sha256(utf8('one')), { tweak: scalarHex(1n) })),
      'NONCE_REUSE',
    );
    // the used presignature is public data only
    expect(Object.keys(used).sort()).toEqual(
      [
        'v',
        'kind',
        'step',
        'session',
        'identifier',
        'signers',
        'groupKey',
        'input',
        'R',
        'pairs',
        'used',
      ].sort(),
    );
  });

  it('a tampered online broadcast is named at combine', () => {
    const { keys } = deal(3, 3, 'online-tamper');
    const [P, Q, R] = keys.map((k) => k.identifier) as [string, string, string];
    const inputs = makeInputs(keys, agreeZeroSeeds([P, Q, R]), [P, Q, R], 'e5'.repeat(32));
    const hash = sha256(utf8('tamper'));
    const t = scalarHex(12345n);
    const tweakOf = () => t;
    const errorAt = (run: Run, id: string) => {
      const e = run.errors.get(id);
      expect(e?.round).toBe(4);
      return e!.error;
    };
    // u or w off by one: the proof fails, every honest signer names Q
    for (const field of ['u', 'w'] as const) {
      const run = runSign(inputs, hash, {
        tweakOf,
        t3: (m) => (m.from === Q ? { ...m, [field]: bump(m[field]) } : m),
      });
      for (const id of [P, R])
        expectCulprit(errorAt(run, id), 'BAD_SHARE', Q, /does not match its public values/);
    }
    // a pairwise point alone does not matter when the signature verifies
    let run = runSign(inputs, hash, {
      tweakOf,
      t3: (m) =>
        m.from === Q ? { ...m, pairs: { ...m.pairs, [P]: { ...m.pairs[P]!, a: G.toHex(true) } } } : m,
    });
    expect(run.errors.size).toBe(0);
    // Q lies consistently: u_Q shifted by ε and a_QP by ε·G in its own presignature, so its proof
    // verifies; the pair no longer cancels, and only P, whose own a_PQ is right, can tell who lies
    const clean = runSign(inputs, hash, { tweakOf });
    const liar = rt(clean.pre.get(Q)!);
    const eps = 5n;
    const shift = (hex: string) => secp256k1.Point.fromHex(hex).add(G.multiply(eps)).toHex(true);
    liar.ui = scalarHex(Fn.add(Fn.fromBytes(fromHex(liar.ui, 'u')), eps));
    liar.pairs = { ...liar.pairs, [P]: { ...liar.pairs[P]!, a: shift(liar.pairs[P]!.a) } };
    liar.A = liar.A === '00' ? G.multiply(eps).toHex(true) : shift(liar.A);
    const lie = dklsSignOnline(liar, hash, { tweak: t }).broadcast;
    const forged = rt(clean.m3).map((m) => (m.from === Q ? lie : m));
    expectCulprit(
      throws(() => dklsSignCombine(dklsCombineInput(clean.s3.get(P)!), forged)),
      'DISAGREEMENT',
      Q,
      /pairwise values contradict/,
    );
    expectCode(
      throws(() => dklsSignCombine(dklsCombineInput(clean.s3.get(R)!), forged)),
      'DISAGREEMENT',
      /contradicting pairwise values/,
    );
    // a combiner holding no share cannot tell Q from P: no culprit
    expectCode(
      throws(() => dklsSignCombine(publicCombine(clean.s3.get(P)!), forged)),
      'DISAGREEMENT',
      /contradicting/,
    );
    // the same shift made by someone without Q's secrets breaks Q's proof instead: Q is named
    const relayed = rt(clean.m3).map((m) =>
      m.from === Q
        ? {
            ...m,
            u: scalarHex(Fn.add(Fn.fromBytes(fromHex(m.u, 'u')), eps)),
            pairs: { ...m.pairs, [P]: { ...m.pairs[P]!, a: shift(m.pairs[P]!.a) } },
          }
        : m,
    );
    expectCulprit(
      throws(() => dklsSignCombine(publicCombine(clean.s3.get(P)!), relayed)),
      'BAD_SHARE',
      Q,
    );
    // ...but names a signer whose proof fails, or who signed another message, key or R
    const badW = rt(clean.m3).map((m) => (m.from === R ? { ...m, w: bump(m.w) } : m));
    expectCulprit(
      throws(() => dklsSignCombine(publicCombine(clean.s3.get(P)!), badW)),
      'BAD_SHARE',
      R,
    );
    const otherKey = rt(clean.m3).map((m) => (m.from === R ? { ...m, publicKey: G.toHex(true) } : m));
    expectCulprit(
      throws(() => dklsSignCombine(publicCombine(clean.s3.get(P)!), otherKey)),
      'DISAGREEMENT',
      R,
      /another key/,
    );
    const otherR = rt(clean.m3).map((m) => (m.from === R ? { ...m, R: G.toHex(true) } : m));
    expectCulprit(
      throws(() => dklsSignCombine(publicCombine(clean.s3.get(P)!), otherR)),
      'DISAGREEMENT',
      R,
      /instance point/,
    );
    // signed under another tweak: named by its peers
    run = runSign(inputs, hash, { tweakOf: (id) => (id === R ? scalarHex(999n) : t) });
    expectCulprit(errorAt(run, P), 'DISAGREEMENT', R, /another key/);
  });

  it('with two signers and no share, a contradicting R names no one', () => {
    const { keys } = deal(2, 3, 'online-two');
    const ids = keys.map((k) => k.identifier);
    const run = runSign(
      makeInputs(keys, agreeZeroSeeds(ids), ids.slice(0, 2), 'e6'.repeat(32)),
      sha256(utf8('x')),
    );
    const forged = rt(run.m3).map((m) => (m.from === ids[1] ? { ...m, R: G.toHex(true) } : m));
    expectCode(
      throws(() => dklsSignCombine(publicCombine(run.s3.get(ids[0]!)!), forged)),
      'DISAGREEMENT',
      /different instance points/,
    );
    // a signer combining names the other
    expectCulprit(
      throws(() => dklsSignCombine(dklsCombineInput(run.s3.get(ids[0]!)!), forged)),
      'DISAGREEMENT',
      ids[1]!,
    );
  });
});
