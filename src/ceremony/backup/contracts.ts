/** Backup export's contracts: the request and the sealed backups. */
import type { ShareBackup } from '../../crypto/backup.js';

export interface BackupRequest {
  tenant: string;
  /** Who asks (for the audit record); the client fills it in. */
  requestedBy?: string;
  walletId: string;
}

export interface BackupResult {
  walletId: string;
  version: number;
  /** One per party that exported, each encrypted to that party's configured recovery key. */
  backups: ShareBackup[];
  failed: { party: string; code: string; reason: string }[];
}
