/**
 * A party's side of recovering a lost share with the verifiable repairable threshold scheme of
 * `src/crypto/repair.ts` (frost-core's repair_share_step_1/2/3, with public commitments), one
 * function per step. The helpers (at least the threshold of them) split their Lagrange-weighted
 * shares into pieces among themselves (step 1), each sums what it received and sends that sum to
 * the lost party (step 2), and the lost party adds the sums up into its share and checks it
 * against its verifying share (step 3). No helper, nor the coordinator, learns it. Pure: the
 * caller stores the rebuilt share (sealed, pending, under the next version) and signs its result
 * with the reshare's `result`; activation and retirement are the reshare's.
 *
 *   repairStep1 ── broadcast commitments, direct pieces ──▶ repairStep2 ── direct to the lost party ──▶
 *   repairStep3
 */
import { type Envelope } from '../../crypto/envelope.js';
import * as rts from '../../crypto/repair.js';
import { getScheme } from '../../crypto/schemes.js';
import { ConclaveError } from '../../errors.js';
import type { PeerEntry } from '../contracts.js';
import {
  openBound,
  openFrom,
  renameCulprit,
  roundHeader,
  selfEntry,
  type PartyKeyring,
  sealRoundBroadcast,
  sealRoundDirect,
} from '../rounds.js';
import { dealerEntries, reshareParams, type DealOutput, type ReshareContext } from '../reshare/contracts.js';
import type { RepairCommitmentsBody, RepairPieceBody, RepairSigmaBody } from './contracts.js';

/**
 * A recovery keeps committee, identifiers and threshold; only the lost party's keys may change.
 * Returns the lost party's entry.
 */
export function checkContext(ctx: ReshareContext): PeerEntry {
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

function checkHelper(me: Pick<PartyKeyring, 'partyId'>, ctx: ReshareContext): void {
  if (!ctx.dealers.includes(me.partyId))
    throw new ConclaveError('BAD_INPUT', `${me.partyId} is not a helper`);
}

/**
 * Step 1 on a helper: splits its weighted share (`signingShare`) into pieces, one encrypted to
 * each helper, and broadcasts their commitments. The caller stores the output and resends it on
 * a retry: two different splits would give the share away.
 */
export function repairStep1(me: PartyKeyring, ctx: ReshareContext, signingShare: string): DealOutput {
  const lost = checkContext(ctx);
  checkHelper(me, ctx);
  const entry = selfEntry(me, ctx.roster);
  const step = rts.repairStep1(
    getScheme(ctx.scheme),
    ctx.oldPublic,
    helperIds(ctx),
    lost.identifier,
    entry.identifier,
    signingShare,
  );
  const body: RepairCommitmentsBody = { params: reshareParams(ctx), commitments: step.commitments };
  const direct = dealerEntries(ctx).map((helper) =>
    sealRoundDirect(me, ctx, 'repair-1', 'repair-piece', helper, {
      piece: step.pieces[helper.identifier]!,
    } satisfies RepairPieceBody),
  );
  return {
    broadcast: sealRoundBroadcast(me, ctx, 'repair-1', 'repair-commitments', body),
    direct,
  };
}

/** Every helper's signed step-1 commitments, for the ceremony's parameters, by helper identifier. */
function openCommitments(ctx: ReshareContext, envelopes: Envelope[]): Record<string, Record<string, string>> {
  const params = reshareParams(ctx);
  const out: Record<string, Record<string, string>> = {};
  for (const helper of dealerEntries(ctx)) {
    const body = openBound<RepairCommitmentsBody>(
      envelopes,
      roundHeader(ctx, 'repair-1', 'repair-commitments', helper.partyId, '*'),
      helper,
      params,
      'helped with other parameters',
    );
    out[helper.identifier] = body.commitments;
  }
  return out;
}

// ── communication round: every helper's commitments reach every party, each piece its helper only ──

/**
 * Step 2 on a helper: checks every piece it received against its sender's commitments (naming a
 * helper at fault) and sends their sum to the lost party, encrypted to it.
 */
export function repairStep2(
  me: PartyKeyring,
  ctx: ReshareContext,
  commitments: Envelope[],
  pieces: Envelope[],
): Envelope {
  const lost = checkContext(ctx);
  const entry = selfEntry(me, ctx.roster);
  checkHelper(me, ctx);
  const received = openCommitments(ctx, commitments);
  const withPieces: Record<string, { piece: string; commitments: Record<string, string> }> = {};
  for (const helper of dealerEntries(ctx)) {
    const { piece } = openFrom<RepairPieceBody>(
      pieces,
      roundHeader(ctx, 'repair-1', 'repair-piece', helper.partyId, me.partyId),
      helper,
      me.transportSecret,
    );
    withPieces[helper.identifier] = { piece, commitments: received[helper.identifier]! };
  }
  let sigma: string;
  try {
    sigma = rts.repairStep2(
      getScheme(ctx.scheme),
      ctx.oldPublic,
      helperIds(ctx),
      lost.identifier,
      entry.identifier,
      withPieces,
    ).sigma;
  } catch (err) {
    throw renameCulprit(err, ctx.roster);
  }
  return sealRoundDirect(me, ctx, 'repair-2', 'repair-sigma', lost, { sigma } satisfies RepairSigmaBody);
}

// ── communication round: every helper's sum reaches the lost party only ──

/**
 * Step 3 on the lost party: checks every helper's sum against the commitments (naming a helper
 * at fault), rebuilds its signing share (secret) and checks it against its verifying share.
 */
export function repairStep3(
  me: PartyKeyring,
  ctx: ReshareContext,
  commitments: Envelope[],
  sigmas: Envelope[],
): { signingShare: string } {
  const lost = checkContext(ctx);
  if (me.partyId !== lost.partyId)
    throw new ConclaveError('BAD_INPUT', `${me.partyId} is not the lost party`);
  selfEntry(me, ctx.roster);
  const received = openCommitments(ctx, commitments);
  const sums: Record<string, string> = {};
  for (const helper of dealerEntries(ctx)) {
    sums[helper.identifier] = openFrom<RepairSigmaBody>(
      sigmas,
      roundHeader(ctx, 'repair-2', 'repair-sigma', helper.partyId, me.partyId),
      helper,
      me.transportSecret,
    ).sigma;
  }
  try {
    return rts.repairStep3(
      getScheme(ctx.scheme),
      ctx.oldPublic,
      helperIds(ctx),
      lost.identifier,
      sums,
      received,
    );
  } catch (err) {
    throw renameCulprit(err, ctx.roster);
  }
}
