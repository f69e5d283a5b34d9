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

/** Threshold ECDSA rows are named after their scheme. */
const ecdsa = 'dkls23-secp256k1';
const isEcdsa = (name: string) => name.includes(ecdsa);
const ecdsaRows = [
  `keygen ${ecdsa} 2-of-3 (with OT setup)`,
  `keygen ${ecdsa} 3-of-5 (with OT setup)`,
  `sign ${ecdsa} 2-of-3`,
  `sign ${ecdsa} 3-of-5`,
  `sign throughput ${ecdsa} 2-of-3 x8 in flight`,
  ...['2-of-3', '3-of-5'].flatMap((c) => [
    `floor keygen ${ecdsa} ${c} (DKG + OT setups + zero seeds)`,
    `floor presign ${ecdsa} ${c} (rounds 1+2 + finish)`,
    `floor online ${ecdsa} ${c} (online + combine)`,
    `floor sign ${ecdsa} ${c} (full protocol)`,
    `bytes keygen ${ecdsa} ${c}, pair setup message bodies`,
    `bytes keygen ${ecdsa} ${c}, pair setup envelopes`,
    `bytes sign ${ecdsa} ${c}, message bodies`,
    `bytes sign ${ecdsa} ${c}, envelopes`,
  ]),
];

const ecdsaTargetLines = [
  expect.stringMatching(
    /^target: ECDSA \(dkls23-secp256k1\) 2-of-3 signing ceremony p50 < 300 ms: [\d.]+ ms (PASS|FAIL)$/,
  ),
  expect.stringMatching(/^target: >= 10 ECDSA 2-of-3 signatures\/s with 8 in flight: [\d.]+\/s (PASS|FAIL)$/),
  expect.stringMatching(
    /^target: ECDSA 2-of-3 key generation \(with OT setup\) p50 < 5 s: [\d.]+ s (PASS|FAIL)$/,
  ),
];

/** The threshold ECDSA rows: every one there, each against its floor, the sizes of its messages. */
function expectEcdsaRows(result: BenchResult): void {
  const rows = Object.fromEntries(result.rows.filter((r) => isEcdsa(r.name)).map((r) => [r.name, r]));
  expect(Object.keys(rows).sort()).toEqual([...ecdsaRows].sort());
  const floor = (name: string) => rows[name]!.p50;
  for (const c of ['2-of-3', '3-of-5']) {
    const large = c === '3-of-5';
    expect(rows[`keygen ${ecdsa} ${c} (with OT setup)`]!.n).toBe(
      large ? quickSizes.ecdsaKeygenLarge : quickSizes.ecdsaKeygen,
    );
    expect(rows[`keygen ${ecdsa} ${c} (with OT setup)`]!.floorP50).toBe(
      floor(`floor keygen ${ecdsa} ${c} (DKG + OT setups + zero seeds)`),
    );
    expect(rows[`sign ${ecdsa} ${c}`]!.n).toBe(large ? quickSizes.ecdsaSignLarge : quickSizes.ecdsaSign);
    expect(rows[`sign ${ecdsa} ${c}`]!.floorP50).toBe(floor(`floor sign ${ecdsa} ${c} (full protocol)`));
    for (const part of ['presign', 'online'])
      expect(
        floor(
          `floor ${part} ${ecdsa} ${c} (${part === 'presign' ? 'rounds 1+2 + finish' : 'online + combine'})`,
        ),
      ).toBeLessThan(floor(`floor sign ${ecdsa} ${c} (full protocol)`));
    // one message per ordered pair and round, and one broadcast per signer (rounds 1 to 3 of signing,
    // rounds 1 to 3 of the pair setup)
    const [t, n] = c.split('-of-').map(Number) as [number, number];
    const bytes = (name: string) => rows[`bytes ${name.replace('%', `${ecdsa} ${c}`)}`]!;
    expect(bytes('sign %, message bodies').n).toBe(2 * t * (t - 1) + t);
    expect(bytes('sign %, envelopes').n).toBe(2 * t * (t - 1) + t);
    expect(bytes('keygen %, pair setup message bodies').n).toBe(2 * n * (n - 1) + n);
    expect(bytes('keygen %, pair setup envelopes').n).toBe(2 * n * (n - 1) + n);
    for (const [messages, envelopes] of [
      ['sign %, message bodies', 'sign %, envelopes'],
      ['keygen %, pair setup message bodies', 'keygen %, pair setup envelopes'],
    ] as const) {
      const protocol = bytes(messages).bytes!;
      positive(protocol);
      // envelopes carry the bodies encrypted, in base64, with their headers: over 4/3 of the bytes
      expect(bytes(envelopes).bytes!).toBeGreaterThan((4 / 3) * protocol);
      expect(bytes(envelopes).bytes!).toBeLessThan(2 * protocol);
    }
  }
  const tp = rows[`sign throughput ${ecdsa} 2-of-3 x8 in flight`]!;
  expect(tp.n).toBe(quickSizes.ecdsaThroughput);
  expect(tp.errors).toBe(0);
  expect(tp.inFlight).toBe(8);
  positive(tp.perSecond);
  expect(result.ecdsaFloors.map((f) => [f.threshold, f.parties])).toEqual([
    [2, 3],
    [3, 5],
  ]);
}

