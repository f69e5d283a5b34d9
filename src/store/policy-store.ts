/**
 * Per-tenant rule sets, versioned: every published version is an immutable document (who
 * published it, when, what changed against the version before); a small head document per tenant
 * says which version is current and which number comes next.
 */
import type { Collection, Db } from 'mongodb';
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
}

export interface PolicyHeadDoc {
  _id: string;
  /** The version decisions use; 0 before the first publish. */
  current: number;
  /** The highest version number handed out. */
  last: number;
}

export const ruleSetDocId = (tenant: string, version: number) => `${tenant}|v${version}`;

export class PolicyStore {
  readonly ruleSets: Collection<RuleSetDoc>;
  readonly heads: Collection<PolicyHeadDoc>;
  constructor(db: Db) {
    this.ruleSets = db.collection('rule_sets');
    this.heads = db.collection('policy_heads');
  }
  async ensureIndexes(): Promise<void> {
    await this.ruleSets.createIndex({ tenant: 1, version: -1 });
  }
}
