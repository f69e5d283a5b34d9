/**
 * Request ids, in either form they are printed: the bare id (`93fa…`) or the full workflow id
 * (`sign:<tenant>:<id>`, `reshare:<tenant>:<wallet>:<id>`, …) that `tx show` and webhooks show.
 * One parser, so every command and client method that takes a request id takes both.
 */
import { ConclaveError } from '../errors.js';
import { assertId } from '../validation.js';

/** The requests whose ids are shown in full. */
export type RequestKind = 'sign' | 'reshare' | 'recover' | 'backup' | 'pairing';

/** A request id as given: its bare id, and what a full id also names. */
export interface ParsedRequestId {
  /** The bare id (what `--request-id` and `requestId` options are stored under). */
  id: string;
  /** Present when the full form was given. */
  kind?: RequestKind;
  tenant?: string;
  /** The wallet a full id of a ceremony (not a sign request) names. */
  walletId?: string;
}

const fullForm = /^(sign|reshare|recover|backup|pairing):/;

/** Parses a request id in either form; checks only its syntax. */
export function parseRequestId(value: unknown): ParsedRequestId {
  if (typeof value !== 'string' || !fullForm.test(value)) return { id: assertId('request id', value) };
  const [kind, ...rest] = value.split(':') as [RequestKind, ...string[]];
  const parts = kind === 'sign' ? 2 : 3;
  if (rest.length !== parts)
    throw new ConclaveError(
      'BAD_INPUT',
      `invalid request id "${value}" (expected ${
        kind === 'sign' ? 'sign:TENANT:ID' : `${kind}:TENANT:WALLET:ID`
      }, or the bare ID)`,
    );
  const tenant = assertId('tenant', rest[0]);
  const walletId = kind === 'sign' ? undefined : assertId('wallet id', rest[1]);
  const id = assertId('request id', rest[parts - 1]);
  return { id, kind, tenant, ...(walletId !== undefined ? { walletId } : {}) };
}

/**
 * The bare id of a request given in either form, for the request `expect` describes: a full id
 * naming another tenant is refused as WRONG_TENANT, one of another kind or wallet as BAD_INPUT.
 */
export function bareRequestId(
  value: unknown,
  expect: { tenant: string; kind?: RequestKind; walletId?: string },
): string {
  const p = parseRequestId(value);
  if (!p.kind) return p.id;
  checkTenant(String(value), p.tenant!, expect.tenant);
  if (expect.kind && p.kind !== expect.kind)
    throw new ConclaveError(
      'BAD_INPUT',
      `request ${String(value)} is a ${p.kind} request, not a ${expect.kind} request`,
    );
  if (expect.walletId !== undefined && p.walletId !== undefined && p.walletId !== expect.walletId)
    throw new ConclaveError(
      'BAD_INPUT',
      `request ${String(value)} is wallet ${p.walletId}'s, not wallet ${expect.walletId}'s`,
    );
  return p.id;
}

/**
 * The workflow id of a request that may wait for approvals: a sign request's bare id, or a full
 * id of this tenant's sign, reshare, recover, backup or pairing request.
 */
export function requestWorkflowId(tenant: string, requestId: unknown): string {
  assertId('tenant', tenant);
  const p = parseRequestId(requestId);
  if (!p.kind) return `sign:${tenant}:${p.id}`;
  checkTenant(String(requestId), p.tenant!, tenant);
  return p.kind === 'sign' ? `sign:${tenant}:${p.id}` : `${p.kind}:${tenant}:${p.walletId}:${p.id}`;
}

function checkTenant(value: string, named: string, inUse: string): void {
  if (named !== inUse)
    throw new ConclaveError(
      'WRONG_TENANT',
      `request ${value} is tenant ${named}'s, not tenant ${inUse}'s (the tenant in use); pass --tenant ${named}`,
    );
}
