/**
 * A risk analyst's first hour (issue 19), through the CLI as they run it: `tx show`, `approve`
 * and `--request-id` take the request id in the form `tx show` and webhooks print it
 * (`sign:<tenant>:<id>`) as well as bare, and a full id of another tenant is refused naming
 * both; `rules history` shows which config fields a version changed and who signed it; `rules
 * publish` without a key warns that the version is unsigned; `sign --detach` without the key its
 * tenant requires is refused before it starts; the last approval prints the state the request
 * moved on to, not `awaiting-approval`.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { generateActorKey, type ActorSecret } from '../../src/policy/index.js';
import { closeAllDbs } from '../../src/store/mongo.js';
import { conclave, json, message32, stackEnv } from './helpers.js';

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
