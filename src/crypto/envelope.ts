/**
 * Round-message envelopes. Every envelope is signed by the sender's identity key over all of its
 * fields; point-to-point envelopes are additionally encrypted to the recipient's transport key
 * (ephemeral X25519 + HKDF-SHA256 + AES-256-GCM), so the relay/coordinator sees only ciphertext.
 */
import {
  createCipheriv,
  createDecipheriv,
  createHash,
  createPrivateKey,
  createPublicKey,
  diffieHellman,
  generateKeyPairSync,
  randomBytes,
  type KeyObject,
} from 'node:crypto';
import { hkdf } from '@noble/hashes/hkdf.js';
import { sha256 as sha256Hash } from '@noble/hashes/sha2.js';
import { concatBytes } from '@noble/hashes/utils.js';
import { ConclaveError, CulpritError } from '../errors.js';
import { encodeFields, fromHex, sha256, toHex, utf8 } from './encoding.js';
import { signBytes, verifyBytes } from './identity.js';
import { KeyCache } from './key-cache.js';

export interface EnvelopeHeader {
  tenant: string;
  ceremonyId: string;
  round: string;
  type: string;
  from: string;
  /** Recipient party id, or '*' for broadcast. */
  to: string;
}

export interface Envelope extends EnvelopeHeader {
  /**
   * Plaintext for broadcast, ciphertext (with GCM tag) for direct: base64 (`enc: 'base64'`, what
   * is sealed now), or hex (no `enc`: envelopes sealed before, such as older backups).
   */
  body: string;
  /** How `body` is encoded; absent: hex. Not signed: the signature covers the bytes themselves. */
  enc?: 'base64';
  /** Hex ephemeral X25519 public key, direct only. */
  epk?: string;
  /** Hex 12-byte AES-GCM nonce, direct only. */
  nonce?: string;
  /** Hex Ed25519 signature by the sender identity key over the canonical encoding of all other fields. */
  sig: string;
}

const BROADCAST = '*';
const KDF_INFO = 'conclave/envelope/v1';
const HEADER_FIELDS = ['tenant', 'ceremonyId', 'round', 'type', 'from', 'to'] as const;
const REPLAY_FIELDS = new Set<string>(['tenant', 'ceremonyId', 'round', 'type']);

function headerEncoding(h: EnvelopeHeader): Uint8Array {
  return encodeFields(['conclave/envelope/v1/header', h.tenant, h.ceremonyId, h.round, h.type, h.from, h.to]);
}

// The mode tag keeps a broadcast from ever verifying as a direct message (and vice versa).
function signedPayload(
  h: EnvelopeHeader,
  body: Uint8Array,
  direct: { epk: Uint8Array; nonce: Uint8Array } | undefined,
): Uint8Array {
  return encodeFields([
    'conclave/envelope/v1/sig',
    direct ? 'direct' : 'broadcast',
    h.tenant,
    h.ceremonyId,
    h.round,
    h.type,
    h.from,
    h.to,
    body,
    direct ? direct.epk : new Uint8Array(0),
    direct ? direct.nonce : new Uint8Array(0),
  ]);
}

// noble's HKDF: on inputs this short, Node's hkdfSync is no faster (about 9 µs against 8).
function deriveKey(shared: Uint8Array, h: EnvelopeHeader, epk: Uint8Array, recipientPub: Uint8Array) {
  const salt = sha256(headerEncoding(h));
  const info = concatBytes(utf8(KDF_INFO), epk, recipientPub);
  return hkdf(sha256Hash, shared, salt, info, 32);
}

// X25519 on Node's OpenSSL (ten times faster than noble's here), keys imported as KeyObjects. Like
// noble, it masks a public key's top bit, reads it modulo p and refuses a small-order one (OpenSSL
// by the all-zero shared secret it would give): both throw. An ephemeral secret lives in its
// KeyObject, which cannot be zeroed; it is dropped with it.

const b64url = (bytes: Uint8Array): string =>
  Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64url');

const x25519Public = (raw: Uint8Array): KeyObject =>
  createPublicKey({ key: { kty: 'OKP', crv: 'X25519', x: b64url(raw) }, format: 'jwk' });

