/**
 * A party's recovery activities: each loads what its step needs, runs the pure step of
 * src/ceremony/recover/party.ts once (runRoundOnce), stores, and returns. The helpers (at least
 * the threshold of them) split their weighted shares into pieces among themselves (step 1), each
 * sums what it received and sends that sum to the lost party (step 2), and the lost party rebuilds
 * its share from the sums and checks it (step 3). No helper, nor the coordinator, learns it.
 *
 * Recovery moves the wallet to its next version like a reshare: the lost party stores its rebuilt
 * share as pending, every other party carries its own share forward unchanged, and the activation,
 * version switch and retirement of the old version are those of resharing (`reshare.ts`, whose
 * I/O helpers `oldShare` and `storeNextShare` this module uses). The roster of the new version
 * carries the lost party's current keys: if it was rebuilt from scratch its peers accept its new
 * keys only if an approved key-change statement names them or their operators pinned them
 * (`conclave party pin`); see `share-change-guard.ts`.
 */
import type { Envelope } from '../../src/crypto/envelope.js';
import { ConclaveError } from '../../src/errors.js';
import { openShareSecret, type PartyRuntime } from '../../src/party/runtime.js';
import { shareDocId } from '../../src/store/party-store.js';
import type { DealOutput, ReshareContext } from '../../src/ceremony/reshare/contracts.js';
import * as recover from '../../src/ceremony/recover/party.js';
import { selfEntry } from '../../src/ceremony/rounds.js';
import { runRoundOnce } from './common.js';
import { oldShare, storeNextShare } from './shares.js';
import { guardShareChange } from './share-change-guard.js';

export function recoverActivities(rt: PartyRuntime) {
  return {
    /** Step 1 on a helper: pieces of its weighted share, one encrypted to each helper, and their commitments. */
    async repairDeal(ctx: ReshareContext): Promise<DealOutput> {
      recover.checkContext(ctx);
      if (!ctx.dealers.includes(rt.partyId))
        throw new ConclaveError('BAD_INPUT', `${rt.partyId} is not a helper`);
      selfEntry(rt, ctx.roster);
      const share = await oldShare(rt, ctx);
      await guardShareChange(rt, ctx, share);
      // A retry resends the stored pieces: two different splits would give the share away.
      return runRoundOnce<never, DealOutput>(rt, ctx.tenant, ctx.ceremonyId, 'repair-1', () => ({
        output: recover.repairStep1(rt, ctx, openShareSecret(rt, share)),
      }));
    },

    /** Step 2 on a helper: checks every piece it received and sends their sum to the lost party. */
    async repairCombine(ctx: ReshareContext, commitments: Envelope[], pieces: Envelope[]): Promise<Envelope> {
      recover.checkContext(ctx);
      selfEntry(rt, ctx.roster);
      if (!ctx.dealers.includes(rt.partyId))
        throw new ConclaveError('BAD_INPUT', `${rt.partyId} is not a helper`);
      await guardShareChange(rt, ctx, await oldShare(rt, ctx));
      return runRoundOnce<never, Envelope>(rt, ctx.tenant, ctx.ceremonyId, 'repair-2', () => ({
        output: recover.repairStep2(rt, ctx, commitments, pieces),
      }));
    },

    /** Step 3 on the lost party: rebuilds its share, checks it, stores it pending under the next version. */
    async repairReceive(ctx: ReshareContext, commitments: Envelope[], sigmas: Envelope[]): Promise<Envelope> {
      const lost = recover.checkContext(ctx);
      if (rt.partyId !== lost.partyId)
        throw new ConclaveError('BAD_INPUT', `${rt.partyId} is not the lost party`);
      selfEntry(rt, ctx.roster);
      // A party rebuilt from scratch meets its peers here, as at key generation (unless governed).
      const held = await rt.store.shares.findOne({ _id: shareDocId(ctx.tenant, ctx.keyId, ctx.fromVersion) });
      await guardShareChange(rt, ctx, held?.tenant === ctx.tenant ? await oldShare(rt, ctx) : undefined);
      return runRoundOnce<never, Envelope>(rt, ctx.tenant, ctx.ceremonyId, 'repair-3', async () => {
        const { signingShare } = recover.repairStep3(rt, ctx, commitments, sigmas);
        return { output: await storeNextShare(rt, ctx, lost.identifier, signingShare, ctx.oldPublic) };
      });
    },

    /** On every other party: its own share, unchanged, becomes its share of the next version. */
    async recoverCarry(ctx: ReshareContext): Promise<Envelope> {
      recover.checkContext(ctx);
      const me = selfEntry(rt, ctx.roster);
      if (rt.partyId === ctx.lost) throw new ConclaveError('BAD_INPUT', `${rt.partyId} is the lost party`);
      const share = await oldShare(rt, ctx);
      await guardShareChange(rt, ctx, share);
      return runRoundOnce<never, Envelope>(rt, ctx.tenant, ctx.ceremonyId, 'repair-carry', async () => ({
        output: await storeNextShare(rt, ctx, me.identifier, openShareSecret(rt, share), ctx.oldPublic),
      }));
    },
  };
}
