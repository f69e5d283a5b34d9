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
}

export const walletDocId = (tenant: string, walletId: string) => `${tenant}|${walletId}`;

export class CoordinatorStore {
  readonly wallets: Collection<WalletDoc>;
  constructor(db: Db) {
    this.wallets = db.collection('wallets');
  }
  async ensureIndexes(): Promise<void> {
    await this.wallets.createIndex({ tenant: 1, createdAt: -1 });
  }
}
