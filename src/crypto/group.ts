/**
 * Group helpers shared by the resharing and repair protocols: canonical decoding of identifiers,
 * scalars and public points (with the party to blame when a value is malformed), and s·G.
 */
import { ConclaveError, CulpritError } from '../errors.js';
import { fromHex, toHex } from './encoding.js';
import type { Scheme } from './schemes.js';

export type Rng = (bytesLength?: number) => Uint8Array<ArrayBuffer>;

export interface Pt {
  add(o: Pt): Pt;
  multiply(n: bigint): Pt;
  multiplyUnsafe(n: bigint): Pt;
  equals(o: Pt): boolean;
  is0(): boolean;
  toBytes(): Uint8Array;
}
export interface PtCons {
  BASE: Pt;
  ZERO: Pt;
  fromBytes(b: Uint8Array): Pt;
}

export const bad = (msg: string) => new ConclaveError('BAD_INPUT', msg);

export function isObject(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

export const pointsOf = (scheme: Scheme) => scheme.Point as unknown as PtCons;

/** Canonical nonzero identifier → its scalar; BAD_INPUT otherwise. */
export function idScalar(scheme: Scheme, id: unknown, what: string): bigint {
  const Fn = scheme.frost.utils.Fn;
  if (typeof id !== 'string') throw bad(`${what} is not a canonical identifier`);
  try {
    const n = Fn.fromBytes(fromHex(id, what));
    if (!Fn.is0(n) && toHex(Fn.toBytes(n)) === id) return n;
  } catch {
    // fall through
  }
  throw bad(`${what} is not a canonical identifier`);
}

/** A public point (canonical, non-identity, prime order) or undefined. */
export function tryPoint(scheme: Scheme, hex: unknown): Pt | undefined {
  if (typeof hex !== 'string') return undefined;
  try {
    const b = fromHex(hex, 'point');
    return scheme.isValidPoint(b) ? pointsOf(scheme).fromBytes(b) : undefined;
  } catch {
    return undefined;
  }
}

export function pubPoint(scheme: Scheme, hex: unknown): Pt {
  const p = tryPoint(scheme, hex);
  if (!p) throw bad('invalid public key package');
  return p;
}

/** Decodes a canonical scalar; `blame` turns a malformed value into that culprit's error. */
export function scalarOf(scheme: Scheme, hex: unknown, what: string, blame?: string): bigint {
  const Fn = scheme.frost.utils.Fn;
  try {
    if (typeof hex !== 'string') throw new Error();
    const b = fromHex(hex, what);
    try {
      if (b.length !== Fn.BYTES) throw new Error();
      return Fn.fromBytes(b);
    } finally {
      b.fill(0);
    }
  } catch {
    if (blame !== undefined) throw new CulpritError('BAD_SHARE', blame, `malformed ${what}`);
    throw bad(`${what} is not a valid scalar`);
  }
}

export function scalarHex(scheme: Scheme, n: bigint): string {
  const b = scheme.frost.utils.Fn.toBytes(n);
  const h = toHex(b);
  b.fill(0);
  return h;
}

/** s·G in constant time; s = 0 gives the identity (noble's multiply refuses 0). */
export function mulG(scheme: Scheme, s: bigint): Pt {
  const P = pointsOf(scheme);
  return s === 0n ? P.ZERO : P.BASE.multiply(s);
}
