import { describe, expect, it } from 'vitest';
import { addressScreening, normalizeAddress } from '../../plugins/address-screening.js';
import { evaluatePolicy } from '../../src/policy/engine.js';
import type { RuleSet, RuleSpec, TenantPolicyConfig, Transaction } from '../../src/policy/types.js';

const config: TenantPolicyConfig = {
  timeZone: 'Europe/Paris',
  businessHours: { days: [1, 2, 3, 4, 5], start: '09:00', end: '18:00' },
  holidays: [],
  denyList: ['0xDEAD00000000000000000000000000000000BEEF', 'bc1qdenied'],
  allowList: ['0xAbC0000000000000000000000000000000000001', '1BoatSLRHtKNngkdXEeobR76b53LETtpyT'],
  sanctions: ['0x5a1c000000000000000000000000000000000000'],
  prices: { ETH: '3000' },
  fiatCurrency: 'USD',
  initiators: [],
  approvers: [],
  escalationExpiresAfter: 86_400,
};
const base: Transaction = {
  tenant: 'acme',
  walletId: 'w1',
  chain: 'eth',
  asset: 'ETH',
  amount: '1',
  destination: '0xabc0000000000000000000000000000000000001',
  initiator: 'alice',
  at: '2024-04-02T07:30:00Z',
};

const rules: RuleSpec[] = [
  {
    name: 'deny-list',
    conditions: { all: [{ fact: 'destination', operator: 'inDenyList', value: true }] },
    event: { type: 'block', params: { reason: '{{destination}} is on the deny list' } },
  },
  {
    name: 'sanctions',
    conditions: { all: [{ fact: 'inSanctionsList', operator: 'equal', value: true }] },
    event: { type: 'block', params: { reason: '{{destination}} is sanctioned' } },
  },
  {
    name: 'unknown-destination',
    conditions: { all: [{ fact: 'destination', operator: 'notInAllowList', value: true }] },
    event: {
      type: 'escalate',
      params: { reason: '{{destination}} is not on the allow list', approvals: { risk: 2 } },
    },
  },
];
const ruleSet: RuleSet = { version: 3, defaultOutcome: 'allow', rules };

describe('address screening plugin', () => {
  it.each([
    ['allow-listed hex, other case', '0xABC0000000000000000000000000000000000001', config, 'allow', []],
    ['allow-listed hex with spaces', '  0xabc0000000000000000000000000000000000001 ', config, 'allow', []],
    ['allow-listed base58', '1BoatSLRHtKNngkdXEeobR76b53LETtpyT', config, 'allow', []],
    [
      'base58 compared exactly: case differs',
      '1boatslrhtknngkdxeeobr76b53lettpyt',
      config,
      'escalate',
      ['unknown-destination'],
    ],
    [
      'deny list hit, hex case-insensitive',
      '0xdead00000000000000000000000000000000beef',
      config,
      'block',
      ['deny-list', 'unknown-destination'],
    ],
    ['deny list hit, bech32', 'bc1qdenied', config, 'block', ['deny-list', 'unknown-destination']],
    ['bech32 not upper-cased into a hit', 'BC1QDENIED', config, 'escalate', ['unknown-destination']],
    [
      'allow list miss',
      '0x1111111111111111111111111111111111111111',
      config,
      'escalate',
      ['unknown-destination'],
    ],
    [
      'sanctions hit',
      '0x5A1C000000000000000000000000000000000000',
      config,
      'block',
      ['sanctions', 'unknown-destination'],
    ],
  ] as const)('%s', async (_n, destination, cfg, outcome, fired) => {
    const d = await evaluatePolicy(ruleSet, cfg, { ...base, destination });
    expect(d.outcome).toBe(outcome);
    expect(d.fired.map((f) => f.rule)).toEqual(fired);
    expect(d.fired.every((f) => !f.failedClosed)).toBe(true);
  });

  it('fills the reason with the normalized destination', async () => {
    const d = await evaluatePolicy(ruleSet, config, {
      ...base,
      destination: '0xDEAD00000000000000000000000000000000BEEF',
    });
    expect(d.fired[0]?.reason).toBe('0xdead00000000000000000000000000000000beef is on the deny list');
  });

  it('sanctions list unavailable: the sanctions rule fails closed as a block', async () => {
    const d = await evaluatePolicy(ruleSet, { ...config, sanctions: undefined }, base);
    expect(d.outcome).toBe('block');
    expect(d.fired).toHaveLength(1);
    expect(d.fired[0]).toMatchObject({ rule: 'sanctions', action: 'block', failedClosed: true });
    expect(d.fired[0]?.reason).toMatch(
      /fact "inSanctionsList" could not be determined: sanctions list is unavailable/,
    );
  });

  it('sanctions list unavailable: an operator-based flag rule fails closed as an escalation, never allow', async () => {
    const flagOnly: RuleSet = {
      version: 1,
      defaultOutcome: 'allow',
      defaultApprovals: { compliance: 1 },
      rules: [
        {
          name: 'sanctions-flag',
          conditions: { any: [{ fact: 'destination', operator: 'inSanctionsList', value: true }] },
          event: { type: 'flag', params: { reason: 'sanctioned', flag: 'sanctioned' } },
        },
      ],
    };
    const ok = await evaluatePolicy(flagOnly, config, base);
    expect(ok.outcome).toBe('allow');
    const d = await evaluatePolicy(flagOnly, { ...config, sanctions: undefined }, base);
    expect(d.outcome).toBe('escalate');
    expect(d.approvals).toEqual({ compliance: 1 });
    expect(d.flags).toEqual([]);
    expect(d.fired[0]?.failedClosed).toBe(true);
    expect(d.fired[0]?.reason).toMatch(
      /operator "inSanctionsList" on fact "destination" failed: sanctions list is unavailable/,
    );
  });

  it('facts and operators directly', () => {
    expect(normalizeAddress(' 0XABCdef ')).toBe('0xabcdef');
    expect(normalizeAddress('bc1QaBc')).toBe('bc1QaBc');
    const deny = { ...base, destination: 'bc1qdenied' };
    expect(addressScreening.facts.inDenyList?.(config, deny, {})).toBe(true);
    expect(addressScreening.facts.inAllowList?.(config, deny, {})).toBe(false);
    expect(addressScreening.operators.inDenyList?.('bc1qdenied', false, config)).toBe(false);
    expect(() => addressScreening.operators.inDenyList?.('bc1qdenied', 'yes', config)).toThrow(
      /true or false/,
    );
    expect(() =>
      addressScreening.facts.inSanctionsList?.({ ...config, sanctions: undefined }, base, {}),
    ).toThrow(/unavailable/);
    expect(addressScreening.checkValue?.('inDenyList', 1)).toMatch(/true or false/);
  });
});
