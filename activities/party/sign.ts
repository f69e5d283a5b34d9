/**
 * A party's side of FROST signing. Round 1 draws a nonce pair per message of the request (one,
 * or each of a batch), stores them sealed and bound to (ceremony, key, request), and broadcasts
 * the commitments. Round 2 spends the nonce exactly
 * once: one atomic update marks it used, records what it was spent on and removes the sealed
 * nonces. A retry of the same round returns the stored share; any other use is refused.
 */
import type { Envelope } from '../../src/crypto/envelope.js';
import { openJson, sealJson } from '../../src/crypto/at-rest.js';
import type { SigningNonces } from '../../src/crypto/frost.js';
import { ConclaveError } from '../../src/errors.js';
import { nonceContext, openShareSecret, type PartyRuntime } from '../../src/party/runtime.js';
import { nonceDocId, PartyStore, type NonceDoc, type NonceSpendDoc } from '../../src/store/party-store.js';
import {
  commitmentSource,
  noncePoolId,
  poolBinding,
  signRequestHash,
  type NoncePoolSpec,
  type SignContext,
} from '../../src/ceremony/sign/contracts.js';
import { getScheme } from '../../src/crypto/schemes.js';
import { abortCeremony, writeUnlessAborted } from './common.js';
import * as signParty from '../../src/ceremony/sign/party.js';
import { activeShare } from './shares.js';
import { passGate } from './sign-gate.js';

export function signActivities(rt: PartyRuntime) {
  return {
    async signRound1(ctx: SignContext): Promise<Envelope> {
      const share = await activeShare(rt, ctx);
      await passGate(rt, ctx);
      const request = signRequestHash(ctx);
      const id = nonceDocId(ctx.tenant, ctx.ceremonyId);
      // A retry returns what round 1 produced before, whether its nonce is still fresh or spent.
      const known =
        (await rt.store.nonces.findOne({ _id: id })) ?? (await rt.store.nonceSpends.findOne({ _id: id }));
      if (known) {
        if (known.request !== request) {
          throw new ConclaveError(
            'REPLAY',
            `ceremony ${ctx.ceremonyId} already committed to another request on ${rt.partyId}`,
          );
        }
        return known.round1Output as Envelope;
      }
      const { nonces, output } = signParty.round1(rt, ctx, share, openShareSecret(rt, share));
      const fresh: NonceDoc = {
        _id: id,
        tenant: ctx.tenant,
        ceremonyId: ctx.ceremonyId,
        keyId: ctx.keyId,
        version: ctx.version,
        request,
        sealed: sealJson(rt.kek, nonces, nonceContext(rt, ctx)),
        round1Output: output,
        createdAt: new Date(),
      };
      const stored = await writeUnlessAborted(
        rt,
        ctx.tenant,
        ctx.ceremonyId,
        () => PartyStore.insertOrGet(rt.store.nonces, fresh),
        () => rt.store.nonces.deleteOne({ _id: id }),
      );
      if (stored.request !== request) {
        throw new ConclaveError(
          'REPLAY',
          `ceremony ${ctx.ceremonyId} already committed to another request on ${rt.partyId}`,
        );
      }
      return stored.round1Output as Envelope;
    },

    /**
     * Round 2: the share, from the nonce round 1 drew for this ceremony, or (a request that names
     * a pool slot) from the nonce preprocessed for that slot; either is spent once, here.
     */
    async signRound2(ctx: SignContext, commitments: Envelope[]): Promise<Envelope> {
      const share = await activeShare(rt, ctx);
      await passGate(rt, ctx);
      const source = commitmentSource(ctx);
      const id = nonceDocId(ctx.tenant, source.ceremonyId);
      const spent = await rt.store.nonceSpends.findOne({ _id: id });
      const doc = spent ? undefined : await rt.store.nonces.findOne({ _id: id });
      const round1Output = (spent ?? doc)?.round1Output as Envelope | undefined;
      if (!round1Output || (spent ?? doc)!.request !== source.request) {
        throw new ConclaveError(
          'BAD_INPUT',
          ctx.preprocessed
            ? `${rt.partyId} holds no preprocessed nonce for ${ctx.preprocessed.slot}`
            : `no signing nonce for this request on ${rt.partyId} (round 1 not run)`,
        );
      }
      const list = signParty.openCommitments(rt, ctx, share, commitments, round1Output);
      const spentOn = signParty.nonceSpendBinding(ctx, list);
      if (spent) return returnSpent(rt, spent, spentOn);

      // one nonce pair per message (a record sealed before batches holds a single pair)
      const sealedUnder = { ...ctx, ceremonyId: source.ceremonyId };
      const opened = openJson<SigningNonces | SigningNonces[]>(
        rt.kek,
        doc!.sealed,
        nonceContext(rt, sealedUnder),
      );
      const nonces = Array.isArray(opened) ? opened : [opened];
      const output = signParty.round2(rt, ctx, share, openShareSecret(rt, share), nonces, list);
      // Spending is one insert under the nonce's id: of two concurrent spends only one exists.
      const record = await PartyStore.insertOrGet(rt.store.nonceSpends, {
        _id: id,
        tenant: ctx.tenant,
        ceremonyId: ctx.ceremonyId,
        keyId: ctx.keyId,
        version: ctx.version,
        request: source.request,
        round1Output,
        spentOn,
        round2Output: output,
        spentAt: new Date(),
      });
      return returnSpent(rt, record, spentOn);
    },

    /** Destroys an unspent nonce of an aborted signing ceremony (and the pool slot's it claimed). */
    async signAbort(ctx: SignContext): Promise<void> {
      await abortCeremony(rt, ctx.tenant, ctx.ceremonyId, async () => {
        await rt.store.nonces.deleteOne({ _id: nonceDocId(ctx.tenant, ctx.ceremonyId) });
        if (typeof ctx.preprocessed?.slot === 'string')
          await rt.store.nonces.deleteOne({ _id: nonceDocId(ctx.tenant, ctx.preprocessed.slot) });
      });
    },

    /**
     * Preprocessing: one nonce pair per slot of a pool (one wallet version and signer set),
     * sealed and bound to the pool, returned as signed commitments in slot order. A retry returns
     * the stored commitments and draws nothing; a slot already spent returns what it committed.
     */
    async preprocessNonces(spec: NoncePoolSpec, slots: string[]): Promise<Envelope[]> {
      checkPoolRequest(rt, spec, slots);
      const share = await activeShare(rt, { ...spec, ceremonyId: spec.poolId, message: '', path: 'm' });
      if (getScheme(share.scheme).protocol === 'dkls23')
        throw new ConclaveError(
          'BAD_INPUT',
          `wallet ${spec.walletId} is threshold ECDSA: it has no FROST nonces`,
        );
      const out: Envelope[] = [];
      for (const slot of slots) {
        const id = nonceDocId(spec.tenant, slot);
        const binding = poolBinding(spec, slot);
        const known =
          (await rt.store.nonces.findOne({ _id: id })) ?? (await rt.store.nonceSpends.findOne({ _id: id }));
        if (known) {
          if (known.request !== binding)
            throw new ConclaveError('REPLAY', `${slot} is already bound to something else on ${rt.partyId}`);
          out.push(known.round1Output as Envelope);
          continue;
        }
        const { nonces, output } = signParty.preprocess(rt, spec, share, openShareSecret(rt, share), slot);
        const where = { tenant: spec.tenant, keyId: spec.keyId, version: spec.version, ceremonyId: slot };
        const stored = await PartyStore.insertOrGet(rt.store.nonces, {
          _id: id,
          tenant: spec.tenant,
          ceremonyId: slot,
          keyId: spec.keyId,
          version: spec.version,
          request: binding,
          sealed: sealJson(rt.kek, nonces, nonceContext(rt, where)),
          round1Output: output,
          createdAt: new Date(),
        });
        out.push(stored.round1Output as Envelope);
      }
      return out;
    },
  };
}

