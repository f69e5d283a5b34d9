/**
 * Contracts between workflows and activities. Only public data crosses them: envelopes are
 * signed, and their point-to-point bodies encrypted to the recipient.
 */
import type { AuditChainEntry, AuditCheckpoint } from '../src/audit/chain.js';
import type { ShareBackup } from '../src/crypto/backup.js';
import type { Envelope } from '../src/crypto/envelope.js';
import type { PublicPackage } from '../src/crypto/frost.js';
import type { PeerEntry } from '../src/store/party-store.js';
import type { SigningProtocol } from '../src/crypto/schemes.js';
import type {
  DryRun,
  PublicationSignature,
  SignedPublication,
  SignedRequest,
} from '../src/policy/authorization.js';
import type { SignAuthorization } from '../src/policy/gate.js';
import type {
  GovernancePolicy,
  KeyChangeAuthorization,
  KeyChangeStatement,
  SignedGovernance,
} from '../src/policy/governance.js';
import type { SealedWebhookSecret } from '../src/webhooks/secret-seal.js';
import type { Decision, Transaction, TransactionDescription, VelocityEntry } from '../src/policy/types.js';

export type { Envelope, PublicPackage, PeerEntry, TransactionDescription };

export interface PartyInfo {
  partyId: string;
  identityPublic: string;
  transportPublic: string;
}

export interface KeygenRequest {
  tenant: string;
  /** Who asks (for the audit record); the client fills it in. */
  requestedBy?: string;
  walletId: string;
  curve: string;
  /** Needed when the curve has several schemes (secp256k1: frost-secp256k1, frost-taproot). */
  scheme?: string;
  threshold: number;
  parties: string[];
}

export interface KeygenContext {
  tenant: string;
  ceremonyId: string;
  walletId: string;
  keyId: string;
  version: number;
  scheme: string;
  threshold: number;
  roster: PeerEntry[];
  /** 'dkls23': the key also needs the pairwise setup (pairSetup rounds) before it is activated. */
  protocol?: SigningProtocol;
}

/** A fresh DKLs23 pair setup for a threshold-ECDSA wallet's current shares. */
export interface PairingRequest {
  tenant: string;
  walletId: string;
  requestedBy?: string;
}

/** What a pairing ceremony did: which version got fresh setups, between which parties. */
export interface PairingResult {
  walletId: string;
  keyId: string;
  version: number;
  parties: string[];
  setupId: string;
}

/**
 * The DKLs23 pairwise setup of one key version: zero-share seeds and OT-based multiplication
 * setups between every two parties of `roster`. Run at key generation, after every share change,
 * and on demand (after an abort retired a pair's setup).
 */
export interface PairSetupContext {
  tenant: string;
  /** The ceremony that runs the setup (a key generation, reshare, recovery or pairing). */
  ceremonyId: string;
  walletId: string;
  keyId: string;
  version: number;
  roster: PeerEntry[];
  /** Set for a fresh setup of an active version (a pairing ceremony): it replaces the current one. */
  replace?: boolean;
  /** A pairing's approved key-change statement, for parties that gate the tenant's key management. */
  authorization?: KeyChangeAuthorization;
}

export interface KeygenResult {
  walletId: string;
  keyId: string;
  curve: string;
  scheme: string;
  publicKey: string;
  threshold: number;
  parties: string[];
  transcriptHash: string;
}

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
  };
}

/** One version of a wallet as governance statements describe it: key, threshold, roster. */
export interface WalletVersionDescription {
  tenant: string;
  walletId: string;
  keyId: string;
  /** The group key (hex), as every share's public package has it. */
  publicKey: string;
  version: number;
  threshold: number;
  roster: PeerEntry[];
}

export interface WalletInfo {
  tenant: string;
  walletId: string;
  keyId: string;
  version: number;
  curve: string;
  scheme: string;
  threshold: number;
  parties: string[];
  publicKey: string;
  /** BIP32-style chain code for public derivation, agreed through the key generation transcript. */
  chainCode: string;
  transcriptHash: string;
  createdAt: string;
}

