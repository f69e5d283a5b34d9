/**
 * Governance of key management on the real stack. A tenant publishes a signed governance policy
 * and every party's operator trusts its publisher: rotations, reshares and recoveries then wait
 * for the approvals the policy asks (`conclave approve` works for them), and run only on a
 * statement each party checks itself. Then a compromised coordinator calls the parties' share
 * change rounds directly with forged, replayed, stale and under-approved statements, rosters it
 * wrote and orders to destroy shares: every party refuses with a typed error naming what failed,
 * and the wallets still sign afterwards.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client, Connection } from '@temporalio/client';
import { DefaultLogger, NativeConnection, Runtime, Worker } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ReshareContext } from '../../src/ceremony/reshare/contracts.js';
import { ConclaveClient, type TransactionState } from '../../src/client/index.js';
import { clientDataConverter, workerDataConverter } from '../../src/codec/payload-codec.js';
import { loadConfig } from '../../src/config.js';
import { generatePartyKeys } from '../../src/crypto/identity.js';
import { toHex } from '../../src/crypto/encoding.js';
import { trustPublishers } from '../../src/party/admin.js';
import {
  generateActorKey,
  signGovernance,
  signedGovernanceOf,
  type ActorSecret,
  type KeyChangeAuthorization,
  type KeyChangeStatement,
  type SignedGovernance,
  type Verdict,
} from '../../src/policy/index.js';
import { closeAllDbs, openDb } from '../../src/store/mongo.js';
import { shareDocId, type ShareDoc } from '../../src/store/party-store.js';
import type { PeerEntry } from '../../src/ceremony/contracts.js';
import { PolicyStore } from '../../src/store/policy-store.js';
import { verifyIndependently } from '../independent-verify.js';
import { conclave, json, message32, partyStore, stackEnv, waitFor } from './helpers.js';
import type { RogueCall, RogueOutcome } from './rogue/workflows.js';
import {
  approvedStatement,
  attackerKeys,
  inventParty,
  rotationOf,
  swapKeys,
} from '../../src/drills/rogue-inputs.js';

const run = Date.now().toString(36);
const tenant = `gov-${run}`;
const dir = mkdtempSync(join(tmpdir(), 'conclave-governance-'));
const keys: Record<string, ActorSecret> = {};
for (const id of ['gov-lead', 'alice', 'bob', 'carol', 'mallory']) {
  keys[id] = generateActorKey(id);
  writeFileSync(join(dir, `${id}.key`), JSON.stringify(keys[id]), { mode: 0o600 });
}
const pub = (id: string) => ({ id, publicKey: keys[id]!.publicKey });
const policy = {
  approvers: [
    { ...pub('alice'), roles: ['admin'] },
    { ...pub('bob'), roles: ['admin'] },
    { ...pub('carol'), roles: ['ops'] },
  ],
  actions: { rotate: { admin: 1 }, reshare: { admin: 2 }, recover: { admin: 2 } },
  requestExpiresAfter: 3600,
};

let client: ConclaveClient; // the backend that asks for share changes
let publisher: ConclaveClient; // holds the governance publisher's key
let temporal: Client;

beforeAll(async () => {
  client = await ConclaveClient.connect({ env: stackEnv() });
  publisher = await ConclaveClient.connect({
    env: { ...stackEnv(), CONCLAVE_KEY: join(dir, 'gov-lead.key') },
  });
  const connection = await Connection.connect({ address: loadConfig(stackEnv()).temporal.address });
  const dataConverter = clientDataConverter(loadConfig(stackEnv()).payloadKey);
  temporal = new Client({ connection, ...(dataConverter ? { dataConverter } : {}) });
  await publisher.publishGovernance({ policy, tenant });
  // each party's operator trusts the tenant's governance publisher
  for (const p of ['p1', 'p2', 'p3', 'p4', 'p5'])
    await trustPublishers(p, tenant, { governancePublishers: [pub('gov-lead')] }, stackEnv());
});
afterAll(async () => {
  await client?.close();
  await publisher?.close();
  await temporal?.connection.close();
  await closeAllDbs();
});

/** Waits until a request of tenant `t` waits for approvals, and returns what it shows. */
async function awaitingIn(t: string, id: string): Promise<TransactionState> {
  let shown: TransactionState | undefined;
  await waitFor(`${id} to wait for approvals`, async () => {
    shown = await client.transaction({ requestId: id, tenant: t }).catch(() => undefined);
    return shown?.state === 'awaiting-approval';
  });
  return shown!;
}
const awaiting = (id: string) => awaitingIn(tenant, id);

const verdict = (id: string, who: string, v: Verdict = 'approve', role = 'admin') =>
  client.approve({ requestId: id, tenant, key: keys[who]!, verdict: v, role });

