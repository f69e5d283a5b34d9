/**
 * The key a signing request signs with: the wallet's group key, derived along a non-hardened
 * path (BIP32 on secp256k1, Conclave's additive scheme on Ed25519, see hd.ts), then turned into
 * the scheme's output key (BIP341 for Taproot). Parties and coordinator each compute it from the
 * public key package they hold; the result is one affine tweak applied to every share.
 */
import { ConclaveError } from '../errors.js';
import { fromHex, toHex } from './encoding.js';
import type { KeyTweak } from './frost.js';
import { chainCodeFor, derivePublic, formatPath, parsePath } from './hd.js';
import type { Scheme } from './schemes.js';

export interface SigningKeyRequest {
  /** Derivation path, 'm' for the wallet key itself. */
  path?: string;
  /** Taproot script-tree merkle root (hex, 32 bytes); key-path only when absent. */
  merkleRoot?: string;
}

export interface SigningKey {
  /** The canonical path ('m/0/7'). */
  path: string;
  merkleRoot?: string;
  /** The derived group key (hex, suite encoding). */
  publicKey: string;
  /** The key verifiers use (hex): the derived key, or Taproot's x-only output key. */
  verifyingKey: string;
  /** From the wallet's shares to the shares of this key. */
  tweak: KeyTweak;
}

/** Checks a request's path and merkle root for this scheme; returns them in canonical form. */
export function canonicalKeyRequest(
  scheme: Scheme,
  req: SigningKeyRequest,
): Required<Pick<SigningKeyRequest, 'path'>> & SigningKeyRequest {
  const path = formatPath(parsePath(req.path ?? 'm'));
  if (req.merkleRoot === undefined) return { path };
  if (!scheme.takesMerkleRoot) {
    throw new ConclaveError('BAD_INPUT', `scheme ${scheme.name} takes no Taproot merkle root`);
  }
  if (typeof req.merkleRoot !== 'string' || !/^[0-9a-fA-F]{64}$/.test(req.merkleRoot)) {
    throw new ConclaveError('BAD_INPUT', 'merkle root must be 32 bytes of hex');
  }
  return { path, merkleRoot: req.merkleRoot.toLowerCase() };
}

export function signingKeyFor(
  scheme: Scheme,
  groupKeyHex: string,
  transcriptHash: string,
  req: SigningKeyRequest,
): SigningKey {
  const { path, merkleRoot } = canonicalKeyRequest(scheme, req);
  const groupKey = fromHex(groupKeyHex, 'group key');
  const child = derivePublic(scheme.curve, groupKey, chainCodeFor(transcriptHash, groupKey), parsePath(path));
  const out = scheme.outputKey(
    child.publicKey,
    merkleRoot === undefined ? undefined : fromHex(merkleRoot, 'merkle root'),
  );
  const Fn = scheme.frost.utils.Fn;
  // ±(s + hd) + out = ±s + (±hd + out)
  const add = Fn.add(
    out.negate ? Fn.neg(Fn.create(child.tweak)) : Fn.create(child.tweak),
    Fn.create(out.tweak),
  );
  const key: SigningKey = {
    path,
    publicKey: toHex(child.publicKey),
    verifyingKey: toHex(out.verifyingKey),
    tweak: { negate: out.negate, add: toHex(Fn.toBytes(add)) },
  };
  if (merkleRoot !== undefined) key.merkleRoot = merkleRoot;
  return key;
}
