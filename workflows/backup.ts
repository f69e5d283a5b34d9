/**
 * Backups of a wallet's current shares: each party encrypts its own share to the recovery key it
 * was configured with. Parties that cannot are reported, not fatal: the others' backups stand.
 */
import { workflowInfo } from '@temporalio/workflow';
import type { AuditRecord } from '../src/audit/contracts.js';
import type { BackupRequest, BackupResult } from '../src/ceremony/backup/contracts.js';
import { versionTargetOf } from '../src/policy/governance.js';
import { approveKeyChange, governanceDetail, keyChangeRequest } from './key-change.js';
import {
  abortWith,
  audit,
  coordinator,
  failureDetails,
  partyBrief,
  assertWorkflowOfTenant,
  ceremonyIdOfThisRun,
} from './common.js';

export async function backupWorkflow(req: BackupRequest): Promise<BackupResult> {
  assertWorkflowOfTenant(req.tenant);
  const k = keyChangeRequest(req);
  try {
    const v = await coordinator.describeVersion(req.tenant, req.walletId);
    const w = { ...v, parties: v.roster.map((p) => p.partyId) };
    // under the tenant's governance the statement names each party's recovery key
    const keys = await Promise.allSettled(w.parties.map((p) => partyBrief(p).describeRecoveryKey()));
    const recoveryKeys: Record<string, string> = {};
    keys.forEach((r, i) => {
      if (r.status === 'fulfilled' && r.value) recoveryKeys[w.parties[i]!] = r.value;
    });
    const { ceremonyId: _c, ...target } = versionTargetOf('backup-export', v, '');
    const authorization = await approveKeyChange(k, target, req.requestedBy, recoveryKeys);
    const settled = await Promise.allSettled(
      w.parties.map((p) =>
        partyBrief(p).exportShareBackup(
          w.tenant,
          w.walletId,
          w.keyId,
          w.version,
          ceremonyIdOfThisRun(),
          authorization,
        ),
      ),
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
      detail: {
        failed: result.failed.map((f) => f.party),
        ...(authorization ? governanceDetail(authorization) : {}),
      },
    });
    k.box.tx.state = 'completed';
    return result;
  } catch (err) {
    if (!['rejected', 'expired', 'cancelled'].includes(k.box.tx.state)) k.box.tx.state = 'failed';
    await audit(req.requestedBy, backupRecord(req), err);
    throw abortWith(`backup ${workflowInfo().workflowId}`, err);
  }
}

const backupRecord = (req: BackupRequest): AuditRecord => ({
  tenant: req.tenant,
  walletId: req.walletId,
  ceremony: 'backup',
  parties: [],
});
