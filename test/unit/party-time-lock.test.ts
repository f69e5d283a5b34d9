/**
 * Time locks on a party (activities/party/time-lock.ts): a publication newer than the one the
 * party acts under waits out the lock from when the party first saw it, on its own clock; the
 * first trusted governance policy it is told of is the one it acts under. The party's database
 * is a fake holding the two collections these use.
 */
import { MongoServerError } from 'mongodb';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { checkTimeLock, notePublication } from '../../activities/party/time-lock.js';
import type { PartyRuntime } from '../../src/party/runtime.js';
import {
  generateActorKey,
  governanceDigest,
  parseGovernancePolicy,
  signGovernance,
  type SignedGovernance,
} from '../../src/policy/index.js';
import type { PublicationSightingDoc, TenantTrustDoc } from '../../src/store/party-store.js';

const lead = generateActorKey('lead');
const mallory = generateActorKey('mallory');

function party(trust: Partial<TenantTrustDoc> = {}) {
  const sightings = new Map<string, PublicationSightingDoc>();
  const doc: TenantTrustDoc = {
    _id: 'acme',
    governancePublishers: [{ id: 'lead', publicKey: lead.publicKey }],
    updatedAt: new Date(),
    ...trust,
  };
  const store = {
    publicationSightings: {
      insertOne: async (d: PublicationSightingDoc) => {
        if (sightings.has(d._id)) throw new MongoServerError({ code: 11000, message: 'duplicate key' });
        sightings.set(d._id, d);
      },
      findOne: async (q: { _id: string }) => sightings.get(q._id) ?? null,
    },
    tenantTrust: {
      findOne: async () => doc,
      updateOne: async (_q: unknown, u: { $set: Partial<TenantTrustDoc> }) => void Object.assign(doc, u.$set),
    },
  };
  return { rt: { partyId: 'p1', store } as unknown as PartyRuntime, doc, sightings };
}

const policy = (timeLock: number) => parseGovernancePolicy({ actions: { rotate: {} }, timeLock });
const published = (by = lead, timeLock = 60, at = '2026-12-04T10:00:00Z'): SignedGovernance => ({
  tenant: 'acme',
  policy: policy(timeLock),
  ...signGovernance(by, 'acme', policy(timeLock), at),
  governanceVersion: 1,
});

afterEach(() => vi.useRealTimers());

describe('party time locks', () => {
  it('refuses a newer publication until the lock has passed since the party first saw it', async () => {
    vi.useFakeTimers({ now: Date.parse('2026-12-04T12:00:00Z') });
    const { rt, doc } = party({ governanceTimeLock: 60 });
    const err = await checkTimeLock(rt, doc, 'acme', 'rules', 'ab'.repeat(32), 4).catch((e: unknown) => e);
    expect(String((err as Error).message)).toMatch(
      /rules v4 take effect on p1 at 2026-12-04T12:01:00.000Z \(tenant acme's time lock is 60 s\)/,
    );
    vi.setSystemTime(Date.parse('2026-12-04T12:00:59Z'));
    await expect(checkTimeLock(rt, doc, 'acme', 'rules', 'ab'.repeat(32), 4)).rejects.toThrow(/take effect/);
    // counted from the first sight, not from the second look
    vi.setSystemTime(Date.parse('2026-12-04T12:01:00Z'));
    await expect(checkTimeLock(rt, doc, 'acme', 'rules', 'ab'.repeat(32), 4)).resolves.toBeUndefined();
  });

  it('lets a publication through at once when the policy it acts under has no lock', async () => {
    const { rt, doc, sightings } = party();
    await expect(checkTimeLock(rt, doc, 'acme', 'governance', 'cd'.repeat(32), 2)).resolves.toBeUndefined();
    expect(sightings.size).toBe(1);
  });

  it('an announcement starts the clock; the first trusted policy announced is the one it acts under', async () => {
    vi.useFakeTimers({ now: Date.parse('2026-12-04T12:00:00Z') });
    const { rt, doc } = party();
    const g = published();
    await notePublication(rt, 'acme', 'governance', governanceDigest(g), g);
    expect(doc.latestGovernance).toBe(Date.parse(g.publishedAt));
    expect(doc.governanceTimeLock).toBe(60);
    // a second policy announced only starts its clock
    const next = { ...published(lead, 0, '2026-12-04T11:59:00Z'), governanceVersion: 2 };
    await notePublication(rt, 'acme', 'governance', governanceDigest(next), next);
    expect(doc.governanceTimeLock).toBe(60);
    vi.setSystemTime(Date.parse('2026-12-04T12:00:30Z'));
    await expect(checkTimeLock(rt, doc, 'acme', 'governance', governanceDigest(next), 2)).rejects.toThrow(
      /governance v2 take effect on p1 at 2026-12-04T12:01:00.000Z/,
    );
  });

  it('a policy from a publisher the operator does not trust changes nothing', async () => {
    const { rt, doc } = party();
    const g = published(mallory);
    await notePublication(rt, 'acme', 'governance', governanceDigest(g), g);
    expect(doc.latestGovernance).toBeUndefined();
    const forged = { ...g, publisher: 'lead', publisherKey: lead.publicKey };
    await expect(notePublication(rt, 'acme', 'governance', governanceDigest(forged), forged)).rejects.toThrow(
      /does not verify/,
    );
    expect(doc.latestGovernance).toBeUndefined();
  });
});