/** What a failed ceremony carries in its failure details. */
export interface FailureDetails {
  code: string;
  culprit?: string;
  /** The one-line reason, without the ceremony prefix. */
  reason?: string;
}

/** The ceremonies that change a wallet's shares and keep its key; each moves it to a new version. */
export type ShareChangeKind = 'rotation' | 'reshare' | 'recovery';

/**
 * A change of a wallet's shares that keeps its key: rotation (same committee and threshold) or
 * reshare (another committee and/or threshold). Parties and threshold default to the current ones.
 */
export interface ReshareRequest {
  tenant: string;
  /** Who asks (for the audit record); the client fills it in. */
  requestedBy?: string;
  walletId: string;
  /** The new committee; the current one by default. */
  parties?: string[];
  /** The new threshold; the current one by default. */
  threshold?: number;
  /** Old parties that deal (at least the old threshold); the coordinator picks by default. */
  dealers?: string[];
}

export interface ReshareContext {
  tenant: string;
  ceremonyId: string;
  walletId: string;
  keyId: string;
  scheme: string;
  kind: ShareChangeKind;
  /** Recovery only: the party whose lost share the dealers (its helpers) rebuild. */
  lost?: string;
  fromVersion: number;
  toVersion: number;
  /** The current committee, its threshold and public package (old members check it against theirs). */
  oldThreshold: number;
  oldRoster: PeerEntry[];
  oldPublic: PublicPackage;
  /** The key generation transcript hash: the wallet's chain code comes from it, in every version. */
  transcriptHash: string;
  /** Party ids of the old committee that deal (a recovery's helpers). */
  dealers: string[];
  threshold: number;
  roster: PeerEntry[];
  /** 'dkls23': the new version gets a fresh pairwise setup before its shares are activated. */
  protocol?: SigningProtocol;
  /** The approved key-change statement, for parties that gate the tenant's key management. */
  authorization?: KeyChangeAuthorization;
}

export interface ReshareResult {
  walletId: string;
  keyId: string;
  kind: ShareChangeKind;
  fromVersion: number;
  version: number;
  publicKey: string;
  threshold: number;
  parties: string[];
  dealers: string[];
}

/** Rebuilds the lost share of one party from `helpers` (at least the threshold, the party excluded). */
export interface RecoverRequest {
  tenant: string;
  /** Who asks (for the audit record); the client fills it in. */
  requestedBy?: string;
  walletId: string;
  /** The party that lost its share. */
  party: string;
  /** Parties that help; the coordinator picks the threshold of them by default. */
  helpers?: string[];
}

/** A signature made and verified to show that a set of shares still signs; its message signs nothing else. */
export interface SigningProof {
  signers: string[];
  message: string;
  signature: string;
  publicKey: string;
}

export interface RecoverResult extends ReshareResult {
  recovered: string;
  /** The recovered party signed with helpers, and the signature verified under the wallet key. */
  proof: SigningProof;
}

export interface BackupRequest {
  tenant: string;
  /** Who asks (for the audit record); the client fills it in. */
  requestedBy?: string;
  walletId: string;
}

export interface BackupResult {
  walletId: string;
  version: number;
  /** One per party that exported, each encrypted to that party's configured recovery key. */
  backups: ShareBackup[];
  failed: { party: string; code: string; reason: string }[];
}

export interface ValidateRequest {
  tenant: string;
  /** Who asks (for the audit record); the client fills it in. */
  requestedBy?: string;
  walletId: string;
}

/** What the coordinator's record says each party's share must match. */
export interface ValidateContext {
  tenant: string;
  walletId: string;
  keyId: string;
  version: number;
  threshold: number;
  parties: string[];
  public: PublicPackage;
}

