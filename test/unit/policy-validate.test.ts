import { describe, expect, it } from 'vitest';
import { lineColumn, scanJson } from '../../src/policy/json-positions.js';
import { validateRuleSet } from '../../src/policy/engine.js';

// line numbers below are 1-based lines of this text
const text = `{
  "version": 3,
  "defaultOutcome": "allow",
  "rules": [
    {
      "name": "big",
      "conditions": {
        "all": [
          { "fact": "fiatValue", "operator": "fiatGreaterThan", "value": "10000" },
          { "fact": "destination", "operator": "isEvil", "value": true }
        ]
      },
      "event": { "type": "escalate", "params": { "reason": "{{fiatValue}} USD", "approvals": { "risk": 2 } } }
    },
    {
      "name": "typo",
      "conditions": {
        "any": [
          {
            "fact": "fiatValu",
            "operator": "equal",
            "value": 1
          }
        ]
      },
      "event": { "type": "block", "params": { "reason": "typo" } }
    }
  ]
}`;

const errorsOf = (json: string) => {
  const r = validateRuleSet(json);
  if (r.ok) throw new Error('expected errors');
  return r.errors;
};

describe('validateRuleSet', () => {
  it('points at an unknown operator and an unknown fact', () => {
    const errors = errorsOf(text);
    expect(errors).toHaveLength(2);
    expect(errors[0]).toMatchObject({ line: 10, column: 36 });
    expect(errors[0]?.message).toMatch(
      /^rules\[0\]\.conditions\.all\[1\]\.operator: unknown operator "isEvil"/,
    );
    expect(errors[1]).toMatchObject({ line: 20, column: 13 });
    // cross-check against the text itself
    const lines = text.split('\n');
    expect(lines[9]?.indexOf('"operator": "isEvil"')).toBe(36 - 1);
    expect(lines[19]?.indexOf('"fact": "fiatValu"')).toBe(13 - 1);
    expect(errors[1]?.message).toMatch(/^rules\[1\]\.conditions\.any\[0\]\.fact: unknown fact "fiatValu"/);
  });

  it('accepts the corrected rule set', () => {
    const fixed = text
      .replace('"isEvil"', '"inDenyList"')
      .replace('"fiatValu"', '"fiatValue"')
      .replace('"value": 1', '"value": "1"');
    const r = validateRuleSet(fixed.replace('"operator": "equal"', '"operator": "fiatGreaterThan"'));
    expect(r.ok).toBe(true);
    if (r.ok) expect(r.ruleSet.rules.map((x) => x.name)).toEqual(['big', 'typo']);
  });

  it.each([
    ['a trailing comma', '{\n  "version": 1,\n}', 3, 1],
    ['a missing comma', '{\n  "version": 1\n  "rules": []\n}', 3, 3],
    ['a bad literal (V8 gives no position)', '{\n  "version": tru\n}', 2, 14],
    ['an unterminated string', '{\n  "version": "1', 2, 16],
    ['text after the value', '{}\n  x', 2, 3],
  ])('reports a JSON syntax error position: %s', (_n, json, line, column) => {
    const errors = errorsOf(json);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({ line, column });
    expect(errors[0]?.message).toMatch(/^invalid JSON: /);
  });

  const rule = (patch: string) => `{"version": 1, "defaultOutcome": "allow", "rules": [
{"name": "r", "conditions": {"all": [{"fact": "chain", "operator": "equal", "value": "eth"}]},
 "event": {"type": "block", "params": {"reason": "r"}}}${patch}]}`;
  it.each([
    [
      'a bad event type',
      rule(
        ',\n{"name": "s", "conditions": {"not": {"fact": "chain", "operator": "equal", "value": "x"}}, "event": {"type": "deny", "params": {"reason": "s"}}}',
      ),
      4,
      /event type must be block, escalate or flag, got "deny"/,
    ],
    [
      'a missing reason',
      rule(
        ',\n{"name": "s", "conditions": {"any": [{"fact": "chain", "operator": "equal", "value": "x"}]}, "event": {"type": "flag", "params": {}}}',
      ),
      4,
      /needs a reason/,
    ],
    [
      'zero approvals',
      rule(
        ',\n{"name": "s", "conditions": {"any": [{"fact": "chain", "operator": "equal", "value": "x"}]}, "event": {"type": "escalate", "params": {"reason": "s", "approvals": {"risk": 0}}}}',
      ),
      4,
      /approvals for risk must be a positive integer, got 0/,
    ],
    [
      'fractional approvals',
      rule(
        ',\n{"name": "s", "conditions": {"any": [{"fact": "chain", "operator": "equal", "value": "x"}]}, "event": {"type": "escalate", "params": {"reason": "s", "approvals": {"risk": 1.5}}}}',
      ),
      4,
      /positive integer, got 1.5/,
    ],
    [
      'a duplicate rule name',
      rule(
        ',\n{"name": "r", "conditions": {"any": [{"fact": "chain", "operator": "equal", "value": "x"}]}, "event": {"type": "flag", "params": {"reason": "s"}}}',
      ),
      4,
      /duplicate rule name "r"/,
    ],
    [
      'a numeric fiat limit (float)',
      rule(
        ',\n{"name": "s", "conditions": {"any": [{"fact": "fiatValue", "operator": "fiatGreaterThan", "value": 10000}]}, "event": {"type": "flag", "params": {"reason": "s"}}}',
      ),
      4,
      /decimal string/,
    ],
    [
      'a misspelt key',
      rule(
        ',\n{"name": "s", "conditions": {"any": [{"fact": "chain", "operator": "equal", "vaule": "x"}]}, "event": {"type": "flag", "params": {"reason": "s"}}}',
      ),
      4,
      /unknown key "vaule"/,
    ],
    [
      'a JSONPath expression',
      rule(
        ',\n{"name": "s", "conditions": {"any": [{"fact": "metadata", "path": "$..[?(@.x)]", "operator": "equal", "value": "x"}]}, "event": {"type": "flag", "params": {"reason": "s"}}}',
      ),
      4,
      /path must look like/,
    ],
    [
      'an empty any',
      rule(
        ',\n{"name": "s", "conditions": {"any": []}, "event": {"type": "flag", "params": {"reason": "s"}}}',
      ),
      4,
      /any must be a non-empty array/,
    ],
    [
      'an unknown placeholder',
      rule(
        ',\n{"name": "s", "conditions": {"any": [{"fact": "chain", "operator": "equal", "value": "x"}]}, "event": {"type": "flag", "params": {"reason": "{{price}}"}}}',
      ),
      4,
      /unknown fact \{\{price\}\}/,
    ],
    [
      'a duplicate JSON key',
      rule(
        ',\n{"name": "s", "conditions": {"any": [{"fact": "chain", "operator": "equal", "operator": "in", "value": "x"}]}, "event": {"type": "flag", "params": {"reason": "s"}}}',
      ),
      4,
      /duplicate key "operator"/,
    ],
  ])('reports %s on its line', (_n, json, line, why) => {
    const errors = errorsOf(json);
    expect(
      errors.some((e) => e.line === line && why.test(e.message)),
      JSON.stringify(errors),
    ).toBe(true);
  });

  it.each([
    [
      'a bad default outcome',
      '{"version": 1, "defaultOutcome": "block", "rules": []}',
      /defaultOutcome must be "allow" or "escalate"/,
    ],
    [
      'a missing version',
      '{"defaultOutcome": "allow", "rules": []}',
      /version must be a non-negative integer/,
    ],
    [
      'bad default approvals',
      '{"version": 1, "defaultOutcome": "escalate", "defaultApprovals": {"__proto__": 1}, "rules": []}',
      /bad role name/,
    ],
    ['a non-object', '[]', /rule set must be an object/],
  ])('reports %s', (_n, json, why) => {
    expect(
      errorsOf(json)
        .map((e) => e.message)
        .join('\n'),
    ).toMatch(why);
  });

  it('scans positions and line/columns', () => {
    const json = '{\n  "a": [1, {"b": 2}],\n  "c": 3\n}';
    const layout = scanJson(json);
    expect(lineColumn(json, layout.offsetOf(['a', 1, 'b']))).toEqual({ line: 2, column: 13 });
    expect(lineColumn(json, layout.offsetOf(['c']))).toEqual({ line: 3, column: 3 });
    expect(lineColumn(json, layout.offsetOf(['c', 'missing']))).toEqual({ line: 3, column: 3 });
    expect(() => scanJson('['.repeat(200) + ']'.repeat(200))).toThrow(/nested too deeply/);
  });
});
