/**
 * The local stack: a Temporal dev server (SQLite file) and FerretDB v1 (MongoDB wire protocol over
 * SQLite), both on free 127.0.0.1 ports, started as detached daemons and health-checked before
 * anything returns. `TEMPORAL_ADDRESS` / `MONGODB_URI` replace the respective local server with an
 * existing one (then only health-checked, never started or stopped).
 */
import { tenantSearchAttribute } from '../../temporal.config.js';
import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { Connection } from '@temporalio/client';
import { MongoClient } from 'mongodb';
import { ConclaveError } from '../errors.js';
import { ensureBinary } from './binaries.js';
import { freePort } from './ports.js';
import { isAlive, spawnDaemon, stopProcess } from './processes.js';

export interface ServerInfo {
  temporalAddress: string;
  mongoUri: string;
  /** Present only if this module started the server. */
  temporalPid?: number;
  ferretPid?: number;
  dataDir: string;
  startedAt: string;
}

export interface StartServersOptions {
  /** Holds temporal.db, the FerretDB SQLite folder and both log files; created if missing. */
  dataDir: string;
  log?: (s: string) => void;
  /** Per-server start-up / health-check budget (default 60 s; builds are not counted). */
  timeoutMs?: number;
  /** Where TEMPORAL_ADDRESS / MONGODB_URI are read from (default `process.env`). */
  env?: NodeJS.ProcessEnv;
}

const DEFAULT_TIMEOUT_MS = 60_000;
const STOP_GRACE_MS = 5_000;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** One-line description of an error, including its cause chain (gRPC / driver details live there). */
function reasonOf(err: unknown): string {
  const parts: string[] = [];
  let current: unknown = err;
  for (let depth = 0; current !== undefined && current !== null && depth < 4; depth++) {
    const message = current instanceof Error ? current.message : String(current);
    if (message && !parts.includes(message)) parts.push(message);
    current = current instanceof Error ? current.cause : undefined;
  }
  return parts.join(': ').replace(/\s*\n\s*/g, ' ') || 'unknown error';
}

function logTail(logFile: string, lines = 20): string {
  try {
    return fs.readFileSync(logFile, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log output)';
  }
}

// ---------------------------------------------------------------------------------------------
// Health probes

async function probeTemporal(address: string, attemptMs: number, namespace?: string): Promise<void> {
  const connection = Connection.lazy({ address, connectTimeout: attemptMs });
  try {
    await connection.ensureConnected(); // getSystemInfo
    if (namespace) {
      await connection.withDeadline(Date.now() + attemptMs, () =>
        connection.workflowService.describeNamespace({ namespace }),
      );
    }
  } finally {
    await connection.close().catch(() => undefined);
  }
}

async function probeMongo(uri: string, attemptMs: number): Promise<void> {
  const client = new MongoClient(uri, {
    serverSelectionTimeoutMS: attemptMs,
    connectTimeoutMS: attemptMs,
    socketTimeoutMS: attemptMs,
  });
  try {
    await client.connect();
    await client.db('admin').command({ ping: 1 });
  } finally {
    await client.close().catch(() => undefined);
  }
}

/** Errors that retrying cannot fix (malformed URI/options). */
function isPermanent(err: unknown): boolean {
  return err instanceof Error && /MongoParseError|MongoInvalidArgumentError/.test(err.name);
}

async function retry(
  timeoutMs: number,
  probe: (attemptMs: number) => Promise<void>,
  fail: (reason: string) => ConclaveError,
  beforeAttempt?: () => void,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let reason = 'timed out';
  for (;;) {
    beforeAttempt?.();
    const remaining = deadline - Date.now();
    try {
      await probe(Math.max(250, Math.min(2_000, remaining)));
      return;
    } catch (err) {
      if (err instanceof ConclaveError) throw err;
      reason = reasonOf(err);
      if (isPermanent(err)) throw fail(reason);
    }
    if (Date.now() >= deadline) throw fail(reason);
    await sleep(Math.min(150, Math.max(0, deadline - Date.now())));
  }
}

