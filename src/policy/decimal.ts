/**
 * Exact non-negative decimals for amounts and prices. A decimal arrives as a string such as "0.1"
 * and is held as a BigInt scaled by 10^scale, so no value ever passes through a float: a JS number
 * has already lost precision by the time we see it. Signs, exponents, leading zeros and a bare
 * "." are rejected, so every value has exactly one spelling up to trailing fractional zeros.
 */
import { ConclaveError } from '../errors.js';

export const maxDecimalDigits = 78;
const decimalPattern = /^(0|[1-9]\d*)(\.\d+)?$/;

/** `units / 10^scale`. */
export interface Decimal {
  readonly units: bigint;
  readonly scale: number;
}

function digits(s: string): number {
  return s.length - (s.includes('.') ? 1 : 0);
}

export function isDecimalString(s: unknown, maxDigits = maxDecimalDigits): s is string {
  // length check first: the regex never sees an unbounded string
  return (
    typeof s === 'string' && s.length <= maxDigits + 1 && decimalPattern.test(s) && digits(s) <= maxDigits
  );
}

export function parseDecimal(s: unknown, what = 'decimal', maxDigits = maxDecimalDigits): Decimal {
  if (!isDecimalString(s, maxDigits)) {
    const got = typeof s === 'string' ? JSON.stringify(s.slice(0, 40)) : typeof s;
    throw new ConclaveError(
      'BAD_INPUT',
      `${what} must be a decimal string like "12.5" (no sign, exponent or number type; at most ${maxDigits} digits), got ${got}`,
    );
  }
  const dot = s.indexOf('.');
  if (dot < 0) return { units: BigInt(s), scale: 0 };
  return { units: BigInt(s.slice(0, dot) + s.slice(dot + 1)), scale: s.length - dot - 1 };
}

const asDecimal = (x: string | Decimal): Decimal => (typeof x === 'string' ? parseDecimal(x) : x);

function align(a: Decimal, b: Decimal): [bigint, bigint, number] {
  const scale = Math.max(a.scale, b.scale);
  return [a.units * 10n ** BigInt(scale - a.scale), b.units * 10n ** BigInt(scale - b.scale), scale];
}

/** -1, 0 or 1. "1.50" and "1.5" compare equal. */
export function compareDecimal(a: string | Decimal, b: string | Decimal): -1 | 0 | 1 {
  const [x, y] = align(asDecimal(a), asDecimal(b));
  return x < y ? -1 : x > y ? 1 : 0;
}

export function addDecimal(a: string | Decimal, b: string | Decimal): Decimal {
  const [x, y, scale] = align(asDecimal(a), asDecimal(b));
  return { units: x + y, scale };
}

/** Exact product; its digits may exceed maxDecimalDigits. */
export function mulDecimal(a: string | Decimal, b: string | Decimal): Decimal {
  const x = asDecimal(a);
  const y = asDecimal(b);
  return { units: x.units * y.units, scale: x.scale + y.scale };
}

/** Canonical string: no trailing fractional zeros, no trailing ".". */
export function formatDecimal(d: string | Decimal): string {
  const { units, scale } = asDecimal(d);
  if (scale === 0) return units.toString();
  const s = units.toString().padStart(scale + 1, '0');
  const int = s.slice(0, s.length - scale);
  const frac = s.slice(s.length - scale).replace(/0+$/, '');
  return frac ? `${int}.${frac}` : int;
}
