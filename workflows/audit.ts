/** Reads a wallet's audit records through the coordinator (clients need only Temporal). */
import type { AuditEntry } from '../activities/types.js';
import { abortWith, coordinator } from './common.js';

export async function auditLogWorkflow(tenant: string, walletId: string): Promise<AuditEntry[]> {
  try {
    return await coordinator.auditLog(tenant, walletId);
  } catch (err) {
    throw abortWith('audit log read', err);
  }
}
