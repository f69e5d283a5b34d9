/**
 * The orchestration baseline: what the signing ceremony's shape costs on this Temporal server
 * with no cryptography and no database. Its latency and throughput, measured in the same run,
 * bound from below what any ceremony of that shape can reach here.
 *
 * The bench starts its own workers for it, in its own process, on task queues of their own:
 * one workflow worker and one activity worker per signer, each activity answering at once.
 */
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { Client } from '@temporalio/client';
import { bundleWorkflowCode, DefaultLogger, NativeConnection, Runtime, Worker } from '@temporalio/worker';
import type { TemporalSettings } from '../../temporal.config.js';
import type { EmptyStepActivities } from './empty-ceremony-workflow.js';
import { now, summarize, type Summary } from './stats.js';

const workflowsPath = fileURLToPath(new URL('./empty-ceremony-workflow.ts', import.meta.url));
const queuePrefix = 'conclave.bench.empty';
/** About the size of a signed round envelope. */
const payloadBytes = 600;

export interface EmptyCeremonyResult {
  signers: number;
  latency: Summary;
  throughput: { inFlight: number; total: number; perSecond: number; latency: Summary };
}

export interface EmptyCeremonyOptions {
  temporal: TemporalSettings;
  client: Client;
  signers: number;
  samples: number;
  warmup: number;
  throughputTotal: number;
  inFlight: number;
}

export async function measureEmptyCeremony(opts: EmptyCeremonyOptions): Promise<EmptyCeremonyResult> {
  const runId = `${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`;
  const taskQueue = `${queuePrefix}.coordinator.${runId}`;
  const signerQueues = Array.from({ length: opts.signers }, (_, i) => `${queuePrefix}.p${i + 1}.${runId}`);
  const payload = randomBytes(payloadBytes / 2).toString('hex');
  const activities: EmptyStepActivities = { emptyStep: async () => payload };

  try {
    // Their start-up lines would drown the bench's progress; failures surface as failed ceremonies.
    Runtime.install({ logger: new DefaultLogger('ERROR') });
  } catch {
    // a runtime is already installed in this process: keep its logger
  }
  const connection = await NativeConnection.connect({ address: opts.temporal.address });
  const workflowBundle = await bundleWorkflowCode({ workflowsPath, logger: quietLogger });
  const workers = await Promise.all([
    Worker.create({
      connection,
      namespace: opts.temporal.namespace,
      taskQueue,
      workflowBundle,
      activities,
      maxConcurrentWorkflowTaskExecutions: 64,
    }),
    ...signerQueues.map((q) =>
      Worker.create({
        connection,
        namespace: opts.temporal.namespace,
        taskQueue: q,
        activities,
        maxConcurrentActivityTaskExecutions: 4,
      }),
    ),
  ]);
  const running = Promise.all(workers.map((w) => w.run()));
  const runOne = async (id: string): Promise<number> => {
    const start = now();
    await opts.client.workflow.execute('emptySignCeremony', {
      taskQueue,
      workflowId: `bench-empty:${runId}:${id}`,
      args: [signerQueues],
    });
    return now() - start;
  };
  try {
    const samples: number[] = [];
    for (let i = 0; i < opts.warmup + opts.samples; i++) {
      const ms = await runOne(`l${i}`);
      if (i >= opts.warmup) samples.push(ms);
    }
    const latencies: number[] = [];
    let next = 0;
    const lane = async () => {
      while (next < opts.throughputTotal) latencies.push(await runOne(`t${next++}`));
    };
    const began = now();
    await Promise.all(Array.from({ length: Math.min(opts.inFlight, opts.throughputTotal) }, lane));
    const wallMs = now() - began;
    return {
      signers: opts.signers,
      latency: summarize(samples),
      throughput: {
        inFlight: opts.inFlight,
        total: opts.throughputTotal,
        perSecond: (latencies.length / wallMs) * 1000,
        latency: summarize(latencies),
      },
    };
  } finally {
    workers.forEach((w) => w.shutdown());
    await running;
    await connection.close();
  }
}

const noop = () => undefined;
const quietLogger = { trace: noop, debug: noop, info: noop, warn: noop, error: console.error, log: noop };
