import { describe, expect, it } from 'vitest';
import { ConclaveError, CulpritError } from '../../src/errors.js';
import { utf8 } from '../../src/crypto/encoding.js';
import { identifierFor } from '../../src/crypto/frost.js';
import {
  stableStringify,
  zeroSeedsFinish,
  zeroSeedsRound1,
  zeroSeedsRound2,
  zeroShare,
  zeroShareTerms,
  type ZeroSeedCommitMsg,
} from '../../src/crypto/ecdsa/zero-share.js';
import { agreeZeroSeeds, Fn, rt, S, seedFor, subsets } from './ecdsa-sign-fixtures.js';

const ids = Array.from({ length: 5 }, (_, i) => identifierFor(S, i + 1));
const [A, B, C] = ids as [string, string, string];

function throws(f: () => unknown): unknown {
  try {
    f();
  } catch (e) {
    return e;
  }
  throw new Error('expected a throw');
}

function expectCulprit(e: unknown, code: string, culprit: string) {
  expect(e).toBeInstanceOf(CulpritError);
  expect((e as CulpritError).code).toBe(code);
  expect((e as CulpritError).culprit).toBe(culprit);
}

function expectCode(e: unknown, code: string) {
  expect(e).toBeInstanceOf(ConclaveError);
  expect((e as ConclaveError).code).toBe(code);
}

describe('zero-sharing', () => {
  const seeds = agreeZeroSeeds(ids);

  it('pairwise seed agreement gives both members of a pair the same seed, a different one per pair', () => {
    const all = new Set<string>();
    for (const i of ids) {
      for (const j of ids) {
        if (i === j) continue;
        expect(seeds[i]![j]).toMatch(/^[0-9a-f]{64}$/);
        expect(seeds[i]![j]).toBe(seeds[j]![i]);
        all.add(seeds[i]![j]!);
      }
    }
    expect(all.size).toBe((ids.length * (ids.length - 1)) / 2);
    // deterministic in the seeds, bound to the context
    expect(agreeZeroSeeds(ids)).toEqual(seeds);
    expect(agreeZeroSeeds(ids, 'beef')[A]![B]).not.toBe(seeds[A]![B]);
  });

  it('zero shares of every signer subset sum to zero, fresh per session', () => {
    for (const sid of [utf8('session-1'), utf8('session-2')]) {
      for (let k = 2; k <= ids.length; k++) {
        for (const set of subsets(ids, k)) {
          const shares = set.map((i) => zeroShare(i, seeds[i]!, set, sid));
          expect(shares.reduce((a, b) => Fn.add(a, b), 0n)).toBe(0n);
          expect(shares.every((z) => z !== 0n)).toBe(true);
          // pairwise terms cancel one by one
          const terms = new Map(set.map((i) => [i, zeroShareTerms(i, seeds[i]!, set, sid)]));
          for (const i of set)
            for (const j of set) if (i !== j) expect(Fn.add(terms.get(i)![j]!, terms.get(j)![i]!)).toBe(0n);
        }
      }
    }
    const set = [A, B, C];
    expect(zeroShare(A, seeds[A]!, set, utf8('s1'))).not.toBe(zeroShare(A, seeds[A]!, set, utf8('s2')));
    expect(() => zeroShare(A, { [B]: seeds[A]![B]! }, set, utf8('s1'))).toThrow(/missing zero-share seed/);
    expect(() => zeroShare(A, seeds[A]!, [B, C], utf8('s1'))).toThrow(/include this party/);
  });

  it('a reveal that does not open its commitment names the revealer', () => {
    const a1 = zeroSeedsRound1(A, [B], 'c0ffee', seedFor(A, 'z'));
    const b1 = zeroSeedsRound1(B, [A], 'c0ffee', seedFor(B, 'z'));
    const a2 = zeroSeedsRound2(a1.state, [rt(b1.messages[A]!)]);
    const b2 = zeroSeedsRound2(b1.state, [rt(a1.messages[B]!)]);
    const forged = { ...b2.messages[A]!, contribution: 'ab'.repeat(32) };
    expectCulprit(
      throws(() => zeroSeedsFinish(a2.state, [forged])),
      'BAD_PROOF',
      B,
    );
    // the honest reveal works and both sides agree
    expect(zeroSeedsFinish(a2.state, [b2.messages[A]!])[B]).toBe(
      zeroSeedsFinish(b2.state, [a2.messages[B]!])[A],
    );
    // a peer may not swap its commitment after seeing ours revealed: a retry must answer the same ones
    const swapped: ZeroSeedCommitMsg = { ...b1.messages[A]!, commitment: 'ab'.repeat(32) };
    expectCode(
      throws(() => zeroSeedsRound2(a2.state, [swapped])),
      'DISAGREEMENT',
    );
    expect(zeroSeedsRound2(a2.state, [b1.messages[A]!]).messages).toEqual(a2.messages);
    // foreign context, misaddressed, wrong kind
    expectCulprit(
      throws(() => zeroSeedsRound2(a1.state, [{ ...b1.messages[A]!, context: 'beef' }])),
      'REPLAY',
      B,
    );
    expectCulprit(
      throws(() => zeroSeedsRound2(a1.state, [{ ...b1.messages[A]!, to: C }])),
      'TAMPERED',
      B,
    );
    expectCode(
      throws(() => zeroSeedsFinish(a1.state, [b2.messages[A]!])),
      'BAD_INPUT',
    );
    expectCode(
      throws(() => zeroSeedsRound1(A, [A], 'c0ffee', seedFor(A, 'z'))),
      'BAD_INPUT',
    );
    expectCode(
      throws(() => zeroSeedsRound1(A, [B], 'c0ffee', new Uint8Array(4))),
      'BAD_INPUT',
    );
  });

  it('stableStringify ignores key order (used for retry digests of opaque multiplier messages)', () => {
    expect(stableStringify({ b: 1, a: [{ y: 2, x: 'q' }] })).toBe(
      stableStringify({ a: [{ x: 'q', y: 2 }], b: 1 }),
    );
    expect(stableStringify({ a: 1 })).not.toBe(stableStringify({ a: '1' }));
    expect(() => stableStringify(1n)).toThrow();
  });
});
