import { describe, expect, it } from 'vitest';
import { validateSignRequest } from '../../src/validation.js';
import { ConclaveError } from '../../src/errors.js';
import {
  approvalDigest,
  approvalsMet,
  canonicalJson,
  checkApproval,
  checkRequestSignature,
  describeApprovals,
  generateActorKey,
  dryRunMessage,
  parseActorSecret,
  publicationDigest,
  requestDigest,
  signApproval,
  signPublication,
  signRequest,
  signStatement,
  verifyPublication,
  type ActorSecret,
  type ApprovalContext,
  type ApprovalStatement,
  type PublicationStatement,
  type SignedApproval,
  type SignedRequest,
  type SignStatement,
  type Verdict,
} from '../../src/policy/authorization.js';
import { defaultTenantPolicyConfig } from '../../src/policy/tenant-config.js';
import type { Approvals, RuleSet, TenantPolicyConfig } from '../../src/policy/types.js';

const publisher = generateActorKey('sec-team');
const backend = generateActorKey('backend');
const alice = generateActorKey('alice');
const bob = generateActorKey('bob');
const carol = generateActorKey('carol');
const mallory = generateActorKey('mallory');
// an approver entry named like the initiator (its own key), and one holding the initiator's key
const backendApprover = generateActorKey('backend');
const ops: ActorSecret = { ...backend, id: 'ops' };

const config: TenantPolicyConfig = {
  ...defaultTenantPolicyConfig,
  prices: { ETH: '2000' },
  initiators: [{ id: 'backend', publicKey: backend.publicKey }],
  approvers: [
    { id: 'alice', publicKey: alice.publicKey, roles: ['risk'] },
    { id: 'bob', publicKey: bob.publicKey, roles: ['risk', 'treasury'] },
    { id: 'carol', publicKey: carol.publicKey, roles: ['treasury'] },
    { id: 'backend', publicKey: backendApprover.publicKey, roles: ['risk'] },
    { id: 'ops', publicKey: ops.publicKey, roles: ['risk'] },
  ],
};

const ruleSet: Omit<RuleSet, 'version'> = {
  defaultOutcome: 'allow',
  rules: [
    {
      name: 'deny-list',
      conditions: { all: [{ fact: 'destination', operator: 'inDenyList', value: true }] },
      event: { type: 'block', params: { reason: '{{destination}} is deny-listed' } },
    },
    {
      name: 'big-payment',
      conditions: { all: [{ fact: 'fiatValue', operator: 'fiatGreaterThan', value: '10000' }] },
      event: {
        type: 'escalate',
        params: { reason: 'worth {{fiatValue}}', approvals: { risk: 1, treasury: 1 } },
      },
    },
  ],
};

const publication: PublicationStatement = {
  tenant: 'acme',
  ruleSet,
  config,
  publisher: publisher.id,
  publisherKey: publisher.publicKey,
  publishedAt: '2024-04-01T08:00:00Z',
};

const statement: SignStatement = {
  tenant: 'acme',
  walletId: 'w1',
  message: 'ab'.repeat(32),
  path: 'm/0/1',
  tx: { chain: 'eth', asset: 'ETH', amount: '10', destination: '0xbeef' },
  requestId: 'req-1',
  initiator: 'backend',
  createdAt: '2024-04-02T10:00:00Z',
};

const approvalStatement: ApprovalStatement = {
  tenant: 'acme',
  requestId: 'req-1',
  requestDigest: requestDigest(statement),
  rulesVersion: 3,
  publicationDigest: publicationDigest(publication),
  verdict: 'approve',
  approver: 'alice',
  role: 'risk',
  at: '2024-04-02T10:05:00Z',
};

/** A deep copy of `base` changed by `change`. */
function changed<T>(base: T, change: (draft: T) => void): T {
  const draft = structuredClone(base);
  change(draft);
  return draft;
}

