/**
 * The typed client applications use: create wallets, sign, read wallets. It talks only to
 * Temporal; ceremony workflow ids are idempotency keys, so a request started twice runs once.
 * Every method takes one object (`{ walletId, tenant }`, `{ requestId, tenant }`, options), and
 * every request names its tenant, `default` when left out.
 */
import { randomUUID } from 'node:crypto';
import { hostname, userInfo } from 'node:os';
import {
  Client,
  Connection,
  ScheduleAlreadyRunning,
  ScheduleNotFoundError,
  ScheduleOverlapPolicy,
  WorkflowExecutionAlreadyStartedError,
  WorkflowFailedError,
  WorkflowNotFoundError,
  WorkflowUpdateFailedError,
  type WorkflowHandle,
} from '@temporalio/client';
import { ApplicationFailure, WorkflowIdReusePolicy, type Duration } from '@temporalio/common';
import {
  ceremonyExecutionTimeout,
  coordinatorTaskQueue,
  signExecutionTimeout,
  tenantSearchAttribute,
} from '../../temporal.config.js';
import type { AuditChainEntry, AuditCheckpoint } from '../audit/chain.js';
import type { AuditChainPage, AuditEntry } from '../audit/contracts.js';
import {
  signRequestRefusal,
  type BacktestResult,
  type GovernanceVersion,
  type RuleSetVersion,
} from '../policy/contracts.js';
import type { BackupResult } from '../ceremony/backup/contracts.js';
import type { FailureDetails, WalletInfo as WalletRecord } from '../ceremony/contracts.js';
import type { KeygenRequest, KeygenResult as KeygenRecord } from '../ceremony/keygen/contracts.js';
import type { PairingResult } from '../ceremony/pair-setup/contracts.js';
import type { RecoverRequest, RecoverResult } from '../ceremony/recover/contracts.js';
import type { ReshareRequest, ReshareResult } from '../ceremony/reshare/contracts.js';
import {
  batchDigest,
  type FiredRuleSummary,
  type NoncePoolRequest,
  type NoncePoolState,
  type SignedItem,
  type SignItem,
  type SignRequest,
  type SignResult as SignRecord,
  type TransactionState,
} from '../ceremony/sign/contracts.js';
import type { TransactionDescription } from '../policy/types.js';
import type { ValidateResult } from '../ceremony/validate/contracts.js';
import type {
  WebhookAdminRequest,
  WebhookAdminResult,
  WebhookDeliveryView,
  WebhookReplayRequest,
  WebhookSecretInput,
  WebhookSubscriptionView,
} from '../webhooks/contracts.js';
import { sealWebhookSecret } from '../webhooks/secret-seal.js';
import { generateWebhookSecret, generateWebhookSigningKey } from '../webhooks/signature.js';
import {
  actorKeyOf,
  assertPartyId,
  clientActorKey,
  loadConfig,
  readActorKeyFile,
  type ActorKeyInput,
  type Env,
} from '../config.js';
import { toHex } from '../crypto/encoding.js';
import { formatPath, parsePath } from '../crypto/hd.js';
import { resolveScheme, type Curve, type SchemeName } from '../crypto/schemes.js';
import { deriveWalletKey, type DerivedWalletKey } from './derive.js';
import { clientDataConverter } from '../codec/payload-codec.js';
import {
  canonicalJson,
  checkTransactionDescription,
  parseTenantPolicyConfig,
  requestDigest,
  signApproval,
  signCancellation,
  type SignedCancellation,
  signPublication,
  signRequest,
  signStatement,
  parseRuleSet,
  type ActorSecret,
  type PublicationSignature,
  type RuleSet,
  type TenantPolicyConfig,
  type Verdict,
} from '../policy/index.js';
import { ConclaveError, CulpritError, isBlameCode, type ErrorCode } from '../errors.js';
import {
  keyChangeDigest,
  parseGovernancePolicy,
  signGovernance,
  type GovernancePolicy,
} from '../policy/governance.js';
import {
  assertId,
  printableActor,
  validateBatchItems,
  validateKeygenRequest,
  validateSignRequest,
} from '../validation.js';
import { bareRequestId, requestWorkflowId } from './request-id.js';
export {
  bareRequestId,
  parseRequestId,
  requestWorkflowId,
  type ParsedRequestId,
  type RequestKind,
} from './request-id.js';

export type {
  ActorKeyInput,
  ActorSecret,
  AuditEntry,
  BacktestResult,
  BackupResult,
  Curve,
  FiredRuleSummary,
  GovernanceVersion,
  RuleSetVersion,
  DerivedWalletKey,
  PairingResult,
  RecoverResult,
  ReshareResult,
  SchemeName,
  TransactionDescription,
  TransactionState,
  ValidateResult,
  Verdict,
  WebhookDeliveryView,
  WebhookSubscriptionView,
};

/** A new wallet: its key, and the curve and scheme it was made for. */
export interface KeygenResult extends KeygenRecord {
  curve: Curve;
  scheme: SchemeName;
}

/** A wallet as the coordinator records it: its current version, key and committee. */
export interface WalletInfo extends WalletRecord {
  curve: Curve;
  scheme: SchemeName;
}

/** A signature, with the key it verifies under and the rules' decision. */
export interface SignResult extends Omit<SignRecord, 'batch'> {
  scheme: SchemeName;
}

/** A batch's signatures (`signBatch`), one per item in the request's order, each verified. */
export interface BatchSignResult extends Omit<
  SignRecord,
  'message' | 'signature' | 'publicKey' | 'path' | 'merkleRoot' | 'ecdsa' | 'batch'
> {
  scheme: SchemeName;
  /** What the rules, the approvals, the initiator's signature and every party bound: `batchDigest(items)`. */
  batchDigest: string;
  signatures: SignedItem[];
}

export type { NoncePoolState, SignedItem, SignItem };

/** How `ConclaveClient.connect` finds its settings and its actor key. */
export interface ConnectOptions {
  /** Where the settings are read from (`TEMPORAL_ADDRESS`, `CONCLAVE_ACTOR`…); `process.env` by default. */
  env?: Env;
  /**
   * The actor key itself (its fields, or a key file's JSON text), instead of a file named by
   * `CONCLAVE_KEY`; giving both is refused. It signs sign requests, rule publications and approvals.
   */
  key?: ActorKeyInput;
}

/** Who and where: every request names its tenant, `default` when left out. */
export interface TenantOption {
  tenant?: string;
}

/** One wallet of a tenant. */
export interface WalletRef extends TenantOption {
  walletId: string;
}

/** One request of a tenant: a sign request's id, or the full id of a request awaiting approvals. */
export interface RequestRef extends TenantOption {
  requestId: string;
}

export interface ReshareOptions extends WalletRef {
  /** The new committee: how many of the deployment's parties (the first N), or their ids. */
  parties?: number | string[];
  threshold?: number;
  /** Old parties that deal; the coordinator picks by default. */
  dealers?: string[];
  /** Idempotency key: the same id joins the same ceremony. */
  requestId?: string;
}

export type RotateOptions = Omit<ReshareOptions, 'parties' | 'threshold'>;

