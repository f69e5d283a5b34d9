/**
 * Standard Webhooks signing and verification (https://www.standardwebhooks.com, spec v1.0.0,
 * github.com/standard-webhooks/standard-webhooks/blob/main/spec/standard-webhooks.md).
 *
 * Self-contained on purpose: it imports only node built-ins and @noble/curves, so receivers can
 * copy this one file. The wire format:
 *
 *   signed content     `${webhook-id}.${webhook-timestamp}.${body}`, UTF-8 encoded
 *   headers            webhook-id, webhook-timestamp (unix seconds), webhook-signature
 *   webhook-signature  space-delimited `version,base64(signature)` entries, one per signing key
 *   symmetric   `v1`   HMAC-SHA256, secret `whsec_` + base64(24..64 random bytes)
 *   asymmetric  `v1a`  Ed25519, secret key `whsk_` + base64(seed || public key) (Svix layout; a bare
 *                      32-byte seed is accepted too), public key `whpk_` + base64(32-byte key)
 *
 * Receivers verify with `whsec_` secrets or `whpk_` public keys; a `whsk_` signing key is refused
 * there, so the private half never needs to leave the sender.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { ed25519 } from '@noble/curves/ed25519.js';

/**
 * Why a webhook was refused: `missing-headers` (a header absent, empty, repeated, or a malformed
 * webhook-id), `bad-timestamp` (not decimal unix seconds), `too-old` / `too-new` (outside the
 * tolerance), `no-matching-signature` (nothing verifies), `bad-secret` (a key is not a well-formed
 * `whsec_` / `whpk_`, or `whsk_` when signing). Signing reuses the same reasons for bad input.
 */
export type WebhookVerificationFailure =
  'missing-headers' | 'bad-timestamp' | 'too-old' | 'too-new' | 'no-matching-signature' | 'bad-secret';

/** Thrown when a webhook is not authentic, not fresh, malformed, or a key is unusable. */
export class WebhookVerificationError extends Error {
  /** Machine-readable cause; the message is for humans and never contains key material. */
  readonly reason: WebhookVerificationFailure;

  constructor(reason: WebhookVerificationFailure, message: string) {
    super(message);
    this.name = 'WebhookVerificationError';
    this.reason = reason;
  }
}

/** Names of the three Standard Webhooks headers. */
export type WebhookHeaderName = 'webhook-id' | 'webhook-timestamp' | 'webhook-signature';

/** Headers as Node's `IncomingHttpHeaders` (or any plain object) or a fetch `Headers`. */
export type WebhookHeadersInput = Record<string, string | string[] | undefined> | Headers;

export interface VerifyOptions {
  /** Allowed distance between `webhook-timestamp` and now, either way. Default 300 (5 minutes). */
  toleranceSeconds?: number;
  /** Current time in unix seconds; defaults to the system clock (for tests). */
  now?: number;
}

const DEFAULT_TOLERANCE_SECONDS = 300;
const HMAC_SECRET_MIN_BYTES = 24; // spec: "between 24 bytes (192 bits) and 64 bytes (512 bits)"
const HMAC_SECRET_MAX_BYTES = 64;
const GENERATED_HMAC_SECRET_BYTES = 32;
/** More entries than this in webhook-signature is refused, bounding Ed25519 work per request. */
const MAX_SIGNATURE_ENTRIES = 32;
/**
 * webhook-id: 1..256 printable ASCII characters other than `.` (the spec forbids `.` so the signed
 * content cannot be re-split into a different id/timestamp/body).
 */
const ID_PATTERN = /^[\x21-\x2d\x2f-\x7e]{1,256}$/;
/** webhook-timestamp: decimal unix seconds, no sign, no leading zeros, at most 15 digits. */
const TIMESTAMP_PATTERN = /^(?:0|[1-9][0-9]{0,14})$/;
/** Padded standard base64 (RFC 4648 section 4). */
const BASE64_PATTERN = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

const utf8Encoder = new TextEncoder();
// fatal: invalid UTF-8 cannot be what a sender signed; ignoreBOM: keep a leading BOM as a character.
const utf8Decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

