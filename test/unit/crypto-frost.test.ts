import { createPublicKey, verify as nodeVerify } from 'node:crypto';
import { ed25519 } from '@noble/curves/ed25519.js';
import { describe, expect, it } from 'vitest';
import { ConclaveError, CulpritError } from '../../src/errors.js';
import { fromHex, toHex, utf8 } from '../../src/crypto/encoding.js';
import {
  aggregateSignature,
  commitmentId,
  consumeNonces,
  dkgRound1,
  dkgRound2,
  dkgRound3,
  dkgTranscriptHash,
  identifierFor,
  signCommit,
  signShare,
  validateCommitment,
  verifySignatureShares,
  type DkgState,
  type PublicPackage,
  type Round1Pkg,
  type SigningCommitment,
} from '../../src/crypto/frost.js';
import { getScheme } from '../../src/crypto/schemes.js';

const S = getScheme('frost-ed25519');
const rt = <T>(x: T): T => JSON.parse(JSON.stringify(x)) as T;

function errOf(fn: () => unknown): unknown {
  try {
    fn();
  } catch (e) {
    return e;
  }
  throw new Error('expected a throw');
}

function expectCulprit(fn: () => unknown, code: string, culprit: string, msg?: RegExp) {
  const e = errOf(fn);
  expect(e).toBeInstanceOf(CulpritError);
  expect((e as CulpritError).code).toBe(code);
  expect((e as CulpritError).culprit).toBe(culprit);
  if (msg) expect((e as Error).message).toMatch(msg);
}

function expectCode(fn: () => unknown, code: string) {
  const e = errOf(fn);
  expect(e).toBeInstanceOf(ConclaveError);
  expect((e as ConclaveError).code).toBe(code);
}

const spki = (pk: Uint8Array) =>
  createPublicKey({
    key: Buffer.concat([Buffer.from('302a300506032b6570032100', 'hex'), Buffer.from(pk)]),
    format: 'der',
    type: 'spki',
  });

function flipHex(hex: string, byte: number): string {
  const b = fromHex(hex, 'x');
  b[byte] = (b[byte] as number) ^ 0x01;
  return toHex(b);
}

interface Round1Out {
  ids: string[];
  pkgs: Round1Pkg[];
  states: DkgState[];
}

function round1(t: number, n: number): Round1Out {
  const ids = Array.from({ length: n }, (_, i) => identifierFor(S, i + 1));
  const r = ids.map((id) => dkgRound1(S, id, t, n));
  return { ids, pkgs: r.map((x) => rt(x.pkg)), states: r.map((x) => rt(x.state)) };
}

const othersOf = (pkgs: Round1Pkg[], id: string) => rt(pkgs.filter((p) => p.identifier !== id));

interface Party {
  identifier: string;
  signingShare: string;
  public: PublicPackage;
}

function runDkg(t: number, n: number): { parties: Party[]; pkgs: Round1Pkg[] } {
  const { ids, pkgs, states } = round1(t, n);
  const r2 = ids.map((id, i) => {
    const out = dkgRound2(S, states[i] as DkgState, othersOf(pkgs, id));
    return { state: rt(out.state), shares: rt(out.shares) };
  });
  const parties = ids.map((id, j) => {
    const received = ids
      .filter((_, i) => i !== j)
      .map((from) => ({ from, share: r2[ids.indexOf(from)]?.shares[id] as string }));
    return rt(dkgRound3(S, r2[j]?.state as DkgState, othersOf(pkgs, id), received));
  });
  return { parties, pkgs };
}

