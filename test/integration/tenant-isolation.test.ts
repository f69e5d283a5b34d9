/**
 * Tenant isolation on the real stack. Two tenants, A and B (unique names per run), each with a
 * wallet, signed rules, initiators and approvers; A's parties gate A. B tries to reach A's
 * wallet, sign requests, audit records and rules through every entry point: the client, the CLI,
 * updates and workflows sent straight to Temporal, the parties' rounds as a compromised
 * coordinator would call them, and ids forged with the separators that document and workflow ids
 * are built with. Each attempt fails with a typed error whose message names only what B gave and
 * nothing of A (no key, digest, message or signature), and an unknown wallet of A reads exactly
 * like one that does not exist. In the end A's wallet, shares, rules and pending request are
 * unchanged, A's audit chain has gained nothing but the refusals of attempts that named A, and A
 * still signs with its own approvers.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client, Connection, WorkflowExecutionAlreadyStartedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { DefaultLogger, NativeConnection, Runtime, Worker } from '@temporalio/worker';
import type { Db } from 'mongodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuditEntry } from '../../src/audit/contracts.js';
import type { Envelope } from '../../src/crypto/envelope.js';
import type { KeygenRequest, KeygenResult } from '../../src/ceremony/keygen/contracts.js';
import type { RecoverRequest } from '../../src/ceremony/recover/contracts.js';
import type { ReshareRequest } from '../../src/ceremony/reshare/contracts.js';
import type {
  SignContext,
  SignRequest,
  SignResult,
  TransactionState,
} from '../../src/ceremony/sign/contracts.js';
import type { WalletInfo } from '../../src/ceremony/contracts.js';
import { verifyAuditChain, type AuditChainEntry } from '../../src/audit/chain.js';
import {
  ConclaveClient,
  rotationScheduleId,
  signWorkflowId,
  toConclaveError,
  type AuditExport,
  type RuleSetVersion,
} from '../../src/client/index.js';
import { clientDataConverter, workerDataConverter } from '../../src/codec/payload-codec.js';
import { loadConfig } from '../../src/config.js';
import { ConclaveError, type ErrorCode } from '../../src/errors.js';
import {
  generateActorKey,
  publicationDigest,
  requestDigest,
  signApproval,
  signRequest,
  signStatement,
  type ActorSecret,
  type SignedApproval,
  type SignedPublication,
  type SignedRequest,
  type TransactionDescription,
} from '../../src/policy/index.js';
import { walletDocId, walletVersionDocId } from '../../src/store/coordinator-store.js';
import { closeAllDbs, openDb } from '../../src/store/mongo.js';
import { shareDocId } from '../../src/store/party-store.js';
import { PolicyStore, ruleSetDocId } from '../../src/store/policy-store.js';
import { coordinatorTaskQueue } from '../../temporal.config.js';
import { verifyIndependently } from '../independent-verify.js';
import { conclave, message32, partyStore, stackEnv, waitFor, type Run } from './helpers.js';

const run = `${Date.now().toString(36)}${randomBytes(3).toString('hex')}`;
const A = `iso-a-${run}`;
const B = `iso-b-${run}`;
const dir = mkdtempSync(join(tmpdir(), 'conclave-isolation-'));

// Same ids in both tenants where it matters: B's initiator is also called "backend", B's alice is
// another person than A's alice, and B's publisher is also "risk-lead"; only keys tell them apart.
const keys = {
  backendA: generateActorKey('backend'),
  backendB: generateActorKey('backend'),
  opsB: generateActorKey('ops'), // an initiator of B only
  aliceA: generateActorKey('alice'),
  aliceB: generateActorKey('alice'),
  bobA: generateActorKey('bob'),
  carol: generateActorKey('carol'), // one person, approver in both tenants with one key
  dave: generateActorKey('dave'), // an approver of B only
  publisherA: generateActorKey('risk-lead'),
  publisherB: generateActorKey('risk-lead'),
  backendV: generateActorKey('backend'),
  publisherV: generateActorKey('risk-lead'),
  backendG: generateActorKey('backend'),
  publisherG: generateActorKey('risk-lead'),
};
type KeyName = keyof typeof keys;
const keyFile = (k: KeyName) => join(dir, `${k}.key`);
for (const k of Object.keys(keys) as KeyName[]) {
  writeFileSync(keyFile(k), JSON.stringify(keys[k]), { mode: 0o600 });
}
const actor = (k: KeyName, roles?: string[]) => ({
  id: keys[k].id,
  publicKey: keys[k].publicKey,
  ...(roles ? { roles } : {}),
});

const dest = 'Dest1111111111111111111111111111111111111111';
const pay = (amount: string): TransactionDescription => ({
  chain: 'solana',
  asset: 'SOL',
  amount,
  destination: dest,
});
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
const rulesText = JSON.stringify({ version: 1, defaultOutcome: 'allow', rules: [largeRule] });
const configA = {
  prices: { SOL: '150' },
  initiators: [actor('backendA')],
  approvers: [actor('aliceA', ['risk']), actor('bobA', ['treasury']), actor('carol', ['risk', 'treasury'])],
  escalationExpiresAfter: 1800,
};
const configB = {
  prices: { SOL: '150' },
  initiators: [actor('backendB'), actor('opsB')],
  approvers: [
    actor('aliceB', ['risk']),
    actor('dave', ['risk', 'treasury']),
    actor('carol', ['risk', 'treasury']),
  ],
  escalationExpiresAfter: 1800,
};

const esc = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

let a: ConclaveClient; // tenant A's backend (A's initiator key)
let pubA: ConclaveClient; // A's risk lead (A's publisher key)
let b: ConclaveClient; // tenant B's backend (B's "backend" initiator key)
let bOps: ConclaveClient; // B's other initiator
let pubB: ConclaveClient; // B's risk lead
let anon: ConclaveClient; // someone at B with no key at all
let temporal: Client; // a raw Temporal client, as every Conclave client has one
let coordinatorDb: Db;

let wA: KeygenResult;
let wB: KeygenResult;
let walletA: WalletInfo;
let walletB: WalletInfo;
let sigA: SignResult;
let sigB: SignResult;
const msgA = message32();
const reqA = `big-a-${run}`; // A's escalated request, awaiting approval
const reqB = `big-b-${run}`; // B's escalated request
const paidA = `pay-${run}`; // the request id of A's small payment, signed
const squatWallet = `w-squat-${run}`; // a wallet id of A's that B starts a key generation under
let stateA: TransactionState;
let stateB: TransactionState;
/** What of A must never show in anything B is told. */
let secretsOfA: string[];
let before: { wallet: WalletInfo; rules: RuleSetVersion[]; chain: AuditChainEntry[]; log: AuditEntry[] };

const connectAs = (key: KeyName | undefined, who: string) =>
  ConclaveClient.connect({
    env: {
      ...stackEnv(),
      CONCLAVE_ACTOR: who,
      ...(key ? { CONCLAVE_KEY: keyFile(key) } : {}),
    },
  });

async function awaiting(
  client: ConclaveClient,
  tenant: string,
  requestId: string,
): Promise<TransactionState> {
  let state: TransactionState | undefined;
  await waitFor(
    `${requestId} to await approval`,
    async () => {
      state = await client.transaction({ requestId, tenant }).catch(() => undefined);
      return state?.state === 'awaiting-approval';
    },
    60_000,
    100,
  );
  return state!;
}

