/** The coordinator's database: public wallet records only (no secrets ever reach it). */
import type { Collection, Db } from 'mongodb';
import type { PublicPackage } from '../crypto/frost.js';
import type { AuditEntry } from '../audit/contracts.js';
import type { PeerEntry } from '../ceremony/contracts.js';
import type { AuditCheckpointDoc, AuditHeadDoc, AuditKeyDoc } from './audit-log.js';
import { PolicyStore } from './policy-store.js';
import { WebhookStore } from './webhook-store.js';

export interface WalletDoc {
  _id: string;
  tenant: string;
  walletId: string;
  keyId: string;
  version: number;
  curve: string;
  scheme: string;
  threshold: number;
  parties: PeerEntry[];
  publicKey: string;
  publicPackage: PublicPackage;
  transcriptHash: string;
  status: 'active';
  createdAt: Date;
  /** The lifecycle ceremony (rotation, reshare, recovery) that holds the wallet; signing waits for it. */
  lockedBy?: string | null;
  /**
   * The highest version any lifecycle ceremony was planned to produce. Each ceremony gets a
   * version number of its own, so what an aborted one left on a party that was away can never be
   * taken for the shares of a later one.
   */
  lastPlannedVersion?: number;
  /** When this version became the wallet's current one. */
  versionSince?: Date;
}

/** One version of a wallet (its committee, threshold and public package); never changes. */
export type WalletVersionDoc = Omit<WalletDoc, 'lockedBy' | 'lastPlannedVersion'>;

/** One entry of a tenant's hash-chained audit log (src/store/audit-log.ts). */
export type AuditDoc = Omit<AuditEntry, 'at'> & {
  _id: string;
  at: Date;
  /** One entry per key: a retried append finds it. */
  key: string;
  seq: number;
  prevHash: string;
  hash: string;
};

/**
 * A pool of preprocessed FROST nonces of one wallet version and signer set: how many slots it
 * keeps ready (`target`), the last slot published (`produced`) and the last one claimed
 * (`claimed`, a hint: claims themselves are `NonceSlotClaimDoc`s). Small; updated by `_id`.
 */
export interface NoncePoolDoc {
  _id: string;
  tenant: string;
  walletId: string;
  keyId: string;
  version: number;
  signers: string[];
  target: number;
  produced: number;
  claimed: number;
  createdAt: Date;
}

/** One published slot of a pool: every signer's signed commitments (insert-only, read by `_id`). */
export interface NonceSlotDoc {
  _id: string;
  poolId: string;
  commitments: unknown[];
  createdAt: Date;
}

/** A slot taken by one signing ceremony; the unique `_id` (the slot) makes the claim single. */
export interface NonceSlotClaimDoc {
  _id: string;
  ceremonyId: string;
  claimedAt: Date;
}

/** The pools of one wallet version (by pool id), so a request that names no signers can find one. */
export interface NoncePoolIndexDoc {
  _id: string;
  poolIds: string[];
}

export const walletDocId = (tenant: string, walletId: string) => `${tenant}|${walletId}`;
export const walletVersionDocId = (tenant: string, walletId: string, version: number) =>
  `${tenant}|${walletId}|v${version}`;

export class CoordinatorStore {
  /** The current version of each wallet, and its lifecycle lock: read fresh, replaced on a version switch. */
  readonly wallets: Collection<WalletDoc>;
  /** Every version of every wallet (insert-only, read by `_id`). */
  readonly walletVersions: Collection<WalletVersionDoc>;
  /** The per-tenant hash-chained audit log (insert-only, under `tenant|seq`). */
  readonly audit: Collection<AuditDoc>;
  /** Signed checkpoints of the audit log's head. */
  readonly auditCheckpoints: Collection<AuditCheckpointDoc>;
  readonly auditHeads: Collection<AuditHeadDoc>;
  readonly auditKeys: Collection<AuditKeyDoc>;
  /** Preprocessed FROST nonces: pools, their published slots, claims, and each version's pools. */
  readonly noncePools: Collection<NoncePoolDoc>;
  readonly nonceSlots: Collection<NonceSlotDoc>;
  readonly nonceSlotClaims: Collection<NonceSlotClaimDoc>;
  readonly noncePoolIndex: Collection<NoncePoolIndexDoc>;
  /** Per-tenant rule sets and their versions. */
  readonly policy: PolicyStore;
  /** Webhook subscriptions, events, deliveries and attempts. */
  readonly webhooks: WebhookStore;
  constructor(db: Db) {
    this.wallets = db.collection('wallets');
    this.walletVersions = db.collection('wallet_versions');
    this.audit = db.collection('audit_log');
    this.auditCheckpoints = db.collection('audit_checkpoints');
    this.auditHeads = db.collection('audit_heads');
    this.auditKeys = db.collection('audit_keys');
    this.noncePools = db.collection('nonce_pools');
    this.nonceSlots = db.collection('nonce_slots');
    this.nonceSlotClaims = db.collection('nonce_slot_claims');
    this.noncePoolIndex = db.collection('nonce_pool_index');
    this.policy = new PolicyStore(db);
    this.webhooks = new WebhookStore(db);
  }
  async ensureIndexes(): Promise<void> {
    await this.wallets.createIndex({ tenant: 1, createdAt: -1 });
    await this.audit.createIndex({ tenant: 1, walletId: 1, at: 1 });
    await this.audit.createIndex({ tenant: 1, seq: 1 });
    await this.policy.ensureIndexes();
    await this.webhooks.ensureIndexes();
  }
}
