/**
 * The dev stack left at its default: its parties gate, and `dev up` sets up the default tenant
 * (one dev key trusted by every party as rule set and governance publisher, rules and a
 * governance policy signed by it). The demo and the README's commands run in one command there,
 * with nothing set by hand; a tenant nobody set up is refused by the parties themselves.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { devDown, devUp, type StackState } from '../../src/stack/dev.js';
import { devAdminId, devDenyList } from '../../src/stack/dev-tenant.js';
import { projectRoot } from '../../src/stack/paths.js';
import { closeAllDbs } from '../../src/store/mongo.js';
import { conclave, json, message32, opensslVerifyEd25519, partyStoreOf } from './helpers.js';

const home = mkdtempSync(join(tmpdir(), 'conclave-gate-it-'));
// a user's shell: no CONCLAVE_KEY, no opt-out, this stack's home
const env: Record<string, string | undefined> = { ...process.env, CONCLAVE_HOME: home };
delete env.CONCLAVE_REQUIRE_GATE;
delete env.CONCLAVE_KEY;
delete env.CONCLAVE_PAYLOAD_KEY;
const payment = join(home, 'payment.json');
let state: StackState;

beforeAll(async () => {
  state = await devUp({
    env,
    parties: 3,
    dbPrefix: `gate_${Date.now().toString(36)}`,
    log: (l) => console.log(`[gated stack] ${l}`),
  });
  writeFileSync(
    payment,
    JSON.stringify({
      chain: 'solana',
      asset: 'SOL',
      amount: '1.5',
      destination: 'A1iceDestination1111111111111111111111111111',
    }),
  );
}, 300_000);

afterAll(async () => {
  await closeAllDbs();
  await devDown({ env }).catch(() => undefined);
  rmSync(home, { recursive: true, force: true });
}, 60_000);

describe('the dev stack gates by default', () => {
  it('sets up the default tenant: every party trusts the dev key for rules and governance', async () => {
    expect(state.devKeyFile).toBe(join(home, 'keys', `${devAdminId}.key`));
    for (const party of state.parties) {
      const store = await partyStoreOf(party, env);
      const trust = await store.tenantTrust.findOne({ _id: 'default' });
      expect(trust?.publishers?.map((p) => p.id)).toEqual([devAdminId]);
      expect(trust?.governancePublishers?.map((p) => p.id)).toEqual([devAdminId]);
    }
    const rules = json(await conclave(['rules', 'history', '--json'], env));
    expect(JSON.stringify(rules)).toContain(`"publishedBy":"${devAdminId}"`);
  });

  it('the README commands work with no key set by hand; the rules judge the --tx', async () => {
    const k = await conclave(
      ['keygen', '--curve', 'ed25519', '--threshold', '2', '--parties', '3', '--json'],
      env,
    );
    expect(k.code, k.stderr).toBe(0);
    const wallet = json(k);
    const message = message32();
    const signed = await conclave(
      ['sign', '--wallet', String(wallet.walletId), '--message', message, '--tx', payment, '--json'],
      env,
    );
    expect(signed.code, signed.stderr).toBe(0);
    expect(opensslVerifyEd25519(String(wallet.publicKey), message, String(json(signed).signature))).toBe(
      true,
    );

    // no description: the tenant's rules cannot judge it
    const bare = await conclave(['sign', '--wallet', String(wallet.walletId), '--message', message32()], env);
    expect(bare.code).toBe(1);
    expect(bare.stderr).toMatch(/must describe its transaction/);

    // the dev rules block a deny-listed destination
    const denied = join(home, 'denied.json');
    writeFileSync(
      denied,
      JSON.stringify({ chain: 'bitcoin', asset: 'BTC', amount: '0.1', destination: devDenyList[0] }),
    );
    const blocked = await conclave(
      ['sign', '--wallet', String(wallet.walletId), '--message', message32(), '--tx', denied, '--json'],
      env,
    );
    expect(blocked.code).toBe(1);
    expect(JSON.parse(blocked.stdout)).toMatchObject({ status: 'error', code: 'POLICY_BLOCKED' });

    // a governed rotation needs no approval under the dev policy; the wallet signs after it
    const rotated = await conclave(['rotate', '--wallet', String(wallet.walletId), '--json'], env);
    expect(rotated.code, rotated.stderr).toBe(0);
    expect(json(rotated)).toMatchObject({ version: 2, publicKey: wallet.publicKey });
    const after = message32();
    const again = await conclave(
      [
        'sign',
        '--wallet',
        String(wallet.walletId),
        '--message',
        after,
        '--tx',
        payment,
        '--signers',
        'p2,p3',
        '--json',
      ],
      env,
    );
    expect(again.code, again.stderr).toBe(0);
    expect(opensslVerifyEd25519(String(wallet.publicKey), after, String(json(again).signature))).toBe(true);
  });

  it('a tenant nobody set up is refused by the parties themselves', async () => {
    const k = await conclave(
      ['keygen', '--tenant', 'acme', '--curve', 'ed25519', '--threshold', '2', '--parties', '3', '--json'],
      env,
    );
    expect(k.code, k.stderr).toBe(0);
    const r = await conclave(
      ['sign', '--tenant', 'acme', '--wallet', String(json(k).walletId), '--message', message32(), '--json'],
      env,
    );
    expect(r.code).toBe(1);
    const failure = JSON.parse(r.stdout) as { code: string; message: string };
    expect(failure.code).toBe('UNAUTHORIZED');
    expect(failure.message).toMatch(/trusts no rule set publisher of tenant acme/);
    const rot = await conclave(
      ['rotate', '--tenant', 'acme', '--wallet', String(json(k).walletId), '--json'],
      env,
    );
    expect(rot.code).toBe(1);
    expect(JSON.parse(rot.stdout)).toMatchObject({ code: 'UNAUTHORIZED' });
  });

  it('npm run demo works on it', async () => {
    const out = await new Promise<{ code: number; stdout: string; stderr: string }>((resolve) =>
      execFile(
        process.execPath,
        ['--import', 'tsx', join(projectRoot, 'src', 'cli', 'demo.ts')],
        { env, cwd: projectRoot },
        (err, stdout, stderr) => resolve({ code: err ? 1 : 0, stdout, stderr }),
      ),
    );
    expect(out.code, out.stderr).toBe(0);
    expect(out.stdout).toMatch(/using the local stack that is already running/);
    expect(out.stdout.match(/OpenSSL Ed25519 verify: valid/g)).toHaveLength(2);
    expect(out.stdout).toMatch(/deny list/);
    expect(out.stdout).toMatch(/done\./);
  });
});
