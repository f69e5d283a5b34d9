/**
 * The coordinator's side of preprocessed FROST nonces: it plans which slots a pool's signers
 * fill, keeps the signed commitments they publish (checked first), and gives each signing
 * ceremony one slot, once. It holds no nonce: a claim only says which slot a request uses, and
 * every signer spends its own nonce once, whatever the coordinator claims.
 */
import type { Envelope } from '../../src/crypto/envelope.js';
import { ConclaveError } from '../../src/errors.js';
import { getScheme } from '../../src/crypto/schemes.js';
import { checkPoolCommitments } from '../../src/ceremony/sign/coordinator.js';
import {
  noncePoolId,
  type NoncePoolPlan,
  type NoncePoolRequest,
  type NoncePoolSpec,
  type NoncePoolState,
  type SignContext,
} from '../../src/ceremony/sign/contracts.js';
import { assertPartyId } from '../../src/config.js';
import {
  walletVersionDocId,
  type CoordinatorStore,
  type NoncePoolDoc,
} from '../../src/store/coordinator-store.js';
import { PartyStore } from '../../src/store/party-store.js';
import type { CoordinatorRegistry } from './registry.js';

/** What a pool keeps ready unless told otherwise, and at most. */
export const defaultPoolTarget = 32;
export const maxPoolTarget = 1024;
/** Slots per preprocessing call (a party's `maxPoolBatch`). */
const slotsPerCall = 256;

const slotOf = (poolId: string, seq: number) => `${poolId}/${seq}`;
const readyOf = (p: Pick<NoncePoolDoc, 'produced' | 'claimed'>) => Math.max(0, p.produced - p.claimed);

