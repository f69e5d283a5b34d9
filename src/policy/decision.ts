/** Combining fired rules into one decision. Pure: the same fired rules always give the same decision. */
import type { Approvals, Decision, FiredRule, RuleSet } from './types.js';

/** Who must approve when a rule set escalates without saying who. */
export const fallbackApprovals: Readonly<Approvals> = Object.freeze({ risk: 1 });

export function defaultApprovalsOf(ruleSet: Pick<RuleSet, 'defaultApprovals'>): Approvals {
  const a = ruleSet.defaultApprovals;
  return { ...(a && Object.keys(a).length > 0 ? a : fallbackApprovals) };
}

/**
 * Any block wins. Otherwise any escalation escalates, requiring per role the maximum count any
 * escalation asked for (the strictest requirement). Flags never change the outcome. When no block
 * or escalation fired, the rule set's default outcome applies and `defaulted` is true.
 */
export function combineDecision(
  fired: readonly FiredRule[],
  ruleSet: Pick<RuleSet, 'version' | 'defaultOutcome' | 'defaultApprovals'>,
): Decision {
  const flags = [...new Set(fired.filter((f) => f.action === 'flag').map((f) => f.flag ?? f.rule))];
  const base = { flags, fired: [...fired], rulesVersion: ruleSet.version };
  if (fired.some((f) => f.action === 'block')) {
    return { ...base, outcome: 'block', approvals: {}, defaulted: false };
  }
  const escalations = fired.filter((f) => f.action === 'escalate');
  if (escalations.length > 0) {
    // a Map, then fromEntries: a role named "__proto__" can never reach an object's prototype
    const need = new Map<string, number>();
    for (const e of escalations) {
      const asked =
        e.approvals && Object.keys(e.approvals).length > 0 ? e.approvals : defaultApprovalsOf(ruleSet);
      for (const [role, n] of Object.entries(asked)) need.set(role, Math.max(need.get(role) ?? 0, n));
    }
    return { ...base, outcome: 'escalate', approvals: Object.fromEntries(need), defaulted: false };
  }
  // only an explicit 'allow' allows: anything else (even a value that slipped past validation) escalates
  if (ruleSet.defaultOutcome === 'allow')
    return { ...base, outcome: 'allow', approvals: {}, defaulted: true };
  return { ...base, outcome: 'escalate', approvals: defaultApprovalsOf(ruleSet), defaulted: true };
}

/**
 * Whether approvals meet a requirement: per role, the approving verdicts that count for it. The
 * approvals must already be checked (one verdict per approver, roles the approver holds).
 */
export function approvalsMet(
  required: Approvals,
  accepted: readonly { statement: { verdict: string; role: string } }[],
): boolean {
  return Object.entries(required).every(
    ([role, n]) =>
      accepted.filter((a) => a.statement.verdict === 'approve' && a.statement.role === role).length >= n,
  );
}

export const describeApprovals = (a: Approvals): string =>
  Object.entries(a)
    .map(([role, n]) => `${n} ${role}`)
    .join(', ') || 'none';
