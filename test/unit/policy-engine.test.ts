import { describe, expect, it } from 'vitest';
import { defaultPlugins, registerPlugin } from '../../plugins/index.js';
import { ConclaveError } from '../../src/errors.js';
import { evaluatePolicy, policyVocabulary } from '../../src/policy/engine.js';
import type {
  PolicyPlugin,
  RuleSet,
  RuleSpec,
  TenantPolicyConfig,
  Transaction,
} from '../../src/policy/types.js';

const config: TenantPolicyConfig = {
  timeZone: 'Europe/Paris',
  businessHours: { days: [1, 2, 3, 4, 5], start: '09:00', end: '18:00' },
  holidays: [],
  denyList: ['0xdead'],
  allowList: [],
  sanctions: [],
  prices: { ETH: '3000' },
  fiatCurrency: 'USD',
  initiators: [],
  approvers: [],
  escalationExpiresAfter: 86_400,
};
const tx: Transaction = {
  tenant: 'acme',
  walletId: 'w1',
  chain: 'eth',
  asset: 'ETH',
  amount: '2',
  destination: '0xBEEF',
  initiator: 'alice',
  at: '2024-04-02T07:30:00Z',
  metadata: { purpose: 'payroll' },
};

const T = { fact: 'chain', operator: 'equal', value: 'eth' }; // true for tx
const F = { fact: 'chain', operator: 'equal', value: 'btc' }; // false for tx
const rule = (
  name: string,
  conditions: RuleSpec['conditions'],
  type: RuleSpec['event']['type'] = 'block',
): RuleSpec => ({
  name,
  conditions,
  event: { type, params: { reason: `${name} fired` } },
});
const set = (rules: RuleSpec[], extra: Partial<RuleSet> = {}): RuleSet => ({
  version: 1,
  defaultOutcome: 'allow',
  rules,
  ...extra,
});

// a plugin whose facts and operators misbehave in every way they can
const hostile: PolicyPlugin = {
  name: 'hostile',
  facts: {
    throws: () => {
      throw new Error('oracle down');
    },
    rejects: async () => Promise.reject(new Error('async oracle down')),
    nothing: () => undefined,
    hangs: () => new Promise(() => {}),
    fine: () => 42,
  },
  operators: {
    explodes: () => {
      throw new Error('kaboom');
    },
    fuzzy: () => 'maybe' as unknown as boolean,
  },
};
const plugins = [...defaultPlugins, hostile];
const U = (fact: string) => ({ fact, operator: 'equal', value: 1 });

