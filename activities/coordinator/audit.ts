/**
 * The coordinator's audit activities: records how a ceremony ended (and the webhook event it
 * raises), and reads a tenant's chain page by page or a wallet's records.
 */
import { assertId } from '../../src/validation.js';
import { chainEntryOf } from '../../src/store/audit-log.js';
import { eventOfAuditEntry, type RaisedEvent } from '../../src/webhooks/events.js';
import type { AuditChainPage, AuditEntry } from '../../src/audit/contracts.js';
import type { WebhookDispatch } from '../../src/webhooks/contracts.js';
import type { CoordinatorRegistry } from './registry.js';

const auditPageSize = 200;

/** What recording an audit entry needs of the webhook activities: storing the events it raises. */
export interface AuditWebhooks {
  recordEvents(tenant: string, raised: RaisedEvent[]): Promise<WebhookDispatch[]>;
}

export function auditActivities(registry: CoordinatorRegistry, webhooks: AuditWebhooks) {
  const { getStore, auditKey, appendEntry } = registry;
  return {
    /**
     * Appends how a ceremony ended to the tenant's audit chain (a retry of the same record is a
     * no-op), and records the webhook event it raises: returns the deliveries to start.
     */
    async recordAudit(entry: Omit<AuditEntry, 'at'>): Promise<WebhookDispatch[]> {
      await appendEntry(entry);
      const event = eventOfAuditEntry(entry);
      return event ? webhooks.recordEvents(entry.tenant, [event]) : [];
    },

    /**
     * One page of a tenant's audit chain after `afterSeq` (at most 200 entries), the checkpoints
     * within it, and the coordinator's public key: what `conclave audit verify / export` check.
     */
    async auditChainPage(tenant: string, afterSeq: number): Promise<AuditChainPage> {
      assertId('tenant', tenant);
      const store = await getStore();
      const docs = await store.audit
        .find({ tenant, seq: { $gt: afterSeq } })
        .sort({ seq: 1 })
        .limit(auditPageSize)
        .toArray();
      const last = docs.at(-1)?.seq ?? afterSeq;
      const checkpoints = await store.auditCheckpoints
        .find({
          tenant,
          seq: { $gt: afterSeq, $lte: docs.length < auditPageSize ? Number.MAX_SAFE_INTEGER : last },
        })
        .sort({ seq: 1 })
        .toArray();
      return {
        tenant,
        entries: docs.map(chainEntryOf),
        checkpoints: checkpoints.map(({ _id, ...c }) => c),
        more: docs.length === auditPageSize,
        ...(auditKey() ? { coordinatorKey: auditKey()!.publicKey } : {}),
      };
    },

    /** A wallet's audit records, oldest first. */
    async auditLog(tenant: string, walletId: string): Promise<AuditEntry[]> {
      assertId('tenant', tenant);
      assertId('wallet id', walletId);
      const store = await getStore();
      const docs = await store.audit.find({ tenant, walletId }).sort({ seq: 1 }).limit(10_000).toArray();
      return docs.map(({ _id, at, key: _k, prevHash: _p, hash: _h, ...rest }) => ({
        ...rest,
        at: at.toISOString(),
      }));
    },
  };
}
