import { describe, expect, it } from 'vitest';
import { defaultPlugins, velocity } from '../../plugins/index.js';
import { evaluatePolicy, policyVocabulary, validateRuleSet } from '../../src/policy/engine.js';
import { defaultTenantPolicyConfig } from '../../src/policy/tenant-config.js';
import type {
  EvaluationContext,
  RuleSet,
  TenantPolicyConfig,
  Transaction,
  VelocityEntry,
} from '../../src/policy/types.js';

const config: TenantPolicyConfig = { ...defaultTenantPolicyConfig, prices: { USDC: '1', ETH: '3000' } };

const tx = (over: Partial<Transaction> = {}): Transaction => ({
  tenant: 'acme',
  walletId: 'w1',
  chain: 'eth',
  asset: 'USDC',
  amount: '100',
  destination: '0x01',
  initiator: 'alice',
  at: '2024-04-02T12:00:00Z',
  ...over,
});

const entry = (
  walletId: string,
  at: string,
  fiatValue: string | undefined,
  asset = 'USDC',
): VelocityEntry => ({
  walletId,
  at,
  asset,
  amount: '1',
  ...(fiatValue === undefined ? {} : { fiatValue }),
});

const fact = (name: string, context: EvaluationContext, t: Transaction = tx()): unknown => {
  const f = velocity.facts[name];
  if (!f) throw new Error(`no fact ${name}`);
  return f(config, t, context);
};

// tx: wallet w1, 100 USD at 2024-04-02T12:00:00Z
const ledger: VelocityEntry[] = [
  entry('w1', '2024-04-02T12:30:00+01:00', '1000'), // 11:30Z: both windows
  entry('w1', '2024-04-02T11:00:00Z', '10'), // exactly 1h old: 24h only
  entry('w1', '2024-04-02T11:00:00.001Z', '20'), // 1 ms newer: both windows
  entry('w2', '2024-04-02T11:45:00Z', '300'), // other wallet, 1h
  entry('w1', '2024-04-01T12:00:00.001Z', '5000', 'ETH'), // 1 ms inside 24h
  entry('w1', '2024-04-01T12:00:00Z', '70000'), // exactly 24h old: out
  entry('w2', '2024-04-01T20:00:00+02:00', '400'), // other wallet, 24h only
  entry('w1', '2024-04-02T12:05:00Z', '0.5'), // reserved concurrently, dated later: counts
];