/** The share a spent nonce produced, if asked for the same commitment list; the sealed nonce goes. */
async function returnSpent(rt: PartyRuntime, spent: NonceSpendDoc, spentOn: string): Promise<Envelope> {
  await rt.store.nonces.deleteOne({ _id: spent._id });
  if (spent.spentOn !== spentOn) {
    throw new ConclaveError('NONCE_REUSE', `${rt.partyId} refuses to use a signing nonce a second time`);
  }
  return spent.round2Output as Envelope;
}

/** At most this many slots per preprocessing call. */
export const maxPoolBatch = 256;

/** A preprocessing request names this party, its pool by its canonical id, and slots of that pool. */
function checkPoolRequest(rt: PartyRuntime, spec: NoncePoolSpec, slots: string[]): void {
  const pool = noncePoolId(spec.tenant, spec.walletId, spec.version, spec.signers);
  if (spec.poolId !== pool)
    throw new ConclaveError('BAD_INPUT', `pool id ${String(spec.poolId).slice(0, 120)} is not ${pool}`);
  if (!spec.signers.includes(rt.partyId))
    throw new ConclaveError('BAD_INPUT', `${rt.partyId} is not a signer of pool ${pool}`);
  if (!Array.isArray(slots) || slots.length === 0 || slots.length > maxPoolBatch)
    throw new ConclaveError('BAD_INPUT', `a preprocessing call takes 1 to ${maxPoolBatch} slots`);
  for (const slot of slots) {
    if (
      typeof slot !== 'string' ||
      !slot.startsWith(`${pool}/`) ||
      !/^\d+$/.test(slot.slice(pool.length + 1))
    )
      throw new ConclaveError('BAD_INPUT', `slot ${String(slot).slice(0, 120)} is not one of pool ${pool}`);
  }
}
