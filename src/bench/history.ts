/**
 * Where a ceremony's time goes, read from its Temporal event history.
 *
 * A ceremony is a sequence of steps. A step is the set of activities of one type that one
 * workflow task scheduled together (a round on every party, run in parallel), or a local
 * activity (recorded as a `core_local_activity` marker; it runs inside a workflow task on the
 * coordinator worker). For each step we take from the server's event timestamps:
 *
 * - schedule-to-start of each activity (queueing and dispatch to the party's worker),
 * - execution (start-to-close) of each activity (the activity's own work, database included),
 * - the round's wall time (first start to last completion),
 * - retries: a retried activity's started event is its last attempt's, so its schedule-to-start
 *   then includes the failed attempts (e.g. start-to-close timeouts under overload),
 * - the orchestration overhead before it: from the previous step's last completion (or the
 *   workflow's start) to this step's first start, split into the workflow task that decides the
 *   next step (previous completion to schedule) and the dispatch (schedule to start).
 *
 * A local activity has no schedule or start event; its start is taken as the later of its
 * workflow task's start and the previous local activity's completion in that task, its end as the
 * completion time the worker recorded in the marker.
 */
import type { Client } from '@temporalio/client';
import { median } from './stats.js';

type Long = { toNumber(): number } | { low: number; high: number } | number | string;

interface HistoryEventLike {
  eventId?: Long | null;
  eventTime?: { seconds?: Long | null; nanos?: number | null } | null;
  workflowExecutionStartedEventAttributes?: unknown;
  workflowExecutionCompletedEventAttributes?: unknown;
  workflowExecutionFailedEventAttributes?: unknown;
  workflowTaskStartedEventAttributes?: { scheduledEventId?: Long | null } | null;
  workflowTaskCompletedEventAttributes?: {
    scheduledEventId?: Long | null;
    startedEventId?: Long | null;
  } | null;
  activityTaskScheduledEventAttributes?: {
    activityType?: { name?: string | null } | null;
    workflowTaskCompletedEventId?: Long | null;
  } | null;
  activityTaskStartedEventAttributes?: { scheduledEventId?: Long | null; attempt?: number | null } | null;
  activityTaskCompletedEventAttributes?: { scheduledEventId?: Long | null } | null;
  activityTaskFailedEventAttributes?: { scheduledEventId?: Long | null } | null;
  activityTaskTimedOutEventAttributes?: { scheduledEventId?: Long | null } | null;
  markerRecordedEventAttributes?: {
    markerName?: string | null;
    details?: Record<string, { payloads?: Array<{ data?: Uint8Array | null }> | null }> | null;
    workflowTaskCompletedEventId?: Long | null;
  } | null;
}

export type StepKind = 'activity' | 'local';

export interface StepTiming {
  /** Activity type, e.g. `signRound1`. */
  name: string;
  kind: StepKind;
  /** Activities in the step (parties run in parallel). */
  count: number;
  /** Per activity: schedule to start (normal activities only). */
  scheduleToStartMs: number[];
  /** Per activity: start to close. */
  executionMs: number[];
  /** First start to last completion. */
  wallMs: number;
  /** Previous step's last completion (or workflow start) to this step's first schedule. */
  decideMs: number;
  /** This step's first schedule to its first start (0 for local activities). */
  dispatchMs: number;
  /** decideMs + dispatchMs: orchestration time before this step did any work. */
  overheadMs: number;
  /** Attempts beyond the first, summed over the step's activities (timeouts, retried errors). */
  retries: number;
}

export interface CeremonyTimeline {
  workflowId: string;
  /** Workflow execution started to the first workflow task started. */
  startToFirstTaskMs: number;
  /** Last step's completion to the workflow's completion (the final workflow task). */
  tailMs: number;
  endToEndMs: number;
  steps: StepTiming[];
}

function num(x: Long | null | undefined): number {
  if (x === null || x === undefined) return NaN;
  if (typeof x === 'number') return x;
  if (typeof x === 'string') return Number(x);
  if ('toNumber' in x) return x.toNumber();
  return x.high * 2 ** 32 + (x.low >>> 0);
}

function eventMs(e: HistoryEventLike): number {
  const t = e.eventTime;
  if (!t) return NaN;
  return num(t.seconds ?? 0) * 1000 + (t.nanos ?? 0) / 1e6;
}

function tsMs(t: unknown): number {
  if (typeof t === 'string') return Date.parse(t);
  if (t && typeof t === 'object' && 'seconds' in t) {
    const o = t as { seconds: Long; nanos?: number };
    return num(o.seconds) * 1000 + (o.nanos ?? 0) / 1e6;
  }
  return NaN;
}

interface LocalMarkerData {
  activity_type?: string;
  attempt?: number;
  activityType?: string;
  complete_time?: unknown;
  completeTime?: unknown;
}

