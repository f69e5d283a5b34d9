/** FROST signing: two rounds on the chosen signers' workers, aggregation on the coordinator. */
import { ApplicationFailure, workflowInfo } from '@temporalio/workflow';
import type { Decision, Transaction } from '../src/policy/types.js';
import type { AuditRecord, SignContext, SignRequest, SignResult, WalletInfo } from '../activities/types.js';
import {
  abortWith,
  audit,
  evenIfCancelled,
  ceremonyIdOfThisRun,
  coordinator,
  onEach,
  party,
  partyBrief,
} from './common.js';

export async function signWorkflow(req: SignRequest): Promise<SignResult> {
  const ceremonyId = ceremonyIdOfThisRun();
  let ctx: SignContext | undefined;
  let judged: Judged | null = null;
  try {
    // The tenant's rules first: a blocked or escalated request never reaches a party.
    judged = await coordinator.evaluateSignPolicy(req);
    if (judged && judged.decision.outcome !== 'allow') {
      const refusal = policyRefusal(judged.decision);
      await audit(req.requestedBy, { ...requestRecord(req), detail: policyDetail(judged) }, refusal);
      throw refusal;
    }
    ctx = await coordinator.planSign(req, ceremonyId);
    const c = ctx;
    const commitments = await onEach(c.signers, (p) => party(p).signRound1(c));
    const shares = await onEach(c.signers, (p) => party(p).signRound2(c, commitments));
    const result = await coordinator.aggregateSignature(c, commitments, shares);
    await audit(req.requestedBy, signRecord(c, judged));
    return judged ? { ...result, policy: policySummary(judged.decision) } : result;
  } catch (err) {
    if (ctx) {
      const c = ctx;
      await audit(req.requestedBy, signRecord(c, judged), err);
      await evenIfCancelled(() => Promise.allSettled(c.signers.map((p) => partyBrief(p).signAbort(c))));
    }
    throw abortWith(`signing ${workflowInfo().workflowId}`, err);
  }
}

/** A decision and the transaction it judged (as the coordinator stamped it). */
type Judged = { decision: Decision; transaction: Transaction };

const signRecord = (c: SignContext, judged: Judged | null): AuditRecord => ({
  tenant: c.tenant,
  walletId: c.walletId,
  ceremony: 'sign',
  version: c.version,
  parties: c.signers,
  detail: {
    message: c.message,
    path: c.path,
    ...(c.merkleRoot ? { merkleRoot: c.merkleRoot } : {}),
    ...(judged ? policyDetail(judged) : {}),
  },
});

const requestRecord = (req: SignRequest): AuditRecord => ({
  tenant: req.tenant,
  walletId: req.walletId,
  ceremony: 'sign',
  parties: [],
});

/**
 * What the audit record keeps of a decision: outcome, rules version, the rules that fired, and
 * the transaction as judged (so a draft rule set can be replayed against it: `rules backtest`).
 */
const policyDetail = ({ decision: d, transaction }: Judged): Record<string, string | number | string[]> => ({
  policy: d.outcome,
  rulesVersion: d.rulesVersion,
  fired: d.fired.map((f) => `${f.action} ${f.rule}: ${f.reason}${f.failedClosed ? ' (failed closed)' : ''}`),
  tx: JSON.stringify(transaction),
});

const policySummary = (d: Decision): NonNullable<SignResult['policy']> => ({
  outcome: d.outcome,
  rulesVersion: d.rulesVersion,
  flags: d.flags,
  fired: d.fired.map((f) => ({ rule: f.rule, action: f.action, reason: f.reason })),
});

/**
 * A blocked request fails as POLICY_BLOCKED. An escalated one fails as APPROVAL_REQUIRED with the
 * approvals it needs: gathering approvals is not built yet, so nothing escalated is ever signed.
 */
function policyRefusal(d: Decision): ApplicationFailure {
  const reasons = d.fired
    .filter((f) => f.action === d.outcome)
    .map((f) => `${f.rule}: ${f.reason}`)
    .join('; ');
  const code = d.outcome === 'block' ? 'POLICY_BLOCKED' : 'APPROVAL_REQUIRED';
  const needs = Object.entries(d.approvals)
    .map(([role, n]) => `${n} ${role}`)
    .join(', ');
  const message =
    d.outcome === 'block'
      ? `blocked by rules v${d.rulesVersion}: ${reasons}`
      : `approvals required by rules v${d.rulesVersion} (${needs})${reasons ? `: ${reasons}` : ''}`;
  return ApplicationFailure.create({
    message,
    type: code,
    nonRetryable: true,
    details: [{ code, reason: message }],
  });
}

/** Reads a wallet's public record through the coordinator (clients need only Temporal). */
export async function getWalletWorkflow(tenant: string, walletId: string): Promise<WalletInfo> {
  try {
    return await coordinator.getWallet(tenant, walletId);
  } catch (err) {
    throw abortWith('wallet lookup', err);
  }
}
