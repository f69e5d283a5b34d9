import { describe, expect, it } from 'vitest';
import {
  generateActorKey,
  publicationDigest,
  requestDigest,
  signApproval,
  signPublication,
  signRequest,
  type ActorSecret,
  type ApprovalStatement,
  type SignedApproval,
  type SignedPublication,
  type SignedRequest,
  type SignStatement,
} from '../../src/policy/authorization.js';
import {
  checkSignAuthorization,
  clockSkewMs,
  type GateTarget,
  type SignAuthorization,
} from '../../src/policy/gate.js';
import { parseTenantPolicyConfig } from '../../src/policy/tenant-config.js';
import type {
  ActorKey,
  RuleSet,
  RuleSpec,
  TenantPolicyConfig,
  TransactionDescription,
  VelocityEntry,
} from '../../src/policy/types.js';

const publisher = generateActorKey('sec-team');
const rogue = generateActorKey('rogue-publisher');
const backend = generateActorKey('backend');
const mallory = generateActorKey('mallory'); // keys the (compromised) coordinator holds
const alice = generateActorKey('alice');
const bob = generateActorKey('bob');
const carol = generateActorKey('carol');

/** The publishers this party's operator pinned. */
const trusted: ActorKey[] = [{ id: publisher.id, publicKey: publisher.publicKey }];

const now = Date.parse('2024-04-02T10:00:00Z');
const iso = (ms: number): string => new Date(ms).toISOString();
const expirySeconds = 7200;
const denied = '0xDeaD000000000000000000000000000000000001';

const config: TenantPolicyConfig = parseTenantPolicyConfig({
  prices: { ETH: '2000' },
  denyList: [denied],
  initiators: [{ id: 'backend', publicKey: backend.publicKey }],
  approvers: [
    { id: 'alice', publicKey: alice.publicKey, roles: ['risk'] },
    { id: 'bob', publicKey: bob.publicKey, roles: ['risk', 'treasury'] },
    { id: 'carol', publicKey: carol.publicKey, roles: ['treasury'] },
  ],
  escalationExpiresAfter: expirySeconds,
});

const denyRule: RuleSpec = {
  name: 'deny-list',
  conditions: { all: [{ fact: 'destination', operator: 'inDenyList', value: true }] },
  event: { type: 'block', params: { reason: '{{destination}} is deny-listed' } },
};
const bigPaymentRule = (limit: string): RuleSpec => ({
  name: 'big-payment',
  conditions: { all: [{ fact: 'fiatValue', operator: 'fiatGreaterThan', value: limit }] },
  event: {
    type: 'escalate',
    params: { reason: 'worth {{fiatValue}} USD', approvals: { risk: 1, treasury: 1 } },
  },
});
const rules = (limit = '10000'): Omit<RuleSet, 'version'> => ({
  defaultOutcome: 'allow',
  rules: [denyRule, bigPaymentRule(limit)],
});

const rulesVersion = 3;
function publish(
  over: { tenant?: string; ruleSet?: Omit<RuleSet, 'version'>; config?: TenantPolicyConfig } = {},
  key: ActorSecret = publisher,
  publishedAt = '2024-04-01T08:00:00Z',
): SignedPublication {
  const tenant = over.tenant ?? 'acme';
  const ruleSet = over.ruleSet ?? rules();
  const cfg = over.config ?? config;
  return {
    tenant,
    ruleSet,
    config: cfg,
    rulesVersion,
    ...signPublication(key, tenant, ruleSet, cfg, publishedAt),
  };
}
const publication = publish();

function statement(
  tx: Partial<TransactionDescription> = {},
  over: Partial<SignStatement> = {},
): SignStatement {
  return {
    tenant: 'acme',
    walletId: 'w1',
    message: 'ab'.repeat(32),
    path: 'm/0/1',
    tx: { chain: 'eth', asset: 'ETH', amount: '1', destination: '0xbeef', ...tx },
    requestId: 'req-1',
    initiator: 'backend',
    createdAt: iso(now - 60_000),
    ...over,
  };
}
const small = statement({ amount: '1' }); // 2,000 USD
const big = statement({ amount: '10' }); // 20,000 USD