function sign(parties: Party[], signerIdx: number[], msg: Uint8Array): string {
  const signers = signerIdx.map((i) => parties[i] as Party);
  const commits = signers.map((p) => rt(signCommit(S, p.identifier, p.signingShare)));
  const list = rt(commits.map((c) => c.commitments));
  const shares: Record<string, string> = {};
  signers.forEach((p, k) => {
    shares[p.identifier] = signShare(
      S,
      p.identifier,
      p.signingShare,
      p.public,
      commits[k]?.nonces as { hiding: string; binding: string },
      list,
      msg,
    );
  });
  verifySignatureShares(S, (signers[0] as Party).public, list, msg, shares);
  return aggregateSignature(S, (signers[0] as Party).public, list, msg, rt(shares));
}

function subsets(n: number, k: number): number[][] {
  if (k === 0) return [[]];
  if (n < k) return [];
  return [...subsets(n - 1, k), ...subsets(n - 1, k - 1).map((s) => [...s, n - 1])];
}

function checkKeyset(parties: Party[], pkgs: Round1Pkg[], t: number, n: number) {
  const pub = (parties[0] as Party).public;
  expect(pub.threshold).toBe(t);
  expect(pub.total).toBe(n);
  expect(pub.commitments.length).toBe(t);
  expect(Object.keys(pub.verifyingShares).sort()).toEqual(parties.map((p) => p.identifier).sort());
  const h = dkgTranscriptHash(pkgs, pub);
  for (const p of parties) {
    expect(p.public).toEqual(pub);
    expect(dkgTranscriptHash(rt(pkgs).reverse(), p.public)).toBe(h);
    // Each share matches its published verifying share.
    expect(toHex(S.scalarBaseMult(fromHex(p.signingShare, 's')))).toBe(pub.verifyingShares[p.identifier]);
  }
  // Any t shares reconstruct the group secret for commitments[0] (sanity of the whole DKG).
  const secret = S.frost.combineSecret(
    parties
      .slice(0, t)
      .map((p) => ({ identifier: p.identifier, signingShare: fromHex(p.signingShare, 's') })),
    { min: t, max: n },
  );
  expect(toHex(S.scalarBaseMult(secret))).toBe(pub.commitments[0]);
}

function checkSignature(sigHex: string, msg: Uint8Array, pub: PublicPackage) {
  const sig = fromHex(sigHex, 'sig');
  const pk = fromHex(pub.commitments[0] as string, 'pk');
  expect(sig.length).toBe(64);
  expect(ed25519.verify(sig, msg, pk)).toBe(true);
  expect(ed25519.verify(sig, msg, pk, { zip215: false })).toBe(true);
  expect(nodeVerify(null, msg, spki(pk), sig)).toBe(true);
  expect(nodeVerify(null, utf8('other message'), spki(pk), sig)).toBe(false);
}

describe('FROST DKG + signing through the JSON wrappers', () => {
  it('2-of-3: DKG, then every signer subset produces an Ed25519 signature OpenSSL accepts', () => {
    const { parties, pkgs } = runDkg(2, 3);
    checkKeyset(parties, pkgs, 2, 3);
    const msg = utf8('transfer 1 BTC to bc1q...');
    const sets = [...subsets(3, 2), [0, 1, 2]];
    expect(sets.length).toBe(4);
    for (const set of sets) checkSignature(sign(parties, set, msg), msg, (parties[0] as Party).public);
  });

  it('3-of-5: DKG and several signer subsets', () => {
    const { parties, pkgs } = runDkg(3, 5);
    checkKeyset(parties, pkgs, 3, 5);
    const msg = utf8('3-of-5');
    for (const set of [
      [0, 1, 2],
      [2, 3, 4],
      [0, 2, 4],
      [1, 3, 4],
      [0, 1, 2, 3, 4],
    ]) {
      checkSignature(sign(parties, set, msg), msg, (parties[0] as Party).public);
    }
  });

  it('4-of-7: DKG and several signer subsets', () => {
    const { parties, pkgs } = runDkg(4, 7);
    checkKeyset(parties, pkgs, 4, 7);
    const msg = new Uint8Array(1000).fill(7);
    for (const set of [
      [0, 1, 2, 3],
      [3, 4, 5, 6],
      [0, 2, 4, 6],
      [1, 2, 5, 6, 0],
    ]) {
      checkSignature(sign(parties, set, msg), msg, (parties[0] as Party).public);
    }
  });

  it('two DKGs give independent keys', () => {
    const a = runDkg(2, 3).parties[0] as Party;
    const b = runDkg(2, 3).parties[0] as Party;
    expect(a.public.commitments[0]).not.toBe(b.public.commitments[0]);
  });
});

