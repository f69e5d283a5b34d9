/**
 * A party's side of recovering a lost share with the verifiable repairable threshold scheme of
 * `src/crypto/repair.ts`. The helpers (at least the threshold of them) split their
 * Lagrange-weighted shares into pieces among themselves (step 1), each sums what it received and
 * sends that sum to the lost party (step 2), and the lost party adds the sums up into its share
 * and checks it against its verifying share (step 3). No helper, nor the coordinator, learns it.
 *
 * Recovery moves the wallet to its next version like a reshare: the lost party stores its rebuilt
 * share as pending, every other party carries its own share forward unchanged, and the activation,
 * version switch and retirement of the old version are those of resharing (`reshare.ts`). The
 * roster of the new version carries the lost party's current keys: if it was rebuilt from scratch
 * its peers accept its new keys only if an approved key-change statement names them or their
 * operators pinned them (`conclave party pin`); see `share-change-guard.ts`.
 */
import { sealBroadcast, sealDirect, type Envelope } from '../../src/crypto/envelope.js';
import { fromHex } from '../../src/crypto/encoding.js';
import { repairStep1, repairStep2, repairStep3 } from '../../src/crypto/repair.js';
import { getScheme } from '../../src/crypto/schemes.js';
import { ConclaveError, CulpritError } from '../../src/errors.js';
import { openShareSecret, type PartyRuntime } from '../../src/party/runtime.js';
import { shareDocId, type PeerEntry } from '../../src/store/party-store.js';
import type { ReshareContext } from '../../src/ceremony/reshare/contracts.js';
import { runRoundOnce } from './common.js';
import { jsonBytes, openFrom, roundHeader, selfEntry, renameCulprit } from '../../src/ceremony/rounds.js';
import { dealerEntries, oldShare, reshareParams, storeNextShare, type DealOutput } from './reshare.js';
import { guardShareChange } from './share-change-guard.js';

interface CommitmentsBody {
  params: string;
  /** helper identifier → public point of the piece sent to it */
  commitments: Record<string, string>;
}
interface PieceBody {
  piece: string;
}
interface SigmaBody {
  sigma: string;
}

/** A recovery keeps committee, identifiers and threshold; only the lost party's keys may change. */
function validateRecovery(ctx: ReshareContext): PeerEntry {
  const lost = ctx.roster.find((p) => p.partyId === ctx.lost);
  if (ctx.kind !== 'recovery' || !lost) throw new ConclaveError('BAD_INPUT', 'not a recovery of a party');
  if (!Number.isSafeInteger(ctx.toVersion) || ctx.toVersion <= ctx.fromVersion)
    throw new ConclaveError('BAD_INPUT', 'the new version must come after the current one');
  const same =
    ctx.threshold === ctx.oldThreshold &&
    ctx.roster.length === ctx.oldRoster.length &&
    ctx.roster.every((p, i) => {
      const old = ctx.oldRoster[i]!;
      if (p.partyId !== old.partyId || p.identifier !== old.identifier) return false;
      return (
        p.partyId === ctx.lost ||
        (p.identityPublic === old.identityPublic && p.transportPublic === old.transportPublic)
      );
    });
  if (!same) throw new ConclaveError('BAD_INPUT', 'a recovery must keep the committee and threshold');
  if (new Set(ctx.dealers).size !== ctx.dealers.length || ctx.dealers.length < ctx.threshold) {
    throw new ConclaveError('BAD_INPUT', `recovery needs at least ${ctx.threshold} distinct helpers`);
  }
  if (
    ctx.dealers.includes(lost.partyId) ||
    ctx.dealers.some((d) => !ctx.roster.some((p) => p.partyId === d))
  ) {
    throw new ConclaveError('BAD_INPUT', 'helpers must be other parties of the wallet');
  }
  return lost;
}

const helperIds = (ctx: ReshareContext) => dealerEntries(ctx).map((p) => p.identifier);

