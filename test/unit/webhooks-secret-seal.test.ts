/**
 * Webhook secrets sealed to the coordinator (src/webhooks/secret-seal.ts).
 *
 * A sealed secret opens only with the coordinator's key, for the tenant and subscription it was
 * sealed for, and unaltered; every refusal is BAD_INPUT and never repeats the secret.
 */
import { randomBytes } from 'node:crypto';
import { x25519 } from '@noble/curves/ed25519.js';
import { describe, expect, it } from 'vitest';
import { toHex } from '../../src/crypto/encoding.js';
import { ConclaveError } from '../../src/errors.js';
import {
  openWebhookSecret,
  sealWebhookSecret,
  webhookSealingKey,
  type SealedWebhookSecret,
} from '../../src/webhooks/secret-seal.js';
import { generateWebhookSecret, generateWebhookSigningKey } from '../../src/webhooks/signature.js';

const seed = new Uint8Array(randomBytes(32));
const otherSeed = new Uint8Array(randomBytes(32));
const coordinator = webhookSealingKey(seed);
const TENANT = 'acme';
const SUB = 'sub-orders';

const secrets: [string, string][] = [
  ['a whsec_ secret', generateWebhookSecret()],
  ['a whsk_ signing key', generateWebhookSigningKey().secretKey],
];

/** Flips the low bit of the byte at `index` of a hex string (negative counts from the end). */
function flipHexByte(hex: string, index: number): string {
  const bytes = Buffer.from(hex, 'hex');
  const i = index < 0 ? bytes.length + index : index;
  bytes[i] = bytes[i]! ^ 0x01;
  return bytes.toString('hex');
}

function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  return undefined;
}

describe('webhookSealingKey', () => {
  it('is deterministic per seed', () => {
    const again = webhookSealingKey(new Uint8Array(seed));
    expect(toHex(again.secret)).toBe(toHex(coordinator.secret));
    expect(again.publicKey).toBe(coordinator.publicKey);
  });

  it('is an X25519 key pair: the public key is the secret times the base point', () => {
    expect(coordinator.secret).toHaveLength(32);
    expect(coordinator.publicKey).toMatch(/^[0-9a-f]{64}$/);
    expect(coordinator.publicKey).toBe(toHex(x25519.getPublicKey(coordinator.secret)));
  });

  it('is derived, not the seed itself', () => {
    expect(toHex(coordinator.secret)).not.toBe(toHex(seed));
  });

  it('differs across seeds', () => {
    const other = webhookSealingKey(otherSeed);
    expect(toHex(other.secret)).not.toBe(toHex(coordinator.secret));
    expect(other.publicKey).not.toBe(coordinator.publicKey);
    const flipped = new Uint8Array(seed);
    flipped[31] = flipped[31]! ^ 0x80;
    expect(webhookSealingKey(flipped).publicKey).not.toBe(coordinator.publicKey);
  });
});