export interface RecoverOptions extends WalletRef {
  /** The party whose share is rebuilt. */
  party: string;
  /** Parties that help (at least the threshold); the coordinator picks by default. */
  helpers?: string[];
  /** Idempotency key: the same id joins the same ceremony. */
  requestId?: string;
}

/** A wallet ceremony that may wait for approvals (backup export, pairing). */
export interface WalletRequestOptions extends WalletRef {
  /** Idempotency key: the same id joins the same ceremony; a fresh one by default. */
  requestId?: string;
}

export interface ScheduleRotationOptions extends WalletRef {
  /** A Temporal duration, e.g. '30 days'. */
  every: string;
}

export interface ApproveOptions extends RequestRef {
  /** 'approve' (default) or 'reject'. */
  verdict?: Verdict;
  /** The role the approval counts for; by default the first required role the key holds. */
  role?: string;
  /** The approver's key (its fields, or a key file's JSON text); this client's key by default. */
  key?: ActorKeyInput;
}

export interface DeriveKeyOptions extends WalletRef {
  /** Non-hardened derivation path, e.g. 'm/0/7'; the wallet key itself by default. */
  path?: string;
  /** Taproot: the script tree's merkle root (hex). */
  merkleRoot?: string;
  /** Bitcoin network of the address: mainnet (default), testnet, signet or regtest. */
  network?: string;
}

/** A rule set to publish (its JSON text and the tenant's policy config), or a version to re-publish. */
export type PublishRulesOptions = ({ text: string; config?: unknown } | { rollbackTo: number }) &
  TenantOption;

/** A governance policy to publish, or a version to re-publish (re-signed). */
export type PublishGovernanceOptions = ({ policy: unknown } | { rollbackTo: number }) & TenantOption;

export interface BacktestRulesOptions extends TenantOption {
  /** The draft rule set's JSON text. */
  text: string;
  /** ISO 8601: replay the requests recorded since then; all by default. */
  since?: string;
  config?: unknown;
}

export interface RotateWebhookSecretOptions extends TenantOption {
  subscriptionId: string;
  /** How long deliveries are signed with the old secret too; a day by default. */
  graceSeconds?: number;
  signing?: 'hmac' | 'ed25519';
}

export interface SetWebhookEnabledOptions extends TenantOption {
  subscriptionId: string;
  enabled: boolean;
}

export interface CreateWalletOptions {
  tenant?: string;
  /** A random `w-…` id by default. */
  walletId?: string;
  /** 'ed25519' (the default when no scheme is named) or 'secp256k1'. */
  curve?: Curve;
  /**
   * 'frost-ed25519' (Ed25519), 'frost-secp256k1' (FROST, RFC 9591), 'frost-taproot' (BIP340
   * Schnorr, Taproot key path) or 'dkls23-secp256k1' (threshold ECDSA: Ethereum, legacy Bitcoin).
   * Needed for secp256k1, which has several; the curve follows from it.
   */
  scheme?: SchemeName;
  threshold: number;
  /** How many of the deployment's parties (the first N), or their ids. */
  parties: number | string[];
}

export interface SignOptions {
  tenant?: string;
  walletId: string;
  /** Hex, or bytes. ECDSA (dkls23-secp256k1) signs a 32-byte hash. */
  message: string | Uint8Array;
  signers?: string[];
  /** Non-hardened derivation path, e.g. 'm/0/7'; the wallet key itself by default. */
  path?: string;
  /** Taproot: the script tree's merkle root (hex); key-path only by default. */
  merkleRoot?: string;
  /**
   * Idempotency key: the same id returns the same signature and never signs twice; reusing it for
   * another request is refused as REPLAY. A fresh id by default.
   */
  requestId?: string;
  /**
   * What is paid (chain, asset, amount, destination…). Required once the tenant has published
   * rules: the rules and every gating party judge it, and this client's key signs it.
   */
  tx?: TransactionDescription;
  /**
   * `sign` only: called with the request's state as soon as it waits for approvals (its request
   * id, the rules version that escalated it and why, what it needs per role, its expiry), and
   * again whenever that state changes, so a caller can say so at once instead of waiting silently.
   */
  onProgress?: (state: TransactionState) => void;
}

/** A batch: several messages signed in one ceremony, under one policy decision and one set of approvals. */
export interface SignBatchOptions extends Omit<SignOptions, 'message' | 'path' | 'merkleRoot'> {
  /** Up to 256 messages (hex or bytes), each under its own derivation path (and Taproot merkle root). */
  items: Array<{ message: string | Uint8Array; path?: string; merkleRoot?: string }>;
}

export const defaultTenant = 'default';

/** Who a client acts for: `CONCLAVE_ACTOR`, or the OS user at this host. */
export function actorOf(env: Env): string {
  const actor = env.CONCLAVE_ACTOR || `${userInfo().username}@${hostname()}`;
  if (printableActor(actor) !== actor) {
    throw new ConclaveError('BAD_INPUT', 'CONCLAVE_ACTOR must be at most 128 printable characters');
  }
  return actor;
}

export const rotationScheduleId = (tenant: string, walletId: string) => `rotate:${tenant}:${walletId}`;

export class ConclaveClient {
  private constructor(
    private readonly client: Client,
    private readonly connection: Connection,
    private readonly knownParties: string[],
    /** Who this client acts for, in every ceremony's audit record. */
    readonly actor: string,
    /** The actor's signing key (`key`, or CONCLAVE_KEY): signs sign requests, rule publications and approvals. */
    readonly key?: ActorSecret,
    /** Whether ceremonies carry their tenant as a search attribute (`tenantSearchAttribute`). */
    private readonly tenantAttribute = false,
  ) {}

  /**
   * Connects to Temporal. Settings come from `opts.env` (`process.env` by default); the actor key
   * is `opts.key` (the key itself) or the file `CONCLAVE_KEY` names, never both.
   */
  static async connect(opts: ConnectOptions = {}): Promise<ConclaveClient> {
    const { env = process.env, key: given } = connectOptionsOf(opts);
    const config = loadConfig(env);
    const key = clientActorKey(env, given);
    const actor = actorOf(env);
    let connection: Connection;
    try {
      connection = await Connection.connect({
        address: config.temporal.address,
        connectTimeout: '5 seconds',
      });
    } catch (err) {
      const why = err instanceof Error ? err.message : String(err);
      throw new ConclaveError(
        'STACK',
        `cannot reach Temporal at ${config.temporal.address} (${why}): start it with \`npx conclave dev up\` or fix TEMPORAL_ADDRESS`,
      );
    }
    return new ConclaveClient(
      new Client({
        connection,
        namespace: config.temporal.namespace,
        ...withDataConverter(clientDataConverter(config.payloadKey)),
      }),
      connection,
      config.parties,
      actor,
      key,
      config.temporal.tenantAttribute,
    );
  }

  async close(): Promise<void> {
    await this.connection.close();
  }

