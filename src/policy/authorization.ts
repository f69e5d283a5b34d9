/**
 * The signed statements around a sign request, and their checks. Three kinds of people sign:
 *
 * - a publisher signs a rule set version (rules and tenant config, which lists the initiators
 *   and approvers): parties trust publishers they pinned themselves, nothing else;
 * - an initiator signs the request: wallet, message, path and the transaction it pays;
 * - approvers sign approvals (or a rejection) of one request under one rule set version.
 *
 * Approvals are not signatures of the wallet: they let the parties check for themselves that
 * policy was followed, so a compromised coordinator cannot get a signature past the rules.
 * Every digest is a tagged SHA-256 over a canonical (sorted-key) JSON, length-prefixed by
 * `transcriptHash`, so no two different statements share one.
 */
import { ed25519 } from '@noble/curves/ed25519.js';
import { fromHex, sha256, toHex, transcriptHash } from '../crypto/encoding.js';
import { verifyBytes } from '../crypto/identity.js';
import { ConclaveError } from '../errors.js';
import { describeApprovals } from './decision.js';
export { approvalsMet, describeApprovals } from './decision.js';
import type { ActorKey, Approvals, RuleSet, TenantPolicyConfig, TransactionDescription } from './types.js';

/** An actor's key file: who, and the Ed25519 secret they sign with. */
export interface ActorSecret {
  id: string;
  publicKey: string;
  secretKey: string;
}

export function generateActorKey(id: string): ActorSecret {
  const secret = ed25519.utils.randomSecretKey();
  return { id, publicKey: toHex(ed25519.getPublicKey(secret)), secretKey: toHex(secret) };
}

/** Parses an actor key file's JSON; checks that the secret matches the public key. */
export function parseActorSecret(text: string, where: string): ActorSecret {
  let v: Partial<ActorSecret>;
  try {
    v = JSON.parse(text) as Partial<ActorSecret>;
  } catch {
    throw new ConclaveError('BAD_INPUT', `${where} is not an actor key file (JSON)`);
  }
  if (
    typeof v !== 'object' ||
    v === null ||
    typeof v.id !== 'string' ||
    typeof v.secretKey !== 'string' ||
    !/^[0-9a-f]{64}$/.test(v.secretKey) ||
    typeof v.publicKey !== 'string' ||
    toHex(ed25519.getPublicKey(fromHex(v.secretKey, 'secretKey'))) !== v.publicKey
  ) {
    throw new ConclaveError('BAD_INPUT', `${where} is not a valid actor key file`);
  }
  return { id: v.id, publicKey: v.publicKey, secretKey: v.secretKey };
}

