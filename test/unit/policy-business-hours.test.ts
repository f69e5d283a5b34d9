import { describe, expect, it } from 'vitest';
import { businessHours, localTime, outsideBusinessHours } from '../../plugins/business-hours.js';
import { evaluatePolicy } from '../../src/policy/engine.js';
import type { RuleSet, TenantPolicyConfig, Transaction } from '../../src/policy/types.js';

const paris: TenantPolicyConfig = {
  timeZone: 'Europe/Paris',
  businessHours: { days: [1, 2, 3, 4, 5], start: '09:00', end: '18:00' },
  holidays: ['2024-04-01', '2024-05-01'],
  denyList: [],
  allowList: [],
  sanctions: [],
  prices: {},
  fiatCurrency: 'EUR',
  initiators: [],
  approvers: [],
  escalationExpiresAfter: 86_400,
};
const newYork: TenantPolicyConfig = { ...paris, timeZone: 'America/New_York', holidays: [] };
const tx = (at: string): Transaction => ({
  tenant: 'acme',
  walletId: 'w1',
  chain: 'eth',
  asset: 'ETH',
  amount: '1',
  destination: '0x01',
  initiator: 'alice',
  at,
});

const ruleSet: RuleSet = {
  version: 1,
  defaultOutcome: 'allow',
  rules: [
    {
      name: 'after-hours',
      conditions: { all: [{ fact: 'outsideBusinessHours', operator: 'outsideBusinessHours', value: true }] },
      event: {
        type: 'escalate',
        params: {
          reason: 'sent at {{localHour}}h on weekday {{localWeekday}} ({{localDate}})',
          approvals: { ops: 1 },
        },
      },
    },
  ],
};

describe('business hours plugin', () => {
  // [case, config, at, outside, local date, weekday, hour]
  it.each([
    ['Tuesday 09:30 CEST: inside', paris, '2024-04-02T07:30:00Z', false, '2024-04-02', 2, 9],
    [
      'same UTC time before DST: Friday 08:30 CET, outside',
      paris,
      '2024-03-29T07:30:00Z',
      true,
      '2024-03-29',
      5,
      8,
    ],
    ['start is inclusive: 09:00 CET', paris, '2024-03-29T08:00:00Z', false, '2024-03-29', 5, 9],
    ['end is exclusive: 18:00 CEST', paris, '2024-04-02T16:00:00Z', true, '2024-04-02', 2, 18],
    ['17:59 CEST is inside', paris, '2024-04-02T15:59:00Z', false, '2024-04-02', 2, 17],
    ['explicit offset, same instant', paris, '2024-04-02T09:30:00+02:00', false, '2024-04-02', 2, 9],
    ['Saturday noon: weekend', paris, '2024-04-06T10:00:00Z', true, '2024-04-06', 6, 12],
    ['Easter Monday noon: holiday', paris, '2024-04-01T10:00:00Z', true, '2024-04-01', 1, 12],
    [
      'UTC says April 30, Paris says May 1 (holiday)',
      paris,
      '2024-04-30T22:30:00Z',
      true,
      '2024-05-01',
      3,
      0,
    ],
    ['DST start night: 01:30Z is 03:30 CEST', paris, '2024-03-31T01:30:00Z', true, '2024-03-31', 7, 3],
    ['DST end, first 02:30 (CEST)', paris, '2024-10-27T00:30:00Z', true, '2024-10-27', 7, 2],
    ['DST end, second 02:30 (CET)', paris, '2024-10-27T01:30:00Z', true, '2024-10-27', 7, 2],
    ['New York, day after DST start: 09:30 EDT', newYork, '2024-03-11T13:30:00Z', false, '2024-03-11', 1, 9],
    ['New York, before DST: 08:30 EST', newYork, '2024-03-08T13:30:00Z', true, '2024-03-08', 5, 8],
    [
      'New York, Friday evening is Saturday in UTC',
      newYork,
      '2024-04-06T01:00:00Z',
      true,
      '2024-04-05',
      5,
      21,
    ],
  ] as const)('%s', async (_n, cfg, at, outside, date, weekday, hour) => {
    expect(localTime(at, cfg.timeZone)).toMatchObject({ date, weekday, hour });
    expect(outsideBusinessHours(cfg, tx(at))).toBe(outside);
    const d = await evaluatePolicy(ruleSet, cfg, tx(at));
    expect(d.outcome).toBe(outside ? 'escalate' : 'allow');
    if (outside) expect(d.fired[0]?.reason).toBe(`sent at ${hour}h on weekday ${weekday} (${date})`);
  });

  it('isHoliday uses the local date', () => {
    expect(businessHours.facts.isHoliday?.(paris, tx('2024-04-30T22:30:00Z'), {})).toBe(true);
    expect(businessHours.facts.isHoliday?.(paris, tx('2024-04-30T21:30:00Z'), {})).toBe(false);
  });

  it.each([
    ['unknown zone', { ...paris, timeZone: 'Mars/Olympus_Mons' }, /Invalid time zone/i],
    ['empty zone (would mean the server zone)', { ...paris, timeZone: '' }, /time zone is not set/],
    [
      'end before start',
      { ...paris, businessHours: { days: [1], start: '18:00', end: '09:00' } },
      /not after start/,
    ],
    ['malformed start', { ...paris, businessHours: { days: [1], start: '9am', end: '18:00' } }, /HH:MM/],
    [
      'weekday out of range',
      { ...paris, businessHours: { days: [0], start: '09:00', end: '18:00' } },
      /weekday numbers/,
    ],
    [
      'holiday calendar missing',
      { ...paris, holidays: undefined as unknown as string[] },
      /holiday calendar/,
    ],
  ])('fails closed: %s', async (_n, cfg, why) => {
    // Tuesday 09:30 CEST would be inside business hours with a good config
    const d = await evaluatePolicy(ruleSet, cfg, tx('2024-04-02T07:30:00Z'));
    expect(d.outcome).toBe('escalate');
    expect(d.approvals).toEqual({ ops: 1 });
    expect(d.fired[0]?.failedClosed).toBe(true);
    expect(d.fired[0]?.reason).toMatch(/fact "outsideBusinessHours" could not be determined/);
    expect(d.fired[0]?.reason).toMatch(why);
  });

  it('the operator refuses non-booleans', () => {
    expect(businessHours.operators.outsideBusinessHours?.(true, true, paris)).toBe(true);
    expect(businessHours.operators.outsideBusinessHours?.(false, true, paris)).toBe(false);
    expect(() => businessHours.operators.outsideBusinessHours?.('true', true, paris)).toThrow();
  });
});
