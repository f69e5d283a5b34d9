/** Assertions shared by the OT and multiplication tests: a typed error, with its culprit when one is named. */
import { expect } from 'vitest';
import { ConclaveError, CulpritError } from '../../src/errors.js';

export function expectCulprit(fn: () => unknown, code: string, culprit: string): CulpritError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(CulpritError);
    const err = e as CulpritError;
    expect(err.code).toBe(code);
    expect(err.culprit).toBe(culprit);
    return err;
  }
  throw new Error('expected a CulpritError');
}

export function expectCode(fn: () => unknown, code: string): void {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(ConclaveError);
    expect((e as ConclaveError).code).toBe(code);
    return;
  }
  throw new Error(`expected a ConclaveError ${code}`);
}