/** Health check: connect with @temporalio/client and call getSystemInfo, retrying until `timeoutMs`. */
export async function checkTemporal(address: string, timeoutMs: number): Promise<void> {
  await retry(
    timeoutMs,
    (ms) => probeTemporal(address, ms),
    (reason) => new ConclaveError('STACK', `Temporal at ${address} is not answering: ${reason}`),
  );
}

/** Health check: MongoClient connect + `admin` ping, retrying until `timeoutMs`. */
export async function checkMongo(uri: string, timeoutMs: number): Promise<void> {
  await retry(
    timeoutMs,
    (ms) => probeMongo(uri, ms),
    (reason) => new ConclaveError('STACK', `MongoDB at ${redact(uri)} is not answering: ${reason}`),
  );
}

/** Hides a password in a connection string before it goes into a message. */
function redact(uri: string): string {
  return uri.replace(/\/\/([^:@/]+):[^@/]*@/, '//$1:***@');
}

// ---------------------------------------------------------------------------------------------
// Local daemons

interface Started {
  address: string;
  pid?: number;
}

interface DaemonPlan {
  name: string;
  label: string;
  binary: string;
  logFile: string;
  cwd: string;
  env?: Record<string, string>;
  /** Builds the arguments for a given free port; returns them with the client address. */
  plan: (port: number) => { args: string[]; address: string };
  probe: (address: string, attemptMs: number) => Promise<void>;
}

const PORT_CLASH = /address already in use|can't set .*port|bind: /i;

async function startDaemon(
  d: DaemonPlan,
  timeoutMs: number,
  log: (s: string) => void,
  fixedPort?: number,
): Promise<Started> {
  for (let attempt = 1; ; attempt++) {
    const port = fixedPort ?? (await freePort());
    const { args, address } = d.plan(port);
    log(`starting ${d.label} on ${address}`);
    const started = Date.now();
    const pid = spawnDaemon({
      name: d.name,
      command: d.binary,
      args,
      env: d.env,
      logFile: d.logFile,
      cwd: d.cwd,
    });
    let exited = false;
    try {
      await retry(
        timeoutMs,
        (ms) => d.probe(address, ms),
        (reason) =>
          new ConclaveError(
            'STACK',
            `${d.label} at ${address} is not answering: ${reason}; last lines of ${d.logFile}:\n${logTail(d.logFile)}`,
          ),
        () => {
          if (!isAlive(pid)) {
            exited = true;
            throw new ConclaveError(
              'STACK',
              `${d.label} exited during start-up; last lines of ${d.logFile}:\n${logTail(d.logFile)}`,
            );
          }
        },
      );
      log(`${d.label} is up on ${address} (pid ${pid}, ${Date.now() - started} ms)`);
      return { address, pid };
    } catch (err) {
      await stopProcess(pid, { graceMs: 1_000 }).catch(() => undefined);
      const clash = exited && PORT_CLASH.test(logTail(d.logFile));
      // Another program may have taken the port between freePort() and the server binding it.
      if (clash && fixedPort === undefined && attempt < 3) {
        log(`${d.label}: port ${port} was taken meanwhile; retrying on another port`);
        continue;
      }
      // A restart on the same port: the old socket may take a moment to be released.
      if (clash && fixedPort !== undefined && attempt < 10) {
        log(`${d.label}: port ${port} is still in use; retrying`);
        await sleep(500);
        continue;
      }
      throw err;
    }
  }
}

