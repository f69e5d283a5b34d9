/** Orchestration helpers shared by ceremony workflows: party proxies and failure handling. */
import {
  ActivityFailure,
  ApplicationFailure,
  CancellationScope,
  ChildWorkflowFailure,
  ParentClosePolicy,
  proxyActivities,
  startChild,
  proxyLocalActivities,
  workflowInfo,
} from '@temporalio/workflow';
import type { Duration } from '@temporalio/common';
import type { CoordinatorActivities } from '../activities/coordinator/index.js';
import type { PartyActivities } from '../activities/party/index.js';
import type { AuditRecord } from '../src/audit/contracts.js';
import type { FailureDetails } from '../src/ceremony/contracts.js';
import type { PairSetupContext } from '../src/ceremony/pair-setup/contracts.js';
import type { WebhookDispatch } from '../src/webhooks/contracts.js';
import type { Envelope } from '../src/crypto/envelope.js';
import type { RaisedEvent } from '../src/webhooks/events.js';
import { idPattern, invalidIdMessage } from '../src/ids.js';
import {
  coordinatorActivityTimeouts,
  pairSetupRoundTimeouts,
  partyRoundTimeouts,
  partyTaskQueue,
} from '../temporal.config.js';

/**
 * Coordinator steps run as local activities, in the coordinator worker that runs the workflow:
 * no task-queue round trip per step. They are short, idempotent and touch only public data.
 */
export const coordinator = proxyLocalActivities<CoordinatorActivities>(coordinatorActivityTimeouts);

const partyProxies = new Map<string, PartyActivities>();

/** The activities of one party, run on that party's own worker. */
export function party(partyId: string): PartyActivities {
  let proxy = partyProxies.get(partyId);
  if (!proxy) {
    proxy = proxyActivities<PartyActivities>({ taskQueue: partyTaskQueue(partyId), ...partyRoundTimeouts });
    partyProxies.set(partyId, proxy);
  }
  return proxy;
}

/** Calls that must not hang on a party that is down (cleanup, backups, checks): short timeouts. */
export function partyBrief(partyId: string, giveUpAfter: Duration = '1 minute'): PartyActivities {
  return proxyActivities<PartyActivities>({
    taskQueue: partyTaskQueue(partyId),
    startToCloseTimeout: '10 seconds',
    scheduleToCloseTimeout: giveUpAfter,
  });
}

const pairSetupProxies = new Map<string, PartyActivities>();

/** One party's pair-setup rounds: seconds of CPU each, so a longer attempt (temporal.config.ts). */
function partySetup(partyId: string): PartyActivities {
  let proxy = pairSetupProxies.get(partyId);
  if (!proxy) {
    proxy = proxyActivities<PartyActivities>({
      taskQueue: partyTaskQueue(partyId),
      ...pairSetupRoundTimeouts,
    });
    pairSetupProxies.set(partyId, proxy);
  }
  return proxy;
}

/**
 * The DKLs23 pairwise setup of one key version (OT setups and zero-share seeds between every two
 * parties). Returns every party's signed "done", which `activatePairSetup` needs.
 */
export async function runPairSetup(c: PairSetupContext): Promise<Envelope[]> {
  const parties = c.roster.map((p) => p.partyId);
  const round1 = (await onEach(parties, (p) => partySetup(p).pairSetupRound1(c))).flat();
  const round2 = (
    await onEach(parties, (p) =>
      partySetup(p).pairSetupRound2(
        c,
        round1.filter((e) => e.to === p),
      ),
    )
  ).flat();
  return onEach(parties, (p) =>
    partySetup(p).pairSetupRound3(
      c,
      round2.filter((e) => e.to === p),
    ),
  );
}

/** Each party makes the setup its key version's own, once every party has signed it is done. */
export async function activatePairSetup(c: PairSetupContext, done: Envelope[]): Promise<void> {
  await onEach(
    c.roster.map((p) => p.partyId),
    (p) => party(p).pairSetupActivate(c, done),
  );
}

/** Best effort, like every abort: drops the pending setups and round states of an aborted setup. */
export async function abortPairSetup(c: PairSetupContext): Promise<void> {
  await evenIfCancelled(() =>
    Promise.allSettled(c.roster.map((p) => partyBrief(p.partyId).pairSetupAbort(c))),
  );
}

/** Runs one round on every party in parallel. */
export function onEach<T>(parties: string[], round: (partyId: string) => Promise<T>): Promise<T[]> {
  return Promise.all(parties.map(round));
}