/** The same value with every object's keys inserted in reverse order. */
function reversedKeys(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(reversedKeys);
  if (typeof v !== 'object' || v === null) return v;
  return Object.fromEntries(
    Object.entries(v)
      .reverse()
      .map(([k, x]) => [k, reversedKeys(x)]),
  );
}

const flipLastHex = (hex: string): string => hex.slice(0, -1) + (hex.endsWith('0') ? '1' : '0');

describe('generateActorKey / parseActorSecret', () => {
  it('generates distinct Ed25519 keys that round-trip through a key file', () => {
    const a = generateActorKey('ci-bot@acme');
    const b = generateActorKey('ci-bot@acme');
    expect(a.id).toBe('ci-bot@acme');
    expect(a.publicKey).toMatch(/^[0-9a-f]{64}$/);
    expect(a.secretKey).toMatch(/^[0-9a-f]{64}$/);
    expect(a.secretKey).not.toBe(b.secretKey);
    expect(a.publicKey).not.toBe(b.publicKey);
    expect(parseActorSecret(JSON.stringify(a), 'a.json')).toEqual(a);
    // unknown fields are not carried along
    expect(parseActorSecret(JSON.stringify({ ...a, note: 'x' }), 'a.json')).toEqual(a);
  });

  it.each([
    ['not JSON', '{id: alice}', /a\.json is not an actor key file \(JSON\)/],
    ['a JSON string', '"alice"', /not a valid actor key file/],
    ['a JSON array', '[]', /not a valid actor key file/],
    ['JSON null', 'null', /not a valid actor key file/],
    ['no id', JSON.stringify({ publicKey: alice.publicKey, secretKey: alice.secretKey }), /not a valid/],
    ['a numeric id', JSON.stringify({ ...alice, id: 7 }), /not a valid/],
    ['no secret key', JSON.stringify({ id: 'alice', publicKey: alice.publicKey }), /not a valid/],
    ['no public key', JSON.stringify({ id: 'alice', secretKey: alice.secretKey }), /not a valid/],
    ['a public key of another secret', JSON.stringify({ ...alice, publicKey: bob.publicKey }), /not a valid/],
    [
      'an uppercase secret key',
      JSON.stringify({ ...alice, secretKey: alice.secretKey.toUpperCase() }),
      /not a valid/,
    ],
    [
      'an uppercase public key',
      JSON.stringify({ ...alice, publicKey: alice.publicKey.toUpperCase() }),
      /not a valid/,
    ],
    ['a short secret key', JSON.stringify({ ...alice, secretKey: alice.secretKey.slice(2) }), /not a valid/],
    [
      'a non-hex secret key',
      JSON.stringify({ ...alice, secretKey: 'zz' + alice.secretKey.slice(2) }),
      /not a valid/,
    ],
  ])('refuses a key file with %s', (_n, text, why) => {
    let error: unknown;
    try {
      parseActorSecret(text, 'a.json');
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConclaveError);
    expect(error).toMatchObject({ code: 'BAD_INPUT', message: expect.stringMatching(why) });
  });
});

