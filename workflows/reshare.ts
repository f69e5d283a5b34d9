/**
 * Rotation and resharing: new shares of the same key for a committee and threshold (the same
 * ones for a rotation). Two-phase: new shares are stored pending, activated when every new party
 * has confirmed the same public package, the wallet then moves to the new version, and only then
 * are the old shares destroyed. Until the switch, an abort leaves the wallet signing as before.
 */
import { workflowInfo } from '@temporalio/workflow';
import type { AuditRecord } from '../src/audit/contracts.js';
import type { Envelope } from '../src/crypto/envelope.js';
import type { PairSetupContext } from '../src/ceremony/pair-setup/contracts.js';
import type { ReshareContext, ReshareRequest, ReshareResult } from '../src/ceremony/reshare/contracts.js';
import type { KeyChangeAuthorization } from '../src/policy/governance.js';
import { keyChangeTargetOf } from '../src/policy/governance.js';
import { approveKeyChange, governanceDetail, keyChangeRequest, type KeyChangeRequest } from './key-change.js';
import {
  abortWith,
  audit,
  failureDetails,
  evenIfCancelled,
  ceremonyIdOfThisRun,
  coordinator,
  onEach,
  party,
  partyBrief,
  assertWorkflowOfTenant,
  runPairSetup,
  activatePairSetup,
} from './common.js';

export async function reshareWorkflow(req: ReshareRequest): Promise<ReshareResult> {
  assertWorkflowOfTenant(req.tenant);
  const change = shareChange(req);
  try {
    const current = await coordinator.getWallet(req.tenant, req.walletId);
    const newParties = req.parties ?? current.parties;
    const infos = await onEach(newParties, (p) => party(p).describeParty());
    const ceremonyId = ceremonyIdOfThisRun();
    const authorization = await approveShareChange(
      change,
      await coordinator.previewReshare(req, ceremonyId, infos),
      req.requestedBy,
    );
    const c = planned(
      change,
      await coordinator.planReshare(req, ceremonyId, infos, authorization?.statement),
      authorization,
    );
    const deals = await onEach(c.dealers, (p) => party(p).reshareDeal(c));
    const commitments = deals.map((d) => d.broadcast);
    const subShares = deals.flatMap((d) => d.direct);
    const results = await onEach(
      c.roster.map((p) => p.partyId),
      (p) =>
        party(p).reshareReceive(
          c,
          commitments,
          subShares.filter((e: Envelope) => e.to === p),
        ),
    );
    await completeShareChange(change, c, results);
    await audit(req.requestedBy, shareChangeRecord(c));
    change.box.tx.state = 'completed';
    return await coordinator.reshareResult(c);
  } catch (err) {
    await abortShareChange(change, req.requestedBy, err);
    throw abortWith(`resharing ${workflowInfo().workflowId}`, err);
  }
}

/**
 * How far a share change got: judged (`ctx` is its plan), `planned` (the wallet is locked for it),
 * `switched` (its new shares are the wallet's and nothing is undone).
 */
export interface ShareChange extends KeyChangeRequest {
  ctx?: ReshareContext;
  planned: boolean;
  switched: boolean;
}

/** A share change of this workflow, serving its `transaction` query and approval update. */
export const shareChange = (req: { tenant: string; walletId: string }): ShareChange =>
  Object.assign(keyChangeRequest(req), { planned: false, switched: false });

/**
 * Under the tenant's governance (when it published a policy), a share change runs only on a
 * statement approved as the policy requires, checked again by every party before it deals,
 * receives, activates or destroys anything.
 */
export async function approveShareChange(
  change: ShareChange,
  preview: ReshareContext,
  requestedBy: string | undefined,
): Promise<KeyChangeAuthorization | undefined> {
  change.ctx = preview;
  const { ceremonyId: _c, ...target } = keyChangeTargetOf(preview);
  return approveKeyChange(change, target, requestedBy);
}

/** The share change's plan, with the wallet locked for it and its approved statement attached. */
export function planned(
  change: ShareChange,
  plan: ReshareContext,
  authorization: KeyChangeAuthorization | undefined,
): ReshareContext {
  change.planned = true;
  change.box.tx.state = 'running';
  return (change.ctx = authorization ? { ...plan, authorization } : plan);
}

/**
 * The second phase of every share change, once each new party holds a pending share and a signed
 * result: confirm, activate on each new party, switch the wallet's version, destroy the old
 * version's shares, release the wallet.
 */
export async function completeShareChange(
  change: ShareChange,
  c: ReshareContext,
  results: Envelope[],
): Promise<void> {
  // threshold ECDSA: the new version's shares get fresh pairwise setups before they are active
  const pairing: PairSetupContext | undefined =
    c.protocol === 'dkls23'
      ? {
          tenant: c.tenant,
          ceremonyId: c.ceremonyId,
          walletId: c.walletId,
          keyId: c.keyId,
          version: c.toVersion,
          roster: c.roster,
        }
      : undefined;
  const pairsDone = pairing ? await runPairSetup(pairing) : [];
  const confirmed = await coordinator.confirmReshare(c, results);
  if (pairing) await activatePairSetup(pairing, pairsDone);
  const activations = await onEach(
    c.roster.map((p) => p.partyId),
    (p) => party(p).reshareActivate(c, results),
  );
  await coordinator.switchWalletVersion(c, confirmed);
  change.switched = true;
  // each old party checks every new party's signed activation before it destroys anything
  await onEach(
    c.oldRoster.map((p) => p.partyId),
    (p) => party(p).reshareRetire(c, activations),
  );
  await coordinator.releaseWallet(c);
}

/**
 * After a failed share change: record it, release the wallet at once (before the switch its old
 * shares are untouched, so it signs as before), then, best effort, have parties forget what
 * this ceremony stored. Runs even if the workflow was cancelled.
 */
export async function abortShareChange(change: ShareChange, requestedBy: string | undefined, err: unknown) {
  const c = change.ctx;
  const tx = change.box.tx;
  if (!['rejected', 'expired', 'cancelled'].includes(tx.state)) tx.state = 'failed';
  tx.failure = failureDetails(err).message;
  if (!c) return;
  await audit(requestedBy, shareChangeRecord(c), err);
  // refused, rejected or expired before the wallet was locked: nothing reached a party
  if (!change.planned) return;
  await evenIfCancelled(async () => {
    if (!change.switched) {
      // a switch whose answer was lost still happened: then the new shares are the wallet's
      change.switched = await coordinator.getWallet(c.tenant, c.walletId).then(
        (w) => w.version === c.toVersion,
        () => true, // cannot tell: keep what parties hold; an unused version is only litter
      );
    }
    await coordinator.releaseWallet(c);
    if (!change.switched) {
      await Promise.allSettled(c.roster.map((p) => partyBrief(p.partyId).reshareAbort(c)));
    }
  });
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
    ...(c.authorization ? governanceDetail(c.authorization) : {}),
  },
});
