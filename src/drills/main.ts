/**
 * `npm run drills [-- --duration SECONDS] [--quick]`: fault drills on a stack of its own.
 *
 * Starts a 5-party dev stack in a fresh temporary CONCLAVE_HOME, runs the chaos drill (a stream
 * of ceremonies, with governed rotations, reshares and recoveries among them, while party workers,
 * the coordinator, FerretDB and Temporal are killed and restarted), the misbehaving-party drill
 * and the rogue-coordinator drill, prints the tables, writes them to `bench/drills.json`, and
 * stops and removes the stack (also on failure or Ctrl-C). Exits 1 unless nothing got stuck,
 * every signature verified, no share was lost, no nonce was used twice, every kind of kill
 * happened, every kind of share change completed (each approved, the wallet signing after each),
 * every misbehaving party was named and every attack of the rogue coordinator was refused as
 * expected (the wallets still signing after).
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { ConclaveError } from '../errors.js';
import { devDown, devUp } from '../stack/dev.js';
import { killStrays } from '../stack/chaos.js';
import { projectRoot } from '../stack/paths.js';
import { runChaosDrill, type ChaosDrillReport } from './chaos-drill.js';
import { runMisbehavingDrill, type MisbehavingRow } from './misbehaving-drill.js';
import { formatChaosReport, formatMisbehavingReport, formatRogueCoordinatorReport } from './report.js';
import { runRogueCoordinatorDrill, type RogueCoordinatorRow } from './rogue-coordinator.js';

function usage(message: string): never {
  console.error(`drills: ${message}\nusage: npm run drills -- [--duration SECONDS] [--quick] [--keep]`);
  process.exit(2);
}

const { values } = (() => {
  try {
    return parseArgs({
      options: {
        duration: { type: 'string' },
        quick: { type: 'boolean', default: false },
        keep: { type: 'boolean', default: false },
        concurrency: { type: 'string' },
      },
      strict: true,
    });
  } catch (err) {
    return usage((err as Error).message);
  }
})();

const quick = values.quick ?? false;
const durationS = values.duration === undefined ? (quick ? 25 : 120) : Number(values.duration);
if (!Number.isFinite(durationS) || durationS <= 0) usage('--duration must be a positive number of seconds');
const concurrency = values.concurrency === undefined ? 4 : Number(values.concurrency);
if (!Number.isInteger(concurrency) || concurrency < 1) usage('--concurrency must be a positive integer');

// The in-process misbehaving worker logs every activity it fails on purpose at WARN.
Runtime.install({ logger: new DefaultLogger('ERROR') });

const home = mkdtempSync(join(tmpdir(), 'conclave-drill-'));
// the stream runs ungated tenants beside the governed one it sets up: its parties opt out of
// gating untrusted tenants (the rogue-coordinator table attacks the governed tenant)
const env = { ...process.env, CONCLAVE_HOME: home, CONCLAVE_REQUIRE_GATE: '0' };
const t0 = Date.now();
const log = (line: string) => console.log(`[${((Date.now() - t0) / 1000).toFixed(1).padStart(6)}s] ${line}`);

const abort = new AbortController();
let tornDown = false;
async function teardown(): Promise<void> {
  if (tornDown) return;
  tornDown = true;
  abort.abort(); // no more strikes or worker revivals
  log('stopping the drill stack');
  await devDown({ env }).catch((err: unknown) => log(`dev down: ${(err as Error).message}`));
  // A strike or revival that was under way may still start a process: sweep until none is left.
  for (let quiet = 0, round = 0; quiet < 2 && round < 20; round++) {
    const strays = await killStrays(home);
    if (strays.length) log(`killed stray processes of this stack: ${strays.join(', ')}`);
    quiet = strays.length ? 0 : quiet + 1;
    await new Promise((r) => setTimeout(r, 500));
  }
  if (values.keep) log(`kept ${home}`);
  else rmSync(home, { recursive: true, force: true });
}

process.once('SIGINT', () => {
  log('interrupted');
  void teardown().finally(() => process.exit(130));
});

async function main(): Promise<number> {
  log(`drill stack in ${home} (${quick ? 'quick' : 'full'}, ${durationS} s stream)`);
  await devUp({ env, parties: 5, dbPrefix: 'drill', log });
  let chaos: ChaosDrillReport | undefined;
  let misbehaving: MisbehavingRow[] = [];
  let rogueCoordinator: RogueCoordinatorRow[] = [];
  let error: string | undefined;
  try {
    chaos = await runChaosDrill({ env, durationS, quick, concurrency, log, signal: abort.signal });
    console.log(`\n${formatChaosReport(chaos)}\n`);
    misbehaving = await runMisbehavingDrill({ env, log });
    console.log(`\n${formatMisbehavingReport(misbehaving)}\n`);
    rogueCoordinator = await runRogueCoordinatorDrill({ env, log });
    console.log(`\n${formatRogueCoordinatorReport(rogueCoordinator)}\n`);
  } catch (err) {
    error = err instanceof Error ? (err.stack ?? err.message) : String(err);
    console.error(`drills: ${error}`);
  }
  const misbehavingPass = misbehaving.length > 0 && misbehaving.every((r) => r.pass);
  const rogueCoordinatorPass = rogueCoordinator.length > 0 && rogueCoordinator.every((r) => r.pass);
  const pass = !error && chaos?.pass === true && misbehavingPass && rogueCoordinatorPass;
  const out = join(projectRoot, 'bench', 'drills.json');
  mkdirSync(join(projectRoot, 'bench'), { recursive: true });
  writeFileSync(
    out,
    JSON.stringify(
      {
        finishedAt: new Date().toISOString(),
        durationS,
        quick,
        pass,
        error,
        chaos,
        misbehaving,
        rogueCoordinator,
      },
      null,
      2,
    ),
  );
  log(`results written to ${out}`);
  log(pass ? 'drills PASS' : 'drills FAIL');
  return pass ? 0 : 1;
}

let code = 1;
try {
  code = await main();
} catch (err) {
  console.error(`drills: ${err instanceof ConclaveError ? err.message : String(err)}`);
} finally {
  await teardown();
}
process.exit(code);
