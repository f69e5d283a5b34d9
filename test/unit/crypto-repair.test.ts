import { beforeAll, describe, expect, it } from 'vitest';
import { fromHex, toHex, utf8 } from '../../src/crypto/encoding.js';
import {
  aggregateSignature,
  identifierFor,
  signCommit,
  signShare,
  type PublicPackage,
} from '../../src/crypto/frost.js';
import { repairStep1, repairStep2, repairStep3, verifyRepairCommitments } from '../../src/crypto/repair.js';
import { getScheme, type Scheme } from '../../src/crypto/schemes.js';

import { expectCode, expectCulprit, rt, runDkg, type Party } from './frost-fixtures.js';

function sign(S: Scheme, signers: Party[], msg: Uint8Array): string {
  const commits = signers.map((p) => signCommit(S, p.identifier, p.signingShare));
  const list = commits.map((c) => c.commitments);
  const shares: Record<string, string> = {};
  signers.forEach((p, k) => {
    shares[p.identifier] = signShare(
      S,
      p.identifier,
      p.signingShare,
      p.public,
      commits[k]!.nonces,
      list,
      msg,
    );
  });
  return aggregateSignature(S, signers[0]!.public, list, msg, shares);
}

type Step1 = ReturnType<typeof repairStep1>;

/** Everything an honest repair produces, so tests can tamper with one message at a time. */
function honestRepair(S: Scheme, parties: Party[], helpers: string[], lostId: string) {
  const pub = parties[0]!.public;
  const shareOf = (id: string) => parties.find((p) => p.identifier === id)!.signingShare;
  const step1: Record<string, Step1> = {};
  for (const i of helpers) step1[i] = rt(repairStep1(S, pub, helpers, lostId, i, shareOf(i)));
  const receivedBy = (j: string) =>
    Object.fromEntries(
      helpers.map((i) => [i, { piece: step1[i]!.pieces[j]!, commitments: step1[i]!.commitments }]),
    );
  const sigmas: Record<string, string> = {};
  for (const j of helpers) sigmas[j] = repairStep2(S, pub, helpers, lostId, j, receivedBy(j)).sigma;
  const commitments = Object.fromEntries(helpers.map((i) => [i, step1[i]!.commitments]));
  return { pub, step1, receivedBy, sigmas, commitments };
}

