/**
 * Smoke test of the bench: its measurement functions in quick mode against the shared stack.
 * It checks that every figure is there and sane; it never asserts how fast anything is.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { quickSizes, runBench, type BenchResult } from '../../src/bench/measure.js';
import { environment, formatReport, resultsDocument, writeResults } from '../../src/bench/report.js';
import { closeAllDbs } from '../../src/store/mongo.js';
import { stackEnv } from './helpers.js';

afterAll(async () => {
  await closeAllDbs();
});

const positive = (x: number | undefined) => {
  expect(x).toBeTypeOf('number');
  expect(Number.isFinite(x)).toBe(true);
  expect(x).toBeGreaterThan(0);
};

describe('bench (quick)', () => {
  let result: BenchResult;

  it('measures every row against the real stack', async () => {
    result = await runBench(stackEnv(), quickSizes);
    expect(result.skipped).toEqual([]);
    expect(result.rows.map((r) => r.name).sort()).toEqual(
      [
        'keygen ed25519 2-of-3',
        'keygen ed25519 3-of-5',
        'keygen frost-secp256k1 2-of-3',
        'keygen frost-taproot 2-of-3',
        'sign ed25519 2-of-3',
        'sign ed25519 3-of-5',
        'sign frost-secp256k1 2-of-3',
        'sign frost-taproot 2-of-3',
        'sign frost-taproot 2-of-3 m/0/7',
        'sign throughput 2-of-3 x1 in flight',
        'sign throughput 2-of-3 x8 in flight',
        'sign throughput 2-of-3 x32 in flight',
        'floor keygen ed25519 2-of-3',
        'floor keygen ed25519 3-of-5',
        'floor keygen frost-secp256k1 2-of-3',
        'floor keygen frost-taproot 2-of-3',
        'floor sign ed25519 2-of-3',
        'floor sign ed25519 3-of-5',
        'floor sign frost-secp256k1 2-of-3',
        'floor sign frost-taproot 2-of-3',
        'floor sign frost-taproot 2-of-3 m/0/7',
        'empty ceremony, signing shape, 2 signers',
        'empty ceremony throughput x32 in flight',
        'rotate ed25519 2-of-3',
        'reshare ed25519 2-of-3 -> 3-of-5',
        'reshare ed25519 3-of-5 -> 2-of-3',
        'recover ed25519 2-of-3 (with proof signature)',
        'recover frost-secp256k1 2-of-3 (with proof signature)',
        'rotate frost-secp256k1 2-of-3',
        'policy evaluation 10 rules',
        'policy evaluation 200 rules',
        'sign ed25519 2-of-3 rules off',
        'sign ed25519 2-of-3 rules on (10 rules)',
        'sign ed25519 2-of-3 rules on + party gate',
        'webhook POST, direct from this process (base)',
        'webhook delivery, event to receipt',
        'audit plain inserts x1 writers (base)',
        'audit appends x1 writers',
        'audit plain inserts x8 writers (base)',
        'audit appends x8 writers',
        'audit plain inserts x32 writers (base)',
        'audit appends x32 writers',
      ].sort(),
    );
    for (const row of result.rows.filter((r) => r.kind === 'audit')) {
      // rates, not latencies: appends (and plain inserts, the base) per second, every entry chained
      positive(row.perSecond);
      positive(row.ratio);
      expect(row.n).toBe(quickSizes.auditPerWriter * row.inFlight!);
    }
    const webhook = result.rows.find((r) => r.name === 'webhook delivery, event to receipt')!;
    expect(webhook.n).toBe(quickSizes.webhooks);
    expect(webhook.ratio).toBeGreaterThan(0);
    for (const row of result.rows.filter((r) => r.kind !== 'audit')) {
      expect(row.n, row.name).toBeGreaterThan(0);
      positive(row.p50);
      expect(row.p95).toBeGreaterThanOrEqual(row.p50);
      expect(row.p99).toBeGreaterThanOrEqual(row.p95);
      if (
        row.kind !== 'floor' &&
        row.kind !== 'baseline' &&
        row.kind !== 'lifecycle' &&
        !row.name.startsWith('policy')
      ) {
        positive(row.floorP50);
        positive(row.ratio);
      }
    }
    for (const kind of ['keygen', 'sign'] as const) {
      const n = kind === 'keygen' ? quickSizes.keygen : quickSizes.sign;
      for (const row of result.rows.filter((r) => r.kind === kind)) expect(row.n).toBe(n);
    }
    const throughput = result.rows.filter((r) => r.kind === 'throughput');
    expect(throughput.map((r) => r.inFlight)).toEqual([1, 8, 32]);
    for (const row of throughput) {
      positive(row.perSecond);
      expect(row.errors).toBe(0);
      expect(row.n).toBe(quickSizes.throughput);
    }
    // the rule layer: evaluation at both sizes, and signing with rules compared with signing without
    const policy = Object.fromEntries(result.rows.filter((r) => r.kind === 'policy').map((r) => [r.name, r]));
    expect(policy['policy evaluation 10 rules']!.n).toBe(quickSizes.policy);
    expect(policy['policy evaluation 200 rules']!.n).toBe(quickSizes.policy);
    const off = policy['sign ed25519 2-of-3 rules off']!;
    expect(policy['sign ed25519 2-of-3 rules on (10 rules)']!.floorP50).toBe(off.p50);
    expect(policy['sign ed25519 2-of-3 rules on + party gate']!.floorP50).toBe(off.p50);
    expect(policy['sign ed25519 2-of-3 rules on + party gate']!.n).toBe(off.n);
    expect(off.ratio).toBe(1);
    const lifecycle = result.rows.filter((r) => r.kind === 'lifecycle');
    expect(lifecycle.map((r) => r.name)).toEqual([
      'rotate ed25519 2-of-3',
      'reshare ed25519 2-of-3 -> 3-of-5',
      'reshare ed25519 3-of-5 -> 2-of-3',
      'recover ed25519 2-of-3 (with proof signature)',
      'recover frost-secp256k1 2-of-3 (with proof signature)',
      'rotate frost-secp256k1 2-of-3',
    ]);
    for (const row of lifecycle) {
      expect(row.n).toBe(quickSizes.lifecycle);
      positive(row.p50);
    }
    // the orchestration baseline ran the same number of ceremonies, with nothing in them
    const [emptyOne, emptyMany] = result.rows.filter((r) => r.kind === 'baseline');
    expect(emptyOne!.n).toBe(quickSizes.sign);
    expect(emptyMany!.n).toBe(quickSizes.throughput);
    positive(emptyMany!.perSecond);
    expect(result.notes.join('\n')).toMatch(/orchestration ceiling: an empty ceremony .* reaches [\d.]+\/s/);
  });

  it('breaks each ceremony kind down by round from its history', () => {
    expect(result.rounds.map((r) => r.ceremony)).toEqual([
      'keygen ed25519 2-of-3',
      'keygen ed25519 3-of-5',
      'keygen frost-secp256k1 2-of-3',
      'keygen frost-taproot 2-of-3',
      'sign ed25519 2-of-3',
      'sign ed25519 3-of-5',
      'sign frost-secp256k1 2-of-3',
      'sign frost-taproot 2-of-3',
      'sign frost-taproot 2-of-3 m/0/7',
      'sign ed25519 2-of-3 rules on (10 rules)',
      'sign 2-of-3 (32 in flight)',
    ]);
    for (const r of result.rounds) {
      expect(r.sampled).toBe(quickSizes.historySample);
      positive(r.endToEndP50);
      expect(r.startToFirstTaskP50).toBeGreaterThanOrEqual(0);
      const names = r.steps.map((s) => s.name);
      const rounds = r.ceremony.startsWith('keygen')
        ? ['dkgRound1', 'dkgRound2', 'dkgRound3', 'dkgActivate']
        : ['signRound1', 'signRound2'];
      // the party rounds appear in order, each on every party
      expect(names.filter((n) => rounds.includes(n))).toEqual(rounds);
      const parties = Number(/of-(\d)/.exec(r.ceremony)![1]);
      const signers = Number(/(\d)-of/.exec(r.ceremony)![1]);
      for (const s of r.steps.filter((x) => rounds.includes(x.name))) {
        expect(s.kind).toBe('activity');
        expect(s.count).toBe(r.ceremony.startsWith('keygen') ? parties : signers);
        expect(s.scheduleToStartP50).toBeGreaterThanOrEqual(0);
        positive(s.executionP50);
      }
      // every step's overhead and wall time, plus the tail, add up to the ceremony
      for (const s of r.steps) {
        expect(s.overheadP50).toBeGreaterThanOrEqual(0);
        expect(s.wallP50).toBeGreaterThanOrEqual(0);
      }
      expect(r.steps.map((s) => s.name)).toContain(r.dominant.step);
    }
  });

  it('reports targets and writes the results file', () => {
    expect(result.targets.map((t) => t.line)).toEqual([
      expect.stringMatching(
        /^target: ed25519 2-of-3 signing p50 <= 3 x floor \+ 20 ms: [\d.]+ ms vs [\d.]+ ms (PASS|FAIL)$/,
      ),
      expect.stringMatching(/^target: >= 50 signatures\/s with 32 in flight: [\d.]+\/s (PASS|FAIL)$/),
    ]);
    const env = environment(true);
    expect(env.gitCommit).toMatch(/^[0-9a-f]{40}$/);
    const text = formatReport(result, env);
    for (const row of result.rows) expect(text).toContain(row.name);
    const dir = mkdtempSync(join(tmpdir(), 'conclave-bench-'));
    try {
      const path = writeResults(resultsDocument(result, env, { test: true }), join(dir, 'results.json'));
      const written = JSON.parse(readFileSync(path, 'utf8')) as BenchResult & {
        environment: { quick: boolean };
      };
      expect(written.environment.quick).toBe(true);
      expect(written.rows).toHaveLength(result.rows.length);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
