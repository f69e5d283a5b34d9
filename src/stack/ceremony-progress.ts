/**
 * What a running ceremony is waiting on, read from Temporal: its pending party activities (and
 * those of its running child workflows), with the party whose queue each waits in, whether a
 * worker has taken it, and for how long. The CLI prints it while a rotation, reshare or recovery
 * waits, so an operator sees "waiting on p3" instead of minutes of silence.
 */
import type { Connection } from '@temporalio/client';
import { partyTaskQueue } from '../../temporal.config.js';

export interface PendingStep {
  workflowId: string;
  activity: string;
  taskQueue?: string;
  /** The party whose queue the step waits in, if a party's. */
  party?: string;
  /** False while no worker has taken the step (the party's worker is down or not polling). */
  started: boolean;
  attempt: number;
  /** How long it has been pending, in milliseconds. */
  pendingMs: number;
  /** The last failed attempt's message (a timeout of a lost attempt, say). */
  lastFailure?: string;
}

interface Timestamp {
  seconds?: { toString(): string } | number | null;
  nanos?: number | null;
}

const msOf = (t: Timestamp | null | undefined): number | undefined =>
  t?.seconds == null ? undefined : Number(t.seconds.toString()) * 1000 + Math.floor((t.nanos ?? 0) / 1e6);

const partyPrefix = partyTaskQueue('');

/** The activity id → task queue of a workflow's scheduled activities, from its history. */
async function scheduledQueues(
  connection: Connection,
  namespace: string,
  workflowId: string,
): Promise<Map<string, string>> {
  const queues = new Map<string, string>();
  let nextPageToken: Uint8Array | undefined;
  for (let page = 0; page < 20; page++) {
    const res = await connection.workflowService.getWorkflowExecutionHistory({
      namespace,
      execution: { workflowId },
      maximumPageSize: 1000,
      ...(nextPageToken?.length ? { nextPageToken } : {}),
    });
    for (const e of res.history?.events ?? []) {
      const a = e.activityTaskScheduledEventAttributes;
      if (a?.activityId && a.taskQueue?.name) queues.set(a.activityId, a.taskQueue.name);
    }
    nextPageToken = res.nextPageToken ?? undefined;
    if (!nextPageToken?.length) break;
  }
  return queues;
}

/** The pending activities of `workflowId` and of its running children (two levels down). */
export async function pendingSteps(
  connection: Connection,
  namespace: string,
  workflowId: string,
  depth = 2,
): Promise<PendingStep[]> {
  const d = await connection.workflowService.describeWorkflowExecution({
    namespace,
    execution: { workflowId },
  });
  const now = Date.now();
  const activities = d.pendingActivities ?? [];
  const missing = activities.some((a) => !a.activityOptions?.taskQueue?.name);
  const history = missing ? await scheduledQueues(connection, namespace, workflowId) : undefined;
  const steps: PendingStep[] = activities.map((a) => {
    const taskQueue = a.activityOptions?.taskQueue?.name ?? history?.get(a.activityId ?? '') ?? undefined;
    const since = msOf(a.scheduledTime) ?? now;
    return {
      workflowId,
      activity: a.activityType?.name ?? 'activity',
      ...(taskQueue ? { taskQueue } : {}),
      ...(taskQueue?.startsWith(partyPrefix) ? { party: taskQueue.slice(partyPrefix.length) } : {}),
      started: a.state === 2, // PENDING_ACTIVITY_STATE_STARTED
      attempt: a.attempt ?? 1,
      pendingMs: Math.max(0, now - since),
      ...(a.lastFailure?.message ? { lastFailure: a.lastFailure.message } : {}),
    };
  });
  if (depth > 0) {
    for (const child of d.pendingChildren ?? []) {
      if (!child.workflowId) continue;
      steps.push(...(await pendingSteps(connection, namespace, child.workflowId, depth - 1).catch(() => [])));
    }
  }
  return steps;
}

/**
 * The parties a ceremony has waited on for at least `afterMs`, each with what it waits for: a
 * step no worker of the party has taken (`taken: false`), or one that has run that long.
 */
export function waitedOn(
  steps: PendingStep[],
  afterMs: number,
): Array<{ party: string; activity: string; taken: boolean; seconds: number; line: string }> {
  const out = new Map<
    string,
    { party: string; activity: string; taken: boolean; seconds: number; line: string }
  >();
  for (const s of steps) {
    if (!s.party || s.pendingMs < afterMs || out.has(s.party)) continue;
    const seconds = Math.round(s.pendingMs / 1000);
    const retry = s.attempt > 1 && s.lastFailure ? `, attempt ${s.attempt} after: ${s.lastFailure}` : '';
    out.set(s.party, {
      party: s.party,
      activity: s.activity,
      taken: s.started,
      seconds,
      line: s.started
        ? `${s.party} (${s.activity}, running for ${seconds}s${retry})`
        : `${s.party} (${s.activity}, not taken by its worker for ${seconds}s${retry})`,
    });
  }
  return [...out.values()];
}
