/**
 * A party's own database. Everything secret is sealed with the party's key-encryption key
 * (AES-256-GCM, context bound as associated data) before it is written.
 *
 * Only single-document atomic operations are used (FerretDB v1 has no multi-document
 * transactions): idempotency comes from deterministic `_id`s plus insert-or-read.
 *
 * Collections that grow with every ceremony (`shares`, `nonce_spends`, `aborted_ceremonies`)
 * are insert-only and read by `_id`: FerretDB v1 on SQLite answers those in constant time but
 * scans the whole collection for updates, deletes and counts. Updates and deletes happen only
 * in collections that hold in-flight state and stay small (`pending_shares`, `nonces`,
 * `round_state`), and once per rotation or reshare, when an old share is destroyed.
 */
import type { PeerEntry } from '../ceremony/contracts.js';
import type { Collection, Db } from 'mongodb';
import type { SealedBox } from '../crypto/at-rest.js';
import type { DklsPeerSetup } from '../crypto/ecdsa/dkls-sign.js';
import type { PublicPackage } from '../crypto/frost.js';
import { isDuplicateKey } from './mongo.js';

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
  /**
   * Who vouched for these keys: the party's operator (`conclave party pin`, a restored backup's
   * roster, the dev stack's set-up), or nobody (`first-use`: pinned when a key generation first
   * met the peer). Only vouched keys may join an existing wallet without a governance statement.
   * Absent on pins made before this field existed: first use.
   */
  by?: 'operator' | 'first-use';
  /** Set when an operator replaced the pin (a peer rebuilt with new keys): the keys it replaced. */
  replaced?: { identityPublic: string; transportPublic: string; pinnedAt: Date }[];
}

/** Round state and round output of one step of one ceremony: the idempotency record. */
/**
 * The record that a round ran on this party: small (the state it keeps, sealed, and which
 * stored output is its answer), read on every round. The output itself, which can be large
 * (DKLs23 presign messages), is a `RoundOutputDoc` of its own.
 */
export interface RoundDoc {
  _id: string;
  tenant: string;
  ceremonyId: string;
  step: string;
  /** The id of the round's `RoundOutputDoc`. */
  outputId: string;
  sealedState?: SealedBox;
  createdAt: Date;
}

/** A round's output, written before its `RoundDoc`; only the one that doc names is ever returned. */
export interface RoundOutputDoc {
  _id: string;
  tenant: string;
  ceremonyId: string;
  output: unknown;
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
  /**
   * The ceremony that stored a pending share. Versions are numbered, so an aborted ceremony and
   * the next one name the same share id: this tells a stale pending share from the current one.
   */
  ceremonyId?: string;
}

/** A fresh signing nonce pair, bound at creation to one ceremony, key and request. */
export interface NonceDoc {
  _id: string;
  tenant: string;
  ceremonyId: string;
  keyId: string;
  version: number;
  /** Hash of the signing request (key, message, signer set) the nonce is bound to. */
  request: string;
  sealed: SealedBox;
  round1Output: unknown;
  createdAt: Date;
}

/**
 * The spending of a nonce, under the nonce's own id: the unique `_id` makes spending atomic and
 * single. It keeps what a retry of either round must return; the sealed nonce itself is deleted.
 */
export interface NonceSpendDoc {
  _id: string;
  tenant: string;
  ceremonyId: string;
  keyId: string;
  version: number;
  request: string;
  round1Output: unknown;
  /** Hash of (request, commitment list) the nonce was spent on. */
  spentOn: string;
  round2Output: unknown;
  spentAt: Date;
}

/**
 * What a party holds for DKLs23 signing with one version of a key: which pair setup is current,
 * and which peers it retired. Small, read on every signing round; the setups themselves (per
 * other party, the zero-share seed and the two OT-based multiplication setups) are sealed in a
 * `PairSetupSecretDoc` of that setup. Made by a pair-setup ceremony (at key generation, and
 * again after every share change or abort), under the id of that ceremony: signers refuse to
 * multiply over setups of different ceremonies.
 */
export interface PairSetupDoc {
  _id: string;
  tenant: string;
  keyId: string;
  version: number;
  /** The pair-setup ceremony that made these setups. */
  setupId: string;
  /** Party ids the setup covers (the key's roster at the time). */
  parties: string[];
  /**
   * Peers whose multiplication setup with this party failed its consistency check: never used
   * again, whatever a coordinator asks; only a fresh pair setup replaces them.
   */
  abortedPeers?: string[];
  createdAt: Date;
}

