/** Share changes' contracts (rotation, reshare, and the recovery built on them): request, context, result. */
import type { ShareChangeKind } from '../contracts.js';
import type { PublicPackage } from '../../crypto/frost.js';
import type { SigningProtocol } from '../../crypto/schemes.js';
import type { KeyChangeAuthorization } from '../../policy/governance.js';
import type { PeerEntry } from '../../store/party-store.js';

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
