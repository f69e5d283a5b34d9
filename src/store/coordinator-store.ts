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