/** JSON with object keys sorted at every level: one text per value. Undefined fields are left out. */
export function canonicalJson(value: unknown): string {
  if (!['string', 'number', 'boolean', 'object'].includes(typeof value))
    throw new ConclaveError('BAD_INPUT', `cannot encode a ${typeof value} as JSON`);
  if (value === null || typeof value !== 'object') {
    if (typeof value === 'number' && !Number.isFinite(value))
      throw new ConclaveError('BAD_INPUT', 'cannot encode a non-finite number');
    return JSON.stringify(value);
  }
  if (Array.isArray(value))
    return `[${value.map((v) => canonicalJson(v === undefined ? null : v)).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
}

export const digestOf = (tag: string, value: unknown): string => transcriptHash([tag, canonicalJson(value)]);
export const signDigest = (secretKey: string, digest: string): string =>
  toHex(ed25519.sign(fromHex(digest, 'digest'), fromHex(secretKey, 'secretKey')));
export const verifyDigest = (publicKey: string, digest: string, signature: string): boolean => {
  try {
    return verifyBytes(fromHex(publicKey, 'publicKey'), fromHex(digest, 'digest'), fromHex(signature, 'sig'));
  } catch {
    return false;
  }
};

// ---------------------------------------------------------------------------------------------
// Rule set publications

/** What a publisher signs: the rules and config of one version (not its number, which the coordinator assigns). */
export interface PublicationStatement {
  tenant: string;
  ruleSet: Omit<RuleSet, 'version'>;
  config: TenantPolicyConfig;
  publisher: string;
  publisherKey: string;
  /** ISO 8601; parties refuse a publication older than one they have already seen. */
  publishedAt: string;
}

export interface PublicationSignature {
  publisher: string;
  publisherKey: string;
  publishedAt: string;
  signature: string;
}

/** A published version as it travels to the parties with a sign request. */
export interface SignedPublication extends PublicationStatement {
  rulesVersion: number;
  signature: string;
}

export function publicationDigest(p: PublicationStatement): string {
  const { version: _ignored, ...rules } = p.ruleSet as RuleSet;
  return digestOf('conclave/rules-publication/1', {
    tenant: p.tenant,
    ruleSet: rules,
    config: p.config,
    publisher: p.publisher,
    publisherKey: p.publisherKey,
    publishedAt: p.publishedAt,
  });
}

export function signPublication(
  key: ActorSecret,
  tenant: string,
  ruleSet: Omit<RuleSet, 'version'>,
  config: TenantPolicyConfig,
  publishedAt: string,
): PublicationSignature {
  const statement = { tenant, ruleSet, config, publisher: key.id, publisherKey: key.publicKey, publishedAt };
  return {
    publisher: key.id,
    publisherKey: key.publicKey,
    publishedAt,
    signature: signDigest(key.secretKey, publicationDigest(statement)),
  };
}

export function verifyPublication(p: PublicationStatement & { signature: string }): boolean {
  return verifyDigest(p.publisherKey, publicationDigest(p), p.signature);
}

// ---------------------------------------------------------------------------------------------
// Dry-run signatures

/** Why Conclave signs a message that pays nothing: a recovered party's proof, a share validation. */
export type DryRunPurpose = 'recovery-proof' | 'share-validation';
export interface DryRun {
  purpose: DryRunPurpose;
  /** The ceremony that asked for it. */
  reference: string;
}

/**
 * The only message a dry run may sign: a tagged hash of its purpose and ceremony. Being a
 * SHA-256 output of a fixed-prefix text, it cannot be a transaction's digest, so parties may sign
 * it without rules or approvals.
 */
export function dryRunMessage(d: DryRun): string {
  if (d.purpose !== 'recovery-proof' && d.purpose !== 'share-validation')
    throw new ConclaveError('BAD_INPUT', `unknown dry-run purpose ${JSON.stringify(d.purpose)}`);
  return toHex(sha256(new TextEncoder().encode(`conclave/dry-run/${d.purpose}\n${d.reference}`)));
}

// ---------------------------------------------------------------------------------------------
// Sign requests

/** What an initiator signs. The coordinator judges it; every party checks it before signing. */
export interface SignStatement {
  tenant: string;
  walletId: string;
  /** Hex bytes to sign. */
  message: string;
  /** Canonical derivation path ('m' for the wallet key). */
  path: string;
  merkleRoot?: string;
  tx: TransactionDescription;
  /** The workflow id: one request, one signing ceremony. */
  requestId: string;
  initiator: string;
  /** ISO 8601; the time business-hours rules read. */
  createdAt: string;
}

export interface SignedRequest {
  statement: SignStatement;
  /** Absent when the client had no initiator key; parties that gate the tenant refuse that. */
  initiatorKey?: string;
  signature?: string;
}

/**
 * The statement for a sign request, in the one form client and coordinator both build: canonical
 * path, lower-case hex, and only the transaction's known fields.
 */
export function signStatement(f: SignStatement): SignStatement {
  const { chain, asset, amount, destination, memo, metadata } = f.tx;
  const tx: TransactionDescription = { chain, asset, amount, destination };
  if (memo !== undefined) tx.memo = memo;
  if (metadata !== undefined) tx.metadata = metadata;
  const s: SignStatement = {
    tenant: f.tenant,
    walletId: f.walletId,
    message: f.message.toLowerCase(),
    path: f.path,
    tx,
    requestId: f.requestId,
    initiator: f.initiator,
    createdAt: f.createdAt,
  };
  if (f.merkleRoot !== undefined) s.merkleRoot = f.merkleRoot.toLowerCase();
  return s;
}

export const requestDigest = (s: SignStatement): string => digestOf('conclave/sign-request/1', s);

export function signRequest(key: ActorSecret, statement: SignStatement): SignedRequest {
  return {
    statement,
    initiatorKey: key.publicKey,
    signature: signDigest(key.secretKey, requestDigest(statement)),
  };
}

/** The initiator entry of `config` that signed `req`, or a reason why none did. */
export function checkRequestSignature(
  req: SignedRequest,
  config: TenantPolicyConfig,
): { initiator: ActorKey } | { refused: string } {
  const who = req.statement.initiator;
  if (!req.signature || !req.initiatorKey)
    return { refused: `the request is not signed by an initiator key` };
  const listed = config.initiators.find((k) => k.id === who);
  if (!listed) return { refused: `${who} is not an initiator of tenant ${req.statement.tenant}` };
  if (listed.publicKey !== req.initiatorKey)
    return { refused: `the request is signed with a key that is not ${who}'s registered key` };
  if (!verifyDigest(listed.publicKey, requestDigest(req.statement), req.signature))
    return { refused: `the request's signature by ${who} does not verify` };
  return { initiator: listed };
}

// ---------------------------------------------------------------------------------------------
// Approvals

export type Verdict = 'approve' | 'reject';

/** What an approver signs: one verdict on one request under one rule set version. */
export interface ApprovalStatement {
  tenant: string;
  requestId: string;
  requestDigest: string;
  rulesVersion: number;
  publicationDigest: string;
  verdict: Verdict;
  approver: string;
  /** The role this approval counts for; one of the approver's registered roles. */
  role: string;
  at: string;
}