  async createWallet(opts: CreateWalletOptions): Promise<KeygenResult> {
    const parties = typeof opts.parties === 'number' ? this.pickParties(opts.parties) : opts.parties;
    const scheme = resolveScheme(opts.curve ?? (opts.scheme ? undefined : 'ed25519'), opts.scheme);
    const req: KeygenRequest = {
      tenant: opts.tenant ?? defaultTenant,
      requestedBy: this.actor,
      walletId: opts.walletId ?? `w-${randomUUID()}`,
      curve: scheme.curve,
      scheme: scheme.name,
      threshold: opts.threshold,
      parties,
    };
    validateKeygenRequest(req);
    const result = await this.run<KeygenResult>('keygenWorkflow', `keygen:${req.tenant}:${req.walletId}`, [
      req,
    ]);
    if (
      result.threshold !== req.threshold ||
      result.parties.join() !== parties.join() ||
      result.scheme !== scheme.name
    ) {
      throw new ConclaveError('BAD_INPUT', `wallet ${req.walletId} already exists with other parameters`);
    }
    return result;
  }

  /**
   * Signs, behind the tenant's rules: returns when the signature exists. An escalated request
   * waits here for its approvals (`approve`, from other people); `startSign` does not wait.
   */
  async sign(opts: SignOptions): Promise<SignResult> {
    const { workflowId, req, path } = this.signRequest(opts);
    const result = await this.runSign(workflowId, req, opts.onProgress);
    if (
      result.batch !== undefined ||
      result.message !== req.message ||
      result.walletId !== req.walletId ||
      result.path !== path ||
      result.merkleRoot !== req.merkleRoot ||
      // judged by rules: the transaction it paid must be this one too
      (result.policy?.tx !== undefined && canonicalJson(result.policy.tx) !== canonicalJson(req.tx ?? null))
    ) {
      throw new ConclaveError(
        'REPLAY',
        `request id ${workflowId} was already used for another signing request`,
      );
    }
    return result;
  }

  /**
   * Signs every item in one ceremony: one policy decision, one set of approvals, and one round
   * trip per round for all of them (FROST schemes). Each signature is verified by the coordinator
   * under its item's key; they come back in the items' order. Waits like `sign`.
   */
  async signBatch(opts: SignBatchOptions): Promise<BatchSignResult> {
    const { workflowId, req } = this.signRequest(opts);
    const {
      batch,
      message,
      signature: _s,
      publicKey: _k,
      path: _p,
      merkleRoot: _m,
      ecdsa: _e,
      ...rest
    } = await this.runSign(workflowId, req, opts.onProgress);
    const asked = req.batch!;
    if (
      message !== req.message ||
      rest.walletId !== req.walletId ||
      batch?.length !== asked.length ||
      (rest.policy?.tx !== undefined && canonicalJson(rest.policy.tx) !== canonicalJson(req.tx ?? null))
    ) {
      throw new ConclaveError(
        'REPLAY',
        `request id ${workflowId} was already used for another signing request`,
      );
    }
    return { ...rest, batchDigest: message, signatures: batch };
  }

  private async runSign(
    workflowId: string,
    req: SignRequest,
    onProgress: SignOptions['onProgress'],
  ): Promise<SignRecord & { scheme: SchemeName }> {
    const running = this.run<SignRecord & { scheme: SchemeName }>('signWorkflow', workflowId, [req]);
    if (onProgress) await this.watchRequest(workflowId, running, onProgress);
    return running;
  }

  /**
   * Fills a wallet's pool of preprocessed FROST nonces for one signer set (the first `threshold`
   * parties by default) until `target` slots are ready (32 by default, kept as the pool's target).
   * Requests that name no signers, or this set, then run one round instead of two, and every
   * signature that leaves the pool half empty tops it up in the background.
   */
  async fillNoncePool(opts: WalletRef & { signers?: string[]; target?: number }): Promise<NoncePoolState> {
    const tenant = tenantOf(opts);
    assertId('wallet id', opts.walletId);
    const req: NoncePoolRequest = {
      tenant,
      walletId: opts.walletId,
      ...(opts.signers ? { signers: opts.signers } : {}),
      ...(opts.target !== undefined ? { target: opts.target } : {}),
    };
    return this.run<NoncePoolState>(
      'noncePoolWorkflow',
      `nonce-pool:${tenant}:${opts.walletId}:${randomUUID()}`,
      [req],
    );
  }

  /**
   * Until `running` settles: reads the request's state every half second and hands it to
   * `onProgress` once it has been judged and each time its state or approvals change. Best
   * effort: a state that cannot be read (not started yet, Temporal away) is just not shown.
   */
  private async watchRequest(
    workflowId: string,
    running: Promise<unknown>,
    onProgress: (state: TransactionState) => void,
  ): Promise<void> {
    let done = false;
    void running.finally(() => (done = true)).catch(() => undefined);
    const handle = this.client.workflow.getHandle(workflowId);
    let shown = '';
    const show = async () => {
      const t = await handle.query<TransactionState>('transaction').catch(() => undefined);
      if (!t || t.state === 'judging') return;
      const seen = `${t.state}/${t.approvals.length}`;
      // a request that was allowed at once moves straight on: nothing to say
      if (seen === shown || (!shown && t.state !== 'awaiting-approval')) return;
      shown = seen;
      onProgress(t);
    };
    while (!done) {
      await Promise.race([new Promise((r) => setTimeout(r, 500)), running.catch(() => undefined)]);
      if (!done) await show();
    }
    // the last verdicts may land and the request end between two reads: show how it ended
    if (shown) await show();
  }

  /**
   * A tenant's requests that are still open (sign requests and share changes, waiting for
   * approvals or running), newest first, each with its state; `state` and `walletId` narrow it.
   * At most `limit` (default 100) are read.
   */
  async listRequests(
    opts: TenantOption & { state?: TransactionState['state']; walletId?: string; limit?: number } = {},
  ): Promise<TransactionState[]> {
    const tenant = tenantOf(opts);
    if (opts.walletId !== undefined) assertId('wallet id', opts.walletId);
    const limit = Math.min(Math.max(1, opts.limit ?? 100), 1000);
    const types = [...approvable].map((t) => `'${t}'`).join(', ');
    const query =
      `WorkflowType IN (${types}) AND ExecutionStatus = 'Running'` +
      (this.tenantAttribute ? ` AND ${tenantSearchAttribute} = '${tenant}'` : '');
    // request ids are <kind>:<tenant>:…; a tenant's own are picked by that prefix
    const ours = /^(sign|reshare|recover|backup|pairing):([^:]+):/;
    const ids: string[] = [];
    for await (const w of this.client.workflow.list({ query })) {
      const m = ours.exec(w.workflowId);
      if (m?.[2] !== tenant) continue;
      ids.push(w.workflowId);
      if (ids.length >= limit) break;
    }
    const states = await Promise.all(
      ids.map((id) =>
        this.client.workflow
          .getHandle(id)
          .query<TransactionState>('transaction')
          .catch(() => undefined),
      ),
    );
    return states.filter(
      (t): t is TransactionState =>
        t !== undefined &&
        (opts.state === undefined || t.state === opts.state) &&
        (opts.walletId === undefined || t.walletId === opts.walletId),
    );
  }

