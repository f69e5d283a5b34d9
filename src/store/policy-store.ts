/**
 * Per-tenant rule sets, versioned: every published version is an immutable document (who
 * published it, when, what changed against the version before); a small head document per tenant
 * says which version is current and which number comes next.
 */
import type { Collection, Db } from 'mongodb';
import type { PublicationSignature } from '../policy/authorization.js';
import type { GovernancePolicy } from '../policy/governance.js';
import type { RuleSet, TenantPolicyConfig } from '../policy/types.js';

export interface RuleSetDoc {
  _id: string;
  tenant: string;
  version: number;
  ruleSet: RuleSet;
  /** The tenant's lists, calendar and prices, published with the rules: a version pins both. */
  config: TenantPolicyConfig;
  publishedBy: string;
  publishedAt: Date;
  /** The version that was current when this one was published (0: none). */
  previous: number;
  /** Rule names added, removed and changed against `previous`. */
  diff: { added: string[]; removed: string[]; changed: string[] };
  /** Set when this version re-publishes an older one. */
  rollbackOf?: number;
  /** The publisher's signature over rules and config; parties that gate the tenant require it. */
  signature?: PublicationSignature;
  /** When it takes effect: its publication plus the tenant's governance time lock (absent: at once). */
  effectiveAt?: Date;
}

/**
 * One request's hold on the tenant's velocity limits. The `_id` carries the tenant's next sequence
 * number, so inserting it is the atomic step: of two requests judged against the same ledger,
 * only one gets the number and the other is judged again with the first one counted.
 */
export interface ReservationDoc {
  _id: string;
  tenant: string;
  seq: number;
  workflowId: string;
  walletId: string;
  /** ISO 8601, the request's time; `atDate` the same for queries. */
  at: string;
  atDate: Date;
  asset: string;
  amount: string;
  fiatValue?: string;
  /** Set when the request was rejected, expired or failed: it no longer counts. */
  released?: boolean;
}

export const reservationDocId = (tenant: string, seq: number) => `${tenant}|r${seq}`;

export interface PolicyHeadDoc {
  _id: string;
  /** The version decisions use; 0 before the first publish. */
  current: number;
  /** The highest version number handed out. */
  last: number;
  /** Pinned by the tenant's first signed publication: the only key that may publish after it. */
  publisher?: string;
  publisherKey?: string;
}

export const ruleSetDocId = (tenant: string, version: number) => `${tenant}|v${version}`;

/** One published version of a tenant's governance policy (immutable; always signed). */
export interface GovernanceDoc {
  _id: string;
  tenant: string;
  version: number;
  policy: GovernancePolicy;
  signature: PublicationSignature;
  publishedAt: Date;
  /** The version that was current when this one was published (0: none). */
  previous: number;
  rollbackOf?: number;
  /** When it takes effect: its publication plus the time lock of the policy in effect then. */
  effectiveAt: Date;
}

export const governanceDocId = (tenant: string, version: number) => `${tenant}|g${version}`;

export class PolicyStore {
  readonly ruleSets: Collection<RuleSetDoc>;
  readonly heads: Collection<PolicyHeadDoc>;
  readonly reservations: Collection<ReservationDoc>;
  readonly governance: Collection<GovernanceDoc>;
  /** Per tenant: current and last governance version, and the pinned governance publisher. */
  readonly governanceHeads: Collection<PolicyHeadDoc>;
  constructor(db: Db) {
    this.ruleSets = db.collection('rule_sets');
    this.heads = db.collection('policy_heads');
    this.reservations = db.collection('velocity_reservations');
    this.governance = db.collection('governance_versions');
    this.governanceHeads = db.collection('governance_heads');
  }
  async ensureIndexes(): Promise<void> {
    await this.ruleSets.createIndex({ tenant: 1, version: -1 });
    await this.reservations.createIndex({ tenant: 1, seq: -1 });
    await this.reservations.createIndex({ tenant: 1, workflowId: 1 });
  }
}
