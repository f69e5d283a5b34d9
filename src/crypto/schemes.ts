/**
 * Scheme registry: ceremony code looks a scheme up by name and never branches on the curve or
 * scheme. Everything that differs between schemes is data here: the FROST suite that generates
 * the key, the suite that signs, how a signature is verified, and how the group key becomes the
 * key a verifier sees (BIP341 for Taproot).
 */
import { ed25519, ed25519_FROST } from '@noble/curves/ed25519.js';
import { schnorr, secp256k1, secp256k1_FROST, schnorr_FROST } from '@noble/curves/secp256k1.js';
import type { CurvePointCons } from '@noble/curves/abstract/curve.js';
import type { FROST } from '@noble/curves/abstract/frost.js';
import { ConclaveError } from '../errors.js';
import { equalBytes } from './encoding.js';
import { verifyBytes } from './identity.js';
import { taprootTweak } from './taproot.js';

/**
 * Every scheme of the registry and its curve: the one list the `SchemeName` and `Curve` types
 * derive from. Each scheme below is checked against it, and the registry must hold all of them.
 */
export const schemeCurves = {
  'frost-ed25519': 'ed25519',
  'frost-secp256k1': 'secp256k1',
  'frost-taproot': 'secp256k1',
  'dkls23-secp256k1': 'secp256k1',
} as const;
/** A scheme's name: 'frost-ed25519', 'frost-secp256k1', 'frost-taproot' or 'dkls23-secp256k1'. */
export type SchemeName = keyof typeof schemeCurves;
/** A curve: 'ed25519' or 'secp256k1'. */
export type Curve = (typeof schemeCurves)[SchemeName];
/** @deprecated the same as `Curve`. */
export type CurveName = Curve;
export type AddressKind = 'solana' | 'p2tr' | 'ethereum';
/**
 * How a key signs: FROST (two rounds, shares add up to a Schnorr signature), or DKLs23 threshold
 * ECDSA (pairwise OT setup at key generation, three rounds with OT-based multiplication).
 */
export type SigningProtocol = 'frost' | 'dkls23';

/**
 * The last step from a (possibly derived) group key to the key signatures verify under:
 * secret' = (negate ? -secret : secret) + tweak. Identity for most schemes.
 */
export interface OutputKey {
  /** What a verifier is given: the group key itself, or Taproot's x-only output key. */
  verifyingKey: Uint8Array;
  negate: boolean;
  tweak: bigint;
}

export interface Scheme<N extends SchemeName = SchemeName> {
  name: N;
  curve: (typeof schemeCurves)[N];
  protocol: SigningProtocol;
  /** Exact message length the scheme signs (ECDSA signs a 32-byte hash); any length if absent. */
  messageBytes?: number;
  /** Suite of the key generation ceremony; also the identifiers and scalar field of shares. */
  frost: FROST;
  /** Suite of the signing ceremony (Taproot signs BIP340 challenges with a key of the plain suite). */
  signer: FROST;
  /** The curve's point class; points encode as the suite does (compressed on secp256k1). */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  Point: CurvePointCons<any>;
  /** Address format of this scheme's keys, if a chain uses them. */
  address?: AddressKind;
  /** Whether a signing request may carry a Taproot script-tree merkle root. */
  takesMerkleRoot: boolean;
  /** From the group key (compressed, or Ed25519 encoding) to the key verifiers use. */
  outputKey(groupKey: Uint8Array, merkleRoot?: Uint8Array): OutputKey;
  /** Verifies a final signature the way an ordinary verifier of this scheme would. */
  verify(sig: Uint8Array, msg: Uint8Array, verifyingKey: Uint8Array): boolean;
  /** Serialized scalar·G (scalar in the suite's encoding); lets wrappers check nonce/share commitments. */
  scalarBaseMult(scalar: Uint8Array): Uint8Array;
  /** True iff `bytes` is a canonical, non-identity, prime-order point (RFC 9591 §3.1 element rules). */
  isValidPoint(bytes: Uint8Array): boolean;
}

