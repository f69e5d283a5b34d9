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
 */
export async function appendAudit(
  store: CoordinatorStore,
  fields: Omit<AuditDoc, '_id' | 'at' | 'seq' | 'prevHash' | 'hash'>,
  checkpointKey?: Uint8Array,
): Promise<AuditChainEntry> {
  const known = await store.audit.findOne({ tenant: fields.tenant, key: fields.key });
  if (known) return chainEntryOf(known);
  for (let attempt = 0; attempt < 200; attempt++) {
    const [head] = await store.audit.find({ tenant: fields.tenant }).sort({ seq: -1 }).limit(1).toArray();
    const seq = (head?.seq ?? 0) + 1;
    const at = new Date();
    const unsigned = { ...fields, seq, at: at.toISOString(), prevHash: head?.hash ?? genesisHash };
    const entry: AuditChainEntry = { ...unsigned, hash: entryHash(unsigned) };
    try {
      await store.audit.insertOne({
        ...(entry as unknown as AuditDoc),
        _id: auditDocId(fields.tenant, seq),
        at,
      });
    } catch (err) {
      if (!isDuplicateKey(err)) throw err;
      await new Promise((r) => setTimeout(r, Math.random() * 5 * Math.min(attempt + 1, 10)));
      continue;
    }
    if (checkpointKey && seq % checkpointEvery === 0) {
      const c = signCheckpoint(checkpointKey, { tenant: fields.tenant, seq, hash: entry.hash, at: entry.at });
      await PartyStore.insertOrGet(store.auditCheckpoints, { ...c, _id: auditDocId(fields.tenant, seq) });
    }
    return entry;
  }
  throw new ConclaveError('BUSY', `the audit log of ${fields.tenant} is too contended; retry`);
}

export type AuditCheckpointDoc = AuditCheckpoint & { _id: string };