  /** Starts a sign request and returns its request id (for `transaction`, `approve`) without waiting. */
  async startSign(opts: SignOptions | SignBatchOptions): Promise<string> {
    const { workflowId, req, requestId } = this.signRequest(opts);
    await this.refuseBeforeDetaching(req);
    await this.start('signWorkflow', workflowId, [req]);
    return requestId;
  }

  /**
   * What the coordinator would refuse at once under the rules in effect (no transaction, or no
   * initiator signature where the tenant lists initiators), refused here in the same words, so
   * a detached request is not reported started only to fail later.
   */
  private async refuseBeforeDetaching(req: SignRequest): Promise<void> {
    // described and signed by its initiator: no config refuses it, so nothing to read
    if (!signRequestRefusal(req, { initiators: [req.requestedBy] })) return;
    const versions = await this.rulesHistory({ tenant: req.tenant });
    const current = versions.find((v) => v.current)?.version ?? 0;
    const now = Date.now();
    const inEffect = versions.find(
      (v) => v.version <= current && (v.effectiveAt === undefined || Date.parse(v.effectiveAt) <= now),
    );
    if (!inEffect) return;
    const { config } = await this.run<{ config: TenantPolicyConfig }>(
      'ruleSetWorkflow',
      `rules-read:${req.tenant}:${randomUUID()}`,
      [req.tenant, inEffect.version],
    );
    const refused = signRequestRefusal(req, config);
    if (refused) throw new ConclaveError(refused.code, refused.message);
  }

  private signRequest(opts: SignOptions | SignBatchOptions): {
    workflowId: string;
    requestId: string;
    req: SignRequest;
    path: string;
  } {
    const hex = (m: string | Uint8Array) => (typeof m === 'string' ? m.toLowerCase() : toHex(m));
    const batch: SignItem[] | undefined =
      'items' in opts
        ? opts.items.map((item) => ({
            message: hex(item.message),
            ...(item.path === undefined ? {} : { path: item.path }),
            ...(item.merkleRoot === undefined ? {} : { merkleRoot: item.merkleRoot.toLowerCase() }),
          }))
        : undefined;
    if (batch) validateBatchItems(batch);
    const single = 'items' in opts ? undefined : opts;
    const message = batch ? batchDigest(batch) : hex(single!.message);
    const req: SignRequest = {
      requestedBy: this.actor,
      tenant: opts.tenant ?? defaultTenant,
      walletId: opts.walletId,
      message,
      ...(batch ? { batch } : {}),
      signers: opts.signers,
      path: single?.path,
      merkleRoot: single?.merkleRoot?.toLowerCase(),
    };
    if (opts.tx !== undefined)
      req.tx = checkTransactionDescription(opts.tx, {
        tenant: req.tenant,
        walletId: req.walletId,
        ...(this.key ? { initiator: this.key.id } : {}),
        stamped: true,
      }).description;
    validateSignRequest(req);
    const path = formatPath(parsePath(single?.path ?? 'm'));
    const requestId =
      opts.requestId === undefined
        ? randomUUID()
        : bareRequestId(opts.requestId, { tenant: req.tenant, kind: 'sign' });
    const workflowId = signWorkflowId(req.tenant, requestId);
    // the initiator signs what is paid, so every party can check the request came from it
    if (this.key && req.tx) {
      req.signed = signRequest(
        this.key,
        signStatement({
          tenant: req.tenant,
          walletId: req.walletId,
          message,
          path,
          ...(req.merkleRoot !== undefined ? { merkleRoot: req.merkleRoot } : {}),
          tx: req.tx,
          requestId: workflowId,
          initiator: this.key.id,
          createdAt: new Date().toISOString(),
        }),
      );
    }
    return { workflowId, requestId, req, path };
  }

  /** Waits for a started sign request (`startSign`) to end: its signature, or its typed failure. */
  async signResult({ requestId: given, tenant = defaultTenant }: RequestRef): Promise<SignResult> {
    assertId('tenant', tenant);
    const requestId = bareRequestId(given, { tenant, kind: 'sign' });
    try {
      return (await this.client.workflow.getHandle(signWorkflowId(tenant, requestId)).result()) as SignResult;
    } catch (err) {
      if (err instanceof WorkflowNotFoundError)
        throw new ConclaveError('BAD_INPUT', `tenant ${tenant} has no sign request ${requestId}`);
      throw toConclaveError(err);
    }
  }

  /**
   * Where a request stands: decision, approvals, expiry, outcome. `requestId` is a sign request's
   * id, or the full id of any request that waits for approvals (`sign:T:…`, `reshare:T:…`,
   * `recover:T:…`, as `tx show` and webhooks print them).
   */
  async transaction({ requestId, tenant = defaultTenant }: RequestRef): Promise<TransactionState> {
    const handle = this.client.workflow.getHandle(requestWorkflowId(tenant, requestId));
    try {
      return await handle.query<TransactionState>('transaction');
    } catch (err) {
      if (err instanceof WorkflowNotFoundError) {
        const what = handle.workflowId.startsWith('sign:') ? 'sign request' : 'request';
        throw new ConclaveError('BAD_INPUT', `tenant ${tenant} has no ${what} ${requestId}`);
      }
      throw err;
    }
  }

  /**
   * Approves (or rejects) an escalated sign request as this client's key (or `opts.key`). What is
   * signed is recomputed here from the request statement shown, not taken from the coordinator.
   */
  async approve(opts: ApproveOptions): Promise<TransactionState> {
    const { requestId } = opts;
    const tenant = opts.tenant ?? defaultTenant;
    const key = opts.key !== undefined ? actorKeyOf(opts.key, 'the approver key given') : this.key;
    if (!key)
      throw new ConclaveError(
        'BAD_INPUT',
        'approving needs an approver key: pass `key`, set CONCLAVE_KEY, or pass --key',
      );
    const workflowId = requestWorkflowId(tenant, requestId);
    const state = await this.transaction({ requestId, tenant });
    const statement = state.keyChange ?? state.request?.statement;
    if (state.state !== 'awaiting-approval' || !statement || !state.decision)
      throw new ConclaveError('BAD_INPUT', `request ${requestId} is ${state.state}, not awaiting approval`);
    // a share change's statement, or a payment's: either way the digest is recomputed here
    const digest = state.keyChange
      ? keyChangeDigest(state.keyChange)
      : requestDigest(state.request!.statement);
    if (
      digest !== state.requestDigest ||
      statement.tenant !== tenant ||
      statement.requestId !== workflowId ||
      state.requestId !== workflowId
    )
      throw new ConclaveError(
        'TAMPERED',
        `request ${requestId}: the statement shown does not match its digest`,
      );
    // by default: the first required role this approver holds that still lacks approvals
    const held = state.approvers?.find((a) => a.id === key.id)?.roles ?? [];
    const open = Object.entries(state.decision.approvals)
      .filter(([r, n]) => state.approvals.filter((a) => a.verdict === 'approve' && a.role === r).length < n)
      .map(([r]) => r);
    const role = opts.role ?? open.find((r) => held.includes(r)) ?? held[0];
    if (!role)
      throw new ConclaveError(
        'BAD_INPUT',
        `${key.id} holds none of the roles this request needs (${open.join(', ') || 'none left'}); name one with --role`,
      );
    const approval = signApproval(key, {
      tenant,
      requestId: workflowId,
      requestDigest: digest,
      rulesVersion: state.rulesVersion ?? 0,
      publicationDigest: state.publicationDigest ?? '',
      verdict: opts.verdict ?? 'approve',
      approver: key.id,
      role,
      at: new Date().toISOString(),
    });
    const handle = this.client.workflow.getHandle(workflowId);
    const after = await sendUpdate(handle, 'submitApproval', approval);
    return this.settledAfterVerdict(handle, after);
  }