beforeAll(async () => {
  [a, pubA, b, bOps, pubB, anon] = await Promise.all([
    connectAs('backendA', 'payments@tenant-a'),
    connectAs('publisherA', 'risk@tenant-a'),
    connectAs('backendB', 'mallory@tenant-b'),
    connectAs('opsB', 'ops@tenant-b'),
    connectAs('publisherB', 'risk@tenant-b'),
    connectAs(undefined, 'anonymous@tenant-b'),
  ]);
  const config = loadConfig(stackEnv());
  const dataConverter = clientDataConverter(config.payloadKey);
  temporal = new Client({
    connection: await Connection.connect({ address: config.temporal.address }),
    namespace: config.temporal.namespace,
    ...(dataConverter ? { dataConverter } : {}),
  });
  coordinatorDb = await openDb(config.coordinatorDb);

  [wA, wB] = await Promise.all([
    a.createWallet({ tenant: A, threshold: 2, parties: 3 }),
    b.createWallet({ tenant: B, threshold: 2, parties: 3 }),
  ]);
  // A's parties gate A: their operators trust A's publisher (its key) for A, and nobody else
  const trusted = await Promise.all(
    ['p1', 'p2', 'p3'].map((p) =>
      conclave([
        'party',
        'trust',
        '--party',
        p,
        '--tenant',
        A,
        '--publisher',
        `risk-lead=${keys.publisherA.publicKey}`,
      ]),
    ),
  );
  for (const r of trusted) expect(r.code, r.stderr).toBe(0);
  // A at v2 (B has v1 only), B at v1
  await pubA.publishRules({ text: rulesText, config: configA, tenant: A });
  await pubA.publishRules({
    text: rulesText,
    config: { ...configA, escalationExpiresAfter: 1700 },
    tenant: A,
  });
  await pubB.publishRules({ text: rulesText, config: configB, tenant: B });

  [sigA, sigB] = await Promise.all([
    a.sign({ tenant: A, walletId: wA.walletId, message: message32(), tx: pay('1'), requestId: paidA }),
    b.sign({ tenant: B, walletId: wB.walletId, message: message32(), tx: pay('1') }),
  ]);
  await a.startSign({ tenant: A, walletId: wA.walletId, message: msgA, tx: pay('100'), requestId: reqA });
  await b.startSign({
    tenant: B,
    walletId: wB.walletId,
    message: message32(),
    tx: pay('100'),
    requestId: reqB,
  });
  [stateA, stateB] = await Promise.all([awaiting(a, A, reqA), awaiting(b, B, reqB)]);
  [walletA, walletB] = await Promise.all([
    a.getWallet({ walletId: wA.walletId, tenant: A }),
    b.getWallet({ walletId: wB.walletId, tenant: B }),
  ]);
  const derivedA = await a.deriveKey({ walletId: wA.walletId, tenant: A, path: 'm/0' });
  secretsOfA = [
    walletA.publicKey,
    walletA.keyId,
    walletA.chainCode,
    walletA.transcriptHash,
    derivedA.verifyingKey,
    ...(derivedA.address ? [derivedA.address] : []),
    sigA.signature,
    sigA.message,
    msgA,
    stateA.requestDigest!,
    stateA.publicationDigest!,
    keys.backendA.publicKey,
    keys.aliceA.publicKey,
    keys.bobA.publicKey,
    keys.publisherA.publicKey,
    'payments@tenant-a',
    'risk@tenant-a',
  ];
  const [rules, chain, log] = await Promise.all([
    a.rulesHistory({ tenant: A }),
    a.auditChain({ tenant: A }),
    a.auditLog({ walletId: wA.walletId, tenant: A }),
  ]);
  before = { wallet: walletA, rules, chain: chain.entries, log };
});

afterAll(async () => {
  await Promise.allSettled([a, pubA, b, bOps, pubB, anon].map((c) => c?.close()));
  await temporal?.connection.close();
  await closeAllDbs();
});

/** Nothing of A in `text`; A's tenant name only where B named it itself (`tenantNamed`). */
function expectNothingOfA(text: string, opts: { tenantNamed?: boolean } = {}): void {
  for (const s of secretsOfA) expect(text, `leaks ${s.slice(0, 16)}… of tenant A`).not.toContain(s);
  if (!opts.tenantNamed) expect(text, 'names tenant A').not.toContain(A);
}

/** A promise's value or error, for the soft checks of findings that must not stop a test. */
const settle = <T>(p: Promise<T>): Promise<{ value: T } | { error: unknown }> =>
  p.then(
    (value) => ({ value }),
    (error: unknown) => ({ error }),
  );

/** `p` fails with a ConclaveError of `code` whose message matches `reason` and tells nothing of A. */
async function refused(
  p: Promise<unknown>,
  code: ErrorCode,
  reason: RegExp,
  opts: { tenantNamed?: boolean } = {},
): Promise<ConclaveError> {
  const outcome = await settle(p);
  if (!('error' in outcome)) {
    throw new Error(`expected ${code}, but it succeeded: ${JSON.stringify(outcome.value)?.slice(0, 400)}`);
  }
  const e = toConclaveError(outcome.error);
  expect(e, String(e)).toBeInstanceOf(ConclaveError);
  const err = e as ConclaveError;
  expect(err.code, err.message).toBe(code);
  expect(err.message).toMatch(reason);
  expect(err.message.length, 'a one-line message').toBeLessThan(400);
  expect(err.message).not.toContain('\n');
  expectNothingOfA(err.message, opts);
  return err;
}

/** How a settled call ended, in one line: what a failed check prints. */
function outcomeOf(o: { value: unknown } | { error: unknown }): string {
  if ('value' in o) return `accepted: ${JSON.stringify(o.value)?.slice(0, 300)}`;
  const e = toConclaveError(o.error);
  return e instanceof ConclaveError ? `refused: ${e.code}: ${e.message}` : `failed: ${String(e)}`;
}

const ghostWallet = `w-ghost-${run}`;
const unknownWalletOf = (walletId: string, tenant: string) =>
  new RegExp(`unknown wallet ${esc(walletId)} in tenant ${esc(tenant)}`);

/**
 * Under tenant B, A's wallet id is refused as UNKNOWN_WALLET, and word for word like a wallet id
 * that exists nowhere: B cannot even tell that A's wallet exists.
 */
async function unknownToB(call: (walletId: string) => Promise<unknown>): Promise<void> {
  const crossing = await refused(call(wA.walletId), 'UNKNOWN_WALLET', unknownWalletOf(wA.walletId, B));
  const ghost = await refused(call(ghostWallet), 'UNKNOWN_WALLET', unknownWalletOf(ghostWallet, B));
  expect(crossing.message.replaceAll(wA.walletId, 'W')).toBe(ghost.message.replaceAll(ghostWallet, 'W'));
}

/** An update sent straight to a sign request's workflow; the workflow's refusal as a ConclaveError. */
async function submitApproval(tenant: string, requestId: string, approval: SignedApproval) {
  try {
    return await temporal.workflow
      .getHandle(signWorkflowId(tenant, requestId))
      .executeUpdate<TransactionState, [SignedApproval]>('submitApproval', { args: [approval] });
  } catch (err) {
    const cause = (err as { cause?: unknown }).cause;
    if (cause instanceof ApplicationFailure) {
      throw new ConclaveError((cause.type ?? 'BAD_INPUT') as ErrorCode, cause.message);
    }
    throw err;
  }
}

/** A workflow started straight on the coordinator's task queue, as any Temporal client can. */
async function startRaw<T>(workflow: string, workflowId: string, args: unknown[]): Promise<T> {
  try {
    return (await temporal.workflow.execute(workflow, {
      taskQueue: coordinatorTaskQueue,
      workflowId,
      args,
    })) as T;
  } catch (err) {
    throw toConclaveError(err);
  }
}

async function publication(tenant: string, version: number): Promise<SignedPublication> {
  const policy = new PolicyStore(coordinatorDb);
  const d = (await policy.ruleSets.findOne({ _id: ruleSetDocId(tenant, version) }))!;
  const { version: _v, ...ruleSet } = d.ruleSet;
  return { tenant, rulesVersion: version, ruleSet, config: d.config, ...d.signature! };
}

