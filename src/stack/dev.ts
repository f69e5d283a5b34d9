/**
 * The local dev stack: servers (Temporal dev server, FerretDB) plus one worker process per
 * party and one coordinator worker, all started in the background. Its state (addresses, pids,
 * party ids) lives in `<CONCLAVE_HOME>/stack.json`; per-party key-encryption keys for dev live
 * in `<CONCLAVE_HOME>/keys/<party>.kek` (mode 600). In production each party's KEK comes from
 * its own secret store through `CONCLAVE_PARTY_<ID>_KEK`.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Connection } from '@temporalio/client';
import { coordinatorTaskQueue, partyTaskQueue } from '../../temporal.config.js';
import {
  conclaveHome,
  defaultParties,
  partyKekEnvName,
  readStackState,
  stackStatePath,
  type Env,
} from '../config.js';
import { generateActorKey } from '../policy/authorization.js';
import { generateRecoveryKey } from '../crypto/backup.js';
import { ConclaveError } from '../errors.js';
import { pinPeerKeys, showPartyKeys } from '../party/admin.js';
import { requiresGate } from '../party/runtime.js';
import { defaultTenant } from '../client/index.js';
import { setUpDevTenant } from './dev-tenant.js';
import { startServers, stopServers, type ServerInfo } from './local.js';
import { projectRoot } from './paths.js';
import { isAlive, spawnDaemon, stopProcess } from './processes.js';

export interface WorkerProcess {
  name: string;
  pid: number;
  logFile: string;
  /** Task queue whose pollers prove the worker is up. */
  taskQueue: string;
  kind: 'party' | 'coordinator';
}

export interface StackState {
  servers: ServerInfo;
  parties: string[];
  dbPrefix: string;
  workers: WorkerProcess[];
  /** The default tenant's dev key file, when the parties gate and the tenant was set up for it. */
  devKeyFile?: string;
  /** Whether the parties gate (CONCLAVE_REQUIRE_GATE at `dev up`): a restarted party keeps it. */
  gated?: boolean;
  /**
   * The recovery public key the parties encrypt backups to, when CONCLAVE_RECOVERY_PUBLIC_KEY was
   * given at `dev up` or `dev restart` (otherwise the dev key in `keys/recovery.key`): a
   * restarted party keeps it.
   */
  recoveryPublicKey?: string;
}

export interface DevUpOptions {
  env?: Env;
  parties?: number;
  dbPrefix?: string;
  log?: (line: string) => void;
}

const workerScript = (name: string) => join(projectRoot, 'src', 'worker', `${name}.ts`);

export function writeState(env: Env, state: StackState): void {
  mkdirSync(conclaveHome(env), { recursive: true });
  writeFileSync(stackStatePath(env), JSON.stringify(state, null, 2));
}

/** The dev KEK of a party, created on first use. */
export function devPartyKek(env: Env, partyId: string): string {
  const dir = join(conclaveHome(env), 'keys');
  const file = join(dir, `${partyId}.kek`);
  if (!existsSync(file)) {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    writeFileSync(file, randomBytes(32).toString('hex'), { mode: 0o600 });
  }
  return readFileSync(file, 'utf8').trim();
}

/**
 * The dev stack's operator recovery key, created on first use in `<CONCLAVE_HOME>/keys/recovery.key`
 * (mode 600). In production the operator keeps the secret key offline and gives each party only
 * the public key (`CONCLAVE_RECOVERY_PUBLIC_KEY`).
 */
export function devRecoveryKey(env: Env): { secretKey: string; publicKey: string } {
  const dir = join(conclaveHome(env), 'keys');
  const file = join(dir, 'recovery.key');
  if (!existsSync(file)) {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    writeFileSync(file, JSON.stringify(generateRecoveryKey()), { mode: 0o600 });
  }
  return JSON.parse(readFileSync(file, 'utf8')) as { secretKey: string; publicKey: string };
}

