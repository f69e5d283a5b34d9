/** A party's own gate in front of signing: the tenant's signed rules, request and approvals. */
import { ConclaveError } from '../../src/errors.js';
import { dryRunMessage, publicationDigest } from '../../src/policy/authorization.js';
import { checkSignAuthorization } from '../../src/policy/gate.js';
import { parseInstant } from '../../src/policy/transaction.js';
import { type PartyRuntime } from '../../src/party/runtime.js';
import {
  checkBatchContext,
  checkPreprocessedContext,
  type SignContext,
} from '../../src/ceremony/sign/contracts.js';
import { checkTimeLock } from './time-lock.js';

/**
 * The party's own policy check (src/policy/gate.ts) for a tenant whose rule set publishers its
 * operator trusts: signed request, signed rules evaluated here, signed approvals. It also refuses
 * a rule set older than one this party has already signed under, unless the request was made
 * before that one (a coordinator replaying a more permissive version for a new request), and a
 * batch whose items do not hash to the request's message. Runs before a nonce is drawn and again
 * before the share is produced.
 */
export async function passGate(rt: PartyRuntime, ctx: SignContext): Promise<void> {
  checkBatchContext(ctx);
  checkPreprocessedContext(ctx);
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
    trust.latestPublication,
  );
  const published = parseInstant(ctx.authorization!.publication.publishedAt);
  if (trust.latestPublication === undefined || published > trust.latestPublication) {
    const pub = ctx.authorization!.publication;
    await checkTimeLock(rt, trust, ctx.tenant, 'rules', publicationDigest(pub), pub.rulesVersion);
    await rt.store.tenantTrust.updateOne({ _id: ctx.tenant }, { $max: { latestPublication: published } });
  }
}
