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
