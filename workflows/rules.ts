/** A tenant's rule sets through the coordinator: publish, roll back, history (clients need only Temporal). */
import type {
  BacktestRequest,
  BacktestResult,
  PublishRulesRequest,
  RuleSetVersion,
} from '../activities/types.js';
import { abortWith, coordinator } from './common.js';

export async function publishRulesWorkflow(req: PublishRulesRequest): Promise<RuleSetVersion> {
  try {
    return await coordinator.publishRules(req);
  } catch (err) {
    throw abortWith('rule set publish', err);
  }
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
