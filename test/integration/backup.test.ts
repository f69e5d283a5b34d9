/**
 * Backups on the real stack, through the CLI as an operator runs it: every party exports its
 * share encrypted to the recovery key it was set up with; a party whose database is wiped gets
 * its keys and share back from its backup and signs again with no re-pinning; a backup of a
 * version a rotation retired, or into a party that holds other keys, is refused.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConclaveClient } from '../../src/client/index.js';
import { openShareBackup, type ShareBackup } from '../../src/crypto/backup.js';
import { getScheme } from '../../src/crypto/schemes.js';
import { devRecoveryKey } from '../../src/stack/dev.js';
import { closeAllDbs } from '../../src/store/mongo.js';
import { verifyIndependently } from '../independent-verify.js';
import { conclave, expectSignsWithEverySubset, json, stackEnv, wipeParty } from './helpers.js';

let client: ConclaveClient;
beforeAll(async () => {
  client = await ConclaveClient.connect({ env: stackEnv() });
});
afterAll(async () => {
  await client?.close();
  await closeAllDbs();
});

const parties = ['p1', 'p2', 'p3'];

const restore = (party: string, file: string, keyFile: string) =>
  conclave(['backup', 'restore', '--party', party, '--file', file, '--recovery-key', keyFile, '--json']);

describe.each(['frost-ed25519', 'frost-secp256k1'] as const)('%s: backup and restore', (scheme) => {
  it('exports one encrypted file per party; a wiped party restored from its file signs again', async () => {
    const w = await client.createWallet({ scheme, threshold: 2, parties: 3 });
    const dir = mkdtempSync(join(tmpdir(), 'conclave-backup-'));
    const exported = await conclave(['backup', 'export', '--wallet', w.walletId, '--out', dir, '--json']);
    expect(exported.code, exported.stderr).toBe(0);
    const out = json(exported) as {
      version: number;
      files: { party: string; file: string }[];
      failed: unknown[];
    };
    expect(out.version).toBe(1);
    expect(out.failed).toEqual([]);
    expect(out.files.map((f) => f.party)).toEqual(parties);

    // only the recovery key opens them, and each holds the share its verifying share commits to
    const recovery = devRecoveryKey(stackEnv());
    const S = getScheme(scheme);
    for (const { party, file } of out.files) {
      const text = readFileSync(file, 'utf8');
      const { meta, secret } = openShareBackup(JSON.parse(text), recovery.secretKey);
      expect(meta).toMatchObject({ party, walletId: w.walletId, version: 1 });
      expect(text).not.toContain(secret.signingShare);
      expect(text).not.toContain(secret.identitySecret);
      const Y = S.scalarBaseMult(Buffer.from(secret.signingShare, 'hex'));
      expect(Buffer.from(Y).toString('hex')).toBe(secret.public.verifyingShares[secret.identifier]);
    }
    const keyFile = join(dir, 'recovery.key');
    writeFileSync(keyFile, JSON.stringify(recovery), { mode: 0o600 });

    const p2File = out.files.find((f) => f.party === 'p2')!.file;
    let restored: Record<string, unknown> = {};
    await wipeParty('p2', async () => {
      const r = await restore('p2', p2File, keyFile);
      expect(r.code, r.stderr).toBe(0);
      restored = json(r);
    });
    expect(restored).toMatchObject({ party: 'p2', version: 1, keysRestored: true, shareRestored: true });
    // the restored keys are the old ones: peers' pins hold, every pair signs
    await expectSignsWithEverySubset(client, scheme, w.walletId, parties, 2);

    // restoring again changes nothing
    const again = await restore('p2', p2File, keyFile);
    expect(json(again)).toMatchObject({ keysRestored: false, shareRestored: false });

    // a rotation retires these shares on purpose: their backups are refused from then on
    await client.rotate({ walletId: w.walletId });
    const stale = await restore('p2', p2File, keyFile);
    expect(stale.code).toBe(1);
    expect(json(stale)).toMatchObject({ status: 'error', code: 'BAD_INPUT' });
    expect(String(json(stale).message)).toMatch(/version 1 .* at version 2/);
  });
});

describe('backup refusals', () => {
  it('refuses a backup given to another party, with another recovery key, or tampered with', async () => {
    const w = await client.createWallet({ threshold: 2, parties: 3 });
    const dir = mkdtempSync(join(tmpdir(), 'conclave-backup-'));
    const r = json(await conclave(['backup', 'export', '--wallet', w.walletId, '--out', dir, '--json'])) as {
      files: { party: string; file: string }[];
    };
    const p1File = r.files.find((f) => f.party === 'p1')!.file;
    const keyFile = join(dir, 'recovery.key');
    writeFileSync(keyFile, JSON.stringify(devRecoveryKey(stackEnv())), { mode: 0o600 });

    const wrongParty = await restore('p3', p1File, keyFile);
    expect(json(wrongParty)).toMatchObject({ code: 'BAD_INPUT' });
    expect(String(json(wrongParty).message)).toMatch(/belongs to p1/);

    const otherKey = join(dir, 'other.key');
    expect((await conclave(['backup', 'keygen', '--out', otherKey, '--json'])).code).toBe(0);
    expect(String(json(await restore('p1', p1File, otherKey)).message)).toMatch(/encrypted to recovery key/);

    const tampered = JSON.parse(readFileSync(p1File, 'utf8')) as ShareBackup;
    tampered.createdAt = new Date(0).toISOString();
    const tamperedFile = join(dir, 'tampered.json');
    writeFileSync(tamperedFile, JSON.stringify(tampered));
    const t = await restore('p1', tamperedFile, keyFile);
    expect(t.code).toBe(1);
    expect(json(t)).toMatchObject({ status: 'error', code: 'TAMPERED' });

    // p1 is not wiped: its database holds shares under its own keys, and the backup has those keys
    const same = await restore('p1', p1File, keyFile);
    expect(json(same)).toMatchObject({ keysRestored: false, shareRestored: false });
    const s = await client.sign({ walletId: w.walletId, message: 'ab'.repeat(32), signers: ['p1', 'p3'] });
    expect(
      verifyIndependently('frost-ed25519', s.signature, Buffer.from(s.message, 'hex'), w.publicKey),
    ).toBe(true);
  });
});