type SigningKey =
  | { kind: 'hmac'; key: Uint8Array }
  | { kind: 'ed25519-secret'; seed: Uint8Array; publicKey: Uint8Array }
  | { kind: 'ed25519-public'; publicKey: Uint8Array };

function toBase64(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64');
}

/** Strict base64: padded, standard alphabet, canonical (no stray bits); undefined otherwise. */
function fromBase64(text: string): Uint8Array | undefined {
  if (!BASE64_PATTERN.test(text)) return undefined;
  const bytes = Buffer.from(text, 'base64');
  if (bytes.toString('base64') !== text) return undefined;
  return new Uint8Array(bytes);
}

function fail(reason: WebhookVerificationFailure, message: string): WebhookVerificationError {
  return new WebhookVerificationError(reason, message);
}

function badSecret(message: string): WebhookVerificationError {
  return fail('bad-secret', message);
}

function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((byte, i) => byte === b[i]);
}

/** Parses a `whsec_` / `whsk_` / `whpk_` string; throws `bad-secret` for anything else. */
function parseKey(secret: string): SigningKey {
  if (typeof secret !== 'string') throw badSecret('webhook secret must be a string');
  if (secret.startsWith('whsec_')) {
    const key = fromBase64(secret.slice('whsec_'.length));
    if (!key) throw badSecret('whsec_ secret is not valid base64');
    if (key.length < HMAC_SECRET_MIN_BYTES || key.length > HMAC_SECRET_MAX_BYTES) {
      throw badSecret(
        `whsec_ secret must decode to ${HMAC_SECRET_MIN_BYTES}..${HMAC_SECRET_MAX_BYTES} bytes`,
      );
    }
    return { kind: 'hmac', key };
  }
  if (secret.startsWith('whsk_')) {
    const bytes = fromBase64(secret.slice('whsk_'.length));
    if (!bytes || (bytes.length !== 64 && bytes.length !== 32)) {
      throw badSecret('whsk_ key must be base64 of a 32-byte Ed25519 seed followed by its public key');
    }
    const seed = bytes.slice(0, 32);
    const publicKey = ed25519.getPublicKey(seed);
    if (bytes.length === 64 && !bytesEqual(bytes.subarray(32), publicKey)) {
      throw badSecret('whsk_ key: public half does not match the seed');
    }
    return { kind: 'ed25519-secret', seed, publicKey };
  }
  if (secret.startsWith('whpk_')) {
    const publicKey = fromBase64(secret.slice('whpk_'.length));
    if (!publicKey || publicKey.length !== 32 || !ed25519.utils.isValidPublicKey(publicKey, false)) {
      throw badSecret('whpk_ key must be base64 of a valid 32-byte Ed25519 public key');
    }
    // A small-order key (e.g. the identity) has no secret behind it; refuse it outright.
    if (ed25519.Point.fromBytes(publicKey).isSmallOrder()) {
      throw badSecret('whpk_ key is a small-order point');
    }
    return { kind: 'ed25519-public', publicKey };
  }
  throw badSecret('webhook secret must start with whsec_, whsk_ or whpk_');
}

function checkId(id: string): void {
  if (typeof id !== 'string' || !ID_PATTERN.test(id)) {
    throw fail('missing-headers', 'webhook id must be 1..256 printable ASCII characters, none of them "."');
  }
}

function checkTimestamp(timestamp: number): void {
  if (!Number.isSafeInteger(timestamp) || timestamp < 0) {
    throw fail('bad-timestamp', 'webhook timestamp must be whole unix seconds');
  }
}

function signedContent(id: string, timestamp: number, body: string): Uint8Array {
  return utf8Encoder.encode(`${id}.${timestamp}.${body}`);
}

function hmacSha256(key: Uint8Array, content: Uint8Array): Uint8Array {
  return new Uint8Array(createHmac('sha256', key).update(content).digest());
}

