/**
 * What a compromised coordinator can do: schedule the parties' signing rounds on their real task
 * queues with any input it likes. Used by approvals.test.ts to show that the parties' own gate,
 * not the coordinator, decides whether a signature is produced.
 */
import { ActivityFailure, ApplicationFailure, proxyActivities } from '@temporalio/workflow';
import type { PartyActivities } from '../../../activities/party/index.js';
import type { Envelope } from '../../../src/crypto/envelope.js';
import type { SignContext } from '../../../src/ceremony/sign/contracts.js';
import { partyTaskQueue } from '../../../temporal.config.js';

const party = (id: string) =>
  proxyActivities<PartyActivities>({
    taskQueue: partyTaskQueue(id),
    startToCloseTimeout: '10 seconds',
    retry: { maximumAttempts: 1 },
  });

const why = (r: PromiseSettledResult<unknown>): string | undefined => {
  if (r.status === 'fulfilled') return undefined;
  const e = r.reason instanceof ActivityFailure ? r.reason.cause : r.reason;
  return e instanceof ApplicationFailure ? `${e.type}: ${e.message}` : String(e);
};

export async function rogueSignWorkflow(
  ctx: SignContext,
): Promise<{ shares: Envelope[]; refused?: undefined } | { refused: string[] }> {
  const r1 = await Promise.allSettled(ctx.signers.map((s) => party(s).signRound1(ctx)));
  const refused1 = r1.map(why).filter((x): x is string => x !== undefined);
  if (refused1.length) return { refused: refused1 };
  const commitments = r1.map((r) => (r as PromiseFulfilledResult<Envelope>).value);
  const r2 = await Promise.allSettled(ctx.signers.map((s) => party(s).signRound2(ctx, commitments)));
  const refused2 = r2.map(why).filter((x): x is string => x !== undefined);
  if (refused2.length) return { refused: refused2 };
  return { shares: r2.map((r) => (r as PromiseFulfilledResult<Envelope>).value) };
}

/** One call a rogue coordinator makes on a party's task queue, and what came of it. */
export interface RogueCall {
  party: string;
  activity: keyof PartyActivities;
  args: unknown[];
}
export type RogueOutcome = { ok: unknown; refused?: undefined } | { refused: string };

/** Calls party activities one after another with whatever input the coordinator likes. */
export async function rogueCallsWorkflow(calls: RogueCall[]): Promise<RogueOutcome[]> {
  const out: RogueOutcome[] = [];
  for (const c of calls) {
    const fn = party(c.party)[c.activity] as (...args: unknown[]) => Promise<unknown>;
    const [r] = await Promise.allSettled([fn(...c.args)]);
    out.push(r.status === 'fulfilled' ? { ok: r.value } : { refused: why(r)! });
  }
  return out;
}
