/**
 * Unambiguous transcript hashing, seed expansion and strict codecs for the DKLs23 ECDSA modules
 * (base OT, OT extension, two-party multiplication).
 *
 * Every hash input is `encodeFields([DOMAIN, tag, ...fields])` (src/crypto/encoding.ts): each field
 * carries a type byte and a 4-byte big-endian length, so ('ab', 'c') and ('a', 'bc') never collide,
 * a string never collides with its UTF-8 bytes, and a hash under one tag never equals one under another.
 *
 * All randomness of these protocols comes from caller-supplied seeds expanded with SHAKE256 under a
 * tag and the whole public context (session id, setup id, digests of the messages answered), so a
 * retried step recomputes byte-identical messages and never draws fresh randomness, and the same
 * seed used in two different contexts yields independent values.
 *
 * Scalars in messages are 32-byte big-endian lowercase hex, points are 33-byte compressed SEC1
 * lowercase hex; decoders here are strict (exact length, lowercase hex, range, on curve, not identity).
 * Where a protocol needs the identity (DKLs23 signing's aggregate and pairwise points), it is encoded
 * as '00' and admitted only when asked for (`allowIdentity`).
 */
import { createHash } from 'node:crypto';
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { keccakP, shake256 } from '@noble/hashes/sha3.js';
import { turboshake256 } from '@noble/hashes/sha3-addons.js';
import { swap32IfBE } from '@noble/hashes/utils.js';
import { ConclaveError } from '../../errors.js';
import { encodeFields, toHex, type Field } from '../encoding.js';

export const DOMAIN = 'conclave/ecdsa/v1';

export const Point = secp256k1.Point;
export type Point = InstanceType<typeof secp256k1.Point>;
export const Fn = secp256k1.Point.Fn;
/** The secp256k1 group order n. */
export const N: bigint = Fn.ORDER;

const bad = (msg: string) => new ConclaveError('BAD_INPUT', msg);

type Keccak = ReturnType<typeof shake256.create>;

// ---------- hashing ----------

/** The canonical byte string hashed for `tag` and `fields`. */
export function encodeTranscript(tag: string, fields: Field[]): Uint8Array {
  if (typeof tag !== 'string' || tag.length === 0) throw bad('transcript tag must be a non-empty string');
  return encodeFields([DOMAIN, tag, ...fields]);
}

// SHA-256 / SHA-512 come from node:crypto (native; the same functions as @noble/hashes, several
// times faster on the hundreds of short transcript hashes of a base-OT batch).

/** SHA-256 over the tagged, length-prefixed encoding of `fields` (32 bytes). */
export function hashFields(tag: string, ...fields: Field[]): Uint8Array {
  return new Uint8Array(createHash('sha256').update(encodeTranscript(tag, fields)).digest());
}

/**
 * A scalar mod n from SHA-512 over the tagged encoding (512 bits reduced mod n: bias below 2^-256).
 * May be zero with negligible probability; callers needing a non-zero value use `hashFieldsToNonzeroScalar`.
 */
export function hashFieldsToScalar(tag: string, ...fields: Field[]): bigint {
  return BigInt(`0x${createHash('sha512').update(encodeTranscript(tag, fields)).digest('hex')}`) % N;
}

/** Like hashFieldsToScalar but never zero (a counter is appended until the result is non-zero). */
export function hashFieldsToNonzeroScalar(tag: string, ...fields: Field[]): bigint {
  for (let ctr = 0; ; ctr++) {
    const k = hashFieldsToScalar(tag, ...fields, ctr);
    if (k !== 0n) return k;
  }
}

/** `length` bytes of SHAKE256 output over the tagged encoding of `fields`. */
export function xofFields(tag: string, length: number, ...fields: Field[]): Uint8Array {
  assertLength(length);
  const h = shake256.create({});
  h.update(encodeTranscript(tag, fields));
  return h.xof(length);
}

/**
 * `length` bytes of TurboSHAKE256 (RFC 9861: Keccak-p[1600, 12 rounds], the permutation of
 * KangarooTwelve) over the tagged encoding. Half the cost of SHAKE256; used as the random oracle
 * and PRG in the OT-extension hot loops, where hundreds of short inputs are hashed per extension.
 */
export function turboXofFields(tag: string, length: number, ...fields: Field[]): Uint8Array {
  assertLength(length);
  const h = turboshake256.create({ dkLen: length });
  h.update(encodeTranscript(tag, fields));
  return h.xof(length);
}

export type XofKind = 'shake256' | 'turboshake256';

/**
 * An XOF with a prefix absorbed once: `read(len, ...more)` equals `xofFields(tag, len, ...prefix,
 * ...more)` (or `turboXofFields` for kind 'turboshake256') since the field encoding is a plain
 * concatenation, but costs one clone instead of re-hashing the prefix.
 */
