/** Reads a wallet's audit records through the coordinator (clients need only Temporal). */
import type { AuditChainPage, AuditEntry } from '../src/audit/contracts.js';
import { abortWith, coordinator } from './common.js';

export async function auditLogWorkflow(tenant: string, walletId: string): Promise<AuditEntry[]> {
  try {
    return await coordinator.auditLog(tenant, walletId);
  } catch (err) {
    throw abortWith('audit log read', err);
  }
}

/** One page of a tenant's hash-chained audit log, for `conclave audit verify / export`. */
export async function auditChainWorkflow(tenant: string, afterSeq: number): Promise<AuditChainPage> {
  try {
    return await coordinator.auditChainPage(tenant, afterSeq);
  } catch (err) {
    throw abortWith('audit chain read', err);
  }
}
