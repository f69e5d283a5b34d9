/** The bench's output: a readable table, the per-round breakdown, target lines, results.json. */
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { dirname, join } from 'node:path';
import { projectRoot } from '../stack/paths.js';
import type { RoundBreakdown } from './history.js';
import type { BenchResult, Row } from './measure.js';
import type { PeersResult } from './peers/index.js';

export const resultsPath = join(projectRoot, 'bench', 'results.json');

export interface Environment {
  node: string;
  platform: string;
  arch: string;
  cpus: number;
  cpuModel: string;
  totalMemoryMiB: number;
  /** 1/5/15-minute load averages when the run began and (main sets it) when it ended. */
  loadAtStart: number[];
  loadAverage: number[];
  gitCommit: string;
  gitDirty: boolean;
  date: string;
  quick: boolean;
}

function git(args: string[]): string {
  try {
    return execFileSync('git', args, {
      cwd: projectRoot,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    }).trim();
  } catch {
    return '';
  }
}

const load = () => os.loadavg().map((x) => Math.round(x * 100) / 100);

export function environment(quick: boolean): Environment {
  const cpus = os.cpus();
  return {
    node: process.version,
    platform: os.platform(),
    arch: os.arch(),
    cpus: cpus.length,
    cpuModel: cpus[0]?.model ?? 'unknown',
    totalMemoryMiB: Math.round(os.totalmem() / 2 ** 20),
    loadAtStart: load(),
    loadAverage: load(),
    gitCommit: git(['rev-parse', 'HEAD']) || 'unknown',
    gitDirty: git(['status', '--porcelain']) !== '',
    date: new Date().toISOString(),
    quick,
  };
}

const ms = (x: number | undefined): string => (x === undefined || !Number.isFinite(x) ? '-' : x.toFixed(1));

function table(header: string[], rows: string[][], alignLeft = 1): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) =>
    cells.map((c, i) => (i < alignLeft ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

export function formatRows(rows: Row[]): string {
  return table(
    ['measurement', 'n', 'p50 ms', 'p95 ms', 'p99 ms', 'floor p50', 'ratio', 'per s', 'errors', 'bytes'],
    rows.map((r) => [
      r.name,
      String(r.n),
      ms(r.p50),
      ms(r.p95),
      ms(r.p99),
      ms(r.floorP50),
      r.ratio === undefined ? '-' : `${r.ratio.toFixed(2)}x`,
      r.perSecond === undefined ? '-' : r.perSecond.toFixed(1),
      r.errors === undefined ? '-' : String(r.errors),
      r.bytes === undefined ? '-' : String(r.bytes),
    ]),
  );
}

/** The peers next to Conclave's floor: each row's ratio is conclave / peer; why a peer was not measured, below. */
export function formatPeers(peers: PeersResult): string {
  const body = table(
    ['peer (in process, 2-of-3)', 'n', 'p50 ms', 'p95 ms', 'conclave floor', 'conclave p50', 'conclave/peer'],
    peers.rows.map((r) =>
      r.notMeasured !== undefined
        ? [r.name, '-', 'not measured', '-', r.conclave, ms(r.conclaveP50), '-']
        : [
            r.name,
            String(r.n),
            ms(r.p50),
            ms(r.p95),
            r.conclave,
            ms(r.conclaveP50),
            r.ratio === undefined ? '-' : `${r.ratio.toFixed(2)}x`,
          ],
    ),
  );
  const why = peers.rows.filter((r) => r.notMeasured !== undefined);
  return [body, ...why.map((r) => `${r.name}: not measured: ${r.notMeasured}`)].join('\n');
}

export function formatRounds(b: RoundBreakdown): string {
  const head = `${b.ceremony} (${b.sampled} histories): end-to-end p50 ${ms(b.endToEndP50)} ms, start to first task ${ms(b.startToFirstTaskP50)} ms, orchestration ${ms(b.orchestrationP50)} ms vs in activities ${ms(b.activityWallP50)} ms`;
  const body = table(
    [
      'step',
      'kind',
      'x',
      'before: decide',
      'dispatch',
      'sched-to-start',
      'exec',
      'round wall',
      'total',
      'retries',
    ],
    [
      ...b.steps.map((s) => [
        s.name,
        s.kind,
        String(s.count),
        ms(s.decideP50),
        ms(s.dispatchP50),
        s.kind === 'local' ? '-' : ms(s.scheduleToStartP50),
        ms(s.executionP50),
        ms(s.wallP50),
        ms(s.totalP50),
        s.retriesPerCeremony ? s.retriesPerCeremony.toFixed(2) : '0',
      ]),
      ['(workflow completion)', '', '', ms(b.tailP50), '', '', '', '', ms(b.tailP50), ''],
    ],
  );
  const d = b.dominant;
  const dom = `dominant: ${d.step} (${ms(d.ms)} ms, ${(d.share * 100).toFixed(0)}% of end-to-end; mostly ${d.part})`;
  return [head, body, dom].join('\n');
}

export function formatReport(result: BenchResult, env: Environment): string {
  const lines = [
    `Conclave bench ${env.quick ? '(quick) ' : ''}${result.only ? `(only ${result.only}) ` : ''}${env.date}  commit ${env.gitCommit.slice(0, 12)}${env.gitDirty ? ' (dirty)' : ''}`,
    `node ${env.node}, ${env.cpus} x ${env.cpuModel}, ${env.totalMemoryMiB} MiB, load ${env.loadAtStart.join(' ')} at start, ${env.loadAverage.join(' ')} at end`,
    '',
    formatRows(result.rows),
    '',
    ...(result.peers
      ? [
          'peers measured in this run (ratio: Conclave floor p50 / peer p50):',
          '',
          formatPeers(result.peers),
          '',
        ]
      : []),
    ...(result.rounds.length
      ? [
          'time per round (p50s, ms; "before" is orchestration since the previous step finished; retries per ceremony):',
          ...result.rounds.flatMap((r) => ['', formatRounds(r)]),
          '',
        ]
      : []),
    ...result.throughput
      .filter((t) => t.errors)
      .map(
        (t) =>
          `errors${t.label ? ` (${t.label})` : ''} with ${t.inFlight} in flight: ${t.errorSamples.join(' | ')}`,
      ),
    ...result.skipped.map((s) => `skipped: ${s}`),
    ...result.notes,
    ...result.targets.map((t) => t.line),
  ];
  return lines.join('\n');
}

/** What results.json holds: the environment, the stack used, and every figure. */
export function resultsDocument(
  result: BenchResult,
  env: Environment,
  stack: unknown,
): Record<string, unknown> {
  return { environment: env, stack, ...result };
}

export function writeResults(doc: Record<string, unknown>, path = resultsPath): string {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, `${JSON.stringify(doc, null, 2)}\n`);
  return path;
}
