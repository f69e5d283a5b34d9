/**
 * The stack the bench runs against: the local stack of this CONCLAVE_HOME if it is running,
 * otherwise a fresh 5-party stack of its own under `<project>/.conclave/bench`, stopped at the end.
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { ConclaveError } from '../errors.js';
import { conclaveHome, loadConfig, readStackState, type Env } from '../config.js';
import { devDown, devStatus, devUp } from '../stack/dev.js';
import { projectRoot } from '../stack/paths.js';
import type { Log } from './measure.js';

export interface BenchStack {
  env: Env;
  /** True if the bench started this stack (and stops it in `release`). */
  started: boolean;
  home: string;
  temporalAddress: string;
  parties: string[];
  release(): Promise<void>;
}

export const benchHome = join(projectRoot, '.conclave', 'bench');

/**
 * `onRelease` receives the stop function as soon as the bench decides to start a stack (before
 * it is up), so an interrupt during start-up can stop what is already running.
 */
export async function acquireStack(
  baseEnv: Env = process.env,
  log: Log = () => undefined,
  onRelease: (release: () => Promise<void>) => void = () => undefined,
): Promise<BenchStack> {
  const describe = (env: Env, started: boolean, release: () => Promise<void>): BenchStack => {
    const config = loadConfig(env);
    return {
      env,
      started,
      home: conclaveHome(env),
      temporalAddress: config.temporal.address,
      parties: config.parties,
      release,
    };
  };
  if (devStatus(baseEnv).running) {
    if ((readStackState(baseEnv) as { devKeyFile?: string } | undefined)?.devKeyFile)
      throw new ConclaveError(
        'STACK',
        'the running dev stack gates its parties (its bench tenant is not set up): stop it with `conclave dev down` and the bench starts its own',
      );
    log(`using the running stack at ${conclaveHome(baseEnv)}`);
    return describe(baseEnv, false, async () => undefined);
  }
  // the bench signs for its own tenants, with no trust set up: its parties opt out of gating
  const env: Env = { ...baseEnv, CONCLAVE_HOME: benchHome, CONCLAVE_REQUIRE_GATE: '0' };
  // What an interrupted earlier bench left behind is stopped first; then its data goes, so every
  // run measures the same thing (activities measured 40% slower on a stack kept across runs).
  if (readStackState(env)) await devDown({ env });
  rmSync(benchHome, { recursive: true, force: true });
  let released = false;
  const release = async () => {
    if (released) return;
    released = true;
    log('stopping the bench stack');
    await devDown({ env });
  };
  onRelease(release);
  log(`starting a 5-party stack at ${benchHome}`);
  try {
    await devUp({ env, parties: 5, log: (line) => log(`[stack] ${line}`) });
  } catch (err) {
    await release().catch(() => undefined);
    throw err;
  }
  return describe(env, true, release);
}
