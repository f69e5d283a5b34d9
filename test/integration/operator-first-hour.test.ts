/**
 * An operator's first hour (issue 19), through the CLI as they run it: `dev status` fails when a
 * party is down and says how to bring it back; `dev restart` does; `dev up` reports progress and,
 * on a stack with a worker down, says what is down instead of "already running"; `backup keygen`
 * refuses to overwrite in one typed line; `backup export` names the recovery key it encrypted to
 * and warns when it is not the one just made; `share validate` with a party down says so in plain
 * words and is audited as failed; `webhooks create` on a local URL names the field to set and the
 * command that sets it; a rotation waiting on a dead party prints its request id and whom it waits
 * on, and rejoining with that id finishes it once the party is back.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { AuditEntry } from '../../src/audit/contracts.js';
import { readStackState } from '../../src/config.js';
import { devRecoveryKey, killWorker, restartWorker, type StackState } from '../../src/stack/dev.js';
import { projectRoot } from '../../src/stack/paths.js';
import { isAlive } from '../../src/stack/processes.js';
import { closeAllDbs } from '../../src/store/mongo.js';
import { conclave, json, stackEnv, waitFor } from './helpers.js';

afterAll(async () => {
  await closeAllDbs();
});

const pidOf = (party: string, env = stackEnv()) =>
  (readStackState(env) as StackState).workers.find((w) => w.name === `party ${party}`)!.pid;

/** Runs `body` with `party` killed, and leaves it running again whatever happens. */
async function withPartyDown(party: string, body: () => Promise<void>): Promise<void> {
  const env = stackEnv();
  await killWorker(env, party);
  try {
    await body();
  } finally {
    if (!isAlive(pidOf(party))) await restartWorker(env, party);
  }
}

async function keygen(): Promise<{ walletId: string; publicKey: string }> {
  const r = await conclave(['keygen', '--threshold', '2', '--parties', '3', '--json']);
  expect(r.code, r.stderr).toBe(0);
  return json(r) as { walletId: string; publicKey: string };
}

