/**
 * Byte/hex helpers and the one canonical encoding used for everything that is signed or hashed.
 */
import { sha256 as nobleSha256 } from '@noble/hashes/sha2.js';
import { ConclaveError } from '../errors.js';

export type Field = Uint8Array | string | number;

const HEX_RE = /^[0-9a-fA-F]*$/;

export function toHex(b: Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex');
}

/** Strict hex decode: even length, hex digits only, no `0x` prefix. */
export function fromHex(s: string, what: string): Uint8Array<ArrayBuffer> {
  if (typeof s !== 'string' || s.length % 2 !== 0 || !HEX_RE.test(s)) {
    throw new ConclaveError('BAD_INPUT', `${what} is not valid hex`);
  }
  return new Uint8Array(Buffer.from(s, 'hex'));
}

export function utf8(s: string): Uint8Array {
  return new TextEncoder().encode(s);
}

// Tag bytes keep a string and the bytes of its UTF-8 encoding distinct.
const TAG_BYTES = 0x01;
const TAG_STRING = 0x02;
const TAG_NUMBER = 0x03;
const MAX_LEN = 0xffffffff;

/**
 * Canonical, injective encoding: per field `tag(1) || len(4, BE) || bytes`.
 * Numbers must be safe non-negative integers and are encoded as 8 bytes BE.
 */
export function encodeFields(fields: Field[]): Uint8Array {
  const parts: Array<{ tag: number; body: Uint8Array }> = fields.map((f, i) => {
    if (f instanceof Uint8Array) return { tag: TAG_BYTES, body: f };
    if (typeof f === 'string') return { tag: TAG_STRING, body: utf8(f) };
    if (typeof f === 'number') {
      if (!Number.isSafeInteger(f) || f < 0) {
        throw new ConclaveError('BAD_INPUT', `field ${i} is not a safe non-negative integer`);
      }
      const body = new Uint8Array(8);
      new DataView(body.buffer).setBigUint64(0, BigInt(f), false);
      return { tag: TAG_NUMBER, body };
    }
    throw new ConclaveError('BAD_INPUT', `field ${i} has an unsupported type`);
  });
  let total = 0;
  for (const p of parts) {
    if (p.body.length > MAX_LEN) throw new ConclaveError('BAD_INPUT', 'field too long to encode');
    total += 5 + p.body.length;
  }
  const out = new Uint8Array(total);
  const view = new DataView(out.buffer);
  let off = 0;
  for (const p of parts) {
    out[off] = p.tag;
    view.setUint32(off + 1, p.body.length, false);
    out.set(p.body, off + 5);
    off += 5 + p.body.length;
  }
  return out;
}

export function sha256(data: Uint8Array): Uint8Array {
  return nobleSha256(data);
}

/** Hex SHA-256 over the canonical encoding of `parts`. */
export function transcriptHash(parts: Field[]): string {
  return toHex(sha256(encodeFields(parts)));
}

export function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let d = 0;
  for (let i = 0; i < a.length; i++) d |= (a[i] as number) ^ (b[i] as number);
  return d === 0;
}
