import { beforeAll, describe, expect, it } from 'vitest';
import { fromHex, toHex, utf8 } from '../../src/crypto/encoding.js';
import {
  aggregateSignature,
  identifierFor,
  signCommit,
  signShare,
  type PublicPackage,
} from '../../src/crypto/frost.js';
import {
  reshareDeal,
  resharePublic,
  reshareReceive,
  verifyReshareCommitment,
  type ReshareDeal,
} from '../../src/crypto/reshare.js';
import { getScheme, type Scheme } from '../../src/crypto/schemes.js';

import { expectCode, expectCulprit, rt, runDkg, type Party } from './frost-fixtures.js';

/** Signs with the given parties (each with its own public package); returns the signature hex. */
function sign(S: Scheme, signers: Party[], msg: Uint8Array, pub: PublicPackage): string {
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
  return aggregateSignature(S, pub, list, msg, shares);
}

function subsets<T>(xs: T[], k: number): T[][] {
  if (k === 0) return [[]];
  if (xs.length < k) return [];
  const [h, ...rest] = xs as [T, ...T[]];
  return [...subsets(rest, k - 1).map((s) => [h, ...s]), ...subsets(rest, k)];
}

/** Every t-subset (and the whole committee) signs a message that verifies under `groupKey`. */
function checkAllSubsetsSign(S: Scheme, parties: Party[], groupKey: string) {
  const t = parties[0]!.public.threshold;
  const sets = [...subsets(parties, t), ...(parties.length > t ? [parties] : [])];
  const msg = utf8(`reshared ${t}-of-${parties.length}`);
  for (const set of sets) {
    const sig = sign(S, set, msg, set[0]!.public);
    expect(S.verify(fromHex(sig, 'sig'), msg, fromHex(groupKey, 'key'))).toBe(true);
    expect(S.verify(fromHex(sig, 'sig'), utf8('other'), fromHex(groupKey, 'key'))).toBe(false);
  }
  return sets.length;
}

interface Reshared {
  deals: Record<string, ReshareDeal>;
  parties: Party[];
}

/** Runs a whole honest reshare among `dealers` (old parties) to `newIds` with threshold `t`. */
function reshare(S: Scheme, old: Party[], dealerIds: string[], t: number, newIds: string[]): Reshared {
  const oldPub = old[0]!.public;
  const deals: Record<string, ReshareDeal> = {};
  for (const id of dealerIds) {
    const p = old.find((q) => q.identifier === id)!;
    deals[id] = rt(reshareDeal(S, oldPub, dealerIds, id, p.signingShare, t, newIds));
  }
  const parties = newIds.map((j) => {
    const received = Object.fromEntries(
      dealerIds.map((i) => [i, { commitment: deals[i]!.commitment, share: deals[i]!.shares[j]! }]),
    );
    const r = reshareReceive(S, oldPub, dealerIds, t, newIds, j, received);
    return { identifier: j, signingShare: r.signingShare, public: r.public };
  });
  return { deals, parties };
}

const commitmentsOf = (deals: Record<string, ReshareDeal>) =>
  Object.fromEntries(Object.entries(deals).map(([i, d]) => [i, d.commitment]));

