/**
 * Recovery of a party's lost share: its helpers rebuild it with the repairable threshold scheme,
 * and the wallet moves to its next version with the rebuilt share and everyone else's carried
 * forward, through the same two-phase activation, switch and retirement as resharing. The
 * recovered party then proves it signs: a dry-run signature with helpers, verified, that signs
 * nothing else.
 */
import { executeChild, workflowInfo } from '@temporalio/workflow';
import type { Envelope } from '../src/crypto/envelope.js';
import type { RecoverRequest, RecoverResult } from '../src/ceremony/recover/contracts.js';
import {
  abortWith,
  audit,
  ceremonyIdOfThisRun,
  coordinator,
  onEach,
  party,
  assertWorkflowOfTenant,
} from './common.js';
import {
  abortShareChange,
  approveShareChange,
  completeShareChange,
  planned,
  shareChange,
  shareChangeRecord,
} from './reshare.js';
import { signWorkflow } from './sign.js';

export async function recoverWorkflow(req: RecoverRequest): Promise<RecoverResult> {
  assertWorkflowOfTenant(req.tenant);
  const change = shareChange(req);
  try {
    const lostInfo = await party(req.party).describeParty();
    const ceremonyId = ceremonyIdOfThisRun();
    const authorization = await approveShareChange(
      change,
      await coordinator.previewRecover(req, ceremonyId, lostInfo),
      req.requestedBy,
    );
    const c = planned(
      change,
      await coordinator.planRecover(req, ceremonyId, lostInfo, authorization?.statement),
      authorization,
    );
    const lost = req.party;
    const step1 = await onEach(c.dealers, (p) => party(p).repairDeal(c));
    const commitments = step1.map((d) => d.broadcast);
    const pieces = step1.flatMap((d) => d.direct);
    const sigmas = await onEach(c.dealers, (p) =>
      party(p).repairCombine(
        c,
        commitments,
        pieces.filter((e: Envelope) => e.to === p),
      ),
    );
    const results = await onEach(
      c.roster.map((p) => p.partyId),
      (p) => (p === lost ? party(p).repairReceive(c, commitments, sigmas) : party(p).recoverCarry(c)),
    );
    await completeShareChange(change, c, results);
    const signers = [lost, ...c.dealers.slice(0, c.threshold - 1)];
    const message = await coordinator.dryRunMessage('recovery-proof', c.ceremonyId);
    const proof = await executeChild(signWorkflow, {
      workflowId: `${workflowInfo().workflowId}:proof`,
      args: [
        {
          tenant: c.tenant,
          walletId: c.walletId,
          message,
          signers,
          requestedBy: req.requestedBy,
          dryRun: { purpose: 'recovery-proof', reference: c.ceremonyId },
        },
      ],
    });
    await audit(req.requestedBy, {
      ...shareChangeRecord(c),
      detail: { ...shareChangeRecord(c).detail, proofSigners: proof.signers },
    });
    change.box.tx.state = 'completed';
    return {
      ...(await coordinator.reshareResult(c)),
      recovered: lost,
      proof: { signers: proof.signers, message, signature: proof.signature, publicKey: proof.publicKey },
    };
  } catch (err) {
    await abortShareChange(change, req.requestedBy, err);
    throw abortWith(`recovery ${workflowInfo().workflowId}`, err);
  }
}
