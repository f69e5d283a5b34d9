/**
 * Locates — or builds once, with Go — the two server programs of the local stack:
 * the Temporal CLI (its `server start-dev`) and FerretDB v1 (MongoDB wire protocol over SQLite).
 * Lookup order: PATH, then `<project>/.tools/bin`, then build into `<project>/.tools/bin`.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ConclaveError } from '../errors.js';
import { isAlive } from './processes.js';
import { toolsBin } from './paths.js';

export type BinaryName = 'temporal' | 'ferretdb';

interface ToolSpec {
  label: string;
  module: string;
  version: string;
  /** Package path inside the module. */
  pkg: string;
  /** Generated file (relative to the module root) that must hold the version for the binary to start. */
  versionFile?: string;
}

export const TOOLS: Readonly<Record<BinaryName, ToolSpec>> = {
  temporal: {
    label: 'temporal CLI',
    module: 'github.com/temporalio/cli',
    version: 'v1.5.1',
    pkg: 'cmd/temporal',
  },
  ferretdb: {
    label: 'FerretDB',
    module: 'github.com/FerretDB/FerretDB',
    version: 'v1.24.2',
    pkg: 'cmd/ferretdb',
    versionFile: 'build/version/version.txt',
  },
};

export interface EnsureBinaryOptions {
  log?: (line: string) => void;
  /** Go executable to build with. Default: `go` on PATH, else /usr/local/go/bin/go, else $GOROOT/bin/go. */
  goBinary?: string;
  /** Where built binaries live. Default: `<project>/.tools/bin`. */
  toolsDir?: string;
  /** PATH searched for an installed binary (and for `go`). Default: `process.env.PATH`. */
  searchPath?: string;
}

const exe = process.platform === 'win32' ? '.exe' : '';

function isExecutable(file: string): boolean {
  try {
    fs.accessSync(file, fs.constants.X_OK);
    return fs.statSync(file).isFile();
  } catch {
    return false;
  }
}

function onPath(name: string, searchPath: string | undefined): string | undefined {
  for (const dir of (searchPath ?? '').split(path.delimiter)) {
    if (!dir) continue;
    const candidate = path.join(dir, name + exe);
    if (isExecutable(candidate)) return candidate;
  }
  return undefined;
}

function findGo(opts: EnsureBinaryOptions): string | undefined {
  if (opts.goBinary !== undefined) return isExecutable(opts.goBinary) ? opts.goBinary : undefined;
  const candidates = [
    onPath('go', opts.searchPath ?? process.env.PATH),
    '/usr/local/go/bin/go' + exe,
    process.env.GOROOT ? path.join(process.env.GOROOT, 'bin', 'go' + exe) : undefined,
  ];
  return candidates.find((c): c is string => c !== undefined && isExecutable(c));
}

interface RunResult {
  code: number | null;
  output: string;
}

function run(cmd: string, args: string[], cwd: string, env: NodeJS.ProcessEnv): Promise<RunResult> {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    const chunks: Buffer[] = [];
    let stdout = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString('utf8')));
    child.stderr.on('data', (c: Buffer) => chunks.push(c));
    child.on('error', (err) => resolve({ code: -1, output: String(err) }));
    child.on('close', (code) => resolve({ code, output: stdout + Buffer.concat(chunks).toString('utf8') }));
  });
}

const tail = (text: string, n = 20): string => text.trim().split('\n').slice(-n).join('\n');
const lastLine = (text: string): string => text.trim().split('\n').at(-1) ?? '';
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Cross-process build lock (`<toolsDir>/.<name>.lock`, a folder holding the owner's pid); returns a release function. */
async function acquireLock(toolsDir: string, name: string, log: (line: string) => void): Promise<() => void> {
  const lock = path.join(toolsDir, `.${name}.lock`);
  let announced = false;
  for (;;) {
    try {
      fs.mkdirSync(lock);
      fs.writeFileSync(path.join(lock, 'pid'), String(process.pid));
      return () => fs.rmSync(lock, { recursive: true, force: true });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    let owner = NaN;
    try {
      owner = Number(fs.readFileSync(path.join(lock, 'pid'), 'utf8'));
    } catch {
      // The owner may not have written its pid yet.
    }
    if (Number.isInteger(owner) && owner > 0 && !isAlive(owner)) {
      fs.rmSync(lock, { recursive: true, force: true });
      continue;
    }
    if (!announced) {
      log(`waiting for another process (pid ${owner}) that is building ${name}`);
      announced = true;
    }
    await sleep(1000);
  }
}

/** Makes a copied module tree writable (the module cache is read-only). */
function makeWritable(dir: string): void {
  fs.chmodSync(dir, 0o755);
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, entry.name);
    if (entry.isDirectory()) makeWritable(p);
    else if (entry.isFile()) fs.chmodSync(p, 0o644);
  }
}

/** A built binary is usable only if `--version` runs (FerretDB panics at start-up without version.txt). */
async function runs(bin: string): Promise<RunResult> {
  if (!isExecutable(bin)) return { code: -1, output: `${bin} was not produced` };
  return run(bin, ['--version'], os.tmpdir(), process.env);
}

