/**
 * Coordinator activities for webhooks: record events and plan their deliveries, make one HTTP
 * attempt of a delivery, manage a tenant's subscriptions, plan a replay.
 *
 * Retries are the delivery workflow's (durable timers over hours); an attempt is one POST with a
 * timeout, logged with its status, latency and the start of the response. Secrets are opened only
 * here, from the subscription's sealed copies: they never pass through a workflow.
 */
import { performance } from 'node:perf_hooks';
import got from 'got';
import { ConclaveError } from '../../src/errors.js';
import { isDuplicateKey } from '../../src/store/mongo.js';
import type { CoordinatorStore } from '../../src/store/coordinator-store.js';
import { ruleSetDocId } from '../../src/store/policy-store.js';
import {
  attemptDocId,
  deliveryDocId,
  eventDocId,
  subscriptionDocId,
  type WebhookDeliveryDoc,
  type WebhookSubscriptionDoc,
} from '../../src/store/webhook-store.js';
import { assertId, printableActor } from '../../src/validation.js';
import { checkEndpointUrl, pinnedLookup, resolveEndpoint } from '../../src/webhooks/endpoint.js';
import {
  eventMatches,
  parseEventFilter,
  webhookEventId,
  type RaisedEvent,
  type WebhookBody,
} from '../../src/webhooks/events.js';
import { openWebhookSecret, webhookSealingKey } from '../../src/webhooks/secret-seal.js';
import { webhookHeaders } from '../../src/webhooks/signature.js';
import type { AuditEntry } from '../../src/audit/contracts.js';
import { parseRetryAfter } from '../../src/webhooks/retry.js';
import type {
  WebhookAdminRequest,
  WebhookAdminResult,
  WebhookAttemptOutcome,
  WebhookDeliveryView,
  WebhookDispatch,
  WebhookReplayRequest,
  WebhookSubscriptionView,
} from '../../src/webhooks/contracts.js';

/** One attempt's HTTP timeout. */
export const attemptTimeoutMs = 10_000;
/** How much of a response the attempt log keeps. */
const responseExcerptChars = 256;
/** Rotation grace: one day by default, a week at most. */
const defaultGraceSeconds = 86_400;
const maxGraceSeconds = 7 * 86_400;
const maxSubscriptionsPerTenant = 50;
const replayLimit = 1000;

export interface WebhookActivityOptions {
  /** The coordinator's key seed (CONCLAVE_COORDINATOR_KEY): webhook secrets are sealed to it. */
  coordinatorSeed: () => Uint8Array | undefined;
  /** Appends a subscription change to the tenant's audit chain. */
  audit: (entry: Omit<AuditEntry, 'at'>) => Promise<void>;
  retrySchedule: () => number[];
}

