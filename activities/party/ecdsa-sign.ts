/**
 * A party's side of DKLs23 threshold ECDSA signing (src/crypto/ecdsa/dkls-sign.ts). Rounds 1 and
 * 2 make the presignature (instance key commitment, OT-based multiplications with every other
 * signer, point to point and encrypted); round 3 spends it on the message hash and broadcasts
 * (u, w), from which the coordinator combines the signature.
 *
 * Spending is the FROST nonce rule again: one insert under the ceremony's id records what the
 * presignature was spent on, and the sealed round states are then dropped. A retry with the same
 * inputs returns the same broadcast; anything else is NONCE_REUSE. The key (tweaked along the
 * request's path) and the pairwise setups are read from this party's own database every round.
 */
import { randomBytes } from 'node:crypto';
import { sealBroadcast, sealDirect, type Envelope } from '../../src/crypto/envelope.js';
import { encodeFields, fromHex, transcriptHash } from '../../src/crypto/encoding.js';
import {
  dklsSignRound1,
  dklsSignRound2,
  dklsSignRound3,
  type DklsRound1Msg,
  type DklsRound2Msg,
  type DklsRound3Msg,
  type DklsSignInput,
  type DklsSignState,
} from '../../src/crypto/ecdsa/dkls-sign.js';
import * as mul from '../../src/crypto/ecdsa/multiply.js';
import { stableStringify } from '../../src/crypto/ecdsa/zero-share.js';
import { tweakPublicPackage, tweakSigningShare } from '../../src/crypto/frost.js';
import { getScheme } from '../../src/crypto/schemes.js';
import { signingKeyFor } from '../../src/crypto/signing-key.js';
import { ConclaveError, CulpritError } from '../../src/errors.js';
import type { PartyRuntime } from '../../src/party/runtime.js';
import { nonceDocId, PartyStore, type PeerEntry, type ShareDoc } from '../../src/store/party-store.js';
import type { SignContext } from '../types.js';
import {
  isAborted,
  abortedError,
  jsonBytes,
  loadRoundState,
  openFrom,
  renameCulprit,
  roundHeader,
  runRoundOnce,
  writeUnlessAborted,
  roundOutput,
  deleteRounds,
  type PartyKeyring,
} from './common.js';
import { openShareSecret } from './keygen.js';
import { loadPairSetups, multiplyWithPairSetups, retiredPeerError, type PairSetups } from './pair-setup.js';
import { activeShare, passGate, signRequestHash } from './sign.js';

/** Every ECDSA round message carries the request and the pair setup it was made under. */
interface PeerBody<M> {
  request: string;
  setupId: string;
  msg: M;
}
export interface EcdsaRound3Body {
  request: string;
  msg: DklsRound3Msg;
}
interface RoundOutput {
  request: string;
  envelopes: Envelope[];
}

/** The DKLs23 session of a signing ceremony: the same for every signer, unique per request. */
export const ecdsaSessionId = (ctx: SignContext): string =>
  transcriptHash([encodeFields(['dkls23-sign', ctx.tenant, ctx.ceremonyId, signRequestHash(ctx)])]);

/** The fields of a share that signing reads (from the party's shares collection). */
export type EcdsaKey = Pick<
  ShareDoc,
  'scheme' | 'identifier' | 'roster' | 'publicKey' | 'transcriptHash' | 'public'
>;

/** One signer of one ceremony, as the pure steps see it. SECRET (the tweaked share, the setups). */
export interface EcdsaSigner {
  party: PartyKeyring;
  ctx: SignContext;
  /** The other signers' roster entries. */
  peers: PeerEntry[];
  input: DklsSignInput;
  /** The pair setup (its ceremony id) this party signs with. */
  setupId: string;
  request: string;
}

/** What rounds 1 and 2 keep for the next round (sealed in the party's database). SECRET. */
export interface EcdsaRoundState {
  setupId: string;
  dkls: DklsSignState;
}

/**
 * A signer from its records: the share (its secret opened) and the public package tweaked along
 * the request's path, and its pair setups with the other signers, refusing a retired one.
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
  const tweak = signingKeyFor(scheme, key.publicKey, key.transcriptHash, ctx).tweak;
  return {
    party,
    ctx,
    peers: others,
    setupId: pair.setupId,
    request: signRequestHash(ctx),
    input: {
      key: {
        identifier: key.identifier,
        signingShare: tweakSigningShare(scheme, signingShare, tweak),
        public: tweakPublicPackage(scheme, key.public, tweak),
      },
      signers: signers.map((p) => p.identifier),
      sessionId: ecdsaSessionId(ctx),
      peers,
    },
  };
}

/** Peers' messages of a round, opened: same request, same pair setup, addressed to us. */
function openPeers<M>(s: EcdsaSigner, envelopes: Envelope[], round: string, type: string): M[] {
  return s.peers.map((peer) => {
    const body = openFrom<PeerBody<M>>(
      s.party,
      envelopes,
      roundHeader(s.ctx, round, type, peer.partyId, s.party.partyId),
      peer,
      true,
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
    const body: PeerBody<unknown> = { request: s.request, setupId: s.setupId, msg: outgoing(msg) };
    return sealDirect(
      roundHeader(s.ctx, round, type, s.party.partyId, peer.partyId),
      jsonBytes(body),
      s.party.identitySecret,
      fromHex(peer.transportPublic, 'transport key'),
    );
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
const honest: OutgoingPresign = (_round, msg) => msg;

// ---- the steps, pure: what each round computes from its inputs and the signer's records ---------
// The activities below add the database (run once, sealed state, the spend); the bench's crypto
// floor (src/bench/floor.ts) runs the same steps in memory.

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
 * Online round: checks every peer's presign messages and signs the message hash with the
 * presignature: the broadcast of (u, w) with its proof. The caller spends the presignature
 * before releasing it. A failed consistency check throws `OtSetupAborted`.
 */
export function ecdsaOnline(
  s: EcdsaSigner,
  state2: EcdsaRoundState,
  round2: Envelope[],
  messageHash: Uint8Array,
): Envelope {
  sameSetup(s, state2);
  const msgs = openPeers<DklsRound2Msg>(s, round2, 'ecdsa-2', 'ecdsa-presign-2');
  const r3 = dklsSignRound3(mul, s.input, state2.dkls, msgs, messageHash);
  const body: EcdsaRound3Body = { request: s.request, msg: r3.broadcast };
  return sealBroadcast(
    roundHeader(s.ctx, 'ecdsa-3', 'ecdsa-sign', s.party.partyId, '*'),
    jsonBytes(body),
    s.party.identitySecret,
  );
}

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
     * Online round: checks every peer's presign messages, spends the presignature on the message
     * hash (one insert, before anything is released) and broadcasts (u, w) with its proof.
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
        ecdsaOnline(signer, state2, round2, messageHash),
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
