/**
 * `conclave share validate` on the real stack: a healthy wallet passes with a verified dry-run
 * signature; a share that no longer decrypts, a missing share and a party that does not answer
 * are each reported against the right party, and the dry run says whether a threshold still signs.
 */
import { afterAll, describe, expect, it } from 'vitest';
import type { ValidateResult } from '../../src/ceremony/validate/contracts.js';
import { killWorker, restartWorker } from '../../src/stack/dev.js';
import { closeAllDbs } from '../../src/store/mongo.js';
import { shareDocId } from '../../src/store/party-store.js';
import { conclave, json, partyStore, stackEnv } from './helpers.js';

afterAll(async () => {
  await closeAllDbs();
});

async function validate(walletId: string): Promise<{ code: number; result: ValidateResult }> {
  const r = await conclave(['share', 'validate', '--wallet', walletId, '--json']);
  return { code: r.code, result: json(r) as unknown as ValidateResult };
}

async function keygen(curve: string, scheme?: string): Promise<{ walletId: string; keyId: string }> {
  const args = ['keygen', '--curve', curve, '--threshold', '2', '--parties', '3', '--json'];
  const r = await conclave(scheme ? [...args, '--scheme', scheme] : args);
  expect(r.code, r.stderr).toBe(0);
  return json(r) as { walletId: string; keyId: string };
}

describe('share validation', () => {
  it.each([
    ['ed25519', undefined],
    ['secp256k1', 'frost-secp256k1'],
  ])('a healthy %s wallet passes: every party ok, a dry-run signature verified', async (curve, scheme) => {
    const w = await keygen(curve, scheme);
    const { code, result } = await validate(w.walletId);
    expect(code).toBe(0);
    expect(result.ok).toBe(true);
    expect(result.parties).toEqual([
      { party: 'p1', ok: true },
      { party: 'p2', ok: true },
      { party: 'p3', ok: true },
    ]);
    expect(result.dryRun.verified).toBe(true);
    expect(result.dryRun.signers).toHaveLength(2);
  });

  it('reports a share that does not decrypt, a lost share and a party that does not answer', async () => {
    const w = await keygen('ed25519');
    const id = shareDocId('default', w.keyId, 1);

    // p3's sealed share is corrupted on disk: the others still sign
    const p3 = await partyStore('p3');
    const share = (await p3.shares.findOne({ _id: id }))!;
    const ct = share.sealed.ct;
    await p3.shares.updateOne(
      { _id: id },
      { $set: { 'sealed.ct': (ct[0] === '0' ? '1' : '0') + ct.slice(1) } },
    );
    let r = await validate(w.walletId);
    expect(r.code).toBe(1);
    expect(r.result.ok).toBe(false);
    expect(r.result.parties[2]).toMatchObject({ party: 'p3', ok: false, code: 'TAMPERED' });
    expect(r.result.parties[2]!.reason).toMatch(/does not decrypt/);
    expect(r.result.parties.slice(0, 2).every((p) => p.ok)).toBe(true);
    expect(r.result.dryRun).toMatchObject({ signers: ['p1', 'p2'], verified: true });

    // p2 loses its share too: no threshold is left, and the dry run says so
    await (await partyStore('p2')).shares.deleteOne({ _id: id });
    r = await validate(w.walletId);
    expect(r.result.parties[1]).toMatchObject({ party: 'p2', ok: false, code: 'UNKNOWN_WALLET' });
    expect(r.result.dryRun).toMatchObject({ verified: false, code: 'BAD_SHARE' });
    expect(r.result.dryRun.reason).toMatch(/only 1 valid shares, 2 are needed/);

    // p1 is down: reported as not answering, within the validation's time limit
    const env = stackEnv();
    await killWorker(env, 'p1');
    try {
      r = await validate(w.walletId);
      expect(r.result.parties[0]).toMatchObject({ party: 'p1', ok: false });
      expect(r.result.parties[0]!.reason).toMatch(/did not answer/);
    } finally {
      await restartWorker(env, 'p1');
    }
    await p3.shares.updateOne({ _id: id }, { $set: { 'sealed.ct': ct } });
  }, 120_000);
});
