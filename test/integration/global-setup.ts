/**
 * Starts one real local stack for the integration tests — Temporal dev server, FerretDB, five
 * party worker processes and the coordinator — in a fresh temporary CONCLAVE_HOME, and tears it
 * down afterwards. Servers given by TEMPORAL_ADDRESS / MONGODB_URI are used instead when set.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { devDown, devUp } from '../../src/stack/dev.js';

declare module 'vitest' {
  export interface ProvidedContext {
    conclaveHome: string;
  }
}

export default async function setup(project: TestProject) {
  const home = mkdtempSync(join(tmpdir(), 'conclave-it-'));
  // webhook retries in seconds, not hours: the tests watch a delivery fail, retry and die. The
  // tests run many tenants on one stack, each setting up the trust it tests: the parties opt out
  // of gating untrusted tenants (test/integration/dev-gate.test.ts runs a stack that gates)
  const env = {
    ...process.env,
    CONCLAVE_HOME: home,
    CONCLAVE_WEBHOOK_RETRY_SCHEDULE: '1,2,2,3,4',
    CONCLAVE_REQUIRE_GATE: '0',
  };
  const started = Date.now();
  await devUp({
    env,
    parties: 5,
    dbPrefix: `it_${Date.now().toString(36)}`,
    log: (line) => console.log(`[stack] ${line}`),
  });
  console.log(`[stack] up in ${((Date.now() - started) / 1000).toFixed(1)}s at ${home}`);
  project.provide('conclaveHome', home);
  return async () => {
    await devDown({ env });
    if (!process.env.CONCLAVE_KEEP_TEST_HOME) rmSync(home, { recursive: true, force: true });
  };
}
