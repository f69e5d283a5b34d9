/**
 * A party's check of a key-management action against its tenant's governance, whatever the
 * action (a share change, a backup export, a pairing): for a tenant whose governance publishers
 * its operator trusts (or any tenant, with CONCLAVE_REQUIRE_GATE=1), a key-change statement
 * approved under a policy one of them signed, equal field by field to what the party is asked to
 * do, used by one ceremony only, under a policy in effect on this party (time locks).
 */
import { ConclaveError } from '../../src/errors.js';
import {
  checkKeyChangeAuthorization,
  governanceDigest,
  keyChangeDigest,
  type KeyChangeAuthorization,
  type KeyChangeTarget,
} from '../../src/policy/governance.js';
import { parseInstant } from '../../src/policy/transaction.js';
import type { PartyRuntime } from '../../src/party/runtime.js';
import { PartyStore } from '../../src/store/party-store.js';
import { actUnderGovernance, checkTimeLock } from './time-lock.js';

/**
 * True when this party gates the tenant's key management and the authorization passed; false
 * when it does not gate the tenant. A statement is spent by its first ceremony: its expiry counts
 * only then, so a ceremony under way is not cut off halfway, and any other ceremony is a REPLAY.
 */
export async function checkGovernance(
  rt: PartyRuntime,
  target: KeyChangeTarget,
  auth: KeyChangeAuthorization | undefined,
): Promise<boolean> {
  const { tenant, ceremonyId } = target;
  const trust = await rt.store.tenantTrust.findOne({ _id: tenant });
  const publishers = trust?.governancePublishers ?? [];
  if (publishers.length === 0) {
    if (!rt.requireGate) return false;
    throw new ConclaveError(
      'UNAUTHORIZED',
      `${rt.partyId} trusts no governance publisher of tenant ${tenant} and manages keys of gated tenants only`,
    );
  }
  const spent = auth?.statement
    ? await rt.store.governanceSpends.findOne({ _id: spendId(tenant, keyChangeDigest(auth.statement)) })
    : null;
  // the expiry is checked as of the first use; every other check holds on every round
  const now = spent && spent.ceremonyId === ceremonyId ? spent.at.getTime() : Date.now();
  const digest = checkKeyChangeAuthorization(auth, target, publishers, now);
  const g = auth!.governance;
  const published = parseInstant(g.publishedAt);
  const latest = trust!.latestGovernance;
  if (latest !== undefined && published < latest) {
    throw new ConclaveError(
      'UNAUTHORIZED',
      `governance v${g.governanceVersion} is older than a policy ${rt.partyId} has already acted under`,
    );
  }
  if (latest === undefined || published > latest) {
    // a newer policy waits out the time lock of the one this party acts under (none before the first)
    if (latest !== undefined)
      await checkTimeLock(rt, trust!, tenant, 'governance', governanceDigest(g), g.governanceVersion);
    await actUnderGovernance(rt, tenant, g);
  }
  const spend = await PartyStore.insertOrGet(rt.store.governanceSpends, {
    _id: spendId(tenant, digest),
    tenant,
    ceremonyId,
    at: new Date(now),
  });
  if (spend.ceremonyId !== ceremonyId) {
    throw new ConclaveError(
      'REPLAY',
      `this key-change statement already authorised ceremony ${spend.ceremonyId}; one statement runs one ceremony`,
    );
  }
  return true;
}

const spendId = (tenant: string, digest: string) => `${tenant}|${digest}`;
