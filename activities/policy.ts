/**
 * Coordinator activities for a tenant's rule sets: publish (validated, versioned, with who, when
 * and what changed), roll back (re-publish an older version as a new one) and history. A
 * published version never changes; decisions name the version they used.
 */
import { ConclaveError } from '../src/errors.js';
import {
  evaluatePolicy,
  parseTenantPolicyConfig,
  validateRuleSet,
  type Decision,
  type RuleSet,
  type RuleSpec,
  type TenantPolicyConfig,
  type Transaction,
} from '../src/policy/index.js';
import type { CoordinatorStore } from '../src/store/coordinator-store.js';
import { ruleSetDocId, type RuleSetDoc } from '../src/store/policy-store.js';
import { assertId, printableActor } from '../src/validation.js';
import type {
  BacktestRequest,
  BacktestResult,
  PublishRulesRequest,
  RuleSetVersion,
  SignRequest,
} from './types.js';

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

const toVersion = (d: RuleSetDoc, current: number): RuleSetVersion => ({
  tenant: d.tenant,
  version: d.version,
  current: d.version === current,
  publishedBy: d.publishedBy,
  publishedAt: d.publishedAt.toISOString(),
  previous: d.previous,
  diff: d.diff,
  rules: d.ruleSet.rules.length,
  ...(d.rollbackOf ? { rollbackOf: d.rollbackOf } : {}),
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
        const checked = validateRuleSet(req.text ?? '');
        if (!checked.ok) {
          const first = checked.errors[0]!;
          throw new ConclaveError(
            'BAD_INPUT',
            `rule set is invalid (${checked.errors.length} errors), first at line ${first.line}, column ${first.column}: ${first.message}`,
          );
        }
        ruleSet = checked.ruleSet;
        config = parseTenantPolicyConfig(req.config ?? {});
      }
      const h = await head(store, req.tenant);
      const version = h.last + 1;
      const reserved = await store.policy.heads
        .updateOne(
          { _id: req.tenant, last: h.last },
          { $set: { last: version }, $setOnInsert: { current: h.current } },
          { upsert: h.last === 0 },
        )
        .catch(() => ({ modifiedCount: 0, upsertedCount: 0 }));
      if (reserved.modifiedCount + reserved.upsertedCount !== 1) {
        throw new ConclaveError(
          'BUSY',
          `another rule set was published for ${req.tenant} meanwhile; publish again`,
        );
      }
      const before = h.current
        ? ((await store.policy.ruleSets.findOne({ _id: ruleSetDocId(req.tenant, h.current) }))?.ruleSet
            .rules ?? [])
        : [];
      const doc: RuleSetDoc = {
        _id: ruleSetDocId(req.tenant, version),
        tenant: req.tenant,
        version,
        ruleSet: { ...ruleSet, version },
        config,
        publishedBy: printableActor(req.requestedBy ?? 'unknown'),
        publishedAt: new Date(),
        previous: h.current,
        diff: diffRuleSets(before, ruleSet.rules),
        ...(req.rollbackTo !== undefined ? { rollbackOf: req.rollbackTo } : {}),
      };
      await store.policy.ruleSets.insertOne(doc);
      await store.policy.heads.updateOne({ _id: req.tenant }, { $max: { current: version } });
      return toVersion(doc, version);
    },

    /**
     * The tenant's current rules on a sign request, before anything reaches a party: null when the
     * tenant has published none. The coordinator stamps initiator and time; a request without a
     * transaction description is refused once rules exist.
     */
    async evaluateSignPolicy(
      req: SignRequest,
    ): Promise<{ decision: Decision; transaction: Transaction } | null> {
      assertId('tenant', req.tenant);
      const store = await getStore();
      const h = await head(store, req.tenant);
      if (!h.current) return null;
      const published = await store.policy.ruleSets.findOne({ _id: ruleSetDocId(req.tenant, h.current) });
      if (!published)
        throw new ConclaveError('STACK', `rule set version ${h.current} of ${req.tenant} is missing`);
      if (!req.tx || typeof req.tx !== 'object') {
        throw new ConclaveError(
          'BAD_INPUT',
          `tenant ${req.tenant} has published rules: a sign request must describe its transaction (chain, asset, amount, destination)`,
        );
      }
      const { chain, asset, amount, destination, memo, metadata } = req.tx;
      const transaction: Transaction = {
        tenant: req.tenant,
        walletId: req.walletId,
        chain,
        asset,
        amount,
        destination,
        ...(memo !== undefined ? { memo } : {}),
        ...(metadata !== undefined ? { metadata } : {}),
        initiator: printableActor(req.requestedBy ?? 'unknown'),
        at: new Date().toISOString(),
      };
      return {
        decision: await evaluatePolicy(published.ruleSet, published.config, transaction),
        transaction,
      };
    },

    /**
     * Replays the tenant's recorded sign requests since `since` against a draft rule set (with the
     * config of the current version, or the one given) and reports the decisions that would
     * change. Reads only; nothing is stored.
     */
    async backtestRules(req: BacktestRequest): Promise<BacktestResult> {
      assertId('tenant', req.tenant);
      const checked = validateRuleSet(req.text);
      if (!checked.ok) {
        const first = checked.errors[0]!;
        throw new ConclaveError(
          'BAD_INPUT',
          `rule set is invalid, first error at line ${first.line}, column ${first.column}: ${first.message}`,
        );
      }
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
        const after = await evaluatePolicy(checked.ruleSet, config, tx);
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
      return docs.map((d) => toVersion(d, h.current));
    },
  };
}
