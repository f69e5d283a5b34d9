/**
 * A signer's side of DKLs23 threshold ECDSA signing (src/crypto/ecdsa/dkls-sign.ts), one
 * function per step. Pure: the caller reads the share and the pair setups, seals the round
 * states, spends the presignature once (on `ecdsaSpentOn`) and retires a setup whose check fails.
 *
 *   presign start ── direct, encrypted ──▶ presign answer ── direct, encrypted ──▶ finish, online ── broadcast ──▶ coordinator
 *
 * The presign rounds and the finish use the wallet's UNTWEAKED share and key package, and need
 * no message: their result, the presignature, is bound to the session, the signer set and the
 * untweaked key. The request's path tweak t (`signingKeyFor`) is applied at the online step only,
 * which signs under pk + t·G.
 */
import { randomBytes } from 'node:crypto';
import { type Envelope } from '../../crypto/envelope.js';
import { fromHex, transcriptHash } from '../../crypto/encoding.js';
import {
  dklsPresignFinish,
  dklsSignOnline,
  dklsSignRound1,
  dklsSignRound2,
  type DklsPresignature,
  type DklsRound1Msg,
  type DklsRound2Msg,
  type DklsSignInput,
  type DklsSignState,
} from '../../crypto/ecdsa/dkls-sign.js';
import * as mul from '../../crypto/ecdsa/multiply.js';
import { stableStringify } from '../../crypto/ecdsa/zero-share.js';
import { getScheme } from '../../crypto/schemes.js';
import { signingKeyFor } from '../../crypto/signing-key.js';
import { ConclaveError, CulpritError } from '../../errors.js';
import type { PairSetups, ShareDoc } from '../../store/party-store.js';
import type { PeerEntry } from '../contracts.js';
import { retiredPeerError } from '../pair-setup/party.js';
import {
  jsonBytes,
  openFrom,
  roundHeader,
  type PartyKeyring,
  sealRoundBroadcast,
  sealRoundDirect,
} from '../rounds.js';
import { signRequestHash, type SignContext } from '../sign/contracts.js';
import { additiveTweak, ecdsaSessionId, type EcdsaPeerBody, type EcdsaOnlineBody } from './contracts.js';

/** What a presign round sends: its envelopes, bound to the request they were made for. */
export interface RoundOutput {
  request: string;
  envelopes: Envelope[];
}

/** The fields of a share that signing reads (from the party's shares collection). */
export type EcdsaKey = Pick<
  ShareDoc,
  'scheme' | 'identifier' | 'roster' | 'publicKey' | 'transcriptHash' | 'public'
>;

/**
 * What the online step needs of a signer: its keys, the request, and the request's tweak. No
 * share and no pair setup: a presignature made earlier is all the secret it uses.
 */
export interface EcdsaOnlineSigner {
  party: PartyKeyring;
  ctx: SignContext;
  request: string;
  /** The additive tweak t of the request's path (hex scalar): the signature is under pk + t·G. */
  tweak: string;
}

/** One signer of one ceremony, as the pure steps see it. SECRET (the untweaked share, the setups). */
export interface EcdsaSigner extends EcdsaOnlineSigner {
  /** The other signers' roster entries. */
  peers: PeerEntry[];
  input: DklsSignInput;
  /** The pair setup (its ceremony id) this party signs with. */
  setupId: string;
}

/** What rounds 1 and 2 keep for the next round (sealed in the party's database). SECRET. */
export interface EcdsaRoundState {
  setupId: string;
  dkls: DklsSignState;
}

/** The online side of a signer: the request and its path's tweak, from the key's public record. */
export function ecdsaOnlineSigner(
  party: PartyKeyring,
  ctx: SignContext,
  key: Pick<EcdsaKey, 'scheme' | 'publicKey' | 'transcriptHash'>,
): EcdsaOnlineSigner {
  const scheme = getScheme(key.scheme);
  return {
    party,
    ctx,
    request: signRequestHash(ctx),
    tweak: additiveTweak(signingKeyFor(scheme, key.publicKey, key.transcriptHash, ctx).tweak),
  };
}

/**
 * A signer from its records: the share (its secret opened) and the public package as they are
 * (untweaked), the additive tweak of the request's path, and its pair setups with the other
 * signers, refusing a retired one.
 */
export function ecdsaSigner(
  party: PartyKeyring,
  ctx: SignContext,
  key: EcdsaKey,
  signingShare: string,
  pair: { setupId: string; abortedPeers?: string[]; setups: PairSetups },
): EcdsaSigner {
  const scheme = getScheme(key.scheme);
  if (scheme.protocol !== 'dkls23') {
    throw new ConclaveError(
      'BAD_INPUT',
      `wallet ${ctx.walletId} is a ${scheme.name} wallet, not threshold ECDSA`,
    );
  }
  const signers = key.roster.filter((p) => ctx.signers.includes(p.partyId));
  const others = signers.filter((p) => p.partyId !== party.partyId);
  const peers: DklsSignInput['peers'] = {};
  for (const p of others) {
    if (pair.abortedPeers?.includes(p.identifier)) throw retiredPeerError(party.partyId, p.partyId);
    const setup = pair.setups.peers[p.identifier];
    if (!setup) throw new ConclaveError('BAD_INPUT', `${party.partyId} has no pair setup with ${p.partyId}`);
    peers[p.identifier] = setup;
  }
  return {
    peers: others,
    setupId: pair.setupId,
    ...ecdsaOnlineSigner(party, ctx, key),
    input: {
      key: { identifier: key.identifier, signingShare, public: key.public },
      signers: signers.map((p) => p.identifier),
      sessionId: ecdsaSessionId(ctx),
      peers,
    },
  };
}