async function expectSigns(walletId: string, scheme: string, signers: string[][]) {
  const w = await client.getWallet({ walletId, tenant });
  for (const s of signers) {
    const message = message32();
    const r = await client.sign({ tenant, walletId, message, signers: s });
    expect(
      verifyIndependently(scheme, r.signature, Buffer.from(message, 'hex'), w.publicKey),
      s.join('+'),
    ).toBe(true);
  }
}

/** A published governance version as parties get it, from the coordinator's records. */
async function signedGovernance(t: string, version: number): Promise<SignedGovernance> {
  const policies = new PolicyStore(await openDb(loadConfig(stackEnv()).coordinatorDb));
  const g = (await policies.governance.findOne({ _id: `${t}|g${version}` }))!;
  return { tenant: t, policy: g.policy, ...g.signature, governanceVersion: version };
}

/** p1's share of a wallet's current version: what a coordinator builds its round inputs from. */
async function shareOf(t: string, walletId: string): Promise<ShareDoc> {
  const info = await client.getWallet({ walletId, tenant: t });
  return (await (await partyStore('p1')).shares.findOne({ _id: shareDocId(t, info.keyId, info.version) }))!;
}

const rogueKeys = attackerKeys();
let n = 0;

/** A rotation of `share`'s wallet as a coordinator would plan it, changed by `over`. */
const ctxOf = (share: ShareDoc, over: Partial<ReshareContext> = {}): ReshareContext =>
  rotationOf(share, `reshare:${share.tenant}:${share.walletId}:rogue-${run}/run-${n++}`, over);

/** A statement for `ctx` under `governance`, approved by `approvers` (as admins unless said otherwise). */
const approvedUnder = (
  governance: SignedGovernance,
  ctx: ReshareContext,
  approvers: [string, string?][],
  over: Partial<KeyChangeStatement> = {},
): KeyChangeAuthorization =>
  approvedStatement(
    governance,
    ctx,
    approvers.map(([who, role]) => [keys[who]!, role]),
    over,
  );

/** Runs `fn` with a compromised coordinator's worker: it calls the parties' activities with any input. */
async function asRogue<T>(
  fn: (calls: (c: RogueCall[]) => Promise<RogueOutcome[]>) => Promise<T>,
): Promise<T> {
  try {
    Runtime.install({ logger: new DefaultLogger('ERROR') });
  } catch {
    // a runtime is already installed in this process
  }
  const queue = `rogue-governance-${run}-${n++}`;
  const dataConverter = workerDataConverter(loadConfig(stackEnv()).payloadKey);
  const connection = await NativeConnection.connect({ address: loadConfig(stackEnv()).temporal.address });
  try {
    const worker = await Worker.create({
      ...(dataConverter ? { dataConverter } : {}),
      connection,
      taskQueue: queue,
      workflowsPath: fileURLToPath(new URL('./rogue/workflows.ts', import.meta.url)),
    });
    const calls = (c: RogueCall[]) =>
      temporal.workflow.execute<(c: RogueCall[]) => Promise<RogueOutcome[]>>('rogueCallsWorkflow', {
        taskQueue: queue,
        workflowId: `${queue}-${n++}`,
        args: [c],
      });
    return await worker.runUntil(() => fn(calls));
  } finally {
    await connection.close();
  }
}