function ed25519Verify(signature: Uint8Array, content: Uint8Array, publicKey: Uint8Array): boolean {
  try {
    // zip215: false is strict RFC 8032 / FIPS 186-5 decoding.
    return ed25519.verify(signature, content, publicKey, { zip215: false });
  } catch {
    return false; // a malformed signature is just one that does not match
  }
}

/** A new symmetric secret: `whsec_` + base64 of 32 random bytes. Store it like a password. */
export function generateWebhookSecret(): string {
  return `whsec_${toBase64(randomBytes(GENERATED_HMAC_SECRET_BYTES))}`;
}

/**
 * A new Ed25519 key pair. `secretKey` (`whsk_` + base64(seed || public key), the layout Svix uses)
 * stays with the sender; `publicKey` (`whpk_` + base64) is what receivers verify with.
 */
export function generateWebhookSigningKey(): { secretKey: string; publicKey: string } {
  const seed = new Uint8Array(randomBytes(32));
  const publicKey = ed25519.getPublicKey(seed);
  const both = new Uint8Array(64);
  both.set(seed, 0);
  both.set(publicKey, 32);
  return { secretKey: `whsk_${toBase64(both)}`, publicKey: `whpk_${toBase64(publicKey)}` };
}

/**
 * Signs one delivery: `v1,<base64 HMAC-SHA256>` for a `whsec_` secret, `v1a,<base64 Ed25519>` for
 * a `whsk_` key. `body` must be exactly the string sent as the HTTP body (sent UTF-8 encoded). Throws
 * {@link WebhookVerificationError} for a malformed id, a timestamp that is not whole unix seconds
 * (pass seconds, not `Date.now()`), or an unusable key.
 */
export function signWebhook(input: { id: string; timestamp: number; body: string }, secret: string): string {
  checkId(input.id);
  checkTimestamp(input.timestamp);
  if (typeof input.body !== 'string') throw new TypeError('webhook body must be a string');
  const key = parseKey(secret);
  const content = signedContent(input.id, input.timestamp, input.body);
  switch (key.kind) {
    case 'hmac':
      return `v1,${toBase64(hmacSha256(key.key, content))}`;
    case 'ed25519-secret':
      return `v1a,${toBase64(ed25519.sign(content, key.seed))}`;
    case 'ed25519-public':
      throw badSecret('cannot sign with a whpk_ public key; use the whsk_ secret key');
  }
}

/**
 * The three headers for one delivery, signed with every key in `secrets` (during rotation pass the
 * old and the new one; receivers accept a delivery if any signature verifies).
 */
export function webhookHeaders(
  id: string,
  timestamp: number,
  body: string,
  secrets: string[],
): Record<WebhookHeaderName, string> {
  if (!Array.isArray(secrets) || secrets.length === 0) {
    throw badSecret('at least one signing secret is needed');
  }
  const signatures = secrets.map((secret) => signWebhook({ id, timestamp, body }, secret));
  return {
    'webhook-id': id,
    'webhook-timestamp': String(timestamp),
    'webhook-signature': signatures.join(' '),
  };
}

/**
 * One header, case-insensitively. Absent, empty, repeated (array of several, or two keys differing
 * only in case) all count as missing: a receiver must not guess which copy was signed.
 */
function readHeader(headers: WebhookHeadersInput, name: WebhookHeaderName): string | undefined {
  // A fetch Headers (any implementation); a plain header record never holds a function.
  if (typeof (headers as Headers).get === 'function') return (headers as Headers).get(name) || undefined;
  const record = headers as Record<string, string | string[] | undefined>;
  const values = Object.keys(record)
    .filter((key) => key.toLowerCase() === name)
    .map((key) => record[key])
    .filter((value) => value !== undefined);
  if (values.length !== 1) return undefined;
  const value = values[0];
  const single = Array.isArray(value) ? (value.length === 1 ? value[0] : undefined) : value;
  return typeof single === 'string' && single !== '' ? single : undefined;
}

