/**
 * What a party's round activities share around the pure steps: peer pinning, the idempotency
 * record of a round (`runRoundOnce`), sealed round state, and aborting a ceremony.
 */
import { randomUUID } from 'node:crypto';
import { openJson, sealJson } from '../../src/crypto/at-rest.js';
import { ConclaveError, CulpritError } from '../../src/errors.js';
import { roundStateContext, type PartyRuntime } from '../../src/party/runtime.js';
import {
  ceremonyDocId,
  PartyStore,
  roundDocId,
  type RoundDoc,
  type ShareDoc,
} from '../../src/store/party-store.js';
import type { PeerEntry } from '../../src/ceremony/contracts.js';

/**
 * Trust on first use: the first time a party sees a peer's keys it pins them in its own
 * database; a roster that later carries other keys for that peer is refused.
 */
export async function checkPinnedPeers(rt: PartyRuntime, roster: PeerEntry[]): Promise<void> {
  for (const peer of roster) {
    if (peer.partyId === rt.partyId) continue;
    const pinned = await PartyStore.insertOrGet(rt.store.peers, {
      _id: peer.partyId,
      identityPublic: peer.identityPublic,
      transportPublic: peer.transportPublic,
      pinnedAt: new Date(),
      by: 'first-use',
    });
    if (pinned.identityPublic !== peer.identityPublic || pinned.transportPublic !== peer.transportPublic) {
      throw new CulpritError(
        'TAMPERED',
        peer.partyId,
        `keys offered for ${peer.partyId} differ from its pinned keys`,
      );
    }
  }
}

/**
 * The idempotency record of one round: if this round already ran for this ceremony, return
 * what it produced then (never draw new randomness); otherwise compute, store, return.
 * A concurrent duplicate may compute too, but only the first stored result is ever returned.
 */
export async function isAborted(rt: PartyRuntime, tenant: string, ceremonyId: string): Promise<boolean> {
  return (await rt.store.tombstones.findOne({ _id: ceremonyDocId(tenant, ceremonyId) })) !== null;
}

export function abortedError(rt: PartyRuntime, ceremonyId: string): ConclaveError {
  return new ConclaveError(
    'ABORTED',
    `ceremony ${ceremonyId} was aborted; ${rt.partyId} takes no further part`,
  );
}

/**
 * Aborts a ceremony on this party: the tombstone goes first, then `cleanup` deletes what the
 * ceremony stored. A round still in flight checks the tombstone after its own write and undoes
 * it, so whatever the interleaving, nothing of an aborted ceremony survives.
 */
export async function abortCeremony(
  rt: PartyRuntime,
  tenant: string,
  ceremonyId: string,
  cleanup: () => Promise<unknown>,
) {
  await PartyStore.insertOrGet(rt.store.tombstones, {
    _id: ceremonyDocId(tenant, ceremonyId),
    tenant,
    ceremonyId,
    abortedAt: new Date(),
  });
  await cleanup();
  await deleteRounds(rt, tenant, ceremonyId);
}

/** Stores with `write`; if the ceremony was aborted meanwhile, undoes it with `undo` and refuses. */
export async function writeUnlessAborted<T>(
  rt: PartyRuntime,
  tenant: string,
  ceremonyId: string,
  write: () => Promise<T>,
  undo: () => Promise<unknown>,
): Promise<T> {
  // Checking after the write is what makes this safe; callers check before costly work.
  const result = await write();
  if (await isAborted(rt, tenant, ceremonyId)) {
    await undo();
    throw abortedError(rt, ceremonyId);
  }
  return result;
}