export function noncePoolActivities(registry: CoordinatorRegistry) {
  const { getStore, walletOf } = registry;

  /** The pool of one wallet version and signer set, made (and indexed) on first use. */
  async function poolOf(
    store: CoordinatorStore,
    spec: NoncePoolSpec,
    target: number | undefined,
  ): Promise<NoncePoolDoc> {
    const pool = await PartyStore.insertOrGet(store.noncePools, {
      _id: spec.poolId,
      tenant: spec.tenant,
      walletId: spec.walletId,
      keyId: spec.keyId,
      version: spec.version,
      signers: spec.signers,
      target: target ?? defaultPoolTarget,
      produced: 0,
      claimed: 0,
      createdAt: new Date(),
    });
    const index = walletVersionDocId(spec.tenant, spec.walletId, spec.version);
    await store.noncePoolIndex.updateOne(
      { _id: index },
      { $addToSet: { poolIds: spec.poolId } },
      { upsert: true },
    );
    if (target !== undefined && target !== pool.target) {
      await store.noncePools.updateOne({ _id: spec.poolId }, { $set: { target } });
      pool.target = target;
    }
    return pool;
  }

  return {
    /** Which slots of a wallet's pool to fill now so that `target` are ready (at most 256 per call). */
    async planNoncePool(req: NoncePoolRequest): Promise<NoncePoolPlan> {
      const store = await getStore();
      const w = await walletOf(store, req.tenant, req.walletId);
      if (getScheme(w.scheme).protocol === 'dkls23') {
        throw new ConclaveError(
          'BAD_INPUT',
          `wallet ${req.walletId} is threshold ECDSA: it has no FROST nonces to preprocess`,
        );
      }
      const target = req.target;
      if (target !== undefined && (!Number.isInteger(target) || target < 0 || target > maxPoolTarget)) {
        throw new ConclaveError(
          'BAD_INPUT',
          `a pool keeps 0 to ${maxPoolTarget} slots ready, not ${String(target)}`,
        );
      }
      const members = w.parties.map((p) => p.partyId);
      const named = req.signers ?? members.slice(0, w.threshold);
      named.forEach(assertPartyId);
      if (
        new Set(named).size !== named.length ||
        named.some((s) => !members.includes(s)) ||
        named.length < w.threshold
      ) {
        throw new ConclaveError(
          'BAD_INPUT',
          `a pool's signers are ${w.threshold} or more distinct parties of wallet ${req.walletId} (${members.join(', ')})`,
        );
      }
      const signers = members.filter((m) => named.includes(m));
      const spec: NoncePoolSpec = {
        tenant: req.tenant,
        walletId: req.walletId,
        keyId: w.keyId,
        version: w.version,
        signers,
        poolId: noncePoolId(req.tenant, req.walletId, w.version, signers),
      };
      const pool = await poolOf(store, spec, target);
      const need = Math.min(slotsPerCall, Math.max(0, pool.target - readyOf(pool)));
      const slots = Array.from({ length: need }, (_, i) => slotOf(spec.poolId, pool.produced + 1 + i));
      return { spec, slots, target: pool.target };
    },

    /**
     * Keeps the slots every signer published, each signer's commitment checked (signature, slot,
     * pool binding, identifier), then makes them claimable. Returns the pool's state.
     */
    async storeNoncePool(
      spec: NoncePoolSpec,
      slots: string[],
      published: Envelope[][],
    ): Promise<NoncePoolState> {
      const store = await getStore();
      const w = await registry.findWalletVersion(store, spec.tenant, spec.walletId, spec.version);
      if (!w || spec.poolId !== noncePoolId(spec.tenant, spec.walletId, spec.version, spec.signers))
        throw new ConclaveError('BAD_INPUT', `no pool ${spec.poolId}`);
      let last = 0;
      for (const [i, slot] of slots.entries()) {
        const envelopes = published.map((list) => list[i]!);
        checkPoolCommitments(spec, w, slot, envelopes);
        await PartyStore.insertOrGet(store.nonceSlots, {
          _id: slot,
          poolId: spec.poolId,
          commitments: envelopes,
          createdAt: new Date(),
        });
        last = Number(slot.slice(spec.poolId.length + 1));
      }
      if (last) await store.noncePools.updateOne({ _id: spec.poolId }, { $max: { produced: last } });
      const pool = await store.noncePools.findOne({ _id: spec.poolId });
      return {
        poolId: spec.poolId,
        walletId: spec.walletId,
        version: spec.version,
        signers: spec.signers,
        target: pool?.target ?? 0,
        ready: pool ? readyOf(pool) : 0,
      };
    },

    /**
     * One published slot for this signing ceremony, if its wallet version has a pool with one
     * ready: the pool of its signer set, or (when the caller named no signers) of any set. A
     * retried claim by the same ceremony gets the same slot. No slot: the context comes back as
     * it was, and signing runs both rounds.
     */
    async claimNonceSlot(
      ctx: SignContext,
      signersNamed: boolean,
    ): Promise<{
      ctx: SignContext;
      pool?: { walletId: string; signers: string[]; ready: number; target: number };
    }> {
      if (ctx.protocol === 'dkls23' || ctx.batch || ctx.dryRun) return { ctx };
      const store = await getStore();
      const own = noncePoolId(ctx.tenant, ctx.walletId, ctx.version, ctx.signers);
      const index = await store.noncePoolIndex.findOne({
        _id: walletVersionDocId(ctx.tenant, ctx.walletId, ctx.version),
      });
      const candidates = signersNamed ? [own] : [own, ...(index?.poolIds ?? []).filter((p) => p !== own)];
      for (const poolId of candidates) {
        const pool = await store.noncePools.findOne({ _id: poolId });
        if (!pool || pool.tenant !== ctx.tenant || pool.version !== ctx.version) continue;
        for (let seq = pool.claimed + 1; seq <= pool.produced; seq++) {
          const slot = slotOf(poolId, seq);
          const claim = await PartyStore.insertOrGet(store.nonceSlotClaims, {
            _id: slot,
            ceremonyId: ctx.ceremonyId,
            claimedAt: new Date(),
          });
          if (claim.ceremonyId !== ctx.ceremonyId) continue;
          await store.noncePools.updateOne({ _id: poolId }, { $max: { claimed: seq } });
          const published = await store.nonceSlots.findOne({ _id: slot });
          if (!published) continue;
          return {
            ctx: {
              ...ctx,
              signers: pool.signers,
              preprocessed: { slot, commitments: published.commitments as Envelope[] },
            },
            pool: {
              walletId: ctx.walletId,
              signers: pool.signers,
              ready: Math.max(0, pool.produced - seq),
              target: pool.target,
            },
          };
        }
      }
      return { ctx };
    },
  };
}
