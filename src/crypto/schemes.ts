/**
 * Scheme registry: ceremony code looks a scheme up by name/curve and never branches on the curve.
 * Adding secp256k1_FROST / schnorr_FROST later means adding one entry to SCHEMES (and tests).
 */
import { ed25519, ed25519_FROST } from '@noble/curves/ed25519.js';
import type { FROST } from '@noble/curves/abstract/frost.js';
import { ConclaveError } from '../errors.js';
import { equalBytes } from './encoding.js';

export type SchemeName = 'frost-ed25519';
export type CurveName = 'ed25519';

export interface Scheme {
  name: SchemeName;
  curve: CurveName;
  frost: FROST;
  /** Verifies a final (aggregated) signature the way an ordinary verifier of this curve would. */
  verify(sig: Uint8Array, msg: Uint8Array, publicKey: Uint8Array): boolean;
  /** Serialized scalar·G (scalar in the suite's encoding); lets wrappers check nonce/share commitments. */
  scalarBaseMult(scalar: Uint8Array): Uint8Array;
  /** True iff `bytes` is a canonical, non-identity, prime-order point (RFC 9591 §3.1 element rules). */
  isValidPoint(bytes: Uint8Array): boolean;
}

const frostEd25519: Scheme = Object.freeze({
  name: 'frost-ed25519',
  curve: 'ed25519',
  frost: ed25519_FROST,
  verify(sig: Uint8Array, msg: Uint8Array, publicKey: Uint8Array): boolean {
    try {
      // Strict RFC 8032 so anything we accept is accepted by every conforming verifier.
      return ed25519.verify(sig, msg, publicKey, { zip215: false });
    } catch {
      return false;
    }
  },
  scalarBaseMult(scalar: Uint8Array): Uint8Array {
    return ed25519.Point.BASE.multiply(ed25519.Point.Fn.fromBytes(scalar)).toBytes();
  },
  isValidPoint(bytes: Uint8Array): boolean {
    try {
      const p = ed25519.Point.fromBytes(bytes, false);
      p.assertValidity();
      return !p.is0() && p.isTorsionFree() && equalBytes(p.toBytes(), bytes);
    } catch {
      return false;
    }
  },
}) as Scheme;

const SCHEMES: readonly Scheme[] = [frostEd25519];

// Map (not an object) so names like "__proto__" or "constructor" can never resolve.
const BY_KEY = new Map<string, Scheme>();
for (const s of SCHEMES) {
  BY_KEY.set(s.name, s);
  BY_KEY.set(s.curve, s);
}

export function getScheme(nameOrCurve: string): Scheme {
  const s = typeof nameOrCurve === 'string' ? BY_KEY.get(nameOrCurve) : undefined;
  if (!s) {
    const known = SCHEMES.map((x) => x.curve).join(', ');
    throw new ConclaveError(
      'UNKNOWN_CURVE',
      `unknown curve or scheme "${String(nameOrCurve)}" (known: ${known})`,
    );
  }
  return s;
}

/** Scheme names, e.g. ['frost-ed25519']. */
export function listSchemes(): string[] {
  return SCHEMES.map((s) => s.name);
}
