/**
 * Chaos for the local dev stack (fault drills): kill one process with SIGKILL — a party worker,
 * the coordinator worker, FerretDB or the Temporal dev server — leave it down for a while, start
 * it again (servers on the same port with the same data, workers with the same identity and
 * database), health-check it and record the new pid in `stack.json`.
 *
 * Workers are expected to ride through server restarts on their own (their Temporal and MongoDB
 * connections reconnect). `reviveDeadWorkers` is what an operator (or a process supervisor)
 * would do for a worker that died anyway; every revival is reported, never hidden.
 */
import { Connection } from '@temporalio/client';
import { coordinatorTaskQueue, partyTaskQueue } from '../../temporal.config.js';
import { readStackState, type Env } from '../config.js';
import { ConclaveError } from '../errors.js';
import {
  startCoordinatorWorker,
  startPartyWorker,
  writeState,
  type StackState,
  type WorkerProcess,
} from './dev.js';
import { killServer, restartServer, type LocalServer } from './local.js';
import { isAlive, stopProcess } from './processes.js';

export type ChaosKind = 'party' | 'coordinator' | 'ferretdb' | 'temporal';
export const chaosKinds: readonly ChaosKind[] = ['party', 'coordinator', 'ferretdb', 'temporal'];

export interface ChaosStrike {
  kind: ChaosKind;
  /** 'party p3', 'coordinator', 'ferretdb', 'temporal'. */
  target: string;
  at: string;
  oldPid: number;
  newPid: number;
  /** How long it was left dead before the restart began. */
  downMs: number;
  /** From the restart to healthy (server answering / worker polling its queue). */
  restartMs: number;
  /** After a server restart: how long until every worker polled Temporal again (Temporal only). */
  workersBackMs?: number;
  notes: string[];
}

