/**
 * `conclave` — the command line. Every command prints one line per fact (or one JSON object
 * with --json); every failure is one line on stderr and a non-zero exit, never a stack trace.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { parseArgs } from 'node:util';
import type { SignResult } from '../ceremony/sign/contracts.js';
import type { TransactionDescription } from '../policy/types.js';
import { toHex } from '../crypto/encoding.js';
import { curveNamed, getScheme } from '../crypto/schemes.js';
import {
  eip1559TransactionHash,
  eip191MessageHash,
  serializeSignedEip1559,
  type Eip1559Transaction,
} from '../crypto/ethereum.js';
import {
  auditExportFormat,
  ConclaveClient,
  bareRequestId,
  defaultTenant,
  loadActorKey,
  type AuditExport,
  type RuleSetVersion,
  type SignBatchOptions,
  type SignOptions,
  type TransactionState,
  type WebhookCredentials,
  type WebhookDeliveryView,
  type WebhookSubscriptionView,
} from '../client/index.js';
import { verifyAuditChain } from '../audit/chain.js';
import { ConclaveError, culprit } from '../errors.js';
import { generateRecoveryKey } from '../crypto/backup.js';
import {
  checkTransactionDescription,
  evaluatePolicy,
  generateActorKey,
  parseTenantPolicyConfig,
  validateRuleSet,
  type Transaction,
} from '../policy/index.js';
import { pinPeerKeys, restoreShareBackup, showPartyKeys, trustPublishers } from '../party/admin.js';
import { assertActorId } from '../policy/tenant-config.js';
import { checkTenantPolicyConfigJson, type RuleSetError } from '../policy/validate.js';
import { ensureBinary } from '../stack/binaries.js';
import {
  devDown,
  devPartyKek,
  devStatus,
  devUp,
  downSummary,
  existingDevRecoveryKey,
  lastRecoveryKeyMade,
  noteRecoveryKeyMade,
  restartDevWorker,
} from '../stack/dev.js';
import { loadConfig, partyKekEnvName, readStackState, type Env } from '../config.js';
import { Connection } from '@temporalio/client';
import { pendingSteps, waitedOn } from '../stack/ceremony-progress.js';
import { closeAllDbs } from '../store/mongo.js';
import type { GovernancePolicy } from '../policy/governance.js';

const usage = `usage:
  conclave dev tools                   build the local Temporal and FerretDB binaries if missing (Go)
  conclave dev up [--parties N]        start Temporal, FerretDB, N party workers (default 5) and the coordinator
  conclave dev down                    stop them
  conclave dev status                  show what runs; exits 1 if anything is down (or no stack runs)
  conclave dev restart P|coordinator   start a party's (or the coordinator's) worker again, stopping it first
                 if it runs; waits until it polls its queue (after backup restore, or a crash)
  conclave keygen --curve ed25519|secp256k1 [--scheme S] --threshold T --parties N [--party-ids a,b,c]
                 [--wallet ID] [--tenant ID]    schemes: frost-ed25519, frost-secp256k1, frost-taproot,
                 dkls23-secp256k1 (threshold ECDSA: Ethereum, legacy Bitcoin)
  conclave sign --wallet ID --message HEX [--path m/0/7] [--merkle-root HEX] [--signers a,b]
                [--tx TX.json] [--request-id ID] [--tenant ID]
                 threshold ECDSA wallets sign a 32-byte hash: --message HASH, or --eip191 TEXT (prints
                 the 65-byte signature) or --eip1559 ETHTX.json (prints the raw signed transaction)
                 --tx describes the payment (chain, asset, amount, destination) for the tenant's rules
  conclave sign --wallet ID --batch ITEMS.json [--signers a,b] [--tx TX.json] [--request-id ID] [--tenant ID]
                 up to 256 messages in one ceremony, under one decision and one set of approvals
                 (FROST wallets); ITEMS.json: [{"message": HEX, "path": "m/0/1", "merkleRoot": HEX}, …]
  conclave pool fill --wallet ID [--target N] [--signers a,b] [--tenant ID]
                 FROST: preprocess nonces for a signer set (the first threshold parties by default) so
                 requests sign in one round; signing tops the pool up to N (32) once it is half empty
  conclave address --wallet ID [--path m/0/7] [--network N] [--merkle-root HEX] [--tenant ID]
                 networks: mainnet, testnet, signet, regtest (Taproot); mainnet-beta, devnet, testnet (Solana);
                 dkls23-secp256k1 wallets: an EIP-55 Ethereum address; with a Bitcoin network,
                 the legacy P2PKH and the P2WPKH addresses of the same key
  conclave pairing --wallet ID [--tenant ID]
                 threshold ECDSA: fresh OT setups and zero-share seeds between every two parties
                 (after a signature aborted on a failed OT check; the key and shares stay)
  conclave rotate --wallet ID [--request-id ID] [--tenant ID]
                 new shares of the same key; old shares are destroyed
  conclave rotate --wallet ID --every 30d | --unschedule
                 rotate on a Temporal schedule, or stop doing so
  conclave reshare --wallet ID [--threshold T] [--parties N | --party-ids a,b,c] [--dealers a,b]
                 [--request-id ID] [--tenant ID]
  conclave recover --wallet ID --party P [--helpers a,b] [--request-id ID] [--tenant ID]
                 rebuild P's lost share from the threshold of helpers; P then proves it signs
  conclave sign ... --detach           start the request and print its id without waiting (escalations);
                 without it, an escalated request says at once why, what it needs, its id and
                 expiry, then waits, printing each verdict
  conclave tx show TX [--tenant ID]    a request: state, the rules version that judged it and why,
                 approvals, expiry
  conclave tx list [--state S] [--wallet ID] [--tenant ID]
                 the tenant's open requests (awaiting-approval, signing, running), newest first
  conclave tx cancel TX [--key FILE] [--tenant ID]
                 withdraw your own sign request while it waits for approvals (the key that signed it)
  conclave approve TX --as ID [--role R] [--key FILE] [--tenant ID]
                 approve an escalated request with ID's key (CONCLAVE_KEY by default)
  conclave reject TX --as ID [--role R] [--key FILE] [--tenant ID]
                 reject it: one rejection ends the request
  conclave keys new --id ID --out FILE an actor key (initiator, approver, publisher); prints its public key
  conclave party show --party P        P's public keys (run by P's operator, on P's database)
  conclave party trust --party P --tenant T [--publisher ID=PUBLIC_KEY ...]
                 [--governance-publisher ID=PUBLIC_KEY ...]
                 P's operator names who may publish T's rules: P then checks every request, rule
                 set and approval itself before signing for T; and who may publish T's governance:
                 P then rotates, reshares and recovers T's wallets only on approved statements
  conclave party pin --party P --peer Q --identity HEX --transport HEX
                 P's operator pins Q's new keys after Q was rebuilt (needed before a recovery)
  conclave share validate --wallet ID [--tenant ID]
                 each party checks its share; a threshold makes a dry-run signature (verified, discarded)
  conclave backup keygen --out FILE    make an operator recovery key pair (give parties its public key)
  conclave backup export --wallet ID --out DIR [--tenant ID]
                 each party's share, encrypted to the recovery key it was set up with, a file per party
  conclave backup restore --party P --file F --recovery-key FILE
                 P's operator brings P's backup back into P's wiped database; then (re)start P's worker
                 (dev stack: conclave dev restart P)
  conclave governance publish FILE [--tenant ID]
                 publish who may authorise rotate, reshare, recover, backup-export and pairing,
                 with what quorum per role, and its time lock
                 (signed with CONCLAVE_KEY, the governance publisher's key); see docs/examples/governance.json
  conclave governance history [--tenant ID]   every published governance version
  conclave governance rollback --to N [--tenant ID]   publish version N again, re-signed
                 under a governance policy, rotate/reshare/recover/backup export/pairing print their
                 request id when they wait for approvals given with conclave approve <id>
  conclave rules validate FILE [--config CONFIG.json]
                 check a rule set (JSON, facts, operators, events) and a tenant policy config;
                 FILE:line:col per error (docs/tenant-config.md)
  conclave rules test FILE --tx TX.json [--config CONFIG.json] [--wallet ID] [--as INITIATOR] [--at TIME]
                 the decision and why, for one transaction; nothing is stored. TX.json is the
                 description sign --tx takes (docs/transactions.md); wallet, initiator and time
                 come from the flags or the file (now by default)
  conclave rules publish FILE [--config CONFIG.json] [--tenant ID]
                 publish a rule set (and the tenant's lists, calendar, prices) as the next version
  conclave rules backtest FILE [--since DATE] [--config CONFIG.json] [--tenant ID]
                 replay recorded sign requests against a draft: the decisions that would change
  conclave rules history [--tenant ID]        every published version: who, when, what changed
  conclave rules rollback --to N [--tenant ID]
                 publish version N again as the next version
  conclave audit --wallet ID [--tenant ID]     every ceremony on a wallet: when, what, who asked, outcome
  conclave audit verify [--tenant ID | --file F] [--coordinator-key HEX]
                 re-compute the tenant's hash-chained log, check its signed checkpoints, name the first broken entry
  conclave audit export --out FILE [--tenant ID]   the whole chain, verifiable offline with audit verify --file
  conclave wallet --wallet ID [--tenant ID]
  conclave webhooks create --url URL --events TYPE,TYPE|'*' [--id ID] [--signing hmac|ed25519] [--tenant ID]
                 subscribe an endpoint; prints its secret (whsec_) or, with ed25519, the whpk_ key to verify with
  conclave webhooks list [--tenant ID]          subscriptions, their status and when their secrets expire
  conclave webhooks rotate --id ID [--grace SECONDS] [--signing hmac|ed25519] [--tenant ID]
                 a new secret; the old one keeps signing for the grace (default 86400)
  conclave webhooks disable|enable --id ID [--tenant ID]
  conclave webhooks deliveries [--id ID] [--event EVT] [--status pending|delivered|dead|disabled] [--tenant ID]
                 the delivery log: every attempt's status, latency and response
  conclave webhooks replay --event EVT | --since DATE [--until DATE]  [--id ID] [--tenant ID]
                 deliver one event, or every event in a time range, again
options: --json prints one JSON object`;

const options = {
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
  curve: { type: 'string' },
  scheme: { type: 'string' },
  path: { type: 'string' },
  'merkle-root': { type: 'string' },
  batch: { type: 'string' },
  target: { type: 'string' },
  eip191: { type: 'string' },
  eip1559: { type: 'string' },
  network: { type: 'string' },
  threshold: { type: 'string' },
  parties: { type: 'string' },
  'party-ids': { type: 'string' },
  wallet: { type: 'string' },
  tenant: { type: 'string' },
  message: { type: 'string' },
  signers: { type: 'string' },
  'request-id': { type: 'string' },
  dealers: { type: 'string' },
  every: { type: 'string' },
  party: { type: 'string' },
  tx: { type: 'string' },
  config: { type: 'string' },
  to: { type: 'string' },
  since: { type: 'string' },
  out: { type: 'string' },
  file: { type: 'string' },
  'recovery-key': { type: 'string' },
  peer: { type: 'string' },
  helpers: { type: 'string' },
  identity: { type: 'string' },
  transport: { type: 'string' },
  unschedule: { type: 'boolean' },
  as: { type: 'string' },
  role: { type: 'string' },
  key: { type: 'string' },
  id: { type: 'string' },
  publisher: { type: 'string', multiple: true },
  'governance-publisher': { type: 'string', multiple: true },
  detach: { type: 'boolean' },
  'coordinator-key': { type: 'string' },
  url: { type: 'string' },
  events: { type: 'string' },
  signing: { type: 'string' },
  grace: { type: 'string' },
  event: { type: 'string' },
  status: { type: 'string' },
  until: { type: 'string' },
  state: { type: 'string' },
  at: { type: 'string' },
} as const;

class UsageError extends Error {}

function readJsonFile(path: string, what: string): unknown {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    throw new ConclaveError('BAD_INPUT', `cannot read ${what} file ${path}`);
  }
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new ConclaveError('BAD_INPUT', `${what} file ${path} is not JSON`);
  }
}

/** A tenant policy config file checked like a rule set: every problem as FILE:line:col. */
function readPolicyConfig(
  path: string,
): { ok: true; value: unknown } | { ok: false; errors: RuleSetError[] } {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    throw new ConclaveError('BAD_INPUT', `cannot read policy config file ${path}`);
  }
  const checked = checkTenantPolicyConfigJson(text);
  return checked.ok ? { ok: true, value: checked.value } : checked;
}

