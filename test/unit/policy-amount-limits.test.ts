import { describe, expect, it } from 'vitest';
import { amountLimits, fiatValue } from '../../plugins/amount-limits.js';
import { evaluatePolicy } from '../../src/policy/engine.js';
import type { RuleSet, TenantPolicyConfig, Transaction } from '../../src/policy/types.js';

const config: TenantPolicyConfig = {
  timeZone: 'UTC',
  businessHours: { days: [1, 2, 3, 4, 5, 6, 7], start: '00:00', end: '23:59' },
  holidays: [],
  denyList: [],
  allowList: [],
  sanctions: [],
  prices: { ETH: '3000.25', WEI: '0.000000000000003', USDC: '1', TENTH: '0.1' },
  fiatCurrency: 'USD',
  initiators: [],
  approvers: [],
  escalationExpiresAfter: 86_400,
};
const tx = (asset: string, amount: string): Transaction => ({
  tenant: 'acme',
  walletId: 'w1',
  chain: 'eth',
  asset,
  amount,
  destination: '0x01',
  initiator: 'alice',
  at: '2024-04-02T07:30:00Z',
});

const ruleSet: RuleSet = {
  version: 9,
  defaultOutcome: 'allow',
  rules: [
    {
      name: 'fiat-limit',
      conditions: { all: [{ fact: 'fiatValue', operator: 'fiatGreaterThan', value: '10000' }] },
      event: {
        type: 'escalate',
        params: {
          reason: 'amount {{fiatValue}} USD is over the 10000 USD limit',
          approvals: { treasury: 2 },
        },
      },
    },
    {
      name: 'asset-limit',
      conditions: { all: [{ fact: 'amount', operator: 'amountGreaterThan', value: '1000000' }] },
      event: { type: 'block', params: { reason: '{{amount}} {{asset}} is over the hard limit' } },
    },
  ],
};

describe('amount limits plugin', () => {
  // [case, asset, amount, fiat value, outcome]
  it.each([
    ['exactly at the fiat limit is not over it', 'USDC', '10000', '10000', 'allow'],
    [
      'one 18-decimal unit over the limit',
      'USDC',
      '10000.000000000000000001',
      '10000.000000000000000001',
      'escalate',
    ],
    ['0.1 × 0.3 style: 0.3 TENTH is worth exactly 0.03', 'TENTH', '0.3', '0.03', 'allow'],
    [
      '100000.0000000000000001 TENTH is over by 1e-17',
      'TENTH',
      '100000.0000000000000001',
      '10000.00000000000000001',
      'escalate',
    ],
    ['3.334 ETH × 3000.25', 'ETH', '3.334', '10002.8335', 'escalate'],
    ['3.3329 ETH stays under', 'ETH', '3.3329', '9999.533225', 'allow'],
    ['18-decimal ETH amount', 'ETH', '1.000000000000000001', '3000.25000000000000300025', 'allow'],
    [
      'tiny price, 18-decimal amount',
      'WEI',
      '999999.999999999999999999',
      '0.000000002999999999999999999999997',
      'allow',
    ],
    ['trailing zeros do not matter', 'USDC', '10000.000', '10000', 'allow'],
    ['over the hard asset limit blocks', 'USDC', '1000000.1', '1000000.1', 'block'],
  ])('%s', async (_n, asset, amount, value, outcome) => {
    expect(fiatValue(config, tx(asset, amount))).toBe(value);
    const d = await evaluatePolicy(ruleSet, config, tx(asset, amount));
    expect(d.outcome).toBe(outcome);
    expect(d.fired.every((f) => !f.failedClosed)).toBe(true);
  });

  it('the reason carries the exact fiat value', async () => {
    const d = await evaluatePolicy(ruleSet, config, tx('ETH', '3.334'));
    expect(d.fired[0]?.reason).toBe('amount 10002.8335 USD is over the 10000 USD limit');
    expect(d.approvals).toEqual({ treasury: 2 });
  });

  it.each([
    ['asset without a price', 'DOGE'],
    ['asset named after an Object.prototype member', 'constructor'],
  ])('missing price fails closed: %s', async (_n, asset) => {
    const d = await evaluatePolicy(ruleSet, config, tx(asset, '0.0001'));
    expect(d.outcome).toBe('escalate');
    expect(d.approvals).toEqual({ treasury: 2 });
    expect(d.fired).toHaveLength(1);
    expect(d.fired[0]).toMatchObject({ rule: 'fiat-limit', action: 'escalate', failedClosed: true });
    expect(d.fired[0]?.reason).toContain(
      `fact "fiatValue" could not be determined: no USD price for asset "${asset}"`,
    );
    expect(d.fired[0]?.reason).toContain('amount <unknown> USD');
  });

  it('a malformed price fails closed', async () => {
    const d = await evaluatePolicy(ruleSet, { ...config, prices: { ETH: '3e3' } }, tx('ETH', '1'));
    expect(d.outcome).toBe('escalate');
    expect(d.fired[0]?.reason).toMatch(/price of ETH must be a decimal string/);
  });

  it('operators compare decimal strings exactly and refuse numbers', () => {
    const gt = amountLimits.operators.amountGreaterThan;
    expect(gt?.('0.30000000000000004', '0.3', config)).toBe(true);
    expect(gt?.('0.3', '0.3', config)).toBe(false);
    expect(gt?.('10', '9', config)).toBe(true); // not a text comparison
    expect(() => gt?.('10', 9, config)).toThrow(/decimal string/);
    expect(() => gt?.(10, '9', config)).toThrow(/decimal string/);
    expect(amountLimits.checkValue?.('fiatGreaterThan', 10000)).toMatch(/decimal string/);
    expect(amountLimits.checkValue?.('fiatGreaterThan', '10000')).toBeUndefined();
  });
});
