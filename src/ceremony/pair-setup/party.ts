/**
 * A party's side of the DKLs23 pairwise setup of one key version, one function per round. For
 * every other party j:
 *  round 1: start the OT setup in which this party receives (j → me), commit to a zero-seed share;
 *  round 2: answer j's start as sender (me → j), reveal the zero-seed share;
 *  round 3: finish the receiving setup, derive the pairwise zero seed; broadcast "done";
 *  checkDone: every other party signed that it finished this very setup.
 * Pure: the caller seals the states between rounds and stores the setups.
 */
import { randomBytes } from 'node:crypto';
import { type Envelope } from '../../crypto/envelope.js';
import { encodeFields, fromHex, transcriptHash, utf8 } from '../../crypto/encoding.js';
import * as mul from '../../crypto/ecdsa/multiply.js';
import {
  zeroSeedsFinish,
  zeroSeedsRound1,
  zeroSeedsRound2,
  type ZeroSeedState,
} from '../../crypto/ecdsa/zero-share.js';
import { ConclaveError, CulpritError } from '../../errors.js';
import type { PairSetups } from '../../store/party-store.js';
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
import {
  pairSetupParams,
  type PairDoneBody,
  type PairRound1Body,
  type PairRound2Body,
  type PairSetupContext,
} from './contracts.js';

/** What round 1 keeps for rounds 2 and 3 (sealed in the party's database). SECRET. */
export interface PairStartState {
  receiving: Record<string, mul.OtSetupState>;
  zero: ZeroSeedState;
}
/** What round 2 keeps for round 3 (sealed in the party's database). SECRET. */
export interface PairAnswerState {
  sending: Record<string, mul.MulSenderSetup>;
  zero: ZeroSeedState;
}

/** The OT session of the setup in which `alice` sends to `bob`: bound to key, version and ceremony. */
const otSession = (ctx: PairSetupContext, alice: string, bob: string): Uint8Array =>
  fromHex(
    transcriptHash([
      encodeFields(['dkls23-ot-setup', ctx.tenant, ctx.keyId, ctx.version, ctx.ceremonyId]),
      utf8(`${alice}->${bob}`),
    ]),
    'session',
  );

/** A roster of at least two distinct parties, this party among them with its own keys. */
export function checkContext(
  party: PartyKeyring,
  ctx: PairSetupContext,
): { me: PeerEntry; peers: PeerEntry[] } {
  if (!Array.isArray(ctx.roster) || ctx.roster.length < 2) {
    throw new ConclaveError('BAD_INPUT', 'a pair setup needs at least two parties');
  }
  if (
    new Set(ctx.roster.map((p) => p.partyId)).size !== ctx.roster.length ||
    new Set(ctx.roster.map((p) => p.identifier)).size !== ctx.roster.length
  ) {
    throw new ConclaveError('BAD_INPUT', 'roster has duplicate parties');
  }
  const me = selfEntry(party, ctx.roster);
  return { me, peers: ctx.roster.filter((p) => p.partyId !== party.partyId) };
}

/** Opens one peer's point-to-point message of a setup round and checks its parameters. */
function openPeer<T extends { params: string }>(
  party: PartyKeyring,
  ctx: PairSetupContext,
  envelopes: Envelope[],
  round: string,
  type: string,
  peer: PeerEntry,
): T {
  return openBound<T>(
    envelopes,
    roundHeader(ctx, round, type, peer.partyId, party.partyId),
    peer,
    pairSetupParams(ctx),
    'ran the pair setup with other parameters',
    party.transportSecret,
  );
}

/** Round 1: start receiving from every peer, commit to the zero-seed shares. */
export function pairSetupStart(
  party: PartyKeyring,
  ctx: PairSetupContext,
): { output: Envelope[]; state: PairStartState } {
  const { me, peers } = checkContext(party, ctx);
  const params = pairSetupParams(ctx);
  const zero = zeroSeedsRound1(
    me.identifier,
    peers.map((p) => p.identifier),
    params,
    randomBytes(32),
  );
  const receiving: PairStartState['receiving'] = {};
  const output = peers.map((peer) => {
    const start = mul.otSetupReceiverStart(otSession(ctx, peer.identifier, me.identifier), randomBytes(32));
    receiving[peer.identifier] = start.state;
    const body: PairRound1Body = { params, ot: start.msg, zero: zero.messages[peer.identifier]! };
    return sealRoundDirect(party, ctx, 'pair-1', 'pair-start', peer, body);
  });
  return { output, state: { receiving, zero: zero.state } };
}