describe('DKG culprit detection', () => {
  it('names the sender of a round-1 package with a corrupted proof of knowledge', () => {
    const { ids, pkgs, states } = round1(3, 5);
    const bad = rt(pkgs);
    // Flip a byte of the proof's response scalar (low byte, stays a canonical scalar).
    const p3 = bad[3] as Round1Pkg;
    p3.proofOfKnowledge = flipHex(p3.proofOfKnowledge, 32);
    expectCulprit(
      () => dkgRound2(S, states[0] as DkgState, othersOf(bad, ids[0] as string)),
      'BAD_PROOF',
      ids[3] as string,
      /bad proof of knowledge/,
    );
    // The same packages are fine for a party that only sees honest ones... and an honest run still works.
    expect(() => dkgRound2(S, states[0] as DkgState, othersOf(pkgs, ids[0] as string))).not.toThrow();
  });

  it('names the sender when its commitment was swapped for another valid point', () => {
    const { ids, pkgs, states } = round1(2, 3);
    const bad = rt(pkgs);
    (bad[2] as Round1Pkg).commitment[0] = (pkgs[1] as Round1Pkg).commitment[0] as string;
    expectCulprit(
      () => dkgRound2(S, states[0] as DkgState, othersOf(bad, ids[0] as string)),
      'BAD_PROOF',
      ids[2] as string,
    );
  });

  it('names a party that replays another party’s package under its own identifier', () => {
    const { ids, pkgs, states } = round1(2, 4);
    const bad = rt(pkgs);
    bad[1] = { ...(pkgs[2] as Round1Pkg), identifier: ids[1] as string };
    expectCulprit(
      () => dkgRound2(S, states[0] as DkgState, othersOf(bad, ids[0] as string)),
      'BAD_PROOF',
      ids[1] as string,
      /proof of knowledge/,
    );
  });

  it('names the sender of a package with the wrong commitment count or an invalid point', () => {
    const { ids, pkgs, states } = round1(3, 4);
    const short = rt(pkgs);
    (short[1] as Round1Pkg).commitment.pop();
    expectCulprit(
      () => dkgRound2(S, states[0] as DkgState, othersOf(short, ids[0] as string)),
      'BAD_PROOF',
      ids[1] as string,
      /wrong number of commitments \(expected 3, got 2\)/,
    );
    const identity = '01' + '00'.repeat(31);
    const badPoint = rt(pkgs);
    (badPoint[2] as Round1Pkg).commitment[1] = identity;
    expectCulprit(
      () => dkgRound2(S, states[0] as DkgState, othersOf(badPoint, ids[0] as string)),
      'BAD_PROOF',
      ids[2] as string,
      /invalid commitment point/,
    );
    const badHex = rt(pkgs);
    (badHex[3] as Round1Pkg).proofOfKnowledge = 'zz';
    expectCulprit(
      () => dkgRound2(S, states[0] as DkgState, othersOf(badHex, ids[0] as string)),
      'BAD_PROOF',
      ids[3] as string,
      /malformed/,
    );
  });

  it('rejects wrong package counts, duplicates and own identifier as BAD_INPUT', () => {
    const { ids, pkgs, states } = round1(2, 3);
    const s0 = states[0] as DkgState;
    expectCode(() => dkgRound2(S, s0, othersOf(pkgs, ids[0] as string).slice(1)), 'BAD_INPUT');
    expectCode(() => dkgRound2(S, s0, [pkgs[1] as Round1Pkg, pkgs[1] as Round1Pkg]), 'BAD_INPUT');
    expectCode(() => dkgRound2(S, s0, [pkgs[0] as Round1Pkg, pkgs[1] as Round1Pkg]), 'BAD_INPUT');
  });

  it('names the sender of a round-2 share that does not match its commitment', () => {
    const { ids, pkgs, states } = round1(3, 5);
    const r2 = ids.map((id, i) => rt(dkgRound2(S, states[i] as DkgState, othersOf(pkgs, id))));
    const me = ids[0] as string;
    const received = ids
      .slice(1)
      .map((from) => ({ from, share: r2[ids.indexOf(from)]?.shares[me] as string }));
    // Party 2 sends party 0 the share meant for party 1: a valid scalar, wrong evaluation point.
    const bad = rt(received);
    (bad[1] as { share: string }).share = r2[2]?.shares[ids[1] as string] as string;
    expectCulprit(
      () => dkgRound3(S, r2[0]?.state as DkgState, othersOf(pkgs, me), bad),
      'BAD_SHARE',
      ids[2] as string,
      /share does not match its commitment/,
    );
    const malformed = rt(received);
    (malformed[3] as { share: string }).share = 'ff'.repeat(32);
    expectCulprit(
      () => dkgRound3(S, r2[0]?.state as DkgState, othersOf(pkgs, me), malformed),
      'BAD_SHARE',
      ids[4] as string,
      /malformed share/,
    );
    // The honest shares still complete.
    const done = dkgRound3(S, r2[0]?.state as DkgState, othersOf(pkgs, me), received);
    expect(done.identifier).toBe(me);
  });

  it('round 2 is idempotent for the same packages and refuses a different set (equivocation)', () => {
    const { ids, pkgs, states } = round1(2, 3);
    const me = ids[0] as string;
    const first = rt(dkgRound2(S, states[0] as DkgState, othersOf(pkgs, me)));
    const again = dkgRound2(S, first.state, othersOf(pkgs, me).reverse());
    expect(again.shares).toEqual(first.shares);
    const other = round1(2, 3).pkgs; // same identifiers, different polynomials
    expectCode(() => dkgRound2(S, first.state, othersOf(other, me)), 'DISAGREEMENT');
    expectCode(
      () =>
        dkgRound3(
          S,
          first.state,
          othersOf(other, me),
          ids.slice(1).map((from) => ({ from, share: '00'.repeat(32) })),
        ),
      'DISAGREEMENT',
    );
  });

  it('rejects DKG states in the wrong step, for another scheme, or tampered', () => {
    const { ids, pkgs, states } = round1(2, 3);
    const s0 = states[0] as DkgState;
    expectCode(() => dkgRound3(S, s0, othersOf(pkgs, ids[0] as string), []), 'BAD_INPUT');
    expectCode(
      () => dkgRound2(S, { ...s0, scheme: 'frost-secp256k1' }, othersOf(pkgs, ids[0] as string)),
      'BAD_INPUT',
    );
    expectCode(
      () => dkgRound2(S, { ...s0, coefficients: ['zz'] }, othersOf(pkgs, ids[0] as string)),
      'BAD_INPUT',
    );
    expectCode(
      () => dkgRound2(S, { ...s0, identifier: '00'.repeat(32) }, othersOf(pkgs, ids[0] as string)),
      'BAD_INPUT',
    );
  });

  it('validates identifiers and thresholds', () => {
    expect(identifierFor(S, 1)).toBe('01' + '00'.repeat(31));
    expect(identifierFor(S, 258)).toBe('0201' + '00'.repeat(30));
    for (const i of [0, -1, 1.5]) expectCode(() => identifierFor(S, i), 'BAD_INPUT');
    const id = identifierFor(S, 1);
    expectCode(() => dkgRound1(S, id, 1, 3), 'BAD_INPUT');
    expectCode(() => dkgRound1(S, id, 4, 3), 'BAD_INPUT');
    expectCode(() => dkgRound1(S, identifierFor(S, 10).toUpperCase(), 2, 3), 'BAD_INPUT');
  });

  it('dkgTranscriptHash covers every package and the public package', () => {
    const { parties, pkgs } = runDkg(2, 3);
    const pub = (parties[0] as Party).public;
    const h = dkgTranscriptHash(pkgs, pub);
    const p = rt(pkgs);
    (p[1] as Round1Pkg).proofOfKnowledge = flipHex((p[1] as Round1Pkg).proofOfKnowledge, 0);
    expect(dkgTranscriptHash(p, pub)).not.toBe(h);
    expect(dkgTranscriptHash(pkgs.slice(0, 2), pub)).not.toBe(h);
    const other = (runDkg(2, 3).parties[0] as Party).public;
    expect(dkgTranscriptHash(pkgs, { ...pub, verifyingShares: other.verifyingShares })).not.toBe(h);
    expect(dkgTranscriptHash(pkgs, { ...pub, threshold: 3 })).not.toBe(h);
    expectCode(() => dkgTranscriptHash([...pkgs, pkgs[0] as Round1Pkg], pub), 'BAD_INPUT');
  });
});