describe('bench (quick)', () => {
  let result: BenchResult;

  // ECDSA key generations are seconds of CPU each (every ordered pair's OT setup)
  it('measures every row against the real stack', { timeout: 900_000 }, async () => {
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
        `floor sign batch of ${quickSizes.batchSize} ed25519 2-of-3`,
        `sign batches of ${quickSizes.batchSize} 2-of-3 x${quickSizes.batchInFlight} in flight`,
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
        ...ecdsaRows,
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
    for (const row of result.rows.filter((r) => r.kind !== 'audit' && r.kind !== 'bytes')) {
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
      for (const row of result.rows.filter((r) => r.kind === kind && !isEcdsa(r.name))) expect(row.n).toBe(n);
    }
    // batches: every signature of every batch signed and verified, per-signature cost below a single ceremony's
    const batch = result.batch!;
    expect(batch.stack.ok).toBe(quickSizes.batches * quickSizes.batchSize);
    expect(batch.stack.errors).toBe(0);
    positive(batch.stack.perSecond);
    const singleFloor = result.floors.find(
      (f) => f.scheme === 'frost-ed25519' && f.threshold === 2 && f.parties === 3,
    )!;
    expect(batch.floor.perSignatureMs).toBeLessThan(singleFloor.sign.p50);
    expect(result.targets.map((t) => t.name)).toEqual(
      expect.arrayContaining([
        `batch-${quickSizes.batchSize}-vs-single`,
        `batch-${quickSizes.batchSize}-vs-ceiling`,
      ]),
    );
    const throughput = result.rows.filter(
      (r) => r.kind === 'throughput' && !isEcdsa(r.name) && !r.name.includes('batch'),
    );
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
    expectEcdsaRows(result);
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
      `keygen ${ecdsa} 2-of-3 (with OT setup)`,
      `keygen ${ecdsa} 3-of-5 (with OT setup)`,
      `sign ${ecdsa} 2-of-3`,
      `sign ${ecdsa} 3-of-5`,
      'sign ed25519 2-of-3 rules on (10 rules)',
      'sign 2-of-3 (32 in flight)',
      `sign batch of ${quickSizes.batchSize} 2-of-3`,
    ]);
    for (const r of result.rounds) {
      // fewer ECDSA ceremonies than the history sample in quick mode
      const ceremonies = !isEcdsa(r.ceremony)
        ? quickSizes.historySample
        : r.ceremony.startsWith('keygen')
          ? r.ceremony.includes('3-of-5')
            ? quickSizes.ecdsaKeygenLarge
            : quickSizes.ecdsaKeygen
          : r.ceremony.includes('3-of-5')
            ? quickSizes.ecdsaSignLarge
            : quickSizes.ecdsaSign;
      expect(r.sampled).toBe(Math.min(quickSizes.historySample, ceremonies));
      positive(r.endToEndP50);
      expect(r.startToFirstTaskP50).toBeGreaterThanOrEqual(0);
      const names = r.steps.map((s) => s.name);
      const rounds = r.ceremony.startsWith('keygen')
        ? isEcdsa(r.ceremony)
          ? [
              'dkgRound1',
              'dkgRound2',
              'dkgRound3',
              'pairSetupRound1',
              'pairSetupRound2',
              'pairSetupRound3',
              'pairSetupActivate',
              'dkgActivate',
            ]
          : ['dkgRound1', 'dkgRound2', 'dkgRound3', 'dkgActivate']
        : isEcdsa(r.ceremony)
          ? ['ecdsaSignRound1', 'ecdsaSignRound2', 'ecdsaSignRound3']
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
      expect.stringMatching(
        /^target: batches of 64 >= 10 x the signatures\/s of single requests: [\d.]+\/s vs [\d.]+\/s = [\d.]+x (PASS|FAIL)$/,
      ),
      expect.stringMatching(
        /^target: batches of 64 >= 80 % of the crypto ceiling \(.*\): \d+ % (PASS|FAIL)$/,
      ),
      ...ecdsaTargetLines,
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
