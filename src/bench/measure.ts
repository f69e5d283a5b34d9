/**
 * The measurements, against a real stack through ConclaveClient. Each function takes a client
 * and sample sizes; `runBench` runs them all (or, with `only: 'ecdsa'`, the threshold ECDSA rows
 * alone) and returns one result object.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { trustPublishers } from '../party/admin.js';
import { generateActorKey } from '../policy/authorization.js';
import type { TransactionDescription } from '../policy/types.js';
import { benchPayment, benchPolicyConfig, benchRuleSet, measurePolicyEvaluation } from './policy.js';
import { availableParallelism } from 'node:os';
import { Client, Connection } from '@temporalio/client';
import { ConclaveClient, type KeygenResult, type SchemeName } from '../client/index.js';
import { loadConfig, type Env } from '../config.js';
import { measureEmptyCeremony, type EmptyCeremonyResult } from './empty-ceremony.js';
import {
  measureBatchFloor,
  measureEcdsaFloor,
  measureFloor,
  type BatchFloorResult,
  type EcdsaFloorResult,
  type FloorResult,
} from './floor.js';
import { fetchTimelines, summarizeTimelines, type RoundBreakdown } from './history.js';
import { measurePeers, type PeersResult } from './peers/index.js';
import { now, summarize, type Summary } from './stats.js';
import { measureAuditAppends, measureWebhookLatency } from './webhooks.js';

export const benchTenant = 'bench';

export interface BenchSizes {
  keygen: number;
  keygenWarmup: number;
  sign: number;
  signWarmup: number;
  /** Signatures per throughput setting. */
  throughput: number;
  inFlight: number[];
  floorKeygen: number;
  floorSign: number;
  floorWarmup: number;
  /** Ceremonies per kind whose histories are read for the per-round breakdown. */
  historySample: number;
  /** Rotations, and reshares each way, of one wallet. */
  lifecycle: number;
  /** In-process evaluations per rule set size. */
  policy: number;
  /** Signatures whose webhook is timed from event to receipt. */
  webhooks: number;
  /** Audit appends per writer, at each concurrency. */
  auditPerWriter: number;
  /**
   * Threshold ECDSA (dkls23-secp256k1). A key generation is n(n-1) OT setups, seconds of CPU, so
   * fewer of them; 3-of-5 ("large") fewer again. Its floor signs `floorSign` times after
   * `floorWarmup`; end to end it signs after `signWarmup`.
   */
  ecdsaKeygen: number;
  ecdsaKeygenLarge: number;
  /** Untimed key generations before the 2-of-3 ones (the 3-of-5 ones come after, warm). */
  ecdsaKeygenWarmup: number;
  ecdsaFloorKeygen: number;
  ecdsaFloorKeygenLarge: number;
  ecdsaSign: number;
  ecdsaSignLarge: number;
  /** 2-of-3 ECDSA signatures with `ecdsaInFlight` ceremonies at once. */
  ecdsaThroughput: number;
  ecdsaInFlight: number;
  /** Messages per batch request, batch requests per run, and batches in flight (Ed25519 2-of-3). */
  batchSize: number;
  batches: number;
  batchInFlight: number;
}

export const fullSizes: BenchSizes = {
  keygen: 20,
  keygenWarmup: 1,
  sign: 50,
  signWarmup: 3,
  throughput: 200,
  inFlight: [1, 8, 32],
  floorKeygen: 10,
  floorSign: 30,
  floorWarmup: 2,
  historySample: 10,
  lifecycle: 10,
  policy: 200,
  webhooks: 30,
  auditPerWriter: 20,
  ecdsaKeygen: 10,
  ecdsaKeygenLarge: 3,
  ecdsaKeygenWarmup: 1,
  ecdsaFloorKeygen: 3,
  ecdsaFloorKeygenLarge: 1,
  ecdsaSign: 50,
  ecdsaSignLarge: 20,
  ecdsaThroughput: 100,
  ecdsaInFlight: 8,
  batchSize: 64,
  batches: 12,
  batchInFlight: 2,
};

export const quickSizes: BenchSizes = {
  keygen: 3,
  keygenWarmup: 1,
  sign: 5,
  signWarmup: 1,
  throughput: 16,
  inFlight: [1, 8, 32],
  floorKeygen: 3,
  floorSign: 5,
  floorWarmup: 1,
  historySample: 3,
  lifecycle: 2,
  policy: 20,
  webhooks: 5,
  auditPerWriter: 5,
  ecdsaKeygen: 2,
  ecdsaKeygenLarge: 1,
  ecdsaKeygenWarmup: 0,
  ecdsaFloorKeygen: 1,
  ecdsaFloorKeygenLarge: 1,
  ecdsaSign: 5,
  ecdsaSignLarge: 3,
  ecdsaThroughput: 16,
  ecdsaInFlight: 8,
  batchSize: 64,
  batches: 4,
  batchInFlight: 2,
};

export type Log = (line: string) => void;

const randomMessage = (): string => randomBytes(32).toString('hex');

/** A fresh id prefix per run, so workflow ids never collide with an earlier run's. */
export function newRunId(): string {
  return `${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`;
}

export interface LatencyResult {
  samples: number[];
  workflowIds: string[];
}

export interface KeygenOptions {
  runId: string;
  /** 'frost-ed25519' by default. */
  scheme?: SchemeName;
  threshold: number;
  parties: number;
  samples: number;
  warmup: number;
  tenant?: string;
}

/**
 * Key generation latency, one ceremony at a time, as the client sees it. Returns the samples
 * and the last wallet (warm-up wallets included in neither the samples nor the ids).
 */
export async function measureKeygen(
  client: ConclaveClient,
  opts: KeygenOptions,
): Promise<LatencyResult & { wallet: KeygenResult }> {
  const tenant = opts.tenant ?? benchTenant;
  const scheme = opts.scheme ?? 'frost-ed25519';
  const label = `kg-${scheme}-${opts.threshold}of${opts.parties}`;
  let wallet: KeygenResult | undefined;
  const samples: number[] = [];
  const workflowIds: string[] = [];
  for (let i = 0; i < opts.warmup + opts.samples; i++) {
    const walletId = `${opts.runId}-${label}-${i}`;
    const start = now();
    wallet = await client.createWallet({
      tenant,
      walletId,
      scheme,
      threshold: opts.threshold,
      parties: opts.parties,
    });
    const ms = now() - start;
    if (i >= opts.warmup) {
      samples.push(ms);
      workflowIds.push(`keygen:${tenant}:${walletId}`);
    }
  }
  if (!wallet) throw new Error('no key generation was run');
  return { samples, workflowIds, wallet };
}

