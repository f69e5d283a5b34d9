/**
 * Temporal settings: connection, namespace, task-queue names, timeouts.
 *
 * This module is imported by workflow code, so it must stay deterministic and free of Node
 * imports: environment overrides are applied by `resolveTemporalSettings`, which only entry
 * points call (with `process.env`).
 */

export const coordinatorTaskQueue = 'conclave.coordinator';

/** Each party polls its own queue; the coordinator routes round calls there. */
export function partyTaskQueue(partyId: string): string {
  return `party.${partyId}`;
}

/**
 * Timeouts of one party round. A party that is down keeps the round queued until it returns.
 * A round takes milliseconds; startToClose bounds how long a task handed to a worker that was
 * killed (or to its stale long-poll) stays lost before it is retried.
 */
export const partyRoundTimeouts = {
  startToCloseTimeout: '10 seconds',
  scheduleToCloseTimeout: '10 minutes',
  retry: {
    initialInterval: '100 milliseconds',
    backoffCoefficient: 2,
    maximumInterval: '5 seconds',
    // A party with the payload key refuses a round whose input it cannot decode as ours (a
    // coordinator without the key): the SDK reports that as retryable, but no retry decodes.
    nonRetryableErrorTypes: ['UNENCRYPTED_PAYLOAD'] as string[],
  },
} as const;

/**
 * The DKLs23 pair setup's rounds run hundreds of base OTs per pair (seconds of CPU on a small
 * machine, more with many parties sharing its cores): a longer attempt, not a retry that redoes it.
 */
export const pairSetupRoundTimeouts = { ...partyRoundTimeouts, startToCloseTimeout: '2 minutes' } as const;

export const coordinatorActivityTimeouts = {
  startToCloseTimeout: '30 seconds',
  scheduleToCloseTimeout: '5 minutes',
  retry: { initialInterval: '100 milliseconds', backoffCoefficient: 2, maximumInterval: '5 seconds' },
} as const;

/** A ceremony that has not finished after this long fails instead of hanging forever. */
/** One webhook delivery attempt: a 10 s HTTP timeout, DNS, and the attempt log. */
export const webhookAttemptTimeouts = {
  startToCloseTimeout: '30 seconds',
  scheduleToCloseTimeout: '2 minutes',
};

export const ceremonyExecutionTimeout = '30 minutes';

/** A sign request may wait for approvals (at most 30 days, the longest escalation expiry) first. */
export const signExecutionTimeout = '31 days';

/**
 * The search attribute (Keyword) every ceremony carries its tenant in. The local stack registers
 * it; on a cluster, register it (`temporal operator search-attribute create --name ConclaveTenant
 * --type Keyword`) and set CONCLAVE_TENANT_SEARCH_ATTRIBUTE=1.
 */
export const tenantSearchAttribute = 'ConclaveTenant';

export interface TemporalSettings {
  address: string;
  namespace: string;
  /** Whether ceremonies are started with the tenant search attribute. */
  tenantAttribute: boolean;
}

export function resolveTemporalSettings(
  env: Record<string, string | undefined>,
  localDefault?: { address: string },
): TemporalSettings | undefined {
  const address = env.TEMPORAL_ADDRESS || localDefault?.address;
  if (!address) return undefined;
  return {
    address,
    namespace: env.TEMPORAL_NAMESPACE || 'default',
    // the local stack registers the attribute; a cluster only when its operator says so
    tenantAttribute: env.TEMPORAL_ADDRESS ? env.CONCLAVE_TENANT_SEARCH_ATTRIBUTE === '1' : true,
  };
}