const targetOf = (s: SignStatement): GateTarget => ({
  tenant: s.tenant,
  walletId: s.walletId,
  message: s.message,
  path: s.path,
  requestId: s.requestId,
  ...(s.merkleRoot !== undefined ? { merkleRoot: s.merkleRoot } : {}),
});

function approval(
  key: ActorSecret,
  role: string,
  s: SignStatement = big,
  pub: SignedPublication = publication,
  over: Partial<ApprovalStatement> = {},
): SignedApproval {
  return signApproval(key, {
    tenant: s.tenant,
    requestId: s.requestId,
    requestDigest: requestDigest(s),
    rulesVersion: pub.rulesVersion,
    publicationDigest: publicationDigest(pub),
    verdict: 'approve',
    approver: key.id,
    role,
    at: iso(now - 30_000),
    ...over,
  });
}

function auth(
  s: SignStatement,
  opts: {
    approvals?: SignedApproval[];
    publication?: SignedPublication;
    request?: SignedRequest;
    velocity?: VelocityEntry[];
  } = {},
): SignAuthorization {
  return {
    request: opts.request ?? signRequest(backend, s),
    publication: opts.publication ?? publication,
    approvals: opts.approvals ?? [],
    ...(opts.velocity ? { velocity: opts.velocity } : {}),
  };
}

/** The gate, run for the request's own target by default. */
const gate = (
  a: SignAuthorization | undefined,
  target: GateTarget = targetOf(a?.request.statement ?? small),
  at = now,
) => checkSignAuthorization(a, target, trusted, at);

const refused = (code: string, why: RegExp) => ({ code, message: expect.stringMatching(why) });

