/**
 * The package as an application gets it (issue 19): `npm pack` (its `prepack` builds dist/), a
 * fresh folder that installs the tarball, a plain `node` script there that imports the client,
 * creates a wallet and signs on the real stack, and a strict `tsc` over code using the client's
 * types (`exactOptionalPropertyTypes`, and the library's declarations checked too).
 *
 * The install is npm's own, offline: `npm ci --offline` with a lockfile cut from this repo's
 * package-lock.json (the tarball's dependencies, as locked here, and @types/node for the
 * consumer), so npm takes every dependency from its cache, which this repo's `npm ci` filled.
 * Nothing of the repo is linked in: the consumer's node_modules holds the extracted tarball and
 * its dependencies only, and the processes run without NODE_OPTIONS or NODE_PATH.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import {
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  realpathSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { projectRoot } from '../../src/stack/paths.js';
import { nobleVerifyEd25519, opensslVerifyEd25519 } from './helpers.js';

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * A child process's environment: this one's, without what would change how node loads modules
 * (NODE_OPTIONS could carry tsx's loader) or where npm installs (the npm_* variables `npm test`
 * sets for its own package, e.g. npm_config_local_prefix pointing at this repo).
 */
function childEnv(extra: Record<string, string> = {}): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (v === undefined || k === 'NODE_OPTIONS' || k === 'NODE_PATH') continue;
    if (/^npm_(package_|lifecycle_|command$|config_(local_|global_)?prefix$)/i.test(k)) continue;
    env[k] = v;
  }
  return { ...env, ...extra };
}

