/** Runs a worker until SIGINT/SIGTERM, then drains it and closes connections. */
import type { Worker } from '@temporalio/worker';
import { ConclaveError } from '../errors.js';

export async function runUntilSignal(
  name: string,
  create: () => Promise<Worker>,
  close: () => Promise<void>,
) {
  try {
    const worker = await create();
    console.log(`${name}: ready`);
    await worker.run(); // the Temporal runtime shuts the worker down on SIGINT/SIGTERM
    await close();
    console.log(`${name}: stopped`);
    process.exit(0);
  } catch (err) {
    console.error(`${name}: ${err instanceof ConclaveError ? err.message : String(err)}`);
    process.exit(1);
  }
}
