/** Validation of the transaction a policy is evaluated against. Bad input is refused before any rule runs. */
import { ConclaveError } from '../errors.js';
import { isDecimalString } from './decimal.js';
import type { Transaction, TransactionDescription } from './types.js';

/** Every Transaction field is also a fact rules can read (plugins may refine some, e.g. `destination`). */
export const transactionFacts = [
  'tenant',
  'walletId',
  'chain',
  'asset',
  'amount',
  'destination',
  'memo',
  'metadata',
  'initiator',
  'at',
] as const satisfies readonly (keyof Transaction)[];

// An explicit offset is required: without one, Date.parse uses the machine's zone and the same
// transaction would be inside business hours on one server and outside on another.
const instantPattern =
  /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.\d{1,9})?)?(?:Z|[+-](\d{2}):(\d{2}))$/;

/** Milliseconds since the epoch of a strict ISO 8601 instant ('2024-04-02T07:30:00Z', '…+02:00'). */
export function parseInstant(at: unknown): number {
  const m = typeof at === 'string' && at.length <= 40 ? instantPattern.exec(at) : null;
  if (m) {
    const [y = 0, mo = 0, d = 0, h = 0, mi = 0, s = 0, oh = 0, om = 0] = m
      .slice(1)
      .map((x) => Number(x ?? 0));
    const ms = Date.parse(m[0]);
    // Date.parse rolls 2024-02-30 over to March 1st; the calendar check refuses it instead
    const day = new Date(Date.UTC(y, mo - 1, d));
    const sane = day.getUTCMonth() === mo - 1 && day.getUTCDate() === d && h < 24 && mi < 60 && s < 60;
    if (sane && oh < 24 && om < 60 && Number.isFinite(ms)) return ms;
  }
  throw new ConclaveError('BAD_INPUT', 'time must be ISO 8601 with an offset, e.g. "2024-04-02T07:30:00Z"');
}

function text(name: string, v: unknown, optional = false): void {
  if (optional && v === undefined) return;
  if (typeof v !== 'string' || v.length === 0 || v.length > 1024) {
    throw new ConclaveError(
      'BAD_INPUT',
      `transaction ${name} must be a non-empty string (at most 1024 characters)`,
    );
  }
}

export function validateTransaction(tx: Transaction): void {
  if (typeof tx !== 'object' || tx === null)
    throw new ConclaveError('BAD_INPUT', 'transaction must be an object');
  for (const f of ['tenant', 'walletId', 'chain', 'asset', 'destination', 'initiator'] as const)
    text(f, tx[f]);
  text('memo', tx.memo, true);
  if (!isDecimalString(tx.amount)) {
    throw new ConclaveError(
      'BAD_INPUT',
      'transaction amount must be a decimal string like "12.5" (no sign, exponent or number; at most 78 digits)',
    );
  }
  parseInstant(tx.at);
  const md: unknown = tx.metadata;
  if (md !== undefined) {
    if (typeof md !== 'object' || md === null || Array.isArray(md)) {
      throw new ConclaveError('BAD_INPUT', 'transaction metadata must be an object of strings');
    }
    for (const [k, v] of Object.entries(md)) text(`metadata.${k}`, v);
  }
}

/** What a transaction description says about the payment; chain to destination are required. */
const describedFields = ['chain', 'asset', 'amount', 'destination', 'memo', 'metadata'] as const;
const requiredFields = ['chain', 'asset', 'amount', 'destination'] as const;
/** What the request itself says; a description may repeat it, and must then agree. */
const requestFields = ['tenant', 'walletId', 'initiator', 'at'] as const;

/** The request a description is checked against; absent fields are not compared. */
export interface DescribedRequest {
  tenant?: string;
  walletId?: string;
  initiator?: string;
  /** A sign request's time is stamped when it is signed: a description naming `at` is refused. */
  stamped?: boolean;
}

/**
 * The one transaction format, for `sign --tx`, the client's `tx` and `rules test --tx`: chain,
 * asset, amount, destination, and optionally memo and metadata; it may also name the request's
 * tenant, walletId and initiator (and, for `rules test`, its time `at`), which must then be the
 * request's. Every problem is reported in one BAD_INPUT error; the description comes back with
 * the payment's fields only, and what it named of the request.
 */
export function checkTransactionDescription(
  value: unknown,
  request: DescribedRequest = {},
): {
  description: TransactionDescription;
  named: Partial<Pick<Transaction, (typeof requestFields)[number]>>;
} {
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw new ConclaveError('BAD_INPUT', 'a transaction description must be a JSON object');
  const v = value as Record<string, unknown>;
  const problems: string[] = [];
  const missing = requiredFields.filter((f) => v[f] === undefined || v[f] === null || v[f] === '');
  if (missing.length) problems.push(`missing ${missing.join(', ')}`);
  const isText = (x: unknown) => typeof x === 'string' && x.length > 0 && x.length <= 1024;
  for (const f of ['chain', 'asset', 'destination', 'memo'] as const)
    if (v[f] !== undefined && !(missing as readonly string[]).includes(f) && !isText(v[f]))
      problems.push(`${f} must be a non-empty string of at most 1024 characters`);
  if (v.amount !== undefined && !missing.includes('amount') && !isDecimalString(v.amount))
    problems.push(
      'amount must be a decimal string like "12.5" (no sign, exponent or number; at most 78 digits)',
    );
  const md = v.metadata;
  if (md !== undefined) {
    if (typeof md !== 'object' || md === null || Array.isArray(md))
      problems.push('metadata must be an object of strings');
    else
      for (const [k, x] of Object.entries(md))
        if (!isText(x)) problems.push(`metadata.${k} must be a non-empty string of at most 1024 characters`);
  }
  const named: Partial<Record<(typeof requestFields)[number], string>> = {};
  for (const f of requestFields) {
    const x = v[f];
    if (x === undefined) continue;
    if (!isText(x)) {
      problems.push(`${f} must be a non-empty string`);
      continue;
    }
    named[f] = x as string;
  }
  const differs = (f: 'tenant' | 'walletId' | 'initiator', what: string) => {
    const expected = request[f];
    if (named[f] !== undefined && expected !== undefined && named[f] !== expected)
      problems.push(`it names ${f} ${JSON.stringify(named[f])}, but this request's ${what} is ${expected}`);
  };
  differs('tenant', 'tenant');
  differs('walletId', 'wallet');
  differs('initiator', 'initiator');
  if (named.at !== undefined) {
    if (request.stamped)
      problems.push('at: a sign request is dated when its initiator signs it; leave `at` out');
    else {
      try {
        parseInstant(named.at);
      } catch {
        problems.push('at must be ISO 8601 with an offset, e.g. "2024-04-02T07:30:00Z"');
      }
    }
  }
  const known = new Set<string>([...describedFields, ...requestFields]);
  const unknown = Object.keys(v).filter((k) => !known.has(k));
  if (unknown.length)
    problems.push(
      `unknown field${unknown.length > 1 ? 's' : ''} ${unknown.map((k) => JSON.stringify(k.slice(0, 40))).join(', ')} (known: ${[...known].join(', ')})`,
    );
  if (problems.length)
    throw new ConclaveError('BAD_INPUT', `transaction description: ${problems.join('; ')}`);
  const description: TransactionDescription = {
    chain: v.chain as string,
    asset: v.asset as string,
    amount: v.amount as string,
    destination: v.destination as string,
  };
  if (v.memo !== undefined) description.memo = v.memo as string;
  if (md !== undefined) description.metadata = md as Record<string, string>;
  return { description, named };
}