describe('share changes under governance', () => {
  it('a rotation waits for an admin; an ops approver is refused; the parties record the statement', async () => {
    const w = await client.createWallet({ tenant, threshold: 2, parties: ['p1', 'p2', 'p3'] });
    const id = `reshare:${tenant}:${w.walletId}:rot-${run}`;
    const rotation = client.rotate({ walletId: w.walletId, tenant, requestId: `rot-${run}` });
    rotation.catch(() => undefined);
    const t = await awaiting(id);
    expect(t.keyChange).toMatchObject({
      action: 'rotate',
      walletId: w.walletId,
      fromVersion: 1,
      toVersion: 2,
    });
    expect(t.decision?.approvals).toEqual({ admin: 1 });
    // carol holds no admin role: refused, and nothing counts
    await expect(verdict(id, 'carol', 'approve', 'admin')).rejects.toThrow(/carol may not approve as admin/);
    const after = await verdict(id, 'alice');
    expect(after.approvals.map((a) => a.approver)).toEqual(['alice']);
    const r = await rotation;
    expect(r).toMatchObject({ kind: 'rotation', fromVersion: 1, version: 2, publicKey: w.publicKey });
    expect((await client.transaction({ requestId: id, tenant })).state).toBe('completed');
    // every party of the committee spent the statement on this ceremony, and only it
    for (const p of ['p1', 'p2', 'p3']) {
      const spends = await (await partyStore(p)).governanceSpends.countDocuments({ tenant });
      expect(spends, p).toBe(1);
    }
    await expectSigns(w.walletId, 'frost-ed25519', [
      ['p1', 'p2'],
      ['p2', 'p3'],
      ['p1', 'p3'],
    ]);
    const audit = await client.auditLog({ walletId: w.walletId, tenant });
    const rot = audit.find((e) => e.ceremony === 'rotation' && e.outcome === 'completed');
    expect(rot?.detail?.approvals).toEqual(['approve alice (admin)']);
  });

  it('from the CLI: rotate says it waits and for what; conclave approve lets it run; governance history', async () => {
    const w = await client.createWallet({ tenant, threshold: 2, parties: ['p1', 'p2', 'p3'] });
    const id = `reshare:${tenant}:${w.walletId}:cli-${run}`;
    const rotation = conclave([
      'rotate',
      '--wallet',
      w.walletId,
      '--tenant',
      tenant,
      '--request-id',
      `cli-${run}`,
      '--json',
    ]);
    await awaiting(id);
    const shown = await conclave(['tx', 'show', id, '--tenant', tenant]);
    expect(shown.stdout).toMatch(/change +rotate of wallet .* v1 -> v2/);
    expect(shown.stdout).toMatch(/decision +escalate under governance v1, needs 1 admin/);
    const ok = await conclave([
      'approve',
      id,
      '--as',
      'bob',
      '--key',
      join(dir, 'bob.key'),
      '--tenant',
      tenant,
    ]);
    expect(ok.code, ok.stderr).toBe(0);
    const r = await rotation;
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(
      new RegExp(`request ${id} waits for approvals \\(1 admin\\) until .*: conclave approve ${id}`),
    );
    expect(json(r)).toMatchObject({ kind: 'rotation', version: 2, publicKey: w.publicKey });
    const h = json(await conclave(['governance', 'history', '--tenant', tenant, '--json']));
    expect(h.versions).toMatchObject([{ version: 1, current: true, publishedBy: 'gov-lead' }]);
  });

  it('a recovery needs two admins: one rejection ends it (typed, audited); two approvals run it', async () => {
    const w = await client.createWallet({
      tenant,
      scheme: 'frost-secp256k1',
      threshold: 2,
      parties: ['p1', 'p2', 'p3'],
    });
    const first = `recover:${tenant}:${w.walletId}:rec-a-${run}`;
    const refused = client.recover({ walletId: w.walletId, party: 'p3', tenant, requestId: `rec-a-${run}` });
    refused.catch(() => undefined);
    const t = await awaiting(first);
    expect(t.keyChange).toMatchObject({ action: 'recover', lost: 'p3' });
    await verdict(first, 'alice');
    await verdict(first, 'bob', 'reject');
    await expect(refused).rejects.toMatchObject({ code: 'APPROVAL_REJECTED' });
    expect((await client.transaction({ requestId: first, tenant })).state).toBe('rejected');
    const audit = await client.auditLog({ walletId: w.walletId, tenant });
    expect(audit.find((e) => e.ceremony === 'recovery')).toMatchObject({
      outcome: 'failed',
      code: 'APPROVAL_REJECTED',
    });
    expect((await client.getWallet({ walletId: w.walletId, tenant })).version).toBe(1);

    const second = `recover:${tenant}:${w.walletId}:rec-b-${run}`;
    const recovery = client.recover({ walletId: w.walletId, party: 'p3', tenant, requestId: `rec-b-${run}` });
    recovery.catch(() => undefined);
    await awaiting(second);
    await verdict(second, 'alice');
    await verdict(second, 'bob');
    const r = await recovery;
    expect(r).toMatchObject({ recovered: 'p3', version: 2, publicKey: w.publicKey });
    expect(
      verifyIndependently(
        'frost-secp256k1',
        r.proof.signature,
        Buffer.from(r.proof.message, 'hex'),
        w.publicKey,
      ),
    ).toBe(true);
  });

  it('a reshare to 3-of-5 needs two admins and lands on every new party', async () => {
    const w = await client.createWallet({ tenant, threshold: 2, parties: ['p1', 'p2', 'p3'] });
    const id = `reshare:${tenant}:${w.walletId}:grow-${run}`;
    const reshare = client.reshare({
      walletId: w.walletId,
      tenant,
      parties: ['p1', 'p2', 'p3', 'p4', 'p5'],
      threshold: 3,
      requestId: `grow-${run}`,
    });
    reshare.catch(() => undefined);
    const t = await awaiting(id);
    expect(t.keyChange?.roster.map((p) => p.partyId)).toEqual(['p1', 'p2', 'p3', 'p4', 'p5']);
    await verdict(id, 'alice');
    await verdict(id, 'bob');
    expect(await reshare).toMatchObject({ kind: 'reshare', threshold: 3, version: 2 });
    await expectSigns(w.walletId, 'frost-ed25519', [
      ['p1', 'p4', 'p5'],
      ['p2', 'p3', 'p4'],
    ]);
  });
});

