/**
 * Rule-set validation. `checkRuleSet` checks a parsed value and names each problem by its path;
 * `validateRuleSet` parses JSON text and turns those paths into line and column. Unknown keys are
 * errors too: a misspelt "vaule" or "priorty" would otherwise be ignored by json-rules-engine.
 */
import { formatPath, JsonScanError, lineColumn, scanJson, type JsonPath } from './json-positions.js';
import { checkTenantPolicyConfig } from './tenant-config.js';
import type { RuleSet, TenantPolicyConfig } from './types.js';
import type { Vocabulary } from './vocabulary.js';

export interface Problem {
  path: JsonPath;
  message: string;
}
export interface RuleSetError {
  line: number;
  column: number;
  message: string;
}
export type RuleSetValidation = { ok: true; ruleSet: RuleSet } | { ok: false; errors: RuleSetError[] };

const maxConditionDepth = 32;
const actions = ['block', 'escalate', 'flag'];
const booleans = ['all', 'any', 'not'] as const;
const roleName = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
const flagName = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$/;
// $.a.b only: json-rules-engine's default resolver is full JSONPath, which has had code-execution bugs
export const factPath = /^\$(\.[A-Za-z0-9_-]+){1,8}$/;
export const factReference = /\{\{\s*([A-Za-z_$][\w$]*)\s*\}\}/g;

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const has = (o: Obj, k: string) => Object.hasOwn(o, k);
const show = (v: unknown) => (v === undefined ? 'nothing' : JSON.stringify(v));

export { formatPath };

