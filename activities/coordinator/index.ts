/**
 * All activities the coordinator worker registers on `conclave.coordinator`: planning, agreement
 * checks, aggregation, the wallet registry, rules, governance, audit and webhooks. The coordinator
 * sees only public data; it verifies every party's signed messages itself.
 */
import type { CoordinatorStore } from '../../src/store/coordinator-store.js';
import { retryScheduleOf } from '../../src/webhooks/retry.js';
import { withFailures } from '../failures.js';
import { coordinatorRegistry, openCoordinatorStore } from './registry.js';
import { auditActivities } from './audit.js';
import { governanceActivities } from './governance.js';
import { keygenActivities } from './keygen.js';
import { noncePoolActivities } from './nonce-pool.js';
import { pairingActivities } from './pairing.js';
import { policyActivities } from './policy.js';
import { shareChangeActivities } from './share-change.js';
import { signActivities } from './sign.js';
import { validateActivities } from './validate.js';
import { walletActivities } from './wallets.js';
import { webhookActivities } from './webhooks.js';

export function createCoordinatorActivities(
  openStore: () => Promise<CoordinatorStore> = openCoordinatorStore,
) {
  const registry = coordinatorRegistry(openStore);
  const webhooks = webhookActivities(registry.getStore, {
    coordinatorSeed: () => registry.auditKey()?.secret,
    audit: registry.appendEntry,
    retrySchedule: () => retryScheduleOf(process.env),
  });
  return withFailures({
    ...policyActivities(registry.getStore),
    ...governanceActivities(registry.getStore),
    ...webhooks,
    ...keygenActivities(registry),
    ...walletActivities(registry),
    ...signActivities(registry),
    ...noncePoolActivities(registry),
    ...pairingActivities(registry),
    ...shareChangeActivities(registry),
    ...validateActivities(registry),
    ...auditActivities(registry, webhooks),
  });
}

export type CoordinatorActivities = ReturnType<typeof createCoordinatorActivities>;