export interface SignOptions {
  runId: string;
  walletId: string;
  label: string;
  samples: number;
  warmup: number;
  tenant?: string;
  /** Derivation path signed along; the wallet key by default. */
  path?: string;
  /** The transaction the tenant's rules judge. */
  tx?: TransactionDescription;
}

/** Signing latency, one ceremony at a time. */
export async function measureSigning(client: ConclaveClient, opts: SignOptions): Promise<LatencyResult> {
  const tenant = opts.tenant ?? benchTenant;
  const samples: number[] = [];
  const workflowIds: string[] = [];
  for (let i = 0; i < opts.warmup + opts.samples; i++) {
    const requestId = `${opts.runId}-${opts.label}-${i}`;
    const start = now();
    await client.sign({
      tenant,
      walletId: opts.walletId,
      message: randomMessage(),
      requestId,
      path: opts.path,
      ...(opts.tx ? { tx: opts.tx } : {}),
    });
    const ms = now() - start;
    if (i >= opts.warmup) {
      samples.push(ms);
      workflowIds.push(`sign:${tenant}:${requestId}`);
    }
  }
  return { samples, workflowIds };
}

export interface ThroughputOptions {
  runId: string;
  walletId: string;
  total: number;
  inFlight: number;
  tenant?: string;
  /** What is signed, e.g. 'dkls23-secp256k1 2-of-3'; also keeps its request ids apart from others'. */
  label?: string;
}

export interface ThroughputResult {
  label?: string;
  inFlight: number;
  total: number;
  ok: number;
  errors: number;
  errorSamples: string[];
  wallMs: number;
  perSecond: number;
  /** Latency of each successful signature under this load. */
  latency: Summary;
  workflowIds: string[];
}

/** Signatures per second with `inFlight` ceremonies running at once, `total` in all. */
export async function measureThroughput(
  client: ConclaveClient,
  opts: ThroughputOptions,
): Promise<ThroughputResult> {
  const tenant = opts.tenant ?? benchTenant;
  const latencies: number[] = [];
  const workflowIds: string[] = [];
  const errorSamples: string[] = [];
  let errors = 0;
  let next = 0;
  const lane = async () => {
    while (next < opts.total) {
      const i = next++;
      const requestId = `${opts.runId}-tp${opts.label ? `-${opts.label.replace(/\W+/g, '-')}-` : ''}${opts.inFlight}-${i}`;
      const start = now();
      try {
        await client.sign({ tenant, walletId: opts.walletId, message: randomMessage(), requestId });
        latencies.push(now() - start);
        workflowIds.push(`sign:${tenant}:${requestId}`);
      } catch (err) {
        errors++;
        if (errorSamples.length < 5) errorSamples.push(err instanceof Error ? err.message : String(err));
      }
    }
  };
  const start = now();
  await Promise.all(Array.from({ length: Math.min(opts.inFlight, opts.total) }, lane));
  const wallMs = now() - start;
  return {
    ...(opts.label ? { label: opts.label } : {}),
    inFlight: opts.inFlight,
    total: opts.total,
    ok: latencies.length,
    errors,
    errorSamples,
    wallMs,
    perSecond: (latencies.length / wallMs) * 1000,
    latency: summarize(latencies),
    workflowIds,
  };
}

/**
 * Signatures per second when they come as batches of `size` messages (one request, one ceremony
 * each), `inFlight` batches at once, `total` batches in all; the latency is of whole batches.
 */
export async function measureBatchThroughput(
  client: ConclaveClient,
  opts: ThroughputOptions & { size: number },
): Promise<ThroughputResult> {
  const tenant = opts.tenant ?? benchTenant;
  const latencies: number[] = [];
  const workflowIds: string[] = [];
  const errorSamples: string[] = [];
  let errors = 0;
  let signatures = 0;
  let next = 0;
  const lane = async () => {
    while (next < opts.total) {
      const i = next++;
      const requestId = `${opts.runId}-batch${opts.size}-${opts.inFlight}-${i}`;
      const items = Array.from({ length: opts.size }, (_, k) => ({
        message: randomMessage(),
        path: `m/0/${k % 4}`,
      }));
      const start = now();
      try {
        const r = await client.signBatch({ tenant, walletId: opts.walletId, items, requestId });
        latencies.push(now() - start);
        signatures += r.signatures.length;
        workflowIds.push(`sign:${tenant}:${requestId}`);
      } catch (err) {
        errors++;
        if (errorSamples.length < 5) errorSamples.push(err instanceof Error ? err.message : String(err));
      }
    }
  };
  const start = now();
  await Promise.all(Array.from({ length: Math.min(opts.inFlight, opts.total) }, lane));
  const wallMs = now() - start;
  return {
    label: `batch of ${opts.size}`,
    inFlight: opts.inFlight,
    total: opts.total * opts.size,
    ok: signatures,
    errors,
    errorSamples,
    wallMs,
    perSecond: (signatures / wallMs) * 1000,
    latency: summarize(latencies),
    workflowIds,
  };
}

// ---- the whole run ---------------------------------------------------------------------------------

export interface Row {
  name: string;
  kind:
    | 'keygen'
    | 'sign'
    | 'throughput'
    | 'floor'
    | 'baseline'
    | 'lifecycle'
    | 'policy'
    | 'webhooks'
    | 'audit'
    | 'bytes';
  /** Samples; for a bytes row, the messages of one ceremony. */
  n: number;
  p50: number;
  p95: number;
  p99: number;
  mean: number;
  floorP50?: number;
  /** p50 / floor p50. */
  ratio?: number;
  /** Throughput rows: signatures per second, failed ceremonies, ceremonies in flight. */
  perSecond?: number;
  errors?: number;
  inFlight?: number;
  /** Bytes rows: the JSON bytes of one ceremony's messages. */
  bytes?: number;
}