const errorLines = (file: string, errors: readonly RuleSetError[]) =>
  errors.map((e) => `${file}:${e.line}:${e.column}: ${e.message}`);

/**
 * A policy config file for a command that sends it (publish, backtest): its value, or, when it
 * has problems, every one printed as FILE:line:col, exit code 1 and undefined (nothing is sent).
 */
function policyConfigOrReport(path: string, json: boolean): { value: unknown } | undefined {
  const cfg = readPolicyConfig(path);
  if (cfg.ok) return { value: cfg.value };
  print(json, { status: 'invalid', config: path, configErrors: cfg.errors }, errorLines(path, cfg.errors));
  process.exitCode = 1;
  return undefined;
}

/** A party's own environment; in the dev stack its KEK comes from the stack's key folder. */
function partyAdminEnv(partyId: string): Env {
  const env: Env = { ...process.env };
  const name = partyKekEnvName(partyId);
  if (!env[name] && readStackState(env)) env[name] = devPartyKek(env, partyId);
  return env;
}

/** A rule set version's config changes, as ` config ~[approvers, initiators]` ('' when none). */
const configChanges = (r: RuleSetVersion) =>
  r.config?.changed.length ? `  config ~[${r.config.changed.join(', ')}]` : '';

/** Who signed a rule set version: `signed by ID (KEY…)`, or `UNSIGNED`. */
const signedBy = (r: RuleSetVersion) =>
  r.signer ? `signed by ${r.signer.id} (${r.signer.publicKey.slice(0, 16)}…)` : 'UNSIGNED';

/** What `conclave sign` asks for, from its options. */
/**
 * The transaction `rules test --tx` judges: the description (the format `sign --tx` takes), with
 * what a request adds: tenant (--tenant), wallet (--wallet), initiator (--as) and time (--at, now
 * by default), each of which the file may name instead. A wallet or initiator named nowhere is
 * `example-wallet` / `example-initiator`, and the output says so.
 */
function testedTransaction(v: Record<string, string | boolean | string[] | undefined>): Transaction {
  const text = (k: string) => v[k] as string | undefined;
  const { description, named } = checkTransactionDescription(
    readJsonFile(required('tx', text('tx')), 'transaction'),
    {
      ...(text('tenant') !== undefined ? { tenant: text('tenant') } : {}),
      ...(text('wallet') !== undefined ? { walletId: text('wallet') } : {}),
      ...(text('as') !== undefined ? { initiator: text('as') } : {}),
    },
  );
  const at = text('at') ?? named.at ?? new Date().toISOString();
  if (text('at') !== undefined && named.at !== undefined && text('at') !== named.at)
    throw new ConclaveError(
      'BAD_INPUT',
      `transaction description: it names at ${named.at}, but --at is ${text('at')}`,
    );
  return {
    ...description,
    tenant: text('tenant') ?? named.tenant ?? defaultTenant,
    walletId: text('wallet') ?? named.walletId ?? 'example-wallet',
    initiator: text('as') ?? named.initiator ?? 'example-initiator',
    at,
  };
}

function signOptions(v: Record<string, string | boolean | string[] | undefined>): SignOptions {
  const text = (k: string) => v[k] as string | undefined;
  return {
    walletId: required('wallet', text('wallet')),
    message: messageOf(v),
    tenant: text('tenant'),
    signers: list(text('signers')),
    requestId: text('request-id'),
    path: text('path'),
    merkleRoot: text('merkle-root'),
    ...(v.tx ? { tx: readJsonFile(text('tx')!, 'transaction') as TransactionDescription } : {}),
  };
}

/** What `conclave sign --batch FILE` asks for: the file's items, and the options a batch shares. */
function batchOptions(v: Record<string, string | boolean | string[] | undefined>): SignBatchOptions {
  const text = (k: string) => v[k] as string | undefined;
  const refused = ['message', 'eip191', 'eip1559', 'path', 'merkle-root'].filter((k) => v[k] !== undefined);
  if (refused.length)
    throw new UsageError(`--batch names each item's message and path; drop --${refused.join(', --')}`);
  const items = readJsonFile(required('batch', text('batch')), 'batch');
  if (!Array.isArray(items))
    throw new ConclaveError('BAD_INPUT', `batch file ${text('batch')} must hold a JSON array of items`);
  return {
    walletId: required('wallet', text('wallet')),
    items: items as SignBatchOptions['items'],
    tenant: text('tenant'),
    signers: list(text('signers')),
    requestId: text('request-id'),
    ...(v.tx ? { tx: readJsonFile(text('tx')!, 'transaction') as TransactionDescription } : {}),
  };
}

/**
 * What `conclave sign` signs: --message HEX as given, or (threshold ECDSA wallets) the EIP-191
 * hash of a text with --eip191, or the EIP-1559 signing hash of a transaction file with --eip1559.
 */
function messageOf(v: Record<string, string | boolean | string[] | undefined>): string {
  const given = (['message', 'eip191', 'eip1559'] as const).filter((k) => v[k] !== undefined);
  if (given.length !== 1) throw new UsageError('give exactly one of --message, --eip191 or --eip1559');
  if (v.eip191 !== undefined) return toHex(eip191MessageHash(String(v.eip191)));
  if (v.eip1559 !== undefined) return toHex(eip1559TransactionHash(eip1559Tx(v)));
  return required('message', v.message as string | undefined);
}

