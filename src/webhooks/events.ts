/**
 * The events Conclave sends to webhook subscribers: their types, which audit record or workflow
 * step raises each one, their ids and their bodies.
 *
 * An event is public: small, with ids, outcomes and reasons, never a share, a nonce, a key or a
 * webhook secret. Its id is derived from the ceremony and the event type, so a retried step raises
 * the same event (and subscribers can drop duplicates by `webhook-id`).
 */
import type { AuditEntry } from '../audit/contracts.js';
import { sha256, toHex, utf8 } from '../crypto/encoding.js';
import { ConclaveError } from '../errors.js';

export const webhookEventTypes = [
  'transaction.created',
  'transaction.blocked',
  'transaction.escalated',
  'approval.requested',
  'transaction.approved',
  'transaction.rejected',
  'transaction.cancelled',
  'transaction.signed',
  'ceremony.failed',
  'wallet.created',
  'wallet.recovered',
  'wallet.rotated',
  'wallet.reshared',
  'rules.published',
  'governance.published',
] as const;

export type WebhookEventType = (typeof webhookEventTypes)[number];

/** Event data: small and public (ids, outcomes, reasons, the transaction as described). */
export type WebhookEventData = Record<string, unknown>;

/** An event as a workflow raises it; the coordinator gives it its id and time. */
export interface RaisedEvent {
  type: WebhookEventType;
  /** What makes this event unique within its tenant (a ceremony run, a rules version). */
  source: string;
  data: WebhookEventData;
}

/** The body every delivery of an event carries, byte for byte. */
export interface WebhookBody {
  type: WebhookEventType;
  timestamp: string;
  data: WebhookEventData;
}

/** `evt_` and 24 hex digits of a tagged hash of tenant, source and type: the same event, the same id. */
export function webhookEventId(tenant: string, source: string, type: WebhookEventType): string {
  const digest = sha256(utf8(`conclave/webhook-event\n${tenant}\n${source}\n${type}`));
  return `evt_${toHex(digest).slice(0, 24)}`;
}

/** The subscription's event filter, checked: known types, or `*` for all. */
export function parseEventFilter(events: unknown): string[] {
  if (!Array.isArray(events) || events.length === 0 || events.length > webhookEventTypes.length + 1) {
    throw new ConclaveError('BAD_INPUT', 'events must be a non-empty list of event types (or "*")');
  }
  for (const e of events) {
    if (e !== '*' && !(webhookEventTypes as readonly unknown[]).includes(e)) {
      throw new ConclaveError(
        'BAD_INPUT',
        `unknown event type ${JSON.stringify(String(e).slice(0, 40))}; known: ${webhookEventTypes.join(', ')}`,
      );
    }
  }
  return [...new Set(events as string[])].sort();
}

export const eventMatches = (filter: string[], type: WebhookEventType) =>
  filter.includes('*') || filter.includes(type);

/** The event a finished ceremony's audit record raises, if any. */
export function eventOfAuditEntry(e: Omit<AuditEntry, 'at'>): RaisedEvent | undefined {
  const base: WebhookEventData = {
    ...(e.walletId ? { walletId: e.walletId } : {}),
    ...(e.version !== undefined ? { version: e.version } : {}),
  };
  if (e.outcome === 'failed') {
    const failure: WebhookEventData = {
      ...base,
      ceremony: e.ceremony,
      ceremonyId: e.workflowId,
      code: e.code ?? 'FAILED',
      reason: (e.reason ?? '').slice(0, 500),
      ...(e.culprit ? { culprit: e.culprit } : {}),
    };
    if (e.ceremony === 'approval') return undefined; // a refused verdict; the request goes on
    if (e.ceremony === 'sign') {
      if (e.detail?.dryRun !== undefined) return undefined; // a recovery's or validation's proof
      const tx = { ...failure, requestId: e.workflowId, ...policyOf(e) };
      if (e.code === 'POLICY_BLOCKED') return { type: 'transaction.blocked', source: e.ceremonyId, data: tx };
      if (e.code === 'APPROVAL_REJECTED')
        return { type: 'transaction.rejected', source: e.ceremonyId, data: tx };
      if (e.code === 'CANCELLED') return { type: 'transaction.cancelled', source: e.ceremonyId, data: tx };
      return { type: 'ceremony.failed', source: e.ceremonyId, data: tx };
    }
    return { type: 'ceremony.failed', source: e.ceremonyId, data: failure };
  }
  switch (e.ceremony) {
    case 'keygen':
      return {
        type: 'wallet.created',
        source: e.ceremonyId,
        data: { ...base, ceremonyId: e.workflowId, ...pick(e, ['scheme', 'threshold', 'keyId']) },
      };
    case 'sign':
      if (e.detail?.dryRun !== undefined) return undefined;
      return {
        type: 'transaction.signed',
        source: e.ceremonyId,
        data: {
          ...base,
          requestId: e.workflowId,
          signers: e.parties,
          ...pick(e, ['message', 'path']),
          ...policyOf(e),
        },
      };
    case 'rotation':
    case 'reshare':
    case 'recovery': {
      const type = {
        rotation: 'wallet.rotated',
        reshare: 'wallet.reshared',
        recovery: 'wallet.recovered',
      } as const;
      return {
        type: type[e.ceremony],
        source: e.ceremonyId,
        data: {
          ...base,
          ceremonyId: e.workflowId,
          parties: e.parties,
          ...pick(e, ['recovered', 'threshold']),
        },
      };
    }
    case 'rules-publish':
      return {
        type: 'rules.published',
        source: e.ceremonyId,
        data: {
          version: e.version ?? 0,
          publishedBy: e.requestedBy,
          ...pick(e, ['added', 'removed', 'changed', 'rollbackOf', 'effectiveAt']),
        },
      };
    case 'governance-publish':
      return {
        type: 'governance.published',
        source: e.ceremonyId,
        data: {
          version: e.version ?? 0,
          publishedBy: e.requestedBy,
          ...pick(e, ['publisherKey', 'rollbackOf', 'effectiveAt']),
        },
      };
    default:
      return undefined;
  }
}

function pick(e: Omit<AuditEntry, 'at'>, keys: string[]): WebhookEventData {
  const out: WebhookEventData = {};
  for (const k of keys) {
    const v = e.detail?.[k];
    if (v !== undefined) out[k] = v;
  }
  return out;
}

const policyOf = (e: Omit<AuditEntry, 'at'>): WebhookEventData => {
  const d = pick(e, ['policy', 'rulesVersion']);
  return d.policy === undefined ? {} : d;
};
