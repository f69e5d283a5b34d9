/**
 * Audit records on the real stack: every ceremony on a wallet is recorded when it ends, with who
 * asked (the client's actor), what ran, on which versions, with which parties, and how it ended,
 * failures with their code; `conclave audit` prints them.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuditEntry } from '../../src/audit/contracts.js';
import { ConclaveClient } from '../../src/client/index.js';
import { closeAllDbs } from '../../src/store/mongo.js';
import { shareDocId } from '../../src/store/party-store.js';
import { conclave, json, message32, partyStore, stackEnv } from './helpers.js';

let client: ConclaveClient;
beforeAll(async () => {
  client = await ConclaveClient.connect({ env: { ...stackEnv(), CONCLAVE_ACTOR: 'alice@risk-ops' } });
});
afterAll(async () => {
  await client?.close();
  await closeAllDbs();
});

describe('audit records', () => {
  it('records every ceremony of a wallet: who, what, when, which version, how it ended', async () => {
    const started = new Date().toISOString();
    const w = await client.createWallet({ threshold: 2, parties: 3 });
    const message = message32();
    await client.sign({ walletId: w.walletId, message, signers: ['p1', 'p2'] });
    await client.rotate({ walletId: w.walletId, dealers: ['p2', 'p3'] });
    await client.validateShares({ walletId: w.walletId });
    // p3 loses its share of the current version (before it ever used it): a signature with it
    // fails, and is recorded
    await (await partyStore('p3')).shares.deleteOne({ _id: shareDocId('default', w.keyId, 2) });
    const failed = client.sign({ walletId: w.walletId, message, signers: ['p1', 'p3'] });
    await expect(failed).rejects.toMatchObject({ code: 'UNKNOWN_WALLET' });

    const r = await conclave(['audit', '--wallet', w.walletId, '--json']);
    expect(r.code, r.stderr).toBe(0);
    const entries = (json(r) as { entries: AuditEntry[] }).entries;
    expect(entries.map((e) => e.ceremony).sort()).toEqual(
      ['keygen', 'rotation', 'sign', 'sign', 'sign', 'validation'], // one sign is the validation's dry run
    );
    for (const e of entries) {
      expect(e.requestedBy, e.ceremony).toBe(
        e.ceremony === 'sign' && e.parties.includes('p3') ? e.requestedBy : 'alice@risk-ops',
      );
      expect(e.walletId).toBe(w.walletId);
      expect(e.at >= started).toBe(true);
    }
    const times = entries.map((e) => e.at);
    expect([...times].sort()).toEqual(times);
    const find = (ceremony: string, pred: (e: AuditEntry) => boolean = () => true) =>
      entries.filter((e) => e.ceremony === ceremony && pred(e));
    expect(find('keygen')[0]).toMatchObject({
      outcome: 'completed',
      version: 1,
      parties: ['p1', 'p2', 'p3'],
    });
    expect(find('sign', (e) => e.version === 1)[0]).toMatchObject({
      outcome: 'completed',
      parties: ['p1', 'p2'],
      detail: { message, path: 'm' },
    });
    expect(find('rotation')[0]).toMatchObject({
      outcome: 'completed',
      fromVersion: 1,
      version: 2,
      detail: { dealers: ['p2', 'p3'], threshold: 2 },
    });
    expect(find('validation')[0]).toMatchObject({ outcome: 'completed', version: 2, detail: { ok: true } });
    const failedEntry = find('sign', (e) => e.outcome === 'failed')[0];
    expect(failedEntry?.reason).toMatch(/p3 holds no active share/);
    expect(failedEntry).toMatchObject({
      version: 2,
      parties: ['p1', 'p3'],
      code: 'UNKNOWN_WALLET',
    });
  });
});
