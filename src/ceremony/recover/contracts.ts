/** Recovery's contracts: the request and the result with its signing proof. */
import type { SigningProof } from '../contracts.js';
import type { ReshareResult } from '../reshare/contracts.js';

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

export interface RecoverResult extends ReshareResult {
  recovered: string;
  /** The recovered party signed with helpers, and the signature verified under the wallet key. */
  proof: SigningProof;
}

/**
 * Step 1 (broadcast, `repair-1`/`repair-commitments`): the helper's commitments to the pieces it
 * split its weighted share into, by the identifier of the helper each piece goes to.
 */
export interface RepairCommitmentsBody {
  params: string;
  /** helper identifier → public point of the piece sent to it */
  commitments: Record<string, string>;
}

/** Step 1 (direct, `repair-1`/`repair-piece`): the recipient's piece, encrypted to it. */
export interface RepairPieceBody {
  piece: string;
}

/** Step 2 (direct, `repair-2`/`repair-sigma`): the sum of the helper's pieces, for the lost party. */
export interface RepairSigmaBody {
  sigma: string;
}