/** Round 2: reveal the zero-seed shares, answer every peer's start as sender. */
export function pairSetupAnswer(
  party: PartyKeyring,
  ctx: PairSetupContext,
  state1: PairStartState,
  round1: Envelope[],
): { output: Envelope[]; state: PairAnswerState } {
  const { me, peers } = checkContext(party, ctx);
  const bodies = peers.map((peer) => ({
    peer,
    body: openPeer<PairRound1Body>(party, ctx, round1, 'pair-1', 'pair-start', peer),
  }));
  let zero: ReturnType<typeof zeroSeedsRound2>;
  try {
    zero = zeroSeedsRound2(
      state1.zero,
      bodies.map((b) => b.body.zero),
    );
  } catch (err) {
    throw renameCulprit(err, ctx.roster);
  }
  const sending: PairAnswerState['sending'] = {};
  const output = bodies.map(({ peer, body }) => {
    let answer: ReturnType<typeof mul.otSetupSenderRespond>;
    try {
      answer = mul.otSetupSenderRespond(
        otSession(ctx, me.identifier, peer.identifier),
        randomBytes(32),
        body.ot,
        peer.identifier,
      );
    } catch (err) {
      throw renameCulprit(err, ctx.roster);
    }
    sending[peer.identifier] = answer.setup;
    const reply: PairRound2Body = {
      params: body.params,
      ot: answer.msg,
      zero: zero.messages[peer.identifier]!,
    };
    return sealRoundDirect(party, ctx, 'pair-2', 'pair-answer', peer, reply);
  });
  return { output, state: { sending, zero: zero.state } };
}

/** Round 3: finish receiving, derive the pairwise zero seeds; the setups, and the signed "done". */
export function pairSetupFinish(
  party: PartyKeyring,
  ctx: PairSetupContext,
  state1: PairStartState,
  state2: PairAnswerState,
  round2: Envelope[],
): { setups: PairSetups; done: Envelope } {
  const { peers } = checkContext(party, ctx);
  const bodies = peers.map((peer) => ({
    peer,
    body: openPeer<PairRound2Body>(party, ctx, round2, 'pair-2', 'pair-answer', peer),
  }));
  const setups: PairSetups = { peers: {} };
  try {
    const seeds = zeroSeedsFinish(
      state2.zero,
      bodies.map((b) => b.body.zero),
    );
    for (const { peer, body } of bodies) {
      const receiving = state1.receiving[peer.identifier];
      const sending = state2.sending[peer.identifier];
      if (!receiving || !sending) throw new ConclaveError('BAD_INPUT', `no setup state for ${peer.partyId}`);
      const finished = mul.otSetupReceiverFinish(receiving, body.ot, peer.identifier);
      setups.peers[peer.identifier] = {
        zeroSeed: seeds[peer.identifier]!,
        mulSender: sending,
        mulReceiver: finished.setup,
      };
    }
  } catch (err) {
    throw renameCulprit(err, ctx.roster);
  }
  const body: PairDoneBody = { params: pairSetupParams(ctx), setupId: ctx.ceremonyId };
  const done = sealRoundBroadcast(party, ctx, 'pair-3', 'pair-done', body);
  return { setups, done };
}

/** Every other party signed that it finished this very setup; throws naming the first that did not. */
export function checkPairSetupDone(party: PartyKeyring, ctx: PairSetupContext, done: Envelope[]): void {
  const { peers } = checkContext(party, ctx);
  for (const peer of peers) {
    const body = openFrom<PairDoneBody>(
      done,
      roundHeader(ctx, 'pair-3', 'pair-done', peer.partyId, '*'),
      peer,
    );
    if (body.params !== pairSetupParams(ctx) || body.setupId !== ctx.ceremonyId) {
      throw new CulpritError('DISAGREEMENT', peer.partyId, `${peer.partyId} reports another pair setup`);
    }
  }
}

/** Refuses a signer whose setup with a peer was retired after a failed check. */
export const retiredPeerError = (partyId: string, peerPartyId: string): ConclaveError =>
  new ConclaveError(
    'ABORTED',
    `${partyId} retired its OT setup with ${peerPartyId} after a failed check; a pairing ceremony must run before they sign together again`,
  );