/**
 * Verifies a received webhook and returns its id and timestamp; throws {@link WebhookVerificationError}
 * otherwise. `body` is the raw request body (bytes, or a string decoded from them), never re-serialized
 * JSON. `secret` is the endpoint's `whsec_` secret or the sender's `whpk_` public key, or several of
 * them during a rotation. Only `v1` entries are checked against `whsec_` secrets and `v1a` entries
 * against `whpk_` keys; entries of other versions are ignored. The id should then be used to drop
 * duplicates: deliveries are at least once.
 */
export function verifyWebhook(
  headers: WebhookHeadersInput,
  body: string | Uint8Array,
  secret: string | string[],
  opts: VerifyOptions = {},
): { id: string; timestamp: number } {
  // Configuration first, so a bad secret fails loudly on every request rather than looking like forgery.
  const secrets = typeof secret === 'string' ? [secret] : secret;
  if (!Array.isArray(secrets) || secrets.length === 0) {
    throw badSecret('at least one verification key is needed');
  }
  const keys = secrets.map(parseKey);
  if (keys.some((key) => key.kind === 'ed25519-secret')) {
    throw badSecret('verify with the whpk_ public key, not the whsk_ signing key');
  }
  const tolerance = opts.toleranceSeconds ?? DEFAULT_TOLERANCE_SECONDS;
  if (!Number.isFinite(tolerance) || tolerance < 0) throw new RangeError('toleranceSeconds must be >= 0');
  const now = opts.now ?? Math.floor(Date.now() / 1000);
  if (!Number.isFinite(now)) throw new RangeError('now must be unix seconds');

  if (headers === null || typeof headers !== 'object') throw fail('missing-headers', 'no headers given');
  const id = readHeader(headers, 'webhook-id');
  const timestampHeader = readHeader(headers, 'webhook-timestamp');
  const signatureHeader = readHeader(headers, 'webhook-signature');
  if (id === undefined || timestampHeader === undefined || signatureHeader === undefined) {
    throw fail(
      'missing-headers',
      'webhook-id, webhook-timestamp and webhook-signature are all required once',
    );
  }
  checkId(id);

  if (!TIMESTAMP_PATTERN.test(timestampHeader)) {
    throw fail('bad-timestamp', 'webhook-timestamp must be decimal unix seconds');
  }
  const timestamp = Number(timestampHeader);
  if (now - timestamp > tolerance) throw fail('too-old', 'webhook-timestamp is older than the tolerance');
  if (timestamp - now > tolerance) throw fail('too-new', 'webhook-timestamp is too far in the future');

  let text: string;
  if (typeof body === 'string') {
    text = body;
  } else if (body instanceof Uint8Array) {
    try {
      text = utf8Decoder.decode(body);
    } catch {
      throw fail('no-matching-signature', 'body is not valid UTF-8, so it cannot match a signature');
    }
  } else {
    throw new TypeError('webhook body must be a string or Uint8Array (the raw request body)');
  }
  const content = signedContent(id, timestamp, text);

  const entries = signatureHeader.split(' ').filter((entry) => entry !== '');
  if (entries.length > MAX_SIGNATURE_ENTRIES) {
    throw fail('no-matching-signature', `webhook-signature has more than ${MAX_SIGNATURE_ENTRIES} entries`);
  }
  const expectedMacs = keys.flatMap((key) => (key.kind === 'hmac' ? [hmacSha256(key.key, content)] : []));
  const publicKeys = keys.flatMap((key) => (key.kind === 'ed25519-public' ? [key.publicKey] : []));

  for (const entry of entries) {
    const comma = entry.indexOf(',');
    if (comma < 0) continue;
    const version = entry.slice(0, comma);
    const signature = fromBase64(entry.slice(comma + 1));
    if (!signature) continue;
    if (version === 'v1' && signature.length === 32) {
      // Equal lengths are guaranteed here, as timingSafeEqual requires.
      if (expectedMacs.some((mac) => timingSafeEqual(mac, signature))) return { id, timestamp };
    } else if (version === 'v1a' && signature.length === 64) {
      if (publicKeys.some((publicKey) => ed25519Verify(signature, content, publicKey))) {
        return { id, timestamp };
      }
    }
  }
  throw fail('no-matching-signature', 'no webhook-signature entry verifies under the given keys');
}
