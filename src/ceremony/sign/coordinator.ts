/**
 * The coordinator's side of signing: it plans a request (who signs, under which derived key)
 * and, for FROST, aggregates the signers' shares and verifies the result before anyone sees
 * it. It holds no secret and checks every signer's signed messages itself.
 */
import { randomInt } from 'node:crypto';
import type { Envelope } from '../../crypto/envelope.js';
import { fromHex } from '../../crypto/encoding.js';
import { aggregateSignature, tweakPublicPackage, type PublicPackage } from '../../crypto/frost.js';
import { getScheme } from '../../crypto/schemes.js';
import { canonicalKeyRequest, signingKeyFor } from '../../crypto/signing-key.js';
import { ConclaveError, CulpritError } from '../../errors.js';
import type { PeerEntry } from '../contracts.js';
import { protocolOf } from '../contracts.js';
import { openRound, roundHeader } from '../rounds.js';
import {
  signRequestHash,
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
  const length = req.message.length / 2;
  if (scheme.messageBytes !== undefined && length !== scheme.messageBytes) {
    throw new ConclaveError(
      'BAD_INPUT',
      `${scheme.name} signs a ${scheme.messageBytes}-byte hash, not a ${length}-byte message (hash it first, e.g. conclave sign --eip191 or --eip1559)`,
    );
  }
  return {
    tenant: req.tenant,
    ceremonyId,
    walletId: w.walletId,
    keyId: w.keyId,
    version: w.version,
    message: req.message.toLowerCase(),
    signers: members.filter((m) => named.includes(m)),
    ...canonicalKeyRequest(scheme, req),
    ...(req.dryRun ? { dryRun: req.dryRun } : {}),
    ...protocolOf(w.scheme),
  };
}

/**
 * FROST aggregation: every signer's commitments and share opened and bound to the request, the
 * signature aggregated and verified under the request's derived key. Shares are checked one by
 * one only when the aggregate fails, to name the signer whose share does not verify.
 */
export function aggregate(
  ctx: SignContext,
  w: WalletKey,
  commitments: Envelope[],
  shares: Envelope[],
): { signature: string; key: ReturnType<typeof signingKeyFor> } {
  const scheme = getScheme(w.scheme);
  const request = signRequestHash(ctx);
  const signers = w.parties.filter((p) => ctx.signers.includes(p.partyId));
  const committed = openRound<CommitBody>(commitments, signers, (p) =>
    roundHeader(ctx, 'sign-1', 'sign-commitments', p.partyId, '*'),
  );
  const list = signers.map((p) => {
    const body = committed.get(p.partyId)!;
    if (body.request !== request || body.commitments?.identifier !== p.identifier) {
      throw new CulpritError('DISAGREEMENT', p.partyId, `${p.partyId} committed to another request`);
    }
    return body.commitments;
  });
  const signed = openRound<SignShareBody>(shares, signers, (p) =>
    roundHeader(ctx, 'sign-2', 'sign-share', p.partyId, '*'),
  );
  const sigShares: Record<string, string> = {};
  for (const p of signers) {
    const body = signed.get(p.partyId)!;
    if (body.request !== request)
      throw new CulpritError('DISAGREEMENT', p.partyId, `${p.partyId} signed another request`);
    sigShares[p.identifier] = body.share;
  }
  const key = signingKeyFor(scheme, w.publicKey, w.transcriptHash, ctx);
  try {
    const signature = aggregateSignature(
      scheme,
      tweakPublicPackage(scheme, w.publicPackage, key.tweak),
      list,
      fromHex(ctx.message, 'message'),
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
}
