/**
 * A party's activities called directly (no Temporal) against the real MongoDB-protocol server:
 * idempotent round records, retries that never draw new randomness, single-use nonces.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPartyActivities, type PartyActivities } from '../../activities/party/index.js';
import { loadRoundState, runRoundOnce } from '../../activities/party/common.js';
import type { Envelope } from '../../src/crypto/envelope.js';
import type { KeygenContext } from '../../src/ceremony/keygen/contracts.js';
import { batchDigest, noncePoolId, type SignContext } from '../../src/ceremony/sign/contracts.js';
import { identifierFor, signCommit } from '../../src/crypto/frost.js';
import { broadcastJson, sealBroadcast } from '../../src/crypto/envelope.js';
import { utf8 } from '../../src/crypto/encoding.js';
import { openShareSecret } from '../../src/party/runtime.js';
import { getScheme } from '../../src/crypto/schemes.js';
import { loadConfig } from '../../src/config.js';
import { openPartyRuntime, loadOrCreatePartyKeys, type PartyRuntime } from '../../src/party/runtime.js';
import { closeAllDbs, openDb } from '../../src/store/mongo.js';
import { PartyStore } from '../../src/store/party-store.js';
import { rotationOf } from '../../src/drills/rogue-inputs.js';
import { randomMessage, stackEnv } from './helpers.js';

const run = Date.now().toString(36);

/** Activities report typed errors as final Temporal failures: type = code, details name the culprit. */
const failure = (code: string, culprit?: string) => ({
  type: code,
  nonRetryable: true,
  details: [culprit ? { code, culprit } : expect.objectContaining({ code })],
});
const ids = ['ia', 'ib', 'ic'].map((p) => `${p}-${run}`);
const runtimes: PartyRuntime[] = [];
const acts: PartyActivities[] = [];
const envs: Record<string, string | undefined>[] = [];

beforeAll(async () => {
  for (const id of ids) {
    const env = {
      ...stackEnv(),
      [`CONCLAVE_PARTY_${id.toUpperCase().replace(/-/g, '_')}_KEK`]: randomBytes(32).toString('hex'),
      // these parties serve any tenant, as the dev stack's do (their operator opted out of gating)
      CONCLAVE_REQUIRE_GATE: '0',
    };
    envs.push(env);
    const rt = await openPartyRuntime(id, env);
    runtimes.push(rt);
    acts.push(createPartyActivities(rt));
  }
});
afterAll(closeAllDbs);

describe('round records', () => {
  it('concurrent and repeated calls of one round return the first stored output', async () => {
    const rt = runtimes[0]!;
    let computed = 0;
    const compute = () => {
      computed++;
      return { output: randomBytes(16).toString('hex'), state: { secret: randomBytes(8).toString('hex') } };
    };
    const outs = await Promise.all(
      Array.from({ length: 6 }, () => runRoundOnce(rt, 't', 'cer-1', 'r1', compute)),
    );
    expect(new Set(outs).size).toBe(1);
    // attempts that lost the race took their outputs back: one output, the one the record names
    expect(await rt.store.roundOutputs.countDocuments({ tenant: 't', ceremonyId: 'cer-1' })).toBe(1);
    const later = await runRoundOnce(rt, 't', 'cer-1', 'r1', compute);
    expect(later).toBe(outs[0]);
    const computedBefore = computed;
    await runRoundOnce(rt, 't', 'cer-1', 'r1', compute);
    expect(computed).toBe(computedBefore); // a stored round is never recomputed
    // the state is sealed: readable with this party's KEK only, and not stored in the clear
    const state = await loadRoundState<{ secret: string }>(rt, 't', 'cer-1', 'r1');
    const raw = await rt.store.rounds.findOne({ _id: 't|cer-1|r1' });
    expect(JSON.stringify(raw)).not.toContain(state.secret);
    await expect(loadRoundState({ ...rt, kek: randomBytes(32) }, 't', 'cer-1', 'r1')).rejects.toMatchObject({
      code: 'DECRYPT_FAILED',
    });
    await expect(loadRoundState(rt, 't', 'cer-1', 'missing')).rejects.toMatchObject({ code: 'BAD_INPUT' });
  });

  it('party keys are created once and sealed; another KEK cannot open them', async () => {
    const rt = runtimes[0]!;
    const again = await loadOrCreatePartyKeys(rt.store, rt.partyId, rt.kek);
    expect(again.identityPublic).toBe(rt.identityPublic);
    await expect(loadOrCreatePartyKeys(rt.store, rt.partyId, randomBytes(32))).rejects.toMatchObject({
      code: 'DECRYPT_FAILED',
    });
    await expect(loadOrCreatePartyKeys(rt.store, 'someone-else', rt.kek)).rejects.toMatchObject({
      code: 'CONFIG',
    });
  });
});

