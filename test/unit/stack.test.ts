import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConclaveError } from '../../src/errors.js';
import { ensureBinary } from '../../src/stack/binaries.js';
import { projectRoot, stateDir, toolsBin } from '../../src/stack/paths.js';
import { canConnect, freePort, waitForTcp } from '../../src/stack/ports.js';
import { isAlive, spawnDaemon, stopProcess } from '../../src/stack/processes.js';
import { workerEnv } from '../../src/stack/dev.js';

let tmp: string;
beforeAll(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'conclave-stack-unit-'));
});
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function waitFor<T>(fn: () => T | undefined, ms = 5000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = fn();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error('timed out waiting');
    await sleep(25);
  }
}

describe('paths', () => {
  it('resolves the project root from the module location', () => {
    expect(fs.existsSync(path.join(projectRoot, 'package.json'))).toBe(true);
    expect(toolsBin).toBe(path.join(projectRoot, '.tools', 'bin'));
    expect(path.isAbsolute(stateDir)).toBe(true);
  });
});

describe('ports', () => {
  it('freePort returns distinct ports that can be listened on', async () => {
    const ports = await Promise.all(Array.from({ length: 5 }, () => freePort()));
    expect(new Set(ports).size).toBe(ports.length);
    for (const port of ports) {
      expect(port).toBeGreaterThan(0);
      const server = net.createServer();
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, '127.0.0.1', resolve);
      });
      await new Promise((r) => server.close(r));
    }
  });

  it('waitForTcp resolves for a listener and times out (STACK) for a closed port', async () => {
    const server = net.createServer((s) => s.destroy());
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as net.AddressInfo;
    await waitForTcp('127.0.0.1', port, 2000);
    await new Promise((r) => server.close(r));
    expect(await canConnect('127.0.0.1', port)).toBe(false);
    await expect(waitForTcp('127.0.0.1', port, 300)).rejects.toMatchObject({ code: 'STACK' });
  });
});

describe('processes', () => {
  it('spawnDaemon runs a detached process with output in its log; stopProcess kills it', async () => {
    const logFile = path.join(tmp, 'logs', 'sleeper.log');
    const pid = spawnDaemon({
      name: 'sleeper',
      command: process.execPath,
      args: ['-e', 'console.log("hello from " + process.env.SLEEPER_NAME); setInterval(() => {}, 1000)'],
      env: { SLEEPER_NAME: 'sleepy' },
      logFile,
      cwd: tmp,
    });
    expect(isAlive(pid)).toBe(true);
    await waitFor(() => (fs.readFileSync(logFile, 'utf8').includes('hello from sleepy') ? true : undefined));
    await stopProcess(pid, { graceMs: 2000 });
    expect(isAlive(pid)).toBe(false);
    await stopProcess(pid); // already gone: resolves
  });

  it('stopProcess escalates to SIGKILL and takes the process group (grandchildren) with it', async () => {
    const logFile = path.join(tmp, 'stubborn.log');
    const script = `
      const { spawn } = require('node:child_process');
      const child = spawn(process.execPath, ['-e', 'process.on("SIGTERM", () => {}); setInterval(() => {}, 1000)'], { stdio: 'ignore' });
      console.log('grandchild ' + child.pid);
      process.on('SIGTERM', () => {});
      setInterval(() => {}, 1000);`;
    const pid = spawnDaemon({ name: 'stubborn', command: process.execPath, args: ['-e', script], logFile });
    const grandchild = await waitFor(() => {
      const m = /grandchild (\d+)/.exec(fs.readFileSync(logFile, 'utf8'));
      return m ? Number(m[1]) : undefined;
    });
    expect(isAlive(grandchild)).toBe(true);
    await sleep(200); // let the SIGTERM handlers get installed
    const started = Date.now();
    await stopProcess(pid, { graceMs: 300 });
    expect(Date.now() - started).toBeGreaterThanOrEqual(300);
    expect(isAlive(pid)).toBe(false);
    await waitFor(() => (isAlive(grandchild) ? undefined : true), 2000);
  });

  it('spawnDaemon throws STACK for a missing executable', () => {
    expect(() =>
      spawnDaemon({
        name: 'ghost',
        command: path.join(tmp, 'no-such-binary'),
        args: [],
        logFile: path.join(tmp, 'ghost.log'),
      }),
    ).toThrow(ConclaveError);
  });

  it('isAlive is false for nonsense pids', () => {
    expect(isAlive(0)).toBe(false);
    expect(isAlive(-1)).toBe(false);
    expect(isAlive(2 ** 30)).toBe(false);
  });
});

describe('ensureBinary', () => {
  it('gives a clear one-line STACK error when Go is missing', async () => {
    const emptyPath = fs.mkdtempSync(path.join(tmp, 'empty-path-'));
    const opts = {
      searchPath: emptyPath,
      toolsDir: path.join(tmp, 'absent-tools'),
      goBinary: path.join(emptyPath, 'go'),
    };
    for (const name of ['temporal', 'ferretdb'] as const) {
      const err = await ensureBinary(name, opts).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ConclaveError);
      expect((err as ConclaveError).code).toBe('STACK');
      expect((err as ConclaveError).message).toBe(
        `Go is not installed, so the local ${name} cannot be built. Install Go, or point TEMPORAL_ADDRESS / MONGODB_URI at existing servers.`,
      );
      expect((err as ConclaveError).message).not.toContain('\n');
    }
    expect(fs.existsSync(opts.toolsDir)).toBe(false);
  });

  it('prefers an executable on the search path', async () => {
    const dir = fs.mkdtempSync(path.join(tmp, 'path-'));
    const fake = path.join(dir, 'temporal');
    fs.writeFileSync(fake, '#!/bin/sh\necho "temporal version 9.9.9"\n', { mode: 0o755 });
    expect(
      await ensureBinary('temporal', { searchPath: dir, toolsDir: path.join(tmp, 'absent-tools') }),
    ).toBe(fake);
  });
});

describe('a restarted party keeps the stack gating choice', () => {
  const state = { parties: ['p1', 'p2'], dbPrefix: 't' };
  const env = (extra: Record<string, string> = {}) => ({ CONCLAVE_HOME: tmp, ...extra });

  it('follows the stack opted out at dev up, even when the restarting shell does not say so', () => {
    expect(workerEnv(env(), { ...state, gated: false }, 'p1').CONCLAVE_REQUIRE_GATE).toBe('0');
  });

  it('gates when the stack gates or did not record a choice, and an explicit setting wins', () => {
    expect(workerEnv(env(), { ...state, gated: true }, 'p1').CONCLAVE_REQUIRE_GATE).toBe(undefined);
    expect(workerEnv(env(), state, 'p1').CONCLAVE_REQUIRE_GATE).toBe(undefined);
    expect(
      workerEnv(env({ CONCLAVE_REQUIRE_GATE: '1' }), { ...state, gated: false }, 'p1').CONCLAVE_REQUIRE_GATE,
    ).toBe('1');
  });
});
