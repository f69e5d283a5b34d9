/**
 * Share validation: every party checks its share of the wallet's current version, then the
 * threshold of parties whose shares checked out make a dry-run signature, which is verified and
 * discarded. Each party's answer is reported; a party that does not answer in time is reported
 * as unreachable (`UNREACHABLE`), not waited for. A validation that finds any problem is audited
 * as failed, with the first problem's code and every problem in its reason.
 */
import {
  ActivityFailure,
  ApplicationFailure,
  TimeoutFailure,
  executeChild,
  workflowInfo,
} from '@temporalio/workflow';
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
      ctx.parties.map((p) => partyBrief(p, answerWithin).validateShare(ctx)),
    );
    const parties: ShareCheck[] = settled.map((s, i) =>
      s.status === 'fulfilled' ? s.value : unanswered(ctx.parties[i]!, s.reason),
    );
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
    await audit(
      req.requestedBy,
      {
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
      },
      result.ok ? undefined : findings(result),
    );
    return result;
  } catch (err) {
    throw abortWith(`share validation ${workflowInfo().workflowId}`, err);
  }
}

/** How long each party has to check its share. */
const answerWithin = '20 seconds';

/** A party's check that failed: in plain words when it did not answer, else its own error. */
function unanswered(party: string, err: unknown): ShareCheck {
  let cause = err;
  while (cause instanceof ActivityFailure && cause.cause) cause = cause.cause;
  if (cause instanceof TimeoutFailure) {
    return {
      party,
      ok: false,
      code: 'UNREACHABLE',
      reason: `did not answer within ${answerWithin} (is its worker running?)`,
    };
  }
  const { message, details } = failureDetails(err);
  return {
    party,
    ok: false,
    code: details.code,
    reason: cause instanceof ApplicationFailure ? message : `did not answer: ${message}`,
  };
}

/** What a validation found wrong, as the failure its audit record carries. */
function findings(r: ValidateResult): ApplicationFailure {
  const failed = r.parties.filter((p) => !p.ok);
  const code = failed[0]?.code ?? r.dryRun.code ?? 'FAILED';
  const reason = [
    ...failed.map(
      (p) => `${p.party} ${p.code === 'UNREACHABLE' ? '' : `${p.code ?? 'FAILED'}: `}${p.reason}`,
    ),
    r.dryRun.verified
      ? `dry run by ${r.dryRun.signers.join(', ')} verified`
      : `dry run failed (${r.dryRun.code ?? 'FAILED'}): ${r.dryRun.reason}`,
  ].join('; ');
  return ApplicationFailure.create({ message: reason, type: code, nonRetryable: true, details: [{ code }] });
}