export interface Target {
  name: string;
  value: number;
  limit: number;
  pass: boolean;
  line: string;
}

export interface BenchResult {
  runId: string;
  /** Set when only part of the bench ran (`--only ecdsa`). */
  only?: BenchPart;
  sizes: BenchSizes;
  rows: Row[];
  floors: FloorResult[];
  /** Threshold ECDSA: key generation (with pair setup), presign, online, message bytes. */
  ecdsaFloors: EcdsaFloorResult[];
  throughput: ThroughputResult[];
  /** Batch signing (Ed25519 2-of-3): the floor of one batch ceremony, and batches on the stack. */
  batch?: { floor: BatchFloorResult; stack: ThroughputResult };
  /** The signing ceremony's shape with no work in it: this stack's orchestration floor. */
  emptyCeremony?: EmptyCeremonyResult;
  /** Peers measured in this run next to Conclave's floor (`peers: true`, or `--only peers`). */
  peers?: PeersResult;
  rounds: RoundBreakdown[];
  targets: Target[];
  skipped: string[];
  notes: string[];
  wallets: Record<string, string>;
  durationMs: number;
}

/** Every ceremony of every scheme gets a row; Ed25519 also at 3-of-5. */
interface BenchConfig {
  scheme: SchemeName;
  t: number;
  n: number;
  /** Also sign along this derivation path (its own row). */
  path?: string;
}
const configs: readonly BenchConfig[] = [
  { scheme: 'frost-ed25519', t: 2, n: 3 },
  { scheme: 'frost-ed25519', t: 3, n: 5 },
  { scheme: 'frost-secp256k1', t: 2, n: 3 },
  { scheme: 'frost-taproot', t: 2, n: 3, path: 'm/0/7' },
];
/** Threshold ECDSA, measured apart: its key generation has the pair setup, its signing three rounds. */
const ecdsaConfigs: readonly BenchConfig[] = [
  { scheme: 'dkls23-secp256k1', t: 2, n: 3 },
  { scheme: 'dkls23-secp256k1', t: 3, n: 5 },
];
/**
 * Parts of the bench that run alone (`npm run bench -- --only ecdsa`). `peers` needs no stack:
 * the Ed25519 and DKLs23 2-of-3 floors and the peers next to them, all in process.
 */
export const benchParts = ['ecdsa', 'peers'] as const;
export type BenchPart = (typeof benchParts)[number];
export interface RunOptions {
  /** Only this part's rows; everything by default. */
  only?: BenchPart;
  /** Also measure the peers (src/bench/peers) in a whole run; `npm run bench` does. */
  peers?: boolean;
}
/** Row label of a config: Ed25519 keeps its historical names. */
const labelOf = (c: BenchConfig) => `${c.scheme === 'frost-ed25519' ? 'ed25519' : c.scheme} ${c.t}-of-${c.n}`;
const keyOf = (c: BenchConfig) => `${c.scheme} ${c.t}-of-${c.n}`;

const pick = (ids: string[], k: number) => ids.slice(Math.max(0, ids.length - k));

/** A throughput row: the latency of its signatures against the floor, and signatures per second. */
const throughputRow = (name: string, tp: ThroughputResult, floorP50: number): Row => ({
  name,
  kind: 'throughput',
  n: tp.ok,
  p50: tp.latency.p50,
  p95: tp.latency.p95,
  p99: tp.latency.p99,
  mean: tp.latency.mean,
  floorP50,
  ratio: tp.latency.p50 / floorP50,
  perSecond: tp.perSecond,
  errors: tp.errors,
  inFlight: tp.inFlight,
});