  /**
   * Withdraws a sign request that waits for approvals, as its initiator: signed with this
   * client's key (the one that signed the request), or `opts.key`. The request ends CANCELLED.
   */
  async cancel(opts: RequestRef & { key?: ActorKeyInput }): Promise<TransactionState> {
    const tenant = opts.tenant ?? defaultTenant;
    const key = opts.key !== undefined ? actorKeyOf(opts.key, 'the initiator key given') : this.key;
    const workflowId = requestWorkflowId(tenant, opts.requestId);
    const state = await this.transaction({ requestId: opts.requestId, tenant });
    const r = state.request;
    if (state.state !== 'awaiting-approval' || !r)
      throw new ConclaveError(
        'BAD_INPUT',
        `request ${opts.requestId} is ${state.state}${r ? '' : ' and not a sign request'}, not awaiting approval: only a sign request that waits can be cancelled`,
      );
    const statement = {
      tenant,
      requestId: workflowId,
      requestDigest: requestDigest(r.statement),
      initiator: r.statement.initiator,
      at: new Date().toISOString(),
    };
    if (r.initiatorKey && (!key || key.publicKey !== r.initiatorKey))
      throw new ConclaveError(
        'UNAUTHORIZED',
        `only ${r.statement.initiator}, who signed request ${opts.requestId}, may cancel it: use the key it was signed with`,
      );
    const cancellation: SignedCancellation =
      r.initiatorKey && key ? signCancellation(key, statement) : { statement };
    const handle = this.client.workflow.getHandle(workflowId);
    // a cancellation always ends the wait: read on until the request shows it
    return this.settledAfterVerdict(
      handle,
      await sendUpdate(handle, 'cancelRequest', cancellation),
      () => true,
    );
  }

  /**
   * The update answers as the verdict lands, before the workflow moves on: once the approvals
   * are met (or one rejected), the state is read again until it has left awaiting-approval
   * (briefly: at most 5 s), so the last approver sees `signing` (or `running`), not a stale wait.
   * `ends` says whether the verdict ends the wait.
   */
  private async settledAfterVerdict(
    handle: { query<T>(name: string): Promise<T> },
    after: TransactionState,
    ends = (t: TransactionState) =>
      t.approvals.some((a) => a.verdict === 'reject') ||
      Object.entries(t.decision?.approvals ?? {}).every(
        ([role, n]) => t.approvals.filter((a) => a.verdict === 'approve' && a.role === role).length >= n,
      ),
  ): Promise<TransactionState> {
    let t = after;
    for (let i = 0; i < 50 && t.state === 'awaiting-approval' && ends(t); i++) {
      await new Promise((r) => setTimeout(r, 100));
      t = await handle.query<TransactionState>('transaction').catch(() => t);
    }
    return t;
  }

  /** New shares of the same key for the same committee and threshold; old shares are destroyed. */
  async rotate(opts: RotateOptions): Promise<ReshareResult> {
    const { walletId, tenant, dealers, requestId } = opts;
    return this.reshare({ walletId, tenant, dealers, requestId });
  }

  /**
   * Rotates a wallet on a schedule (a Temporal schedule, e.g. every '30 days'). A run that comes
   * while another lifecycle ceremony holds the wallet fails as BUSY and the next one tries again.
   */
  async scheduleRotation({
    walletId,
    every,
    tenant = defaultTenant,
  }: ScheduleRotationOptions): Promise<string> {
    assertId('tenant', tenant);
    assertId('wallet id', walletId);
    const req: ReshareRequest = { tenant, walletId, requestedBy: `${this.actor} (schedule)` };
    const scheduleId = rotationScheduleId(tenant, walletId);
    try {
      await this.client.schedule.create({
        scheduleId,
        spec: { intervals: [{ every: every as Duration }] },
        action: {
          type: 'startWorkflow',
          workflowType: 'reshareWorkflow',
          workflowId: `reshare:${tenant}:${walletId}:scheduled`,
          taskQueue: coordinatorTaskQueue,
          args: [req],
          workflowExecutionTimeout: signExecutionTimeout,
          ...(this.tenantAttribute ? { searchAttributes: { [tenantSearchAttribute]: [tenant] } } : {}),
        },
        policies: { overlap: ScheduleOverlapPolicy.SKIP },
      });
    } catch (err) {
      if (err instanceof ScheduleAlreadyRunning) {
        throw new ConclaveError(
          'BAD_INPUT',
          `wallet ${walletId} already rotates on a schedule (${scheduleId})`,
        );
      }
      const why = err instanceof Error ? err.message.split('\n')[0] : String(err);
      throw new ConclaveError('BAD_INPUT', `cannot schedule rotation of ${walletId}: ${why}`);
    }
    return scheduleId;
  }

  /** Stops a wallet's scheduled rotation; false if it had none. */
  async unscheduleRotation({ walletId, tenant = defaultTenant }: WalletRef): Promise<boolean> {
    assertId('tenant', tenant);
    assertId('wallet id', walletId);
    try {
      await this.client.schedule.getHandle(rotationScheduleId(tenant, walletId)).delete();
      return true;
    } catch (err) {
      if (err instanceof ScheduleNotFoundError) return false;
      throw err;
    }
  }

  /** Moves a wallet's key to another committee and/or threshold; the key and addresses stay. */
  async reshare(opts: ReshareOptions): Promise<ReshareResult> {
    const { walletId } = opts;
    const req: ReshareRequest = { tenant: opts.tenant ?? defaultTenant, walletId, requestedBy: this.actor };
    assertId('tenant', req.tenant);
    assertId('wallet id', walletId);
    if (opts.parties !== undefined) {
      req.parties = typeof opts.parties === 'number' ? this.pickParties(opts.parties) : opts.parties;
    }
    if (opts.threshold !== undefined) req.threshold = opts.threshold;
    if (opts.dealers !== undefined) req.dealers = opts.dealers;
    const requestId =
      opts.requestId === undefined
        ? randomUUID()
        : bareRequestId(opts.requestId, { tenant: req.tenant, kind: 'reshare', walletId });
    return this.run<ReshareResult>('reshareWorkflow', `reshare:${req.tenant}:${walletId}:${requestId}`, [
      req,
    ]);
  }

