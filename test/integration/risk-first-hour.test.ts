/**
 * A risk analyst's first hour (issue 19), through the CLI as they run it: `tx show`, `approve`
 * and `--request-id` take the request id in the form `tx show` and webhooks print it
 * (`sign:<tenant>:<id>`) as well as bare, and a full id of another tenant is refused naming
 * both; `rules history` shows which config fields a version changed and who signed it; `rules
 * publish` without a key warns that the version is unsigned; `sign --detach` without the key its
 * tenant requires is refused before it starts; the last approval prints the state the request
 * moved on to, not `awaiting-approval`; an escalated `sign` says at once why and what it needs,
 * with its request id and expiry, then each verdict; `tx list` shows open requests by state;
 * `tx cancel` withdraws one's own waiting request.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { generateActorKey, type ActorSecret } from '../../src/policy/index.js';
import { closeAllDbs } from '../../src/store/mongo.js';
import { conclave, json, message32, stackEnv, waitFor } from './helpers.js';
import { projectRoot } from '../../src/stack/paths.js';

afterAll(async () => {
  await closeAllDbs();
});

const run = Date.now().toString(36);
const dir = mkdtempSync(join(tmpdir(), 'conclave-risk-'));
const keys: Record<string, ActorSecret> = {};
const keyFile = (id: string) => join(dir, `${id}.key`);
for (const id of ['risk-lead', 'backend', 'alice']) {
  keys[id] = generateActorKey(id);
  writeFileSync(keyFile(id), JSON.stringify(keys[id]), { mode: 0o600 });
}
const pub = (id: string) => ({ id, publicKey: keys[id]!.publicKey });
const as = (id?: string) => {
  const env = stackEnv();
  delete env.CONCLAVE_KEY;
  return id ? { ...env, CONCLAVE_KEY: keyFile(id) } : env;
};
const file = (name: string, value: unknown) => {
  const path = join(dir, name);
  writeFileSync(path, JSON.stringify(value));
  return path;
};

const rules = file('rules.json', {
  version: 1,
  defaultOutcome: 'allow',
  rules: [
    {
      name: 'large transfer',
      conditions: { all: [{ fact: 'fiatValue', operator: 'fiatGreaterThan', value: '10000' }] },
      event: { type: 'escalate', params: { reason: 'large', approvals: { risk: 1 } } },
    },
  ],
});
const plainConfig = file('config-v1.json', { prices: { SOL: '150' } });
const gatedConfig = file('config-v2.json', {
  prices: { SOL: '150' },
  initiators: [pub('backend')],
  approvers: [{ ...pub('alice'), roles: ['risk'] }],
  escalationExpiresAfter: 600,
});
const tx = file('tx.json', {
  chain: 'solana',
  asset: 'SOL',
  amount: '100',
  destination: 'Dest1111111111111111111111111111111111111111',
});

const tenant = `risk-${run}`;
let walletId: string;

describe('a risk analyst', () => {
  it('sees which config fields a version changed and who signed it', async () => {
    const kg = await conclave(
      ['keygen', '--tenant', tenant, '--threshold', '2', '--parties', '3', '--json'],
      as(),
    );
    expect(kg.code, kg.stderr).toBe(0);
    walletId = (json(kg) as { walletId: string }).walletId;
    for (const config of [plainConfig, gatedConfig]) {
      const p = await conclave(
        ['rules', 'publish', rules, '--config', config, '--tenant', tenant],
        as('risk-lead'),
      );
      expect(p.code, p.stderr).toBe(0);
      expect(p.stderr).not.toMatch(/unsigned/);
    }
    const h = await conclave(['rules', 'history', '--tenant', tenant], as());
    expect(h.code, h.stderr).toBe(0);
    const [v2, v1] = h.stdout.trim().split('\n');
    expect(v2).toMatch(
      /^\* v2 .* \+\[\] -\[\] ~\[\] {2}config ~\[approvers, escalationExpiresAfter, initiators\] {2}signed by risk-lead \([0-9a-f]{16}…\)$/,
    );
    expect(v1).toMatch(
      /^ {2}v1 .* \+\[large transfer\] -\[\] ~\[\] {2}config ~\[prices\] {2}signed by risk-lead /,
    );
    const hj = await conclave(['rules', 'history', '--tenant', tenant, '--json'], as());
    const versions = (json(hj) as { versions: { config: unknown; signer: unknown }[] }).versions;
    expect(versions[0]).toMatchObject({
      config: { changed: ['approvers', 'escalationExpiresAfter', 'initiators'] },
      signer: { id: 'risk-lead', publicKey: keys['risk-lead']!.publicKey },
    });
  });

  it('is warned that a rule set published without a key is unsigned', async () => {
    const other = `risk-unsigned-${run}`;
    const p = await conclave(['rules', 'publish', rules, '--config', plainConfig, '--tenant', other], as());
    expect(p.code, p.stderr).toBe(0);
    expect(p.stderr.trim()).toBe(
      `warning: publishing unsigned (no CONCLAVE_KEY): parties that gate tenant ${other} will refuse to sign under this version`,
    );
    expect(p.stdout).toMatch(/, UNSIGNED$/m);
    const h = await conclave(['rules', 'history', '--tenant', other], as());
    expect(h.stdout).toMatch(/config ~\[prices\] {2}UNSIGNED$/m);
  });

  it('a detached sign request without the initiator key is refused before it starts', async () => {
    const id = `nokey-${run}`;
    const args = ['sign', '--detach', '--wallet', walletId, '--message', message32(), '--tx', tx];
    const r = await conclave([...args, '--tenant', tenant, '--request-id', id], as());
    expect(r.code).toBe(1);
    expect(r.stdout).not.toMatch(/started/);
    expect(r.stderr.trim()).toBe(
      `conclave: tenant ${tenant} accepts sign requests signed by its initiators only (set CONCLAVE_KEY)`,
    );
    const j = await conclave([...args, '--tenant', tenant, '--request-id', id, '--json'], as());
    expect(json(j)).toMatchObject({ status: 'error', code: 'UNAUTHORIZED' });
    // nothing was started under that id
    const shown = await conclave(['tx', 'show', id, '--tenant', tenant], as());
    expect(shown.code).toBe(1);
    expect(shown.stderr).toMatch(/has no sign request/);
  });

  it('takes the request id as printed, refuses another tenant, and the last approval shows signing', async () => {
    const id = `pay-${run}`;
    const full = `sign:${tenant}:${id}`;
    const started = await conclave(
      [
        'sign',
        '--detach',
        '--wallet',
        walletId,
        '--message',
        message32(),
        '--tx',
        tx,
        '--tenant',
        tenant,
        '--request-id',
        full,
      ],
      as('backend'),
    );
    expect(started.code, started.stderr).toBe(0);
    expect(started.stdout.trim()).toBe(`request ${id} started: conclave tx show ${id}`);
    let shown = await conclave(['tx', 'show', id, '--tenant', tenant], as());
    for (let i = 0; i < 60 && !shown.stdout.includes('awaiting-approval'); i++) {
      await new Promise((r) => setTimeout(r, 500));
      shown = await conclave(['tx', 'show', id, '--tenant', tenant], as());
    }
    expect(shown.stdout).toMatch(new RegExp(`^request    ${full}$`, 'm'));
    expect(shown.stdout).toMatch(/^state {6}awaiting-approval/m);
    // the id as printed is taken back
    const again = await conclave(['tx', 'show', full, '--tenant', tenant], as());
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toMatch(new RegExp(`^request    ${full}$`, 'm'));
    // named for another tenant than the one in use: refused, naming both
    const wrong = await conclave(['tx', 'show', full], as());
    expect(wrong.code).toBe(1);
    expect(wrong.stderr.trim()).toBe(
      `conclave: request ${full} is tenant ${tenant}'s, not tenant default's (the tenant in use); pass --tenant ${tenant}`,
    );
    const wrongJson = await conclave(['tx', 'show', full, '--json'], as());
    expect(json(wrongJson)).toMatchObject({ status: 'error', code: 'WRONG_TENANT' });
    const rotate = await conclave(
      [
        'rotate',
        '--wallet',
        walletId,
        '--tenant',
        tenant,
        '--request-id',
        `reshare:default:${walletId}:r-${run}`,
      ],
      as(),
    );
    expect(rotate.code).toBe(1);
    expect(rotate.stderr).toMatch(/is tenant default's, not tenant risk-/);

    // the only approval needed: what it prints is where the request went, not the wait it left
    const approved = await conclave(
      ['approve', full, '--as', 'alice', '--key', keyFile('alice'), '--tenant', tenant],
      as(),
    );
    expect(approved.code, approved.stderr).toBe(0);
    expect(approved.stdout).toMatch(new RegExp(`^alice approved ${full}$`, 'm'));
    expect(approved.stdout).toMatch(/^state {6}(signing|signed)$/m);
    expect(approved.stdout).not.toMatch(/awaiting-approval/);
    let done = await conclave(['tx', 'show', full, '--tenant', tenant], as());
    for (let i = 0; i < 120 && !/^state {6}signed$/m.test(done.stdout); i++) {
      await new Promise((r) => setTimeout(r, 500));
      done = await conclave(['tx', 'show', full, '--tenant', tenant], as());
    }
    expect(done.stdout).toMatch(/^state {6}signed$/m);
  });
});

/** `conclave` left running: its output so far, and its end. */
function started(args: string[], env: Record<string, string | undefined>) {
  const child = spawn(process.execPath, [join(projectRoot, 'bin', 'conclave.mjs'), ...args], { env });
  const out = { stdout: '', stderr: '' };
  child.stdout.on('data', (d: Buffer) => (out.stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out.stderr += d.toString()));
  const ended = new Promise<number>((r) => child.on('close', (code) => r(code ?? 1)));
  return { out, ended, child };
}

