/**
 * A party's side of DKLs23 threshold ECDSA signing (src/crypto/ecdsa/dkls-sign.ts). Rounds 1 and
 * 2 are the presign rounds (instance key commitment, OT-based multiplications with every other
 * signer, point to point and encrypted); round 3 finishes the presignature from the peers'
 * round-2 messages, spends it on the message hash under the path's tweak and broadcasts (u', w),
 * from which the coordinator combines the signature.
 *
 * Spending is the FROST nonce rule again: one insert under the ceremony's id records what the
 * presignature was spent on, and the sealed round states are then dropped. A retry with the same
 * inputs returns the same broadcast; anything else is NONCE_REUSE. The untweaked key and the
 * pairwise setups are read from this party's own database every round; the tweak of the
 * request's path is applied at the online step only.
 */
import { type Envelope } from '../../src/crypto/envelope.js';
import { fromHex } from '../../src/crypto/encoding.js';
import { ConclaveError } from '../../src/errors.js';
import { openShareSecret, type PartyRuntime } from '../../src/party/runtime.js';
import { nonceDocId, PartyStore, type ShareDoc } from '../../src/store/party-store.js';
import type { SignContext } from '../../src/ceremony/sign/contracts.js';
import {
  isAborted,
  abortedError,
  loadRoundState,
  runRoundOnce,
  writeUnlessAborted,
  roundOutput,
  deleteRounds,
} from './common.js';
import { renameCulprit } from '../../src/ceremony/rounds.js';
import { loadPairSetups, multiplyWithPairSetups } from './pair-setups.js';
import {
  ecdsaOnline,
  ecdsaPresignAnswer,
  ecdsaPresignFinish,
  ecdsaPresignStart,
  ecdsaSigner,
  ecdsaSpentOn,
  honest,
  type EcdsaRoundState,
  type EcdsaSigner,
  type OutgoingPresign,
  type RoundOutput,
} from '../../src/ceremony/ecdsa-sign/party.js';
import { activeShare } from './shares.js';
import { passGate } from './sign-gate.js';
import { signRequestHash } from '../../src/ceremony/sign/contracts.js';

// ---- the activities --------------------------------------------------------------------------

/**
 * Runs a round's step as this party, a signer of the ceremony from its own database, under the
 * abort rule of its pair setups (`multiplyWithPairSetups`): nothing runs with a peer whose setup
 * was retired, and a peer whose multiplication fails its consistency check is retired in this
 * process at once and in the database before the failure is reported, so no later or concurrent
 * request can use that setup again. The step runs in the same synchronous stretch as the last
 * look at what is retired.
 */
async function withSigner<T>(
  rt: PartyRuntime,
  ctx: SignContext,
  share: ShareDoc,
  step: (s: EcdsaSigner) => T,
): Promise<T> {
  const pair = await loadPairSetups(rt, ctx.tenant, ctx.keyId, ctx.version);
  const signer = ecdsaSigner(rt, ctx, share, openShareSecret(rt, share), {
    setupId: pair.doc.setupId,
    ...(pair.doc.abortedPeers ? { abortedPeers: pair.doc.abortedPeers } : {}),
    setups: pair.setups,
  });
  try {
    return await multiplyWithPairSetups(rt, pair, signer.peers, () => step(signer));
  } catch (err) {
    throw renameCulprit(err, share.roster);
  }
}

/** A round that runs once per ceremony, refusing a retry for another request. */
async function roundOnce(
  rt: PartyRuntime,
  ctx: SignContext,
  step: string,
  request: string,
  compute: () => Promise<{ output: RoundOutput; state: unknown }>,
): Promise<Envelope[]> {
  const out = await runRoundOnce<unknown, RoundOutput>(rt, ctx.tenant, ctx.ceremonyId, step, compute);
  if (out.request !== request) {
    throw new ConclaveError(
      'REPLAY',
      `ceremony ${ctx.ceremonyId} already signs another request on ${rt.partyId}`,
    );
  }
  return out.envelopes;
}

function checkMessage(ctx: SignContext): Uint8Array {
  const hash = fromHex(ctx.message, 'message');
  if (hash.length !== 32) {
    throw new ConclaveError('BAD_INPUT', `ECDSA signs a 32-byte hash; the message is ${hash.length} bytes`);
  }
  return hash;
}

