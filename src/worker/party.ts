/**
 * Entry point of one party's worker: `node --import tsx src/worker/party.ts <partyId>`.
 * It polls only `party.<partyId>` and touches only that party's database.
 */
import { NativeConnection, Worker } from '@temporalio/worker';
import { partyTaskQueue } from '../../temporal.config.js';
import { createPartyActivities, type PartyActivities } from '../../activities/party/index.js';
import { workerDataConverter } from '../codec/payload-codec.js';
import { loadConfig } from '../config.js';
import { openPartyRuntime, type PartyRuntime } from '../party/runtime.js';
import { closeAllDbs } from '../store/mongo.js';
import { runUntilSignal } from './lifecycle.js';

export interface PartyWorkerOptions {
  partyId: string;
  /** Test-only: wrap the honest activities (a misbehaving party in fault drills). */
  decorate?: (honest: PartyActivities, rt: PartyRuntime) => PartyActivities;
}

export async function createPartyWorker(opts: PartyWorkerOptions): Promise<Worker> {
  const config = loadConfig();
  const dataConverter = workerDataConverter(config.payloadKey, `party ${opts.partyId}`);
  const rt = await openPartyRuntime(opts.partyId);
  if (!rt.requireGate)
    console.warn(
      `party ${opts.partyId}: CONCLAVE_REQUIRE_GATE=0: it signs and manages keys for tenants whose publishers it does not trust`,
    );
  const honest = createPartyActivities(rt);
  const connection = await NativeConnection.connect({ address: config.temporal.address });
  return Worker.create({
    connection,
    namespace: config.temporal.namespace,
    ...(dataConverter ? { dataConverter } : {}),
    taskQueue: partyTaskQueue(opts.partyId),
    activities: opts.decorate ? opts.decorate(honest, rt) : honest,
    // A party's rounds are CPU-bound on one thread: more at once only makes each slower (and
    // past its timeout). Excess work waits in the queue, where waiting costs nothing.
    maxConcurrentActivityTaskExecutions: 4,
  });
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const partyId = process.argv[2] ?? process.env.CONCLAVE_PARTY_ID;
  if (!partyId) {
    console.error('usage: party.ts <partyId>');
    process.exit(2);
  }
  await runUntilSignal(`party ${partyId}`, () => createPartyWorker({ partyId }), closeAllDbs);
}