describe('signing culprits and nonce handling', () => {
  const { parties } = runDkg(2, 3);
  const [p0, p1, p2] = parties as [Party, Party, Party];
  const pub = p0.public;
  const msg = utf8('pay 5');

  function session(ps: Party[]) {
    const commits = ps.map((p) => signCommit(S, p.identifier, p.signingShare));
    const list: SigningCommitment[] = commits.map((c) => c.commitments);
    return { commits, list };
  }

  it('names the signer of a corrupted signature share (verify and aggregate)', () => {
    const { commits, list } = session([p0, p1, p2]);
    const shares: Record<string, string> = {};
    [p0, p1, p2].forEach((p, k) => {
      shares[p.identifier] = signShare(S, p.identifier, p.signingShare, pub, commits[k]!.nonces, list, msg);
    });
    // p1's share replaced by a valid scalar that is not its share.
    const bad = { ...shares, [p1.identifier]: flipHex(shares[p1.identifier] as string, 0) };
    expectCulprit(
      () => verifySignatureShares(S, pub, list, msg, bad),
      'BAD_SHARE',
      p1.identifier,
      /signature share does not verify/,
    );
    expectCulprit(() => aggregateSignature(S, pub, list, msg, bad), 'BAD_SHARE', p1.identifier);
    // A share computed for another message is also caught.
    expectCulprit(
      () => verifySignatureShares(S, pub, list, utf8('pay 6'), shares),
      'BAD_SHARE',
      p0.identifier,
    );
    const malformed = { ...shares, [p2.identifier]: 'ff'.repeat(32) };
    expectCulprit(
      () => verifySignatureShares(S, pub, list, msg, malformed),
      'BAD_SHARE',
      p2.identifier,
      /malformed/,
    );
    expect(() => verifySignatureShares(S, pub, list, msg, shares)).not.toThrow();
    checkSignature(aggregateSignature(S, pub, list, msg, shares), msg, pub);
  });

  it('rejects missing or extra shares as BAD_INPUT', () => {
    const { commits, list } = session([p0, p1]);
    const shares: Record<string, string> = {};
    [p0, p1].forEach((p, k) => {
      shares[p.identifier] = signShare(S, p.identifier, p.signingShare, pub, commits[k]!.nonces, list, msg);
    });
    expectCode(
      () => verifySignatureShares(S, pub, list, msg, { [p0.identifier]: shares[p0.identifier] as string }),
      'BAD_INPUT',
    );
    expectCode(
      () => aggregateSignature(S, pub, list, msg, { ...shares, [p2.identifier]: '00'.repeat(32) }),
      'BAD_INPUT',
    );
  });

  it('refuses nonces that do not match the signer’s own commitment, or a missing own commitment', () => {
    const { commits, list } = session([p0, p1]);
    const mine = commits[0]!;
    expectCode(
      () => signShare(S, p0.identifier, p0.signingShare, pub, commits[1]!.nonces, list, msg),
      'BAD_INPUT',
    );
    const { list: other } = session([p1, p2]);
    expectCode(() => signShare(S, p0.identifier, p0.signingShare, pub, mine.nonces, other, msg), 'BAD_INPUT');
    // Someone else's share with my identifier is refused before signing.
    expectCode(() => signShare(S, p0.identifier, p1.signingShare, pub, mine.nonces, list, msg), 'BAD_INPUT');
  });

  it('consumed nonces are refused with NONCE_REUSE; commitmentId lets the store detect reuse', () => {
    const { commits, list } = session([p0, p1]);
    const mine = commits[0]!;
    const share = signShare(S, p0.identifier, p0.signingShare, pub, mine.nonces, list, msg);
    expect(share).toMatch(/^[0-9a-f]{64}$/);
    const consumed = consumeNonces(mine.nonces);
    expect(consumed.hiding).toBe('0'.repeat(64));
    expectCode(
      () => signShare(S, p0.identifier, p0.signingShare, pub, consumed, list, utf8('other')),
      'NONCE_REUSE',
    );
    // The id of a commitment is stable (same nonces => same id) and distinct per signCommit call.
    expect(commitmentId(rt(mine.commitments))).toBe(commitmentId(mine.commitments));
    const fresh = signCommit(S, p0.identifier, p0.signingShare);
    expect(fresh.nonces.hiding).not.toBe(mine.nonces.hiding);
    expect(commitmentId(fresh.commitments)).not.toBe(commitmentId(mine.commitments));
  });

  it('validateCommitment names the sender of an invalid nonce commitment', () => {
    const { list } = session([p0, p1]);
    const bad = { ...(list[1] as SigningCommitment), hiding: '01' + '00'.repeat(31) };
    expectCulprit(() => validateCommitment(S, bad), 'TAMPERED', p1.identifier, /invalid nonce commitment/);
    expectCulprit(() => verifySignatureShares(S, pub, [list[0]!, bad], msg, {}), 'TAMPERED', p1.identifier);
    expect(() => validateCommitment(S, list[0]!)).not.toThrow();
  });

  it('rejects commitment lists that are too short, duplicated, or name non-participants', () => {
    const { commits, list } = session([p0, p1]);
    const n = commits[0]!.nonces;
    expectCode(() => signShare(S, p0.identifier, p0.signingShare, pub, n, [list[0]!], msg), 'BAD_INPUT');
    expectCode(
      () => signShare(S, p0.identifier, p0.signingShare, pub, n, [list[0]!, list[0]!], msg),
      'BAD_INPUT',
    );
    const stranger = { ...list[1]!, identifier: identifierFor(S, 9) };
    expectCode(
      () => signShare(S, p0.identifier, p0.signingShare, pub, n, [list[0]!, stranger], msg),
      'BAD_INPUT',
    );
  });

  it('aggregate refuses an inconsistent public package', () => {
    const { commits, list } = session([p0, p1]);
    const shares: Record<string, string> = {};
    [p0, p1].forEach((p, k) => {
      shares[p.identifier] = signShare(S, p.identifier, p.signingShare, pub, commits[k]!.nonces, list, msg);
    });
    const otherKey = (runDkg(2, 3).parties[0] as Party).public.commitments[0] as string;
    const lying: PublicPackage = { ...pub, commitments: [otherKey, pub.commitments[1] as string] };
    const e = errOf(() => aggregateSignature(S, lying, list, msg, shares));
    expect(e).toBeInstanceOf(ConclaveError);
  });
});
