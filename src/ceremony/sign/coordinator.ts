/**
 * The coordinator's side of signing: it plans a request (who signs, under which derived key)
 * and, for FROST, aggregates the signers' shares and verifies the result before anyone sees
 * it. It holds no secret and checks every signer's signed messages itself.
 */
import { randomInt } from 'node:crypto';
import type { Envelope } from '../../crypto/envelope.js';
import { fromHex } from '../../crypto/encoding.js';
import { aggregateSignature, tweakPublicPackage, type PublicPackage } from '../../crypto/frost.js';
import { getScheme, type Scheme } from '../../crypto/schemes.js';
import { canonicalKeyRequest, signingKeyFor, type SigningKey } from '../../crypto/signing-key.js';
import { ConclaveError, CulpritError } from '../../errors.js';
import type { PeerEntry } from '../contracts.js';
import { protocolOf } from '../contracts.js';
import { openRound, roundHeader } from '../rounds.js';
import {
  canonicalSignItem,
  commitmentSource,
  keyRequestId,
  poolBinding,
  type NoncePoolSpec,
  signItems,
  signRequestHash,
  type CanonicalSignItem,
  type CommitBody,
  type SignContext,
  type SignRequest,
  type SignShareBody,
} from './contracts.js';

/** What signing reads of a wallet version on the coordinator's side: all public. */
export interface WalletKey {
  walletId: string;
  keyId: string;
  version: number;
  scheme: string;
  threshold: number;
  parties: PeerEntry[];
  publicKey: string;
  transcriptHash: string;
  publicPackage: PublicPackage;
}

/**
 * Signers the caller did not name: a uniformly random t-subset, so the work of signing spreads
 * over all parties. Runs in an activity, so the choice is recorded and replays identically.
 */
export function pickSigners(members: string[], threshold: number): string[] {
  const pool = [...members];
  for (let i = pool.length - 1; i > 0; i--) {
    const j = randomInt(i + 1);
    [pool[i], pool[j]] = [pool[j]!, pool[i]!];
  }
  return pool.slice(0, threshold);
}

/**
 * The context every signer checks, for a request the caller validated: its signers (named, or picked) all
 * parties of this version and at least its threshold, in roster order, and the canonical key
 * request (derivation path, merkle root) it binds.
 */
export function planSign(req: SignRequest, w: WalletKey, ceremonyId: string): SignContext {
  const members = w.parties.map((p) => p.partyId);
  const named = req.signers ?? pickSigners(members, w.threshold);
  if (new Set(named).size !== named.length)
    throw new ConclaveError('BAD_INPUT', 'signer list has duplicates');
  for (const s of named) {
    if (!members.includes(s))
      throw new ConclaveError('BAD_INPUT', `${s} is not a party of wallet ${req.walletId}`);
  }
  if (named.length < w.threshold) {
    throw new ConclaveError(
      'BAD_INPUT',
      `wallet ${req.walletId} needs ${w.threshold} signers, ${named.length} named`,
    );
  }
  const scheme = getScheme(w.scheme);
  const protocol = protocolOf(w.scheme);
  if (req.batch && protocol.protocol === 'dkls23') {
    throw new ConclaveError(
      'BAD_INPUT',
      `batch signing is built for FROST schemes; wallet ${req.walletId} is ${scheme.name}: sign its messages one request each`,
    );
  }
  const items = req.batch ? req.batch.map(canonicalSignItem) : [req];
  for (const item of items) {
    const length = item.message.length / 2;
    if (scheme.messageBytes !== undefined && length !== scheme.messageBytes) {
      throw new ConclaveError(
        'BAD_INPUT',
        `${scheme.name} signs a ${scheme.messageBytes}-byte hash, not a ${length}-byte message (hash it first, e.g. conclave sign --eip191 or --eip1559)`,
      );
    }
  }
  return {
    tenant: req.tenant,
    ceremonyId,
    walletId: w.walletId,
    keyId: w.keyId,
    version: w.version,
    message: req.message.toLowerCase(),
    ...(req.batch
      ? {
          batch: req.batch.map((item) =>
            canonicalSignItem({ ...item, ...canonicalKeyRequest(scheme, item) }),
          ),
        }
      : {}),
    signers: members.filter((m) => named.includes(m)),
    ...canonicalKeyRequest(scheme, req),
    ...(req.dryRun ? { dryRun: req.dryRun } : {}),
    ...protocol,
  };
}

/**
 * FROST aggregation: every signer's commitments and shares opened and bound to the request, and
 * for each item of the request its signature aggregated and verified under the item's derived
 * key. Shares are checked one by one only when an aggregate fails, to name the signer whose share
 * does not verify.
 */
