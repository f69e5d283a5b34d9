/** Fixtures shared by the unit tests of protocols built on a FROST key: an in-process DKG and error checks. */
import { expect } from 'vitest';
import { ConclaveError, CulpritError } from '../../src/errors.js';
import {
  dkgRound1,
  dkgRound2,
  dkgRound3,
  identifierFor,
  type PublicPackage,
} from '../../src/crypto/frost.js';
import type { Scheme } from '../../src/crypto/schemes.js';

export const rt = <T>(x: T): T => JSON.parse(JSON.stringify(x)) as T;

export interface Party {
  identifier: string;
  signingShare: string;
  public: PublicPackage;
}

export function errOf(fn: () => unknown): unknown {
  try {
    fn();
  } catch (e) {
    return e;
  }
  throw new Error('expected a throw');
}

export function expectCulprit(fn: () => unknown, code: string, culprit: string, msg?: RegExp) {
  const e = errOf(fn);
  expect(e).toBeInstanceOf(CulpritError);
  expect((e as CulpritError).code).toBe(code);
  expect((e as CulpritError).culprit).toBe(culprit);
  if (msg) expect((e as Error).message).toMatch(msg);
}

export function expectCode(fn: () => unknown, code: string, msg?: RegExp) {
  const e = errOf(fn);
  expect(e).toBeInstanceOf(ConclaveError);
  expect((e as ConclaveError).code).toBe(code);
  if (msg) expect((e as Error).message).toMatch(msg);
}

export function runDkg(S: Scheme, t: number, n: number): Party[] {
  const ids = Array.from({ length: n }, (_, i) => identifierFor(S, i + 1));
  const r1 = ids.map((id) => dkgRound1(S, id, t, n));
  const pkgs = r1.map((r) => r.pkg);
  const others = (id: string) => rt(pkgs.filter((p) => p.identifier !== id));
  const r2 = ids.map((id, i) => dkgRound2(S, r1[i]!.state, others(id)));
  return ids.map((id, j) => {
    const received = ids
      .filter((_, i) => i !== j)
      .map((from) => ({ from, share: r2[ids.indexOf(from)]!.shares[id]! }));
    return dkgRound3(S, r2[j]!.state, others(id), received);
  });
}
