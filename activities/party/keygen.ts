/**
 * A party's key generation activities: each loads what its round needs, runs the pure round of
 * src/ceremony/keygen/party.ts once (runRoundOnce), stores, and returns. The derived share is
 * stored sealed, as pending; it becomes active only when the party has seen every other party's
 * signed result agree with its own.
 */
import type { Envelope } from '../../src/crypto/envelope.js';
import { sealJson } from '../../src/crypto/at-rest.js';
import type { DkgState } from '../../src/crypto/frost.js';
import { getScheme } from '../../src/crypto/schemes.js';
import { ConclaveError } from '../../src/errors.js';
import { shareContext, type PartyRuntime } from '../../src/party/runtime.js';
import { PartyStore, shareDocId, type ShareDoc } from '../../src/store/party-store.js';
import type { KeygenContext } from '../../src/ceremony/keygen/contracts.js';
import * as keygen from '../../src/ceremony/keygen/party.js';
import { selfEntry } from '../../src/ceremony/rounds.js';
import {
  abortCeremony,
  activatePendingShare,
  checkPinnedPeers,
  loadRoundState,
  runRoundOnce,
  writeUnlessAborted,
  roundOutput,
} from './common.js';

export function keygenActivities(rt: PartyRuntime) {
  return {
    async dkgRound1(ctx: KeygenContext): Promise<Envelope> {
      keygen.checkContext(ctx);
      selfEntry(rt, ctx.roster);
      await checkPinnedPeers(rt, ctx.roster);
      return runRoundOnce<DkgState, Envelope>(rt, ctx.tenant, ctx.ceremonyId, 'dkg-1', () =>
        keygen.round1(rt, ctx),
      );
    },

    async dkgRound2(ctx: KeygenContext, round1: Envelope[]): Promise<Envelope[]> {
      keygen.checkContext(ctx);
      selfEntry(rt, ctx.roster);
      return runRoundOnce<DkgState, Envelope[]>(rt, ctx.tenant, ctx.ceremonyId, 'dkg-2', async () => {
        const state1 = await loadRoundState<DkgState>(rt, ctx.tenant, ctx.ceremonyId, 'dkg-1');
        return keygen.round2(rt, ctx, state1, round1);
      });
    },

    async dkgRound3(ctx: KeygenContext, round1: Envelope[], round2: Envelope[]): Promise<Envelope> {
      keygen.checkContext(ctx);
      const me = selfEntry(rt, ctx.roster);
      return runRoundOnce<never, Envelope>(rt, ctx.tenant, ctx.ceremonyId, 'dkg-3', async () => {
        const state2 = await loadRoundState<DkgState>(rt, ctx.tenant, ctx.ceremonyId, 'dkg-2');
        const own = (await roundOutput<Envelope>(rt, ctx.tenant, ctx.ceremonyId, 'dkg-1'))!;
        const { key, output } = keygen.round3(rt, ctx, state2, round1, round2, own);
        const share: ShareDoc = {
          _id: shareDocId(ctx.tenant, ctx.keyId, ctx.version),
          tenant: ctx.tenant,
          walletId: ctx.walletId,
          keyId: ctx.keyId,
          version: ctx.version,
          scheme: getScheme(ctx.scheme).name,
          status: 'pending',
          identifier: me.identifier,
          threshold: ctx.threshold,
          roster: ctx.roster,
          public: key.public,
          publicKey: key.publicKey,
          transcriptHash: key.transcriptHash,
          sealed: sealJson(
            rt.kek,
            { signingShare: key.signingShare },
            shareContext(rt, ctx.tenant, ctx.keyId, ctx.version),
          ),
          createdAt: new Date(),
        };
        const stored = await writeUnlessAborted(
          rt,
          ctx.tenant,
          ctx.ceremonyId,
          () => PartyStore.insertOrGet(rt.store.pendingShares, share),
          () => rt.store.pendingShares.deleteOne({ _id: share._id }),
        );
        if (stored.transcriptHash !== key.transcriptHash) {
          throw new ConclaveError(
            'BAD_INPUT',
            `key ${ctx.keyId} v${ctx.version} already exists on ${rt.partyId}`,
          );
        }
        return { output };
      });
    },

    /**
     * Activates the pending share once this party has itself checked that every party signed
     * the same public key and transcript: a coordinator cannot activate a disputed key.
     */
    async dkgActivate(ctx: KeygenContext, results: Envelope[]): Promise<void> {
      const id = shareDocId(ctx.tenant, ctx.keyId, ctx.version);
      await activatePendingShare(rt, ctx.tenant, ctx.ceremonyId, id, (share) =>
        keygen.checkResults(rt, ctx, results, share),
      );
    },

    /** Forgets everything an aborted key generation left behind on this party. */
    async dkgAbort(ctx: KeygenContext): Promise<void> {
      await abortCeremony(rt, ctx.tenant, ctx.ceremonyId, () =>
        rt.store.pendingShares.deleteOne({ _id: shareDocId(ctx.tenant, ctx.keyId, ctx.version) }),
      );
    },
  };
}
