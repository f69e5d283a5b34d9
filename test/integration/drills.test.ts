/**
 * The fault drills in their quick form (`npm run drills -- --quick` is the long one). They kill
 * servers, so they run on a stack of their own in a fresh CONCLAVE_HOME, not on the shared
 * integration stack: a short ceremony stream while every kind of process (a party worker, the
 * coordinator, FerretDB, Temporal) is SIGKILLed and restarted, then the misbehaving party.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runChaosDrill } from '../../src/drills/chaos-drill.js';
import { runMisbehavingDrill } from '../../src/drills/misbehaving-drill.js';
import { misbehaviourCases } from '../../src/drills/misbehaving.js';
import { formatChaosReport, formatMisbehavingReport } from '../../src/drills/report.js';
import { chaosKinds, killStrays } from '../../src/stack/chaos.js';
import { devDown, devUp } from '../../src/stack/dev.js';

const home = mkdtempSync(join(tmpdir(), 'conclave-drill-it-'));
const env = { ...process.env, CONCLAVE_HOME: home };
const log = (line: string) => console.log(`[drill] ${line}`);

beforeAll(async () => {
  await devUp({ env, parties: 5, dbPrefix: `drill_${Date.now().toString(36)}`, log });
}, 300_000);

afterAll(async () => {
  await devDown({ env }).catch(() => undefined);
  await killStrays(home);
  if (!process.env.CONCLAVE_KEEP_TEST_HOME) rmSync(home, { recursive: true, force: true });
}, 120_000);

describe('fault drills (quick) on a stack of their own', () => {
  it('a ceremony stream rides through SIGKILLed workers and servers: nothing stuck, lost, forged or reused', async () => {
    const report = await runChaosDrill({ env, durationS: 20, quick: true, settleTimeoutMs: 120_000, log });
    console.log(formatChaosReport(report));
    expect(report.ceremonies.total.stuck).toBe(0);
    expect(report.badSignatures).toBe(0);
    expect(report.sharesLost).toBe(0);
    expect(report.noncesReused).toBe(0);
    for (const kind of chaosKinds) expect(report.kills[kind], `kills of ${kind}`).toBeGreaterThan(0);
    expect(report.ceremonies.keygen.completed).toBeGreaterThan(0);
    expect(report.ceremonies.sign.completed).toBeGreaterThan(0);
    expect(report.coverage.signings).toBeGreaterThan(0);
    expect(report.chaos.errors).toEqual([]);
  }, 240_000);

  it('a misbehaving party is named in every case and leaves nothing active', async () => {
    const rows = await runMisbehavingDrill({ env, log });
    console.log(formatMisbehavingReport(rows));
    expect(rows[0]).toMatchObject({ mode: 'honest', pass: true });
    expect(rows.slice(1).map((r) => r.mode)).toEqual(misbehaviourCases.map((c) => c.mode));
    for (const [i, c] of misbehaviourCases.entries()) {
      expect(rows[i + 1], c.title).toMatchObject({
        code: c.expectedCode,
        culprit: 'p6',
        leftovers: 0,
        pass: true,
      });
    }
  }, 120_000);
});