describe('the client, as tenant B', () => {
  it("cannot read A's wallet or derive its keys, nor tell it from a wallet that does not exist", async () => {
    await unknownToB((w) => b.getWallet({ walletId: w, tenant: B }));
    await unknownToB((w) => b.deriveKey({ walletId: w, tenant: B, path: 'm/0' }));
    await unknownToB((w) => b.deriveKey({ walletId: w, tenant: B, network: 'devnet' }));
    // B reads its own wallet, which is not A's
    const own = await b.getWallet({ walletId: wB.walletId, tenant: B });
    expect(own).toMatchObject({ tenant: B, walletId: wB.walletId, publicKey: wB.publicKey });
    expect(own.publicKey).not.toBe(walletA.publicKey);
    expect(
      verifyIndependently('frost-ed25519', sigB.signature, Buffer.from(sigB.message, 'hex'), own.publicKey),
    ).toBe(true);
  });

  it("cannot sign with A's wallet id: refused as an unknown wallet, before any party is asked", async () => {
    await unknownToB((w) => b.sign({ tenant: B, walletId: w, message: message32(), tx: pay('1') }));
    const started = await b.startSign({
      tenant: B,
      walletId: wA.walletId,
      message: message32(),
      tx: pay('1'),
      requestId: `started-${run}`,
    });
    await refused(
      b.signResult({ requestId: started, tenant: B }),
      'UNKNOWN_WALLET',
      unknownWalletOf(wA.walletId, B),
    );
    // no party was asked: no nonce for B's request, nor any under B with A's key
    for (const p of ['p1', 'p2', 'p3']) {
      const st = await partyStore(p);
      const ceremony = new RegExp(`^${esc(signWorkflowId(B, started))}/`);
      for (const filter of [{ ceremonyId: ceremony }, { tenant: B, keyId: walletA.keyId }]) {
        expect(await st.nonces.countDocuments(filter), p).toBe(0);
        expect(await st.nonceSpends.countDocuments(filter), p).toBe(0);
      }
    }
  });

  it("cannot see, await, approve or reject A's sign request; a request id A used is B's own in B", async () => {
    const ghost = `ghost-req-${run}`;
    const noRequest = (id: string) => new RegExp(`^tenant ${esc(B)} has no sign request ${esc(id)}$`);
    const calls: ((id: string) => Promise<unknown>)[] = [
      (id) => b.transaction({ requestId: id, tenant: B }),
      (id) => b.signResult({ requestId: id, tenant: B }),
      (id) => b.approve({ requestId: id, tenant: B, key: keys.dave, role: 'risk' }),
      (id) => b.approve({ requestId: id, tenant: B, key: keys.aliceB, verdict: 'reject' }),
    ];
    for (const call of calls) {
      for (const id of [reqA, paidA]) {
        const crossing = await refused(call(id), 'BAD_INPUT', noRequest(id));
        const none = await refused(call(ghost), 'BAD_INPUT', noRequest(ghost));
        expect(crossing.message.replace(id, 'R')).toBe(none.message.replace(ghost, 'R'));
      }
    }
    // B signs under the request id of A's payment: a ceremony of B's own, never joined to A's
    const mine = await b.sign({
      tenant: B,
      walletId: wB.walletId,
      message: message32(),
      tx: pay('1'),
      requestId: paidA,
    });
    expect(mine.walletId).toBe(wB.walletId);
    expect(mine.signature).not.toBe(sigA.signature);
    expect(
      verifyIndependently('frost-ed25519', mine.signature, Buffer.from(mine.message, 'hex'), wB.publicKey),
    ).toBe(true);
    expect((await a.signResult({ requestId: paidA, tenant: A })).signature).toBe(sigA.signature);
  });

  it("reads only B's records from the audit log and chain, and only B's rule sets", async () => {
    // B's records on that wallet id are B's own refused attempts; A's keygen and payments are not there
    const log = await b.auditLog({ walletId: wA.walletId, tenant: B });
    for (const e of log) {
      expect(e.tenant).toBe(B);
      expect(e.workflowId.startsWith(`sign:${B}:`), e.workflowId).toBe(true);
      expect(e.outcome).toBe('failed');
    }
    expect(log.some((e) => e.ceremony === 'keygen')).toBe(false);
    expectNothingOfA(JSON.stringify(log));
    // a wallet id that exists nowhere has the same kind of records in B's log: B's own refusals
    for (const e of [...log, ...(await b.auditLog({ walletId: ghostWallet, tenant: B }))]) {
      expect(e).toMatchObject({ tenant: B, ceremony: 'sign', outcome: 'failed', code: 'UNKNOWN_WALLET' });
    }
    // what B did not see: A's own log of the wallet has its key generation and payment
    expect(before.log.map((e) => e.ceremony)).toEqual(expect.arrayContaining(['keygen', 'sign']));

    const chain = await b.auditChain({ tenant: B });
    expect(chain.tenant).toBe(B);
    expect(chain.entries.length).toBeGreaterThan(0);
    expect(chain.entries.every((e) => e.tenant === B)).toBe(true);
    expect(chain.checkpoints.every((c) => c.tenant === B)).toBe(true);
    expect(verifyAuditChain(B, chain.entries, chain.checkpoints, chain.coordinatorKey).ok).toBe(true);
    expectNothingOfA(JSON.stringify(chain.entries));

    const history = await b.rulesHistory({ tenant: B });
    expect(history.map((v) => [v.tenant, v.version])).toEqual([[B, 1]]);
    expectNothingOfA(JSON.stringify(history));
    // a rollback to a version only A has is refused, whether the client signs it or not
    await refused(pubB.publishRules({ rollbackTo: 2, tenant: B }), 'BAD_INPUT', /has no rule set version 2$/);
    await refused(anon.publishRules({ rollbackTo: 2, tenant: B }), 'BAD_INPUT', /has no rule set version 2$/);

    // a backtest replays B's recorded requests only: a draft that blocks everything changes each of them
    const freeze = JSON.stringify({
      version: 1,
      defaultOutcome: 'allow',
      rules: [
        {
          name: 'freeze',
          conditions: { all: [{ fact: 'asset', operator: 'equal', value: 'SOL' }] },
          event: { type: 'block', params: { reason: 'frozen' } },
        },
      ],
    });
    const bt = await b.backtestRules({ text: freeze, tenant: B });
    expect(bt.evaluated).toBeGreaterThan(0);
    expect(bt.changed).toHaveLength(bt.evaluated);
    for (const c of bt.changed) expect(c.workflowId.startsWith(`sign:${B}:`), c.workflowId).toBe(true);
    expectNothingOfA(JSON.stringify(bt));

    // B publishing its next version leaves A's rules as they were
    await pubB.publishRules({
      text: rulesText,
      config: { ...configB, escalationExpiresAfter: 1600 },
      tenant: B,
    });
    expect((await b.rulesHistory({ tenant: B })).map((v) => v.version)).toEqual([2, 1]);
    expect(await a.rulesHistory({ tenant: A })).toEqual(before.rules);
  });

  it("cannot rotate, reshare, recover, validate or back up A's wallet, nor stop A's scheduled rotation", async () => {
    await unknownToB((w) => b.rotate({ walletId: w, tenant: B }));
    await unknownToB((w) => b.reshare({ walletId: w, tenant: B, parties: ['p1', 'p2', 'p4'], threshold: 2 }));
    await unknownToB((w) => b.recover({ walletId: w, party: 'p3', tenant: B, helpers: ['p1', 'p2'] }));
    await unknownToB((w) => b.validateShares({ walletId: w, tenant: B }));
    await unknownToB((w) => b.exportBackups({ walletId: w, tenant: B }));

    // schedules are per tenant: B's unschedule does not find A's, and B's schedule rotates in B only
    const scheduleA = await a.scheduleRotation({ walletId: wA.walletId, every: '3650 days', tenant: A });
    let scheduleB: string | undefined;
    try {
      expect(await b.unscheduleRotation({ walletId: wA.walletId, tenant: B })).toBe(false);
      const described = await temporal.schedule.getHandle(scheduleA).describe();
      expect(described.scheduleId).toBe(rotationScheduleId(A, wA.walletId));
      scheduleB = await b.scheduleRotation({ walletId: wA.walletId, every: '3650 days', tenant: B });
      expect(scheduleB).toBe(rotationScheduleId(B, wA.walletId));
      const handle = temporal.schedule.getHandle(scheduleB);
      await handle.trigger();
      let workflowId: string | undefined;
      await waitFor(
        "B's scheduled rotation to start",
        async () => {
          const action = (await handle.describe()).info.recentActions.at(-1)?.action;
          workflowId = action?.type === 'startWorkflow' ? action.workflow.workflowId : undefined;
          return workflowId !== undefined;
        },
        60_000,
        200,
      );
      expect(workflowId!.startsWith(`reshare:${B}:${wA.walletId}:scheduled`)).toBe(true);
      await refused(
        temporal.workflow.getHandle(workflowId!).result(),
        'UNKNOWN_WALLET',
        unknownWalletOf(wA.walletId, B),
      );
    } finally {
      await a.unscheduleRotation({ walletId: wA.walletId, tenant: A });
      if (scheduleB) await b.unscheduleRotation({ walletId: wA.walletId, tenant: B });
    }

    // A's wallet: same version, never locked, every party still holds its share of version 1
    expect(await a.getWallet({ walletId: wA.walletId, tenant: A })).toEqual(before.wallet);
    const doc = await coordinatorDb
      .collection<{ _id: string; lockedBy?: string | null; lastPlannedVersion?: number }>('wallets')
      .findOne({ _id: walletDocId(A, wA.walletId) });
    expect(doc?.lockedBy ?? null).toBeNull();
    expect(doc?.lastPlannedVersion).toBeUndefined();
    for (const p of ['p1', 'p2', 'p3']) {
      const st = await partyStore(p);
      expect(await st.shares.findOne({ _id: shareDocId(A, walletA.keyId, 1) }), p).toMatchObject({
        tenant: A,
        walletId: wA.walletId,
      });
      expect(await st.pendingShares.countDocuments({ tenant: A }), p).toBe(0);
    }
  });

  it("naming tenant A does not help B's initiator keys: A's rules refuse them as UNAUTHORIZED", async () => {
    const asA = (client: ConclaveClient) =>
      client.sign({ tenant: A, walletId: wA.walletId, message: message32(), tx: pay('1') });
    await refused(asA(bOps), 'UNAUTHORIZED', new RegExp(`^ops is not an initiator of tenant ${esc(A)}$`), {
      tenantNamed: true,
    });
    // B's "backend" is not A's "backend": same id, another key
    await refused(
      asA(b),
      'UNAUTHORIZED',
      /^the request is signed with a key that is not backend's registered key$/,
      { tenantNamed: true },
    );
    await refused(asA(anon), 'UNAUTHORIZED', /accepts sign requests signed by its initiators only/, {
      tenantNamed: true,
    });
  });
});

