/**
 * The words a rule may use: facts (transaction fields and plugin facts) and operators
 * (json-rules-engine's built-ins and plugin operators).
 *
 * The built-ins are re-implemented strictly rather than taken from json-rules-engine, whose
 * versions coerce: `greaterThan` there accepts numeric strings and compares "9" > "10" as text,
 * `in` on a string does a substring search, and `contains` on a non-array quietly answers false.
 * Here a type mismatch throws, which makes the condition unknown and its rule fail closed.
 */
import { ConclaveError } from '../errors.js';
import { transactionFacts } from './transaction.js';
import type { PolicyFact, PolicyOperator, PolicyPlugin } from './types.js';

const show = (v: unknown): string => (typeof v === 'string' ? JSON.stringify(v) : String(v));

function num(v: unknown, what: string): number {
  if (typeof v !== 'number' || !Number.isFinite(v))
    throw new Error(`${what} must be a number, got ${show(v)}`);
  return v;
}

function list(v: unknown, what: string): unknown[] {
  if (!Array.isArray(v)) throw new Error(`${what} must be an array, got ${show(v)}`);
  return v;
}

export const builtinOperators: Readonly<Record<string, PolicyOperator>> = {
  equal: (a, b) => a === b,
  notEqual: (a, b) => a !== b,
  in: (a, b) => list(b, 'value').includes(a),
  notIn: (a, b) => !list(b, 'value').includes(a),
  contains: (a, b) => list(a, 'fact').includes(b),
  doesNotContain: (a, b) => !list(a, 'fact').includes(b),
  lessThan: (a, b) => num(a, 'fact') < num(b, 'value'),
  lessThanInclusive: (a, b) => num(a, 'fact') <= num(b, 'value'),
  greaterThan: (a, b) => num(a, 'fact') > num(b, 'value'),
  greaterThanInclusive: (a, b) => num(a, 'fact') >= num(b, 'value'),
};

function checkBuiltinValue(op: string, value: unknown): string | undefined {
  if ((op === 'in' || op === 'notIn') && !Array.isArray(value)) return `${op} needs an array value`;
  if (/Than/.test(op) && (typeof value !== 'number' || !Number.isFinite(value))) {
    return `${op} needs a number value (use amountGreaterThan / fiatGreaterThan for amounts)`;
  }
  return undefined;
}

export interface Vocabulary {
  /** Plugin facts by name; transaction fields without a plugin fact are constants. */
  readonly facts: ReadonlyMap<string, PolicyFact>;
  readonly factNames: ReadonlySet<string>;
  readonly operators: ReadonlyMap<string, PolicyOperator>;
  /** Static check of a condition value: an error message, or undefined. */
  checkValue(operator: string, value: unknown): string | undefined;
}

/** Collects the plugins' words; refuses two plugins defining the same fact or operator. */
export function vocabulary(plugins: readonly PolicyPlugin[]): Vocabulary {
  const facts = new Map<string, PolicyFact>();
  const operators = new Map<string, PolicyOperator>(Object.entries(builtinOperators));
  const checkers = new Map<string, PolicyPlugin>();
  for (const p of plugins) {
    for (const [name, fn] of Object.entries(p.facts)) {
      if (facts.has(name)) throw new ConclaveError('BAD_INPUT', `fact ${name} is defined by two plugins`);
      facts.set(name, fn);
    }
    for (const [name, fn] of Object.entries(p.operators)) {
      if (operators.has(name)) {
        throw new ConclaveError('BAD_INPUT', `operator ${name} of plugin ${p.name} is already defined`);
      }
      operators.set(name, fn);
      checkers.set(name, p);
    }
  }
  return {
    facts,
    factNames: new Set([...transactionFacts, ...facts.keys()]),
    operators,
    checkValue(op, value) {
      const plugin = checkers.get(op);
      if (!plugin) return checkBuiltinValue(op, value);
      try {
        return plugin.checkValue?.(op, value);
      } catch (e) {
        return `plugin ${plugin.name} could not check the value: ${e instanceof Error ? e.message : String(e)}`;
      }
    },
  };
}

/** Sorted fact and operator names, for the CLI and for error messages. */
export function policyVocabulary(plugins: readonly PolicyPlugin[]): { facts: string[]; operators: string[] } {
  const v = vocabulary(plugins);
  return { facts: [...v.factNames].sort(), operators: [...v.operators.keys()].sort() };
}