function markerData(e: HistoryEventLike): LocalMarkerData | undefined {
  const payload = e.markerRecordedEventAttributes?.details?.data?.payloads?.[0]?.data;
  if (!payload) return undefined;
  try {
    return JSON.parse(new TextDecoder().decode(payload)) as LocalMarkerData;
  } catch {
    return undefined;
  }
}

interface Call {
  name: string;
  kind: StepKind;
  /** Step grouping key: the workflow task that scheduled (or ran) it, and the type. */
  group: string;
  scheduledMs: number;
  startedMs: number;
  completedMs: number;
  /** The attempt that finished (the started event records the last attempt only). */
  attempt: number;
}

/** The timeline of one finished ceremony, from its raw history events. */
export function parseHistory(workflowId: string, events: readonly HistoryEventLike[]): CeremonyTimeline {
  const byId = new Map<number, HistoryEventLike>();
  for (const e of events) byId.set(num(e.eventId), e);
  let wfStart = NaN;
  let wfEnd = NaN;
  let firstTask = NaN;
  const activities = new Map<number, Call>();
  const locals: Call[] = [];
  const lastLocalEndInTask = new Map<number, number>();
  for (const e of events) {
    const t = eventMs(e);
    const id = num(e.eventId);
    if (e.workflowExecutionStartedEventAttributes) wfStart = t;
    else if (e.workflowExecutionCompletedEventAttributes || e.workflowExecutionFailedEventAttributes)
      wfEnd = t;
    else if (e.workflowTaskStartedEventAttributes && Number.isNaN(firstTask)) firstTask = t;
    else if (e.activityTaskScheduledEventAttributes) {
      const a = e.activityTaskScheduledEventAttributes;
      const name = a.activityType?.name ?? '?';
      activities.set(id, {
        name,
        kind: 'activity',
        group: `${num(a.workflowTaskCompletedEventId)}|${name}`,
        scheduledMs: t,
        startedMs: NaN,
        completedMs: NaN,
        attempt: 1,
      });
    } else if (e.activityTaskStartedEventAttributes) {
      const call = activities.get(num(e.activityTaskStartedEventAttributes.scheduledEventId));
      if (call) {
        call.startedMs = t;
        call.attempt = e.activityTaskStartedEventAttributes.attempt ?? 1;
      }
    } else if (
      e.activityTaskCompletedEventAttributes ||
      e.activityTaskFailedEventAttributes ||
      e.activityTaskTimedOutEventAttributes
    ) {
      const a =
        e.activityTaskCompletedEventAttributes ??
        e.activityTaskFailedEventAttributes ??
        e.activityTaskTimedOutEventAttributes;
      const call = activities.get(num(a?.scheduledEventId));
      if (call) call.completedMs = t;
    } else if (e.markerRecordedEventAttributes?.markerName?.includes('local_activity')) {
      const m = e.markerRecordedEventAttributes;
      const data = markerData(e);
      const name = data?.activity_type ?? data?.activityType ?? '?';
      const taskCompletedId = num(m.workflowTaskCompletedEventId);
      const taskCompleted = byId.get(taskCompletedId)?.workflowTaskCompletedEventAttributes;
      const taskStarted = byId.get(num(taskCompleted?.startedEventId));
      const taskStartMs = taskStarted ? eventMs(taskStarted) : t;
      let end = tsMs(data?.complete_time ?? data?.completeTime);
      if (!Number.isFinite(end)) end = t;
      const start = Math.min(
        end,
        Math.max(taskStartMs, lastLocalEndInTask.get(taskCompletedId) ?? -Infinity),
      );
      lastLocalEndInTask.set(taskCompletedId, end);
      locals.push({
        name,
        kind: 'local',
        group: `local|${locals.length}`,
        scheduledMs: start,
        startedMs: start,
        completedMs: end,
        attempt: data?.attempt ?? 1,
      });
    }
  }

  const groups = new Map<string, Call[]>();
  for (const call of [...activities.values(), ...locals]) {
    groups.set(call.group, [...(groups.get(call.group) ?? []), call]);
  }
  const ordered = [...groups.values()].sort(
    (a, b) => Math.min(...a.map((c) => c.scheduledMs)) - Math.min(...b.map((c) => c.scheduledMs)),
  );
  const steps: StepTiming[] = [];
  let prevEnd = wfStart;
  for (const calls of ordered) {
    const first = calls[0]!;
    const scheduled = Math.min(...calls.map((c) => c.scheduledMs));
    const started = Math.min(...calls.map((c) => c.startedMs));
    const completed = Math.max(...calls.map((c) => c.completedMs));
    const decideMs = Math.max(0, scheduled - prevEnd);
    const dispatchMs = first.kind === 'local' ? 0 : started - scheduled;
    steps.push({
      name: first.name,
      kind: first.kind,
      count: calls.length,
      scheduleToStartMs: first.kind === 'local' ? [] : calls.map((c) => c.startedMs - c.scheduledMs),
      executionMs: calls.map((c) => c.completedMs - c.startedMs),
      wallMs: completed - started,
      decideMs,
      dispatchMs,
      overheadMs: decideMs + dispatchMs,
      retries: calls.reduce((sum, c) => sum + Math.max(0, c.attempt - 1), 0),
    });
    prevEnd = Math.max(prevEnd, completed);
  }
  return {
    workflowId,
    startToFirstTaskMs: firstTask - wfStart,
    tailMs: wfEnd - prevEnd,
    endToEndMs: wfEnd - wfStart,
    steps,
  };
}