export function webhookActivities(getStore: () => Promise<CoordinatorStore>, opts: WebhookActivityOptions) {
  const sealingKey = () => {
    const seed = opts.coordinatorSeed();
    if (!seed) {
      throw new ConclaveError(
        'CONFIG',
        'webhooks need the coordinator key (CONCLAVE_COORDINATOR_KEY): secrets are sealed to it',
      );
    }
    return webhookSealingKey(seed);
  };

  const findSubscription = async (store: CoordinatorStore, tenant: string, id: string) => {
    const doc = await store.webhooks.subscriptions.findOne({ _id: subscriptionDocId(tenant, id) });
    if (!doc || doc.tenant !== tenant) {
      throw new ConclaveError('BAD_INPUT', `tenant ${tenant} has no webhook subscription ${id}`);
    }
    return doc;
  };

  /** Whether the tenant's published configuration lets its webhooks reach private networks. */
  const allowsPrivate = async (store: CoordinatorStore, tenant: string): Promise<boolean> => {
    const head = await store.policy.heads.findOne({ _id: tenant });
    if (!head?.current) return false;
    const doc = await store.policy.ruleSets.findOne({ _id: ruleSetDocId(tenant, head.current) });
    return doc?.tenant === tenant && doc.config.allowPrivateWebhookEndpoints === true;
  };

  /** Records a delivery of `eventId` to each subscription, once; returns what to start. */
  const planDeliveries = async (
    store: CoordinatorStore,
    tenant: string,
    events: { eventId: string; type: RaisedEvent['type'] }[],
    subs: WebhookSubscriptionDoc[],
    replayKey?: string,
  ): Promise<WebhookDispatch[]> => {
    const schedule = opts.retrySchedule();
    const out: WebhookDispatch[] = [];
    const now = new Date();
    for (const e of events) {
      for (const s of subs) {
        if (!eventMatches(s.events, e.type)) continue;
        const deliveryId = `${e.eventId}.${s.subscriptionId}${replayKey ? `.${replayKey}` : ''}`;
        try {
          await store.webhooks.deliveries.insertOne({
            _id: deliveryDocId(tenant, deliveryId),
            tenant,
            deliveryId,
            eventId: e.eventId,
            eventType: e.type,
            subscriptionId: s.subscriptionId,
            status: 'pending',
            attempts: 0,
            createdAt: now,
            updatedAt: now,
            ...(replayKey ? { replayOf: `${e.eventId}.${s.subscriptionId}` } : {}),
          });
        } catch (err) {
          if (!isDuplicateKey(err)) throw err; // a retried step: the delivery is already planned
        }
        out.push({ tenant, deliveryId, eventId: e.eventId, subscriptionId: s.subscriptionId, schedule });
      }
    }
    return out;
  };

  const enabledSubscriptions = (store: CoordinatorStore, tenant: string) =>
    store.webhooks.subscriptions.find({ tenant, status: 'enabled' }).toArray();

  const setDelivery = (
    store: CoordinatorStore,
    tenant: string,
    deliveryId: string,
    set: Partial<WebhookDeliveryDoc>,
  ) =>
    store.webhooks.deliveries.updateOne(
      { _id: deliveryDocId(tenant, deliveryId), tenant },
      { $set: { ...set, updatedAt: new Date() } },
    );

  return {
    /**
     * Stores events raised by a workflow (a retry stores nothing twice: ids derive from the
     * source) and plans a delivery to each subscription that wants them.
     */
    async recordEvents(tenant: string, raised: RaisedEvent[]): Promise<WebhookDispatch[]> {
      assertId('tenant', tenant);
      const store = await getStore();
      const at = new Date();
      const events = [];
      for (const r of raised) {
        const eventId = webhookEventId(tenant, r.source, r.type);
        try {
          await store.webhooks.events.insertOne({
            _id: eventDocId(tenant, eventId),
            tenant,
            eventId,
            type: r.type,
            at,
            data: r.data,
          });
        } catch (err) {
          if (!isDuplicateKey(err)) throw err;
        }
        events.push({ eventId, type: r.type });
      }
      return planDeliveries(store, tenant, events, await enabledSubscriptions(store, tenant));
    },

    /** One attempt of one delivery: POST, log, and say whether to retry. */
    async deliverWebhook(d: WebhookDispatch, attempt: number): Promise<WebhookAttemptOutcome> {
      const store = await getStore();
      const { tenant, deliveryId } = d;
      const sub = await store.webhooks.subscriptions.findOne({
        _id: subscriptionDocId(tenant, d.subscriptionId),
      });
      if (!sub || sub.tenant !== tenant || sub.status !== 'enabled') {
        await setDelivery(store, tenant, deliveryId, { status: 'disabled' });
        return { outcome: 'skipped', reason: `subscription ${d.subscriptionId} is disabled` };
      }
      const event = await store.webhooks.events.findOne({ _id: eventDocId(tenant, d.eventId) });
      if (!event || event.tenant !== tenant) {
        await setDelivery(store, tenant, deliveryId, { status: 'dead', lastError: 'event not found' });
        return { outcome: 'skipped', reason: `event ${d.eventId} not found` };
      }
      const body: WebhookBody = { type: event.type, timestamp: event.at.toISOString(), data: event.data };
      const text = JSON.stringify(body);
      const now = Date.now();
      const key = sealingKey().secret;
      const secrets = sub.secrets
        .filter((s) => !s.expiresAt || s.expiresAt.getTime() > now)
        .map((s) => openWebhookSecret(key, s.sealed, tenant, sub.subscriptionId));
      const allowPrivate = await allowsPrivate(store, tenant);

      const started = performance.now();
      let status: number | undefined;
      let response: string | undefined;
      let error: string | undefined;
      let retryAfterSeconds: number | undefined;
      try {
        const target = checkEndpointUrl(sub.url, { allowPrivate, allowHttp: allowPrivate });
        const pinned = await resolveEndpoint(target, { allowPrivate });
        const headers = webhookHeaders(event.eventId, Math.floor(Date.now() / 1000), text, secrets);
        const res = await postOnce(target, text, headers, pinned);
        status = res.status;
        response = res.excerpt;
        retryAfterSeconds = parseRetryAfter(res.retryAfter, Date.now());
      } catch (err) {
        error = describeFailure(err);
      }
      const latencyMs = Math.round((performance.now() - started) * 10) / 10;
      await store.webhooks.attempts.replaceOne(
        { _id: attemptDocId(tenant, deliveryId, attempt) },
        {
          tenant,
          deliveryId,
          attempt,
          at: new Date(),
          latencyMs,
          ...(status !== undefined ? { status } : {}),
          ...(response ? { response } : {}),
          ...(error ? { error } : {}),
        },
        { upsert: true },
      );
      const progress = {
        attempts: attempt,
        ...(status !== undefined ? { lastStatus: status } : {}),
        ...(error ? { lastError: error } : {}),
      };
      if (status !== undefined && status >= 200 && status < 300) {
        await setDelivery(store, tenant, deliveryId, {
          ...progress,
          status: 'delivered',
          deliveredAt: new Date(),
        });
        return { outcome: 'delivered', status };
      }
      if (status === 410) {
        // the receiver says this endpoint is gone for good: stop sending to it
        const reason = `the endpoint answered 410 Gone at ${new Date().toISOString()}`;
        await store.webhooks.subscriptions.updateOne(
          { _id: sub._id, tenant, status: 'enabled' },
          { $set: { status: 'disabled', disabledReason: reason, updatedAt: new Date() } },
        );
        await setDelivery(store, tenant, deliveryId, { ...progress, status: 'disabled' });
        await opts.audit(
          subscriptionAudit(tenant, sub.subscriptionId, 'disable', 'conclave', `410:${deliveryId}`, {
            reason,
          }),
        );
        return { outcome: 'gone', status };
      }
      await setDelivery(store, tenant, deliveryId, progress);
      return {
        outcome: 'failed',
        ...(status !== undefined ? { status } : {}),
        ...(retryAfterSeconds !== undefined ? { retryAfterSeconds } : {}),
      };
    },

    /** The last attempt failed: the delivery goes to the dead letters (replayable). */
    async deadLetterDelivery(d: WebhookDispatch): Promise<void> {
      const store = await getStore();
      await setDelivery(store, d.tenant, d.deliveryId, { status: 'dead' });
    },

    /** Plans a new delivery of one event, or of a time range, to the subscriptions that want them. */
    async planWebhookReplay(req: WebhookReplayRequest, replayKey: string): Promise<WebhookDispatch[]> {
      assertId('tenant', req.tenant);
      const store = await getStore();
      const subs = req.subscriptionId
        ? [await findSubscription(store, req.tenant, assertId('subscription id', req.subscriptionId))]
        : await enabledSubscriptions(store, req.tenant);
      if (subs.some((s) => s.status !== 'enabled')) {
        throw new ConclaveError(
          'BAD_INPUT',
          `subscription ${req.subscriptionId} is disabled: enable it first`,
        );
      }
      let events;
      if (req.eventId !== undefined) {
        const doc = await store.webhooks.events.findOne({
          _id: eventDocId(req.tenant, assertId('event id', req.eventId)),
        });
        if (!doc || doc.tenant !== req.tenant) {
          throw new ConclaveError('BAD_INPUT', `tenant ${req.tenant} has no event ${req.eventId}`);
        }
        events = [doc];
      } else {
        const from = instant(req.from, 'from');
        const to = req.to === undefined ? new Date() : instant(req.to, 'to');
        if (from > to) throw new ConclaveError('BAD_INPUT', 'replay: from is after to');
        events = await store.webhooks.events
          .find({ tenant: req.tenant, at: { $gte: from, $lte: to } })
          .sort({ at: 1 })
          .limit(replayLimit + 1)
          .toArray();
        if (events.length > replayLimit) {
          throw new ConclaveError('BAD_INPUT', `replay: more than ${replayLimit} events in range; narrow it`);
        }
      }
      return planDeliveries(store, req.tenant, events, subs, replayKey);
    },

    /** Subscriptions: create, list, rotate a secret, disable, enable; deliveries; the sealing key. */
    async webhookAdmin(req: WebhookAdminRequest, workflowId: string): Promise<WebhookAdminResult> {
      if (req.action === 'sealing-key') return { sealingKey: sealingKey().publicKey };
      const tenant = assertId('tenant', req.tenant);
      const store = await getStore();
      const actor = printableActor(('requestedBy' in req ? req.requestedBy : undefined) ?? 'unknown');
      const subs = store.webhooks.subscriptions;
      switch (req.action) {
        case 'create': {
          const id = assertId('subscription id', req.subscriptionId);
          const events = parseEventFilter(req.events);
          checkEndpointUrl(String(req.url), {
            allowPrivate: await allowsPrivate(store, tenant),
            allowHttp: await allowsPrivate(store, tenant),
          });
          const secret = checkedSecret(sealingKey().secret, req.secret, tenant, id);
          const existing = await subs.findOne({ _id: subscriptionDocId(tenant, id) });
          if (existing) {
            // the same request retried is answered again; anything else is a clash
            if (
              existing.tenant === tenant &&
              existing.secrets.at(-1)?.sealed.ciphertext === req.secret.sealed.ciphertext
            )
              return { subscription: viewOf(existing) };
            throw new ConclaveError('BAD_INPUT', `tenant ${tenant} already has a webhook subscription ${id}`);
          }
          if ((await subs.countDocuments({ tenant })) >= maxSubscriptionsPerTenant) {
            throw new ConclaveError(
              'BAD_INPUT',
              `tenant ${tenant} has ${maxSubscriptionsPerTenant} subscriptions already`,
            );
          }
          const now = new Date();
          const doc: WebhookSubscriptionDoc = {
            _id: subscriptionDocId(tenant, id),
            tenant,
            subscriptionId: id,
            url: String(req.url),
            events,
            secrets: [{ ...secret, addedAt: now }],
            status: 'enabled',
            createdBy: actor,
            createdAt: now,
            updatedAt: now,
          };
          await subs.insertOne(doc);
          await opts.audit(
            subscriptionAudit(tenant, id, 'create', actor, workflowId, { url: hostOf(doc.url), events }),
          );
          return { subscription: viewOf(doc) };
        }
        case 'list': {
          const docs = await subs
            .find({ tenant })
            .sort({ createdAt: 1 })
            .limit(maxSubscriptionsPerTenant)
            .toArray();
          return { subscriptions: docs.map(viewOf) };
        }
        case 'rotate': {
          const id = assertId('subscription id', req.subscriptionId);
          const doc = await findSubscription(store, tenant, id);
          const grace = req.graceSeconds ?? defaultGraceSeconds;
          if (!Number.isInteger(grace) || grace < 0 || grace > maxGraceSeconds) {
            throw new ConclaveError('BAD_INPUT', `grace must be whole seconds, 0 to ${maxGraceSeconds}`);
          }
          if (doc.secrets[0]?.sealed.ciphertext === req.secret.sealed.ciphertext)
            return { subscription: viewOf(doc) };
          const secret = checkedSecret(sealingKey().secret, req.secret, tenant, id);
          const now = new Date();
          const until = new Date(now.getTime() + grace * 1000);
          const kept = doc.secrets
            .filter((s) => !s.expiresAt || s.expiresAt > now)
            .map((s) => ({ ...s, expiresAt: s.expiresAt && s.expiresAt < until ? s.expiresAt : until }));
          const secrets = [{ ...secret, addedAt: now }, ...kept].slice(0, 5);
          await subs.updateOne({ _id: doc._id, tenant }, { $set: { secrets, updatedAt: now } });
          await opts.audit(
            subscriptionAudit(tenant, id, 'rotate', actor, workflowId, { graceUntil: until.toISOString() }),
          );
          return { subscription: viewOf({ ...doc, secrets, updatedAt: now }) };
        }
        case 'disable':
        case 'enable': {
          const id = assertId('subscription id', req.subscriptionId);
          const doc = await findSubscription(store, tenant, id);
          const status = req.action === 'disable' ? 'disabled' : 'enabled';
          const now = new Date();
          await subs.updateOne(
            { _id: doc._id, tenant },
            status === 'disabled'
              ? { $set: { status, disabledReason: `disabled by ${actor}`, updatedAt: now } }
              : { $set: { status, updatedAt: now }, $unset: { disabledReason: '' } },
          );
          await opts.audit(subscriptionAudit(tenant, id, req.action, actor, workflowId, {}));
          const updated = await findSubscription(store, tenant, id);
          return { subscription: viewOf(updated) };
        }
        case 'deliveries': {
          const filter: Record<string, unknown> = { tenant };
          if (req.subscriptionId !== undefined)
            filter.subscriptionId = assertId('subscription id', req.subscriptionId);
          if (req.eventId !== undefined) filter.eventId = assertId('event id', req.eventId);
          if (req.status !== undefined) {
            if (!['pending', 'delivered', 'dead', 'disabled'].includes(req.status))
              throw new ConclaveError('BAD_INPUT', 'status must be pending, delivered, dead or disabled');
            filter.status = req.status;
          }
          const docs = await store.webhooks.deliveries
            .find(filter)
            .sort({ createdAt: -1 })
            .limit(200)
            .toArray();
          const views: WebhookDeliveryView[] = [];
          for (const d of docs) {
            const attempts = await store.webhooks.attempts
              .find({ tenant, deliveryId: d.deliveryId })
              .sort({ attempt: 1 })
              .toArray();
            views.push({
              deliveryId: d.deliveryId,
              eventId: d.eventId,
              eventType: d.eventType,
              subscriptionId: d.subscriptionId,
              status: d.status,
              createdAt: d.createdAt.toISOString(),
              ...(d.deliveredAt ? { deliveredAt: d.deliveredAt.toISOString() } : {}),
              ...(d.replayOf ? { replayOf: d.replayOf } : {}),
              attempts: attempts.map((a) => ({
                attempt: a.attempt,
                at: a.at.toISOString(),
                latencyMs: a.latencyMs,
                ...(a.status !== undefined ? { status: a.status } : {}),
                ...(a.response ? { response: a.response } : {}),
                ...(a.error ? { error: a.error } : {}),
              })),
            });
          }
          return { deliveries: views };
        }
      }
    },
  };
}

