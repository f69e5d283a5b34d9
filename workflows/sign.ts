/**
 * FROST signing behind the tenant's rules. The coordinator judges the request first; a blocked
 * one ends there, an escalated one waits for signed approvals (updates) until they meet the
 * requirement, one approver rejects, or the escalation expires. Then two rounds run on the chosen
 * signers' workers, each party checking the signed request, rules and approvals itself, and the
 * coordinator aggregates (./frost-sign.ts, ./ecdsa-sign.ts).
 */
import { ApplicationFailure, workflowInfo } from '@temporalio/workflow';
import type { SignedApproval } from '../src/policy/authorization.js';
import type { Decision } from '../src/policy/types.js';
import type { AuditRecord } from '../src/audit/contracts.js';
import type {
  SignContext,
  SignJudgement,
  SignRequest,
  SignResult,
  TransactionState,
} from '../src/ceremony/sign/contracts.js';
import type { WalletInfo } from '../src/ceremony/contracts.js';
import {
  abortWith,
  audit,
  evenIfCancelled,
  ceremonyIdOfThisRun,
  coordinator,
  failureDetails,
  partyBrief,
  raiseEvents,
  assertWorkflowOfTenant,
} from './common.js';
import type { RaisedEvent } from '../src/webhooks/events.js';
import { awaitApprovals, serveApprovals, type ApprovalBox } from './approvals.js';
import { signEcdsa } from './ecdsa-sign.js';
import { refillNoncePool, signFrost } from './frost-sign.js';
export { submitApprovalUpdate, transactionQuery } from './approvals.js';

export async function signWorkflow(req: SignRequest): Promise<SignResult> {
  assertWorkflowOfTenant(req.tenant);
  const ceremonyId = ceremonyIdOfThisRun();
  const requestId = workflowInfo().workflowId;
  const tx: TransactionState = {
    requestId,
    tenant: req.tenant,
    walletId: req.walletId,
    state: 'judging',
    approvals: [],
  };
  const accepted: SignedApproval[] = [];
  let ctx: SignContext | undefined;
  let judged: SignJudgement | null = null;
  let signed = false;

  const box: ApprovalBox = { tx, accepted };
  serveApprovals(
    box,
    { tenant: req.tenant, walletId: req.walletId, ceremonyId },
    (approval, given) => coordinator.checkApproval(judged!, approval, given),
    (cancellation) => coordinator.checkCancellation(judged!, cancellation),
  );

  try {
    // The tenant's rules first: a blocked request never reaches a party.
    judged = await coordinator.evaluateSignPolicy(req, requestId);
    if (!req.dryRun) await raiseEvents(req.tenant, judgedEvents(req, ceremonyId, requestId, judged));
    if (judged) {
      const j = judged;
      Object.assign(tx, {
        request: j.request,
        requestDigest: j.requestDigest,
        rulesVersion: j.publication.rulesVersion,
        publicationDigest: j.publicationDigest,
        decision: decisionSummary(j.decision),
        approvers: j.publication.config.approvers.map((a) => ({ id: a.id, roles: a.roles ?? [] })),
      });
      if (j.decision.outcome === 'block') {
        tx.state = 'blocked';
        throw policyRefusal(j.decision);
      }
      if (j.decision.outcome === 'escalate') await awaitSignApprovals(j);
    }
    tx.state = 'signing';
    const planned = await coordinator.planSign(req, ceremonyId);
    ctx = judged
      ? {
          ...planned,
          authorization: {
            request: judged.request,
            publication: judged.publication,
            approvals: accepted,
            ...(judged.velocity ? { velocity: judged.velocity } : {}),
          },
        }
      : planned;
    // FROST: a preprocessed nonce from the wallet's pool, if it has one ready (then one round)
    const claimed =
      ctx.protocol === 'dkls23'
        ? undefined
        : await coordinator.claimNonceSlot(ctx, req.signers !== undefined);
    if (claimed) ctx = claimed.ctx;
    const c = ctx;
    const result = c.protocol === 'dkls23' ? await signEcdsa(c) : await signFrost(c);
    if (claimed?.pool) await refillNoncePool(req.tenant, claimed.pool);
    signed = true;
    tx.state = 'signed';
    tx.signature = result.signature;
    await audit(req.requestedBy, signRecord(req, c, judged, tx));
    return judged
      ? { ...result, policy: { ...policySummary(judged.decision, tx), tx: judged.request.statement.tx } }
      : result;
  } catch (err) {
    if (!signed && !['blocked', 'rejected', 'expired', 'cancelled'].includes(tx.state)) tx.state = 'failed';
    tx.failure = failureDetails(err).message;
    const j = judged;
    await evenIfCancelled(async () => {
      if (j?.reservation && !signed) await coordinator.releaseReservation(req.tenant, j.reservation);
    });
    await audit(req.requestedBy, signRecord(req, ctx, judged, tx), err);
    if (ctx) {
      const c = ctx;
      await evenIfCancelled(() => Promise.allSettled(c.signers.map((p) => partyBrief(p).signAbort(c))));
    }
    throw abortWith(`signing ${requestId}`, err);
  }

  /** Waits for the approvals the decision requires; one rejection ends it, and so does the expiry. */
  async function awaitSignApprovals(j: SignJudgement): Promise<void> {
    const why = j.decision.fired
      .filter((f) => f.action === 'escalate')
      .map((f) => `${f.rule}: ${f.reason}`)
      .join('; ');
    await awaitApprovals(
      box,
      j.decision.approvals,
      j.publication.config.escalationExpiresAfter * 1000,
      `rules v${j.decision.rulesVersion}`,
      why,
    );
    await raiseEvents(req.tenant, [
      {
        type: 'transaction.approved',
        source: ceremonyId,
        data: {
          requestId,
          walletId: req.walletId,
          rulesVersion: j.decision.rulesVersion,
          approvals: tx.approvals.map((a) => `${a.approver} (${a.role})`),
        },
      },
    ]);
  }
}