/** Fetches and parses the histories of finished ceremonies, a few at a time. */
export async function fetchTimelines(
  client: Client,
  workflowIds: readonly string[],
  concurrency = 8,
): Promise<CeremonyTimeline[]> {
  const out: CeremonyTimeline[] = new Array(workflowIds.length);
  let next = 0;
  const worker = async () => {
    while (next < workflowIds.length) {
      const i = next++;
      const id = workflowIds[i]!;
      const history = await client.workflow.getHandle(id).fetchHistory();
      out[i] = parseHistory(id, (history.events ?? []) as HistoryEventLike[]);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, workflowIds.length) }, worker));
  return out;
}

export interface StepSummary {
  name: string;
  kind: StepKind;
  count: number;
  /** p50 over every activity of this step in every sampled ceremony. */
  scheduleToStartP50: number;
  executionP50: number;
  /** p50 over ceremonies. */
  wallP50: number;
  decideP50: number;
  dispatchP50: number;
  overheadP50: number;
  /** overheadP50 + wallP50: this step's share of the ceremony. */
  totalP50: number;
  /** Retried attempts per ceremony, mean over the sample. */
  retriesPerCeremony: number;
}

export interface RoundBreakdown {
  ceremony: string;
  sampled: number;
  startToFirstTaskP50: number;
  tailP50: number;
  endToEndP50: number;
  steps: StepSummary[];
  /** Sums over steps of the p50s: orchestration (overheads, tail) versus work in activities. */
  orchestrationP50: number;
  activityWallP50: number;
  dominant: { step: string; part: 'orchestration' | 'execution'; ms: number; share: number };
}

/** Per-step p50s over a sample of ceremonies of one kind (steps matched by position and name). */
export function summarizeTimelines(ceremony: string, timelines: readonly CeremonyTimeline[]): RoundBreakdown {
  const shape = timelines[0]?.steps.map((s) => `${s.kind}:${s.name}`).join(',');
  const same = timelines.filter((t) => t.steps.map((s) => `${s.kind}:${s.name}`).join(',') === shape);
  const steps: StepSummary[] = (same[0]?.steps ?? []).map((s, i) => {
    const all = same.map((t) => t.steps[i]!);
    const overheadP50 = median(all.map((x) => x.overheadMs));
    const wallP50 = median(all.map((x) => x.wallMs));
    return {
      name: s.name,
      kind: s.kind,
      count: s.count,
      scheduleToStartP50: median(all.flatMap((x) => x.scheduleToStartMs)),
      executionP50: median(all.flatMap((x) => x.executionMs)),
      wallP50,
      decideP50: median(all.map((x) => x.decideMs)),
      dispatchP50: median(all.map((x) => x.dispatchMs)),
      overheadP50,
      totalP50: overheadP50 + wallP50,
      retriesPerCeremony: all.reduce((sum, x) => sum + x.retries, 0) / all.length,
    };
  });
  const tailP50 = median(same.map((t) => t.tailMs));
  const endToEndP50 = median(same.map((t) => t.endToEndMs));
  const orchestrationP50 = steps.reduce((s, x) => s + x.overheadP50, 0) + tailP50;
  const activityWallP50 = steps.reduce((s, x) => s + x.wallP50, 0);
  const top = steps.reduce<StepSummary | undefined>(
    (best, s) => (best === undefined || s.totalP50 > best.totalP50 ? s : best),
    undefined,
  );
  const dominant: RoundBreakdown['dominant'] = top
    ? {
        step: top.name,
        part: top.overheadP50 > top.wallP50 ? 'orchestration' : 'execution',
        ms: top.totalP50,
        share: top.totalP50 / endToEndP50,
      }
    : { step: '-', part: 'execution', ms: NaN, share: NaN };
  return {
    ceremony,
    sampled: same.length,
    startToFirstTaskP50: median(same.map((t) => t.startToFirstTaskMs)),
    tailP50,
    endToEndP50,
    steps,
    orchestrationP50,
    activityWallP50,
    dominant,
  };
}
