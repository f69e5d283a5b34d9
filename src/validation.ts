/** Validation of ceremony requests, shared by the client (fail fast) and the coordinator (trust nothing). */
import type { KeygenRequest } from './ceremony/keygen/contracts.js';
import type { SignRequest } from './ceremony/sign/contracts.js';
import { assertPartyId } from './config.js';
import { fromHex } from './crypto/encoding.js';
import { parsePath } from './crypto/hd.js';
import { resolveScheme } from './crypto/schemes.js';
import { ConclaveError } from './errors.js';
import { idPattern, invalidIdMessage } from './ids.js';
import { dryRunMessage } from './policy/authorization.js';
import { checkTransactionDescription } from './policy/transaction.js';

export const maxMessageBytes = 64 * 1024;

export function assertId(kind: string, value: unknown): string {
  if (typeof value !== 'string' || !idPattern.test(value)) {
    throw new ConclaveError('BAD_INPUT', invalidIdMessage(kind, value));
  }
  return value;
}

export function validateKeygenRequest(req: KeygenRequest): void {
  assertId('tenant', req.tenant);
  assertId('wallet id', req.walletId);
  resolveScheme(req.curve, req.scheme);
  const n = req.parties.length;
  req.parties.forEach(assertPartyId);
  if (new Set(req.parties).size !== n) throw new ConclaveError('BAD_INPUT', 'party list has duplicates');
  if (!Number.isInteger(req.threshold) || req.threshold < 2) {
    throw new ConclaveError('BAD_INPUT', `threshold must be at least 2, got ${req.threshold}`);
  }
  if (req.threshold > n) {
    throw new ConclaveError(
      'BAD_INPUT',
      `threshold ${req.threshold} is larger than the number of parties ${n}`,
    );
  }
}

export function validateSignRequest(req: SignRequest): void {
  assertId('tenant', req.tenant);
  assertId('wallet id', req.walletId);
  const bytes = fromHex(req.message, 'message');
  if (bytes.length === 0) throw new ConclaveError('BAD_INPUT', 'message is empty');
  if (bytes.length > maxMessageBytes) {
    throw new ConclaveError(
      'BAD_INPUT',
      `message is ${bytes.length} bytes; at most ${maxMessageBytes} are accepted`,
    );
  }
  req.signers?.forEach(assertPartyId);
  if (req.path !== undefined) parsePath(req.path);
  if (req.merkleRoot !== undefined && !/^[0-9a-fA-F]{64}$/.test(String(req.merkleRoot))) {
    throw new ConclaveError('BAD_INPUT', 'merkle root must be 32 bytes of hex');
  }
  // one format, every problem at once, and never another wallet's or tenant's payment
  if (req.tx !== undefined)
    checkTransactionDescription(req.tx, { tenant: req.tenant, walletId: req.walletId, stamped: true });
  if (req.dryRun !== undefined) {
    if (typeof req.dryRun?.reference !== 'string' || req.message.toLowerCase() !== dryRunMessage(req.dryRun))
      throw new ConclaveError('BAD_INPUT', 'a dry run signs only its own tagged message');
    if (req.tx !== undefined || req.signed !== undefined)
      throw new ConclaveError('BAD_INPUT', 'a dry run pays nothing: it takes no transaction');
  }
}

/** Who asked for a ceremony, as recorded: control characters replaced, at most 128 characters. */
export function printableActor(actor: unknown): string {
  return [...String(actor)]
    .map((c) => (c.charCodeAt(0) < 0x20 || c.charCodeAt(0) === 0x7f ? '?' : c))
    .join('')
    .slice(0, 128);
}
