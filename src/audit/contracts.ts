/** The audit trail's contracts: a ceremony's record and a page of the chain. */
import type { AuditChainEntry, AuditCheckpoint } from './chain.js';
import type { ShareChangeKind } from '../ceremony/contracts.js';

/** A ceremony's audit record: who asked for what, when, on which wallet version, and how it ended. */
export interface AuditEntry {
  tenant: string;
  walletId: string;
  ceremony:
    | 'keygen'
    | 'sign'
    | ShareChangeKind
    | 'backup'
    | 'validation'
    | 'pairing'
    | 'approval'
    | 'rules-publish'
    | 'governance-publish'
    | 'webhook-subscription'
    | 'webhook-replay';
  workflowId: string;
  ceremonyId: string;
  /** Who asked, as the client named them (`CONCLAVE_ACTOR`, by default user@host). */
  requestedBy: string;
  outcome: 'completed' | 'failed';
  /** A failure's code, culprit and one-line reason. */
  code?: string;
  culprit?: string;
  reason?: string;
  /** The wallet version the ceremony started from, and the one it used or made. */
  fromVersion?: number;
  version?: number;
  /** The parties that took part. */
  parties: string[];
  detail?: Record<string, string | number | boolean | string[]>;
  /** When the coordinator recorded it (ISO 8601). */
  at: string;
}

/** A page of a tenant's audit chain, with its checkpoints and the coordinator's public key. */
export interface AuditChainPage {
  tenant: string;
  entries: AuditChainEntry[];
  checkpoints: AuditCheckpoint[];
  more: boolean;
  coordinatorKey?: string;
}

export type AuditRecord = Omit<AuditEntry, 'workflowId' | 'ceremonyId' | 'at' | 'outcome' | 'requestedBy'>;
