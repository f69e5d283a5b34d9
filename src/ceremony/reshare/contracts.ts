/** Share changes' contracts (rotation, reshare, and the recovery built on them): request, context, result. */
import type { ShareChangeKind } from '../contracts.js';
import { transcriptHash } from '../../crypto/encoding.js';
import type { Envelope } from '../../crypto/envelope.js';
import type { PublicPackage } from '../../crypto/frost.js';
import type { SigningProtocol } from '../../crypto/schemes.js';
import type { KeyChangeAuthorization } from '../../policy/governance.js';
import type { PeerEntry } from '../contracts.js';
import { paramsHash } from '../rounds.js';

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

/** Round 1 (broadcast, `reshare-1`/`reshare-commitment`): the dealer's commitments to its new polynomial. */
export interface ReshareDealBody {
  params: string;
  commitment: string[];
}

/** Round 1 (direct, `reshare-1`/`reshare-subshare`): the recipient's sub-share, encrypted to it. */
export interface ReshareSubShareBody {
  share: string;
}

/** Round 2 (broadcast, `reshare-2`/`reshare-result`): the party's public package of the new version. */
export interface ReshareResultBody {
  params: string;
  publicKey: string;
  public: PublicPackage;
  transcriptHash: string;
  reshareHash: string;
}

/** Round 3 (broadcast, `reshare-3`/`reshare-activated`): the party activated its share of the new version. */
export interface ReshareActivationBody {
  params: string;
  publicKey: string;
  version: number;
}

/** What a dealer (or a recovery helper) sends in round 1: a broadcast, and a direct message per recipient. */
export interface DealOutput {
  broadcast: Envelope;
  direct: Envelope[];
}

/** A public package as one string, the same whatever the order of its verifying shares. */
export const canonicalPackage = (p: PublicPackage) =>
  JSON.stringify([p.threshold, p.total, p.commitments, Object.entries(p.verifyingShares).sort()]);

/**
 * Everything every party must agree on: the kind of change (and a recovery's lost party), both
 * committees, thresholds, dealers, versions, old package.
 */
export const reshareParams = (ctx: ReshareContext) =>
  transcriptHash([
    paramsHash(
      [
        'reshare',
        ctx.kind,
        ctx.lost ?? '',
        ctx.tenant,
        ctx.walletId,
        ctx.keyId,
        ctx.scheme,
        ctx.fromVersion,
        ctx.toVersion,
        ctx.threshold,
      ],
      ctx.roster,
    ),
    paramsHash(['old', ctx.oldThreshold, ...ctx.dealers, canonicalPackage(ctx.oldPublic)], ctx.oldRoster),
    ctx.transcriptHash,
  ]);

/** The old committee's entries of the dealers (a recovery's helpers), in the context's order. */
export const dealerEntries = (ctx: ReshareContext): PeerEntry[] =>
  ctx.dealers.map((d) => ctx.oldRoster.find((p) => p.partyId === d)!);