describe('checkSignAuthorization: decisions', () => {
  it('allows a small payment with a valid request, no approvals needed', async () => {
    const d = await gate(auth(small));
    expect(d).toMatchObject({ outcome: 'allow', approvals: {}, rulesVersion: 3, defaulted: true, fired: [] });
  });

  it.each([
    ['exactly at the limit', '5', 'allow'],
    ['just over the limit', '5.0000001', 'escalate'],
  ])('evaluates the fiat limit itself: %s', async (_n, amount, outcome) => {
    const s = statement({ amount });
    const p = gate(auth(s));
    if (outcome === 'allow') await expect(p).resolves.toMatchObject({ outcome: 'allow' });
    else
      await expect(p).rejects.toMatchObject(
        refused('APPROVAL_REQUIRED', /big-payment: worth 10000\.0002 USD/),
      );
  });

  it('escalates a big payment: without approvals it is refused', async () => {
    await expect(gate(auth(big))).rejects.toMatchObject(
      refused(
        'APPROVAL_REQUIRED',
        /rules v3 require approvals \(1 risk, 1 treasury\), 0 valid given: big-payment/,
      ),
    );
  });

  it.each<[string, () => SignedApproval[]]>([
    ['alice (risk) and carol (treasury)', () => [approval(alice, 'risk'), approval(carol, 'treasury')]],
    [
      'carol (treasury) and alice (risk), in any order',
      () => [approval(carol, 'treasury'), approval(alice, 'risk')],
    ],
    ['alice (risk) and bob (treasury)', () => [approval(alice, 'risk'), approval(bob, 'treasury')]],
    ['bob (risk) and carol (treasury)', () => [approval(bob, 'risk'), approval(carol, 'treasury')]],
  ])('lets a big payment through with approvals from %s', async (_n, approvals) => {
    const d = await gate(auth(big, { approvals: approvals() }));
    expect(d.outcome).toBe('escalate');
    expect(d.approvals).toEqual({ risk: 1, treasury: 1 });
    expect(d.fired.map((f) => f.rule)).toEqual(['big-payment']);
  });

  it.each<[string, () => SignedApproval[], string, RegExp]>([
    ['alice alone', () => [approval(alice, 'risk')], 'APPROVAL_REQUIRED', /1 valid given/],
    [
      'alice twice',
      () => [approval(alice, 'risk'), approval(alice, 'risk', big, publication, { at: iso(now - 1000) })],
      'APPROVAL_REQUIRED',
      /approval refused: alice has already given a verdict/,
    ],
    [
      'bob as risk and again as treasury',
      () => [approval(bob, 'risk'), approval(bob, 'treasury')],
      'APPROVAL_REQUIRED',
      /bob has already given a verdict/,
    ],
    [
      'a rejection by carol',
      () => [approval(carol, 'treasury', big, publication, { verdict: 'reject' })],
      'APPROVAL_REJECTED',
      /carol rejected the request/,
    ],
    [
      'alice approving and carol rejecting',
      () => [approval(alice, 'risk'), approval(carol, 'treasury', big, publication, { verdict: 'reject' })],
      'APPROVAL_REJECTED',
      /carol rejected/,
    ],
    [
      'approvals signed for another rules version',
      () => [
        approval(alice, 'risk', big, publication, { rulesVersion: 2 }),
        approval(carol, 'treasury', big, publication, { rulesVersion: 2 }),
      ],
      'APPROVAL_REQUIRED',
      /approval is for rules v2, the request was judged under v3/,
    ],
    [
      'approvals signed over another publication',
      () => {
        const other = publish({}, publisher, '2024-03-01T00:00:00Z');
        return [approval(alice, 'risk', big, other), approval(carol, 'treasury', big, other)];
      },
      'APPROVAL_REQUIRED',
      /judged under v3/,
    ],
    [
      'approvals of another request',
      () => {
        const other = statement({ amount: '10' }, { requestId: 'req-0' });
        return [approval(alice, 'risk', other), approval(carol, 'treasury', other)];
      },
      'APPROVAL_REQUIRED',
      /for another request/,
    ],
    [
      'approvals of a smaller amount under the same request id',
      () => {
        const other = statement({ amount: '6' });
        return [approval(alice, 'risk', other), approval(carol, 'treasury', other)];
      },
      'APPROVAL_REQUIRED',
      /for another transaction/,
    ],
    [
      'alice approving as treasury',
      () => [approval(alice, 'risk'), approval(alice, 'treasury')],
      'APPROVAL_REQUIRED',
      /alice may not approve as treasury/,
    ],
    [
      "the coordinator forging carol's approval",
      () => [approval(alice, 'risk'), approval({ ...mallory, id: 'carol' }, 'treasury')],
      'APPROVAL_REQUIRED',
      /carol's approval does not verify/,
    ],
    [
      'an approver the rules do not list',
      () => [approval(alice, 'risk'), approval(mallory, 'treasury')],
      'APPROVAL_REQUIRED',
      /mallory is not a registered approver/,
    ],
  ])('refuses a big payment with %s', async (_n, approvals, code, why) => {
    await expect(gate(auth(big, { approvals: approvals() }))).rejects.toMatchObject(refused(code, why));
  });

  it.each<[string, ActorSecret]>([
    ['by id (an approver entry named like the initiator)', generateActorKey('backend')],
    ["with the initiator's key under another id", { ...backend, id: 'ops' }],
  ])('refuses the initiator approving its own request, %s', async (_n, self) => {
    const pub = publish({
      config: {
        ...config,
        approvers: [...config.approvers, { id: self.id, publicKey: self.publicKey, roles: ['risk'] }],
      },
    });
    const approvals = [approval(self, 'risk', big, pub), approval(carol, 'treasury', big, pub)];
    await expect(gate(auth(big, { publication: pub, approvals }))).rejects.toMatchObject(
      refused('APPROVAL_REQUIRED', new RegExp(`${self.id} initiated this request and cannot approve it`)),
    );
    // the same publication with someone else approving is fine
    const others = [approval(alice, 'risk', big, pub), approval(carol, 'treasury', big, pub)];
    await expect(gate(auth(big, { publication: pub, approvals: others }))).resolves.toMatchObject({
      outcome: 'escalate',
    });
  });

  it.each([
    ['as listed', denied, '1'],
    ['in another casing', denied.toLowerCase(), '1'],
    ['for a big payment', denied, '10'],
  ])('blocks a deny-listed destination (%s), even with approvals', async (_n, destination, amount) => {
    const s = statement({ destination, amount });
    const approvals = [approval(alice, 'risk', s), approval(carol, 'treasury', s)];
    await expect(gate(auth(s, { approvals }))).rejects.toMatchObject(
      refused('POLICY_BLOCKED', /blocked by rules v3: deny-list: 0xdead0+1 is deny-listed/),
    );
  });
});

