/**
 * A fresh DKLs23 pair setup for a threshold-ECDSA wallet's current shares: every two parties run
 * new OT setups and agree new zero-share seeds, replacing the old ones (including any a failed
 * consistency check retired). Shares and key do not change.
 */
import { workflowInfo } from '@temporalio/workflow';
import type { AuditRecord, PairingRequest, PairingResult, PairSetupContext } from '../activities/types.js';
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

export async function pairingWorkflow(req: PairingRequest): Promise<PairingResult> {
  assertWorkflowOfTenant(req.tenant);
  let ctx: PairSetupContext | undefined;
  try {
    const c = (ctx = await coordinator.planPairing(req, ceremonyIdOfThisRun()));
    const done = await runPairSetup(c);
    await activatePairSetup(c, done);
    await audit(req.requestedBy, pairingRecord(c));
    return {
      walletId: c.walletId,
      keyId: c.keyId,
      version: c.version,
      parties: c.roster.map((p) => p.partyId),
      setupId: c.ceremonyId,
    };
  } catch (err) {
    if (ctx) {
      await audit(req.requestedBy, pairingRecord(ctx), err);
      await abortPairSetup(ctx);
    }
    throw abortWith(`pairing ${workflowInfo().workflowId}`, err);
  }
}

const pairingRecord = (c: PairSetupContext): AuditRecord => ({
  tenant: c.tenant,
  walletId: c.walletId,
  ceremony: 'pairing',
  version: c.version,
  parties: c.roster.map((p) => p.partyId),
  detail: { keyId: c.keyId },
});
