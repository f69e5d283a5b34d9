/**
 * Coordinator activities: planning, agreement checks, aggregation and the wallet registry.
 * The coordinator sees only public data; it verifies every party's signed messages itself.
 */
import type { Envelope } from '../src/crypto/envelope.js';
import { fromHex, toHex } from '../src/crypto/encoding.js';
import { identifierFor } from '../src/crypto/frost.js';
import { chainCodeFor } from '../src/crypto/hd.js';
import { getScheme, resolveScheme } from '../src/crypto/schemes.js';
import { ConclaveError } from '../src/errors.js';
import { dryRunMessage, type DryRunPurpose } from '../src/policy/authorization.js';
import { assertPartyId, loadConfig } from '../src/config.js';
import { assertId, printableActor, validateKeygenRequest, validateSignRequest } from '../src/validation.js';
import { openDb } from '../src/store/mongo.js';
import { ImmutableMemo } from '../src/store/memo.js';
import {
  CoordinatorStore,
  walletDocId,
  walletVersionDocId,
  type WalletDoc,
  type WalletVersionDoc,
} from '../src/store/coordinator-store.js';
import { PartyStore, type PeerEntry } from '../src/store/party-store.js';
import { confirmResults as confirmKeygenResults } from '../src/ceremony/keygen/coordinator.js';
import { confirmResults as confirmReshareResults } from '../src/ceremony/reshare/coordinator.js';
import type { ReshareResultBody } from '../src/ceremony/reshare/contracts.js';
import { aggregate, pickSigners, planSign } from '../src/ceremony/sign/coordinator.js';
import { protocolOf } from '../src/ceremony/contracts.js';
import { combineEcdsa } from '../src/ceremony/ecdsa-sign/coordinator.js';
import { ethereumAddress } from '../src/crypto/ethereum.js';
import { withFailures } from './failures.js';
import { appendAudit, chainEntryOf } from '../src/store/audit-log.js';
import { coordinatorAuditKey } from '../src/config.js';
import { governanceActivities } from './governance.js';
import { keyChangeTargetOf, statementMismatch, type KeyChangeStatement } from '../src/policy/governance.js';
import { policyActivities } from './policy.js';
import { retryScheduleOf, webhookActivities } from './webhooks.js';
import { eventOfAuditEntry } from '../src/webhooks/events.js';
import type { AuditChainPage, AuditEntry } from '../src/audit/contracts.js';
import type {
  KeygenContext,
  KeygenRequest,
  KeygenResult,
  KeygenResultBody,
} from '../src/ceremony/keygen/contracts.js';
import type { PairingRequest, PairSetupContext } from '../src/ceremony/pair-setup/contracts.js';
import type { PartyInfo, WalletInfo, WalletVersionDescription } from '../src/ceremony/contracts.js';
import type { RecoverRequest } from '../src/ceremony/recover/contracts.js';
import type { ReshareContext, ReshareRequest, ReshareResult } from '../src/ceremony/reshare/contracts.js';
import type { SignContext, SignRequest, SignResult } from '../src/ceremony/sign/contracts.js';
import type { ValidateContext, ValidateRequest } from '../src/ceremony/validate/contracts.js';
import type { WebhookDispatch } from '../src/webhooks/contracts.js';

function toWalletInfo(w: WalletDoc): WalletInfo {
  return {
    tenant: w.tenant,
    walletId: w.walletId,
    keyId: w.keyId,
    version: w.version,
    curve: w.curve,
    scheme: w.scheme,
    threshold: w.threshold,
    parties: w.parties.map((p) => p.partyId),
    publicKey: w.publicKey,
    chainCode: toHex(chainCodeFor(w.transcriptHash, fromHex(w.publicKey, 'public key'))),
    transcriptHash: w.transcriptHash,
    createdAt: w.createdAt.toISOString(),
  };
}

/** What a share change takes from the wallet's current version. */
function currentVersionOf(w: WalletDoc, ceremonyId: string, toVersion: number) {
  return {
    tenant: w.tenant,
    ceremonyId,
    walletId: w.walletId,
    keyId: w.keyId,
    scheme: w.scheme,
    fromVersion: w.version,
    toVersion,
    oldThreshold: w.threshold,
    oldRoster: w.parties,
    oldPublic: w.publicPackage,
    transcriptHash: w.transcriptHash,
    ...protocolOf(w.scheme),
  };
}

