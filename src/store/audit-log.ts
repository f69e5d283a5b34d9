/**
 * Appends to a tenant's hash-chained audit log (src/audit/chain.ts) without transactions. An
 * entry's `_id` carries its sequence number, so inserting it is the atomic step: two appenders
 * that read the same head cannot both write the next number (no fork), and numbers are taken
 * one after another (no gap). The loser reads the new head and tries again.
 */
import {
  entryHash,
  genesisHash,
  signCheckpoint,
  type AuditChainEntry,
  type AuditCheckpoint,
} from '../audit/chain.js';
import { ConclaveError } from '../errors.js';
import type { AuditDoc, CoordinatorStore } from './coordinator-store.js';
import { isDuplicateKey } from './mongo.js';
import { MongoBulkWriteError } from 'mongodb';

/** A checkpoint is signed every this many entries of a tenant. */
export const checkpointEvery = 10;

const pad = (seq: number) => String(seq).padStart(12, '0');
export const auditDocId = (tenant: string, seq: number) => `${tenant}|${pad(seq)}`;

/** A stored entry as the chain sees it (dates as ISO 8601, no `_id`). */
export function chainEntryOf(doc: AuditDoc): AuditChainEntry {
  const { _id, at, ...rest } = doc;
  return { ...rest, at: at.toISOString() } as AuditChainEntry;
}

type AuditFields = Omit<AuditDoc, '_id' | 'at' | 'seq' | 'prevHash' | 'hash'>;

interface PendingAppend {
  fields: AuditFields;
  checkpointKey: Uint8Array | undefined;
  resolve: (entry: AuditChainEntry) => void;
  reject: (err: unknown) => void;
}

/** One tenant's appends in this process: queued, written in batches, with the head last written. */
interface TenantQueue {
  pending: PendingAppend[];
  running: boolean;
  head?: { seq: number; hash: string };
}

const queues = new WeakMap<CoordinatorStore, Map<string, TenantQueue>>();
/** Appends written by one insert at most. */
const maxBatch = 64;

/**
 * Appends `fields` as the tenant's next entry, once per `key` (a retried append finds its entry).
 * Every `checkpointEvery` entries, signs a checkpoint with `checkpointKey` when there is one.
 *
 * Appends of one tenant in this process queue up and are written together: one ordered insert of
 * consecutive numbers per batch, so concurrent ceremonies do not race each other for the next
 * number. Other processes still may: an insert that meets a number already taken keeps what it
 * wrote before it, walks forward to the real end and tries again with the rest.
 *
 * Every read is by `_id` (a collection scan per append would grow with the log): a small head
 * document per tenant says where the chain ended when last written; it is moved after the entries
 * are, so an appender walks forward from it to the real end before taking the next number.
 */
export function appendAudit(
  store: CoordinatorStore,
  fields: AuditFields,
  checkpointKey?: Uint8Array,
): Promise<AuditChainEntry> {
  let byTenant = queues.get(store);
  if (!byTenant) queues.set(store, (byTenant = new Map()));
  let q = byTenant.get(fields.tenant);
  if (!q) byTenant.set(fields.tenant, (q = { pending: [], running: false }));
  const queue = q;
  return new Promise((resolve, reject) => {
    queue.pending.push({ fields, checkpointKey, resolve, reject });
    if (!queue.running) void drain(store, fields.tenant, queue);
  });
}

async function drain(store: CoordinatorStore, tenant: string, q: TenantQueue): Promise<void> {
  q.running = true;
  try {
    while (q.pending.length) {
      const batch = q.pending.splice(0, maxBatch);
      try {
        const entries = await appendBatch(store, tenant, q, batch);
        batch.forEach((p, i) => p.resolve(entries[i]!));
      } catch (err) {
        q.head = undefined; // read it again next time
        for (const p of batch) p.reject(err);
      }
    }
  } finally {
    q.running = false;
  }
}

