/**
 * Peer: bnb-chain tss-lib v2 (Go), threshold ECDSA (GG18, Paillier-based MtA with range proofs)
 * and EdDSA, 2-of-3, every party in one process. The program is bench/peers/tss-lib/main.go: the
 * bench builds it with `go build` into `.tools/bin/tss-bench` (git-ignored) and runs it; it prints
 * one JSON document of timings. With no Go, or when the build or the run fails, the peer is "not
 * measured" with the reason.
 *
 * Its Paillier pre-parameters (safe primes, minutes to generate) are cached in
 * `.conclave/bench-peers/tss-preparams.json` (git-ignored; not under `.conclave/bench`, which the
 * bench wipes when it starts a stack of its own), so its key generation is timed without them.
 * It times with GOMAXPROCS=1 by default: one core, like the in-process floors it is compared with.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { projectRoot, toolsBin } from '../../stack/paths.js';
import { summarize, type Summary } from '../stats.js';
import type { PeerSample } from './noble-frost.js';

export const tssLibSource = path.join(projectRoot, 'bench', 'peers', 'tss-lib');
export const tssBenchBinary = path.join(toolsBin, 'tss-bench');
export const tssPreParamsPath = path.join(projectRoot, '.conclave', 'bench-peers', 'tss-preparams.json');

/** What the Go program prints (bench/peers/tss-lib/main.go's Output). */
export interface TssBenchOutput {
  library: string;
  version: string;
  go: string;
  gomaxprocs: number;
  parties: number;
  signers: number;
  warmup: number;
  preParams: { path: string; cached: boolean; generateMs?: number };
  ecdsa: TssSchemeOutput;
  eddsa?: TssSchemeOutput;
}

export interface TssSchemeOutput {
  keygenMs: number[];
  signMs: number[];
  sample: PeerSample;
}

export interface TssSchemeResult {
  keygen: Summary;
  sign: Summary;
  keygenSamples: number[];
  signSamples: number[];
  sample: PeerSample;
}

export type TssLibResult =
  | {
      measured: true;
      peer: string;
      version: string;
      go: string;
      gomaxprocs: number;
      preParams: TssBenchOutput['preParams'];
      ecdsa: TssSchemeResult;
      eddsa?: TssSchemeResult;
    }
  | { measured: false; reason: string };

export interface TssLibOptions {
  signRuns: number;
  warmup: number;
  /** Timed key generations per scheme (an ECDSA one is seconds of CPU even with cached pre-parameters). */
  keygenRuns?: number;
  /** Go executable; by default `go` on PATH, else /usr/local/go/bin/go, else $GOROOT/bin/go. */
  goBinary?: string;
  log?: (line: string) => void;
  /** Kills the program after this long (its first run generates pre-parameters: minutes). */
  timeoutMs?: number;
}

const isExecutable = (file: string): boolean => {
  try {
    fs.accessSync(file, fs.constants.X_OK);
    return fs.statSync(file).isFile();
  } catch {
    return false;
  }
};

export function findGo(goBinary?: string): string | undefined {
  if (goBinary !== undefined) return isExecutable(goBinary) ? goBinary : undefined;
  const candidates = [
    ...(process.env.PATH ?? '').split(path.delimiter).map((dir) => (dir ? path.join(dir, 'go') : undefined)),
    '/usr/local/go/bin/go',
    process.env.GOROOT ? path.join(process.env.GOROOT, 'bin', 'go') : undefined,
  ];
  return candidates.find((c): c is string => c !== undefined && isExecutable(c));
}

interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

function run(
  cmd: string,
  args: string[],
  opts: { cwd: string; env?: NodeJS.ProcessEnv; timeoutMs: number; onLine?: (line: string) => void },
): Promise<RunResult> {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, {
      cwd: opts.cwd,
      env: opts.env ?? process.env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    let partial = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs);
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString('utf8')));
    child.stderr.on('data', (c: Buffer) => {
      const text = c.toString('utf8');
      stderr += text;
      const lines = (partial + text).split('\n');
      partial = lines.pop() ?? '';
      for (const line of lines) if (line.trim()) opts.onLine?.(line);
    });
    child.on('error', (err) => {
      clearTimeout(timer);
      resolve({ code: -1, stdout, stderr: stderr + String(err) });
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code: signal ? -1 : code, stdout, stderr: signal ? `${stderr}killed by ${signal}` : stderr });
    });
  });
}

const lastLine = (text: string): string => text.trim().split('\n').at(-1) ?? '';

const finiteList = (x: unknown): x is number[] =>
  Array.isArray(x) && x.length > 0 && x.every((v) => typeof v === 'number' && Number.isFinite(v) && v > 0);
