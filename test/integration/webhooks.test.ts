/**
 * Webhooks on the real stack: a receiver in this process verifies every delivery with the
 * exported `verifyWebhook`; deliveries are retried (honouring retry-after), reach an endpoint that
 * was down, die after the last attempt and are replayed; 410 disables a subscription; secrets
 * rotate with a grace period and never appear in workflow history; another tenant sees nothing.
 * The stack's retry schedule is 1,2,2,3,4 seconds (global-setup.ts): six attempts.
 */
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Client, Connection } from '@temporalio/client';
import type { Payload } from '@temporalio/common';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyAuditChain } from '../../src/audit/chain.js';
import { ConclaveClient, type WebhookCredentials } from '../../src/client/index.js';
import { ConclavePayloadCodec, encryptedEncoding } from '../../src/codec/payload-codec.js';
import { loadConfig } from '../../src/config.js';
import { ConclaveError } from '../../src/errors.js';
import { verifyWebhook, type WebhookBody } from '../../src/index.js';
import { closeAllDbs } from '../../src/store/mongo.js';
import { conclave, json, message32, stackEnv, waitFor } from './helpers.js';

interface Received {
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
  at: number;
}

/** An HTTP receiver that answers per path as the test says, and keeps everything it got. */
class Receiver {
  readonly got: Received[] = [];
  /** How to answer a delivery: `n` counts the deliveries of this event id to this path, this one included. */
  answer: (path: string, n: number) => { status: number; headers?: Record<string, string> } = () => ({
    status: 200,
  });
  private server?: Server;
  port = 0;
  async listen(port = 0): Promise<void> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const path = req.url ?? '/';
        this.got.push({
          path,
          headers: req.headers,
          body: Buffer.concat(chunks).toString('utf8'),
          at: Date.now(),
        });
        const id = req.headers['webhook-id'];
        const n = this.got.filter((g) => g.path === path && g.headers['webhook-id'] === id).length;
        const a = this.answer(path, n);
        res.writeHead(a.status, a.headers ?? {});
        res.end(a.status === 200 ? 'ok' : 'not now');
      });
    });
    await new Promise<void>((r) => this.server!.listen(port, '127.0.0.1', r));
    this.port = (this.server.address() as AddressInfo).port;
  }
  async close(): Promise<void> {
    await new Promise<void>((r) => this.server?.close(() => r()));
  }
  url(path: string): string {
    return `http://127.0.0.1:${this.port}${path}`;
  }
  at(path: string): Received[] {
    return this.got.filter((g) => g.path === path);
  }
  bodies(path: string): WebhookBody[] {
    return this.at(path).map((g) => JSON.parse(g.body) as WebhookBody);
  }
}

/** The all-events subscription's first secret, as its receiver was told it. */
let receiverSecret = '';
const tag = Date.now().toString(36);
const tenant = `hooks-${tag}`;
const other = `hooks-other-${tag}`;
const denied = 'Deny111111111111111111111111111111111111111';
const rules = JSON.stringify({
  version: 1,
  defaultOutcome: 'allow',
  rules: [
    {
      name: 'deny',
      conditions: { all: [{ fact: 'destination', operator: 'inDenyList', value: true }] },
      event: { type: 'block', params: { reason: 'destination {{destination}} is denied' } },
    },
    {
      name: 'large',
      conditions: { all: [{ fact: 'fiatValue', operator: 'fiatGreaterThan', value: '10000' }] },
      event: { type: 'escalate', params: { reason: 'worth {{fiatValue}} USD', approvals: { risk: 1 } } },
    },
  ],
});
// the receiver is on loopback over http: this tenant's configuration allows it explicitly
const config = {
  denyList: [denied],
  prices: { SOL: '150' },
  escalationExpiresAfter: 2,
  allowPrivateWebhookEndpoints: true,
};
const pay = (amount: string, destination = 'Dest1111111111111111111111111111111111111111') => ({
  chain: 'solana',
  asset: 'SOL',
  amount,
  destination,
});

let client: ConclaveClient;
let raw: Client;
const receiver = new Receiver();
beforeAll(async () => {
  client = await ConclaveClient.connect({ env: { ...stackEnv(), CONCLAVE_ACTOR: 'ops@hooks' } });
  const connection = await Connection.connect({ address: loadConfig(stackEnv()).temporal.address });
  raw = new Client({ connection });
  await receiver.listen();
  await client.publishRules({ text: rules, config, tenant });
});
afterAll(async () => {
  await receiver.close();
  await client?.close();
  await raw?.connection.close();
  await closeAllDbs();
});

