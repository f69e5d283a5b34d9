import { describe, expect, it } from 'vitest';
import { toHex } from '../../src/crypto/encoding.js';
import {
  generateRecoveryKey,
  openShareBackup,
  sealShareBackup,
  type BackupSecret,
  type ShareBackup,
} from '../../src/crypto/backup.js';
import { generatePartyKeys } from '../../src/crypto/identity.js';
import { ConclaveError } from '../../src/errors.js';

const party = generatePartyKeys();
const recovery = generateRecoveryKey();
const other = generateRecoveryKey();

const secret: BackupSecret = {
  scheme: 'frost-ed25519',
  identifier: '01'.padEnd(64, '0'),
  threshold: 2,
  roster: [],
  public: { threshold: 2, total: 3, commitments: ['aa'], verifyingShares: {} },
  publicKey: 'aa',
  transcriptHash: 'bb',
  signingShare: '42'.repeat(32),
  identitySecret: toHex(party.identitySecret),
  transportSecret: toHex(party.transportSecret),
  transportPublic: toHex(party.transportPublic),
};

function backup(): ShareBackup {
  return sealShareBackup(
    {
      tenant: 't1',
      walletId: 'w1',
      keyId: 'k1',
      version: 3,
      party: 'p2',
      identityPublic: toHex(party.identityPublic),
      createdAt: '2026-11-21T00:00:00.000Z',
    },
    secret,
    party.identitySecret,
    Buffer.from(recovery.publicKey, 'hex'),
  );
}

function refusal(fn: () => unknown): ConclaveError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(ConclaveError);
    return err as ConclaveError;
  }
  throw new Error('expected a refusal');
}

describe('share backups', () => {
  it('round-trips through JSON with the recovery secret key, and shows no secret in the clear', () => {
    const file = JSON.parse(JSON.stringify(backup())) as ShareBackup;
    const text = JSON.stringify(file);
    expect(text).not.toContain(secret.signingShare);
    expect(text).not.toContain(secret.identitySecret);
    expect(file).toMatchObject({ tenant: 't1', walletId: 'w1', version: 3, party: 'p2' });
    expect(file.recoveryPublic).toBe(recovery.publicKey);
    const opened = openShareBackup(file, recovery.secretKey);
    expect(opened.secret).toEqual(secret);
    expect(opened.meta.version).toBe(3);
  });

  it('refuses another recovery key, naming the one the backup needs', () => {
    const e = refusal(() => openShareBackup(backup(), other.secretKey));
    expect(e.code).toBe('BAD_INPUT');
    expect(e.message).toContain(recovery.publicKey.slice(0, 16));
  });

  it('refuses changed metadata, a changed ciphertext and a foreign signer as TAMPERED', () => {
    for (const change of [
      (b: ShareBackup) => (b.version = 4),
      (b: ShareBackup) => (b.walletId = 'w2'),
      (b: ShareBackup) => (b.party = 'p3'),
      (b: ShareBackup) => (b.createdAt = '2027-01-01T00:00:00.000Z'),
      (b: ShareBackup) =>
        (b.envelope.body = b.envelope.body.replace(/^../, (h) => (h === '00' ? '01' : '00'))),
      (b: ShareBackup) => (b.identityPublic = toHex(generatePartyKeys().identityPublic)),
    ]) {
      const b = backup();
      change(b);
      const e = refusal(() => openShareBackup(b, recovery.secretKey));
      expect(e.code, String(change)).toBe('TAMPERED');
    }
  });

  it('refuses what is not a backup, and a malformed recovery key', () => {
    expect(refusal(() => openShareBackup({ hello: 1 }, recovery.secretKey)).code).toBe('BAD_INPUT');
    expect(refusal(() => openShareBackup(null, recovery.secretKey)).code).toBe('BAD_INPUT');
    const { version: _v, ...noVersion } = backup();
    expect(refusal(() => openShareBackup(noVersion, recovery.secretKey)).message).toMatch(/version/);
    expect(refusal(() => openShareBackup(backup(), 'abcd')).message).toMatch(/32 bytes/);
  });
});
