/**
 * Rotation and resharing: new shares of the same key for a committee and threshold (the same
 * ones for a rotation). Two-phase: new shares are stored pending, activated when every new party
 * has confirmed the same public package, the wallet then moves to the new version, and only then
 * are the old shares destroyed. Until the switch, an abort leaves the wallet signing as before.
 */
import { workflowInfo } from '@temporalio/workflow';
import type {
  AuditRecord,
  Envelope,
  ReshareContext,
  ReshareRequest,
  ReshareResult,
} from '../activities/types.js';
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

export async function reshareWorkflow(req: ReshareRequest): Promise<ReshareResult> {
  const ceremonyId = ceremonyIdOfThisRun();
  let ctx: ReshareContext | undefined;
  let switched = false;
  try {
    const current = await coordinator.getWallet(req.tenant, req.walletId);
    const newParties = req.parties ?? current.parties;
    const infos = await onEach(newParties, (p) => party(p).describeParty());
    ctx = await coordinator.planReshare(req, ceremonyId, infos);
    const c = ctx;
    const newIds = c.roster.map((p) => p.partyId);
    const deals = await onEach(c.dealers, (p) => party(p).reshareDeal(c));
    const commitments = deals.map((d) => d.broadcast);
    const subShares = deals.flatMap((d) => d.direct);
    const results = await onEach(newIds, (p) =>
      party(p).reshareReceive(
        c,
        commitments,
        subShares.filter((e: Envelope) => e.to === p),
      ),
    );
    const confirmed = await coordinator.confirmReshare(c, results);
    await onEach(newIds, (p) => party(p).reshareActivate(c, results));
    await coordinator.switchWalletVersion(c, confirmed);
    switched = true;
    await onEach(
      c.oldRoster.map((p) => p.partyId),
      (p) => party(p).reshareRetire(c),
    );
    await coordinator.releaseWallet(c);
    await audit(req.requestedBy, shareChangeRecord(c));
    return await coordinator.reshareResult(c);
  } catch (err) {
    if (ctx) {
      const c = ctx;
      await audit(req.requestedBy, shareChangeRecord(c), err);
      await evenIfCancelled(async () => {
        // The old shares are untouched until the switch, so the wallet signs as before at once;
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
    throw abortWith(`resharing ${workflowInfo().workflowId}`, err);
  }
}

/** The audit record of a rotation, reshare or recovery. */
export const shareChangeRecord = (c: ReshareContext): AuditRecord => ({
  tenant: c.tenant,
  walletId: c.walletId,
  ceremony: c.kind,
  fromVersion: c.fromVersion,
  version: c.toVersion,
  parties: [...new Set([...c.oldRoster, ...c.roster].map((p) => p.partyId))],
  detail: {
    threshold: c.threshold,
    [c.kind === 'recovery' ? 'helpers' : 'dealers']: c.dealers,
    ...(c.lost ? { recovered: c.lost } : {}),
  },
});