describe('canonicalJson', () => {
  it.each<[string, unknown, string]>([
    ['null', null, 'null'],
    ['a boolean', true, 'true'],
    ['a number', 1.5, '1.5'],
    ['a string with quotes and a newline', 'a"b\nc', '"a\\"b\\nc"'],
    ['an empty object', {}, '{}'],
    ['an empty array', [], '[]'],
    ['sorted keys', { b: 1, a: 2, C: 3 }, '{"C":3,"a":2,"b":1}'],
    ['nested objects', { z: { y: 1, x: { w: 2, v: 3 } }, a: 0 }, '{"a":0,"z":{"x":{"v":3,"w":2},"y":1}}'],
    ['objects inside arrays', [{ d: 1, c: 2 }, [{ f: 1, e: 2 }]], '[{"c":2,"d":1},[{"e":2,"f":1}]]'],
    ['arrays keep their order', { list: [3, 1, 2] }, '{"list":[3,1,2]}'],
    ['undefined fields left out', { a: undefined, b: 1, c: { d: undefined } }, '{"b":1,"c":{}}'],
    ['undefined array items as null', [undefined, null, 1], '[null,null,1]'],
    ['escaped keys', { 'k"': 1 }, '{"k\\"":1}'],
  ])('encodes %s', (_n, value, text) => {
    expect(canonicalJson(value)).toBe(text);
    expect(JSON.parse(text)).toEqual(JSON.parse(JSON.stringify(value)));
  });

  it('gives one text whatever the key order, at every level', () => {
    const a = { tenant: 'acme', nested: { b: [1, { y: 1, x: 2 }], a: 'x' }, n: null };
    const b = { n: null, nested: { a: 'x', b: [1, { x: 2, y: 1 }] }, tenant: 'acme' };
    expect(canonicalJson(a)).toBe(canonicalJson(b));
    expect(canonicalJson(reversedKeys(publication))).toBe(canonicalJson(publication));
    expect(canonicalJson({ a: 1, b: undefined })).toBe(canonicalJson({ a: 1 }));
  });

  it('gives different values different texts', () => {
    const values: unknown[] = [
      { a: 1 },
      { a: 2 },
      { a: '1' },
      { a: [1] },
      { a: { b: 1 } },
      { 'a.b': 1 },
      { a: null },
      {},
      [1, 2],
      [2, 1],
      [[1], 2],
      '{"a":1}',
    ];
    expect(new Set(values.map(canonicalJson)).size).toBe(values.length);
  });

  it.each<[string, unknown]>([
    ['NaN', NaN],
    ['Infinity', Infinity],
    ['-Infinity', -Infinity],
    ['a nested NaN', { a: { b: NaN } }],
    ['an Infinity in an array', { a: [1, Infinity] }],
  ])('refuses %s', (_n, value) => {
    expect(() => canonicalJson(value)).toThrow(ConclaveError);
    expect(() => canonicalJson(value)).toThrow(/non-finite/);
  });

  it.each<[string, unknown, RegExp]>([
    ['a function field', { f: () => 1 }, /cannot encode a function/],
    ['a bigint', { n: 1n }, /cannot encode a bigint/],
    ['a symbol in an array', [Symbol('s')], /cannot encode a symbol/],
    ['undefined itself', undefined, /cannot encode a undefined/],
  ])('refuses %s (not JSON)', (_n, value, why) => {
    expect(() => canonicalJson(value)).toThrow(ConclaveError);
    expect(() => canonicalJson(value)).toThrow(why);
  });
});