const eip1559Tx = (v: Record<string, string | boolean | string[] | undefined>) =>
  readJsonFile(String(v.eip1559), 'EIP-1559 transaction') as Eip1559Transaction;

/** Ethereum forms of an ECDSA signature: 65-byte r||s||v for EIP-191, the raw signed EIP-1559 transaction. */
function ethereumLines(
  v: Record<string, string | boolean | string[] | undefined>,
  r: SignResult,
): { fields: Record<string, string>; lines: string[] } {
  if (!r.ecdsa) return { fields: {}, lines: [] };
  const sig = { r: r.signature.slice(0, 64), s: r.signature.slice(64), recovery: r.ecdsa.recoveryId };
  const fields: Record<string, string> = { address: r.ecdsa.address, recoveryId: String(r.ecdsa.recoveryId) };
  if (v.eip191 !== undefined) {
    fields.eip191Signature = `0x${r.signature}${(27 + r.ecdsa.recoveryId).toString(16)}`;
  }
  if (v.eip1559 !== undefined) {
    fields.rawTransaction = serializeSignedEip1559(eip1559Tx(v), sig, { from: r.ecdsa.address });
  }
  const lines = [
    `address    ${fields.address} (recovery id ${fields.recoveryId})`,
    ...(fields.eip191Signature ? [`eip191     ${fields.eip191Signature}`] : []),
    ...(fields.rawTransaction ? [`raw tx     ${fields.rawTransaction}`] : []),
  ];
  return { fields, lines };
}

function intOption(name: string, value: string | undefined): number {
  if (value === undefined) throw new UsageError(`--${name} is required`);
  if (!/^\d+$/.test(value))
    throw new ConclaveError('BAD_INPUT', `--${name} must be a whole number, got "${value}"`);
  return Number(value);
}

function required(name: string, value: string | undefined): string {
  if (value === undefined || value === '') throw new UsageError(`--${name} is required`);
  return value;
}

const usageError = (why: string): never => {
  throw new UsageError(why);
};

const requestStates = [
  'judging',
  'awaiting-approval',
  'signing',
  'running',
] as const satisfies readonly TransactionState['state'][];

/** An open request's state as `--state` names it. */
function requestState(given: string): TransactionState['state'] {
  if (!(requestStates as readonly string[]).includes(given))
    throw new UsageError(`--state takes one of ${requestStates.join(', ')} (open requests only)`);
  return given as TransactionState['state'];
}

/** What each role still lacks: `1 risk (alice, carol), 2 treasury`. */
function stillNeeded(t: TransactionState): string {
  return Object.entries(t.decision?.approvals ?? {})
    .map(([role, n]) => {
      const left = n - t.approvals.filter((a) => a.verdict === 'approve' && a.role === role).length;
      const who = (t.approvers ?? []).filter((a) => a.roles.includes(role)).map((a) => a.id);
      return left > 0 ? `${left} ${role}${who.length ? ` (${who.join(', ')})` : ''}` : '';
    })
    .filter(Boolean)
    .join(', ');
}

/** One open request in a line: id, state, wallet, what it is, what it still needs. */
function requestLine(t: TransactionState): string {
  const s = t.request?.statement;
  const what = t.keyChange
    ? `${t.keyChange.action} v${t.keyChange.fromVersion} -> v${t.keyChange.toVersion}`
    : s
      ? `pays ${s.tx.amount} ${s.tx.asset} to ${s.tx.destination}`
      : 'sign';
  const by =
    t.rulesVersion !== undefined ? ` under ${t.keyChange ? 'governance' : 'rules'} v${t.rulesVersion}` : '';
  const waits =
    t.state === 'awaiting-approval' ? `, needs ${stillNeeded(t) || 'nothing more'} until ${t.expiresAt}` : '';
  return `${t.requestId}  ${t.state}  wallet ${t.walletId}: ${what}${by}${waits}`;
}

/**
 * What `conclave sign` says on stderr while an escalated request waits: at once that it
 * escalated, under which rules version and why, what it needs per role, its id and expiry; then
 * each verdict as it lands; then that it moves on. Nothing for a request allowed at once.
 */
function escalationNotice(tenant: string | undefined): (t: TransactionState) => void {
  let seen = 0;
  let announced = false;
  const t_ = tenant ? ` --tenant ${tenant}` : '';
  return (t) => {
    if (!announced && t.state === 'awaiting-approval') {
      announced = true;
      const why = (t.decision?.fired ?? [])
        .filter((f) => f.action === 'escalate')
        .map((f) => `${f.rule}: ${f.reason}`)
        .join('; ');
      console.error(`request ${t.requestId} escalated by rules v${t.rulesVersion}${why ? `: ${why}` : ''}`);
      console.error(`needs ${stillNeeded(t)} before ${t.expiresAt}`);
      console.error(
        `approvers: conclave approve ${t.requestId} --as ID${t_}; see it: conclave tx show ${t.requestId}${t_}`,
      );
      console.error('waiting for approvals (Ctrl-C stops waiting here; the request stays open)');
    }
    for (const a of t.approvals.slice(seen))
      console.error(
        `${a.approver} ${a.verdict === 'approve' ? 'approved' : 'rejected'} as ${a.role}` +
          (t.state === 'awaiting-approval' ? `; still needs ${stillNeeded(t) || 'nothing'}` : ''),
      );
    seen = Math.max(seen, t.approvals.length);
    if (t.state !== 'awaiting-approval') console.error(`request ${t.requestId} is ${t.state}`);
  };
}

/** A governance policy in a few lines: per action, who must approve. */
const governanceLines = (p: GovernancePolicy): string[] => [
  ...Object.entries(p.actions).map(
    ([action, need]) =>
      `${action.padEnd(10)} ${
        Object.entries(need ?? {})
          .map(([role, n]) => `${n} ${role}`)
          .join(', ') || 'no approvals'
      }`,
  ),
  `approvers  ${p.approvers.map((a) => `${a.id} (${(a.roles ?? []).join(', ')})`).join('; ') || 'none'}`,
];

const list = (v: string | undefined) =>
  v
    ? v
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean)
    : undefined;

type Values = ReturnType<typeof parse>['values'];
function parse(argv: string[]) {
  return parseArgs({ args: argv, options, allowPositionals: true, strict: true });
}

function transactionLines(t: TransactionState): string[] {
  const s = t.request?.statement;
  const k = t.keyChange;
  const roster = (r: { partyId: string; identityPublic: string }[]) =>
    r.map((p) => `${p.partyId} (${p.identityPublic.slice(0, 16)}…)`).join(', ');
  return [
    `request    ${t.requestId}`,
    `state      ${t.state}${t.expiresAt && t.state === 'awaiting-approval' ? ` (expires ${t.expiresAt})` : ''}`,
    ...(k
      ? [
          `change     ${k.action} of wallet ${k.walletId} (${k.tenant}) v${k.fromVersion} -> v${k.toVersion}, asked by ${k.requestedBy} at ${k.createdAt}`,
          `from       ${k.oldThreshold}-of-${k.oldRoster.length}: ${roster(k.oldRoster)}`,
          `to         ${k.threshold}-of-${k.roster.length}: ${roster(k.roster)}`,
          ...(k.lost ? [`rebuilds   ${k.lost}'s share`] : []),
          `key        ${k.publicKey} (unchanged)`,
        ]
      : []),
    ...(s
      ? [
          `wallet     ${s.walletId} (${s.tenant}), initiated by ${s.initiator} at ${s.createdAt}${t.request?.signature ? ' (signed)' : ''}`,
          `pays       ${s.tx.amount} ${s.tx.asset} on ${s.tx.chain} to ${s.tx.destination}${s.tx.memo ? ` (memo ${s.tx.memo})` : ''}`,
          `message    ${s.message} (path ${s.path})`,
        ]
      : []),
    ...(t.decision
      ? [
          `decision   ${t.decision.outcome} under ${k ? 'governance' : 'rules'} v${t.rulesVersion}${
            t.decision.outcome === 'escalate'
              ? `, needs ${Object.entries(t.decision.approvals)
                  .map(([r, n]) => `${n} ${r}`)
                  .join(', ')}`
              : ''
          }`,
          ...t.decision.fired.map((f) => `  ${f.action.padEnd(8)} ${f.rule}: ${f.reason}`),
        ]
      : []),
    ...t.approvals.map((a) => `${a.verdict.padEnd(10)} ${a.approver} as ${a.role} at ${a.at}`),
    ...(t.signature ? [`signature  ${t.signature}`] : []),
    ...(t.failure ? [`failure    ${t.failure}`] : []),
  ];
}

/**
 * Which recovery keys backups were encrypted to (each party's worker is set up with its own), what
 * each is, and a warning when one is not the key `conclave backup keygen` made last.
 */
