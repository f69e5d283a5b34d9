/**
 * Webhook deliveries and their administration. A delivery is a workflow of its own, started
 * (and abandoned) by the ceremony that raised the event: its retries are durable timers, over
 * hours, that outlive any worker. Secrets never pass through here: the activity opens them.
 */
import { proxyActivities, sleep, uuid4, workflowInfo } from '@temporalio/workflow';
import type { CoordinatorActivities } from '../activities/coordinator/index.js';
import type {
  WebhookAdminRequest,
  WebhookAdminResult,
  WebhookAttemptOutcome,
  WebhookDispatch,
  WebhookReplayRequest,
} from '../src/webhooks/contracts.js';
import { webhookAttemptTimeouts } from '../temporal.config.js';
import {
  abortWith,
  coordinator,
  evenIfCancelled,
  startDeliveries,
  assertWorkflowOfTenant,
} from './common.js';

/** One attempt is one activity run: the workflow, not Temporal's activity retry, decides when to try again. */
const attempts = proxyActivities<Pick<CoordinatorActivities, 'deliverWebhook'>>({
  ...webhookAttemptTimeouts,
  retry: { maximumAttempts: 1 },
});

/** The longest `retry-after` honoured: a day. */
const maxWaitSeconds = 86_400;

export interface DeliverySummary {
  outcome: 'delivered' | 'gone' | 'skipped' | 'dead';
  attempts: number;
}

export async function webhookDeliveryWorkflow(d: WebhookDispatch): Promise<DeliverySummary> {
  assertWorkflowOfTenant(d.tenant);
  for (let attempt = 1; ; attempt++) {
    let r: WebhookAttemptOutcome;
    try {
      r = await attempts.deliverWebhook(d, attempt);
    } catch {
      r = { outcome: 'failed' }; // the worker or the database failed mid-attempt: an attempt too
    }
    if (r.outcome !== 'failed') return { outcome: r.outcome, attempts: attempt };
    if (attempt > d.schedule.length) {
      await coordinator.deadLetterDelivery(d);
      return { outcome: 'dead', attempts: attempt };
    }
    // exponential steps with ±20% jitter (the workflow's seeded random: replays wait the same)
    const jittered = d.schedule[attempt - 1]! * (0.8 + 0.4 * Math.random());
    const wait = Math.min(Math.max(jittered, r.retryAfterSeconds ?? 0), maxWaitSeconds);
    await sleep(Math.round(wait * 1000));
  }
}

/** Subscriptions (create, list, rotate, disable, enable), the delivery log, and the sealing key. */
export async function webhookAdminWorkflow(req: WebhookAdminRequest): Promise<WebhookAdminResult> {
  if (req.action !== 'sealing-key') assertWorkflowOfTenant(req.tenant);
  try {
    return await coordinator.webhookAdmin(req, workflowInfo().workflowId);
  } catch (err) {
    throw abortWith(`webhooks ${req.action}`, err);
  }
}

/** Delivers again one event, or a time range of events; returns the new deliveries' ids. */
export async function replayWebhooksWorkflow(req: WebhookReplayRequest): Promise<{ deliveries: string[] }> {
  assertWorkflowOfTenant(req.tenant);
  let planned: WebhookDispatch[];
  try {
    planned = await coordinator.planWebhookReplay(req, `r${uuid4().slice(0, 8)}`);
  } catch (err) {
    throw abortWith('webhook replay', err);
  }
  await startDeliveries(planned);
  await evenIfCancelled(() =>
    coordinator
      .recordAudit({
        tenant: req.tenant,
        walletId: '',
        ceremony: 'webhook-replay',
        workflowId: workflowInfo().workflowId,
        ceremonyId: `${workflowInfo().workflowId}/${workflowInfo().runId}`,
        requestedBy: req.requestedBy ?? 'unknown',
        outcome: 'completed',
        parties: [],
        detail: {
          deliveries: planned.length,
          ...(req.eventId ? { eventId: req.eventId } : {}),
          ...(req.from ? { from: req.from } : {}),
          ...(req.to ? { to: req.to } : {}),
          ...(req.subscriptionId ? { subscriptionId: req.subscriptionId } : {}),
        },
      })
      .catch(() => []),
  );
  return { deliveries: planned.map((d) => d.deliveryId) };
}