const hexOf = (x: unknown, bytes: number[]): boolean =>
  typeof x === 'string' && /^[0-9a-f]*$/.test(x) && bytes.includes(x.length / 2);

function checkScheme(x: unknown, what: string, keyBytes: number[]): TssSchemeOutput {
  const s = x as Partial<TssSchemeOutput> | undefined;
  if (!s || !finiteList(s.keygenMs) || !finiteList(s.signMs))
    throw new Error(`tss-bench output: ${what} timings are missing or not positive numbers`);
  const sample = s.sample as Partial<PeerSample> | undefined;
  if (
    !sample ||
    !hexOf(sample.publicKey, keyBytes) ||
    !hexOf(sample.message, [32]) ||
    !hexOf(sample.signature, [64])
  )
    throw new Error(`tss-bench output: ${what} sample signature is malformed`);
  return s as TssSchemeOutput;
}

/** Parses and checks the Go program's stdout (its last non-empty line is the JSON document). */
export function parseTssBenchOutput(stdout: string): TssBenchOutput {
  const line = lastLine(stdout);
  let doc: Partial<TssBenchOutput>;
  try {
    doc = JSON.parse(line) as Partial<TssBenchOutput>;
  } catch {
    throw new Error(`tss-bench output is not JSON: ${line.slice(0, 200)}`);
  }
  if (typeof doc !== 'object' || doc === null) throw new Error('tss-bench output is not a JSON object');
  if (typeof doc.library !== 'string' || typeof doc.version !== 'string' || typeof doc.go !== 'string')
    throw new Error('tss-bench output: library, version or go is missing');
  if (doc.parties !== 3 || doc.signers !== 2)
    throw new Error(`tss-bench output: expected 2-of-3, got ${doc.signers}-of-${doc.parties}`);
  checkScheme(doc.ecdsa, 'ecdsa', [33]);
  if (doc.eddsa !== undefined) checkScheme(doc.eddsa, 'eddsa', [32]);
  return doc as TssBenchOutput;
}

const schemeResult = (s: TssSchemeOutput): TssSchemeResult => ({
  keygen: summarize(s.keygenMs),
  sign: summarize(s.signMs),
  keygenSamples: s.keygenMs,
  signSamples: s.signMs,
  sample: s.sample,
});

/** The measured result of a parsed output. */
export function tssLibResultOf(out: TssBenchOutput): TssLibResult {
  return {
    measured: true,
    peer: `${out.library} (Go)`,
    version: out.version,
    go: out.go,
    gomaxprocs: out.gomaxprocs,
    preParams: out.preParams,
    ecdsa: schemeResult(out.ecdsa),
    ...(out.eddsa ? { eddsa: schemeResult(out.eddsa) } : {}),
  };
}

/** Builds the Go program (incremental: seconds once built) and runs it; never throws. */
export async function measureTssLib(opts: TssLibOptions): Promise<TssLibResult> {
  const log = opts.log ?? (() => undefined);
  const go = findGo(opts.goBinary);
  if (!go) return { measured: false, reason: 'no Go toolchain found (PATH, /usr/local/go/bin, $GOROOT/bin)' };
  try {
    fs.mkdirSync(path.dirname(tssBenchBinary), { recursive: true });
    log(
      `tss-lib: go build ${path.relative(projectRoot, tssLibSource)} -> ${path.relative(projectRoot, tssBenchBinary)}`,
    );
    const build = await run(go, ['build', '-o', tssBenchBinary, '.'], {
      cwd: tssLibSource,
      timeoutMs: 15 * 60_000,
    });
    if (build.code !== 0) {
      return {
        measured: false,
        reason: `go build failed: ${lastLine(build.stderr) || `exit ${build.code}`}`,
      };
    }
    if (!fs.existsSync(tssPreParamsPath))
      log('tss-lib: no cached Paillier pre-parameters: generating them (minutes, first run only)');
    const args = [
      '-preparams',
      tssPreParamsPath,
      '-keygen',
      String(opts.keygenRuns ?? 1),
      '-sign',
      String(opts.signRuns),
      '-warmup',
      String(opts.warmup),
    ];
    const result = await run(tssBenchBinary, args, {
      cwd: projectRoot,
      timeoutMs: opts.timeoutMs ?? 40 * 60_000,
      onLine: (line) => log(`tss-lib: ${line.replace(/^\[tss-bench\] /, '')}`),
    });
    if (result.code !== 0) {
      return {
        measured: false,
        reason: `tss-bench failed: ${lastLine(result.stderr) || `exit ${result.code}`}`,
      };
    }
    return tssLibResultOf(parseTssBenchOutput(result.stdout));
  } catch (err) {
    return { measured: false, reason: err instanceof Error ? err.message : String(err) };
  }
}
