/**
 * Coordinator activities for a tenant's rule sets: publish (validated, versioned, with who, when
 * and what changed), roll back (re-publish an older version as a new one) and history. A
 * published version never changes; decisions name the version they used.
 */
import { ConclaveError } from '../../src/errors.js';
import {
  canonicalJson,
  checkApproval,
  checkCancellation,
  checkRequestSignature,
  clockSkewMs,
  evaluatePolicy,
  parseInstant,
  publicationDigest,
  requestDigest,
  transactionOf,
  verifyPublication,
  type PublicationSignature,
  type SignedApproval,
  type SignedCancellation,
  type SignedPublication,
  type SignedRequest,
  signStatement,
  type TransactionDescription,
  type VelocityEntry,
  parseTenantPolicyConfig,
  parseRuleSet,
  type RuleSet,
  type RuleSpec,
  type TenantPolicyConfig,
  type Transaction,
} from '../../src/policy/index.js';
import type { CoordinatorStore } from '../../src/store/coordinator-store.js';
import {
  reservationDocId,
  ruleSetDocId,
  type ReservationDoc,
  type RuleSetDoc,
} from '../../src/store/policy-store.js';
import { isDuplicateKey } from '../../src/store/mongo.js';
import { formatPath, parsePath } from '../../src/crypto/hd.js';
import { fiatValue } from '../../plugins/amount-limits.js';
import { newestInEffect } from '../../src/policy/effective.js';
import { effectiveAtOfNew } from './registry.js';
import { velocity } from '../../plugins/velocity.js';
import { assertId, printableActor, validateSignRequest } from '../../src/validation.js';
import {
  signRequestRefusal,
  type BacktestRequest,
  type BacktestResult,
  type PublishRulesRequest,
  type RuleSetVersion,
} from '../../src/policy/contracts.js';
import type { SignJudgement, SignRequest } from '../../src/ceremony/sign/contracts.js';

/** Rule names added, removed and changed between two versions. */
export function diffRuleSets(before: RuleSpec[], after: RuleSpec[]): RuleSetDoc['diff'] {
  const byName = (rules: RuleSpec[]) => new Map(rules.map((r) => [r.name, JSON.stringify(r)]));
  const a = byName(before);
  const b = byName(after);
  return {
    added: [...b.keys()].filter((n) => !a.has(n)),
    removed: [...a.keys()].filter((n) => !b.has(n)),
    changed: [...b.keys()].filter((n) => a.has(n) && a.get(n) !== b.get(n)),
  };
}

/** The config's top-level fields that differ between two versions (`before` absent: the defaults). */
export function diffConfigs(before: TenantPolicyConfig | undefined, after: TenantPolicyConfig): string[] {
  const a = (before ?? parseTenantPolicyConfig({})) as unknown as Record<string, unknown>;
  const b = after as unknown as Record<string, unknown>;
  return [...new Set([...Object.keys(a), ...Object.keys(b)])]
    .filter((k) => canonicalJson(a[k] ?? null) !== canonicalJson(b[k] ?? null))
    .sort();
}

const toVersion = (d: RuleSetDoc, current: number, before?: TenantPolicyConfig): RuleSetVersion => ({
  tenant: d.tenant,
  version: d.version,
  current: d.version === current,
  publishedBy: d.publishedBy,
  publishedAt: d.publishedAt.toISOString(),
  previous: d.previous,
  diff: d.diff,
  config: { changed: diffConfigs(before, d.config) },
  ...(d.signature ? { signer: { id: d.signature.publisher, publicKey: d.signature.publisherKey } } : {}),
  rules: d.ruleSet.rules.length,
  ...(d.rollbackOf ? { rollbackOf: d.rollbackOf } : {}),
  ...(d.effectiveAt ? { effectiveAt: d.effectiveAt.toISOString() } : {}),
  ...(d.signature ? { digest: publicationDigest(publicationOf(d)) } : {}),
});

