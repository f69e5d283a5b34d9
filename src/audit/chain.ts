/**
 * The per-tenant audit log as a hash chain. Entry n carries the hash of entry n−1 and its own
 * hash over everything else it says, so changing, removing or reordering an entry breaks every
 * hash after it. Checkpoints sign (tenant, sequence, head hash) with the coordinator's key, so a
 * rewrite of the whole chain from some entry on is caught at the next checkpoint too.
 *
 * Pure: `conclave audit verify` runs the same function on the live log and on an exported file.
 */
import { canonicalJson } from '../policy/authorization.js';
import { fromHex, toHex, transcriptHash } from '../crypto/encoding.js';
import { signBytes, verifyBytes } from '../crypto/identity.js';

/** What every entry says, besides the chain fields. Values are plain JSON. */
export interface AuditChainFields {
  tenant: string;
  /** 1, 2, 3…: no gaps. */
  seq: number;
  /** ISO 8601, the coordinator's time of the append. */
  at: string;
  [field: string]: unknown;
}

export interface AuditChainEntry extends AuditChainFields {
  prevHash: string;
  hash: string;
}

export interface AuditCheckpoint {
  tenant: string;
  seq: number;
  hash: string;
  at: string;
  /** Ed25519 signature by the coordinator's key over `checkpointDigest`. */
  signature: string;
}

/** The hash before the first entry. */
export const genesisHash = '0'.repeat(64);

/** An entry's hash: over every field but the hash itself (keys sorted, length-prefixed). */
export function entryHash(entry: Omit<AuditChainEntry, 'hash'> & { hash?: string }): string {
  const { hash: _h, ...rest } = entry;
  return transcriptHash(['conclave/audit-entry/1', canonicalJson(rest)]);
}

export function checkpointDigest(c: Omit<AuditCheckpoint, 'signature'>): string {
  return transcriptHash(['conclave/audit-checkpoint/1', c.tenant, c.seq, c.hash, c.at]);
}

export function signCheckpoint(
  secretKey: Uint8Array,
  c: Omit<AuditCheckpoint, 'signature'>,
): AuditCheckpoint {
  return { ...c, signature: toHex(signBytes(secretKey, fromHex(checkpointDigest(c), 'digest'))) };
}

export interface ChainVerification {
  ok: boolean;
  tenant: string;
  entries: number;
  checkpoints: number;
  /** The head: last sequence number and its hash. */
  head?: { seq: number; hash: string };
  /** The first entry (or checkpoint) that does not hold, and why. */
  broken?: { seq: number; reason: string };
}

/**
 * Re-computes the chain of one tenant and checks its checkpoints. `entries` in any order;
 * `coordinatorKey` is the coordinator's Ed25519 public key (hex) the checkpoints must verify
 * under. Reports the first broken entry by sequence number.
 */
export function verifyAuditChain(
  tenant: string,
  entries: readonly AuditChainEntry[],
  checkpoints: readonly AuditCheckpoint[],
  coordinatorKey: string | undefined,
): ChainVerification {
  const sorted = [...entries].sort((a, b) => a.seq - b.seq);
  const result: ChainVerification = {
    ok: true,
    tenant,
    entries: sorted.length,
    checkpoints: checkpoints.length,
  };
  const fail = (seq: number, reason: string): ChainVerification => ({
    ...result,
    ok: false,
    broken: { seq, reason },
  });
  let prev = genesisHash;
  const hashes = new Map<number, string>();
  for (let i = 0; i < sorted.length; i++) {
    const e = sorted[i]!;
    const expected = i + 1;
    if (e.tenant !== tenant) return fail(e.seq, `entry ${e.seq} belongs to tenant ${String(e.tenant)}`);
    if (e.seq !== expected) {
      return e.seq > expected
        ? fail(expected, `entry ${expected} is missing (the log jumps to ${e.seq})`)
        : fail(e.seq, `entry ${e.seq} appears twice`);
    }
    if (e.prevHash !== prev)
      return fail(e.seq, `entry ${e.seq} does not follow entry ${e.seq - 1} (previous hash differs)`);
    if (entryHash(e) !== e.hash)
      return fail(e.seq, `entry ${e.seq} was changed after it was written (hash differs)`);
    prev = e.hash;
    hashes.set(e.seq, e.hash);
  }
  const last = sorted.at(-1);
  if (last) result.head = { seq: last.seq, hash: last.hash };
  for (const c of [...checkpoints].sort((a, b) => a.seq - b.seq)) {
    let signed = false;
    try {
      signed =
        coordinatorKey !== undefined &&
        verifyBytes(
          fromHex(coordinatorKey, 'key'),
          fromHex(checkpointDigest(c), 'digest'),
          fromHex(c.signature, 'sig'),
        );
    } catch {
      signed = false;
    }
    if (c.tenant !== tenant || !signed)
      return fail(
        c.seq,
        `checkpoint ${c.seq} is not signed by the coordinator key${coordinatorKey ? '' : ' (none given)'}`,
      );
    const h = hashes.get(c.seq);
    if (h === undefined)
      return fail(c.seq, `checkpoint ${c.seq} covers entries that are no longer in the log`);
    if (h !== c.hash)
      return fail(
        c.seq,
        `entry ${c.seq} differs from what checkpoint ${c.seq} signed (the chain was rewritten)`,
      );
  }
  return result;
}