describe('keygen and signing activities, called as Temporal would (with retries)', () => {
  let ctx: KeygenContext;

  it('retried rounds return byte-identical messages', async () => {
    const scheme = getScheme('frost-ed25519');
    const infos = await Promise.all(acts.map((a) => a.describeParty()));
    ctx = {
      tenant: 'acme',
      ceremonyId: `keygen:acme:w-${run}/r1`,
      walletId: `w-${run}`,
      keyId: `k-${run}`,
      version: 1,
      scheme: scheme.name,
      threshold: 2,
      roster: infos.map((p, i) => ({ ...p, identifier: identifierFor(scheme, i + 1) })),
    };
    const r1 = await Promise.all(acts.map((a) => a.dkgRound1(ctx)));
    expect(await Promise.all(acts.map((a) => a.dkgRound1(ctx)))).toEqual(r1);
    const r2 = (await Promise.all(acts.map((a) => a.dkgRound2(ctx, r1)))).flat();
    expect((await Promise.all(acts.map((a) => a.dkgRound2(ctx, r1)))).flat()).toEqual(r2);
    const to = (p: string) => r2.filter((e: Envelope) => e.to === p);
    const r3 = await Promise.all(acts.map((a, i) => a.dkgRound3(ctx, r1, to(ids[i]!))));
    expect(await Promise.all(acts.map((a, i) => a.dkgRound3(ctx, r1, to(ids[i]!))))).toEqual(r3);
    // a share is not usable before every party confirmed
    const sctx: SignContext = {
      tenant: 'acme',
      ceremonyId: `s-${run}-0`,
      walletId: ctx.walletId,
      keyId: ctx.keyId,
      version: 1,
      path: 'm',
      message: 'aa',
      signers: ids.slice(0, 2),
    };
    await expect(acts[0]!.signRound1(sctx)).rejects.toMatchObject(failure('UNKNOWN_WALLET'));
    // activation is refused if another party's result is missing or forged
    await expect(acts[0]!.dkgActivate(ctx, r3.slice(0, 2))).rejects.toMatchObject(
      failure('BAD_INPUT', ids[2]),
    );
    await Promise.all(acts.map((a) => a.dkgActivate(ctx, r3)));
    await Promise.all(acts.map((a) => a.dkgActivate(ctx, r3))); // idempotent
  });

  it('a party left at its default gates: no signature, no share change for a tenant it does not trust', async () => {
    const gated = createPartyActivities(
      await openPartyRuntime(ids[0]!, { ...envs[0], CONCLAVE_REQUIRE_GATE: undefined }),
    );
    const sctx: SignContext = {
      tenant: 'acme',
      ceremonyId: `sign:acme:gated-${run}/r1`,
      walletId: ctx.walletId,
      keyId: ctx.keyId,
      version: 1,
      path: 'm',
      message: randomMessage(),
      signers: ids.slice(0, 2),
    };
    await expect(gated.signRound1(sctx)).rejects.toMatchObject({
      ...failure('UNAUTHORIZED'),
      message: expect.stringMatching(
        /trusts no rule set publisher of tenant acme and signs for gated tenants only/,
      ),
    });
    const share = (await runtimes[0]!.store.shares.findOne({ keyId: ctx.keyId }))!;
    const rotation = rotationOf(share, `reshare:acme:${ctx.walletId}:gated-${run}/r1`, {
      dealers: ids.slice(0, 2),
    });
    await expect(gated.reshareDeal(rotation)).rejects.toMatchObject({
      ...failure('UNAUTHORIZED'),
      message: expect.stringMatching(/trusts no governance publisher of tenant acme/),
    });
    // nothing was drawn or dealt
    expect(await runtimes[0]!.store.nonces.countDocuments({ ceremonyId: sctx.ceremonyId })).toBe(0);
    expect(await runtimes[0]!.store.rounds.countDocuments({ ceremonyId: rotation.ceremonyId })).toBe(0);
  });

  it('a nonce signs one request only; a different commitment list is refused', async () => {
    const sctx: SignContext = {
      tenant: 'acme',
      ceremonyId: `sign:acme:req-${run}/r1`,
      walletId: ctx.walletId,
      keyId: ctx.keyId,
      version: 1,
      path: 'm',
      message: randomMessage(),
      signers: ids.slice(0, 2),
    };
    const [a, b] = acts as [PartyActivities, PartyActivities];
    const commits = [await a.signRound1(sctx), await b.signRound1(sctx)];
    expect(await a.signRound1(sctx)).toEqual(commits[0]); // retried round 1: same commitments
    // the same ceremony id for another message is refused before any nonce is touched
    await expect(a.signRound1({ ...sctx, message: randomMessage() })).rejects.toMatchObject(
      failure('REPLAY'),
    );
    const share = await a.signRound2(sctx, commits);
    expect(await a.signRound2(sctx, commits)).toEqual(share); // retried round 2: same share
    // a second, different commitment list for the same nonce: refused
    const other = await b.signRound1({ ...sctx, ceremonyId: `${sctx.ceremonyId}-other` });
    const forgedList = [commits[0]!, { ...other, ceremonyId: sctx.ceremonyId }];
    await expect(a.signRound2(sctx, forgedList)).rejects.toMatchObject({
      details: [expect.objectContaining({ culprit: ids[1] })],
    });
    // the real attack: co-signer b equivocates, validly signing fresh commitments for the same
    // request, to obtain a second share from a's nonce (two shares from one nonce leak a's key)
    const bRt = runtimes[1]!;
    const bShare = (await bRt.store.shares.findOne({ keyId: ctx.keyId }))!;
    const fresh = signCommit(getScheme('frost-ed25519'), bShare.identifier, openShareSecret(bRt, bShare));
    const original = broadcastJson<{ request: string }>(commits[1]!);
    const { tenant, ceremonyId, round, type, from, to } = commits[1]!;
    const equivocation = sealBroadcast(
      { tenant, ceremonyId, round, type, from, to },
      utf8(JSON.stringify({ request: original.request, commitments: [fresh.commitments] })),
      bRt.identitySecret,
    );
    await expect(a.signRound2(sctx, [commits[0]!, equivocation])).rejects.toMatchObject(
      failure('NONCE_REUSE'),
    );
    // spent once, by the honest list; the sealed nonce is gone
    const spent = await runtimes[0]!.store.nonceSpends.findOne({ ceremonyId: sctx.ceremonyId });
    expect(spent?.round2Output).toEqual(share);
    expect(await runtimes[0]!.store.nonces.findOne({ ceremonyId: sctx.ceremonyId })).toBeNull();
  });

  it('a batch: one nonce per item, spent once; items changed behind the digest are refused before any nonce', async () => {
    const batch = [
      { message: randomMessage(), path: 'm' },
      { message: randomMessage(), path: 'm/0/4' },
    ];
    const sctx: SignContext = {
      tenant: 'acme',
      ceremonyId: `sign:acme:batch-${run}/r1`,
      walletId: ctx.walletId,
      keyId: ctx.keyId,
      version: 1,
      path: 'm',
      message: batchDigest(batch),
      batch,
      signers: ids.slice(0, 2),
    };
    const [a, b] = acts as [PartyActivities, PartyActivities];
    // a coordinator that swaps the items (or changes one) while keeping the request's digest
    for (const forged of [
      [batch[1]!, batch[0]!],
      [batch[0]!, { ...batch[1]!, message: randomMessage() }],
    ]) {
      await expect(a.signRound1({ ...sctx, batch: forged })).rejects.toMatchObject({
        ...failure('UNAUTHORIZED'),
        message: expect.stringMatching(/do not hash to the message the request binds/),
      });
    }
    expect(await runtimes[0]!.store.nonces.countDocuments({ ceremonyId: sctx.ceremonyId })).toBe(0);
    const commits = [await a.signRound1(sctx), await b.signRound1(sctx)];
    expect(broadcastJson<{ commitments: unknown[] }>(commits[0]!).commitments).toHaveLength(2);
    const share = await a.signRound2(sctx, commits);
    expect(broadcastJson<{ shares: string[] }>(share).shares).toHaveLength(2);
    expect(await a.signRound2(sctx, commits)).toEqual(share);
    // round 2 with the items changed: refused by the gate again, the spend record unchanged
    await expect(a.signRound2({ ...sctx, batch: [batch[1]!, batch[0]!] }, commits)).rejects.toMatchObject(
      failure('UNAUTHORIZED'),
    );
    expect(
      (await runtimes[0]!.store.nonceSpends.findOne({ ceremonyId: sctx.ceremonyId }))?.round2Output,
    ).toEqual(share);
  });

  it('a preprocessed nonce: drawn once per slot, spends on one request only, refused for another pool', async () => {
    const signers = ids.slice(0, 2);
    const spec = {
      tenant: 'acme',
      walletId: ctx.walletId,
      keyId: ctx.keyId,
      version: 1,
      signers,
      poolId: noncePoolId('acme', ctx.walletId, 1, signers),
    };
    const slots = [`${spec.poolId}/1`, `${spec.poolId}/2`];
    const [a, b] = acts as [PartyActivities, PartyActivities];
    const published = [await a.preprocessNonces(spec, slots), await b.preprocessNonces(spec, slots)];
    // a retry draws nothing new
    expect(await a.preprocessNonces(spec, slots)).toEqual(published[0]);
    // another pool's slot, or a pool id that is not the canonical one, is refused
    await expect(
      a.preprocessNonces(spec, [`${noncePoolId('acme', ctx.walletId, 1, [ids[0]!, ids[2]!])}/1`]),
    ).rejects.toMatchObject(failure('BAD_INPUT'));
    await expect(a.preprocessNonces({ ...spec, poolId: 'pool:x' }, slots)).rejects.toMatchObject(
      failure('BAD_INPUT'),
    );
    const slot = slots[0]!;
    const commitments = published.map((list) => list[0]!);
    const base: SignContext = {
      tenant: 'acme',
      ceremonyId: `sign:acme:pooled-${run}/r1`,
      walletId: ctx.walletId,
      keyId: ctx.keyId,
      version: 1,
      path: 'm',
      message: randomMessage(),
      signers,
      preprocessed: { slot, commitments },
    };
    const share = await a.signRound2(base, commitments);
    expect(await a.signRound2(base, commitments)).toEqual(share); // a retry: the same share
    // a rogue coordinator hands the same slot to another request: the nonce is spent, refused
    const other = { ...base, ceremonyId: `sign:acme:pooled2-${run}/r1`, message: randomMessage() };
    await expect(a.signRound2(other, commitments)).rejects.toMatchObject(failure('NONCE_REUSE'));
    expect(await runtimes[0]!.store.nonces.findOne({ _id: `acme|${slot}` })).toBeNull();
    // and the second slot's nonce is still there for its one request
    expect(await runtimes[0]!.store.nonces.findOne({ _id: `acme|${slots[1]}` })).not.toBeNull();
  });

  it('a coordinator cannot move a share to another tenant', async () => {
    const sctx: SignContext = {
      tenant: 'other',
      ceremonyId: `x-${run}`,
      walletId: ctx.walletId,
      keyId: ctx.keyId,
      version: 1,
      path: 'm',
      message: 'aa',
      signers: ids.slice(0, 2),
    };
    await expect(acts[0]!.signRound1(sctx)).rejects.toMatchObject(failure('UNKNOWN_WALLET'));
  });
});

