/**
 * A party's shares in its database, as ceremonies read and write them: the active share a
 * signing request names, the old share a share change starts from, and the pending share of the
 * next version.
 */
import type { Envelope } from '../../src/crypto/envelope.js';
import { sealJson } from '../../src/crypto/at-rest.js';
import { samePublicPackage, type PublicPackage } from '../../src/crypto/frost.js';
import { ConclaveError } from '../../src/errors.js';
import { shareContext, type PartyRuntime } from '../../src/party/runtime.js';
import { PartyStore, shareDocId, type ShareDoc } from '../../src/store/party-store.js';
import type { ReshareContext } from '../../src/ceremony/reshare/contracts.js';
import * as reshare from '../../src/ceremony/reshare/party.js';
import { selfEntry } from '../../src/ceremony/rounds.js';
import type { SignContext } from '../../src/ceremony/sign/contracts.js';
import { writeUnlessAborted } from './common.js';

/** The active share a signing request names, refused unless this party is one of its signers. */
export async function activeShare(rt: PartyRuntime, ctx: SignContext): Promise<ShareDoc> {
  const id = shareDocId(ctx.tenant, ctx.keyId, ctx.version);
  const share = await rt.activeShares.get(id, () => rt.store.shares.findOne({ _id: id }));
  if (!share || share.tenant !== ctx.tenant || share.walletId !== ctx.walletId) {
    throw new ConclaveError(
      'UNKNOWN_WALLET',
      `${rt.partyId} holds no active share of wallet ${ctx.walletId} (${ctx.tenant})`,
    );
  }
  const parties = new Set(share.roster.map((p) => p.partyId));
  const signers = new Set(ctx.signers);
  if (signers.size !== ctx.signers.length) throw new ConclaveError('BAD_INPUT', 'signer list has duplicates');
  if (signers.size < share.threshold) {
    throw new ConclaveError('BAD_INPUT', `${share.threshold} signers needed, ${signers.size} named`);
  }
  for (const s of signers) {
    if (!parties.has(s))
      throw new ConclaveError('BAD_INPUT', `${s} holds no share of wallet ${ctx.walletId}`);
  }
  if (!signers.has(rt.partyId))
    throw new ConclaveError('BAD_INPUT', `${rt.partyId} is not a signer of this request`);
  selfEntry(rt, share.roster);
  return share;
}

/** The old share of this party, which must be the one the context describes. */
export async function oldShare(rt: PartyRuntime, ctx: ReshareContext): Promise<ShareDoc> {
  const share = await rt.store.shares.findOne({ _id: shareDocId(ctx.tenant, ctx.keyId, ctx.fromVersion) });
  if (!share || share.tenant !== ctx.tenant || share.walletId !== ctx.walletId) {
    throw new ConclaveError(
      'UNKNOWN_WALLET',
      `${rt.partyId} holds no share of wallet ${ctx.walletId} v${ctx.fromVersion} (${ctx.tenant})`,
    );
  }
  if (!samePublicPackage(share.public, ctx.oldPublic) || share.threshold !== ctx.oldThreshold) {
    throw new ConclaveError('DISAGREEMENT', `the coordinator describes another key than ${rt.partyId} holds`);
  }
  return share;
}

/** This party's active share of one version of the wallet's key, if it holds one. */
export async function heldShare(
  rt: PartyRuntime,
  ctx: ReshareContext,
  version: number,
): Promise<ShareDoc | undefined> {
  const share = await rt.store.shares.findOne({ _id: shareDocId(ctx.tenant, ctx.keyId, version) });
  return share && share.tenant === ctx.tenant && share.walletId === ctx.walletId ? share : undefined;
}

/**
 * Stores this party's share of the next version as pending and returns its signed result
 * (`reshare.result`): the public package every party must report the same before anyone activates.
 */
export async function storeNextShare(
  rt: PartyRuntime,
  ctx: ReshareContext,
  identifier: string,
  signingShare: string,
  pub: PublicPackage,
): Promise<Envelope> {
  const { body, output } = reshare.result(rt, ctx, pub);
  const share: ShareDoc = {
    _id: shareDocId(ctx.tenant, ctx.keyId, ctx.toVersion),
    tenant: ctx.tenant,
    walletId: ctx.walletId,
    keyId: ctx.keyId,
    version: ctx.toVersion,
    scheme: ctx.scheme,
    status: 'pending',
    identifier,
    threshold: ctx.threshold,
    roster: ctx.roster,
    public: pub,
    publicKey: body.publicKey,
    transcriptHash: ctx.transcriptHash,
    sealed: sealJson(rt.kek, { signingShare }, shareContext(rt, ctx.tenant, ctx.keyId, ctx.toVersion)),
    createdAt: new Date(),
    ceremonyId: ctx.ceremonyId,
  };
  const stored = await writeUnlessAborted(
    rt,
    ctx.tenant,
    ctx.ceremonyId,
    () => PartyStore.insertOrGet(rt.store.pendingShares, share),
    () => rt.store.pendingShares.deleteOne({ _id: share._id, ceremonyId: ctx.ceremonyId }),
  );
  if (!samePublicPackage(stored.public, pub)) {
    throw new ConclaveError(
      'BAD_INPUT',
      `key ${ctx.keyId} v${ctx.toVersion} already exists on ${rt.partyId}`,
    );
  }
  return output;
}