const rawPublic = (key: KeyObject): Uint8Array =>
  new Uint8Array(Buffer.from(key.export({ format: 'jwk' }).x!, 'base64url'));

// PKCS#8 v1 of an X25519 key (RFC 8410) up to its 32 bytes.
const PKCS8_X25519 = Buffer.from('302e020100300506032b656e04220420', 'hex');
const pepper = randomBytes(32);
/** Transport secret keys, imported once, by a peppered hash of the secret; with the public key. */
const transportKeys = new KeyCache<{ key: KeyObject; pub: Uint8Array }>(64);

function transportKey(secret: Uint8Array): { key: KeyObject; pub: Uint8Array } {
  const id = createHash('sha256').update(pepper).update(secret).digest('base64');
  const cached = transportKeys.get(id);
  if (cached) return cached;
  const der = Buffer.concat([PKCS8_X25519, secret]);
  try {
    const key = createPrivateKey({ key: der, format: 'der', type: 'pkcs8' });
    return transportKeys.set(id, { key, pub: rawPublic(createPublicKey(key)) });
  } finally {
    der.fill(0);
  }
}

/** The shared secret's own bytes (no copy), so that zeroing them zeroes it. */
function sharedSecret(privateKey: KeyObject, publicKey: Uint8Array): Uint8Array {
  const shared = diffieHellman({ privateKey, publicKey: x25519Public(publicKey) });
  return new Uint8Array(shared.buffer, shared.byteOffset, shared.byteLength);
}

function aad(h: EnvelopeHeader, epk: Uint8Array): Uint8Array {
  return encodeFields([headerEncoding(h), epk]);
}

const toBase64 = (bytes: Uint8Array): string => Buffer.from(bytes).toString('base64');

/**
 * An envelope's body bytes, as its `enc` says (base64, or hex when absent). Strict: only the one
 * canonical spelling of the bytes is accepted. Throws BAD_INPUT otherwise.
 */
export function envelopeBytes(env: Pick<Envelope, 'body' | 'enc'>): Uint8Array {
  if (typeof env.body !== 'string') throw new ConclaveError('BAD_INPUT', 'envelope body must be a string');
  if (env.enc === undefined) return fromHex(env.body, 'body');
  if (env.enc !== 'base64') throw new ConclaveError('BAD_INPUT', 'unknown envelope body encoding');
  const bytes = Buffer.from(env.body, 'base64');
  if (bytes.toString('base64') !== env.body)
    throw new ConclaveError('BAD_INPUT', 'envelope body is not base64');
  return new Uint8Array(bytes);
}

/** The JSON a broadcast envelope carries (its body is plaintext); no signature check. */
export function broadcastJson<T>(env: Pick<Envelope, 'body' | 'enc'>): T {
  return JSON.parse(new TextDecoder().decode(envelopeBytes(env))) as T;
}

function pickHeader(h: EnvelopeHeader): EnvelopeHeader {
  const out = {} as EnvelopeHeader;
  for (const k of HEADER_FIELDS) {
    if (typeof h[k] !== 'string')
      throw new ConclaveError('BAD_INPUT', `envelope header field ${k} must be a string`);
    out[k] = h[k];
  }
  return out;
}

export function sealBroadcast(h: EnvelopeHeader, body: Uint8Array, identitySecret: Uint8Array): Envelope {
  const header = pickHeader(h);
  if (header.to !== BROADCAST)
    throw new ConclaveError('BAD_INPUT', "broadcast envelope must be addressed to '*'");
  const sig = signBytes(identitySecret, signedPayload(header, body, undefined));
  return { ...header, body: toBase64(body), enc: 'base64', sig: toHex(sig) };
}

