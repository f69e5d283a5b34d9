/**
 * The workflows of the rogue-coordinator drill's own worker (`rogue-coordinator.ts`): what a
 * compromised coordinator can do, which is to schedule any party activity on the party's real
 * task queue with any input it likes. Each call is made once, with short timeouts, and its
 * outcome returned as the party gave it: the party's typed refusal, or its answer.
 */
import { ActivityFailure, ApplicationFailure, proxyActivities } from '@temporalio/workflow';
import type { PartyActivities } from '../../activities/party/index.js';
import { partyTaskQueue } from '../../temporal.config.js';

/** One call a rogue coordinator makes on a party's task queue. */
export interface RogueCall {
  party: string;
  activity: keyof PartyActivities;
  args: unknown[];
}

/** What came of it: the party's answer, or its refusal as `"<TYPE>: <message>"`. */
export type RogueOutcome = { ok: unknown; refused?: undefined } | { refused: string };

const party = (id: string) =>
  proxyActivities<PartyActivities>({
    taskQueue: partyTaskQueue(id),
    scheduleToCloseTimeout: '20 seconds',
    startToCloseTimeout: '15 seconds',
    retry: { maximumAttempts: 1 },
  });

const why = (reason: unknown): string => {
  const e = reason instanceof ActivityFailure ? reason.cause : reason;
  if (e instanceof ApplicationFailure) return `${e.type}: ${e.message}`;
  // a timeout or a cancellation: no party refused anything
  return e instanceof Error ? `${e.name}: ${e.message}` : String(e);
};

/** Calls party activities one after another, each once, with whatever input the coordinator likes. */
export async function rogueCoordinatorCallsWorkflow(calls: RogueCall[]): Promise<RogueOutcome[]> {
  const out: RogueOutcome[] = [];
  for (const c of calls) {
    const fn = party(c.party)[c.activity] as (...args: unknown[]) => Promise<unknown>;
    const [r] = await Promise.allSettled([fn(...c.args)]);
    out.push(r!.status === 'fulfilled' ? { ok: r!.value } : { refused: why(r!.reason) });
  }
  return out;
}
