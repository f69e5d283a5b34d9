/**
 * Round inputs a compromised coordinator builds from what it holds (the wallet records, every
 * roster, the signed governance, keys of its own): shared by the rogue-coordinator drill and the
 * governance tests, so both attack with the same forgeries.
 */
import type { ReshareContext } from '../ceremony/reshare/contracts.js';
import { generatePartyKeys } from '../crypto/identity.js';
import { toHex } from '../crypto/encoding.js';
import {
  governanceDigest,
  keyChangeDigest,
  keyChangeTargetOf,
  signApproval,
  type ActorSecret,
  type KeyChangeAuthorization,
  type KeyChangeStatement,
  type SignedGovernance,
} from '../policy/index.js';
import type { ShareDoc } from '../store/party-store.js';
import type { PeerEntry } from '../ceremony/contracts.js';

/** Identity and transport keys of a worker the attacker runs. */
export function attackerKeys(): Pick<PeerEntry, 'identityPublic' | 'transportPublic'> {
  const k = generatePartyKeys();
  return { identityPublic: toHex(k.identityPublic), transportPublic: toHex(k.transportPublic) };
}

/** A rotation of `share`'s wallet under `ceremonyId`, as a coordinator would plan it, changed by `over`. */
export const rotationOf = (
  share: ShareDoc,
  ceremonyId: string,
  over: Partial<ReshareContext> = {},
): ReshareContext => ({
  tenant: share.tenant,
  ceremonyId,
  walletId: share.walletId,
  keyId: share.keyId,
  scheme: share.scheme,
  kind: 'rotation',
  fromVersion: share.version,
  toVersion: share.version + 1,
  oldThreshold: share.threshold,
  oldRoster: share.roster,
  oldPublic: share.public,
  transcriptHash: share.transcriptHash,
  dealers: ['p1', 'p2'],
  threshold: share.threshold,
  roster: share.roster,
  ...over,
});

/** `roster` with `party`'s keys replaced by `keys`. */
export const swapKeys = (
  roster: PeerEntry[],
  party: string,
  keys: Pick<PeerEntry, 'identityPublic' | 'transportPublic'>,
) => roster.map((p) => (p.partyId === party ? { ...p, ...keys } : p));

/** `roster` with `party` replaced by an invented `as`, carrying its identifier and `keys`. */
export const inventParty = (
  roster: PeerEntry[],
  party: string,
  as: string,
  keys: Pick<PeerEntry, 'identityPublic' | 'transportPublic'>,
) => roster.map((p) => (p.partyId === party ? { ...p, partyId: as, ...keys } : p));

/**
 * A statement for `ctx` under `governance` (its request: the ceremony's workflow id), approved by
 * `approvers` (as `admin` unless a role is given), changed by `over`.
 */
export function approvedStatement(
  governance: SignedGovernance,
  ctx: ReshareContext,
  approvers: [ActorSecret, string?][],
  over: Partial<KeyChangeStatement> = {},
): KeyChangeAuthorization {
  const { ceremonyId, ...target } = keyChangeTargetOf(ctx);
  const now = Date.now();
  const statement: KeyChangeStatement = {
    ...target,
    requestId: ceremonyId.slice(0, ceremonyId.lastIndexOf('/')),
    requestedBy: 'backend',
    createdAt: new Date(now).toISOString(),
    expiresAt: new Date(now + 3_600_000).toISOString(),
    governanceVersion: governance.governanceVersion,
    governanceDigest: governanceDigest(governance),
    ...over,
  };
  const approvals = approvers.map(([key, role]) =>
    signApproval(key, {
      tenant: governance.tenant,
      requestId: statement.requestId,
      requestDigest: keyChangeDigest(statement),
      rulesVersion: governance.governanceVersion,
      publicationDigest: governanceDigest(governance),
      verdict: 'approve',
      approver: key.id,
      role: role ?? 'admin',
      at: new Date().toISOString(),
    }),
  );
  return { governance, statement, approvals };
}