describe('abort', () => {
  it('a round that arrives after the abort stores nothing and is refused', async () => {
    const scheme = getScheme('frost-ed25519');
    const infos = await Promise.all(acts.map((a) => a.describeParty()));
    const actx: KeygenContext = {
      tenant: 'acme',
      ceremonyId: `keygen:acme:w-abort-${run}/r1`,
      walletId: `w-abort-${run}`,
      keyId: `k-abort-${run}`,
      version: 1,
      scheme: scheme.name,
      threshold: 2,
      roster: infos.map((p, i) => ({ ...p, identifier: identifierFor(scheme, i + 1) })),
    };
    const r1 = await Promise.all(acts.map((a) => a.dkgRound1(actx)));
    const r2 = (await Promise.all(acts.map((a) => a.dkgRound2(actx, r1)))).flat();
    // the coordinator aborts; party c's round 3 was still in flight and lands afterwards
    await Promise.all(acts.map((a) => a.dkgAbort(actx)));
    const c = acts[2]!;
    await expect(
      c.dkgRound3(
        actx,
        r1,
        r2.filter((e: Envelope) => e.to === ids[2]),
      ),
    ).rejects.toMatchObject(failure('ABORTED'));
    await expect(c.dkgRound1(actx)).rejects.toMatchObject(failure('ABORTED'));
    for (const rt of runtimes) {
      expect(await rt.store.shares.countDocuments({ walletId: actx.walletId })).toBe(0);
      expect(await rt.store.pendingShares.countDocuments({ walletId: actx.walletId })).toBe(0);
      expect(await rt.store.rounds.countDocuments({ ceremonyId: actx.ceremonyId })).toBe(0);
      expect(await rt.store.roundOutputs.countDocuments({ ceremonyId: actx.ceremonyId })).toBe(0);
    }
  });
});

describe('per-party databases', () => {
  it('each party writes only to its own database', async () => {
    const config = loadConfig(stackEnv());
    for (const id of ids) {
      const own = new PartyStore(await openDb(config.partyDb(id)));
      expect(await own.shares.countDocuments({ walletId: `w-${run}` })).toBe(1);
    }
    expect(new Set(ids.map((id) => config.partyDb(id).name)).size).toBe(ids.length);
  });
});