export function ecdsaSignActivities(rt: PartyRuntime, outgoing: OutgoingPresign = honest) {
  return {
    /** Presign, round 1: commit to the instance key; start a multiplication toward every peer as Bob. */
    async ecdsaSignRound1(ctx: SignContext): Promise<Envelope[]> {
      checkMessage(ctx);
      const share = await activeShare(rt, ctx);
      await passGate(rt, ctx);
      const request = signRequestHash(ctx);
      if (await rt.store.nonceSpends.findOne({ _id: nonceDocId(ctx.tenant, ctx.ceremonyId) })) {
        // spent already: a retry gets round 1's output back, if it is still on record
        const out = await roundOutput<RoundOutput>(rt, ctx.tenant, ctx.ceremonyId, 'ecdsa-1');
        if (out?.request === request) return out.envelopes;
        throw new ConclaveError(
          'NONCE_REUSE',
          `${rt.partyId} has already signed in ceremony ${ctx.ceremonyId}`,
        );
      }
      return roundOnce(rt, ctx, 'ecdsa-1', request, () =>
        withSigner(rt, ctx, share, (signer) => ecdsaPresignStart(signer, outgoing)),
      );
    },

    /** Presign, round 2: open R_i and answer every peer's multiplication as Alice. */
    async ecdsaSignRound2(ctx: SignContext, round1: Envelope[]): Promise<Envelope[]> {
      checkMessage(ctx);
      const share = await activeShare(rt, ctx);
      const request = signRequestHash(ctx);
      return roundOnce(rt, ctx, 'ecdsa-2', request, async () => {
        if (await rt.store.nonceSpends.findOne({ _id: nonceDocId(ctx.tenant, ctx.ceremonyId) })) {
          throw new ConclaveError(
            'NONCE_REUSE',
            `${rt.partyId} has already signed in ceremony ${ctx.ceremonyId}`,
          );
        }
        const state1 = await loadRoundState<EcdsaRoundState>(rt, ctx.tenant, ctx.ceremonyId, 'ecdsa-1');
        return withSigner(rt, ctx, share, (signer) => ecdsaPresignAnswer(signer, state1, round1, outgoing));
      });
    },

    /**
     * Finish and online round: checks every peer's presign messages, finishes the presignature,
     * signs the message hash with it under the path's tweak, spends it (one insert, before
     * anything is released) and broadcasts (u', w) with its proof.
     */
    async ecdsaSignRound3(ctx: SignContext, round2: Envelope[]): Promise<Envelope> {
      const messageHash = checkMessage(ctx);
      const share = await activeShare(rt, ctx);
      await passGate(rt, ctx);
      const request = signRequestHash(ctx);
      const id = nonceDocId(ctx.tenant, ctx.ceremonyId);
      const spentOn = ecdsaSpentOn(request, round2);
      const spent = await rt.store.nonceSpends.findOne({ _id: id });
      if (spent) return returnSpent(rt, spent.spentOn, spentOn, spent.round2Output as Envelope, ctx);
      if (await isAborted(rt, ctx.tenant, ctx.ceremonyId)) throw abortedError(rt, ctx.ceremonyId);
      const state2 = await loadRoundState<EcdsaRoundState>(rt, ctx.tenant, ctx.ceremonyId, 'ecdsa-2');
      const output = await withSigner(rt, ctx, share, (signer) =>
        ecdsaOnline(signer, ecdsaPresignFinish(signer, state2, round2), messageHash),
      );
      // Spending is one insert under the ceremony's id: of two concurrent spends only one exists.
      const record = await writeUnlessAborted(
        rt,
        ctx.tenant,
        ctx.ceremonyId,
        () =>
          PartyStore.insertOrGet(rt.store.nonceSpends, {
            _id: id,
            tenant: ctx.tenant,
            ceremonyId: ctx.ceremonyId,
            keyId: ctx.keyId,
            version: ctx.version,
            request,
            round1Output: null,
            spentOn,
            round2Output: output,
            spentAt: new Date(),
          }),
        async () => undefined,
      );
      return returnSpent(rt, record.spentOn, spentOn, record.round2Output as Envelope, ctx);
    },
  };
}

/**
 * The broadcast a spent presignature produced, if asked with the same inputs. The presign rounds'
 * records, states and outputs go: like FROST's nonces, the round collections then hold only
 * ceremonies in flight (FerretDB scans a collection on delete and update), and the spend record
 * answers any later call.
 */
async function returnSpent(
  rt: PartyRuntime,
  recorded: string,
  spentOn: string,
  output: Envelope,
  ctx: SignContext,
): Promise<Envelope> {
  await deleteRounds(rt, ctx.tenant, ctx.ceremonyId);
  if (recorded !== spentOn) {
    throw new ConclaveError('NONCE_REUSE', `${rt.partyId} refuses to use a presignature a second time`);
  }
  return output;
}
