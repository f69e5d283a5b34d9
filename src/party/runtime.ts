/**
 * What a party worker holds in memory: its id, its store, its key-encryption key and its
 * decrypted identity (Ed25519) and transport (X25519) keys. The keys are created on first
 * start and stored sealed in the party's own database.
 */
import { sealJson, openJson, type AtRestContext } from '../crypto/at-rest.js';
import { toHex, fromHex } from '../crypto/encoding.js';
import { generatePartyKeys, type PartyKeys } from '../crypto/identity.js';
import { ConclaveError } from '../errors.js';
import { PartyStore, type PairSetups, type PartyKeysDoc, type ShareDoc } from '../store/party-store.js';
import { ImmutableMemo } from '../store/memo.js';
import { openDb } from '../store/mongo.js';
import { loadConfig, partyKek, assertPartyId, recoveryPublicKey, type Env } from '../config.js';

export interface PartyRuntime {
  partyId: string;
  store: PartyStore;
  kek: Uint8Array;
  identitySecret: Uint8Array;
  identityPublic: string;
  transportSecret: Uint8Array;
  transportPublic: string;
  /** Active shares read so far (they are immutable once active). */
  activeShares: ImmutableMemo<ShareDoc>;
  /**
   * DKLs23 pair setups opened so far, by document and setup id (a setup's contents never change;
   * a new one has a new id). SECRET, like the KEK this process already holds.
   */
  openedPairSetups: ImmutableMemo<PairSetups>;
  /**
   * Pair setups retired by this process after a failed consistency check, by setup secret id and
   * peer identifier (`retiredPairKey`): refused from the moment of the failure, whatever object
   * holds the setups (the memo may evict and reload them), before the database records it.
   */
  retiredPairPeers: Set<string>;
  /** The operator's recovery key that backups are encrypted to; none configured, no backups. */
  recoveryPublic?: Uint8Array;
  /**
   * Refuse to sign for a tenant whose rule set publishers this party does not trust, and to act
   * on its keys (share changes, backups, pairings) unless it trusts the tenant's governance
   * publishers. On by default; an operator opts out with CONCLAVE_REQUIRE_GATE=0.
   */
  requireGate: boolean;
}

const keysContext = (partyId: string): AtRestContext => ({
  purpose: 'party-keys',
  tenant: '*',
  party: partyId,
  keyId: 'identity',
  version: 1,
});

/** The at-rest context of a party's share of one key version. */
export const shareContext = (
  rt: Pick<PartyRuntime, 'partyId'>,
  tenant: string,
  keyId: string,
  version: number,
): AtRestContext => ({ purpose: 'share', tenant, party: rt.partyId, keyId, version });

/** A ceremony round's state, sealed between rounds in the party's `rounds` collection. */
export const roundStateContext = (
  rt: Pick<PartyRuntime, 'partyId'>,
  tenant: string,
  ceremonyId: string,
  step: string,
): AtRestContext => ({
  purpose: 'round-state',
  tenant,
  party: rt.partyId,
  keyId: `${ceremonyId}/${step}`,
  version: 1,
});

/** A signing nonce pair, sealed between FROST rounds 1 and 2, bound to its ceremony. */
export const nonceContext = (
  rt: Pick<PartyRuntime, 'partyId'>,
  ctx: { tenant: string; keyId: string; ceremonyId: string; version: number },
): AtRestContext => ({
  purpose: 'nonce',
  tenant: ctx.tenant,
  party: rt.partyId,
  keyId: `${ctx.keyId}/${ctx.ceremonyId}`,
  version: ctx.version,
});

/** A key version's DKLs23 pair setups with every other party. */
export const pairSetupContext = (
  rt: Pick<PartyRuntime, 'partyId'>,
  tenant: string,
  keyId: string,
  version: number,
): AtRestContext => ({ purpose: 'pair-setup', tenant, party: rt.partyId, keyId, version });

/** The signing share a share record holds, opened with the party's KEK. SECRET. */
export function openShareSecret(rt: Pick<PartyRuntime, 'partyId' | 'kek'>, share: ShareDoc): string {
  return openJson<{ signingShare: string }>(
    rt.kek,
    share.sealed,
    shareContext(rt, share.tenant, share.keyId, share.version),
  ).signingShare;
}

interface SealedPartyKeys {
  identitySecret: string;
  transportSecret: string;
}

/** The party's keys as stored: public halves in the clear, secret halves sealed with its KEK. */
export function sealPartyKeys(partyId: string, kek: Uint8Array, keys: PartyKeys): PartyKeysDoc {
  return {
    _id: 'self',
    partyId,
    identityPublic: toHex(keys.identityPublic),
    transportPublic: toHex(keys.transportPublic),
    sealed: sealJson(
      kek,
      { identitySecret: toHex(keys.identitySecret), transportSecret: toHex(keys.transportSecret) },
      keysContext(partyId),
    ),
  };
}

export async function loadOrCreatePartyKeys(
  store: PartyStore,
  partyId: string,
  kek: Uint8Array,
): Promise<
  Omit<
    PartyRuntime,
    | 'store'
    | 'kek'
    | 'activeShares'
    | 'openedPairSetups'
    | 'retiredPairPeers'
    | 'recoveryPublic'
    | 'requireGate'
  >
> {
  let doc = await store.keys.findOne({ _id: 'self' });
  if (!doc) {
    const fresh = sealPartyKeys(partyId, kek, generatePartyKeys());
    // Two workers starting at once converge on whichever keys were stored first.
    doc = await PartyStore.insertOrGet(store.keys, fresh);
  }
  if (doc.partyId !== partyId) {
    throw new ConclaveError('CONFIG', `database belongs to party "${doc.partyId}", not "${partyId}"`);
  }
  const secrets = openJson<SealedPartyKeys>(kek, doc.sealed, keysContext(partyId));
  return {
    partyId,
    identitySecret: fromHex(secrets.identitySecret, 'identity secret'),
    identityPublic: doc.identityPublic,
    transportSecret: fromHex(secrets.transportSecret, 'transport secret'),
    transportPublic: doc.transportPublic,
  };
}

/** Gating is on unless the operator opts out explicitly (CONCLAVE_REQUIRE_GATE=0, false or no). */
export const requiresGate = (env: Env): boolean =>
  !['0', 'false', 'no'].includes((env.CONCLAVE_REQUIRE_GATE ?? '').trim().toLowerCase());

export async function openPartyRuntime(partyId: string, env: Env = process.env): Promise<PartyRuntime> {
  assertPartyId(partyId);
  const config = loadConfig(env);
  const kek = partyKek(partyId, env);
  const store = new PartyStore(await openDb(config.partyDb(partyId)));
  await store.ensureIndexes();
  const keys = await loadOrCreatePartyKeys(store, partyId, kek);
  return {
    ...keys,
    store,
    kek,
    activeShares: new ImmutableMemo<ShareDoc>(),
    openedPairSetups: new ImmutableMemo<PairSetups>(1_000),
    retiredPairPeers: new Set<string>(),
    recoveryPublic: recoveryPublicKey(env),
    requireGate: requiresGate(env),
  };
}
