/**
 * Entry point of the coordinator worker: runs the ceremony workflows and the coordinator
 * activities on `conclave.coordinator`. `node --import tsx src/worker/coordinator.ts`.
 */
import { fileURLToPath } from 'node:url';
import { NativeConnection, Worker, bundleWorkflowCode } from '@temporalio/worker';
import { coordinatorTaskQueue } from '../../temporal.config.js';
import {
  createCoordinatorActivities,
  type CoordinatorActivities,
} from '../../activities/coordinator/index.js';
import { workerDataConverter } from '../codec/payload-codec.js';
import { loadConfig } from '../config.js';
import { closeAllDbs } from '../store/mongo.js';
import { runUntilSignal } from './lifecycle.js';

export const workflowsPath = fileURLToPath(new URL('../../workflows/index.ts', import.meta.url));

export interface CoordinatorWorkerOptions {
  /** Test-only: wrap the coordinator's activities (crash drills). */
  decorate?: (activities: CoordinatorActivities) => CoordinatorActivities;
}

export async function createCoordinatorWorker(opts: CoordinatorWorkerOptions = {}): Promise<Worker> {
  const config = loadConfig();
  const dataConverter = workerDataConverter(config.payloadKey, 'coordinator');
  const connection = await NativeConnection.connect({ address: config.temporal.address });
  const workflowBundle = await bundleWorkflowCode({
    workflowsPath,
    logger: quietBundlerLogger,
    ...(dataConverter ? { failureConverterPath: dataConverter.failureConverterPath } : {}),
  });
  return Worker.create({
    connection,
    namespace: config.temporal.namespace,
    ...(dataConverter ? { dataConverter } : {}),
    taskQueue: coordinatorTaskQueue,
    workflowBundle,
    activities: opts.decorate ? opts.decorate(createCoordinatorActivities()) : createCoordinatorActivities(),
    maxConcurrentWorkflowTaskExecutions: 64,
    maxConcurrentActivityTaskExecutions: 64,
    // aggregation and agreement checks are CPU-bound, like a party's rounds
    maxConcurrentLocalActivityExecutions: 4,
  });
}

const noop = () => undefined;
const quietBundlerLogger = {
  trace: noop,
  debug: noop,
  info: noop,
  warn: noop,
  error: console.error,
  log: noop,
};

if (import.meta.url === `file://${process.argv[1]}`) {
  await runUntilSignal('coordinator', () => createCoordinatorWorker(), closeAllDbs);
}