const untweaked = (groupKey: Uint8Array): OutputKey => ({ verifyingKey: groupKey, negate: false, tweak: 0n });

const frostEd25519 = Object.freeze<Scheme<'frost-ed25519'>>({
  name: 'frost-ed25519',
  curve: 'ed25519',
  protocol: 'frost',
  frost: ed25519_FROST,
  signer: ed25519_FROST,
  Point: ed25519.Point as Scheme['Point'],
  address: 'solana',
  takesMerkleRoot: false,
  outputKey: untweaked,
  verify(sig: Uint8Array, msg: Uint8Array, publicKey: Uint8Array): boolean {
    // Strict RFC 8032 so anything we accept is accepted by every conforming verifier: noble's
    // `zip215: false` verdicts, on OpenSSL where it agrees (./identity.ts), a tenth of the time.
    return verifyBytes(publicKey, msg, sig);
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
});

const secp256k1Points = {
  scalarBaseMult(scalar: Uint8Array): Uint8Array {
    return secp256k1.Point.BASE.multiply(secp256k1.Point.Fn.fromBytes(scalar)).toBytes(true);
  },
  isValidPoint(bytes: Uint8Array): boolean {
    try {
      if (bytes.length !== 33) return false;
      const p = secp256k1.Point.fromBytes(bytes);
      p.assertValidity();
      return !p.is0() && equalBytes(p.toBytes(true), bytes);
    } catch {
      return false;
    }
  },
};

/** FROST(secp256k1, SHA-256) as in RFC 9591: signatures are R (compressed) || z. */
const frostSecp256k1 = Object.freeze<Scheme<'frost-secp256k1'>>({
  name: 'frost-secp256k1',
  curve: 'secp256k1',
  protocol: 'frost',
  frost: secp256k1_FROST,
  signer: secp256k1_FROST,
  Point: secp256k1.Point as Scheme['Point'],
  takesMerkleRoot: false,
  outputKey: untweaked,
  verify(sig: Uint8Array, msg: Uint8Array, publicKey: Uint8Array): boolean {
    try {
      return secp256k1_FROST.verify(sig, msg, publicKey);
    } catch {
      return false;
    }
  },
  ...secp256k1Points,
});

/**
 * BIP340 Schnorr signatures by a FROST key, spendable on the Taproot key path. The key is
 * generated with the plain secp256k1 suite (so it stays untweaked and can be derived from), and
 * each signing request applies the BIP341 tweak (no script tree unless a merkle root is given).
 */
const frostTaproot = Object.freeze<Scheme<'frost-taproot'>>({
  name: 'frost-taproot',
  curve: 'secp256k1',
  protocol: 'frost',
  frost: secp256k1_FROST,
  signer: schnorr_FROST,
  Point: secp256k1.Point as Scheme['Point'],
  address: 'p2tr',
  takesMerkleRoot: true,
  outputKey(groupKey: Uint8Array, merkleRoot?: Uint8Array): OutputKey {
    const t = taprootTweak(groupKey, merkleRoot);
    return { verifyingKey: t.outputKey, negate: t.internalNegated, tweak: t.tweak };
  },
  verify(sig: Uint8Array, msg: Uint8Array, key: Uint8Array): boolean {
    try {
      // BIP340 keys are x-only; a compressed key is taken by its x coordinate, as BIP340 does.
      return schnorr.verify(sig, msg, key.length === 33 ? key.subarray(1) : key);
    } catch {
      return false;
    }
  },
  ...secp256k1Points,
});

/**
 * Threshold ECDSA on secp256k1 (DKLs23): the key comes from the FROST secp256k1 DKG (the same
 * Shamir shares and public package), signatures are (r, s) with low S over a 32-byte hash, as
 * Ethereum and legacy Bitcoin verify them. `signer` is never used to sign; it names the share field.
 */
const dklsSecp256k1 = Object.freeze<Scheme<'dkls23-secp256k1'>>({
  name: 'dkls23-secp256k1',
  curve: 'secp256k1',
  protocol: 'dkls23',
  messageBytes: 32,
  frost: secp256k1_FROST,
  signer: secp256k1_FROST,
  Point: secp256k1.Point as Scheme['Point'],
  address: 'ethereum',
  takesMerkleRoot: false,
  outputKey: untweaked,
  verify(sig: Uint8Array, msgHash: Uint8Array, publicKey: Uint8Array): boolean {
    try {
      return secp256k1.verify(sig, msgHash, publicKey, { prehash: false, lowS: true, format: 'compact' });
    } catch {
      return false;
    }
  },
  ...secp256k1Points,
});

/** The registry: every name of `schemeCurves` with its scheme, checked to be the scheme of that name. */
const REGISTRY: { readonly [N in SchemeName]: Scheme<N> } = {
  'frost-ed25519': frostEd25519,
  'frost-secp256k1': frostSecp256k1,
  'frost-taproot': frostTaproot,
  'dkls23-secp256k1': dklsSecp256k1,
};

const SCHEMES: readonly Scheme[] = Object.values(REGISTRY);
const CURVES: readonly Curve[] = [...new Set(SCHEMES.map((s) => s.curve))];

// Map (not an object) so names like "__proto__" or "constructor" can never resolve.
const BY_NAME = new Map<string, Scheme>(SCHEMES.map((s) => [s.name, s]));

/** Whether `name` is a scheme of the registry (a `SchemeName`). */
export const isSchemeName = (name: unknown): name is SchemeName =>
  typeof name === 'string' && BY_NAME.has(name);

/** Whether `name` is a curve some scheme of the registry uses (a `Curve`). */
export const isCurve = (name: unknown): name is Curve =>
  typeof name === 'string' && (CURVES as readonly string[]).includes(name);

/**
 * A scheme by its name, e.g. 'frost-taproot'. Any other name is refused as UNKNOWN_SCHEME, with
 * the names the registry knows.
 */
export function getScheme(name: string): Scheme {
  const s = typeof name === 'string' ? BY_NAME.get(name) : undefined;
  if (!s) {
    throw new ConclaveError(
      'UNKNOWN_SCHEME',
      `unknown scheme "${String(name)}" (known: ${listSchemes().join(', ')})`,
    );
  }
  return s;
}

/** A curve by its name, e.g. 'secp256k1'. Any other name is refused as UNKNOWN_CURVE. */
export function curveNamed(name: string): Curve {
  if (!isCurve(name))
    throw new ConclaveError('UNKNOWN_CURVE', `unknown curve "${String(name)}" (known: ${CURVES.join(', ')})`);
  return name;
}

/**
 * The scheme a key generation asks for: by name, or by curve when the curve has only one.
 * A scheme named together with a curve must belong to it. An unknown curve is UNKNOWN_CURVE,
 * an unknown scheme UNKNOWN_SCHEME.
 */
export function resolveScheme(curve: string | undefined, scheme?: string): Scheme {
  if (curve !== undefined) curveNamed(curve);
  if (scheme !== undefined) {
    const s = getScheme(scheme);
    if (curve !== undefined && s.curve !== curve) {
      throw new ConclaveError('BAD_INPUT', `scheme ${s.name} is a ${s.curve} scheme, not ${curve}`);
    }
    return s;
  }
  if (curve === undefined)
    throw new ConclaveError('BAD_INPUT', `a key generation names its curve or its scheme`);
  const onCurve = SCHEMES.filter((s) => s.curve === curve);
  if (onCurve.length === 1) return onCurve[0]!;
  throw new ConclaveError(
    'BAD_INPUT',
    `curve ${curve} has several schemes (${onCurve.map((s) => s.name).join(', ')}): name one`,
  );
}

/** Scheme names, e.g. ['frost-ed25519', ...]. */
export function listSchemes(): SchemeName[] {
  return SCHEMES.map((s) => s.name);
}

/** Curve names: ['ed25519', 'secp256k1']. */
export function listCurves(): Curve[] {
  return [...CURVES];
}
