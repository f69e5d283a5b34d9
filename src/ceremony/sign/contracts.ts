/** Signing's contracts (FROST and DKLs23): the request, its judgement and state, the context every signer checks, the result. */
import { encodeFields, fromHex, transcriptHash } from '../../crypto/encoding.js';
import type { SigningCommitment } from '../../crypto/frost.js';
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
  /** Hex bytes to sign. */
  message: string;
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

export interface SignContext {
  tenant: string;
  ceremonyId: string;
  walletId: string;
  keyId: string;
  version: number;
  message: string;
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
}

export interface SignResult {
  status: 'signed';
  walletId: string;
  keyId: string;
  /** The key the signature verifies under: derived along `path`, x-only for Taproot. */
  publicKey: string;
  path: string;
  merkleRoot?: string;
  message: string;
  signature: string;
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

/** FROST round 1 (broadcast, `sign-1`/`sign-commitments`): the signer's nonce commitments. */
export interface CommitBody {
  request: string;
  commitments: SigningCommitment;
}

/** FROST round 2 (broadcast, `sign-2`/`sign-share`): the signer's signature share. */
export interface SignShareBody {
  request: string;
  share: string;
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
