/**
 * A party's side of the DKLs23 pairwise setup of one key version. For every other party j:
 *  round 1: start the OT setup in which this party receives (j → me), commit to a zero-seed share;
 *  round 2: answer j's start as sender (me → j), reveal the zero-seed share;
 *  round 3: finish the receiving setup, derive the pairwise zero seed, store everything sealed
 *           as pending and broadcast that this party is done;
 *  activate: once every party said it is done, the pending setups replace the version's setups.
 * Every message is signed and encrypted to its peer. Each round runs once per ceremony (a retry
 * returns what it produced), so no randomness is drawn twice.
 */
import { randomBytes } from 'node:crypto';
import { sealBroadcast, sealDirect, type Envelope } from '../../src/crypto/envelope.js';
import { openJson, sealJson, type AtRestContext } from '../../src/crypto/at-rest.js';
import { encodeFields, fromHex, transcriptHash, utf8 } from '../../src/crypto/encoding.js';
import type { DklsPeerSetup } from '../../src/crypto/ecdsa/dkls-sign.js';
import * as mul from '../../src/crypto/ecdsa/multiply.js';
import {
  zeroSeedsFinish,
  zeroSeedsRound1,
  zeroSeedsRound2,
  type ZeroSeedCommitMsg,
  type ZeroSeedRevealMsg,
  type ZeroSeedState,
} from '../../src/crypto/ecdsa/zero-share.js';
import { ConclaveError, CulpritError } from '../../src/errors.js';
import type { PartyRuntime } from '../../src/party/runtime.js';
import { pairSetupDocId, type PairSetupDoc, type PeerEntry } from '../../src/store/party-store.js';
import type { PairSetupContext } from '../types.js';
import {
  abortCeremony,
  jsonBytes,
  loadRoundState,
  openFrom,
  paramsHash,
  renameCulprit,
  roundHeader,
  runRoundOnce,
  selfEntry,
  writeUnlessAborted,
} from './common.js';

interface Round1Body {
  params: string;
  ot: mul.OtSetupMsg1;
  zero: ZeroSeedCommitMsg;
}
interface Round2Body {
  params: string;
  ot: mul.OtSetupMsg2;
  zero: ZeroSeedRevealMsg;
}
interface DoneBody {
  params: string;
  setupId: string;
}
interface State1 {
  receiving: Record<string, mul.OtSetupState>;
  zero: ZeroSeedState;
}
interface State2 {
  sending: Record<string, mul.MulSenderSetup>;
  zero: ZeroSeedState;
}
/** What a pair-setup document seals: per peer identifier, what DKLs23 signing needs. SECRET. */
export interface PairSetups {
  peers: Record<string, DklsPeerSetup>;
}

export const pairSetupParams = (ctx: PairSetupContext) =>
  paramsHash(['pair-setup', ctx.tenant, ctx.walletId, ctx.keyId, ctx.version, ctx.ceremonyId], ctx.roster);

export const pairSetupContext = (
  rt: Pick<PartyRuntime, 'partyId'>,
  tenant: string,
  keyId: string,
  version: number,
): AtRestContext => ({ purpose: 'pair-setup', tenant, party: rt.partyId, keyId, version });

/** The OT session of the setup in which `alice` sends to `bob`: bound to key, version and ceremony. */
const otSession = (ctx: PairSetupContext, alice: string, bob: string): Uint8Array =>
  fromHex(
    transcriptHash([
      encodeFields(['dkls23-ot-setup', ctx.tenant, ctx.keyId, ctx.version, ctx.ceremonyId]),
      utf8(`${alice}->${bob}`),
    ]),
    'session',
  );

function validate(rt: PartyRuntime, ctx: PairSetupContext): { me: PeerEntry; peers: PeerEntry[] } {
  if (!Array.isArray(ctx.roster) || ctx.roster.length < 2) {
    throw new ConclaveError('BAD_INPUT', 'a pair setup needs at least two parties');
  }
  if (
    new Set(ctx.roster.map((p) => p.partyId)).size !== ctx.roster.length ||
    new Set(ctx.roster.map((p) => p.identifier)).size !== ctx.roster.length
  ) {
    throw new ConclaveError('BAD_INPUT', 'roster has duplicate parties');
  }
  const me = selfEntry(rt, ctx.roster);
  return { me, peers: ctx.roster.filter((p) => p.partyId !== rt.partyId) };
}

