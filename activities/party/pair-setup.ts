/**
 * A party's side of the DKLs23 pairwise setup of one key version. For every other party j:
 *  round 1: start the OT setup in which this party receives (j → me), commit to a zero-seed share;
 *  round 2: answer j's start as sender (me → j), reveal the zero-seed share;
 *  round 3: finish the receiving setup, derive the pairwise zero seed, store everything sealed
 *           as pending and broadcast that this party is done;
 *  activate: once every party said it is done, the pending setups replace the version's setups.
 * Every message is signed and encrypted to its peer. Each round runs once per ceremony (a retry
 * returns what it produced), so no randomness is drawn twice.
 */
import { type Envelope } from '../../src/crypto/envelope.js';
import { sealJson } from '../../src/crypto/at-rest.js';
import { ConclaveError } from '../../src/errors.js';
import { pairSetupContext, type PartyRuntime } from '../../src/party/runtime.js';
import {
  pairSetupDocId,
  pairSetupSecretId,
  shareDocId,
  type ShareDoc,
  type PairSetupDoc,
  type PairSetupSecretDoc,
} from '../../src/store/party-store.js';
import { canonicalJson } from '../../src/policy/authorization.js';
import { versionTargetOf } from '../../src/policy/governance.js';
import { checkGovernance } from './governance.js';
import { type PairSetupContext } from '../../src/ceremony/pair-setup/contracts.js';
import {
  checkContext,
  checkPairSetupDone,
  pairSetupAnswer,
  pairSetupFinish,
  pairSetupStart,
  type PairAnswerState,
  type PairStartState,
} from '../../src/ceremony/pair-setup/party.js';
import {
  abortCeremony,
  loadRoundState,
  runRoundOnce,
  writeUnlessAborted,
  deleteRoundSteps,
} from './common.js';

/**
 * A pair setup is made with the parties of this party's own share of the version (active, or
 * pending while its key generation or share change runs), never with a roster the coordinator
 * wrote: keys it swapped in would get an OT setup with this party.
 */
async function checkRosterOfShare(rt: PartyRuntime, ctx: PairSetupContext): Promise<ShareDoc> {
  const id = shareDocId(ctx.tenant, ctx.keyId, ctx.version);
  const share =
    (await rt.store.shares.findOne({ _id: id })) ?? (await rt.store.pendingShares.findOne({ _id: id }));
  if (!share || share.tenant !== ctx.tenant || share.walletId !== ctx.walletId)
    throw new ConclaveError(
      'UNKNOWN_WALLET',
      `${rt.partyId} holds no share of wallet ${ctx.walletId} v${ctx.version} (${ctx.tenant})`,
    );
  if (canonicalJson(share.roster) !== canonicalJson(ctx.roster))
    throw new ConclaveError(
      'DISAGREEMENT',
      `the pair setup's roster is not the one stored with ${rt.partyId}'s share of ${ctx.walletId} v${ctx.version}`,
    );
  return share;
}

/**
 * The checks before this party takes part in a pair setup: its roster is the one of the party's
 * own share; a pairing (fresh setups of an active version) runs under the tenant's governance.
 * The setups a key generation or share change makes for its new version are that ceremony's.
 */
async function guardPairSetup(rt: PartyRuntime, ctx: PairSetupContext): Promise<void> {
  const share = await checkRosterOfShare(rt, ctx);
  if (ctx.replace)
    await checkGovernance(rt, versionTargetOf('pairing', share, ctx.ceremonyId), ctx.authorization);
}

// ---- the activities --------------------------------------------------------------------------