describe('checkSignAuthorization: the rule set', () => {
  const tamperedLimit = { ...publication, ruleSet: rules('1000000') };
  const m1: ActorSecret = { ...mallory, id: 'm1' };
  const m2 = generateActorKey('m2');
  const extraApprovers = [
    { id: 'm1', publicKey: m1.publicKey, roles: ['risk'] },
    { id: 'm2', publicKey: m2.publicKey, roles: ['treasury'] },
  ];
  const tamperedApprovers = {
    ...publication,
    config: { ...config, approvers: [...config.approvers, ...extraApprovers] },
  };
  const tamperedDenyList = { ...publication, config: { ...config, denyList: [] } };

  it('a publication signed with the raised limit would let the big payment through (the tamper matters)', async () => {
    await expect(
      gate(auth(big, { publication: publish({ ruleSet: rules('1000000') }) })),
    ).resolves.toMatchObject({
      outcome: 'allow',
    });
  });

  it('approvers added to a properly published config would count (the tamper matters)', async () => {
    const pub = publish({ config: tamperedApprovers.config });
    const approvals = [approval(m1, 'risk', big, pub), approval(m2, 'treasury', big, pub)];
    await expect(gate(auth(big, { publication: pub, approvals }))).resolves.toMatchObject({
      outcome: 'escalate',
    });
  });

  it.each<[string, SignedPublication, SignStatement, RegExp]>([
    [
      'published by an untrusted publisher',
      publish({}, rogue),
      small,
      /published by rogue-publisher, not by a publisher/,
    ],
    [
      "signed by another key under the trusted publisher's name",
      { ...publish({}, rogue), publisher: publisher.id },
      small,
      /not by a publisher this party trusts/,
    ],
    [
      "signed with the trusted publisher's key under another publisher name",
      publish({}, { ...publisher, id: 'someone-else' }),
      small,
      /published by someone-else, not by a publisher this party trusts/,
    ],
    [
      "re-signed with another key and presented with the trusted publisher's key",
      { ...publish({}, rogue), publisher: publisher.id, publisherKey: publisher.publicKey },
      small,
      /signature by sec-team does not verify/,
    ],
    ['whose limit was raised after signing', tamperedLimit, big, /does not verify/],
    ['whose approvers were extended after signing', tamperedApprovers, big, /does not verify/],
    [
      'whose deny list was emptied after signing',
      tamperedDenyList,
      statement({ destination: denied }),
      /does not verify/,
    ],
    [
      'whose initiators were extended after signing',
      {
        ...publication,
        config: {
          ...config,
          initiators: [...config.initiators, { id: 'mallory', publicKey: mallory.publicKey }],
        },
      },
      small,
      /does not verify/,
    ],
    [
      'of another tenant',
      publish({ tenant: 'globex' }),
      small,
      /the rule set is tenant globex's, not acme's/,
    ],
    [
      "of another tenant relabelled as this tenant's",
      { ...publish({ tenant: 'globex' }), tenant: 'acme' },
      small,
      /does not verify/,
    ],
  ])('refuses a rule set %s', async (_n, pub, s, why) => {
    const approvals =
      pub === tamperedApprovers
        ? [approval(m1, 'risk', s, pub), approval(m2, 'treasury', s, pub)]
        : [approval(alice, 'risk', s, pub), approval(carol, 'treasury', s, pub)];
    await expect(gate(auth(s, { publication: pub, approvals }))).rejects.toMatchObject(
      refused('UNAUTHORIZED', why),
    );
  });

  it('the version number is the coordinator’s label: relabelling it voids the approvals', async () => {
    const approvals = [approval(alice, 'risk'), approval(carol, 'treasury')];
    const relabelled = { ...publication, rulesVersion: 4 };
    await expect(gate(auth(small, { publication: relabelled }))).resolves.toMatchObject({ rulesVersion: 4 });
    await expect(gate(auth(big, { publication: relabelled, approvals }))).rejects.toMatchObject(
      refused('APPROVAL_REQUIRED', /rules v3, the request was judged under v4/),
    );
  });

  it('trusts only the publishers it is given', async () => {
    await expect(checkSignAuthorization(auth(small), targetOf(small), [], now)).rejects.toMatchObject(
      refused('UNAUTHORIZED', /not by a publisher this party trusts/),
    );
    const rogueTrusted = [...trusted, { id: rogue.id, publicKey: rogue.publicKey }];
    await expect(
      checkSignAuthorization(
        auth(small, { publication: publish({}, rogue) }),
        targetOf(small),
        rogueTrusted,
        now,
      ),
    ).resolves.toMatchObject({ outcome: 'allow' });
  });
});