export function recoverActivities(rt: PartyRuntime) {
  return {
    /** Step 1 on a helper: pieces of its weighted share, one encrypted to each helper, and their commitments. */
    async repairDeal(ctx: ReshareContext): Promise<DealOutput> {
      const lost = validateRecovery(ctx);
      if (!ctx.dealers.includes(rt.partyId))
        throw new ConclaveError('BAD_INPUT', `${rt.partyId} is not a helper`);
      const me = selfEntry(rt, ctx.roster);
      const share = await oldShare(rt, ctx);
      await guardShareChange(rt, ctx, share);
      const scheme = getScheme(ctx.scheme);
      // A retry resends the stored pieces: two different splits would give the share away.
      return runRoundOnce<never, DealOutput>(rt, ctx.tenant, ctx.ceremonyId, 'repair-1', () => {
        const step = repairStep1(
          scheme,
          ctx.oldPublic,
          helperIds(ctx),
          lost.identifier,
          me.identifier,
          openShareSecret(rt, share),
        );
        const body: CommitmentsBody = { params: reshareParams(ctx), commitments: step.commitments };
        const direct = dealerEntries(ctx).map((helper) =>
          sealDirect(
            roundHeader(ctx, 'repair-1', 'repair-piece', rt.partyId, helper.partyId),
            jsonBytes({ piece: step.pieces[helper.identifier]! } satisfies PieceBody),
            rt.identitySecret,
            fromHex(helper.transportPublic, 'transport key'),
          ),
        );
        return {
          output: {
            broadcast: sealBroadcast(
              roundHeader(ctx, 'repair-1', 'repair-commitments', rt.partyId, '*'),
              jsonBytes(body),
              rt.identitySecret,
            ),
            direct,
          },
        };
      });
    },

    /** Step 2 on a helper: checks every piece it received and sends their sum to the lost party. */
    async repairCombine(ctx: ReshareContext, commitments: Envelope[], pieces: Envelope[]): Promise<Envelope> {
      const lost = validateRecovery(ctx);
      const me = selfEntry(rt, ctx.roster);
      if (!ctx.dealers.includes(rt.partyId))
        throw new ConclaveError('BAD_INPUT', `${rt.partyId} is not a helper`);
      await guardShareChange(rt, ctx, await oldShare(rt, ctx));
      const scheme = getScheme(ctx.scheme);
      return runRoundOnce<never, Envelope>(rt, ctx.tenant, ctx.ceremonyId, 'repair-2', () => {
        const received = openCommitments(rt, ctx, commitments);
        const withPieces: Record<string, { piece: string; commitments: Record<string, string> }> = {};
        for (const helper of dealerEntries(ctx)) {
          const { piece } = openFrom<PieceBody>(
            pieces,
            roundHeader(ctx, 'repair-1', 'repair-piece', helper.partyId, rt.partyId),
            helper,
            rt.transportSecret,
          );
          withPieces[helper.identifier] = { piece, commitments: received[helper.identifier]! };
        }
        let sigma: string;
        try {
          sigma = repairStep2(
            scheme,
            ctx.oldPublic,
            helperIds(ctx),
            lost.identifier,
            me.identifier,
            withPieces,
          ).sigma;
        } catch (err) {
          throw renameCulprit(err, ctx.roster);
        }
        return {
          output: sealDirect(
            roundHeader(ctx, 'repair-2', 'repair-sigma', rt.partyId, lost.partyId),
            jsonBytes({ sigma } satisfies SigmaBody),
            rt.identitySecret,
            fromHex(lost.transportPublic, 'transport key'),
          ),
        };
      });
    },

    /** Step 3 on the lost party: rebuilds its share, checks it, stores it pending under the next version. */
    async repairReceive(ctx: ReshareContext, commitments: Envelope[], sigmas: Envelope[]): Promise<Envelope> {
      const lost = validateRecovery(ctx);
      if (rt.partyId !== lost.partyId)
        throw new ConclaveError('BAD_INPUT', `${rt.partyId} is not the lost party`);
      selfEntry(rt, ctx.roster);
      // A party rebuilt from scratch meets its peers here, as at key generation (unless governed).
      const held = await rt.store.shares.findOne({ _id: shareDocId(ctx.tenant, ctx.keyId, ctx.fromVersion) });
      await guardShareChange(rt, ctx, held?.tenant === ctx.tenant ? await oldShare(rt, ctx) : undefined);
      const scheme = getScheme(ctx.scheme);
      return runRoundOnce<never, Envelope>(rt, ctx.tenant, ctx.ceremonyId, 'repair-3', async () => {
        const received = openCommitments(rt, ctx, commitments);
        const sums: Record<string, string> = {};
        for (const helper of dealerEntries(ctx)) {
          sums[helper.identifier] = openFrom<SigmaBody>(
            sigmas,
            roundHeader(ctx, 'repair-2', 'repair-sigma', helper.partyId, rt.partyId),
            helper,
            rt.transportSecret,
          ).sigma;
        }
        let signingShare: string;
        try {
          signingShare = repairStep3(
            scheme,
            ctx.oldPublic,
            helperIds(ctx),
            lost.identifier,
            sums,
            received,
          ).signingShare;
        } catch (err) {
          throw renameCulprit(err, ctx.roster);
        }
        return { output: await storeNextShare(rt, ctx, lost.identifier, signingShare, ctx.oldPublic) };
      });
    },

    /** On every other party: its own share, unchanged, becomes its share of the next version. */
    async recoverCarry(ctx: ReshareContext): Promise<Envelope> {
      validateRecovery(ctx);
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

/** Every helper's signed step-1 commitments, for the ceremony's parameters, by helper identifier. */
function openCommitments(
  rt: PartyRuntime,
  ctx: ReshareContext,
  envelopes: Envelope[],
): Record<string, Record<string, string>> {
  const params = reshareParams(ctx);
  const out: Record<string, Record<string, string>> = {};
  for (const helper of dealerEntries(ctx)) {
    const body = openFrom<CommitmentsBody>(
      envelopes,
      roundHeader(ctx, 'repair-1', 'repair-commitments', helper.partyId, '*'),
      helper,
    );
    if (body.params !== params) {
      throw new CulpritError(
        'DISAGREEMENT',
        helper.partyId,
        `${helper.partyId} helped with other parameters`,
      );
    }
    out[helper.identifier] = body.commitments;
  }
  return out;
}