describe('digests', () => {
  const publicationChanges: [string, (p: PublicationStatement) => void][] = [
    ['tenant', (p) => void (p.tenant = 'globex')],
    ['publisher', (p) => void (p.publisher = 'sec-team-2')],
    ['publisherKey', (p) => void (p.publisherKey = mallory.publicKey)],
    ['publishedAt', (p) => void (p.publishedAt = '2024-04-01T08:00:01Z')],
    ['defaultOutcome', (p) => void (p.ruleSet.defaultOutcome = 'escalate')],
    ['defaultApprovals', (p) => void (p.ruleSet.defaultApprovals = { risk: 1 })],
    [
      'a rule limit',
      (p) => void ((p.ruleSet.rules[1]!.conditions as { all: { value: string }[] }).all[0]!.value = '100000'),
    ],
    ['a rule approvals', (p) => void (p.ruleSet.rules[1]!.event.params.approvals = { risk: 1 })],
    ['a rule reason', (p) => void (p.ruleSet.rules[0]!.event.params.reason = 'denied')],
    ['the rule order', (p) => void p.ruleSet.rules.reverse()],
    ['the deny list', (p) => void p.config.denyList.push('0xdead')],
    ['a price', (p) => void (p.config.prices.ETH = '20')],
    ['the escalation expiry', (p) => void (p.config.escalationExpiresAfter = 600)],
    ['an initiator', (p) => void p.config.initiators.push({ id: 'mallory', publicKey: mallory.publicKey })],
    ['an approver key', (p) => void (p.config.approvers[0]!.publicKey = mallory.publicKey)],
    ['an approver role', (p) => void p.config.approvers[0]!.roles!.push('treasury')],
    ['the sanctions list (unavailable)', (p) => void delete p.config.sanctions],
  ];
  const requestChanges: [string, (s: SignStatement) => void][] = [
    ['tenant', (s) => void (s.tenant = 'globex')],
    ['walletId', (s) => void (s.walletId = 'w2')],
    ['message', (s) => void (s.message = 'cd'.repeat(32))],
    ['path', (s) => void (s.path = 'm/0/2')],
    ['merkleRoot', (s) => void (s.merkleRoot = '00'.repeat(32))],
    ['amount', (s) => void (s.tx.amount = '1')],
    ['amount written differently', (s) => void (s.tx.amount = '10.0')],
    ['asset', (s) => void (s.tx.asset = 'USDC')],
    ['chain', (s) => void (s.tx.chain = 'btc')],
    ['destination', (s) => void (s.tx.destination = '0xBEEF')],
    ['memo', (s) => void (s.tx.memo = 'invoice 7')],
    ['metadata', (s) => void (s.tx.metadata = { purpose: 'payroll' })],
    ['requestId', (s) => void (s.requestId = 'req-2')],
    ['initiator', (s) => void (s.initiator = 'mallory')],
    ['createdAt', (s) => void (s.createdAt = '2024-04-02T10:00:01Z')],
  ];
  const approvalChanges: [string, (a: ApprovalStatement) => void][] = [
    ['tenant', (a) => void (a.tenant = 'globex')],
    ['requestId', (a) => void (a.requestId = 'req-2')],
    ['requestDigest', (a) => void (a.requestDigest = requestDigest({ ...statement, requestId: 'req-2' }))],
    ['rulesVersion', (a) => void (a.rulesVersion = 4)],
    ['publicationDigest', (a) => void (a.publicationDigest = '00'.repeat(32))],
    ['verdict', (a) => void (a.verdict = 'reject')],
    ['approver', (a) => void (a.approver = 'bob')],
    ['role', (a) => void (a.role = 'treasury')],
    ['at', (a) => void (a.at = '2024-04-02T10:05:01Z')],
  ];

  it.each(publicationChanges)('publicationDigest changes with the %s', (_n, change) => {
    expect(publicationDigest(changed(publication, change))).not.toBe(publicationDigest(publication));
  });
  it.each(requestChanges)('requestDigest changes with the %s', (_n, change) => {
    expect(requestDigest(changed(statement, change))).not.toBe(requestDigest(statement));
  });
  it.each(approvalChanges)('approvalDigest changes with the %s', (_n, change) => {
    expect(approvalDigest(changed(approvalStatement, change))).not.toBe(approvalDigest(approvalStatement));
  });

  it('every change gives its own digest', () => {
    const all = [
      ...publicationChanges.map(([, c]) => publicationDigest(changed(publication, c))),
      ...requestChanges.map(([, c]) => requestDigest(changed(statement, c))),
      ...approvalChanges.map(([, c]) => approvalDigest(changed(approvalStatement, c))),
    ];
    expect(new Set(all).size).toBe(all.length);
    for (const d of all) expect(d).toMatch(/^[0-9a-f]{64}$/);
  });

  it('does not depend on key order', () => {
    expect(publicationDigest(reversedKeys(publication) as PublicationStatement)).toBe(
      publicationDigest(publication),
    );
    expect(requestDigest(reversedKeys(statement) as SignStatement)).toBe(requestDigest(statement));
    expect(approvalDigest(reversedKeys(approvalStatement) as ApprovalStatement)).toBe(
      approvalDigest(approvalStatement),
    );
  });

  it('a publication digest covers the statement only, not the version number the coordinator assigns', () => {
    const travelling = {
      ...publication,
      ruleSet: { ...ruleSet, version: 9 },
      rulesVersion: 9,
      signature: 'ff',
    };
    expect(publicationDigest(travelling)).toBe(publicationDigest(publication));
  });

  it('the three kinds of statement are domain-separated', () => {
    const same = approvalStatement as unknown;
    const digests = [
      approvalDigest(same as ApprovalStatement),
      requestDigest(same as SignStatement),
      publicationDigest({ ...(same as PublicationStatement), ruleSet }),
    ];
    expect(new Set(digests).size).toBe(3);
  });
});