describe('velocity plugin facts', () => {
  // [fact, value]
  it.each([
    ['walletVolume1h', '1120.5'], // 100 + 1000 + 20 + 0.5
    ['walletCount1h', 4],
    ['walletVolume24h', '6130.5'], // + 10 + 5000
    ['walletCount24h', 6],
    ['tenantVolume1h', '1420.5'], // wallet 1h + 300
    ['tenantCount1h', 5],
    ['tenantVolume24h', '6830.5'], // wallet 24h + 300 + 400
    ['tenantCount24h', 8],
  ])('%s over the ledger is %s', (name, value) => {
    expect(fact(name, { velocity: ledger })).toStrictEqual(value);
  });

  // [fact, value with an empty ledger: only the transaction itself]
  it.each([
    ['walletVolume1h', '100'],
    ['walletCount1h', 1],
    ['tenantVolume24h', '100'],
    ['tenantCount24h', 1],
  ])('%s with an empty ledger is %s', (name, value) => {
    expect(fact(name, { velocity: [] })).toStrictEqual(value);
  });

  // [case, entry time, walletCount1h, walletCount24h]
  it.each([
    ['exactly 1h old is outside 1h', '2024-04-02T11:00:00Z', 1, 2],
    ['1 ms newer than 1h is inside', '2024-04-02T11:00:00.001Z', 2, 2],
    ['exactly 24h old is outside both', '2024-04-01T12:00:00Z', 1, 1],
    ['1 ms newer than 24h is inside 24h', '2024-04-01T12:00:00.001Z', 1, 2],
    ['same instant counts', '2024-04-02T12:00:00Z', 2, 2],
    ['same instant in another offset counts', '2024-04-02T14:00:00+02:00', 2, 2],
    ['1h old written in another offset is out', '2024-04-02T06:00:00-05:00', 1, 2],
    ['dated a day later still counts', '2024-04-03T12:00:00Z', 2, 2],
  ])('boundary: %s', (_n, at, in1h, in24h) => {
    const context = { velocity: [entry('w1', at, '1')] };
    expect(fact('walletCount1h', context)).toBe(in1h);
    expect(fact('walletCount24h', context)).toBe(in24h);
  });

  it('volumes are exact decimal sums of the transaction price and the stored fiat values', () => {
    const context = {
      velocity: [entry('w1', '2024-04-02T11:59:00Z', '0.1'), entry('w1', '2024-04-02T11:58:00Z', '0.2')],
    };
    expect(fact('walletVolume1h', context, tx({ amount: '0.000000000000000001' }))).toBe(
      '0.300000000000000001',
    );
    expect(fact('walletVolume1h', context, tx({ asset: 'ETH', amount: '1.5' }))).toBe('4500.3');
  });

  it.each(Object.keys(velocity.facts))('%s throws when the ledger is unavailable', (name) => {
    expect(() => fact(name, {})).toThrow(/velocity ledger is unavailable/);
    expect(() => fact(name, { velocity: null as unknown as VelocityEntry[] })).toThrow(
      /velocity ledger is unavailable/,
    );
  });

  // [case, context, transaction, fact, error]
  it.each([
    [
      'counted entry without a fiat value',
      { velocity: [entry('w1', '2024-04-02T11:30:00Z', undefined, 'DOGE')] },
      tx(),
      'walletVolume1h',
      /velocity entry in asset "DOGE" at 2024-04-02T11:30:00Z has no USD value/,
    ],
    [
      'entry without a fiat value in another wallet, tenant scope',
      { velocity: [entry('w2', '2024-04-02T11:30:00Z', undefined, 'DOGE')] },
      tx(),
      'tenantVolume24h',
      /"DOGE".*no USD value/,
    ],
    [
      'transaction asset without a price',
      { velocity: [] },
      tx({ asset: 'DOGE' }),
      'walletVolume24h',
      /no USD price for asset "DOGE"/,
    ],
    [
      'malformed entry time',
      { velocity: [entry('w1', 'yesterday', '1')] },
      tx(),
      'walletCount24h',
      /time must be ISO 8601/,
    ],
    [
      'malformed entry fiat value',
      { velocity: [entry('w1', '2024-04-02T11:30:00Z', '1e3', 'ETH')] },
      tx(),
      'walletVolume1h',
      /fiat value of a ETH velocity entry must be a decimal string/,
    ],
  ])('fails: %s', (_n, context, t, name, error) => {
    expect(() => fact(name, context, t)).toThrow(error);
  });

  // [case, entry time, fact, value]
  it.each([
    ['entry without a fiat value outside the window', '2024-04-02T10:00:00Z', 'walletVolume1h', '100'],
    ['entry without a fiat value in the window, counts only', '2024-04-02T11:30:00Z', 'walletCount1h', 2],
  ])('does not fail: %s', (_n, at, name, value) => {
    expect(fact(name, { velocity: [entry('w1', at, undefined, 'DOGE')] })).toStrictEqual(value);
  });

  it('is a default plugin and adds facts only', () => {
    expect(defaultPlugins).toContain(velocity);
    expect(velocity.operators).toEqual({});
    expect(policyVocabulary().facts).toEqual(expect.arrayContaining(Object.keys(velocity.facts)));
    expect(Object.keys(velocity.facts).sort()).toEqual([
      'tenantCount1h',
      'tenantCount24h',
      'tenantVolume1h',
      'tenantVolume24h',
      'walletCount1h',
      'walletCount24h',
      'walletVolume1h',
      'walletVolume24h',
    ]);
  });
});

const volumeRules: RuleSet = {
  version: 1,
  defaultOutcome: 'allow',
  rules: [
    {
      name: 'wallet-daily-volume',
      conditions: { all: [{ fact: 'walletVolume24h', operator: 'fiatGreaterThan', value: '10000' }] },
      event: {
        type: 'escalate',
        params: {
          reason: 'wallet volume {{walletVolume24h}} USD in 24h is over 10000 USD',
          approvals: { treasury: 2 },
        },
      },
    },
  ],
};

const countRules: RuleSet = {
  version: 1,
  defaultOutcome: 'allow',
  rules: [
    {
      name: 'wallet-hourly-count',
      conditions: { all: [{ fact: 'walletCount1h', operator: 'greaterThan', value: 3 }] },
      event: { type: 'block', params: { reason: '{{walletCount1h}} requests in an hour' } },
    },
  ],
};

const recent = (walletId: string, fiatValue: string | undefined, n = 1): VelocityEntry[] =>
  Array.from({ length: n }, (_, i) => entry(walletId, `2024-04-02T11:${String(10 + i)}:00Z`, fiatValue));

