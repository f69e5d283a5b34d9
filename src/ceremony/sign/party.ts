/**
 * A signer's side of FROST signing (RFC 9591), one function per round. Pure: the caller keeps
 * the nonces sealed between the rounds and enforces that they are spent once (the binding to
 * spend them on is `nonceSpendBinding`); nothing here touches a database.
 *
 *   round1 ── broadcast commitments ──▶ openCommitments ▶ round2 ── broadcast share ──▶ coordinator
 *   (or, ahead of any request, `preprocess` per pool slot; then a request runs round 2 only)
 */
import { broadcastJson, type Envelope } from '../../crypto/envelope.js';
import { fromHex, transcriptHash } from '../../crypto/encoding.js';
import {
  signCommit,
  signShare,
  tweakPublicPackage,
  tweakSigningShare,
  type PublicPackage,
  type SigningCommitment,
  type SigningNonces,
} from '../../crypto/frost.js';
import { getScheme } from '../../crypto/schemes.js';
import { signingKeyFor } from '../../crypto/signing-key.js';
import { ConclaveError, CulpritError } from '../../errors.js';
import type { ShareDoc } from '../../store/party-store.js';
import { jsonBytes, openFrom, roundHeader, type PartyKeyring, sealRoundBroadcast } from '../rounds.js';
import {
  commitmentSource,
  keyRequestId,
  poolBinding,
  signItems,
  signRequestHash,
  type CommitBody,
  type NoncePoolSpec,
  type SignContext,
  type SignShareBody,
} from './contracts.js';

/** What signing reads of a signer's key share record (all public; the secret comes separately). */
export type SignerKey = Pick<
  ShareDoc,
  'scheme' | 'identifier' | 'roster' | 'publicKey' | 'transcriptHash' | 'public'
>;

/** Round 1: draws a fresh nonce pair per message and broadcasts their commitments, bound to the request. */
export function round1(
  me: Pick<PartyKeyring, 'partyId' | 'identitySecret'>,
  ctx: SignContext,
  key: SignerKey,
  signingShare: string,
): { nonces: SigningNonces[]; output: Envelope } {
  const scheme = getScheme(key.scheme);
  const drawn = signItems(ctx).map(() => signCommit(scheme, key.identifier, signingShare));
  const body: CommitBody = { request: signRequestHash(ctx), commitments: drawn.map((d) => d.commitments) };
  const output = sealRoundBroadcast(me, ctx, 'sign-1', 'sign-commitments', body);
  return { nonces: drawn.map((d) => d.nonces), output };
}

/**
 * Preprocessing, ahead of any request: a nonce pair for one slot of a pool and its commitments,
 * signed and bound to the pool (wallet version, signer set, slot). The nonce may sign one
 * request, whatever it turns out to be; `round2` spends it like round 1's.
 */
export function preprocess(
  me: Pick<PartyKeyring, 'partyId' | 'identitySecret'>,
  spec: NoncePoolSpec,
  key: SignerKey,
  signingShare: string,
  slot: string,
): { nonces: SigningNonces[]; output: Envelope } {
  const { nonces, commitments } = signCommit(getScheme(key.scheme), key.identifier, signingShare);
  const body: CommitBody = { request: poolBinding(spec, slot), commitments: [commitments] };
  const output = sealRoundBroadcast(
    me,
    { tenant: spec.tenant, ceremonyId: slot },
    'sign-1',
    'sign-commitments',
    body,
  );
  return { nonces: [nonces], output };
}

// ── communication round: every signer's commitments reach every signer ──

/**
 * Every signer's commitments, checked: signature, request, identifier, one per message, and this
 * signer's own exactly as its round 1 (`ownRound1`) made them, so a coordinator cannot swap them.
 * Returns, per message, the commitment list of the signers in roster order.
 */
export function openCommitments(
  me: Pick<PartyKeyring, 'partyId'>,
  ctx: SignContext,
  key: SignerKey,
  commitments: Envelope[],
  ownRound1: Envelope,
): SigningCommitment[][] {
  // round 1 of this ceremony, or a pool slot's commitments made ahead
  const { ceremonyId, request } = commitmentSource(ctx);
  const count = signItems(ctx).length;
  const signers = key.roster.filter((p) => ctx.signers.includes(p.partyId));
  const perSigner = signers.map((peer) => {
    const expect = roundHeader({ ...ctx, ceremonyId }, 'sign-1', 'sign-commitments', peer.partyId, '*');
    const body = openFrom<CommitBody>(commitments, expect, peer);
    if (body.request !== request) {
      throw new CulpritError(
        'DISAGREEMENT',
        peer.partyId,
        `${peer.partyId} committed to another signing request`,
      );
    }
    if (
      !Array.isArray(body.commitments) ||
      body.commitments.length !== count ||
      body.commitments.some((c) => c?.identifier !== peer.identifier)
    ) {
      throw new CulpritError(
        'TAMPERED',
        peer.partyId,
        `${peer.partyId} did not commit once under its own identifier to each of the ${count} messages`,
      );
    }
    return body.commitments;
  });
  const own = perSigner[signers.findIndex((p) => p.identifier === key.identifier)];
  const mine = broadcastJson<CommitBody>(ownRound1).commitments;
  if (!own || JSON.stringify(own) !== JSON.stringify(mine)) {
    throw new ConclaveError('TAMPERED', `the commitment list does not carry ${me.partyId}'s own commitments`);
  }
  return Array.from({ length: count }, (_, i) => perSigner.map((list) => list[i]!));
}

/** What the nonces are spent on: the request and the exact commitment lists. Spent once, on one. */
export function nonceSpendBinding(ctx: SignContext, lists: SigningCommitment[][]): string {
  return transcriptHash([fromHex(signRequestHash(ctx), 'request'), jsonBytes(lists)]);
}

/**
 * Round 2: a signature share over each message of the request, under the key the signer derives
 * itself for that message (its own share and public package tweaked along the item's path and
 * merkle root; each distinct key derived once).
 */
export function round2(
  me: Pick<PartyKeyring, 'partyId' | 'identitySecret'>,
  ctx: SignContext,
  key: SignerKey,
  signingShare: string,
  nonces: SigningNonces[],
  lists: SigningCommitment[][],
): Envelope {
  const scheme = getScheme(key.scheme);
  const items = signItems(ctx);
  if (nonces.length !== items.length || lists.length !== items.length) {
    throw new ConclaveError('BAD_INPUT', `round 2 needs one nonce and one commitment list per message`);
  }
  const tweaked = new Map<string, { share: string; pub: PublicPackage }>();
  const shares = items.map((item, i) => {
    const id = keyRequestId(item);
    let k = tweaked.get(id);
    if (!k) {
      const { tweak } = signingKeyFor(scheme, key.publicKey, key.transcriptHash, item);
      k = {
        share: tweakSigningShare(scheme, signingShare, tweak),
        pub: tweakPublicPackage(scheme, key.public, tweak),
      };
      tweaked.set(id, k);
    }
    return signShare(
      scheme,
      key.identifier,
      k.share,
      k.pub,
      nonces[i]!,
      lists[i]!,
      fromHex(item.message, 'message'),
    );
  });
  const body: SignShareBody = { request: signRequestHash(ctx), shares };
  return sealRoundBroadcast(me, ctx, 'sign-2', 'sign-share', body);
}