export function sealDirect(
  h: EnvelopeHeader,
  body: Uint8Array,
  identitySecret: Uint8Array,
  recipientTransportPublic: Uint8Array,
): Envelope {
  const header = pickHeader(h);
  if (header.to === BROADCAST)
    throw new ConclaveError('BAD_INPUT', 'direct envelope needs a recipient party id');
  const eph = generateKeyPairSync('x25519');
  const epk = rawPublic(eph.publicKey);
  let shared: Uint8Array;
  try {
    if (!(recipientTransportPublic instanceof Uint8Array) || recipientTransportPublic.length !== 32)
      throw new Error('not 32 bytes');
    shared = sharedSecret(eph.privateKey, recipientTransportPublic);
  } catch {
    throw new ConclaveError('BAD_INPUT', `recipient transport key for ${header.to} is invalid`);
  }
  const key = deriveKey(shared, header, epk, recipientTransportPublic);
  const nonce = new Uint8Array(randomBytes(12));
  const cipher = createCipheriv('aes-256-gcm', key, nonce);
  cipher.setAAD(aad(header, epk));
  const ct = new Uint8Array(Buffer.concat([cipher.update(body), cipher.final(), cipher.getAuthTag()]));
  shared.fill(0);
  key.fill(0);
  const sig = signBytes(identitySecret, signedPayload(header, ct, { epk, nonce }));
  return {
    ...header,
    body: toBase64(ct),
    enc: 'base64',
    epk: toHex(epk),
    nonce: toHex(nonce),
    sig: toHex(sig),
  };
}

/**
 * Checks, in order: header equals `expect` (replay/misrouting), well-formedness, sender signature,
 * then decryption for direct messages. Every failure is a typed CulpritError.
 */
export function openEnvelope(
  env: Envelope,
  expect: EnvelopeHeader,
  senderIdentityPublic: Uint8Array,
  recipientTransportSecret?: Uint8Array,
): Uint8Array {
  const header = pickHeader(expect);
  const culprit = header.from;
  const malformed = () => new CulpritError('TAMPERED', culprit, 'malformed message');
  if (typeof env !== 'object' || env === null) throw malformed();
  for (const k of HEADER_FIELDS) {
    if (typeof env[k] !== 'string') throw malformed();
  }
  for (const k of HEADER_FIELDS) {
    if (env[k] === header[k]) continue;
    if (REPLAY_FIELDS.has(k)) {
      throw new CulpritError('REPLAY', env.from, `message from another ceremony or round (${k} mismatch)`);
    }
    throw new CulpritError('TAMPERED', culprit, `message is misaddressed (${k} mismatch)`);
  }
  const direct = header.to !== BROADCAST;
  if (direct && !(recipientTransportSecret instanceof Uint8Array && recipientTransportSecret.length === 32)) {
    throw new ConclaveError('BAD_INPUT', 'a direct message needs the 32-byte recipient transport secret key');
  }
  let body: Uint8Array;
  let sig: Uint8Array;
  let parts: { epk: Uint8Array; nonce: Uint8Array } | undefined;
  try {
    body = envelopeBytes(env);
    sig = fromHex(env.sig, 'sig');
    if (direct) {
      if (typeof env.epk !== 'string' || typeof env.nonce !== 'string') throw malformed();
      parts = { epk: fromHex(env.epk, 'epk'), nonce: fromHex(env.nonce, 'nonce') };
      if (parts.epk.length !== 32 || parts.nonce.length !== 12 || body.length < 16) throw malformed();
    } else if (env.epk !== undefined || env.nonce !== undefined) {
      throw malformed();
    }
  } catch {
    throw malformed();
  }
  if (!verifyBytes(senderIdentityPublic, signedPayload(header, body, parts), sig)) {
    throw new CulpritError('TAMPERED', culprit, `bad signature on ${header.type} message`);
  }
  if (!parts || !recipientTransportSecret) return body;
  try {
    const recipient = transportKey(recipientTransportSecret);
    const shared = sharedSecret(recipient.key, parts.epk);
    const key = deriveKey(shared, header, parts.epk, recipient.pub);
    const decipher = createDecipheriv('aes-256-gcm', key, parts.nonce);
    decipher.setAAD(aad(header, parts.epk));
    decipher.setAuthTag(body.subarray(body.length - 16));
    const pt = Buffer.concat([decipher.update(body.subarray(0, body.length - 16)), decipher.final()]);
    shared.fill(0);
    key.fill(0);
    return new Uint8Array(pt);
  } catch {
    throw new CulpritError('TAMPERED', culprit, `undecryptable ${header.type} message`);
  }
}
