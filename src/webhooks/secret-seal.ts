/**
 * Webhook signing secrets, sealed to the coordinator.
 *
 * The client makes a subscription's secret itself and seals it to the coordinator's webhook key
 * (X25519, derived from the coordinator's key), bound to tenant and subscription. Only the sealed
 * form goes through Temporal and into the database; the delivery activity opens it to sign. So a
 * secret is never in workflow history or in the database in the clear, and a sealed secret copied
 * to another subscription or tenant does not open.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { x25519 } from '@noble/curves/ed25519.js';
import { hkdf } from '@noble/hashes/hkdf.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { concatBytes } from '@noble/hashes/utils.js';
import { fromHex, toHex, utf8 } from '../crypto/encoding.js';
import { ConclaveError } from '../errors.js';

/** A secret sealed to the coordinator: ephemeral X25519 key, nonce and AES-256-GCM ciphertext (hex). */
export interface SealedWebhookSecret {
  epk: string;
  nonce: string;
  ciphertext: string;
}

const KEY_INFO = utf8('conclave/webhook-secrets/x25519/v1');
const SEAL_INFO = 'conclave/webhook-secret/v1';
const SEAL_KDF_INFO = utf8(SEAL_INFO);

/** The coordinator's webhook sealing key pair, derived from its Ed25519 key seed. */
export function webhookSealingKey(coordinatorSeed: Uint8Array): { secret: Uint8Array; publicKey: string } {
  const secret = hkdf(sha256, coordinatorSeed, undefined, KEY_INFO, 32);
  return { secret, publicKey: toHex(x25519.getPublicKey(secret)) };
}

const aadOf = (tenant: string, subscriptionId: string) => utf8(`${SEAL_INFO}\n${tenant}\n${subscriptionId}`);

export function sealWebhookSecret(
  coordinatorPublicKey: string,
  secret: string,
  tenant: string,
  subscriptionId: string,
): SealedWebhookSecret {
  const eph = x25519.utils.randomSecretKey();
  const epk = x25519.getPublicKey(eph);
  const key = hkdf(
    sha256,
    x25519.getSharedSecret(eph, fromHex(coordinatorPublicKey, 'coordinator webhook key')),
    epk,
    SEAL_KDF_INFO,
    32,
  );
  const nonce = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, nonce);
  cipher.setAAD(aadOf(tenant, subscriptionId));
  const ct = concatBytes(cipher.update(utf8(secret)), cipher.final(), cipher.getAuthTag());
  return { epk: toHex(epk), nonce: toHex(nonce), ciphertext: toHex(ct) };
}

/** Opens a sealed secret; BAD_INPUT (naming no secret) if it was not sealed for this subscription. */
export function openWebhookSecret(
  sealingSecret: Uint8Array,
  sealed: SealedWebhookSecret,
  tenant: string,
  subscriptionId: string,
): string {
  try {
    const epk = fromHex(sealed.epk, 'epk');
    const key = hkdf(sha256, x25519.getSharedSecret(sealingSecret, epk), epk, SEAL_KDF_INFO, 32);
    const ct = fromHex(sealed.ciphertext, 'ciphertext');
    if (ct.length < 17) throw new Error('short');
    const decipher = createDecipheriv('aes-256-gcm', key, fromHex(sealed.nonce, 'nonce'));
    decipher.setAAD(aadOf(tenant, subscriptionId));
    decipher.setAuthTag(ct.subarray(ct.length - 16));
    return new TextDecoder().decode(
      concatBytes(decipher.update(ct.subarray(0, ct.length - 16)), decipher.final()),
    );
  } catch {
    throw new ConclaveError(
      'BAD_INPUT',
      `the webhook secret of subscription ${subscriptionId} was not sealed to this coordinator for it`,
    );
  }
}