/** Runs a key-management request of tenant `t` and approves it as alice (admin) once it waits. */
async function withApproval<T>(t: string, id: string, start: Promise<T>): Promise<T> {
  start.catch(() => undefined);
  await awaitingIn(t, id);
  await client.approve({ requestId: id, tenant: t, key: keys.alice!, role: 'admin' });
  return start;
}

describe.each(['frost-ed25519', 'frost-secp256k1', 'frost-taproot', 'dkls23-secp256k1'] as const)(
  '%s: the whole share lifecycle under governance',
  (scheme) => {
    it('rotates, reshares 2-of-3 -> 3-of-5 -> 2-of-3, recovers every party, exports backups (and pairs): each approved, each signing after', async () => {
      const t = `life-${run}`;
      for (const p of ['p1', 'p2', 'p3', 'p4', 'p5'])
        await trustPublishers(p, t, { governancePublishers: [pub('gov-lead')] }, stackEnv());
      const one = { admin: 1 };
      if ((await client.governanceHistory({ tenant: t })).length === 0)
        await publisher.publishGovernance({
          policy: {
            ...policy,
            actions: { rotate: one, reshare: one, recover: one, 'backup-export': one, pairing: one },
          },
          tenant: t,
        });
      const w = await client.createWallet({ tenant: t, scheme, threshold: 2, parties: ['p1', 'p2', 'p3'] });
      const id = (kind: string, step: string) => `${kind}:${t}:${w.walletId}:${step}-${run}`;
      let key: string | undefined; // the key verifiers see (x-only for Taproot): the same throughout
      const signs = async (signers: string[]) => {
        const message = message32();
        const r = await client.sign({ tenant: t, walletId: w.walletId, message, signers });
        key ??= r.publicKey;
        expect(r.publicKey).toBe(key);
        expect(
          verifyIndependently(scheme, r.signature, Buffer.from(message, 'hex'), key),
          signers.join('+'),
        ).toBe(true);
      };
      await signs(['p1', 'p2']);

      const rot = await withApproval(
        t,
        id('reshare', 'rot'),
        client.rotate({ walletId: w.walletId, tenant: t, requestId: `rot-${run}` }),
      );
      expect(rot).toMatchObject({ kind: 'rotation', version: 2, publicKey: w.publicKey });
      await signs(['p2', 'p3']);
      const grow = await withApproval(
        t,
        id('reshare', 'grow'),
        client.reshare({
          walletId: w.walletId,
          tenant: t,
          parties: ['p1', 'p2', 'p3', 'p4', 'p5'],
          threshold: 3,
          requestId: `grow-${run}`,
        }),
      );
      expect(grow).toMatchObject({ kind: 'reshare', version: 3, threshold: 3 });
      await signs(['p1', 'p4', 'p5']);
      const shrink = await withApproval(
        t,
        id('reshare', 'shrink'),
        client.reshare({
          walletId: w.walletId,
          tenant: t,
          parties: ['p1', 'p2', 'p3'],
          threshold: 2,
          requestId: `shrink-${run}`,
        }),
      );
      expect(shrink).toMatchObject({
        kind: 'reshare',
        version: 4,
        threshold: 2,
        parties: ['p1', 'p2', 'p3'],
      });
      for (const lost of ['p1', 'p2', 'p3']) {
        const r = await withApproval(
          t,
          id('recover', `rec-${lost}`),
          client.recover({ walletId: w.walletId, party: lost, tenant: t, requestId: `rec-${lost}-${run}` }),
        );
        expect(r).toMatchObject({ recovered: lost, publicKey: w.publicKey });
        expect(
          verifyIndependently(
            scheme,
            r.proof.signature,
            Buffer.from(r.proof.message, 'hex'),
            r.proof.publicKey,
          ),
        ).toBe(true);
      }
      const backups = await withApproval(
        t,
        id('backup', 'bk'),
        client.exportBackups({ walletId: w.walletId, tenant: t, requestId: `bk-${run}` }),
      );
      expect(backups.failed).toEqual([]);
      expect(backups.backups).toHaveLength(3);
      if (scheme === 'dkls23-secp256k1') {
        const paired = await withApproval(
          t,
          id('pairing', 'pair'),
          client.pairWallet({ walletId: w.walletId, tenant: t, requestId: `pair-${run}` }),
        );
        expect(paired.version).toBe(7);
      }
      for (const signers of [
        ['p1', 'p2'],
        ['p1', 'p3'],
        ['p2', 'p3'],
      ])
        await signs(signers);
      // no version before the current one is left on any party
      const info = await client.getWallet({ walletId: w.walletId, tenant: t });
      expect(info.version).toBe(7);
      for (const p of ['p1', 'p2', 'p3', 'p4', 'p5']) {
        const st = await partyStore(p);
        for (let v = 1; v < info.version; v++)
          expect(await st.shares.findOne({ _id: shareDocId(t, w.keyId, v) }), `${p} v${v}`).toBeNull();
      }
    });
  },
);