/** The typed cause of a failed activity: its code and, when a party misbehaved, the culprit. */
export function failureDetails(err: unknown): { message: string; details: FailureDetails } {
  let cause: unknown = err;
  while ((cause instanceof ActivityFailure || cause instanceof ChildWorkflowFailure) && cause.cause) {
    cause = cause.cause;
  }
  if (cause instanceof ApplicationFailure) {
    const d = (cause.details?.[0] ?? {}) as Partial<FailureDetails>;
    return {
      message: cause.message,
      details: { code: d.code ?? cause.type ?? 'FAILED', culprit: d.culprit },
    };
  }
  return { message: cause instanceof Error ? cause.message : String(cause), details: { code: 'FAILED' } };
}

export function abortWith(ceremony: string, err: unknown): ApplicationFailure {
  const { message, details } = failureDetails(err);
  return ApplicationFailure.create({
    message: `${ceremony} aborted: ${message}`,
    type: details.code,
    nonRetryable: true,
    details: [{ ...details, reason: message }],
  });
}

/**
 * Refuses a request for another tenant than the one its workflow id names (`<kind>:<tenant>:…`,
 * as the client builds them). Anyone may start a workflow under any id; without this, a request
 * of tenant B started under an id tenant A's client will use would be joined by A's client, which
 * would take B's key or signature for A's.
 */
export function assertWorkflowOfTenant(tenant: string): void {
  const id = workflowInfo().workflowId;
  const bad = typeof tenant !== 'string' || !idPattern.test(tenant);
  if (bad || id.split(':')[1] !== tenant) {
    const reason = bad
      ? invalidIdMessage('tenant', tenant)
      : `workflow id ${id} does not name tenant ${tenant} (expected <kind>:${tenant}:…)`;
    throw ApplicationFailure.create({
      message: reason,
      type: 'BAD_INPUT',
      nonRetryable: true,
      details: [{ code: 'BAD_INPUT', reason }],
    });
  }
}

/**
 * The workflow id is the caller's idempotency key; a failed request may be started again under
 * the same id, so party round records are keyed by this run as well: a new run never meets the
 * nonces or round state of a failed one.
 */
export function ceremonyIdOfThisRun(): string {
  const info = workflowInfo();
  return `${info.workflowId}/${info.runId}`;
}

/**
 * Runs a failed ceremony's cleanup even if the workflow was cancelled: a cancelled ceremony must
 * still release its wallet and undo what parties stored.
 */
export function evenIfCancelled<T>(cleanup: () => Promise<T>): Promise<T> {
  return CancellationScope.nonCancellable(cleanup);
}

/**
 * Records how this ceremony ended (with `err`, as failed). Never fails the ceremony itself: a
 * record that cannot be written is retried by the local activity, then given up.
 */
export async function audit(
  requestedBy: string | undefined,
  record: AuditRecord,
  err?: unknown,
): Promise<void> {
  const failure = err === undefined ? undefined : failureDetails(err);
  const dispatches = await evenIfCancelled(() =>
    coordinator
      .recordAudit({
        ...record,
        workflowId: workflowInfo().workflowId,
        ceremonyId: ceremonyIdOfThisRun(),
        requestedBy: requestedBy ?? 'unknown',
        outcome: failure ? 'failed' : 'completed',
        ...(failure
          ? {
              code: failure.details.code,
              reason: failure.message,
              ...(failure.details.culprit ? { culprit: failure.details.culprit } : {}),
            }
          : {}),
      })
      .catch((): WebhookDispatch[] => []),
  );
  await startDeliveries(dispatches);
}

/** Records events this workflow raises mid-way (a transaction escalated, approved…) and sends them. */
export async function raiseEvents(tenant: string, events: RaisedEvent[]): Promise<void> {
  const dispatches = await evenIfCancelled(() =>
    coordinator.recordEvents(tenant, events).catch((): WebhookDispatch[] => []),
  );
  await startDeliveries(dispatches);
}

/**
 * Starts each delivery as a workflow of its own that outlives this one (ABANDON): its retries
 * take hours. The workflow id is the delivery's, so it starts once. Never fails the ceremony.
 */
export async function startDeliveries(dispatches: WebhookDispatch[]): Promise<void> {
  await evenIfCancelled(() =>
    Promise.allSettled(
      dispatches.map((d) =>
        startChild('webhookDeliveryWorkflow', {
          workflowId: `webhook:${d.tenant}:${d.deliveryId}`,
          args: [d],
          parentClosePolicy: ParentClosePolicy.ABANDON,
        }),
      ),
    ),
  );
}
