/**
 * The chaos drill: a stream of key generations and signings, several in flight, while a chaos
 * loop kills (SIGKILL) and restarts party workers, the coordinator, FerretDB and the Temporal dev
 * server one at a time. Afterwards every ceremony must settle, every signature must verify with
 * OpenSSL, every party of every new wallet must still hold its share (and sign with it), and no
 * nonce may appear twice in any party's database.
 *
 * Beside it, in a governed tenant (a governance policy every party's operator trusts: one admin
 * approves a rotation, a reshare or a recovery), share-change lanes rotate, reshare (2-of-3 to
 * 3-of-4 and back) and recover a party (which keeps its keys) of that tenant's wallets, each
 * started with a known request id and approved by the drill's admin as soon as it waits (through
 * outages). After each, the wallet signs with a quorum of its committee then; at the end every
 * party of each governed wallet's committee holds the current version active, no party holds a
 * pending share of it, and every such wallet signs with every party.
 *
 * Clients are not given special treatment: if a client call fails with something other than a
 * typed ConclaveError (a transport error: it did not ride through a restart), that is counted,
 * and the drill then looks the ceremony up by its workflow id (its idempotency key) — a request
 * that never reached Temporal is sent again, one that did is awaited.
 */
import { clientDataConverter } from '../codec/payload-codec.js';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, Connection, WorkflowFailedError } from '@temporalio/client';
import { WorkflowNotFoundError } from '@temporalio/common';
import type { KeygenResult } from '../ceremony/keygen/contracts.js';
import type { RecoverResult } from '../ceremony/recover/contracts.js';
import type { ReshareResult } from '../ceremony/reshare/contracts.js';
import {
  batchDigest,
  noncePoolId,
  type SignedItem,
  type SignResult,
  type TransactionState,
} from '../ceremony/sign/contracts.js';
import type { WalletInfo } from '../ceremony/contracts.js';
import { ConclaveClient, toConclaveError, type BatchSignResult } from '../client/index.js';
import { loadConfig, type Env } from '../config.js';
import { ConclaveError, CulpritError } from '../errors.js';
import { trustPublishers } from '../party/admin.js';
import { generateActorKey, type ActorSecret, type GovernancePolicy } from '../policy/index.js';
import { chaosLoop, chaosKinds, type ChaosKind, type ChaosLoopResult } from '../stack/chaos.js';
import { closeAllDbs } from '../store/mongo.js';
import { shareDocId, type PartyStore } from '../store/party-store.js';
import {
  coveringSignerSets,
  findMissingShares,
  nonceReuseCount,
  opensslVerifyEd25519,
  partyStores,
  scanNonces,
  type MissingShare,
  type NonceReport,
} from './checks.js';

export interface ChaosDrillOptions {
  env: Env;
  /** Length of the ceremony stream; it runs longer if not every kind of kill has happened yet. */
  durationS: number;
  quick?: boolean;
  /** Ceremonies in flight at once (default 4). */
  concurrency?: number;
  /** After the stream, how long ceremonies get to settle (default 180 s). */
  settleTimeoutMs?: number;
  /** Governed share changes in flight at once, beside the ceremonies (default 3; 0: none). */
  shareChangeLanes?: number;
  random?: () => number;
  log?: (line: string) => void;
  /** Stops the chaos loop at once (tear-down on Ctrl-C). */
  signal?: AbortSignal;
}

type Outcome = 'pending' | 'completed' | 'aborted';

/** The share changes of the stream, each in the governed tenant. */
export type ShareChangeKind = 'rotation' | 'reshare' | 'recovery';
export const shareChangeKinds: readonly ShareChangeKind[] = ['rotation', 'reshare', 'recovery'];
export type CeremonyKind = 'keygen' | 'sign' | ShareChangeKind;

export interface CeremonyRecord {
  id: string;
  kind: CeremonyKind;
  phase: 'setup' | 'stream' | 'final';
  tenant: string;
  walletId: string;
  threshold?: number;
  parties?: string[];
  signers?: string[];
  message?: string;
  publicKey?: string;
  startedAt: number;
  ms?: number;
  outcome: Outcome;
  code?: string;
  culprit?: string;
  reason?: string;
  signature?: string;
  signatureValid?: boolean;
  /** Signing: how it was asked: one message (from the wallet's nonce pool when it has one), or a batch. */
  mode?: 'single' | 'pool' | 'batch';
  /** Errors other than typed ConclaveErrors the client call gave (it did not ride through). */
  clientErrors: string[];
  /** For ceremonies not settled by the deadline: what Temporal says about them. */
  stuckState?: string;
  /** Share changes: the wallet's version before, and after (what it is at once settled). */
  fromVersion?: number;
  toVersion?: number;
  /** Recoveries: the party whose share is rebuilt (it keeps its keys). */
  lost?: string;
  /** Share changes: the request waited for approval, with a statement of this action and wallet. */
  asked?: boolean;
  /** Share changes: the drill's admin's approval is on the request; ms after the start it was signed. */
  approved?: boolean;
  approvedMs?: number;
  /** Recoveries: the recovered party's dry-run signature verified by OpenSSL. */
  proofValid?: boolean;
  /** Share changes: the signing with a quorum of the wallet's committee after it settled. */
  signedAfter?: { ok: boolean; signers: string[]; attempts: number; version?: number; detail?: string };
  /** A signing that checks a wallet after a share change: that change's id. */
  afterChange?: string;
}

interface Wallet {
  tenant: string;
  walletId: string;
  keyId: string;
  publicKey: string;
  threshold: number;
  parties: string[];
  version: number;
  /** A share change of the drill holds it: the stream signs with other wallets meanwhile. */
  changing?: boolean;
}

/** A governed wallet's shares at its current version that are not as they must be. */
export interface GovernedShareIssue {
  walletId: string;
  partyId: string;
  version: number;
  problem: 'no active share' | 'pending share of the current version' | 'share outside the committee';
}

