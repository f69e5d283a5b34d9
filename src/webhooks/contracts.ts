/** Webhook subscription, delivery and replay contracts (never a secret in plaintext). */
import type { SealedWebhookSecret } from './secret-seal.js';

/** One event's delivery to one subscription, as the delivery workflow carries it (no secrets). */
export interface WebhookDispatch {
  tenant: string;
  deliveryId: string;
  eventId: string;
  subscriptionId: string;
  /** Seconds to wait before each retry; after the last, the delivery is dead-lettered. */
  schedule: number[];
}

export type WebhookAttemptOutcome =
  | { outcome: 'delivered'; status: number }
  | { outcome: 'gone'; status: number }
  | { outcome: 'skipped'; reason: string }
  | { outcome: 'failed'; status?: number; retryAfterSeconds?: number };

/** A subscription's secret, sealed to the coordinator by the client that made it. */
export interface WebhookSecretInput {
  sealed: SealedWebhookSecret;
  /** For an Ed25519 (`whsk_`) secret: the `whpk_` key receivers verify with. */
  publicKey?: string;
}

export type WebhookAdminRequest =
  | { action: 'sealing-key' }
  | {
      action: 'create';
      tenant: string;
      subscriptionId: string;
      url: string;
      events: string[];
      secret: WebhookSecretInput;
      requestedBy?: string;
    }
  | { action: 'list'; tenant: string }
  | {
      action: 'rotate';
      tenant: string;
      subscriptionId: string;
      secret: WebhookSecretInput;
      /** Seconds the replaced secrets keep signing (default 86400, at most 7 days). */
      graceSeconds?: number;
      requestedBy?: string;
    }
  | { action: 'disable' | 'enable'; tenant: string; subscriptionId: string; requestedBy?: string }
  | {
      action: 'deliveries';
      tenant: string;
      subscriptionId?: string;
      eventId?: string;
      status?: 'pending' | 'delivered' | 'dead' | 'disabled';
    };

/** A subscription as it is shown: never a secret, only when each one expires. */
export interface WebhookSubscriptionView {
  tenant: string;
  subscriptionId: string;
  url: string;
  events: string[];
  status: 'enabled' | 'disabled';
  disabledReason?: string;
  signing: 'hmac' | 'ed25519';
  /** Ed25519 subscriptions: the whpk_ keys receivers verify with, newest first. */
  publicKeys: string[];
  secrets: { addedAt: string; expiresAt?: string }[];
  createdBy: string;
  createdAt: string;
}

export interface WebhookDeliveryView {
  deliveryId: string;
  eventId: string;
  eventType: string;
  subscriptionId: string;
  status: 'pending' | 'delivered' | 'dead' | 'disabled';
  createdAt: string;
  deliveredAt?: string;
  replayOf?: string;
  attempts: {
    attempt: number;
    at: string;
    latencyMs: number;
    status?: number;
    response?: string;
    error?: string;
  }[];
}

export interface WebhookAdminResult {
  sealingKey?: string;
  subscription?: WebhookSubscriptionView;
  subscriptions?: WebhookSubscriptionView[];
  deliveries?: WebhookDeliveryView[];
}

/** Delivers again one event, or every event in a time range, to one subscription or all. */
export interface WebhookReplayRequest {
  tenant: string;
  eventId?: string;
  /** ISO 8601; with `to` (default now) when no eventId is given. */
  from?: string;
  to?: string;
  subscriptionId?: string;
  requestedBy?: string;
}
