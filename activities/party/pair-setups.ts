/**
 * A party's DKLs23 pair setups in its database: loading them (opened once per setup), multiplying
 * with them under the abort rule, retiring a peer after a failed check, and deleting a version's.
 */
import { openJson } from '../../src/crypto/at-rest.js';
import * as mul from '../../src/crypto/ecdsa/multiply.js';
import { ConclaveError } from '../../src/errors.js';
import { pairSetupContext, type PartyRuntime } from '../../src/party/runtime.js';
import {
  pairSetupDocId,
  pairSetupSecretId,
  type PairSetupDoc,
  type PairSetups,
} from '../../src/store/party-store.js';
import type { PeerEntry } from '../../src/ceremony/contracts.js';
import { retiredPeerError } from '../../src/ceremony/pair-setup/party.js';

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