describe('publications', () => {
  const sign = (key: ActorSecret, p: PublicationStatement = publication) => ({
    ...p,
    ...signPublication(key, p.tenant, p.ruleSet, p.config, p.publishedAt),
  });

  it('round-trips: the signature names its publisher and verifies', () => {
    const s = signPublication(publisher, 'acme', ruleSet, config, publication.publishedAt);
    expect(s).toMatchObject({
      publisher: 'sec-team',
      publisherKey: publisher.publicKey,
      publishedAt: publication.publishedAt,
    });
    expect(s.signature).toMatch(/^[0-9a-f]{128}$/);
    expect(verifyPublication(sign(publisher))).toBe(true);
    // the coordinator's version number is not signed
    expect(verifyPublication({ ...sign(publisher), ruleSet: { ...ruleSet, version: 12 } } as never)).toBe(
      true,
    );
  });

  it('refuses a signature by another key under the publisher name', () => {
    const forged = { ...sign(mallory), publisher: 'sec-team', publisherKey: publisher.publicKey };
    expect(verifyPublication(forged)).toBe(false);
  });

  it.each([
    ['tenant', (p: PublicationStatement) => void (p.tenant = 'globex')],
    ['publishedAt', (p: PublicationStatement) => void (p.publishedAt = '2024-05-01T00:00:00Z')],
    ['publisher', (p: PublicationStatement) => void (p.publisher = 'other')],
    [
      'rule limit',
      (p: PublicationStatement) =>
        void ((p.ruleSet.rules[1]!.conditions as { all: { value: string }[] }).all[0]!.value = '1000000'),
    ],
    [
      'approvers',
      (p: PublicationStatement) =>
        void p.config.approvers.push({ id: 'mallory', publicKey: mallory.publicKey, roles: ['risk'] }),
    ],
    ['deny list', (p: PublicationStatement) => void p.config.denyList.push('0xdead')],
  ])('refuses a statement whose %s changed after signing', (_n, change) => {
    expect(verifyPublication(changed(sign(publisher), change))).toBe(false);
  });

  it.each([
    ['empty', ''],
    ['not hex', 'zz'],
    ['truncated', 'truncated'],
    ['flipped', 'flipped'],
    ['all zero', '00'.repeat(64)],
  ])('answers false (never throws) for a signature that is %s', (_n, kind) => {
    const good = sign(publisher).signature;
    const signature =
      kind === 'truncated' ? good.slice(0, 126) : kind === 'flipped' ? flipLastHex(good) : kind;
    expect(verifyPublication({ ...sign(publisher), signature })).toBe(false);
  });

  it('answers false for a malformed publisher key', () => {
    expect(verifyPublication({ ...sign(publisher), publisherKey: 'not-a-key' })).toBe(false);
  });
});

