/**
 * Non-hardened (public) key derivation from a threshold group key.
 *
 * No party holds the group secret, so only public derivation is possible: every child key is
 * `parent + tweak·G`, and each party turns its share into a share of the child by adding the
 * same public tweak. Hardened derivation needs the parent secret and is therefore rejected.
 *
 * Chain code. A wallet's chain code is a BIP340-style tagged hash of the key generation
 * transcript hash (32 bytes) and the group public key, so every party computes the same value
 * without another round:
 *   chainCode = SHA256(SHA256(tag) || SHA256(tag) || transcriptHash || groupPublicKey),
 *   tag = UTF-8 "conclave/chain-code/v1".
 *
 * secp256k1: exactly BIP32 CKDpub for non-hardened i:
 *   I = HMAC-SHA512(key = c, data = serP(K) || ser32(i)); IL = parse256(I[0:32]);
 *   K_i = K + IL·G; c_i = I[32:64]. IL >= n or K_i = infinity makes the key invalid (BIP32);
 *   we throw instead of skipping to the next index, so an index always means one key.
 *
 * ed25519 (Conclave's own additive scheme; SLIP-0010 defines no public derivation for ed25519):
 *   A = the parent's 32-byte RFC 8032 encoding, which must decode canonically to a point of
 *   prime order L (not small order, torsion-free);
 *   I = HMAC-SHA512(key = c, data = 0x03 || A || ser32(i)), ser32 = 4-byte big-endian;
 *   t = (I[0:32] read as a little-endian integer) mod L;
 *   t = 0 or A + t·B = identity makes the key invalid (we throw);
 *   A_i = A + t·B (RFC 8032 encoding); c_i = I[32:64].
 *   The 0x03 prefix only separates this HMAC input from any other use of the chain code.
 *
 * In both cases `tweak` is the sum of the per-level scalars mod the group order, so the child
 * key is parent + tweak·G and a share s becomes s + tweak.
 */
import { ed25519 } from '@noble/curves/ed25519.js';
import { schnorr, secp256k1 } from '@noble/curves/secp256k1.js';
import { bytesToNumberBE, bytesToNumberLE, concatBytes } from '@noble/curves/utils.js';
import { hmac } from '@noble/hashes/hmac.js';
import { sha512 } from '@noble/hashes/sha2.js';
import { ConclaveError } from '../errors.js';
import { fromHex, toHex } from './encoding.js';

export type HdCurve = 'secp256k1' | 'ed25519';

export interface DerivedKey {
  /** secp256k1: 33-byte compressed; ed25519: 32 bytes. */
  publicKey: Uint8Array;
  /** 32 bytes. */
  chainCode: Uint8Array;
  /** Sum of all per-level tweaks mod the group order: child = parent + tweak·G. 0n for the empty path. */
  tweak: bigint;
}

const HARDENED = 0x80000000;
// BIP32 serializes depth in one byte.
const MAX_DEPTH = 255;
const CHAIN_CODE_TAG = 'conclave/chain-code/v1';
const ED25519_PREFIX = 0x03;

// Keeps error messages short even for absurd input.
function show(component: string): string {
  return JSON.stringify(component.length > 24 ? `${component.slice(0, 24)}…` : component);
}

/** 'm', 'm/0', 'm/0/7' → [], [0], [0, 7]. Only non-hardened, canonical decimal indices. */
export function parsePath(path: string): number[] {
  if (typeof path !== 'string') throw new ConclaveError('BAD_INPUT', 'derivation path must be a string');
  const parts = path.split('/');
  if (parts[0] !== 'm') {
    throw new ConclaveError('BAD_INPUT', `derivation path must start with "m", got ${show(parts[0] ?? '')}`);
  }
  if (parts.length - 1 > MAX_DEPTH) {
    throw new ConclaveError('BAD_INPUT', `derivation path has more than ${MAX_DEPTH} levels`);
  }
  return parts.slice(1).map((c, k) => {
    const where = `derivation path component ${k + 1} (${show(c)})`;
    if (c === '') throw new ConclaveError('BAD_INPUT', `${where} is empty`);
    if (/^[0-9]+['hH]$/.test(c)) {
      throw new ConclaveError(
        'BAD_INPUT',
        `${where} is hardened; a threshold key can only derive non-hardened children`,
      );
    }
    if (!/^(0|[1-9][0-9]*)$/.test(c)) {
      throw new ConclaveError('BAD_INPUT', `${where} is not a canonical decimal index`);
    }
    // At most 10 digits, so Number() is exact before the range check.
    if (c.length > 10 || Number(c) >= HARDENED) {
      throw new ConclaveError('BAD_INPUT', `${where} is not below 2^31`);
    }
    return Number(c);
  });
}

/** [] → 'm', [0, 7] → 'm/0/7'. */
export function formatPath(indices: readonly number[]): string {
  checkIndices(indices);
  return ['m', ...indices.map(String)].join('/');
}

function checkIndices(indices: readonly number[]): void {
  if (!Array.isArray(indices)) throw new ConclaveError('BAD_INPUT', 'derivation path must be an array');
  if (indices.length > MAX_DEPTH) {
    throw new ConclaveError('BAD_INPUT', `derivation path has more than ${MAX_DEPTH} levels`);
  }
  indices.forEach((i, k) => {
    if (!Number.isInteger(i) || i < 0 || i >= HARDENED) {
      throw new ConclaveError(
        'BAD_INPUT',
        `derivation index at level ${k + 1} is not an integer in [0, 2^31)`,
      );
    }
  });
}

/** The wallet's chain code: every party derives it from public key generation output. */
export function chainCodeFor(transcriptHashHex: string, groupPublicKey: Uint8Array): Uint8Array {
  const th = fromHex(transcriptHashHex, 'transcript hash');
  if (th.length !== 32) throw new ConclaveError('BAD_INPUT', 'transcript hash must be 32 bytes');
  if (!(groupPublicKey instanceof Uint8Array) || groupPublicKey.length === 0) {
    throw new ConclaveError('BAD_INPUT', 'group public key must be non-empty bytes');
  }
  // The transcript hash has a fixed length, so the concatenation is unambiguous.
  return schnorr.utils.taggedHash(CHAIN_CODE_TAG, th, groupPublicKey);
}

function ser32(i: number): Uint8Array {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, i, false);
  return b;
}