export interface GovernedReport {
  tenant: string;
  /** Governed wallets: made before the stream and by it. */
  wallets: number;
  /**
   * Share changes that completed without the drill's admin's approval on them, or whose statement
   * was not the change the drill asked for (must be none).
   */
  approvalFailures: string[];
  /** Changes that waited for approval (with a statement), approvals the admin gave, and how long it took. */
  approvals: {
    asked: number;
    given: number;
    waitP50Ms?: number;
    waitMaxMs?: number;
    errors: number;
    examples: string[];
  };
  /** Settled share changes, and the signings after them (a quorum of the committee then). */
  signedAfter: { changes: number; signed: number; failed: string[] };
  /** Changes that completed while the wallet's version or committee then differed from their result. */
  versionMismatches: string[];
  /** Recoveries whose dry-run signature failed OpenSSL verification. */
  badRecoveryProofs: number;
  /** Parties of governed wallets without the current version active, or with it pending. */
  sharesLost: number;
  shareIssues: GovernedShareIssue[];
  /** Active shares of other versions, left by changes aborted after some activations (valid). */
  leftoverActive: number;
  /** Each kind of share change completed at least once. */
  everyKindCompleted: boolean;
}

export interface CeremonyCounts {
  started: number;
  completed: number;
  aborted: number;
  abortedCodes: Record<string, number>;
  stuck: number;
}

export interface ChaosDrillReport {
  mode: 'quick' | 'full';
  startedAt: string;
  streamSeconds: number;
  settleSeconds: number;
  concurrency: number;
  ceremonies: Record<CeremonyKind | 'total', CeremonyCounts>;
  latencyMs: Partial<Record<`${CeremonyKind}${'P50' | 'Max'}`, number>>;
  kills: Record<ChaosKind, number>;
  chaos: ChaosLoopResult;
  clientErrors: { ceremonies: number; errors: number; examples: string[] };
  badSignatures: number;
  sharesLost: number;
  missingShares: MissingShare[];
  coverage: { wallets: number; signings: number; failed: string[] };
  nonces: NonceReport;
  noncesReused: number;
  /** Signatures by how they were asked: single, with the pool's signers after a fill, batches (and their messages). */
  signing: {
    single: number;
    pool: number;
    batches: number;
    batchMessages: number;
    poolFills: number;
    poolFillErrors: string[];
  };
  stuckCeremonies: Array<{ id: string; state: string }>;
  abortedCeremonies: Array<{ id: string; code: string; culprit?: string; reason?: string }>;
  governed: GovernedReport;
  /**
   * Zero stuck, bad signatures, lost shares and reused nonces, every kind of kill happened, every
   * kind of share change completed, each approved, and every wallet signed after each change.
   */
  pass: boolean;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const shortError = (err: unknown): string =>
  `${err instanceof Error ? err.name : 'Error'}: ${(err instanceof Error ? err.message : String(err)).split('\n')[0]}`;

const TIMED_OUT = Symbol('timed out');

class CeremonyRunner {
  readonly records: CeremonyRecord[] = [];
  /** Per phase: ceremonies not settled by this time count as stuck (and stay counted so). */
  private readonly deadlines = new Map<CeremonyRecord['phase'], number>();

  setDeadline(phase: CeremonyRecord['phase'], at: number): void {
    this.deadlines.set(phase, at);
  }

  /** Whether ceremonies of `phase` still count (its deadline, if any, has not passed). */
  isOpen(phase: CeremonyRecord['phase']): boolean {
    return Date.now() < (this.deadlines.get(phase) ?? Number.POSITIVE_INFINITY);
  }

  private open(rec: CeremonyRecord): boolean {
    return this.isOpen(rec.phase);
  }

  private complete(rec: CeremonyRecord): void {
    if (!this.open(rec)) return; // settled after its deadline: it stays counted as stuck
    rec.outcome = 'completed';
    rec.ms = Date.now() - rec.startedAt;
  }

  constructor(
    private readonly client: ConclaveClient,
    private readonly temporal: Client,
  ) {}

  private settle(rec: CeremonyRecord, err: unknown): void {
    if (!this.open(rec)) return;
    const e = err as ConclaveError;
    rec.outcome = 'aborted';
    rec.code = e.code;
    rec.reason = e.message;
    if (err instanceof CulpritError) rec.culprit = err.culprit;
    rec.ms = Date.now() - rec.startedAt;
  }

