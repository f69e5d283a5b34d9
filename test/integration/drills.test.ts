/**
 * The fault drills in their quick form (`npm run drills -- --quick` is the long one). They kill
 * servers, so they run on a stack of their own in a fresh CONCLAVE_HOME, not on the shared
 * integration stack: a short ceremony stream while every kind of process (a party worker, the
 * coordinator, FerretDB, Temporal) is SIGKILLed and restarted, with governed rotations, reshares
 * and recoveries among it, then the misbehaving party, then the rogue coordinator.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runChaosDrill, shareChangeKinds } from '../../src/drills/chaos-drill.js';
import { runMisbehavingDrill } from '../../src/drills/misbehaving-drill.js';
import { misbehaviourCases } from '../../src/drills/misbehaving.js';
import {
  formatChaosReport,
  formatMisbehavingReport,
  formatRogueCoordinatorReport,
} from '../../src/drills/report.js';
import { runRogueCoordinatorDrill } from '../../src/drills/rogue-coordinator.js';
import { chaosKinds, killStrays } from '../../src/stack/chaos.js';
import { devDown, devUp } from '../../src/stack/dev.js';

const home = mkdtempSync(join(tmpdir(), 'conclave-drill-it-'));
// the drills run ungated tenants beside the governed one they set up (as `npm run drills` does)
const env = { ...process.env, CONCLAVE_HOME: home, CONCLAVE_REQUIRE_GATE: '0' };
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
  it('a ceremony stream with governed share changes rides through SIGKILLed workers and servers: nothing stuck, lost, forged or reused; every wallet signs after its changes', async () => {
    const report = await runChaosDrill({ env, durationS: 20, quick: true, settleTimeoutMs: 120_000, log });
    console.log(formatChaosReport(report));
    expect(report.ceremonies.total.stuck).toBe(0);
    expect(report.badSignatures).toBe(0);
    expect(report.sharesLost).toBe(0);
    expect(report.noncesReused).toBe(0);
    // signing from pools of preprocessed nonces and in batches rode through the chaos too
    expect(report.signing.poolFills).toBeGreaterThan(0);
    expect(report.signing.pool).toBeGreaterThan(0);
    expect(report.signing.batches).toBeGreaterThan(0);
    for (const kind of chaosKinds) expect(report.kills[kind], `kills of ${kind}`).toBeGreaterThan(0);
    expect(report.ceremonies.keygen.completed).toBeGreaterThan(0);
    expect(report.ceremonies.sign.completed).toBeGreaterThan(0);
    expect(report.coverage.signings).toBeGreaterThan(0);
    expect(report.coverage.failed).toEqual([]);
    expect(report.chaos.errors).toEqual([]);
    // governed rotations, reshares and recoveries: each kind completed, none stuck, each approved
    const g = report.governed;
    for (const kind of shareChangeKinds) {
      expect(report.ceremonies[kind].completed, `${kind} completed`).toBeGreaterThan(0);
      expect(report.ceremonies[kind].stuck, `${kind} stuck`).toBe(0);
    }
    expect(g.everyKindCompleted).toBe(true);
    expect(g.approvalFailures).toEqual([]);
    const changes = shareChangeKinds.reduce((n, k) => n + report.ceremonies[k].started, 0);
    const completed = shareChangeKinds.reduce((n, k) => n + report.ceremonies[k].completed, 0);
    expect(g.approvals.asked).toBeGreaterThanOrEqual(completed);
    expect(g.approvals.given).toBeGreaterThanOrEqual(completed);
    // no share lost: each governed wallet's committee holds its current version active, none pending
    expect(g.sharesLost).toBe(0);
    expect(g.shareIssues).toEqual([]);
    expect(g.versionMismatches).toEqual([]);
    expect(g.badRecoveryProofs).toBe(0);
    // the wallet signed after every change (completed or failed by a kill), and at the end with every party
    expect(g.signedAfter.changes).toBe(changes);
    expect(g.signedAfter.failed).toEqual([]);
    expect(g.signedAfter.signed).toBe(changes);
    expect(report.pass).toBe(true);
  }, 300_000);

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

  it('a rogue coordinator calling the parties directly is refused in every case; the wallets still sign', async () => {
    const rows = await runRogueCoordinatorDrill({ env, log });
    console.log(formatRogueCoordinatorReport(rows));
    for (const r of rows) expect(r, `${r.tenant}: ${r.attack}: ${r.said}`).toMatchObject({ pass: true });
    const row = (tenant: string, attack: RegExp) => {
      const found = rows.filter((r) => r.tenant === tenant && attack.test(r.attack));
      expect(found, `${tenant}: ${attack}`).toHaveLength(1);
      return found[0]!;
    };
    const expected: [string, RegExp, string][] = [
      ['governed', /^recovery with no statement/, 'UNAUTHORIZED'],
      ['governed', /^invented lost party p9/, 'UNAUTHORIZED'],
      ['governed', /approved by 1 admin where the policy asks 2/, 'APPROVAL_REQUIRED'],
      ['governed', /a non-admin posing as admin/, 'APPROVAL_REQUIRED'],
      ['governed', /signed by an untrusted key/, 'UNAUTHORIZED'],
      ['governed', /forged signature/, 'UNAUTHORIZED'],
      ['governed', /for another wallet/, 'UNAUTHORIZED'],
      ['governed', /keys swapped/, 'UNAUTHORIZED'],
      ['governed', /for another version/, 'UNAUTHORIZED'],
      ['governed', /^expired statement/, 'UNAUTHORIZED'],
      ['governed', /^replayed statement/, 'REPLAY'],
      ['governed', /retirement of the current version, no activations/, 'BAD_INPUT'],
      ['ungoverned', /^invented lost party p9/, 'DISAGREEMENT'],
      ['ungoverned', /keys nobody pinned/, 'TAMPERED'],
      ['ungoverned', /committee of the attacker's workers/, 'TAMPERED'],
      ['ungoverned', /retirement of the current version, no successor/, 'BAD_INPUT'],
    ];
    for (const [tenant, attack, code] of expected)
      expect(row(tenant, attack), `${tenant}: ${attack}`).toMatchObject({ expected: code, code, pass: true });
    expect(row('ungoverned', /^abort ordered after a completed rotation/).said).toMatch(
      /share active on p1,p2,p3$/,
    );
    expect(rows.at(-1)).toMatchObject({ attack: expect.stringMatching(/^wallets still sign/), pass: true });
  }, 120_000);
});