describe.each(['frost-ed25519', 'frost-secp256k1', 'frost-taproot'])('reshare (%s)', (name) => {
  const S = getScheme(name);
  const id = (n: number) => identifierFor(S, n);
  let old: Party[];
  let oldPub: PublicPackage;
  let groupKey: string;

  beforeAll(() => {
    old = runDkg(S, 2, 3);
    oldPub = old[0]!.public;
    groupKey = oldPub.commitments[0]!;
  });

  it('rotation 2-of-3: same key, new shares, every subset signs, old and new shares do not mix', () => {
    const ids = [id(1), id(2), id(3)];
    const { deals, parties } = reshare(S, old, [id(1), id(3)], 2, ids);
    const pub = parties[0]!.public;
    expect(pub.threshold).toBe(2);
    expect(pub.total).toBe(3);
    expect(pub.commitments[0]).toBe(groupKey);
    expect(pub.commitments[1]).not.toBe(oldPub.commitments[1]);
    // Every receiver and a bystander compute the same package, byte for byte (JSON key order
    // included, so it can be hashed and compared), whatever order the lists are given in.
    const json = JSON.stringify(pub);
    for (const p of parties) expect(JSON.stringify(p.public)).toBe(json);
    const bystander = resharePublic(S, oldPub, [id(3), id(1)], 2, [...ids].reverse(), commitmentsOf(deals));
    expect(JSON.stringify(bystander)).toBe(json);
    for (const p of parties) {
      const before = old.find((q) => q.identifier === p.identifier)!;
      expect(p.signingShare).not.toBe(before.signingShare);
      expect(pub.verifyingShares[p.identifier]).not.toBe(oldPub.verifyingShares[p.identifier]);
      expect(toHex(S.scalarBaseMult(fromHex(p.signingShare, 's')))).toBe(pub.verifyingShares[p.identifier]);
    }
    expect(checkAllSubsetsSign(S, parties, groupKey)).toBe(4);

    // An old share and a new share: each signs validly under its own package, but they do not
    // combine. The shares are computed outside the assertion so only aggregation can fail.
    const msg = utf8('mix');
    const mixed = [old[0]!, parties[1]!];
    const commits = mixed.map((p) => signCommit(S, p.identifier, p.signingShare));
    const list = commits.map((c) => c.commitments);
    const shares = Object.fromEntries(
      mixed.map((p, k) => [
        p.identifier,
        signShare(S, p.identifier, p.signingShare, p.public, commits[k]!.nonces, list, msg),
      ]),
    );
    expectCulprit(() => aggregateSignature(S, pub, list, msg, shares), 'BAD_SHARE', id(1));
    expectCulprit(() => aggregateSignature(S, oldPub, list, msg, shares), 'BAD_SHARE', id(2));
  });

  it('2-of-3 → 3-of-5 → 2-of-3 with another dealer subset', () => {
    const five = [1, 2, 3, 4, 5].map(id);
    const up = reshare(S, old, [id(2), id(3)], 3, five).parties;
    const pub5 = up[0]!.public;
    expect(pub5.threshold).toBe(3);
    expect(pub5.total).toBe(5);
    expect(pub5.commitments.length).toBe(3);
    expect(pub5.commitments[0]).toBe(groupKey);
    // Any 3 new shares interpolate to the group secret; 2 of them do not.
    const secretOf = (ps: Party[], t: number) =>
      toHex(
        S.scalarBaseMult(
          S.frost.combineSecret(
            ps.map((p) => ({ identifier: p.identifier, signingShare: fromHex(p.signingShare, 's') })),
            { min: t, max: 5 },
          ),
        ),
      );
    expect(secretOf([up[0]!, up[2]!, up[4]!], 3)).toBe(groupKey);
    expect(secretOf([up[0]!, up[2]!], 2)).not.toBe(groupKey);
    expect(checkAllSubsetsSign(S, up, groupKey)).toBe(11);

    const three = [1, 2, 3].map(id);
    const down = reshare(S, up, [id(5), id(2), id(4)], 2, three).parties;
    expect(down[0]!.public.threshold).toBe(2);
    expect(down[0]!.public.total).toBe(3);
    expect(down[0]!.public.commitments[0]).toBe(groupKey);
    expect(checkAllSubsetsSign(S, down, groupKey)).toBe(4);
  });

  it('replaces party 3 by party 4', () => {
    const ids = [id(1), id(2), id(4)];
    const { parties } = reshare(S, old, [id(2), id(3)], 2, ids);
    const pub = parties[0]!.public;
    expect(Object.keys(pub.verifyingShares).sort()).toEqual([...ids].sort());
    expect(pub.verifyingShares[id(3)]).toBeUndefined();
    expect(checkAllSubsetsSign(S, parties, groupKey)).toBe(4);
  });

  it('names a dealer that reshares something other than λ_i·s_i', () => {
    const dealers = [id(1), id(2)];
    const ids = [id(1), id(2), id(3)];
    const honest = rt(reshareDeal(S, oldPub, dealers, id(1), old[0]!.signingShare, 2, ids));
    // Dealer 2 deals a consistent polynomial for another key's share: its Feldman checks pass, the
    // G_20 = λ_2·Y_2 check does not.
    const other = runDkg(S, 2, 3);
    const rogue = rt(reshareDeal(S, other[0]!.public, dealers, id(2), other[1]!.signingShare, 2, ids));
    expectCulprit(
      () => verifyReshareCommitment(S, oldPub, dealers, id(2), rogue.commitment, 2),
      'BAD_PROOF',
      id(2),
      /does not match the dealer/,
    );
    expect(() => verifyReshareCommitment(S, oldPub, dealers, id(1), honest.commitment, 2)).not.toThrow();
    const received = {
      [id(1)]: { commitment: honest.commitment, share: honest.shares[id(3)]! },
      [id(2)]: { commitment: rogue.commitment, share: rogue.shares[id(3)]! },
    };
    expectCulprit(() => reshareReceive(S, oldPub, dealers, 2, ids, id(3), received), 'BAD_PROOF', id(2));
    expectCulprit(
      () =>
        resharePublic(S, oldPub, dealers, 2, ids, { [id(1)]: honest.commitment, [id(2)]: rogue.commitment }),
      'BAD_PROOF',
      id(2),
    );
    // Wrong length, the identity, or garbage as a commitment point.
    const identity = S.curve === 'ed25519' ? '01' + '00'.repeat(31) : '00';
    for (const c of [
      honest.commitment.slice(0, 1),
      [...honest.commitment, honest.commitment[1]!],
      [identity, honest.commitment[1]!],
      [honest.commitment[0]!, 'zz'],
    ]) {
      expectCulprit(() => verifyReshareCommitment(S, oldPub, dealers, id(1), c, 2), 'BAD_PROOF', id(1));
    }
  });

  it('names a dealer whose sub-share does not match its commitment', () => {
    const dealers = [id(1), id(2), id(3)];
    const ids = [id(1), id(2), id(3), id(4)];
    const deals = dealers.map((i, k) => rt(reshareDeal(S, oldPub, dealers, i, old[k]!.signingShare, 3, ids)));
    const me = id(4);
    const received = () =>
      Object.fromEntries(
        dealers.map((i, k) => [i, { commitment: deals[k]!.commitment, share: deals[k]!.shares[me]! }]),
      );
    const swapped = received();
    swapped[id(2)]!.share = deals[1]!.shares[id(1)]!; // a valid scalar meant for someone else
    expectCulprit(
      () => reshareReceive(S, oldPub, dealers, 3, ids, me, swapped),
      'BAD_SHARE',
      id(2),
      /does not match its commitment/,
    );
    const malformed = received();
    malformed[id(3)]!.share = 'ff'.repeat(32);
    expectCulprit(
      () => reshareReceive(S, oldPub, dealers, 3, ids, me, malformed),
      'BAD_SHARE',
      id(3),
      /malformed/,
    );
    const r = reshareReceive(S, oldPub, dealers, 3, ids, me, received());
    const byDealer = Object.fromEntries(dealers.map((i, k) => [i, deals[k]!.commitment]));
    expect(r.public).toEqual(resharePublic(S, oldPub, dealers, 3, ids, byDealer));
  });

  it('reports DISAGREEMENT when the old package does not interpolate to its group key', () => {
    const dealers = [id(1), id(2)];
    const ids = [id(1), id(2), id(3)];
    const deals = dealers.map((i, k) => reshareDeal(S, oldPub, dealers, i, old[k]!.signingShare, 2, ids));
    const lying: PublicPackage = { ...oldPub, commitments: [oldPub.commitments[1]!, oldPub.commitments[0]!] };
    expectCode(
      () =>
        resharePublic(S, lying, dealers, 2, ids, {
          [id(1)]: deals[0]!.commitment,
          [id(2)]: deals[1]!.commitment,
        }),
      'DISAGREEMENT',
    );
  });

  it('validates its inputs', () => {
    const all = [id(1), id(2), id(3)];
    const s1 = old[0]!.signingShare;
    const deal = (dealers: string[], t: number, ids: string[], dealer = id(1), share = s1) =>
      reshareDeal(S, oldPub, dealers, dealer, share, t, ids);
    expectCode(() => deal([id(1), id(4)], 2, all), 'BAD_INPUT', /not a participant/);
    expectCode(() => deal([id(1), id(1)], 2, all), 'BAD_INPUT', /duplicate/);
    expectCode(() => deal([id(1)], 2, all), 'BAD_INPUT', /at least 2 dealers/);
    expectCode(() => deal([id(1), id(2)], 1, all), 'BAD_INPUT', /threshold/);
    expectCode(() => deal([id(1), id(2)], 4, all), 'BAD_INPUT', /threshold/);
    expectCode(() => deal([id(1), id(2)], 2.5, all), 'BAD_INPUT', /threshold/);
    expectCode(() => deal([id(1), id(2)], 2, [id(1), id(2), id(2)]), 'BAD_INPUT', /duplicate/);
    expectCode(() => deal([id(1), id(2)], 2, [id(1), '00'.repeat(32)]), 'BAD_INPUT', /canonical/);
    expectCode(() => deal([id(1), id(2)], 2, [id(1), id(10).toUpperCase()]), 'BAD_INPUT', /canonical/);
    expectCode(() => deal([id(1), id(2)], 2, all, id(3)), 'BAD_INPUT', /not among the dealers/);
    expectCode(() => deal([id(1), id(2)], 2, all, id(2)), 'BAD_INPUT', /does not match/);
    expectCode(() => deal([id(1), id(2)], 2, all, id(1), 'zz'), 'BAD_INPUT');

    const dealers = [id(1), id(2)];
    const deals = dealers.map((i, k) => reshareDeal(S, oldPub, dealers, i, old[k]!.signingShare, 2, all));
    const rec = (ds: string[]) =>
      Object.fromEntries(
        ds.map((i) => [i, { commitment: deals[0]!.commitment, share: deals[0]!.shares[id(1)]! }]),
      );
    expectCode(() => reshareReceive(S, oldPub, dealers, 2, all, id(1), rec([id(1)])), 'BAD_INPUT', /missing/);
    expectCode(
      () => reshareReceive(S, oldPub, dealers, 2, all, id(1), rec([id(1), id(2), id(3)])),
      'BAD_INPUT',
      /not a dealer/,
    );
    expectCode(
      () => reshareReceive(S, oldPub, dealers, 2, all, id(5), rec(dealers)),
      'BAD_INPUT',
      /own identifier/,
    );
    expectCode(
      () => resharePublic(S, oldPub, dealers, 2, all, { [id(1)]: deals[0]!.commitment }),
      'BAD_INPUT',
      /missing/,
    );
    expectCode(() => resharePublic(S, { ...oldPub, threshold: 1 }, dealers, 2, all, {}), 'BAD_INPUT');
  });
});
