/**
 * Governance of key management: who may authorise a change of a wallet's shares, and the signed
 * statements each party checks before it takes part in one. Pure: statements and keys in,
 * decisions out.
 *
 * - A governance publisher signs a tenant's governance policy: its approvers (with roles), and
 *   per action the approvals it needs per role. Parties trust the publishers their own operator
 *   pinned (`conclave party trust --governance-publisher`), nothing else.
 * - A key-change statement says exactly what one ceremony does: action, wallet, key, versions,
 *   old and new roster (party ids with identity and transport keys), thresholds, the lost party of
 *   a recovery, who asked, when it expires, and under which governance version it is judged.
 * - Approvers sign approvals of the statement's digest, in the same form as approvals of sign
 *   requests (`ApprovalStatement`: the statement digest in `requestDigest`, the governance version
 *   and digest in `rulesVersion` and `publicationDigest`). The digests are tagged, so an approval
 *   of a key change never counts for a payment, nor the other way round.
 */
import { ConclaveError } from '../errors.js';
import type { PeerEntry } from '../ceremony/contracts.js';
import {
  approvalsMet,
  canonicalJson,
  checkApproval,
  describeApprovals,
  digestOf,
  signDigest,
  verifyDigest,
  type ActorSecret,
  type PublicationSignature,
  type SignedApproval,
} from './authorization.js';
import { assertActorId, parseActorKeys } from './tenant-config.js';
import { parseInstant } from './transaction.js';
import type { ActorKey, Approvals } from './types.js';

/** The key-management actions a governance policy rules, and the share changes they authorise. */
export const governedActions = ['rotate', 'reshare', 'recover', 'backup-export', 'pairing'] as const;
export type GovernedAction = (typeof governedActions)[number];

export interface GovernancePolicy {
  /** Who may approve key-management requests, and the roles each holds. */
  approvers: ActorKey[];
  /**
   * Per action, the approvals it needs per role (`{}`: none, e.g. for scheduled rotations). An
   * action not listed is refused.
   */
  actions: Partial<Record<GovernedAction, Approvals>>;
  /** Seconds a request waits for its approvals before it expires (default a day). */
  requestExpiresAfter: number;
  /**
   * Seconds a newly published governance policy or rule set waits before it takes effect (default
   * 0): on the coordinator from its publication, on each party from when it first saw it. The lock
   * of the policy in effect applies, so a policy that shortens the lock waits out the old one.
   */
  timeLock: number;
}

const defaultExpiry = 86_400;

/** Parses and checks a governance policy (JSON value); every error names the field. */
export function parseGovernancePolicy(value: unknown): GovernancePolicy {
  const where = 'governance policy';
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw new ConclaveError('BAD_INPUT', `${where} must be a JSON object`);
  const v = value as Record<string, unknown>;
  for (const k of Object.keys(v)) {
    if (!['approvers', 'actions', 'requestExpiresAfter', 'timeLock'].includes(k))
      throw new ConclaveError('BAD_INPUT', `${where}: unknown field "${k}"`);
  }
  const approvers = parseActorKeys(v.approvers ?? [], 'approvers', true, where);
  const rawActions = v.actions;
  if (typeof rawActions !== 'object' || rawActions === null || Array.isArray(rawActions))
    throw new ConclaveError('BAD_INPUT', `${where}: actions must map actions to approvals per role`);
  const roles = new Set(approvers.flatMap((a) => a.roles ?? []));
  const actions: GovernancePolicy['actions'] = {};
  for (const [action, need] of Object.entries(rawActions as Record<string, unknown>)) {
    if (!(governedActions as readonly string[]).includes(action))
      throw new ConclaveError(
        'BAD_INPUT',
        `${where}: unknown action "${action}" (known: ${governedActions.join(', ')})`,
      );
    if (typeof need !== 'object' || need === null || Array.isArray(need))
      throw new ConclaveError('BAD_INPUT', `${where}: actions.${action} must map roles to counts`);
    const approvals = new Map<string, number>();
    for (const [role, n] of Object.entries(need as Record<string, unknown>)) {
      assertActorId(`${where}: a role of actions.${action}`, role);
      if (!Number.isInteger(n) || (n as number) < 1 || (n as number) > 100)
        throw new ConclaveError('BAD_INPUT', `${where}: actions.${action}.${role} must be 1 to 100`);
      const holders = approvers.filter((a) => a.roles?.includes(role)).length;
      if (!roles.has(role) || holders < (n as number))
        throw new ConclaveError(
          'BAD_INPUT',
          `${where}: actions.${action} needs ${String(n)} ${role} but ${holders} approver(s) hold that role`,
        );
      approvals.set(role, n as number);
    }
    actions[action as GovernedAction] = Object.fromEntries(approvals);
  }
  const expiry = v.requestExpiresAfter ?? defaultExpiry;
  if (!Number.isInteger(expiry) || (expiry as number) < 1 || (expiry as number) > 30 * 86_400)
    throw new ConclaveError(
      'BAD_INPUT',
      `${where}: requestExpiresAfter must be a whole number of seconds, 1 to 2592000 (30 days)`,
    );
  const lock = v.timeLock ?? 0;
  if (!Number.isInteger(lock) || (lock as number) < 0 || (lock as number) > 30 * 86_400)
    throw new ConclaveError(
      'BAD_INPUT',
      `${where}: timeLock must be a whole number of seconds, 0 to 2592000 (30 days)`,
    );
  return { approvers, actions, requestExpiresAfter: expiry as number, timeLock: lock as number };
}