describe('a risk analyst with an escalated request', () => {
  it('sees at once why it waits, what it needs and its id; lists it; the sign ends when it is approved', async () => {
    const id = `loud-${run}`;
    const full = `sign:${tenant}:${id}`;
    const s = started(
      [
        'sign',
        '--wallet',
        walletId,
        '--message',
        message32(),
        '--tx',
        tx,
        '--tenant',
        tenant,
        '--request-id',
        id,
      ],
      as('backend'),
    );
    try {
      await waitFor(
        'the escalation notice',
        () => Promise.resolve(/waiting for approvals/.test(s.out.stderr)),
        60_000,
      );
      const lines = s.out.stderr.trim().split('\n');
      expect(lines[0]).toBe(`request ${full} escalated by rules v2: large transfer: large`);
      expect(lines[1]).toMatch(/^needs 1 risk \(alice\) before \d{4}-\d\d-\d\dT[\d:.]+Z$/);
      expect(lines[2]).toBe(
        `approvers: conclave approve ${full} --as ID --tenant ${tenant}; see it: conclave tx show ${full} --tenant ${tenant}`,
      );
      expect(s.out.stdout).toBe('');

      const listed = await conclave(['tx', 'list', '--tenant', tenant], as());
      expect(listed.code, listed.stderr).toBe(0);
      expect(listed.stdout).toMatch(
        new RegExp(
          `^${full}  awaiting-approval  wallet ${walletId}: pays 100 SOL to Dest1+ under rules v2, needs 1 risk \\(alice\\) until \\S+$`,
          'm',
        ),
      );
      const signing = await conclave(['tx', 'list', '--state', 'signing', '--tenant', tenant], as());
      expect(signing.stdout.trim()).toBe(`no open requests in state signing for tenant ${tenant}`);
      const j = await conclave(
        ['tx', 'list', '--state', 'awaiting-approval', '--tenant', tenant, '--json'],
        as(),
      );
      const requests = (json(j) as { requests: { requestId: string; state: string }[] }).requests;
      expect(requests.map((r) => r.requestId)).toContain(full);
      expect(requests.every((r) => r.state === 'awaiting-approval')).toBe(true);
      const bad = await conclave(['tx', 'list', '--state', 'signed', '--tenant', tenant], as());
      expect(bad.code).toBe(2);
      expect(bad.stderr).toMatch(/--state takes one of judging, awaiting-approval, signing, running/);

      const approved = await conclave(
        ['approve', full, '--as', 'alice', '--key', keyFile('alice'), '--tenant', tenant],
        as(),
      );
      expect(approved.code, approved.stderr).toBe(0);
      expect(await s.ended).toBe(0);
      expect(s.out.stderr).toMatch(/^alice approved as risk$/m);
      expect(s.out.stderr).toMatch(new RegExp(`^request ${full} is (signing|signed)$`, 'm'));
      expect(s.out.stdout).toMatch(/^signature {2}[0-9a-f]{128}$/m);
    } finally {
      s.child.kill();
    }
  });

  it('its initiator cancels a waiting request; another key cannot', async () => {
    const id = `withdrawn-${run}`;
    const full = `sign:${tenant}:${id}`;
    const d = await conclave(
      [
        'sign',
        '--detach',
        '--wallet',
        walletId,
        '--message',
        message32(),
        '--tx',
        tx,
        '--tenant',
        tenant,
        '--request-id',
        id,
      ],
      as('backend'),
    );
    expect(d.code, d.stderr).toBe(0);
    await waitFor(
      `${id} to wait for approvals`,
      async () =>
        (await conclave(['tx', 'show', id, '--tenant', tenant], as())).stdout.includes('awaiting-approval'),
      60_000,
    );
    const notTheirs = await conclave(
      ['tx', 'cancel', full, '--key', keyFile('alice'), '--tenant', tenant],
      as(),
    );
    expect(notTheirs.code).toBe(1);
    expect(notTheirs.stderr.trim()).toBe(
      `conclave: only backend, who signed request ${full}, may cancel it: use the key it was signed with`,
    );
    const c = await conclave(['tx', 'cancel', id, '--tenant', tenant], as('backend'));
    expect(c.code, c.stderr).toBe(0);
    expect(c.stdout).toMatch(new RegExp(`^cancelled ${full}$`, 'm'));
    expect(c.stdout).toMatch(/^state {6}cancelled$/m);
    const shown = await conclave(['tx', 'show', id, '--tenant', tenant], as());
    expect(shown.stdout).toMatch(/^failure {4}.*backend cancelled the request \(rules v2\)$/m);
    const listed = await conclave(['tx', 'list', '--tenant', tenant], as());
    expect(listed.stdout).not.toContain(full);
  });
});

