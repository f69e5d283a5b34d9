/**
 * A party's side of resharing a key (rotation is resharing to the same committee), one function
 * per round. Each dealer of the old committee deals its Lagrange-weighted share on a fresh
 * polynomial: commitments to everyone, a sub-share encrypted to each new party. Each new party
 * checks every dealer's commitments against the dealer's old verifying share and every sub-share
 * against them, and sums its new share; it signs the new public package, and activates its share
 * only once every new party signed the same one. Old shares are destroyed only on every new
 * party's signed activation. The group key never changes. Pure: the caller stores the new share
 * (sealed, pending) and destroys the old ones; nothing here touches a database.
 *
 *   deal ── broadcast commitments, direct sub-shares ──▶ receive ▶ result ── broadcast ──▶
 *   checkResults ▶ activation ── broadcast ──▶ checkActivations
 */
import { type Envelope } from '../../crypto/envelope.js';
import { transcriptHash } from '../../crypto/encoding.js';
import { samePublicPackage, type PublicPackage } from '../../crypto/frost.js';
import { reshareDeal, reshareReceive, verifyReshareCommitment } from '../../crypto/reshare.js';
import { getScheme } from '../../crypto/schemes.js';
import { ConclaveError, CulpritError } from '../../errors.js';
import {
  openBound,
  openFrom,
  renameCulprit,
  roundHeader,
  selfEntry,
  type PartyKeyring,
  sealRoundBroadcast,
  sealRoundDirect,
} from '../rounds.js';
import {
  canonicalPackage,
  dealerEntries,
  reshareParams,
  type DealOutput,
  type ReshareActivationBody,
  type ReshareContext,
  type ReshareDealBody,
  type ReshareResultBody,
  type ReshareSubShareBody,
} from './contracts.js';

/** A new threshold in 2..n, a later version, and dealers: distinct old members, at least oldThreshold. */
export function checkContext(ctx: ReshareContext): void {
  const n = ctx.roster.length;
  if (!Number.isInteger(ctx.threshold) || ctx.threshold < 2 || ctx.threshold > n) {
    throw new ConclaveError('BAD_INPUT', `new threshold must be between 2 and ${n}, got ${ctx.threshold}`);
  }
  if (!Number.isSafeInteger(ctx.toVersion) || ctx.toVersion <= ctx.fromVersion)
    throw new ConclaveError('BAD_INPUT', 'the new version must come after the current one');
  if (new Set(ctx.dealers).size !== ctx.dealers.length || ctx.dealers.length < ctx.oldThreshold) {
    throw new ConclaveError('BAD_INPUT', `at least ${ctx.oldThreshold} distinct dealers are needed`);
  }
  for (const d of ctx.dealers) {
    if (!ctx.oldRoster.some((p) => p.partyId === d)) {
      throw new ConclaveError('BAD_INPUT', `dealer ${d} is not in the old committee`);
    }
  }
}

/**
 * Round 1 on a dealer: deals its Lagrange-weighted old share (`signingShare`) on a fresh
 * polynomial; broadcasts the commitments and sends each new party its sub-share, encrypted to it.
 * The caller stores the deal and resends it on a retry: a second, different deal would leak the share.
 */
export function deal(me: PartyKeyring, ctx: ReshareContext, signingShare: string): DealOutput {
  checkContext(ctx);
  const entry = selfEntry(me, ctx.oldRoster);
  if (!ctx.dealers.includes(me.partyId))
    throw new ConclaveError('BAD_INPUT', `${me.partyId} is not a dealer`);
  const dealt = reshareDeal(
    getScheme(ctx.scheme),
    ctx.oldPublic,
    dealerEntries(ctx).map((p) => p.identifier),
    entry.identifier,
    signingShare,
    ctx.threshold,
    ctx.roster.map((p) => p.identifier),
  );
  const body: ReshareDealBody = { params: reshareParams(ctx), commitment: dealt.commitment };
  const direct = ctx.roster.map((peer) => {
    const sub: ReshareSubShareBody = { share: dealt.shares[peer.identifier]! };
    return sealRoundDirect(me, ctx, 'reshare-1', 'reshare-subshare', peer, sub);
  });
  return {
    broadcast: sealRoundBroadcast(me, ctx, 'reshare-1', 'reshare-commitment', body),
    direct,
  };
}

// ── communication round: each dealer's commitments reach every new party, each sub-share its recipient ──

/**
 * Round 2 on a new party: opens every dealer's commitments and its own sub-share, checks the
 * commitments against the dealer's old verifying share and the sub-shares against them (naming
 * the dealer at fault), and derives its new signing share (secret) and the new public package.
 */
