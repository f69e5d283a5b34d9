/** The coordinator's database: public wallet records only (no secrets ever reach it). */
import type { Collection, Db } from 'mongodb';
import type { PublicPackage } from '../crypto/frost.js';
import type { PeerEntry } from './party-store.js';

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
  /** The lifecycle ceremony (rotation, reshare) that holds the wallet; signing waits for it. */
  lockedBy?: string | null;
  /** When this version became the wallet's current one. */
  versionSince?: Date;
}

/** One version of a wallet (its committee, threshold and public package); never changes. */
export type WalletVersionDoc = Omit<WalletDoc, 'lockedBy'>;

export const walletDocId = (tenant: string, walletId: string) => `${tenant}|${walletId}`;
export const walletVersionDocId = (tenant: string, walletId: string, version: number) =>
  `${tenant}|${walletId}|v${version}`;

export class CoordinatorStore {
  /** The current version of each wallet, and its lifecycle lock: read fresh, replaced on a version switch. */
  readonly wallets: Collection<WalletDoc>;
  /** Every version of every wallet (insert-only, read by `_id`). */
  readonly walletVersions: Collection<WalletVersionDoc>;
  constructor(db: Db) {
    this.wallets = db.collection('wallets');
    this.walletVersions = db.collection('wallet_versions');
  }
  async ensureIndexes(): Promise<void> {
    await this.wallets.createIndex({ tenant: 1, createdAt: -1 });
  }
}
