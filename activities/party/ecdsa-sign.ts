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
import { nonceDocId, PartyStore, roundDocId, type ShareDoc } from '../../src/store/party-store.js';
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
} from './common.js';
import { openShareSecret } from './keygen.js';
import { loadPairSetups, retirePairSetup } from './pair-setup.js';
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

/** The signing input from this party's own records: the share and package tweaked along the path. */
async function signInput(
  rt: PartyRuntime,
  ctx: SignContext,
  share: ShareDoc,
): Promise<{ input: DklsSignInput; setupId: string }> {
  const scheme = getScheme(share.scheme);
  if (scheme.protocol !== 'dkls23') {
    throw new ConclaveError(
      'BAD_INPUT',
      `wallet ${ctx.walletId} is a ${scheme.name} wallet, not threshold ECDSA`,
    );
  }
  const { doc, setups } = await loadPairSetups(rt, ctx.tenant, ctx.keyId, ctx.version);
  const signers = share.roster.filter((p) => ctx.signers.includes(p.partyId));
  const peers: DklsSignInput['peers'] = {};
  for (const p of signers) {
    if (p.partyId === rt.partyId) continue;
    if (doc.abortedPeers?.includes(p.identifier)) {
      throw new ConclaveError(
        'ABORTED',
        `${rt.partyId} retired its OT setup with ${p.partyId} after a failed check; a pairing ceremony must run before they sign together again`,
      );
    }
    const setup = setups.peers[p.identifier];
    if (!setup) throw new ConclaveError('BAD_INPUT', `${rt.partyId} has no pair setup with ${p.partyId}`);
    peers[p.identifier] = setup;
  }
  const key = signingKeyFor(scheme, share.publicKey, share.transcriptHash, ctx);
  return {
    setupId: doc.setupId,
    input: {
      key: {
        identifier: share.identifier,
        signingShare: tweakSigningShare(scheme, openShareSecret(rt, share), key.tweak),
        public: tweakPublicPackage(scheme, share.public, key.tweak),
      },
      signers: signers.map((p) => p.identifier),
      sessionId: ecdsaSessionId(ctx),
      peers,
    },
  };
}

/** Peers' messages of a round, opened: same request, same pair setup, addressed to us. */
function openPeers<M>(
  rt: PartyRuntime,
  ctx: SignContext,
  share: ShareDoc,
  envelopes: Envelope[],
  round: string,
  type: string,
  request: string,
  setupId: string,
): M[] {
  return share.roster
    .filter((p) => ctx.signers.includes(p.partyId) && p.partyId !== rt.partyId)
    .map((peer) => {
      const body = openFrom<PeerBody<M>>(
        rt,
        envelopes,
        roundHeader(ctx, round, type, peer.partyId, rt.partyId),
        peer,
        true,
      );
      if (body.request !== request) {
        throw new CulpritError('DISAGREEMENT', peer.partyId, `${peer.partyId} is signing another request`);
      }
      if (body.setupId !== setupId) {
        // not necessarily a lie: a pairing ceremony may be switching setups right now
        throw new ConclaveError(
          'DISAGREEMENT',
          `${peer.partyId} signs with the pair setup of ${String(body.setupId).slice(0, 80)}, ${rt.partyId} with that of ${setupId}; retry, or run a pairing ceremony`,
        );
      }
      return body.msg;
    });
}

/** Sends a round's per-peer messages, each signed and encrypted to its peer. */
function sealToPeers<M>(
  rt: PartyRuntime,
  ctx: SignContext,
  share: ShareDoc,
  round: string,
  type: string,
  request: string,
  setupId: string,
  messages: Record<string, M>,
  outgoing: (msg: M) => unknown,
): Envelope[] {
  return share.roster
    .filter((p) => ctx.signers.includes(p.partyId) && p.partyId !== rt.partyId)
    .map((peer) => {
      const msg = messages[peer.identifier];
      if (!msg) throw new ConclaveError('BAD_INPUT', `no ${type} message for ${peer.partyId}`);
      const body: PeerBody<unknown> = { request, setupId, msg: outgoing(msg) };
      return sealDirect(
        roundHeader(ctx, round, type, rt.partyId, peer.partyId),
        jsonBytes(body),
        rt.identitySecret,
        fromHex(peer.transportPublic, 'transport key'),
      );
    });
}

/**
 * A peer's multiplication failed its consistency check: this party's setup with it is retired
 * in the database before the failure is reported, so no later request can use it again.
 */