export function aggregate(
  ctx: SignContext,
  w: WalletKey,
  commitments: Envelope[],
  shares: Envelope[],
): Array<{ signature: string; key: SigningKey }> {
  const scheme = getScheme(w.scheme);
  const request = signRequestHash(ctx);
  const source = commitmentSource(ctx);
  const items = signItems(ctx);
  const signers = w.parties.filter((p) => ctx.signers.includes(p.partyId));
  const committed = openRound<CommitBody>(commitments, signers, (p) =>
    roundHeader({ ...ctx, ceremonyId: source.ceremonyId }, 'sign-1', 'sign-commitments', p.partyId, '*'),
  );
  const perSigner = signers.map((p) => {
    const body = committed.get(p.partyId)!;
    if (body.request !== source.request) {
      throw new CulpritError('DISAGREEMENT', p.partyId, `${p.partyId} committed to another request`);
    }
    if (
      !Array.isArray(body.commitments) ||
      body.commitments.length !== items.length ||
      body.commitments.some((c) => c?.identifier !== p.identifier)
    ) {
      throw new CulpritError(
        'TAMPERED',
        p.partyId,
        `${p.partyId} did not commit once under its own identifier to each of the ${items.length} messages`,
      );
    }
    return body.commitments;
  });
  const signed = openRound<SignShareBody>(shares, signers, (p) =>
    roundHeader(ctx, 'sign-2', 'sign-share', p.partyId, '*'),
  );
  const sharesOf = signers.map((p) => {
    const body = signed.get(p.partyId)!;
    if (body.request !== request)
      throw new CulpritError('DISAGREEMENT', p.partyId, `${p.partyId} signed another request`);
    if (!Array.isArray(body.shares) || body.shares.length !== items.length)
      throw new CulpritError('TAMPERED', p.partyId, `${p.partyId} did not send one share per message`);
    return body.shares;
  });
  const keys = itemKeys(scheme, w, items);
  return items.map((item, i) => {
    const { key, publicPackage } = keys.get(keyRequestId(item))!;
    const sigShares: Record<string, string> = {};
    signers.forEach((p, k) => (sigShares[p.identifier] = sharesOf[k]![i]!));
    try {
      const signature = aggregateSignature(
        scheme,
        publicPackage,
        perSigner.map((list) => list[i]!),
        fromHex(item.message, 'message'),
        sigShares,
      );
      return { signature, key };
    } catch (err) {
      if (err instanceof CulpritError) {
        const party = signers.find((p) => p.identifier === err.culprit);
        if (party) throw new CulpritError(err.code, party.partyId, 'signature share does not verify');
      }
      throw err;
    }
  });
}

/** Each distinct key request's signing key and tweaked public package, derived once. */
function itemKeys(
  scheme: Scheme,
  w: WalletKey,
  items: CanonicalSignItem[],
): Map<string, { key: SigningKey; publicPackage: PublicPackage }> {
  const keys = new Map<string, { key: SigningKey; publicPackage: PublicPackage }>();
  for (const item of items) {
    const id = keyRequestId(item);
    if (keys.has(id)) continue;
    const key = signingKeyFor(scheme, w.publicKey, w.transcriptHash, item);
    keys.set(id, { key, publicPackage: tweakPublicPackage(scheme, w.publicPackage, key.tweak) });
  }
  return keys;
}

/**
 * A pool slot's commitments as a signer published them, checked before the coordinator keeps
 * them: signed by that signer, for that slot, bound to the pool, one commitment under the
 * signer's identifier. (Every signer checks them again when a request uses the slot.)
 */
export function checkPoolCommitments(
  spec: NoncePoolSpec,
  w: WalletKey,
  slot: string,
  envelopes: Envelope[],
): void {
  const signers = w.parties.filter((p) => spec.signers.includes(p.partyId));
  const bodies = openRound<CommitBody>(envelopes, signers, (p) =>
    roundHeader({ tenant: spec.tenant, ceremonyId: slot }, 'sign-1', 'sign-commitments', p.partyId, '*'),
  );
  for (const p of signers) {
    const body = bodies.get(p.partyId)!;
    if (
      body.request !== poolBinding(spec, slot) ||
      !Array.isArray(body.commitments) ||
      body.commitments.length !== 1 ||
      body.commitments[0]?.identifier !== p.identifier
    ) {
      throw new CulpritError(
        'TAMPERED',
        p.partyId,
        `${p.partyId} published a commitment not bound to ${slot}`,
      );
    }
  }
}
