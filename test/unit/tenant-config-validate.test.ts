import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  actorKeyFields,
  businessHoursFields,
  parseTenantPolicyConfig,
  tenantPolicyConfigFields,
} from '../../src/policy/tenant-config.js';
import { checkTenantPolicyConfigJson } from '../../src/policy/validate.js';

const root = join(import.meta.dirname, '..', '..');
const exampleText = readFileSync(join(root, 'docs', 'examples', 'policy-config.json'), 'utf8');
const docText = readFileSync(join(root, 'docs', 'tenant-config.md'), 'utf8');

describe('tenant policy config: the documented example', () => {
  it('parses, and every field the parser knows is in the example and documented', () => {
    const checked = checkTenantPolicyConfigJson(exampleText);
    expect(checked.ok, JSON.stringify(checked)).toBe(true);
    const example = JSON.parse(exampleText) as Record<string, unknown>;
    // the parser's own list of fields: a new field without an example or documentation fails here
    for (const f of tenantPolicyConfigFields) {
      expect(Object.keys(example), f).toContain(f);
      expect(docText, f).toContain(`### \`${f}\``);
    }
    expect(Object.keys(example.businessHours as object).sort()).toEqual([...businessHoursFields].sort());
    const approvers = example.approvers as Record<string, unknown>[];
    for (const f of actorKeyFields)
      expect(
        approvers.some((a) => f in a),
        f,
      ).toBe(true);
    for (const f of [...businessHoursFields, ...actorKeyFields]) expect(docText, f).toContain(`\`${f}\``);
  });

  it('checks valid configs as before: defaults fill what is left out', () => {
    const c = parseTenantPolicyConfig({ denyList: ['x'] });
    expect(c).toMatchObject({ timeZone: 'UTC', denyList: ['x'], escalationExpiresAfter: 86_400 });
    expect(parseTenantPolicyConfig({ sanctions: undefined }).sanctions).toBeUndefined();
  });
});

describe('tenant policy config: errors with line, column and path', () => {
  const lineOf = (text: string, needle: string) => text.split('\n').findIndex((l) => l.includes(needle)) + 1;

  it('reports every problem at once, at its key or element', () => {
    const text = [
      '{',
      '  "timeZone": "Mars/Olympus",',
      '  "businessHours": { "days": [1, 8], "start": "9am", "end": "18:00" },',
      '  "holidays": ["25/12/2026"],',
      '  "prices": { "BTC": 65000 },',
      '  "approvers": [{ "id": "alice", "publicKey": "ab", "roles": [] }],',
      '  "escalationExpiresAfter": 0,',
      '  "allowPrivateWebhookEndpoints": "yes",',
      '  "colour": "blue"',
      '}',
    ].join('\n');
    const r = checkTenantPolicyConfigJson(text);
    expect(r.ok).toBe(false);
    if (r.ok) return;
    const at = (path: string) => r.errors.find((e) => e.message.startsWith(`${path}:`));
    const expectAt = (path: string, line: number, column: number, expected: RegExp) => {
      const e = at(path);
      expect(e, path).toBeDefined();
      expect({ line: e!.line, column: e!.column }, path).toEqual({ line, column });
      expect(e!.message).toMatch(expected);
    };
    expectAt('timeZone', 2, 3, /IANA time zone/);
    expectAt('businessHours.days[1]', 3, text.split('\n')[2]!.indexOf('8]') + 1, /1 \(Monday\) to 7/);
    expectAt('businessHours.start', 3, text.split('\n')[2]!.indexOf('"start"') + 1, /HH:MM/);
    expectAt('holidays[0]', lineOf(text, '25/12'), 16, /YYYY-MM-DD/);
    expectAt('prices.BTC', 5, text.split('\n')[4]!.indexOf('"BTC"') + 1, /decimal string/);
    expectAt(
      'approvers[0].publicKey',
      6,
      text.split('\n')[5]!.indexOf('"publicKey"') + 1,
      /64 lowercase hex/,
    );
    expectAt('approvers[0].roles', 6, text.split('\n')[5]!.indexOf('"roles"') + 1, /non-empty list/);
    expectAt('escalationExpiresAfter', 7, 3, /1 to 2592000/);
    expectAt('allowPrivateWebhookEndpoints', 8, 3, /true or false/);
    expectAt('colour', 9, 3, /unknown field "colour"/);
    expect(r.errors).toHaveLength(10);
  });

  it('reports JSON syntax errors and duplicate keys with a position', () => {
    const bad = checkTenantPolicyConfigJson('{\n  "timeZone": "UTC",\n  "denyList": [1,]\n}');
    expect(bad.ok).toBe(false);
    if (!bad.ok)
      expect(bad.errors[0]).toMatchObject({ line: 3, message: expect.stringMatching(/invalid JSON/) });
    const dup = checkTenantPolicyConfigJson('{\n  "timeZone": "UTC",\n  "timeZone": "Europe/Paris"\n}');
    expect(dup.ok).toBe(false);
    if (!dup.ok)
      expect(dup.errors).toEqual([{ line: 3, column: 3, message: 'timeZone: duplicate key "timeZone"' }]);
  });

  it('the throwing parser names the first problem by path', () => {
    expect(() => parseTenantPolicyConfig({ initiators: [{ id: 'a b', publicKey: 'x' }] })).toThrow(
      /policy config: initiators\[0\]\.id: id must be/,
    );
    expect(() => parseTenantPolicyConfig([])).toThrow(/policy config must be a JSON object/);
    expect(() =>
      parseTenantPolicyConfig({ businessHours: { days: [1], start: '18:00', end: '09:00' } }),
    ).toThrow(/businessHours\.end: end 09:00 must be after start 18:00/);
  });
});
