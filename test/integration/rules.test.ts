/**
 * Rule set versions on the real stack, through the CLI as a risk team uses it: publishing is
 * validated, every version is kept with who published it, when and what changed, a rollback
 * publishes an old version again as a new one, and concurrent publishers never share a number.
 */
import { readFileSync, writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { RuleSetVersion } from '../../src/policy/contracts.js';
import { projectRoot } from '../../src/stack/paths.js';
import { conclave, json, stackEnv } from './helpers.js';

const example = readFileSync(join(projectRoot, 'docs', 'examples', 'rules.json'), 'utf8');
const env = { ...stackEnv(), CONCLAVE_ACTOR: 'bob@risk' };
const run = (args: string[]) => conclave([...args, '--json'], env);

describe('rule set versions', () => {
  it('publish, change, roll back, history: immutable versions with who, when and the diff', async () => {
    const tenant = `risk-${Date.now().toString(36)}`;
    const dir = mkdtempSync(join(tmpdir(), 'conclave-rules-'));
    const file = (name: string, text: string) => {
      const f = join(dir, name);
      writeFileSync(f, text);
      return f;
    };

    const invalid = await run([
      'rules',
      'publish',
      file('bad.json', example.replace('"block"', '"blok"')),
      '--tenant',
      tenant,
    ]);
    expect(invalid.code).toBe(1);
    expect(json(invalid)).toMatchObject({ code: 'BAD_INPUT' });
    expect(String(json(invalid).message)).toMatch(/line \d+, column \d+/);

    const v1 = json(
      await run(['rules', 'publish', file('v1.json', example), '--tenant', tenant]),
    ) as unknown as RuleSetVersion;
    expect(v1).toMatchObject({ version: 1, current: true, previous: 0, publishedBy: 'bob@risk', rules: 4 });
    expect(v1.diff.added).toHaveLength(4);

    const changed = JSON.parse(example) as {
      rules: { name: string; event: { params: { reason: string } } }[];
    };
    changed.rules = changed.rules.filter((r) => r.name !== 'memo present');
    changed.rules[0]!.event.params.reason = 'blocked: {{destination}} is deny-listed';
    changed.rules.push({ ...structuredClone(changed.rules[1]!), name: 'large transfer, second look' });
    const v2 = json(
      await run(['rules', 'publish', file('v2.json', JSON.stringify(changed)), '--tenant', tenant]),
    ) as unknown as RuleSetVersion;
    expect(v2).toMatchObject({ version: 2, previous: 1 });
    expect(v2.diff).toEqual({
      added: ['large transfer, second look'],
      removed: ['memo present'],
      changed: ['deny-listed destination'],
    });

    const v3 = json(
      await run(['rules', 'rollback', '--to', '1', '--tenant', tenant]),
    ) as unknown as RuleSetVersion;
    expect(v3).toMatchObject({ version: 3, previous: 2, rollbackOf: 1, rules: 4 });
    expect(v3.diff).toEqual({
      added: ['memo present'],
      removed: ['large transfer, second look'],
      changed: ['deny-listed destination'],
    });
    const missing = await run(['rules', 'rollback', '--to', '9', '--tenant', tenant]);
    expect(json(missing)).toMatchObject({ code: 'BAD_INPUT' });

    const history = (
      json(await run(['rules', 'history', '--tenant', tenant])) as { versions: RuleSetVersion[] }
    ).versions;
    expect(history.map((h) => [h.version, h.current])).toEqual([
      [3, true],
      [2, false],
      [1, false],
    ]);
    expect(history.every((h) => h.publishedBy === 'bob@risk')).toBe(true);
  });

  it('concurrent publishers never get the same version number', async () => {
    const tenant = `race-${Date.now().toString(36)}`;
    const dir = mkdtempSync(join(tmpdir(), 'conclave-rules-'));
    const f = join(dir, 'rules.json');
    writeFileSync(f, example);
    const results = await Promise.all(
      Array.from({ length: 4 }, () => run(['rules', 'publish', f, '--tenant', tenant])),
    );
    const published = results
      .filter((r) => r.code === 0)
      .map((r) => (json(r) as unknown as RuleSetVersion).version);
    for (const r of results.filter((x) => x.code !== 0)) expect(json(r)).toMatchObject({ code: 'BUSY' });
    expect(published.length).toBeGreaterThan(0);
    expect(new Set(published).size).toBe(published.length);
    const history = (
      json(await run(['rules', 'history', '--tenant', tenant])) as { versions: RuleSetVersion[] }
    ).versions;
    expect(history.map((h) => h.version).sort()).toEqual([...published].sort());
    expect(history.filter((h) => h.current).map((h) => h.version)).toEqual([Math.max(...published)]);
  });
});
