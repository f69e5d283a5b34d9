/**
 * Long-lived party keys: Ed25519 identity (signs every round message) and X25519 transport
 * (receives point-to-point messages).
 *
 * Signing and verifying run on Node's OpenSSL (`crypto.sign`/`crypto.verify`, over ten times
 * faster than noble's Ed25519 here) with each key imported once (`KeyCache`), and on noble where
 * there is no `node:crypto`: Temporal bundles this module into workflows (policy/authorization.ts
 * checks signatures there), so `node:crypto` is looked up at run time, never imported. Both give
 * the same bytes and the same verdicts: signatures are RFC 8032's deterministic ones, and
 * `verifyBytes` keeps noble's strict rules (`zip215: false`), see there.
 */
import type * as NodeCrypto from 'node:crypto';
import { ed25519, x25519 } from '@noble/curves/ed25519.js';
import { ConclaveError } from '../errors.js';
import { KeyCache } from './key-cache.js';

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

/** `node:crypto` in Node; undefined where there are no Node built-ins (a workflow's sandbox). */
const nodeCrypto = ((): typeof NodeCrypto | undefined => {
  try {
    const proc = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }).process;
    return proc?.getBuiltinModule?.('node:crypto') as typeof NodeCrypto | undefined;
  } catch {
    return undefined;
  }
})();

// PKCS#8 v1 of an Ed25519 key (RFC 8410) up to its 32-byte seed.
const PKCS8_ED25519 = Uint8Array.from([
  0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20,
]);

/** Signing keys by a peppered hash of the seed: the cache holds no secret bytes in its keys. */
const signingKeys = new KeyCache<NodeCrypto.KeyObject>(64);
/** Verifying keys by public key; null for a key noble's strict rules refuse. */
const verifyingKeys = new KeyCache<NodeCrypto.KeyObject | null>(1024);
const pepper = nodeCrypto?.randomBytes(32);

function signingKey(nc: typeof NodeCrypto, secret: Uint8Array): NodeCrypto.KeyObject {
  const id = nc.createHash('sha256').update(pepper!).update(secret).digest('base64');
  const cached = signingKeys.get(id);
  if (cached) return cached;
  const der = Buffer.concat([PKCS8_ED25519, secret]);
  try {
    return signingKeys.set(id, nc.createPrivateKey({ key: der, format: 'der', type: 'pkcs8' }));
  } finally {
    der.fill(0);
  }
}

/**
 * The public key as OpenSSL checks signatures with it, or null when noble's strict rules refuse it
 * (`zip215: false`): a non-canonical encoding (y >= p, or x = 0 with its sign bit set), not a
 * point, or a point of small order. OpenSSL refuses none of those reliably; under a small-order
 * key it accepts signatures that hold for any message.
 */
function verifyingKey(nc: typeof NodeCrypto, publicKey: Uint8Array): NodeCrypto.KeyObject | null {
  const id = Buffer.from(publicKey.buffer, publicKey.byteOffset, publicKey.byteLength).toString('base64');
  const cached = verifyingKeys.get(id);
  if (cached !== undefined) return cached;
  let ok: boolean;
  try {
    ok = !ed25519.Point.fromBytes(publicKey, false).isSmallOrder();
  } catch {
    ok = false;
  }
  const x = Buffer.from(publicKey.buffer, publicKey.byteOffset, publicKey.byteLength).toString('base64url');
  return verifyingKeys.set(
    id,
    ok ? nc.createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x }, format: 'jwk' }) : null,
  );
}

// The group order L = 2^252 + 27742317777372353535851937790883648493, little-endian.
const ORDER_LE = Uint8Array.from([
  0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7, 0xa2, 0xde, 0xf9, 0xde, 0x14, 0, 0, 0, 0,
  0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10,
]);

/** Whether the signature's S (its last 32 bytes, little-endian) is below L, as RFC 8032 requires. */
function canonicalS(sig: Uint8Array): boolean {
  for (let i = 31; i >= 0; i--) {
    const s = sig[32 + i] as number;
    const l = ORDER_LE[i] as number;
    if (s !== l) return s < l;
  }
  return false; // S = L
}

export function signBytes(secret: Uint8Array, msg: Uint8Array): Uint8Array {
  if (!(secret instanceof Uint8Array) || secret.length !== 32) {
    throw new ConclaveError('BAD_INPUT', 'identity secret key must be 32 bytes');
  }
  if (!nodeCrypto || !(msg instanceof Uint8Array)) return ed25519.sign(msg, secret);
  return new Uint8Array(nodeCrypto.sign(null, msg, signingKey(nodeCrypto, secret)));
}

function nobleVerify(publicKey: Uint8Array, msg: Uint8Array, sig: Uint8Array): boolean {
  try {
    return ed25519.verify(sig, msg, publicKey, { zip215: false });
  } catch {
    return false;
  }
}

/**
 * Strict RFC 8032 verification, noble's `zip215: false`; never throws, malformed input is simply
 * invalid. The public key must be a canonical encoding of a point not of small order, R a
 * canonical encoding of a point, S below L, and [8][S]B = [8]R + [8][k]A.
 *
 * On Node the key is checked here as noble checks it (`verifyingKey`, once per key), and S; OpenSSL
 * then checks that [S]B - [k]A encodes to R's bytes, which only a canonical R can match and which
 * implies noble's cofactored equation: what OpenSSL accepts, noble accepts. What it refuses goes
 * to noble, for R off by a small-order point (or such a component in A: only a key's holder can
 * make either) satisfies the cofactored equation alone. So the verdict is noble's every time, and
 * a bad signature costs noble's time, a good one OpenSSL's.
 */
export function verifyBytes(publicKey: Uint8Array, msg: Uint8Array, sig: Uint8Array): boolean {
  if (
    !nodeCrypto ||
    !(publicKey instanceof Uint8Array) ||
    !(msg instanceof Uint8Array) ||
    !(sig instanceof Uint8Array)
  ) {
    return nobleVerify(publicKey, msg, sig);
  }
  if (publicKey.length !== 32 || sig.length !== 64 || !canonicalS(sig)) return false;
  const key = verifyingKey(nodeCrypto, publicKey);
  if (!key) return false;
  if (nodeCrypto.verify(null, msg, key, sig)) return true;
  return nobleVerify(publicKey, msg, sig);
}