describe('backups and pairings under governance', () => {
  it("a backup export waits for two admins and names each party's recovery key; a pairing waits for one", async () => {
    const t = `vault-${run}`;
    for (const p of ['p1', 'p2', 'p3'])
      await trustPublishers(p, t, { governancePublishers: [pub('gov-lead')] }, stackEnv());
    await publisher.publishGovernance({
      policy: {
        ...policy,
        actions: { ...policy.actions, 'backup-export': { admin: 2 }, pairing: { admin: 1 } },
      },
      tenant: t,
    });
    const w = await client.createWallet({
      tenant: t,
      scheme: 'dkls23-secp256k1',
      threshold: 2,
      parties: ['p1', 'p2', 'p3'],
    });

    const bk = `backup:${t}:${w.walletId}:bk-${run}`;
    const backup = client.exportBackups({ walletId: w.walletId, tenant: t, requestId: `bk-${run}` });
    backup.catch(() => undefined);
    const shown = await awaitingIn(t, bk);
    expect(shown.keyChange).toMatchObject({ action: 'backup-export', fromVersion: 1, toVersion: 1 });
    expect(Object.keys(shown.keyChange!.recoveryKeys ?? {}).sort()).toEqual(['p1', 'p2', 'p3']);
    await client.approve({ requestId: bk, tenant: t, key: keys.alice!, role: 'admin' });
    await client.approve({ requestId: bk, tenant: t, key: keys.bob!, role: 'admin' });
    const r = await backup;
    expect(r.failed).toEqual([]);
    expect(r.backups.map((b) => b.party).sort()).toEqual(['p1', 'p2', 'p3']);

    const pr = `pairing:${t}:${w.walletId}:pr-${run}`;
    const pairing = client.pairWallet({ walletId: w.walletId, tenant: t, requestId: `pr-${run}` });
    pairing.catch(() => undefined);
    expect((await awaitingIn(t, pr)).keyChange).toMatchObject({ action: 'pairing' });
    await client.approve({ requestId: pr, tenant: t, key: keys.alice!, role: 'admin' });
    expect(await pairing).toMatchObject({ walletId: w.walletId, parties: ['p1', 'p2', 'p3'] });
    const message = message32();
    const signed = await client.sign({ tenant: t, walletId: w.walletId, message, signers: ['p1', 'p3'] });
    expect(
      verifyIndependently('dkls23-secp256k1', signed.signature, Buffer.from(message, 'hex'), w.publicKey),
    ).toBe(true);

    // a tenant whose policy does not list an action gets a typed refusal, audited
    const plainW = await client.createWallet({ tenant, threshold: 2, parties: ['p1', 'p2', 'p3'] });
    await expect(client.exportBackups({ walletId: plainW.walletId, tenant })).rejects.toMatchObject({
      code: 'UNAUTHORIZED',
      message: expect.stringMatching(/governance policy v1 does not allow backup-export/),
    });

    // a coordinator that asks a party for its backup, or a fresh pairing, on its own word
    const share = await shareOf(t, w.walletId);
    const g = await signedGovernance(t, 1);
    const exportCeremony = `backup:${t}:${w.walletId}:rogue-${run}/run-1`;
    const forOther = approvedUnder(g, { ...ctxOf(share), ceremonyId: exportCeremony }, [['alice'], ['bob']], {
      action: 'backup-export',
      toVersion: share.version,
      recoveryKeys: { p1: toHex(generatePartyKeys().transportPublic) },
    });
    const pairCtx = {
      tenant: t,
      ceremonyId: `pairing:${t}:${w.walletId}:rogue-${run}/run-1`,
      walletId: w.walletId,
      keyId: share.keyId,
      version: share.version,
      roster: share.roster,
      replace: true,
    };
    const outcomes = await asRogue((calls) =>
      calls([
        { party: 'p1', activity: 'exportShareBackup', args: [t, w.walletId, share.keyId, share.version] },
        {
          party: 'p1',
          activity: 'exportShareBackup',
          args: [t, w.walletId, share.keyId, share.version, exportCeremony, forOther],
        },
        { party: 'p1', activity: 'pairSetupRound1', args: [pairCtx] },
        {
          party: 'p1',
          activity: 'pairSetupRound1',
          args: [
            {
              ...pairCtx,
              roster: share.roster.map((p) => (p.partyId === 'p2' ? { ...p, ...rogueKeys } : p)),
            },
          ],
        },
      ]),
    );
    expect(outcomes.map((o) => o.refused)).toEqual([
      expect.stringMatching(/UNAUTHORIZED: tenant .* requires a key-change statement .* for backup-export/),
      expect.stringMatching(/UNAUTHORIZED: the key-change statement does not name p1's recovery key/),
      expect.stringMatching(/UNAUTHORIZED: tenant .* requires a key-change statement .* for pairing/),
      expect.stringMatching(/DISAGREEMENT: the pair setup's roster is not the one stored with p1's share/),
    ]);
  });
});

describe('time locks', () => {
  it('a loosened policy waits out the lock: the coordinator judges under the old one, parties refuse the new one until then', async () => {
    const t = `lock-${run}`;
    for (const p of ['p1', 'p2', 'p3'])
      await trustPublishers(p, t, { governancePublishers: [pub('gov-lead')] }, stackEnv());
    // announced to the parties as it is published: they act under it from now on, and its lock binds
    await publisher.publishGovernance({ policy: { ...policy, timeLock: 20 }, tenant: t });
    const w = await client.createWallet({ tenant: t, threshold: 2, parties: ['p1', 'p2', 'p3'] });
    const loose = { ...policy, actions: { ...policy.actions, rotate: {} }, timeLock: 0 };
    const v2 = await publisher.publishGovernance({ policy: loose, tenant: t });
    const locked = Date.parse(v2.effectiveAt) - Date.parse(v2.publishedAt);
    expect(locked).toBeGreaterThan(15_000);
    expect(locked).toBeLessThan(25_000);

    // within the lock the coordinator still judges under v1: a rotation waits for an admin
    const id = `reshare:${t}:${w.walletId}:locked-${run}`;
    const rotation = client.rotate({ walletId: w.walletId, tenant: t, requestId: `locked-${run}` });
    rotation.catch(() => undefined);
    let shown: TransactionState | undefined;
    await waitFor('the rotation to wait', async () => {
      shown = await client.transaction({ requestId: id, tenant: t }).catch(() => undefined);
      return shown?.state === 'awaiting-approval';
    });
    expect(shown!.rulesVersion).toBe(1);
    // and a coordinator that presents v2 at once is refused by the party, on its own clock
    const share = await shareOf(t, w.walletId);
    const ctx = ctxOf(share);
    const [early] = await asRogue((calls) =>
      calls([
        {
          party: 'p1',
          activity: 'reshareDeal',
          args: [{ ...ctx, authorization: approvedUnder(signedGovernanceOf(v2), ctx, []) }],
        },
      ]),
    );
    expect(early!.refused).toMatch(/UNAUTHORIZED: governance v2 take effect on p1 at .*time lock is 20 s/);
    await client.approve({ requestId: id, tenant: t, key: keys.alice!, role: 'admin' });
    expect(await rotation).toMatchObject({ version: 2 });

    // once the lock has passed, v2 rules: a rotation needs no approval
    await new Promise((r) => setTimeout(r, Math.max(0, Date.parse(v2.effectiveAt) - Date.now() + 3_000)));
    expect(await client.rotate({ walletId: w.walletId, tenant: t })).toMatchObject({
      fromVersion: 2,
      version: 3,
    });
    const audit = await client.auditLog({ walletId: w.walletId, tenant: t });
    expect(audit.filter((e) => e.ceremony === 'rotation').map((e) => e.detail?.governance)).toEqual([1, 2]);
  });
});

describe('a compromised coordinator', () => {
  it('cannot rebuild, move or destroy shares on its own word: every party refuses, the wallets still sign', async () => {
    // what the coordinator holds: the wallet records, the signed governance, every roster
    const w = await client.createWallet({ tenant, threshold: 2, parties: ['p1', 'p2', 'p3'] });
    const other = await client.createWallet({ tenant, threshold: 2, parties: ['p1', 'p2', 'p3'] });
    const plain = await client.createWallet({
      tenant: `plain-${run}`,
      threshold: 2,
      parties: ['p1', 'p2', 'p3'],
    });
    const governance = await signedGovernance(tenant, 1);
    const approved = (
      ctx: ReshareContext,
      approvers: [string, string?][],
      over: Partial<KeyChangeStatement> = {},
    ) => approvedUnder(governance, ctx, approvers, over);

    const share = await shareOf(tenant, w.walletId);
    const otherShare = await shareOf(tenant, other.walletId);
    const plainShare = await shareOf(`plain-${run}`, plain.walletId);
    const swap = (roster: PeerEntry[], party: string) => swapKeys(roster, party, rogueKeys);
    // an invented lost party carrying p2's identifier, with the attacker's keys, in both rosters
    const invented = (roster: PeerEntry[]) => inventParty(roster, 'p2', 'p9', rogueKeys);
    const recovery = (s: ShareDoc, over: Partial<ReshareContext> = {}) =>
      ctxOf(s, {
        kind: 'recovery',
        lost: 'p2',
        dealers: ['p1', 'p3'],
        roster: swap(s.roster, 'p2'),
        ...over,
      });
    // a policy the coordinator signed itself under the trusted publisher's name and key
    const loose = { ...governance.policy, actions: { recover: {} } };
    const forgedGovernance: SignedGovernance = {
      tenant,
      policy: loose,
      ...signGovernance({ ...keys.mallory!, id: 'gov-lead' }, tenant, loose, new Date().toISOString()),
      publisherKey: keys['gov-lead']!.publicKey,
      governanceVersion: 2,
    };
    const replayed = ctxOf(share, { dealers: ['p1', 'p2'] });
    const replayAuth = approved(replayed, [['alice']]);

    const cases: [string, RogueCall, RegExp][] = [
      [
        'a recovery with no statement, rebuilding p2 for keys the attacker holds',
        { party: 'p1', activity: 'repairDeal', args: [recovery(share)] },
        /UNAUTHORIZED: tenant .* requires a key-change statement approved under its governance policy for recover/,
      ],
      [
        "an invented lost party p9 carrying p2's identifier, with rosters the coordinator wrote",
        {
          party: 'p1',
          activity: 'repairDeal',
          args: [
            recovery(share, {
              lost: 'p9',
              oldRoster: invented(share.roster),
              roster: invented(share.roster),
            }),
          ],
        },
        /UNAUTHORIZED: tenant .* requires a key-change statement/,
      ],
      [
        'the same, approved by one admin where the policy asks two',
        {
          party: 'p1',
          activity: 'repairDeal',
          args: [
            (() => {
              const c = recovery(share);
              return { ...c, authorization: approved(c, [['alice']]) };
            })(),
          ],
        },
        /APPROVAL_REQUIRED: governance v1 requires approvals for recover \(2 admin\), 1 valid given/,
      ],
      [
        'approved by an ops approver posing as admin',
        {
          party: 'p1',
          activity: 'repairDeal',
          args: [
            (() => {
              const c = recovery(share);
              return { ...c, authorization: approved(c, [['alice'], ['carol']]) };
            })(),
          ],
        },
        /APPROVAL_REQUIRED: approval refused: carol may not approve as admin/,
      ],
      [
        'a governance policy the coordinator signed itself (allowing recovery with no approval)',
        {
          party: 'p1',
          activity: 'repairDeal',
          args: [
            (() => {
              const c = recovery(share);
              return { ...c, authorization: { ...approved(c, []), governance: forgedGovernance } };
            })(),
          ],
        },
        /UNAUTHORIZED: the governance policy's signature by gov-lead does not verify/,
      ],
      [
        'a statement approved for another wallet',
        {
          party: 'p1',
          activity: 'reshareDeal',
          args: [{ ...ctxOf(share), authorization: approved(ctxOf(otherShare), [['alice']]) }],
        },
        /UNAUTHORIZED: the key-change statement is not for this ceremony: walletId differs/,
      ],
      [
        "a statement for the real roster, with p3's keys swapped in the round input",
        {
          party: 'p1',
          activity: 'reshareDeal',
          args: [
            (() => {
              const c = ctxOf(share);
              return { ...c, roster: swap(c.roster, 'p3'), authorization: approved(c, [['alice']]) };
            })(),
          ],
        },
        /UNAUTHORIZED: the key-change statement is not for this ceremony: roster differs/,
      ],
      [
        'a statement approved for another version',
        {
          party: 'p1',
          activity: 'reshareDeal',
          args: [
            (() => {
              const c = ctxOf(share);
              return { ...c, authorization: approved({ ...c, toVersion: 7 }, [['alice']]) };
            })(),
          ],
        },
        /UNAUTHORIZED: the key-change statement is not for this ceremony: toVersion differs/,
      ],
      [
        'an expired statement',
        {
          party: 'p1',
          activity: 'reshareDeal',
          args: [
            (() => {
              const c = ctxOf(share);
              return {
                ...c,
                authorization: approved(c, [['alice']], {
                  createdAt: new Date(Date.now() - 7_200_000).toISOString(),
                  expiresAt: new Date(Date.now() - 3_600_000).toISOString(),
                }),
              };
            })(),
          ],
        },
        /UNAUTHORIZED: the key-change statement expired at/,
      ],
      [
        "a statement approved for another tenant's wallet",
        {
          party: 'p1',
          activity: 'reshareDeal',
          args: [{ ...ctxOf(share), authorization: approved(ctxOf(plainShare), [['alice']]) }],
        },
        /UNAUTHORIZED: the key-change statement is not for this ceremony: tenant differs/,
      ],
      [
        'a statement spent once, replayed for a second ceremony',
        {
          party: 'p1',
          activity: 'reshareDeal',
          args: [
            {
              ...replayed,
              ceremonyId: `${replayAuth.statement.requestId}/run-again`,
              authorization: replayAuth,
            },
          ],
        },
        /REPLAY: this key-change statement already authorised ceremony/,
      ],
      [
        'a retirement of the current version, with no successor',
        {
          party: 'p1',
          activity: 'reshareRetire',
          args: [{ ...ctxOf(share), authorization: approved(ctxOf(share), [['alice']]) }, []],
        },
        /no reshare-activated message from p1/,
      ],
      // a tenant with no governance: the parties still check rosters and successors themselves
      [
        "ungoverned: an invented lost party p9 carrying p2's identifier",
        {
          party: 'p1',
          activity: 'repairDeal',
          args: [
            recovery(plainShare, {
              lost: 'p9',
              oldRoster: invented(plainShare.roster),
              roster: invented(plainShare.roster),
            }),
          ],
        },
        /DISAGREEMENT: the old roster of .* is not the one stored with p1's share/,
      ],
      [
        "ungoverned: a recovery handing p2's share to keys nobody pinned",
        { party: 'p1', activity: 'repairDeal', args: [recovery(plainShare)] },
        /TAMPERED: p2 joins wallet .* with keys that are neither in its roster nor pinned by p1's operator/,
      ],
      [
        "ungoverned: a reshare to a committee of the attacker's workers",
        {
          party: 'p1',
          activity: 'reshareDeal',
          args: [
            ctxOf(plainShare, {
              kind: 'reshare',
              roster: [
                plainShare.roster[0]!,
                { partyId: 'p8', identifier: plainShare.roster[1]!.identifier, ...rogueKeys },
                { partyId: 'p9', identifier: plainShare.roster[2]!.identifier, ...rogueKeys },
              ],
            }),
          ],
        },
        /TAMPERED: p8 joins wallet .* with keys that are neither in its roster nor pinned/,
      ],
      [
        'ungoverned: a retirement of the current version, with no successor',
        { party: 'p1', activity: 'reshareRetire', args: [ctxOf(plainShare), []] },
        /no reshare-activated message from p1/,
      ],
    ];

    await asRogue(async (calls) => {
      // the replay case needs the statement spent first: its genuine first use deals, as a real ceremony would
      const [first] = await calls([
        { party: 'p1', activity: 'reshareDeal', args: [{ ...replayed, authorization: replayAuth }] },
      ]);
      expect(first!.refused).toBeUndefined();
      const outcomes = await calls(cases.map(([, c]) => c));
      for (const [i, [what, , expected]] of cases.entries()) {
        expect(outcomes[i]!.refused, what).toMatch(expected);
      }

      // an abort ordered after a completed rotation destroys nothing that is active
      const rot = await client.rotate({ walletId: plain.walletId, tenant: `plain-${run}` });
      const after = await shareOf(`plain-${run}`, plain.walletId);
      expect(after.version).toBe(rot.version);
      const [abort] = await calls([
        {
          party: 'p1',
          activity: 'reshareAbort',
          args: [ctxOf(plainShare, { ceremonyId: after.ceremonyId!, toVersion: after.version })],
        },
      ]);
      expect(abort!.refused).toBeUndefined();
      expect(await (await partyStore('p1')).shares.findOne({ _id: after._id })).not.toBeNull();
    });

    // nothing of it changed a wallet: each still signs with every pair
    for (const [t, walletId] of [
      [tenant, w.walletId],
      [tenant, other.walletId],
      [`plain-${run}`, plain.walletId],
    ] as const) {
      const info = await client.getWallet({ walletId, tenant: t });
      for (const signers of [
        ['p1', 'p2'],
        ['p1', 'p3'],
        ['p2', 'p3'],
      ]) {
        const message = message32();
        const r = await client.sign({ tenant: t, walletId, message, signers });
        expect(
          verifyIndependently('frost-ed25519', r.signature, Buffer.from(message, 'hex'), info.publicKey),
        ).toBe(true);
      }
    }
  });
});