export function receive(
  me: PartyKeyring,
  ctx: ReshareContext,
  commitments: Envelope[],
  subShares: Envelope[],
): { signingShare: string; public: PublicPackage } {
  checkContext(ctx);
  const entry = selfEntry(me, ctx.roster);
  const scheme = getScheme(ctx.scheme);
  const params = reshareParams(ctx);
  const received: Record<string, { commitment: string[]; share: string }> = {};
  for (const dealer of dealerEntries(ctx)) {
    const body = openBound<ReshareDealBody>(
      commitments,
      roundHeader(ctx, 'reshare-1', 'reshare-commitment', dealer.partyId, '*'),
      dealer,
      params,
      'dealt for other parameters',
    );
    const sub = openFrom<ReshareSubShareBody>(
      subShares,
      roundHeader(ctx, 'reshare-1', 'reshare-subshare', dealer.partyId, me.partyId),
      dealer,
      me.transportSecret,
    );
    received[dealer.identifier] = { commitment: body.commitment, share: sub.share };
  }
  try {
    const dealerIds = dealerEntries(ctx).map((p) => p.identifier);
    for (const d of dealerIds) {
      verifyReshareCommitment(scheme, ctx.oldPublic, dealerIds, d, received[d]!.commitment, ctx.threshold);
    }
    return reshareReceive(
      scheme,
      ctx.oldPublic,
      dealerIds,
      ctx.threshold,
      ctx.roster.map((p) => p.identifier),
      entry.identifier,
      received,
    );
  } catch (err) {
    // crypto names dealers by their old identifier
    throw renameCulprit(err, ctx.oldRoster);
  }
}

/**
 * The party's signed result for the new version (a reshare's round 2, a recovery's step 3 or
 * carry): the public package `pub` every party must report the same before anyone activates,
 * refused unless it is of the wallet's key. The caller stores its share as pending first.
 */
export function result(
  me: Pick<PartyKeyring, 'partyId' | 'identitySecret'>,
  ctx: ReshareContext,
  pub: PublicPackage,
): { body: ReshareResultBody; output: Envelope } {
  const params = reshareParams(ctx);
  const publicKey = pub.commitments[0]!;
  if (publicKey !== ctx.oldPublic.commitments[0]) {
    throw new ConclaveError('DISAGREEMENT', 'the new shares are of another key than the wallet key');
  }
  const body: ReshareResultBody = {
    params,
    publicKey,
    public: pub,
    transcriptHash: ctx.transcriptHash,
    reshareHash: transcriptHash([params, canonicalPackage(pub)]),
  };
  const output = sealRoundBroadcast(me, ctx, 'reshare-2', 'reshare-result', body);
  return { body, output };
}

// ── communication round: every new party's signed result reaches every other new party ──

/**
 * Before activating its new share, a party checks every other new party's signed result itself:
 * these parameters and the same public package as its own (`mine`), or the dissenting peer is named.
 */
export function checkResults(
  me: Pick<PartyKeyring, 'partyId'>,
  ctx: ReshareContext,
  results: Envelope[],
  mine: { publicKey: string; public: PublicPackage },
): void {
  const params = reshareParams(ctx);
  for (const peer of ctx.roster) {
    if (peer.partyId === me.partyId) continue;
    const expect = roundHeader(ctx, 'reshare-2', 'reshare-result', peer.partyId, '*');
    const body = openFrom<ReshareResultBody>(results, expect, peer);
    if (
      body.params !== params ||
      body.publicKey !== mine.publicKey ||
      !samePublicPackage(body.public, mine.public)
    ) {
      throw new CulpritError('DISAGREEMENT', peer.partyId, `${peer.partyId} reports another public package`);
    }
  }
}

const activationHeader = (ctx: ReshareContext, from: string) =>
  roundHeader(ctx, 'reshare-3', 'reshare-activated', from, '*');

/**
 * Round 3: the party's signed word that its share of the new version is active, for these very
 * parameters. Deterministic (Ed25519): a retried activation signs the same envelope.
 */
export function activation(
  me: Pick<PartyKeyring, 'partyId' | 'identitySecret'>,
  ctx: ReshareContext,
): Envelope {
  const body: ReshareActivationBody = {
    params: reshareParams(ctx),
    publicKey: ctx.oldPublic.commitments[0]!,
    version: ctx.toVersion,
  };
  return sealRoundBroadcast(me, ctx, 'reshare-3', 'reshare-activated', body);
}

// ── communication round: every new party's signed activation reaches every party that retires a share ──

/**
 * Every party of the new committee signed that it activated its share of the new version, for
 * these very parameters: only then may an old version be destroyed. Names the first that did not.
 */
export function checkActivations(
  me: Pick<PartyKeyring, 'partyId'>,
  ctx: ReshareContext,
  activations: Envelope[] | undefined,
): void {
  if (!Array.isArray(activations))
    throw new ConclaveError(
      'UNAUTHORIZED',
      `${me.partyId} destroys an old share only on the new committee's signed activations`,
    );
  const params = reshareParams(ctx);
  for (const peer of ctx.roster) {
    const body = openFrom<ReshareActivationBody>(activations, activationHeader(ctx, peer.partyId), peer);
    if (
      body.params !== params ||
      body.publicKey !== ctx.oldPublic.commitments[0] ||
      body.version !== ctx.toVersion
    ) {
      throw new CulpritError(
        'DISAGREEMENT',
        peer.partyId,
        `${peer.partyId} signed the activation of another version or key`,
      );
    }
  }
}
