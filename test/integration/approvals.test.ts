/**
 * Approvals and the parties' gate on the real stack. An over-limit payment escalates, is held
 * until two approvers (risk and treasury) sign approvals, and is then signed; every refusal the
 * approval layer promises is made with its reason; one rejection ends a request; an escalation
 * expires. Then a compromised coordinator (a workflow calling the parties' rounds directly) tries
 * to get signatures past the rules and every party refuses; with genuine approvals it works.
 * Last, 50 concurrent payments against a velocity limit never exceed it.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client, Connection } from '@temporalio/client';
import { DefaultLogger, NativeConnection, Runtime, Worker } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SignContext, TransactionState } from '../../src/ceremony/sign/contracts.js';
import { ConclaveClient, signWorkflowId, type TransactionState as State } from '../../src/client/index.js';
import { clientDataConverter, workerDataConverter } from '../../src/codec/payload-codec.js';
import { loadConfig } from '../../src/config.js';
import { ConclaveError } from '../../src/errors.js';
import {
  generateActorKey,
  parseTenantPolicyConfig,
  publicationDigest,
  requestDigest,
  signApproval,
  signCancellation,
  signPublication,
  signRequest,
  signStatement,
  validateRuleSet,
  type ActorSecret,
  type SignedApproval,
  type SignedCancellation,
  type SignedPublication,
  type SignedRequest,
  type TransactionDescription,
} from '../../src/policy/index.js';
import { PolicyStore } from '../../src/store/policy-store.js';
import { closeAllDbs, openDb } from '../../src/store/mongo.js';
import { verifyIndependently } from '../independent-verify.js';
import { verifyWebhook } from '../../src/webhooks/signature.js';
import {
  conclave,
  json,
  message32,
  partyStore,
  pinEverywhere,
  stackEnv,
  waitFor,
  wipeParty,
} from './helpers.js';

const run = Date.now().toString(36);
const dir = mkdtempSync(join(tmpdir(), 'conclave-approvals-'));
const keys: Record<string, ActorSecret> = {};
const keyFile = (id: string) => join(dir, `${id}.key`);
for (const id of ['backend', 'alice', 'bob', 'carol', 'mallory', 'risk-lead']) {
  keys[id] = generateActorKey(id);
  writeFileSync(keyFile(id), JSON.stringify(keys[id]), { mode: 0o600 });
}
const pub = (id: string) => ({ id, publicKey: keys[id]!.publicKey });

let initiator: ConclaveClient; // the payments backend: signs its requests with its key
let publisher: ConclaveClient; // the risk lead: signs rule publications
let temporal: Client;

beforeAll(async () => {
  initiator = await ConclaveClient.connect({ env: { ...stackEnv(), CONCLAVE_KEY: keyFile('backend') } });
  publisher = await ConclaveClient.connect({ env: { ...stackEnv(), CONCLAVE_KEY: keyFile('risk-lead') } });
  const connection = await Connection.connect({ address: loadConfig(stackEnv()).temporal.address });
  const dataConverter = clientDataConverter(loadConfig(stackEnv()).payloadKey);
  temporal = new Client({ connection, ...(dataConverter ? { dataConverter } : {}) });
});
afterAll(async () => {
  await initiator?.close();
  await publisher?.close();
  await temporal?.connection.close();
  await closeAllDbs();
});

const denied = 'So11111111111111111111111111111111111111112';
const dest = 'Dest1111111111111111111111111111111111111111';
const pay = (amount: string, destination = dest): TransactionDescription => ({
  chain: 'solana',
  asset: 'SOL',
  amount,
  destination,
});
const denyRule = {
  name: 'deny-listed destination',
  conditions: { all: [{ fact: 'destination', operator: 'inDenyList', value: true }] },
  event: { type: 'block', params: { reason: 'destination {{destination}} is on the deny list' } },
};
const largeRule = {
  name: 'large transfer',
  conditions: { all: [{ fact: 'fiatValue', operator: 'fiatGreaterThan', value: '10000' }] },
  event: {
    type: 'escalate',
    params: {
      reason: '{{amount}} {{asset}} is worth {{fiatValue}} USD',
      approvals: { risk: 1, treasury: 1 },
    },
  },
};
const rulesText = (rules: object[]) => JSON.stringify({ version: 1, defaultOutcome: 'allow', rules });
const config = (extra: object = {}) => ({
  denyList: [denied],
  prices: { SOL: '150' },
  initiators: [pub('backend')],
  approvers: [
    { ...pub('alice'), roles: ['risk'] },
    { ...pub('bob'), roles: ['treasury'] },
    { ...pub('carol'), roles: ['risk', 'treasury'] },
    { ...pub('backend'), roles: ['risk'] }, // registered, but never for its own requests
  ],
  escalationExpiresAfter: 600,
  ...extra,
});

async function refusal(p: Promise<unknown>): Promise<ConclaveError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ConclaveError);
  return err as ConclaveError;
}

const awaiting = async (tenant: string, requestId: string): Promise<State> => {
  let state: State | undefined;
  await waitFor(
    `${requestId} to await approval`,
    async () => {
      state = await initiator.transaction({ requestId, tenant }).catch(() => undefined);
      return state?.state === 'awaiting-approval';
    },
    30_000,
  );
  return state!;
};

/** Each party's operator trusts risk-lead as the tenant's rule publisher (through the CLI). */
async function trustRiskLead(tenant: string, parties: string[]) {
  for (const p of parties) {
    const r = await conclave([
      'party',
      'trust',
      '--party',
      p,
      '--tenant',
      tenant,
      '--publisher',
      `risk-lead=${keys['risk-lead']!.publicKey}`,
    ]);
    expect(r.code, r.stderr).toBe(0);
  }
}

