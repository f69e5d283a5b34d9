/**
 * Backups of a wallet's current shares: each party encrypts its own share to the recovery key it
 * was configured with. Parties that cannot are reported, not fatal: the others' backups stand.
 */
import { workflowInfo } from '@temporalio/workflow';
import type { BackupRequest, BackupResult } from '../activities/types.js';
import {
  abortWith,
  audit,
  coordinator,
  failureDetails,
  partyBrief,
  assertWorkflowOfTenant,
} from './common.js';

export async function backupWorkflow(req: BackupRequest): Promise<BackupResult> {
  assertWorkflowOfTenant(req.tenant);
  try {
    const w = await coordinator.getWallet(req.tenant, req.walletId);
    const settled = await Promise.allSettled(
      w.parties.map((p) => partyBrief(p).exportShareBackup(w.tenant, w.walletId, w.keyId, w.version)),
    );
    const result: BackupResult = { walletId: w.walletId, version: w.version, backups: [], failed: [] };
    settled.forEach((s, i) => {
      if (s.status === 'fulfilled') result.backups.push(s.value);
      else {
        const { message, details } = failureDetails(s.reason);
        result.failed.push({ party: w.parties[i]!, code: details.code, reason: message });
      }
    });
    await audit(req.requestedBy, {
      tenant: w.tenant,
      walletId: w.walletId,
      ceremony: 'backup',
      version: w.version,
      parties: result.backups.map((b) => b.party),
      detail: { failed: result.failed.map((f) => f.party) },
    });
    return result;
  } catch (err) {
    throw abortWith(`backup ${workflowInfo().workflowId}`, err);
  }
}
