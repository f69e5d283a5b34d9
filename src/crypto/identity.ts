/**
 * Long-lived party keys: Ed25519 identity (signs every round message) and X25519 transport
 * (receives point-to-point messages).
 */
import { ed25519, x25519 } from '@noble/curves/ed25519.js';
import { ConclaveError } from '../errors.js';

export interface PartyKeys {
  identitySecret: Uint8Array;
  identityPublic: Uint8Array;
  transportSecret: Uint8Array;
  transportPublic: Uint8Array;
}

export function generatePartyKeys(): PartyKeys {
  const identitySecret = ed25519.utils.randomSecretKey();
  const transportSecret = x25519.utils.randomSecretKey();
  return {
    identitySecret,
    identityPublic: ed25519.getPublicKey(identitySecret),
    transportSecret,
    transportPublic: x25519.getPublicKey(transportSecret),
  };
}

export function signBytes(secret: Uint8Array, msg: Uint8Array): Uint8Array {
  if (!(secret instanceof Uint8Array) || secret.length !== 32) {
    throw new ConclaveError('BAD_INPUT', 'identity secret key must be 32 bytes');
  }
  return ed25519.sign(msg, secret);
}

/** Strict RFC 8032 verification; never throws, malformed input is simply invalid. */
export function verifyBytes(publicKey: Uint8Array, msg: Uint8Array, sig: Uint8Array): boolean {
  try {
    return ed25519.verify(sig, msg, publicKey, { zip215: false });
  } catch {
    return false;
  }
}