describe('checkSignAuthorization: a rule set older than one the party signed under', () => {
  // the party last signed under a version published an hour ago; this one is from yesterday
  const newestSeen = now - 3_600_000;
  const older = (createdAt: number) => {
    const s = statement({ amount: '1' }, { createdAt: iso(createdAt) });
    return checkSignAuthorization(auth(s), targetOf(s), trusted, now, newestSeen);
  };

  it('judges a request made before the newer version was published (it waited for approvals)', async () => {
    await expect(older(newestSeen - 60_000)).resolves.toMatchObject({ outcome: 'allow', rulesVersion: 3 });
  });

  it('refuses it for a request made after the newer version was published (a replayed, looser version)', async () => {
    await expect(older(now - 60_000)).rejects.toMatchObject(
      refused(
        'UNAUTHORIZED',
        /rules v3 are older than a rule set this party has already signed under, and the request was made after/,
      ),
    );
  });

  it('takes the version it was given when the party has signed under nothing newer', async () => {
    const s = small;
    await expect(
      checkSignAuthorization(auth(s), targetOf(s), trusted, now, Date.parse('2024-04-01T08:00:00Z')),
    ).resolves.toMatchObject({ outcome: 'allow' });
  });

  it('refuses rules published after the request was made: they cannot have judged it', async () => {
    const s = statement({ amount: '1' }, { createdAt: '2024-04-01T07:00:00Z' });
    await expect(
      checkSignAuthorization(auth(s), targetOf(s), trusted, Date.parse('2024-04-01T09:00:00Z')),
    ).rejects.toMatchObject(
      refused('UNAUTHORIZED', /the request is older than rules v3, which cannot have judged it/),
    );
  });
});

describe('checkSignAuthorization: the request', () => {
  const good = signRequest(backend, small);

  it.each<[string, SignAuthorization | undefined, RegExp]>([
    ['no authorization at all', undefined, /tenant acme requires a signed request and rule set/],
    [
      'no publication',
      { request: good, approvals: [] } as unknown as SignAuthorization,
      /requires a signed request and rule set/,
    ],
    ['an unsigned request', auth(small, { request: { statement: small } }), /not signed by an initiator key/],
    [
      'a request signed by someone who is not an initiator',
      auth(small, { request: signRequest(mallory, { ...small, initiator: 'mallory' }) }),
      /mallory is not an initiator of tenant acme/,
    ],
    [
      "a request signed with another key in the initiator's name",
      auth(small, { request: signRequest(mallory, small) }),
      /not backend's registered key/,
    ],
    [
      'a big payment relabelled as a small one after signing',
      auth(small, { request: { ...signRequest(backend, big), statement: small } }),
      /signature by backend does not verify/,
    ],
  ])('refuses %s', async (_n, a, why) => {
    await expect(gate(a, targetOf(small))).rejects.toMatchObject(refused('UNAUTHORIZED', why));
  });

  it.each<[string, Partial<GateTarget>]>([
    ['message', { message: 'cd'.repeat(32) }],
    ['path', { path: 'm/0/2' }],
    ['requestId', { requestId: 'req-2' }],
    ['walletId', { walletId: 'w2' }],
    ['merkleRoot', { merkleRoot: '11'.repeat(32) }],
  ])('refuses a request for another %s than the party is asked to sign', async (_n, over) => {
    await expect(gate(auth(small), { ...targetOf(small), ...over })).rejects.toMatchObject(
      refused('UNAUTHORIZED', /not for this wallet, message, path or ceremony/),
    );
  });

  it('refuses a request for another tenant', async () => {
    await expect(gate(auth(small), { ...targetOf(small), tenant: 'globex' })).rejects.toMatchObject({
      code: 'UNAUTHORIZED',
    });
  });

  it('accepts a request with the same merkle root as the target', async () => {
    const s = statement({}, { merkleRoot: '11'.repeat(32) });
    await expect(gate(auth(s))).resolves.toMatchObject({ outcome: 'allow' });
    await expect(gate(auth(s), { ...targetOf(s), merkleRoot: undefined })).rejects.toMatchObject({
      code: 'UNAUTHORIZED',
    });
  });

  const oldest = expirySeconds * 1000 + clockSkewMs;
  it.each<[string, number, RegExp | undefined]>([
    ['now', now, undefined],
    ['within the clock skew ahead', now + clockSkewMs, undefined],
    ['beyond the clock skew ahead', now + clockSkewMs + 1, /dated in the future/],
    ['an hour ahead', now + 3_600_000, /dated in the future/],
    ['as old as the escalation expiry plus the skew', now - oldest, undefined],
    [
      'older than the escalation expiry plus the skew',
      now - oldest - 1,
      /older than the tenant's escalation expiry/,
    ],
    ['a day old (past this tenant’s 2 h expiry, within the default 24 h)', now - 86_400_000, /older than/],
  ])('request time: %s', async (_n, created, why) => {
    const s = statement({}, { createdAt: iso(created) });
    const p = gate(auth(s));
    if (why) await expect(p).rejects.toMatchObject(refused('UNAUTHORIZED', why));
    else await expect(p).resolves.toMatchObject({ outcome: 'allow' });
  });
});