function recoveryKeysOf(backups: Array<{ party: string; recoveryPublic: string }>): {
  used: Array<{ publicKey: string; parties: string[]; source: string; file?: string }>;
  warning?: string;
} {
  const env = process.env;
  const dev = existingDevRecoveryKey(env);
  const last = lastRecoveryKeyMade(env);
  const byKey = new Map<string, string[]>();
  for (const b of backups) byKey.set(b.recoveryPublic, [...(byKey.get(b.recoveryPublic) ?? []), b.party]);
  const sourceOf = (publicKey: string) =>
    publicKey === last?.publicKey
      ? { source: 'made last by `conclave backup keygen`', file: last.file }
      : publicKey === dev?.publicKey
        ? { source: "the dev stack's own key", file: dev.file }
        : { source: "the parties' CONCLAVE_RECOVERY_PUBLIC_KEY" };
  const used = [...byKey].map(([publicKey, parties]) => ({ publicKey, parties, ...sourceOf(publicKey) }));
  const other = used.filter((k) => last && k.publicKey !== last.publicKey);
  if (!last || !other.length) return { used };
  const parties = other.flatMap((k) => k.parties);
  const one = parties.length === 1;
  const K = last.publicKey;
  return {
    used,
    warning:
      `${one ? `${parties[0]}'s backup is` : `the backups of ${parties.join(', ')} are`} encrypted to ` +
      `${other.map((k) => `${k.publicKey} (${k.source})`).join(', ')}, not to ${K}, the recovery key ` +
      `\`conclave backup keygen\` made last (${last.file}), which cannot open ${one ? 'it' : 'them'}; ` +
      `to back up to ${K}, run ${one ? `${parties[0]}'s worker` : 'their workers'} with CONCLAVE_RECOVERY_PUBLIC_KEY=${K}` +
      (readStackState(env)
        ? ` (dev stack: ${parties.map((p) => `CONCLAVE_RECOVERY_PUBLIC_KEY=${K} conclave dev restart ${p}`).join('; ')})`
        : '') +
      ' and export again',
  };
}

/**
 * Runs a key-management request; if the tenant's governance makes it wait for approvals, says so
 * on stderr once, with its request id and what it needs (`conclave approve <id>` gives them).
 */
async function watchApprovals<T>(
  c: ConclaveClient,
  kind: 'reshare' | 'recover' | 'backup' | 'pairing',
  walletId: string,
  v: { tenant?: string; 'request-id'?: string },
  start: (requestId: string) => Promise<T>,
  rejoin?: string,
): Promise<T> {
  const tenant = v.tenant ?? defaultTenant;
  // --request-id takes the bare id or the full one printed (`reshare:T:W:ID`)
  const given = v['request-id'];
  const requestId = given === undefined ? randomUUID() : bareRequestId(given, { tenant, kind, walletId });
  const full = `${kind}:${tenant}:${walletId}:${requestId}`;
  let done = false;
  const running = start(requestId).finally(() => (done = true));
  // rotate, reshare and recover say their request id and whom they wait on while they run
  const progress = rejoin
    ? watchProgress(full, `${rejoin} --request-id ${requestId}`, v.tenant, () => done)
    : undefined;
  const watch = async () => {
    while (!done) {
      await new Promise((r) => setTimeout(r, 500));
      const t = await c.transaction({ requestId: full, tenant: v.tenant }).catch(() => undefined);
      if (t?.state === 'awaiting-approval' && !done) {
        const needs = Object.entries(t.decision?.approvals ?? {})
          .map(([role, n]) => `${n} ${role}`)
          .join(', ');
        console.error(
          `request ${full} waits for approvals (${needs}) until ${t.expiresAt}: conclave approve ${full}`,
        );
        return;
      }
    }
  };
  await Promise.all([running.catch(() => undefined), watch(), progress]);
  return running;
}

/**
 * While a ceremony runs: its request id on stderr (at once on a terminal, else once it has run
 * for 3 s), and then the parties it has waited on for 5 s or more, each time that set changes
 * (and every 30 s while it stays). Best effort: a Temporal that does not answer just stays quiet.
 */