function temporalPlan(dataDir: string, binary: string): DaemonPlan {
  return {
    name: 'temporal',
    label: 'Temporal dev server',
    binary,
    logFile: path.join(dataDir, 'temporal.log'),
    cwd: dataDir,
    // --http-port and --metrics-port are left out: the dev server then picks free ports on --ip.
    plan: (port) => ({
      address: `127.0.0.1:${port}`,
      args: [
        'server',
        'start-dev',
        '--ip',
        '127.0.0.1',
        '--port',
        String(port),
        '--headless',
        '--db-filename',
        path.join(dataDir, 'temporal.db'),
        // WAL without a sync per commit: survives kill -9 (the drills do it), may lose the last
        // commits on power loss; this is the local stack only, production uses a real cluster.
        '--sqlite-pragma',
        'journal_mode=wal',
        '--sqlite-pragma',
        'synchronous=normal',
        // The default (20 reads/s on the dev server's single shard) holds every activity and
        // workflow task dispatch for up to 50 ms: measured 40 ms per round trip, 250 ms for an
        // empty two-round ceremony, 47 ms with this setting.
        '--dynamic-config-value',
        'history.transferProcessorMaxPollRPS=1000',
        // every ceremony carries its tenant, for visibility queries (ConclaveTenant = 'acme')
        '--search-attribute',
        `${tenantSearchAttribute}=Keyword`,
        '--log-level',
        'warn',
      ],
    }),
    probe: (address, ms) => probeTemporal(address, ms, 'default'),
  };
}

function ferretPlan(dataDir: string, binary: string): DaemonPlan {
  const sqliteDir = path.join(dataDir, 'ferretdb');
  fs.mkdirSync(sqliteDir, { recursive: true });
  return {
    name: 'ferretdb',
    label: 'FerretDB',
    binary,
    logFile: path.join(dataDir, 'ferretdb.log'),
    cwd: dataDir,
    // At WARN, FerretDB dumps every failed command (e.g. each duplicate-key error) in full.
    env: { FERRETDB_LOG_LEVEL: process.env.FERRETDB_LOG_LEVEL ?? 'error' },
    plan: (port) => ({
      address: `mongodb://127.0.0.1:${port}/`,
      args: [
        '--handler=sqlite',
        `--sqlite-url=${pathToFileURL(sqliteDir).href}/`,
        `--listen-addr=127.0.0.1:${port}`,
        `--state-dir=${dataDir}`,
        '--debug-addr=-',
        '--telemetry=disable',
      ],
    }),
    probe: probeMongo,
  };
}

async function startTemporal(dataDir: string, timeoutMs: number, log: (s: string) => void): Promise<Started> {
  const binary = await ensureBinary('temporal', { log });
  return startDaemon(temporalPlan(dataDir, binary), timeoutMs, log);
}

async function startFerret(dataDir: string, timeoutMs: number, log: (s: string) => void): Promise<Started> {
  const binary = await ensureBinary('ferretdb', { log });
  return startDaemon(ferretPlan(dataDir, binary), timeoutMs, log);
}

/**
 * Starts (building on first use) the Temporal dev server and FerretDB concurrently on free loopback
 * ports and returns once both answer real requests. A server whose env var (TEMPORAL_ADDRESS,
 * MONGODB_URI) is set is not started, only health-checked; its pid is then absent. On any failure,
 * whatever was started is stopped again and a ConclaveError('STACK') is thrown.
 */
export async function startServers(opts: StartServersOptions): Promise<ServerInfo> {
  const dataDir = path.resolve(opts.dataDir);
  const log = opts.log ?? (() => undefined);
  const timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  fs.mkdirSync(dataDir, { recursive: true });

  const env = opts.env ?? process.env;
  const externalTemporal = env.TEMPORAL_ADDRESS?.trim();
  const externalMongo = env.MONGODB_URI?.trim();

  const [temporal, mongo] = await Promise.allSettled([
    externalTemporal
      ? checkTemporal(externalTemporal, timeoutMs).then((): Started => ({ address: externalTemporal }))
      : startTemporal(dataDir, timeoutMs, log),
    externalMongo
      ? checkMongo(externalMongo, timeoutMs).then((): Started => ({ address: externalMongo }))
      : startFerret(dataDir, timeoutMs, log),
  ]);

  if (temporal.status === 'rejected' || mongo.status === 'rejected') {
    const pids = [temporal, mongo].flatMap((r) =>
      r.status === 'fulfilled' && r.value.pid ? [r.value.pid] : [],
    );
    await Promise.all(pids.map((pid) => stopProcess(pid, { graceMs: STOP_GRACE_MS }).catch(() => undefined)));
    const errors = [temporal, mongo].flatMap((r) => (r.status === 'rejected' ? [r.reason as unknown] : []));
    if (errors.length === 1) throw errors[0];
    throw new ConclaveError(
      'STACK',
      errors.map((e) => (e instanceof Error ? e.message : String(e))).join('\n'),
    );
  }

  const info: ServerInfo = {
    temporalAddress: temporal.value.address,
    mongoUri: mongo.value.address,
    dataDir,
    startedAt: new Date().toISOString(),
  };
  if (temporal.value.pid !== undefined) info.temporalPid = temporal.value.pid;
  if (mongo.value.pid !== undefined) info.ferretPid = mongo.value.pid;
  return info;
}