describe.each(['frost-ed25519', 'frost-secp256k1', 'frost-taproot'])('repair (%s)', (name) => {
  const S = getScheme(name);
  const id = (n: number) => identifierFor(S, n);
  const Fn = S.frost.utils.Fn;
  let k23: Party[];
  let k35: Party[];

  beforeAll(() => {
    k23 = runDkg(S, 2, 3);
    k35 = runDkg(S, 3, 5);
  });

  /** Repairs every share from each helper set chosen by `helperSets`, checking all guarantees. */
  function repairAll(parties: Party[], helperSets: (others: string[]) => string[][]): number {
    const before = rt(parties);
    const pub = parties[0]!.public;
    let count = 0;
    for (const lost of parties) {
      const others = parties.filter((p) => p !== lost).map((p) => p.identifier);
      for (const helpers of helperSets(others)) {
        const h = honestRepair(S, parties, helpers, lost.identifier);
        const { signingShare } = repairStep3(S, pub, helpers, lost.identifier, h.sigmas, h.commitments);
        expect(signingShare).toBe(lost.signingShare);
        // The helpers' pieces are fresh randomness: no sigma equals the lost share or a helper share.
        for (const s of Object.values(h.sigmas)) {
          expect(s).not.toBe(lost.signingShare);
          expect(parties.map((p) => p.signingShare)).not.toContain(s);
        }
        // The repaired share signs together with t−1 others.
        const repaired: Party = { identifier: lost.identifier, signingShare, public: pub };
        const cosigners = parties.filter((p) => p !== lost).slice(0, pub.threshold - 1);
        const msg = utf8(`repaired ${lost.identifier}`);
        const sig = sign(S, [repaired, ...cosigners], msg);
        expect(S.verify(fromHex(sig, 'sig'), msg, fromHex(pub.commitments[0]!, 'key'))).toBe(true);
        count++;
      }
    }
    // Nobody's share or public package changed.
    expect(parties).toEqual(before);
    return count;
  }

  it('2-of-3: every share is rebuilt byte for byte from the other two', () => {
    expect(repairAll(k23, (others) => [others])).toBe(3);
  });

  it('3-of-5: every share is rebuilt from exactly 3 and from 4 helpers', () => {
    expect(repairAll(k35, (others) => [others.slice(1), others.slice(0, 3)])).toBe(10);
  });

  it('names a helper whose split does not add up to λ_i·s_i', () => {
    const helpers = [id(1), id(3), id(4)];
    const lost = id(5);
    const h = honestRepair(S, k35, helpers, lost);
    const pub = h.pub;
    // Helper 3 adds 1 to the piece for helper 4 and commits to it consistently: the piece check at
    // helper 4 passes, only the sum check names helper 3.
    const bad = rt(h.step1[id(3)]!);
    const p = Fn.add(Fn.fromBytes(fromHex(bad.pieces[id(4)]!, 'p')), 1n);
    bad.pieces[id(4)] = toHex(Fn.toBytes(p));
    bad.commitments[id(4)] = toHex(S.scalarBaseMult(Fn.toBytes(p)));
    expectCulprit(
      () => verifyRepairCommitments(S, pub, helpers, lost, id(3), bad.commitments),
      'BAD_PROOF',
      id(3),
      /do not add up/,
    );
    expect(() =>
      verifyRepairCommitments(S, pub, helpers, lost, id(3), h.step1[id(3)]!.commitments),
    ).not.toThrow();
    const rec = h.receivedBy(id(4));
    rec[id(3)] = { piece: bad.pieces[id(4)]!, commitments: bad.commitments };
    expectCulprit(() => repairStep2(S, pub, helpers, lost, id(4), rec), 'BAD_PROOF', id(3));
    expectCulprit(
      () => repairStep3(S, pub, helpers, lost, h.sigmas, { ...h.commitments, [id(3)]: bad.commitments }),
      'BAD_PROOF',
      id(3),
    );
    // Malformed commitments: missing entry, invalid point.
    const { [id(1)]: _dropped, ...short } = h.step1[id(3)]!.commitments;
    expectCulprit(() => verifyRepairCommitments(S, pub, helpers, lost, id(3), short), 'BAD_PROOF', id(3));
    const garbage = { ...h.step1[id(3)]!.commitments, [id(1)]: 'zz' };
    expectCulprit(() => verifyRepairCommitments(S, pub, helpers, lost, id(3), garbage), 'BAD_PROOF', id(3));
  });

  it('step 2 names a helper that sends a piece not matching its commitment', () => {
    const helpers = [id(2), id(3), id(5)];
    const lost = id(1);
    const h = honestRepair(S, k35, helpers, lost);
    const rec = h.receivedBy(id(5));
    rec[id(2)]!.piece = h.step1[id(2)]!.pieces[id(3)]!; // the piece meant for helper 3
    expectCulprit(
      () => repairStep2(S, h.pub, helpers, lost, id(5), rec),
      'BAD_SHARE',
      id(2),
      /does not match its commitment/,
    );
    const malformed = h.receivedBy(id(5));
    malformed[id(3)]!.piece = 'ff'.repeat(32);
    expectCulprit(
      () => repairStep2(S, h.pub, helpers, lost, id(5), malformed),
      'BAD_SHARE',
      id(3),
      /malformed/,
    );
    expect(repairStep2(S, h.pub, helpers, lost, id(5), h.receivedBy(id(5))).sigma).toBe(h.sigmas[id(5)]);
  });

  it('step 3 names a helper that sends a wrong sigma, and DISAGREEMENT for an inconsistent package', () => {
    const helpers = [id(2), id(3)];
    const lost = id(1);
    const h = honestRepair(S, k23, helpers, lost);
    expectCulprit(
      () => repairStep3(S, h.pub, helpers, lost, { ...h.sigmas, [id(3)]: h.sigmas[id(2)]! }, h.commitments),
      'BAD_SHARE',
      id(3),
      /sigma does not match/,
    );
    expectCulprit(
      () => repairStep3(S, h.pub, helpers, lost, { ...h.sigmas, [id(2)]: '00'.repeat(32) }, h.commitments),
      'BAD_SHARE',
      id(2),
    );
    // A package whose Y_1 is not f(x_1): every message checks out but the result does not match.
    const lying: PublicPackage = {
      ...h.pub,
      verifyingShares: { ...h.pub.verifyingShares, [lost]: h.pub.commitments[1]! },
    };
    expectCode(() => repairStep3(S, lying, helpers, lost, h.sigmas, h.commitments), 'DISAGREEMENT');
  });

  it('validates its inputs', () => {
    const pub = k35[0]!.public;
    const s = (n: number) => k35[n - 1]!.signingShare;
    const step1 = (helpers: string[], lost: string, helper = helpers[0]!, share = s(1)) =>
      repairStep1(S, pub, helpers, lost, helper, share);
    expectCode(() => step1([id(1), id(2)], id(5)), 'BAD_INPUT', /at least 3 helpers/);
    expectCode(() => step1([id(1), id(2), id(5)], id(5)), 'BAD_INPUT', /cannot be a helper/);
    expectCode(() => step1([id(1), id(2), id(2)], id(5)), 'BAD_INPUT', /duplicate/);
    expectCode(() => step1([id(1), id(2), id(6)], id(5)), 'BAD_INPUT', /not a participant/);
    expectCode(() => step1([id(1), id(2), id(3)], id(6)), 'BAD_INPUT', /not a participant/);
    expectCode(() => step1([id(1), id(2), id(3)], '00'.repeat(32)), 'BAD_INPUT', /canonical/);
    expectCode(() => step1([id(1), id(2), id(3)], id(5), id(4)), 'BAD_INPUT', /not among the helpers/);
    expectCode(() => step1([id(1), id(2), id(3)], id(5), id(2)), 'BAD_INPUT', /does not match/);
    const h = honestRepair(S, k35, [id(1), id(2), id(3)], id(5));
    const helpers = [id(1), id(2), id(3)];
    const { [id(2)]: _a, ...twoSigmas } = h.sigmas;
    expectCode(() => repairStep3(S, pub, helpers, id(5), twoSigmas, h.commitments), 'BAD_INPUT', /missing/);
    expectCode(
      () => repairStep3(S, pub, helpers, id(5), { ...h.sigmas, [id(4)]: h.sigmas[id(1)]! }, h.commitments),
      'BAD_INPUT',
      /non-helper/,
    );
    const { [id(3)]: _b, ...twoPieces } = h.receivedBy(id(1));
    expectCode(() => repairStep2(S, pub, helpers, id(5), id(1), twoPieces), 'BAD_INPUT', /missing/);
    expectCode(() => repairStep2(S, pub, helpers, id(5), id(4), h.receivedBy(id(1))), 'BAD_INPUT');
  });
});
