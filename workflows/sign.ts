/** FROST signing: two rounds on the chosen signers' workers, aggregation on the coordinator. */
import { workflowInfo } from '@temporalio/workflow';
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
  try {
    ctx = await coordinator.planSign(req, ceremonyId);
    const c = ctx;
    const commitments = await onEach(c.signers, (p) => party(p).signRound1(c));
    const shares = await onEach(c.signers, (p) => party(p).signRound2(c, commitments));
    const result = await coordinator.aggregateSignature(c, commitments, shares);
    await audit(req.requestedBy, signRecord(c));
    return result;
  } catch (err) {
    if (ctx) {
      const c = ctx;
      await audit(req.requestedBy, signRecord(c), err);
      await evenIfCancelled(() => Promise.allSettled(c.signers.map((p) => partyBrief(p).signAbort(c))));
    }
    throw abortWith(`signing ${workflowInfo().workflowId}`, err);
  }
}

const signRecord = (c: SignContext): AuditRecord => ({
  tenant: c.tenant,
  walletId: c.walletId,
  ceremony: 'sign',
  version: c.version,
  parties: c.signers,
  detail: { message: c.message, path: c.path, ...(c.merkleRoot ? { merkleRoot: c.merkleRoot } : {}) },
});

/** Reads a wallet's public record through the coordinator (clients need only Temporal). */
export async function getWalletWorkflow(tenant: string, walletId: string): Promise<WalletInfo> {
  try {
    return await coordinator.getWallet(tenant, walletId);
  } catch (err) {
    throw abortWith('wallet lookup', err);
  }
}