// ---------------------------------------------------------------------------------------------
// Publications

/** What a governance publisher signs (not the version number, which the coordinator assigns). */
export interface GovernanceStatement {
  tenant: string;
  policy: GovernancePolicy;
  publisher: string;
  publisherKey: string;
  /** ISO 8601; parties refuse a policy older than one they have already acted under. */
  publishedAt: string;
}

/** A published governance version as it travels to the parties with a key-change request. */
export interface SignedGovernance extends GovernanceStatement {
  governanceVersion: number;
  signature: string;
}

export const governanceDigest = (g: GovernanceStatement): string =>
  digestOf('conclave/governance-publication/1', {
    tenant: g.tenant,
    policy: g.policy,
    publisher: g.publisher,
    publisherKey: g.publisherKey,
    publishedAt: g.publishedAt,
  });

export function signGovernance(
  key: ActorSecret,
  tenant: string,
  policy: GovernancePolicy,
  publishedAt: string,
): PublicationSignature {
  const statement = { tenant, policy, publisher: key.id, publisherKey: key.publicKey, publishedAt };
  return {
    publisher: key.id,
    publisherKey: key.publicKey,
    publishedAt,
    signature: signDigest(key.secretKey, governanceDigest(statement)),
  };
}

/** A published version, as history lists it, in the form parties check. */
export const signedGovernanceOf = (v: {
  tenant: string;
  version: number;
  policy: GovernancePolicy;
  publishedBy: string;
  publisherKey: string;
  publishedAt: string;
  signature: string;
}): SignedGovernance => ({
  tenant: v.tenant,
  policy: v.policy,
  publisher: v.publishedBy,
  publisherKey: v.publisherKey,
  publishedAt: v.publishedAt,
  signature: v.signature,
  governanceVersion: v.version,
});

export const verifyGovernance = (g: GovernanceStatement & { signature: string }): boolean =>
  verifyDigest(g.publisherKey, governanceDigest(g), g.signature);

// ---------------------------------------------------------------------------------------------
// Key-change statements

/** Exactly what one share change does; approvers sign its digest, parties compare it with their round input. */
export interface KeyChangeStatement {
  action: GovernedAction;
  tenant: string;
  walletId: string;
  keyId: string;
  /** The group key (hex), the same before and after. */
  publicKey: string;
  fromVersion: number;
  toVersion: number;
  oldThreshold: number;
  threshold: number;
  oldRoster: PeerEntry[];
  roster: PeerEntry[];
  /** Recovery: the party whose share is rebuilt (its keys in `roster` are the ones it gets it under). */
  lost?: string;
  /** Backup export: per party, the recovery key (X25519, hex) its share is encrypted to. */
  recoveryKeys?: Record<string, string>;
  /** The ceremony's workflow id: its runs are the only ceremonies this statement authorises. */
  requestId: string;
  requestedBy: string;
  /** ISO 8601, the coordinator's clock. */
  createdAt: string;
  expiresAt: string;
  governanceVersion: number;
  governanceDigest: string;
}