async function build(
  go: string,
  name: BinaryName,
  toolsDir: string,
  log: (line: string) => void,
): Promise<void> {
  const tool = TOOLS[name];
  const target = path.join(toolsDir, name + exe);
  const staging = fs.mkdtempSync(path.join(toolsDir, `.build-${name}-`));
  const built = path.join(staging, name + exe);
  const env = { ...process.env, GOBIN: staging };
  const started = Date.now();
  let src: string | undefined;
  try {
    log(`building ${tool.label} ${tool.version} with go install (first run only, takes a few minutes)`);
    const install = await run(
      go,
      ['install', `${tool.module}/${tool.pkg}@${tool.version}`],
      os.tmpdir(),
      env,
    );
    const installed = install.code === 0 ? await runs(built) : install;
    if (installed.code !== 0) {
      // Two known failure modes: some module proxies refuse the `@v/list` request that
      // `go install pkg@version` makes to check for deprecations (the module itself downloads), and
      // FerretDB needs a generated build/version/version.txt that the module zip does not contain.
      // So: download the module, copy it somewhere writable, add the version file, build there.
      log(
        `go install did not give a working binary (${lastLine(installed.output)}); falling back to go mod download + go build`,
      );
      fs.rmSync(built, { force: true });
      const download = await run(
        go,
        ['mod', 'download', '-json', `${tool.module}@${tool.version}`],
        os.tmpdir(),
        env,
      );
      let dir: string | undefined;
      try {
        const info = JSON.parse(download.output.slice(download.output.indexOf('{'))) as {
          Dir?: string;
          Error?: string;
        };
        if (info.Error) throw new Error(info.Error);
        dir = info.Dir;
      } catch (err) {
        const reason = err instanceof Error ? err.message : String(err);
        throw new ConclaveError(
          'STACK',
          `could not download ${tool.module}@${tool.version}: ${reason}\n${tail(download.output)}`,
        );
      }
      if (!dir)
        throw new ConclaveError('STACK', `go mod download gave no folder for ${tool.module}@${tool.version}`);
      src = fs.mkdtempSync(path.join(os.tmpdir(), `conclave-${name}-src-`));
      fs.cpSync(dir, src, { recursive: true });
      makeWritable(src);
      if (tool.versionFile) {
        const file = path.join(src, tool.versionFile);
        const current = fs.existsSync(file) ? fs.readFileSync(file, 'utf8').trim() : '';
        if (!current.startsWith('v')) fs.writeFileSync(file, `${tool.version}\n`);
      }
      const args = ['build', '-buildvcs=false', '-o', built, `./${tool.pkg}`];
      let result = await run(go, args, src, env);
      if (result.code !== 0) {
        log(`go build failed (${lastLine(result.output)}); retrying with GOFLAGS=-mod=mod`);
        const goflags = [process.env.GOFLAGS, '-mod=mod'].filter(Boolean).join(' ');
        result = await run(go, args, src, { ...env, GOFLAGS: goflags });
      }
      if (result.code === 0) result = await runs(built);
      if (result.code !== 0) {
        throw new ConclaveError(
          'STACK',
          `building ${tool.label} ${tool.version} failed:\n${tail(result.output)}`,
        );
      }
    }
    fs.renameSync(built, target);
    log(`built ${tool.label} ${tool.version} in ${Math.round((Date.now() - started) / 1000)} s: ${target}`);
  } finally {
    fs.rmSync(staging, { recursive: true, force: true });
    if (src) fs.rmSync(src, { recursive: true, force: true });
  }
}

/** Binaries already checked by this process (path → ok). */
const verified = new Map<string, boolean>();

async function works(bin: string, name: BinaryName): Promise<boolean> {
  const cached = verified.get(bin);
  if (cached !== undefined) return cached;
  const result = await runs(bin);
  // Only FerretDB v1 has the SQLite backend (v2 needs PostgreSQL with DocumentDB).
  const ok = result.code === 0 && (name !== 'ferretdb' || /\bv1\./.test(result.output));
  verified.set(bin, ok);
  return ok;
}

/**
 * Returns the path of a working `temporal` or `ferretdb` (v1): from PATH, else from the tools
 * folder, else built there with Go (first run only; concurrent callers wait on a lock). Throws
 * ConclaveError('STACK') if it has to be built and Go is missing, or the build fails.
 */
export async function ensureBinary(name: BinaryName, opts: EnsureBinaryOptions = {}): Promise<string> {
  const log = opts.log ?? (() => undefined);
  const found = onPath(name, opts.searchPath ?? process.env.PATH);
  if (found) {
    if (await works(found, name)) return found;
    log(`ignoring ${found}: it does not run or is not ${TOOLS[name].label} v1`);
  }
  const toolsDir = opts.toolsDir ?? toolsBin;
  const target = path.join(toolsDir, name + exe);
  if (isExecutable(target)) {
    if (await works(target, name)) return target;
    log(`${target} does not run (broken build?); rebuilding it`);
  }

  const go = findGo(opts);
  if (!go) {
    throw new ConclaveError(
      'STACK',
      `Go is not installed, so the local ${name} cannot be built. Install Go, or point TEMPORAL_ADDRESS / MONGODB_URI at existing servers.`,
    );
  }
  fs.mkdirSync(toolsDir, { recursive: true });
  const release = await acquireLock(toolsDir, name, log);
  try {
    verified.delete(target);
    if (!(isExecutable(target) && (await works(target, name)))) {
      await build(go, name, toolsDir, log);
      verified.set(target, true);
    }
  } finally {
    release();
  }
  return target;
}