function deriveSecp256k1(
  parentPublicKey: Uint8Array,
  chainCode: Uint8Array,
  path: readonly number[],
): DerivedKey {
  const { Point } = secp256k1;
  const { Fn } = Point;
  const head = parentPublicKey[0];
  if (parentPublicKey.length !== 33 || (head !== 0x02 && head !== 0x03)) {
    throw new ConclaveError('BAD_INPUT', 'secp256k1 parent key must be a 33-byte compressed point');
  }
  let K = (() => {
    try {
      return Point.fromBytes(parentPublicKey);
    } catch {
      throw new ConclaveError('BAD_INPUT', 'secp256k1 parent key is not a point on the curve');
    }
  })();
  let c = chainCode;
  let tweak = 0n;
  path.forEach((i, k) => {
    const I = hmac(sha512, c, concatBytes(K.toBytes(true), ser32(i)));
    const il = bytesToNumberBE(I.subarray(0, 32));
    if (il >= Fn.ORDER) {
      throw new ConclaveError('BAD_INPUT', `BIP32: invalid child at level ${k + 1} (index ${i}): IL >= n`);
    }
    // multiply() rejects 0; IL = 0 is a valid (identity) tweak in BIP32.
    const child = il === 0n ? K : K.add(Point.BASE.multiply(il));
    if (child.is0()) {
      throw new ConclaveError('BAD_INPUT', `BIP32: invalid child at level ${k + 1} (index ${i}): infinity`);
    }
    K = child;
    c = I.slice(32);
    tweak = Fn.add(tweak, il);
  });
  return { publicKey: K.toBytes(true), chainCode: Uint8Array.from(c), tweak };
}

/** Ed25519 keys already found to be of prime order (public values; bounded). */
const primeOrderKeys = new Set<string>();
const toHexKey = toHex;

function deriveEd25519(
  parentPublicKey: Uint8Array,
  chainCode: Uint8Array,
  path: readonly number[],
): DerivedKey {
  const { Point } = ed25519;
  const { Fn } = Point;
  if (parentPublicKey.length !== 32)
    throw new ConclaveError('BAD_INPUT', 'ed25519 parent key must be 32 bytes');
  let A = (() => {
    try {
      // Strict RFC 8032 decoding (no ZIP-215 leniency): one encoding per point.
      return Point.fromBytes(parentPublicKey, false);
    } catch {
      throw new ConclaveError('BAD_INPUT', 'ed25519 parent key is not a valid point encoding');
    }
  })();
  // Shares are scalars, so a group key can only be a multiple of B; a torsion component would
  // be carried into every child and make verifiers (cofactored or not) disagree.
  if (!primeOrderKeys.has(toHexKey(parentPublicKey))) {
    if (A.isSmallOrder() || !A.isTorsionFree()) {
      throw new ConclaveError('BAD_INPUT', 'ed25519 parent key is not a point of prime order');
    }
    // a full scalar multiplication: remembered per key (a wallet's key is checked once, not per signature)
    if (primeOrderKeys.size >= 4096) primeOrderKeys.clear();
    primeOrderKeys.add(toHexKey(parentPublicKey));
  }
  let c = chainCode;
  let tweak = 0n;
  path.forEach((i, k) => {
    const I = hmac(sha512, c, concatBytes(Uint8Array.of(ED25519_PREFIX), A.toBytes(), ser32(i)));
    const t = Fn.create(bytesToNumberLE(I.subarray(0, 32)));
    if (t === 0n) throw new ConclaveError('BAD_INPUT', `invalid child at level ${k + 1} (index ${i}): t = 0`);
    const child = A.add(Point.BASE.multiply(t));
    if (child.is0()) {
      throw new ConclaveError('BAD_INPUT', `invalid child at level ${k + 1} (index ${i}): identity`);
    }
    A = child;
    c = I.slice(32);
    tweak = Fn.add(tweak, t);
  });
  return { publicKey: A.toBytes(), chainCode: Uint8Array.from(c), tweak };
}

/** Derives the key at `path` (non-hardened indices) below `parentPublicKey`. */
export function derivePublic(
  curve: HdCurve,
  parentPublicKey: Uint8Array,
  chainCode: Uint8Array,
  path: readonly number[],
): DerivedKey {
  if (!(parentPublicKey instanceof Uint8Array))
    throw new ConclaveError('BAD_INPUT', 'parent key must be bytes');
  if (!(chainCode instanceof Uint8Array) || chainCode.length !== 32) {
    throw new ConclaveError('BAD_INPUT', 'chain code must be 32 bytes');
  }
  checkIndices(path);
  if (curve === 'secp256k1') return deriveSecp256k1(parentPublicKey, chainCode, path);
  if (curve === 'ed25519') return deriveEd25519(parentPublicKey, chainCode, path);
  throw new ConclaveError('UNKNOWN_CURVE', `no HD derivation for curve ${JSON.stringify(String(curve))}`);
}
