/**
 * Recovery of a party's lost share: its helpers rebuild it with the repairable threshold scheme,
 * and the wallet moves to its next version with the rebuilt share and everyone else's carried
 * forward, through the same two-phase activation, switch and retirement as resharing. The
 * recovered party then proves it signs: a dry-run signature with helpers, verified, that signs
 * nothing else.
 */
import { executeChild, workflowInfo } from '@temporalio/workflow';
import type { Envelope, RecoverRequest, RecoverResult, ReshareContext } from '../activities/types.js';
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
import { shareChangeRecord } from './reshare.js';
import { signWorkflow } from './sign.js';

export async function recoverWorkflow(req: RecoverRequest): Promise<RecoverResult> {
  const ceremonyId = ceremonyIdOfThisRun();
  let ctx: ReshareContext | undefined;
  let switched = false;
  try {
    const lostInfo = await party(req.party).describeParty();
    ctx = await coordinator.planRecover(req, ceremonyId, lostInfo);
    const c = ctx;
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
    const ids = c.roster.map((p) => p.partyId);
    const results = await onEach(ids, (p) =>
      p === lost ? party(p).repairReceive(c, commitments, sigmas) : party(p).recoverCarry(c),
    );
    const confirmed = await coordinator.confirmReshare(c, results);
    await onEach(ids, (p) => party(p).reshareActivate(c, results));
    await coordinator.switchWalletVersion(c, confirmed);
    switched = true;
    await onEach(ids, (p) => party(p).reshareRetire(c));
    await coordinator.releaseWallet(c);
    const signers = [lost, ...c.dealers.slice(0, c.threshold - 1)];
    const message = await coordinator.dryRunMessage('recovery-proof', ceremonyId);
    const proof = await executeChild(signWorkflow, {
      workflowId: `${workflowInfo().workflowId}:proof`,
      args: [{ tenant: c.tenant, walletId: c.walletId, message, signers, requestedBy: req.requestedBy }],
    });
    await audit(req.requestedBy, {
      ...shareChangeRecord(c),
      detail: { ...shareChangeRecord(c).detail, proofSigners: proof.signers },
    });
    return {
      ...(await coordinator.reshareResult(c)),
      recovered: lost,
      proof: { signers: proof.signers, message, signature: proof.signature, publicKey: proof.publicKey },
    };
  } catch (err) {
    if (ctx) {
      const c = ctx;
      await audit(req.requestedBy, shareChangeRecord(c), err);
      await evenIfCancelled(async () => {
        // Nobody's share of the current version was touched until the switch: release at once,
        // then, best effort, parties forget this ceremony's pending shares.
        // a switch whose answer was lost still happened: then the new shares are the wallet's
        if (!switched) {
          switched = await coordinator.getWallet(c.tenant, c.walletId).then(
            (w) => w.version === c.toVersion,
            () => true, // cannot tell: keep what parties hold; an unused version is only litter
          );
        }
        await coordinator.releaseWallet(c);
        if (!switched) await Promise.allSettled(c.roster.map((p) => partyBrief(p.partyId).reshareAbort(c)));
      });
    }
    throw abortWith(`recovery ${workflowInfo().workflowId}`, err);
  }
}