/** One lifecycle ceremony per wallet: refuses (BUSY) if another one holds the wallet. */
function assertNotLocked(w: WalletDoc, ceremonyId: string): void {
  if (w.lockedBy && w.lockedBy !== ceremonyId) {
    throw new ConclaveError('BUSY', `wallet ${w.walletId} is already changing its shares (${w.lockedBy})`);
  }
}

/** The version a share change of this ceremony makes: its own if it holds the lock, else the next unused. */
const nextVersionOf = (w: WalletDoc, ceremonyId: string): number =>
  w.lockedBy === ceremonyId ? w.lastPlannedVersion! : Math.max(w.version, w.lastPlannedVersion ?? 0) + 1;

/**
 * A share change as planned must be the one its approvers signed: same wallet, versions, rosters
 * and thresholds. Refused otherwise (the wallet changed since, or the coordinator drifted).
 */
function assertApprovedPlan(plan: ReshareContext, approved: KeyChangeStatement | undefined): void {
  if (!approved) return;
  const differs = statementMismatch(approved, keyChangeTargetOf(plan));
  if (differs)
    throw new ConclaveError(
      'BUSY',
      `wallet ${plan.walletId} changed since the request was approved (${differs}); request it again`,
    );
}

/**
 * Takes the wallet's lifecycle lock by a conditional update, with the ceremony's own new version
 * number (never one an earlier ceremony was planned with); a retry finds its own lock and number.
 */
async function takeLifecycleLock(store: CoordinatorStore, w: WalletDoc, ceremonyId: string): Promise<number> {
  const toVersion = nextVersionOf(w, ceremonyId);
  if (w.lockedBy === ceremonyId) return toVersion;
  const locked = await store.wallets.updateOne(
    { _id: w._id, version: w.version, lockedBy: null },
    { $set: { lockedBy: ceremonyId, lastPlannedVersion: toVersion } },
  );
  if (locked.modifiedCount !== 1) {
    throw new ConclaveError('BUSY', `wallet ${w.walletId} is already changing its shares`);
  }
  return toVersion;
}

export async function openCoordinatorStore(): Promise<CoordinatorStore> {
  const store = new CoordinatorStore(await openDb(loadConfig().coordinatorDb));
  await store.ensureIndexes();
  return store;
}

const auditPageSize = 200;

