/**
 * The coordinator's side of a share change (rotation, reshare, recovery): plans it on the wallet's
 * current version under the wallet's lifecycle lock (one at a time per wallet; signing is refused
 * while it is held), previews the plan an approval describes, confirms the new committee's
 * results, switches the wallet to the new version and releases the lock.
 */
import type { Envelope } from '../../src/crypto/envelope.js';
import { getScheme } from '../../src/crypto/schemes.js';
import { ConclaveError } from '../../src/errors.js';
import { assertPartyId } from '../../src/config.js';
import {
  type CoordinatorStore,
  walletDocId,
  walletVersionDocId,
  type WalletDoc,
} from '../../src/store/coordinator-store.js';
import { PartyStore } from '../../src/store/party-store.js';
import { confirmResults as confirmReshareResults } from '../../src/ceremony/reshare/coordinator.js';
import type { ReshareResultBody } from '../../src/ceremony/reshare/contracts.js';
import { pickSigners } from '../../src/ceremony/sign/coordinator.js';
import { protocolOf, rosterOf, type PartyInfo } from '../../src/ceremony/contracts.js';
import {
  keyChangeTargetOf,
  statementMismatch,
  type KeyChangeStatement,
} from '../../src/policy/governance.js';
import type { RecoverRequest } from '../../src/ceremony/recover/contracts.js';
import type { ReshareContext, ReshareRequest, ReshareResult } from '../../src/ceremony/reshare/contracts.js';
import { assertNotLocked, type CoordinatorRegistry } from './registry.js';

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

export function shareChangeActivities(registry: CoordinatorRegistry) {
  const { getStore, walletOf } = registry;

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
    const roster = rosterOf(scheme, parties, infos);
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

  return {
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
  };
}
