/** Validation of ceremony requests, shared by the client (fail fast) and the coordinator (trust nothing). */
import type { KeygenRequest } from './ceremony/keygen/contracts.js';
import {
  batchDigest,
  maxBatchBytes,
  maxBatchItems,
  type SignItem,
  type SignRequest,
} from './ceremony/sign/contracts.js';
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
  if (req.batch !== undefined) validateBatch(req, req.batch);
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

/** A batch request: well-formed items, no request-wide key, and `message` the batch's digest. */
function validateBatch(req: SignRequest, batch: SignItem[]): void {
  validateBatchItems(batch);
  if (req.path !== undefined || req.merkleRoot !== undefined) {
    throw new ConclaveError('BAD_INPUT', "a batch names each item's path and merkle root, not the request's");
  }
  if (req.dryRun !== undefined)
    throw new ConclaveError('BAD_INPUT', 'a dry run signs one message, not a batch');
  if (req.message.toLowerCase() !== batchDigest(batch)) {
    throw new ConclaveError('BAD_INPUT', "a batch request's message must be the batch's digest");
  }
}

/** A batch's items: 1 to 256, each a non-empty hex message with a valid path and merkle root, within the size limit. */
export function validateBatchItems(batch: SignItem[]): void {
  if (!Array.isArray(batch) || batch.length === 0 || batch.length > maxBatchItems) {
    throw new ConclaveError('BAD_INPUT', `a batch holds 1 to ${maxBatchItems} messages`);
  }
  let total = 0;
  batch.forEach((item, i) => {
    if (typeof item !== 'object' || item === null || typeof item.message !== 'string') {
      throw new ConclaveError('BAD_INPUT', `batch item ${i} has no hex message`);
    }
    const bytes = fromHex(item.message, `batch item ${i}'s message`);
    if (bytes.length === 0) throw new ConclaveError('BAD_INPUT', `batch item ${i}'s message is empty`);
    total += bytes.length;
    if (item.path !== undefined) parsePath(item.path);
    if (item.merkleRoot !== undefined && !/^[0-9a-fA-F]{64}$/.test(String(item.merkleRoot))) {
      throw new ConclaveError('BAD_INPUT', `batch item ${i}'s merkle root must be 32 bytes of hex`);
    }
  });
  if (total > maxBatchBytes) {
    throw new ConclaveError(
      'BAD_INPUT',
      `the batch's messages are ${total} bytes; at most ${maxBatchBytes} are accepted`,
    );
  }
}

/** Who asked for a ceremony, as recorded: control characters replaced, at most 128 characters. */
export function printableActor(actor: unknown): string {
  return [...String(actor)]
    .map((c) => (c.charCodeAt(0) < 0x20 || c.charCodeAt(0) === 0x7f ? '?' : c))
    .join('')
    .slice(0, 128);
}
