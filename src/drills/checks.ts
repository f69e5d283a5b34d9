/**
 * After-the-fact checks of a drill, made from outside the engine: signatures verified by OpenSSL
 * (node:crypto), shares read straight from each party's own database, and every party's nonce
 * records scanned for a commitment that appears twice.
 */
import { broadcastJson, type Envelope } from '../crypto/envelope.js';
import { createPublicKey, verify as nodeVerify } from 'node:crypto';
import { loadConfig, type Env } from '../config.js';
import { openDb } from '../store/mongo.js';
import { PartyStore } from '../store/party-store.js';

const ed25519SpkiPrefix = Buffer.from('302a300506032b6570032100', 'hex');

/** Ed25519 verification by OpenSSL, which knows nothing about Conclave or noble. */
export function opensslVerifyEd25519(
  publicKeyHex: string,
  messageHex: string,
  signatureHex: string,
): boolean {
  try {
    const key = createPublicKey({
      key: Buffer.concat([ed25519SpkiPrefix, Buffer.from(publicKeyHex, 'hex')]),
      format: 'der',
      type: 'spki',
    });
    return nodeVerify(null, Buffer.from(messageHex, 'hex'), key, Buffer.from(signatureHex, 'hex'));
  } catch {
    return false;
  }
}

export async function partyStores(env: Env, parties: string[]): Promise<Map<string, PartyStore>> {
  const config = loadConfig(env);
  const out = new Map<string, PartyStore>();
  for (const p of parties) out.set(p, new PartyStore(await openDb(config.partyDb(p))));
  return out;
}

export interface MissingShare {
  walletId: string;
  partyId: string;
  /** Active share documents found (1 expected). */
  active: number;
}

/** Every party of every wallet must hold exactly one active share of it in its own database. */
export async function findMissingShares(
  stores: Map<string, PartyStore>,
  wallets: Array<{ walletId: string; parties: string[] }>,
  tenant = 'default',
): Promise<MissingShare[]> {
  const missing: MissingShare[] = [];
  for (const w of wallets) {
    for (const p of w.parties) {
      const store = stores.get(p);
      const active = store
        ? await store.shares.countDocuments({ tenant, walletId: w.walletId, status: 'active' })
        : 0;
      if (active !== 1) missing.push({ walletId: w.walletId, partyId: p, active });
    }
  }
  return missing;
}

/** Signer sets of size `threshold` that together include every party at least once. */
export function coveringSignerSets(parties: string[], threshold: number): string[][] {
  const sets: string[][] = [];
  for (let start = 0; start < parties.length; start += threshold) {
    const set: string[] = [];
    for (let j = 0; set.length < threshold; j++) set.push(parties[(start + j) % parties.length]!);
    sets.push(set);
  }
  return sets;
}

export interface NonceReport {
  /** Nonce documents scanned, over all parties. */
  documents: number;
  used: number;
  fresh: number;
  /** Hiding or binding commitments that appear in more than one nonce document. */
  reusedCommitments: number;
  /** Used nonces whose round-1 commitments appear in another document. */
  usedSharedElsewhere: number;
  /** Documents in status 'used' that still carry the sealed nonces. */
  usedStillSealed: number;
  /** Documents whose round-1 output could not be read (counted as reuse: unverifiable). */
  unreadable: number;
  examples: string[];
}

export function nonceReuseCount(r: NonceReport): number {
  return r.reusedCommitments + r.usedSharedElsewhere + r.usedStillSealed + r.unreadable;
}

interface Commitments {
  hiding: string;
  binding: string;
}

/** The nonce commitments a round-1 output (or a pool slot's) carries: one per message of its request. */
function round1Commitments(doc: { round1Output: unknown }): Commitments[] | undefined {
  try {
    const env = doc.round1Output as Envelope;
    const body = broadcastJson<{ commitments?: Commitments | Commitments[] }>(env);
    // a list since batches; a single pair in records made before
    const list = Array.isArray(body.commitments) ? body.commitments : [body.commitments];
    if (list.length && list.every((c) => typeof c?.hiding === 'string' && typeof c.binding === 'string'))
      return list as Commitments[];
  } catch {
    // unreadable
  }
  return undefined;
}

/**
 * Scans every party's fresh nonces (`nonces`) and spent ones (`nonce_spends`) for commitments
 * that appear in more than one nonce, and for sealed nonces left behind after their spending.
 */
export async function scanNonces(stores: Map<string, PartyStore>): Promise<NonceReport> {
  const report: NonceReport = {
    documents: 0,
    used: 0,
    fresh: 0,
    reusedCommitments: 0,
    usedSharedElsewhere: 0,
    usedStillSealed: 0,
    unreadable: 0,
    examples: [],
  };
  const seen = new Map<string, Set<string>>(); // commitment point -> nonces carrying it
  const used: Array<{ key: string; points: string[] }> = [];
  const note = (key: string, doc: { round1Output: unknown }, spent: boolean) => {
    const list = round1Commitments(doc);
    if (!list) {
      report.unreadable++;
      report.examples.push(`${key}: round-1 commitments unreadable`);
      return;
    }
    const points = list.flatMap((c) => [c.hiding, c.binding]);
    for (const point of points) {
      let docs = seen.get(point);
      if (!docs) seen.set(point, (docs = new Set()));
      docs.add(key);
    }
    if (spent) used.push({ key, points });
  };
  for (const [party, store] of stores) {
    const spentIds = new Set<string>();
    for await (const doc of store.nonceSpends.find({})) {
      report.documents++;
      report.used++;
      spentIds.add(doc._id);
      note(`${party}:${doc._id}`, doc, true);
    }
    for await (const doc of store.nonces.find({})) {
      if (spentIds.has(doc._id)) {
        // the same nonce, spent: its sealed copy should have been deleted with the spending
        report.usedStillSealed++;
        report.examples.push(`${party}:${doc._id}: spent but still sealed`);
        continue;
      }
      report.documents++;
      report.fresh++;
      note(`${party}:${doc._id}`, doc, false);
    }
  }
  for (const [point, docs] of seen) {
    if (docs.size > 1) {
      report.reusedCommitments++;
      report.examples.push(`commitment ${point.slice(0, 16)}… in ${[...docs].join(', ')}`);
    }
  }
  for (const u of used) {
    const elsewhere = u.points.some((p) => [...(seen.get(p) ?? [])].some((k) => k !== u.key));
    if (elsewhere) report.usedSharedElsewhere++;
  }
  report.examples = report.examples.slice(0, 10);
  return report;
}