describe('the CLI, as tenant B', () => {
  const asB = () => ({
    ...stackEnv(),
    CONCLAVE_KEY: keyFile('backendB'),
    CONCLAVE_ACTOR: 'mallory@tenant-b',
  });
  const asOps = () => ({ ...stackEnv(), CONCLAVE_KEY: keyFile('opsB'), CONCLAVE_ACTOR: 'ops@tenant-b' });

  /** Runs the commands a few at a time (each is a process with its own Temporal connection). */
  async function runAll(commands: { args: string[]; env: Record<string, string | undefined> }[]) {
    const out: Run[] = new Array<Run>(commands.length);
    let next = 0;
    await Promise.all(
      Array.from({ length: 4 }, async () => {
        while (next < commands.length) {
          const i = next++;
          out[i] = await conclave(commands[i]!.args, commands[i]!.env);
        }
      }),
    );
    return out;
  }

  /** A refused command: exit code 1; `{status: 'error', code}` with --json, one line on stderr without. */
  function expectRefusal(
    r: Run,
    json: boolean,
    code: string,
    reason: RegExp,
    what: string,
    tenantNamed: boolean,
  ) {
    expect(r.code, `${what}: ${r.stdout}${r.stderr}`).toBe(1);
    if (json) {
      const j = JSON.parse(r.stdout) as Record<string, unknown>;
      expect(j, what).toMatchObject({ status: 'error', code });
      expect(String(j.message), what).toMatch(reason);
    } else {
      expect(r.stdout, what).toBe('');
      expect(r.stderr.trim().split('\n'), what).toHaveLength(1);
      expect(r.stderr, what).toMatch(/^conclave: /);
      expect(r.stderr, what).toMatch(reason);
    }
    expectNothingOfA(r.stdout + r.stderr, { tenantNamed });
  }

  it("refuses B's reads, signatures, approvals and lifecycle commands on A's wallet and request", async () => {
    const txFile = join(dir, 'small-payment.json');
    writeFileSync(txFile, JSON.stringify(pay('1')));
    const w = wA.walletId;
    const unknown = unknownWalletOf(w, B);
    const noRequest = new RegExp(`tenant ${esc(B)} has no sign request ${esc(reqA)}`);
    type Case = { args: string[]; code: string; reason: RegExp; env?: Record<string, string | undefined> };
    // under tenant B, with B's initiator key
    const asTenantB: Case[] = [
      { args: ['wallet', '--wallet', w], code: 'UNKNOWN_WALLET', reason: unknown },
      { args: ['address', '--wallet', w, '--path', 'm/0'], code: 'UNKNOWN_WALLET', reason: unknown },
      {
        args: ['sign', '--wallet', w, '--message', message32(), '--tx', txFile],
        code: 'UNKNOWN_WALLET',
        reason: unknown,
      },
      { args: ['rotate', '--wallet', w], code: 'UNKNOWN_WALLET', reason: unknown },
      {
        args: ['reshare', '--wallet', w, '--threshold', '2', '--party-ids', 'p1,p2,p4'],
        code: 'UNKNOWN_WALLET',
        reason: unknown,
      },
      { args: ['recover', '--wallet', w, '--party', 'p3'], code: 'UNKNOWN_WALLET', reason: unknown },
      { args: ['share', 'validate', '--wallet', w], code: 'UNKNOWN_WALLET', reason: unknown },
      {
        args: ['backup', 'export', '--wallet', w, '--out', join(dir, 'backups')],
        code: 'UNKNOWN_WALLET',
        reason: unknown,
      },
      { args: ['tx', 'show', reqA], code: 'BAD_INPUT', reason: noRequest },
      {
        args: ['approve', reqA, '--as', 'dave', '--key', keyFile('dave'), '--role', 'risk'],
        code: 'BAD_INPUT',
        reason: noRequest,
      },
      {
        args: ['reject', reqA, '--as', 'alice', '--key', keyFile('aliceB')],
        code: 'BAD_INPUT',
        reason: noRequest,
      },
    ].map((c) => ({ ...c, args: [...c.args, '--tenant', B] }));
    // naming tenant A: B's approver and B's other initiator are refused by A's rules
    const namingA: Case[] = [
      {
        args: ['approve', reqA, '--as', 'dave', '--key', keyFile('dave'), '--role', 'risk', '--tenant', A],
        code: 'UNAUTHORIZED',
        reason: new RegExp(`approval refused: dave is not a registered approver of tenant ${esc(A)}`),
      },
      {
        args: ['sign', '--wallet', w, '--message', message32(), '--tx', txFile, '--tenant', A],
        code: 'UNAUTHORIZED',
        reason: /ops is not an initiator of tenant/,
        env: asOps(),
      },
    ];
    // every case with --json; a few also as a person reads them (one line on stderr)
    const plain = new Set(['wallet', 'sign', 'tx', 'approve']);
    const runs = [
      ...asTenantB.map((c) => ({ ...c, json: true, tenantNamed: false })),
      ...namingA.map((c) => ({ ...c, json: true, tenantNamed: true })),
      ...asTenantB
        .filter((c) => plain.has(c.args[0]!))
        .map((c) => ({ ...c, json: false, tenantNamed: false })),
      ...namingA.map((c) => ({ ...c, json: false, tenantNamed: true })),
    ];
    const results = await runAll(
      runs.map((c) => ({ args: c.json ? [...c.args, '--json'] : c.args, env: c.env ?? asB() })),
    );
    runs.forEach((c, i) =>
      expectRefusal(
        results[i]!,
        c.json,
        c.code,
        c.reason,
        `${c.args.slice(0, 2).join(' ')}${c.json ? ' --json' : ''}`,
        c.tenantNamed,
      ),
    );
    // no backup file of anything was written
    expect(existsSync(join(dir, 'backups'))).toBe(false);
  }, 300_000);

  it("lists only B's records and rules, and will not verify A's audit export as B's", async () => {
    const exportB = join(dir, `audit-b-${run}.json`);
    const [audit, history, verify, exported] = await runAll([
      { args: ['audit', '--wallet', wA.walletId, '--tenant', B, '--json'], env: asB() },
      { args: ['rules', 'history', '--tenant', B, '--json'], env: asB() },
      { args: ['audit', 'verify', '--tenant', B, '--json'], env: asB() },
      { args: ['audit', 'export', '--out', exportB, '--tenant', B], env: asB() },
    ]);
    for (const r of [audit!, history!, verify!, exported!]) {
      expect(r.code, r.stderr).toBe(0);
      expectNothingOfA(r.stdout + r.stderr);
    }
    const entries = (JSON.parse(audit!.stdout) as { entries: AuditEntry[] }).entries;
    expect(entries.every((e) => e.tenant === B && e.ceremony !== 'keygen')).toBe(true);
    const versions = (JSON.parse(history!.stdout) as { versions: RuleSetVersion[] }).versions;
    expect(versions.length).toBeGreaterThan(0);
    expect(versions.every((v) => v.tenant === B)).toBe(true);
    expect(JSON.parse(verify!.stdout)).toMatchObject({ ok: true, tenant: B });
    const file = JSON.parse(readFileSync(exportB, 'utf8')) as AuditExport;
    expect(file.tenant).toBe(B);
    expect(file.entries.every((e) => e.tenant === B)).toBe(true);
    expectNothingOfA(JSON.stringify(file));

    // A's export (its operator's file) given as B's: refused; relabelled as B's: broken at entry 1
    const chainA = await a.auditChain({ tenant: A });
    const fileA = join(dir, `audit-a-${run}.json`);
    const relabelled = join(dir, `audit-a-as-b-${run}.json`);
    writeFileSync(fileA, JSON.stringify(chainA));
    writeFileSync(relabelled, JSON.stringify({ ...chainA, tenant: B }));
    const [asB1, asB2] = await runAll([
      { args: ['audit', 'verify', '--file', fileA, '--tenant', B, '--json'], env: asB() },
      { args: ['audit', 'verify', '--file', relabelled, '--json'], env: asB() },
    ]);
    expect(asB1!.code).toBe(1);
    expect(JSON.parse(asB1!.stdout)).toMatchObject({
      status: 'error',
      code: 'BAD_INPUT',
      message: `${fileA} is tenant ${A}'s log, not ${B}'s`,
    });
    expect(asB2!.code).toBe(1);
    expect(JSON.parse(asB2!.stdout)).toMatchObject({
      ok: false,
      tenant: B,
      broken: { seq: 1, reason: `entry 1 belongs to tenant ${A}` },
    });
  });
});