/** A tenant with a wallet on p1..p3, rules signed by risk-lead, and p1..p3 trusting risk-lead. */
async function gatedTenant(name: string, extra: object = {}) {
  const tenant = `${name}-${run}`;
  const w = await initiator.createWallet({ tenant, threshold: 2, parties: 3 });
  await trustRiskLead(tenant, ['p1', 'p2', 'p3']);
  const v = await publisher.publishRules({
    text: rulesText([denyRule, largeRule]),
    config: config(extra),
    tenant,
  });
  expect(v.publishedBy).toBe('risk-lead');
  return { tenant, w, version: v.version };
}

describe('approvals', () => {
  it('an over-limit payment escalates, gathers a risk and a treasury approval, and is signed', async () => {
    const { tenant, w } = await gatedTenant('appr', { allowPrivateWebhookEndpoints: true });
    // a subscriber to the approval events, on loopback (the tenant's configuration allows it)
    const received: { headers: IncomingHttpHeaders; body: string }[] = [];
    const receiver = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        received.push({ headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
    const hook = await initiator.createWebhook({
      tenant,
      url: `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/approvals`,
      events: ['approval.requested', 'transaction.approved', 'transaction.signed'],
    });
    const id = `big-${run}`;
    const started = await initiator.startSign({
      tenant,
      walletId: w.walletId,
      message: message32(),
      tx: pay('100'),
      requestId: id,
    });
    expect(started).toBe(id);
    const state = await awaiting(tenant, id);
    expect(state.decision).toMatchObject({ outcome: 'escalate', approvals: { risk: 1, treasury: 1 } });
    expect(state.decision?.fired[0]?.reason).toBe('100 SOL is worth 15000 USD');
    expect(state.request?.statement.initiator).toBe('backend');
    expect(state.request?.signature).toMatch(/^[0-9a-f]{128}$/);

    // tx show through the CLI: state, decision and why
    const shown = await conclave(['tx', 'show', id, '--tenant', tenant]);
    expect(shown.code, shown.stderr).toBe(0);
    expect(shown.stdout).toContain('awaiting-approval');
    expect(shown.stdout).toContain('pays       100 SOL on solana');
    expect(shown.stdout).toContain('large transfer: 100 SOL is worth 15000 USD');

    const approveAs = (who: string, role?: string, key = keys[who]!) =>
      initiator.approve({ requestId: id, tenant, key, ...(role ? { role } : {}) });
    const refusedWith = async (p: Promise<unknown>, reason: RegExp) => {
      const e = await refusal(p);
      expect(e.message).toMatch(reason);
      return e;
    };
    await refusedWith(approveAs('mallory', 'risk'), /mallory is not a registered approver/);
    // mallory's key under alice's name
    await refusedWith(
      approveAs('alice', 'risk', { ...keys.mallory!, id: 'alice' }),
      /alice's approval does not verify with their registered key/,
    );
    await refusedWith(approveAs('alice', 'treasury'), /alice may not approve as treasury/);
    await refusedWith(approveAs('backend', 'risk'), /backend initiated this request and cannot approve it/);
    // approvals about something else, sent straight to the workflow
    const handle = temporal.workflow.getHandle(signWorkflowId(tenant, id));
    const crafted = (change: object): SignedApproval =>
      signApproval(keys.alice!, {
        tenant,
        requestId: signWorkflowId(tenant, id),
        requestDigest: state.requestDigest!,
        rulesVersion: state.rulesVersion!,
        publicationDigest: state.publicationDigest!,
        verdict: 'approve',
        approver: 'alice',
        role: 'risk',
        at: new Date().toISOString(),
        ...change,
      });
    const update = (a: SignedApproval) =>
      handle
        .executeUpdate<TransactionState, [SignedApproval]>('submitApproval', { args: [a] })
        .catch((e: unknown) => {
          // the workflow's reason is the update failure's cause
          throw new Error((e as { cause?: Error }).cause?.message ?? String(e));
        });
    await expect(update(crafted({ requestDigest: 'ab'.repeat(32) }))).rejects.toThrow(
      /approval is for another transaction/,
    );
    await expect(update(crafted({ rulesVersion: state.rulesVersion! + 1 }))).rejects.toThrow(
      /approval is for rules v2, the request was judged under v1/,
    );
    await expect(update(crafted({ tenant: 'other-tenant' }))).rejects.toThrow(/another request/);
    // a refused verdict is audited, with what it claimed cut short
    await expect(update(crafted({ role: 'r'.repeat(5000) }))).rejects.toThrow(/may not approve as/);
    const refusedEntries = (await initiator.auditChain({ tenant })).entries.filter(
      (e) => e.ceremony === 'approval' && e.outcome === 'failed',
    );
    expect(refusedEntries.length).toBeGreaterThanOrEqual(4);
    const claimed = refusedEntries.at(-1)!.detail as Record<string, string>;
    expect(claimed.role).toBe('r'.repeat(128));

    // alice approves through the CLI; the request still waits for treasury
    const a = await conclave(['approve', id, '--as', 'alice', '--key', keyFile('alice'), '--tenant', tenant]);
    expect(a.code, a.stderr).toBe(0);
    expect(a.stdout).toContain('alice approved');
    const dup = await conclave([
      'approve',
      id,
      '--as',
      'alice',
      '--key',
      keyFile('alice'),
      '--tenant',
      tenant,
    ]);
    expect(dup.code).not.toBe(0);
    expect(dup.stderr).toMatch(/alice has already given a verdict/);
    const wrongKey = await conclave([
      'approve',
      id,
      '--as',
      'bob',
      '--key',
      keyFile('alice'),
      '--tenant',
      tenant,
    ]);
    expect(wrongKey.stderr).toMatch(/is alice's, not bob's/);
    expect((await initiator.transaction({ requestId: id, tenant })).state).toBe('awaiting-approval');
    // another tenant cannot see or approve it
    await refusedWith(
      initiator.transaction({ requestId: id, tenant: `other-${run}` }),
      /has no sign request/,
    );

    const b = await conclave(['approve', id, '--as', 'bob', '--key', keyFile('bob'), '--tenant', tenant]);
    expect(b.code, b.stderr).toBe(0);
    const result = await initiator.signResult({ requestId: id, tenant });
    expect(result.message).toBe(state.request!.statement.message);
    expect(
      verifyIndependently('frost-ed25519', result.signature, Buffer.from(result.message, 'hex'), w.publicKey),
    ).toBe(true);
    expect(result.policy?.approvals).toEqual([
      { approver: 'alice', role: 'risk' },
      { approver: 'bob', role: 'treasury' },
    ]);
    const done = json(await conclave(['tx', 'show', id, '--tenant', tenant, '--json']));
    expect(done).toMatchObject({ state: 'signed', signature: result.signature });
    const late = await refusal(approveAs('carol', 'risk'));
    expect(late.message).toMatch(/is signed, not awaiting approval/);

    const audit = (await initiator.auditLog({ walletId: w.walletId, tenant })).filter(
      (e) => e.ceremony === 'sign',
    );
    expect(audit.at(-1)).toMatchObject({ outcome: 'completed' });
    expect(String(audit.at(-1)?.detail?.approvals)).toMatch(
      /approve alice \(risk\).*approve bob \(treasury\)/,
    );

    // the subscriber heard the request for approvals, the approval and the signature, signed
    await waitFor('the approval webhooks', async () => received.length === 3, 30_000);
    receiver.close();
    const events = received.map((r) => {
      verifyWebhook(r.headers, r.body, hook.secret!);
      return JSON.parse(r.body) as { type: string; data: Record<string, unknown> };
    });
    const byType = Object.fromEntries(events.map((e) => [e.type, e.data]));
    expect(Object.keys(byType).sort()).toEqual([
      'approval.requested',
      'transaction.approved',
      'transaction.signed',
    ]);
    expect(byType['approval.requested']).toMatchObject({
      requestId: signWorkflowId(tenant, id),
      required: { risk: 1, treasury: 1 },
    });
    expect(byType['approval.requested']!.approvers).toEqual(expect.arrayContaining(['alice', 'bob']));
    expect(byType['transaction.approved']!.approvals).toEqual(['alice (risk)', 'bob (treasury)']);
  });

  it('one rejection ends a request; an expired escalation is rejected; small payments need no approval', async () => {
    const { tenant, w } = await gatedTenant('rej');
    const requestId = `small-${run}`;
    const message = message32();
    const small = await initiator.sign({ tenant, walletId: w.walletId, message, tx: pay('1'), requestId });
    expect(small.policy).toMatchObject({ outcome: 'allow', approvals: [], tx: pay('1') });
    // the same request id again: the same payment joins it, another payment of the same message is a replay
    const joined = await initiator.sign({ tenant, walletId: w.walletId, message, tx: pay('1'), requestId });
    expect(joined.signature).toBe(small.signature);
    const replay = await refusal(
      initiator.sign({ tenant, walletId: w.walletId, message, tx: pay('2'), requestId }),
    );
    expect(replay.code).toBe('REPLAY');
    expect(replay.message).toMatch(/was already used for another signing request/);
    // share validation's dry-run signature pays nothing: no rules, and the gating parties sign it
    const validated = await initiator.validateShares({ walletId: w.walletId, tenant });
    expect(validated.dryRun).toMatchObject({ verified: true });
    expect(validated.ok).toBe(true);

    const id = `rejected-${run}`;
    await initiator.startSign({
      tenant,
      walletId: w.walletId,
      message: message32(),
      tx: pay('100'),
      requestId: id,
    });
    await awaiting(tenant, id);
    await initiator.approve({ requestId: id, tenant, key: keys.alice!, role: 'risk' });
    const r = await conclave([
      'reject',
      id,
      '--as',
      'carol',
      '--key',
      keyFile('carol'),
      '--role',
      'treasury',
      '--tenant',
      tenant,
    ]);
    expect(r.code, r.stderr).toBe(0);
    const ended = await refusal(initiator.signResult({ requestId: id, tenant }));
    expect(ended.code).toBe('APPROVAL_REJECTED');
    expect(ended.message).toContain('carol rejected the request');
    expect((await initiator.transaction({ requestId: id, tenant })).state).toBe('rejected');

    // a new version with a 2 s expiry: the next escalation expires, and approving it afterwards is refused
    await publisher.publishRules({
      text: rulesText([denyRule, largeRule]),
      config: config({ escalationExpiresAfter: 2 }),
      tenant,
    });
    const exp = `expired-${run}`;
    const expired = await refusal(
      initiator.sign({ tenant, walletId: w.walletId, message: message32(), tx: pay('100'), requestId: exp }),
    );
    expect(expired.code).toBe('APPROVAL_EXPIRED');
    expect(expired.message).toMatch(/required approvals \(1 risk, 1 treasury\), given: none/);
    const tooLate = await refusal(
      initiator.approve({ requestId: exp, tenant, key: keys.alice!, role: 'risk' }),
    );
    expect(tooLate.message).toMatch(/is expired, not awaiting approval/);

    // a tenant that lists initiators refuses unsigned requests before judging them
    const anonymous = await ConclaveClient.connect({ env: stackEnv() });
    try {
      const u = await refusal(
        anonymous.sign({ tenant, walletId: w.walletId, message: message32(), tx: pay('1') }),
      );
      expect(u.code).toBe('UNAUTHORIZED');
      expect(u.message).toMatch(/signed by its initiators only/);
    } finally {
      await anonymous.close();
    }
  });

  it('a request judged under v1 is decided by the approvers of v1 after v2 is in use; only its initiator cancels one', async () => {
    const { tenant, w } = await gatedTenant('older');
    const id = `under-v1-${run}`;
    const message = message32();
    await initiator.startSign({ tenant, walletId: w.walletId, message, tx: pay('100'), requestId: id });
    expect((await awaiting(tenant, id)).rulesVersion).toBe(1);
    // v2 names other approvers, and every party signs a small payment under it
    const v2 = await publisher.publishRules({
      text: rulesText([denyRule, largeRule]),
      config: config({ approvers: [{ ...pub('mallory'), roles: ['risk', 'treasury'] }] }),
      tenant,
    });
    expect(v2.version).toBe(2);
    for (const signers of [
      ['p1', 'p2'],
      ['p2', 'p3'],
    ]) {
      const small = await initiator.sign({
        tenant,
        walletId: w.walletId,
        message: message32(),
        tx: pay('1'),
        signers,
      });
      expect(small.policy).toMatchObject({ outcome: 'allow', rulesVersion: 2 });
    }
    // the v1 request is still v1's: v2's approver is none of its approvers, v1's decide it
    const shown = await conclave(['tx', 'show', id, '--tenant', tenant]);
    expect(shown.stdout).toMatch(/^decision {3}escalate under rules v1, needs 1 risk, 1 treasury$/m);
    const e = await refusal(initiator.approve({ requestId: id, tenant, key: keys.mallory!, role: 'risk' }));
    expect(e.message).toMatch(/mallory is not a registered approver/);
    await initiator.approve({ requestId: id, tenant, key: keys.alice!, role: 'risk' });
    await initiator.approve({ requestId: id, tenant, key: keys.bob!, role: 'treasury' });
    // the parties that signed under v2 sign this one under v1: it was made before v2 existed
    const signed = await initiator.signResult({ requestId: id, tenant });
    expect(signed.policy).toMatchObject({ outcome: 'escalate', rulesVersion: 1 });
    expect(
      verifyIndependently('frost-ed25519', signed.signature, Buffer.from(message, 'hex'), w.publicKey),
    ).toBe(true);

    // a waiting request is withdrawn by its initiator, and by nobody else
    const c = `cancel-${run}`;
    await initiator.startSign({
      tenant,
      walletId: w.walletId,
      message: message32(),
      tx: pay('100'),
      requestId: c,
    });
    const waiting = await awaiting(tenant, c);
    expect(waiting.rulesVersion).toBe(2);
    const other = await ConclaveClient.connect({ env: { ...stackEnv(), CONCLAVE_KEY: keyFile('mallory') } });
    try {
      const notTheirs = await refusal(other.cancel({ requestId: c, tenant }));
      expect(notTheirs.code).toBe('UNAUTHORIZED');
      expect(notTheirs.message).toMatch(/only backend, who signed request .* may cancel it/);
    } finally {
      await other.close();
    }
    // sent straight to the workflow, past the client: the coordinator checks it too
    const workflowId = signWorkflowId(tenant, c);
    const forged = signCancellation(
      { ...keys.mallory!, id: 'backend' },
      {
        tenant,
        requestId: workflowId,
        requestDigest: waiting.requestDigest!,
        initiator: 'backend',
        at: new Date().toISOString(),
      },
    );
    await expect(
      temporal.workflow
        .getHandle(workflowId)
        .executeUpdate<TransactionState, [SignedCancellation]>('cancelRequest', { args: [forged] })
        .catch((err: unknown) => {
          throw new Error((err as { cause?: Error }).cause?.message ?? String(err));
        }),
    ).rejects.toThrow(
      /cancellation refused: the cancellation is not signed with the key backend signed the request with/,
    );
    expect((await initiator.transaction({ requestId: c, tenant })).state).toBe('awaiting-approval');
    const cancelled = await initiator.cancel({ requestId: c, tenant });
    expect(cancelled.state).toBe('cancelled');
    const ended = await refusal(initiator.signResult({ requestId: c, tenant }));
    expect(ended.code).toBe('CANCELLED');
    expect(ended.message).toMatch(/backend cancelled the request \(rules v2\)/);
    const again = await refusal(initiator.cancel({ requestId: c, tenant }));
    expect(again.message).toMatch(/is cancelled, not awaiting approval/);
    // both verdicts on the cancellation and the request's end are in the audit chain
    const entries = (await initiator.auditChain({ tenant })).entries.filter(
      (x) => x.workflowId === workflowId,
    );
    expect(entries.filter((x) => x.ceremony === 'approval').map((x) => x.outcome)).toEqual([
      'failed',
      'completed',
    ]);
    expect(entries.find((x) => x.ceremony === 'sign')).toMatchObject({
      outcome: 'failed',
      code: 'CANCELLED',
    });
  });
});

describe('share lifecycle on a gated tenant', () => {
  it('a lost party is recovered: its proof signature is a dry run the gating parties accept', async () => {
    const { tenant, w } = await gatedTenant('lost');
    await wipeParty('p3');
    await pinEverywhere('p3');
    // a rebuilt party has lost its operator's trust list too: until it is set again, p3 refuses
    // the tenant (the dev stack's parties, opted out with CONCLAVE_REQUIRE_GATE=0, sign ungated)
    const trusted = await partyStore('p3').then((s) => s.tenantTrust.countDocuments({ _id: tenant }));
    expect(trusted).toBe(0);
    await trustRiskLead(tenant, ['p3']);
    const r = await initiator.recover({ walletId: w.walletId, party: 'p3', tenant, helpers: ['p1', 'p2'] });
    expect(r.proof.signers).toContain('p3');
    expect(
      verifyIndependently(
        'frost-ed25519',
        r.proof.signature,
        Buffer.from(r.proof.message, 'hex'),
        w.publicKey,
      ),
    ).toBe(true);
    // and the recovered p3 signs a payment under the rules, checking it itself
    const paid = await initiator.sign({
      tenant,
      walletId: w.walletId,
      message: message32(),
      tx: pay('1'),
      signers: ['p1', 'p3'],
    });
    expect(
      verifyIndependently('frost-ed25519', paid.signature, Buffer.from(paid.message, 'hex'), w.publicKey),
    ).toBe(true);
  });
});

describe('a compromised coordinator', () => {
  it('cannot get a signature past the rules: every party checks request, rules and approvals itself', async () => {
    const tenant = `rogue-${run}`;
    const w = await initiator.createWallet({ tenant, threshold: 2, parties: 3 });
    await trustRiskLead(tenant, ['p1', 'p2', 'p3']);
    // v1: permissive (no limit); v2: the limit. Parties sign a small payment under v2 first.
    await publisher.publishRules({ text: rulesText([denyRule]), config: config(), tenant });
    await publisher.publishRules({ text: rulesText([denyRule, largeRule]), config: config(), tenant });
    await initiator.sign({
      tenant,
      walletId: w.walletId,
      message: message32(),
      tx: pay('1'),
      signers: ['p1', 'p2'],
    });

    // What a compromised coordinator holds: the stored, signed publications, and a genuine
    // request the backend signed for a large payment (say, one waiting for approvals).
    const policy = new PolicyStore(await openDb(loadConfig(stackEnv()).coordinatorDb));
    const published = async (version: number): Promise<SignedPublication> => {
      const d = (await policy.ruleSets.findOne({ _id: `${tenant}|v${version}` }))!;
      const { version: _v, ...ruleSet } = d.ruleSet;
      return { tenant, rulesVersion: version, ruleSet, config: d.config, ...d.signature! };
    };
    const v1 = await published(1);
    const v2 = await published(2);
    const wallet = await initiator.getWallet({ walletId: w.walletId, tenant });
    const message = message32();
    const requestId = signWorkflowId(tenant, `intercepted-${run}`);
    const request = (over: object = {}): SignedRequest =>
      signRequest(
        keys.backend!,
        signStatement({
          tenant,
          walletId: w.walletId,
          message,
          path: 'm',
          tx: pay('100'),
          requestId,
          initiator: 'backend',
          createdAt: new Date().toISOString(),
          ...over,
        }),
      );
    const genuine = request();
    const approve = (who: string, role: string, publication = v2, req = genuine) =>
      signApproval(keys[who]!, {
        tenant,
        requestId,
        requestDigest: requestDigest(req.statement),
        rulesVersion: publication.rulesVersion,
        publicationDigest: publicationDigest(publication),
        verdict: 'approve',
        approver: who,
        role,
        at: new Date().toISOString(),
      });
    let n = 0;
    const ctx = (authorization: SignContext['authorization'], msg = message): SignContext => ({
      tenant,
      ceremonyId: `${requestId}/rogue-${n++}`,
      walletId: w.walletId,
      keyId: wallet.keyId,
      version: wallet.version,
      message: msg,
      signers: ['p1', 'p2'],
      path: 'm',
      ...(authorization ? { authorization } : {}),
    });

    // the rogue coordinator's own worker, on the real Temporal server
    try {
      Runtime.install({ logger: new DefaultLogger('ERROR') });
    } catch {
      // a runtime is already installed in this process
    }
    const queue = `rogue-${run}`;
    const dataConverter = workerDataConverter(loadConfig(stackEnv()).payloadKey);
    const worker = await Worker.create({
      ...(dataConverter ? { dataConverter } : {}),
      connection: await NativeConnection.connect({ address: loadConfig(stackEnv()).temporal.address }),
      taskQueue: queue,
      workflowsPath: fileURLToPath(new URL('./rogue/workflows.ts', import.meta.url)),
    });
    type Outcome = { shares?: unknown[]; refused?: string[] };
    const attempt = (c: SignContext) =>
      temporal.workflow.execute<(c: SignContext) => Promise<Outcome>>('rogueSignWorkflow', {
        taskQueue: queue,
        workflowId: `rogue-${run}-${n}`,
        args: [c],
      });
    const tampered: SignedPublication = {
      ...v2,
      ruleSet: { ...v2.ruleSet, rules: v2.ruleSet.rules.filter((r) => r.name !== 'large transfer') },
    };
    // a rule set the coordinator signed itself, adding mallory as an approver
    const forgedRules = validateRuleSet(rulesText([denyRule, largeRule]));
    if (!forgedRules.ok) throw new Error('bad test rules');
    const forgedConfig = parseTenantPolicyConfig(
      config({ approvers: [{ ...pub('mallory'), roles: ['risk', 'treasury'] }] }),
    );
    const { version: _fv, ...forgedRuleSet } = forgedRules.ruleSet;
    const forged: SignedPublication = {
      tenant,
      rulesVersion: 9,
      ruleSet: forgedRuleSet,
      config: forgedConfig,
      ...signPublication(
        { ...keys.mallory!, id: 'risk-lead' },
        tenant,
        forgedRuleSet,
        forgedConfig,
        new Date().toISOString(),
      ),
    };
    const cases: [string, SignContext, RegExp][] = [
      [
        'no authorization at all',
        ctx(undefined),
        /UNAUTHORIZED: tenant .* requires a signed request and rule set/,
      ],
      [
        'claims the large payment is allowed (no approvals)',
        ctx({ request: genuine, publication: v2, approvals: [] }),
        /APPROVAL_REQUIRED: rules v2 require approvals \(1 risk, 1 treasury\), 0 valid given/,
      ],
      [
        'one genuine approval and a forged treasury one',
        ctx({
          request: genuine,
          publication: v2,
          approvals: [
            approve('alice', 'risk'),
            signApproval({ ...keys.mallory!, id: 'bob' }, approve('bob', 'treasury').statement),
          ],
        }),
        /APPROVAL_REQUIRED: approval refused: the signature of bob's approval does not verify/,
      ],
      [
        'edits the signed rules (drops the limit)',
        ctx({ request: genuine, publication: tampered, approvals: [] }),
        /UNAUTHORIZED: the rule set's signature by risk-lead does not verify/,
      ],
      [
        'signs its own rules under the publisher name',
        ctx({
          request: genuine,
          publication: forged,
          approvals: [approve('mallory', 'risk', forged), approve('mallory', 'treasury', forged)],
        }),
        /UNAUTHORIZED: the rule set was published by risk-lead, not by a publisher this party trusts/,
      ],
      [
        'replays the older, permissive version',
        ctx({ request: genuine, publication: v1, approvals: [] }),
        /UNAUTHORIZED: rules v1 are older than a rule set this party has already signed under, and the request was made after/,
      ],
      [
        'uses the request to sign another message',
        ctx(
          {
            request: genuine,
            publication: v2,
            approvals: [approve('alice', 'risk'), approve('bob', 'treasury')],
          },
          message32(),
        ),
        /UNAUTHORIZED: the request backend signed is not for this wallet, message, path or ceremony/,
      ],
      [
        'an unsigned request',
        ctx({ request: { statement: genuine.statement }, publication: v2, approvals: [] }),
        /UNAUTHORIZED: the request is not signed by an initiator key/,
      ],
      [
        'a payment message passed off as a dry run',
        { ...ctx(undefined), dryRun: { purpose: 'share-validation', reference: requestId } },
        /UNAUTHORIZED: the message is not the dry run's own \(share-validation\)/,
      ],
      [
        'a request signed by an approver, not an initiator',
        ctx({
          request: signRequest(keys.alice!, request({ initiator: 'alice' }).statement),
          publication: v2,
          approvals: [],
        }),
        /UNAUTHORIZED: alice is not an initiator/,
      ],
    ];
    await worker.runUntil(async () => {
      for (const [what, c, reason] of cases) {
        const out = await attempt(c);
        expect(out.shares, what).toBeUndefined();
        // both signers refuse, each on its own
        expect(out.refused, what).toHaveLength(2);
        for (const r of out.refused!) expect(r, what).toMatch(reason);
      }
      // no nonce was drawn for any of them
      for (const p of ['p1', 'p2']) {
        const st = await partyStore(p);
        expect(await st.nonces.countDocuments({ ceremonyId: new RegExp(`/rogue-`) }), p).toBe(0);
      }
      // positive control: the same path with the genuine request and both approvals does sign
      const ok = await attempt(
        ctx({
          request: genuine,
          publication: v2,
          approvals: [approve('alice', 'risk'), approve('bob', 'treasury')],
        }),
      );
      expect(ok.refused).toBeUndefined();
      expect(ok.shares).toHaveLength(2);
    });
  });
});

describe('velocity', () => {
  it('50 concurrent payments against a 24 h volume limit never exceed it; a failed request releases its hold', async () => {
    const tenant = `vel-${run}`;
    const w = await initiator.createWallet({ tenant, threshold: 2, parties: 3 });
    const limit = {
      name: 'daily volume',
      conditions: { all: [{ fact: 'walletVolume24h', operator: 'fiatGreaterThan', value: '1500' }] },
      event: { type: 'block', params: { reason: 'the wallet would move {{walletVolume24h}} USD in 24 h' } },
    };
    await publisher.publishRules({ text: rulesText([limit]), config: config(), tenant });
    // a request that fails after it was judged (a signer outside the wallet): its hold is released
    const failed = await refusal(
      initiator.sign({
        tenant,
        walletId: w.walletId,
        message: message32(),
        tx: pay('1'),
        signers: ['p1', 'p4'],
      }),
    );
    expect(failed.code).toBe('BAD_INPUT');
    const policy = new PolicyStore(await openDb(loadConfig(stackEnv()).coordinatorDb));
    expect(await policy.reservations.countDocuments({ tenant, released: true })).toBe(1);

    // 1 SOL = 150 USD: ten fit under 1500 USD, the eleventh would not
    const results = await Promise.allSettled(
      Array.from({ length: 50 }, () =>
        initiator.sign({ tenant, walletId: w.walletId, message: message32(), tx: pay('1') }),
      ),
    );
    const signed = results.filter((r) => r.status === 'fulfilled');
    const refused = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    expect(signed).toHaveLength(10);
    expect(refused).toHaveLength(40);
    for (const r of refused) {
      expect(r.reason).toBeInstanceOf(ConclaveError);
      expect((r.reason as ConclaveError).code).toBe('POLICY_BLOCKED');
      expect((r.reason as ConclaveError).message).toContain('would move 1650 USD in 24 h');
    }
    const held = await policy.reservations.find({ tenant, released: { $ne: true } }).toArray();
    expect(held).toHaveLength(10);
    expect(new Set(held.map((h) => h.seq)).size).toBe(10);
  });
});
