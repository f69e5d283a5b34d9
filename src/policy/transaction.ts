/** Validation of the transaction a policy is evaluated against. Bad input is refused before any rule runs. */
import { ConclaveError } from '../errors.js';
import { isDecimalString } from './decimal.js';
import type { Transaction } from './types.js';

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
