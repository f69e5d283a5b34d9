/** Rule set and governance publication, history and backtest contracts. */
import type { PublicationSignature } from './authorization.js';
import type { GovernancePolicy, KeyChangeStatement, SignedGovernance } from './governance.js';

/** Publishes a rule set (its JSON text), or re-publishes an older version (`rollbackTo`). */
export interface PublishRulesRequest {
  tenant: string;
  requestedBy?: string;
  text?: string;
  /** The tenant's policy config (lists, calendar, prices), published with the rules; defaults otherwise. */
  config?: unknown;
  rollbackTo?: number;
  /** The publisher's signature over the rules and config (parties that gate the tenant need it). */
  signature?: PublicationSignature;
}

/** One published version of a tenant's rule set, as history shows it. */
export interface RuleSetVersion {
  tenant: string;
  version: number;
  current: boolean;
  publishedBy: string;
  publishedAt: string;
  previous: number;
  diff: { added: string[]; removed: string[]; changed: string[] };
  /**
   * The tenant policy config's top-level fields (approvers, initiators, lists, …) that differ
   * from `previous`'s (from the defaults for a first version).
   */
  config: { changed: string[] };
  /** Who signed it: the publisher key's id and public key. Absent: published unsigned. */
  signer?: { id: string; publicKey: string };
  rules: number;
  rollbackOf?: number;
  /** When it takes effect (after the tenant's governance time lock); absent: at publication. */
  effectiveAt?: string;
  /** What parties check it by (the publisher's signature over rules and config), when signed. */
  digest?: string;
}

/** Publishes a governance policy, or re-publishes an older version (`rollbackTo`); always signed. */
export interface PublishGovernanceRequest {
  tenant: string;
  requestedBy?: string;
  policy?: unknown;
  rollbackTo?: number;
  /** The governance publisher's signature over the policy: parties check it themselves. */
  signature: PublicationSignature;
}

/** One published version of a tenant's governance policy, as history shows it. */
export interface GovernanceVersion {
  tenant: string;
  version: number;
  current: boolean;
  publishedBy: string;
  publisherKey: string;
  /** As the publisher signed it. */
  publishedAt: string;
  signature: string;
  /** What parties check it by. */
  digest: string;
  /** When it takes effect (after the time lock of the policy in effect at its publication). */
  effectiveAt: string;
  previous: number;
  policy: GovernancePolicy;
  rollbackOf?: number;
}

/**
 * A share change judged under the tenant's governance: the statement approvers sign, the policy
 * it is judged under, and the approvals it needs.
 */
export interface KeyChangeJudgement {
  statement: KeyChangeStatement;
  digest: string;
  governance: SignedGovernance;
  required: Record<string, number>;
}

/** Replays recorded sign requests against a draft rule set (JSON text). */
export interface BacktestRequest {
  tenant: string;
  text: string;
  /** ISO date; all records by default. */
  since?: string;
  /** The tenant config to judge with; the current version's by default. */
  config?: unknown;
}

export interface BacktestResult {
  evaluated: number;
  changed: {
    workflowId: string;
    walletId: string;
    at: string;
    before: string;
    beforeVersion: number;
    after: string;
    reasons: string[];
  }[];
}

/**
 * Why a sign request is refused under a tenant's published rules before they judge it: it does
 * not describe its transaction, or it is not signed by an initiator while the tenant's config
 * lists initiators. The coordinator refuses with this; the client checks the same before it
 * detaches a request (`conclave sign --detach`), so the refusal comes at once, in the same words.
 */
export function signRequestRefusal(
  req: { tenant: string; tx?: unknown; signed?: unknown },
  config: { initiators: readonly unknown[] },
): { code: 'BAD_INPUT' | 'UNAUTHORIZED'; message: string } | undefined {
  if (!req.tx || typeof req.tx !== 'object')
    return {
      code: 'BAD_INPUT',
      message: `tenant ${req.tenant} has published rules: a sign request must describe its transaction (chain, asset, amount, destination)`,
    };
  if (!req.signed && config.initiators.length > 0)
    return {
      code: 'UNAUTHORIZED',
      message: `tenant ${req.tenant} accepts sign requests signed by its initiators only (set CONCLAVE_KEY)`,
    };
  return undefined;
}
