/**
 * Share backups: a party's share of one wallet version, with the party's own keys, encrypted to
 * an operator's recovery key (X25519) and signed by the party's identity key. It is a direct
 * envelope (`envelope.ts`) addressed to "recovery", so it has the envelope's guarantees: only the
 * holder of the recovery secret key can read it, and nobody without the party's identity key can
 * make one, or change a byte of it, including the metadata in its header.
 */
import { x25519 } from '@noble/curves/ed25519.js';
import { ConclaveError } from '../errors.js';
import { fromHex, toHex, utf8 } from './encoding.js';
import { openEnvelope, sealDirect, type Envelope, type EnvelopeHeader } from './envelope.js';
import type { PublicPackage } from './frost.js';
import type { PeerEntry } from '../ceremony/contracts.js';

export const backupFormat = 'conclave-share-backup/1';

/** What a backup says about itself in the clear; its header binds it to the ciphertext. */
export interface BackupMeta {
  tenant: string;
  walletId: string;
  keyId: string;
  version: number;
  party: string;
  /** The party's identity key, which signed the backup. */
  identityPublic: string;
  /** The recovery key it is encrypted to. */
  recoveryPublic: string;
  createdAt: string;
}

/** The encrypted contents: the share and what the party needs to use it again. */
export interface BackupSecret {
  scheme: string;
  identifier: string;
  threshold: number;
  roster: PeerEntry[];
  public: PublicPackage;
  publicKey: string;
  transcriptHash: string;
  signingShare: string;
  identitySecret: string;
  transportSecret: string;
  transportPublic: string;
}

export interface ShareBackup extends BackupMeta {
  format: typeof backupFormat;
  envelope: Envelope;
}

const recipient = 'recovery';

/** The header carries every metadata field, so none can be changed without breaking the signature. */
function backupHeader(meta: BackupMeta): EnvelopeHeader {
  return {
    tenant: meta.tenant,
    ceremonyId: JSON.stringify([
      'backup',
      meta.walletId,
      meta.keyId,
      meta.version,
      meta.identityPublic,
      meta.recoveryPublic,
      meta.createdAt,
    ]),
    round: 'backup',
    type: 'share-backup',
    from: meta.party,
    to: recipient,
  };
}

export function generateRecoveryKey(): { secretKey: string; publicKey: string } {
  const secret = x25519.utils.randomSecretKey();
  return { secretKey: toHex(secret), publicKey: toHex(x25519.getPublicKey(secret)) };
}

function key32(hex: unknown, what: string): Uint8Array {
  const bytes = typeof hex === 'string' ? fromHex(hex, what) : undefined;
  if (!bytes || bytes.length !== 32) throw new ConclaveError('BAD_INPUT', `${what} must be 32 bytes of hex`);
  return bytes;
}

export function sealShareBackup(
  meta: Omit<BackupMeta, 'recoveryPublic'>,
  secret: BackupSecret,
  identitySecret: Uint8Array,
  recoveryPublic: Uint8Array,
): ShareBackup {
  const full: BackupMeta = { ...meta, recoveryPublic: toHex(recoveryPublic) };
  const envelope = sealDirect(
    backupHeader(full),
    utf8(JSON.stringify(secret)),
    identitySecret,
    recoveryPublic,
  );
  return { format: backupFormat, ...full, envelope };
}

/**
 * Opens a backup with the recovery secret key: checks its format, its signature by the identity
 * key it names, and decrypts it. A wrong recovery key or any changed byte is refused.
 */
export function openShareBackup(
  file: unknown,
  recoverySecretHex: string,
): { meta: BackupMeta; secret: BackupSecret } {
  const f = file as Partial<ShareBackup> | null;
  if (typeof f !== 'object' || f === null || f.format !== backupFormat || typeof f.envelope !== 'object') {
    throw new ConclaveError('BAD_INPUT', `not a Conclave share backup (${backupFormat})`);
  }
  const fields = [
    'tenant',
    'walletId',
    'keyId',
    'party',
    'identityPublic',
    'recoveryPublic',
    'createdAt',
  ] as const;
  for (const k of fields) {
    if (typeof f[k] !== 'string') throw new ConclaveError('BAD_INPUT', `backup field ${k} is missing`);
  }
  if (!Number.isSafeInteger(f.version))
    throw new ConclaveError('BAD_INPUT', 'backup field version is missing');
  const meta: BackupMeta = {
    tenant: f.tenant!,
    walletId: f.walletId!,
    keyId: f.keyId!,
    version: f.version!,
    party: f.party!,
    identityPublic: f.identityPublic!,
    recoveryPublic: f.recoveryPublic!,
    createdAt: f.createdAt!,
  };
  const recoverySecret = key32(recoverySecretHex, 'recovery secret key');
  if (toHex(x25519.getPublicKey(recoverySecret)) !== meta.recoveryPublic) {
    throw new ConclaveError(
      'BAD_INPUT',
      `this backup is encrypted to recovery key ${meta.recoveryPublic.slice(0, 16)}…, not to the one given`,
    );
  }
  let body: Uint8Array;
  try {
    body = openEnvelope(
      f.envelope!,
      backupHeader(meta),
      key32(meta.identityPublic, 'identity key'),
      recoverySecret,
    );
  } catch (err) {
    const why = err instanceof Error ? err.message.replace(/ \(culprit: [^)]*\)$/, '') : String(err);
    throw new ConclaveError('TAMPERED', `backup of ${meta.party} does not verify: ${why}`);
  }
  return { meta, secret: JSON.parse(new TextDecoder().decode(body)) as BackupSecret };
}
