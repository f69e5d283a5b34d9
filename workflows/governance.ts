/** A tenant's governance policies through the coordinator: publish, history (clients need only Temporal). */
import { workflowInfo } from '@temporalio/workflow';
import type { GovernanceVersion, PublishGovernanceRequest } from '../activities/types.js';
import {
  abortWith,
  assertWorkflowOfTenant,
  coordinator,
  evenIfCancelled,
  startDeliveries,
} from './common.js';

export async function publishGovernanceWorkflow(req: PublishGovernanceRequest): Promise<GovernanceVersion> {
  assertWorkflowOfTenant(req.tenant);
  let v: GovernanceVersion;
  try {
    v = await coordinator.publishGovernance(req);
  } catch (err) {
    throw abortWith('governance publish', err);
  }
  // announced at once (audit chain, `governance.published` webhook): a stolen publisher key shows
  const dispatches = await evenIfCancelled(() =>
    coordinator
      .recordAudit({
        tenant: v.tenant,
        walletId: '',
        ceremony: 'governance-publish',
        workflowId: workflowInfo().workflowId,
        ceremonyId: `${v.tenant}|g${v.version}`,
        requestedBy: v.publishedBy,
        outcome: 'completed',
        version: v.version,
        parties: [],
        detail: {
          publisherKey: v.publisherKey,
          actions: Object.keys(v.policy.actions),
          ...(v.rollbackOf !== undefined ? { rollbackOf: v.rollbackOf } : {}),
        },
      })
      .catch(() => []),
  );
  await startDeliveries(dispatches);
  return v;
}

export async function governanceHistoryWorkflow(tenant: string): Promise<GovernanceVersion[]> {
  try {
    return await coordinator.governanceHistory(tenant);
  } catch (err) {
    throw abortWith('governance history', err);
  }
}
