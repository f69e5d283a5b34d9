/** Signing's contracts (FROST and DKLs23): the request, its judgement and state, the context every signer checks, the result. */
import { encodeFields, fromHex, sha256, toHex, transcriptHash, type Field } from '../../crypto/encoding.js';
import type { Envelope } from '../../crypto/envelope.js';
import type { SigningCommitment } from '../../crypto/frost.js';
import { formatPath, parsePath } from '../../crypto/hd.js';
import { ConclaveError } from '../../errors.js';
import type { SigningProtocol } from '../../crypto/schemes.js';
import type { DryRun, SignedPublication, SignedRequest } from '../../policy/authorization.js';
import type { SignAuthorization } from '../../policy/gate.js';
import type { KeyChangeStatement } from '../../policy/governance.js';
import type { Decision, Transaction, TransactionDescription, VelocityEntry } from '../../policy/types.js';

export interface SignRequest {
  tenant: string;
  /** Who asks (for the audit record); the client fills it in. */
  requestedBy?: string;
  walletId: string;
  /** Hex bytes to sign; for a batch, its digest (`batchDigest(batch)`). */
  message: string;
  /**
   * Several messages signed in one ceremony under one policy decision (e.g. every input of a
   * transaction), each under its own derived key; then `message` is `batchDigest(batch)` and
   * `path` and `merkleRoot` are left out. FROST schemes only.
   */
  batch?: SignItem[];
  /** Signers named by the caller; otherwise the coordinator picks `threshold` parties. */
  signers?: string[];
  /** Non-hardened derivation path of the child key to sign with; 'm' (the wallet key) by default. */
  path?: string;
  /** Taproot only: the script tree's merkle root (hex); key-path spending with no tree by default. */
  merkleRoot?: string;
  /** What is being paid, for the tenant's rules; required once the tenant has published rules. */
  tx?: TransactionDescription;
  /** The request as its initiator signed it (statement and signature); see src/policy/authorization.ts. */
  signed?: SignedRequest;
  /** A signature that pays nothing (recovery proof, share validation): `message` must be its tagged hash. */
  dryRun?: DryRun;
}

/**
 * The coordinator's judgement of a sign request under the tenant's current rules: the decision,
 * what it judged (the request statement and the published version), and the velocity ledger
 * snapshot and reservation it used.
 */
export interface SignJudgement {
  decision: Decision;
  transaction: Transaction;
  request: SignedRequest;
  requestDigest: string;
  publication: SignedPublication;
  publicationDigest: string;
  velocity?: VelocityEntry[];
  /** The velocity reservation this request holds, released if it is not signed. */
  reservation?: string;
}

/** A sign request's state while it waits for approvals, and after (`conclave tx show`). */
export interface TransactionState {
  requestId: string;
  tenant: string;
  walletId: string;
  state:
    | 'judging'
    | 'awaiting-approval'
    | 'signing'
    | 'signed'
    | 'running'
    | 'completed'
    | 'blocked'
    | 'rejected'
    | 'expired'
    | 'cancelled'
    | 'failed';
  request?: SignedRequest;
  requestDigest?: string;
  rulesVersion?: number;
  publicationDigest?: string;
  decision?: {
    outcome: string;
    approvals: Record<string, number>;
    flags: string[];
    fired: FiredRuleSummary[];
  };
  approvals: { approver: string; role: string; verdict: string; at: string }[];
  /** A share change (rotation, reshare, recovery) under governance: the statement approvers sign. */
  keyChange?: KeyChangeStatement;
  /** The tenant's approvers under the version that judged the request, and the roles each holds. */
  approvers?: { id: string; roles: string[] }[];
  /** ISO 8601: when an escalation stops waiting. */
  expiresAt?: string;
  signature?: string;
  failure?: string;
}

export interface FiredRuleSummary {
  rule: string;
  action: string;
  reason: string;
}

/** One message of a batch and the key it is signed under. */
export interface SignItem {
  /** Hex bytes to sign. */
  message: string;
  /** Non-hardened derivation path; 'm' by default. */
  path?: string;
  /** Taproot only: the script tree's merkle root (hex). */
  merkleRoot?: string;
}

/** A batch's item in the one form every side binds: lower-case hex, canonical path. */
export interface CanonicalSignItem {
  message: string;
  path: string;
  merkleRoot?: string;
}

/** One signature of a batch, verified under the key it names. */
export interface SignedItem {
  message: string;
  path: string;
  merkleRoot?: string;
  /** The key the signature verifies under (derived along `path`, x-only for Taproot). */
  publicKey: string;
  signature: string;
}

/** At most this many messages in one request, and this many bytes of them in all. */
export const maxBatchItems = 256;
export const maxBatchBytes = 256 * 1024;