/** The dev stack's recovery key file and its public key, if it was ever made (never creates it). */
export function existingDevRecoveryKey(env: Env): { file: string; publicKey: string } | undefined {
  const file = join(conclaveHome(env), 'keys', 'recovery.key');
  try {
    const { publicKey } = JSON.parse(readFileSync(file, 'utf8')) as { publicKey?: unknown };
    return typeof publicKey === 'string' ? { file, publicKey } : undefined;
  } catch {
    return undefined;
  }
}

/** What `conclave backup keygen` made last: its file and public key (never the secret key). */
export interface RecoveryKeyNote {
  file: string;
  publicKey: string;
  createdAt: string;
}

const recoveryKeyNotePath = (env: Env) => join(conclaveHome(env), 'last-recovery-key.json');

/**
 * Notes the recovery key `conclave backup keygen` just made (in `<CONCLAVE_HOME>/last-recovery-key.json`),
 * so `backup export` can warn when the parties still encrypt to another one.
 */
export function noteRecoveryKeyMade(env: Env, file: string, publicKey: string): void {
  const note: RecoveryKeyNote = { file: resolve(file), publicKey, createdAt: new Date().toISOString() };
  mkdirSync(conclaveHome(env), { recursive: true });
  writeFileSync(recoveryKeyNotePath(env), JSON.stringify(note, null, 2));
}

