/**
 * The per-tenant hash-chained audit log on the real stack: concurrent ceremonies append without
 * gaps or forks, checkpoints are signed by the coordinator's key, `conclave audit verify` names
 * the first broken entry after an edit, a deletion or a rewrite in the database, and an export
 * verifies offline.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { entryHash, type AuditChainEntry } from '../../src/audit/chain.js';
import { ConclaveClient } from '../../src/client/index.js';
import { loadConfig } from '../../src/config.js';
import { chainEntryOf, auditDocId } from '../../src/store/audit-log.js';
import { CoordinatorStore } from '../../src/store/coordinator-store.js';
import { closeAllDbs, openDb } from '../../src/store/mongo.js';
import { conclave, json, message32, stackEnv } from './helpers.js';

let client: ConclaveClient;
let store: CoordinatorStore;
beforeAll(async () => {
  client = await ConclaveClient.connect({ env: { ...stackEnv(), CONCLAVE_ACTOR: 'auditor-test' } });
  store = new CoordinatorStore(await openDb(loadConfig(stackEnv()).coordinatorDb));
});
afterAll(async () => {
  await client?.close();
  await closeAllDbs();
});

const coordinatorKey = () =>
  (
    JSON.parse(readFileSync(join(stackEnv().CONCLAVE_HOME!, 'keys', 'coordinator.key'), 'utf8')) as {
      publicKey: string;
    }
  ).publicKey;

const verify = async (args: string[]) => {
  const r = await conclave(['audit', 'verify', ...args, '--json']);
  return {
    code: r.code,
    out: json(r) as {
      ok: boolean;
      entries: number;
      checkpoints: number;
      broken?: { seq: number; reason: string };
    },
  };
};

describe('hash-chained audit log', () => {
  it('appends concurrently without gaps or forks, and verify names the first broken entry', async () => {
    const tenant = `chain-${Date.now().toString(36)}`;
    const w = await client.createWallet({ tenant, threshold: 2, parties: 3 });
    await Promise.all(
      Array.from({ length: 20 }, () => client.sign({ tenant, walletId: w.walletId, message: message32() })),
    );
    await client.publishRules({
      text: JSON.stringify({ version: 1, defaultOutcome: 'allow', rules: [] }),
      tenant,
    });

    const good = await verify(['--tenant', tenant, '--coordinator-key', coordinatorKey()]);
    expect(good.code).toBe(0);
    expect(good.out).toMatchObject({ ok: true, entries: 22, checkpoints: 2 });
    const docs = await store.audit.find({ tenant }).sort({ seq: 1 }).toArray();
    expect(docs.map((d) => d.seq)).toEqual(Array.from({ length: 22 }, (_, i) => i + 1));
    expect(docs.map((d) => d.ceremony)).toEqual(['keygen', ...Array(20).fill('sign'), 'rules-publish']);

    // an export verifies offline, against the pinned key; another key is refused
    const dir = mkdtempSync(join(tmpdir(), 'conclave-audit-'));
    const file = join(dir, 'audit.json');
    const exported = await conclave(['audit', 'export', '--tenant', tenant, '--out', file]);
    expect(exported.code, exported.stderr).toBe(0);
    expect((await verify(['--file', file, '--coordinator-key', coordinatorKey()])).out.ok).toBe(true);
    const otherKey = 'ab'.repeat(32);
    const wrong = await conclave(['audit', 'verify', '--file', file, '--coordinator-key', otherKey]);
    expect(wrong.code).not.toBe(0);
    expect(wrong.stderr).toMatch(/not the one given/);
    // one changed byte in the exported file is found at its entry
    const edited = JSON.parse(readFileSync(file, 'utf8')) as { entries: AuditChainEntry[] };
    edited.entries[4]!.requestedBy = 'someone-else';
    writeFileSync(file, JSON.stringify(edited));
    const offline = await verify(['--file', file]);
    expect(offline.code).toBe(1);
    expect(offline.out.broken).toMatchObject({
      seq: 5,
      reason: expect.stringMatching(/changed after it was written/),
    });

    // an entry edited in the database
    const seven = await store.audit.findOne({ _id: auditDocId(tenant, 7) });
    await store.audit.updateOne({ _id: auditDocId(tenant, 7) }, { $set: { requestedBy: 'mallory' } });
    const edit = await verify(['--tenant', tenant]);
    expect(edit.code).toBe(1);
    expect(edit.out.broken).toMatchObject({ seq: 7, reason: expect.stringMatching(/entry 7 was changed/) });
    await store.audit.updateOne(
      { _id: auditDocId(tenant, 7) },
      { $set: { requestedBy: seven!.requestedBy } },
    );
    expect((await verify(['--tenant', tenant])).out.ok).toBe(true);

    // an entry deleted
    const fifteen = (await store.audit.findOne({ _id: auditDocId(tenant, 15) }))!;
    await store.audit.deleteOne({ _id: auditDocId(tenant, 15) });
    expect((await verify(['--tenant', tenant])).out.broken).toMatchObject({
      seq: 15,
      reason: expect.stringMatching(/entry 15 is missing/),
    });
    await store.audit.insertOne(fifteen);

    // a rewrite from entry 12 on, every hash recomputed: only the signed checkpoint at 20 catches it
    let prev = (await store.audit.findOne({ _id: auditDocId(tenant, 11) }))!.hash;
    for (let seq = 12; seq <= 22; seq++) {
      const doc = (await store.audit.findOne({ _id: auditDocId(tenant, seq) }))!;
      const e = chainEntryOf({ ...doc, prevHash: prev, ...(seq === 12 ? { requestedBy: 'mallory' } : {}) });
      const hash = entryHash(e);
      await store.audit.updateOne(
        { _id: doc._id },
        { $set: { prevHash: prev, hash, ...(seq === 12 ? { requestedBy: 'mallory' } : {}) } },
      );
      prev = hash;
    }
    const rewritten = await verify(['--tenant', tenant]);
    expect(rewritten.code).toBe(1);
    expect(rewritten.out.broken).toMatchObject({
      seq: 20,
      reason: expect.stringMatching(/differs from what checkpoint 20 signed/),
    });
  });
});