export function canonicalSignItem(item: SignItem): CanonicalSignItem {
  const c: CanonicalSignItem = {
    message: item.message.toLowerCase(),
    path: formatPath(parsePath(item.path ?? 'm')),
  };
  if (item.merkleRoot !== undefined) c.merkleRoot = item.merkleRoot.toLowerCase();
  return c;
}

/**
 * What a batch request signs as its `message`: a tagged hash of every item, in order. The
 * initiator's statement, the rules, the audit record and every party's gate bind this digest,
 * and each party recomputes it from the items it is asked to sign.
 */
export function batchDigest(items: SignItem[]): string {
  const fields: Field[] = ['conclave/sign-batch/1', items.length];
  for (const item of items.map(canonicalSignItem)) {
    fields.push(item.message, item.path, item.merkleRoot ?? '');
  }
  return toHex(sha256(encodeFields(fields)));
}

/**
 * What a signer checks of a batch before it draws a nonce or signs: FROST only, no dry run, at
 * most `maxBatchItems` canonical items, and their digest is the `message` the request (and the
 * initiator's signed statement) binds; so a coordinator cannot add, drop, reorder or change an
 * item behind the request's back.
 */
export function checkBatchContext(ctx: SignContext): void {
  if (ctx.batch === undefined) return;
  const refuse = (why: string): never => {
    throw new ConclaveError('UNAUTHORIZED', `batch of ceremony ${ctx.ceremonyId}: ${why}`);
  };
  if (!Array.isArray(ctx.batch) || ctx.batch.length === 0 || ctx.batch.length > maxBatchItems)
    refuse(`it must hold 1 to ${maxBatchItems} messages`);
  if (ctx.protocol === 'dkls23') refuse('batch signing is built for FROST schemes only');
  if (ctx.dryRun) refuse('a dry run signs one message');
  if (ctx.path !== 'm' || ctx.merkleRoot !== undefined)
    refuse("each item names its key, the request doesn't");
  for (const item of ctx.batch) {
    if (JSON.stringify(canonicalSignItem(item)) !== JSON.stringify(item))
      refuse('an item is not in canonical form');
  }
  if (batchDigest(ctx.batch) !== ctx.message)
    refuse('its items do not hash to the message the request binds');
}

/**
 * What a signer checks of a request that names a preprocessed nonce: FROST, one message, and a
 * slot of the pool of this wallet version and signer set (the nonce itself is bound to the same).
 */
export function checkPreprocessedContext(ctx: SignContext): void {
  if (ctx.preprocessed === undefined) return;
  const refuse = (why: string): never => {
    throw new ConclaveError('UNAUTHORIZED', `preprocessed nonce of ceremony ${ctx.ceremonyId}: ${why}`);
  };
  if (ctx.protocol === 'dkls23') refuse('threshold ECDSA has no FROST nonces');
  if (ctx.batch) refuse('a batch draws its nonces in its own round 1');
  const pool = noncePoolId(ctx.tenant, ctx.walletId, ctx.version, ctx.signers);
  const slot = ctx.preprocessed.slot;
  if (typeof slot !== 'string' || !slot.startsWith(`${pool}/`) || !/^\d+$/.test(slot.slice(pool.length + 1)))
    refuse(`slot ${String(slot).slice(0, 120)} is not one of pool ${pool}`);
  if (!Array.isArray(ctx.preprocessed.commitments)) refuse('no commitments');
}

/** The key request of an item: items under the same path and merkle root share a derived key. */
export const keyRequestId = (item: CanonicalSignItem): string => `${item.path}|${item.merkleRoot ?? ''}`;

/** The messages a ceremony signs, each with its key request: the batch, or the one message. */
export function signItems(ctx: SignContext): CanonicalSignItem[] {
  if (ctx.batch) return ctx.batch;
  return [
    {
      message: ctx.message,
      path: ctx.path,
      ...(ctx.merkleRoot === undefined ? {} : { merkleRoot: ctx.merkleRoot }),
    },
  ];
}

export interface SignContext {
  tenant: string;
  ceremonyId: string;
  walletId: string;
  keyId: string;
  version: number;
  /** The message, or a batch's digest. */
  message: string;
  /** A batch: its items, canonical, whose digest is `message` (then `path` is 'm'). */
  batch?: CanonicalSignItem[];
  signers: string[];
  /** Canonical derivation path; part of what every signer binds its nonce and share to. */
  path: string;
  merkleRoot?: string;
  /** The signed request, rule set and approvals every party checks itself before signing. */
  authorization?: SignAuthorization;
  /** A dry run: no rules apply, and every party checks that `message` is the dry run's tagged hash. */
  dryRun?: DryRun;
  /** 'dkls23' for threshold ECDSA (three rounds); FROST otherwise. */
  protocol?: SigningProtocol;
  /**
   * FROST with preprocessed nonces: every signer's commitments for the pool slot the coordinator
   * claimed for this request (made ahead by `preprocessNonces`), so only round 2 runs.
   */
  preprocessed?: { slot: string; commitments: Envelope[] };
}

