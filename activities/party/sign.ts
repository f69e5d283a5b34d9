/**
 * A party's side of FROST signing. Round 1 draws a nonce pair, stores it sealed and bound to
 * (ceremony, key, message), and broadcasts the commitments. Round 2 spends the nonce exactly
 * once: one atomic update marks it used, records what it was spent on and removes the sealed
 * nonces. A retry of the same round returns the stored share; any other use is refused.
 */
import type { Envelope } from '../../src/crypto/envelope.js';
import { openJson, sealJson } from '../../src/crypto/at-rest.js';
import type { SigningNonces } from '../../src/crypto/frost.js';
import { ConclaveError } from '../../src/errors.js';
import { dryRunMessage, publicationDigest } from '../../src/policy/authorization.js';
import { checkSignAuthorization } from '../../src/policy/gate.js';
import { parseInstant } from '../../src/policy/transaction.js';
import { nonceContext, openShareSecret, type PartyRuntime } from '../../src/party/runtime.js';
import {
  nonceDocId,
  PartyStore,
  shareDocId,
  type NonceDoc,
  type NonceSpendDoc,
  type ShareDoc,
} from '../../src/store/party-store.js';
import { signRequestHash, type SignContext } from '../../src/ceremony/sign/contracts.js';
import { abortCeremony, writeUnlessAborted } from './common.js';
import { selfEntry } from '../../src/ceremony/rounds.js';
import * as signParty from '../../src/ceremony/sign/party.js';
import { checkTimeLock } from './time-lock.js';

export async function activeShare(rt: PartyRuntime, ctx: SignContext): Promise<ShareDoc> {
  const id = shareDocId(ctx.tenant, ctx.keyId, ctx.version);
  const share = await rt.activeShares.get(id, () => rt.store.shares.findOne({ _id: id }));
  if (!share || share.tenant !== ctx.tenant || share.walletId !== ctx.walletId) {
    throw new ConclaveError(
      'UNKNOWN_WALLET',
      `${rt.partyId} holds no active share of wallet ${ctx.walletId} (${ctx.tenant})`,
    );
  }
  const parties = new Set(share.roster.map((p) => p.partyId));
  const signers = new Set(ctx.signers);
  if (signers.size !== ctx.signers.length) throw new ConclaveError('BAD_INPUT', 'signer list has duplicates');
  if (signers.size < share.threshold) {
    throw new ConclaveError('BAD_INPUT', `${share.threshold} signers needed, ${signers.size} named`);
  }
  for (const s of signers) {
    if (!parties.has(s))
      throw new ConclaveError('BAD_INPUT', `${s} holds no share of wallet ${ctx.walletId}`);
  }
  if (!signers.has(rt.partyId))
    throw new ConclaveError('BAD_INPUT', `${rt.partyId} is not a signer of this request`);
  selfEntry(rt, share.roster);
  return share;
}

/**
 * The party's own policy check (src/policy/gate.ts) for a tenant whose rule set publishers its
 * operator trusts: signed request, signed rules evaluated here, signed approvals. It also refuses
 * a rule set older than one this party has already signed under (a coordinator replaying a more
 * permissive version). Runs before a nonce is drawn and again before the share is produced.
 */
export async function passGate(rt: PartyRuntime, ctx: SignContext): Promise<void> {
  // a dry run's message is a tagged hash that pays nothing; anything else goes through the gate
  if (ctx.dryRun) {
    if (ctx.message === dryRunMessage(ctx.dryRun)) return;
    throw new ConclaveError('UNAUTHORIZED', `the message is not the dry run's own (${ctx.dryRun.purpose})`);
  }
  const trust = await rt.store.tenantTrust.findOne({ _id: ctx.tenant });
  if (!trust?.publishers?.length) {
    if (!rt.requireGate) return;
    throw new ConclaveError(
      'UNAUTHORIZED',
      `${rt.partyId} trusts no rule set publisher of tenant ${ctx.tenant} and signs for gated tenants only`,
    );
  }
  const cut = ctx.ceremonyId.lastIndexOf('/');
  await checkSignAuthorization(
    ctx.authorization,
    {
      tenant: ctx.tenant,
      walletId: ctx.walletId,
      message: ctx.message,
      path: ctx.path,
      ...(ctx.merkleRoot ? { merkleRoot: ctx.merkleRoot } : {}),
      requestId: cut > 0 ? ctx.ceremonyId.slice(0, cut) : ctx.ceremonyId,
    },
    trust.publishers,
    Date.now(),
  );
  const published = parseInstant(ctx.authorization!.publication.publishedAt);
  if (trust.latestPublication !== undefined && published < trust.latestPublication) {
    throw new ConclaveError(
      'UNAUTHORIZED',
      `rules v${ctx.authorization!.publication.rulesVersion} are older than a rule set ${rt.partyId} has already signed under`,
    );
  }
  if (trust.latestPublication === undefined || published > trust.latestPublication) {
    const pub = ctx.authorization!.publication;
    await checkTimeLock(rt, trust, ctx.tenant, 'rules', publicationDigest(pub), pub.rulesVersion);
    await rt.store.tenantTrust.updateOne({ _id: ctx.tenant }, { $max: { latestPublication: published } });
  }
}

