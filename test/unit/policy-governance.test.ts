/**
 * Governance policies and key-change statements (src/policy/governance.ts): parsing, signatures,
 * and the check every party runs before it takes part in a share change.
 */
import { describe, expect, it } from 'vitest';
import {
  checkKeyChangeAuthorization,
  generateActorKey,
  governanceDigest,
  keyChangeDigest,
  parseGovernancePolicy,
  requestDigest,
  signApproval,
  signGovernance,
  type ActorSecret,
  type KeyChangeAuthorization,
  type KeyChangeStatement,
  type KeyChangeTarget,
  type SignedGovernance,
} from '../../src/policy/index.js';
import { expectCode } from './expect-errors.js';

const k: Record<string, ActorSecret> = {};
for (const id of ['lead', 'alice', 'bob', 'carol', 'mallory']) k[id] = generateActorKey(id);
const pub = (id: string) => ({ id, publicKey: k[id]!.publicKey });

const policy = parseGovernancePolicy({
  approvers: [
    { ...pub('alice'), roles: ['admin'] },
    { ...pub('bob'), roles: ['admin'] },
    { ...pub('carol'), roles: ['ops'] },
  ],
  actions: { rotate: {}, reshare: { admin: 2 }, recover: { admin: 2, ops: 1 } },
});
const governance: SignedGovernance = {
  tenant: 'acme',
  policy,
  ...signGovernance(k.lead!, 'acme', policy, '2026-12-01T00:00:00Z'),
  governanceVersion: 3,
};
const peer = (partyId: string, n: number) => ({
  partyId,
  identifier: n.toString(16).padStart(64, '0'),
  identityPublic: 'a'.repeat(63) + n,
  transportPublic: 'b'.repeat(63) + n,
});
const roster = [peer('p1', 1), peer('p2', 2), peer('p3', 3)];
const now = Date.parse('2026-12-04T12:00:00Z');
const target: KeyChangeTarget = {
  action: 'recover',
  tenant: 'acme',
  walletId: 'w1',
  keyId: 'k1',
  publicKey: 'c'.repeat(64),
  fromVersion: 4,
  toVersion: 5,
  oldThreshold: 2,
  threshold: 2,
  oldRoster: roster,
  roster: roster.map((p) => (p.partyId === 'p3' ? { ...p, identityPublic: 'd'.repeat(64) } : p)),
  lost: 'p3',
  ceremonyId: 'recover:acme:w1:r1/run-1',
};
const { ceremonyId: _c, ...fields } = target;
const statement: KeyChangeStatement = {
  ...fields,
  requestId: 'recover:acme:w1:r1',
  requestedBy: 'backend',
  createdAt: new Date(now - 60_000).toISOString(),
  expiresAt: new Date(now + 3_600_000).toISOString(),
  governanceVersion: 3,
  governanceDigest: governanceDigest(governance),
};
const approve = (who: string, role: string, s = statement, verdict: 'approve' | 'reject' = 'approve') =>
  signApproval(k[who]!, {
    tenant: 'acme',
    requestId: s.requestId,
    requestDigest: keyChangeDigest(s),
    rulesVersion: 3,
    publicationDigest: governanceDigest(governance),
    verdict,
    approver: who,
    role,
    at: new Date(now).toISOString(),
  });
const auth = (over: Partial<KeyChangeAuthorization> = {}): KeyChangeAuthorization => ({
  governance,
  statement,
  approvals: [approve('alice', 'admin'), approve('bob', 'admin'), approve('carol', 'ops')],
  ...over,
});
const trusted = [pub('lead')];
const check = (a: KeyChangeAuthorization | undefined, t: KeyChangeTarget = target, at = now) =>
  checkKeyChangeAuthorization(a, t, trusted, at);

describe('governance policies', () => {
  it('parses actions per role and fills the default expiry', () => {
    expect(policy.actions).toEqual({ rotate: {}, reshare: { admin: 2 }, recover: { admin: 2, ops: 1 } });
    expect(policy.requestExpiresAfter).toBe(86_400);
  });

  it.each([
    [{ actions: {}, extra: 1 }, /unknown field "extra"/],
    [{ actions: { archive: {} } }, /unknown action "archive"/],
    [{ actions: { rotate: { admin: 0 } } }, /actions.rotate.admin must be 1 to 100/],
    [{ actions: { rotate: { admin: 1 } } }, /needs 1 admin but 0 approver\(s\) hold that role/],
    [
      { approvers: [{ ...pub('alice'), roles: ['admin'] }], actions: { reshare: { admin: 2 } } },
      /needs 2 admin but 1/,
    ],
    [{ actions: [] }, /actions must map actions/],
    [{ actions: {}, requestExpiresAfter: 0 }, /requestExpiresAfter must be/],
    ['x', /must be a JSON object/],
  ])('refuses %j', (value, why) => {
    expectCode(() => parseGovernancePolicy(value), 'BAD_INPUT', why);
  });
});

