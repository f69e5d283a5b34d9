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
import {
  pairSetupDocId,
  pairSetupSecretId,
  shareDocId,
  type ShareDoc,
  type PairSetupDoc,
  type PairSetupSecretDoc,
  type PairSetups,
  type PeerEntry,
} from '../../src/store/party-store.js';
import { canonicalJson } from '../../src/policy/authorization.js';
import { versionTargetOf } from '../../src/policy/governance.js';
import { checkGovernance } from './governance.js';
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
  deleteRoundSteps,
  type PartyKeyring,
} from './common.js';

export type { PairSetups };

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

function validate(party: PartyKeyring, ctx: PairSetupContext): { me: PeerEntry; peers: PeerEntry[] } {
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
  const body = openFrom<T>(
    party,
    envelopes,
    roundHeader(ctx, round, type, peer.partyId, party.partyId),
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

// ---- the steps, pure: what each round computes from its inputs and the party's keys -------------
// The activities below add the database (run once, sealed state, pending setups); the bench's
// crypto floor (src/bench/floor.ts) runs the same steps in memory.

/** Round 1: start receiving from every peer, commit to the zero-seed shares. */
export function pairSetupStart(
  party: PartyKeyring,
  ctx: PairSetupContext,
): { output: Envelope[]; state: PairStartState } {
  const { me, peers } = validate(party, ctx);
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
    const body: Round1Body = { params, ot: start.msg, zero: zero.messages[peer.identifier]! };
    return sealDirect(
      roundHeader(ctx, 'pair-1', 'pair-start', party.partyId, peer.partyId),
      jsonBytes(body),
      party.identitySecret,
      fromHex(peer.transportPublic, 'transport key'),
    );
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
  const { me, peers } = validate(party, ctx);
  const bodies = peers.map((peer) => ({
    peer,
    body: openPeer<Round1Body>(party, ctx, round1, 'pair-1', 'pair-start', peer),
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
    const reply: Round2Body = { params: body.params, ot: answer.msg, zero: zero.messages[peer.identifier]! };
    return sealDirect(
      roundHeader(ctx, 'pair-2', 'pair-answer', party.partyId, peer.partyId),
      jsonBytes(reply),
      party.identitySecret,
      fromHex(peer.transportPublic, 'transport key'),
    );
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
  const { peers } = validate(party, ctx);
  const bodies = peers.map((peer) => ({
    peer,
    body: openPeer<Round2Body>(party, ctx, round2, 'pair-2', 'pair-answer', peer),
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
  const body: DoneBody = { params: pairSetupParams(ctx), setupId: ctx.ceremonyId };
  const done = sealBroadcast(
    roundHeader(ctx, 'pair-3', 'pair-done', party.partyId, '*'),
    jsonBytes(body),
    party.identitySecret,
  );
  return { setups, done };
}

/** Every other party signed that it finished this very setup; throws naming the first that did not. */
export function checkPairSetupDone(party: PartyKeyring, ctx: PairSetupContext, done: Envelope[]): void {
  const { peers } = validate(party, ctx);
  for (const peer of peers) {
    const body = openFrom<DoneBody>(
      party,
      done,
      roundHeader(ctx, 'pair-3', 'pair-done', peer.partyId, '*'),
      peer,
      false,
    );
    if (body.params !== pairSetupParams(ctx) || body.setupId !== ctx.ceremonyId) {
      throw new CulpritError('DISAGREEMENT', peer.partyId, `${peer.partyId} reports another pair setup`);
    }
  }
}

/**
 * A pair setup is made with the parties of this party's own share of the version (active, or
 * pending while its key generation or share change runs), never with a roster the coordinator
 * wrote: keys it swapped in would get an OT setup with this party.
 */
async function checkRosterOfShare(rt: PartyRuntime, ctx: PairSetupContext): Promise<ShareDoc> {
  const id = shareDocId(ctx.tenant, ctx.keyId, ctx.version);
  const share =
    (await rt.store.shares.findOne({ _id: id })) ?? (await rt.store.pendingShares.findOne({ _id: id }));
  if (!share || share.tenant !== ctx.tenant || share.walletId !== ctx.walletId)
    throw new ConclaveError(
      'UNKNOWN_WALLET',
      `${rt.partyId} holds no share of wallet ${ctx.walletId} v${ctx.version} (${ctx.tenant})`,
    );
  if (canonicalJson(share.roster) !== canonicalJson(ctx.roster))
    throw new ConclaveError(
      'DISAGREEMENT',
      `the pair setup's roster is not the one stored with ${rt.partyId}'s share of ${ctx.walletId} v${ctx.version}`,
    );
  return share;
}

/**
 * The checks before this party takes part in a pair setup: its roster is the one of the party's
 * own share; a pairing (fresh setups of an active version) runs under the tenant's governance.
 * The setups a key generation or share change makes for its new version are that ceremony's.
 */
async function guardPairSetup(rt: PartyRuntime, ctx: PairSetupContext): Promise<void> {
  const share = await checkRosterOfShare(rt, ctx);
  if (ctx.replace)
    await checkGovernance(rt, versionTargetOf('pairing', share, ctx.ceremonyId), ctx.authorization);
}

// ---- the activities --------------------------------------------------------------------------

export function pairSetupActivities(rt: PartyRuntime) {
  return {
    async pairSetupRound1(ctx: PairSetupContext): Promise<Envelope[]> {
      validate(rt, ctx);
      await guardPairSetup(rt, ctx);
      return runRoundOnce<PairStartState, Envelope[]>(rt, ctx.tenant, ctx.ceremonyId, 'pair-1', () =>
        pairSetupStart(rt, ctx),
      );
    },

    async pairSetupRound2(ctx: PairSetupContext, round1: Envelope[]): Promise<Envelope[]> {
      validate(rt, ctx);
      return runRoundOnce<PairAnswerState, Envelope[]>(rt, ctx.tenant, ctx.ceremonyId, 'pair-2', async () =>
        pairSetupAnswer(
          rt,
          ctx,
          await loadRoundState<PairStartState>(rt, ctx.tenant, ctx.ceremonyId, 'pair-1'),
          round1,
        ),
      );
    },

    async pairSetupRound3(ctx: PairSetupContext, round2: Envelope[]): Promise<Envelope> {
      validate(rt, ctx);
      return runRoundOnce<never, Envelope>(rt, ctx.tenant, ctx.ceremonyId, 'pair-3', async () => {
        const state1 = await loadRoundState<PairStartState>(rt, ctx.tenant, ctx.ceremonyId, 'pair-1');
        const state2 = await loadRoundState<PairAnswerState>(rt, ctx.tenant, ctx.ceremonyId, 'pair-2');
        const { setups, done } = pairSetupFinish(rt, ctx, state1, state2, round2);
        const id = pairSetupDocId(ctx.tenant, ctx.keyId, ctx.version);
        const secret: PairSetupSecretDoc = {
          _id: pairSetupSecretId(ctx.tenant, ctx.keyId, ctx.version, ctx.ceremonyId),
          tenant: ctx.tenant,
          keyId: ctx.keyId,
          version: ctx.version,
          setupId: ctx.ceremonyId,
          sealed: sealJson(rt.kek, setups, pairSetupContext(rt, ctx.tenant, ctx.keyId, ctx.version)),
          createdAt: new Date(),
        };
        const doc: PairSetupDoc = {
          _id: id,
          tenant: ctx.tenant,
          keyId: ctx.keyId,
          version: ctx.version,
          setupId: ctx.ceremonyId,
          parties: ctx.roster.map((p) => p.partyId),
          createdAt: new Date(),
        };
        // Pending until every party is done; a stale pending setup of an aborted ceremony is replaced.
        await writeUnlessAborted(
          rt,
          ctx.tenant,
          ctx.ceremonyId,
          async () => {
            await rt.store.pairSetupSecrets.replaceOne({ _id: secret._id }, secret, { upsert: true });
            await rt.store.pendingPairSetups.replaceOne({ _id: id }, doc, { upsert: true });
          },
          () => forgetPairSetup(rt, ctx),
        );
        return { output: done };
      });
    },

    /**
     * Makes this ceremony's setups the version's setups once every other party signed that it is
     * done too. Idempotent. A key generation or share change calls it before activating shares.
     */
    async pairSetupActivate(ctx: PairSetupContext, done: Envelope[]): Promise<void> {
      validate(rt, ctx);
      await guardPairSetup(rt, ctx);
      const id = pairSetupDocId(ctx.tenant, ctx.keyId, ctx.version);
      const current = await rt.store.pairSetups.findOne({ _id: id });
      if (current?.setupId !== ctx.ceremonyId) {
        checkPairSetupDone(rt, ctx, done);
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
      }
      // Then (again, on a retry after a crash) what this setup made obsolete: its pending copy, the
      // setups it replaced, and its own rounds (a key generation's other rounds go with activation).
      await rt.store.pendingPairSetups.deleteOne({ _id: id, setupId: ctx.ceremonyId });
      await rt.store.pairSetupSecrets.deleteMany({
        tenant: ctx.tenant,
        keyId: ctx.keyId,
        version: ctx.version,
        setupId: { $ne: ctx.ceremonyId },
      });
      await deleteRoundSteps(rt, ctx.tenant, ctx.ceremonyId, ['pair-1', 'pair-2', 'pair-3']);
    },

    /** Forgets what an aborted pair setup stored (its rounds and pending setups). */
    async pairSetupAbort(ctx: PairSetupContext): Promise<void> {
      await abortCeremony(rt, ctx.tenant, ctx.ceremonyId, () => forgetPairSetup(rt, ctx));
    },
  };
}

/** Deletes a pair setup ceremony's pending setups (not setups it already made current). */
async function forgetPairSetup(rt: PartyRuntime, ctx: PairSetupContext): Promise<void> {
  await rt.store.pendingPairSetups.deleteOne({
    _id: pairSetupDocId(ctx.tenant, ctx.keyId, ctx.version),
    setupId: ctx.ceremonyId,
  });
  const current = await rt.store.pairSetups.findOne({
    _id: pairSetupDocId(ctx.tenant, ctx.keyId, ctx.version),
    setupId: ctx.ceremonyId,
  });
  if (!current) {
    await rt.store.pairSetupSecrets.deleteOne({
      _id: pairSetupSecretId(ctx.tenant, ctx.keyId, ctx.version, ctx.ceremonyId),
    });
  }
}

/**
 * Deletes every pair setup of a key version made by `setupId`, or, without it, every pair setup
 * of the version (its shares are retired).
 */
export async function deletePairSetups(
  rt: PartyRuntime,
  tenant: string,
  keyId: string,
  version: number,
  setupId?: string,
): Promise<void> {
  const id = pairSetupDocId(tenant, keyId, version);
  const which = setupId === undefined ? { _id: id } : { _id: id, setupId };
  await rt.store.pendingPairSetups.deleteOne(which);
  await rt.store.pairSetups.deleteOne(which);
  await rt.store.pairSetupSecrets.deleteMany(
    setupId === undefined ? { tenant, keyId, version } : { tenant, keyId, version, setupId },
  );
}

/**
 * This party's DKLs23 setups for a key version. The document's small fields are read every time
 * (a pairing ceremony may have replaced the setups, a failed check may have retired a peer); the
 * sealed setups are opened once per setup id and kept in memory, one object per setup id in this
 * process (concurrent first reads share one load). When they had to be opened, the document is
 * read again after: a check that failed meanwhile in another process (a worker being replaced
 * while its last rounds run) is seen before this one multiplies.
 */
export async function loadPairSetups(
  rt: PartyRuntime,
  tenant: string,
  keyId: string,
  version: number,
): Promise<{ doc: PairSetupDoc; setups: PairSetups }> {
  const id = pairSetupDocId(tenant, keyId, version);
  const missing = () =>
    new ConclaveError(
      'BAD_INPUT',
      `${rt.partyId} holds no pair setup for key ${keyId} v${version}: run a pairing ceremony first`,
    );
  const replaced = () =>
    new ConclaveError(
      'ABORTED',
      `the pair setup of key ${keyId} v${version} on ${rt.partyId} was replaced while it was read; retry`,
    );
  let doc = await rt.store.pairSetups.findOne({ _id: id });
  if (!doc || doc.tenant !== tenant) throw missing();
  const setupId = doc.setupId;
  const secretId = pairSetupSecretId(tenant, keyId, version, setupId);
  const opened = rt.openedPairSetups.peek(secretId);
  if (opened) return { doc, setups: opened };
  const setups = await rt.openedPairSetups.get(secretId, async () => {
    const secret = await rt.store.pairSetupSecrets.findOne({ _id: secretId });
    return (
      secret && openJson<PairSetups>(rt.kek, secret.sealed, pairSetupContext(rt, tenant, keyId, version))
    );
  });
  if (!setups) throw replaced();
  doc = await rt.store.pairSetups.findOne({ _id: id });
  if (!doc || doc.tenant !== tenant) throw missing();
  if (doc.setupId !== setupId) throw replaced();
  return { doc, setups };
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

/** The entry of a retired peer's setups in `rt.retiredPairPeers`. */
export const retiredPairKey = (doc: PairSetupDoc, peerIdentifier: string): string =>
  `${pairSetupSecretId(doc.tenant, doc.keyId, doc.version, doc.setupId)}#${peerIdentifier}`;

export const retiredPeerError = (partyId: string, peerPartyId: string): ConclaveError =>
  new ConclaveError(
    'ABORTED',
    `${partyId} retired its OT setup with ${peerPartyId} after a failed check; a pairing ceremony must run before they sign together again`,
  );

/**
 * Runs `step`, which multiplies with `peers` over the setups `pair` (and so runs consistency
 * checks against their secrets), under the abort rule: after one failed check against a setup, no
 * other check ever runs against it (each outcome may tell the peer a bit of the secret Δ).
 *  - A peer the document lists in `abortedPeers` is refused, and so is one retired in this
 *    process since. That is looked at in the same synchronous step as the checks, so no other
 *    round of this process can fail a check in between; the database is told again if it does not
 *    list the peer yet (its first write may have failed).
 *  - A failed check (`OtSetupAborted`, naming the peer) retires the peer in this process at once:
 *    in `rt.retiredPairPeers`, whatever object holds the setups later, and as a mark on both of
 *    the shared in-memory setups with it, which the multiplication itself refuses. Then it is
 *    recorded in the document's `abortedPeers` (which other processes, and this one after a
 *    restart, read) before the failure is returned.
 */
export async function multiplyWithPairSetups<T>(
  rt: PartyRuntime,
  pair: { doc: PairSetupDoc; setups: PairSetups },
  peers: Pick<PeerEntry, 'partyId' | 'identifier'>[],
  step: () => T,
): Promise<T> {
  const { doc } = pair;
  // Nothing below awaits before `step` returns or throws.
  const listed = peers.find((p) => doc.abortedPeers?.includes(p.identifier));
  if (listed) throw retiredPeerError(rt.partyId, listed.partyId);
  const retired = peers.find((p) => rt.retiredPairPeers.has(retiredPairKey(doc, p.identifier)));
  if (retired) {
    // retired here but not (yet) in the document read: its write may have failed, so write it again
    await retirePairSetup(rt, doc.tenant, doc.keyId, doc.version, doc.setupId, retired.identifier);
    throw retiredPeerError(rt.partyId, retired.partyId);
  }
  try {
    return step();
  } catch (err) {
    if (err instanceof mul.OtSetupAborted) {
      rt.retiredPairPeers.add(retiredPairKey(doc, err.culprit));
      const setups = pair.setups.peers[err.culprit];
      for (const setup of [setups?.mulSender, setups?.mulReceiver]) {
        if (isMulSetup(setup) && !mul.isOtSetupAborted(setup)) {
          mul.markOtSetupAborted(setup, `a consistency check with ${err.culprit} failed`);
        }
      }
      await retirePairSetup(rt, doc.tenant, doc.keyId, doc.version, doc.setupId, err.culprit);
    }
    throw err;
  }
}

const isMulSetup = (x: unknown): x is mul.MulSenderSetup | mul.MulReceiverSetup =>
  typeof x === 'object' && x !== null && !Array.isArray(x);
