/**
 * Workflows of a coordinator that sends plaintext: run by payload-codec.test.ts on a worker of
 * its own whose codec encrypts nothing, to show that the parties' workers and a client with the
 * payload key refuse what is not encrypted.
 */
import { ActivityFailure, ApplicationFailure, proxyActivities } from '@temporalio/workflow';
import { partyRoundTimeouts, partyTaskQueue } from '../../../temporal.config.js';

type AnyActivities = Record<string, (...args: unknown[]) => Promise<unknown>>;

export interface RoundOutcome {
  result?: unknown;
  refused?: { type?: string; message: string; retryState?: string };
}

/**
 * Schedules one activity on a party's queue with the given arguments and the ceremonies' retry
 * policy (bounded to a minute), and reports its result or its failure.
 */
export async function plaintextRoundWorkflow(
  partyId: string,
  activity: string,
  args: unknown[],
): Promise<RoundOutcome> {
  const party = proxyActivities<AnyActivities>({
    taskQueue: partyTaskQueue(partyId),
    ...partyRoundTimeouts,
    scheduleToCloseTimeout: '1 minute',
  });
  try {
    return { result: await party[activity]!(...args) };
  } catch (err) {
    if (!(err instanceof ActivityFailure)) throw err;
    const cause = err.cause;
    return {
      refused: {
        ...(cause instanceof ApplicationFailure && cause.type ? { type: cause.type } : {}),
        message: cause?.message ?? err.message,
        retryState: err.retryState,
      },
    };
  }
}

/** Returns its argument: in plaintext, from a worker without the codec. */
export async function plaintextResultWorkflow(value: unknown): Promise<unknown> {
  return value;
}
