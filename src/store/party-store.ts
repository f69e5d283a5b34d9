/**
 * A party's own database. Everything secret is sealed with the party's key-encryption key
 * (AES-256-GCM, context bound as associated data) before it is written.
 *
 * Only single-document atomic operations are used (FerretDB v1 has no multi-document
 * transactions): idempotency comes from deterministic `_id`s plus insert-or-read.
 */
import type { Collection, Db } from 'mongodb';
import type { SealedBox } from '../crypto/at-rest.js';
import type { PublicPackage } from '../crypto/frost.js';
import { isDuplicateKey } from './mongo.js';

export interface PeerEntry {
  partyId: string;
  identifier: string;
  identityPublic: string;
  transportPublic: string;
}

export interface PartyKeysDoc {
  _id: 'self';
  partyId: string;
  identityPublic: string;
  transportPublic: string;
  sealed: SealedBox;
}

export interface PinnedPeerDoc {
  _id: string;
  identityPublic: string;
  transportPublic: string;
  pinnedAt: Date;
}

/** Round state and round output of one step of one ceremony: the idempotency record. */
export interface RoundDoc {
  _id: string;
  tenant: string;
  ceremonyId: string;
  step: string;
  output: unknown;
  sealedState?: SealedBox;
  createdAt: Date;
}

export type ShareStatus = 'pending' | 'active' | 'retired';

export interface ShareDoc {
  _id: string;
  tenant: string;
  walletId: string;
  keyId: string;
  version: number;
  scheme: string;
  status: ShareStatus;
  identifier: string;
  threshold: number;
  roster: PeerEntry[];
  public: PublicPackage;
  publicKey: string;
  transcriptHash: string;
  sealed: SealedBox;
  createdAt: Date;
  activatedAt?: Date;
}

export type NonceStatus = 'fresh' | 'used';

/** One signing nonce pair, bound at creation to one ceremony, key and message. */
export interface NonceDoc {
  _id: string;
  tenant: string;
  ceremonyId: string;
  keyId: string;
  version: number;
  messageHash: string;
  status: NonceStatus;
  /** Sealed nonces while fresh; removed in the same update that marks the nonce used. */
  sealed?: SealedBox;
  round1Output: unknown;
  /** Hash of (message, commitment list) the nonce was spent on, and the share it produced. */
  spentOn?: string;
  round2Output?: unknown;
  createdAt: Date;
}

/** Marks a ceremony as aborted; rounds still in flight check it and undo what they stored. */
export interface TombstoneDoc {
  _id: string;
  tenant: string;
  ceremonyId: string;
  abortedAt: Date;
}

export const ceremonyDocId = (tenant: string, ceremonyId: string) => `${tenant}|${ceremonyId}`;
export const shareDocId = (tenant: string, keyId: string, version: number) =>
  `${tenant}|${keyId}|v${version}`;
export const roundDocId = (tenant: string, ceremonyId: string, step: string) =>
  `${tenant}|${ceremonyId}|${step}`;
export const nonceDocId = ceremonyDocId;

export class PartyStore {
  readonly keys: Collection<PartyKeysDoc>;
  readonly peers: Collection<PinnedPeerDoc>;
  readonly rounds: Collection<RoundDoc>;
  readonly shares: Collection<ShareDoc>;
  readonly nonces: Collection<NonceDoc>;
  readonly tombstones: Collection<TombstoneDoc>;

  constructor(db: Db) {
    this.keys = db.collection('party_keys');
    this.peers = db.collection('pinned_peers');
    this.rounds = db.collection('round_state');
    this.shares = db.collection('shares');
    this.nonces = db.collection('nonces');
    this.tombstones = db.collection('aborted_ceremonies');
  }

  async ensureIndexes(): Promise<void> {
    await this.shares.createIndex({ tenant: 1, walletId: 1, status: 1 });
    await this.rounds.createIndex({ tenant: 1, ceremonyId: 1 });
  }

  /** Insert `doc` unless a document with its id exists; either way return the stored one. */
  static async insertOrGet<T extends { _id: string }>(col: Collection<T>, doc: T): Promise<T> {
    try {
      // eslint-disable-next-line @typescript-eslint/no-explicit-any
      await col.insertOne(doc as any);
      return doc;
    } catch (err) {
      if (!isDuplicateKey(err)) throw err;
      // eslint-disable-next-line @typescript-eslint/no-explicit-any
      const existing = await col.findOne({ _id: doc._id } as any);
      if (!existing) throw err;
      return existing as T;
    }
  }
}