function checkedSecret(
  sealingSecret: Uint8Array,
  secret: WebhookAdminRequestSecret,
  tenant: string,
  subscriptionId: string,
): Omit<WebhookSubscriptionDoc['secrets'][number], 'addedAt'> {
  if (
    typeof secret !== 'object' ||
    secret === null ||
    typeof secret.sealed !== 'object' ||
    secret.sealed === null
  ) {
    throw new ConclaveError('BAD_INPUT', 'a subscription needs a sealed secret');
  }
  const plain = openWebhookSecret(sealingSecret, secret.sealed, tenant, subscriptionId);
  // the secret must be one the delivery can sign with: check it now, not at the first delivery
  try {
    webhookHeaders('msg_check', 0, '', [plain]);
  } catch {
    throw new ConclaveError('BAD_INPUT', 'the sealed webhook secret is not a whsec_ secret or a whsk_ key');
  }
  const kind = plain.startsWith('whsk_') ? 'ed25519' : 'hmac';
  if (
    kind === 'ed25519' &&
    (typeof secret.publicKey !== 'string' || !/^whpk_[A-Za-z0-9+/=]{40,60}$/.test(secret.publicKey))
  ) {
    throw new ConclaveError('BAD_INPUT', 'an Ed25519 subscription needs its whpk_ public key');
  }
  return { sealed: secret.sealed, kind, ...(kind === 'ed25519' ? { publicKey: secret.publicKey } : {}) };
}

