/**
 * A party's side of backups: it encrypts its share of one wallet version, with its own keys, to
 * the operator's recovery key it was configured with at setup. The caller cannot choose the key,
 * so a coordinator that asks for backups gets ciphertext only it cannot read.
 */
import { sealShareBackup, type ShareBackup } from '../../src/crypto/backup.js';
import { toHex } from '../../src/crypto/encoding.js';
import { ConclaveError } from '../../src/errors.js';
import type { PartyRuntime } from '../../src/party/runtime.js';
import { shareDocId } from '../../src/store/party-store.js';
import { openShareSecret } from './keygen.js';

export function backupActivities(rt: PartyRuntime) {
  return {
    async exportShareBackup(
      tenant: string,
      walletId: string,
      keyId: string,
      version: number,
    ): Promise<ShareBackup> {
      if (!rt.recoveryPublic) {
        throw new ConclaveError(
          'CONFIG',
          `${rt.partyId} has no recovery key: set CONCLAVE_RECOVERY_PUBLIC_KEY for its worker`,
        );
      }
      const share = await rt.store.shares.findOne({ _id: shareDocId(tenant, keyId, version) });
      if (!share || share.tenant !== tenant || share.walletId !== walletId) {
        throw new ConclaveError(
          'UNKNOWN_WALLET',
          `${rt.partyId} holds no share of wallet ${walletId} v${version} (${tenant})`,
        );
      }
      return sealShareBackup(
        {
          tenant,
          walletId,
          keyId,
          version,
          party: rt.partyId,
          identityPublic: rt.identityPublic,
          createdAt: new Date().toISOString(),
        },
        {
          scheme: share.scheme,
          identifier: share.identifier,
          threshold: share.threshold,
          roster: share.roster,
          public: share.public,
          publicKey: share.publicKey,
          transcriptHash: share.transcriptHash,
          signingShare: openShareSecret(rt, share),
          identitySecret: toHex(rt.identitySecret),
          transportSecret: toHex(rt.transportSecret),
          transportPublic: rt.transportPublic,
        },
        rt.identitySecret,
        rt.recoveryPublic,
      );
    },
  };
}
