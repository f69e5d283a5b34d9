/**
 * A party's side of backups: it encrypts its share of one wallet version, with its own keys, to
 * the operator's recovery key it was configured with at setup. The caller cannot choose the key,
 * so a coordinator that asks for backups gets ciphertext only it cannot read; under the tenant's
 * governance, only on an approved statement naming that key.
 */
import type { ShareBackup } from '../../src/crypto/backup.js';
import { sealBackup } from '../../src/ceremony/backup/party.js';
import { toHex } from '../../src/crypto/encoding.js';
import { ConclaveError } from '../../src/errors.js';
import { openShareSecret, type PartyRuntime } from '../../src/party/runtime.js';
import { shareDocId } from '../../src/store/party-store.js';
import { versionTargetOf, type KeyChangeAuthorization } from '../../src/policy/governance.js';
import { checkGovernance } from './governance.js';

export function backupActivities(rt: PartyRuntime) {
  return {
    /** The operator's recovery key backups are encrypted to (hex), or null when none is configured. */
    async describeRecoveryKey(): Promise<string | null> {
      return rt.recoveryPublic ? toHex(rt.recoveryPublic) : null;
    },

    /**
     * A backup of this party's share of one wallet version, for the export ceremony `ceremonyId`;
     * under the tenant's governance only on an approved statement that names this party's
     * recovery key.
     */
    async exportShareBackup(
      tenant: string,
      walletId: string,
      keyId: string,
      version: number,
      ceremonyId = '',
      authorization?: KeyChangeAuthorization,
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
      await checkGovernance(
        rt,
        {
          ...versionTargetOf('backup-export', share, ceremonyId),
          recoveryKey: { party: rt.partyId, key: toHex(rt.recoveryPublic) },
        },
        authorization,
      );
      return sealBackup(rt, share, openShareSecret(rt, share), rt.recoveryPublic, new Date());
    },
  };
}
