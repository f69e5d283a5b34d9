/**
 * A party's side of distributed key generation (FROST DKG: Pedersen DKG with proofs of
 * knowledge and Feldman commitments), one function per round. Pure: the caller stores the round
 * state between rounds (sealed) and the derived share; nothing here touches a database.
 *
 *   round1 ── broadcast ──▶ round2 ── direct, encrypted ──▶ round3 ── broadcast ──▶ checkResults
 */
import { broadcastJson, type Envelope } from '../../crypto/envelope.js';
import {
  dkgRound1,
  dkgRound2,
  dkgRound3,
  dkgTranscriptHash,
  type DkgState,
  type PublicPackage,
  type Round1Pkg,
} from '../../crypto/frost.js';
import { getScheme } from '../../crypto/schemes.js';
import { ConclaveError, CulpritError } from '../../errors.js';
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
import {
  keygenParams,
  type KeygenContext,
  type KeygenResultBody,
  type KeygenRound1Body,
  type KeygenRound2Body,
} from './contracts.js';

/** A threshold in 2..n and a roster without repeated parties or identifiers. */
export function checkContext(ctx: KeygenContext): void {
  const n = ctx.roster.length;
  if (!Number.isInteger(ctx.threshold) || ctx.threshold < 2 || ctx.threshold > n) {
    throw new ConclaveError('BAD_INPUT', `threshold must be between 2 and ${n}, got ${ctx.threshold}`);
  }
  if (
    new Set(ctx.roster.map((p) => p.partyId)).size !== n ||
    new Set(ctx.roster.map((p) => p.identifier)).size !== n
  ) {
    throw new ConclaveError('BAD_INPUT', 'roster has duplicate parties');
  }
}

/** Round 1: draws the party's polynomial; broadcasts its commitments and proof of knowledge. */
export function round1(me: PartyKeyring, ctx: KeygenContext): { output: Envelope; state: DkgState } {
  checkContext(ctx);
  const entry = selfEntry(me, ctx.roster);
  const { pkg, state } = dkgRound1(getScheme(ctx.scheme), entry.identifier, ctx.threshold, ctx.roster.length);
  const body: KeygenRound1Body = { params: keygenParams(ctx), pkg };
  const output = sealRoundBroadcast(me, ctx, 'dkg-1', 'dkg-round1', body);
  return { output, state };
}

/** Every other party's round-1 package, checked: signature, ceremony, parameters, identifier. */
function openRound1(me: PartyKeyring, ctx: KeygenContext, round1: Envelope[]): Round1Pkg[] {
  const params = keygenParams(ctx);
  return ctx.roster
    .filter((p) => p.partyId !== me.partyId)
    .map((peer) => {
      const body = openBound<KeygenRound1Body>(
        round1,
        roundHeader(ctx, 'dkg-1', 'dkg-round1', peer.partyId, '*'),
        peer,
        params,
        'ran key generation with other parameters',
      );
      if (body.pkg?.identifier !== peer.identifier) {
        throw new CulpritError(
          'TAMPERED',
          peer.partyId,
          `${peer.partyId} sent a package under another identifier`,
        );
      }
      return body.pkg;
    });
}

// ── communication round: every party's round-1 broadcast reaches every other party ──

/** Round 2: checks every peer's proof of knowledge, then deals each peer its share, encrypted to it. */
export function round2(
  me: PartyKeyring,
  ctx: KeygenContext,
  state1: DkgState,
  round1: Envelope[],
): { output: Envelope[]; state: DkgState } {
  checkContext(ctx);
  selfEntry(me, ctx.roster);
  const others = openRound1(me, ctx, round1);
  let result: ReturnType<typeof dkgRound2>;
  try {
    result = dkgRound2(getScheme(ctx.scheme), state1, others);
  } catch (err) {
    throw renameCulprit(err, ctx.roster);
  }
  const output = ctx.roster
    .filter((p) => p.partyId !== me.partyId)
    .map((peer) => {
      const share = result.shares[peer.identifier];
      if (!share) throw new ConclaveError('BAD_INPUT', `no share computed for ${peer.partyId}`);
      const body: KeygenRound2Body = { share };
      return sealRoundDirect(me, ctx, 'dkg-2', 'dkg-share', peer, body);
    });
  return { output, state: result.state };
}

// ── communication round: each party's round-2 shares reach their recipients only ──

/** What round 3 derives: the party's signing share (secret) and the key every party must agree on. */
export interface DerivedKey {
  signingShare: string;
  public: PublicPackage;
  publicKey: string;
  transcriptHash: string;
}

/**
 * Round 3: checks every share it received against its sender's commitment (naming a sender
 * whose share does not match), derives the party's signing share, and broadcasts the signed key
 * and transcript. `ownRound1` is the party's own round-1 output, as it stored it.
 */
export function round3(
  me: PartyKeyring,
  ctx: KeygenContext,
  state2: DkgState,
  round1: Envelope[],
  round2: Envelope[],
  ownRound1: Envelope,
): { key: DerivedKey; output: Envelope } {
  checkContext(ctx);
  selfEntry(me, ctx.roster);
  const others = openRound1(me, ctx, round1);
  const received = ctx.roster
    .filter((p) => p.partyId !== me.partyId)
    .map((peer) => {
      const body = openFrom<KeygenRound2Body>(
        round2,
        roundHeader(ctx, 'dkg-2', 'dkg-share', peer.partyId, me.partyId),
        peer,
        me.transportSecret,
      );
      return { from: peer.identifier, share: body.share };
    });
  let derived: ReturnType<typeof dkgRound3>;
  try {
    derived = dkgRound3(getScheme(ctx.scheme), state2, others, received);
  } catch (err) {
    throw renameCulprit(err, ctx.roster);
  }
  const ownPkg = broadcastJson<KeygenRound1Body>(ownRound1).pkg;
  const key: DerivedKey = {
    signingShare: derived.signingShare,
    public: derived.public,
    publicKey: derived.public.commitments[0]!,
    transcriptHash: dkgTranscriptHash([ownPkg, ...others], derived.public),
  };
  const body: KeygenResultBody = {
    params: keygenParams(ctx),
    publicKey: key.publicKey,
    public: key.public,
    transcriptHash: key.transcriptHash,
  };
  const output = sealRoundBroadcast(me, ctx, 'dkg-3', 'dkg-result', body);
  return { key, output };
}

// ── communication round: every party's signed result reaches every other party ──

/**
 * Before activating its share, a party checks every other party's signed result itself: the
 * same key and transcript as its own, or the dissenting peer is named.
 */
export function checkResults(
  me: Pick<PartyKeyring, 'partyId'>,
  ctx: KeygenContext,
  results: Envelope[],
  mine: { publicKey: string; transcriptHash: string },
): void {
  for (const peer of ctx.roster) {
    if (peer.partyId === me.partyId) continue;
    const expect = roundHeader(ctx, 'dkg-3', 'dkg-result', peer.partyId, '*');
    const body = openFrom<KeygenResultBody>(results, expect, peer);
    if (body.transcriptHash !== mine.transcriptHash || body.publicKey !== mine.publicKey) {
      throw new CulpritError(
        'DISAGREEMENT',
        peer.partyId,
        `${peer.partyId} reports another key or transcript`,
      );
    }
  }
}