export interface ShareCheck {
  party: string;
  ok: boolean;
  /** Why not, when not ok: the party's own words, or why it did not answer. */
  code?: string;
  reason?: string;
}

export interface ValidateResult {
  walletId: string;
  version: number;
  threshold: number;
  parties: ShareCheck[];
  /** A signature by `threshold` parties whose shares checked out, verified and then discarded. */
  dryRun: { signers: string[]; verified: boolean; code?: string; reason?: string };
  ok: boolean;
}

/** A ceremony's audit record: who asked for what, when, on which wallet version, and how it ended. */
export interface AuditEntry {
  tenant: string;
  walletId: string;
  ceremony:
    | 'keygen'
    | 'sign'
    | ShareChangeKind
    | 'backup'
    | 'validation'
    | 'pairing'
    | 'approval'
    | 'rules-publish'
    | 'governance-publish'
    | 'webhook-subscription'
    | 'webhook-replay';
  workflowId: string;
  ceremonyId: string;
  /** Who asked, as the client named them (`CONCLAVE_ACTOR`, by default user@host). */
  requestedBy: string;
  outcome: 'completed' | 'failed';
  /** A failure's code, culprit and one-line reason. */
  code?: string;
  culprit?: string;
  reason?: string;
  /** The wallet version the ceremony started from, and the one it used or made. */
  fromVersion?: number;
  version?: number;
  /** The parties that took part. */
  parties: string[];
  detail?: Record<string, string | number | boolean | string[]>;
  /** When the coordinator recorded it (ISO 8601). */
  at: string;
}

/** A page of a tenant's audit chain, with its checkpoints and the coordinator's public key. */
export interface AuditChainPage {
  tenant: string;
  entries: AuditChainEntry[];
  checkpoints: AuditCheckpoint[];
  more: boolean;
  coordinatorKey?: string;
}

export type AuditRecord = Omit<AuditEntry, 'workflowId' | 'ceremonyId' | 'at' | 'outcome' | 'requestedBy'>;

/** Publishes a rule set (its JSON text), or re-publishes an older version (`rollbackTo`). */
export interface PublishRulesRequest {
  tenant: string;
  requestedBy?: string;
  text?: string;
  /** The tenant's policy config (lists, calendar, prices), published with the rules; defaults otherwise. */
  config?: unknown;
  rollbackTo?: number;
  /** The publisher's signature over the rules and config (parties that gate the tenant need it). */
  signature?: PublicationSignature;
}

/** One published version of a tenant's rule set, as history shows it. */
export interface RuleSetVersion {
  tenant: string;
  version: number;
  current: boolean;
  publishedBy: string;
  publishedAt: string;
  previous: number;
  diff: { added: string[]; removed: string[]; changed: string[] };
  rules: number;
  rollbackOf?: number;
  /** When it takes effect (after the tenant's governance time lock); absent: at publication. */
  effectiveAt?: string;
  /** What parties check it by (the publisher's signature over rules and config), when signed. */
  digest?: string;
}

/** Publishes a governance policy, or re-publishes an older version (`rollbackTo`); always signed. */
export interface PublishGovernanceRequest {
  tenant: string;
  requestedBy?: string;
  policy?: unknown;
  rollbackTo?: number;
  /** The governance publisher's signature over the policy: parties check it themselves. */
  signature: PublicationSignature;
}

/** One published version of a tenant's governance policy, as history shows it. */
export interface GovernanceVersion {
  tenant: string;
  version: number;
  current: boolean;
  publishedBy: string;
  publisherKey: string;
  /** As the publisher signed it. */
  publishedAt: string;
  signature: string;
  /** What parties check it by. */
  digest: string;
  /** When it takes effect (after the time lock of the policy in effect at its publication). */
  effectiveAt: string;
  previous: number;
  policy: GovernancePolicy;
  rollbackOf?: number;
}

/**
 * A share change judged under the tenant's governance: the statement approvers sign, the policy
 * it is judged under, and the approvals it needs.
 */