  /**
   * Rebuilds the lost share of `party` with the help of at least the threshold of the others (the
   * coordinator picks them by default); the wallet moves to its next version, the key stays, and
   * the recovered party proves it signs.
   */
  async recover(opts: RecoverOptions): Promise<RecoverResult> {
    const { walletId, party } = opts;
    const req: RecoverRequest = {
      tenant: opts.tenant ?? defaultTenant,
      walletId,
      party,
      requestedBy: this.actor,
    };
    assertId('tenant', req.tenant);
    assertId('wallet id', walletId);
    assertPartyId(party);
    if (opts.helpers !== undefined) req.helpers = opts.helpers.map(assertPartyId);
    const requestId =
      opts.requestId === undefined
        ? randomUUID()
        : bareRequestId(opts.requestId, { tenant: req.tenant, kind: 'recover', walletId });
    return this.run<RecoverResult>('recoverWorkflow', `recover:${req.tenant}:${walletId}:${requestId}`, [
      req,
    ]);
  }

  /**
   * Backs up a wallet's current shares: each party encrypts its own to the recovery key its
   * operator configured. Parties that could not are listed in `failed`.
   */
  async exportBackups({
    walletId,
    tenant = defaultTenant,
    requestId: given,
  }: WalletRequestOptions): Promise<BackupResult> {
    assertId('tenant', tenant);
    assertId('wallet id', walletId);
    const requestId =
      given === undefined ? randomUUID() : bareRequestId(given, { tenant, kind: 'backup', walletId });
    return this.run<BackupResult>('backupWorkflow', `backup:${tenant}:${walletId}:${requestId}`, [
      { tenant, walletId, requestedBy: this.actor },
    ]);
  }

  /**
   * Checks every party's share of the wallet's current version (it decrypts, matches its public
   * commitment and the wallet record), then has the threshold of them make a dry-run signature
   * that is verified and discarded. Reports per party; `ok` only if everything held.
   */
  async validateShares({ walletId, tenant = defaultTenant }: WalletRef): Promise<ValidateResult> {
    assertId('tenant', tenant);
    assertId('wallet id', walletId);
    return this.run<ValidateResult>('validateWorkflow', `validate:${tenant}:${walletId}:${randomUUID()}`, [
      { tenant, walletId, requestedBy: this.actor },
    ]);
  }

  /**
   * Fresh DKLs23 pair setups between every two parties of a threshold-ECDSA wallet (same key,
   * same shares). Needed after a signature aborted on a failed OT consistency check: the honest
   * party retired its setup with the culprit and signs with it only after this.
   */
  async pairWallet({
    walletId,
    tenant = defaultTenant,
    requestId: given,
  }: WalletRequestOptions): Promise<PairingResult> {
    assertId('tenant', tenant);
    assertId('wallet id', walletId);
    const requestId =
      given === undefined ? randomUUID() : bareRequestId(given, { tenant, kind: 'pairing', walletId });
    return this.run<PairingResult>('pairingWorkflow', `pairing:${tenant}:${walletId}:${requestId}`, [
      { tenant, walletId, requestedBy: this.actor },
    ]);
  }

  /** A wallet's audit records, oldest first: every ceremony that ran on it, who asked, how it ended. */
  async auditLog({ walletId, tenant = defaultTenant }: WalletRef): Promise<AuditEntry[]> {
    assertId('tenant', tenant);
    assertId('wallet id', walletId);
    return this.run<AuditEntry[]>('auditLogWorkflow', `audit-read:${tenant}:${randomUUID()}`, [
      tenant,
      walletId,
    ]);
  }

  /**
   * Publishes a governance policy (who may authorise rotations, reshares and recoveries, with what
   * quorum per role), signed by this client's key, as the tenant's next version; or with
   * `rollbackTo` re-publishes an older version, re-signed. Parties whose operators trust the key
   * (`conclave party trust --governance-publisher`) act on no share change it does not allow.
   */
  async publishGovernance(opts: PublishGovernanceOptions): Promise<GovernanceVersion> {
    const { tenant = defaultTenant, ...source } = opts;
    assertId('tenant', tenant);
    if (!this.key)
      throw new ConclaveError(
        'BAD_INPUT',
        'a governance policy must be signed: set CONCLAVE_KEY to the governance publisher key',
      );
    let policy: GovernancePolicy;
    if ('rollbackTo' in source) {
      const found = (await this.governanceHistory({ tenant })).find((v) => v.version === source.rollbackTo);
      if (!found)
        throw new ConclaveError(
          'BAD_INPUT',
          `tenant ${tenant} has no governance version ${source.rollbackTo}`,
        );
      policy = found.policy;
    } else {
      policy = parseGovernancePolicy(source.policy);
    }
    const signature = signGovernance(this.key, tenant, policy, new Date().toISOString());
    return this.run<GovernanceVersion>(
      'publishGovernanceWorkflow',
      `governance-publish:${tenant}:${randomUUID()}`,
      [
        {
          tenant,
          requestedBy: this.actor,
          ...('rollbackTo' in source ? { rollbackTo: source.rollbackTo } : { policy }),
          signature,
        },
      ],
    );
  }

  /** Every published governance version of the tenant, newest first. */
  async governanceHistory(opts: TenantOption = {}): Promise<GovernanceVersion[]> {
    const tenant = tenantOf(opts);
    return this.run<GovernanceVersion[]>(
      'governanceHistoryWorkflow',
      `governance-read:${tenant}:${randomUUID()}`,
      [tenant],
    );
  }

  /**
   * Publishes a rule set (its JSON text) as the tenant's next version, or with `rollbackTo`
   * re-publishes an older version as the next one. Published versions never change.
   */
  async publishRules(opts: PublishRulesOptions): Promise<RuleSetVersion> {
    const { tenant = defaultTenant, ...source } = opts;
    assertId('tenant', tenant);
    let signature: PublicationSignature | undefined;
    // a publisher's key signs exactly what is published, so parties can trust the rules
    if (this.key) {
      let ruleSet: Omit<RuleSet, 'version'> & { version?: number };
      let config: TenantPolicyConfig;
      if ('rollbackTo' in source) {
        ({ ruleSet, config } = await this.run<{ ruleSet: RuleSet; config: TenantPolicyConfig }>(
          'ruleSetWorkflow',
          `rules-read:${tenant}:${randomUUID()}`,
          [tenant, source.rollbackTo],
        ));
      } else {
        ruleSet = parseRuleSet(source.text);
        config = parseTenantPolicyConfig(source.config ?? {});
      }
      const { version: _v, ...rules } = ruleSet;
      signature = signPublication(this.key, tenant, rules, config, new Date().toISOString());
    }
    return this.run<RuleSetVersion>('publishRulesWorkflow', `rules-publish:${tenant}:${randomUUID()}`, [
      { tenant, requestedBy: this.actor, ...source, ...(signature ? { signature } : {}) },
    ]);
  }

  /**
   * Replays the tenant's recorded sign requests (since `since`) against a draft rule set and
   * returns the decisions that would change. Stores nothing.
   */
  async backtestRules(opts: BacktestRulesOptions): Promise<BacktestResult> {
    const { text } = opts;
    const tenant = opts.tenant ?? defaultTenant;
    assertId('tenant', tenant);
    return this.run<BacktestResult>('backtestRulesWorkflow', `rules-backtest:${tenant}:${randomUUID()}`, [
      {
        tenant,
        text,
        ...(opts.since ? { since: opts.since } : {}),
        ...(opts.config ? { config: opts.config } : {}),
      },
    ]);
  }