async function appendBatch(
  store: CoordinatorStore,
  tenant: string,
  q: TenantQueue,
  batch: PendingAppend[],
): Promise<AuditChainEntry[]> {
  const keyIds = batch.map((p) => `${tenant}|${p.fields.key}`);
  // a retried append finds the entry it made (a key twice in one batch is written once)
  const known = await Promise.all(
    keyIds.map(async (id) => {
      const k = await store.auditKeys.findOne({ _id: id });
      const doc = k ? await store.audit.findOne({ _id: auditDocId(tenant, k.seq) }) : null;
      return doc ? chainEntryOf(doc) : undefined;
    }),
  );
  const out: (AuditChainEntry | undefined)[] = [...known];
  const firstOfKey = new Map<string, number>();
  let todo: number[] = [];
  batch.forEach((_, i) => {
    if (out[i] || firstOfKey.has(keyIds[i]!)) return;
    firstOfKey.set(keyIds[i]!, i);
    todo.push(i);
  });

  let head = q.head;
  let walk = !head;
  if (!head) {
    const headDoc = await store.auditHeads.findOne({ _id: tenant });
    head = { seq: headDoc?.seq ?? 0, hash: headDoc?.hash ?? genesisHash };
  }
  const written: AuditChainEntry[] = [];
  for (let attempt = 0; todo.length; attempt++) {
    if (attempt >= 500) throw new ConclaveError('BUSY', `the audit log of ${tenant} is too contended; retry`);
    if (walk) {
      for (;;) {
        const next: AuditDoc | null = await store.audit.findOne({ _id: auditDocId(tenant, head.seq + 1) });
        if (!next) break;
        head = { seq: next.seq, hash: next.hash };
      }
    }
    const at = new Date();
    const entries: AuditChainEntry[] = [];
    let prev = head;
    for (const i of todo) {
      const unsigned = { ...batch[i]!.fields, seq: prev.seq + 1, at: at.toISOString(), prevHash: prev.hash };
      const entry: AuditChainEntry = { ...unsigned, hash: entryHash(unsigned) };
      entries.push(entry);
      prev = { seq: entry.seq, hash: entry.hash };
    }
    const docs = entries.map((e) => ({ ...(e as unknown as AuditDoc), _id: auditDocId(tenant, e.seq), at }));
    let inserted = entries.length;
    try {
      await store.audit.insertMany(docs, { ordered: true });
    } catch (err) {
      // ordered: everything before the first refused entry is in; a refusal other than a taken
      // number is a real failure
      const refused = firstRefused(err);
      if (refused === undefined) throw err;
      inserted = refused;
    }
    for (let k = 0; k < inserted; k++) out[todo[k]!] = entries[k];
    written.push(...entries.slice(0, inserted));
    if (inserted > 0) head = { seq: entries[inserted - 1]!.seq, hash: entries[inserted - 1]!.hash };
    todo = todo.slice(inserted);
    if (todo.length) {
      walk = true; // another process took the next number
      await new Promise((r) => setTimeout(r, Math.random() * 3 * Math.min(attempt + 1, 10)));
    }
  }
  q.head = head;
  batch.forEach((_, i) => (out[i] ??= out[firstOfKey.get(keyIds[i]!)!]));

  // bookkeeping after the fact: a crash here only leaves the head behind (walked over later)
  // or a key unrecorded (a retry of that very append may then add it once more)
  if (written.length) {
    const last = written.at(-1)!;
    await store.auditHeads
      .updateOne(
        { _id: tenant, seq: { $lt: last.seq } },
        { $set: { seq: last.seq, hash: last.hash } },
        { upsert: true },
      )
      .catch((e: unknown) => {
        if (!isDuplicateKey(e)) throw e; // a later head is already there
      });
    await ignoreTaken(
      store.auditKeys.insertMany(
        written.map((e) => ({ _id: `${tenant}|${String(e.key)}`, seq: e.seq })),
        { ordered: false },
      ),
    );
    const checkpointKey = batch[0]!.checkpointKey;
    const due = written.filter((e) => e.seq % checkpointEvery === 0);
    if (checkpointKey && due.length) {
      await ignoreTaken(
        store.auditCheckpoints.insertMany(
          due.map((e) => ({
            ...signCheckpoint(checkpointKey, { tenant, seq: e.seq, hash: e.hash, at: e.at }),
            _id: auditDocId(tenant, e.seq),
          })),
          { ordered: false },
        ),
      );
    }
  }
  return out as AuditChainEntry[];
}

const writeErrorsOf = (err: MongoBulkWriteError) =>
  Array.isArray(err.writeErrors) ? err.writeErrors : [err.writeErrors];

/** The index of the first entry an ordered insert refused because its `_id` was taken. */
function firstRefused(err: unknown): number | undefined {
  if (err instanceof MongoBulkWriteError) {
    const errors = writeErrorsOf(err);
    if (errors.length === 0 || errors.some((e) => e.code !== 11000)) return undefined;
    return Math.min(...errors.map((e) => e.index));
  }
  return isDuplicateKey(err) ? 0 : undefined;
}

/** An unordered insert whose duplicates (written by an earlier try) are fine. */
async function ignoreTaken(insert: Promise<unknown>): Promise<void> {
  try {
    await insert;
  } catch (err) {
    if (err instanceof MongoBulkWriteError && writeErrorsOf(err).every((e) => e.code === 11000)) return;
    if (!isDuplicateKey(err)) throw err;
  }
}

export type AuditCheckpointDoc = AuditCheckpoint & { _id: string };
/** Where a tenant's chain ended when last seen (it may lag: appenders walk forward from it). */
export interface AuditHeadDoc {
  _id: string;
  seq: number;
  hash: string;
}
/** Which entry an append key became. */
export interface AuditKeyDoc {
  _id: string;
  seq: number;
}
