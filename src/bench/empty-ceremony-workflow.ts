/**
 * Workflow code of the orchestration baseline (bundled by `empty-ceremony.ts`, not by the
 * coordinator): the signing ceremony's shape with no work in it. A local activity plans, two
 * rounds run one activity on each signer's own task queue in parallel, a local activity
 * finishes. Payloads are as large as real round envelopes.
 */
import { proxyActivities, proxyLocalActivities } from '@temporalio/workflow';
import { coordinatorActivityTimeouts, partyRoundTimeouts } from '../../temporal.config.js';

export interface EmptyStepActivities {
  emptyStep(input: string[]): Promise<string>;
}

const local = proxyLocalActivities<EmptyStepActivities>(coordinatorActivityTimeouts);

export async function emptySignCeremony(signerQueues: string[]): Promise<string> {
  const onSigners = (input: string[]) =>
    Promise.all(
      signerQueues.map((taskQueue) =>
        proxyActivities<EmptyStepActivities>({ taskQueue, ...partyRoundTimeouts }).emptyStep(input),
      ),
    );
  const plan = await local.emptyStep([]);
  const round1 = await onSigners([plan]);
  const round2 = await onSigners(round1);
  return local.emptyStep(round2);
}