  /**
   * The tenant's whole audit chain (entries, signed checkpoints, the coordinator's public key),
   * read page by page; check it with `verifyAuditChain` (src/audit/chain.ts).
   */
  async auditChain(opts: TenantOption = {}): Promise<AuditExport> {
    const tenant = tenantOf(opts);
    const out: AuditExport = { format: auditExportFormat, tenant, entries: [], checkpoints: [] };
    for (let after = 0; ;) {
      const page = await this.run<AuditChainPage>(
        'auditChainWorkflow',
        `audit-read:${tenant}:${randomUUID()}`,
        [tenant, after],
      );
      out.entries.push(...page.entries);
      out.checkpoints.push(...page.checkpoints);
      if (page.coordinatorKey) out.coordinatorKey = page.coordinatorKey;
      if (!page.more || page.entries.length === 0) break;
      after = page.entries.at(-1)!.seq;
    }
    return out;
  }

  /**
   * Creates a webhook subscription. The secret is made here and sealed to the coordinator; it is
   * returned only now: `secret` (whsec_, HMAC `v1`) or, with `signing: 'ed25519'`, `publicKey`
   * (whpk_, `v1a`), which is what receivers verify with.
   */
  async createWebhook(opts: {
    tenant?: string;
    /** Letters, digits, . _ -; a random `wh-…` id by default. */
    id?: string;
    url: string;
    events: string[];
    signing?: 'hmac' | 'ed25519';
  }): Promise<WebhookCredentials> {
    const tenant = assertId('tenant', opts.tenant ?? defaultTenant);
    const subscriptionId = assertId('subscription id', opts.id ?? `wh-${randomUUID()}`);
    const { input, credentials } = await this.newWebhookSecret(tenant, subscriptionId, opts.signing);
    const r = await this.webhookAdmin({
      action: 'create',
      tenant,
      subscriptionId,
      url: opts.url,
      events: opts.events,
      secret: input,
      requestedBy: this.actor,
    });
    return { subscription: r.subscription!, ...credentials };
  }

  /** A tenant's webhook subscriptions (never their secrets). */
  async webhooks(opts: TenantOption = {}): Promise<WebhookSubscriptionView[]> {
    return (await this.webhookAdmin({ action: 'list', tenant: tenantOf(opts) })).subscriptions!;
  }

  /**
   * Replaces a subscription's secret. Deliveries are signed with the old and the new one for
   * `graceSeconds` (default a day), so receivers can switch without losing one.
   */
  async rotateWebhookSecret(opts: RotateWebhookSecretOptions): Promise<WebhookCredentials> {
    const { subscriptionId } = opts;
    const tenant = assertId('tenant', opts.tenant ?? defaultTenant);
    assertId('subscription id', subscriptionId);
    const { input, credentials } = await this.newWebhookSecret(tenant, subscriptionId, opts.signing);
    const r = await this.webhookAdmin({
      action: 'rotate',
      tenant,
      subscriptionId,
      secret: input,
      requestedBy: this.actor,
      ...(opts.graceSeconds !== undefined ? { graceSeconds: opts.graceSeconds } : {}),
    });
    return { subscription: r.subscription!, ...credentials };
  }

  /** Stops (or resumes) deliveries to a subscription; pending retries stop at their next attempt. */
  async setWebhookEnabled({
    subscriptionId,
    enabled,
    tenant = defaultTenant,
  }: SetWebhookEnabledOptions): Promise<WebhookSubscriptionView> {
    assertId('subscription id', subscriptionId);
    if (typeof enabled !== 'boolean') throw new ConclaveError('BAD_INPUT', 'enabled must be true or false');
    const r = await this.webhookAdmin({
      action: enabled ? 'enable' : 'disable',
      tenant,
      subscriptionId,
      requestedBy: this.actor,
    });
    return r.subscription!;
  }

  /** The delivery log, newest first (200 at most): each delivery with every attempt. */
  async webhookDeliveries(
    filter: {
      tenant?: string;
      subscriptionId?: string;
      eventId?: string;
      status?: WebhookDeliveryView['status'];
    } = {},
  ): Promise<WebhookDeliveryView[]> {
    const { tenant, ...rest } = filter;
    return (await this.webhookAdmin({ action: 'deliveries', tenant: tenant ?? defaultTenant, ...rest }))
      .deliveries!;
  }

  /** Delivers one event again, or every event between `from` and `to` (default now). */
  async replayWebhooks(req: Omit<WebhookReplayRequest, 'requestedBy'>): Promise<{ deliveries: string[] }> {
    assertId('tenant', req.tenant);
    if (req.eventId === undefined && req.from === undefined) {
      throw new ConclaveError('BAD_INPUT', 'replay needs an event id or a time range (from, to)');
    }
    return this.run('replayWebhooksWorkflow', `webhooks-replay:${req.tenant}:${randomUUID()}`, [
      { ...req, requestedBy: this.actor },
    ]);
  }

  private sealingKey?: Promise<string>;

  private async newWebhookSecret(
    tenant: string,
    subscriptionId: string,
    signing: 'hmac' | 'ed25519' = 'hmac',
  ): Promise<{ input: WebhookSecretInput; credentials: { secret?: string; publicKey?: string } }> {
    if (signing !== 'hmac' && signing !== 'ed25519') {
      throw new ConclaveError('BAD_INPUT', 'signing must be hmac or ed25519');
    }
    this.sealingKey ??= this.webhookAdmin({ action: 'sealing-key' }).then((r) => r.sealingKey!);
    const sealTo = await this.sealingKey.catch((err: unknown) => {
      this.sealingKey = undefined;
      throw err;
    });
    if (signing === 'hmac') {
      const secret = generateWebhookSecret();
      return {
        input: { sealed: sealWebhookSecret(sealTo, secret, tenant, subscriptionId) },
        credentials: { secret },
      };
    }
    const key = generateWebhookSigningKey();
    return {
      input: {
        sealed: sealWebhookSecret(sealTo, key.secretKey, tenant, subscriptionId),
        publicKey: key.publicKey,
      },
      credentials: { publicKey: key.publicKey },
    };
  }

  private webhookAdmin(req: WebhookAdminRequest): Promise<WebhookAdminResult> {
    if (req.action !== 'sealing-key') assertId('tenant', req.tenant);
    const tenant = req.action === 'sealing-key' ? '' : req.tenant;
    return this.run<WebhookAdminResult>(
      'webhookAdminWorkflow',
      `webhooks:${tenant}:${req.action}:${randomUUID()}`,
      [req],
    );
  }

  /** Every published version of the tenant's rule set, newest first. */
  async rulesHistory(opts: TenantOption = {}): Promise<RuleSetVersion[]> {
    const tenant = tenantOf(opts);
    return this.run<RuleSetVersion[]>('rulesHistoryWorkflow', `rules-read:${tenant}:${randomUUID()}`, [
      tenant,
    ]);
  }