export const keyChangeDigest = (s: KeyChangeStatement): string => digestOf('conclave/key-change/1', s);

/** What travels with a governed share change to every party. */
export interface KeyChangeAuthorization {
  governance: SignedGovernance;
  statement: KeyChangeStatement;
  approvals: SignedApproval[];
}

/** The approvals a statement needs under its governance policy; refused when the policy does not allow the action. */
export function requiredApprovals(
  policy: GovernancePolicy,
  action: GovernedAction,
  version: number,
): Approvals {
  const need = Object.hasOwn(policy.actions, action) ? policy.actions[action] : undefined;
  if (!need)
    throw new ConclaveError('UNAUTHORIZED', `governance policy v${version} does not allow ${action}`);
  return need;
}

/** The approval context of a statement: what an approval must be about, and who may give it. */
export function keyChangeApprovalContext(auth: Omit<KeyChangeAuthorization, 'approvals'>) {
  const s = auth.statement;
  return {
    tenant: s.tenant,
    requestId: s.requestId,
    requestDigest: keyChangeDigest(s),
    rulesVersion: auth.governance.governanceVersion,
    publicationDigest: governanceDigest(auth.governance),
    initiator: s.requestedBy,
    approvers: auth.governance.policy.approvers,
    required: requiredApprovals(auth.governance.policy, s.action, auth.governance.governanceVersion),
  };
}

/** What a party is asked to do, from its own round input, for comparison with the statement. */
export type KeyChangeTarget = Omit<
  KeyChangeStatement,
  | 'requestId'
  | 'requestedBy'
  | 'createdAt'
  | 'expiresAt'
  | 'governanceVersion'
  | 'governanceDigest'
  | 'recoveryKeys'
> & {
  ceremonyId: string;
  /** Backup export: the party asked, and the recovery key it is configured with (hex). */
  recoveryKey?: { party: string; key: string };
};

/**
 * An action on one version of a wallet that changes no share (a backup export, a pairing), as
 * the party's own share of it describes it.
 */
export function versionTargetOf(
  action: 'backup-export' | 'pairing',
  share: {
    tenant: string;
    walletId: string;
    keyId: string;
    publicKey: string;
    version: number;
    threshold: number;
    roster: PeerEntry[];
  },
  ceremonyId: string,
): KeyChangeTarget {
  return {
    action,
    tenant: share.tenant,
    walletId: share.walletId,
    keyId: share.keyId,
    publicKey: share.publicKey,
    fromVersion: share.version,
    toVersion: share.version,
    oldThreshold: share.threshold,
    threshold: share.threshold,
    oldRoster: share.roster,
    roster: share.roster,
    ceremonyId,
  };
}

/** Clocks may differ this much between the coordinator and the parties. */
const clockSkewMs = 5 * 60_000;

const refuse = (why: string): never => {
  throw new ConclaveError('UNAUTHORIZED', why);
};

/**
 * Checks a key-change authorization for `target` against the governance publishers the party
 * trusts: the policy's signature, the statement against the target field by field, the expiry,
 * and the approvals against the policy's quorum. Returns the statement's digest (parties record
 * it, so one statement runs one ceremony). Throws UNAUTHORIZED, APPROVAL_REQUIRED or
 * APPROVAL_REJECTED naming what failed.
 */
