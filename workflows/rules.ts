/** A tenant's rule sets through the coordinator: publish, roll back, history (clients need only Temporal). */
import type {
  BacktestRequest,
  BacktestResult,
  PublishRulesRequest,
  RuleSetVersion,
} from '../src/policy/contracts.js';
import { workflowInfo } from '@temporalio/workflow';
import {
  abortWith,
  coordinator,
  evenIfCancelled,
  startDeliveries,
  assertWorkflowOfTenant,
} from './common.js';
import { announcePublication } from './governance.js';

export async function publishRulesWorkflow(req: PublishRulesRequest): Promise<RuleSetVersion> {
  assertWorkflowOfTenant(req.tenant);
  let v: RuleSetVersion;
  try {
    v = await coordinator.publishRules(req);
  } catch (err) {
    throw abortWith('rule set publish', err);
  }
  if (v.digest) await announcePublication(v.tenant, 'rules', v.digest);
  // a publication is a tenant's action like a ceremony: in the audit chain (its own step, so a
  // retry of the append never publishes twice)
  const dispatches = await evenIfCancelled(() =>
    coordinator
      .recordAudit({
        tenant: v.tenant,
        walletId: '',
        ceremony: 'rules-publish',
        workflowId: workflowInfo().workflowId,
        ceremonyId: `${v.tenant}|v${v.version}`,
        requestedBy: v.publishedBy,
        outcome: 'completed',
        version: v.version,
        parties: [],
        detail: {
          added: v.diff.added,
          removed: v.diff.removed,
          changed: v.diff.changed,
          ...(v.rollbackOf !== undefined ? { rollbackOf: v.rollbackOf } : {}),
          ...(v.effectiveAt !== undefined ? { effectiveAt: v.effectiveAt } : {}),
        },
      })
      .catch(() => []),
  );
  await startDeliveries(dispatches);
  return v;
}

export async function rulesHistoryWorkflow(tenant: string): Promise<RuleSetVersion[]> {
  try {
    return await coordinator.rulesHistory(tenant);
  } catch (err) {
    throw abortWith('rule set history', err);
  }
}

export async function backtestRulesWorkflow(req: BacktestRequest): Promise<BacktestResult> {
  try {
    return await coordinator.backtestRules(req);
  } catch (err) {
    throw abortWith('rule set backtest', err);
  }
}

/** One published version's rules and config, for a publisher re-signing it as a rollback. */
export async function ruleSetWorkflow(
  tenant: string,
  version: number,
): Promise<Awaited<ReturnType<typeof coordinator.getRuleSet>>> {
  try {
    return await coordinator.getRuleSet(tenant, version);
  } catch (err) {
    throw abortWith('rule set read', err);
  }
}
