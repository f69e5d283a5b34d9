/**
 * Types of the policy engine: what a transaction looks like, what a rule set is, what a plugin
 * provides and what a decision says. Everything here is plain data so a decision can be stored,
 * diffed and replayed.
 */
import type { TopLevelCondition } from 'json-rules-engine';

/** Role → number of approvals required from that role, e.g. `{ risk: 1, treasury: 2 }`. */
export type Approvals = Record<string, number>;
export type Outcome = 'allow' | 'block' | 'escalate';
export type RuleAction = 'block' | 'escalate' | 'flag';

export interface Transaction {
  tenant: string;
  walletId: string;
  chain: string;
  asset: string;
  /** Decimal string, never a float: /^(0|[1-9]\d*)(\.\d+)?$/, at most 78 digits. */
  amount: string;
  destination: string;
  memo?: string;
  metadata?: Record<string, string>;
  initiator: string;
  /**
   * ISO 8601 time the request was made, with an explicit offset ('Z' or '+02:00'). Business-hours
   * rules trust it, so it must be stamped by the server, not taken from the client.
   */
  at: string;
}

/** A transaction as a sign request describes it; tenant, wallet, initiator and time come with the request. */
export interface TransactionDescription {
  chain: string;
  asset: string;
  /** Decimal string, never a float. */
  amount: string;
  destination: string;
  memo?: string;
  metadata?: Record<string, string>;
}

export interface FiredRule {
  /** Rule name. */
  rule: string;
  action: RuleAction;
  /** The rule's reason with `{{fact}}` references filled in with the facts' values. */
  reason: string;
  approvals?: Approvals;
  flag?: string;
  /** The rule could not be evaluated (a fact or operator failed) and was treated as matching. */
  failedClosed?: boolean;
}

export interface Decision {
  outcome: Outcome;
  /** Approvals required when `outcome` is escalate; empty otherwise. */
  approvals: Approvals;
  flags: string[];
  fired: FiredRule[];
  rulesVersion: number;
  /** No block/escalate rule fired and the rule set's default outcome applied. */
  defaulted: boolean;
}

/** A json-rules-engine rule in its JSON form, restricted to what the policy engine understands. */
export interface RuleSpec {
  name: string;
  priority?: number;
  conditions: TopLevelCondition;
  event: {
    type: RuleAction;
    params: {
      /** Template for analysts: `{{fact}}` is replaced by the fact's value. */
      reason: string;
      /** escalate only. */
      approvals?: Approvals;
      /** flag only; defaults to the rule name. */
      flag?: string;
    };
  };
}

export interface RuleSet {
  version: number;
  defaultOutcome: 'allow' | 'escalate';
  /** Used when defaultOutcome is escalate, or when an escalation names no approvals. Default `{ risk: 1 }`. */
  defaultApprovals?: Approvals;
  rules: RuleSpec[];
}

export interface TenantPolicyConfig {
  /** IANA zone, e.g. 'Europe/Paris'. */
  timeZone: string;
  businessHours: {
    /** ISO weekdays: 1 = Monday … 7 = Sunday. */
    days: number[];
    /** 'HH:MM' local time, inclusive. */
    start: string;
    /** 'HH:MM' local time, exclusive; after start. */
    end: string;
  };
  /** 'YYYY-MM-DD' dates in the tenant's zone. */
  holidays: string[];
  denyList: string[];
  allowList: string[];
  /** Sanctioned addresses, already loaded. `undefined` means the list is unavailable: rules using it fail closed. */
  sanctions?: string[];
  /** Asset → decimal price in `fiatCurrency`. */
  prices: Record<string, string>;
  fiatCurrency: string;
  /** Keys allowed to initiate sign requests. Parties check a request's signature against these. */
  initiators: ActorKey[];
  /** Keys allowed to approve or reject escalated requests, with the roles each may approve as. */
  approvers: ActorKey[];
  /** Seconds an escalated request waits for its approvals before it is rejected (default 86400). */
  escalationExpiresAfter: number;
  /**
   * Lets this tenant's webhooks go to loopback, private and link-local addresses, and over plain
   * http (self-hosted receivers inside the tenant's own network). Default false.
   */
  allowPrivateWebhookEndpoints?: boolean;
}

/** A person or system with an Ed25519 key: an initiator or an approver of a tenant. */
export interface ActorKey {
  id: string;
  /** Ed25519 public key, 64 hex characters. */
  publicKey: string;
  /** Approvers only: the roles the key may approve as (e.g. "risk", "treasury"). */
  roles?: string[];
}

/**
 * A request the tenant already holds a reservation for in the velocity ledger: it counts in the
 * rolling sums of every later request. `fiatValue` is absent when the asset had no price.
 */
export interface VelocityEntry {
  walletId: string;
  /** ISO 8601 instant of the request. */
  at: string;
  asset: string;
  amount: string;
  fiatValue?: string;
}

/** State a decision depends on beyond the rule set, the config and the transaction. */
export interface EvaluationContext {
  /**
   * The tenant's earlier reservations (at least those of the last 24 hours), not including the
   * transaction being judged. `undefined` means the ledger is unavailable: velocity facts fail closed.
   */
  velocity?: readonly VelocityEntry[];
}

/**
 * Computes one fact. May return a promise. Throwing (or returning undefined) means the fact
 * cannot be determined, and every rule whose result depends on it fails closed.
 */
export type PolicyFact = (config: TenantPolicyConfig, tx: Transaction, context: EvaluationContext) => unknown;

/**
 * Compares a fact's value with a condition's JSON `value`. The tenant config is passed in (rather
 * than captured in a closure) so operators stay plain functions, listable without a tenant.
 * Throwing, or returning a non-boolean, makes the condition unknown (fail closed).
 */
export type PolicyOperator = (factValue: unknown, jsonValue: unknown, config: TenantPolicyConfig) => boolean;

/**
 * A plugin contributes facts and operators. Both are static records so `validateRuleSet` and the CLI
 * can list them; facts and operators must be deterministic functions of their inputs.
 */
export interface PolicyPlugin {
  readonly name: string;
  readonly facts: Readonly<Record<string, PolicyFact>>;
  readonly operators: Readonly<Record<string, PolicyOperator>>;
  /** Static check of a condition's `value` for one of this plugin's operators: an error message, or undefined. */
  checkValue?(operator: string, value: unknown): string | undefined;
}