  /** A child key of a wallet and its address, derived from public data with no ceremony. */
  async deriveKey(opts: DeriveKeyOptions): Promise<DerivedWalletKey> {
    const { walletId, tenant, ...derivation } = opts;
    return deriveWalletKey(await this.getWallet({ walletId, tenant }), derivation);
  }

  /** A wallet's record: its current version, key, scheme and committee. */
  async getWallet({ walletId, tenant = defaultTenant }: WalletRef): Promise<WalletInfo> {
    assertId('tenant', tenant);
    assertId('wallet id', walletId);
    return this.run<WalletInfo>('getWalletWorkflow', `wallet-read:${tenant}:${randomUUID()}`, [
      tenant,
      walletId,
    ]);
  }

  private pickParties(n: number): string[] {
    if (!Number.isInteger(n) || n < 2)
      throw new ConclaveError('BAD_INPUT', `parties must be at least 2, got ${n}`);
    if (n > this.knownParties.length) {
      throw new ConclaveError(
        'BAD_INPUT',
        `${n} parties asked for; this deployment has ${this.knownParties.length}`,
      );
    }
    return this.knownParties.slice(0, n);
  }

  /** Starts the workflow, or attaches to the one already running or finished under this id. */
  private async run<T>(workflow: string, workflowId: string, args: unknown[]): Promise<T> {
    const deadline = Date.now() + serverOutageBudgetMs;
    let handle: WorkflowHandle | undefined;
    for (let attempt = 0; ; attempt++) {
      try {
        handle ??= await this.start(workflow, workflowId, args);
        return (await handle.result()) as T;
      } catch (err) {
        if (err instanceof WorkflowFailedError) throw toConclaveError(err);
        if (err instanceof ConclaveError) throw err;
        // Temporal unreachable (restarting, network): the ceremony itself goes on, so wait for
        // it, within a budget; starting again under the same id joins it instead of re-running.
        if (Date.now() > deadline) {
          const why = err instanceof Error ? err.message : String(err);
          throw new ConclaveError(
            'STACK',
            `Temporal unavailable (${why}); ${workflowId} may still complete: ask again with the same request id`,
          );
        }
        await new Promise((r) => setTimeout(r, Math.min(5_000, 250 * 2 ** attempt)));
      }
    }
  }

  private async start(workflow: string, workflowId: string, args: unknown[]): Promise<WorkflowHandle> {
    // every request names its tenant first: a string argument or a request's `tenant`
    const first = args[0];
    const tenant = typeof first === 'string' ? first : (first as { tenant?: unknown } | undefined)?.tenant;
    try {
      return await this.client.workflow.start(workflow, {
        taskQueue: coordinatorTaskQueue,
        workflowId,
        args,
        ...(this.tenantAttribute && typeof tenant === 'string'
          ? { searchAttributes: { [tenantSearchAttribute]: [tenant] } }
          : {}),
        // requests that may wait for approvals live as long as the longest expiry
        workflowExecutionTimeout: approvable.has(workflow) ? signExecutionTimeout : ceremonyExecutionTimeout,
        // A failed request may be retried under the same id; a running or finished one is joined.
        workflowIdReusePolicy: WorkflowIdReusePolicy.ALLOW_DUPLICATE_FAILED_ONLY,
      });
    } catch (err) {
      if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
      return this.client.workflow.getHandle(workflowId);
    }
  }
}

const withDataConverter = <T>(dc: T | undefined) => (dc ? { dataConverter: dc } : {});

/** Sends a request's update (a verdict, a cancellation); a refusal becomes its typed error. */
async function sendUpdate<A>(handle: WorkflowHandle, name: string, arg: A): Promise<TransactionState> {
  try {
    return await handle.executeUpdate<TransactionState, [A]>(name, { args: [arg] });
  } catch (err) {
    if (err instanceof WorkflowUpdateFailedError) {
      const cause = err.cause;
      if (cause instanceof ApplicationFailure) {
        // a validator's refusal arrives as a plain Error
        const code = (cause.type && cause.type !== 'Error' ? cause.type : 'BAD_INPUT') as ErrorCode;
        throw new ConclaveError(code, cause.message);
      }
      throw new ConclaveError('BAD_INPUT', cause?.message ?? err.message);
    }
    throw err;
  }
}

export const auditExportFormat = 'conclave-audit-export/1';

/** A tenant's audit chain as `conclave audit export` writes it; `conclave audit verify --file` reads it. */
export interface AuditExport {
  format: typeof auditExportFormat;
  tenant: string;
  coordinatorKey?: string;
  entries: AuditChainEntry[];
  checkpoints: AuditCheckpoint[];
}

/** A new subscription's or rotation's credentials: shown once, never stored in the clear. */
export interface WebhookCredentials {
  subscription: WebhookSubscriptionView;
  /** HMAC subscriptions: the whsec_ secret to give the receiver. */
  secret?: string;
  /** Ed25519 subscriptions: the whpk_ key receivers verify with. */
  publicKey?: string;
}

export const signWorkflowId = (tenant: string, requestId: string) => `sign:${tenant}:${requestId}`;

/** The workflows whose requests may wait for approvals. */
const approvable = new Set([
  'signWorkflow',
  'reshareWorkflow',
  'recoverWorkflow',
  'backupWorkflow',
  'pairingWorkflow',
]);

/** Reads an actor key file (`conclave keys new`). */
export const loadActorKey = readActorKeyFile;

/**
 * The tenant a request names: `default` when left out. A bare string (the older positional
 * style) is taken as the tenant, never ignored for the default one.
 */
function tenantOf(opts: TenantOption): string {
  return assertId('tenant', opts.tenant ?? defaultTenant);
}

const connectOptionNames = new Set(['env', 'key']);

/** `connect`'s options, refusing a misspelt one (an environment passed as options, `keyFile`, …). */
function connectOptionsOf(arg: ConnectOptions): ConnectOptions {
  const names = Object.keys(arg);
  const unknown = names.filter((n) => !connectOptionNames.has(n));
  if (unknown.length > 0)
    throw new ConclaveError(
      'BAD_INPUT',
      `unknown connect option ${unknown.map((n) => JSON.stringify(n)).join(', ')} (options: env, key)`,
    );
  return arg as ConnectOptions;
}

/** How long a client call keeps waiting through a Temporal outage before it gives up. */
const serverOutageBudgetMs = 5 * 60_000;

/** A failed ceremony as a typed error: its code, its one-line reason, and the culprit if any. */
export function toConclaveError(err: unknown): unknown {
  if (!(err instanceof WorkflowFailedError)) return err;
  const cause = err.cause;
  if (cause instanceof ApplicationFailure) {
    const d = (cause.details?.[0] ?? {}) as Partial<FailureDetails>;
    const code = (d.code ?? cause.type ?? 'BAD_INPUT') as ErrorCode;
    const reason = d.reason ?? cause.message;
    if (d.culprit && isBlameCode(code))
      return new CulpritError(code, d.culprit, reason.replace(/ \(culprit: [^)]*\)$/, ''));
    return new ConclaveError(code, reason);
  }
  return new ConclaveError('STACK', `ceremony failed: ${cause?.message ?? err.message}`);
}
