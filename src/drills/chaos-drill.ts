/**
 * The chaos drill: a stream of key generations and signings, several in flight, while a chaos
 * loop kills (SIGKILL) and restarts party workers, the coordinator, FerretDB and the Temporal dev
 * server one at a time. Afterwards every ceremony must settle, every signature must verify with
 * OpenSSL, every party of every new wallet must still hold its share (and sign with it), and no
 * nonce may appear twice in any party's database.
 *
 * Clients are not given special treatment: if a client call fails with something other than a
 * typed ConclaveError (a transport error: it did not ride through a restart), that is counted,
 * and the drill then looks the ceremony up by its workflow id (its idempotency key) — a request
 * that never reached Temporal is sent again, one that did is awaited.
 */
import { clientDataConverter } from '../codec/payload-codec.js';
import { randomBytes } from 'node:crypto';
import { Client, Connection, WorkflowFailedError } from '@temporalio/client';
import { WorkflowNotFoundError } from '@temporalio/common';
import type { KeygenResult, SignResult } from '../../activities/types.js';
import { ConclaveClient, toConclaveError } from '../client/index.js';
import { loadConfig, type Env } from '../config.js';
import { ConclaveError, CulpritError } from '../errors.js';
import { chaosLoop, chaosKinds, type ChaosKind, type ChaosLoopResult } from '../stack/chaos.js';
import { closeAllDbs } from '../store/mongo.js';
import {
  coveringSignerSets,
  findMissingShares,
  nonceReuseCount,
  opensslVerifyEd25519,
  partyStores,
  scanNonces,
  type MissingShare,
  type NonceReport,
} from './checks.js';

export interface ChaosDrillOptions {
  env: Env;
  /** Length of the ceremony stream; it runs longer if not every kind of kill has happened yet. */
  durationS: number;
  quick?: boolean;
  /** Ceremonies in flight at once (default 4). */
  concurrency?: number;
  /** After the stream, how long ceremonies get to settle (default 180 s). */
  settleTimeoutMs?: number;
  random?: () => number;
  log?: (line: string) => void;
  /** Stops the chaos loop at once (tear-down on Ctrl-C). */
  signal?: AbortSignal;
}

type Outcome = 'pending' | 'completed' | 'aborted';

export interface CeremonyRecord {
  id: string;
  kind: 'keygen' | 'sign';
  phase: 'setup' | 'stream' | 'final';
  walletId: string;
  threshold?: number;
  parties?: string[];
  signers?: string[];
  message?: string;
  publicKey?: string;
  startedAt: number;
  ms?: number;
  outcome: Outcome;
  code?: string;
  culprit?: string;
  reason?: string;
  signature?: string;
  signatureValid?: boolean;
  /** Errors other than typed ConclaveErrors the client call gave (it did not ride through). */
  clientErrors: string[];
  /** For ceremonies not settled by the deadline: what Temporal says about them. */
  stuckState?: string;
}

interface Wallet {
  walletId: string;
  publicKey: string;
  threshold: number;
  parties: string[];
}

export interface CeremonyCounts {
  started: number;
  completed: number;
  aborted: number;
  abortedCodes: Record<string, number>;
  stuck: number;
}

export interface ChaosDrillReport {
  mode: 'quick' | 'full';
  startedAt: string;
  streamSeconds: number;
  settleSeconds: number;
  concurrency: number;
  ceremonies: { keygen: CeremonyCounts; sign: CeremonyCounts; total: CeremonyCounts };
  latencyMs: { keygenP50?: number; keygenMax?: number; signP50?: number; signMax?: number };
  kills: Record<ChaosKind, number>;
  chaos: ChaosLoopResult;
  clientErrors: { ceremonies: number; errors: number; examples: string[] };
  badSignatures: number;
  sharesLost: number;
  missingShares: MissingShare[];
  coverage: { wallets: number; signings: number; failed: string[] };
  nonces: NonceReport;
  noncesReused: number;
  stuckCeremonies: Array<{ id: string; state: string }>;
  abortedCeremonies: Array<{ id: string; code: string; culprit?: string; reason?: string }>;
  /** Zero stuck, bad signatures, lost shares and reused nonces, and every kind of kill happened. */
  pass: boolean;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const shortError = (err: unknown): string =>
  `${err instanceof Error ? err.name : 'Error'}: ${(err instanceof Error ? err.message : String(err)).split('\n')[0]}`;

const TIMED_OUT = Symbol('timed out');

class CeremonyRunner {
  readonly records: CeremonyRecord[] = [];
  /** Per phase: ceremonies not settled by this time count as stuck (and stay counted so). */
  private readonly deadlines = new Map<CeremonyRecord['phase'], number>();