async function watchProgress(
  workflowId: string,
  rejoin: string,
  tenant: string | undefined,
  done: () => boolean,
): Promise<void> {
  const idle = async (ms: number) => {
    for (const until = Date.now() + ms; !done() && Date.now() < until;)
      await new Promise((r) => setTimeout(r, Math.min(250, until - Date.now())));
    return !done();
  };
  const t = tenant ? ` --tenant ${tenant}` : '';
  if (!(await idle(process.stderr.isTTY ? 0 : 3_000))) return;
  console.error(
    `request ${workflowId} is running: rejoin it with \`${rejoin}${t}\`, see it with \`conclave tx show ${workflowId}${t}\``,
  );
  const dev = Boolean(readStackState(process.env));
  let connection: Connection | undefined;
  let shown = '';
  let shownAt = 0;
  try {
    const { temporal } = loadConfig(process.env);
    while (await idle(2_000)) {
      connection ??= await Connection.connect({ address: temporal.address, connectTimeout: '2 seconds' });
      const steps = await pendingSteps(connection, temporal.namespace, workflowId).catch(() => []);
      const waits = waitedOn(steps, 5_000);
      const parties = waits.map((w) => w.party);
      if (done() || !parties.length) continue;
      if (parties.join() === shown && Date.now() - shownAt < 30_000) continue;
      const idle = waits.filter((w) => !w.taken).map((w) => w.party);
      console.error(
        `waiting on ${waits.map((w) => w.line).join(', ')}` +
          (idle.length
            ? `: is ${idle.length === 1 ? `${idle[0]}'s worker` : `the worker of each of ${idle.join(', ')}`} running?` +
              (dev
                ? ` (\`conclave dev status\`; ${idle.map((p) => `\`conclave dev restart ${p}\``).join(', ')})`
                : '')
            : ''),
      );
      shown = parties.join();
      shownAt = Date.now();
    }
  } catch {
    // progress lines are a courtesy: the ceremony's own outcome is what counts
  } finally {
    await connection?.close().catch(() => undefined);
  }
}

function print(json: boolean, value: Record<string, unknown>, lines: string[]): void {
  console.log(json ? JSON.stringify(value) : lines.join('\n'));
}

async function withClient<T>(fn: (c: ConclaveClient) => Promise<T>): Promise<T> {
  const client = await ConclaveClient.connect();
  try {
    return await fn(client);
  } finally {
    await client.close();
  }
}

async function run(command: string[], v: Values): Promise<void> {
  const json = Boolean(v.json);
  const [cmd, sub] = command;
  if (cmd === 'dev' && sub === 'up') {
    const state = await devUp({
      parties: v.parties === undefined ? undefined : intOption('parties', v.parties),
      log: json ? undefined : (line) => console.error(line),
    });
    print(
      json,
      {
        status: 'up',
        temporalAddress: state.servers.temporalAddress,
        mongoUri: state.servers.mongoUri,
        parties: state.parties,
        gated: Boolean(state.devKeyFile),
        ...(state.devKeyFile ? { devKeyFile: state.devKeyFile } : {}),
      },
      [
        `temporal  ${state.servers.temporalAddress}`,
        `mongodb   ${state.servers.mongoUri}`,
        `parties   ${state.parties.join(', ')} (+ coordinator)`,
        state.devKeyFile
          ? `gating    tenant default: the dev key ${state.devKeyFile} initiates, approves and publishes (used when CONCLAVE_KEY is unset)`
          : 'gating    off (CONCLAVE_REQUIRE_GATE=0)',
      ],
    );
    return;
  }
  if (cmd === 'dev' && sub === 'tools') {
    const log = json ? undefined : (line: string) => console.error(line);
    const temporal = await ensureBinary('temporal', { log });
    const ferretdb = await ensureBinary('ferretdb', { log });
    print(json, { temporal, ferretdb }, [`temporal  ${temporal}`, `ferretdb  ${ferretdb}`]);
    return;
  }
  if (cmd === 'dev' && sub === 'down') {
    const stopped = await devDown();
    print(json, { status: stopped ? 'down' : 'not-running' }, [
      stopped ? 'stack stopped' : 'stack was not running',
    ]);
    return;
  }
  if (cmd === 'dev' && sub === 'status') {
    const s = devStatus();
    const down = s.processes.filter((p) => !p.alive);
    print(
      json,
      { ...s, down: down.map((p) => p.target ?? p.name) },
      s.processes.length
        ? [
            `running: ${s.running}${down.length ? ` (${down.map((p) => p.name).join(', ')} down)` : ''}`,
            ...s.processes.map(
              (p) => `${p.alive ? 'up  ' : 'DOWN'} ${p.name}${p.pid ? ` (pid ${p.pid})` : ' (external)'}`,
            ),
            ...(down.length ? [downSummary(down)] : []),
          ]
        : ['stack is not running (`conclave dev up` starts it)'],
    );
    // a health check: anything down (or no stack at all) is a failure
    if (!s.running) process.exitCode = 1;
    return;
  }
  if (cmd === 'dev' && sub === 'restart') {
    const target = command[2];
    if (!target) throw new UsageError('conclave dev restart needs a party id (p1, p2, ...) or coordinator');
    const r = await restartDevWorker(process.env, target, {
      log: json ? undefined : (line) => console.error(line),
    });
    print(
      json,
      {
        status: 'restarted',
        target,
        name: r.worker.name,
        pid: r.worker.pid,
        wasRunning: r.wasRunning,
        logFile: r.worker.logFile,
      },
      [
        `${r.worker.name} ${r.wasRunning ? 'restarted' : 'is up again'} (pid ${r.worker.pid}): polling ${r.worker.taskQueue} after ${(r.ms / 1000).toFixed(1)}s`,
      ],
    );
    return;
  }
  if (cmd === 'keygen') {
    const threshold = intOption('threshold', v.threshold);
    const partyIds = list(v['party-ids']);
    const parties = partyIds ?? intOption('parties', v.parties);
    const r = await withClient((c) =>
      c.createWallet({
        curve: v.curve === undefined ? undefined : curveNamed(v.curve),
        scheme: v.scheme === undefined ? undefined : getScheme(v.scheme).name,
        threshold,
        parties,
        tenant: v.tenant,
        walletId: v.wallet,
      }),
    );
    print(
      json,
      {
        walletId: r.walletId,
        keyId: r.keyId,
        curve: r.curve,
        scheme: r.scheme,
        publicKey: r.publicKey,
        threshold: r.threshold,
        parties: r.parties,
      },
      [
        `wallet     ${r.walletId}`,
        `key id     ${r.keyId}`,
        `scheme     ${r.scheme} (${r.threshold}-of-${r.parties.length}: ${r.parties.join(', ')})`,
        `public key ${r.publicKey}`,
      ],
    );
    return;
  }
  if (cmd === 'sign' && v.detach) {
    const requestId = await withClient((c) => c.startSign(v.batch ? batchOptions(v) : signOptions(v)));
    print(json, { requestId }, [`request ${requestId} started: conclave tx show ${requestId}`]);
    return;
  }
  if (cmd === 'tx' && sub === 'list') {
    const states = v.state === undefined ? undefined : requestState(v.state);
    const open = await withClient((c) =>
      c.listRequests({ tenant: v.tenant, walletId: v.wallet, ...(states ? { state: states } : {}) }),
    );
    print(
      json,
      { requests: open },
      open.length
        ? open.map(requestLine)
        : [
            `no open requests${v.state ? ` in state ${v.state}` : ''} for tenant ${v.tenant ?? defaultTenant}`,
          ],
    );
    return;
  }
  if (cmd === 'tx' && sub === 'cancel') {
    const id = command[2];
    if (!id) throw new UsageError('conclave tx cancel needs a request id');
    const keyPath = v.key ?? process.env.CONCLAVE_KEY;
    const t = await withClient((c) =>
      c.cancel({ requestId: id, tenant: v.tenant, ...(keyPath ? { key: loadActorKey(keyPath) } : {}) }),
    );
    print(json, { ...t }, [`cancelled ${t.requestId}`, ...transactionLines(t)]);
    return;
  }
  if (cmd === 'tx' && sub === 'show') {
    const id = command[2];
    if (!id) throw new UsageError('conclave tx show needs a request id');
    const t = await withClient((c) => c.transaction({ requestId: id, tenant: v.tenant }));
    print(json, { ...t }, transactionLines(t));
    return;
  }
  if (cmd === 'approve' || cmd === 'reject') {
    const id = command[1];
    if (!id) throw new UsageError(`conclave ${cmd} needs a request id`);
    const as = required('as', v.as);
    const keyPath = v.key ?? process.env.CONCLAVE_KEY;
    if (!keyPath) throw new UsageError('--key FILE (or CONCLAVE_KEY) is required');
    const key = loadActorKey(keyPath);
    if (key.id !== as)
      throw new ConclaveError('BAD_INPUT', `the key file ${keyPath} is ${key.id}'s, not ${as}'s`);
    const t = await withClient((c) =>
      c.approve({
        requestId: id,
        verdict: cmd === 'approve' ? 'approve' : 'reject',
        key,
        tenant: v.tenant,
        ...(v.role ? { role: v.role } : {}),
      }),
    );
    print(json, { ...t }, [
      `${as} ${cmd === 'approve' ? 'approved' : 'rejected'} ${id}`,
      ...transactionLines(t),
    ]);
    return;
  }
  if (cmd === 'keys' && sub === 'new') {
    const id = required('id', v.id);
    const out = required('out', v.out);
    const key = generateActorKey(assertActorId('--id', id));
    writeFileSync(out, JSON.stringify(key), { mode: 0o600, flag: 'wx' });
    print(json, { id, file: out, publicKey: key.publicKey }, [
      `key of ${id} written to ${out} (keep it secret)`,
      `public key ${key.publicKey} (list it in the tenant's config as an initiator or approver, or trust it as a publisher)`,
    ]);
    return;
  }
  if (cmd === 'party' && sub === 'trust') {
    const partyId = required('party', v.party);
    const tenant = required('tenant', v.tenant);
    const keys = (flag: string, given: string[] | undefined) =>
      (given ?? []).map((p) => {
        const [id, publicKey] = p.split('=');
        if (!id || !publicKey) throw new UsageError(`--${flag} takes ID=PUBLIC_KEY, got "${p}"`);
        return { id, publicKey };
      });
    const r = await trustPublishers(
      partyId,
      tenant,
      {
        publishers: keys('publisher', v.publisher),
        governancePublishers: keys('governance-publisher', v['governance-publisher']),
      },
      partyAdminEnv(partyId),
    );
    const ids = (l?: { id: string }[]) => (l ?? []).map((p) => p.id).join(', ');
    print(json, { party: partyId, ...r }, [
      ...(r.publishers
        ? [`${partyId} signs for ${tenant} only what rules published by ${ids(r.publishers)} allow`]
        : []),
      ...(r.governancePublishers
        ? [
            `${partyId} changes ${tenant}'s shares only as governance published by ${ids(r.governancePublishers)} allows`,
          ]
        : []),
    ]);
    return;
  }
  if (cmd === 'sign' && v.batch) {
    const r = await withClient((c) =>
      c.signBatch({ ...batchOptions(v), onProgress: escalationNotice(v.tenant) }),
    );
    print(
      json,
      {
        status: r.status,
        walletId: r.walletId,
        batchDigest: r.batchDigest,
        signatures: r.signatures,
        scheme: r.scheme,
        signers: r.signers,
        ...(r.policy ? { policy: r.policy } : {}),
      },
      [
        `signed by  ${r.signers.join(', ')}: ${r.signatures.length} messages (batch ${r.batchDigest})`,
        ...r.signatures.map((x) => `${x.path}  ${x.publicKey}  ${x.signature}`),
      ],
    );
    return;
  }
  if (cmd === 'sign') {
    const r = await withClient((c) => c.sign({ ...signOptions(v), onProgress: escalationNotice(v.tenant) }));
    const eth = ethereumLines(v, r);
    print(
      json,
      {
        status: r.status,
        walletId: r.walletId,
        path: r.path,
        ...(r.merkleRoot === undefined ? {} : { merkleRoot: r.merkleRoot }),
        publicKey: r.publicKey,
        message: r.message,
        signature: r.signature,
        scheme: r.scheme,
        signers: r.signers,
        ...(r.ecdsa ? { ecdsa: r.ecdsa, ...eth.fields } : {}),
        ...(r.policy ? { policy: r.policy } : {}),
      },
      [
        `signed by  ${r.signers.join(', ')}`,
        `path       ${r.path}`,
        `public key ${r.publicKey}`,
        `signature  ${r.signature}`,
        ...eth.lines,
      ],
    );
    return;
  }
  if (cmd === 'pool' && sub === 'fill') {
    const walletId = required('wallet', v.wallet as string | undefined);
    const target = v.target === undefined ? undefined : Number(v.target);
    if (target !== undefined && !Number.isInteger(target))
      throw new UsageError('--target takes a whole number');
    const r = await withClient((c) =>
      c.fillNoncePool({
        walletId,
        tenant: v.tenant as string | undefined,
        signers: list(v.signers as string | undefined),
        ...(target === undefined ? {} : { target }),
      }),
    );
    print(json, { status: 'filled', ...r }, [
      `pool ${r.poolId}: ${r.ready} preprocessed nonces ready (target ${r.target}), signers ${r.signers.join(', ')}`,
    ]);
    return;
  }
  if (cmd === 'pairing') {
    const walletId = required('wallet', v.wallet);
    const r = await withClient((c) =>
      watchApprovals(c, 'pairing', walletId, v, (requestId) =>
        c.pairWallet({ walletId, tenant: v.tenant, requestId }),
      ),
    );
    print(json, { ...r }, [
      `wallet     ${r.walletId} v${r.version}: fresh pair setups between ${r.parties.join(', ')}`,
      `setup      ${r.setupId}`,
    ]);
    return;
  }
  if (cmd === 'address') {
    const k = await withClient((c) =>
      c.deriveKey({
        walletId: required('wallet', v.wallet),
        path: v.path,
        network: v.network,
        merkleRoot: v['merkle-root'],
        tenant: v.tenant,
      }),
    );
    print(json, { ...k }, [
      `path       ${k.path}`,
      `public key ${k.verifyingKey}`,
      ...(k.address
        ? [`address    ${k.address} (${k.network}${k.segwitAddress ? ', P2PKH' : ''})`]
        : ['address    - (no chain uses this scheme)']),
      ...(k.segwitAddress ? [`segwit     ${k.segwitAddress} (${k.network}, P2WPKH)`] : []),
    ]);
    return;
  }
  if (cmd === 'rotate' && (v.every !== undefined || v.unschedule)) {
    const walletId = required('wallet', v.wallet);
    if (v.unschedule) {
      const had = await withClient((c) => c.unscheduleRotation({ walletId, tenant: v.tenant }));
      print(json, { walletId, scheduled: false, removed: had }, [
        had
          ? `wallet ${walletId} no longer rotates on a schedule`
          : `wallet ${walletId} had no rotation schedule`,
      ]);
      return;
    }
    const every = v.every!;
    if (!/^\d+\s*(s|m|h|d|seconds?|minutes?|hours?|days?)$/.test(every)) {
      throw new ConclaveError('BAD_INPUT', `--every must be a duration like 30d, 12h or 90s, got "${every}"`);
    }
    const scheduleId = await withClient((c) => c.scheduleRotation({ walletId, every, tenant: v.tenant }));
    print(json, { walletId, scheduled: true, every, scheduleId }, [
      `wallet ${walletId} rotates every ${every} (schedule ${scheduleId})`,
    ]);
    return;
  }
  if (cmd === 'rotate' || cmd === 'reshare') {
    const walletId = required('wallet', v.wallet);
    const threshold = v.threshold === undefined ? undefined : intOption('threshold', v.threshold);
    const parties =
      list(v['party-ids']) ?? (v.parties === undefined ? undefined : intOption('parties', v.parties));
    const r = await withClient((c) =>
      watchApprovals(
        c,
        'reshare',
        walletId,
        v,
        (requestId) =>
          cmd === 'rotate'
            ? c.rotate({ walletId, tenant: v.tenant, requestId, dealers: list(v.dealers) })
            : c.reshare({
                walletId,
                tenant: v.tenant,
                requestId,
                dealers: list(v.dealers),
                threshold,
                parties,
              }),
        `conclave ${cmd} --wallet ${walletId}`,
      ),
    );
    print(json, { ...r }, [
      `wallet     ${r.walletId} (${r.kind})`,
      `version    ${r.fromVersion} -> ${r.version}`,
      `committee  ${r.threshold}-of-${r.parties.length}: ${r.parties.join(', ')}`,
      `dealt by   ${r.dealers.join(', ')}`,
      `public key ${r.publicKey} (unchanged)`,
    ]);
    return;
  }
  if (cmd === 'recover') {
    const walletId = required('wallet', v.wallet);
    const lost = required('party', v.party);
    const r = await withClient((c) =>
      watchApprovals(
        c,
        'recover',
        walletId,
        v,
        (requestId) =>
          c.recover({ walletId, party: lost, helpers: list(v.helpers), tenant: v.tenant, requestId }),
        `conclave recover --wallet ${walletId} --party ${lost}`,
      ),
    );
    print(json, { ...r }, [
      `wallet     ${r.walletId} (recovery of ${r.recovered})`,
      `version    ${r.fromVersion} -> ${r.version}`,
      `helpers    ${r.dealers.join(', ')}`,
      `proof      ${r.proof.signers.join(', ')} signed a dry-run message; verified under ${r.proof.publicKey}`,
      `public key ${r.publicKey} (unchanged)`,
    ]);
    return;
  }
  if (cmd === 'party' && sub === 'show') {
    const k = await showPartyKeys(required('party', v.party));
    print(json, { ...k }, [
      `party     ${k.partyId}`,
      `identity  ${k.identityPublic}`,
      `transport ${k.transportPublic}`,
    ]);
    return;
  }
  if (cmd === 'party' && sub === 'pin') {
    const partyId = required('party', v.party);
    const peer = {
      partyId: required('peer', v.peer),
      identityPublic: required('identity', v.identity),
      transportPublic: required('transport', v.transport),
    };
    const r = await pinPeerKeys(partyId, peer);
    print(json, { party: partyId, peer: peer.partyId, replaced: r.replaced }, [
      r.replaced
        ? `${partyId} now trusts the new keys of ${peer.partyId} (the old pin is kept in its history)`
        : `${partyId} trusts these keys of ${peer.partyId}`,
    ]);
    return;
  }
  if (cmd === 'share' && sub === 'validate') {
    const r = await withClient((c) =>
      c.validateShares({ walletId: required('wallet', v.wallet), tenant: v.tenant }),
    );
    const dev = Boolean(readStackState(process.env));
    // a generic code says nothing the reason does not; a party that did not answer is said so
    const failure = (party: string | undefined, code: string | undefined, reason: string | undefined) =>
      code === 'UNREACHABLE'
        ? `NO ANSWER: ${reason}${dev && party ? `; dev stack: \`conclave dev restart ${party}\`` : ''}`
        : `FAILED${code && code !== 'FAILED' ? ` ${code}` : ''}: ${reason}`;
    print(json, { ...r }, [
      `wallet   ${r.walletId} v${r.version} (${r.threshold} to sign)`,
      ...r.parties.map((p) => `${p.party.padEnd(8)} ${p.ok ? 'ok' : failure(p.party, p.code, p.reason)}`),
      r.dryRun.verified
        ? `dry run  ${r.dryRun.signers.join(', ')} signed; verified and discarded`
        : `dry run  ${failure(undefined, r.dryRun.code, r.dryRun.reason)}`,
    ]);
    if (!r.ok) process.exitCode = 1;
    return;
  }
  if (cmd === 'backup' && sub === 'keygen') {
    const out = required('out', v.out);
    const key = generateRecoveryKey();
    try {
      writeFileSync(out, JSON.stringify(key), { mode: 0o600, flag: 'wx' });
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      throw new ConclaveError(
        'BAD_INPUT',
        code === 'EEXIST'
          ? `${out} already exists: a recovery key is never overwritten (backups may be encrypted to it); give another --out, or move ${out} away first`
          : `cannot write the recovery key to ${out} (${code ?? String(err)}): give an --out in a folder that exists and you may write to`,
      );
    }
    noteRecoveryKeyMade(process.env, out, key.publicKey);
    print(json, { file: out, publicKey: key.publicKey }, [
      `recovery key written to ${out} (keep it offline)`,
      `public key ${key.publicKey} (set CONCLAVE_RECOVERY_PUBLIC_KEY to it for every party worker)`,
      ...(readStackState(process.env)
        ? [
            `dev stack: its parties encrypt to it once restarted with it, one by one: CONCLAVE_RECOVERY_PUBLIC_KEY=${key.publicKey} conclave dev restart <party>`,
          ]
        : []),
    ]);
    return;
  }
  if (cmd === 'backup' && sub === 'export') {
    const walletId = required('wallet', v.wallet);
    const dir = required('out', v.out);
    const r = await withClient((c) =>
      watchApprovals(c, 'backup', walletId, v, (requestId) =>
        c.exportBackups({ walletId, tenant: v.tenant, requestId }),
      ),
    );
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const files = r.backups.map((b) => {
      const file = join(dir, `${b.tenant}-${b.walletId}-v${b.version}-${b.party}.backup.json`);
      writeFileSync(file, JSON.stringify(b, null, 2), { mode: 0o600 });
      return { party: b.party, file };
    });
    const keys = recoveryKeysOf(r.backups);
    print(json, { walletId, version: r.version, files, failed: r.failed, recoveryKeys: keys.used }, [
      ...files.map((f) => `${f.party.padEnd(6)} ${f.file}`),
      ...r.failed.map((f) => `${f.party.padEnd(6)} FAILED ${f.code}: ${f.reason}`),
      ...keys.used.map(
        (k) =>
          `recovery key ${k.publicKey} (${k.source})${keys.used.length > 1 ? ` for ${k.parties.join(', ')}` : ''}: ` +
          `restore with --recovery-key ${k.file ?? 'the secret key file it came from'}`,
      ),
    ]);
    if (keys.warning) console.error(`warning: ${keys.warning}`);
    if (r.failed.length) process.exitCode = 1;
    return;
  }
  if (cmd === 'backup' && sub === 'restore') {
    const partyId = required('party', v.party);
    const file = readJsonFile(required('file', v.file), 'backup');
    const keyFile = readJsonFile(required('recovery-key', v['recovery-key']), 'recovery key') as {
      secretKey?: unknown;
    };
    if (typeof keyFile.secretKey !== 'string')
      throw new ConclaveError('BAD_INPUT', 'the recovery key file has no secretKey');
    const meta = file as { walletId?: unknown; tenant?: unknown };
    if (typeof meta.walletId !== 'string' || typeof meta.tenant !== 'string') {
      throw new ConclaveError('BAD_INPUT', 'not a Conclave share backup');
    }
    const wallet = await withClient((c) =>
      c.getWallet({ walletId: meta.walletId as string, tenant: meta.tenant as string }),
    );
    const r = await restoreShareBackup(
      partyId,
      file,
      keyFile.secretKey,
      wallet.version,
      partyAdminEnv(partyId),
    );
    print(json, { ...r }, [
      `${r.party} holds its share of ${r.walletId} v${r.version} again${r.shareRestored ? '' : ' (it was there)'}`,
      r.keysRestored
        ? `${r.party}'s keys were restored: start (or restart) its worker now${readStackState(process.env) ? ` (\`conclave dev restart ${r.party}\`)` : ''}`
        : `${r.party}'s keys were already in place`,
    ]);
    return;
  }
  if (cmd === 'rules' && (sub === 'validate' || sub === 'test')) {
    const file = command[2];
    if (!file) throw new UsageError(`conclave rules ${sub} needs a FILE`);
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      throw new ConclaveError('BAD_INPUT', `cannot read rule set file ${file}`);
    }
    const checked = validateRuleSet(text);
    const cfg = v.config ? readPolicyConfig(v.config) : undefined;
    if (!checked.ok || (cfg && !cfg.ok)) {
      const configErrors = cfg && !cfg.ok ? cfg.errors : [];
      print(
        json,
        {
          status: 'invalid',
          file,
          errors: checked.ok ? [] : checked.errors,
          ...(v.config ? { config: v.config, configErrors } : {}),
        },
        [
          ...(checked.ok ? [] : errorLines(file, checked.errors)),
          ...errorLines(v.config ?? '', configErrors),
        ],
      );
      process.exitCode = 1;
      return;
    }
    if (sub === 'validate') {
      const n = checked.ruleSet.rules.length;
      print(
        json,
        {
          status: 'valid',
          file,
          version: checked.ruleSet.version,
          rules: n,
          ...(v.config ? { config: v.config } : {}),
        },
        [
          `${file}: valid, ${n} rule${n === 1 ? '' : 's'} (version ${checked.ruleSet.version})`,
          ...(v.config ? [`${v.config}: valid tenant policy config`] : []),
        ],
      );
      return;
    }
    const tx = testedTransaction(v);
    const config = parseTenantPolicyConfig(cfg?.ok ? cfg.value : {});
    const d = await evaluatePolicy(checked.ruleSet, config, tx);
    const approvals = Object.entries(d.approvals).map(([role, n]) => `${n} ${role}`);
    print(json, { ...d, transaction: tx }, [
      `judged    ${tx.amount} ${tx.asset} on ${tx.chain} to ${tx.destination}, wallet ${tx.walletId} (${tx.tenant}), initiator ${tx.initiator}, at ${tx.at}`,
      `decision  ${d.outcome}${approvals.length ? ` (approvals: ${approvals.join(', ')})` : ''}${d.defaulted ? ' (no rule fired: the default)' : ''}`,
      ...(d.flags.length ? [`flags     ${d.flags.join(', ')}`] : []),
      ...d.fired.map(
        (f) =>
          `  ${f.action.padEnd(8)} ${f.rule}: ${f.reason}${f.failedClosed ? ' (could not be evaluated: fails closed)' : ''}`,
      ),
      `rules     version ${d.rulesVersion}`,
    ]);
    return;
  }
  if (cmd === 'rules' && (sub === 'publish' || sub === 'rollback')) {
    let source: { text: string; config?: unknown } | { rollbackTo: number };
    if (sub === 'publish') {
      const file = command[2];
      if (!file) throw new UsageError('conclave rules publish needs a FILE');
      try {
        source = { text: readFileSync(file, 'utf8') };
      } catch {
        throw new ConclaveError('BAD_INPUT', `cannot read rule set file ${file}`);
      }
    } else {
      source = { rollbackTo: intOption('to', v.to) };
    }
    if (v.config && 'text' in source) {
      // refused here, with every problem's line and column, before anything is published
      const cfg = policyConfigOrReport(v.config, json);
      if (!cfg) return;
      source.config = cfg.value;
    }
    const r = await withClient((c) => {
      if (!c.key)
        console.error(
          `warning: publishing unsigned (no CONCLAVE_KEY): parties that gate tenant ${v.tenant ?? defaultTenant} will refuse to sign under this version`,
        );
      return c.publishRules({ ...source, tenant: v.tenant });
    });
    print(json, { ...r }, [
      `rules     version ${r.version} is current for ${r.tenant}${r.rollbackOf ? ` (a copy of version ${r.rollbackOf})` : ''}`,
      `changes   +${r.diff.added.length} -${r.diff.removed.length} ~${r.diff.changed.length} against version ${r.previous}${configChanges(r)}`,
      `by        ${r.publishedBy} at ${r.publishedAt}, ${signedBy(r)}`,
    ]);
    return;
  }
  if (cmd === 'rules' && sub === 'backtest') {
    const file = command[2];
    if (!file) throw new UsageError('conclave rules backtest needs a FILE');
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      throw new ConclaveError('BAD_INPUT', `cannot read rule set file ${file}`);
    }
    const cfg = v.config ? policyConfigOrReport(v.config, json) : { value: undefined };
    if (!cfg) return;
    const r = await withClient((c) =>
      c.backtestRules({ text, since: v.since, config: cfg.value, tenant: v.tenant }),
    );
    print(json, { ...r }, [
      `replayed  ${r.evaluated} recorded sign requests; ${r.changed.length} decisions would change`,
      ...r.changed.map(
        (ch) =>
          `  ${ch.at}  ${ch.walletId}  ${ch.before} (v${ch.beforeVersion}) -> ${ch.after}` +
          (ch.reasons.length ? `: ${ch.reasons.join('; ')}` : ''),
      ),
    ]);
    return;
  }
  if (cmd === 'governance' && (sub === 'publish' || sub === 'rollback')) {
    const file = command[2];
    const source =
      sub === 'rollback'
        ? { rollbackTo: intOption('to', v.to) }
        : {
            policy: readJsonFile(
              file ?? usageError('conclave governance publish needs a FILE'),
              'governance policy',
            ),
          };
    const r = await withClient((c) => c.publishGovernance({ ...source, tenant: v.tenant }));
    print(json, { ...r }, [
      `governance version ${r.version} is current for ${r.tenant}${r.rollbackOf ? ` (a copy of version ${r.rollbackOf})` : ''}`,
      ...governanceLines(r.policy),
      `by         ${r.publishedBy} (${r.publisherKey}) at ${r.publishedAt}`,
    ]);
    return;
  }
  if (cmd === 'governance' && sub === 'history') {
    const versions = await withClient((c) => c.governanceHistory({ tenant: v.tenant }));
    print(
      json,
      { versions },
      versions.flatMap((r) => [
        `${r.current ? '*' : ' '} v${r.version}  ${r.publishedAt}  by ${r.publishedBy} (${r.publisherKey.slice(0, 16)}…)` +
          (r.rollbackOf ? `  (rollback to v${r.rollbackOf})` : ''),
        ...governanceLines(r.policy).map((l) => `    ${l}`),
      ]),
    );
    return;
  }
  if (cmd === 'rules' && sub === 'history') {
    const versions = await withClient((c) => c.rulesHistory({ tenant: v.tenant }));
    print(
      json,
      { versions },
      versions.map(
        (r) =>
          `${r.current ? '*' : ' '} v${r.version}  ${r.publishedAt}  by ${r.publishedBy}  ${r.rules} rules  ` +
          `+[${r.diff.added.join(', ')}] -[${r.diff.removed.join(', ')}] ~[${r.diff.changed.join(', ')}]` +
          configChanges(r) +
          `  ${signedBy(r)}` +
          (r.rollbackOf ? `  (rollback to v${r.rollbackOf})` : ''),
      ),
    );
    return;
  }
  if (cmd === 'webhooks') {
    await webhooks(sub, v, json);
    return;
  }
  if (cmd === 'audit' && sub === 'export') {
    const out = required('out', v.out);
    const chain = await withClient((c) => c.auditChain({ tenant: v.tenant }));
    writeFileSync(out, JSON.stringify(chain, null, 1), { mode: 0o600, flag: 'wx' });
    print(
      json,
      {
        file: out,
        tenant: chain.tenant,
        entries: chain.entries.length,
        checkpoints: chain.checkpoints.length,
      },
      [
        `${chain.entries.length} entries and ${chain.checkpoints.length} signed checkpoints of ${chain.tenant} written to ${out}`,
        `verify it offline: conclave audit verify --file ${out} --coordinator-key ${chain.coordinatorKey ?? '<key>'}`,
      ],
    );
    return;
  }
  if (cmd === 'audit' && sub === 'verify') {
    let chain: AuditExport;
    if (v.file) {
      chain = readJsonFile(v.file, 'audit export') as AuditExport;
      if (
        chain?.format !== auditExportFormat ||
        !Array.isArray(chain.entries) ||
        !Array.isArray(chain.checkpoints)
      )
        throw new ConclaveError('BAD_INPUT', `${v.file} is not a Conclave audit export`);
      if (v.tenant && v.tenant !== chain.tenant)
        throw new ConclaveError('BAD_INPUT', `${v.file} is tenant ${chain.tenant}'s log, not ${v.tenant}'s`);
    } else chain = await withClient((c) => c.auditChain({ tenant: v.tenant }));
    const pinned = v['coordinator-key'];
    if (pinned && chain.coordinatorKey && pinned !== chain.coordinatorKey)
      throw new ConclaveError(
        'TAMPERED',
        `the log names coordinator key ${chain.coordinatorKey}, not the one given`,
      );
    const r = verifyAuditChain(
      chain.tenant,
      chain.entries,
      chain.checkpoints,
      pinned ?? chain.coordinatorKey,
    );
    print(json, { ...r, coordinatorKey: pinned ?? chain.coordinatorKey }, [
      r.ok
        ? `audit log of ${r.tenant} holds: ${r.entries} entries, ${r.checkpoints} signed checkpoints${r.head ? `, head ${r.head.seq} ${r.head.hash}` : ''}`
        : `audit log of ${r.tenant} is BROKEN at entry ${r.broken!.seq}: ${r.broken!.reason}`,
      `checkpoints verified under coordinator key ${pinned ?? chain.coordinatorKey ?? '(none)'}${pinned ? '' : ' (as the log names it: pin it with --coordinator-key)'}`,
    ]);
    if (!r.ok) process.exitCode = 1;
    return;
  }
  if (cmd === 'audit') {
    const walletId = required('wallet', v.wallet);
    const entries = await withClient((c) => c.auditLog({ walletId, tenant: v.tenant }));
    print(
      json,
      { walletId, entries },
      entries.map((e) =>
        [
          e.at,
          e.ceremony.padEnd(10),
          e.outcome === 'completed' ? 'completed' : `FAILED ${e.code ?? ''}`.trim(),
          e.fromVersion !== undefined ? `v${e.fromVersion}->v${e.version}` : `v${e.version ?? '?'}`,
          `by ${e.requestedBy}`,
          `parties ${e.parties.join(',')}`,
          ...(e.culprit ? [`culprit ${e.culprit}`] : []),
        ].join('  '),
      ),
    );
    return;
  }
  if (cmd === 'wallet') {
    const w = await withClient((c) =>
      c.getWallet({ walletId: required('wallet', v.wallet), tenant: v.tenant }),
    );
    print(
      json,
      { ...w },
      Object.entries(w).map(
        ([k, val]) => `${k.padEnd(10)} ${Array.isArray(val) ? val.join(', ') : String(val)}`,
      ),
    );
    return;
  }
  throw new UsageError(command.length ? `unknown command "${command.join(' ')}"` : 'no command given');
}