describe('straight to Temporal, as tenant B', () => {
  it("approvals of B's approvers sent to A's escalated request are refused, and A's request is unchanged", async () => {
    const at = () => new Date().toISOString();
    const approvalOfA = (key: ActorSecret, change: object = {}) =>
      signApproval(key, {
        tenant: A,
        requestId: signWorkflowId(A, reqA),
        requestDigest: stateA.requestDigest!,
        rulesVersion: stateA.rulesVersion!,
        publicationDigest: stateA.publicationDigest!,
        verdict: 'approve',
        approver: key.id,
        role: 'risk',
        at: at(),
        ...change,
      });
    // carol approves B's request through B, which is hers to approve (B's positive control)
    const carolForB = signApproval(keys.carol, {
      tenant: B,
      requestId: signWorkflowId(B, reqB),
      requestDigest: stateB.requestDigest!,
      rulesVersion: stateB.rulesVersion!,
      publicationDigest: stateB.publicationDigest!,
      verdict: 'approve',
      approver: 'carol',
      role: 'risk',
      at: at(),
    });
    const accepted = await submitApproval(B, reqB, carolForB);
    expect(accepted.approvals).toEqual([expect.objectContaining({ approver: 'carol', role: 'risk' })]);

    const notApprover = new RegExp(
      `^approval refused: dave is not a registered approver of tenant ${esc(A)}$`,
    );
    const cases: [string, SignedApproval, RegExp][] = [
      ['dave (B only) approves', approvalOfA(keys.dave), notApprover],
      ['dave (B only) rejects', approvalOfA(keys.dave, { verdict: 'reject' }), notApprover],
      ['dave as treasury', approvalOfA(keys.dave, { role: 'treasury' }), notApprover],
      ["dave's approval about B's tenant", approvalOfA(keys.dave, { tenant: B }), notApprover],
      [
        "B's alice (A's alice's name, B's key)",
        approvalOfA(keys.aliceB),
        /^approval refused: the signature of alice's approval does not verify with their registered key$/,
      ],
      [
        "B's alice rejects",
        approvalOfA(keys.aliceB, { verdict: 'reject' }),
        /^approval refused: the signature of alice's approval does not verify with their registered key$/,
      ],
      [
        "carol's approval of B's request, replayed",
        carolForB,
        /^approval refused: the approval is for another request$/,
      ],
      [
        "carol's approval of B's request, readdressed (signature no longer verifies)",
        {
          ...carolForB,
          statement: { ...carolForB.statement, tenant: A, requestId: signWorkflowId(A, reqA) },
        },
        /^approval refused: the signature of carol's approval does not verify with their registered key$/,
      ],
    ];
    for (const [what, approval, reason] of cases) {
      const e = await refused(submitApproval(A, reqA, approval), 'UNAUTHORIZED', reason, {
        tenantNamed: true,
      });
      expect(e.message, what).toMatch(reason);
    }
    const now = await a.transaction({ requestId: reqA, tenant: A });
    expect(now.state).toBe('awaiting-approval');
    expect(now.approvals).toEqual([]);
    expect(now.requestDigest).toBe(stateA.requestDigest);

    // and dave's key does work where it is registered: B's request is approved and signed
    await b.approve({ requestId: reqB, tenant: B, key: keys.dave, role: 'treasury' });
    const signedB = await b.signResult({ requestId: reqB, tenant: B });
    expect(
      verifyIndependently(
        'frost-ed25519',
        signedB.signature,
        Buffer.from(signedB.message, 'hex'),
        wB.publicKey,
      ),
    ).toBe(true);
  });

  it("sign requests for A's wallet signed with B's initiator keys are refused as UNAUTHORIZED", async () => {
    const message = message32();
    let n = 0;
    const attempt = (
      statementOver: object,
      signer: ActorSecret | undefined,
      reqOver: Partial<SignRequest> = {},
    ) => {
      const workflowId = signWorkflowId(A, `raw-${run}-${n++}`);
      const statement = signStatement({
        tenant: A,
        walletId: wA.walletId,
        message,
        path: 'm',
        tx: pay('1'),
        requestId: workflowId,
        initiator: 'ops',
        createdAt: new Date().toISOString(),
        ...statementOver,
      });
      const req: SignRequest = {
        tenant: A,
        walletId: wA.walletId,
        message,
        tx: pay('1'),
        requestedBy: 'mallory@tenant-b',
        ...(signer ? { signed: signRequest(signer, statement) } : {}),
        ...reqOver,
      };
      return startRaw<SignResult>('signWorkflow', workflowId, [req]);
    };
    const opts = { tenantNamed: true };
    await refused(
      attempt({}, keys.opsB),
      'UNAUTHORIZED',
      new RegExp(`^ops is not an initiator of tenant ${esc(A)}$`),
      opts,
    );
    await refused(
      attempt({ initiator: 'backend' }, keys.backendB),
      'UNAUTHORIZED',
      /^the request is signed with a key that is not backend's registered key$/,
      opts,
    );
    await refused(
      attempt({ initiator: 'backend' }, keys.opsB),
      'UNAUTHORIZED',
      /^the request is signed with a key that is not backend's registered key$/,
      opts,
    );
    // a genuine request of B (for B's wallet, or naming tenant B) attached to a request for A's wallet
    await refused(
      attempt({ tenant: B, walletId: wB.walletId, initiator: 'backend' }, keys.backendB),
      'UNAUTHORIZED',
      /^the signed statement does not describe this request$/,
      opts,
    );
    await refused(
      attempt({ tenant: B, initiator: 'backend' }, keys.backendB),
      'UNAUTHORIZED',
      /^the signed statement does not describe this request$/,
      opts,
    );
    await refused(
      attempt({}, undefined),
      'UNAUTHORIZED',
      /accepts sign requests signed by its initiators only/,
      opts,
    );
    // A's request id is taken by A's running request: it cannot be started again by anyone
    const hijack = temporal.workflow.start('signWorkflow', {
      taskQueue: coordinatorTaskQueue,
      workflowId: signWorkflowId(A, reqA),
      args: [{ tenant: B, walletId: wB.walletId, message, tx: pay('1') } satisfies SignRequest],
    });
    await expect(hijack).rejects.toBeInstanceOf(WorkflowExecutionAlreadyStartedError);
    // none of them reached a party
    for (const p of ['p1', 'p2', 'p3']) {
      const st = await partyStore(p);
      const ours = new RegExp(`^sign:${esc(A)}:raw-${run}-`);
      expect(await st.nonces.countDocuments({ ceremonyId: ours }), p).toBe(0);
      expect(await st.nonceSpends.countDocuments({ ceremonyId: ours }), p).toBe(0);
    }
  });

  it('ids forged with the separators of document and workflow ids are refused as BAD_INPUT', async () => {
    const w = wA.walletId;
    const forgedTenants = [`${A}|x`, `${A}|${w}`, `${B}|${A}`, `${A}:x`, `sign:${A}`, `${A}/x`];
    const forgedWallets = [`${A}|${w}`, `${w}|v1`, `${B}|${w}`, `${A}:${w}`, `../${w}`];
    const invalid = (kind: string) =>
      new RegExp(`^invalid ${kind} ".*" \\(letters, digits, \\. _ -; 1-128\\)$`);
    const opts = { tenantNamed: true }; // the message repeats what B gave, which names A
    const m = () => message32();
    const byTenant: ((t: string) => Promise<unknown>)[] = [
      (t) => b.getWallet({ walletId: w, tenant: t }),
      (t) => b.deriveKey({ walletId: w, tenant: t }),
      (t) => b.auditLog({ walletId: w, tenant: t }),
      (t) => b.auditChain({ tenant: t }),
      (t) => b.rulesHistory({ tenant: t }),
      (t) => b.transaction({ requestId: reqA, tenant: t }),
      (t) => b.signResult({ requestId: paidA, tenant: t }),
      (t) => b.sign({ tenant: t, walletId: w, message: m(), tx: pay('1') }),
      (t) => b.rotate({ walletId: w, tenant: t }),
      (t) => b.createWallet({ tenant: t, walletId: w, threshold: 2, parties: 3 }),
      (t) => b.scheduleRotation({ walletId: w, every: '3650 days', tenant: t }),
      (t) => pubB.publishRules({ text: rulesText, config: configB, tenant: t }),
    ];
    const byWallet: ((fw: string) => Promise<unknown>)[] = [
      (fw) => b.getWallet({ walletId: fw, tenant: B }),
      (fw) => b.auditLog({ walletId: fw, tenant: B }),
      (fw) => b.sign({ tenant: B, walletId: fw, message: m(), tx: pay('1') }),
      (fw) => b.recover({ walletId: fw, party: 'p3', tenant: B }),
      (fw) => b.exportBackups({ walletId: fw, tenant: B }),
      (fw) => b.createWallet({ tenant: B, walletId: fw, threshold: 2, parties: 3 }),
    ];
    const byRequest: ((id: string) => Promise<unknown>)[] = [
      (id) => b.transaction({ requestId: id, tenant: B }),
      (id) => b.sign({ tenant: B, walletId: wB.walletId, message: m(), tx: pay('1'), requestId: id }),
    ];
    for (const t of forgedTenants) {
      for (const call of byTenant) await refused(call(t), 'BAD_INPUT', invalid('tenant'), opts);
    }
    for (const fw of forgedWallets) {
      for (const call of byWallet) await refused(call(fw), 'BAD_INPUT', invalid('wallet id'), opts);
    }
    for (const id of [`${A}:${reqA}`, `${reqA}|x`, `x/${reqA}`]) {
      for (const call of byRequest) await refused(call(id), 'BAD_INPUT', invalid('request id'), opts);
    }

    // the same, started straight on Temporal past the client's checks: the coordinator refuses them
    let n = 0;
    // ids of the client's shape (`<kind>:<tenant>:…`), so what is refused is the forged field itself
    const raw = (workflow: string, args: unknown[]) => {
      const first = args[0];
      const t = typeof first === 'string' ? first : (first as { tenant: string }).tenant;
      return startRaw(workflow, `forged:${t}:${run}-${n++}`, args);
    };
    const keygen = (tenant: string, walletId: string): KeygenRequest => ({
      tenant,
      walletId,
      curve: 'ed25519',
      scheme: 'frost-ed25519',
      threshold: 2,
      parties: ['p1', 'p2', 'p3'],
      requestedBy: 'mallory@tenant-b',
    });
    const by = 'mallory@tenant-b';
    const rawByTenant: ((t: string) => Promise<unknown>)[] = [
      (t) => raw('getWalletWorkflow', [t, w]),
      (t) => raw('auditLogWorkflow', [t, w]),
      (t) => raw('auditChainWorkflow', [t, 0]),
      (t) => raw('rulesHistoryWorkflow', [t]),
      (t) => raw('ruleSetWorkflow', [t, 1]),
      (t) => raw('keygenWorkflow', [keygen(t, `w-${run}`)]),
      (t) =>
        raw('signWorkflow', [{ tenant: t, walletId: w, message: m(), tx: pay('1') } satisfies SignRequest]),
      (t) => raw('reshareWorkflow', [{ tenant: t, walletId: w, requestedBy: by } satisfies ReshareRequest]),
      (t) => raw('backupWorkflow', [{ tenant: t, walletId: w, requestedBy: by }]),
    ];
    const rawByWallet: ((fw: string) => Promise<unknown>)[] = [
      (fw) => raw('getWalletWorkflow', [B, fw]),
      (fw) => raw('auditLogWorkflow', [B, fw]),
      (fw) => raw('keygenWorkflow', [keygen(B, fw)]),
      (fw) => raw('reshareWorkflow', [{ tenant: B, walletId: fw, requestedBy: by } satisfies ReshareRequest]),
      (fw) =>
        raw('recoverWorkflow', [
          { tenant: B, walletId: fw, party: 'p3', requestedBy: by } satisfies RecoverRequest,
        ]),
      (fw) => raw('validateWorkflow', [{ tenant: B, walletId: fw, requestedBy: by }]),
    ];
    for (const t of forgedTenants.slice(0, 3)) {
      for (const call of rawByTenant) await refused(call(t), 'BAD_INPUT', invalid('tenant'), opts);
    }
    for (const fw of forgedWallets.slice(0, 3)) {
      for (const call of rawByWallet) await refused(call(fw), 'BAD_INPUT', invalid('wallet id'), opts);
    }
    // nothing was created under a forged id, and none of it resolved to A's documents
    const wallets = coordinatorDb.collection<{ _id: string; tenant: string }>('wallets');
    for (const t of forgedTenants) expect(await wallets.countDocuments({ tenant: t })).toBe(0);
    for (const fw of forgedWallets) {
      expect(await wallets.countDocuments({ _id: walletDocId(B, fw) })).toBe(0);
      expect(
        await coordinatorDb
          .collection<{ _id: string }>('wallet_versions')
          .countDocuments({ _id: walletVersionDocId(B, fw, 1) }),
      ).toBe(0);
    }
  });

  it("a workflow started under one of A's workflow ids for a request of B is refused, and never passes for A's", async () => {
    // Any client can start a workflow under any id. One started under A's keygen or sign id but
    // carrying B's request must not run, or A's client, joining it under that id, takes B's key or
    // signature for A's.
    const squatRequest = `squat-${run}`;
    const keygenB: KeygenRequest = {
      tenant: B,
      walletId: squatWallet,
      curve: 'ed25519',
      scheme: 'frost-ed25519',
      threshold: 2,
      parties: ['p1', 'p2', 'p3'],
      requestedBy: 'mallory@tenant-b',
    };
    const squatKeygen = await settle(
      startRaw<KeygenResult>('keygenWorkflow', `keygen:${A}:${squatWallet}`, [keygenB]),
    );
    expect
      .soft(outcomeOf(squatKeygen), `keygen:${A}:${squatWallet} ran tenant B's key generation`)
      .toMatch(/^refused: BAD_INPUT: /);

    const workflowId = signWorkflowId(A, squatRequest);
    const message = message32();
    const signB: SignRequest = {
      tenant: B,
      walletId: wB.walletId,
      message,
      tx: pay('1'),
      requestedBy: 'mallory@tenant-b',
      signed: signRequest(
        keys.backendB,
        signStatement({
          tenant: B,
          walletId: wB.walletId,
          message,
          path: 'm',
          tx: pay('1'),
          requestId: workflowId,
          initiator: 'backend',
          createdAt: new Date().toISOString(),
        }),
      ),
    };
    const squatSign = await settle(startRaw<SignResult>('signWorkflow', workflowId, [signB]));
    expect
      .soft(outcomeOf(squatSign), `${workflowId} ran tenant B's sign request`)
      .toMatch(/^refused: BAD_INPUT: /);

    // What A's client makes of those ids: never B's wallet, key, request or signature as A's.
    const created = await settle(
      a.createWallet({ tenant: A, walletId: squatWallet, threshold: 2, parties: 3 }),
    );
    if ('value' in created) {
      const mine = await a.getWallet({ walletId: squatWallet, tenant: A }).catch((e: unknown) => e);
      expect
        .soft(mine, `A's createWallet(${squatWallet}) returned a key that is no wallet of A's`)
        .toMatchObject({ tenant: A, publicKey: created.value.publicKey });
    }
    const shown = await a.transaction({ requestId: squatRequest, tenant: A }).catch((e: unknown) => e);
    if (!(shown instanceof Error)) {
      expect
        .soft((shown as TransactionState).tenant, `A's tx show ${squatRequest} shows tenant B's request`)
        .toBe(A);
    }
    const result = await a.signResult({ requestId: squatRequest, tenant: A }).catch((e: unknown) => e);
    if (!(result instanceof Error)) {
      expect(
        (result as SignResult).walletId,
        `A's signResult(${squatRequest}) returns a signature by tenant B's wallet`,
      ).toBe(wA.walletId);
    }
  });

  it("B's publisher key cannot publish another tenant's rules, so B's initiators never sign with its wallet", async () => {
    // V is a tenant like most: its rules list its initiator and are signed by its publisher, and
    // no party's operator has pinned V's publisher (gating is opt-in).
    const V = `iso-v-${run}`;
    const v = await connectAs('backendV', 'payments@tenant-v');
    const pubV = await connectAs('publisherV', 'risk@tenant-v');
    try {
      const wV = await v.createWallet({ tenant: V, threshold: 2, parties: 3 });
      const configV = {
        prices: { SOL: '150' },
        initiators: [actor('backendV')],
        escalationExpiresAfter: 600,
      };
      await pubV.publishRules({ text: rulesText, config: configV, tenant: V });
      const historyV = await v.rulesHistory({ tenant: V });
      const openRules = JSON.stringify({ version: 1, defaultOutcome: 'allow', rules: [] });
      const takeover = { prices: { SOL: '150' }, initiators: [actor('opsB')], escalationExpiresAfter: 600 };

      const byB = await settle(pubB.publishRules({ text: openRules, config: takeover, tenant: V }));
      expect
        .soft(outcomeOf(byB), "B's publisher key published tenant V's rules")
        .toMatch(/^refused: UNAUTHORIZED: /);
      const byNobody = await settle(anon.publishRules({ text: openRules, config: takeover, tenant: V }));
      expect
        .soft(outcomeOf(byNobody), "an unsigned publication replaced tenant V's rules")
        .toMatch(/^refused: UNAUTHORIZED: /);
      expect.soft(await v.rulesHistory({ tenant: V }), "tenant V's rule history changed").toEqual(historyV);

      // the consequence that matters: B's initiator signs a payment with V's wallet
      await refused(
        bOps.sign({ tenant: V, walletId: wV.walletId, message: message32(), tx: pay('1') }),
        'UNAUTHORIZED',
        /ops is not an initiator of tenant/,
        { tenantNamed: true },
      );
    } finally {
      await v.close();
      await pubV.close();
    }
  });

  it("for a tenant its parties gate, B's publication gets B no signature, and does not lock the tenant out", async () => {
    // G is gated: p1..p3's operators trust G's publisher (its key) for G.
    const G = `iso-g-${run}`;
    const g = await connectAs('backendG', 'payments@tenant-g');
    const pubG = await connectAs('publisherG', 'risk@tenant-g');
    try {
      const wG = await g.createWallet({ tenant: G, threshold: 2, parties: 3 });
      const trusted = await Promise.all(
        ['p1', 'p2', 'p3'].map((p) =>
          conclave([
            'party',
            'trust',
            '--party',
            p,
            '--tenant',
            G,
            '--publisher',
            `risk-lead=${keys.publisherG.publicKey}`,
          ]),
        ),
      );
      for (const r of trusted) expect(r.code, r.stderr).toBe(0);
      const configG = {
        prices: { SOL: '150' },
        initiators: [actor('backendG')],
        escalationExpiresAfter: 600,
      };
      await pubG.publishRules({ text: rulesText, config: configG, tenant: G });
      const historyG = await g.rulesHistory({ tenant: G });
      const openRules = JSON.stringify({ version: 1, defaultOutcome: 'allow', rules: [] });
      const takeover = { prices: { SOL: '150' }, initiators: [actor('opsB')], escalationExpiresAfter: 600 };

      const byB = await settle(pubB.publishRules({ text: openRules, config: takeover, tenant: G }));
      expect
        .soft(outcomeOf(byB), "B's publisher key published tenant G's rules")
        .toMatch(/^refused: UNAUTHORIZED: /);
      expect.soft(await g.rulesHistory({ tenant: G }), "tenant G's rule history changed").toEqual(historyG);

      // the parties' gate holds: B's initiator gets no signature with G's wallet, whoever refuses
      await refused(
        bOps.sign({ tenant: G, walletId: wG.walletId, message: message32(), tx: pay('1') }),
        'UNAUTHORIZED',
        /^ops is not an initiator of tenant .*|^the rule set was published by risk-lead, not by a publisher this party trusts$/,
        { tenantNamed: true },
      );
      // and G's own initiator still signs under G's own rules
      const own = await settle(
        g.sign({ tenant: G, walletId: wG.walletId, message: message32(), tx: pay('1') }),
      );
      expect(
        outcomeOf(own),
        "G's own initiator can no longer sign: the coordinator judges it under B's rules",
      ).toMatch(/^accepted: {"status":"signed"/);
    } finally {
      await g.close();
      await pubG.close();
    }
  });
});

describe("the parties' rounds, called by a compromised coordinator", () => {
  it("no party signs with A's key under another tenant, or for A under B's rules, requests or approvals", async () => {
    const pubA2 = await publication(A, 2);
    const pubB1 = await publication(B, 1);
    const requestId = signWorkflowId(A, `intercepted-${run}`);
    const message = message32();
    const statement = (over: object = {}) =>
      signStatement({
        tenant: A,
        walletId: wA.walletId,
        message,
        path: 'm',
        tx: pay('100'),
        requestId,
        initiator: 'backend',
        createdAt: new Date().toISOString(),
        ...over,
      });
    const genuineA = signRequest(keys.backendA, statement());
    const approvalOfA = (key: ActorSecret, role: string, over: object = {}) =>
      signApproval(key, {
        tenant: A,
        requestId,
        requestDigest: requestDigest(genuineA.statement),
        rulesVersion: pubA2.rulesVersion,
        publicationDigest: publicationDigest(pubA2),
        verdict: 'approve',
        approver: key.id,
        role,
        at: new Date().toISOString(),
        ...over,
      });
    const carolForB = signApproval(keys.carol, {
      tenant: B,
      requestId: signWorkflowId(B, reqB),
      requestDigest: stateB.requestDigest!,
      rulesVersion: stateB.rulesVersion!,
      publicationDigest: stateB.publicationDigest!,
      verdict: 'approve',
      approver: 'carol',
      role: 'risk',
      at: new Date().toISOString(),
    });
    let n = 0;
    const ctx = (over: Partial<SignContext>, auth?: SignContext['authorization']): SignContext => ({
      tenant: A,
      ceremonyId: `${requestId}/rogue-${n++}`,
      walletId: wA.walletId,
      keyId: walletA.keyId,
      version: walletA.version,
      message,
      signers: ['p1', 'p2'],
      path: 'm',
      ...(auth ? { authorization: auth } : {}),
      ...over,
    });
    const holdsNone = (walletId: string, tenant: string) =>
      new RegExp(
        `^UNKNOWN_WALLET: p\\d holds no active share of wallet ${esc(walletId)} \\(${esc(tenant)}\\)$`,
      );
    const signedBy = (key: ActorSecret, over: object = {}): SignedRequest =>
      signRequest(key, statement(over));
    const cases: [string, SignContext, RegExp][] = [
      ["A's key and wallet under tenant B", ctx({ tenant: B }), holdsNone(wA.walletId, B)],
      [
        "A's key under B's wallet in tenant B",
        ctx({ tenant: B, walletId: wB.walletId }),
        holdsNone(wB.walletId, B),
      ],
      ["A's key for B's wallet id in tenant A", ctx({ walletId: wB.walletId }), holdsNone(wB.walletId, A)],
      ['a forged tenant A|x', ctx({ tenant: `${A}|x` }), holdsNone(wA.walletId, `${A}|x`)],
      ['a forged wallet id', ctx({ walletId: `${wA.walletId}|x` }), holdsNone(`${wA.walletId}|x`, A)],
      ['a forged key id', ctx({ keyId: `${walletA.keyId}|v1` }), holdsNone(wA.walletId, A)],
      [
        "B's rules and B's signed request",
        ctx({}, { request: signedBy(keys.backendB, { tenant: B }), publication: pubB1, approvals: [] }),
        new RegExp(`^UNAUTHORIZED: the rule set is tenant ${esc(B)}'s, not ${esc(A)}'s$`),
      ],
      [
        "B's rules relabelled as A's (same publisher id, B's key)",
        ctx({}, { request: genuineA, publication: { ...pubB1, tenant: A }, approvals: [] }),
        /^UNAUTHORIZED: the rule set was published by risk-lead, not by a publisher this party trusts$/,
      ],
      [
        "A's rules, a request signed by B's ops",
        ctx({}, { request: signedBy(keys.opsB, { initiator: 'ops' }), publication: pubA2, approvals: [] }),
        new RegExp(`^UNAUTHORIZED: ops is not an initiator of tenant ${esc(A)}$`),
      ],
      [
        "A's rules, a request signed by B's backend",
        ctx({}, { request: signedBy(keys.backendB), publication: pubA2, approvals: [] }),
        /^UNAUTHORIZED: the request is signed with a key that is not backend's registered key$/,
      ],
      [
        "A's request approved by dave (B only)",
        ctx({}, { request: genuineA, publication: pubA2, approvals: [approvalOfA(keys.dave, 'risk')] }),
        new RegExp(
          `^APPROVAL_REQUIRED: approval refused: dave is not a registered approver of tenant ${esc(A)}$`,
        ),
      ],
      [
        "A's request approved by B's alice",
        ctx({}, { request: genuineA, publication: pubA2, approvals: [approvalOfA(keys.aliceB, 'risk')] }),
        /^APPROVAL_REQUIRED: approval refused: the signature of alice's approval does not verify with their registered key$/,
      ],
      [
        "A's request with carol's approval of B's request",
        ctx({}, { request: genuineA, publication: pubA2, approvals: [carolForB] }),
        /^APPROVAL_REQUIRED: approval refused: the approval is for another request$/,
      ],
    ];

    try {
      Runtime.install({ logger: new DefaultLogger('ERROR') });
    } catch {
      // a runtime is already installed in this process
    }
    const config = loadConfig(stackEnv());
    const dataConverter = workerDataConverter(config.payloadKey);
    const connection = await NativeConnection.connect({ address: config.temporal.address });
    const queue = `rogue-isolation-${run}`;
    const worker = await Worker.create({
      ...(dataConverter ? { dataConverter } : {}),
      connection,
      namespace: config.temporal.namespace,
      taskQueue: queue,
      workflowsPath: fileURLToPath(new URL('./rogue/workflows.ts', import.meta.url)),
    });
    type Outcome = { shares?: Envelope[]; refused?: string[] };
    let m = 0;
    const attempt = (c: SignContext) =>
      temporal.workflow.execute<(c: SignContext) => Promise<Outcome>>('rogueSignWorkflow', {
        taskQueue: queue,
        workflowId: `rogue-isolation-${run}-${m++}`,
        args: [c],
      });
    try {
      await worker.runUntil(async () => {
        for (const [what, c, reason] of cases) {
          const out = await attempt(c);
          expect(out.shares, what).toBeUndefined();
          expect(out.refused, what).toHaveLength(2); // both signers, each on its own
          for (const r of out.refused!) {
            expect(r, what).toMatch(reason);
            expectNothingOfA(r, { tenantNamed: true });
          }
        }
        // positive control: the same path signs for B with B's own key (B is not gated)
        const control = await attempt({
          tenant: B,
          ceremonyId: `${signWorkflowId(B, `control-${run}`)}/rogue-control`,
          walletId: wB.walletId,
          keyId: walletB.keyId,
          version: walletB.version,
          message: message32(),
          signers: ['p1', 'p2'],
          path: 'm',
        });
        expect(control.refused).toBeUndefined();
        expect(control.shares).toHaveLength(2);
      });
    } finally {
      await connection.close();
    }
    // no party drew a nonce for any of the refused rounds
    for (const p of ['p1', 'p2']) {
      const st = await partyStore(p);
      const ours = new RegExp(`^${esc(requestId)}/rogue-`);
      expect(await st.nonces.countDocuments({ ceremonyId: ours }), p).toBe(0);
      expect(await st.nonceSpends.countDocuments({ ceremonyId: ours }), p).toBe(0);
    }
  });
});

describe('tenant A, afterwards', () => {
  it('has the same wallet, shares, rules and pending request, only refusals in its chain, and still signs', async () => {
    expect(await a.getWallet({ walletId: wA.walletId, tenant: A })).toEqual(before.wallet);
    expect(await a.rulesHistory({ tenant: A })).toEqual(before.rules);
    for (const p of ['p1', 'p2', 'p3']) {
      const st = await partyStore(p);
      expect(await st.shares.countDocuments({ _id: shareDocId(A, walletA.keyId, 1) }), p).toBe(1);
      expect(await st.shares.countDocuments({ _id: shareDocId(B, walletA.keyId, 1) }), p).toBe(0);
      expect(await st.pendingShares.countDocuments({ tenant: A }), p).toBe(0);
    }
    // no wallet record of A's id came to exist in tenant B
    expect(
      await coordinatorDb
        .collection<{ _id: string }>('wallets')
        .countDocuments({ _id: walletDocId(B, wA.walletId) }),
    ).toBe(0);
    const pending = await a.transaction({ requestId: reqA, tenant: A });
    expect(pending).toMatchObject({
      state: 'awaiting-approval',
      approvals: [],
      requestDigest: stateA.requestDigest,
    });

    // A's chain: what it had, then only the refusals of attempts that named tenant A
    const chain = await a.auditChain({ tenant: A });
    expect(verifyAuditChain(A, chain.entries, chain.checkpoints, chain.coordinatorKey).ok).toBe(true);
    expect(chain.entries.slice(0, before.chain.length)).toEqual(before.chain);
    // (A's own key generation of the id B tried to squat is A's, once squatting is refused)
    const added = chain.entries
      .slice(before.chain.length)
      .filter((e) => !(e.ceremony === 'keygen' && e.walletId === squatWallet && e.outcome === 'completed'));
    for (const e of added) {
      expect(e, JSON.stringify(e)).toMatchObject({ tenant: A, outcome: 'failed', code: 'UNAUTHORIZED' });
      expect(['sign', 'approval']).toContain(e.ceremony);
      expect(String(e.requestedBy)).not.toMatch(/@tenant-a$/);
    }
    expect(added.map((e) => e.ceremony)).toEqual(expect.arrayContaining(['sign', 'approval']));

    // A's own approvers still approve A's request, and A's wallet signs it
    await a.approve({ requestId: reqA, tenant: A, key: keys.aliceA, role: 'risk' });
    await a.approve({ requestId: reqA, tenant: A, key: keys.bobA, role: 'treasury' });
    const signed = await a.signResult({ requestId: reqA, tenant: A });
    expect(signed.message).toBe(msgA);
    expect(
      verifyIndependently('frost-ed25519', signed.signature, Buffer.from(msgA, 'hex'), wA.publicKey),
    ).toBe(true);
    expect(signed.policy?.approvals).toEqual([
      { approver: 'alice', role: 'risk' },
      { approver: 'bob', role: 'treasury' },
    ]);
  });
});
