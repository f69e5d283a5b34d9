/**
 * A signer's side of FROST signing (RFC 9591), one function per round. Pure: the caller keeps
 * the nonces sealed between the rounds and enforces that they are spent once (the binding to
 * spend them on is `nonceSpendBinding`); nothing here touches a database.
 *
 *   round1 ── broadcast commitments ──▶ openCommitments ▶ round2 ── broadcast share ──▶ coordinator
 */
import { broadcastJson, type Envelope } from '../../crypto/envelope.js';
import { fromHex, transcriptHash } from '../../crypto/encoding.js';
import {
  signCommit,
  signShare,
  tweakPublicPackage,
  tweakSigningShare,
  type SigningCommitment,
  type SigningNonces,
} from '../../crypto/frost.js';
import { getScheme } from '../../crypto/schemes.js';
import { signingKeyFor } from '../../crypto/signing-key.js';
import { ConclaveError, CulpritError } from '../../errors.js';
import type { ShareDoc } from '../../store/party-store.js';
import { jsonBytes, openFrom, roundHeader, type PartyKeyring, sealRoundBroadcast } from '../rounds.js';
import { signRequestHash, type CommitBody, type SignContext, type SignShareBody } from './contracts.js';

/** What signing reads of a signer's key share record (all public; the secret comes separately). */
export type SignerKey = Pick<
  ShareDoc,
  'scheme' | 'identifier' | 'roster' | 'publicKey' | 'transcriptHash' | 'public'
>;

/** Round 1: draws a fresh nonce pair and broadcasts its commitments, bound to the request. */
export function round1(
  me: Pick<PartyKeyring, 'partyId' | 'identitySecret'>,
  ctx: SignContext,
  key: SignerKey,
  signingShare: string,
): { nonces: SigningNonces; output: Envelope } {
  const { nonces, commitments } = signCommit(getScheme(key.scheme), key.identifier, signingShare);
  const body: CommitBody = { request: signRequestHash(ctx), commitments };
  const output = sealRoundBroadcast(me, ctx, 'sign-1', 'sign-commitments', body);
  return { nonces, output };
}

// ── communication round: every signer's commitments reach every signer ──

/**
 * Every signer's commitments, checked: signature, request, identifier, and this signer's own
 * exactly as its round 1 (`ownRound1`) made them, so a coordinator cannot swap them.
 */
export function openCommitments(
  me: Pick<PartyKeyring, 'partyId'>,
  ctx: SignContext,
  key: SignerKey,
  commitments: Envelope[],
  ownRound1: Envelope,
): SigningCommitment[] {
  const request = signRequestHash(ctx);
  const signers = key.roster.filter((p) => ctx.signers.includes(p.partyId));
  const list = signers.map((peer) => {
    const expect = roundHeader(ctx, 'sign-1', 'sign-commitments', peer.partyId, '*');
    const body = openFrom<CommitBody>(commitments, expect, peer);
    if (body.request !== request) {
      throw new CulpritError(
        'DISAGREEMENT',
        peer.partyId,
        `${peer.partyId} committed to another signing request`,
      );
    }
    if (body.commitments?.identifier !== peer.identifier) {
      throw new CulpritError(
        'TAMPERED',
        peer.partyId,
        `${peer.partyId} sent commitments under another identifier`,
      );
    }
    return body.commitments;
  });
  const own = list.find((c) => c.identifier === key.identifier);
  const mine = broadcastJson<CommitBody>(ownRound1).commitments;
  if (!own || JSON.stringify(own) !== JSON.stringify(mine)) {
    throw new ConclaveError('TAMPERED', `the commitment list does not carry ${me.partyId}'s own commitments`);
  }
  return list;
}

/** What a nonce is spent on: the request and the exact commitment list. Spent once, on one. */
export function nonceSpendBinding(ctx: SignContext, list: SigningCommitment[]): string {
  return transcriptHash([fromHex(signRequestHash(ctx), 'request'), jsonBytes(list)]);
}

/**
 * Round 2: the signature share over the request's message under the key the signer derives
 * itself (its own share and public package tweaked along the request's path and merkle root).
 */
export function round2(
  me: Pick<PartyKeyring, 'partyId' | 'identitySecret'>,
  ctx: SignContext,
  key: SignerKey,
  signingShare: string,
  nonces: SigningNonces,
  list: SigningCommitment[],
): Envelope {
  const scheme = getScheme(key.scheme);
  const { tweak } = signingKeyFor(scheme, key.publicKey, key.transcriptHash, ctx);
  const share = signShare(
    scheme,
    key.identifier,
    tweakSigningShare(scheme, signingShare, tweak),
    tweakPublicPackage(scheme, key.public, tweak),
    nonces,
    list,
    fromHex(ctx.message, 'message'),
  );
  const body: SignShareBody = { request: signRequestHash(ctx), share };
  return sealRoundBroadcast(me, ctx, 'sign-2', 'sign-share', body);
}
