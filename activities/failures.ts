/**
 * Converts our typed errors into Temporal failures: a party's misbehaviour or a caller's bad
 * input is final (non-retryable) and carries the error code and the culprit; anything else
 * (a database hiccup, a restart) stays retryable.
 */
import { ApplicationFailure } from '@temporalio/common';
import { ConclaveError, culprit } from '../src/errors.js';
import type { FailureDetails } from '../src/ceremony/contracts.js';

export function toFailure(err: unknown): unknown {
  const blamed = culprit(err);
  if (err instanceof ConclaveError && blamed) {
    const details: FailureDetails = { code: err.code, culprit: blamed };
    return ApplicationFailure.create({
      message: err.message,
      type: err.code,
      nonRetryable: true,
      details: [details],
    });
  }
  if (err instanceof ConclaveError) {
    const details: FailureDetails = { code: err.code };
    return ApplicationFailure.create({
      message: err.message,
      type: err.code,
      nonRetryable: true,
      details: [details],
    });
  }
  return err;
}

/** Wraps every function of an activity object so that typed errors become final failures. */
export function withFailures<T extends Record<string, (...args: never[]) => Promise<unknown>>>(
  activities: T,
): T {
  const wrapped: Record<string, unknown> = {};
  for (const [name, fn] of Object.entries(activities)) {
    wrapped[name] = async (...args: never[]) => {
      try {
        return await fn(...args);
      } catch (err) {
        throw toFailure(err);
      }
    };
  }
  return wrapped as T;
}
