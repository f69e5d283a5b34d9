/**
 * Signature checks that do not use noble: OpenSSL (node:crypto) for Ed25519, libsecp256k1
 * (tiny-secp256k1, WASM) for BIP340 and for the FROST(secp256k1) verification equation, with
 * RFC 9380 hash-to-field written here on node:crypto's SHA-256. Tests only.
 */
import { createHash, createPublicKey, verify as nodeVerify } from 'node:crypto';
import * as libsecp from 'tiny-secp256k1';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const bytes = (h: string) => new Uint8Array(Buffer.from(h, 'hex'));
const concat = (...parts: Uint8Array[]) => new Uint8Array(Buffer.concat(parts));
const sha256 = (...parts: Uint8Array[]) =>
  new Uint8Array(
    createHash('sha256')
      .update(concat(...parts))
      .digest(),
  );
const secp256k1Order = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n;

/** RFC 9380 expand_message_xmd (SHA-256) and hash_to_field onto the secp256k1 scalars (L = 48). */
export function hashToSecp256k1Scalar(message: Uint8Array, dst: string): bigint {
  const DST = new TextEncoder().encode(dst);
  const dstPrime = concat(DST, Uint8Array.of(DST.length));
  const len = 48;
  const b0 = sha256(new Uint8Array(64), message, Uint8Array.of(0, len), Uint8Array.of(0), dstPrime);
  const b1 = sha256(b0, Uint8Array.of(1), dstPrime);
  const b2 = sha256(
    b0.map((x, i) => x ^ b1[i]!),
    Uint8Array.of(2),
    dstPrime,
  );
  return BigInt(`0x${hex(concat(b1, b2).subarray(0, len))}`) % secp256k1Order;
}

/** FROST(secp256k1, SHA-256): z·G == R + H2(R || PK || msg)·PK, checked with libsecp256k1. */
export function verifyFrostSecp256k1(sigHex: string, msg: Uint8Array, publicKeyHex: string): boolean {
  const R = bytes(sigHex.slice(0, 66));
  const z = bytes(sigHex.slice(66));
  const PK = bytes(publicKeyHex);
  if (R.length !== 33 || z.length !== 32 || !libsecp.isPoint(R) || !libsecp.isPoint(PK)) return false;
  const c = hashToSecp256k1Scalar(concat(R, PK, msg), 'FROST-secp256k1-SHA256-v1chal');
  const cPK = libsecp.pointMultiply(PK, bytes(c.toString(16).padStart(64, '0')), true);
  const lhs = libsecp.isPrivate(z) ? libsecp.pointFromScalar(z, true) : null;
  const rhs = cPK && libsecp.pointAdd(R, cPK, true);
  return lhs !== null && rhs !== null && hex(lhs) === hex(rhs);
}

/** BIP340 with libsecp256k1; the message must be 32 bytes (a sighash). */
export function verifyBip340(sigHex: string, msg32: Uint8Array, xOnlyKeyHex: string): boolean {
  return libsecp.verifySchnorr(msg32, bytes(xOnlyKeyHex), bytes(sigHex));
}

/** Ed25519 with OpenSSL. */
export function verifyEd25519OpenSsl(sigHex: string, msg: Uint8Array, publicKeyHex: string): boolean {
  const key = createPublicKey({
    key: Buffer.concat([Buffer.from('302a300506032b6570032100', 'hex'), Buffer.from(publicKeyHex, 'hex')]),
    format: 'der',
    type: 'spki',
  });
  return nodeVerify(null, msg, key, Buffer.from(sigHex, 'hex'));
}

/** The independent verifier for a Conclave scheme. */
export function verifyIndependently(
  scheme: string,
  sigHex: string,
  msg: Uint8Array,
  keyHex: string,
): boolean {
  if (scheme === 'frost-ed25519') return verifyEd25519OpenSsl(sigHex, msg, keyHex);
  if (scheme === 'frost-secp256k1') return verifyFrostSecp256k1(sigHex, msg, keyHex);
  if (scheme === 'frost-taproot') return verifyBip340(sigHex, msg, keyHex);
  if (scheme === 'dkls23-secp256k1') return verifyEcdsaLibsecp(sigHex, msg, keyHex);
  throw new Error(`no independent verifier for ${scheme}`);
}

/** SEC1 SubjectPublicKeyInfo prefix of a compressed secp256k1 key (id-ecPublicKey, secp256k1). */
const SECP256K1_SPKI_COMPRESSED = '3036301006072a8648ce3d020106052b8104000a032200';

/**
 * ECDSA over secp256k1 with OpenSSL: `data` is hashed with SHA-256 here, so the signature must be
 * over sha256(data). Signature is r||s (64 bytes hex).
 */
export function verifyEcdsaOpenSsl(sigHex: string, data: Uint8Array, compressedKeyHex: string): boolean {
  const key = createPublicKey({
    key: Buffer.from(SECP256K1_SPKI_COMPRESSED + compressedKeyHex, 'hex'),
    format: 'der',
    type: 'spki',
  });
  return nodeVerify('sha256', data, { key, dsaEncoding: 'ieee-p1363' }, Buffer.from(sigHex, 'hex'));
}

/** ECDSA with libsecp256k1, strict (low-S required), over a 32-byte hash. */
export function verifyEcdsaLibsecp(sigHex: string, hash32: Uint8Array, compressedKeyHex: string): boolean {
  return libsecp.verify(hash32, bytes(compressedKeyHex), bytes(sigHex), true);
}

/** The compressed public key libsecp256k1 recovers from a signature and its recovery id. */
export function recoverEcdsaLibsecp(sigHex: string, hash32: Uint8Array, recoveryId: number): string | null {
  const key = libsecp.recover(hash32, bytes(sigHex), recoveryId as 0 | 1 | 2 | 3, true);
  return key ? hex(key) : null;
}
