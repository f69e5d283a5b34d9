/** The DKLs23 pair setup's contracts: a pairing request, the setup context, the result. */
import type { KeyChangeAuthorization } from '../../policy/governance.js';
import type { OtSetupMsg1, OtSetupMsg2 } from '../../crypto/ecdsa/multiply.js';
import type { ZeroSeedCommitMsg, ZeroSeedRevealMsg } from '../../crypto/ecdsa/zero-share.js';
import type { PeerEntry } from '../contracts.js';
import { paramsHash } from '../rounds.js';

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

/** Round 1 (direct, encrypted, `pair-1`): the receiver's OT start and its zero-seed commitment. */
export interface PairRound1Body {
  params: string;
  ot: OtSetupMsg1;
  zero: ZeroSeedCommitMsg;
}
/** Round 2 (direct, encrypted, `pair-2`): the sender's OT answer and its zero-seed reveal. */
export interface PairRound2Body {
  params: string;
  ot: OtSetupMsg2;
  zero: ZeroSeedRevealMsg;
}
/** Round 3 (broadcast, `pair-3`/`pair-done`): this party finished this very setup. */
export interface PairDoneBody {
  params: string;
  setupId: string;
}

/** What binds every pair setup message to one setup of one key version. */
export const pairSetupParams = (ctx: PairSetupContext) =>
  paramsHash(['pair-setup', ctx.tenant, ctx.walletId, ctx.keyId, ctx.version, ctx.ceremonyId], ctx.roster);