  /** `p`, or TIMED_OUT once the record's phase deadline passes (the promise is left behind). */
  private async bounded<T>(rec: CeremonyRecord, p: Promise<T>): Promise<T | typeof TIMED_OUT> {
    let timer: NodeJS.Timeout | undefined;
    const expired = new Promise<typeof TIMED_OUT>((resolve) => {
      const check = () => (this.open(rec) ? (timer = setTimeout(check, 250)) : resolve(TIMED_OUT));
      check();
    });
    try {
      return await Promise.race([p, expired]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Runs one ceremony through the client, re-attaching by workflow id after transport errors. */
  async run<T>(rec: CeremonyRecord, call: () => Promise<T>): Promise<T | undefined> {
    this.records.push(rec);
    for (;;) {
      try {
        const value = await this.bounded(rec, call());
        if (value === TIMED_OUT) return undefined;
        this.complete(rec);
        return rec.outcome === 'completed' ? value : undefined;
      } catch (err) {
        if (err instanceof ConclaveError) {
          this.settle(rec, err);
          return undefined;
        }
        rec.clientErrors.push(shortError(err));
      }
      // Did the request reach Temporal? Follow it by its workflow id.
      while (this.open(rec)) {
        try {
          const value = await this.bounded(
            rec,
            this.temporal.workflow.getHandle(rec.id).result() as Promise<T>,
          );
          if (value === TIMED_OUT) return undefined;
          this.complete(rec);
          return rec.outcome === 'completed' ? value : undefined;
        } catch (err) {
          if (err instanceof WorkflowNotFoundError) break; // never started: send it again
          if (err instanceof WorkflowFailedError) {
            this.settle(rec, toConclaveError(err));
            return undefined;
          }
          rec.clientErrors.push(shortError(err));
          await sleep(1_000);
        }
      }
      if (!this.open(rec)) return undefined;
      await sleep(500);
    }
  }

  keygen(
    phase: CeremonyRecord['phase'],
    threshold: number,
    parties: string[],
    tenant = 'default',
  ): Promise<Wallet | undefined> {
    const walletId = `drill-w-${randomBytes(6).toString('hex')}`;
    const rec: CeremonyRecord = {
      id: `keygen:${tenant}:${walletId}`,
      kind: 'keygen',
      phase,
      tenant,
      walletId,
      threshold,
      parties,
      startedAt: Date.now(),
      outcome: 'pending',
      clientErrors: [],
    };
    return this.run<KeygenResult>(rec, () =>
      this.client.createWallet({ tenant, walletId, threshold, parties }),
    ).then((r) => {
      if (!r) return undefined;
      rec.publicKey = r.publicKey;
      return {
        tenant,
        walletId,
        keyId: r.keyId,
        publicKey: r.publicKey,
        threshold: r.threshold,
        parties: r.parties,
        version: 1,
      };
    });
  }

  async sign(
    phase: CeremonyRecord['phase'],
    wallet: Wallet,
    signers: string[],
    afterChange?: string,
  ): Promise<boolean> {
    const requestId = `drill-s-${randomBytes(6).toString('hex')}`;
    const message = randomBytes(32).toString('hex');
    const rec: CeremonyRecord = {
      id: `sign:${wallet.tenant}:${requestId}`,
      kind: 'sign',
      phase,
      tenant: wallet.tenant,
      walletId: wallet.walletId,
      signers,
      message,
      publicKey: wallet.publicKey,
      startedAt: Date.now(),
      outcome: 'pending',
      clientErrors: [],
      mode:
        this.poolFilled(wallet) && signers.join() === wallet.parties.slice(0, wallet.threshold).join()
          ? 'pool'
          : 'single',
      ...(afterChange ? { afterChange } : {}),
    };
    const r = await this.run<SignResult>(rec, () =>
      this.client.sign({ tenant: wallet.tenant, walletId: wallet.walletId, message, signers, requestId }),
    );
    if (!r) return false;
    rec.signature = r.signature;
    rec.signatureValid =
      r.message === message && opensslVerifyEd25519(wallet.publicKey, message, r.signature);
    return rec.signatureValid;
  }

  /** Pools filled (FROST nonces preprocessed) and the errors of those that failed (they may: chaos). */
  readonly poolFills: string[] = [];
  readonly poolFillErrors: string[] = [];

  /** Whether the wallet's current version has a pool this drill filled. */
  poolFilled(w: Wallet): boolean {
    return this.poolFills.includes(
      noncePoolId(w.tenant, w.walletId, w.version, w.parties.slice(0, w.threshold)),
    );
  }

  /** Preprocesses nonces for the wallet's first `threshold` parties; a later sign with them takes one. */
  async fillPool(wallet: Wallet): Promise<void> {
    try {
      const r = await this.client.fillNoncePool({
        tenant: wallet.tenant,
        walletId: wallet.walletId,
        target: 6,
      });
      this.poolFills.push(r.poolId);
    } catch (err) {
      this.poolFillErrors.push(shortError(err));
    }
  }

  /** A batch of `size` messages in one request; every signature checked by OpenSSL. */
  async signBatch(
    phase: CeremonyRecord['phase'],
    wallet: Wallet,
    signers: string[],
    size: number,
  ): Promise<boolean> {
    const requestId = `drill-b-${randomBytes(6).toString('hex')}`;
    const items = Array.from({ length: size }, (_, i) => ({
      message: randomBytes(32).toString('hex'),
      path: `m/${i}`,
    }));
    const rec: CeremonyRecord = {
      id: `sign:${wallet.tenant}:${requestId}`,
      kind: 'sign',
      mode: 'batch',
      phase,
      tenant: wallet.tenant,
      walletId: wallet.walletId,
      signers,
      message: batchDigest(items),
      publicKey: wallet.publicKey,
      startedAt: Date.now(),
      outcome: 'pending',
      clientErrors: [],
    };
    const r = await this.run<BatchSignResult | SignResult>(rec, () =>
      this.client.signBatch({ tenant: wallet.tenant, walletId: wallet.walletId, items, signers, requestId }),
    );
    if (!r) return false;
    // the client's result, or the workflow's own when the drill followed it by its id
    const signed = 'signatures' in r ? r.signatures : ((r as { batch?: SignedItem[] }).batch ?? []);
    rec.signatureValid =
      signed.length === size &&
      signed.every(
        (x, i) =>
          x.message === items[i]!.message && opensslVerifyEd25519(x.publicKey, x.message, x.signature),
      );
    return rec.signatureValid;
  }

  /** What Temporal knows about a ceremony that did not settle: status and pending activities. */
  async describe(id: string): Promise<string> {
    try {
      const d = await this.temporal.workflow.getHandle(id).describe();
      const raw = d.raw.pendingActivities ?? [];
      const pending = raw.map(
        (a) =>
          `${a.activityType?.name ?? '?'} attempt ${a.attempt ?? 0}${a.lastFailure?.message ? ` (${a.lastFailure.message.split('\n')[0]})` : ''}`,
      );
      return `${d.status.name}${pending.length ? `; pending: ${pending.join('; ')}` : ''}`;
    } catch (err) {
      return `describe failed: ${shortError(err)}`;
    }
  }
}

function pick<T>(items: readonly T[], random: () => number): T {
  return items[Math.floor(random() * items.length)]!;
}

function sample<T>(items: readonly T[], k: number, random: () => number): T[] {
  const chosen = new Set<number>();
  while (chosen.size < k) chosen.add(Math.floor(random() * items.length));
  return [...chosen].sort((a, b) => a - b).map((i) => items[i]!);
}

/** Rejects with an Error once `ms` pass (the call itself is left to finish or fail on its own). */
async function within<T>(ms: number, p: Promise<T>): Promise<T> {
  p.catch(() => undefined);
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      p,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/** The stream's governed tenant: every party's operator trusts its governance publisher. */
interface GovernedTenant {
  tenant: string;
  /** The policy's one approver, an admin: each rotation, reshare and recovery needs its approval. */
  admin: ActorSecret;
}

/**
 * Sets up a governed tenant as an operator would: each party trusts the tenant's governance
 * publisher, then the publisher publishes the policy (one admin approves each share change).
 */
async function setUpGovernedTenant(env: Env, parties: string[]): Promise<GovernedTenant> {
  const tenant = `chaos-gov-${Date.now().toString(36)}${randomBytes(2).toString('hex')}`;
  const publisherKey = generateActorKey('chaos-gov-lead');
  const admin = generateActorKey('chaos-admin');
  const policy: GovernancePolicy = {
    approvers: [{ id: admin.id, publicKey: admin.publicKey, roles: ['admin'] }],
    actions: { rotate: { admin: 1 }, reshare: { admin: 1 }, recover: { admin: 1 } },
    requestExpiresAfter: 900,
    timeLock: 0,
  };
  const publisherPublic = { id: publisherKey.id, publicKey: publisherKey.publicKey };
  for (const p of parties) await trustPublishers(p, tenant, { governancePublishers: [publisherPublic] }, env);
  const dir = mkdtempSync(join(tmpdir(), 'conclave-chaos-gov-'));
  try {
    const keyFile = join(dir, 'publisher.key');
    writeFileSync(keyFile, JSON.stringify(publisherKey), { mode: 0o600 });
    const publisher = await ConclaveClient.connect({ env: { ...env, CONCLAVE_KEY: keyFile } });
    try {
      await publisher.publishGovernance({ policy, tenant });
    } finally {
      await publisher.close().catch(() => undefined);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return { tenant, admin };
}

const governedAction = { rotation: 'rotate', reshare: 'reshare', recovery: 'recover' } as const;

/**
 * The share changes of the stream: rotations, reshares and recoveries of the governed tenant's
 * wallets, one at a time per wallet, each approved by the drill's admin once it waits for it, and
 * each followed by a signing with a quorum of the wallet's committee.
 */
class ShareChanges {
  readonly approvalErrors: string[] = [];
  readonly approvalFailures: string[] = [];
  readonly versionMismatches: string[] = [];
  private readonly inFlight: Record<ShareChangeKind, number> = { rotation: 0, reshare: 0, recovery: 0 };

  constructor(
    private readonly runner: CeremonyRunner,
    private readonly client: ConclaveClient,
    private readonly gov: GovernedTenant,
    /** The stack's parties a reshare may add. */
    private readonly parties: string[],
    private readonly random: () => number,
    private readonly log: (line: string) => void,
  ) {}

  private count(kind: ShareChangeKind, outcome?: Outcome): number {
    return this.runner.records.filter((r) => r.kind === kind && (!outcome || r.outcome === outcome)).length;
  }

  /** Each kind of change completed at least once. */
  everyKindCompleted(): boolean {
    return shareChangeKinds.every((k) => this.count(k, 'completed') > 0);
  }

  /** The next kind: one that has not completed yet first, then the one least in flight, least run. */
  private nextKind(): ShareChangeKind {
    const score = (k: ShareChangeKind) => [
      this.count(k, 'completed') > 0 ? 1 : 0,
      this.inFlight[k],
      this.count(k),
    ];
    const order: ShareChangeKind[] = ['reshare', 'recovery', 'rotation'];
    return order
      .map((k) => ({ k, s: score(k) }))
      .sort((a, b) => a.s[0]! - b.s[0]! || a.s[1]! - b.s[1]! || a.s[2]! - b.s[2]!)[0]!.k;
  }

  /** A lane of share changes on the governed wallets no other change holds, until `stopped()`. */
  async lane(wallets: Wallet[], stopped: () => boolean): Promise<void> {
    while (!stopped()) {
      const free = wallets.filter((w) => w.tenant === this.gov.tenant && !w.changing);
      if (!free.length) {
        await sleep(500);
        continue;
      }
      const w = pick(free, this.random);
      const kind = this.nextKind();
      w.changing = true;
      this.inFlight[kind]++;
      try {
        await this.change(w, kind);
      } finally {
        this.inFlight[kind]--;
        w.changing = false;
      }
    }
  }

  private async change(w: Wallet, kind: ShareChangeKind): Promise<void> {
    const tenant = w.tenant;
    const requestId = `drill-${kind.slice(0, 3)}-${randomBytes(6).toString('hex')}`;
    let parties = w.parties;
    let threshold = w.threshold;
    let lost: string | undefined;
    let call: () => Promise<ReshareResult>;
    if (kind === 'rotation') {
      call = () => this.client.rotate({ walletId: w.walletId, tenant, requestId });
    } else if (kind === 'reshare') {
      // 2-of-3 grows to 3-of-4 with a party of the stack; 3-of-4 shrinks back to 2-of-3
      if (w.parties.length < 4) {
        const added = pick(
          this.parties.filter((p) => !w.parties.includes(p)),
          this.random,
        );
        parties = this.parties.filter((p) => p === added || w.parties.includes(p));
        threshold = 3;
      } else {
        const dropped = pick(w.parties, this.random);
        parties = w.parties.filter((p) => p !== dropped);
        threshold = 2;
      }
      const to = { parties, threshold };
      call = () => this.client.reshare({ walletId: w.walletId, tenant, requestId, ...to });
    } else {
      const party = (lost = pick(w.parties, this.random));
      call = () => this.client.recover({ walletId: w.walletId, party, tenant, requestId });
    }
    const rec: CeremonyRecord = {
      id: `${kind === 'recovery' ? 'recover' : 'reshare'}:${tenant}:${w.walletId}:${requestId}`,
      kind,
      phase: 'stream',
      tenant,
      walletId: w.walletId,
      threshold,
      parties,
      publicKey: w.publicKey,
      fromVersion: w.version,
      ...(lost ? { lost } : {}),
      startedAt: Date.now(),
      outcome: 'pending',
      clientErrors: [],
    };
    const what = `${kind} of ${w.walletId} v${w.version} ${w.threshold}-of-${w.parties.length}`;
    this.log(
      `change: ${what}${kind === 'reshare' ? ` to ${threshold}-of-${parties.length} [${parties.join(',')}]` : ''}${lost ? ` (lost ${lost})` : ''} as ${rec.id}`,
    );
    const approving = this.approveWhenAsked(rec);
    const r = await this.runner.run<ReshareResult>(rec, call);
    await approving;
    this.log(
      `change: ${what} ${rec.outcome}${rec.code ? ` ${rec.code}` : ''} after ${((Date.now() - rec.startedAt) / 1000).toFixed(1)} s (approved after ${rec.approvedMs ?? '-'} ms)`,
    );
    if (rec.outcome === 'pending') return; // not settled by the deadline: stuck
    if (rec.outcome === 'completed' && !rec.approved)
      this.approvalFailures.push(`${rec.id}: completed without the admin's approval`);
    if (r && kind === 'recovery') {
      const proof = (r as RecoverResult).proof;
      rec.proofValid = opensslVerifyEd25519(w.publicKey, proof.message, proof.signature);
    }
    // the wallet as the coordinator has it now (a change aborted after its switch moved it on)
    const info = await this.walletInfo(w);
    if (!info) {
      rec.signedAfter = {
        ok: false,
        signers: [],
        attempts: 0,
        detail: 'wallet not readable by the deadline',
      };
      return;
    }
    Object.assign(w, { version: info.version, parties: info.parties, threshold: info.threshold });
    rec.toVersion = info.version;
    if (r && (info.version !== r.version || info.parties.join() !== r.parties.join()))
      this.versionMismatches.push(
        `${rec.id}: completed at v${r.version} [${r.parties.join(',')}], wallet at v${info.version} [${info.parties.join(',')}]`,
      );
    // a quorum of the committee now signs (again after a failure a kill caused, up to 3 times)
    const after: NonNullable<CeremonyRecord['signedAfter']> = { ok: false, signers: [], attempts: 0 };
    while (!after.ok && after.attempts < 3 && this.runner.isOpen('stream')) {
      if (after.attempts > 0) await sleep(1_000);
      after.attempts++;
      after.signers = sample(w.parties, w.threshold, this.random);
      after.ok = await this.runner.sign('stream', w, after.signers, rec.id);
      const s = this.runner.records.filter((x) => x.afterChange === rec.id).at(-1);
      after.detail = after.ok ? undefined : `${s?.code ?? s?.outcome ?? '?'} ${s?.reason ?? ''}`.trim();
      if (s && s.outcome !== 'aborted') break; // signed but not verified, or stuck: no retry
    }
    after.version = w.version;
    if (after.detail === undefined) delete after.detail;
    rec.signedAfter = after;
    this.log(
      `change: ${w.walletId} at v${w.version} ${w.threshold}-of-${w.parties.length} [${w.parties.join(',')}] ${after.ok ? 'signed' : 'did not sign'} with ${after.signers.join(',')}${after.detail ? ` (${after.detail})` : ''}`,
    );
  }

  /** The wallet's record at the coordinator, asked again through outages until the deadline. */
  private async walletInfo(w: Wallet): Promise<WalletInfo | undefined> {
    while (this.runner.isOpen('stream')) {
      try {
        return await within(60_000, this.client.getWallet({ walletId: w.walletId, tenant: w.tenant }));
      } catch {
        await sleep(1_000);
      }
    }
    return undefined;
  }

  /**
   * The approver's loop: polls the request until it waits for approval, checks that its statement
   * is the change the drill asked for, and approves it as the admin; through outages (a query or
   * an update that gets no answer is asked again), until the request is past its wait.
   */
  private async approveWhenAsked(rec: CeremonyRecord): Promise<void> {
    const admin = this.gov.admin;
    let sentAt = 0;
    let askedAfterSettling = 0;
    while (this.runner.isOpen(rec.phase)) {
      // once the change settled, the request is read (a few times at most) for the approvals on it
      if (rec.outcome !== 'pending' && ++askedAfterSettling > 5) return;
      let st: TransactionState;
      try {
        st = await within(15_000, this.client.transaction({ requestId: rec.id, tenant: rec.tenant }));
      } catch (err) {
        // BAD_INPUT: not started yet (the client is still reaching Temporal)
        if (!(err instanceof ConclaveError && err.code === 'BAD_INPUT'))
          this.approvalErrors.push(shortError(err));
        await sleep(500);
        continue;
      }
      const mine = st.approvals.find((a) => a.approver === admin.id && a.verdict === 'approve');
      if (mine) {
        rec.approved = true;
        rec.approvedMs = Math.max(0, Date.parse(mine.at) - rec.startedAt);
        return;
      }
      if (st.state === 'judging') {
        await sleep(300);
        continue;
      }
      if (st.state !== 'awaiting-approval') return; // past its wait without the admin
      const s = st.keyChange;
      const differs = !s
        ? 'no statement'
        : [
            s.action !== governedAction[rec.kind as ShareChangeKind] && `action ${s.action}`,
            s.walletId !== rec.walletId && `wallet ${s.walletId}`,
            s.publicKey !== rec.publicKey && `key ${s.publicKey}`,
            s.fromVersion !== rec.fromVersion && `from v${s.fromVersion}`,
            s.threshold !== rec.threshold && `threshold ${s.threshold}`,
            s.roster.map((p) => p.partyId).join() !== rec.parties!.join() &&
              `committee ${s.roster.map((p) => p.partyId).join(',')}`,
            s.lost !== rec.lost && `lost ${s.lost ?? 'none'}`,
          ]
            .filter(Boolean)
            .join(', ');
      rec.asked = true;
      if (differs) {
        // not what was asked: the admin rejects it
        this.approvalFailures.push(`${rec.id}: the statement differs from the request (${differs})`);
        await within(
          15_000,
          this.client.approve({ requestId: rec.id, tenant: rec.tenant, key: admin, verdict: 'reject' }),
        ).catch((err: unknown) => this.approvalErrors.push(shortError(err)));
        return;
      }
      if (Date.now() - sentAt < 3_000) {
        await sleep(300);
        continue;
      }
      sentAt = Date.now();
      await within(
        15_000,
        this.client.approve({ requestId: rec.id, tenant: rec.tenant, key: admin, role: 'admin' }),
      ).catch((err: unknown) => this.approvalErrors.push(shortError(err)));
    }
  }
}

/**
 * "No share lost", per governed wallet at its current version: every party of its committee holds
 * that version active (of the wallet's key), no party holds it pending, and no party outside the
 * committee holds it. Active shares of other versions (left by a change aborted after some
 * activations; the next change's retirement removes them) are counted, not failed.
 */
async function checkGovernedShares(
  stores: Map<string, PartyStore>,
  wallets: Wallet[],
): Promise<{ issues: GovernedShareIssue[]; leftoverActive: number }> {
  const issues: GovernedShareIssue[] = [];
  let leftoverActive = 0;
  for (const w of wallets) {
    const id = shareDocId(w.tenant, w.keyId, w.version);
    const issue = (partyId: string, problem: GovernedShareIssue['problem']) =>
      issues.push({ walletId: w.walletId, partyId, version: w.version, problem });
    for (const [p, store] of stores) {
      const share = await store.shares.findOne({ _id: id });
      const member = w.parties.includes(p);
      if (member && (share?.status !== 'active' || share.publicKey !== w.publicKey))
        issue(p, 'no active share');
      if (!member && share) issue(p, 'share outside the committee');
      if (await store.pendingShares.findOne({ _id: id })) issue(p, 'pending share of the current version');
      leftoverActive += await store.shares.countDocuments({
        tenant: w.tenant,
        walletId: w.walletId,
        status: 'active',
        _id: { $ne: id },
      });
    }
  }
  return { issues, leftoverActive };
}

function counts(records: CeremonyRecord[]): CeremonyCounts {
  const abortedCodes: Record<string, number> = {};
  for (const r of records)
    if (r.outcome === 'aborted') abortedCodes[r.code!] = (abortedCodes[r.code!] ?? 0) + 1;
  return {
    started: records.length,
    completed: records.filter((r) => r.outcome === 'completed').length,
    aborted: records.filter((r) => r.outcome === 'aborted').length,
    abortedCodes,
    stuck: records.filter((r) => r.outcome === 'pending').length,
  };
}

function percentile(values: number[], p: number): number | undefined {
  if (!values.length) return undefined;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

/** Runs `tasks` with at most `limit` at once. */
async function pool<T>(items: T[], limit: number, task: (item: T) => Promise<unknown>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) await task(items[next++]!);
    }),
  );
}

export async function runChaosDrill(opts: ChaosDrillOptions): Promise<ChaosDrillReport> {
  const env = opts.env;
  const quick = opts.quick ?? false;
  const random = opts.random ?? Math.random;
  const log = opts.log ?? (() => undefined);
  const concurrency = opts.concurrency ?? 4;
  const settleTimeoutMs = opts.settleTimeoutMs ?? 180_000;
  const changeLanes = opts.shareChangeLanes ?? 3;
  const config = loadConfig(env);
  const parties = config.parties;
  if (parties.length < 5) throw new ConclaveError('BAD_INPUT', 'the chaos drill needs a stack of 5 parties');

  const client = await ConclaveClient.connect({ env });
  const connection = await Connection.connect({ address: config.temporal.address });
  const dataConverter = clientDataConverter(config.payloadKey);
  const temporal = new Client({
    connection,
    namespace: config.temporal.namespace,
    ...(dataConverter ? { dataConverter } : {}),
  });
  const runner = new CeremonyRunner(client, temporal);
  const startedAt = new Date();
  try {
    // The governed tenant: its policy published, its publisher trusted by every party.
    const gov = await setUpGovernedTenant(env, parties);
    const changes =
      changeLanes > 0 ? new ShareChanges(runner, client, gov, parties.slice(0, 5), random, log) : undefined;

    // Wallets made before the stream, signed with during it (the governed ones also changed).
    const stack = parties.slice(0, 5);
    const setup: Array<[number, string[], string]> = [
      [2, stack.slice(0, 3), 'default'],
      [3, stack, 'default'],
      ...Array.from({ length: changes ? changeLanes : 0 }, (_, i): [number, string[], string] => [
        2,
        [0, 1, 2].map((j) => stack[(i + j) % 5]!),
        gov.tenant,
      ]),
    ];
    log(
      `setup: ${setup.length} wallets before the stream (${setup.map(([t, ps, tenant]) => `${t}-of-${ps.length}${tenant === 'default' ? '' : ' governed'}`).join(', ')}); governed tenant ${gov.tenant}`,
    );
    const wallets: Wallet[] = [];
    for (const w of await Promise.all(
      setup.map(([t, ps, tenant]) => runner.keygen('setup', t, ps, tenant)),
    )) {
      if (!w) throw new ConclaveError('STACK', 'setup key generation failed before any chaos');
      wallets.push(w);
    }

    // The stream and the chaos loop, together. It runs on until every kind of share change has
    // completed once (for at most as long again, or 30 s in the quick drill).
    const streamStart = Date.now();
    const streamEnd = streamStart + opts.durationS * 1000;
    const overtimeEnd = streamEnd + (quick ? 30_000 : opts.durationS * 1000);
    let stopped = false;
    const chaos = chaosLoop(env, {
      gapMs: quick ? [1_000, 3_000] : [3_000, 12_000],
      downMs: [500, 3_000],
      shouldStop: () =>
        Date.now() >= streamEnd && (!changes || changes.everyKindCompleted() || Date.now() >= overtimeEnd),
      signal: opts.signal,
      random,
      log,
    }).finally(() => {
      stopped = true;
    });
    const lane = async (i: number) => {
      let n = 0;
      let signs = 0;
      while (!stopped) {
        n++;
        if (random() < 0.35) {
          const governed = changes !== undefined && random() < 0.4;
          const [t, ps] = governed || random() < 0.5 ? [2, sample(stack, 3, random)] : [3, stack];
          const w = await runner.keygen('stream', t, ps, governed ? gov.tenant : 'default');
          if (w) wallets.push(w);
          // half the new wallets get a pool of preprocessed nonces for their first t parties
          if (w && random() < 0.5) await runner.fillPool(w);
        } else {
          // not a wallet a share change holds (it would refuse: BUSY)
          const w = pick(
            wallets.filter((x) => !x.changing),
            random,
          );
          const size = random() < 0.7 || w.threshold === w.parties.length ? w.threshold : w.threshold + 1;
          // every third signature of a lane with the pool's signers (the first threshold parties:
          // a preprocessed nonce once the pool is filled), every fourth a batch, the rest any signers
          signs++;
          if (signs % 3 === 1) {
            // a wallet whose current version has a filled pool, if there is one
            const pooled = wallets.filter((x) => !x.changing && runner.poolFilled(x));
            const p = pooled.length ? pick(pooled, random) : w;
            await runner.sign('stream', p, p.parties.slice(0, p.threshold));
          } else if (signs % 4 === 2) await runner.signBatch('stream', w, sample(w.parties, size, random), 4);
          else await runner.sign('stream', w, sample(w.parties, size, random));
        }
        if (n % 10 === 0) log(`stream: lane ${i} ran ${n} ceremonies`);
      }
    };
    const lanes = Promise.all([
      ...Array.from({ length: concurrency }, (_, i) => lane(i)),
      ...Array.from({ length: changes ? changeLanes : 0 }, () => changes!.lane(wallets, () => stopped)),
    ]);
    const chaosResult = await chaos;
    const streamSeconds = (Date.now() - streamStart) / 1000;
    log(`stream stopped after ${streamSeconds.toFixed(1)} s; waiting for ceremonies in flight to settle`);

    // Every started ceremony gets a bounded time to settle.
    const settleStart = Date.now();
    runner.setDeadline('stream', settleStart + settleTimeoutMs);
    await Promise.race([lanes, sleep(settleTimeoutMs + 2_000)]);
    const settleSeconds = (Date.now() - settleStart) / 1000;
    const streamRecords = runner.records.filter((r) => r.phase === 'stream');
    const stuckCeremonies: Array<{ id: string; state: string }> = [];
    for (const r of streamRecords.filter((x) => x.outcome === 'pending')) {
      r.stuckState = await runner.describe(r.id);
      stuckCeremonies.push({ id: r.id, state: r.stuckState });
      log(`stuck: ${r.id}: ${r.stuckState}`);
    }

    // Shares: in each party's own database, then used: every party signs at least once.
    log('checks: active shares on every party, covering signings, nonce scan');
    const newWallets = runner.records
      .filter((r) => r.kind === 'keygen' && r.outcome === 'completed' && r.tenant === 'default')
      .map((r) => wallets.find((w) => w.walletId === r.walletId))
      .filter((w): w is Wallet => w !== undefined);
    // the governed wallets, at the version and committee the coordinator has for them now
    const governedWallets = wallets.filter((w) => w.tenant === gov.tenant);
    for (const w of governedWallets) {
      const info = await within(60_000, client.getWallet({ walletId: w.walletId, tenant: w.tenant })).catch(
        (err: unknown) => {
          log(`checks: ${w.walletId} not readable (${shortError(err)}): checked as last seen`);
          return undefined;
        },
      );
      if (info) Object.assign(w, { version: info.version, parties: info.parties, threshold: info.threshold });
    }
    const stores = await partyStores(env, parties);
    const missingShares = await findMissingShares(stores, newWallets);
    const governedShares = await checkGovernedShares(stores, governedWallets);
    runner.setDeadline('final', Date.now() + settleTimeoutMs);
    const coverageFailed: string[] = [];
    const lost = new Set([
      ...missingShares.map((m) => `${m.walletId}/${m.partyId}`),
      ...governedShares.issues.map((m) => `${m.walletId}/${m.partyId}`),
    ]);
    const jobs = [...newWallets, ...governedWallets].flatMap((w) =>
      coveringSignerSets(w.parties, w.threshold).map((s) => ({ w, s })),
    );
    await pool(jobs, concurrency, async ({ w, s }) => {
      const ok = await runner.sign('final', w, s);
      if (!ok) {
        const rec = runner.records.filter((r) => r.phase === 'final' && r.walletId === w.walletId).at(-1);
        coverageFailed.push(
          `${w.walletId} [${s.join(',')}]: ${rec?.code ?? rec?.outcome ?? '?'} ${rec?.reason ?? ''}`,
        );
        for (const p of s) lost.add(`${w.walletId}/${p}`);
      }
    });
    const nonces = await scanNonces(stores);

    const all = runner.records.filter((r) => r.phase !== 'setup');
    const withClientErrors = all.filter((r) => r.clientErrors.length);
    const kills = Object.fromEntries(
      chaosKinds.map((k) => [k, chaosResult.strikes.filter((s) => s.kind === k).length]),
    ) as Record<ChaosKind, number>;
    const kinds: CeremonyKind[] = ['keygen', 'sign', ...shareChangeKinds];
    const ofKind = (k: CeremonyKind) => streamRecords.filter((r) => r.kind === k);
    const ms = (rs: CeremonyRecord[]) => rs.filter((r) => r.outcome === 'completed').map((r) => r.ms!);
    const changeRecords = streamRecords.filter((r) =>
      (shareChangeKinds as readonly string[]).includes(r.kind),
    );
    const settledChanges = changeRecords.filter((r) => r.outcome !== 'pending');
    const badRecoveryProofs = changeRecords.filter((r) => r.proofValid === false).length;
    const badSignatures =
      all.filter((r) => r.kind === 'sign' && r.outcome === 'completed' && !r.signatureValid).length +
      badRecoveryProofs;
    const waits = changeRecords.flatMap((r) => (r.approvedMs === undefined ? [] : [r.approvedMs]));
    const governed: GovernedReport = {
      tenant: gov.tenant,
      wallets: governedWallets.length,
      approvalFailures: changes?.approvalFailures ?? [],
      approvals: {
        asked: changeRecords.filter((r) => r.asked).length,
        given: changeRecords.filter((r) => r.approved).length,
        waitP50Ms: percentile(waits, 50),
        waitMaxMs: percentile(waits, 100),
        errors: changes?.approvalErrors.length ?? 0,
        examples: [...new Set(changes?.approvalErrors ?? [])].slice(0, 5),
      },
      signedAfter: {
        changes: settledChanges.length,
        signed: settledChanges.filter((r) => r.signedAfter?.ok).length,
        failed: settledChanges
          .filter((r) => !r.signedAfter?.ok)
          .map(
            (r) =>
              `${r.id} (${r.outcome}${r.code ? ` ${r.code}` : ''}): ${r.signedAfter ? `${r.signedAfter.attempts} attempts with ${r.signedAfter.signers.join(',') || '-'}: ${r.signedAfter.detail ?? ''}` : 'no signing'}`,
          ),
      },
      versionMismatches: changes?.versionMismatches ?? [],
      badRecoveryProofs,
      sharesLost: governedShares.issues.length,
      shareIssues: governedShares.issues,
      leftoverActive: governedShares.leftoverActive,
      everyKindCompleted: changes?.everyKindCompleted() ?? false,
    };
    const report: ChaosDrillReport = {
      mode: quick ? 'quick' : 'full',
      startedAt: startedAt.toISOString(),
      streamSeconds,
      settleSeconds,
      concurrency,
      ceremonies: {
        ...(Object.fromEntries(kinds.map((k) => [k, counts(ofKind(k))])) as Record<
          CeremonyKind,
          CeremonyCounts
        >),
        total: counts(streamRecords),
      },
      latencyMs: Object.fromEntries(
        kinds.flatMap((k) => [
          [`${k}P50`, percentile(ms(ofKind(k)), 50)],
          [`${k}Max`, percentile(ms(ofKind(k)), 100)],
        ]),
      ),
      kills,
      chaos: chaosResult,
      clientErrors: {
        ceremonies: withClientErrors.length,
        errors: withClientErrors.reduce((n, r) => n + r.clientErrors.length, 0),
        examples: [...new Set(withClientErrors.flatMap((r) => r.clientErrors))].slice(0, 8),
      },
      badSignatures,
      sharesLost: lost.size,
      missingShares,
      coverage: {
        wallets: newWallets.length + governedWallets.length,
        signings: jobs.length,
        failed: coverageFailed,
      },
      nonces,
      noncesReused: nonceReuseCount(nonces),
      signing: {
        single: streamRecords.filter(
          (r) => r.kind === 'sign' && r.mode === 'single' && r.outcome === 'completed',
        ).length,
        pool: streamRecords.filter((r) => r.mode === 'pool' && r.outcome === 'completed').length,
        batches: streamRecords.filter((r) => r.mode === 'batch' && r.outcome === 'completed').length,
        batchMessages:
          4 * streamRecords.filter((r) => r.mode === 'batch' && r.outcome === 'completed').length,
        poolFills: runner.poolFills.length,
        poolFillErrors: [...new Set(runner.poolFillErrors)].slice(0, 5),
      },
      stuckCeremonies,
      abortedCeremonies: all
        .filter((r) => r.outcome === 'aborted')
        .map((r) => ({ id: r.id, code: r.code!, culprit: r.culprit, reason: r.reason })),
      governed,
      pass: false,
    };
    report.pass =
      report.ceremonies.total.stuck === 0 &&
      report.badSignatures === 0 &&
      report.sharesLost === 0 &&
      report.noncesReused === 0 &&
      chaosKinds.every((k) => kills[k] > 0) &&
      (changeLanes === 0 ||
        (governed.everyKindCompleted &&
          governed.approvalFailures.length === 0 &&
          governed.signedAfter.failed.length === 0 &&
          governed.versionMismatches.length === 0 &&
          governed.sharesLost === 0));
    return report;
  } finally {
    await client.close().catch(() => undefined);
    await connection.close().catch(() => undefined);
    await closeAllDbs();
  }
}