/** Checks a parsed rule set against the vocabulary; returns every problem found (empty when valid). */
export function checkRuleSet(value: unknown, vocab: Vocabulary): Problem[] {
  const problems: Problem[] = [];
  const err = (path: JsonPath, message: string) => void problems.push({ path, message });
  const onlyKeys = (o: Obj, path: JsonPath, allowed: readonly string[]) => {
    for (const k of Object.keys(o)) if (!allowed.includes(k)) err([...path, k], `unknown key "${k}"`);
  };
  const positiveInt = (o: Obj, k: string, path: JsonPath) => {
    if (has(o, k) && !(Number.isSafeInteger(o[k]) && (o[k] as number) > 0)) {
      err([...path, k], `${k} must be a positive integer, got ${show(o[k])}`);
    }
  };
  const approvals = (v: unknown, path: JsonPath) => {
    if (!isObj(v) || Object.keys(v).length === 0)
      return err(path, 'approvals must be an object like {"risk": 1}');
    for (const [role, n] of Object.entries(v)) {
      if (!roleName.test(role)) err([...path, role], `bad role name "${role}" (letters, digits, . _ -)`);
      if (!(Number.isSafeInteger(n) && (n as number) > 0)) {
        err([...path, role], `approvals for ${role} must be a positive integer, got ${show(n)}`);
      }
    }
  };
  const fact = (name: unknown, path: JsonPath) => {
    if (typeof name !== 'string' || !vocab.factNames.has(name)) {
      err(path, `unknown fact ${show(name)}; known facts: ${[...vocab.factNames].sort().join(', ')}`);
    }
  };
  const condition = (c: unknown, path: JsonPath, depth: number, top: boolean): void => {
    if (!isObj(c)) return err(path, 'condition must be an object');
    if (depth > maxConditionDepth) return err(path, `conditions nest deeper than ${maxConditionDepth}`);
    positiveInt(c, 'priority', path);
    if (has(c, 'name') && typeof c.name !== 'string')
      err([...path, 'name'], 'condition name must be a string');
    if (has(c, 'condition'))
      return err([...path, 'condition'], 'shared condition references are not supported');
    const ops = booleans.filter((b) => has(c, b));
    if (ops.length > 1) return err(path, `use one of all / any / not per object, not ${ops.join(' and ')}`);
    const op = ops[0];
    if (op) {
      onlyKeys(c, path, [op, 'name', 'priority']);
      if (op === 'not') return condition(c.not, [...path, 'not'], depth + 1, false);
      const list = c[op];
      // json-rules-engine treats an empty "any" as true: refuse the surprise
      if (!Array.isArray(list) || list.length === 0)
        return err([...path, op], `${op} must be a non-empty array`);
      return list.forEach((x, i) => condition(x, [...path, op, i], depth + 1, false));
    }
    if (top) return err(path, 'rule conditions must start with all, any or not');
    onlyKeys(c, path, ['fact', 'operator', 'value', 'path', 'name', 'priority']);
    fact(c.fact, [...path, 'fact']);
    const operator = c.operator;
    if (typeof operator !== 'string' || !vocab.operators.has(operator)) {
      err(
        [...path, 'operator'],
        `unknown operator ${show(operator)}; known: ${[...vocab.operators.keys()].join(', ')}`,
      );
    }
    if (!has(c, 'value')) err(path, 'condition has no "value"');
    else if (isObj(c.value) && has(c.value, 'fact')) {
      // { "fact": "other" } compares with another fact's value
      onlyKeys(c.value, [...path, 'value'], ['fact', 'path']);
      fact(c.value.fact, [...path, 'value', 'fact']);
      if (has(c.value, 'path') && !factPath.test(String(c.value.path))) {
        err([...path, 'value', 'path'], 'path must look like "$.key" or "$.a.b"');
      }
    } else if (typeof operator === 'string' && vocab.operators.has(operator)) {
      const bad = vocab.checkValue(operator, c.value);
      if (bad) err([...path, 'value'], bad);
    }
    if (has(c, 'path') && !factPath.test(String(c.path)))
      err([...path, 'path'], 'path must look like "$.key" or "$.a.b"');
  };
  const rule = (r: unknown, path: JsonPath) => {
    if (!isObj(r)) return err(path, 'rule must be an object');
    onlyKeys(r, path, ['name', 'priority', 'conditions', 'event']);
    if (typeof r.name !== 'string' || r.name.trim() === '' || r.name.length > 128) {
      err([...path, 'name'], 'rule name must be a non-empty string of at most 128 characters');
    }
    positiveInt(r, 'priority', path);
    condition(r.conditions, [...path, 'conditions'], 0, true);
    const e = r.event;
    const at = [...path, 'event'];
    if (!isObj(e)) return err(at, 'event must be an object with type and params');
    onlyKeys(e, at, ['type', 'params']);
    if (typeof e.type !== 'string' || !actions.includes(e.type)) {
      err([...at, 'type'], `event type must be block, escalate or flag, got ${show(e.type)}`);
    }
    const p = e.params;
    if (!isObj(p)) return err([...at, 'params'], 'event params must be an object with a reason');
    onlyKeys(p, [...at, 'params'], ['reason', 'approvals', 'flag']);
    if (typeof p.reason !== 'string' || p.reason.trim() === '') {
      err([...at, 'params', 'reason'], 'every rule needs a reason an analyst can read');
    } else {
      for (const [, name] of p.reason.matchAll(factReference)) {
        if (!vocab.factNames.has(name as string))
          err([...at, 'params', 'reason'], `reason uses unknown fact {{${name}}}`);
      }
    }
    if (has(p, 'approvals')) {
      if (e.type === 'escalate') approvals(p.approvals, [...at, 'params', 'approvals']);
      else err([...at, 'params', 'approvals'], 'approvals only apply to escalate events');
    }
    if (has(p, 'flag')) {
      if (e.type !== 'flag') err([...at, 'params', 'flag'], 'flag only applies to flag events');
      else if (typeof p.flag !== 'string' || !flagName.test(p.flag)) {
        err([...at, 'params', 'flag'], 'flag must be a short name (letters, digits, . _ : -)');
      }
    }
  };

  if (!isObj(value)) return [{ path: [], message: 'rule set must be an object' }];
  onlyKeys(value, [], ['version', 'defaultOutcome', 'defaultApprovals', 'rules']);
  if (!(Number.isSafeInteger(value.version) && (value.version as number) >= 0)) {
    err(['version'], `version must be a non-negative integer, got ${show(value.version)}`);
  }
  if (value.defaultOutcome !== 'allow' && value.defaultOutcome !== 'escalate') {
    err(
      ['defaultOutcome'],
      `defaultOutcome must be "allow" or "escalate", got ${show(value.defaultOutcome)}`,
    );
  }
  if (has(value, 'defaultApprovals')) approvals(value.defaultApprovals, ['defaultApprovals']);
  if (!Array.isArray(value.rules))
    return [...problems, { path: ['rules'], message: 'rules must be an array' }];
  const names = new Map<unknown, number>();
  value.rules.forEach((r: unknown, i) => {
    rule(r, ['rules', i]);
    const name = isObj(r) ? r.name : undefined;
    const first = names.get(name);
    if (typeof name === 'string' && first !== undefined) {
      err(['rules', i, 'name'], `duplicate rule name "${name}" (also rules[${first}])`);
    } else names.set(name, i);
  });
  return problems;
}

