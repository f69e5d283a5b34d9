/**
 * Party-local administration, run by a party's own operator against its own database: show the
 * party's public keys, and pin a peer's new keys after that peer was rebuilt. Nothing here goes
 * through Temporal or the coordinator: a coordinator that could re-pin a party's peers could put
 * its own keys in place of a rebuilt party and receive the share recovered for it.
 */
import { ConclaveError } from '../errors.js';
import { assertPartyId, loadConfig, type Env } from '../config.js';
import { fromHex } from '../crypto/encoding.js';
import { PartyStore, type PinnedPeerDoc } from '../store/party-store.js';
import { openDb } from '../store/mongo.js';
import type { PartyInfo } from '../../activities/types.js';

async function openPartyStore(partyId: string, env: Env): Promise<PartyStore> {
  assertPartyId(partyId);
  return new PartyStore(await openDb(loadConfig(env).partyDb(partyId)));
}

/** The keys a party's worker created on its first start (public data). */
export async function showPartyKeys(partyId: string, env: Env = process.env): Promise<PartyInfo> {
  const store = await openPartyStore(partyId, env);
  const doc = await store.keys.findOne({ _id: 'self' });
  if (!doc) {
    throw new ConclaveError('UNKNOWN_PARTY', `party ${partyId} has no keys yet: start its worker first`);
  }
  return { partyId, identityPublic: doc.identityPublic, transportPublic: doc.transportPublic };
}

function assertKey(name: string, hex: string): string {
  if (fromHex(hex, name).length !== 32)
    throw new ConclaveError('BAD_INPUT', `${name} must be 32 bytes of hex`);
  return hex.toLowerCase();
}

/**
 * Pins `peer`'s keys in `partyId`'s database, replacing an earlier pin (kept in `replaced`).
 * The operator must have the keys from the peer's operator out of band (`conclave party show`).
 */
export async function pinPeerKeys(
  partyId: string,
  peer: PartyInfo,
  env: Env = process.env,
): Promise<{ replaced: boolean }> {
  assertPartyId(peer.partyId);
  if (peer.partyId === partyId) throw new ConclaveError('BAD_INPUT', 'a party does not pin itself');
  const identityPublic = assertKey('identity key', peer.identityPublic);
  const transportPublic = assertKey('transport key', peer.transportPublic);
  const store = await openPartyStore(partyId, env);
  const old = await store.peers.findOne({ _id: peer.partyId });
  if (old && old.identityPublic === identityPublic && old.transportPublic === transportPublic) {
    return { replaced: false };
  }
  const doc: PinnedPeerDoc = {
    _id: peer.partyId,
    identityPublic,
    transportPublic,
    pinnedAt: new Date(),
    ...(old
      ? {
          replaced: [
            ...(old.replaced ?? []),
            {
              identityPublic: old.identityPublic,
              transportPublic: old.transportPublic,
              pinnedAt: old.pinnedAt,
            },
          ],
        }
      : {}),
  };
  await store.peers.replaceOne({ _id: peer.partyId }, doc, { upsert: true });
  return { replaced: old !== null };
}