/** Opens one peer's point-to-point message of a setup round and checks its parameters. */
function openPeer<T extends { params: string }>(
  rt: PartyRuntime,
  ctx: PairSetupContext,
  envelopes: Envelope[],
  round: string,
  type: string,
  peer: PeerEntry,
): T {
  const body = openFrom<T>(
    rt,
    envelopes,
    roundHeader(ctx, round, type, peer.partyId, rt.partyId),
    peer,
    true,
  );
  if (body.params !== pairSetupParams(ctx)) {
    throw new CulpritError(
      'DISAGREEMENT',
      peer.partyId,
      `${peer.partyId} ran the pair setup with other parameters`,
    );
  }
  return body;
}

export function pairSetupActivities(rt: PartyRuntime) {
  return {
    async pairSetupRound1(ctx: PairSetupContext): Promise<Envelope[]> {
      const { me, peers } = validate(rt, ctx);
      return runRoundOnce<State1, Envelope[]>(rt, ctx.tenant, ctx.ceremonyId, 'pair-1', () => {
        const params = pairSetupParams(ctx);
        const zero = zeroSeedsRound1(
          me.identifier,
          peers.map((p) => p.identifier),
          params,
          randomBytes(32),
        );
        const receiving: State1['receiving'] = {};
        const output = peers.map((peer) => {
          const start = mul.otSetupReceiverStart(
            otSession(ctx, peer.identifier, me.identifier),
            randomBytes(32),
          );
          receiving[peer.identifier] = start.state;
          const body: Round1Body = { params, ot: start.msg, zero: zero.messages[peer.identifier]! };
          return sealDirect(
            roundHeader(ctx, 'pair-1', 'pair-start', rt.partyId, peer.partyId),
            jsonBytes(body),
            rt.identitySecret,
            fromHex(peer.transportPublic, 'transport key'),
          );
        });
        return { output, state: { receiving, zero: zero.state } };
      });
    },

    async pairSetupRound2(ctx: PairSetupContext, round1: Envelope[]): Promise<Envelope[]> {
      const { me, peers } = validate(rt, ctx);
      return runRoundOnce<State2, Envelope[]>(rt, ctx.tenant, ctx.ceremonyId, 'pair-2', async () => {
        const state1 = await loadRoundState<State1>(rt, ctx.tenant, ctx.ceremonyId, 'pair-1');
        const bodies = peers.map((peer) => ({
          peer,
          body: openPeer<Round1Body>(rt, ctx, round1, 'pair-1', 'pair-start', peer),
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
        const sending: State2['sending'] = {};
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
          const reply: Round2Body = {
            params: body.params,
            ot: answer.msg,
            zero: zero.messages[peer.identifier]!,
          };
          return sealDirect(
            roundHeader(ctx, 'pair-2', 'pair-answer', rt.partyId, peer.partyId),
            jsonBytes(reply),
            rt.identitySecret,
            fromHex(peer.transportPublic, 'transport key'),
          );
        });
        return { output, state: { sending, zero: zero.state } };
      });
    },

    async pairSetupRound3(ctx: PairSetupContext, round2: Envelope[]): Promise<Envelope> {
      const { peers } = validate(rt, ctx);
      return runRoundOnce<never, Envelope>(rt, ctx.tenant, ctx.ceremonyId, 'pair-3', async () => {
        const state1 = await loadRoundState<State1>(rt, ctx.tenant, ctx.ceremonyId, 'pair-1');
        const state2 = await loadRoundState<State2>(rt, ctx.tenant, ctx.ceremonyId, 'pair-2');
        const bodies = peers.map((peer) => ({
          peer,
          body: openPeer<Round2Body>(rt, ctx, round2, 'pair-2', 'pair-answer', peer),
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
            if (!receiving || !sending)
              throw new ConclaveError('BAD_INPUT', `no setup state for ${peer.partyId}`);
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
        const doc: PairSetupDoc = {
          _id: pairSetupDocId(ctx.tenant, ctx.keyId, ctx.version),
          tenant: ctx.tenant,
          keyId: ctx.keyId,
          version: ctx.version,
          setupId: ctx.ceremonyId,
          parties: ctx.roster.map((p) => p.partyId),
          sealed: sealJson(rt.kek, setups, pairSetupContext(rt, ctx.tenant, ctx.keyId, ctx.version)),
          createdAt: new Date(),
        };
        // Pending until every party is done; a stale pending setup of an aborted ceremony is replaced.
        await writeUnlessAborted(
          rt,
          ctx.tenant,
          ctx.ceremonyId,
          () => rt.store.pendingPairSetups.replaceOne({ _id: doc._id }, doc, { upsert: true }),
          () => rt.store.pendingPairSetups.deleteOne({ _id: doc._id, setupId: ctx.ceremonyId }),
        );
        const body: DoneBody = { params: pairSetupParams(ctx), setupId: ctx.ceremonyId };
        return {
          output: sealBroadcast(
            roundHeader(ctx, 'pair-3', 'pair-done', rt.partyId, '*'),
            jsonBytes(body),
            rt.identitySecret,
          ),
        };
      });
    },

    /**
     * Makes this ceremony's setups the version's setups once every other party signed that it is
     * done too. Idempotent. A key generation or share change calls it before activating shares.
     */
    async pairSetupActivate(ctx: PairSetupContext, done: Envelope[]): Promise<void> {
      const { peers } = validate(rt, ctx);
      const id = pairSetupDocId(ctx.tenant, ctx.keyId, ctx.version);
      const current = await rt.store.pairSetups.findOne({ _id: id });
      if (current?.setupId === ctx.ceremonyId) return;
      for (const peer of peers) {
        const body = openFrom<DoneBody>(
          rt,
          done,
          roundHeader(ctx, 'pair-3', 'pair-done', peer.partyId, '*'),
          peer,
          false,
        );
        if (body.params !== pairSetupParams(ctx) || body.setupId !== ctx.ceremonyId) {
          throw new CulpritError('DISAGREEMENT', peer.partyId, `${peer.partyId} reports another pair setup`);
        }
      }
      const pending = await rt.store.pendingPairSetups.findOne({ _id: id });
      if (!pending || pending.setupId !== ctx.ceremonyId) {
        throw new ConclaveError('BAD_INPUT', `no pending pair setup of ${ctx.ceremonyId} on ${rt.partyId}`);
      }
      if (current && !ctx.replace) {
        throw new ConclaveError(
          'BAD_INPUT',
          `key ${ctx.keyId} v${ctx.version} already has a pair setup on ${rt.partyId}`,
        );
      }
      await rt.store.pairSetups.replaceOne({ _id: id }, pending, { upsert: true });
      await rt.store.pendingPairSetups.deleteOne({ _id: id, setupId: ctx.ceremonyId });
    },

    /** Forgets what an aborted pair setup stored (its rounds and pending setups). */
    async pairSetupAbort(ctx: PairSetupContext): Promise<void> {
      await abortCeremony(rt, ctx.tenant, ctx.ceremonyId, () =>
        rt.store.pendingPairSetups.deleteOne({
          _id: pairSetupDocId(ctx.tenant, ctx.keyId, ctx.version),
          setupId: ctx.ceremonyId,
        }),
      );
    },
  };
}

/** This party's DKLs23 setups for a key version, refusing peers whose setup was retired. */
export async function loadPairSetups(
  rt: PartyRuntime,
  tenant: string,
  keyId: string,
  version: number,
): Promise<{ doc: PairSetupDoc; setups: PairSetups }> {
  const doc = await rt.store.pairSetups.findOne({ _id: pairSetupDocId(tenant, keyId, version) });
  if (!doc || doc.tenant !== tenant) {
    throw new ConclaveError(
      'BAD_INPUT',
      `${rt.partyId} holds no pair setup for key ${keyId} v${version}: run a pairing ceremony first`,
    );
  }
  return {
    doc,
    setups: openJson<PairSetups>(rt.kek, doc.sealed, pairSetupContext(rt, tenant, keyId, version)),
  };
}

/** Retires the setups with `peer` for good: a multiplication with it failed its consistency check. */
export async function retirePairSetup(
  rt: PartyRuntime,
  tenant: string,
  keyId: string,
  version: number,
  setupId: string,
  peerIdentifier: string,
): Promise<void> {
  await rt.store.pairSetups.updateOne(
    { _id: pairSetupDocId(tenant, keyId, version), setupId },
    { $addToSet: { abortedPeers: peerIdentifier } },
  );
}
