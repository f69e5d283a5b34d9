/**
 * BIP340/BIP341 key-path helpers: the Taproot output key of an internal key.
 *
 * taproot_tweak_pubkey (BIP341): P = lift_x(x(internal)) (even y);
 *   t = int(hash_TapTweak(x(P) || merkleRoot)), or hash_TapTweak(x(P)) without a script tree
 *   (BIP86); t >= n is invalid; Q = P + t·G; the output key is x(Q) with parity y(Q) mod 2.
 * A signer with secret d for the internal key uses d' = (internalNegated ? n - d : d) + t mod n;
 * BIP340 signing then negates d' itself when Q has odd y.
 */
import { schnorr, secp256k1 } from '@noble/curves/secp256k1.js';
import { bytesToNumberBE } from '@noble/curves/utils.js';
import { ConclaveError } from '../errors.js';

export interface TaprootTweak {
  /** x-only output key Q (32 bytes): what a P2TR scriptPubKey commits to. */
  outputKey: Uint8Array;
  /** y(Q) mod 2; needed in a script-path control block. */
  parity: 0 | 1;
  /** The scalar t with Q = P + t·G. */
  tweak: bigint;
  /** True when the 33-byte internal key had odd y, so P is its negation. */
  internalNegated: boolean;
}

type Point = InstanceType<typeof secp256k1.Point>;

function parseCompressed(bytes: Uint8Array, what: string): Point {
  if (!(bytes instanceof Uint8Array) || bytes.length !== 33 || (bytes[0] !== 0x02 && bytes[0] !== 0x03)) {
    throw new ConclaveError('BAD_INPUT', `${what} must be a 33-byte compressed point`);
  }
  try {
    return secp256k1.Point.fromBytes(bytes);
  } catch {
    throw new ConclaveError('BAD_INPUT', `${what} is not a point on secp256k1`);
  }
}

/** x-only (BIP340) encoding of a compressed point: its x coordinate. */
export function xOnly(pointBytes33: Uint8Array): Uint8Array {
  parseCompressed(pointBytes33, 'point');
  return pointBytes33.slice(1);
}

/** BIP341 taproot_tweak_pubkey for key-path spending. */
export function taprootTweak(internalKey: Uint8Array, merkleRoot?: Uint8Array): TaprootTweak {
  if (!(internalKey instanceof Uint8Array))
    throw new ConclaveError('BAD_INPUT', 'internal key must be bytes');
  let P: Point;
  let internalNegated = false;
  if (internalKey.length === 32) {
    try {
      P = schnorr.utils.lift_x(bytesToNumberBE(internalKey));
    } catch {
      throw new ConclaveError('BAD_INPUT', 'x-only internal key is not the x coordinate of a point');
    }
  } else {
    const K = parseCompressed(internalKey, 'internal key');
    internalNegated = internalKey[0] === 0x03;
    P = internalNegated ? K.negate() : K;
  }
  if (merkleRoot !== undefined && (!(merkleRoot instanceof Uint8Array) || merkleRoot.length !== 32)) {
    throw new ConclaveError('BAD_INPUT', 'Taproot merkle root must be 32 bytes');
  }
  const px = schnorr.utils.pointToBytes(P);
  const h =
    merkleRoot === undefined
      ? schnorr.utils.taggedHash('TapTweak', px)
      : schnorr.utils.taggedHash('TapTweak', px, merkleRoot);
  const t = bytesToNumberBE(h);
  if (t >= secp256k1.Point.Fn.ORDER) throw new ConclaveError('BAD_INPUT', 'TapTweak hash is not below n');
  // multiply() rejects 0; t = 0 simply leaves P unchanged.
  const Q = t === 0n ? P : P.add(secp256k1.Point.BASE.multiply(t));
  if (Q.is0()) throw new ConclaveError('BAD_INPUT', 'Taproot output key is the point at infinity');
  return {
    outputKey: schnorr.utils.pointToBytes(Q),
    parity: Q.y % 2n === 0n ? 0 : 1,
    tweak: t,
    internalNegated,
  };
}