describe('signStatement', () => {
  const fields = {
    tenant: 'acme',
    walletId: 'w1',
    message: 'AB'.repeat(32),
    path: 'm/0/1',
    tx: { chain: 'eth', asset: 'ETH', amount: '10', destination: '0xbeef' },
    requestId: 'req-1',
    initiator: 'backend',
    createdAt: '2024-04-02T10:00:00Z',
  };

  it('builds the statement the initiator signs: lower-case hex, optional fields left out', () => {
    const s = signStatement(fields);
    expect(s).toEqual(statement);
    expect(Object.keys(s)).not.toContain('merkleRoot');
    expect(Object.keys(s.tx)).toEqual(['chain', 'asset', 'amount', 'destination']);
    expect(requestDigest(s)).toBe(requestDigest(statement));
  });

  it('keeps the known optional fields and drops unknown transaction fields', () => {
    const tx = { ...fields.tx, memo: 'invoice 7', metadata: { purpose: 'payroll' }, extra: 'x' };
    const s = signStatement({ ...fields, tx, merkleRoot: 'CD'.repeat(32) });
    expect(s.merkleRoot).toBe('cd'.repeat(32));
    expect(s.tx).toEqual({ ...fields.tx, memo: 'invoice 7', metadata: { purpose: 'payroll' } });
    expect(requestDigest(s)).not.toBe(requestDigest(statement));
  });

  it('client and coordinator build the same digest from differently written input', () => {
    const a = signStatement({ ...fields, tx: { ...fields.tx, memo: undefined } as never });
    const b = signStatement(
      reversedKeys({ ...fields, message: fields.message.toLowerCase() }) as typeof fields,
    );
    expect(requestDigest(a)).toBe(requestDigest(b));
  });
});

