/**
 * A party's resharing activities (rotation is resharing to the same committee): each loads what
 * its round needs, runs the pure round of src/ceremony/reshare/party.ts once (runRoundOnce),
 * stores, and returns. A new party's share of the next version of the key is stored sealed, as
 * pending; it becomes active once this party has seen every new party sign the same public
 * package, and old shares are destroyed only on every new party's signed activation, after the
 * wallet has moved to the new version. The group key never changes.
 */
import type { Envelope } from '../../src/crypto/envelope.js';
import { ConclaveError } from '../../src/errors.js';
import { openShareSecret, type PartyRuntime } from '../../src/party/runtime.js';
import { shareDocId } from '../../src/store/party-store.js';
import type { DealOutput, ReshareContext } from '../../src/ceremony/reshare/contracts.js';
import * as reshare from '../../src/ceremony/reshare/party.js';
import { selfEntry } from '../../src/ceremony/rounds.js';
import { abortCeremony, activatePendingShare, runRoundOnce, deleteRounds } from './common.js';
import { deletePairSetups } from './pair-setups.js';
import { guardShareChange } from './share-change-guard.js';
import { heldShare, oldShare, storeNextShare } from './shares.js';

export function reshareActivities(rt: PartyRuntime) {
  return {
    async reshareDeal(ctx: ReshareContext): Promise<DealOutput> {
      reshare.checkContext(ctx);
      selfEntry(rt, ctx.oldRoster);
      if (!ctx.dealers.includes(rt.partyId))
        throw new ConclaveError('BAD_INPUT', `${rt.partyId} is not a dealer`);
      const share = await oldShare(rt, ctx);
      await guardShareChange(rt, ctx, share);
      // A retry returns the stored deal: a second, different deal would leak the share.
      return runRoundOnce<never, DealOutput>(rt, ctx.tenant, ctx.ceremonyId, 'reshare-deal', () => ({
        output: reshare.deal(rt, ctx, openShareSecret(rt, share)),
      }));
    },

    async reshareReceive(
      ctx: ReshareContext,
      commitments: Envelope[],
      subShares: Envelope[],
    ): Promise<Envelope> {
      reshare.checkContext(ctx);
      const me = selfEntry(rt, ctx.roster);
      // an old member checks the coordinator's description of the key against its own share
      const own = ctx.oldRoster.some((p) => p.partyId === rt.partyId) ? await oldShare(rt, ctx) : undefined;
      await guardShareChange(rt, ctx, own);
      return runRoundOnce<never, Envelope>(rt, ctx.tenant, ctx.ceremonyId, 'reshare-2', async () => {
        const next = reshare.receive(rt, ctx, commitments, subShares);
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
      const id = shareDocId(ctx.tenant, ctx.keyId, ctx.toVersion);
      await activatePendingShare(rt, ctx.tenant, ctx.ceremonyId, id, (share) =>
        reshare.checkResults(rt, ctx, results, share),
      );
      // deterministic (Ed25519): a retried activation signs the same envelope
      return reshare.activation(rt, ctx);
    },

    /**
     * Destroys this party's shares of the old version, and of any version between it and the new
     * one (left active by an aborted ceremony), once every party of the new committee has signed
     * that it activated the new version: from then on the old shares are never needed, and gone
     * they cannot leak. Never on the coordinator's word alone.
     */
    async reshareRetire(ctx: ReshareContext, activations: Envelope[]): Promise<void> {
      await guardShareChange(rt, ctx, await heldShare(rt, ctx, ctx.fromVersion));
      reshare.checkActivations(rt, ctx, activations);
      for (let v = ctx.fromVersion; v < ctx.toVersion; v++) {
        const id = shareDocId(ctx.tenant, ctx.keyId, v);
        await rt.store.shares.deleteOne({ _id: id, tenant: ctx.tenant });
        rt.activeShares.forget(id);
        // the version's DKLs23 pair setups and preprocessed FROST nonces go with its shares
        await deletePairSetups(rt, ctx.tenant, ctx.keyId, v);
        await rt.store.nonces.deleteMany({ tenant: ctx.tenant, keyId: ctx.keyId, version: v });
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
