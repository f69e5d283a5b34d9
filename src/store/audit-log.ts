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
import { PartyStore } from './party-store.js';

/** A checkpoint is signed every this many entries of a tenant. */
export const checkpointEvery = 10;

const pad = (seq: number) => String(seq).padStart(12, '0');
export const auditDocId = (tenant: string, seq: number) => `${tenant}|${pad(seq)}`;

/** A stored entry as the chain sees it (dates as ISO 8601, no `_id`). */
export function chainEntryOf(doc: AuditDoc): AuditChainEntry {
  const { _id, at, ...rest } = doc;
  return { ...rest, at: at.toISOString() } as AuditChainEntry;
}

/**
 * Appends `fields` as the tenant's next entry, once per `key` (a retried append finds its entry).
 * Every `checkpointEvery` entries, signs a checkpoint with `checkpointKey` when there is one.
 *
 * Every read is by `_id` (a collection scan per append would grow with the log): a small head
 * document per tenant says where the chain ends, and since it is moved only after the entry is
 * written, the appender walks forward from it to the real end before taking the next number.
 */
export async function appendAudit(
  store: CoordinatorStore,
  fields: Omit<AuditDoc, '_id' | 'at' | 'seq' | 'prevHash' | 'hash'>,
  checkpointKey?: Uint8Array,
): Promise<AuditChainEntry> {
  const tenant = fields.tenant;
  const keyId = `${tenant}|${fields.key}`;
  const known = await store.auditKeys.findOne({ _id: keyId });
  const earlier = known ? await store.audit.findOne({ _id: auditDocId(tenant, known.seq) }) : null;
  if (earlier) return chainEntryOf(earlier);
  const headDoc = await store.auditHeads.findOne({ _id: tenant });
  let head = { seq: headDoc?.seq ?? 0, hash: headDoc?.hash ?? genesisHash };
  for (let attempt = 0; attempt < 500; attempt++) {
    for (;;) {
      const next = await store.audit.findOne({ _id: auditDocId(tenant, head.seq + 1) });
      if (!next) break;
      head = { seq: next.seq, hash: next.hash };
    }
    const seq = head.seq + 1;
    const at = new Date();
    const unsigned = { ...fields, seq, at: at.toISOString(), prevHash: head.hash };
    const entry: AuditChainEntry = { ...unsigned, hash: entryHash(unsigned) };
    try {
      await store.audit.insertOne({ ...(entry as unknown as AuditDoc), _id: auditDocId(tenant, seq), at });
    } catch (err) {
      if (!isDuplicateKey(err)) throw err;
      await new Promise((r) => setTimeout(r, Math.random() * 3 * Math.min(attempt + 1, 10)));
      continue;
    }
    // bookkeeping after the fact: a crash here only leaves the head behind (walked over later)
    // or the key unrecorded (a retry of this very append may then add it once more)
    await store.auditHeads
      .updateOne({ _id: tenant, seq: { $lt: seq } }, { $set: { seq, hash: entry.hash } }, { upsert: true })
      .catch((e: unknown) => {
        if (!isDuplicateKey(e)) throw e; // a later head is already there
      });
    await PartyStore.insertOrGet(store.auditKeys, { _id: keyId, seq });
    if (checkpointKey && seq % checkpointEvery === 0) {
      const c = signCheckpoint(checkpointKey, { tenant, seq, hash: entry.hash, at: entry.at });
      await PartyStore.insertOrGet(store.auditCheckpoints, { ...c, _id: auditDocId(tenant, seq) });
    }
    return entry;
  }
  throw new ConclaveError('BUSY', `the audit log of ${tenant} is too contended; retry`);
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