export function policyActivities(getStore: () => Promise<CoordinatorStore>) {
  const head = async (store: CoordinatorStore, tenant: string) =>
    (await store.policy.heads.findOne({ _id: tenant })) ?? { _id: tenant, current: 0, last: 0 };

  return {
    /**
     * Publishes a rule set (JSON text) or, with `rollbackTo`, re-publishes an older version, as the
     * tenant's next version. The number is reserved first by a conditional update, so two
     * publishers never get the same one; a number reserved by a publish that then failed is skipped.
     */
    async publishRules(req: PublishRulesRequest): Promise<RuleSetVersion> {
      assertId('tenant', req.tenant);
      const store = await getStore();
      let ruleSet: RuleSet;
      let config: TenantPolicyConfig;
      if (req.rollbackTo !== undefined) {
        const old = await store.policy.ruleSets.findOne({ _id: ruleSetDocId(req.tenant, req.rollbackTo) });
        if (!old)
          throw new ConclaveError(
            'BAD_INPUT',
            `tenant ${req.tenant} has no rule set version ${req.rollbackTo}`,
          );
        ruleSet = old.ruleSet;
        config = old.config;
      } else {
        ruleSet = parseRuleSet(req.text ?? '');
        config = parseTenantPolicyConfig(req.config ?? {});
      }
      if (req.signature) checkPublicationSignature(req.tenant, ruleSet, config, req.signature);
      const h = await head(store, req.tenant);
      // The first signed publication pins its publisher's key: from then on only that key
      // publishes (or rolls back) this tenant's rules, and unsigned publications are refused.
      if (h.publisherKey && req.signature?.publisherKey !== h.publisherKey) {
        throw new ConclaveError(
          'UNAUTHORIZED',
          `tenant ${req.tenant}'s rules are published by ${h.publisher}'s key only; this publication is ${
            req.signature ? `signed by another key (${req.signature.publisher})` : 'unsigned'
          }`,
        );
      }
      const pin =
        !h.publisherKey && req.signature
          ? { publisher: req.signature.publisher, publisherKey: req.signature.publisherKey }
          : {};
      const version = h.last + 1;
      const reserved = await store.policy.heads
        .updateOne(
          { _id: req.tenant, last: h.last },
          { $set: { last: version, ...pin }, $setOnInsert: { current: h.current } },
          { upsert: h.last === 0 },
        )
        .catch(() => ({ modifiedCount: 0, upsertedCount: 0 }));
      if (reserved.modifiedCount + reserved.upsertedCount !== 1) {
        throw new ConclaveError(
          'BUSY',
          `another rule set was published for ${req.tenant} meanwhile; publish again`,
        );
      }
      const previousDoc = h.current
        ? await store.policy.ruleSets.findOne({ _id: ruleSetDocId(req.tenant, h.current) })
        : null;
      const before = previousDoc?.ruleSet.rules ?? [];
      const doc: RuleSetDoc = {
        _id: ruleSetDocId(req.tenant, version),
        tenant: req.tenant,
        version,
        ruleSet: { ...ruleSet, version },
        config,
        publishedBy: req.signature ? req.signature.publisher : printableActor(req.requestedBy ?? 'unknown'),
        publishedAt: new Date(),
        previous: h.current,
        effectiveAt: await effectiveAtOfNew(store, req.tenant),
        diff: diffRuleSets(before, ruleSet.rules),
        ...(req.rollbackTo !== undefined ? { rollbackOf: req.rollbackTo } : {}),
        ...(req.signature ? { signature: req.signature } : {}),
      };
      await store.policy.ruleSets.insertOne(doc);
      await store.policy.heads.updateOne({ _id: req.tenant }, { $max: { current: version } });
      return toVersion(doc, version, previousDoc?.config);
    },

    /**
     * The tenant's current rules on a sign request, before anything reaches a party: null when the
     * tenant has published none. The request statement is the one its initiator signed, checked
     * against the request and the tenant's initiators; or, when the tenant lists no initiators and
     * the client did not sign, one the coordinator writes (initiator = requestedBy, time = now).
     * Rule sets that read velocity facts judge against the ledger and reserve atomically.
     */
    async evaluateSignPolicy(req: SignRequest, requestId: string): Promise<SignJudgement | null> {
      validateSignRequest(req);
      // a dry run signs only its own tagged hash, which pays nothing: no rules apply
      if (req.dryRun) return null;
      const store = await getStore();
      const h = await head(store, req.tenant);
      // the newest version whose time lock has passed (none yet: the tenant signs as before)
      const published = await newestInEffect(h.current, (v) =>
        store.policy.ruleSets.findOne({ _id: ruleSetDocId(req.tenant, v) }),
      );
      if (!published) return null;
      const refused = signRequestRefusal(req, published.config);
      if (refused) throw new ConclaveError(refused.code, refused.message);
      const request = requestStatement(req, req.tx!, requestId, published.config);
      const transaction = transactionOf(request);
      const publication = publicationOf(published);
      const judged = await judgeWithLedger(store, publication, transaction, requestId);
      return {
        ...judged,
        transaction,
        request,
        requestDigest: requestDigest(request.statement),
        publication,
        publicationDigest: publicationDigest(publication),
      };
    },

    /** Marks a request's velocity reservation as released: it no longer counts against the limits. */
    async releaseReservation(tenant: string, reservation: string): Promise<void> {
      const store = await getStore();
      await store.policy.reservations.updateOne({ _id: reservation, tenant }, { $set: { released: true } });
    },

    /** Why an approval of a judged request is refused, or undefined when it counts. */
    async checkApproval(
      judged: SignJudgement,
      approval: SignedApproval,
      accepted: SignedApproval[],
    ): Promise<string | undefined> {
      const s = judged.request.statement;
      return checkApproval(approval, {
        tenant: s.tenant,
        requestId: s.requestId,
        requestDigest: judged.requestDigest,
        rulesVersion: judged.publication.rulesVersion,
        publicationDigest: judged.publicationDigest,
        initiator: s.initiator,
        ...(judged.request.initiatorKey ? { initiatorKey: judged.request.initiatorKey } : {}),
        approvers: judged.publication.config.approvers,
        required: judged.decision.approvals,
        accepted,
      });
    },

    /** Why a cancellation of a judged request is refused, or undefined when it stands. */
    async checkCancellation(
      judged: SignJudgement,
      cancellation: SignedCancellation,
    ): Promise<string | undefined> {
      return checkCancellation(cancellation, judged.request, {
        tenant: judged.request.statement.tenant,
        requestId: judged.request.statement.requestId,
      });
    },

    /** One published version's rules and config (for a publisher re-signing it as a rollback). */
    async getRuleSet(
      tenant: string,
      version: number,
    ): Promise<{ ruleSet: RuleSet; config: TenantPolicyConfig }> {
      assertId('tenant', tenant);
      const store = await getStore();
      const doc = await store.policy.ruleSets.findOne({ _id: ruleSetDocId(tenant, version) });
      if (!doc) throw new ConclaveError('BAD_INPUT', `tenant ${tenant} has no rule set version ${version}`);
      return { ruleSet: doc.ruleSet, config: doc.config };
    },

    /**
     * Replays the tenant's recorded sign requests since `since` against a draft rule set (with the
     * config of the current version, or the one given) and reports the decisions that would
     * change. Reads only; nothing is stored.
     */
    async backtestRules(req: BacktestRequest): Promise<BacktestResult> {
      assertId('tenant', req.tenant);
      const draft = parseRuleSet(req.text);
      const since = new Date(req.since ?? 0);
      if (Number.isNaN(since.getTime()))
        throw new ConclaveError('BAD_INPUT', `--since must be a date, got "${req.since}"`);
      const store = await getStore();
      let config: TenantPolicyConfig;
      if (req.config !== undefined) config = parseTenantPolicyConfig(req.config);
      else {
        const h = await head(store, req.tenant);
        const current = h.current
          ? await store.policy.ruleSets.findOne({ _id: ruleSetDocId(req.tenant, h.current) })
          : null;
        config = current?.config ?? parseTenantPolicyConfig({});
      }
      const records = await store.audit
        .find({ tenant: req.tenant, ceremony: 'sign', at: { $gte: since } })
        .sort({ at: 1 })
        .limit(10_000)
        .toArray();
      const result: BacktestResult = { evaluated: 0, changed: [] };
      for (const r of records) {
        const recorded = r.detail?.tx;
        const before = r.detail?.policy;
        if (typeof recorded !== 'string' || typeof before !== 'string') continue;
        const tx = JSON.parse(recorded) as Transaction;
        const after = await evaluatePolicy(draft, config, tx);
        result.evaluated += 1;
        if (after.outcome !== before) {
          result.changed.push({
            workflowId: r.workflowId,
            walletId: r.walletId,
            at: tx.at,
            before,
            beforeVersion: Number(r.detail?.rulesVersion),
            after: after.outcome,
            reasons: after.fired.map((f) => `${f.action} ${f.rule}: ${f.reason}`),
          });
        }
      }
      return result;
    },

    /** Every published version of a tenant's rule set, newest first. */
    async rulesHistory(tenant: string): Promise<RuleSetVersion[]> {
      assertId('tenant', tenant);
      const store = await getStore();
      const h = await head(store, tenant);
      const docs = await store.policy.ruleSets.find({ tenant }).sort({ version: -1 }).limit(1000).toArray();
      const byVersion = new Map(docs.map((d) => [d.version, d]));
      return docs.map((d) => toVersion(d, h.current, byVersion.get(d.previous)?.config));
    },
  };
}

