/**
 * Webhook subscriptions, events, deliveries and their attempts, in the coordinator's database.
 * Every `_id` starts with the tenant, and every read by `_id` checks the document's tenant too.
 */
import type { Collection, Db } from 'mongodb';
import type { WebhookEventData, WebhookEventType } from '../webhooks/events.js';
import type { SealedWebhookSecret } from '../webhooks/secret-seal.js';

export interface WebhookSecretEntry {
  sealed: SealedWebhookSecret;
  /** `hmac` (v1, whsec_) or `ed25519` (v1a, whsk_; the receivers' whpk_ is `publicKey`). */
  kind: 'hmac' | 'ed25519';
  publicKey?: string;
  addedAt: Date;
  /** Set when a newer secret replaced this one: signed with until then (the rotation's grace). */
  expiresAt?: Date;
}

export interface WebhookSubscriptionDoc {
  _id: string;
  tenant: string;
  subscriptionId: string;
  url: string;
  events: string[];
  /** Newest first. */
  secrets: WebhookSecretEntry[];
  status: 'enabled' | 'disabled';
  disabledReason?: string;
  createdBy: string;
  createdAt: Date;
  updatedAt: Date;
}

export interface WebhookEventDoc {
  _id: string;
  tenant: string;
  eventId: string;
  type: WebhookEventType;
  at: Date;
  data: WebhookEventData;
}

export type DeliveryStatus = 'pending' | 'delivered' | 'dead' | 'disabled';

/** One event's delivery to one subscription (a replay is a delivery of its own). */
export interface WebhookDeliveryDoc {
  _id: string;
  tenant: string;
  deliveryId: string;
  eventId: string;
  eventType: WebhookEventType;
  subscriptionId: string;
  status: DeliveryStatus;
  attempts: number;
  lastStatus?: number;
  lastError?: string;
  createdAt: Date;
  updatedAt: Date;
  deliveredAt?: Date;
  replayOf?: string;
}

/** One HTTP attempt of a delivery. */
export interface WebhookAttemptDoc {
  _id: string;
  tenant: string;
  deliveryId: string;
  attempt: number;
  at: Date;
  /** HTTP status; absent when no response came (refused, timed out, connection failed). */
  status?: number;
  latencyMs: number;
  /** The first characters of the response body, printable only. */
  response?: string;
  error?: string;
}

export const subscriptionDocId = (tenant: string, id: string) => `${tenant}|${id}`;
export const eventDocId = (tenant: string, id: string) => `${tenant}|${id}`;
export const deliveryDocId = (tenant: string, id: string) => `${tenant}|${id}`;
export const attemptDocId = (tenant: string, deliveryId: string, attempt: number) =>
  `${tenant}|${deliveryId}|${String(attempt).padStart(3, '0')}`;

export class WebhookStore {
  readonly subscriptions: Collection<WebhookSubscriptionDoc>;
  readonly events: Collection<WebhookEventDoc>;
  readonly deliveries: Collection<WebhookDeliveryDoc>;
  readonly attempts: Collection<WebhookAttemptDoc>;
  constructor(db: Db) {
    this.subscriptions = db.collection('webhook_subscriptions');
    this.events = db.collection('webhook_events');
    this.deliveries = db.collection('webhook_deliveries');
    this.attempts = db.collection('webhook_attempts');
  }
  async ensureIndexes(): Promise<void> {
    await this.subscriptions.createIndex({ tenant: 1 });
    await this.events.createIndex({ tenant: 1, at: 1 });
    await this.deliveries.createIndex({ tenant: 1, subscriptionId: 1, createdAt: -1 });
    await this.attempts.createIndex({ tenant: 1, deliveryId: 1, attempt: 1 });
  }
}
