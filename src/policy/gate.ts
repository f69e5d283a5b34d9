/**
 * The parties' validation gate: before producing anything for a signature, a party decides for
 * itself whether policy allows it, from signed statements only. It trusts the publishers its own
 * operator pinned; the rule set they signed names the initiators and approvers; the request must
 * be signed by an initiator; the party evaluates the rules itself and, if they escalate, checks
 * the signed approvals. The coordinator is only a courier here: what it claims is never read.
 *
 * One input is taken on the coordinator's word: the velocity ledger (earlier reservations), which
 * only the coordinator holds. A compromised coordinator can understate it; every other rule holds.
 */
import { ConclaveError } from '../errors.js';
import {
  approvalsMet,
  checkApproval,
  checkRequestSignature,
  describeApprovals,
  publicationDigest,
  requestDigest,
  verifyPublication,
  type SignedApproval,
  type SignedPublication,
  type SignedRequest,
} from './authorization.js';
import { evaluatePolicy } from './engine.js';
import { parseInstant } from './transaction.js';
import type { ActorKey, Decision, Transaction, VelocityEntry } from './types.js';

/** What travels with a sign request to every party. */
export interface SignAuthorization {
  request: SignedRequest;
  publication: SignedPublication;
  approvals: SignedApproval[];
  velocity?: VelocityEntry[];
}

/** What the party is asked to sign, from its own round input. */
export interface GateTarget {
  tenant: string;
  walletId: string;
  message: string;
  path: string;
  merkleRoot?: string;
  /** The signing ceremony's workflow id. */
  requestId: string;
}

/** Clocks may differ this much between the initiator, the coordinator and the parties. */
export const clockSkewMs = 5 * 60_000;

/** The transaction a request describes, as the rules judge it. */
export function transactionOf(req: SignedRequest): Transaction {
  const s = req.statement;
  return {
    ...s.tx,
    tenant: s.tenant,
    walletId: s.walletId,
    initiator: s.initiator,
    at: s.createdAt,
  };
}

const refuse = (why: string): never => {
  throw new ConclaveError('UNAUTHORIZED', why);
};

/**
 * Checks `auth` for `target` against the publishers the party trusts. Returns the decision the
 * party reached; throws UNAUTHORIZED (statements missing, forged or about something else),
 * POLICY_BLOCKED, APPROVAL_REQUIRED or APPROVAL_REJECTED, or BAD_INPUT for a malformed time or
 * transaction. `newestSeen` is when the newest rule set the party has signed under was
 * published (the caller keeps it): see `refuseOlderRules`.
 */
export async function checkSignAuthorization(
  auth: SignAuthorization | undefined,
  target: GateTarget,
  publishers: readonly ActorKey[],
  now: number,
  newestSeen?: number,
): Promise<Decision> {
  if (!auth?.request?.statement || !auth.publication)
    return refuse(`tenant ${target.tenant} requires a signed request and rule set for every signature`);
  const pub = auth.publication;
  const trusted = publishers.find((p) => p.id === pub.publisher && p.publicKey === pub.publisherKey);
  if (pub.tenant !== target.tenant) refuse(`the rule set is tenant ${pub.tenant}'s, not ${target.tenant}'s`);
  if (!trusted)
    refuse(`the rule set was published by ${pub.publisher}, not by a publisher this party trusts`);
  if (!verifyPublication(pub)) refuse(`the rule set's signature by ${pub.publisher} does not verify`);

  const req = auth.request;
  const s = req.statement;
  const signed = checkRequestSignature(req, pub.config);
  if ('refused' in signed) return refuse(signed.refused);
  const same =
    s.tenant === target.tenant &&
    s.walletId === target.walletId &&
    s.message === target.message &&
    s.path === target.path &&
    (s.merkleRoot ?? '') === (target.merkleRoot ?? '') &&
    s.requestId === target.requestId;
  if (!same) refuse(`the request ${s.initiator} signed is not for this wallet, message, path or ceremony`);
  const created = parseInstant(s.createdAt);
  if (created > now + clockSkewMs) refuse(`the request is dated in the future (${s.createdAt})`);
  if (now - created > pub.config.escalationExpiresAfter * 1000 + clockSkewMs)
    refuse(`the request of ${s.createdAt} is older than the tenant's escalation expiry`);
  refuseOlderRules(pub, created, newestSeen);

  const decision = await evaluatePolicy(
    { ...pub.ruleSet, version: pub.rulesVersion },
    pub.config,
    transactionOf(req),
    undefined,
    { context: auth.velocity ? { velocity: auth.velocity } : {} },
  );
  const reasons = decision.fired
    .filter((f) => f.action === decision.outcome)
    .map((f) => `${f.rule}: ${f.reason}`)
    .join('; ');
  if (decision.outcome === 'block')
    throw new ConclaveError('POLICY_BLOCKED', `blocked by rules v${pub.rulesVersion}: ${reasons}`);
  if (decision.outcome === 'escalate') {
    const accepted: SignedApproval[] = [];
    const context = {
      tenant: target.tenant,
      requestId: s.requestId,
      requestDigest: requestDigest(s),
      rulesVersion: pub.rulesVersion,
      publicationDigest: publicationDigest(pub),
      initiator: s.initiator,
      ...(req.initiatorKey ? { initiatorKey: req.initiatorKey } : {}),
      approvers: pub.config.approvers,
      required: decision.approvals,
    };
    if (auth.approvals !== undefined && !Array.isArray(auth.approvals))
      refuse('approvals must be a list of signed approvals');
    for (const a of auth.approvals ?? []) {
      const why = checkApproval(a, { ...context, accepted });
      if (why) throw new ConclaveError('APPROVAL_REQUIRED', `approval refused: ${why}`);
      if (a.statement.verdict === 'reject')
        throw new ConclaveError('APPROVAL_REJECTED', `${a.statement.approver} rejected the request`);
      accepted.push(a);
    }
    if (!approvalsMet(decision.approvals, accepted)) {
      throw new ConclaveError(
        'APPROVAL_REQUIRED',
        `rules v${pub.rulesVersion} require approvals (${describeApprovals(decision.approvals)}), ${accepted.length} valid given: ${reasons}`,
      );
    }
  }
  return decision;
}

/**
 * A request is judged under the rules in effect when its initiator made it, and only under
 * those. Once a party has signed under a newer rule set, an older one is accepted only for a
 * request made before that newer one was published (one that waited for approvals meanwhile),
 * and never for a request made before its own rules existed: a coordinator replaying a more
 * permissive version cannot use it for anything new, since the initiator dates what it signs.
 */
function refuseOlderRules(pub: SignedPublication, created: number, newestSeen: number | undefined): void {
  const published = parseInstant(pub.publishedAt);
  if (created + clockSkewMs < published)
    refuse(`the request is older than rules v${pub.rulesVersion}, which cannot have judged it`);
  if (newestSeen === undefined || published >= newestSeen) return;
  if (created >= newestSeen)
    refuse(
      `rules v${pub.rulesVersion} are older than a rule set this party has already signed under, and the request was made after that one was published`,
    );
}
