/** Share validation's contracts: the request, what shares must match, each party's answer. */
import type { PublicPackage } from '../../crypto/frost.js';

export interface ValidateRequest {
  tenant: string;
  /** Who asks (for the audit record); the client fills it in. */
  requestedBy?: string;
  walletId: string;
}

/** What the coordinator's record says each party's share must match. */
export interface ValidateContext {
  tenant: string;
  walletId: string;
  keyId: string;
  version: number;
  threshold: number;
  parties: string[];
  public: PublicPackage;
}

export interface ShareCheck {
  party: string;
  ok: boolean;
  /** Why not, when not ok: the party's own words, or why it did not answer. */
  code?: string;
  reason?: string;
}

export interface ValidateResult {
  walletId: string;
  version: number;
  threshold: number;
  parties: ShareCheck[];
  /** A signature by `threshold` parties whose shares checked out, verified and then discarded. */
  dryRun: { signers: string[]; verified: boolean; code?: string; reason?: string };
  ok: boolean;
}