export class PrefixXof {
  private readonly base: Keccak;
  constructor(kind: XofKind, tag: string, ...prefix: Field[]) {
    this.base = kind === 'turboshake256' ? turboshake256.create({}) : shake256.create({});
    this.base.update(encodeTranscript(tag, prefix));
  }

  read(length: number, ...more: Field[]): Uint8Array {
    assertLength(length);
    const h = this.base.clone();
    if (more.length > 0) h.update(encodeFields(more));
    return h.xof(length);
  }

  /** Absorbs bytes that are ALREADY a valid `encodeFields` encoding, then squeezes into `out`. */
  readEncodedInto(encodedMore: Uint8Array, out: Uint8Array): void {
    const h = this.base.clone();
    h.update(encodedMore);
    h.xofInto(out);
  }
}

const TURBO_RATE = 136; // TurboSHAKE256 rate in bytes
const TURBO_D = 0x1f; // RFC 9861 default domain-separation byte (what turboshake256 uses)

/**
 * Hot-loop TurboSHAKE256 of `encodeTranscript(tag, [...prefix, ...suffix])` where the suffix is
 * a fixed-layout field encoding the caller rewrites in place (`suffix`) before each `hashInto`.
 * Output is identical to `turboXofFields(tag, out.length, ...prefix, ...suffixFields)`. When the
 * whole message fits in one block (the OT-extension rows and PRG seeds do), it runs the 12-round
 * permutation directly on one reused state: no allocation, no per-call object.
 */
export class TurboRowHasher {
  /** The full message; the caller rewrites `suffix` (a view into it) before each hash. */
  readonly message: Uint8Array;
  readonly suffix: Uint8Array;
  private readonly st = new Uint32Array(50);
  private readonly st8 = new Uint8Array(this.st.buffer);

  constructor(tag: string, prefix: Field[], suffixTemplate: Uint8Array) {
    const head = encodeTranscript(tag, prefix);
    this.message = new Uint8Array(head.length + suffixTemplate.length);
    this.message.set(head, 0);
    this.message.set(suffixTemplate, head.length);
    this.suffix = this.message.subarray(head.length);
  }

  hashInto(out: Uint8Array): void {
    const msg = this.message;
    if (msg.length >= TURBO_RATE) {
      const h = turboshake256.create({ dkLen: out.length });
      h.update(msg);
      h.xofInto(out);
      return;
    }
    const { st, st8 } = this;
    st.fill(0);
    st8.set(msg, 0);
    st8[msg.length] = (st8[msg.length] as number) ^ TURBO_D;
    st8[TURBO_RATE - 1] = (st8[TURBO_RATE - 1] as number) ^ 0x80;
    for (let pos = 0; pos < out.length;) {
      swap32IfBE(st);
      keccakP(st, 12);
      swap32IfBE(st);
      const take = Math.min(TURBO_RATE, out.length - pos);
      out.set(st8.subarray(0, take), pos);
      pos += take;
    }
  }
}

/** Writes `j` and `body` into a buffer laid out as encodeFields([number, bytes(body.length)]). */
export function patchIndexAndBytes(buf: Uint8Array, j: number, body: Uint8Array): void {
  new DataView(buf.buffer, buf.byteOffset, buf.byteLength).setBigUint64(5, BigInt(j), false);
  buf.set(body, buf.length - body.length);
}

function assertLength(length: number): void {
  if (!Number.isSafeInteger(length) || length < 1 || length > 1 << 26) throw bad('invalid output length');
}

// ---------- deterministic randomness from a seed ----------

/** Minimum seed length in bytes. */
export const SEED_BYTES = 32;

export function assertSeed(seed: unknown): Uint8Array {
  if (!(seed instanceof Uint8Array) || seed.length < SEED_BYTES) {
    throw bad(`seed must be a Uint8Array of at least ${SEED_BYTES} bytes`);
  }
  return seed;
}

export function assertSessionId(sessionId: unknown): Uint8Array {
  if (!(sessionId instanceof Uint8Array) || sessionId.length < 1 || sessionId.length > 4096) {
    throw bad('sessionId must be a Uint8Array of 1..4096 bytes');
  }
  return sessionId;
}

/**
 * A deterministic stream of bytes and scalars: SHAKE256 over (seed, tag, context). Two streams
 * with the same seed but a different tag or context are independent.
 */
export class SeedStream {
  private readonly h: Keccak;
  constructor(seed: Uint8Array, tag: string, ...context: Field[]) {
    assertSeed(seed);
    this.h = shake256.create({});
    this.h.update(encodeTranscript(`seed/${tag}`, [seed, ...context]));
  }