export interface StrikeOptions {
  /** Which party worker, for kind 'party' (default: random). */
  partyId?: string;
  downMs: number;
  log?: (line: string) => void;
  /** Budget for a restarted process to become healthy (default 120 s). */
  healthTimeoutMs?: number;
  random?: () => number;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export function loadStackState(env: Env): StackState {
  const state = readStackState(env) as StackState | undefined;
  if (!state?.servers || !state.workers) throw new ConclaveError('STACK', 'no dev stack is running here');
  return state;
}

/** SIGKILL to a process and its process group; resolves once it is gone. */
export async function sigkill(pid: number): Promise<void> {
  for (const target of [-pid, pid]) {
    try {
      process.kill(target, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  await stopProcess(pid, { graceMs: 5_000 });
}

function partyOfWorker(w: WorkerProcess): string | undefined {
  return w.kind === 'party' ? w.taskQueue.replace(/^party\./, '') : undefined;
}

function startWorkerLike(env: Env, state: StackState, w: WorkerProcess): WorkerProcess {
  const partyId = partyOfWorker(w);
  return partyId ? startPartyWorker(env, state, partyId) : startCoordinatorWorker(env, state);
}

/**
 * Waits until each worker's own process (identity `<pid>@host`, the SDK default) polls its task
 * queue. Unlike counting pollers, this is not fooled by the poller entry a killed predecessor
 * leaves behind for a few minutes.
 */
export async function waitForPolling(
  state: StackState,
  workers: WorkerProcess[],
  timeoutMs = 120_000,
  namespace = process.env.TEMPORAL_NAMESPACE || 'default',
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  const pending = new Set(workers);
  let connection: Connection | undefined;
  try {
    while (pending.size) {
      try {
        connection ??= await Connection.connect({
          address: state.servers.temporalAddress,
          connectTimeout: '2 seconds',
        });
        for (const w of [...pending]) {
          if (!isAlive(w.pid)) throw new ConclaveError('STACK', `${w.name} (pid ${w.pid}) exited`);
          const res = await connection.withDeadline(Date.now() + 5_000, () =>
            connection!.workflowService.describeTaskQueue({
              namespace,
              taskQueue: { name: w.taskQueue },
              taskQueueType: w.kind === 'coordinator' ? 1 : 2, // WORKFLOW : ACTIVITY
            }),
          );
          if ((res.pollers ?? []).some((p) => (p.identity ?? '').startsWith(`${w.pid}@`))) pending.delete(w);
        }
      } catch (err) {
        if (err instanceof ConclaveError) throw err;
        // Temporal not answering yet: try again until the deadline
      }
      if (!pending.size) break;
      if (Date.now() > deadline) {
        const names = [...pending].map((w) => `${w.name} (pid ${w.pid})`).join(', ');
        throw new ConclaveError('STACK', `not polling after ${timeoutMs / 1000}s: ${names}`);
      }
      await sleep(250);
    }
  } finally {
    await connection?.close().catch(() => undefined);
  }
}

/** Starts a dead worker again (same party, same database and KEK) and waits until it polls. */
export async function restartWorker(
  env: Env,
  state: StackState,
  dead: WorkerProcess,
  timeoutMs = 120_000,
): Promise<WorkerProcess> {
  const fresh = startWorkerLike(env, state, dead);
  state.workers = state.workers.map((w) =>
    w.pid === dead.pid && w.taskQueue === dead.taskQueue ? fresh : w,
  );
  writeState(env, state);
  await waitForPolling(state, [fresh], timeoutMs);
  return fresh;
}

/**
 * One strike: SIGKILL one process of the stack, leave it down for `downMs`, restart it, and return
 * once it is healthy again. The new pid is written to stack.json.
 */
export async function strike(env: Env, kind: ChaosKind, opts: StrikeOptions): Promise<ChaosStrike> {
  const log = opts.log ?? (() => undefined);
  const random = opts.random ?? Math.random;
  const healthMs = opts.healthTimeoutMs ?? 120_000;
  const state = loadStackState(env);
  const notes: string[] = [];
  const at = new Date().toISOString();

  if (kind === 'party' || kind === 'coordinator') {
    let victim: WorkerProcess | undefined;
    if (kind === 'coordinator') {
      victim = state.workers.find((w) => w.taskQueue === coordinatorTaskQueue);
    } else {
      const parties = state.workers.filter((w) => w.kind === 'party');
      const wanted = opts.partyId ? partyTaskQueue(opts.partyId) : undefined;
      victim = wanted
        ? parties.find((w) => w.taskQueue === wanted)
        : parties[Math.floor(random() * parties.length)];
    }
    if (!victim) throw new ConclaveError('STACK', `no ${kind} worker in this stack`);
    log(`chaos: SIGKILL ${victim.name} (pid ${victim.pid}); down for ${opts.downMs} ms`);
    await sigkill(victim.pid);
    await sleep(opts.downMs);
    const t = Date.now();
    const fresh = await restartWorker(env, state, victim, healthMs);
    const restartMs = Date.now() - t;
    log(`chaos: ${fresh.name} back (pid ${fresh.pid}, polling after ${restartMs} ms)`);
    return {
      kind,
      target: victim.name,
      at,
      oldPid: victim.pid,
      newPid: fresh.pid,
      downMs: opts.downMs,
      restartMs,
      notes,
    };
  }

  const server: LocalServer = kind;
  const oldPid = (server === 'temporal' ? state.servers.temporalPid : state.servers.ferretPid) ?? 0;
  log(`chaos: SIGKILL ${server} (pid ${oldPid}); down for ${opts.downMs} ms`);
  await killServer(state.servers, server);
  await sleep(opts.downMs);
  const t = Date.now();
  const newPid = await restartServer(state.servers, server, { timeoutMs: healthMs, log });
  const restartMs = Date.now() - t;
  writeState(env, state);
  const result: ChaosStrike = {
    kind,
    target: server,
    at,
    oldPid,
    newPid,
    downMs: opts.downMs,
    restartMs,
    notes,
  };
  // Workers are not restarted: they must notice the server is back by themselves.
  const dead = state.workers.filter((w) => !isAlive(w.pid));
  for (const w of dead) notes.push(`${w.name} (pid ${w.pid}) died while ${server} was down`);
  if (server === 'temporal') {
    const t2 = Date.now();
    const alive = state.workers.filter((w) => isAlive(w.pid));
    try {
      await waitForPolling(state, alive, 60_000);
      result.workersBackMs = Date.now() - t2;
      log(`chaos: all live workers polling the restarted Temporal after ${result.workersBackMs} ms`);
    } catch (err) {
      notes.push(`workers did not poll again within 60 s: ${(err as Error).message}`);
    }
  }
  log(`chaos: ${server} back (pid ${newPid}, healthy after ${restartMs} ms)`);
  return result;
}

export interface Revival {
  at: string;
  worker: string;
  deadPid: number;
  newPid: number;
  /** Last lines of the dead worker's log: why it died. */
  logTail: string;
}

/**
 * The operator's part: any worker of stack.json that is not running (and was not killed on
 * purpose by a strike in progress) is started again. Each revival is returned for the report.
 */
export async function reviveDeadWorkers(env: Env, log: (line: string) => void = () => undefined) {
  const state = loadStackState(env);
  const revived: Revival[] = [];
  for (const w of state.workers) {
    if (isAlive(w.pid)) continue;
    const tail = await readTail(w.logFile);
    log(`operator: ${w.name} (pid ${w.pid}) is dead; restarting it. Last log lines:\n${tail}`);
    const fresh = await restartWorker(env, state, w);
    revived.push({
      at: new Date().toISOString(),
      worker: w.name,
      deadPid: w.pid,
      newPid: fresh.pid,
      logTail: tail,
    });
  }
  return revived;
}

async function readTail(file: string, lines = 8): Promise<string> {
  const { readFile } = await import('node:fs/promises');
  try {
    return (await readFile(file, 'utf8')).trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

export interface ChaosLoopOptions {
  /** Kinds that must each be struck at least once (default: all four), in random order. */
  mustStrike?: readonly ChaosKind[];
  /** Random pause before each strike, ms. */
  gapMs: [number, number];
  /** Random time each victim stays down, ms. */
  downMs: [number, number];
  /** Stop striking once this is true and every kind in `mustStrike` was struck. */
  shouldStop: () => boolean;
  random?: () => number;
  log?: (line: string) => void;
  /** Aborted: stop at once, no further strikes or revivals (e.g. the drill is being torn down). */
  signal?: AbortSignal;
}

export interface ChaosLoopResult {
  strikes: ChaosStrike[];
  revivals: Revival[];
  errors: string[];
}

/**
 * Strikes one process at a time at random moments until `shouldStop()` (and every mandatory kind
 * was hit). Between strikes it checks every second for workers that died on their own, and
 * restarts them as an operator would (reported in `revivals`).
 */
export async function chaosLoop(env: Env, opts: ChaosLoopOptions): Promise<ChaosLoopResult> {
  const random = opts.random ?? Math.random;
  const log = opts.log ?? (() => undefined);
  const between = ([lo, hi]: [number, number]) => Math.round(lo + random() * (hi - lo));
  const mandatory = shuffle([...(opts.mustStrike ?? chaosKinds)], random);
  // After the mandatory strikes: rounds of all four kinds, each round in a random order.
  let round: ChaosKind[] = [];
  const nextKind = (): ChaosKind => {
    const forced = mandatory.shift();
    if (forced) return forced;
    if (!round.length) round = shuffle([...chaosKinds], random);
    return round.shift()!;
  };
  const result: ChaosLoopResult = { strikes: [], revivals: [], errors: [] };
  const aborted = () => opts.signal?.aborted === true;
  const watch = async () => {
    if (aborted()) return;
    try {
      result.revivals.push(...(await reviveDeadWorkers(env, log)));
    } catch (err) {
      result.errors.push(`revive: ${(err as Error).message}`);
    }
  };
  for (;;) {
    if (aborted() || (opts.shouldStop() && mandatory.length === 0)) break;
    const until = Date.now() + between(opts.gapMs);
    while (Date.now() < until && !aborted()) {
      await sleep(Math.min(1_000, Math.max(0, until - Date.now())));
      await watch();
    }
    if (aborted() || (opts.shouldStop() && mandatory.length === 0)) break;
    const kind = nextKind();
    try {
      result.strikes.push(await strike(env, kind, { downMs: between(opts.downMs), log, random }));
    } catch (err) {
      result.errors.push(`${kind}: ${(err as Error).message}`);
      log(`chaos: strike on ${kind} failed: ${(err as Error).message}`);
    }
    await watch();
  }
  return result;
}

function shuffle<T>(items: T[], random: () => number): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [items[i], items[j]] = [items[j]!, items[i]!];
  }
  return items;
}

/**
 * Last-resort clean-up after an interrupted drill: SIGKILL every process (other than this one)
 * whose command line or environment mentions `home` — servers carry it in their data paths,
 * workers in CONCLAVE_HOME — e.g. a server a strike had just started when the drill was stopped.
 * Linux only (/proc); elsewhere it does nothing. Returns the pids it killed.
 */
export async function killStrays(home: string): Promise<number[]> {
  const { readdirSync, readFileSync } = await import('node:fs');
  let entries: string[];
  try {
    entries = readdirSync('/proc').filter((e) => /^\d+$/.test(e));
  } catch {
    return [];
  }
  const killed: number[] = [];
  for (const entry of entries) {
    const pid = Number(entry);
    if (pid === process.pid) continue;
    let text = '';
    try {
      text =
        readFileSync(`/proc/${pid}/cmdline`, 'utf8') + '\0' + readFileSync(`/proc/${pid}/environ`, 'utf8');
    } catch {
      continue; // gone, or not ours to read
    }
    const mentions = text
      .split('\0')
      .some((field) => field === `CONCLAVE_HOME=${home}` || field.includes(`${home}/`));
    if (!mentions) continue;
    await sigkill(pid).catch(() => undefined);
    killed.push(pid);
  }
  return killed;
}