describe('key-change authorization, as a party checks it', () => {
  it('accepts a statement that matches the round input, approved by the quorum', () => {
    expect(check(auth())).toBe(keyChangeDigest(statement));
  });

  it('refuses a missing statement', () => {
    expectCode(() => check(undefined), 'UNAUTHORIZED', /requires a key-change statement .* for recover/);
  });

  it('refuses a policy from an untrusted publisher, or with a bad signature', () => {
    const byMallory = {
      ...governance,
      ...signGovernance(k.mallory!, 'acme', policy, governance.publishedAt),
    };
    expectCode(
      () => check(auth({ governance: byMallory })),
      'UNAUTHORIZED',
      /not by a publisher this party trusts/,
    );
    const loosened = { ...governance, policy: { ...policy, actions: { ...policy.actions, recover: {} } } };
    expectCode(
      () => check(auth({ governance: loosened })),
      'UNAUTHORIZED',
      /signature by lead does not verify/,
    );
  });

  it.each<[string, Partial<KeyChangeTarget>]>([
    ['action', { action: 'reshare' }],
    ['walletId', { walletId: 'w2' }],
    ['fromVersion', { fromVersion: 3 }],
    ['toVersion', { toVersion: 6 }],
    ['threshold', { threshold: 3 }],
    ['oldRoster', { oldRoster: roster.slice(0, 2) }],
    ['roster', { roster }],
    ['lost', { lost: 'p2' }],
  ])('refuses a round input whose %s differs from the statement', (field, over) => {
    expectCode(() => check(auth(), { ...target, ...over }), 'UNAUTHORIZED', new RegExp(`${field} differs`));
  });

  it('refuses a round input of another tenant than the policy', () => {
    expectCode(
      () => check(auth(), { ...target, tenant: 'other' }),
      'UNAUTHORIZED',
      /is tenant acme's, not other's/,
    );
  });

  it('refuses a ceremony of another request, an expired or future statement', () => {
    expectCode(
      () => check(auth(), { ...target, ceremonyId: 'recover:acme:w1:r2/run-1' }),
      'UNAUTHORIZED',
      /for request recover:acme:w1:r1, not for ceremony/,
    );
    expectCode(() => check(auth(), target, now + 2 * 3_600_000), 'UNAUTHORIZED', /expired at/);
    expectCode(() => check(auth(), target, now - 3_600_000), 'UNAUTHORIZED', /dated in the future/);
  });

  it('refuses too few approvals, a role not held, a second verdict, and counts one rejection as the end', () => {
    expectCode(
      () => check(auth({ approvals: [approve('alice', 'admin'), approve('carol', 'ops')] })),
      'APPROVAL_REQUIRED',
      /requires approvals for recover \(2 admin, 1 ops\), 2 valid given/,
    );
    expectCode(
      () => check(auth({ approvals: [approve('alice', 'admin'), approve('carol', 'admin')] })),
      'APPROVAL_REQUIRED',
      /carol may not approve as admin/,
    );
    expectCode(
      () => check(auth({ approvals: [approve('alice', 'admin'), approve('alice', 'admin')] })),
      'APPROVAL_REQUIRED',
      /alice has already given a verdict/,
    );
    expectCode(
      () =>
        check(auth({ approvals: [approve('alice', 'admin'), approve('bob', 'admin', statement, 'reject')] })),
      'APPROVAL_REJECTED',
      /bob rejected the recover/,
    );
  });

  it('does not count approvals of another statement, nor of a payment with the same fields', () => {
    const other = { ...statement, toVersion: 9 };
    expectCode(
      () =>
        check(
          auth({
            approvals: [approve('alice', 'admin', other), approve('bob', 'admin'), approve('carol', 'ops')],
          }),
        ),
      'APPROVAL_REQUIRED',
      /the approval is for another transaction/,
    );
    // an approval whose digest is a sign request's digest never matches a key change's
    const payment = signApproval(k.alice!, {
      tenant: 'acme',
      requestId: statement.requestId,
      requestDigest: requestDigest({
        tenant: 'acme',
        walletId: 'w1',
        message: '00',
        path: 'm',
        tx: { chain: 'x', asset: 'y', amount: '1', destination: 'z' },
        requestId: statement.requestId,
        initiator: 'backend',
        createdAt: statement.createdAt,
      }),
      rulesVersion: 3,
      publicationDigest: governanceDigest(governance),
      verdict: 'approve',
      approver: 'alice',
      role: 'admin',
      at: statement.createdAt,
    });
    expectCode(
      () => check(auth({ approvals: [payment, approve('bob', 'admin'), approve('carol', 'ops')] })),
      'APPROVAL_REQUIRED',
      /another transaction/,
    );
  });

  it('refuses an action the policy does not list', () => {
    const noRecover = parseGovernancePolicy({ approvers: policy.approvers, actions: { rotate: {} } });
    const g = {
      ...governance,
      policy: noRecover,
      ...signGovernance(k.lead!, 'acme', noRecover, governance.publishedAt),
    };
    const s = { ...statement, governanceDigest: governanceDigest(g) };
    expectCode(
      () => check(auth({ governance: g, statement: s, approvals: [] })),
      'UNAUTHORIZED',
      /does not allow recover/,
    );
  });

  it('accepts a rotation the policy lets run with no approval', () => {
    const rot: KeyChangeTarget = {
      ...target,
      action: 'rotate',
      roster: roster,
      lost: undefined,
      ceremonyId: 'reshare:acme:w1:s/run-1',
    };
    const { ceremonyId: _r, lost: _l, ...f } = rot;
    const s: KeyChangeStatement = { ...statement, ...f, requestId: 'reshare:acme:w1:s' };
    delete s.lost;
    expect(check({ governance, statement: s, approvals: [] }, rot)).toBe(keyChangeDigest(s));
  });
});
