/**
 * Encryption of secrets stored in a party's database. The context (purpose, tenant, party, key id,
 * version) is bound as AAD, so a record copied to another slot or rolled back to another version
 * fails to decrypt instead of being silently accepted.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { hkdf } from '@noble/hashes/hkdf.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { ConclaveError } from '../errors.js';
import { encodeFields, fromHex, utf8 } from './encoding.js';

export type AtRestPurpose = 'share' | 'nonce' | 'round-state' | 'party-keys' | 'pair-setup';

export interface AtRestContext {
  purpose: AtRestPurpose;
  tenant: string;
  party: string;
  keyId: string;
  version: number;
}

export interface SealedBox {
  v: 1;
  /** Hex 12-byte AES-GCM nonce. */
  nonce: string;
  /** Hex ciphertext including the 16-byte GCM tag. */
  ct: string;
}

const LABEL = 'conclave/at-rest/v1';
const PURPOSES: ReadonlySet<string> = new Set<AtRestPurpose>([
  'share',
  'nonce',
  'round-state',
  'party-keys',
  'pair-setup',
]);

// A dedicated subkey keeps the raw KEK usable for other derivations without key reuse across uses.
function subkey(kek: Uint8Array): Uint8Array {
  if (!(kek instanceof Uint8Array) || kek.length !== 32) {
    throw new ConclaveError('CONFIG', 'key-encryption key must be 32 bytes');
  }
  return hkdf(sha256, kek, undefined, utf8(LABEL), 32);
}

function aadFor(ctx: AtRestContext): Uint8Array {
  if (typeof ctx !== 'object' || ctx === null || !PURPOSES.has(ctx.purpose)) {
    throw new ConclaveError('BAD_INPUT', 'at-rest context has an unknown purpose');
  }
  for (const k of ['tenant', 'party', 'keyId'] as const) {
    if (typeof ctx[k] !== 'string')
      throw new ConclaveError('BAD_INPUT', `at-rest context ${k} must be a string`);
  }
  if (!Number.isSafeInteger(ctx.version) || ctx.version < 0) {
    throw new ConclaveError('BAD_INPUT', 'at-rest context version must be a non-negative integer');
  }
  return encodeFields([LABEL, ctx.purpose, ctx.tenant, ctx.party, ctx.keyId, ctx.version]);
}

export function encryptAtRest(kek: Uint8Array, plaintext: Uint8Array, ctx: AtRestContext): SealedBox {
  const key = subkey(kek);
  const aad = aadFor(ctx);
  const nonce = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, nonce);
  cipher.setAAD(aad);
  const ct = Buffer.concat([cipher.update(plaintext), cipher.final(), cipher.getAuthTag()]);
  key.fill(0);
  return { v: 1, nonce: nonce.toString('hex'), ct: ct.toString('hex') };
}

export function decryptAtRest(kek: Uint8Array, box: SealedBox, ctx: AtRestContext): Uint8Array {
  const key = subkey(kek);
  const aad = aadFor(ctx);
  // Only non-secret context goes into the message.
  const failed = () =>
    new ConclaveError(
      'DECRYPT_FAILED',
      `record could not be decrypted: wrong key-encryption key or tampered record (${ctx.purpose} ${ctx.keyId} v${ctx.version})`,
    );
  try {
    if (typeof box !== 'object' || box === null || box.v !== 1) throw failed();
    const nonce = fromHex(box.nonce, 'nonce');
    const ct = fromHex(box.ct, 'ciphertext');
    if (nonce.length !== 12 || ct.length < 16) throw failed();
    const decipher = createDecipheriv('aes-256-gcm', key, nonce);
    decipher.setAAD(aad);
    decipher.setAuthTag(ct.subarray(ct.length - 16));
    const pt = Buffer.concat([decipher.update(ct.subarray(0, ct.length - 16)), decipher.final()]);
    return new Uint8Array(pt);
  } catch {
    throw failed();
  } finally {
    key.fill(0);
  }
}

export function sealJson(kek: Uint8Array, value: unknown, ctx: AtRestContext): SealedBox {
  let text: string | undefined;
  try {
    text = JSON.stringify(value);
  } catch {
    text = undefined;
  }
  if (text === undefined) throw new ConclaveError('BAD_INPUT', 'value is not JSON-serialisable');
  return encryptAtRest(kek, utf8(text), ctx);
}

export function openJson<T>(kek: Uint8Array, box: SealedBox, ctx: AtRestContext): T {
  const pt = decryptAtRest(kek, box, ctx);
  try {
    return JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(pt)) as T;
  } catch {
    throw new ConclaveError(
      'DECRYPT_FAILED',
      `record is not valid JSON (${ctx.purpose} ${ctx.keyId} v${ctx.version})`,
    );
  }
}