export interface KeyChangeJudgement {
  statement: KeyChangeStatement;
  digest: string;
  governance: SignedGovernance;
  required: Record<string, number>;
}

/** Replays recorded sign requests against a draft rule set (JSON text). */
export interface BacktestRequest {
  tenant: string;
  text: string;
  /** ISO date; all records by default. */
  since?: string;
  /** The tenant config to judge with; the current version's by default. */
  config?: unknown;
}

export interface BacktestResult {
  evaluated: number;
  changed: {
    workflowId: string;
    walletId: string;
    at: string;
    before: string;
    beforeVersion: number;
    after: string;
    reasons: string[];
  }[];
}

/** One event's delivery to one subscription, as the delivery workflow carries it (no secrets). */
export interface WebhookDispatch {
  tenant: string;
  deliveryId: string;
  eventId: string;
  subscriptionId: string;
  /** Seconds to wait before each retry; after the last, the delivery is dead-lettered. */
  schedule: number[];
}

export type WebhookAttemptOutcome =
  | { outcome: 'delivered'; status: number }
  | { outcome: 'gone'; status: number }
  | { outcome: 'skipped'; reason: string }
  | { outcome: 'failed'; status?: number; retryAfterSeconds?: number };

/** A subscription's secret, sealed to the coordinator by the client that made it. */
export interface WebhookSecretInput {
  sealed: SealedWebhookSecret;
  /** For an Ed25519 (`whsk_`) secret: the `whpk_` key receivers verify with. */
  publicKey?: string;
}

export type WebhookAdminRequest =
  | { action: 'sealing-key' }
  | {
      action: 'create';
      tenant: string;
      subscriptionId: string;
      url: string;
      events: string[];
      secret: WebhookSecretInput;
      requestedBy?: string;
    }
  | { action: 'list'; tenant: string }
  | {
      action: 'rotate';
      tenant: string;
      subscriptionId: string;
      secret: WebhookSecretInput;
      /** Seconds the replaced secrets keep signing (default 86400, at most 7 days). */
      graceSeconds?: number;
      requestedBy?: string;
    }
  | { action: 'disable' | 'enable'; tenant: string; subscriptionId: string; requestedBy?: string }
  | {
      action: 'deliveries';
      tenant: string;
      subscriptionId?: string;
      eventId?: string;
      status?: 'pending' | 'delivered' | 'dead' | 'disabled';
    };

/** A subscription as it is shown: never a secret, only when each one expires. */
export interface WebhookSubscriptionView {
  tenant: string;
  subscriptionId: string;
  url: string;
  events: string[];
  status: 'enabled' | 'disabled';
  disabledReason?: string;
  signing: 'hmac' | 'ed25519';
  /** Ed25519 subscriptions: the whpk_ keys receivers verify with, newest first. */
  publicKeys: string[];
  secrets: { addedAt: string; expiresAt?: string }[];
  createdBy: string;
  createdAt: string;
}

export interface WebhookDeliveryView {
  deliveryId: string;
  eventId: string;
  eventType: string;
  subscriptionId: string;
  status: 'pending' | 'delivered' | 'dead' | 'disabled';
  createdAt: string;
  deliveredAt?: string;
  replayOf?: string;
  attempts: {
    attempt: number;
    at: string;
    latencyMs: number;
    status?: number;
    response?: string;
    error?: string;
  }[];
}

export interface WebhookAdminResult {
  sealingKey?: string;
  subscription?: WebhookSubscriptionView;
  subscriptions?: WebhookSubscriptionView[];
  deliveries?: WebhookDeliveryView[];
}

/** Delivers again one event, or every event in a time range, to one subscription or all. */
export interface WebhookReplayRequest {
  tenant: string;
  eventId?: string;
  /** ISO 8601; with `to` (default now) when no eventId is given. */
  from?: string;
  to?: string;
  subscriptionId?: string;
  requestedBy?: string;
}
