/**
 * `npm run bench [-- --quick] [-- --json-only] [-- --only ecdsa|peers]`: latency, throughput and
 * the crypto floor of Conclave's ceremonies on a real local stack, and peers (other MPC
 * libraries) measured in process next to the floor. Prints a table (or, with --json-only, only
 * the JSON) and writes bench/results.json. Progress goes to stderr. `--only ecdsa` measures the
 * threshold ECDSA rows alone, `--only peers` the peers and the floors they are compared with
 * (no stack); the default run has them too.
 */
import { parseArgs } from 'node:util';
import { closeAllDbs } from '../store/mongo.js';
import { benchParts, fullSizes, quickSizes, runBench, type BenchPart } from './measure.js';
import { environment, formatReport, resultsDocument, writeResults } from './report.js';
import { acquireStack } from './stack.js';

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: { quick: { type: 'boolean' }, 'json-only': { type: 'boolean' }, only: { type: 'string' } },
    strict: true,
  });
  const quick = Boolean(values.quick);
  const log = (line: string) => console.error(`[bench] ${line}`);
  const only = values.only;
  if (only !== undefined && !benchParts.includes(only as BenchPart)) {
    log(`--only takes one of: ${benchParts.join(', ')} (not "${only}")`);
    return 2;
  }
  let release: (() => Promise<void>) | undefined;
  const stop = async (signal: string) => {
    log(`${signal}: stopping`);
    await release?.().catch((err: unknown) => log(`could not stop the stack: ${String(err)}`));
    await closeAllDbs();
    process.exit(130);
  };
  process.once('SIGINT', () => void stop('SIGINT'));
  process.once('SIGTERM', () => void stop('SIGTERM'));
  // Commit and load as the run begins; the load at the end is added when it ends.
  const env = environment(quick);
  try {
    // the peers and their floors are in process: no stack
    const stack = only === 'peers' ? undefined : await acquireStack(process.env, log, (r) => (release = r));
    const result = await runBench(stack?.env ?? process.env, quick ? quickSizes : fullSizes, log, {
      only: only as BenchPart | undefined,
      peers: true,
    });
    env.loadAverage = environment(quick).loadAverage;
    const doc = resultsDocument(
      result,
      env,
      stack
        ? {
            startedByBench: stack.started,
            home: stack.home,
            temporalAddress: stack.temporalAddress,
            parties: stack.parties,
          }
        : { none: 'in process only (--only peers)' },
    );
    const path = writeResults(doc);
    if (values['json-only']) {
      console.log(JSON.stringify(doc));
    } else {
      console.log(formatReport(result, env));
      console.log(`\nwritten to ${path}`);
    }
    return 0;
  } catch (err) {
    log(`failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    return 1;
  } finally {
    await release?.().catch((err: unknown) => log(`could not stop the stack: ${String(err)}`));
    await closeAllDbs();
  }
}

process.exit(await main());
