/**
 * Background (daemon) process management for the local stack. Daemons run detached in their own
 * process group (so they outlive the CLI invocation that started them), with stdout and stderr
 * appended to a log file.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { ConclaveError } from '../errors.js';

export interface DaemonSpec {
  /** Human-readable name, used in error messages. */
  name: string;
  command: string;
  args: string[];
  /** Extra environment variables, merged over `process.env`. */
  env?: Record<string, string | undefined>;
  /** stdout and stderr go here (the file is truncated first; its folder is created). */
  logFile: string;
  cwd?: string;
}

/** Starts `command` detached in a new process group, output to `logFile`; returns its pid. */
export function spawnDaemon(spec: DaemonSpec): number {
  fs.mkdirSync(path.dirname(spec.logFile), { recursive: true });
  const fd = fs.openSync(spec.logFile, 'w');
  try {
    const child = spawn(spec.command, spec.args, {
      cwd: spec.cwd,
      env: { ...process.env, ...spec.env },
      detached: true,
      stdio: ['ignore', fd, fd],
    });
    // Spawn failures (ENOENT, EACCES) are reported asynchronously; `pid` is undefined then.
    child.on('error', () => undefined);
    if (child.pid === undefined) {
      throw new ConclaveError(
        'STACK',
        `could not start ${spec.name} (${spec.command}): executable not found or not runnable`,
      );
    }
    child.unref();
    return child.pid;
  } finally {
    fs.closeSync(fd);
  }
}

function signal(pid: number, sig: NodeJS.Signals | 0): boolean {
  try {
    process.kill(pid, sig);
    return true;
  } catch (err) {
    // EPERM: it exists but belongs to someone else.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Linux: a zombie (exited, not yet reaped) still answers kill(pid, 0); treat it as gone. */
function isZombie(pid: number): boolean {
  return procStat(pid)?.[0] === 'Z';
}

/** True if a process with this pid exists (and is not a zombie). */
export function isAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  return signal(pid, 0) && !isZombie(pid);
}

/** Fields after "(comm)" in /proc/<pid>/stat: state, ppid, pgrp, ... */
function procStat(pid: number | string): string[] | undefined {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  } catch {
    return undefined;
  }
}

/** True if the process group with id `pgid` still has live (non-zombie) members. */
function groupAlive(pgid: number): boolean {
  if (process.platform === 'win32') return false;
  if (process.platform !== 'linux' || !fs.existsSync('/proc/self/stat')) return signal(-pgid, 0);
  if (!signal(-pgid, 0)) return false;
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const fields = procStat(entry);
    if (fields && fields[2] === String(pgid) && fields[0] !== 'Z') return true;
  }
  return false;
}

/** Signals the process group of `pid` if it leads one, and the process itself. */
function signalTree(pid: number, sig: NodeJS.Signals): void {
  if (process.platform !== 'win32') signal(-pid, sig);
  signal(pid, sig);
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function waitGone(pid: number, ms: number, leadsGroup: boolean): Promise<boolean> {
  const deadline = Date.now() + ms;
  for (;;) {
    if (!isAlive(pid) && !(leadsGroup && groupAlive(pid))) return true;
    if (Date.now() >= deadline) return false;
    await sleep(50);
  }
}

/**
 * Stops a process (and the process group it leads, if any): SIGTERM, wait up to `graceMs`, then
 * SIGKILL. Resolves once it is gone; resolves immediately if it was not running. Throws
 * ConclaveError('STACK') only if it survives SIGKILL for 5 s (e.g. not ours to kill).
 */
export async function stopProcess(pid: number, opts: { graceMs?: number } = {}): Promise<void> {
  const graceMs = opts.graceMs ?? 5000;
  const leadsGroup = groupAlive(pid);
  if (!isAlive(pid) && !leadsGroup) return;
  signalTree(pid, 'SIGTERM');
  if (await waitGone(pid, graceMs, leadsGroup)) return;
  signalTree(pid, 'SIGKILL');
  if (await waitGone(pid, 5000, leadsGroup)) return;
  throw new ConclaveError('STACK', `process ${pid} did not exit after SIGTERM and SIGKILL`);
}
