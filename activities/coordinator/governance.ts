/**
 * The coordinator's side of governance: it keeps a tenant's published governance policies
 * (versioned, always signed, the first publisher's key pinned) and judges a share change under
 * the current one: the statement approvers sign and parties check. It decides nothing a party
 * takes on its word: every party checks the signed policy, the statement and the approvals itself
 * (`activities/party/share-change-guard.ts`).
 */
import { loadConfig } from '../../src/config.js';
import { ConclaveError } from '../../src/errors.js';
import { checkApproval, type SignedApproval } from '../../src/policy/authorization.js';
import {
  governanceDigest,
  keyChangeApprovalContext,
  keyChangeDigest,
  parseGovernancePolicy,
  verifyGovernance,
  type GovernancePolicy,
  type KeyChangeStatement,
  type KeyChangeTarget,
  type SignedGovernance,
} from '../../src/policy/governance.js';
import { parseInstant } from '../../src/policy/transaction.js';
import { clockSkewMs } from '../../src/policy/gate.js';
import type { CoordinatorStore } from '../../src/store/coordinator-store.js';
import { governanceDocId, type GovernanceDoc } from '../../src/store/policy-store.js';
import { assertId, printableActor } from '../../src/validation.js';
import type {
  GovernanceVersion,
  KeyChangeJudgement,
  PublishGovernanceRequest,
} from '../../src/policy/contracts.js';
import { effectiveAtOfNew, governanceHead, governanceInEffect } from './registry.js';

const versionOf = (d: GovernanceDoc, current: number): GovernanceVersion => ({
  tenant: d.tenant,
  version: d.version,
  current: d.version === current,
  publishedBy: d.signature.publisher,
  publisherKey: d.signature.publisherKey,
  publishedAt: d.signature.publishedAt,
  signature: d.signature.signature,
  digest: governanceDigest({ tenant: d.tenant, policy: d.policy, ...d.signature }),
  effectiveAt: d.effectiveAt.toISOString(),
  previous: d.previous,
  policy: d.policy,
  ...(d.rollbackOf !== undefined ? { rollbackOf: d.rollbackOf } : {}),
});

const signedOf = (d: GovernanceDoc): SignedGovernance => ({
  tenant: d.tenant,
  policy: d.policy,
  ...d.signature,
  governanceVersion: d.version,
});

export function governanceActivities(getStore: () => Promise<CoordinatorStore>) {
  const head = governanceHead;

  return {
    /** The parties of this deployment: publications are announced to each (time locks count from it). */
    async deploymentParties(): Promise<string[]> {
      return loadConfig().parties;
    },

    /**
     * Publishes a signed governance policy (or, with `rollbackTo`, an older one re-signed) as the
     * tenant's next version. The first publication pins its publisher's key: from then on only
     * that key publishes this tenant's governance. The number is reserved by a conditional update.
     */
    async publishGovernance(req: PublishGovernanceRequest): Promise<GovernanceVersion> {
      assertId('tenant', req.tenant);
      const store = await getStore();
      let policy: GovernancePolicy;
      if (req.rollbackTo !== undefined) {
        const old = await store.policy.governance.findOne({
          _id: governanceDocId(req.tenant, req.rollbackTo),
        });
        if (!old)
          throw new ConclaveError(
            'BAD_INPUT',
            `tenant ${req.tenant} has no governance version ${req.rollbackTo}`,
          );
        policy = old.policy;
      } else {
        policy = parseGovernancePolicy(req.policy);
      }
      const sig = req.signature;
      if (!sig || !verifyGovernance({ tenant: req.tenant, policy, ...sig }))
        throw new ConclaveError(
          'UNAUTHORIZED',
          `a governance policy must be signed by its publisher's key${sig ? `; ${sig.publisher}'s signature does not verify` : ''}`,
        );
      if (Math.abs(parseInstant(sig.publishedAt) - Date.now()) > clockSkewMs)
        throw new ConclaveError(
          'UNAUTHORIZED',
          `the publication is dated ${sig.publishedAt}, too far from now`,
        );
      const h = await head(store, req.tenant);
      if (h.publisherKey && sig.publisherKey !== h.publisherKey)
        throw new ConclaveError(
          'UNAUTHORIZED',
          `tenant ${req.tenant}'s governance is published by ${h.publisher}'s key only; this one is signed by ${sig.publisher}`,
        );
      const version = h.last + 1;
      const reserved = await store.policy.governanceHeads
        .updateOne(
          { _id: req.tenant, last: h.last },
          {
            $set: { last: version, publisher: sig.publisher, publisherKey: sig.publisherKey },
            $setOnInsert: { current: h.current },
          },
          { upsert: h.last === 0 },
        )
        .catch(() => ({ modifiedCount: 0, upsertedCount: 0 }));
      if (reserved.modifiedCount + reserved.upsertedCount !== 1)
        throw new ConclaveError(
          'BUSY',
          `another governance policy was published for ${req.tenant} meanwhile`,
        );
      const doc: GovernanceDoc = {
        _id: governanceDocId(req.tenant, version),
        tenant: req.tenant,
        version,
        policy,
        signature: sig,
        publishedAt: new Date(),
        effectiveAt: await effectiveAtOfNew(store, req.tenant),
        previous: h.current,
        ...(req.rollbackTo !== undefined ? { rollbackOf: req.rollbackTo } : {}),
      };
      await store.policy.governance.insertOne(doc);
      await store.policy.governanceHeads.updateOne({ _id: req.tenant }, { $max: { current: version } });
      return versionOf(doc, version);
    },

    /** Every published governance version of a tenant, newest first. */
    async governanceHistory(tenant: string): Promise<GovernanceVersion[]> {
      assertId('tenant', tenant);
      const store = await getStore();
      const h = await head(store, tenant);
      const docs: GovernanceDoc[] = [];
      for (let v = h.last; v >= 1; v--) {
        const d = await store.policy.governance.findOne({ _id: governanceDocId(tenant, v) });
        if (d) docs.push(d);
      }
      return docs.map((d) => versionOf(d, h.current));
    },

    /**
     * Judges a key-management action (a planned share change, a backup export, a pairing) under
     * the tenant's governance in effect: null when the tenant has published none. Refused
     * (UNAUTHORIZED) when the policy does not allow the action.
     */
    async judgeKeyChange(
      target: Omit<KeyChangeTarget, 'ceremonyId' | 'recoveryKey'>,
      requestId: string,
      requestedBy: string | undefined,
      recoveryKeys?: Record<string, string>,
    ): Promise<KeyChangeJudgement | null> {
      const store = await getStore();
      const doc = await governanceInEffect(store, target.tenant);
      if (!doc) return null;
      const governance = signedOf(doc);
      const now = Date.now();
      const statement: KeyChangeStatement = {
        ...target,
        ...(recoveryKeys ? { recoveryKeys } : {}),
        requestId,
        requestedBy: printableActor(requestedBy ?? 'unknown'),
        createdAt: new Date(now).toISOString(),
        expiresAt: new Date(now + doc.policy.requestExpiresAfter * 1000).toISOString(),
        governanceVersion: doc.version,
        governanceDigest: governanceDigest(governance),
      };
      const { required } = keyChangeApprovalContext({ governance, statement });
      return { statement, digest: keyChangeDigest(statement), governance, required };
    },

    /** Why an approval of a judged share change is refused, or undefined when it counts. */
    async checkKeyChangeApproval(
      judged: KeyChangeJudgement,
      approval: SignedApproval,
      accepted: SignedApproval[],
    ): Promise<string | undefined> {
      return checkApproval(approval, { ...keyChangeApprovalContext(judged), accepted });
    },
  };
}
