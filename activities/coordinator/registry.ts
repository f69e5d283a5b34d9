/**
 * What the coordinator's activity factories share: the store handle (opened on first use), the
 * wallet registry's lookups, the lifecycle lock check, the tenant's governance in effect and the
 * audit append (with the key that signs its checkpoints). One registry per worker: the index
 * makes it and hands it to every factory.
 */
import { ConclaveError } from '../../src/errors.js';
import { coordinatorAuditKey, loadConfig } from '../../src/config.js';
import { assertId, printableActor } from '../../src/validation.js';
import { openDb } from '../../src/store/mongo.js';
import { ImmutableMemo } from '../../src/store/memo.js';
import {
  CoordinatorStore,
  walletDocId,
  walletVersionDocId,
  type WalletDoc,
  type WalletVersionDoc,
} from '../../src/store/coordinator-store.js';
import { governanceDocId, type GovernanceDoc } from '../../src/store/policy-store.js';
import { appendAudit } from '../../src/store/audit-log.js';
import { newestInEffect } from '../../src/policy/effective.js';
import type { AuditEntry } from '../../src/audit/contracts.js';

export async function openCoordinatorStore(): Promise<CoordinatorStore> {
  const store = new CoordinatorStore(await openDb(loadConfig().coordinatorDb));
  await store.ensureIndexes();
  return store;
}

/** One lifecycle ceremony per wallet: refuses (BUSY) if another one holds the wallet. */
export function assertNotLocked(w: WalletDoc, ceremonyId: string): void {
  if (w.lockedBy && w.lockedBy !== ceremonyId) {
    throw new ConclaveError('BUSY', `wallet ${w.walletId} is already changing its shares (${w.lockedBy})`);
  }
}

export const governanceHead = async (store: CoordinatorStore, tenant: string) =>
  (await store.policy.governanceHeads.findOne({ _id: tenant })) ?? { _id: tenant, current: 0, last: 0 };

/** The tenant's governance policy in effect now (the newest whose time lock has passed), if any. */
export async function governanceInEffect(
  store: CoordinatorStore,
  tenant: string,
): Promise<GovernanceDoc | undefined> {
  const h = await governanceHead(store, tenant);
  return newestInEffect(h.current, (v) =>
    store.policy.governance.findOne({ _id: governanceDocId(tenant, v) }),
  );
}

/** When a governance policy or rule set published now takes effect: after the time lock in effect. */
export async function effectiveAtOfNew(store: CoordinatorStore, tenant: string): Promise<Date> {
  const g = await governanceInEffect(store, tenant);
  return new Date(Date.now() + (g?.policy.timeLock ?? 0) * 1000);
}

export function coordinatorRegistry(openStore: () => Promise<CoordinatorStore> = openCoordinatorStore) {
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
  /** Appends an entry to the tenant's audit chain (a retry of the same record is a no-op). */
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
  return { getStore, findWallet, walletOf, findWalletVersion, auditKey, appendEntry };
}

export type CoordinatorRegistry = ReturnType<typeof coordinatorRegistry>;