/** Stops the servers startServers started (those with a pid); external servers are left alone. */
export async function stopServers(info: ServerInfo): Promise<void> {
  const pids = [info.temporalPid, info.ferretPid].filter((pid): pid is number => pid !== undefined);
  await Promise.all(pids.map((pid) => stopProcess(pid, { graceMs: STOP_GRACE_MS })));
}

// ---------------------------------------------------------------------------------------------
// Restarts (fault drills): one server killed and started again on the same port and data

export type LocalServer = 'temporal' | 'ferretdb';

export interface RestartServerOptions {
  log?: (s: string) => void;
  /** Start-up / health-check budget (default 60 s). */
  timeoutMs?: number;
}

/** The TCP port of `127.0.0.1:7233` or `mongodb://127.0.0.1:27017/`. */
export function portOfAddress(address: string): number {
  const m = /:(\d+)\/?$/.exec(address.trim());
  if (!m) throw new ConclaveError('STACK', `no port in server address ${address}`);
  return Number(m[1]);
}

/** The pid of a server this stack started, or a STACK error for an external one. */
export function serverPid(info: ServerInfo, server: LocalServer): number {
  const pid = server === 'temporal' ? info.temporalPid : info.ferretPid;
  if (pid === undefined) {
    throw new ConclaveError(
      'STACK',
      `${server} was not started by this stack (external server); cannot kill it`,
    );
  }
  return pid;
}

/**
 * Kills a local server with SIGKILL (its whole process group): no shutdown, no flush. Resolves
 * once it is gone. Its data dir and port are left as they are, for restartServer.
 */
export async function killServer(info: ServerInfo, server: LocalServer): Promise<void> {
  const pid = serverPid(info, server);
  for (const target of [-pid, pid]) {
    try {
      process.kill(target, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  await stopProcess(pid, { graceMs: 5_000 });
}

/**
 * Starts a server again on the same port with the same data dir (Temporal: the same SQLite file;
 * FerretDB: the same SQLite folder), so clients and workers can reconnect to the address they
 * know. The previous log is kept as `<name>.<time>.log`. Returns once it answers real requests
 * (the same health probes as at start-up); `info` is updated with the new pid.
 */
export async function restartServer(
  info: ServerInfo,
  server: LocalServer,
  opts: RestartServerOptions = {},
): Promise<number> {
  const old = serverPid(info, server);
  if (isAlive(old)) throw new ConclaveError('STACK', `${server} (pid ${old}) is still running`);
  const log = opts.log ?? (() => undefined);
  const binary = await ensureBinary(server, { log });
  const plan = server === 'temporal' ? temporalPlan(info.dataDir, binary) : ferretPlan(info.dataDir, binary);
  if (fs.existsSync(plan.logFile)) {
    const stamp = new Date().toISOString().replace(/[:.]/g, '-');
    fs.renameSync(plan.logFile, plan.logFile.replace(/\.log$/, `.${stamp}.log`));
  }
  const address = server === 'temporal' ? info.temporalAddress : info.mongoUri;
  const started = await startDaemon(plan, opts.timeoutMs ?? DEFAULT_TIMEOUT_MS, log, portOfAddress(address));
  if (server === 'temporal') info.temporalPid = started.pid;
  else info.ferretPid = started.pid;
  return started.pid!;
}