async function onMultiplicationFailure(
  rt: PartyRuntime,
  ctx: SignContext,
  share: ShareDoc,
  setupId: string,
  err: unknown,
): Promise<never> {
  if (err instanceof mul.OtSetupAborted) {
    await retirePairSetup(rt, ctx.tenant, ctx.keyId, ctx.version, setupId, err.culprit);
  }
  throw renameCulprit(err, share.roster);
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

/**
 * What a party does to each presign message before sealing it: nothing, for an honest party.
 * Fault drills (src/drills/misbehaving.ts) pass a lie here, as an attacker holding the party's
 * keys could tell, to check that the honest parties catch it.
 */
export type OutgoingPresign = (round: 'ecdsa-1' | 'ecdsa-2', msg: DklsRound1Msg | DklsRound2Msg) => unknown;

export function ecdsaSignActivities(rt: PartyRuntime, outgoing: OutgoingPresign = (_round, msg) => msg) {
  return {
    /** Presign, round 1: commit to the instance key; start a multiplication toward every peer as Bob. */
    async ecdsaSignRound1(ctx: SignContext): Promise<Envelope[]> {
      checkMessage(ctx);
      const share = await activeShare(rt, ctx);
      await passGate(rt, ctx);
      const request = signRequestHash(ctx);
      if (await rt.store.nonceSpends.findOne({ _id: nonceDocId(ctx.tenant, ctx.ceremonyId) })) {
        // spent already: a retry gets round 1's output back, if it is still on record
        const done = await rt.store.rounds.findOne({
          _id: roundDocId(ctx.tenant, ctx.ceremonyId, 'ecdsa-1'),
        });
        const out = done?.output as RoundOutput | undefined;
        if (out?.request === request) return out.envelopes;
        throw new ConclaveError(
          'NONCE_REUSE',
          `${rt.partyId} has already signed in ceremony ${ctx.ceremonyId}`,
        );
      }
      return roundOnce(rt, ctx, 'ecdsa-1', request, async () => {
        const { input, setupId } = await signInput(rt, ctx, share);
        const r1 = dklsSignRound1(mul, input, randomBytes(32));
        const envelopes = sealToPeers(
          rt,
          ctx,
          share,
          'ecdsa-1',
          'ecdsa-presign-1',
          request,
          setupId,
          r1.messages,
          (m) => outgoing('ecdsa-1', m),
        );
        return { output: { request, envelopes }, state: { setupId, dkls: r1.state } };
      });
    },

    /** Presign, round 2: open R_i and answer every peer's multiplication as Alice. */
    async ecdsaSignRound2(ctx: SignContext, round1: Envelope[]): Promise<Envelope[]> {
      checkMessage(ctx);
      const share = await activeShare(rt, ctx);
      const request = signRequestHash(ctx);
      return roundOnce(rt, ctx, 'ecdsa-2', request, async () => {
        const s1 = await loadRoundState<{ setupId: string; dkls: DklsSignState }>(
          rt,
          ctx.tenant,
          ctx.ceremonyId,
          'ecdsa-1',
        );
        const { input, setupId } = await signInput(rt, ctx, share);
        if (setupId !== s1.setupId) {
          throw new ConclaveError(
            'ABORTED',
            `the pair setup of ${rt.partyId} changed during ceremony ${ctx.ceremonyId}`,
          );
        }
        const msgs = openPeers<DklsRound1Msg>(
          rt,
          ctx,
          share,
          round1,
          'ecdsa-1',
          'ecdsa-presign-1',
          request,
          setupId,
        );
        let r2: ReturnType<typeof dklsSignRound2>;
        try {
          r2 = dklsSignRound2(mul, input, s1.dkls, msgs, randomBytes(32));
        } catch (err) {
          return onMultiplicationFailure(rt, ctx, share, setupId, err);
        }
        const envelopes = sealToPeers(
          rt,
          ctx,
          share,
          'ecdsa-2',
          'ecdsa-presign-2',
          request,
          setupId,
          r2.messages,
          (m) => outgoing('ecdsa-2', m),
        );
        return { output: { request, envelopes }, state: { setupId, dkls: r2.state } };
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
      const spentOn = transcriptHash([
        fromHex(request, 'request'),
        jsonBytes(round2.map(stableStringify).sort()),
      ]);
      const spent = await rt.store.nonceSpends.findOne({ _id: id });
      if (spent) return returnSpent(rt, spent.spentOn, spentOn, spent.round2Output as Envelope, ctx);
      if (await isAborted(rt, ctx.tenant, ctx.ceremonyId)) throw abortedError(rt, ctx.ceremonyId);
      const s2 = await loadRoundState<{ setupId: string; dkls: DklsSignState }>(
        rt,
        ctx.tenant,
        ctx.ceremonyId,
        'ecdsa-2',
      );
      const { input, setupId } = await signInput(rt, ctx, share);
      if (setupId !== s2.setupId) {
        throw new ConclaveError(
          'ABORTED',
          `the pair setup of ${rt.partyId} changed during ceremony ${ctx.ceremonyId}`,
        );
      }
      const msgs = openPeers<DklsRound2Msg>(
        rt,
        ctx,
        share,
        round2,
        'ecdsa-2',
        'ecdsa-presign-2',
        request,
        setupId,
      );
      let r3: ReturnType<typeof dklsSignRound3>;
      try {
        r3 = dklsSignRound3(mul, input, s2.dkls, msgs, messageHash);
      } catch (err) {
        return onMultiplicationFailure(rt, ctx, share, setupId, err);
      }
      const body: EcdsaRound3Body = { request, msg: r3.broadcast };
      const output = sealBroadcast(
        roundHeader(ctx, 'ecdsa-3', 'ecdsa-sign', rt.partyId, '*'),
        jsonBytes(body),
        rt.identitySecret,
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

/** The broadcast a spent presignature produced, if asked with the same inputs; its states go. */
async function returnSpent(
  rt: PartyRuntime,
  recorded: string,
  spentOn: string,
  output: Envelope,
  ctx: SignContext,
): Promise<Envelope> {
  for (const step of ['ecdsa-1', 'ecdsa-2']) {
    await rt.store.rounds.updateOne(
      { _id: roundDocId(ctx.tenant, ctx.ceremonyId, step) },
      { $unset: { sealedState: '' } },
    );
  }
  if (recorded !== spentOn) {
    throw new ConclaveError('NONCE_REUSE', `${rt.partyId} refuses to use a presignature a second time`);
  }
  return output;
}
