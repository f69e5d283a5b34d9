/** A tenant's governance policies through the coordinator: publish, history (clients need only Temporal). */
import { workflowInfo } from '@temporalio/workflow';
import type { GovernanceVersion, PublishGovernanceRequest } from '../src/policy/contracts.js';
import { signedGovernanceOf, type SignedGovernance } from '../src/policy/governance.js';
import {
  abortWith,
  assertWorkflowOfTenant,
  coordinator,
  evenIfCancelled,
  partyBrief,
  startDeliveries,
} from './common.js';

/**
 * Tells every party of the deployment of a publication as it is made, so its time lock counts from
 * now on each (best effort: a party that is down counts from when it first meets it).
 */
export async function announcePublication(
  tenant: string,
  kind: 'governance' | 'rules',
  digest: string,
  governance?: SignedGovernance,
): Promise<void> {
  const parties = await coordinator.deploymentParties();
  await Promise.allSettled(
    parties.map((p) => partyBrief(p, '15 seconds').notePublication(tenant, kind, digest, governance)),
  );
}

export async function publishGovernanceWorkflow(req: PublishGovernanceRequest): Promise<GovernanceVersion> {
  assertWorkflowOfTenant(req.tenant);
  let v: GovernanceVersion;
  try {
    v = await coordinator.publishGovernance(req);
  } catch (err) {
    throw abortWith('governance publish', err);
  }
  await announcePublication(v.tenant, 'governance', v.digest, signedGovernanceOf(v));
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
          effectiveAt: v.effectiveAt,
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