const signingOption = (v: string | undefined): 'hmac' | 'ed25519' | undefined => {
  if (v === undefined || v === 'hmac' || v === 'ed25519') return v;
  throw new UsageError('--signing must be hmac or ed25519');
};

const subscriptionLine = (s: WebhookSubscriptionView) =>
  `${s.subscriptionId.padEnd(24)} ${s.status.padEnd(8)} ${s.signing.padEnd(7)} ${s.url} [${s.events.join(', ')}]${
    s.disabledReason ? ` (${s.disabledReason})` : ''
  }${s.secrets.some((x) => x.expiresAt) ? ` (a replaced secret signs until ${s.secrets.find((x) => x.expiresAt)!.expiresAt})` : ''}`;

async function webhooks(sub: string | undefined, v: Values, json: boolean): Promise<void> {
  const tenant = v.tenant;
  const shown = (r: WebhookCredentials) => [
    subscriptionLine(r.subscription),
    r.secret
      ? `secret     ${r.secret}   (shown once: give it to the receiver)`
      : `public key ${r.publicKey}   (receivers verify v1a signatures with it)`,
  ];
  switch (sub) {
    case 'create': {
      const r = await withClient((c) =>
        c.createWebhook({
          url: required('url', v.url),
          events: list(required('events', v.events))!,
          ...(v.id ? { id: v.id } : {}),
          ...(tenant ? { tenant } : {}),
          ...(v.signing ? { signing: signingOption(v.signing) } : {}),
        }),
      );
      return print(json, { ...r }, shown(r));
    }
    case 'rotate': {
      const id = required('id', v.id);
      const r = await withClient((c) =>
        c.rotateWebhookSecret({
          subscriptionId: id,
          ...(tenant ? { tenant } : {}),
          ...(v.grace !== undefined ? { graceSeconds: intOption('grace', v.grace) } : {}),
          ...(v.signing ? { signing: signingOption(v.signing) } : {}),
        }),
      );
      return print(json, { ...r }, shown(r));
    }
    case 'list': {
      const subs = await withClient((c) => c.webhooks({ tenant }));
      return print(
        json,
        { subscriptions: subs },
        subs.length ? subs.map(subscriptionLine) : ['no subscriptions'],
      );
    }
    case 'disable':
    case 'enable': {
      const id = required('id', v.id);
      const s = await withClient((c) =>
        c.setWebhookEnabled({ subscriptionId: id, enabled: sub === 'enable', tenant }),
      );
      return print(json, { subscription: s }, [subscriptionLine(s)]);
    }
    case 'deliveries': {
      const status = v.status as WebhookDeliveryView['status'] | undefined;
      const ds = await withClient((c) =>
        c.webhookDeliveries({
          ...(tenant ? { tenant } : {}),
          ...(v.id ? { subscriptionId: v.id } : {}),
          ...(v.event ? { eventId: v.event } : {}),
          ...(status ? { status } : {}),
        }),
      );
      return print(
        json,
        { deliveries: ds },
        ds.length
          ? ds.flatMap((d) => [
              `${d.deliveryId} ${d.eventType} -> ${d.subscriptionId}: ${d.status}${d.replayOf ? ` (replay of ${d.replayOf})` : ''}`,
              ...d.attempts.map(
                (a) =>
                  `  #${a.attempt} ${a.at} ${a.status ?? '---'} ${a.latencyMs} ms${a.error ? ` ${a.error}` : ''}${a.response ? ` "${a.response.slice(0, 80)}"` : ''}`,
              ),
            ])
          : ['no deliveries'],
      );
    }
    case 'replay': {
      if (!v.event && !v.since) throw new UsageError('webhooks replay needs --event EVT or --since DATE');
      const r = await withClient((c) =>
        c.replayWebhooks({
          tenant: tenant ?? defaultTenant,
          ...(v.event ? { eventId: v.event } : {}),
          ...(v.since ? { from: v.since } : {}),
          ...(v.until ? { to: v.until } : {}),
          ...(v.id ? { subscriptionId: v.id } : {}),
        }),
      );
      return print(json, r, [`${r.deliveries.length} deliveries started`, ...r.deliveries]);
    }
    default:
      throw new UsageError('webhooks: create, list, rotate, disable, enable, deliveries or replay');
  }
}

async function main(argv: string[]): Promise<number> {
  let json = argv.includes('--json');
  try {
    const { values, positionals } = parse(argv);
    json = Boolean(values.json);
    if (values.help) {
      console.log(usage);
      return 0;
    }
    await run(positionals, values);
    // a command that reports a partial failure (a party that failed) sets a non-zero code
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (err) {
    const usageProblem =
      err instanceof UsageError ||
      (err instanceof TypeError && 'code' in err && String(err.code).startsWith('ERR_PARSE_ARGS'));
    const code = err instanceof ConclaveError ? err.code : usageProblem ? 'USAGE' : 'ERROR';
    const message = err instanceof Error ? err.message.split('\n')[0]! : String(err);
    if (json) {
      const blamed = culprit(err);
      console.log(JSON.stringify({ status: 'error', code, message, ...(blamed ? { culprit: blamed } : {}) }));
    } else {
      console.error(`conclave: ${message}`);
      if (usageProblem) console.error(usage);
    }
    return usageProblem ? 2 : 1;
  } finally {
    await closeAllDbs();
  }
}

process.exitCode = await main(process.argv.slice(2));