function run(file: string, args: string[], cwd: string, env = childEnv(), timeout = 240_000): Promise<Run> {
  return new Promise((resolve) => {
    execFile(file, args, { cwd, env, timeout, maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) => {
      const code = err ? Number((err as { code?: unknown }).code) || 1 : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

const npm = 'npm';
const seconds = (since: number) => `${((Date.now() - since) / 1000).toFixed(1)}s`;

interface LockEntry {
  version?: string;
  dependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
  [field: string]: unknown;
}

/**
 * The lockfile entries `roots` need, found as node finds them: a package's own node_modules
 * first, then each enclosing one. Entries keep this repo's flags (dev, optional: a platform's
 * binaries are optional, and npm skips the other platforms').
 */
function lockClosure(packages: Record<string, LockEntry>, roots: string[]): Record<string, LockEntry> {
  const out: Record<string, LockEntry> = {};
  const visit = (from: string, name: string, required: boolean) => {
    for (let dir = from; ;) {
      const path = `${dir ? `${dir}/` : ''}node_modules/${name}`;
      if (packages[path]) return add(path);
      if (!dir) break;
      const up = dir.lastIndexOf('/node_modules/');
      dir = up < 0 ? '' : dir.slice(0, up);
    }
    if (required) throw new Error(`${name}, needed by ${from || 'the package'}, is not in package-lock.json`);
  };
  const add = (path: string) => {
    if (out[path]) return;
    const entry = packages[path]!;
    out[path] = entry;
    for (const name of Object.keys(entry.dependencies ?? {})) visit(path, name, true);
    for (const name of Object.keys(entry.optionalDependencies ?? {})) visit(path, name, false);
    for (const name of Object.keys(entry.peerDependencies ?? {})) visit(path, name, false);
  };
  for (const name of roots) visit('', name, true);
  return out;
}

const signScript = `
import { randomBytes } from 'node:crypto';
import { ConclaveClient } from 'conclave';

const tenant = process.argv[2];
const message = randomBytes(32).toString('hex');
const client = await ConclaveClient.connect();
try {
  const wallet = await client.createWallet({ tenant, curve: 'ed25519', threshold: 2, parties: 3 });
  const signed = await client.sign({ tenant, walletId: wallet.walletId, message });
  console.log(JSON.stringify({ resolved: import.meta.resolve('conclave'), wallet, signed }));
} finally {
  await client.close();
}
`;

const typedUse = `
import {
  ConclaveClient,
  ConclaveError,
  type CreateWalletOptions,
  type KeygenResult,
  type SignOptions,
  type SignResult,
} from 'conclave';

export async function createAndSign(tenant: string, message: Uint8Array): Promise<[KeygenResult, SignResult]> {
  const client: ConclaveClient = await ConclaveClient.connect();
  try {
    const options: CreateWalletOptions = { tenant, curve: 'ed25519', threshold: 2, parties: 3 };
    const wallet = await client.createWallet(options);
    const request: SignOptions = { tenant, walletId: wallet.walletId, message, signers: ['p1', 'p3'] };
    const signed = await client.sign(request);
    const signature: string = signed.signature;
    const publicKey: string = wallet.publicKey;
    console.log(publicKey, signature);
    return [wallet, signed];
  } catch (err) {
    if (err instanceof ConclaveError) console.error(err.code, err.message);
    throw err;
  } finally {
    await client.close();
  }
}

// the declarations are types, not any: a threshold given as a string does not compile
// @ts-expect-error threshold is a number
export const wrong: CreateWalletOptions = { threshold: '2', parties: 3 };
`;

const strictTsconfig = {
  compilerOptions: {
    strict: true,
    exactOptionalPropertyTypes: true,
    skipLibCheck: false,
    module: 'nodenext',
    target: 'es2022',
    types: ['node'],
    noEmit: true,
  },
  files: ['use.ts'],
};

let work: string;
let consumer: string;
let install: Run;
let typecheck: Promise<Run>;

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'conclave-consumer-'));
  const packDir = join(work, 'pack');
  mkdirSync(packDir);
  let started = Date.now();
  const pack = await run(npm, ['pack', '--pack-destination', packDir], projectRoot);
  expect(pack.code, `npm pack:\n${pack.stderr}`).toBe(0);
  console.log(`[consumer] built and packed in ${seconds(started)}`);
  const tarball = readdirSync(packDir).find((f) => f.endsWith('.tgz'));
  expect(tarball).toBeDefined();

  consumer = join(work, 'app');
  mkdirSync(consumer);
  const lock = JSON.parse(readFileSync(join(projectRoot, 'package-lock.json'), 'utf8')) as {
    packages: Record<string, LockEntry>;
  };
  const own = JSON.parse(readFileSync(join(projectRoot, 'package.json'), 'utf8')) as LockEntry & {
    bin?: Record<string, string>;
    engines?: Record<string, string>;
  };
  const typesNode = lock.packages['node_modules/@types/node']!.version!;
  const spec = `file:../pack/${tarball}`;
  const manifest = {
    name: 'conclave-consumer',
    version: '1.0.0',
    private: true,
    type: 'module',
    dependencies: { conclave: spec },
    devDependencies: { '@types/node': typesNode },
  };
  const packages = {
    '': {
      name: manifest.name,
      version: manifest.version,
      dependencies: manifest.dependencies,
      devDependencies: manifest.devDependencies,
    },
    'node_modules/conclave': {
      version: own.version,
      resolved: spec,
      dependencies: own.dependencies,
      bin: own.bin,
      engines: own.engines,
    },
    ...lockClosure(lock.packages, [...Object.keys(own.dependencies ?? {}), '@types/node']),
  };
  writeFileSync(join(consumer, 'package.json'), JSON.stringify(manifest, null, 2));
  writeFileSync(
    join(consumer, 'package-lock.json'),
    JSON.stringify({
      name: manifest.name,
      version: manifest.version,
      lockfileVersion: 3,
      requires: true,
      packages,
    }),
  );
  // scripts off: the client needs no install step (and npm's allow-scripts policy may differ)
  started = Date.now();
  install = await run(
    npm,
    ['ci', '--offline', '--ignore-scripts', '--no-audit', '--no-fund', '--no-update-notifier'],
    consumer,
  );
  console.log(`[consumer] npm ci --offline: exit ${install.code} in ${seconds(started)}`);
  writeFileSync(join(consumer, 'sign.mjs'), signScript);
  writeFileSync(join(consumer, 'use.ts'), typedUse);
  writeFileSync(join(consumer, 'tsconfig.json'), JSON.stringify(strictTsconfig, null, 2));
  // the strict type check runs alongside the signing test: both only read the install
  if (install.code === 0) {
    typecheck = run(
      process.execPath,
      [join(projectRoot, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', '.'],
      consumer,
    );
  }
});

afterAll(() => {
  if (work && !process.env.CONCLAVE_KEEP_TEST_HOME) rmSync(work, { recursive: true, force: true });
});

describe('the packed package in a fresh project', () => {
  it('installs offline from npm, with built JavaScript and declarations as its entry', () => {
    // ENOTCACHED: npm's cache lacks a locked tarball; `npm ci` in this repo fills it
    expect(install.code, `npm ci --offline:\n${install.stderr}`).toBe(0);
    const installed = join(consumer, 'node_modules', 'conclave');
    expect(lstatSync(installed).isSymbolicLink()).toBe(false);
    const manifest = JSON.parse(readFileSync(join(installed, 'package.json'), 'utf8')) as {
      exports: Record<string, { types: string; default: string }>;
    };
    expect(manifest.exports['.']).toEqual({ types: './dist/src/index.d.ts', default: './dist/src/index.js' });
    for (const file of ['dist/src/index.js', 'dist/src/index.d.ts', 'dist/src/client/index.js']) {
      expect(lstatSync(join(installed, file)).isFile(), file).toBe(true);
    }
    // the bin keeps working as before: it runs the TypeScript sources through tsx
    expect(lstatSync(join(installed, 'bin', 'conclave.mjs')).isFile()).toBe(true);
    expect(lstatSync(join(installed, 'src', 'cli', 'main.ts')).isFile()).toBe(true);
    expect(readdirSync(installed)).not.toContain('test');
  });

  it('plain node imports the client, creates a 2-of-3 ed25519 wallet and signs on the stack', async () => {
    expect(install.code).toBe(0);
    const tenant = `consumer-${randomBytes(4).toString('hex')}`;
    const r = await run(
      process.execPath,
      ['sign.mjs', tenant],
      consumer,
      childEnv({ CONCLAVE_HOME: inject('conclaveHome') }),
      120_000,
    );
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout.trim().split('\n').pop()!) as {
      resolved: string;
      wallet: { walletId: string; publicKey: string; threshold: number; parties: string[] };
      signed: { walletId: string; publicKey: string; message: string; signature: string; signers: string[] };
    };
    // the consumer's copy, built JavaScript: not this repo's sources
    const entry = join(realpathSync(consumer), 'node_modules', 'conclave', 'dist', 'src', 'index.js');
    expect(out.resolved).toBe(pathToFileURL(entry).href);
    expect(out.wallet).toMatchObject({ threshold: 2, parties: ['p1', 'p2', 'p3'] });
    expect(out.signed.walletId).toBe(out.wallet.walletId);
    expect(out.signed.publicKey).toBe(out.wallet.publicKey);
    expect(out.signed.message).toMatch(/^[0-9a-f]{64}$/);
    expect(out.signed.signers).toHaveLength(2);
    const { publicKey, message, signature } = out.signed;
    expect(opensslVerifyEd25519(publicKey, message, signature)).toBe(true);
    expect(nobleVerifyEd25519(publicKey, message, signature)).toBe(true);
    const other = message.replace(/^../, (b) => (b === '00' ? '01' : '00'));
    expect(opensslVerifyEd25519(publicKey, other, signature)).toBe(false);
  });

  it('type-checks in a strict consumer (exactOptionalPropertyTypes, library declarations checked)', async () => {
    expect(install.code).toBe(0);
    const r = await typecheck;
    expect(r.stdout + r.stderr).toBe('');
    expect(r.code).toBe(0);
  });
});
