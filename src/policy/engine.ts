/**
 * The policy engine: may this transaction be signed? Pure and in-process: the rule set, the
 * tenant's config and the transaction go in, a Decision comes out.
 *
 * Fail closed. json-rules-engine has two truth values and rejects the whole run when a fact
 * throws, so facts and operators are wrapped to never throw: a fact that cannot be determined
 * yields an `Undetermined` marker and a condition that touches one (or whose operator throws)
 * yields `undefined` instead of true/false. After the run each rule is re-read with three-valued
 * (Kleene) logic: false AND unknown is false, true OR unknown is true, anything else with an
 * unknown is unknown. A rule whose result is unknown fires as `failedClosed`: as a block if it
 * blocks, otherwise as an escalation. Conditions json-rules-engine skipped by short-circuiting
 * count as unknown, so the re-reading can only be stricter than the truth, never laxer.
 */
import { Engine, type Almanac, type EngineResult } from 'json-rules-engine';
import { defaultPlugins } from '../../plugins/index.js';
import { ConclaveError } from '../errors.js';
import { combineDecision, defaultApprovalsOf } from './decision.js';
import { transactionFacts, validateTransaction } from './transaction.js';
import type {
  Decision,
  EvaluationContext,
  FiredRule,
  PolicyOperator,
  PolicyPlugin,
  RuleSet,
  RuleSpec,
  TenantPolicyConfig,
  Transaction,
} from './types.js';
import {
  checkRuleSet,
  checkRuleSetJson,
  formatPath,
  factReference,
  type RuleSetValidation,
} from './validate.js';
import {
  builtinOperators,
  policyVocabulary as vocabularyOf,
  vocabulary,
  type Vocabulary,
} from './vocabulary.js';

export { builtinOperators, transactionFacts };

export interface EvaluateOptions {
  /** A fact still pending after this long is undetermined (default 2000 ms). */
  factTimeoutMs?: number;
  /** The velocity ledger and other state facts may read. */
  context?: EvaluationContext;
}

/** A fact that could not be determined, and why. */
class Undetermined {
  constructor(
    readonly fact: string,
    readonly why: string,
  ) {}
}

const errorText = (e: unknown): string => (e instanceof Error ? e.message : String(e)).slice(0, 300);

async function settle(value: unknown, ms: number): Promise<unknown> {
  if (!(value instanceof Promise)) return value;
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([value, late]);
  } finally {
    clearTimeout(timer);
  }
}

/** Only "$.a.b" paths (validated), own properties only; an Undetermined stays undetermined. */
function resolvePath(value: object, path: string): unknown {
  if (value instanceof Undetermined) return value;
  let v: unknown = value;
  for (const key of path.split('.').slice(1)) {
    v =
      typeof v === 'object' && v !== null && Object.hasOwn(v, key)
        ? (v as Record<string, unknown>)[key]
        : undefined;
  }
  return v;
}

/** Runs an operator: true or false when known, undefined when a side is undetermined or it fails. */
function apply(op: PolicyOperator, a: unknown, b: unknown, config: TenantPolicyConfig): boolean | undefined {
  if (a instanceof Undetermined || b instanceof Undetermined) return undefined;
  try {
    const r = op(a, b, config);
    return typeof r === 'boolean' ? r : undefined;
  } catch {
    return undefined;
  }
}

function buildEngine(
  rules: readonly RuleSpec[],
  config: TenantPolicyConfig,
  tx: Transaction,
  vocab: Vocabulary,
  timeoutMs: number,
  context: EvaluationContext,
): Engine {
  const engine = new Engine([], {
    allowUndefinedFacts: false,
    allowUndefinedConditions: false,
    replaceFactsInEventParams: false,
    pathResolver: resolvePath,
  });
  // json-rules-engine treats any result other than `true` as false and keeps the raw result on
  // the condition, where the three-valued re-reading finds the `undefined`
  for (const [name, op] of vocab.operators) {
    engine.addOperator(name, (a: unknown, b: unknown) => apply(op, a, b, config) as boolean);
  }
  // optional fields left out read as empty (no memo is memo ''), not as undeterminable
  for (const name of transactionFacts) engine.addFact(name, tx[name] ?? (name === 'metadata' ? {} : ''));
  for (const [name, fact] of vocab.facts) {
    engine.addFact(name, async () => {
      try {
        const v = await settle(fact(config, tx, context), timeoutMs);
        return v === undefined ? new Undetermined(name, 'it has no value') : v;
      } catch (e) {
        return new Undetermined(name, errorText(e));
      }
    });
  }
  for (const r of rules)
    engine.addRule({ name: r.name, priority: r.priority, conditions: r.conditions, event: r.event });
  return engine;
}

type Verdict = boolean | undefined;
type Node = Record<string, unknown>;