describe('dev stack', () => {
  it('dev up reports each worker as it comes up; dev status fails once nothing runs', async () => {
    const home = mkdtempSync(join(tmpdir(), 'conclave-ofh-'));
    const env = { ...process.env, CONCLAVE_HOME: home, CONCLAVE_REQUIRE_GATE: '0' };
    try {
      const up = await conclave(['dev', 'up', '--parties', '2'], env);
      expect(up.code, up.stderr).toBe(0);
      expect(up.stderr).toMatch(/^starting 2 party workers and the coordinator \(logs in .*\)$/m);
      expect(up.stderr).toMatch(/^party p1 ready \(\d+\.\ds\)$/m);
      expect(up.stderr).toMatch(/^party p2 ready \(\d+\.\ds\)$/m);
      expect(up.stderr).toMatch(/^coordinator ready \(\d+\.\ds\)$/m);
      expect(up.stderr).toMatch(/^stack ready$/m);
      const status = await conclave(['dev', 'status'], env);
      expect(status.code).toBe(0);
      expect(status.stdout).toMatch(/^running: true$/m);
    } finally {
      await conclave(['dev', 'down'], env);
    }
    try {
      const none = await conclave(['dev', 'status'], env);
      expect(none.code).toBe(1);
      expect(none.stdout).toMatch(/stack is not running \(`conclave dev up` starts it\)/);
    } finally {
      rmSync(home, { recursive: true, force: true });
    }
  });

  it('a party down: status exits 1 and names the restart, dev up says what is down, dev restart brings it back', async () => {
    const before = pidOf('p3');
    await withPartyDown('p3', async () => {
      const status = await conclave(['dev', 'status']);
      expect(status.code).toBe(1);
      expect(status.stdout).toMatch(/^running: false \(party p3 down\)$/m);
      expect(status.stdout).toMatch(new RegExp(`^DOWN party p3 \\(pid ${before}\\)$`, 'm'));
      expect(status.stdout).toMatch(/^party p3 is down: restart it with `conclave dev restart p3`$/m);
      const st = json(await conclave(['dev', 'status', '--json']));
      expect(st).toMatchObject({ running: false, down: ['p3'] });

      const up = await conclave(['dev', 'up']);
      expect(up.code).toBe(1);
      expect(up.stderr).toBe(
        'conclave: the dev stack is running, but party p3 is down: restart it with `conclave dev restart p3`\n',
      );

      const unknown = await conclave(['dev', 'restart', 'p9']);
      expect(unknown.code).toBe(1);
      expect(unknown.stderr).toMatch(
        /no worker for p9 in this stack; its workers: p1, p2, p3, p4, p5, coordinator/,
      );

      const restarted = await conclave(['dev', 'restart', 'p3']);
      expect(restarted.code, restarted.stderr).toBe(0);
      expect(restarted.stdout).toMatch(
        /^party p3 is up again \(pid \d+\): polling party\.p3 after \d+\.\ds$/m,
      );
      expect(restarted.stderr).toMatch(
        /^started party p3 \(pid \d+, log .*party-p3\.log\); waiting until it polls party\.p3$/m,
      );
    });
    const now = pidOf('p3');
    expect(now).not.toBe(before);
    expect(isAlive(now)).toBe(true);
    const status = await conclave(['dev', 'status']);
    expect(status.code).toBe(0);
    expect(status.stdout).toMatch(/^running: true$/m);
    // the restarted party works: a wallet with it signs
    const w = await keygen();
    const s = await conclave(['sign', '--wallet', w.walletId, '--message', 'c0ffee', '--signers', 'p1,p3']);
    expect(s.code, s.stderr).toBe(0);
  });

  it('dev restart of a running party stops it first and starts it again', async () => {
    const before = pidOf('p2');
    const r = await conclave(['dev', 'restart', 'p2', '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect(json(r)).toMatchObject({ status: 'restarted', target: 'p2', wasRunning: true });
    expect(isAlive(before)).toBe(false);
    expect(isAlive(pidOf('p2'))).toBe(true);
    // the stack's choices survive the restart: the parties of this stack do not gate
    expect((readStackState(stackEnv()) as StackState).gated).toBe(false);
  });
});

describe('backups', () => {
  it('keygen will not overwrite a key file; export names its recovery key and warns it is not the new one', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'conclave-ofh-backup-'));
    const keyFile = join(dir, 'recovery.key');
    const made = await conclave(['backup', 'keygen', '--out', keyFile, '--json']);
    expect(made.code, made.stderr).toBe(0);
    const fresh = String(json(made).publicKey);

    const again = await conclave(['backup', 'keygen', '--out', keyFile]);
    expect(again.code).toBe(1);
    expect(again.stderr).toBe(
      `conclave: ${keyFile} already exists: a recovery key is never overwritten (backups may be encrypted to it); give another --out, or move ${keyFile} away first\n`,
    );
    expect(again.stderr).not.toMatch(/EEXIST/);
    const againJson = json(await conclave(['backup', 'keygen', '--out', keyFile, '--json']));
    expect(againJson).toMatchObject({ status: 'error', code: 'BAD_INPUT' });

    const w = await keygen();
    const out = join(dir, 'backups');
    const exported = await conclave(['backup', 'export', '--wallet', w.walletId, '--out', out]);
    expect(exported.code, exported.stderr).toBe(0);
    const dev = devRecoveryKey(stackEnv());
    const devFile = join(stackEnv().CONCLAVE_HOME!, 'keys', 'recovery.key');
    expect(exported.stdout).toMatch(
      new RegExp(
        `^recovery key ${dev.publicKey} \\(the dev stack's own key\\): restore with --recovery-key ${devFile}$`,
        'm',
      ),
    );
    expect(exported.stderr).toContain(
      `warning: the backups of p1, p2, p3 are encrypted to ${dev.publicKey} (the dev stack's own key), not to ${fresh}, the recovery key \`conclave backup keygen\` made last (${keyFile}), which cannot open them`,
    );
    expect(exported.stderr).toContain(`CONCLAVE_RECOVERY_PUBLIC_KEY=${fresh} conclave dev restart p1`);

    const asJson = json(await conclave(['backup', 'export', '--wallet', w.walletId, '--out', out, '--json']));
    expect(asJson.recoveryKeys).toEqual([
      {
        publicKey: dev.publicKey,
        parties: ['p1', 'p2', 'p3'],
        source: "the dev stack's own key",
        file: devFile,
      },
    ]);
    rmSync(dir, { recursive: true, force: true });
  });
});

describe('webhooks', () => {
  it('a local URL is refused naming the field that allows it and the command that sets it', async () => {
    const tenant = `ofh-${Date.now().toString(36)}`;
    const refused = await conclave([
      'webhooks',
      'create',
      '--url',
      'https://localhost:9/hook',
      '--events',
      '*',
      '--tenant',
      tenant,
    ]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/^conclave: webhook endpoint host localhost is a loopback name; /);
    expect(refused.stderr).toContain('"allowPrivateWebhookEndpoints": true');
    expect(refused.stderr).toContain('conclave rules publish RULES.json --config CONFIG.json [--tenant ID]');
    const http = await conclave(['webhooks', 'create', '--url', 'http://127.0.0.1:9/hook', '--events', '*']);
    expect(http.code).toBe(1);
    expect(http.stderr).toMatch(
      /only https is allowed; to allow http and private endpoints, set "allowPrivateWebhookEndpoints": true/,
    );

    // doing what it says works
    const dir = mkdtempSync(join(tmpdir(), 'conclave-ofh-hooks-'));
    const config = join(dir, 'config.json');
    writeFileSync(config, JSON.stringify({ allowPrivateWebhookEndpoints: true }));
    const rules = join(projectRoot, 'docs', 'examples', 'rules.json');
    const published = await conclave(['rules', 'publish', rules, '--config', config, '--tenant', tenant]);
    expect(published.code, published.stderr).toBe(0);
    const created = await conclave([
      'webhooks',
      'create',
      '--url',
      'https://localhost:9/hook',
      '--events',
      '*',
      '--tenant',
      tenant,
      '--json',
    ]);
    expect(created.code, created.stderr).toBe(0);
    rmSync(dir, { recursive: true, force: true });
  });
});