export function checkKeyChangeAuthorization(
  auth: KeyChangeAuthorization | undefined,
  target: KeyChangeTarget,
  publishers: readonly ActorKey[],
  now: number,
): string {
  if (!auth?.governance || !auth.statement)
    return refuse(
      `tenant ${target.tenant} requires a key-change statement approved under its governance policy for ${target.action}`,
    );
  const g = auth.governance;
  if (g.tenant !== target.tenant)
    refuse(`the governance policy is tenant ${g.tenant}'s, not ${target.tenant}'s`);
  if (!publishers.some((p) => p.id === g.publisher && p.publicKey === g.publisherKey))
    refuse(`the governance policy was published by ${g.publisher}, not by a publisher this party trusts`);
  if (!verifyGovernance(g)) refuse(`the governance policy's signature by ${g.publisher} does not verify`);

  const s = auth.statement;
  if (s.governanceVersion !== g.governanceVersion || s.governanceDigest !== governanceDigest(g))
    refuse(`the statement was judged under another governance version than the one it carries`);
  const mismatch = statementMismatch(s, target);
  if (mismatch) refuse(`the key-change statement is not for this ceremony: ${mismatch} differs`);
  if (target.recoveryKey && s.recoveryKeys?.[target.recoveryKey.party] !== target.recoveryKey.key)
    refuse(
      `the key-change statement does not name ${target.recoveryKey.party}'s recovery key ${target.recoveryKey.key.slice(0, 16)}…`,
    );
  if (!target.ceremonyId.startsWith(`${s.requestId}/`))
    refuse(`the key-change statement is for request ${s.requestId}, not for ceremony ${target.ceremonyId}`);
  if (parseInstant(s.createdAt) > now + clockSkewMs)
    refuse(`the key-change statement is dated in the future (${s.createdAt})`);
  if (now > parseInstant(s.expiresAt) + clockSkewMs)
    refuse(`the key-change statement expired at ${s.expiresAt}`);

  const context = keyChangeApprovalContext(auth);
  if (!Array.isArray(auth.approvals)) refuse('approvals must be a list of signed approvals');
  const accepted: SignedApproval[] = [];
  for (const a of auth.approvals) {
    const why = checkApproval(a, { ...context, accepted });
    if (why) throw new ConclaveError('APPROVAL_REQUIRED', `approval refused: ${why}`);
    if (a.statement.verdict === 'reject')
      throw new ConclaveError('APPROVAL_REJECTED', `${a.statement.approver} rejected the ${s.action}`);
    accepted.push(a);
  }
  if (!approvalsMet(context.required, accepted))
    throw new ConclaveError(
      'APPROVAL_REQUIRED',
      `governance v${g.governanceVersion} requires approvals for ${s.action} (${describeApprovals(context.required)}), ${accepted.length} valid given`,
    );
  return context.requestDigest;
}

/** What a share change plan carries (a ReshareContext): enough to say what a statement must be. */
export interface ShareChangePlan {
  kind: 'rotation' | 'reshare' | 'recovery';
  tenant: string;
  ceremonyId: string;
  walletId: string;
  keyId: string;
  oldPublic: { commitments: string[] };
  fromVersion: number;
  toVersion: number;
  oldThreshold: number;
  threshold: number;
  oldRoster: PeerEntry[];
  roster: PeerEntry[];
  lost?: string;
}

export const actionOf = (kind: ShareChangePlan['kind']): GovernedAction =>
  kind === 'rotation' ? 'rotate' : kind === 'recovery' ? 'recover' : 'reshare';

/** The round input of a share change as a statement must describe it. */
export function keyChangeTargetOf(plan: ShareChangePlan): KeyChangeTarget {
  return {
    action: actionOf(plan.kind),
    tenant: plan.tenant,
    walletId: plan.walletId,
    keyId: plan.keyId,
    publicKey: plan.oldPublic.commitments[0]!,
    fromVersion: plan.fromVersion,
    toVersion: plan.toVersion,
    oldThreshold: plan.oldThreshold,
    threshold: plan.threshold,
    oldRoster: plan.oldRoster,
    roster: plan.roster,
    ...(plan.lost !== undefined ? { lost: plan.lost } : {}),
    ceremonyId: plan.ceremonyId,
  };
}

/** The first field in which the statement and the target differ, or undefined. */
export function statementMismatch(s: KeyChangeStatement, t: KeyChangeTarget): string | undefined {
  const fields = [
    'action',
    'tenant',
    'walletId',
    'keyId',
    'publicKey',
    'fromVersion',
    'toVersion',
    'oldThreshold',
    'threshold',
    'oldRoster',
    'roster',
    'lost',
  ] as const;
  return fields.find((f) => canonicalJson(s[f] ?? null) !== canonicalJson(t[f] ?? null));
}
