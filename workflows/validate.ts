/**
 * Share validation: every party checks its share of the wallet's current version, then the
 * threshold of parties whose shares checked out make a dry-run signature, which is verified and
 * discarded. Each party's answer is reported; a party that does not answer in time is reported
 * as unreachable, not waited for.
 */
import { executeChild, workflowInfo } from '@temporalio/workflow';
import type { ShareCheck, ValidateRequest, ValidateResult } from '../src/ceremony/validate/contracts.js';
import {
  abortWith,
  audit,
  ceremonyIdOfThisRun,
  coordinator,
  failureDetails,
  partyBrief,
  assertWorkflowOfTenant,
} from './common.js';
import { signWorkflow } from './sign.js';

export async function validateWorkflow(req: ValidateRequest): Promise<ValidateResult> {
  assertWorkflowOfTenant(req.tenant);
  try {
    const ctx = await coordinator.planValidate(req);
    const settled = await Promise.allSettled(
      ctx.parties.map((p) => partyBrief(p, '20 seconds').validateShare(ctx)),
    );
    const parties: ShareCheck[] = settled.map((s, i) => {
      if (s.status === 'fulfilled') return s.value;
      const { message, details } = failureDetails(s.reason);
      return { party: ctx.parties[i]!, ok: false, code: details.code, reason: `did not answer: ${message}` };
    });
    const signers = parties
      .filter((p) => p.ok)
      .slice(0, ctx.threshold)
      .map((p) => p.party);
    let dryRun: ValidateResult['dryRun'];
    if (signers.length < ctx.threshold) {
      dryRun = {
        signers: [],
        verified: false,
        code: 'BAD_SHARE',
        reason: `only ${signers.length} valid shares, ${ctx.threshold} are needed to sign`,
      };
    } else {
      try {
        const message = await coordinator.dryRunMessage('share-validation', ceremonyIdOfThisRun());
        // aggregation verifies the signature under the wallet key, or fails naming a bad signer
        await executeChild(signWorkflow, {
          workflowId: `${workflowInfo().workflowId}:dry-run`,
          args: [
            {
              tenant: ctx.tenant,
              walletId: ctx.walletId,
              message,
              signers,
              requestedBy: req.requestedBy,
              dryRun: { purpose: 'share-validation', reference: ceremonyIdOfThisRun() },
            },
          ],
        });
        dryRun = { signers, verified: true };
      } catch (err) {
        const { message, details } = failureDetails(err);
        dryRun = { signers, verified: false, code: details.code, reason: message };
      }
    }
    const result: ValidateResult = {
      walletId: ctx.walletId,
      version: ctx.version,
      threshold: ctx.threshold,
      parties,
      dryRun,
      ok: dryRun.verified && parties.every((p) => p.ok),
    };
    await audit(req.requestedBy, {
      tenant: ctx.tenant,
      walletId: ctx.walletId,
      ceremony: 'validation',
      version: ctx.version,
      parties: ctx.parties,
      detail: {
        ok: result.ok,
        failed: parties.filter((p) => !p.ok).map((p) => p.party),
        dryRunSigners: dryRun.signers,
        dryRunVerified: dryRun.verified,
      },
    });
    return result;
  } catch (err) {
    throw abortWith(`share validation ${workflowInfo().workflowId}`, err);
  }
}