/** Waits until `path` has received an event of each type, verifying every delivery. */
async function expectDelivered(path: string, secret: string | string[], types: string[], timeoutMs = 60_000) {
  await waitFor(
    `${types.join(', ')} at ${path}`,
    async () => types.every((t) => receiver.bodies(path).some((b) => b.type === t)),
    timeoutMs,
  );
  for (const r of receiver.at(path)) {
    expect(() => verifyWebhook(r.headers, r.body, secret)).not.toThrow();
  }
}

describe('webhook subscriptions', () => {
  it('refuses private endpoints unless the tenant allows them, unknown events and malformed URLs', async () => {
    const refused = async (p: Promise<unknown>, text: string) => {
      const err = await p.catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ConclaveError);
      expect((err as ConclaveError).code).toBe('BAD_INPUT');
      expect((err as ConclaveError).message).toContain(text);
    };
    // the other tenant has published nothing: its configuration allows no private endpoint
    await refused(client.createWebhook({ tenant: other, url: receiver.url('/x'), events: ['*'] }), 'http');
    await refused(
      client.createWebhook({ tenant: other, url: 'https://169.254.169.254/latest/meta-data', events: ['*'] }),
      'private',
    );
    await refused(
      client.createWebhook({ tenant: other, url: 'https://localhost/hook', events: ['*'] }),
      'localhost',
    );
    await refused(
      client.createWebhook({ tenant, url: receiver.url('/x'), events: ['wallet.exploded'] }),
      'unknown event',
    );
    await refused(client.createWebhook({ tenant, url: 'not a url', events: ['*'] }), 'URL');
    expect(await client.webhooks({ tenant: other })).toEqual([]);
  });

  it('delivers every kind of event, signed, small and without secrets', async () => {
    const hmac = await client.createWebhook({
      tenant,
      id: 'all-events',
      url: receiver.url('/all'),
      events: ['*'],
    });
    const ed = await client.createWebhook({
      tenant,
      id: 'signed-ed25519',
      url: receiver.url('/ed'),
      events: ['transaction.signed', 'wallet.created'],
      signing: 'ed25519',
    });
    expect(hmac.secret).toMatch(/^whsec_/);
    receiverSecret = hmac.secret!;
    expect(ed.publicKey).toMatch(/^whpk_/);
    expect(ed.secret).toBeUndefined();
    const listed = await client.webhooks({ tenant });
    expect(listed.map((s) => s.subscriptionId).sort()).toEqual(['all-events', 'signed-ed25519']);
    expect(JSON.stringify(listed)).not.toContain(hmac.secret!);

    const w = await client.createWallet({ tenant, threshold: 2, parties: 3 });
    await client.sign({ tenant, walletId: w.walletId, message: message32(), tx: pay('1') });
    await client
      .sign({ tenant, walletId: w.walletId, message: message32(), tx: pay('1', denied) })
      .catch(() => undefined);
    const expired = await client
      .sign({ tenant, walletId: w.walletId, message: message32(), tx: pay('100') })
      .catch((e: unknown) => e);
    expect((expired as ConclaveError).code).toBe('APPROVAL_EXPIRED');
    await client.rotate({ walletId: w.walletId, tenant });
    await client.publishRules({ text: rules, config, tenant });

    await expectDelivered('/all', hmac.secret!, [
      'wallet.created',
      'transaction.created',
      'transaction.signed',
      'transaction.blocked',
      'transaction.escalated',
      'approval.requested',
      'ceremony.failed',
      'wallet.rotated',
      'rules.published',
    ]);
    await expectDelivered('/ed', ed.publicKey!, ['wallet.created', 'transaction.signed']);
    // the Ed25519 subscription got only what it asked for, signed v1a only
    expect(new Set(receiver.bodies('/ed').map((b) => b.type))).toEqual(
      new Set(['wallet.created', 'transaction.signed']),
    );
    expect(receiver.at('/ed').every((r) => /^v1a,/.test(String(r.headers['webhook-signature'])))).toBe(true);
    expect(() =>
      verifyWebhook(receiver.at('/ed')[0]!.headers, receiver.at('/ed')[0]!.body, hmac.secret!),
    ).toThrow();

    const bodies = receiver.bodies('/all');
    for (const r of receiver.at('/all')) {
      expect(r.body.length).toBeLessThan(2048);
      expect(r.body).not.toContain('whsec_');
      const b = JSON.parse(r.body) as WebhookBody;
      expect(Object.keys(b).sort()).toEqual(['data', 'timestamp', 'type']);
      expect(new Date(b.timestamp).toISOString()).toBe(b.timestamp);
    }
    const blocked = bodies.find((b) => b.type === 'transaction.blocked')!;
    expect(blocked.data).toMatchObject({ walletId: w.walletId, code: 'POLICY_BLOCKED' });
    expect(String(blocked.data.reason)).toContain('is denied');
    const failed = bodies.find((b) => b.type === 'ceremony.failed')!;
    expect(failed.data).toMatchObject({ code: 'APPROVAL_EXPIRED', ceremony: 'sign' });
    const asked = bodies.find((b) => b.type === 'approval.requested')!;
    expect(asked.data).toMatchObject({ walletId: w.walletId, required: { risk: 1 } });
    const created = bodies.find((b) => b.type === 'wallet.created')!;
    expect(created.data).toMatchObject({ walletId: w.walletId, threshold: 2 });
    // one event, one id, however many subscriptions
    const ids = receiver.at('/all').map((r) => String(r.headers['webhook-id']));
    expect(new Set(ids).size).toBe(ids.length);
    const signedId = receiver.at('/all').find((r) => r.body.includes('"transaction.signed"'))!.headers[
      'webhook-id'
    ];
    expect(receiver.at('/ed').some((r) => r.headers['webhook-id'] === signedId)).toBe(true);

    // every attempt is in the delivery log
    const log = await client.webhookDeliveries({ tenant, subscriptionId: 'all-events' });
    expect(log.length).toBe(receiver.at('/all').length);
    expect(log.every((d) => d.status === 'delivered' && d.attempts[0]!.status === 200)).toBe(true);
    expect(log[0]!.attempts[0]!.latencyMs).toBeGreaterThan(0);
  });

  it('retries with backoff, honours retry-after, and reaches an endpoint that was down', async () => {
    const flaky = await client.createWebhook({
      tenant,
      id: 'flaky',
      url: receiver.url('/flaky'),
      events: ['rules.published'],
    });
    receiver.answer = (path, n) =>
      path === '/flaky' && n <= 2 ? { status: 503, headers: { 'retry-after': '3' } } : { status: 200 };
    // an endpoint nobody listens on yet: connection refused until it comes up
    const late = new Receiver();
    await late.listen();
    const latePort = late.port;
    await late.close();
    const down = await client.createWebhook({
      tenant,
      id: 'down',
      url: `http://127.0.0.1:${latePort}/late`,
      events: ['rules.published'],
    });
    const published = [];
    for (let i = 0; i < 3; i++) published.push(await client.publishRules({ text: rules, config, tenant }));

    // down for a while: the first attempts fail to connect, and the deliveries wait
    await new Promise((r) => setTimeout(r, 2000));
    const downLog = await client.webhookDeliveries({ tenant, subscriptionId: 'down' });
    expect(downLog.length).toBe(3);
    expect(
      downLog.every((d) => d.status === 'pending' && d.attempts[0]!.error?.includes('ECONNREFUSED')),
    ).toBe(true);
    const back = new Receiver();
    await back.listen(latePort);
    try {
      await waitFor('the endpoint that was down', async () => back.got.length >= 3, 30_000);
      const ids = new Set(back.got.map((g) => String(g.headers['webhook-id'])));
      expect(ids.size).toBe(3);
      const versions = back.got.map((g) => Number((JSON.parse(g.body) as WebhookBody).data.version)).sort();
      expect(versions).toEqual(published.map((v) => v.version).sort());
      for (const g of back.got) expect(() => verifyWebhook(g.headers, g.body, down.secret!)).not.toThrow();
    } finally {
      await back.close();
    }

    await waitFor(
      'three deliveries at /flaky',
      async () =>
        (await client.webhookDeliveries({ tenant, subscriptionId: 'flaky', status: 'delivered' })).length ===
        3,
    );
    await expectDelivered('/flaky', flaky.secret!, ['rules.published']);
    const log = await client.webhookDeliveries({ tenant, subscriptionId: 'flaky' });
    for (const d of log) {
      expect(d.attempts.map((a) => a.status)).toEqual([503, 503, 200]);
      // the schedule says about 1 s; the receiver asked for 3
      const gap = Date.parse(d.attempts[1]!.at) - Date.parse(d.attempts[0]!.at);
      expect(gap).toBeGreaterThanOrEqual(2900);
      expect(d.attempts[0]!.response).toBe('not now');
    }
    receiver.answer = () => ({ status: 200 });
  });

  it('dead-letters after the last attempt, and replays one event or a time range', async () => {
    const dead = await client.createWebhook({
      tenant,
      id: 'dead',
      url: receiver.url('/dead'),
      events: ['rules.published'],
    });
    receiver.answer = (path) => (path === '/dead' ? { status: 500 } : { status: 200 });
    const from = new Date().toISOString();
    await client.publishRules({ text: rules, config, tenant });
    await waitFor(
      'the dead letter',
      async () =>
        (await client.webhookDeliveries({ tenant, subscriptionId: 'dead', status: 'dead' })).length === 1,
      60_000,
      250,
    );
    const [letter] = await client.webhookDeliveries({ tenant, subscriptionId: 'dead', status: 'dead' });
    expect(letter!.attempts.map((a) => a.status)).toEqual([500, 500, 500, 500, 500, 500]);
    expect(receiver.at('/dead').length).toBe(6);

    receiver.answer = () => ({ status: 200 });
    const one = await client.replayWebhooks({ tenant, eventId: letter!.eventId, subscriptionId: 'dead' });
    expect(one.deliveries).toHaveLength(1);
    await waitFor('the replayed event', async () => receiver.at('/dead').length === 7);
    const replayed = receiver.at('/dead')[6]!;
    expect(replayed.headers['webhook-id']).toBe(letter!.eventId); // same event, same id: receivers dedupe
    expect(() => verifyWebhook(replayed.headers, replayed.body, dead.secret!)).not.toThrow();
    const again = await client.webhookDeliveries({
      tenant,
      eventId: letter!.eventId,
      subscriptionId: 'dead',
    });
    expect(again.find((d) => d.replayOf)?.status).toBe('delivered');

    // a time range: everything since `from` again, to every subscription that wants it
    const before = receiver.at('/all').length;
    const range = await client.replayWebhooks({
      tenant,
      from,
      to: new Date().toISOString(),
      subscriptionId: 'all-events',
    });
    expect(range.deliveries).toHaveLength(1);
    await waitFor('the replayed range', async () => receiver.at('/all').length === before + 1);
    expect(receiver.at('/all').at(-1)!.headers['webhook-id']).toBe(letter!.eventId);

    const bad = await client
      .replayWebhooks({ tenant, eventId: 'evt_000000000000000000000000' })
      .catch((e: unknown) => e);
    expect((bad as ConclaveError).message).toContain('has no event');
  });

  it('disables a subscription whose endpoint answers 410, and audits every subscription change', async () => {
    await client.createWebhook({
      tenant,
      id: 'gone',
      url: receiver.url('/gone'),
      events: ['rules.published'],
    });
    receiver.answer = (path) => (path === '/gone' ? { status: 410 } : { status: 200 });
    await client.publishRules({ text: rules, config, tenant });
    await waitFor(
      'the 410',
      async () =>
        (await client.webhooks({ tenant })).find((s) => s.subscriptionId === 'gone')!.status === 'disabled',
    );
    const gone = (await client.webhooks({ tenant })).find((s) => s.subscriptionId === 'gone')!;
    expect(gone.disabledReason).toContain('410');
    await client.publishRules({ text: rules, config, tenant });
    await new Promise((r) => setTimeout(r, 1500));
    expect(receiver.at('/gone')).toHaveLength(1);
    receiver.answer = () => ({ status: 200 });

    const disabled = await client.setWebhookEnabled({ subscriptionId: 'dead', enabled: false, tenant });
    expect(disabled.status).toBe('disabled');
    const chain = await client.auditChain({ tenant });
    expect(verifyAuditChain(tenant, chain.entries, chain.checkpoints, chain.coordinatorKey).ok).toBe(true);
    const changes = chain.entries
      .filter((e) => e.ceremony === 'webhook-subscription')
      .map(
        (e) =>
          `${String((e.detail as Record<string, unknown>).subscriptionId)} ${String((e.detail as Record<string, unknown>).action)} ${e.requestedBy}`,
      );
    expect(changes).toContain('all-events create ops@hooks');
    expect(changes).toContain('gone disable conclave');
    expect(changes).toContain('dead disable ops@hooks');
    expect(chain.entries.some((e) => e.ceremony === 'webhook-replay')).toBe(true);
  });

  it('rotates a secret with a grace period: old and new both verify, then only the new', async () => {
    const before = await client.webhooks({ tenant });
    const old = before.find((s) => s.subscriptionId === 'all-events')!;
    expect(old.secrets).toHaveLength(1);
    const oldSecret = receiverSecret;
    const rotated: WebhookCredentials = await client.rotateWebhookSecret({
      subscriptionId: 'all-events',
      tenant,
      graceSeconds: 600,
    });
    expect(rotated.secret).not.toBe(oldSecret);
    expect(rotated.subscription.secrets).toHaveLength(2);
    const n = receiver.at('/all').length;
    await client.publishRules({ text: rules, config, tenant });
    await waitFor('a delivery after rotation', async () => receiver.at('/all').length > n);
    const r = receiver.at('/all').at(-1)!;
    expect(String(r.headers['webhook-signature']).split(' ')).toHaveLength(2);
    expect(() => verifyWebhook(r.headers, r.body, oldSecret)).not.toThrow();
    expect(() => verifyWebhook(r.headers, r.body, rotated.secret!)).not.toThrow();

    const final = await client.rotateWebhookSecret({ subscriptionId: 'all-events', tenant, graceSeconds: 0 });
    expect(final.subscription.secrets).toHaveLength(1);
    const m = receiver.at('/all').length;
    await client.publishRules({ text: rules, config, tenant });
    await waitFor('a delivery after the grace', async () => receiver.at('/all').length > m);
    const s = receiver.at('/all').at(-1)!;
    expect(() => verifyWebhook(s.headers, s.body, final.secret!)).not.toThrow();
    expect(() => verifyWebhook(s.headers, s.body, [oldSecret, rotated.secret!])).toThrow(/signature/);
  });

  it('keeps secrets out of workflow history', async () => {
    const codec = new ConclavePayloadCodec(loadConfig(stackEnv()).payloadKey!);
    const made = await client.createWebhook({
      tenant,
      id: 'history',
      url: receiver.url('/h'),
      events: ['rules.published'],
    });
    const edKey = await client.createWebhook({
      tenant,
      id: 'history-ed',
      url: receiver.url('/h2'),
      events: ['rules.published'],
      signing: 'ed25519',
    });
    await client.publishRules({ text: rules, config, tenant });
    await waitFor(
      'deliveries for the history check',
      async () => receiver.at('/h').length > 0 && receiver.at('/h2').length > 0,
    );
    let seen = 0;
    for await (const wf of raw.workflow.list({ query: `WorkflowId STARTS_WITH "webhook"` })) {
      const history = await raw.workflow.getHandle(wf.workflowId, wf.runId).fetchHistory();
      const text = await decodedText(codec, history);
      expect(text).not.toContain(made.secret!);
      expect(text).not.toContain('whsk_');
      seen++;
    }
    expect(seen).toBeGreaterThan(10);
    expect(edKey.publicKey).toMatch(/^whpk_/);
  });

  it('is managed from the CLI: create, list, deliveries, replay, disable, and clear refusals', async () => {
    const made = await conclave([
      'webhooks',
      'create',
      '--tenant',
      tenant,
      '--id',
      'cli',
      '--url',
      receiver.url('/cli'),
      '--events',
      'rules.published,wallet.created',
      '--json',
    ]);
    expect(made.code, made.stderr).toBe(0);
    const secret = String(json(made).secret);
    expect(secret).toMatch(/^whsec_/);
    const listed = await conclave(['webhooks', 'list', '--tenant', tenant]);
    expect(listed.stdout).toMatch(/^cli\s+enabled\s+hmac\s+http:\/\/127\.0\.0\.1/m);
    expect(listed.stdout).not.toContain(secret);
    await client.publishRules({ text: rules, config, tenant });
    await expectDelivered('/cli', secret, ['rules.published']);
    await waitFor('the CLI delivery logged', async () =>
      (await conclave(['webhooks', 'deliveries', '--tenant', tenant, '--id', 'cli'])).stdout.includes(
        ' 200 ',
      ),
    );
    const log = await conclave(['webhooks', 'deliveries', '--tenant', tenant, '--id', 'cli', '--json']);
    const [delivery] = json(log).deliveries as { eventId: string; status: string }[];
    expect(delivery!.status).toBe('delivered');
    const replay = await conclave([
      'webhooks',
      'replay',
      '--tenant',
      tenant,
      '--id',
      'cli',
      '--event',
      delivery!.eventId,
    ]);
    expect(replay.code, replay.stderr).toBe(0);
    expect(replay.stdout).toContain('1 deliveries started');
    await waitFor('the CLI replay', async () => receiver.at('/cli').length === 2);
    const off = await conclave(['webhooks', 'disable', '--tenant', tenant, '--id', 'cli']);
    expect(off.stdout).toMatch(/^cli\s+disabled/m);

    const refusals: [string[], string][] = [
      [['webhooks', 'create', '--tenant', other, '--url', 'https://10.0.0.1/x', '--events', '*'], 'private'],
      [
        ['webhooks', 'create', '--tenant', tenant, '--url', receiver.url('/x'), '--events', 'nope'],
        'unknown event type',
      ],
      [
        ['webhooks', 'rotate', '--tenant', other, '--id', 'cli'],
        `tenant ${other} has no webhook subscription cli`,
      ],
      [['webhooks', 'replay', '--tenant', tenant], '--event EVT or --since DATE'],
      [
        [
          'webhooks',
          'create',
          '--tenant',
          tenant,
          '--url',
          receiver.url('/x'),
          '--events',
          '*',
          '--signing',
          'rsa',
        ],
        '--signing',
      ],
    ];
    for (const [args, text] of refusals) {
      const r = await conclave(args);
      expect(r.code, args.join(' ')).not.toBe(0);
      expect(r.stderr).toContain(text);
    }
  });

  it('shows another tenant nothing, and lets it change nothing', async () => {
    expect(await client.webhooks({ tenant: other })).toEqual([]);
    expect(await client.webhookDeliveries({ tenant: other, subscriptionId: 'all-events' })).toEqual([]);
    const theirs = await client.webhookDeliveries({ tenant, subscriptionId: 'all-events' });
    const eventId = theirs[0]!.eventId;
    for (const attempt of [
      () => client.setWebhookEnabled({ subscriptionId: 'all-events', enabled: false, tenant: other }),
      () => client.rotateWebhookSecret({ subscriptionId: 'all-events', tenant: other }),
      () => client.replayWebhooks({ tenant: other, eventId }),
      () => client.replayWebhooks({ tenant: other, eventId, subscriptionId: 'all-events' }),
      () => client.createWebhook({ tenant: `${tenant}|x`, url: receiver.url('/x'), events: ['*'] }),
    ]) {
      const err = await attempt().catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ConclaveError);
      expect((err as ConclaveError).code).toBe('BAD_INPUT');
    }
    expect((await client.webhooks({ tenant })).find((s) => s.subscriptionId === 'all-events')!.status).toBe(
      'enabled',
    );
  });
});

/** Every payload of a history, decrypted with the payload key, as one string. */
async function decodedText(codec: ConclavePayloadCodec, history: unknown): Promise<string> {
  const payloads: Payload[] = [];
  const walk = (v: unknown) => {
    if (!v || typeof v !== 'object') return;
    const o = v as Record<string, unknown>;
    if (o.metadata && o.data instanceof Uint8Array) payloads.push(o as Payload);
    for (const x of Object.values(o)) walk(x);
  };
  walk(history);
  // the codec refuses what it did not encrypt (search attributes are the server's, in the clear):
  // those are read as they are
  const ours = (p: Payload) =>
    Buffer.from(p.metadata?.encoding ?? new Uint8Array()).toString('utf8') === encryptedEncoding;
  const decoded = await codec.decode(payloads.filter(ours));
  return [...decoded, ...payloads.filter((p) => !ours(p))]
    .map((p) => Buffer.from(p.data ?? new Uint8Array()).toString('utf8'))
    .join('\n');
}
