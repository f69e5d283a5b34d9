/**
 * Approvals of a request that waits in its workflow: a sign request its rules escalated, or a
 * share change its tenant's governance requires approvals for. Approvals arrive as the
 * `submitApproval` update; the coordinator checks each (`check`), every verdict is audited, and
 * `transaction` shows where the request stands.
 */
import { ApplicationFailure, condition, defineQuery, defineUpdate, setHandler } from '@temporalio/workflow';
import type { SignedApproval, SignedCancellation } from '../src/policy/authorization.js';
import { approvalsMet, describeApprovals } from '../src/policy/decision.js';
import type { Approvals } from '../src/policy/types.js';
import type { TransactionState } from '../src/ceremony/sign/contracts.js';
import { coordinator } from './common.js';

/** An approval or rejection of a waiting request, signed by a registered approver. */
export const submitApprovalUpdate = defineUpdate<TransactionState, [SignedApproval]>('submitApproval');
/** Its initiator withdraws a request that waits for approvals. */
export const cancelRequestUpdate = defineUpdate<TransactionState, [SignedCancellation]>('cancelRequest');
/** Where a request stands: decision, approvals, expiry, outcome. */
export const transactionQuery = defineQuery<TransactionState>('transaction');

/** The approvals a waiting request has gathered. */
export interface ApprovalBox {
  tx: TransactionState;
  accepted: SignedApproval[];
  rejectedBy?: string;
  cancelledBy?: string;
}

/**
 * Serves the query, the approval update and the cancel update of one request. `check` says why
 * an approval is refused (or undefined), `checkCancel` why a cancellation is; both run only while
 * the request awaits approval.
 */
export function serveApprovals(
  box: ApprovalBox,
  where: { tenant: string; walletId: string; ceremonyId: string },
  check: (approval: SignedApproval, accepted: SignedApproval[]) => Promise<string | undefined>,
  checkCancel: (cancellation: SignedCancellation) => Promise<string | undefined>,
): void {
  const { tx, accepted } = box;
  setHandler(transactionQuery, () => tx);
  setHandler(
    submitApprovalUpdate,
    async (approval) => {
      const why = await check(approval, accepted);
      // another verdict may have landed while this one was checked
      if (tx.state !== 'awaiting-approval') throw notWaiting(tx);
      const again = accepted.some((a) => a.statement.approver === approval.statement.approver);
      const s = approval.statement;
      // every verdict, accepted or refused, is in the audit chain
      await coordinator.recordAudit({
        tenant: where.tenant,
        walletId: where.walletId,
        ceremony: 'approval',
        workflowId: tx.requestId,
        ceremonyId: `${where.ceremonyId}#${String(approval.signature).slice(0, 32)}`,
        requestedBy: String(s.approver).slice(0, 128),
        outcome: why || again ? 'failed' : 'completed',
        ...(why || again ? { code: 'UNAUTHORIZED', reason: why ?? 'a second verdict' } : {}),
        parties: [],
        // what the caller claimed, cut short: a refused verdict may carry anything
        detail: {
          verdict: String(s.verdict).slice(0, 16),
          role: String(s.role).slice(0, 128),
          requestDigest: String(s.requestDigest).slice(0, 64),
        },
      });
      if (why || again) {
        const reason = why ?? `${approval.statement.approver} has already given a verdict on this request`;
        throw refusal('UNAUTHORIZED', `approval refused: ${reason}`);
      }
      accepted.push(approval);
      tx.approvals.push({ approver: s.approver, role: s.role, verdict: s.verdict, at: s.at });
      if (s.verdict === 'reject') box.rejectedBy ??= s.approver;
      return tx;
    },
    {
      validator: (approval) => {
        if (tx.state !== 'awaiting-approval') throw notWaiting(tx);
        if (typeof approval?.statement?.approver !== 'string')
          throw new Error('an approval needs a statement');
      },
    },
  );
  setHandler(
    cancelRequestUpdate,
    async (cancellation) => {
      const why = await checkCancel(cancellation);
      if (tx.state !== 'awaiting-approval') throw notWaiting(tx);
      const s = cancellation.statement;
      await coordinator.recordAudit({
        tenant: where.tenant,
        walletId: where.walletId,
        ceremony: 'approval',
        workflowId: tx.requestId,
        ceremonyId: `${where.ceremonyId}#cancel#${String(cancellation.signature ?? s.at).slice(0, 32)}`,
        requestedBy: String(s.initiator).slice(0, 128),
        outcome: why ? 'failed' : 'completed',
        ...(why ? { code: 'UNAUTHORIZED', reason: why } : {}),
        parties: [],
        detail: { verdict: 'cancel', requestDigest: String(s.requestDigest).slice(0, 64) },
      });
      if (why) throw refusal('UNAUTHORIZED', `cancellation refused: ${why}`);
      box.cancelledBy ??= s.initiator;
      return tx;
    },
    {
      validator: (cancellation) => {
        if (tx.state !== 'awaiting-approval') throw notWaiting(tx);
        if (typeof cancellation?.statement?.initiator !== 'string')
          throw new Error('a cancellation needs a statement');
      },
    },
  );
}

/**
 * Waits until the approvals meet `required`, one approver rejects (APPROVAL_REJECTED), the
 * initiator cancels (CANCELLED), or `waitMs` passes (APPROVAL_EXPIRED, with `why` added to the
 * reason).
 */
export async function awaitApprovals(
  box: ApprovalBox,
  required: Approvals,
  waitMs: number,
  what: string,
  why = '',
): Promise<void> {
  const { tx, accepted } = box;
  tx.state = 'awaiting-approval';
  tx.expiresAt ??= new Date(Date.now() + waitMs).toISOString();
  const settled = await condition(
    () => approvalsMet(required, accepted) || box.rejectedBy !== undefined || box.cancelledBy !== undefined,
    waitMs,
  );
  if (box.cancelledBy !== undefined) {
    tx.state = 'cancelled';
    throw refusal('CANCELLED', `${box.cancelledBy} cancelled the request (${what})`);
  }
  if (box.rejectedBy !== undefined) {
    tx.state = 'rejected';
    throw refusal('APPROVAL_REJECTED', `${box.rejectedBy} rejected the request`);
  }
  if (!settled) {
    tx.state = 'expired';
    const given = tx.approvals.map((a) => `${a.approver} (${a.role})`).join(', ') || 'none';
    throw refusal(
      'APPROVAL_EXPIRED',
      `the escalation expired at ${tx.expiresAt}: ${what} required approvals (${describeApprovals(required)}), given: ${given}${why ? `; ${why}` : ''}`,
    );
  }
}

const notWaiting = (tx: TransactionState) =>
  new Error(`request ${tx.requestId} is ${tx.state}, not awaiting approval`);

export const refusal = (code: string, message: string) =>
  ApplicationFailure.create({
    message,
    type: code,
    nonRetryable: true,
    details: [{ code, reason: message }],
  });
