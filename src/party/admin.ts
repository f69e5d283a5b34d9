/**
 * Party-local administration, run by a party's own operator against its own database: show the
 * party's public keys, and pin a peer's new keys after that peer was rebuilt. Nothing here goes
 * through Temporal or the coordinator: a coordinator that could re-pin a party's peers could put
 * its own keys in place of a rebuilt party and receive the share recovered for it.
 */
import { ed25519, x25519 } from '@noble/curves/ed25519.js';
import { ConclaveError } from '../errors.js';
import { assertPartyId, loadConfig, partyKek, type Env } from '../config.js';
import { sealJson } from '../crypto/at-rest.js';
import { openShareBackup } from '../crypto/backup.js';
import { fromHex, toHex } from '../crypto/encoding.js';
import { mulG, pubPoint, scalarOf } from '../crypto/group.js';
import { getScheme } from '../crypto/schemes.js';
import { PartyStore, shareDocId, type PinnedPeerDoc, type ShareDoc } from '../store/party-store.js';
import { sealPartyKeys, shareContext } from './runtime.js';
import { openDb } from '../store/mongo.js';
import { assertId } from '../validation.js';
import { assertActorId } from '../policy/tenant-config.js';
import type { PartyInfo } from '../ceremony/contracts.js';

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
    // keys first met at a key generation are now vouched for by the operator
    if (old.by !== 'operator')
      await store.peers.updateOne({ _id: peer.partyId }, { $set: { by: 'operator' } });
    return { replaced: false };
  }
  const doc: PinnedPeerDoc = {
    _id: peer.partyId,
    identityPublic,
    transportPublic,
    pinnedAt: new Date(),
    by: 'operator',
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

export interface RestoreResult {
  party: string;
  walletId: string;
  version: number;
  /** The party's keys came back from the backup (its worker must start, or restart, to use them). */
  keysRestored: boolean;
  /** False when the share was already there. */
  shareRestored: boolean;
}

/**
 * Brings a backup back into a party's database, run by that party's operator with the recovery
 * secret key. The party gets back its keys (so its peers' pins still hold) and its share of the
 * backed-up version, which must be the wallet's current version: an older share was retired on
 * purpose by a rotation and is not brought back. Refused into a database that holds shares under
 * other keys: restore is for a wiped party.
 */
export async function restoreShareBackup(
  partyId: string,
  file: unknown,
  recoverySecret: string,
  walletVersion: number,
  env: Env = process.env,
): Promise<RestoreResult> {
  const { meta, secret } = openShareBackup(file, recoverySecret);
  if (meta.party !== partyId) {
    throw new ConclaveError('BAD_INPUT', `this backup belongs to ${meta.party}, not to ${partyId}`);
  }
  if (meta.version !== walletVersion) {
    throw new ConclaveError(
      'BAD_INPUT',
      `this backup holds version ${meta.version} of wallet ${meta.walletId}, which is at version ${walletVersion}: ` +
        'its shares changed since, so this one cannot sign (recover the party instead)',
    );
  }
  const scheme = getScheme(secret.scheme);
  const share = scalarOf(scheme, secret.signingShare, 'backed-up share');
  if (!mulG(scheme, share).equals(pubPoint(scheme, secret.public.verifyingShares[secret.identifier]))) {
    throw new ConclaveError(
      'BAD_SHARE',
      `the share in ${partyId}'s backup does not match its public key package`,
    );
  }
  const keys = {
    identitySecret: fromHex(secret.identitySecret, 'identity secret'),
    identityPublic: fromHex(meta.identityPublic, 'identity key'),
    transportSecret: fromHex(secret.transportSecret, 'transport secret'),
    transportPublic: fromHex(secret.transportPublic, 'transport key'),
  };
  if (
    toHex(ed25519.getPublicKey(keys.identitySecret)) !== meta.identityPublic ||
    toHex(x25519.getPublicKey(keys.transportSecret)) !== secret.transportPublic
  ) {
    throw new ConclaveError('BAD_INPUT', `the keys in ${partyId}'s backup do not belong together`);
  }
  const kek = partyKek(partyId, env);
  const store = await openPartyStore(partyId, env);
  const current = await store.keys.findOne({ _id: 'self' });
  let keysRestored = false;
  if (!current || current.identityPublic !== meta.identityPublic) {
    // a worker that started on the wiped database made fresh keys; they have signed nothing yet
    if (current && (await store.shares.findOne({})) !== null) {
      throw new ConclaveError(
        'BAD_INPUT',
        `${partyId}'s database holds shares under other keys: restore only into a wiped party database`,
      );
    }
    await store.keys.replaceOne({ _id: 'self' }, sealPartyKeys(partyId, kek, keys), { upsert: true });
    keysRestored = true;
  }
  // the party's peers as the backed-up roster knows them; pins already there are kept
  for (const peer of secret.roster) {
    if (peer.partyId === partyId) continue;
    await PartyStore.insertOrGet(store.peers, {
      _id: peer.partyId,
      identityPublic: peer.identityPublic,
      transportPublic: peer.transportPublic,
      pinnedAt: new Date(),
      // the operator opened this backup with the recovery key: the roster in it is theirs
      by: 'operator',
    });
  }
  const doc: ShareDoc = {
    _id: shareDocId(meta.tenant, meta.keyId, meta.version),
    tenant: meta.tenant,
    walletId: meta.walletId,
    keyId: meta.keyId,
    version: meta.version,
    scheme: secret.scheme,
    status: 'active',
    identifier: secret.identifier,
    threshold: secret.threshold,
    roster: secret.roster,
    public: secret.public,
    publicKey: secret.publicKey,
    transcriptHash: secret.transcriptHash,
    sealed: sealJson(
      kek,
      { signingShare: secret.signingShare },
      shareContext({ partyId }, meta.tenant, meta.keyId, meta.version),
    ),
    createdAt: new Date(),
    activatedAt: new Date(),
  };
  const stored = await PartyStore.insertOrGet(store.shares, doc);
  return {
    party: partyId,
    walletId: meta.walletId,
    version: meta.version,
    keysRestored,
    shareRestored: stored === doc,
  };
}

/** The publishers a party's operator trusts for one tenant: of rule sets, of governance policies. */
export interface TenantTrust {
  /** Rule set publishers: the party gates the tenant's signatures (src/policy/gate.ts). */
  publishers?: { id: string; publicKey: string }[];
  /** Governance publishers: the party gates changes of the tenant's shares (src/policy/governance.ts). */
  governancePublishers?: { id: string; publicKey: string }[];
}

/**
 * Sets the publishers `partyId` trusts for `tenant` (each list given replaces the one before).
 * With rule set publishers, the party signs for the tenant only what a rule set signed by one of
 * them allows, checking the request, the rules and the approvals itself; with governance
 * publishers, it takes part in a change of the tenant's shares only on a key-change statement
 * approved under a policy one of them signed. Party-local for the same reason as pinning: a
 * coordinator that could choose the publishers could choose the rules.
 */
export async function trustPublishers(
  partyId: string,
  tenant: string,
  trust: TenantTrust,
  env: Env = process.env,
): Promise<{ tenant: string } & TenantTrust> {
  assertId('tenant', tenant);
  const keys = (list: { id: string; publicKey: string }[], what: string) =>
    list.map((p) => ({
      id: assertActorId(`${what} id`, p.id),
      publicKey: assertKey(`${what} key`, p.publicKey),
    }));
  const set: TenantTrust = {};
  if (trust.publishers?.length) set.publishers = keys(trust.publishers, 'publisher');
  if (trust.governancePublishers?.length)
    set.governancePublishers = keys(trust.governancePublishers, 'governance publisher');
  if (!set.publishers && !set.governancePublishers)
    throw new ConclaveError(
      'BAD_INPUT',
      'name at least one publisher (--publisher ID=PUBLIC_KEY or --governance-publisher ID=PUBLIC_KEY)',
    );
  const store = await openPartyStore(partyId, env);
  const doc = await store.tenantTrust.findOneAndUpdate(
    { _id: tenant },
    { $set: { ...set, updatedAt: new Date() } },
    { upsert: true, returnDocument: 'after' },
  );
  return {
    tenant,
    ...(doc?.publishers ? { publishers: doc.publishers } : {}),
    ...(doc?.governancePublishers ? { governancePublishers: doc.governancePublishers } : {}),
  };
}
