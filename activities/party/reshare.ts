/**
 * A party's side of resharing a key (rotation is resharing to the same committee). Each dealer
 * of the old committee deals its Lagrange-weighted share on a fresh polynomial: commitments to
 * everyone, a sub-share encrypted to each new party. Each new party checks every dealer's
 * commitments against the dealer's old verifying share and every sub-share against them, sums its
 * new share and stores it sealed as pending, under the next version of the key. It becomes active
 * once this party has seen every new party sign the same public package; old shares are destroyed
 * only after the wallet has moved to the new version. The group key never changes.
 */
import { sealBroadcast, sealDirect, type Envelope } from '../../src/crypto/envelope.js';
import { sealJson } from '../../src/crypto/at-rest.js';
import { fromHex, transcriptHash } from '../../src/crypto/encoding.js';
import { samePublicPackage, type PublicPackage } from '../../src/crypto/frost.js';
import { reshareDeal, reshareReceive, verifyReshareCommitment } from '../../src/crypto/reshare.js';
import { getScheme } from '../../src/crypto/schemes.js';
import { ConclaveError, CulpritError } from '../../src/errors.js';
import { openShareSecret, shareContext, type PartyRuntime } from '../../src/party/runtime.js';
import { PartyStore, shareDocId, type PeerEntry, type ShareDoc } from '../../src/store/party-store.js';
import type { ReshareContext } from '../../src/ceremony/reshare/contracts.js';
import {
  abortCeremony,
  activatePendingShare,
  runRoundOnce,
  writeUnlessAborted,
  deleteRounds,
} from './common.js';
import {
  jsonBytes,
  openFrom,
  paramsHash,
  selfEntry,
  roundHeader,
  renameCulprit,
} from '../../src/ceremony/rounds.js';
import { deletePairSetups } from './pair-setup.js';
import {
  activationHeader,
  checkActivations,
  guardShareChange,
  type ActivationBody,
} from './share-change-guard.js';

interface DealBody {
  params: string;
  commitment: string[];
}
interface SubShareBody {
  share: string;
}
export interface ReshareResultBody {
  params: string;
  publicKey: string;
  public: PublicPackage;
  transcriptHash: string;
  reshareHash: string;
}
export interface DealOutput {
  broadcast: Envelope;
  direct: Envelope[];
}

const canonicalPackage = (p: PublicPackage) =>
  JSON.stringify([p.threshold, p.total, p.commitments, Object.entries(p.verifyingShares).sort()]);

/**
 * Everything every party must agree on: the kind of change (and a recovery's lost party), both
 * committees, thresholds, dealers, versions, old package.
 */
export const reshareParams = (ctx: ReshareContext) =>
  transcriptHash([
    paramsHash(
      [
        'reshare',
        ctx.kind,
        ctx.lost ?? '',
        ctx.tenant,
        ctx.walletId,
        ctx.keyId,
        ctx.scheme,
        ctx.fromVersion,
        ctx.toVersion,
        ctx.threshold,
      ],
      ctx.roster,
    ),
    paramsHash(['old', ctx.oldThreshold, ...ctx.dealers, canonicalPackage(ctx.oldPublic)], ctx.oldRoster),
    ctx.transcriptHash,
  ]);

