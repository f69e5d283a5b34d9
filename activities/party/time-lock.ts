/**
 * Time locks, on the party's own clock and records: a governance policy or rule set newer than the
 * last one this party acted under takes effect here only once the tenant's time lock (that of the
 * governance policy the party acts under) has passed since the party first saw it. The coordinator
 * announces each publication to every party as it is made (`notePublication`); a party that missed
 * the announcement counts from its first use. So a stolen publisher key cannot loosen the rules and
 * use them within the lock, even with the coordinator's help: the coordinator can delay what a
 * party sees, never make it older.
 */
import { ConclaveError } from '../../src/errors.js';
import { governanceDigest, verifyGovernance, type SignedGovernance } from '../../src/policy/governance.js';
import { parseInstant } from '../../src/policy/transaction.js';
import type { PartyRuntime } from '../../src/party/runtime.js';
import { PartyStore, type TenantTrustDoc } from '../../src/store/party-store.js';

type Kind = 'governance' | 'rules';

/** When this party first saw a publication (now, if never before). */
async function firstSeen(rt: PartyRuntime, tenant: string, kind: Kind, digest: string): Promise<number> {
  const seen = await PartyStore.insertOrGet(rt.store.publicationSightings, {
    _id: `${tenant}|${kind}|${digest}`,
    tenant,
    kind,
    at: new Date(),
  });
  return seen.at.getTime();
}

/** Refuses a new publication until the tenant's time lock has passed since this party first saw it. */
export async function checkTimeLock(
  rt: PartyRuntime,
  trust: TenantTrustDoc,
  tenant: string,
  kind: Kind,
  digest: string,
  version: number,
): Promise<void> {
  const lock = trust.governanceTimeLock ?? 0;
  const seen = await firstSeen(rt, tenant, kind, digest);
  if (!lock) return;
  const from = seen + lock * 1000;
  if (Date.now() < from) {
    throw new ConclaveError(
      'UNAUTHORIZED',
      `${kind === 'rules' ? 'rules' : 'governance'} v${version} take effect on ${rt.partyId} at ` +
        `${new Date(from).toISOString()} (tenant ${tenant}'s time lock is ${lock} s)`,
    );
  }
}

/** This party now acts under `g`: newer publications wait out its time lock. */
export async function actUnderGovernance(
  rt: PartyRuntime,
  tenant: string,
  g: SignedGovernance,
): Promise<void> {
  await rt.store.tenantTrust.updateOne(
    { _id: tenant },
    { $set: { latestGovernance: parseInstant(g.publishedAt), governanceTimeLock: g.policy.timeLock ?? 0 } },
  );
}

/**
 * The coordinator's announcement of a publication, made as it is published: the party notes when
 * it saw it. A governance policy signed by a publisher this party trusts is, if it is the first
 * this party meets for the tenant, the one it acts under from now on (its time lock binds the next).
 */
export async function notePublication(
  rt: PartyRuntime,
  tenant: string,
  kind: Kind,
  digest: string,
  governance?: SignedGovernance,
): Promise<void> {
  await firstSeen(rt, tenant, kind, digest);
  if (kind !== 'governance' || !governance) return;
  const trust = await rt.store.tenantTrust.findOne({ _id: tenant });
  const trusted = (trust?.governancePublishers ?? []).some(
    (p) => p.id === governance.publisher && p.publicKey === governance.publisherKey,
  );
  if (!trusted || governance.tenant !== tenant || governanceDigest(governance) !== digest) return;
  if (!verifyGovernance(governance))
    throw new ConclaveError('UNAUTHORIZED', 'the governance signature does not verify');
  if (trust!.latestGovernance === undefined) await actUnderGovernance(rt, tenant, governance);
}