describe('checkRequestSignature', () => {
  const good = signRequest(backend, statement);
  const cases: [string, SignedRequest, RegExp][] = [
    ['unsigned', { statement }, /not signed by an initiator key/],
    ['a signature without a key', { statement, signature: good.signature }, /not signed by an initiator key/],
    ['a key without a signature', { statement, initiatorKey: backend.publicKey }, /not signed/],
    [
      'an initiator not listed',
      signRequest(mallory, { ...statement, initiator: 'mallory' }),
      /mallory is not an initiator of tenant acme/,
    ],
    ['a listed initiator with another key', signRequest(mallory, statement), /not backend's registered key/],
    [
      "another key's signature presented with the initiator's key",
      { ...signRequest(mallory, statement), initiatorKey: backend.publicKey },
      /signature by backend does not verify/,
    ],
    [
      'a statement changed after signing',
      { ...good, statement: { ...statement, tx: { ...statement.tx, amount: '1' } } },
      /does not verify/,
    ],
    ['a flipped signature', { ...good, signature: flipLastHex(good.signature!) }, /does not verify/],
    ['a malformed signature', { ...good, signature: 'zz' }, /does not verify/],
  ];

  it.each(cases)('refuses %s', (_n, req, why) => {
    const r = checkRequestSignature(req, config);
    expect(r).toEqual({ refused: expect.stringMatching(why) });
  });

  it('returns the registered initiator for a good signature', () => {
    expect(good.initiatorKey).toBe(backend.publicKey);
    expect(checkRequestSignature(good, config)).toEqual({
      initiator: { id: 'backend', publicKey: backend.publicKey },
    });
  });

  it('checks against the config it is given', () => {
    expect(checkRequestSignature(good, { ...config, initiators: [] })).toEqual({
      refused: expect.stringMatching(/not an initiator/),
    });
  });
});

describe('approvals', () => {
  const context = (over: Partial<ApprovalContext> = {}): ApprovalContext => ({
    tenant: 'acme',
    requestId: 'req-1',
    requestDigest: requestDigest(statement),
    rulesVersion: 3,
    publicationDigest: publicationDigest(publication),
    initiator: 'backend',
    initiatorKey: backend.publicKey,
    approvers: config.approvers,
    required: { risk: 1, treasury: 1 },
    accepted: [],
    ...over,
  });
  const approve = (key: ActorSecret, over: Partial<ApprovalStatement> = {}): SignedApproval =>
    signApproval(key, { ...approvalStatement, approver: key.id, ...over });

  it('signApproval refuses a key file of someone else', () => {
    expect(() => signApproval(bob, approvalStatement)).toThrow(/the key file is bob's, not alice's/);
  });

  const refusals: [string, SignedApproval, Partial<ApprovalContext>, RegExp][] = [
    [
      'no statement',
      { signature: 'ab' } as unknown as SignedApproval,
      {},
      /needs a statement and a signature/,
    ],
    [
      'no signature',
      { statement: approvalStatement } as unknown as SignedApproval,
      {},
      /needs a statement and a signature/,
    ],
    ['an unknown verdict', approve(alice, { verdict: 'maybe' as Verdict }), {}, /unknown verdict "maybe"/],
    ['an unknown approver', approve(mallory), {}, /mallory is not a registered approver of tenant acme/],
    [
      'a bad signature',
      { ...approve(alice), signature: flipLastHex(approve(alice).signature) },
      {},
      /alice's approval does not verify with their registered key/,
    ],
    [
      "another key under a registered approver's id",
      approve({ ...mallory, id: 'alice' }),
      {},
      /alice's approval does not verify/,
    ],
    [
      'a statement changed after signing',
      { ...approve(alice), statement: { ...approvalStatement, verdict: 'reject' } },
      {},
      /does not verify/,
    ],
    ['another request id', approve(alice, { requestId: 'req-2' }), {}, /for another request/],
    ['another tenant', approve(alice, { tenant: 'globex' }), {}, /for another request/],
    [
      'another transaction',
      approve(alice, {
        requestDigest: requestDigest({ ...statement, tx: { ...statement.tx, amount: '1' } }),
      }),
      {},
      /for another transaction/,
    ],
    [
      'another rules version',
      approve(alice, { rulesVersion: 2 }),
      {},
      /approval is for rules v2, the request was judged under v3/,
    ],
    [
      'another publication under the same version',
      approve(alice, {
        publicationDigest: publicationDigest({ ...publication, publishedAt: '2024-04-01T09:00:00Z' }),
      }),
      {},
      /judged under v3/,
    ],
    [
      'the initiator (by id)',
      approve(backendApprover),
      {},
      /backend initiated this request and cannot approve it/,
    ],
    ["the initiator's key under another id", approve(ops), {}, /ops initiated this request/],
    ['a role not held', approve(alice, { role: 'treasury' }), {}, /alice may not approve as treasury/],
    [
      'a role not required',
      approve(carol, { role: 'treasury' }),
      { required: { risk: 1 } },
      /no approval from role treasury is required \(required: 1 risk\)/,
    ],
    [
      'a second approval by the same approver',
      approve(alice, { at: '2024-04-02T10:06:00Z' }),
      { accepted: [approve(alice)] },
      /alice has already given a verdict on this request/,
    ],
    [
      'a multi-role approver counting for a second role',
      approve(bob, { role: 'treasury' }),
      { accepted: [approve(bob, { role: 'risk' })] },
      /bob has already given a verdict/,
    ],
    [
      'an approval after the same approver rejected',
      approve(alice),
      { accepted: [approve(alice, { verdict: 'reject' })] },
      /alice has already given a verdict/,
    ],
  ];

  it.each(refusals)('refuses %s', (_n, a, over, why) => {
    expect(checkApproval(a, context(over))).toMatch(why);
  });

  it.each<[string, SignedApproval, Partial<ApprovalContext>]>([
    ['a risk approval', approve(alice), {}],
    [
      'a treasury approval next to an accepted risk one',
      approve(carol, { role: 'treasury' }),
      { accepted: [approve(alice)] },
    ],
    ['a multi-role approver for either role', approve(bob, { role: 'treasury' }), {}],
    ['a rejection', approve(alice, { verdict: 'reject' }), {}],
    [
      'a rejection from a role not required',
      approve(carol, { role: 'treasury', verdict: 'reject' }),
      { required: { risk: 1 } },
    ],
    ['an approval without a known initiator key', approve(alice), { initiatorKey: undefined }],
  ])('accepts %s', (_n, a, over) => {
    expect(checkApproval(a, context(over))).toBeUndefined();
  });

  const a = approve(alice);
  const b = approve(bob);
  const bt = approve(bob, { role: 'treasury' });
  const c = approve(carol, { role: 'treasury' });
  const ar = approve(alice, { verdict: 'reject' });
  const cr = approve(carol, { role: 'treasury', verdict: 'reject' });

  it.each<[string, Approvals, SignedApproval[], boolean]>([
    ['nothing required, nothing given', {}, [], true],
    ['one risk required, nothing given', { risk: 1 }, [], false],
    ['one risk required and given', { risk: 1 }, [a], true],
    ['two roles, one given', { risk: 1, treasury: 1 }, [a], false],
    ['two roles, both given', { risk: 1, treasury: 1 }, [a, c], true],
    ['two roles, a multi-role approver for one', { risk: 1, treasury: 1 }, [bt], false],
    ['two roles, given by a multi-role approver and another', { risk: 1, treasury: 1 }, [a, bt], true],
    ['two risk, given by two approvers', { risk: 2 }, [a, b], true],
    ['two risk, one risk and one treasury', { risk: 2 }, [a, c], false],
    ['one risk, only a rejection', { risk: 1 }, [ar], false],
    ['treasury, only a treasury rejection', { treasury: 1 }, [a, cr], false],
    ['more than required', { risk: 1 }, [a, b, c], true],
  ])('approvalsMet: %s', (_n, required, accepted, met) => {
    expect(approvalsMet(required, accepted)).toBe(met);
  });

  /** Checks approvals one by one as the gate does; returns whether the accepted ones meet `required`. */
  function met(required: Approvals, given: SignedApproval[]): boolean {
    const accepted: SignedApproval[] = [];
    for (const x of given)
      if (checkApproval(x, context({ required, accepted })) === undefined) accepted.push(x);
    return approvalsMet(required, accepted);
  }

  it.each<[string, Approvals, SignedApproval[], boolean]>([
    ['the same approver twice does not make two', { risk: 2 }, [a, approve(alice, { at: 'later' })], false],
    ['two distinct approvers make two', { risk: 2 }, [a, b], true],
    ['a multi-role approver counts once', { risk: 1, treasury: 1 }, [b, bt], false],
    ['a multi-role approver and another', { risk: 1, treasury: 1 }, [b, c], true],
    ['a forged approval does not count', { risk: 1 }, [approve({ ...mallory, id: 'alice' })], false],
  ])('checked one by one: %s', (_n, required, given, ok) => {
    expect(met(required, given)).toBe(ok);
  });

  it.each<[Approvals, string]>([
    [{}, 'none'],
    [{ risk: 1 }, '1 risk'],
    [{ risk: 1, treasury: 2 }, '1 risk, 2 treasury'],
  ])('describeApprovals(%j) is %s', (a, text) => {
    expect(describeApprovals(a)).toBe(text);
  });
});

describe('dry runs', () => {
  it('sign only their own tagged hash, distinct per purpose and ceremony', () => {
    const a = dryRunMessage({ purpose: 'share-validation', reference: 'validate:t:w/run-1' });
    expect(a).toMatch(/^[0-9a-f]{64}$/);
    expect(dryRunMessage({ purpose: 'share-validation', reference: 'validate:t:w/run-1' })).toBe(a);
    expect(dryRunMessage({ purpose: 'recovery-proof', reference: 'validate:t:w/run-1' })).not.toBe(a);
    expect(dryRunMessage({ purpose: 'share-validation', reference: 'validate:t:w/run-2' })).not.toBe(a);
    expect(() => dryRunMessage({ purpose: 'payment' as never, reference: 'x' })).toThrow(
      /unknown dry-run purpose/,
    );
  });

  it('a sign request flagged as a dry run must carry that message and no transaction', () => {
    const dryRun = { purpose: 'recovery-proof' as const, reference: 'recover:t:w/run' };
    const base = { tenant: 't', walletId: 'w', message: dryRunMessage(dryRun), dryRun };
    expect(() => validateSignRequest(base)).not.toThrow();
    expect(() => validateSignRequest({ ...base, message: 'ab'.repeat(32) })).toThrow(
      /only its own tagged message/,
    );
    expect(() =>
      validateSignRequest({ ...base, tx: { chain: 'solana', asset: 'SOL', amount: '1', destination: 'd' } }),
    ).toThrow(/takes no transaction/);
  });
});
