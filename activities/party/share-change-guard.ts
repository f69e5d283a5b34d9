/**
 * What a party checks itself before it takes part in a change of a wallet's shares (rotation,
 * reshare, recovery), whatever the coordinator says:
 *
 * - governance: for a tenant whose governance publishers its operator trusts (or any tenant, with
 *   CONCLAVE_REQUIRE_GATE=1), a key-change statement approved under a policy one of them signed,
 *   equal field by field to the round input, used by this ceremony only;
 * - rosters: a party that holds a share of the wallet compares the old roster with the one stored
 *   beside its share, and accepts in the new roster only peers whose keys that roster already
 *   has, that its operator vouched for (`conclave party pin`), or that the approved statement
 *   names. Nobody joins an existing wallet by being pinned on first use;
 * - destruction: old versions are deleted only once every party of the new committee has signed
 *   that it activated its share of the new version (`checkActivations` in
 *   src/ceremony/reshare/party.ts).
 */
import { canonicalJson } from '../../src/policy/authorization.js';
import { keyChangeTargetOf } from '../../src/policy/governance.js';
import { ConclaveError, CulpritError } from '../../src/errors.js';
import type { PartyRuntime } from '../../src/party/runtime.js';
import type { ShareDoc } from '../../src/store/party-store.js';
import type { PeerEntry } from '../../src/ceremony/contracts.js';
import type { ReshareContext } from '../../src/ceremony/reshare/contracts.js';
import { checkPinnedPeers } from './common.js';
import { checkGovernance } from './governance.js';

/**
 * Governance and roster checks of one round of a share change. `own` is this party's share of
 * the old version, when it holds one: then the old roster must be the one stored beside it.
 */
export async function guardShareChange(
  rt: PartyRuntime,
  ctx: ReshareContext,
  own: ShareDoc | undefined,
): Promise<void> {
  const governed = await checkGovernance(rt, keyChangeTargetOf(ctx), ctx.authorization);
  if (own && canonicalJson(own.roster) !== canonicalJson(ctx.oldRoster)) {
    throw new ConclaveError(
      'DISAGREEMENT',
      `the old roster of ${ctx.walletId} v${ctx.fromVersion} is not the one stored with ${rt.partyId}'s share`,
    );
  }
  // the approved statement names every entry, and the round input equals it
  if (governed) return;
  // a party joining (or rebuilt) knows nobody yet: it meets the committee as at key generation
  if (!own) return checkPinnedPeers(rt, [...ctx.oldRoster, ...ctx.roster]);
  for (const peer of ctx.roster) {
    if (peer.partyId === rt.partyId || own.roster.some((p) => sameParty(p, peer))) continue;
    const pin = await rt.store.peers.findOne({ _id: peer.partyId });
    if (pin?.by === 'operator' && sameParty({ ...pin, partyId: peer.partyId }, peer)) continue;
    throw new CulpritError(
      'TAMPERED',
      peer.partyId,
      `${peer.partyId} joins wallet ${ctx.walletId} with keys that are neither in its roster nor pinned by ` +
        `${rt.partyId}'s operator (conclave party pin), and no approved key-change statement names them`,
    );
  }
}

const sameParty = (a: Omit<PeerEntry, 'identifier'>, b: Omit<PeerEntry, 'identifier'>) =>
  a.partyId === b.partyId && a.identityPublic === b.identityPublic && a.transportPublic === b.transportPublic;
