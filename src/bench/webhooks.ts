/**
 * Bench rows for webhooks and the audit chain:
 *   - delivery latency from an event (its `timestamp`, set when the coordinator records it) to its
 *     receipt at a local receiver, against a direct POST to the same receiver from this process;
 *   - audit appends per second with 1, 8 and 32 concurrent writers on one tenant's chain, against
 *     plain inserts of the same documents at the same concurrency.
 */
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import got from 'got';
import type { ConclaveClient } from '../client/index.js';
import { loadConfig, type Env } from '../config.js';
import { verifyAuditChain } from '../audit/chain.js';
import { appendAudit, chainEntryOf } from '../store/audit-log.js';
import { CoordinatorStore } from '../store/coordinator-store.js';
import { openDb } from '../store/mongo.js';
import type { WebhookBody } from '../webhooks/events.js';
import { now, summarize, type Summary } from './stats.js';

const benchDestination = 'Bench111111111111111111111111111111111111111';

interface Receipt {
  body: WebhookBody;
  at: number;
}

/** Signs `samples` payments on a tenant with one subscription; each receipt's delay after its event. */
export async function measureWebhookLatency(
  client: ConclaveClient,
  opts: { runId: string; samples: number; warmup: number },
): Promise<{ delivery: Summary; directPost: Summary }> {
  const receipts: Receipt[] = [];
  let waiting: (() => void) | undefined;
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const at = Date.now();
      res.writeHead(200).end();
      const text = Buffer.concat(chunks).toString('utf8');
      if (req.url === '/hook') receipts.push({ body: JSON.parse(text) as WebhookBody, at });
      waiting?.();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  try {
    const tenant = `bench-hooks-${opts.runId}`;
    await client.publishRules({
      text: JSON.stringify({ version: 1, defaultOutcome: 'allow', rules: [] }),
      config: { allowPrivateWebhookEndpoints: true },
      tenant,
    });
    await client.createWebhook({ tenant, url: `${url}/hook`, events: ['transaction.signed'] });
    const w = await client.createWallet({
      tenant,
      walletId: `${opts.runId}-hooks`,
      threshold: 2,
      parties: 3,
    });
    const delays: number[] = [];
    for (let i = 0; i < opts.warmup + opts.samples; i++) {
      const before = receipts.length;
      const arrived = new Promise<void>((r) => (waiting = () => receipts.length > before && r()));
      await client.sign({
        tenant,
        walletId: w.walletId,
        message: randomBytes(32).toString('hex'),
        tx: { chain: 'solana', asset: 'SOL', amount: '1', destination: benchDestination },
      });
      await arrived;
      const r = receipts.at(-1)!;
      if (i >= opts.warmup) delays.push(r.at - Date.parse(r.body.timestamp));
    }
    const direct: number[] = [];
    for (let i = 0; i < opts.warmup + opts.samples; i++) {
      const t = now();
      await got.post(`${url}/direct`, { body: '{}', retry: { limit: 0 } });
      if (i >= opts.warmup) direct.push(now() - t);
    }
    return { delivery: summarize(delays), directPost: summarize(direct) };
  } finally {
    await new Promise<void>((r) => server.close(() => r()));
  }
}

export interface AppendRate {
  writers: number;
  appends: number;
  perSecond: number;
  insertsPerSecond: number;
}

/** Audit appends per second on one tenant's chain, and plain inserts, at each concurrency. */
export async function measureAuditAppends(
  env: Env,
  opts: { runId: string; perWriter: number; writers: number[] },
): Promise<AppendRate[]> {
  const db = await openDb(loadConfig(env).coordinatorDb);
  const store = new CoordinatorStore(db);
  const plain = db.collection<{ _id: string; at: Date }>('bench_plain_inserts');
  const out: AppendRate[] = [];
  for (const writers of opts.writers) {
    const tenant = `bench-audit-${opts.runId}-x${writers}`;
    const entry = (w: number, i: number) => ({
      tenant,
      walletId: 'bench',
      ceremony: 'sign' as const,
      workflowId: `bench-${w}-${i}`,
      ceremonyId: `bench-${w}-${i}`,
      requestedBy: 'bench',
      outcome: 'completed' as const,
      parties: ['p1', 'p2'],
      key: `bench-${w}-${i}|completed`,
    });
    const rate = async (one: (w: number, i: number) => Promise<unknown>) => {
      const t = now();
      await Promise.all(
        Array.from({ length: writers }, async (_, w) => {
          for (let i = 0; i < opts.perWriter; i++) await one(w, i);
        }),
      );
      return (writers * opts.perWriter * 1000) / (now() - t);
    };
    const perSecond = await rate((w, i) => appendAudit(store, entry(w, i)));
    const insertsPerSecond = await rate((w, i) =>
      plain.insertOne({ _id: `${tenant}|${w}|${i}`, ...entry(w, i), at: new Date() }),
    );
    // every append landed, in one unbroken chain: no gaps, no forks
    const docs = await store.audit.find({ tenant }).sort({ seq: 1 }).toArray();
    const verdict = verifyAuditChain(tenant, docs.map(chainEntryOf), [], undefined);
    if (docs.length !== writers * opts.perWriter || !verdict.ok) {
      throw new Error(`audit chain ${tenant}: ${docs.length} entries, ${JSON.stringify(verdict.broken)}`);
    }
    out.push({ writers, appends: writers * opts.perWriter, perSecond, insertsPerSecond });
  }
  await plain.drop().catch(() => undefined);
  return out;
}