/** Peers' messages of a round, opened: same request, same pair setup, addressed to us. */
function openPeers<M>(s: EcdsaSigner, envelopes: Envelope[], round: string, type: string): M[] {
  return s.peers.map((peer) => {
    const body = openFrom<EcdsaPeerBody<M>>(
      envelopes,
      roundHeader(s.ctx, round, type, peer.partyId, s.party.partyId),
      peer,
      s.party.transportSecret,
    );
    if (body.request !== s.request) {
      throw new CulpritError('DISAGREEMENT', peer.partyId, `${peer.partyId} is signing another request`);
    }
    if (body.setupId !== s.setupId) {
      // not necessarily a lie: a pairing ceremony may be switching setups right now
      throw new ConclaveError(
        'DISAGREEMENT',
        `${peer.partyId} signs with the pair setup of ${String(body.setupId).slice(0, 80)}, ${s.party.partyId} with that of ${s.setupId}; retry, or run a pairing ceremony`,
      );
    }
    return body.msg;
  });
}

/** Sends a round's per-peer messages, each signed and encrypted to its peer. */
function sealToPeers<M>(
  s: EcdsaSigner,
  round: string,
  type: string,
  messages: Record<string, M>,
  outgoing: (msg: M) => unknown,
): Envelope[] {
  return s.peers.map((peer) => {
    const msg = messages[peer.identifier];
    if (!msg) throw new ConclaveError('BAD_INPUT', `no ${type} message for ${peer.partyId}`);
    const body: EcdsaPeerBody<unknown> = { request: s.request, setupId: s.setupId, msg: outgoing(msg) };
    return sealRoundDirect(s.party, s.ctx, round, type, peer, body);
  });
}

function sameSetup(s: EcdsaSigner, state: EcdsaRoundState): void {
  if (state.setupId !== s.setupId) {
    throw new ConclaveError(
      'ABORTED',
      `the pair setup of ${s.party.partyId} changed during ceremony ${s.ctx.ceremonyId}`,
    );
  }
}

/**
 * What a party does to each presign message before sealing it: nothing, for an honest party.
 * Fault drills (src/drills/misbehaving.ts) pass a lie here, as an attacker holding the party's
 * keys could tell, to check that the honest parties catch it.
 */
export type OutgoingPresign = (round: 'ecdsa-1' | 'ecdsa-2', msg: DklsRound1Msg | DklsRound2Msg) => unknown;
export const honest: OutgoingPresign = (_round, msg) => msg;

/** Presign, round 1: commit to the instance key; start a multiplication toward every peer as Bob. */
export function ecdsaPresignStart(
  s: EcdsaSigner,
  outgoing: OutgoingPresign = honest,
): { output: RoundOutput; state: EcdsaRoundState } {
  const r1 = dklsSignRound1(mul, s.input, randomBytes(32));
  const envelopes = sealToPeers(s, 'ecdsa-1', 'ecdsa-presign-1', r1.messages, (m) => outgoing('ecdsa-1', m));
  return { output: { request: s.request, envelopes }, state: { setupId: s.setupId, dkls: r1.state } };
}

/**
 * Presign, round 2: open R_i and answer every peer's multiplication as Alice. A failed
 * consistency check throws `OtSetupAborted` naming the peer's identifier.
 */
export function ecdsaPresignAnswer(
  s: EcdsaSigner,
  state1: EcdsaRoundState,
  round1: Envelope[],
  outgoing: OutgoingPresign = honest,
): { output: RoundOutput; state: EcdsaRoundState } {
  sameSetup(s, state1);
  const msgs = openPeers<DklsRound1Msg>(s, round1, 'ecdsa-1', 'ecdsa-presign-1');
  const r2 = dklsSignRound2(mul, s.input, state1.dkls, msgs, randomBytes(32));
  const envelopes = sealToPeers(s, 'ecdsa-2', 'ecdsa-presign-2', r2.messages, (m) => outgoing('ecdsa-2', m));
  return { output: { request: s.request, envelopes }, state: { setupId: s.setupId, dkls: r2.state } };
}

/** What a presignature is spent on: the request and the peers' round-2 messages, in any order. */
export const ecdsaSpentOn = (request: string, round2: Envelope[]): string =>
  transcriptHash([fromHex(request, 'request'), jsonBytes(round2.map(stableStringify).sort())]);

/**
 * Presign finish: opens the peers' round-2 messages, checks them (naming the first culprit),
 * finishes the multiplications and returns the presignature. Needs no message, path or request
 * beyond the round messages' binding. A failed consistency check throws `OtSetupAborted`.
 */
export function ecdsaPresignFinish(
  s: EcdsaSigner,
  state2: EcdsaRoundState,
  round2: Envelope[],
): DklsPresignature {
  sameSetup(s, state2);
  const msgs = openPeers<DklsRound2Msg>(s, round2, 'ecdsa-2', 'ecdsa-presign-2');
  return dklsPresignFinish(mul, s.input, state2.dkls, msgs);
}

/**
 * Online step: signs the message hash with the presignature under the request's tweak and seals
 * the broadcast of (u', w) with its proof. The caller spends the presignature before releasing it.
 */
export function ecdsaOnline(
  s: EcdsaOnlineSigner,
  presignature: DklsPresignature,
  messageHash: Uint8Array,
): Envelope {
  const { broadcast } = dklsSignOnline(presignature, messageHash, { tweak: s.tweak });
  const body: EcdsaOnlineBody = { request: s.request, msg: broadcast };
  return sealRoundBroadcast(s.party, s.ctx, 'ecdsa-3', 'ecdsa-sign', body);
}