function syntaxError(json: string, e: unknown): RuleSetError {
  const message = e instanceof Error ? e.message : String(e);
  const pos = /at position (\d+)/.exec(message);
  const lc = /\(line (\d+) column (\d+)\)/.exec(message);
  if (lc) return { line: Number(lc[1]), column: Number(lc[2]), message: `invalid JSON: ${message}` };
  let offset = pos ? Number(pos[1]) : json.length;
  if (!pos) {
    // some V8 messages carry no position ("Unexpected token 'x', ... is not valid JSON"): find it ourselves
    try {
      scanJson(json);
    } catch (s) {
      if (s instanceof JsonScanError) offset = s.offset;
    }
  }
  return { ...lineColumn(json, offset), message: `invalid JSON: ${message}` };
}

/**
 * Parses JSON text and runs `check` on the value; each problem (and each duplicate key, which
 * JSON.parse would silently resolve to the last) is reported at the line and column of its key.
 */
function checkJsonText<T>(
  json: string,
  check: (value: unknown) => Problem[],
): { ok: true; value: T } | { ok: false; errors: RuleSetError[] } {
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch (e) {
    return { ok: false, errors: [syntaxError(json, e)] };
  }
  let layout;
  try {
    layout = scanJson(json);
  } catch (e) {
    // JSON.parse accepted what the strict scanner did not (e.g. nesting depth)
    const offset = e instanceof JsonScanError ? e.offset : 0;
    return { ok: false, errors: [{ ...lineColumn(json, offset), message: (e as Error).message }] };
  }
  const problems = [
    ...layout.duplicates.map((d) => ({ ...d, message: `duplicate key "${String(d.path.at(-1))}"` })),
    ...check(value).map((p) => ({ ...p, offset: layout.offsetOf(p.path) })),
  ];
  if (problems.length === 0) return { ok: true, value: value as T };
  const errors = problems
    .map((p) => ({ ...lineColumn(json, p.offset), message: `${formatPath(p.path)}: ${p.message}` }))
    .sort((a, b) => a.line - b.line || a.column - b.column);
  return { ok: false, errors };
}

/** Parses and checks a rule set, reporting each problem at the line and column of the offending key. */
export function checkRuleSetJson(json: string, vocab: Vocabulary): RuleSetValidation {
  const r = checkJsonText<RuleSet>(json, (v) => checkRuleSet(v, vocab));
  return r.ok ? { ok: true, ruleSet: r.value } : r;
}

export type TenantPolicyConfigValidation =
  { ok: true; config: TenantPolicyConfig; value: unknown } | { ok: false; errors: RuleSetError[] };

/**
 * Parses and checks a tenant policy config (JSON text), reporting every problem at the line and
 * column of the offending key or list element, with its path (`approvers[1].roles: ...`).
 * `value` is the JSON as written (what `rules publish --config` sends); `config` has the defaults.
 */
export function checkTenantPolicyConfigJson(json: string): TenantPolicyConfigValidation {
  const r = checkJsonText<unknown>(json, (v) => checkTenantPolicyConfig(v).problems);
  if (!r.ok) return r;
  const { config } = checkTenantPolicyConfig(r.value);
  return { ok: true, config: config as TenantPolicyConfig, value: r.value };
}