describe.each(secrets)('sealing %s', (_kind, secret) => {
  const sealed = sealWebhookSecret(coordinator.publicKey, secret, TENANT, SUB);

  it('round-trips', () => {
    expect(openWebhookSecret(coordinator.secret, sealed, TENANT, SUB)).toBe(secret);
  });

  it('has the sealed form: 32-byte epk, 12-byte nonce, ciphertext = secret + 16-byte tag', () => {
    expect(sealed.epk).toMatch(/^[0-9a-f]{64}$/);
    expect(sealed.nonce).toMatch(/^[0-9a-f]{24}$/);
    expect(sealed.ciphertext).toMatch(/^[0-9a-f]+$/);
    expect(sealed.ciphertext.length / 2).toBe(Buffer.byteLength(secret, 'utf8') + 16);
    const text = JSON.stringify(sealed);
    expect(text).not.toContain(secret);
    expect(text).not.toContain(Buffer.from(secret, 'utf8').toString('hex'));
  });

  it('two seals of the same secret differ (fresh ephemeral key and nonce) and both open', () => {
    const again = sealWebhookSecret(coordinator.publicKey, secret, TENANT, SUB);
    expect(again.epk).not.toBe(sealed.epk);
    expect(again.nonce).not.toBe(sealed.nonce);
    expect(again.ciphertext).not.toBe(sealed.ciphertext);
    expect(openWebhookSecret(coordinator.secret, again, TENANT, SUB)).toBe(secret);
  });

  const otherSeal = sealWebhookSecret(coordinator.publicKey, secret, TENANT, SUB);
  const bad: [string, () => string][] = [
    [
      'another coordinator seed',
      () => openWebhookSecret(webhookSealingKey(otherSeed).secret, sealed, TENANT, SUB),
    ],
    ['another tenant', () => openWebhookSecret(coordinator.secret, sealed, 'globex', SUB)],
    ['a tenant differing in case', () => openWebhookSecret(coordinator.secret, sealed, 'Acme', SUB)],
    ['another subscription id', () => openWebhookSecret(coordinator.secret, sealed, TENANT, 'sub-other')],
    [
      'tenant and subscription moved across the separator',
      () => openWebhookSecret(coordinator.secret, sealed, `${TENANT}\n${SUB}`, ''),
    ],
    [
      'the first ciphertext byte flipped',
      () =>
        openWebhookSecret(
          coordinator.secret,
          { ...sealed, ciphertext: flipHexByte(sealed.ciphertext, 0) },
          TENANT,
          SUB,
        ),
    ],
    [
      'a tag byte flipped',
      () =>
        openWebhookSecret(
          coordinator.secret,
          { ...sealed, ciphertext: flipHexByte(sealed.ciphertext, -1) },
          TENANT,
          SUB,
        ),
    ],
    [
      'the nonce flipped',
      () =>
        openWebhookSecret(
          coordinator.secret,
          { ...sealed, nonce: flipHexByte(sealed.nonce, 5) },
          TENANT,
          SUB,
        ),
    ],
    [
      'the ciphertext truncated by one byte',
      () =>
        openWebhookSecret(
          coordinator.secret,
          { ...sealed, ciphertext: sealed.ciphertext.slice(0, -2) },
          TENANT,
          SUB,
        ),
    ],
    [
      'the ciphertext truncated to the tag',
      () =>
        openWebhookSecret(
          coordinator.secret,
          { ...sealed, ciphertext: sealed.ciphertext.slice(-32) },
          TENANT,
          SUB,
        ),
    ],
    [
      'an empty ciphertext',
      () => openWebhookSecret(coordinator.secret, { ...sealed, ciphertext: '' }, TENANT, SUB),
    ],
    [
      "another seal's epk",
      () => openWebhookSecret(coordinator.secret, { ...sealed, epk: otherSeal.epk }, TENANT, SUB),
    ],
    [
      'an epk byte flipped',
      () =>
        openWebhookSecret(coordinator.secret, { ...sealed, epk: flipHexByte(sealed.epk, 3) }, TENANT, SUB),
    ],
    [
      'an all-zero (small-order) epk',
      () => openWebhookSecret(coordinator.secret, { ...sealed, epk: '00'.repeat(32) }, TENANT, SUB),
    ],
    [
      'a non-hex ciphertext',
      () =>
        openWebhookSecret(
          coordinator.secret,
          { ...sealed, ciphertext: 'zz' + sealed.ciphertext.slice(2) },
          TENANT,
          SUB,
        ),
    ],
    [
      'a short nonce',
      () =>
        openWebhookSecret(coordinator.secret, { ...sealed, nonce: sealed.nonce.slice(0, 16) }, TENANT, SUB),
    ],
    [
      "another seal's nonce and ciphertext under this epk",
      () =>
        openWebhookSecret(
          coordinator.secret,
          { epk: sealed.epk, nonce: otherSeal.nonce, ciphertext: otherSeal.ciphertext },
          TENANT,
          SUB,
        ),
    ],
  ];

  it.each(bad)('does not open with %s: BAD_INPUT, naming no secret', (_case, open) => {
    const error = thrown(open);
    expect(error).toBeInstanceOf(ConclaveError);
    expect((error as ConclaveError).code).toBe('BAD_INPUT');
    const message = (error as ConclaveError).message;
    expect(message).not.toContain(secret);
    expect(message).not.toContain(secret.slice(secret.indexOf('_') + 1, secret.indexOf('_') + 17));
    expect(message).not.toContain(toHex(coordinator.secret));
  });

  it('the sealed form copied to another subscription or tenant does not open there', () => {
    const copy: SealedWebhookSecret = { ...sealed };
    expect(thrown(() => openWebhookSecret(coordinator.secret, copy, TENANT, `${SUB}-2`))).toBeInstanceOf(
      ConclaveError,
    );
    expect(thrown(() => openWebhookSecret(coordinator.secret, copy, 'globex', SUB))).toBeInstanceOf(
      ConclaveError,
    );
    expect(openWebhookSecret(coordinator.secret, copy, TENANT, SUB)).toBe(secret);
  });
});

describe('sealing is bound to the coordinator key it was sealed to', () => {
  it('a secret sealed to another coordinator opens there, not here', () => {
    const other = webhookSealingKey(otherSeed);
    const secret = generateWebhookSecret();
    const sealed = sealWebhookSecret(other.publicKey, secret, TENANT, SUB);
    expect(openWebhookSecret(other.secret, sealed, TENANT, SUB)).toBe(secret);
    const error = thrown(() => openWebhookSecret(coordinator.secret, sealed, TENANT, SUB));
    expect((error as ConclaveError).code).toBe('BAD_INPUT');
    expect((error as ConclaveError).message).toContain(SUB);
  });

  it('sealing to a public key that is not hex is refused', () => {
    const error = thrown(() => sealWebhookSecret('not-hex', generateWebhookSecret(), TENANT, SUB));
    expect(error).toBeInstanceOf(ConclaveError);
    expect((error as ConclaveError).code).toBe('BAD_INPUT');
  });
});
