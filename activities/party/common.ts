/** Helpers shared by a party's round activities: roster checks, peer pinning, envelope I/O. */
import { randomUUID } from 'node:crypto';
import { openEnvelope, type Envelope, type EnvelopeHeader } from '../../src/crypto/envelope.js';
import { encodeFields, fromHex, transcriptHash, utf8 } from '../../src/crypto/encoding.js';
import { openJson, sealJson, type AtRestContext } from '../../src/crypto/at-rest.js';
import { ConclaveError, CulpritError } from '../../src/errors.js';
import type { PartyRuntime } from '../../src/party/runtime.js';
import {
  ceremonyDocId,
  PartyStore,
  roundDocId,
  type PeerEntry,
  type RoundDoc,
  type ShareDoc,
} from '../../src/store/party-store.js';

/** The header of one round message of a ceremony; `to` is a party id, or '*' for a broadcast. */
export const roundHeader = (
  ctx: { tenant: string; ceremonyId: string },
  round: string,
  type: string,
  from: string,
  to: string,
): EnvelopeHeader => ({ tenant: ctx.tenant, ceremonyId: ctx.ceremonyId, round, type, from, to });

/** A party as the pure round steps see it: its id and long-lived keys, no database. */
export type PartyKeyring = Pick<
  PartyRuntime,
  'partyId' | 'identityPublic' | 'transportPublic' | 'identitySecret' | 'transportSecret'
>;

export function selfEntry(
  rt: Pick<PartyRuntime, 'partyId' | 'identityPublic' | 'transportPublic'>,
  roster: PeerEntry[],
): PeerEntry {
  const me = roster.find((p) => p.partyId === rt.partyId);
  if (!me) throw new ConclaveError('BAD_INPUT', `party ${rt.partyId} is not in this ceremony's roster`);
  if (me.identityPublic !== rt.identityPublic || me.transportPublic !== rt.transportPublic) {
    throw new ConclaveError('TAMPERED', `the roster carries keys for ${rt.partyId} that are not its own`);
  }
  return me;
}

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

/** A hash of the ceremony parameters every party must agree on; carried in round-1 bodies. */
export function paramsHash(fields: Array<string | number>, roster: PeerEntry[]): string {
  const sorted = [...roster].sort((a, b) => (a.partyId < b.partyId ? -1 : 1));
  return transcriptHash([
    encodeFields(fields),
    ...sorted.map((p) => encodeFields([p.partyId, p.identifier, p.identityPublic, p.transportPublic])),
  ]);
}

/** Exactly one envelope from `from` in `envelopes`, opened and parsed as JSON. */
export function openFrom<T>(
  rt: Pick<PartyRuntime, 'transportSecret'>,
  envelopes: Envelope[],
  expect: EnvelopeHeader,
  sender: PeerEntry,
  direct: boolean,
): T {
  const mine = envelopes.filter((e) => e.from === sender.partyId && e.to === expect.to);
  if (mine.length === 0) {
    throw new CulpritError('BAD_INPUT', sender.partyId, `no ${expect.type} message from ${sender.partyId}`);
  }
  if (mine.length > 1) {
    throw new CulpritError(
      'TAMPERED',
      sender.partyId,
      `more than one ${expect.type} message from ${sender.partyId}`,
    );
  }
  const body = openEnvelope(
    mine[0]!,
    expect,
    fromHex(sender.identityPublic, 'identity key'),
    direct ? rt.transportSecret : undefined,
  );
  try {
    return JSON.parse(new TextDecoder().decode(body)) as T;
  } catch {
    throw new CulpritError(
      'TAMPERED',
      sender.partyId,
      `malformed ${expect.type} message from ${sender.partyId}`,
    );
  }
}

export const jsonBytes = (value: unknown): Uint8Array => utf8(JSON.stringify(value));

export function roundStateContext(
  rt: PartyRuntime,
  tenant: string,
  ceremonyId: string,
  step: string,
): AtRestContext {
  return { purpose: 'round-state', tenant, party: rt.partyId, keyId: `${ceremonyId}/${step}`, version: 1 };
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

/** Crypto code names FROST identifiers; ceremonies name parties. */
export function renameCulprit(err: unknown, roster: PeerEntry[]): unknown {
  if (err instanceof CulpritError) {
    const party = roster.find((p) => p.identifier === err.culprit);
    if (party)
      return new CulpritError(err.code, party.partyId, err.message.replace(/ \(culprit: [^)]*\)$/, ''));
  }
  return err;
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