export interface SignedApproval {
  statement: ApprovalStatement;
  signature: string;
}

export const approvalDigest = (s: ApprovalStatement): string => digestOf('conclave/approval/1', s);

export function signApproval(key: ActorSecret, statement: ApprovalStatement): SignedApproval {
  if (statement.approver !== key.id)
    throw new ConclaveError('BAD_INPUT', `the key file is ${key.id}'s, not ${statement.approver}'s`);
  return { statement, signature: signDigest(key.secretKey, approvalDigest(statement)) };
}

/** What an approval must be about, and who may give it. */
export interface ApprovalContext {
  tenant: string;
  requestId: string;
  requestDigest: string;
  rulesVersion: number;
  publicationDigest: string;
  /** The request's initiator: never an approver of its own request. */
  initiator: string;
  initiatorKey?: string;
  /** Who may give a verdict: the registered approvers and the roles each holds. */
  approvers: readonly ActorKey[];
  required: Approvals;
  /** Approvals already accepted. */
  accepted: readonly SignedApproval[];
}

/** Why an approval is refused, or undefined when it counts. */
export function checkApproval(a: SignedApproval, c: ApprovalContext): string | undefined {
  const s = a?.statement;
  if (!s || typeof a.signature !== 'string' || typeof s.approver !== 'string')
    return 'an approval needs a statement and a signature';
  if (s.verdict !== 'approve' && s.verdict !== 'reject')
    return `unknown verdict ${JSON.stringify(s.verdict)}`;
  const approver = c.approvers.find((k) => k.id === s.approver);
  if (!approver) return `${s.approver} is not a registered approver of tenant ${c.tenant}`;
  if (!verifyDigest(approver.publicKey, approvalDigest(s), a.signature))
    return `the signature of ${s.approver}'s approval does not verify with their registered key`;
  if (s.tenant !== c.tenant || s.requestId !== c.requestId) return 'the approval is for another request';
  if (s.requestDigest !== c.requestDigest) return 'the approval is for another transaction';
  if (s.rulesVersion !== c.rulesVersion || s.publicationDigest !== c.publicationDigest)
    return `the approval is for rules v${s.rulesVersion}, the request was judged under v${c.rulesVersion}`;
  if (s.approver === c.initiator || approver.publicKey === c.initiatorKey)
    return `${s.approver} initiated this request and cannot approve it`;
  if (!(approver.roles ?? []).includes(s.role)) return `${s.approver} may not approve as ${s.role}`;
  if (s.verdict === 'approve' && !Object.hasOwn(c.required, s.role))
    return `no approval from role ${s.role} is required (required: ${describeApprovals(c.required)})`;
  if (c.accepted.some((x) => x.statement.approver === s.approver))
    return `${s.approver} has already given a verdict on this request`;
  return undefined;
}

// ---------------------------------------------------------------------------------------------
// Cancellation

/** What an initiator signs to withdraw its own request while the request waits for approvals. */
export interface CancellationStatement {
  tenant: string;
  requestId: string;
  requestDigest: string;
  initiator: string;
  at: string;
}

export interface SignedCancellation {
  statement: CancellationStatement;
  /** Absent for a request its initiator did not sign (a tenant that lists no initiators). */
  signature?: string;
}

export const cancellationDigest = (s: CancellationStatement): string => digestOf('conclave/cancel/1', s);

export function signCancellation(key: ActorSecret, statement: CancellationStatement): SignedCancellation {
  if (statement.initiator !== key.id)
    throw new ConclaveError('BAD_INPUT', `the key file is ${key.id}'s, not ${statement.initiator}'s`);
  return { statement, signature: signDigest(key.secretKey, cancellationDigest(statement)) };
}

/**
 * Why a cancellation of `req` is refused, or undefined when it stands. Only the request's own
 * initiator may cancel: with the key that signed the request, or, for a request nobody signed
 * (a tenant that lists no initiators), as the actor that made it, which is all such a tenant
 * knows of anyone.
 */
export function checkCancellation(
  c: SignedCancellation,
  req: SignedRequest,
  context: { tenant: string; requestId: string },
): string | undefined {
  const s = c?.statement;
  if (!s || typeof s.initiator !== 'string') return 'a cancellation needs a statement';
  const r = req.statement;
  if (s.tenant !== context.tenant || s.requestId !== context.requestId)
    return 'the cancellation is for another request';
  if (s.requestDigest !== requestDigest(r)) return 'the cancellation is for another transaction';
  if (s.initiator !== r.initiator) return `only ${r.initiator}, who initiated the request, may cancel it`;
  if (!req.initiatorKey) return undefined;
  if (typeof c.signature !== 'string' || !verifyDigest(req.initiatorKey, cancellationDigest(s), c.signature))
    return `the cancellation is not signed with the key ${r.initiator} signed the request with`;
  return undefined;
}