/** The request statement the rules judge: the initiator-signed one, checked, or one written here. */
function requestStatement(
  req: SignRequest,
  tx: TransactionDescription,
  requestId: string,
  config: TenantPolicyConfig,
): SignedRequest {
  const expected = (initiator: string, createdAt: string) =>
    signStatement({
      tenant: req.tenant,
      walletId: req.walletId,
      message: req.message,
      path: formatPath(parsePath(req.path ?? 'm')),
      ...(req.merkleRoot !== undefined ? { merkleRoot: req.merkleRoot } : {}),
      tx,
      requestId,
      initiator,
      createdAt,
    });
  if (!req.signed) {
    // signRequestRefusal has refused it when the tenant lists initiators
    return { statement: expected(printableActor(req.requestedBy ?? 'unknown'), new Date().toISOString()) };
  }
  const s = req.signed.statement;
  if (
    typeof s !== 'object' ||
    s === null ||
    canonicalJson(s) !== canonicalJson(expected(String(s.initiator), String(s.createdAt)))
  ) {
    throw new ConclaveError('UNAUTHORIZED', 'the signed statement does not describe this request');
  }
  if (Math.abs(parseInstant(s.createdAt) - Date.now()) > clockSkewMs)
    throw new ConclaveError(
      'UNAUTHORIZED',
      `the request is dated ${s.createdAt}, too far from the coordinator's clock`,
    );
  if (config.initiators.length > 0) {
    const checked = checkRequestSignature(req.signed, config);
    if ('refused' in checked) throw new ConclaveError('UNAUTHORIZED', checked.refused);
  }
  return req.signed;
}