type WebhookAdminRequestSecret = Extract<WebhookAdminRequest, { action: 'create' }>['secret'];

function viewOf(doc: WebhookSubscriptionDoc): WebhookSubscriptionView {
  const now = Date.now();
  const valid = doc.secrets.filter((s) => !s.expiresAt || s.expiresAt.getTime() > now);
  return {
    tenant: doc.tenant,
    subscriptionId: doc.subscriptionId,
    url: doc.url,
    events: doc.events,
    status: doc.status,
    ...(doc.disabledReason ? { disabledReason: doc.disabledReason } : {}),
    signing: valid[0]?.kind ?? 'hmac',
    publicKeys: valid.flatMap((s) => (s.publicKey ? [s.publicKey] : [])),
    secrets: valid.map((s) => ({
      addedAt: s.addedAt.toISOString(),
      ...(s.expiresAt ? { expiresAt: s.expiresAt.toISOString() } : {}),
    })),
    createdBy: doc.createdBy,
    createdAt: doc.createdAt.toISOString(),
  };
}

function subscriptionAudit(
  tenant: string,
  subscriptionId: string,
  action: string,
  actor: string,
  key: string,
  detail: Record<string, string | string[]>,
): Omit<AuditEntry, 'at'> {
  return {
    tenant,
    walletId: '',
    ceremony: 'webhook-subscription',
    workflowId: key,
    ceremonyId: `${key}|${subscriptionId}|${action}`,
    requestedBy: actor,
    outcome: 'completed',
    parties: [],
    detail: { subscriptionId, action, ...detail },
  };
}