describe('velocity rules through evaluatePolicy', () => {
  // [case, rule set, ledger (undefined: no context at all), transaction, outcome, failed closed, reason]
  it.each<[string, RuleSet, VelocityEntry[] | undefined, Transaction, string, boolean, RegExp | undefined]>([
    ['empty ledger: 100 is under', volumeRules, [], tx(), 'allow', false, undefined],
    ['9900 + 100 is exactly the limit', volumeRules, recent('w1', '9900'), tx(), 'allow', false, undefined],
    [
      '9900.000001 + 100 is over',
      volumeRules,
      recent('w1', '9900.000001'),
      tx(),
      'escalate',
      false,
      /^wallet volume 10000.000001 USD in 24h is over 10000 USD$/,
    ],
    ['another wallet does not count', volumeRules, recent('w2', '50000'), tx(), 'allow', false, undefined],
    [
      'exactly 24h old does not count',
      volumeRules,
      [entry('w1', '2024-04-01T12:00:00Z', '50000')],
      tx(),
      'allow',
      false,
      undefined,
    ],
    [
      'a later-dated reservation counts',
      volumeRules,
      [entry('w1', '2024-04-02T12:00:01Z', '9950')],
      tx(),
      'escalate',
      false,
      /volume 10050 USD/,
    ],
    [
      'ledger unavailable fails closed',
      volumeRules,
      undefined,
      tx(),
      'escalate',
      true,
      /fact "walletVolume24h" could not be determined: the velocity ledger is unavailable/,
    ],
    [
      'entry without a fiat value fails closed',
      volumeRules,
      [entry('w1', '2024-04-02T11:30:00Z', undefined, 'DOGE')],
      tx(),
      'escalate',
      true,
      /velocity entry in asset "DOGE" .* has no USD value.*wallet volume <unknown> USD/,
    ],
    [
      'transaction without a price fails closed',
      volumeRules,
      [],
      tx({ asset: 'DOGE' }),
      'escalate',
      true,
      /no USD price for asset "DOGE"/,
    ],
    ['3 requests in the hour (2 earlier)', countRules, recent('w1', '1', 2), tx(), 'allow', false, undefined],
    [
      '4 requests in the hour blocks',
      countRules,
      recent('w1', '1', 3),
      tx(),
      'block',
      false,
      /^4 requests in an hour$/,
    ],
    [
      'other wallets do not count',
      countRules,
      [...recent('w1', '1', 2), ...recent('w2', '1', 5)],
      tx(),
      'allow',
      false,
      undefined,
    ],
    [
      'counts need no fiat value',
      countRules,
      recent('w1', undefined, 3),
      tx({ asset: 'DOGE' }),
      'block',
      false,
      undefined,
    ],
    [
      'ledger unavailable blocks, failing closed',
      countRules,
      undefined,
      tx(),
      'block',
      true,
      /fact "walletCount1h" could not be determined: the velocity ledger is unavailable/,
    ],
  ])('%s', async (_n, rules, entries, t, outcome, failedClosed, reason) => {
    const context: EvaluationContext = entries === undefined ? {} : { velocity: entries };
    const d = await evaluatePolicy(rules, config, t, defaultPlugins, { context });
    expect(d.outcome).toBe(outcome);
    if (outcome === 'allow') {
      expect(d.fired).toEqual([]);
      return;
    }
    expect(d.fired).toHaveLength(1);
    expect(d.fired[0]?.failedClosed ?? false).toBe(failedClosed);
    if (reason) expect(d.fired[0]?.reason).toMatch(reason);
    if (rules === volumeRules) expect(d.approvals).toEqual({ treasury: 2 });
  });

  it('fails closed when no options are given at all', async () => {
    const d = await evaluatePolicy(volumeRules, config, tx());
    expect(d.outcome).toBe('escalate');
    expect(d.fired[0]).toMatchObject({ rule: 'wallet-daily-volume', failedClosed: true });
  });

  it('validation wants a decimal string for volumes and a number for counts', () => {
    const check = (fact: string, operator: string, value: unknown) =>
      validateRuleSet(
        JSON.stringify({
          version: 1,
          defaultOutcome: 'allow',
          rules: [
            {
              name: 'r',
              conditions: { all: [{ fact, operator, value }] },
              event: { type: 'block', params: { reason: 'x' } },
            },
          ],
        }),
      ).ok;
    expect(check('walletVolume24h', 'fiatGreaterThan', '10000')).toBe(true);
    expect(check('walletVolume24h', 'fiatGreaterThan', 10000)).toBe(false);
    expect(check('tenantCount1h', 'greaterThan', 3)).toBe(true);
    expect(check('tenantCount1h', 'greaterThan', '3')).toBe(false);
  });
});
