/**
 * A key-management request under the tenant's governance (a share change, a backup export, a
 * pairing): judged by the coordinator into a key-change statement, approved by signed updates as
 * the policy requires (`conclave approve`), then carried to every party, which checks it itself.
 */
import { workflowInfo } from '@temporalio/workflow';
import type { KeyChangeJudgement } from '../src/policy/contracts.js';
import type { KeyChangeAuthorization, KeyChangeTarget } from '../src/policy/governance.js';
import { awaitApprovals, serveApprovals, type ApprovalBox } from './approvals.js';
import { ceremonyIdOfThisRun, coordinator } from './common.js';

/** A request's approvals and, once judged, its statement. */
export interface KeyChangeRequest {
  box: ApprovalBox;
  judged?: KeyChangeJudgement;
}

/** The key-management request of this workflow, serving its `transaction` query and approval update. */
export function keyChangeRequest(req: { tenant: string; walletId: string }): KeyChangeRequest {
  const k: KeyChangeRequest = {
    box: {
      tx: {
        requestId: workflowInfo().workflowId,
        tenant: req.tenant,
        walletId: req.walletId,
        state: 'judging',
        approvals: [],
      },
      accepted: [],
    },
  };
  serveApprovals(
    k.box,
    { ...req, ceremonyId: ceremonyIdOfThisRun() },
    (approval, accepted) => coordinator.checkKeyChangeApproval(k.judged!, approval, accepted),
    // nobody signs a key-change request: an approver's rejection withdraws it
    () => Promise.resolve('a key-change request is withdrawn by an approver rejecting it'),
  );
  return k;
}

/**
 * Judges `target` under the tenant's governance in effect and waits for the approvals it needs.
 * Undefined when the tenant has published no governance: the action runs as before.
 */
export async function approveKeyChange(
  k: KeyChangeRequest,
  target: Omit<KeyChangeTarget, 'ceremonyId' | 'recoveryKey'>,
  requestedBy: string | undefined,
  recoveryKeys?: Record<string, string>,
): Promise<KeyChangeAuthorization | undefined> {
  const j = await coordinator.judgeKeyChange(target, workflowInfo().workflowId, requestedBy, recoveryKeys);
  if (!j) return undefined;
  k.judged = j;
  const tx = k.box.tx;
  const g = j.governance;
  const needs = Object.keys(j.required).length > 0;
  Object.assign(tx, {
    keyChange: j.statement,
    requestDigest: j.digest,
    rulesVersion: g.governanceVersion,
    publicationDigest: j.statement.governanceDigest,
    decision: { outcome: needs ? 'escalate' : 'allow', approvals: j.required, flags: [], fired: [] },
    approvers: g.policy.approvers.map((a) => ({ id: a.id, roles: a.roles ?? [] })),
    expiresAt: j.statement.expiresAt,
  });
  if (needs) {
    const waitMs = Math.max(0, Date.parse(j.statement.expiresAt) - Date.now());
    await awaitApprovals(
      k.box,
      j.required,
      waitMs,
      `governance v${g.governanceVersion} (${j.statement.action})`,
    );
  }
  tx.state = 'running';
  return { governance: g, statement: j.statement, approvals: k.box.accepted };
}

/** What an audit record keeps of a governed action: the governance version and the approvals. */
export const governanceDetail = (a: KeyChangeAuthorization): { governance: number; approvals: string[] } => ({
  governance: a.governance.governanceVersion,
  approvals: a.approvals.map((x) => `${x.statement.verdict} ${x.statement.approver} (${x.statement.role})`),
});