  setDeadline(phase: CeremonyRecord['phase'], at: number): void {
    this.deadlines.set(phase, at);
  }

  private open(rec: CeremonyRecord): boolean {
    return Date.now() < (this.deadlines.get(rec.phase) ?? Number.POSITIVE_INFINITY);
  }

  private complete(rec: CeremonyRecord): void {
    if (!this.open(rec)) return; // settled after its deadline: it stays counted as stuck
    rec.outcome = 'completed';
    rec.ms = Date.now() - rec.startedAt;
  }

  constructor(
    private readonly client: ConclaveClient,
    private readonly temporal: Client,
  ) {}

  private settle(rec: CeremonyRecord, err: unknown): void {
    if (!this.open(rec)) return;
    const e = err as ConclaveError;
    rec.outcome = 'aborted';
    rec.code = e.code;
    rec.reason = e.message;
    if (err instanceof CulpritError) rec.culprit = err.culprit;
    rec.ms = Date.now() - rec.startedAt;
  }

  /** `p`, or TIMED_OUT once the record's phase deadline passes (the promise is left behind). */
  private async bounded<T>(rec: CeremonyRecord, p: Promise<T>): Promise<T | typeof TIMED_OUT> {
    let timer: NodeJS.Timeout | undefined;
    const expired = new Promise<typeof TIMED_OUT>((resolve) => {
      const check = () => (this.open(rec) ? (timer = setTimeout(check, 250)) : resolve(TIMED_OUT));
      check();
    });
    try {
      return await Promise.race([p, expired]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Runs one ceremony through the client, re-attaching by workflow id after transport errors. */
  async run<T>(rec: CeremonyRecord, call: () => Promise<T>): Promise<T | undefined> {
    this.records.push(rec);
    for (;;) {
      try {
        const value = await this.bounded(rec, call());
        if (value === TIMED_OUT) return undefined;
        this.complete(rec);
        return rec.outcome === 'completed' ? value : undefined;
      } catch (err) {
        if (err instanceof ConclaveError) {
          this.settle(rec, err);
          return undefined;
        }
        rec.clientErrors.push(shortError(err));
      }
      // Did the request reach Temporal? Follow it by its workflow id.
      while (this.open(rec)) {
        try {
          const value = await this.bounded(
            rec,
            this.temporal.workflow.getHandle(rec.id).result() as Promise<T>,
          );
          if (value === TIMED_OUT) return undefined;
          this.complete(rec);
          return rec.outcome === 'completed' ? value : undefined;
        } catch (err) {
          if (err instanceof WorkflowNotFoundError) break; // never started: send it again
          if (err instanceof WorkflowFailedError) {
            this.settle(rec, toConclaveError(err));
            return undefined;
          }
          rec.clientErrors.push(shortError(err));
          await sleep(1_000);
        }
      }
      if (!this.open(rec)) return undefined;
      await sleep(500);
    }
  }

  keygen(phase: CeremonyRecord['phase'], threshold: number, parties: string[]): Promise<Wallet | undefined> {
    const walletId = `drill-w-${randomBytes(6).toString('hex')}`;
    const rec: CeremonyRecord = {
      id: `keygen:default:${walletId}`,
      kind: 'keygen',
      phase,
      walletId,
      threshold,
      parties,
      startedAt: Date.now(),
      outcome: 'pending',
      clientErrors: [],
    };
    return this.run<KeygenResult>(rec, () => this.client.createWallet({ walletId, threshold, parties })).then(
      (r) => {
        if (!r) return undefined;
        rec.publicKey = r.publicKey;
        return { walletId, publicKey: r.publicKey, threshold: r.threshold, parties: r.parties };
      },
    );
  }

  async sign(phase: CeremonyRecord['phase'], wallet: Wallet, signers: string[]): Promise<boolean> {
    const requestId = `drill-s-${randomBytes(6).toString('hex')}`;
    const message = randomBytes(32).toString('hex');
    const rec: CeremonyRecord = {
      id: `sign:default:${requestId}`,
      kind: 'sign',
      phase,
      walletId: wallet.walletId,
      signers,
      message,
      publicKey: wallet.publicKey,
      startedAt: Date.now(),
      outcome: 'pending',
      clientErrors: [],
    };
    const r = await this.run<SignResult>(rec, () =>
      this.client.sign({ walletId: wallet.walletId, message, signers, requestId }),
    );
    if (!r) return false;
    rec.signature = r.signature;
    rec.signatureValid =
      r.message === message && opensslVerifyEd25519(wallet.publicKey, message, r.signature);
    return rec.signatureValid;
  }

  /** What Temporal knows about a ceremony that did not settle: status and pending activities. */
  async describe(id: string): Promise<string> {
    try {
      const d = await this.temporal.workflow.getHandle(id).describe();
      const raw = d.raw.pendingActivities ?? [];
      const pending = raw.map(
        (a) =>
          `${a.activityType?.name ?? '?'} attempt ${a.attempt ?? 0}${a.lastFailure?.message ? ` (${a.lastFailure.message.split('\n')[0]})` : ''}`,
      );
      return `${d.status.name}${pending.length ? `; pending: ${pending.join('; ')}` : ''}`;
    } catch (err) {
      return `describe failed: ${shortError(err)}`;
    }
  }
}

function pick<T>(items: readonly T[], random: () => number): T {
  return items[Math.floor(random() * items.length)]!;
}

function sample<T>(items: readonly T[], k: number, random: () => number): T[] {
  const chosen = new Set<number>();
  while (chosen.size < k) chosen.add(Math.floor(random() * items.length));
  return [...chosen].sort((a, b) => a - b).map((i) => items[i]!);
}

function counts(records: CeremonyRecord[]): CeremonyCounts {
  const abortedCodes: Record<string, number> = {};
  for (const r of records)
    if (r.outcome === 'aborted') abortedCodes[r.code!] = (abortedCodes[r.code!] ?? 0) + 1;
  return {
    started: records.length,
    completed: records.filter((r) => r.outcome === 'completed').length,
    aborted: records.filter((r) => r.outcome === 'aborted').length,
    abortedCodes,
    stuck: records.filter((r) => r.outcome === 'pending').length,
  };
}

function percentile(values: number[], p: number): number | undefined {
  if (!values.length) return undefined;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

/** Runs `tasks` with at most `limit` at once. */
async function pool<T>(items: T[], limit: number, task: (item: T) => Promise<unknown>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) await task(items[next++]!);
    }),
  );
}

export async function runChaosDrill(opts: ChaosDrillOptions): Promise<ChaosDrillReport> {
  const env = opts.env;
  const quick = opts.quick ?? false;
  const random = opts.random ?? Math.random;
  const log = opts.log ?? (() => undefined);
  const concurrency = opts.concurrency ?? 4;
  const settleTimeoutMs = opts.settleTimeoutMs ?? 180_000;
  const config = loadConfig(env);
  const parties = config.parties;
  if (parties.length < 5) throw new ConclaveError('BAD_INPUT', 'the chaos drill needs a stack of 5 parties');

  const client = await ConclaveClient.connect(env);
  const connection = await Connection.connect({ address: config.temporal.address });
  const dataConverter = clientDataConverter(config.payloadKey);
  const temporal = new Client({
    connection,
    namespace: config.temporal.namespace,
    ...(dataConverter ? { dataConverter } : {}),
  });
  const runner = new CeremonyRunner(client, temporal);
  const startedAt = new Date();
  try {
    // Wallets made before the stream, signed with during it.
    log('setup: two wallets before the stream (2-of-3, 3-of-5)');
    const wallets: Wallet[] = [];
    for (const [t, ps] of [
      [2, parties.slice(0, 3)],
      [3, parties.slice(0, 5)],
    ] as const) {
      const w = await runner.keygen('setup', t, [...ps]);
      if (!w) throw new ConclaveError('STACK', 'setup key generation failed before any chaos');
      wallets.push(w);
    }

    // The stream and the chaos loop, together.
    const streamStart = Date.now();
    const streamEnd = streamStart + opts.durationS * 1000;
    let stopped = false;
    const chaos = chaosLoop(env, {
      gapMs: quick ? [1_000, 3_000] : [3_000, 12_000],
      downMs: [500, 3_000],
      shouldStop: () => Date.now() >= streamEnd,
      signal: opts.signal,
      random,
      log,
    }).finally(() => {
      stopped = true;
    });
    const lane = async (i: number) => {
      let n = 0;
      while (!stopped) {
        n++;
        if (random() < 0.35) {
          const [t, ps] =
            random() < 0.5 ? [2, sample(parties.slice(0, 5), 3, random)] : [3, parties.slice(0, 5)];
          const w = await runner.keygen('stream', t, ps);
          if (w) wallets.push(w);
        } else {
          const w = pick(wallets, random);
          const size = random() < 0.7 || w.threshold === w.parties.length ? w.threshold : w.threshold + 1;
          await runner.sign('stream', w, sample(w.parties, size, random));
        }
        if (n % 10 === 0) log(`stream: lane ${i} ran ${n} ceremonies`);
      }
    };
    const lanes = Promise.all(Array.from({ length: concurrency }, (_, i) => lane(i)));
    const chaosResult = await chaos;
    const streamSeconds = (Date.now() - streamStart) / 1000;
    log(`stream stopped after ${streamSeconds.toFixed(1)} s; waiting for ceremonies in flight to settle`);

    // Every started ceremony gets a bounded time to settle.
    const settleStart = Date.now();
    runner.setDeadline('stream', settleStart + settleTimeoutMs);
    await Promise.race([lanes, sleep(settleTimeoutMs + 2_000)]);
    const settleSeconds = (Date.now() - settleStart) / 1000;
    const streamRecords = runner.records.filter((r) => r.phase === 'stream');
    const stuckCeremonies: Array<{ id: string; state: string }> = [];
    for (const r of streamRecords.filter((x) => x.outcome === 'pending')) {
      r.stuckState = await runner.describe(r.id);
      stuckCeremonies.push({ id: r.id, state: r.stuckState });
    }

    // Shares: in each party's own database, then used: every party signs at least once.
    log('checks: active shares on every party, covering signings, nonce scan');
    const newWallets = runner.records
      .filter((r) => r.kind === 'keygen' && r.outcome === 'completed')
      .map((r) => wallets.find((w) => w.walletId === r.walletId))
      .filter((w): w is Wallet => w !== undefined);
    const stores = await partyStores(env, parties);
    const missingShares = await findMissingShares(stores, newWallets);
    runner.setDeadline('final', Date.now() + settleTimeoutMs);
    const coverageFailed: string[] = [];
    const lost = new Set(missingShares.map((m) => `${m.walletId}/${m.partyId}`));
    const jobs = newWallets.flatMap((w) => coveringSignerSets(w.parties, w.threshold).map((s) => ({ w, s })));
    await pool(jobs, concurrency, async ({ w, s }) => {
      const ok = await runner.sign('final', w, s);
      if (!ok) {
        const rec = runner.records.filter((r) => r.phase === 'final' && r.walletId === w.walletId).at(-1);
        coverageFailed.push(
          `${w.walletId} [${s.join(',')}]: ${rec?.code ?? rec?.outcome ?? '?'} ${rec?.reason ?? ''}`,
        );
        for (const p of s) lost.add(`${w.walletId}/${p}`);
      }
    });
    const nonces = await scanNonces(stores);

    const all = runner.records.filter((r) => r.phase !== 'setup');
    const withClientErrors = all.filter((r) => r.clientErrors.length);
    const kills = Object.fromEntries(
      chaosKinds.map((k) => [k, chaosResult.strikes.filter((s) => s.kind === k).length]),
    ) as Record<ChaosKind, number>;
    const keygenRecords = streamRecords.filter((r) => r.kind === 'keygen');
    const signRecords = streamRecords.filter((r) => r.kind === 'sign');
    const ms = (rs: CeremonyRecord[]) => rs.filter((r) => r.outcome === 'completed').map((r) => r.ms!);
    const badSignatures = all.filter(
      (r) => r.kind === 'sign' && r.outcome === 'completed' && !r.signatureValid,
    ).length;
    const report: ChaosDrillReport = {
      mode: quick ? 'quick' : 'full',
      startedAt: startedAt.toISOString(),
      streamSeconds,
      settleSeconds,
      concurrency,
      ceremonies: { keygen: counts(keygenRecords), sign: counts(signRecords), total: counts(streamRecords) },
      latencyMs: {
        keygenP50: percentile(ms(keygenRecords), 50),
        keygenMax: percentile(ms(keygenRecords), 100),
        signP50: percentile(ms(signRecords), 50),
        signMax: percentile(ms(signRecords), 100),
      },
      kills,
      chaos: chaosResult,
      clientErrors: {
        ceremonies: withClientErrors.length,
        errors: withClientErrors.reduce((n, r) => n + r.clientErrors.length, 0),
        examples: [...new Set(withClientErrors.flatMap((r) => r.clientErrors))].slice(0, 8),
      },
      badSignatures,
      sharesLost: lost.size,
      missingShares,
      coverage: { wallets: newWallets.length, signings: jobs.length, failed: coverageFailed },
      nonces,
      noncesReused: nonceReuseCount(nonces),
      stuckCeremonies,
      abortedCeremonies: all
        .filter((r) => r.outcome === 'aborted')
        .map((r) => ({ id: r.id, code: r.code!, culprit: r.culprit, reason: r.reason })),
      pass: false,
    };
    report.pass =
      report.ceremonies.total.stuck === 0 &&
      report.badSignatures === 0 &&
      report.sharesLost === 0 &&
      report.noncesReused === 0 &&
      chaosKinds.every((k) => kills[k] > 0);
    return report;
  } finally {
    await client.close().catch(() => undefined);
    await connection.close().catch(() => undefined);
    await closeAllDbs();
  }
}