/**
 * A pool of preprocessed FROST nonces: one version of a wallet and one signer set. Its slots are
 * `${poolId}/${seq}`; each signer holds one sealed nonce pair per slot, published as a signed
 * commitment bound to the pool (`poolBinding`).
 */
export interface NoncePoolSpec {
  tenant: string;
  walletId: string;
  keyId: string;
  version: number;
  /** The signer set, in roster order. */
  signers: string[];
  poolId: string;
}

/** A pool fill: which wallet and signer set, and how many slots to keep ready. */
export interface NoncePoolRequest {
  tenant: string;
  walletId: string;
  /** The signer set; the first `threshold` parties of the wallet by default. */
  signers?: string[];
  /** How many slots to keep ready; the pool's current target (or 32) by default. */
  target?: number;
}

/** What a pool fill does next. */
export interface NoncePoolPlan {
  spec: NoncePoolSpec;
  /** Slots to fill now, in order (empty: the pool is full). */
  slots: string[];
  target: number;
}

/** A pool after a fill. */
export interface NoncePoolState {
  poolId: string;
  walletId: string;
  version: number;
  signers: string[];
  target: number;
  /** Published slots not yet claimed. */
  ready: number;
}

export const noncePoolId = (tenant: string, walletId: string, version: number, signers: string[]) =>
  `pool:${tenant}:${walletId}:v${version}:${signers.join('+')}`;

/** What a preprocessed nonce is bound to when drawn: its wallet version, signer set and slot. */
export function poolBinding(spec: Omit<NoncePoolSpec, 'poolId'>, slot: string): string {
  return transcriptHash([
    encodeFields(['conclave/nonce-pool/1', spec.tenant, spec.walletId, spec.keyId, spec.version]),
    encodeFields([...spec.signers].sort()),
    encodeFields([slot]),
  ]);
}

/**
 * Where a ceremony's nonce commitments come from and what they must be bound to: round 1 of this
 * ceremony (bound to the request), or a pool slot (bound to the pool; the request is bound by the
 * nonce spend and the shares).
 */
export function commitmentSource(ctx: SignContext): { ceremonyId: string; request: string } {
  if (!ctx.preprocessed) return { ceremonyId: ctx.ceremonyId, request: signRequestHash(ctx) };
  return { ceremonyId: ctx.preprocessed.slot, request: poolBinding(ctx, ctx.preprocessed.slot) };
}

export interface SignResult {
  status: 'signed';
  walletId: string;
  keyId: string;
  /** The key the signature verifies under: derived along `path`, x-only for Taproot. */
  publicKey: string;
  path: string;
  merkleRoot?: string;
  /** The message, or a batch's digest. */
  message: string;
  /** The signature; empty for a batch, whose signatures are in `batch`. */
  signature: string;
  /** A batch: every item's signature, in the request's order, each verified. */
  batch?: SignedItem[];
  scheme: string;
  signers: string[];
  /** ECDSA only: the recovery id (parity of R.y after low-S), DER encoding and Ethereum address. */
  ecdsa?: { recoveryId: number; der: string; address: string };
  /** The tenant's rules' decision, when it has published rules. */
  policy?: {
    outcome: string;
    rulesVersion: number;
    flags: string[];
    fired: { rule: string; action: string; reason: string }[];
    /** Who approved, when the request was escalated. */
    approvals: { approver: string; role: string }[];
    /** The transaction the request described, as judged (a reused request id is compared with it). */
    tx?: TransactionDescription;
  };
}

/** FROST round 1 (broadcast, `sign-1`/`sign-commitments`): the signer's nonce commitments, one per item. */
export interface CommitBody {
  request: string;
  commitments: SigningCommitment[];
}

/** FROST round 2 (broadcast, `sign-2`/`sign-share`): the signer's signature shares, one per item. */
export interface SignShareBody {
  request: string;
  shares: string[];
}

/** Binds a signing request: every signer must see the same key, message and signer set. */
export function signRequestHash(ctx: SignContext): string {
  return transcriptHash([
    encodeFields(['sign', ctx.tenant, ctx.walletId, ctx.keyId, ctx.version]),
    fromHex(ctx.message, 'message'),
    encodeFields([...ctx.signers].sort()),
    encodeFields(['key', ctx.path, ctx.merkleRoot ?? '']),
  ]);
}