/** The recovery key `conclave backup keygen` made last, if it ran with this CONCLAVE_HOME. */
export function lastRecoveryKeyMade(env: Env): RecoveryKeyNote | undefined {
  try {
    const note = JSON.parse(readFileSync(recoveryKeyNotePath(env), 'utf8')) as Partial<RecoveryKeyNote>;
    return typeof note.publicKey === 'string' && typeof note.file === 'string'
      ? (note as RecoveryKeyNote)
      : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The dev stack's coordinator key (signs audit checkpoints), created on first use in
 * `<CONCLAVE_HOME>/keys/coordinator.key`. Returns the file's path.
 */
export function devCoordinatorKeyFile(env: Env): string {
  const dir = join(conclaveHome(env), 'keys');
  const file = join(dir, 'coordinator.key');
  if (!existsSync(file)) {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    writeFileSync(file, JSON.stringify(generateActorKey('coordinator')), { mode: 0o600 });
  }
  return file;
}

/** The dev stack's Temporal payload key (hex), created on first use in `<CONCLAVE_HOME>/keys/payload.key`. */
export function devPayloadKey(env: Env): string {
  const dir = join(conclaveHome(env), 'keys');
  const file = join(dir, 'payload.key');
  if (!existsSync(file)) {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    writeFileSync(file, randomBytes(32).toString('hex'), { mode: 0o600 });
  }
  return readFileSync(file, 'utf8').trim();
}

/** Environment a worker process of this stack runs with. */
export function workerEnv(
  env: Env,
  state: Pick<StackState, 'parties' | 'dbPrefix' | 'gated' | 'recoveryPublicKey'>,
  partyId?: string,
): Env {
  const out: Env = {
    CONCLAVE_HOME: conclaveHome(env),
    CONCLAVE_PARTIES: state.parties.join(','),
    CONCLAVE_DB_PREFIX: state.dbPrefix,
    CONCLAVE_PAYLOAD_KEY: env.CONCLAVE_PAYLOAD_KEY ?? devPayloadKey(env),
  };
  if (partyId) {
    out[partyKekEnvName(partyId)] = env[partyKekEnvName(partyId)] ?? devPartyKek(env, partyId);
    // parties gate by default (the default tenant is set up for it); a harness that runs many
    // tenants with no trust set up opts out explicitly with CONCLAVE_REQUIRE_GATE=0 at `dev up`,
    // and a party it restarts later (a kill drill, a wiped party) keeps the stack's choice
    if (env.CONCLAVE_REQUIRE_GATE !== undefined) out.CONCLAVE_REQUIRE_GATE = env.CONCLAVE_REQUIRE_GATE;
    else if (state.gated === false) out.CONCLAVE_REQUIRE_GATE = '0';
    out.CONCLAVE_RECOVERY_PUBLIC_KEY =
      env.CONCLAVE_RECOVERY_PUBLIC_KEY ?? state.recoveryPublicKey ?? devRecoveryKey(env).publicKey;
  } else {
    out.CONCLAVE_COORDINATOR_KEY = env.CONCLAVE_COORDINATOR_KEY ?? devCoordinatorKeyFile(env);
    if (env.CONCLAVE_WEBHOOK_RETRY_SCHEDULE)
      out.CONCLAVE_WEBHOOK_RETRY_SCHEDULE = env.CONCLAVE_WEBHOOK_RETRY_SCHEDULE;
  }
  return out;
}

export function startPartyWorker(env: Env, state: StackState, partyId: string): WorkerProcess {
  const logFile = join(conclaveHome(env), 'logs', `party-${partyId}.log`);
  const pid = spawnDaemon({
    name: `party ${partyId}`,
    command: process.execPath,
    args: ['--import', 'tsx', workerScript('party'), partyId],
    env: workerEnv(env, state, partyId),
    logFile,
    cwd: projectRoot,
  });
  return { name: `party ${partyId}`, pid, logFile, taskQueue: partyTaskQueue(partyId), kind: 'party' };
}

export function startCoordinatorWorker(env: Env, state: StackState): WorkerProcess {
  const logFile = join(conclaveHome(env), 'logs', 'coordinator.log');
  const pid = spawnDaemon({
    name: 'coordinator',
    command: process.execPath,
    args: ['--import', 'tsx', workerScript('coordinator')],
    env: workerEnv(env, state),
    logFile,
    cwd: projectRoot,
  });
  return { name: 'coordinator', pid, logFile, taskQueue: coordinatorTaskQueue, kind: 'coordinator' };
}

function tail(file: string, lines = 15): string {
  try {
    return readFileSync(file, 'utf8').trim().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

export interface WaitForWorkersOptions {
  /**
   * Count only the worker's own poller (identity `<pid>@host`, the SDK default), not the entry a
   * killed predecessor on the same queue leaves on the server for a while.
   */
  own?: boolean;
  /** Called once per worker when it polls, with the time since the wait began. */
  onReady?: (worker: WorkerProcess, ms: number) => void;
  /** Called every `everyMs` (default 10 s) with the workers still awaited. */
  onWaiting?: (pending: WorkerProcess[], ms: number) => void;
  everyMs?: number;
}

/** Waits until each worker polls its task queue (proof it is connected and ready). */
export async function waitForWorkers(
  state: StackState,
  workers: WorkerProcess[],
  timeoutMs = 120_000,
  namespace = process.env.TEMPORAL_NAMESPACE || 'default',
  opts: WaitForWorkersOptions = {},
): Promise<void> {
  const connection = await Connection.connect({ address: state.servers.temporalAddress });
  try {
    const started = Date.now();
    const deadline = started + timeoutMs;
    const everyMs = opts.everyMs ?? 10_000;
    let nextReport = started + everyMs;
    const pending = new Set(workers);
    while (pending.size) {
      for (const w of [...pending]) {
        if (!isAlive(w.pid)) {
          throw new ConclaveError(
            'STACK',
            `${w.name} exited during start-up (its log: ${w.logFile}):\n${tail(w.logFile)}`,
          );
        }
        const res = await connection.workflowService.describeTaskQueue({
          namespace,
          taskQueue: { name: w.taskQueue },
          taskQueueType: w.kind === 'coordinator' ? 1 : 2, // WORKFLOW : ACTIVITY
        });
        const pollers = (res.pollers ?? []).filter(
          (p) => !opts.own || (p.identity ?? '').startsWith(`${w.pid}@`),
        );
        if (pollers.length > 0) {
          pending.delete(w);
          opts.onReady?.(w, Date.now() - started);
        }
      }
      if (!pending.size) break;
      if (Date.now() > deadline) {
        const names = [...pending].map((w) => `${w.name} (its log: ${w.logFile})`).join(', ');
        throw new ConclaveError('STACK', `workers not ready after ${timeoutMs / 1000}s: ${names}`);
      }
      if (opts.onWaiting && Date.now() >= nextReport) {
        opts.onWaiting([...pending], Date.now() - started);
        nextReport += everyMs;
      }
      await new Promise((r) => setTimeout(r, 250));
    }
  } finally {
    await connection.close();
  }
}

const seconds = (ms: number) => `${(ms / 1000).toFixed(1)}s`;

/** Progress lines of a wait for workers: one per worker ready, and who is still awaited. */
function workerProgress(env: Env, log: (line: string) => void): WaitForWorkersOptions {
  return {
    onReady: (w, ms) => log(`${w.name} ready (${seconds(ms)})`),
    onWaiting: (pending, ms) =>
      log(
        `still waiting for ${pending
          .map((w) => `${w.name}${w.kind === 'coordinator' ? ' (it bundles the workflows first)' : ''}`)
          .join(', ')} after ${Math.round(ms / 1000)}s (logs: ${join(conclaveHome(env), 'logs')})`,
      ),
  };
}

export async function devUp(opts: DevUpOptions = {}): Promise<StackState> {
  const env = opts.env ?? process.env;
  const log = opts.log ?? (() => undefined);
  const existing = readStackState(env) as StackState | undefined;
  if (existing?.workers?.some((w) => isAlive(w.pid))) {
    const down = devStatus(env).processes.filter((p) => !p.alive);
    if (!down.length) {
      throw new ConclaveError(
        'STACK',
        'the dev stack is already running (`conclave dev status` shows it, `conclave dev down` stops it)',
      );
    }
    throw new ConclaveError('STACK', `the dev stack is running, but ${downSummary(down)}`);
  }
  const count = opts.parties ?? 5;
  if (!Number.isInteger(count) || count < 2 || count > defaultParties.length) {
    throw new ConclaveError('BAD_INPUT', `--parties must be between 2 and ${defaultParties.length}`);
  }
  const dataDir = join(conclaveHome(env), 'data');
  const servers = await startServers({ dataDir, log });
  const state: StackState = {
    servers,
    parties: defaultParties.slice(0, count),
    dbPrefix: opts.dbPrefix ?? 'conclave',
    workers: [],
    gated: requiresGate(env),
    ...(env.CONCLAVE_RECOVERY_PUBLIC_KEY ? { recoveryPublicKey: env.CONCLAVE_RECOVERY_PUBLIC_KEY } : {}),
  };
  writeState(env, state);
  try {
    log(`starting ${count} party workers and the coordinator (logs in ${join(conclaveHome(env), 'logs')})`);
    state.workers = [
      ...state.parties.map((p) => startPartyWorker(env, state, p)),
      startCoordinatorWorker(env, state),
    ];
    writeState(env, state);
    await waitForWorkers(state, state.workers, undefined, undefined, workerProgress(env, log));
    log("pinning every party's keys at every other party");
    await pinDevParties(env, state.parties);
    if (state.gated) {
      state.devKeyFile = await setUpDevTenant(env, state.parties, log);
      writeState(env, state);
      log(
        `parties gate: tenant ${defaultTenant} is set up with the dev key ${state.devKeyFile} (its initiator, approver and publisher); other tenants need \`conclave party trust\``,
      );
    } else log('CONCLAVE_REQUIRE_GATE=0: the parties act for any tenant, ungated');
  } catch (err) {
    await devDown({ env });
    throw err;
  }
  log('stack ready');
  return state;
}

/**
 * The set-up step of a deployment: each party's operator pins every other party's keys, so no key
 * generation meets a peer on first use, and parties may join existing wallets. In the dev stack one
 * operator runs every party; in production each operator pins what the others tell it out of band
 * (`conclave party show`, then `conclave party pin`).
 */
async function pinDevParties(env: Env, parties: string[]): Promise<void> {
  const keys = await Promise.all(parties.map((p) => showPartyKeys(p, env)));
  for (const party of parties) {
    for (const peer of keys) if (peer.partyId !== party) await pinPeerKeys(party, peer, env);
  }
}

export async function devDown(opts: { env?: Env } = {}): Promise<boolean> {
  const env = opts.env ?? process.env;
  const state = readStackState(env) as StackState | undefined;
  if (!state) return false;
  await Promise.all((state.workers ?? []).map((w) => stopProcess(w.pid, { graceMs: 10_000 })));
  if (state.servers) await stopServers(state.servers);
  rmSync(stackStatePath(env), { force: true });
  return true;
}

export interface StackProcess {
  name: string;
  pid?: number;
  alive: boolean;
  /** What `conclave dev restart` takes for it (a party id, `coordinator`); none for the servers. */
  target?: string;
}

export interface StackStatus {
  running: boolean;
  temporalAddress?: string;
  mongoUri?: string;
  processes: StackProcess[];
}

/** The party id of a party worker, or `coordinator`. */
export const targetOf = (w: WorkerProcess): string =>
  w.kind === 'coordinator' ? 'coordinator' : w.taskQueue.slice(partyTaskQueue('').length);

/** What is down, and how to bring it back, in one line. */
export function downSummary(down: StackProcess[]): string {
  const names = down.map((p) => p.name);
  const what = `${names.join(', ')} ${names.length === 1 ? 'is' : 'are'} down`;
  if (down.some((p) => !p.target)) {
    return `${what}: the servers cannot be restarted under running workers; \`conclave dev down\`, then \`conclave dev up\` (the data stays)`;
  }
  return `${what}: restart ${names.length === 1 ? 'it' : 'them'} with ${down
    .map((p) => `\`conclave dev restart ${p.target}\``)
    .join(', ')}`;
}

export function devStatus(env: Env = process.env): StackStatus {
  const state = readStackState(env) as StackState | undefined;
  if (!state) return { running: false, processes: [] };
  const processes = [
    {
      name: 'temporal',
      pid: state.servers.temporalPid,
      alive: state.servers.temporalPid ? isAlive(state.servers.temporalPid) : true,
    },
    {
      name: 'ferretdb',
      pid: state.servers.ferretPid,
      alive: state.servers.ferretPid ? isAlive(state.servers.ferretPid) : true,
    },
    ...state.workers.map((w) => ({ name: w.name, pid: w.pid, alive: isAlive(w.pid), target: targetOf(w) })),
  ];
  return {
    running: processes.every((p) => p.alive),
    temporalAddress: state.servers.temporalAddress,
    mongoUri: state.servers.mongoUri,
    processes,
  };
}

/** A worker of this stack: `coordinator`, or a party id. */
function workerOf(env: Env, target: string): { state: StackState; worker: WorkerProcess } {
  const state = readStackState(env) as StackState | undefined;
  const worker = state?.workers.find((w) =>
    target === 'coordinator'
      ? w.kind === 'coordinator'
      : w.kind === 'party' && w.taskQueue === partyTaskQueue(target),
  );
  if (!state) throw new ConclaveError('STACK', 'the dev stack is not running (`conclave dev up` starts it)');
  if (!worker) {
    throw new ConclaveError(
      'BAD_INPUT',
      `no worker for ${target} in this stack; its workers: ${state.workers.map(targetOf).join(', ')}`,
    );
  }
  return { state, worker };
}

/** Kills one worker (`coordinator` or a party id) with SIGKILL: no chance to finish or clean up. */
export async function killWorker(env: Env, target: string): Promise<void> {
  const { worker } = workerOf(env, target);
  if (isAlive(worker.pid)) process.kill(worker.pid, 'SIGKILL');
  await stopProcess(worker.pid, { graceMs: 5_000 });
}

/**
 * Starts a killed worker again and waits until it polls its queue. Crash tests pass `crashAt`
 * (`<activity>:<before|after>`): the worker then kills itself at that step (`src/drills/crash-at.ts`);
 * its pid is returned so the caller can wait for the crash.
 */
export async function restartWorker(
  env: Env,
  target: string,
  opts: { crashAt?: string } = {},
): Promise<number> {
  const { state, worker } = workerOf(env, target);
  let fresh: WorkerProcess;
  if (opts.crashAt) {
    const logFile = join(conclaveHome(env), 'logs', `crash-${target}.log`);
    const args = target === 'coordinator' ? ['coordinator', opts.crashAt] : ['party', target, opts.crashAt];
    const pid = spawnDaemon({
      name: `${worker.name} (crashes at ${opts.crashAt})`,
      command: process.execPath,
      args: ['--import', 'tsx', join(projectRoot, 'src', 'drills', 'crash-at.ts'), ...args],
      env: workerEnv(env, state, target === 'coordinator' ? undefined : target),
      logFile,
      cwd: projectRoot,
    });
    fresh = { ...worker, pid, logFile };
  } else {
    fresh =
      target === 'coordinator' ? startCoordinatorWorker(env, state) : startPartyWorker(env, state, target);
  }
  state.workers = state.workers.map((w) => (w === worker ? fresh : w));
  writeState(env, state);
  // a crashing worker may be gone before it is seen polling; the server may still list the
  // killed worker's poller, so callers that need the new one up wait for its own traces
  if (!opts.crashAt) await waitForWorkers(state, [fresh]);
  return fresh.pid;
}

/**
 * `conclave dev restart <party|coordinator>`: stops the worker if it still runs, starts it again
 * with the stack's settings (its KEK, the stack's gating and recovery key) and waits until the new
 * process polls its queue. Refuses when the servers it needs are down.
 */
export async function restartDevWorker(
  env: Env,
  target: string,
  opts: { log?: (line: string) => void; timeoutMs?: number } = {},
): Promise<{ worker: WorkerProcess; wasRunning: boolean; ms: number }> {
  const log = opts.log ?? (() => undefined);
  const { state, worker } = workerOf(env, target);
  const servers = devStatus(env).processes.filter((p) => !p.target && !p.alive);
  if (servers.length) throw new ConclaveError('STACK', `${target} cannot start: ${downSummary(servers)}`);
  const started = Date.now();
  const wasRunning = isAlive(worker.pid);
  if (wasRunning) {
    log(`stopping ${worker.name} (pid ${worker.pid})`);
    await stopProcess(worker.pid, { graceMs: 10_000 });
  }
  // a recovery key given now is the stack's from now on (a later restart keeps it)
  if (env.CONCLAVE_RECOVERY_PUBLIC_KEY && worker.kind === 'party')
    state.recoveryPublicKey = env.CONCLAVE_RECOVERY_PUBLIC_KEY;
  const fresh =
    worker.kind === 'coordinator' ? startCoordinatorWorker(env, state) : startPartyWorker(env, state, target);
  log(
    `started ${fresh.name} (pid ${fresh.pid}, log ${fresh.logFile}); waiting until it polls ${fresh.taskQueue}`,
  );
  state.workers = state.workers.map((w) => (w === worker ? fresh : w));
  writeState(env, state);
  await waitForWorkers(state, [fresh], opts.timeoutMs ?? 90_000, env.TEMPORAL_NAMESPACE || 'default', {
    own: true,
    ...workerProgress(env, log),
    onReady: () => undefined,
  });
  return { worker: fresh, wasRunning, ms: Date.now() - started };
}