export function pairSetupActivities(rt: PartyRuntime) {
  return {
    async pairSetupRound1(ctx: PairSetupContext): Promise<Envelope[]> {
      checkContext(rt, ctx);
      await guardPairSetup(rt, ctx);
      return runRoundOnce<PairStartState, Envelope[]>(rt, ctx.tenant, ctx.ceremonyId, 'pair-1', () =>
        pairSetupStart(rt, ctx),
      );
    },

    async pairSetupRound2(ctx: PairSetupContext, round1: Envelope[]): Promise<Envelope[]> {
      checkContext(rt, ctx);
      return runRoundOnce<PairAnswerState, Envelope[]>(rt, ctx.tenant, ctx.ceremonyId, 'pair-2', async () =>
        pairSetupAnswer(
          rt,
          ctx,
          await loadRoundState<PairStartState>(rt, ctx.tenant, ctx.ceremonyId, 'pair-1'),
          round1,
        ),
      );
    },

    async pairSetupRound3(ctx: PairSetupContext, round2: Envelope[]): Promise<Envelope> {
      checkContext(rt, ctx);
      return runRoundOnce<never, Envelope>(rt, ctx.tenant, ctx.ceremonyId, 'pair-3', async () => {
        const state1 = await loadRoundState<PairStartState>(rt, ctx.tenant, ctx.ceremonyId, 'pair-1');
        const state2 = await loadRoundState<PairAnswerState>(rt, ctx.tenant, ctx.ceremonyId, 'pair-2');
        const { setups, done } = pairSetupFinish(rt, ctx, state1, state2, round2);
        const id = pairSetupDocId(ctx.tenant, ctx.keyId, ctx.version);
        const secret: PairSetupSecretDoc = {
          _id: pairSetupSecretId(ctx.tenant, ctx.keyId, ctx.version, ctx.ceremonyId),
          tenant: ctx.tenant,
          keyId: ctx.keyId,
          version: ctx.version,
          setupId: ctx.ceremonyId,
          sealed: sealJson(rt.kek, setups, pairSetupContext(rt, ctx.tenant, ctx.keyId, ctx.version)),
          createdAt: new Date(),
        };
        const doc: PairSetupDoc = {
          _id: id,
          tenant: ctx.tenant,
          keyId: ctx.keyId,
          version: ctx.version,
          setupId: ctx.ceremonyId,
          parties: ctx.roster.map((p) => p.partyId),
          createdAt: new Date(),
        };
        // Pending until every party is done; a stale pending setup of an aborted ceremony is replaced.
        await writeUnlessAborted(
          rt,
          ctx.tenant,
          ctx.ceremonyId,
          async () => {
            await rt.store.pairSetupSecrets.replaceOne({ _id: secret._id }, secret, { upsert: true });
            await rt.store.pendingPairSetups.replaceOne({ _id: id }, doc, { upsert: true });
          },
          () => forgetPairSetup(rt, ctx),
        );
        return { output: done };
      });
    },

    /**
     * Makes this ceremony's setups the version's setups once every other party signed that it is
     * done too. Idempotent. A key generation or share change calls it before activating shares.
     */
    async pairSetupActivate(ctx: PairSetupContext, done: Envelope[]): Promise<void> {
      checkContext(rt, ctx);
      await guardPairSetup(rt, ctx);
      const id = pairSetupDocId(ctx.tenant, ctx.keyId, ctx.version);
      const current = await rt.store.pairSetups.findOne({ _id: id });
      if (current?.setupId !== ctx.ceremonyId) {
        checkPairSetupDone(rt, ctx, done);
        const pending = await rt.store.pendingPairSetups.findOne({ _id: id });
        if (!pending || pending.setupId !== ctx.ceremonyId) {
          throw new ConclaveError('BAD_INPUT', `no pending pair setup of ${ctx.ceremonyId} on ${rt.partyId}`);
        }
        if (current && !ctx.replace) {
          throw new ConclaveError(
            'BAD_INPUT',
            `key ${ctx.keyId} v${ctx.version} already has a pair setup on ${rt.partyId}`,
          );
        }
        await rt.store.pairSetups.replaceOne({ _id: id }, pending, { upsert: true });
      }
      // Then (again, on a retry after a crash) what this setup made obsolete: its pending copy, the
      // setups it replaced, and its own rounds (a key generation's other rounds go with activation).
      await rt.store.pendingPairSetups.deleteOne({ _id: id, setupId: ctx.ceremonyId });
      await rt.store.pairSetupSecrets.deleteMany({
        tenant: ctx.tenant,
        keyId: ctx.keyId,
        version: ctx.version,
        setupId: { $ne: ctx.ceremonyId },
      });
      await deleteRoundSteps(rt, ctx.tenant, ctx.ceremonyId, ['pair-1', 'pair-2', 'pair-3']);
    },

    /** Forgets what an aborted pair setup stored (its rounds and pending setups). */
    async pairSetupAbort(ctx: PairSetupContext): Promise<void> {
      await abortCeremony(rt, ctx.tenant, ctx.ceremonyId, () => forgetPairSetup(rt, ctx));
    },
  };
}

/** Deletes a pair setup ceremony's pending setups (not setups it already made current). */
async function forgetPairSetup(rt: PartyRuntime, ctx: PairSetupContext): Promise<void> {
  await rt.store.pendingPairSetups.deleteOne({
    _id: pairSetupDocId(ctx.tenant, ctx.keyId, ctx.version),
    setupId: ctx.ceremonyId,
  });
  const current = await rt.store.pairSetups.findOne({
    _id: pairSetupDocId(ctx.tenant, ctx.keyId, ctx.version),
    setupId: ctx.ceremonyId,
  });
  if (!current) {
    await rt.store.pairSetupSecrets.deleteOne({
      _id: pairSetupSecretId(ctx.tenant, ctx.keyId, ctx.version, ctx.ceremonyId),
    });
  }
}