export function createCoordinatorActivities(
  openStore: () => Promise<CoordinatorStore> = openCoordinatorStore,
) {
  // Opened on first use and again after a failure: a database that is down when the worker
  // starts (or goes down later) makes activities retry, not the worker crash.
  let store: Promise<CoordinatorStore> | undefined;
  const getStore = () => {
    if (!store) {
      store = openStore();
      store.catch(() => (store = undefined));
    }
    return store;
  };
  // The current version (and lock) of a wallet is read fresh; a version never changes once written.
  const findWallet = async (store: CoordinatorStore, tenant: string, walletId: string) => {
    const w = await store.wallets.findOne({ _id: walletDocId(tenant, walletId) });
    return w && w.tenant === tenant ? w : null;
  };
  const versions = new ImmutableMemo<WalletVersionDoc>();
  // the key that signs audit checkpoints (CONCLAVE_COORDINATOR_KEY), read once
  let auditKeyLoaded: { secret: Uint8Array; publicKey: string } | null | undefined;
  const auditKey = () => (auditKeyLoaded ??= coordinatorAuditKey(process.env) ?? null) ?? undefined;
  /** A wallet's record, or UNKNOWN_WALLET. */
  const walletOf = async (store: CoordinatorStore, tenant: string, walletId: string): Promise<WalletDoc> => {
    assertId('tenant', tenant);
    assertId('wallet id', walletId);
    const w = await findWallet(store, tenant, walletId);
    if (!w) throw new ConclaveError('UNKNOWN_WALLET', `unknown wallet ${walletId} in tenant ${tenant}`);
    return w;
  };
  const findWalletVersion = async (
    store: CoordinatorStore,
    tenant: string,
    walletId: string,
    version: number,
  ) => {
    const id = walletVersionDocId(tenant, walletId, version);
    const v = await versions.get(id, async () => {
      const doc = await store.walletVersions.findOne({ _id: id });
      if (doc) return doc;
      // wallets created before versions were kept have only their current record
      const current = await findWallet(store, tenant, walletId);
      return current?.version === version ? current : null;
    });
    return v && v.tenant === tenant ? v : null;
  };
  /** A rotation or reshare as it would run now (its version the next unused one); no lock taken. */
  async function draftReshare(req: ReshareRequest, ceremonyId: string, infos: PartyInfo[]) {
    const store = await getStore();
    const w = await walletOf(store, req.tenant, req.walletId);
    const oldIds = w.parties.map((p) => p.partyId);
    const parties = req.parties ?? oldIds;
    parties.forEach(assertPartyId);
    if (new Set(parties).size !== parties.length)
      throw new ConclaveError('BAD_INPUT', 'party list has duplicates');
    const threshold = req.threshold ?? w.threshold;
    if (!Number.isInteger(threshold) || threshold < 2) {
      throw new ConclaveError('BAD_INPUT', `the new threshold must be at least 2, got ${threshold}`);
    }
    if (threshold > parties.length) {
      throw new ConclaveError(
        'BAD_INPUT',
        `the new threshold ${threshold} is larger than the new committee (${parties.length} parties)`,
      );
    }
    const dealers = req.dealers ?? pickSigners(oldIds, w.threshold);
    if (new Set(dealers).size !== dealers.length)
      throw new ConclaveError('BAD_INPUT', 'dealer list has duplicates');
    for (const d of dealers) {
      if (!oldIds.includes(d))
        throw new ConclaveError('BAD_INPUT', `dealer ${d} is not a party of wallet ${req.walletId}`);
    }
    if (dealers.length < w.threshold) {
      throw new ConclaveError(
        'BAD_INPUT',
        `${w.threshold} dealers of the current committee are needed, ${dealers.length} named`,
      );
    }
    assertNotLocked(w, ceremonyId);
    const scheme = getScheme(w.scheme);
    const roster: PeerEntry[] = parties.map((partyId, i) => {
      const info = infos.find((p) => p.partyId === partyId);
      if (!info) throw new ConclaveError('UNKNOWN_PARTY', `party ${partyId} did not answer`);
      return {
        partyId,
        identifier: identifierFor(scheme, i + 1),
        identityPublic: info.identityPublic,
        transportPublic: info.transportPublic,
      };
    });
    const sameCommittee = parties.join() === oldIds.join() && threshold === w.threshold;
    const plan: ReshareContext = {
      ...currentVersionOf(w, ceremonyId, nextVersionOf(w, ceremonyId)),
      kind: sameCommittee ? 'rotation' : 'reshare',
      dealers: oldIds.filter((p) => dealers.includes(p)),
      threshold,
      roster,
    };
    return { store, w, plan };
  }

  /** A recovery as it would run now (its version the next unused one); no lock taken. */
  async function draftRecover(req: RecoverRequest, ceremonyId: string, lostInfo: PartyInfo) {
    assertPartyId(req.party);
    const store = await getStore();
    const w = await walletOf(store, req.tenant, req.walletId);
    const ids = w.parties.map((p) => p.partyId);
    if (!ids.includes(req.party)) {
      throw new ConclaveError('BAD_INPUT', `${req.party} is not a party of wallet ${req.walletId}`);
    }
    const others = ids.filter((p) => p !== req.party);
    const helpers = req.helpers ?? pickSigners(others, Math.min(w.threshold, others.length));
    if (new Set(helpers).size !== helpers.length)
      throw new ConclaveError('BAD_INPUT', 'helper list has duplicates');
    for (const h of helpers) {
      if (h === req.party) throw new ConclaveError('BAD_INPUT', `${h} cannot help recover its own share`);
      if (!ids.includes(h))
        throw new ConclaveError('BAD_INPUT', `helper ${h} is not a party of wallet ${req.walletId}`);
    }
    if (helpers.length < w.threshold) {
      throw new ConclaveError(
        'BAD_INPUT',
        `recovery needs at least ${w.threshold} helpers (the threshold), ${helpers.length} named`,
      );
    }
    if (lostInfo.partyId !== req.party)
      throw new ConclaveError('UNKNOWN_PARTY', `party ${req.party} did not answer`);
    assertNotLocked(w, ceremonyId);
    const plan: ReshareContext = {
      ...currentVersionOf(w, ceremonyId, nextVersionOf(w, ceremonyId)),
      kind: 'recovery',
      lost: req.party,
      dealers: ids.filter((p) => helpers.includes(p)),
      threshold: w.threshold,
      roster: w.parties.map((p) =>
        p.partyId === req.party
          ? { ...p, identityPublic: lostInfo.identityPublic, transportPublic: lostInfo.transportPublic }
          : p,
      ),
    };
    return { store, w, plan };
  }

  const appendEntry = async (entry: Omit<AuditEntry, 'at'>) => {
    assertId('tenant', entry.tenant); // a chain per well-formed tenant only
    const store = await getStore();
    await appendAudit(
      store,
      {
        ...entry,
        // named by whoever started the workflow: kept printable and short
        requestedBy: printableActor(entry.requestedBy),
        key: `${entry.ceremonyId}|${entry.outcome}`,
      },
      auditKey()?.secret,
    );
  };
  const webhooks = webhookActivities(getStore, {
    coordinatorSeed: () => auditKey()?.secret,
    audit: appendEntry,
    retrySchedule: () => retryScheduleOf(process.env),
  });
  return withFailures({
    ...policyActivities(getStore),
    ...governanceActivities(getStore),
    ...webhooks,
    async validateKeygen(req: KeygenRequest): Promise<void> {
      validateKeygenRequest(req);
      const store = await getStore();
      const existing = await store.wallets.findOne({ _id: walletDocId(req.tenant, req.walletId) });
      if (existing)
        throw new ConclaveError('BAD_INPUT', `wallet ${req.walletId} already exists in tenant ${req.tenant}`);
    },

    async planKeygen(
      req: KeygenRequest,
      ceremonyId: string,
      keyId: string,
      infos: PartyInfo[],
    ): Promise<KeygenContext> {
      validateKeygenRequest(req);
      const scheme = resolveScheme(req.curve, req.scheme);
      const roster: PeerEntry[] = req.parties.map((partyId, i) => {
        const info = infos.find((p) => p.partyId === partyId);
        if (!info) throw new ConclaveError('UNKNOWN_PARTY', `party ${partyId} did not answer`);
        return {
          partyId,
          identifier: identifierFor(scheme, i + 1),
          identityPublic: info.identityPublic,
          transportPublic: info.transportPublic,
        };
      });
      return {
        tenant: req.tenant,
        ceremonyId,
        walletId: req.walletId,
        keyId,
        version: 1,
        scheme: scheme.name,
        threshold: req.threshold,
        roster,
        ...protocolOf(scheme.name),
      };
    },

    /** Accepts only if every party signed the same public key and transcript hash. */
    async confirmKeygen(ctx: KeygenContext, results: Envelope[]): Promise<KeygenResultBody> {
      return confirmKeygenResults(ctx, results);
    },

    async saveWallet(ctx: KeygenContext, confirmed: KeygenResultBody): Promise<KeygenResult> {
      const store = await getStore();
      const doc: WalletDoc = {
        _id: walletDocId(ctx.tenant, ctx.walletId),
        tenant: ctx.tenant,
        walletId: ctx.walletId,
        keyId: ctx.keyId,
        version: ctx.version,
        curve: getScheme(ctx.scheme).curve,
        scheme: ctx.scheme,
        threshold: ctx.threshold,
        parties: ctx.roster,
        publicKey: confirmed.publicKey,
        publicPackage: confirmed.public,
        transcriptHash: confirmed.transcriptHash,
        status: 'active',
        createdAt: new Date(),
      };
      const { _id: _unused, ...version } = doc;
      await PartyStore.insertOrGet(store.walletVersions, {
        ...version,
        _id: walletVersionDocId(ctx.tenant, ctx.walletId, ctx.version),
      });
      const stored = await PartyStore.insertOrGet(store.wallets, doc);
      if (stored.keyId !== ctx.keyId) {
        throw new ConclaveError('BAD_INPUT', `wallet ${ctx.walletId} already exists in tenant ${ctx.tenant}`);
      }
      return {
        walletId: stored.walletId,
        keyId: stored.keyId,
        curve: stored.curve,
        scheme: stored.scheme,
        publicKey: stored.publicKey,
        threshold: stored.threshold,
        parties: stored.parties.map((p) => p.partyId),
        transcriptHash: stored.transcriptHash,
      };
    },

    /** A wallet's current version as a key-change statement describes it (public data). */
    async describeVersion(tenant: string, walletId: string): Promise<WalletVersionDescription> {
      const w = await walletOf(await getStore(), tenant, walletId);
      return {
        tenant: w.tenant,
        walletId: w.walletId,
        keyId: w.keyId,
        publicKey: w.publicPackage.commitments[0]!,
        version: w.version,
        threshold: w.threshold,
        roster: w.parties,
      };
    },

    async getWallet(tenant: string, walletId: string): Promise<WalletInfo> {
      const store = await getStore();
      const w = await walletOf(store, tenant, walletId);
      return toWalletInfo(w);
    },

    async planSign(req: SignRequest, ceremonyId: string): Promise<SignContext> {
      validateSignRequest(req);
      const store = await getStore();
      const w = await walletOf(store, req.tenant, req.walletId);
      if (w.lockedBy) {
        throw new ConclaveError(
          'BUSY',
          `wallet ${req.walletId} is changing its shares (${w.lockedBy}); signing is refused until that ceremony ends, retry then`,
        );
      }
      return planSign(req, w, ceremonyId);
    },

    /**
     * Plans a fresh pair setup of a threshold-ECDSA wallet's current version (after an abort
     * retired a pair's setup, or on the operator's schedule). Refused while a share change runs:
     * that one makes fresh setups for its new version anyway.
     */
    async planPairing(req: PairingRequest, ceremonyId: string): Promise<PairSetupContext> {
      const store = await getStore();
      const w = await walletOf(store, req.tenant, req.walletId);
      if (getScheme(w.scheme).protocol !== 'dkls23') {
        throw new ConclaveError(
          'BAD_INPUT',
          `wallet ${req.walletId} is a ${w.scheme} wallet: only threshold ECDSA keys have pair setups`,
        );
      }
      assertNotLocked(w, ceremonyId);
      return {
        tenant: w.tenant,
        ceremonyId,
        walletId: w.walletId,
        keyId: w.keyId,
        version: w.version,
        roster: w.parties,
        replace: true,
      };
    },

    /**
     * Plans a rotation or reshare and takes the wallet's lifecycle lock (one at a time per wallet;
     * signing is refused while it is held). Retried, it finds its own lock and plans again.
     */
    async planReshare(
      req: ReshareRequest,
      ceremonyId: string,
      infos: PartyInfo[],
      approved?: KeyChangeStatement,
    ): Promise<ReshareContext> {
      const { store, w, plan } = await draftReshare(req, ceremonyId, infos);
      assertApprovedPlan(plan, approved);
      const toVersion = await takeLifecycleLock(store, w, ceremonyId);
      return { ...plan, toVersion };
    },

    /** The plan of a rotation or reshare, without taking the lock: what its statement describes. */
    async previewReshare(
      req: ReshareRequest,
      ceremonyId: string,
      infos: PartyInfo[],
    ): Promise<ReshareContext> {
      return (await draftReshare(req, ceremonyId, infos)).plan;
    },

    /**
     * Plans the recovery of one party's lost share and takes the wallet's lifecycle lock. The new
     * version keeps committee and threshold; the lost party's entry carries the keys it has now.
     */
    async planRecover(
      req: RecoverRequest,
      ceremonyId: string,
      lostInfo: PartyInfo,
      approved?: KeyChangeStatement,
    ): Promise<ReshareContext> {
      const { store, w, plan } = await draftRecover(req, ceremonyId, lostInfo);
      assertApprovedPlan(plan, approved);
      const toVersion = await takeLifecycleLock(store, w, ceremonyId);
      return { ...plan, toVersion };
    },

    /** The plan of a recovery, without taking the lock: what its statement describes. */
    async previewRecover(
      req: RecoverRequest,
      ceremonyId: string,
      lostInfo: PartyInfo,
    ): Promise<ReshareContext> {
      return (await draftRecover(req, ceremonyId, lostInfo)).plan;
    },

    /** Accepts only if every new party signed the same public package, under the same key. */
    async confirmReshare(ctx: ReshareContext, results: Envelope[]): Promise<ReshareResultBody> {
      return confirmReshareResults(ctx, results);
    },

    /** Makes the new version current; the lock stays until the old shares are retired. */
    async switchWalletVersion(ctx: ReshareContext, confirmed: ReshareResultBody): Promise<void> {
      const store = await getStore();
      const w = await walletOf(store, ctx.tenant, ctx.walletId);
      if (w.version === ctx.toVersion) return; // a retry after the switch
      if (w.version !== ctx.fromVersion || w.lockedBy !== ctx.ceremonyId) {
        throw new ConclaveError('DISAGREEMENT', `wallet ${ctx.walletId} changed during ${ctx.ceremonyId}`);
      }
      const next: WalletDoc = {
        ...w,
        version: ctx.toVersion,
        threshold: ctx.threshold,
        parties: ctx.roster,
        publicPackage: confirmed.public,
        versionSince: new Date(),
      };
      const { _id: _pointer, lockedBy: _lock, lastPlannedVersion: _planned, ...version } = next;
      await PartyStore.insertOrGet(store.walletVersions, {
        ...version,
        _id: walletVersionDocId(ctx.tenant, ctx.walletId, ctx.toVersion),
      });
      await store.wallets.replaceOne(
        { _id: w._id, version: ctx.fromVersion, lockedBy: ctx.ceremonyId },
        next,
      );
    },

    /** Releases the lifecycle lock if this ceremony holds it. */
    async releaseWallet(ctx: { tenant: string; walletId: string; ceremonyId: string }): Promise<void> {
      const store = await getStore();
      await store.wallets.updateOne(
        { _id: walletDocId(ctx.tenant, ctx.walletId), lockedBy: ctx.ceremonyId },
        { $set: { lockedBy: null } },
      );
    },

    async reshareResult(ctx: ReshareContext): Promise<ReshareResult> {
      return {
        walletId: ctx.walletId,
        keyId: ctx.keyId,
        kind: ctx.kind,
        fromVersion: ctx.fromVersion,
        version: ctx.toVersion,
        publicKey: ctx.oldPublic.commitments[0]!,
        threshold: ctx.threshold,
        parties: ctx.roster.map((p) => p.partyId),
        dealers: ctx.dealers,
      };
    },

    /** What every party's share of the wallet's current version must match. */
    async planValidate(req: ValidateRequest): Promise<ValidateContext> {
      const store = await getStore();
      const w = await walletOf(store, req.tenant, req.walletId);
      return {
        tenant: w.tenant,
        walletId: w.walletId,
        keyId: w.keyId,
        version: w.version,
        threshold: w.threshold,
        parties: w.parties.map((p) => p.partyId),
        public: w.publicPackage,
      };
    },

    /**
     * Appends how a ceremony ended to the tenant's audit chain (a retry of the same record is a
     * no-op), and records the webhook event it raises: returns the deliveries to start.
     */
    async recordAudit(entry: Omit<AuditEntry, 'at'>): Promise<WebhookDispatch[]> {
      await appendEntry(entry);
      const event = eventOfAuditEntry(entry);
      return event ? webhooks.recordEvents(entry.tenant, [event]) : [];
    },

    /**
     * One page of a tenant's audit chain after `afterSeq` (at most 200 entries), the checkpoints
     * within it, and the coordinator's public key: what `conclave audit verify / export` check.
     */
    async auditChainPage(tenant: string, afterSeq: number): Promise<AuditChainPage> {
      assertId('tenant', tenant);
      const store = await getStore();
      const docs = await store.audit
        .find({ tenant, seq: { $gt: afterSeq } })
        .sort({ seq: 1 })
        .limit(auditPageSize)
        .toArray();
      const last = docs.at(-1)?.seq ?? afterSeq;
      const checkpoints = await store.auditCheckpoints
        .find({
          tenant,
          seq: { $gt: afterSeq, $lte: docs.length < auditPageSize ? Number.MAX_SAFE_INTEGER : last },
        })
        .sort({ seq: 1 })
        .toArray();
      return {
        tenant,
        entries: docs.map(chainEntryOf),
        checkpoints: checkpoints.map(({ _id, ...c }) => c),
        more: docs.length === auditPageSize,
        ...(auditKey() ? { coordinatorKey: auditKey()!.publicKey } : {}),
      };
    },

    /** A wallet's audit records, oldest first. */
    async auditLog(tenant: string, walletId: string): Promise<AuditEntry[]> {
      assertId('tenant', tenant);
      assertId('wallet id', walletId);
      const store = await getStore();
      const docs = await store.audit.find({ tenant, walletId }).sort({ seq: 1 }).limit(10_000).toArray();
      return docs.map(({ _id, at, key: _k, prevHash: _p, hash: _h, ...rest }) => ({
        ...rest,
        at: at.toISOString(),
      }));
    },

    /**
     * The message of a dry-run signature (a recovery's proof, a share validation): a tagged hash
     * of the ceremony, 32 bytes that are no transaction, sighash or message of any chain.
     */
    async dryRunMessage(purpose: DryRunPurpose, ceremonyId: string): Promise<string> {
      return dryRunMessage({ purpose, reference: ceremonyId });
    },

    /** Checks each signature share (naming a bad signer), aggregates, and verifies the result. */
    async aggregateSignature(
      ctx: SignContext,
      commitments: Envelope[],
      shares: Envelope[],
    ): Promise<SignResult> {
      const store = await getStore();
      // the version the request was planned with, even if the wallet has moved on since
      const w = await findWalletVersion(store, ctx.tenant, ctx.walletId, ctx.version);
      if (!w)
        throw new ConclaveError('UNKNOWN_WALLET', `unknown wallet ${ctx.walletId} in tenant ${ctx.tenant}`);
      const { signature, key } = aggregate(ctx, w, commitments, shares);
      return {
        status: 'signed',
        walletId: w.walletId,
        keyId: w.keyId,
        publicKey: key.verifyingKey,
        path: key.path,
        ...(key.merkleRoot === undefined ? {} : { merkleRoot: key.merkleRoot }),
        message: ctx.message,
        signature,
        scheme: w.scheme,
        signers: ctx.signers,
      };
    },

    /**
     * Combines the signers' DKLs23 round-3 broadcasts into one low-S ECDSA signature, naming a
     * signer whose contribution does not match its public values, and verifies the result under
     * the request's (derived) key before returning it.
     */
    async combineEcdsaSignature(ctx: SignContext, round3: Envelope[]): Promise<SignResult> {
      const store = await getStore();
      const w = await findWalletVersion(store, ctx.tenant, ctx.walletId, ctx.version);
      if (!w)
        throw new ConclaveError('UNKNOWN_WALLET', `unknown wallet ${ctx.walletId} in tenant ${ctx.tenant}`);
      const { sig, key } = combineEcdsa(ctx, w, round3);
      return {
        status: 'signed',
        walletId: w.walletId,
        keyId: w.keyId,
        publicKey: key.verifyingKey,
        path: key.path,
        message: ctx.message,
        signature: sig.compact,
        scheme: w.scheme,
        signers: ctx.signers,
        ecdsa: { recoveryId: sig.recovery, der: sig.der, address: ethereumAddress(key.verifyingKey) },
      };
    },
  });
}

export type CoordinatorActivities = ReturnType<typeof createCoordinatorActivities>;