/** The sealed setups of one pair setup of a key version (insert-only; id: pairSetupSecretId). */
export interface PairSetupSecretDoc {
  _id: string;
  tenant: string;
  keyId: string;
  version: number;
  setupId: string;
  /** PairSetups, sealed (at-rest purpose `pair-setup`). */
  sealed: SealedBox;
  createdAt: Date;
}

/** What a pair-setup document seals: per peer identifier, what DKLs23 signing needs. SECRET. */
export interface PairSetups {
  peers: Record<string, DklsPeerSetup>;
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
/** One document per key version: a fresh pair setup replaces the previous one. */
export const pairSetupDocId = shareDocId;
export const pairSetupSecretId = (tenant: string, keyId: string, version: number, setupId: string) =>
  `${pairSetupDocId(tenant, keyId, version)}|${setupId}`;

/**
 * The rule set publishers a party's operator trusts for one tenant (party-local, like pinned
 * peers). A party with this document gates the tenant's signatures itself (src/policy/gate.ts).
 */
export interface TenantTrustDoc {
  _id: string;
  /** Rule set publishers; none: this party does not gate the tenant's signatures. */
  publishers?: { id: string; publicKey: string }[];
  /**
   * Governance publishers; with any, every change of this tenant's shares needs a key-change
   * statement approved under a governance policy one of them signed (src/policy/governance.ts).
   */
  governancePublishers?: { id: string; publicKey: string }[];
  /** The newest governance publication (ms since epoch) this party has acted under: older ones are refused. */
  latestGovernance?: number;
  /**
   * The time lock (seconds) of that governance policy: a newer policy or rule set takes effect on
   * this party only once this long has passed since the party first saw it.
   */
  governanceTimeLock?: number;
  /** The newest publication (ms since epoch) this party has signed under: older ones are refused. */
  latestPublication?: number;
  updatedAt: Date;
}

/**
 * A key-change statement this party acted on, under its digest: one statement authorises one
 * ceremony (insert-only; a replay under another ceremony id is refused).
 */
export interface GovernanceSpendDoc {
  _id: string;
  tenant: string;
  ceremonyId: string;
  at: Date;
}

/** When this party first saw a governance policy or rule set publication (insert-only; time locks count from it). */
export interface PublicationSightingDoc {
  _id: string;
  tenant: string;
  kind: 'governance' | 'rules';
  at: Date;
}

export class PartyStore {
  readonly keys: Collection<PartyKeysDoc>;
  readonly peers: Collection<PinnedPeerDoc>;
  readonly rounds: Collection<RoundDoc>;
  readonly roundOutputs: Collection<RoundOutputDoc>;
  /** Active shares (insert-only). */
  readonly shares: Collection<ShareDoc>;
  /** Shares of ceremonies not yet confirmed by every party. */
  readonly pendingShares: Collection<ShareDoc>;
  readonly nonces: Collection<NonceDoc>;
  readonly nonceSpends: Collection<NonceSpendDoc>;
  readonly tombstones: Collection<TombstoneDoc>;
  readonly tenantTrust: Collection<TenantTrustDoc>;
  readonly governanceSpends: Collection<GovernanceSpendDoc>;
  readonly publicationSightings: Collection<PublicationSightingDoc>;
  /** DKLs23 pairwise setups per key version (replaced, never edited, except for abort marks). */
  readonly pairSetups: Collection<PairSetupDoc>;
  /** Pair setups a ceremony made but not every party has finished yet. */
  readonly pendingPairSetups: Collection<PairSetupDoc>;
  /** The sealed setups of every pair setup above, current or pending. */
  readonly pairSetupSecrets: Collection<PairSetupSecretDoc>;

  constructor(db: Db) {
    this.keys = db.collection('party_keys');
    this.peers = db.collection('pinned_peers');
    this.rounds = db.collection('round_state');
    this.roundOutputs = db.collection('round_outputs');
    this.shares = db.collection('shares');
    this.pendingShares = db.collection('pending_shares');
    this.nonces = db.collection('nonces');
    this.nonceSpends = db.collection('nonce_spends');
    this.tombstones = db.collection('aborted_ceremonies');
    this.tenantTrust = db.collection('tenant_trust');
    this.governanceSpends = db.collection('governance_spends');
    this.publicationSightings = db.collection('publication_sightings');
    this.pairSetups = db.collection('pair_setups');
    this.pendingPairSetups = db.collection('pending_pair_setups');
    this.pairSetupSecrets = db.collection('pair_setup_secrets');
  }

  async ensureIndexes(): Promise<void> {
    await this.rounds.createIndex({ tenant: 1, ceremonyId: 1 });
    await this.roundOutputs.createIndex({ tenant: 1, ceremonyId: 1 });
    await this.pairSetupSecrets.createIndex({ tenant: 1, keyId: 1, version: 1 });
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
