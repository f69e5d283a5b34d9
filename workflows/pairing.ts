/**
 * A fresh DKLs23 pair setup for a threshold-ECDSA wallet's current shares: every two parties run
 * new OT setups and agree new zero-share seeds, replacing the old ones (including any a failed
 * consistency check retired). Shares and key do not change.
 */
import { workflowInfo } from '@temporalio/workflow';
import type { AuditRecord } from '../src/audit/contracts.js';
import type {
  PairingRequest,
  PairingResult,
  PairSetupContext,
} from '../src/ceremony/pair-setup/contracts.js';
import {
  abortPairSetup,
  abortWith,
  activatePairSetup,
  assertWorkflowOfTenant,
  audit,
  ceremonyIdOfThisRun,
  coordinator,
  runPairSetup,
} from './common.js';
import { versionTargetOf } from '../src/policy/governance.js';
import { approveKeyChange, governanceDetail, keyChangeRequest } from './key-change.js';

export async function pairingWorkflow(req: PairingRequest): Promise<PairingResult> {
  assertWorkflowOfTenant(req.tenant);
  let ctx: PairSetupContext | undefined;
  const k = keyChangeRequest(req);
  try {
    // under the tenant's governance, a pairing of the current version's roster, approved first
    const { ceremonyId: _c, ...target } = versionTargetOf(
      'pairing',
      await coordinator.describeVersion(req.tenant, req.walletId),
      '',
    );
    const authorization = await approveKeyChange(k, target, req.requestedBy);
    const planned = await coordinator.planPairing(req, ceremonyIdOfThisRun());
    const c = (ctx = authorization ? { ...planned, authorization } : planned);
    const done = await runPairSetup(c);
    await activatePairSetup(c, done);
    await audit(req.requestedBy, pairingRecord(c));
    k.box.tx.state = 'completed';
    return {
      walletId: c.walletId,
      keyId: c.keyId,
      version: c.version,
      parties: c.roster.map((p) => p.partyId),
      setupId: c.ceremonyId,
    };
  } catch (err) {
    if (!['rejected', 'expired', 'cancelled'].includes(k.box.tx.state)) k.box.tx.state = 'failed';
    await audit(
      req.requestedBy,
      ctx
        ? pairingRecord(ctx)
        : { tenant: req.tenant, walletId: req.walletId, ceremony: 'pairing', parties: [] },
      err,
    );
    if (ctx) await abortPairSetup(ctx);
    throw abortWith(`pairing ${workflowInfo().workflowId}`, err);
  }
}

const pairingRecord = (c: PairSetupContext): AuditRecord => ({
  tenant: c.tenant,
  walletId: c.walletId,
  ceremony: 'pairing',
  version: c.version,
  parties: c.roster.map((p) => p.partyId),
  detail: { keyId: c.keyId, ...(c.authorization ? governanceDetail(c.authorization) : {}) },
});