/** Runs every measurement against the stack `env` points at. */
export async function runBench(
  env: Env,
  sizes: BenchSizes,
  log: Log = () => undefined,
  opts: RunOptions = {},
): Promise<BenchResult> {
  if (opts.only === 'peers') return runPeersOnly(sizes, log);
  const began = now();
  const runId = newRunId();
  const config = loadConfig(env);
  const skipped: string[] = [];
  const fits = (c: BenchConfig) => {
    if (c.n <= config.parties.length) return true;
    skipped.push(`${labelOf(c)}: the stack has only ${config.parties.length} parties`);
    return false;
  };
  // FROST (with the rule layer, lifecycle, webhooks, audit and the orchestration baseline) unless
  // only ECDSA was asked for; ECDSA always.
  const frost = opts.only === undefined;
  const usable = frost ? configs.filter(fits) : [];
  const ecdsaUsable = ecdsaConfigs.filter(fits);
  if (!(frost ? usable : ecdsaUsable).length)
    throw new Error(`the stack has ${config.parties.length} parties; the bench needs at least 3`);

  // The floor first, while the stack is idle.
  const floors: FloorResult[] = [];
  const floorSigns: Record<string, FloorResult> = {};
  for (const c of usable) {
    log(
      `floor ${labelOf(c)}: ${sizes.floorKeygen} key generations, ${sizes.floorSign} signatures in-process`,
    );
    floors.push(
      await measureFloor({
        scheme: c.scheme,
        threshold: c.t,
        parties: c.n,
        keygenRuns: sizes.floorKeygen,
        signRuns: sizes.floorSign,
        warmup: sizes.floorWarmup,
      }),
    );
    if (c.path) {
      floorSigns[`${keyOf(c)} ${c.path}`] = await measureFloor({
        scheme: c.scheme,
        threshold: c.t,
        parties: c.n,
        keygenRuns: 1,
        signRuns: sizes.floorSign,
        warmup: sizes.floorWarmup,
        path: c.path,
      });
    }
  }
  const ecdsaFloors: EcdsaFloorResult[] = [];
  for (const c of ecdsaUsable) {
    const large = c.n > 3;
    const keygenRuns = large ? sizes.ecdsaFloorKeygenLarge : sizes.ecdsaFloorKeygen;
    log(
      `floor ${labelOf(c)}: ${keygenRuns} key generations with pair setup, ${sizes.floorSign} signatures in-process`,
    );
    ecdsaFloors.push(
      await measureEcdsaFloor({
        threshold: c.t,
        parties: c.n,
        keygenRuns,
        signRuns: sizes.floorSign,
        warmup: sizes.floorWarmup,
      }),
    );
  }

  // The peers next to the floor, while the stack is still idle.
  const peers =
    opts.peers && opts.only === undefined
      ? await measurePeers({
          sizes: peerSizes(sizes),
          conclave: {
            ed25519: floors.find((f) => f.scheme === 'frost-ed25519' && f.threshold === 2 && f.parties === 3),
            dkls23: ecdsaFloors.find((f) => f.threshold === 2 && f.parties === 3),
          },
          log,
        })
      : undefined;

  const client = await ConclaveClient.connect({ env });
  // An ECDSA key generation's history carries megabytes of pair-setup envelopes (6 MB at 3-of-5):
  // over gRPC's default 4 MiB limit, which the SDK's own default (`max_receive_message_length`,
  // without the `grpc.` prefix grpc-js reads) does not lift.
  const connection = await Connection.connect({
    address: config.temporal.address,
    channelArgs: { 'grpc.max_receive_message_length': 128 * 1024 * 1024 },
  });
  const temporal = new Client({ connection, namespace: config.temporal.namespace });
  try {
    const rows: Row[] = [];
    const wallets: Record<string, string> = {};
    const history: Array<{ ceremony: string; ids: string[] }> = [];
    const floorOf = (c: BenchConfig) =>
      floors.find((f) => f.scheme === c.scheme && f.threshold === c.t && f.parties === c.n)!;
    const latencyRow = (name: string, kind: Row['kind'], samples: number[], floorP50: number): Row => {
      const s = summarize(samples);
      return {
        name,
        kind,
        n: s.n,
        p50: s.p50,
        p95: s.p95,
        p99: s.p99,
        mean: s.mean,
        floorP50,
        ratio: s.p50 / floorP50,
      };
    };

    const ecdsaFloorOf = (c: BenchConfig) =>
      ecdsaFloors.find((f) => f.threshold === c.t && f.parties === c.n)!;
    /** Threshold ECDSA on the stack, each ceremony against its floor; returns the throughput. */
    const measureEcdsaCeremonies = async (): Promise<ThroughputResult[]> => {
      for (const c of ecdsaUsable) {
        const large = c.n > 3;
        const samples = large ? sizes.ecdsaKeygenLarge : sizes.ecdsaKeygen;
        const warmup = large ? 0 : sizes.ecdsaKeygenWarmup;
        log(`key generation ${labelOf(c)} with pair setup: ${warmup} warm-up + ${samples}`);
        const kg = await measureKeygen(client, {
          runId,
          scheme: c.scheme,
          threshold: c.t,
          parties: c.n,
          samples,
          warmup,
        });
        wallets[keyOf(c)] = kg.wallet.walletId;
        const name = `keygen ${labelOf(c)} (with OT setup)`;
        rows.push(latencyRow(name, 'keygen', kg.samples, ecdsaFloorOf(c).keygen.p50));
        history.push({ ceremony: name, ids: pick(kg.workflowIds, sizes.historySample) });
      }
      for (const c of ecdsaUsable) {
        const samples = c.n > 3 ? sizes.ecdsaSignLarge : sizes.ecdsaSign;
        log(`signing ${labelOf(c)}: ${sizes.signWarmup} warm-up + ${samples}, one at a time`);
        const sg = await measureSigning(client, {
          runId,
          walletId: wallets[keyOf(c)]!,
          label: `s-${c.scheme}-${c.t}of${c.n}`,
          samples,
          warmup: sizes.signWarmup,
        });
        const name = `sign ${labelOf(c)}`;
        rows.push(latencyRow(name, 'sign', sg.samples, ecdsaFloorOf(c).sign.p50));
        history.push({ ceremony: name, ids: pick(sg.workflowIds, sizes.historySample) });
      }
      const c = ecdsaUsable.find((x) => x.t === 2 && x.n === 3);
      if (!c) return [];
      const inFlight = sizes.ecdsaInFlight;
      log(`throughput ${labelOf(c)}: ${sizes.ecdsaThroughput} signatures, ${inFlight} in flight`);
      const tp = await measureThroughput(client, {
        runId,
        walletId: wallets[keyOf(c)]!,
        total: sizes.ecdsaThroughput,
        inFlight,
        label: labelOf(c),
      });
      rows.push(
        throughputRow(`sign throughput ${labelOf(c)} x${inFlight} in flight`, tp, ecdsaFloorOf(c).sign.p50),
      );
      return [tp];
    };

    for (const c of usable) {
      log(`key generation ${labelOf(c)}: ${sizes.keygenWarmup} warm-up + ${sizes.keygen}`);
      const kg = await measureKeygen(client, {
        runId,
        scheme: c.scheme,
        threshold: c.t,
        parties: c.n,
        samples: sizes.keygen,
        warmup: sizes.keygenWarmup,
      });
      wallets[keyOf(c)] = kg.wallet.walletId;
      rows.push(latencyRow(`keygen ${labelOf(c)}`, 'keygen', kg.samples, floorOf(c).keygen.p50));
      history.push({ ceremony: `keygen ${labelOf(c)}`, ids: pick(kg.workflowIds, sizes.historySample) });
    }
    for (const c of usable) {
      for (const path of c.path ? [undefined, c.path] : [undefined]) {
        const name = `sign ${labelOf(c)}${path ? ` ${path}` : ''}`;
        log(
          `signing ${labelOf(c)}${path ? ` along ${path}` : ''}: ${sizes.signWarmup} warm-up + ${sizes.sign}, one at a time`,
        );
        const sg = await measureSigning(client, {
          runId,
          walletId: wallets[keyOf(c)]!,
          label: `s-${c.scheme}-${c.t}of${c.n}${path ? '-path' : ''}`,
          samples: sizes.sign,
          warmup: sizes.signWarmup,
          path,
        });
        const floor = path ? floorSigns[`${keyOf(c)} ${path}`]! : floorOf(c);
        rows.push(latencyRow(name, 'sign', sg.samples, floor.sign.p50));
        history.push({ ceremony: name, ids: pick(sg.workflowIds, sizes.historySample) });
      }
    }

    // Threshold ECDSA: key generation with its pair setup, signing one at a time, then 2-of-3
    // signatures with several in flight.
    const ecdsaThroughput = await measureEcdsaCeremonies();

    // The rule layer: evaluation in process at two sizes, then signing with a 10-rule set on a tenant
    // of its own, next to the same wallet shape with no rules, measured back to back.
    for (const n of frost ? [10, 200] : []) {
      log(`policy evaluation, ${n} rules: ${sizes.policy} in process`);
      const x = summarize(await measurePolicyEvaluation(n, sizes.policy));
      rows.push({
        name: `policy evaluation ${n} rules`,
        kind: 'policy',
        n: x.n,
        p50: x.p50,
        p95: x.p95,
        p99: x.p99,
        mean: x.mean,
      });
    }
    if (frost) {
      const tenant = 'bench-rules';
      log(
        `signing ed25519 2-of-3 with and without 10 rules: ${sizes.signWarmup} warm-up + ${sizes.sign} each`,
      );
      await client.publishRules({
        text: JSON.stringify(benchRuleSet(10)),
        config: benchPolicyConfig,
        tenant,
      });
      const ruled = await client.createWallet({
        tenant,
        walletId: `${runId}-rules`,
        threshold: 2,
        parties: 3,
      });
      const plain = wallets[keyOf(usable[0]!)]!;
      const common = { runId, samples: sizes.sign, warmup: sizes.signWarmup };
      const off = await measureSigning(client, { ...common, walletId: plain, label: 'rules-off' });
      const on = await measureSigning(client, {
        ...common,
        tenant,
        walletId: ruled.walletId,
        label: 'rules-on',
        tx: benchPayment,
      });
      // the same rules signed by a publisher the parties trust, requests signed by an initiator:
      // every signer checks signatures and evaluates the rules itself (src/policy/gate.ts)
      const gated = await measureGatedSigning(env, { ...common, tenant: 'bench-gate' });
      const offRow = summarize(off.samples);
      for (const [name, s] of [
        ['sign ed25519 2-of-3 rules off', off.samples],
        ['sign ed25519 2-of-3 rules on (10 rules)', on.samples],
        ['sign ed25519 2-of-3 rules on + party gate', gated.samples],
      ] as const) {
        const x = summarize(s);
        rows.push({
          name,
          kind: 'policy',
          n: x.n,
          p50: x.p50,
          p95: x.p95,
          p99: x.p99,
          mean: x.mean,
          floorP50: offRow.p50,
          ratio: x.p50 / offRow.p50,
        });
      }
      history.push({
        ceremony: 'sign ed25519 2-of-3 rules on (10 rules)',
        ids: pick(on.workflowIds, sizes.historySample),
      });
    }

    if (frost && usable.some((c) => c.n === 5)) {
      // Lifecycle ceremonies on a wallet of their own: rotation of 2-of-3, then reshares to 3-of-5 and back.
      log(`rotation and reshare ed25519: ${sizes.lifecycle} of each`);
      const lc = await client.createWallet({
        tenant: benchTenant,
        walletId: `${runId}-lifecycle`,
        threshold: 2,
        parties: 3,
      });
      const timed = async (run: () => Promise<unknown>) => {
        const start = now();
        await run();
        return now() - start;
      };
      const rotations: number[] = [];
      const up: number[] = [];
      const down: number[] = [];
      for (let i = 0; i < sizes.lifecycle; i++) {
        rotations.push(await timed(() => client.rotate({ walletId: lc.walletId, tenant: benchTenant })));
        up.push(
          await timed(() =>
            client.reshare({ walletId: lc.walletId, tenant: benchTenant, parties: 5, threshold: 3 }),
          ),
        );
        down.push(
          await timed(() =>
            client.reshare({ walletId: lc.walletId, tenant: benchTenant, parties: 3, threshold: 2 }),
          ),
        );
      }
      const lifecycleRows: [string, number[]][] = [
        ['rotate ed25519 2-of-3', rotations],
        ['reshare ed25519 2-of-3 -> 3-of-5', up],
        ['reshare ed25519 3-of-5 -> 2-of-3', down],
      ];
      // Recovery of p3's share by p1 and p2 (p3 keeps its keys, so no re-pinning), with its proof
      // signature; and rotation on secp256k1 as well.
      for (const [scheme, label] of [
        ['frost-ed25519', 'ed25519'],
        ['frost-secp256k1', 'frost-secp256k1'],
      ] as const) {
        const rw = await client.createWallet({
          tenant: benchTenant,
          walletId: `${runId}-recovery-${label}`,
          scheme,
          threshold: 2,
          parties: 3,
        });
        const recoveries: number[] = [];
        const secpRotations: number[] = [];
        for (let i = 0; i < sizes.lifecycle; i++) {
          recoveries.push(
            await timed(() =>
              client.recover({
                walletId: rw.walletId,
                party: 'p3',
                tenant: benchTenant,
                helpers: ['p1', 'p2'],
              }),
            ),
          );
          if (scheme !== 'frost-ed25519') {
            secpRotations.push(
              await timed(() => client.rotate({ walletId: rw.walletId, tenant: benchTenant })),
            );
          }
        }
        lifecycleRows.push([`recover ${label} 2-of-3 (with proof signature)`, recoveries]);
        if (secpRotations.length) lifecycleRows.push([`rotate ${label} 2-of-3`, secpRotations]);
      }
      for (const [name, samples] of lifecycleRows) {
        const x = summarize(samples);
        rows.push({ name, kind: 'lifecycle', n: x.n, p50: x.p50, p95: x.p95, p99: x.p99, mean: x.mean });
      }
    } else if (frost) {
      skipped.push('rotation and reshare: the stack has fewer than 5 parties');
    }

    if (frost) {
      log(`webhook delivery: ${sizes.webhooks} signatures, event to receipt`);
      const wh = await measureWebhookLatency(client, { runId, samples: sizes.webhooks, warmup: 2 });
      for (const [name, x] of [
        ['webhook POST, direct from this process (base)', wh.directPost],
        ['webhook delivery, event to receipt', wh.delivery],
      ] as const) {
        rows.push({
          name,
          kind: 'webhooks',
          n: x.n,
          p50: x.p50,
          p95: x.p95,
          p99: x.p99,
          mean: x.mean,
          floorP50: wh.directPost.p50,
          ratio: x.p50 / wh.directPost.p50,
        });
      }
      log(`audit appends: ${sizes.auditPerWriter} per writer, 1, 8 and 32 writers`);
      for (const a of await measureAuditAppends(env, {
        runId,
        perWriter: sizes.auditPerWriter,
        writers: [1, 8, 32],
      })) {
        const rate = { kind: 'audit' as const, p50: NaN, p95: NaN, p99: NaN, mean: NaN, inFlight: a.writers };
        rows.push(
          {
            ...rate,
            name: `audit plain inserts x${a.writers} writers (base)`,
            n: a.appends,
            perSecond: a.insertsPerSecond,
            ratio: 1,
          },
          {
            ...rate,
            name: `audit appends x${a.writers} writers`,
            n: a.appends,
            perSecond: a.perSecond,
            ratio: a.perSecond / a.insertsPerSecond,
          },
        );
      }
    }

    const throughput: ThroughputResult[] = [];
    const tpConfig = usable[0];
    const tpWallet = tpConfig ? wallets[keyOf(tpConfig)]! : '';
    const tpLabel = tpConfig ? `${tpConfig.t}-of-${tpConfig.n}` : '';
    for (const inFlight of tpConfig ? sizes.inFlight : []) {
      log(`throughput ${tpLabel}: ${sizes.throughput} signatures, ${inFlight} in flight`);
      const tp = await measureThroughput(client, {
        runId,
        walletId: tpWallet,
        total: sizes.throughput,
        inFlight,
      });
      throughput.push(tp);
      rows.push(
        throughputRow(`sign throughput ${tpLabel} x${inFlight} in flight`, tp, floorOf(tpConfig!).sign.p50),
      );
      if (inFlight === Math.max(...sizes.inFlight)) {
        history.push({
          ceremony: `sign ${tpLabel} (${inFlight} in flight)`,
          ids: pick(tp.workflowIds, sizes.historySample),
        });
      }
    }

    let batch: BenchResult['batch'];
    if (tpConfig) {
      log(`batch floor ${tpLabel}: ${sizes.floorSign} ceremonies of ${sizes.batchSize} messages`);
      const floor = await measureBatchFloor({
        scheme: tpConfig.scheme,
        threshold: tpConfig.t,
        parties: tpConfig.n,
        size: sizes.batchSize,
        runs: sizes.floorSign,
        warmup: sizes.floorWarmup,
      });
      log(
        `batch throughput ${tpLabel}: ${sizes.batches} batches of ${sizes.batchSize}, ${sizes.batchInFlight} in flight`,
      );
      const stack = await measureBatchThroughput(client, {
        runId,
        walletId: tpWallet,
        total: sizes.batches,
        inFlight: sizes.batchInFlight,
        size: sizes.batchSize,
      });
      batch = { floor, stack };
      rows.push(
        {
          name: `floor sign batch of ${sizes.batchSize} ${labelOf(tpConfig)}`,
          kind: 'floor',
          n: floor.sign.n,
          p50: floor.sign.p50,
          p95: floor.sign.p95,
          p99: floor.sign.p99,
          mean: floor.sign.mean,
        },
        {
          ...throughputRow(
            `sign batches of ${sizes.batchSize} ${tpLabel} x${sizes.batchInFlight} in flight`,
            stack,
            floor.sign.p50,
          ),
          n: stack.latency.n,
        },
      );
      history.push({
        ceremony: `sign batch of ${sizes.batchSize} ${tpLabel}`,
        ids: pick(stack.workflowIds, sizes.historySample),
      });
    }

    throughput.push(...ecdsaThroughput);

    const maxInFlight = Math.max(...sizes.inFlight);
    let emptyCeremony: EmptyCeremonyResult | undefined;
    if (tpConfig) {
      const tpT = tpConfig.t;
      log(`orchestration baseline: empty ceremonies of the signing shape with ${tpT} signers`);
      emptyCeremony = await measureEmptyCeremony({
        temporal: config.temporal,
        client: temporal,
        signers: tpT,
        samples: sizes.sign,
        warmup: sizes.signWarmup,
        throughputTotal: sizes.throughput,
        inFlight: maxInFlight,
      });
      const e = emptyCeremony;
      rows.push(
        {
          name: `empty ceremony, signing shape, ${tpT} signers`,
          kind: 'baseline',
          n: e.latency.n,
          p50: e.latency.p50,
          p95: e.latency.p95,
          p99: e.latency.p99,
          mean: e.latency.mean,
        },
        {
          name: `empty ceremony throughput x${maxInFlight} in flight`,
          kind: 'baseline',
          n: e.throughput.latency.n,
          p50: e.throughput.latency.p50,
          p95: e.throughput.latency.p95,
          p99: e.throughput.latency.p99,
          mean: e.throughput.latency.mean,
          perSecond: e.throughput.perSecond,
          inFlight: maxInFlight,
        },
      );
    }

    for (const f of floors) {
      for (const [what, s] of [
        ['keygen', f.keygen],
        ['sign', f.sign],
      ] as const) {
        rows.push({
          name: `floor ${what} ${f.scheme === 'frost-ed25519' ? 'ed25519' : f.scheme} ${f.threshold}-of-${f.parties}`,
          kind: 'floor',
          n: s.n,
          p50: s.p50,
          p95: s.p95,
          p99: s.p99,
          mean: s.mean,
        });
      }
    }

    for (const [name, f] of Object.entries(floorSigns)) {
      rows.push({
        name: `floor sign ${name.replace(/^frost-ed25519 /, 'ed25519 ')}`,
        kind: 'floor',
        n: f.sign.n,
        p50: f.sign.p50,
        p95: f.sign.p95,
        p99: f.sign.p99,
        mean: f.sign.mean,
      });
    }

    for (const f of ecdsaFloors) {
      const label = `${f.scheme} ${f.threshold}-of-${f.parties}`;
      for (const [name, s] of [
        [`floor keygen ${label} (DKG + OT setups + zero seeds)`, f.keygen],
        [`floor presign ${label} (rounds 1+2 + finish)`, f.presign],
        [`floor online ${label} (online + combine)`, f.online],
        [`floor sign ${label} (full protocol)`, f.sign],
      ] as const) {
        rows.push({ name, kind: 'floor', n: s.n, p50: s.p50, p95: s.p95, p99: s.p99, mean: s.mean });
      }
      // sizes, not latencies: n is the number of messages of one ceremony
      for (const [name, n, bytes] of [
        [
          `bytes keygen ${label}, pair setup message bodies`,
          f.pairSetupBytes.messages,
          f.pairSetupBytes.bodies,
        ],
        [
          `bytes keygen ${label}, pair setup envelopes`,
          f.pairSetupBytes.messages,
          f.pairSetupBytes.envelopes,
        ],
        [`bytes sign ${label}, message bodies`, f.signBytes.messages, f.signBytes.bodies],
        [`bytes sign ${label}, envelopes`, f.signBytes.messages, f.signBytes.envelopes],
      ] as const) {
        rows.push({ name, kind: 'bytes', n, p50: NaN, p95: NaN, p99: NaN, mean: NaN, bytes });
      }
    }

    log(`reading ${history.reduce((s, h) => s + h.ids.length, 0)} workflow histories`);
    const rounds: RoundBreakdown[] = [];
    for (const h of history) {
      rounds.push(summarizeTimelines(h.ceremony, await fetchTimelines(temporal, h.ids)));
    }

    const targets: Target[] = [];
    const sign23 = rows.find((r) => r.name === 'sign ed25519 2-of-3');
    if (sign23) {
      const limit = 3 * sign23.floorP50! + 20;
      const pass = sign23.p50 <= limit;
      targets.push({
        name: 'sign-2of3-p50',
        value: sign23.p50,
        limit,
        pass,
        line: `target: ed25519 2-of-3 signing p50 <= 3 x floor + 20 ms: ${sign23.p50.toFixed(1)} ms vs ${limit.toFixed(1)} ms ${pass ? 'PASS' : 'FAIL'}`,
      });
    }
    const tp32 = throughput.find((t) => t.inFlight === 32);
    if (tp32) {
      const pass = tp32.perSecond >= 50 && tp32.errors === 0;
      targets.push({
        name: 'throughput-32',
        value: tp32.perSecond,
        limit: 50,
        pass,
        line: `target: >= 50 signatures/s with 32 in flight: ${tp32.perSecond.toFixed(1)}/s${tp32.errors ? ` (${tp32.errors} errors)` : ''} ${pass ? 'PASS' : 'FAIL'}`,
      });
    }
    if (batch) {
      const single = Math.max(...throughput.filter((t) => t.label === undefined).map((t) => t.perSecond));
      const speedup = batch.stack.perSecond / single;
      const cpus = availableParallelism();
      const ceiling = (cpus * 1000) / batch.floor.perSignatureMs;
      const share = batch.stack.perSecond / ceiling;
      const size = batch.floor.size;
      targets.push(
        {
          name: `batch-${size}-vs-single`,
          value: speedup,
          limit: 10,
          pass: speedup >= 10 && batch.stack.errors === 0,
          line: `target: batches of ${size} >= 10 x the signatures/s of single requests: ${batch.stack.perSecond.toFixed(1)}/s vs ${single.toFixed(1)}/s = ${speedup.toFixed(1)}x ${speedup >= 10 && batch.stack.errors === 0 ? 'PASS' : 'FAIL'}`,
        },
        {
          name: `batch-${size}-vs-ceiling`,
          value: share,
          limit: 0.8,
          pass: share >= 0.8,
          line: `target: batches of ${size} >= 80 % of the crypto ceiling (${cpus} cpus x 1000 / ${batch.floor.perSignatureMs.toFixed(2)} ms per signature of a batch floor = ${ceiling.toFixed(1)}/s): ${(share * 100).toFixed(0)} % ${share >= 0.8 ? 'PASS' : 'FAIL'}`,
        },
      );
    }
    const ecdsaSign23 = rows.find((r) => r.name === 'sign dkls23-secp256k1 2-of-3');
    if (ecdsaSign23) {
      const pass = ecdsaSign23.p50 < 300;
      targets.push({
        name: 'ecdsa-sign-2of3-p50',
        value: ecdsaSign23.p50,
        limit: 300,
        pass,
        line: `target: ECDSA (dkls23-secp256k1) 2-of-3 signing ceremony p50 < 300 ms: ${ecdsaSign23.p50.toFixed(1)} ms ${pass ? 'PASS' : 'FAIL'}`,
      });
    }
    const ecdsaTp = ecdsaThroughput[0];
    if (ecdsaTp) {
      const pass = ecdsaTp.perSecond >= 10 && ecdsaTp.errors === 0;
      targets.push({
        name: `ecdsa-throughput-${ecdsaTp.inFlight}`,
        value: ecdsaTp.perSecond,
        limit: 10,
        pass,
        line: `target: >= 10 ECDSA 2-of-3 signatures/s with ${ecdsaTp.inFlight} in flight: ${ecdsaTp.perSecond.toFixed(1)}/s${ecdsaTp.errors ? ` (${ecdsaTp.errors} errors)` : ''} ${pass ? 'PASS' : 'FAIL'}`,
      });
    }
    const ecdsaKeygen23 = rows.find((r) => r.name === 'keygen dkls23-secp256k1 2-of-3 (with OT setup)');
    if (ecdsaKeygen23) {
      const pass = ecdsaKeygen23.p50 < 5000;
      targets.push({
        name: 'ecdsa-keygen-2of3-p50',
        value: ecdsaKeygen23.p50,
        limit: 5000,
        pass,
        line: `target: ECDSA 2-of-3 key generation (with OT setup) p50 < 5 s: ${(ecdsaKeygen23.p50 / 1000).toFixed(2)} s ${pass ? 'PASS' : 'FAIL'}`,
      });
    }

    const notes: string[] = [...(peers?.notes ?? [])];
    const floor23 = floors.find((f) => f.scheme === 'frost-ed25519' && f.threshold === 2 && f.parties === 3);
    if (floor23) {
      const cpus = availableParallelism();
      notes.push(
        `crypto ceiling: ${cpus} cpus x 1000 / ${floor23.sign.p50.toFixed(1)} ms floor = ${((cpus * 1000) / floor23.sign.p50).toFixed(1)} signatures/s (2-of-3, all processes on this machine, zero overhead)`,
      );
    }

    const ecdsaFloor23 = ecdsaFloors.find((f) => f.threshold === 2 && f.parties === 3);
    if (ecdsaFloor23) {
      const cpus = availableParallelism();
      notes.push(
        `ECDSA crypto ceiling: ${cpus} cpus x 1000 / ${ecdsaFloor23.sign.p50.toFixed(1)} ms floor = ${((cpus * 1000) / ecdsaFloor23.sign.p50).toFixed(1)} signatures/s (dkls23-secp256k1 2-of-3, all processes on this machine, zero overhead)`,
      );
    }
    if (ecdsaFloors.length) {
      notes.push(
        'ECDSA bytes rows: bytes of one ceremony, each message counted once (n = messages); message bodies are the JSON the parties sign, envelopes the JSON the workflow carries (signed, point to point also encrypted, body in base64)',
      );
    }

    if (emptyCeremony) {
      const e = emptyCeremony;
      notes.push(
        `orchestration ceiling: an empty ceremony of the signing shape (no crypto, no database) reaches ${e.throughput.perSecond.toFixed(1)}/s with ${maxInFlight} in flight and takes ${e.latency.p50.toFixed(1)} ms p50 one at a time on this stack`,
      );
    }

    return {
      runId,
      ...(opts.only ? { only: opts.only } : {}),
      sizes,
      notes,
      rows,
      floors,
      ecdsaFloors,
      throughput,
      ...(batch ? { batch } : {}),
      emptyCeremony,
      ...(peers ? { peers } : {}),
      rounds,
      targets,
      skipped,
      wallets,
      durationMs: now() - began,
    };
  } finally {
    await client.close().catch(() => undefined);
    await connection.close().catch(() => undefined);
  }
}