const hostOf = (url: string) => {
  try {
    return new URL(url).host;
  } catch {
    return '';
  }
};

function instant(v: unknown, what: string): Date {
  const d = typeof v === 'string' ? new Date(v) : new Date(NaN);
  if (Number.isNaN(d.getTime()))
    throw new ConclaveError('BAD_INPUT', `replay: ${what} must be an ISO 8601 time`);
  return d;
}

/** POSTs once, reading at most a few hundred bytes of the answer (a huge response is not our memory's problem). */
async function postOnce(
  target: URL,
  body: string,
  headers: Record<string, string>,
  pinned: { address: string; family: number },
): Promise<{ status: number; excerpt: string; retryAfter?: string }> {
  const stream = got.stream.post(target, {
    body,
    headers: { ...headers, 'content-type': 'application/json', 'user-agent': 'Conclave-Webhooks/1' },
    dnsLookup: pinnedLookup(pinned),
    followRedirect: false,
    throwHttpErrors: false,
    retry: { limit: 0 },
    timeout: { request: attemptTimeoutMs },
  });
  return new Promise((resolve, reject) => {
    let status = 0;
    let retryAfter: string | undefined;
    let text = '';
    const done = () => {
      stream.destroy();
      resolve({ status, excerpt: printable(text), ...(retryAfter ? { retryAfter } : {}) });
    };
    stream.on(
      'response',
      (res: { statusCode: number; headers: Record<string, string | string[] | undefined> }) => {
        status = res.statusCode;
        const h = res.headers['retry-after'];
        retryAfter = Array.isArray(h) ? h[0] : h;
      },
    );
    stream.on('data', (chunk: Buffer) => {
      text += chunk.toString('utf8');
      if (text.length >= responseExcerptChars) done();
    });
    stream.on('end', done);
    stream.on('error', (err: Error) => (status ? done() : reject(err)));
  });
}

const printable = (s: string) => s.slice(0, responseExcerptChars).replace(/[^\x20-\x7e]/g, ' ');

/** A failed attempt in a line, without the URL (it may carry a token). */
function describeFailure(err: unknown): string {
  if (err instanceof ConclaveError) return err.message;
  const e = err as { code?: string; name?: string; message?: string };
  if (e.name === 'TimeoutError' || e.code === 'ETIMEDOUT') return `timed out after ${attemptTimeoutMs} ms`;
  if (e.code) return `connection failed: ${e.code}`;
  return `request failed: ${e.name ?? 'error'}`;
}