/** Kleene reading of an evaluated condition tree; collects why unknown leaves are unknown. */
function verdict(
  node: unknown,
  why: Set<string>,
  operators: ReadonlyMap<string, PolicyOperator>,
  config: TenantPolicyConfig,
): Verdict {
  if (typeof node !== 'object' || node === null) return undefined;
  const n = node as Node;
  const kids = (k: string) => (n[k] as unknown[]).map((c) => verdict(c, why, operators, config));
  if (Array.isArray(n.all)) {
    const v = kids('all');
    return v.includes(false) ? false : v.includes(undefined) ? undefined : true;
  }
  if (Array.isArray(n.any)) {
    const v = kids('any');
    return v.includes(true) ? true : v.includes(undefined) ? undefined : false;
  }
  if (Object.hasOwn(n, 'not')) {
    const v = verdict(n.not, why, operators, config);
    return v === undefined ? undefined : !v;
  }
  if (typeof n.result === 'boolean') return n.result;
  if (!Object.hasOwn(n, 'result')) return undefined; // skipped by short-circuit: unknown, no blame
  for (const side of [n.factResult, n.valueResult]) {
    if (side instanceof Undetermined) why.add(`fact "${side.fact}" could not be determined: ${side.why}`);
  }
  if (!(n.factResult instanceof Undetermined || n.valueResult instanceof Undetermined)) {
    // operators are deterministic: run it again to learn what went wrong
    const op = operators.get(String(n.operator));
    let what = 'is not available';
    try {
      if (op)
        what = `returned ${JSON.stringify(op(n.factResult, n.valueResult, config))} instead of true/false`;
    } catch (e) {
      what = `failed: ${errorText(e)}`;
    }
    why.add(`operator "${String(n.operator)}" on fact "${String(n.fact)}" ${what}`);
  }
  return undefined;
}

function shown(v: unknown): string {
  if (v instanceof Undetermined) return '<unknown>';
  if (typeof v === 'string') return v;
  return v === undefined ? '<none>' : JSON.stringify(v);
}

/** Fills `{{fact}}` references with the almanac's (cached) fact values. */
async function fillReason(reason: string, almanac: Almanac | undefined): Promise<string> {
  const values = new Map<string, string>();
  for (const [, name = ''] of reason.matchAll(factReference)) {
    if (values.has(name)) continue;
    let v: unknown = new Undetermined(name, '');
    try {
      if (almanac) v = await almanac.factValue(name);
    } catch {
      // unknown fact: shown as <unknown>
    }
    values.set(name, shown(v));
  }
  return reason.replace(factReference, (_, name: string) => values.get(name) ?? '<unknown>');
}

/**
 * Decides whether `tx` may be signed under `ruleSet` for a tenant with `config`.
 *
 * Throws ConclaveError('BAD_INPUT') for an invalid rule set, transaction or plugin list (nothing is
 * decided, so nothing may be signed). Never throws because a plugin failed: a rule that depends on
 * a failing fact or operator fires with `failedClosed: true` and the decision is at least escalate.
 */
export async function evaluatePolicy(
  ruleSet: RuleSet,
  config: TenantPolicyConfig,
  tx: Transaction,
  plugins: readonly PolicyPlugin[] = defaultPlugins,
  options: EvaluateOptions = {},
): Promise<Decision> {
  const vocab = vocabulary(plugins);
  const problems = checkRuleSet(ruleSet, vocab);
  const first = problems[0];
  if (first) {
    throw new ConclaveError('BAD_INPUT', `invalid rule set: ${formatPath(first.path)}: ${first.message}`);
  }
  validateTransaction(tx);

  let run: EngineResult | undefined;
  let crash = '';
  try {
    run = await buildEngine(
      ruleSet.rules,
      config,
      tx,
      vocab,
      options.factTimeoutMs ?? 2000,
      options.context ?? {},
    ).run();
  } catch (e) {
    crash = `the policy engine failed: ${errorText(e)}`; // every rule fails closed below
  }
  const results = new Map([...(run?.results ?? []), ...(run?.failureResults ?? [])].map((r) => [r.name, r]));

  const fired: FiredRule[] = [];
  for (const rule of ruleSet.rules) {
    const why = new Set<string>();
    const result = results.get(rule.name);
    const v = result ? verdict(result.conditions, why, vocab.operators, config) : undefined;
    if (v === false) continue;
    const { type, params } = rule.event;
    const reason = await fillReason(params.reason, run?.almanac);
    if (v === true) {
      if (type === 'block') fired.push({ rule: rule.name, action: 'block', reason });
      else if (type === 'escalate') {
        fired.push({
          rule: rule.name,
          action: 'escalate',
          reason,
          approvals: params.approvals ?? defaultApprovalsOf(ruleSet),
        });
      } else fired.push({ rule: rule.name, action: 'flag', reason, flag: params.flag ?? rule.name });
      continue;
    }
    if (why.size === 0) why.add(crash || 'the rule was not evaluated');
    const blame = `could not be evaluated, failing closed: ${[...why].join('; ')}. Rule: ${reason}`;
    if (type === 'block') fired.push({ rule: rule.name, action: 'block', reason: blame, failedClosed: true });
    else {
      const approvals = (type === 'escalate' && params.approvals) || defaultApprovalsOf(ruleSet);
      fired.push({ rule: rule.name, action: 'escalate', reason: blame, approvals, failedClosed: true });
    }
  }
  return combineDecision(fired, ruleSet);
}

/** Parses and checks a rule set's JSON text; errors carry the line and column of the offending key. */
export function validateRuleSet(
  json: string,
  plugins: readonly PolicyPlugin[] = defaultPlugins,
): RuleSetValidation {
  return checkRuleSetJson(json, vocabulary(plugins));
}

/** A rule set's JSON text, checked: the rule set, or BAD_INPUT naming the first error's line and column. */
export function parseRuleSet(json: string, plugins: readonly PolicyPlugin[] = defaultPlugins): RuleSet {
  const checked = validateRuleSet(json, plugins);
  if (checked.ok) return checked.ruleSet;
  const first = checked.errors[0]!;
  throw new ConclaveError(
    'BAD_INPUT',
    `rule set is invalid (${checked.errors.length} errors), first at line ${first.line}, column ${first.column}: ${first.message}`,
  );
}

/** Every fact and operator a rule may use, sorted (for the CLI). */
export function policyVocabulary(plugins: readonly PolicyPlugin[] = defaultPlugins): {
  facts: string[];
  operators: string[];
} {
  return vocabularyOf(plugins);
}