/** The peers' sizes: those of Conclave's floor they are compared with. */
const peerSizes = (sizes: BenchSizes) => ({
  keygenRuns: sizes.floorKeygen,
  signRuns: sizes.floorSign,
  warmup: sizes.floorWarmup,
  ecdsaKeygenRuns: sizes.ecdsaFloorKeygen,
});

/**
 * `--only peers`: Conclave's Ed25519 and DKLs23 2-of-3 floors, then the peers next to them; all in
 * this process, no stack.
 */
async function runPeersOnly(sizes: BenchSizes, log: Log): Promise<BenchResult> {
  const began = now();
  log(`floor ed25519 2-of-3: ${sizes.floorKeygen} key generations, ${sizes.floorSign} signatures in-process`);
  const ed25519 = await measureFloor({
    threshold: 2,
    parties: 3,
    keygenRuns: sizes.floorKeygen,
    signRuns: sizes.floorSign,
    warmup: sizes.floorWarmup,
  });
  log(
    `floor dkls23-secp256k1 2-of-3: ${sizes.ecdsaFloorKeygen} key generations with pair setup, ${sizes.floorSign} signatures in-process`,
  );
  const dkls23 = await measureEcdsaFloor({
    threshold: 2,
    parties: 3,
    keygenRuns: sizes.ecdsaFloorKeygen,
    signRuns: sizes.floorSign,
    warmup: sizes.floorWarmup,
  });
  const peers = await measurePeers({ sizes: peerSizes(sizes), conclave: { ed25519, dkls23 }, log });
  const floorRow = (name: string, s: Summary): Row => ({
    name,
    kind: 'floor',
    n: s.n,
    p50: s.p50,
    p95: s.p95,
    p99: s.p99,
    mean: s.mean,
  });
  const label = 'dkls23-secp256k1 2-of-3';
  return {
    runId: newRunId(),
    only: 'peers',
    sizes,
    notes: peers.notes,
    rows: [
      floorRow('floor keygen ed25519 2-of-3', ed25519.keygen),
      floorRow('floor sign ed25519 2-of-3', ed25519.sign),
      floorRow(`floor keygen ${label} (DKG + OT setups + zero seeds)`, dkls23.keygen),
      floorRow(`floor presign ${label} (rounds 1+2 + finish)`, dkls23.presign),
      floorRow(`floor online ${label} (online + combine)`, dkls23.online),
      floorRow(`floor sign ${label} (full protocol)`, dkls23.sign),
    ],
    floors: [ed25519],
    ecdsaFloors: [dkls23],
    throughput: [],
    peers,
    rounds: [],
    targets: [],
    skipped: [],
    wallets: {},
    durationMs: now() - began,
  };
}