describe('checkSignAuthorization: what the coordinator claims', () => {
  const recent = (walletId: string, ago: number): VelocityEntry => ({
    walletId,
    at: iso(now - 60_000 - ago),
    asset: 'ETH',
    amount: '100',
    fiatValue: '200000',
  });
  const busy = [recent('w1', 60_000), recent('w1', 120_000), recent('w2', 0)];

  it('a velocity snapshot does not change what the other rules decide', async () => {
    await expect(gate(auth(small, { velocity: busy }))).resolves.toMatchObject({ outcome: 'allow' });
    await expect(gate(auth(big, { velocity: [] }))).rejects.toMatchObject({ code: 'APPROVAL_REQUIRED' });
    await expect(
      gate(auth(big, { velocity: busy, approvals: [approval(alice, 'risk'), approval(carol, 'treasury')] })),
    ).resolves.toMatchObject({ outcome: 'escalate' });
    const d = statement({ destination: denied });
    await expect(gate(auth(d, { velocity: [] }))).rejects.toMatchObject({ code: 'POLICY_BLOCKED' });
  });

  const velocityRules: Omit<RuleSet, 'version'> = {
    defaultOutcome: 'allow',
    rules: [
      {
        name: 'burst',
        conditions: { all: [{ fact: 'walletCount1h', operator: 'greaterThan', value: 1 }] },
        event: { type: 'block', params: { reason: '{{walletCount1h}} payments in an hour' } },
      },
    ],
  };
  const velocityPublication = publish({ ruleSet: velocityRules });

  it.each<[string, VelocityEntry[] | undefined, string | RegExp]>([
    ['an empty ledger', [], 'allow'],
    ['an earlier payment from another wallet', [recent('w2', 0)], 'allow'],
    ['an earlier payment from this wallet over an hour ago', [recent('w1', 3_600_000)], 'allow'],
    ['an earlier payment from this wallet this hour', [recent('w1', 60_000)], /burst: 2 payments in an hour/],
    ['no ledger at all (fails closed)', undefined, /burst: could not be evaluated, failing closed/],
  ])('a velocity rule reads the snapshot: %s', async (_n, velocity, expected) => {
    const p = gate(auth(small, { publication: velocityPublication, ...(velocity ? { velocity } : {}) }));
    if (expected === 'allow') await expect(p).resolves.toMatchObject({ outcome: 'allow' });
    else await expect(p).rejects.toMatchObject(refused('POLICY_BLOCKED', expected as RegExp));
  });
});