export function signActivities(rt: PartyRuntime) {
  return {
    async signRound1(ctx: SignContext): Promise<Envelope> {
      const share = await activeShare(rt, ctx);
      await passGate(rt, ctx);
      const request = signRequestHash(ctx);
      const id = nonceDocId(ctx.tenant, ctx.ceremonyId);
      // A retry returns what round 1 produced before, whether its nonce is still fresh or spent.
      const known =
        (await rt.store.nonces.findOne({ _id: id })) ?? (await rt.store.nonceSpends.findOne({ _id: id }));
      if (known) {
        if (known.request !== request) {
          throw new ConclaveError(
            'REPLAY',
            `ceremony ${ctx.ceremonyId} already committed to another request on ${rt.partyId}`,
          );
        }
        return known.round1Output as Envelope;
      }
      const { nonces, output } = signParty.round1(rt, ctx, share, openShareSecret(rt, share));
      const fresh: NonceDoc = {
        _id: id,
        tenant: ctx.tenant,
        ceremonyId: ctx.ceremonyId,
        keyId: ctx.keyId,
        version: ctx.version,
        request,
        sealed: sealJson(rt.kek, nonces, nonceContext(rt, ctx)),
        round1Output: output,
        createdAt: new Date(),
      };
      const stored = await writeUnlessAborted(
        rt,
        ctx.tenant,
        ctx.ceremonyId,
        () => PartyStore.insertOrGet(rt.store.nonces, fresh),
        () => rt.store.nonces.deleteOne({ _id: id }),
      );
      if (stored.request !== request) {
        throw new ConclaveError(
          'REPLAY',
          `ceremony ${ctx.ceremonyId} already committed to another request on ${rt.partyId}`,
        );
      }
      return stored.round1Output as Envelope;
    },

    async signRound2(ctx: SignContext, commitments: Envelope[]): Promise<Envelope> {
      const share = await activeShare(rt, ctx);
      await passGate(rt, ctx);
      const request = signRequestHash(ctx);
      const id = nonceDocId(ctx.tenant, ctx.ceremonyId);
      const spent = await rt.store.nonceSpends.findOne({ _id: id });
      const doc = spent ? undefined : await rt.store.nonces.findOne({ _id: id });
      const round1Output = (spent ?? doc)?.round1Output as Envelope | undefined;
      if (!round1Output || (spent ?? doc)!.request !== request) {
        throw new ConclaveError(
          'BAD_INPUT',
          `no signing nonce for this request on ${rt.partyId} (round 1 not run)`,
        );
      }
      const list = signParty.openCommitments(rt, ctx, share, commitments, round1Output);
      const spentOn = signParty.nonceSpendBinding(ctx, list);
      if (spent) return returnSpent(rt, spent, spentOn);

      const nonces = openJson<SigningNonces>(rt.kek, doc!.sealed, nonceContext(rt, ctx));
      const output = signParty.round2(rt, ctx, share, openShareSecret(rt, share), nonces, list);
      // Spending is one insert under the nonce's id: of two concurrent spends only one exists.
      const record = await PartyStore.insertOrGet(rt.store.nonceSpends, {
        _id: id,
        tenant: ctx.tenant,
        ceremonyId: ctx.ceremonyId,
        keyId: ctx.keyId,
        version: ctx.version,
        request,
        round1Output,
        spentOn,
        round2Output: output,
        spentAt: new Date(),
      });
      return returnSpent(rt, record, spentOn);
    },

    /** Destroys an unspent nonce of an aborted signing ceremony. */
    async signAbort(ctx: SignContext): Promise<void> {
      await abortCeremony(rt, ctx.tenant, ctx.ceremonyId, () =>
        rt.store.nonces.deleteOne({ _id: nonceDocId(ctx.tenant, ctx.ceremonyId) }),
      );
    },
  };
}

/** The share a spent nonce produced, if asked for the same commitment list; the sealed nonce goes. */
async function returnSpent(rt: PartyRuntime, spent: NonceSpendDoc, spentOn: string): Promise<Envelope> {
  await rt.store.nonces.deleteOne({ _id: spent._id });
  if (spent.spentOn !== spentOn) {
    throw new ConclaveError('NONCE_REUSE', `${rt.partyId} refuses to use a signing nonce a second time`);
  }
  return spent.round2Output as Envelope;
}