/**
 * Signing on a gated tenant: rules published with a publisher key the three parties trust, and
 * requests signed by an initiator key. Keys are made for this run and live in a temporary folder.
 */
async function measureGatedSigning(
  env: Env,
  opts: { runId: string; samples: number; warmup: number; tenant: string },
): Promise<LatencyResult> {
  const dir = mkdtempSync(join(tmpdir(), 'conclave-bench-keys-'));
  try {
    const publisherKey = generateActorKey('bench-publisher');
    const initiatorKey = generateActorKey('bench-initiator');
    writeFileSync(join(dir, 'publisher.key'), JSON.stringify(publisherKey), { mode: 0o600 });
    writeFileSync(join(dir, 'initiator.key'), JSON.stringify(initiatorKey), { mode: 0o600 });
    const tenant = `${opts.tenant}-${opts.runId}`;
    for (const p of ['p1', 'p2', 'p3'])
      await trustPublishers(
        p,
        tenant,
        { publishers: [{ id: publisherKey.id, publicKey: publisherKey.publicKey }] },
        env,
      );
    const publisher = await ConclaveClient.connect({
      env: { ...env, CONCLAVE_KEY: join(dir, 'publisher.key') },
    });
    const initiator = await ConclaveClient.connect({
      env: { ...env, CONCLAVE_KEY: join(dir, 'initiator.key') },
    });
    try {
      await publisher.publishRules({
        text: JSON.stringify(benchRuleSet(10)),
        config: {
          ...benchPolicyConfig,
          initiators: [{ id: initiatorKey.id, publicKey: initiatorKey.publicKey }],
        },
        tenant,
      });
      const w = await initiator.createWallet({ tenant, threshold: 2, parties: ['p1', 'p2', 'p3'] });
      return await measureSigning(initiator, {
        runId: opts.runId,
        samples: opts.samples,
        warmup: opts.warmup,
        tenant,
        walletId: w.walletId,
        label: 'gated',
        tx: benchPayment,
      });
    } finally {
      await publisher.close();
      await initiator.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