describe('a party down during ceremonies', () => {
  it('share validate says it did not answer, exits 1, and is audited as failed', async () => {
    const w = await keygen();
    await withPartyDown('p3', async () => {
      const r = await conclave(['share', 'validate', '--wallet', w.walletId]);
      expect(r.code).toBe(1);
      expect(r.stdout).toMatch(
        /^p3 +NO ANSWER: did not answer within 20 seconds \(is its worker running\?\); dev stack: `conclave dev restart p3`$/m,
      );
      expect(r.stdout).not.toMatch(/FAILED FAILED|ScheduleToStart/);
      expect(r.stdout).toMatch(/^dry run +p1, p2 signed; verified and discarded$/m);
    });
    const log = await conclave(['audit', '--wallet', w.walletId, '--json']);
    const entries = (json(log) as { entries: AuditEntry[] }).entries;
    const validation = entries.find((e) => e.ceremony === 'validation');
    expect(validation).toMatchObject({
      outcome: 'failed',
      code: 'UNREACHABLE',
      reason: 'p3 did not answer within 20 seconds (is its worker running?); dry run by p1, p2 verified',
      detail: { ok: false, failed: ['p3'], dryRunVerified: true },
    });
    const text = await conclave(['audit', '--wallet', w.walletId]);
    expect(text.stdout).toMatch(/ validation +FAILED UNREACHABLE +v1 /);

    // with every party up it passes, and is audited as completed
    const ok = await conclave(['share', 'validate', '--wallet', w.walletId]);
    expect(ok.code, ok.stdout + ok.stderr).toBe(0);
  }, 180_000);

  it('rotate waiting on a dead party prints its request id and whom it waits on; rejoining finishes it', async () => {
    const w = await keygen();
    await withPartyDown('p3', async () => {
      const child = spawn(
        process.execPath,
        [join(projectRoot, 'bin', 'conclave.mjs'), 'rotate', '--wallet', w.walletId],
        {
          env: stackEnv(),
          cwd: tmpdir(),
          stdio: ['ignore', 'pipe', 'pipe'],
        },
      );
      let stderr = '';
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
      try {
        await waitFor('the waiting-on line', async () => /^waiting on /m.test(stderr), 90_000, 200);
      } finally {
        child.kill('SIGTERM');
        await exited;
      }
      const id = new RegExp(
        `^request (reshare:default:${w.walletId}:([0-9a-f-]{36})) is running: rejoin it with ` +
          `\`conclave rotate --wallet ${w.walletId} --request-id ([0-9a-f-]{36})\`, ` +
          'see it with `conclave tx show (\\S+)`$',
        'm',
      ).exec(stderr);
      expect(id, stderr).not.toBeNull();
      expect(id![3]).toBe(id![2]);
      expect(id![4]).toBe(id![1]);
      expect(stderr).toMatch(
        /^waiting on p3 \(describeParty, not taken by its worker for \d+s\): is p3's worker running\? \(`conclave dev status`; `conclave dev restart p3`\)$/m,
      );
      // the party comes back; the same command with the printed request id joins the same rotation
      const restarted = await conclave(['dev', 'restart', 'p3']);
      expect(restarted.code, restarted.stderr).toBe(0);
      const rejoined = await conclave(['rotate', '--wallet', w.walletId, '--request-id', id![2]!, '--json']);
      expect(rejoined.code, rejoined.stderr).toBe(0);
      expect(json(rejoined)).toMatchObject({
        kind: 'rotation',
        fromVersion: 1,
        version: 2,
        publicKey: w.publicKey,
      });
    });
    // one rotation, not two
    const entries = (
      json(await conclave(['audit', '--wallet', w.walletId, '--json'])) as { entries: AuditEntry[] }
    ).entries;
    expect(entries.filter((e) => e.ceremony === 'rotation')).toHaveLength(1);
  }, 180_000);
});
