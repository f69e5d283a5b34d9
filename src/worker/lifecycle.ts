/** Runs a worker until SIGINT/SIGTERM, then drains it and closes connections. */
import type { Worker } from '@temporalio/worker';
import { ConclaveError } from '../errors.js';

const startRetryMs = 2_000;
const startDeadlineMs = 10 * 60_000;

/**
 * Creates and runs the worker. A server that is not reachable yet (database or Temporal being
 * restarted) is waited for, with a line per attempt; a configuration error is final.
 */
export async function runUntilSignal(
  name: string,
  create: () => Promise<Worker>,
  close: () => Promise<void>,
) {
  let stopping = false;
  const stop = () => (stopping = true);
  process.once('SIGINT', stop).once('SIGTERM', stop);
  const deadline = Date.now() + startDeadlineMs;
  let worker: Worker | undefined;
  while (!worker) {
    try {
      worker = await create();
    } catch (err) {
      const final = err instanceof ConclaveError || stopping || Date.now() > deadline;
      console.error(
        `${name}: ${err instanceof Error ? err.message : String(err)}${final ? '' : ' (retrying)'}`,
      );
      if (final) process.exit(1);
      await new Promise((r) => setTimeout(r, startRetryMs));
    }
  }
  process.off('SIGINT', stop).off('SIGTERM', stop);
  try {
    console.log(`${name}: ready`);
    await worker.run(); // the Temporal runtime shuts the worker down on SIGINT/SIGTERM
    await close();
    console.log(`${name}: stopped`);
    process.exit(0);
  } catch (err) {
    console.error(`${name}: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  }
}
