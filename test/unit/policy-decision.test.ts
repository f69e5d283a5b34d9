import { describe, expect, it } from 'vitest';
import { combineDecision } from '../../src/policy/decision.js';
import type { Decision, FiredRule, RuleSet } from '../../src/policy/types.js';

const allow: Pick<RuleSet, 'version' | 'defaultOutcome' | 'defaultApprovals'> = {
  version: 7,
  defaultOutcome: 'allow',
};
const escalate = { version: 7, defaultOutcome: 'escalate' as const, defaultApprovals: { ops: 2 } };

const block = (rule: string): FiredRule => ({ rule, action: 'block', reason: rule });
const esc = (rule: string, approvals?: Record<string, number>): FiredRule => ({
  rule,
  action: 'escalate',
  reason: rule,
  ...(approvals ? { approvals } : {}),
});
const flag = (rule: string, f?: string): FiredRule => ({
  rule,
  action: 'flag',
  reason: rule,
  ...(f ? { flag: f } : {}),
});

type Row = [
  string,
  FiredRule[],
  typeof allow,
  Pick<Decision, 'outcome' | 'approvals' | 'flags' | 'defaulted'>,
];
const rows: Row[] = [
  [
    'nothing fired: default allow',
    [],
    allow,
    { outcome: 'allow', approvals: {}, flags: [], defaulted: true },
  ],
  [
    'nothing fired: default escalate',
    [],
    escalate,
    { outcome: 'escalate', approvals: { ops: 2 }, flags: [], defaulted: true },
  ],
  [
    'default escalate without approvals asks risk',
    [],
    { version: 1, defaultOutcome: 'escalate' },
    { outcome: 'escalate', approvals: { risk: 1 }, flags: [], defaulted: true },
  ],
  ['a block blocks', [block('b')], allow, { outcome: 'block', approvals: {}, flags: [], defaulted: false }],
  [
    'block wins over escalations',
    [esc('e1', { risk: 3 }), block('b'), esc('e2', { cfo: 1 })],
    allow,
    { outcome: 'block', approvals: {}, flags: [], defaulted: false },
  ],
  [
    'block wins over a default escalate',
    [block('b')],
    escalate,
    { outcome: 'block', approvals: {}, flags: [], defaulted: false },
  ],
  [
    'strictest count per role',
    [esc('e1', { risk: 1, cfo: 2 }), esc('e2', { risk: 3 }), esc('e3', { cfo: 1, legal: 1 })],
    allow,
    { outcome: 'escalate', approvals: { risk: 3, cfo: 2, legal: 1 }, flags: [], defaulted: false },
  ],
  [
    'an escalation without approvals uses the default approvals',
    [esc('e1'), esc('e2', { ops: 1, risk: 1 })],
    escalate,
    { outcome: 'escalate', approvals: { ops: 2, risk: 1 }, flags: [], defaulted: false },
  ],
  [
    'flags never change a default allow',
    [flag('f1', 'new-destination'), flag('f2'), flag('f3', 'new-destination')],
    allow,
    { outcome: 'allow', approvals: {}, flags: ['new-destination', 'f2'], defaulted: true },
  ],
  [
    'flags never change a block',
    [flag('f1', 'x'), block('b')],
    allow,
    { outcome: 'block', approvals: {}, flags: ['x'], defaulted: false },
  ],
  [
    'flags never change an escalation',
    [flag('f1', 'x'), esc('e', { risk: 2 })],
    allow,
    { outcome: 'escalate', approvals: { risk: 2 }, flags: ['x'], defaulted: false },
  ],
  [
    'a role named __proto__ is kept as a role',
    [esc('e', { ['__proto__']: 2 })],
    allow,
    { outcome: 'escalate', approvals: JSON.parse('{"__proto__": 2}'), flags: [], defaulted: false },
  ],
];

describe('combineDecision', () => {
  it.each(rows)('%s', (_name, fired, ruleSet, want) => {
    const d = combineDecision(fired, ruleSet);
    expect({ outcome: d.outcome, approvals: d.approvals, flags: d.flags, defaulted: d.defaulted }).toEqual(
      want,
    );
    expect(d.rulesVersion).toBe(ruleSet.version);
    expect(d.fired).toEqual(fired);
  });

  it('does not depend on the order rules fired in', () => {
    const fired = [esc('a', { risk: 1, cfo: 4 }), flag('f'), esc('b', { risk: 2 })];
    const x = combineDecision(fired, allow);
    const y = combineDecision([...fired].reverse(), allow);
    expect(y.outcome).toBe(x.outcome);
    expect(y.approvals).toEqual(x.approvals);
  });

  it('escalates when the default outcome is not exactly allow', () => {
    const d = combineDecision([], { version: 1, defaultOutcome: 'block' as unknown as 'allow' });
    expect(d.outcome).toBe('escalate');
  });
});