  bytes(length: number): Uint8Array {
    assertLength(length);
    return this.h.xof(length);
  }

  /** A uniform non-zero scalar (64 bytes reduced mod n, bias below 2^-256). */
  scalar(): bigint {
    for (;;) {
      const k = bytesToBigint(this.h.xof(64)) % N;
      if (k !== 0n) return k;
    }
  }
}

// ---------- scalar and byte codecs ----------

const LOWER_HEX_RE = /^[0-9a-f]*$/;

/** Big-endian unsigned integer of any byte length. */
export function bytesToBigint(b: Uint8Array): bigint {
  if (b.length === 0) return 0n;
  return BigInt(`0x${toHex(b)}`);
}

/** Reads a 32-byte big-endian unsigned integer at `off` (no reduction). */
export function read256(view: DataView, off: number): bigint {
  return (
    (view.getBigUint64(off) << 192n) |
    (view.getBigUint64(off + 8) << 128n) |
    (view.getBigUint64(off + 16) << 64n) |
    view.getBigUint64(off + 24)
  );
}

/** 64 lowercase hex chars of a scalar in [0, n). */
export function scalarHex(x: bigint): string {
  return x.toString(16).padStart(64, '0');
}

export function scalarBytes(x: bigint): Uint8Array {
  return Fn.toBytes(x);
}

/** x mod n in [0, n) for any bigint (including negatives). */
export function modN(x: bigint): bigint {
  const r = x % N;
  return r < 0n ? r + N : r;
}

/** Compressed SEC1 hex; the identity (no compressed form) as '00' if `allowIdentity`, else it throws. */
export function pointHex(p: Point, allowIdentity = false): string {
  return allowIdentity && p.is0() ? '00' : p.toHex(true);
}

/** Compressed SEC1 bytes; the identity as the single byte 0x00 if `allowIdentity`, else it throws. */
export function pointBytes(p: Point, allowIdentity = false): Uint8Array {
  return allowIdentity && p.is0() ? new Uint8Array(1) : p.toBytes(true);
}

/** A failure-reporting callback: returns the error to throw for a malformed `what`. */
export type Fail = (what: string) => Error;

/** Strict lowercase hex of exactly `bytes` bytes. */
export function parseHex(s: unknown, bytes: number, what: string, fail: Fail): Uint8Array {
  if (typeof s !== 'string' || s.length !== bytes * 2 || !LOWER_HEX_RE.test(s)) {
    throw fail(`${what} must be ${bytes} bytes of lowercase hex`);
  }
  return new Uint8Array(Buffer.from(s, 'hex'));
}

/** Exactly `bytes` bytes of canonical (padded, standard alphabet) base64: bulk values in messages. */
export function parseBase64(s: unknown, bytes: number, what: string, fail: Fail): Uint8Array {
  const b = typeof s === 'string' ? Buffer.from(s, 'base64') : undefined;
  if (!b || b.length !== bytes || b.toString('base64') !== s)
    throw fail(`${what} must be ${bytes} bytes of base64`);
  return new Uint8Array(b);
}

export const toBase64 = (b: Uint8Array): string =>
  Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('base64');

/** Scalar hex in [0, n) (or [1, n) when `nonzero`). */
export function parseScalar(s: unknown, what: string, fail: Fail, nonzero = false): bigint {
  const b = parseHex(s, 32, what, fail);
  const x = bytesToBigint(b);
  if (x >= N) throw fail(`${what} is not below the group order`);
  if (nonzero && x === 0n) throw fail(`${what} must not be zero`);
  return x;
}

/** Compressed point hex on the curve, not the identity; or '00' (pointHex's form) if `allowIdentity`. */
export function parsePoint(s: unknown, what: string, fail: Fail, allowIdentity = false): Point {
  if (allowIdentity && s === '00') return Point.ZERO;
  const b = parseHex(s, 33, what, fail);
  let p: Point;
  try {
    p = Point.fromBytes(b);
    p.assertValidity();
  } catch {
    throw fail(`${what} is not a valid curve point`);
  }
  if (p.is0()) throw fail(`${what} is the identity`);
  return p;
}

export function isRecord(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

/** Constant-time equality of two byte strings of equal length. */
export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let d = 0;
  for (let i = 0; i < a.length; i++) d |= (a[i] as number) ^ (b[i] as number);
  return d === 0;
}

export function xorInto(dst: Uint8Array, src: Uint8Array): void {
  if (dst.length !== src.length) throw bad('xor of unequal lengths');
  for (let i = 0; i < dst.length; i++) dst[i] = (dst[i] as number) ^ (src[i] as number);
}