/** What judging a request raises: it was created, and (with rules) blocked or escalated. */
function judgedEvents(
  req: SignRequest,
  source: string,
  requestId: string,
  j: SignJudgement | null,
): RaisedEvent[] {
  const base = { requestId, walletId: req.walletId };
  const created: RaisedEvent = {
    type: 'transaction.created',
    source,
    data: {
      ...base,
      message: req.message,
      ...(req.batch ? { batch: req.batch.length } : {}),
      ...(req.path ? { path: req.path } : {}),
      ...(j
        ? { transaction: j.transaction, policy: j.decision.outcome, rulesVersion: j.decision.rulesVersion }
        : {}),
    },
  };
  if (j?.decision.outcome !== 'escalate') return [created];
  const d = j.decision;
  const reasons = d.fired.filter((f) => f.action === 'escalate').map((f) => `${f.rule}: ${f.reason}`);
  const expiresAt = new Date(Date.now() + j.publication.config.escalationExpiresAfter * 1000).toISOString();
  return [
    created,
    {
      type: 'transaction.escalated',
      source,
      data: { ...base, rulesVersion: d.rulesVersion, reasons, required: d.approvals, expiresAt },
    },
    {
      type: 'approval.requested',
      source,
      data: {
        ...base,
        rulesVersion: d.rulesVersion,
        required: d.approvals,
        approvers: j.publication.config.approvers
          .filter((a) => (a.roles ?? []).some((r) => (d.approvals[r] ?? 0) > 0))
          .map((a) => a.id),
        expiresAt,
      },
    },
  ];
}

const signRecord = (
  req: SignRequest,
  c: SignContext | undefined,
  judged: SignJudgement | null,
  tx: TransactionState,
): AuditRecord => ({
  tenant: req.tenant,
  walletId: req.walletId,
  ceremony: 'sign',
  ...(c ? { version: c.version } : {}),
  parties: c?.signers ?? [],
  detail: {
    ...(req.dryRun ? { dryRun: req.dryRun.purpose } : {}),
    ...(c ? { message: c.message, path: c.path } : {}),
    ...(c?.batch ? { batch: c.batch.map((i) => `${i.path} ${i.message}`) } : {}),
    ...(c?.merkleRoot ? { merkleRoot: c.merkleRoot } : {}),
    ...(judged ? policyDetail(judged, tx) : {}),
  },
});

/**
 * What the audit record keeps of a decision: outcome, rules version, the rules that fired, and
 * the transaction as judged (so a draft rule set can be replayed against it: `rules backtest`).
 */
const policyDetail = (
  { decision: d, transaction }: SignJudgement,
  tx: TransactionState,
): Record<string, string | number | string[]> => ({
  policy: d.outcome,
  rulesVersion: d.rulesVersion,
  fired: d.fired.map((f) => `${f.action} ${f.rule}: ${f.reason}${f.failedClosed ? ' (failed closed)' : ''}`),
  tx: JSON.stringify(transaction),
  ...(d.outcome === 'escalate'
    ? {
        approvals: tx.approvals.map((a) => `${a.verdict} ${a.approver} (${a.role}) at ${a.at}`),
        state: tx.state,
      }
    : {}),
});

const decisionSummary = (d: Decision): NonNullable<TransactionState['decision']> => ({
  outcome: d.outcome,
  approvals: d.approvals,
  flags: d.flags,
  fired: d.fired.map((f) => ({ rule: f.rule, action: f.action, reason: f.reason })),
});

const policySummary = (d: Decision, tx: TransactionState): NonNullable<SignResult['policy']> => ({
  outcome: d.outcome,
  rulesVersion: d.rulesVersion,
  flags: d.flags,
  fired: d.fired.map((f) => ({ rule: f.rule, action: f.action, reason: f.reason })),
  approvals: tx.approvals.map((a) => ({ approver: a.approver, role: a.role })),
});

/** A blocked request fails as POLICY_BLOCKED, with the rules that blocked it. */
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