function validateContext(ctx: ReshareContext): void {
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

export const dealerEntries = (ctx: ReshareContext): PeerEntry[] =>
  ctx.dealers.map((d) => ctx.oldRoster.find((p) => p.partyId === d)!);

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
async function heldShare(
  rt: PartyRuntime,
  ctx: ReshareContext,
  version: number,
): Promise<ShareDoc | undefined> {
  const share = await rt.store.shares.findOne({ _id: shareDocId(ctx.tenant, ctx.keyId, version) });
  return share && share.tenant === ctx.tenant && share.walletId === ctx.walletId ? share : undefined;
}

/**
 * Stores this party's share of the next version as pending and returns its signed result: the
 * public package every party must report the same before anyone activates.
 */
export async function storeNextShare(
  rt: PartyRuntime,
  ctx: ReshareContext,
  identifier: string,
  signingShare: string,
  pub: PublicPackage,
): Promise<Envelope> {
  const params = reshareParams(ctx);
  const publicKey = pub.commitments[0]!;
  if (publicKey !== ctx.oldPublic.commitments[0]) {
    throw new ConclaveError('DISAGREEMENT', 'the new shares are of another key than the wallet key');
  }
  const reshareHash = transcriptHash([params, canonicalPackage(pub)]);
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
    publicKey,
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
  const body: ReshareResultBody = {
    params,
    publicKey,
    public: pub,
    transcriptHash: ctx.transcriptHash,
    reshareHash,
  };
  return sealBroadcast(
    roundHeader(ctx, 'reshare-2', 'reshare-result', rt.partyId, '*'),
    jsonBytes(body),
    rt.identitySecret,
  );
}

export function reshareActivities(rt: PartyRuntime) {
  return {
    async reshareDeal(ctx: ReshareContext): Promise<DealOutput> {
      validateContext(ctx);
      const me = selfEntry(rt, ctx.oldRoster);
      if (!ctx.dealers.includes(rt.partyId))
        throw new ConclaveError('BAD_INPUT', `${rt.partyId} is not a dealer`);
      const share = await oldShare(rt, ctx);
      await guardShareChange(rt, ctx, share);
      const scheme = getScheme(ctx.scheme);
      // A retry returns the stored deal: a second, different deal would leak the share.
      return runRoundOnce<never, DealOutput>(rt, ctx.tenant, ctx.ceremonyId, 'reshare-deal', () => {
        const deal = reshareDeal(
          scheme,
          ctx.oldPublic,
          dealerEntries(ctx).map((p) => p.identifier),
          me.identifier,
          openShareSecret(rt, share),
          ctx.threshold,
          ctx.roster.map((p) => p.identifier),
        );
        const body: DealBody = { params: reshareParams(ctx), commitment: deal.commitment };
        const direct = ctx.roster.map((peer) => {
          const sub: SubShareBody = { share: deal.shares[peer.identifier]! };
          return sealDirect(
            roundHeader(ctx, 'reshare-1', 'reshare-subshare', rt.partyId, peer.partyId),
            jsonBytes(sub),
            rt.identitySecret,
            fromHex(peer.transportPublic, 'transport key'),
          );
        });
        return {
          output: {
            broadcast: sealBroadcast(
              roundHeader(ctx, 'reshare-1', 'reshare-commitment', rt.partyId, '*'),
              jsonBytes(body),
              rt.identitySecret,
            ),
            direct,
          },
        };
      });
    },

    async reshareReceive(
      ctx: ReshareContext,
      commitments: Envelope[],
      subShares: Envelope[],
    ): Promise<Envelope> {
      validateContext(ctx);
      const me = selfEntry(rt, ctx.roster);
      // an old member checks the coordinator's description of the key against its own share
      const own = ctx.oldRoster.some((p) => p.partyId === rt.partyId) ? await oldShare(rt, ctx) : undefined;
      await guardShareChange(rt, ctx, own);
      const scheme = getScheme(ctx.scheme);
      const params = reshareParams(ctx);
      return runRoundOnce<never, Envelope>(rt, ctx.tenant, ctx.ceremonyId, 'reshare-2', async () => {
        const received: Record<string, { commitment: string[]; share: string }> = {};
        for (const dealer of dealerEntries(ctx)) {
          const body = openFrom<DealBody>(
            commitments,
            roundHeader(ctx, 'reshare-1', 'reshare-commitment', dealer.partyId, '*'),
            dealer,
          );
          if (body.params !== params) {
            throw new CulpritError(
              'DISAGREEMENT',
              dealer.partyId,
              `${dealer.partyId} dealt for other parameters`,
            );
          }
          const sub = openFrom<SubShareBody>(
            subShares,
            roundHeader(ctx, 'reshare-1', 'reshare-subshare', dealer.partyId, rt.partyId),
            dealer,
            rt.transportSecret,
          );
          received[dealer.identifier] = { commitment: body.commitment, share: sub.share };
        }
        let next: ReturnType<typeof reshareReceive>;
        try {
          const dealerIds = dealerEntries(ctx).map((p) => p.identifier);
          for (const d of dealerIds) {
            verifyReshareCommitment(
              scheme,
              ctx.oldPublic,
              dealerIds,
              d,
              received[d]!.commitment,
              ctx.threshold,
            );
          }
          next = reshareReceive(
            scheme,
            ctx.oldPublic,
            dealerIds,
            ctx.threshold,
            ctx.roster.map((p) => p.identifier),
            me.identifier,
            received,
          );
        } catch (err) {
          // crypto names dealers by their old identifier
          throw renameCulprit(err, ctx.oldRoster);
        }
        return { output: await storeNextShare(rt, ctx, me.identifier, next.signingShare, next.public) };
      });
    },

    /**
     * Activates the new share once every new party signed the same public package, and signs that
     * it did: the old committee destroys its shares only on every new party's signed activation.
     */
    async reshareActivate(ctx: ReshareContext, results: Envelope[]): Promise<Envelope> {
      selfEntry(rt, ctx.roster);
      await guardShareChange(rt, ctx, await heldShare(rt, ctx, ctx.fromVersion));
      const params = reshareParams(ctx);
      const id = shareDocId(ctx.tenant, ctx.keyId, ctx.toVersion);
      await activatePendingShare(rt, ctx.tenant, ctx.ceremonyId, id, (share) => {
        for (const peer of ctx.roster) {
          if (peer.partyId === rt.partyId) continue;
          const expect = roundHeader(ctx, 'reshare-2', 'reshare-result', peer.partyId, '*');
          const body = openFrom<ReshareResultBody>(results, expect, peer);
          if (
            body.params !== params ||
            body.publicKey !== share.publicKey ||
            !samePublicPackage(body.public, share.public)
          ) {
            throw new CulpritError(
              'DISAGREEMENT',
              peer.partyId,
              `${peer.partyId} reports another public package`,
            );
          }
        }
      });
      const body: ActivationBody = {
        params,
        publicKey: ctx.oldPublic.commitments[0]!,
        version: ctx.toVersion,
      };
      // deterministic (Ed25519): a retried activation signs the same envelope
      return sealBroadcast(activationHeader(ctx, rt.partyId), jsonBytes(body), rt.identitySecret);
    },

    /**
     * Destroys this party's shares of the old version, and of any version between it and the new
     * one (left active by an aborted ceremony), once every party of the new committee has signed
     * that it activated the new version: from then on the old shares are never needed, and gone
     * they cannot leak. Never on the coordinator's word alone.
     */
    async reshareRetire(ctx: ReshareContext, activations: Envelope[]): Promise<void> {
      await guardShareChange(rt, ctx, await heldShare(rt, ctx, ctx.fromVersion));
      checkActivations(rt, ctx, reshareParams(ctx), activations);
      for (let v = ctx.fromVersion; v < ctx.toVersion; v++) {
        const id = shareDocId(ctx.tenant, ctx.keyId, v);
        await rt.store.shares.deleteOne({ _id: id, tenant: ctx.tenant });
        rt.activeShares.forget(id);
        // the version's DKLs23 pair setups go with its shares
        await deletePairSetups(rt, ctx.tenant, ctx.keyId, v);
      }
      await deleteRounds(rt, ctx.tenant, ctx.ceremonyId);
    },

    /**
     * Forgets what an aborted ceremony stored for its new version while it is pending. A share
     * this party activated stays, whatever the coordinator says: once active, the party cannot
     * tell that no one retired an old share on the strength of it (`reshareRetire` of the next
     * share change removes it). The old share is untouched.
     */
    async reshareAbort(ctx: ReshareContext): Promise<void> {
      const id = shareDocId(ctx.tenant, ctx.keyId, ctx.toVersion);
      await abortCeremony(rt, ctx.tenant, ctx.ceremonyId, async () => {
        await rt.store.pendingShares.deleteOne({ _id: id, ceremonyId: ctx.ceremonyId });
        if (await rt.store.shares.findOne({ _id: id })) return;
        await deletePairSetups(rt, ctx.tenant, ctx.keyId, ctx.toVersion, ctx.ceremonyId);
      });
    },
  };
}