export async function runRoundOnce<S, O>(
  rt: PartyRuntime,
  tenant: string,
  ceremonyId: string,
  step: string,
  compute: () => Promise<{ output: O; state?: S }> | { output: O; state?: S },
): Promise<O> {
  const id = roundDocId(tenant, ceremonyId, step);
  const existing = await rt.store.rounds.findOne({ _id: id });
  if (existing) return storedOutput<O>(rt, existing);
  if (await isAborted(rt, tenant, ceremonyId)) throw abortedError(rt, ceremonyId);
  const { output, state } = await compute();
  // The output first, under an id of its own; the round record that names it decides which of two
  // concurrent attempts is the answer. A crash in between leaves only an unnamed output behind.
  const outputId = `${id}|${randomUUID()}`;
  await rt.store.roundOutputs.insertOne({ _id: outputId, tenant, ceremonyId, output, createdAt: new Date() });
  const doc: RoundDoc = { _id: id, tenant, ceremonyId, step, outputId, createdAt: new Date() };
  if (state !== undefined)
    doc.sealedState = sealJson(rt.kek, state, roundStateContext(rt, tenant, ceremonyId, step));
  const stored = await writeUnlessAborted(
    rt,
    tenant,
    ceremonyId,
    () => PartyStore.insertOrGet(rt.store.rounds, doc),
    () => deleteRounds(rt, tenant, ceremonyId),
  );
  if (stored.outputId === outputId) return output;
  await rt.store.roundOutputs.deleteOne({ _id: outputId });
  return storedOutput<O>(rt, stored);
}

/** The output a round record names. */
async function storedOutput<O>(rt: PartyRuntime, round: RoundDoc): Promise<O> {
  const out = await rt.store.roundOutputs.findOne({ _id: round.outputId });
  if (!out)
    throw new ConclaveError('BAD_INPUT', `round ${round.step} of ${round.ceremonyId} lost its output`);
  return out.output as O;
}

/** What a round of this ceremony answered on this party, if it ran. */
export async function roundOutput<O>(
  rt: PartyRuntime,
  tenant: string,
  ceremonyId: string,
  step: string,
): Promise<O | undefined> {
  const round = await rt.store.rounds.findOne({ _id: roundDocId(tenant, ceremonyId, step) });
  return round ? storedOutput<O>(rt, round) : undefined;
}

/** Forgets some rounds of a ceremony on this party, each with its state and output. */
export async function deleteRoundSteps(
  rt: PartyRuntime,
  tenant: string,
  ceremonyId: string,
  steps: string[],
): Promise<void> {
  for (const step of steps) {
    const id = roundDocId(tenant, ceremonyId, step);
    const round = await rt.store.rounds.findOne({ _id: id });
    if (!round) continue;
    await rt.store.roundOutputs.deleteOne({ _id: round.outputId });
    await rt.store.rounds.deleteOne({ _id: id });
  }
}

/** Forgets every round of a ceremony on this party: records, states and outputs. */
export async function deleteRounds(rt: PartyRuntime, tenant: string, ceremonyId: string): Promise<void> {
  await rt.store.rounds.deleteMany({ tenant, ceremonyId });
  await rt.store.roundOutputs.deleteMany({ tenant, ceremonyId });
}

export async function loadRoundState<S>(
  rt: PartyRuntime,
  tenant: string,
  ceremonyId: string,
  step: string,
): Promise<S> {
  const doc = await rt.store.rounds.findOne({ _id: roundDocId(tenant, ceremonyId, step) });
  if (!doc?.sealedState) {
    throw new ConclaveError(
      'BAD_INPUT',
      `round ${step} of ceremony ${ceremonyId} has not run on ${rt.partyId}`,
    );
  }
  return openJson<S>(rt.kek, doc.sealedState, roundStateContext(rt, tenant, ceremonyId, step));
}

/**
 * Activates a pending share once `checkPeers` (which throws, naming a peer, on any disagreement)
 * accepts every other party's signed result: a coordinator cannot activate a disputed share.
 * Idempotent: a retried activation finishes what a crashed one started.
 */
export async function activatePendingShare(
  rt: PartyRuntime,
  tenant: string,
  ceremonyId: string,
  shareId: string,
  checkPeers: (pending: ShareDoc) => void,
): Promise<void> {
  if (!(await rt.store.shares.findOne({ _id: shareId }))) {
    const share = await rt.store.pendingShares.findOne({ _id: shareId });
    if (!share || share.tenant !== tenant || (share.ceremonyId && share.ceremonyId !== ceremonyId)) {
      throw new ConclaveError('BAD_INPUT', `no pending share ${shareId} of ${ceremonyId} on ${rt.partyId}`);
    }
    checkPeers(share);
    await PartyStore.insertOrGet(rt.store.shares, { ...share, status: 'active', activatedAt: new Date() });
  }
  await rt.store.pendingShares.deleteOne({ _id: shareId });
  await deleteRounds(rt, tenant, ceremonyId);
}