describe('one transaction description', () => {
  it('rules test judges the file sign --tx takes; every problem in one error; another wallet is refused', async () => {
    const t = await conclave(
      ['rules', 'test', rules, '--tx', tx, '--config', gatedConfig, '--wallet', walletId],
      as(),
    );
    expect(t.code, t.stderr).toBe(0);
    expect(t.stdout).toMatch(
      new RegExp(
        `^judged {4}100 SOL on solana to Dest1+, wallet ${walletId} \\(default\\), initiator example-initiator, at \\S+$`,
        'm',
      ),
    );
    expect(t.stdout).toMatch(/^decision {2}escalate \(approvals: 1 risk\)$/m);

    const bad = file('bad-tx.json', { asset: 'SOL', amount: '1e3', ammount: '1' });
    const problems = [
      'missing chain, destination',
      'amount must be a decimal string like "12.5" (no sign, exponent or number; at most 78 digits)',
      'unknown field "ammount" (known: chain, asset, amount, destination, memo, metadata, tenant, walletId, initiator, at)',
    ].join('; ');
    const tested = await conclave(['rules', 'test', rules, '--tx', bad], as());
    expect(tested.code).toBe(1);
    expect(tested.stderr.trim()).toBe(`conclave: transaction description: ${problems}`);
    const signArgs = ['sign', '--wallet', walletId, '--message', message32(), '--tenant', tenant];
    const signed = await conclave([...signArgs, '--tx', bad], as('backend'));
    expect(signed.code).toBe(1);
    expect(signed.stderr.trim()).toBe(`conclave: transaction description: ${problems}`);

    const elsewhere = file('other-wallet-tx.json', {
      ...JSON.parse(readFileSync(tx, 'utf8')),
      walletId: 'someone-elses-wallet',
      at: '2026-11-23T10:30:00+01:00',
    });
    const refused = await conclave([...signArgs, '--tx', elsewhere, '--json'], as('backend'));
    expect(refused.code).toBe(1);
    expect(json(refused)).toMatchObject({
      status: 'error',
      code: 'BAD_INPUT',
      message:
        `transaction description: it names walletId "someone-elses-wallet", but this request's wallet is ${walletId}; ` +
        'at: a sign request is dated when its initiator signs it; leave `at` out',
    });
    // naming its own wallet is fine, and the same file judges the same under rules test
    const own = file('own-wallet-tx.json', { ...JSON.parse(readFileSync(tx, 'utf8')), walletId });
    const judged = await conclave(['rules', 'test', rules, '--tx', own, '--config', gatedConfig], as());
    expect(judged.stdout).toMatch(new RegExp(`wallet ${walletId} \\(default\\)`));
    const detached = await conclave([...signArgs, '--tx', own, '--detach'], as('backend'));
    expect(detached.code, detached.stderr).toBe(0);
  });
});