/** A stored version as parties receive it: rules, config and the publisher's signature ('' if unsigned). */
function publicationOf(doc: RuleSetDoc): SignedPublication {
  const { version: _v, ...ruleSet } = doc.ruleSet;
  return {
    tenant: doc.tenant,
    rulesVersion: doc.version,
    ruleSet,
    config: doc.config,
    publisher: doc.signature?.publisher ?? doc.publishedBy,
    publisherKey: doc.signature?.publisherKey ?? '',
    publishedAt: doc.signature?.publishedAt ?? doc.publishedAt.toISOString(),
    signature: doc.signature?.signature ?? '',
  };
}

const velocityFacts = Object.keys(velocity.facts);
const readsVelocity = (ruleSet: Omit<RuleSet, 'version'>): boolean => {
  const text = JSON.stringify(ruleSet.rules);
  return velocityFacts.some((f) => text.includes(`"${f}"`));
};
const dayMs = 86_400_000;

/**
 * Decides, and when the rules read velocity facts, reserves. The reservation's sequence number is
 * its `_id`: the insert succeeds only if no other request took that number since the ledger was
 * read, so every reservation was judged with all earlier ones counted. A blocked request reserves
 * nothing; one that is rejected, expires or fails is released by its workflow.
 */
async function judgeWithLedger(
  store: CoordinatorStore,
  publication: SignedPublication,
  tx: Transaction,
  workflowId: string,
): Promise<Pick<SignJudgement, 'decision' | 'velocity' | 'reservation'>> {
  const ruleSet = { ...publication.ruleSet, version: publication.rulesVersion };
  if (!readsVelocity(publication.ruleSet))
    return { decision: await evaluatePolicy(ruleSet, publication.config, tx) };
  const ledger = store.policy.reservations;
  const since = new Date(parseInstant(tx.at) - dayMs - clockSkewMs);
  const mine = await ledger.findOne({ tenant: tx.tenant, workflowId });
  for (let attempt = 0; attempt < 200; attempt++) {
    const last = await ledger.find({ tenant: tx.tenant }).sort({ seq: -1 }).limit(1).toArray();
    const docs = await ledger.find({ tenant: tx.tenant, atDate: { $gt: since } }).toArray();
    const velocity: VelocityEntry[] = docs
      .filter((d) => !d.released && d._id !== mine?._id)
      .sort((a, b) => a.seq - b.seq)
      .map((d) => ({
        walletId: d.walletId,
        at: d.at,
        asset: d.asset,
        amount: d.amount,
        ...(d.fiatValue !== undefined ? { fiatValue: d.fiatValue } : {}),
      }));
    const decision = await evaluatePolicy(ruleSet, publication.config, tx, undefined, {
      context: { velocity },
    });
    // a retried activity keeps the reservation it made; a blocked request holds none
    if (mine || decision.outcome === 'block')
      return { decision, velocity, ...(mine ? { reservation: mine._id } : {}) };
    const seq = (last[0]?.seq ?? 0) + 1;
    let value: string | undefined;
    try {
      value = fiatValue(publication.config, tx);
    } catch {
      value = undefined;
    }
    const doc: ReservationDoc = {
      _id: reservationDocId(tx.tenant, seq),
      tenant: tx.tenant,
      seq,
      workflowId,
      walletId: tx.walletId,
      at: tx.at,
      atDate: new Date(parseInstant(tx.at)),
      asset: tx.asset,
      amount: tx.amount,
      ...(value !== undefined ? { fiatValue: value } : {}),
    };
    try {
      await ledger.insertOne(doc);
      return { decision, velocity, reservation: doc._id };
    } catch (err) {
      if (!isDuplicateKey(err)) throw err;
      // another request took this number: judge again with it counted
      await new Promise((r) => setTimeout(r, Math.random() * 10 * Math.min(attempt + 1, 10)));
    }
  }
  throw new ConclaveError('BUSY', `the velocity ledger of ${tx.tenant} is too contended; retry the request`);
}

/** A publisher's signature must cover exactly these rules and config, and be fresh. */
function checkPublicationSignature(
  tenant: string,
  ruleSet: RuleSet | Omit<RuleSet, 'version'>,
  config: TenantPolicyConfig,
  sig: PublicationSignature,
): void {
  const { version: _v, ...rules } = ruleSet as RuleSet;
  if (!verifyPublication({ tenant, ruleSet: rules, config, ...sig })) {
    throw new ConclaveError(
      'UNAUTHORIZED',
      `the publication's signature by ${sig.publisher} does not verify`,
    );
  }
  if (Math.abs(parseInstant(sig.publishedAt) - Date.now()) > clockSkewMs)
    throw new ConclaveError('UNAUTHORIZED', `the publication is dated ${sig.publishedAt}, too far from now`);
}