describe('evaluatePolicy', () => {
  it.each([
    ['fact throws', U('throws'), /fact "throws" could not be determined: oracle down/],
    ['fact rejects', U('rejects'), /fact "rejects" could not be determined: async oracle down/],
    ['fact has no value', U('nothing'), /fact "nothing" could not be determined: it has no value/],
    ['fact never answers', U('hangs'), /fact "hangs" could not be determined: no answer within 50 ms/],
    [
      'operator throws',
      { fact: 'fine', operator: 'explodes', value: 1 },
      /operator "explodes" on fact "fine" failed: kaboom/,
    ],
    [
      'operator answers a non-boolean',
      { fact: 'fine', operator: 'fuzzy', value: 1 },
      /returned "maybe" instead of true\/false/,
    ],
    [
      'fact used as the compared value',
      { fact: 'fine', operator: 'equal', value: { fact: 'throws' } },
      /"throws"/,
    ],
    [
      'built-in greaterThan on a decimal string',
      { fact: 'amount', operator: 'greaterThan', value: 1 },
      /must be a number/,
    ],
  ])('fails closed when a %s, for every event type', async (_n, cond, why) => {
    for (const type of ['block', 'escalate', 'flag'] as const) {
      for (const conditions of [
        { all: [cond] },
        { not: cond },
        { any: [F, cond] },
        { all: [T, { not: { any: [cond] } }] },
      ]) {
        const d = await evaluatePolicy(set([rule('r', conditions, type)]), config, tx, plugins, {
          factTimeoutMs: 50,
        });
        expect(d.outcome).toBe(type === 'block' ? 'block' : 'escalate');
        expect(d.fired).toHaveLength(1);
        expect(d.fired[0]?.failedClosed).toBe(true);
        expect(d.fired[0]?.reason).toMatch(why);
        if (type !== 'block') expect(d.approvals).toEqual({ risk: 1 });
      }
    }
  });

  it('a failing fact that cannot change the result does not fire (three-valued logic)', async () => {
    const rs = set([
      rule('false-and-unknown', { all: [F, U('throws')] }),
      rule('true-or-unknown', { any: [T, U('throws')] }, 'flag'),
    ]);
    const d = await evaluatePolicy(rs, config, tx, plugins);
    expect(d.outcome).toBe('allow');
    expect(d.fired).toEqual([
      { rule: 'true-or-unknown', action: 'flag', reason: 'true-or-unknown fired', flag: 'true-or-unknown' },
    ]);
  });

  it('conditions skipped by priority short-circuiting count as unknown (stricter, never laxer)', async () => {
    const rs = set([
      rule(
        'r',
        {
          all: [
            { ...U('throws'), priority: 2 },
            { ...F, priority: 1 },
          ],
        },
        'escalate',
      ),
    ]);
    const d = await evaluatePolicy(rs, config, tx, plugins);
    expect(d.outcome).toBe('escalate');
    expect(d.fired[0]?.failedClosed).toBe(true);
  });

  it('a fail-closed escalation keeps its own approvals; others use the defaults', async () => {
    const own: RuleSpec = { ...rule('own', { all: [U('throws')] }, 'escalate') };
    own.event.params.approvals = { cfo: 2 };
    const d = await evaluatePolicy(
      set([own, rule('flagged', { all: [U('throws')] }, 'flag')], { defaultApprovals: { risk: 3 } }),
      config,
      tx,
      plugins,
    );
    expect(d.fired.map((f) => f.approvals)).toEqual([{ cfo: 2 }, { risk: 3 }]);
    expect(d.approvals).toEqual({ cfo: 2, risk: 3 });
  });

  it('flags, reasons, fact references and metadata paths', async () => {
    const rs = set(
      [
        {
          name: 'payroll',
          conditions: { all: [{ fact: 'metadata', path: '$.purpose', operator: 'equal', value: 'payroll' }] },
          event: {
            type: 'flag',
            params: {
              reason: '{{ amount }} {{asset}} for {{metadata}} by {{initiator}}, {{memo}}',
              flag: 'payroll',
            },
          },
        },
        rule('same-chain-and-asset', {
          all: [{ fact: 'chain', operator: 'equal', value: { fact: 'asset' } }],
        }),
        rule('missing-key', { all: [{ fact: 'metadata', path: '$.nope', operator: 'equal', value: 'x' }] }),
        // own keys only: "$.constructor" must not reach Object.prototype.constructor (it reads as
        // missing, like "$.nope", so the two are equal)
        rule(
          'prototype-key',
          {
            all: [
              {
                fact: 'metadata',
                path: '$.constructor',
                operator: 'equal',
                value: { fact: 'metadata', path: '$.nope' },
              },
            ],
          },
          'flag',
        ),
      ],
      { version: 42 },
    );
    const d = await evaluatePolicy(rs, config, tx);
    expect(d).toEqual({
      outcome: 'allow',
      approvals: {},
      flags: ['payroll', 'prototype-key'],
      fired: [
        {
          rule: 'payroll',
          action: 'flag',
          reason: '2 ETH for {"purpose":"payroll"} by alice, ', // no memo reads as empty
          flag: 'payroll',
        },
        { rule: 'prototype-key', action: 'flag', reason: 'prototype-key fired', flag: 'prototype-key' },
      ],
      rulesVersion: 42,
      defaulted: true,
    });
  });

  it('is deterministic and reports rules in rule-set order', async () => {
    const rules = Array.from({ length: 20 }, (_, i) =>
      rule(`r${i}`, { all: [i % 3 === 0 ? U('throws') : T] }, i % 2 ? 'escalate' : 'flag'),
    );
    rules.forEach((r, i) => (r.priority = 1 + (i % 4)));
    const a = await evaluatePolicy(set(rules), config, tx, plugins);
    const b = await evaluatePolicy(set(rules), config, tx, plugins);
    expect(b).toEqual(a);
    expect(a.fired.map((f) => f.rule)).toEqual(rules.map((r) => r.name));
  });

  it.each([
    [
      'an unknown fact',
      set([rule('r', { all: [{ fact: 'nope', operator: 'equal', value: 1 }] })]),
      /unknown fact "nope"/,
    ],
    [
      'an unknown operator',
      set([rule('r', { all: [{ fact: 'chain', operator: 'gt', value: 1 }] })]),
      /unknown operator "gt"/,
    ],
    [
      'a bad default outcome',
      { ...set([]), defaultOutcome: 'block' } as unknown as RuleSet,
      /defaultOutcome/,
    ],
  ])('refuses a rule set with %s', async (_n, rs, why) => {
    await expect(evaluatePolicy(rs, config, tx)).rejects.toThrow(why);
    await expect(evaluatePolicy(rs, config, tx)).rejects.toBeInstanceOf(ConclaveError);
  });

  it.each([
    ['a float amount', { amount: 1.5 as unknown as string }],
    ['an exponent amount', { amount: '1e3' }],
    ['a negative amount', { amount: '-1' }],
    ['a 79-digit amount', { amount: '1'.repeat(79) }],
    ['a time without offset', { at: '2024-04-02T07:30:00' }],
    ['an impossible date', { at: '2024-02-30T07:30:00Z' }],
    ['an empty destination', { destination: '' }],
    ['non-string metadata', { metadata: { n: 1 } as unknown as Record<string, string> }],
  ])('refuses a transaction with %s', async (_n, patch) => {
    await expect(evaluatePolicy(set([]), config, { ...tx, ...patch })).rejects.toThrow(
      /transaction|time must be/,
    );
  });

  // How fast is the bench's job (`npm run bench`, policy rows), not a timed unit test's.
  it('evaluates 200 rules, firing exactly those that match', async () => {
    const rules = Array.from({ length: 200 }, (_, i) =>
      rule(
        `limit-${i}`,
        {
          all: [
            { fact: 'fiatValue', operator: 'fiatGreaterThan', value: String(10_000 + i) },
            { fact: 'destination', operator: 'inDenyList', value: false },
            { fact: 'outsideBusinessHours', operator: 'equal', value: i % 2 === 0 },
          ],
        },
        'escalate',
      ),
    );
    const rs = set(rules);
    const d = await evaluatePolicy(rs, config, { ...tx, amount: '4' });
    expect(d.fired).toHaveLength(100); // 12000 USD, inside business hours: the odd rules fire
    expect(d.fired.every((f) => Number(f.rule.split('-')[1]) % 2 === 1)).toBe(true);
  });
});

describe('plugins', () => {
  it('registerPlugin refuses clashes and adds new words', () => {
    const list = [...defaultPlugins];
    expect(() => registerPlugin({ ...hostile, name: 'address-screening' }, list)).toThrow(
      /already registered/,
    );
    expect(() => registerPlugin({ name: 'x', facts: { fiatValue: () => 1 }, operators: {} }, list)).toThrow(
      /redefines fiatValue of plugin amount-limits/,
    );
    registerPlugin(hostile, list);
    expect(policyVocabulary(list).facts).toContain('hangs');
    expect(policyVocabulary(defaultPlugins).facts).not.toContain('hangs');
  });

  it('lists the vocabulary for the CLI', () => {
    const v = policyVocabulary();
    expect(v.facts).toEqual(
      expect.arrayContaining([
        'amount',
        'fiatValue',
        'destination',
        'inDenyList',
        'inSanctionsList',
        'localHour',
        'memo',
      ]),
    );
    expect(v.operators).toEqual(
      expect.arrayContaining([
        'equal',
        'greaterThanInclusive',
        'inDenyList',
        'notInAllowList',
        'fiatGreaterThan',
      ]),
    );
    expect(v.operators).not.toContain('startsWith');
  });
});
