/** Assertions on thrown errors shared by unit tests: a typed error, its message, its culprit. */
import { expect } from 'vitest';
import { ConclaveError, CulpritError } from '../../src/errors.js';

/** What `fn` throws; fails the test if it returns. */
export function errOf(fn: () => unknown): unknown {
  try {
    fn();
  } catch (e) {
    return e;
  }
  throw new Error('expected a throw');
}

/** `fn` throws a ConclaveError with `code` (and a message matching `msg`). */
export function expectCode(fn: () => unknown, code: string, msg?: RegExp): void {
  const e = errOf(fn);
  expect(e).toBeInstanceOf(ConclaveError);
  expect((e as ConclaveError).code).toBe(code);
  if (msg) expect((e as Error).message).toMatch(msg);
}

/** `fn` throws a CulpritError with `code` naming `culprit`. */
export function expectCulprit(fn: () => unknown, code: string, culprit: string): CulpritError {
  const e = errOf(fn);
  expect(e).toBeInstanceOf(CulpritError);
  const err = e as CulpritError;
  expect(err.code).toBe(code);
  expect(err.culprit).toBe(culprit);
  return err;
}
