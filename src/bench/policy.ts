/**
 * Bench material for the rule layer: rule sets of a given size that a realistic payment passes
 * (so every rule is evaluated and none short-cuts the run), the tenant config they need, and
 * in-process evaluation latency.
 */
import { performance } from 'node:perf_hooks';
import type { TransactionDescription } from '../policy/types.js';
import { evaluatePolicy, parseTenantPolicyConfig, type RuleSet, type RuleSpec } from '../policy/index.js';

/** The config the bench tenant publishes with its rules. */
export const benchPolicyConfig = {
  timeZone: 'UTC',
  businessHours: { days: [1, 2, 3, 4, 5, 6, 7], start: '00:00', end: '23:59' },
  denyList: ['DenyDeny1111111111111111111111111111111111'],
  prices: { SOL: '150', BTC: '65000' },
};

/** A payment every bench rule set allows. */
export const benchPayment: TransactionDescription = {
  chain: 'solana',
  asset: 'SOL',
  amount: '1.5',
  destination: 'Dest1111111111111111111111111111111111111111',
};

/** `n` rules cycling through the plugins' conditions, with distinct names and thresholds. */
export function benchRuleSet(n: number): RuleSet {
  const rules: RuleSpec[] = Array.from({ length: n }, (_, i): RuleSpec => {
    switch (i % 4) {
      case 0:
        return {
          name: `deny ${i}`,
          conditions: { all: [{ fact: 'destination', operator: 'inDenyList', value: true }] },
          event: { type: 'block', params: { reason: 'destination {{destination}} is deny-listed' } },
        };
      case 1:
        return {
          name: `limit ${i}`,
          conditions: {
            all: [{ fact: 'fiatValue', operator: 'fiatGreaterThan', value: String(100_000 + i) }],
          },
          event: { type: 'escalate', params: { reason: 'worth {{fiatValue}}', approvals: { risk: 1 } } },
        };
      case 2:
        return {
          name: `asset ${i}`,
          conditions: { all: [{ fact: 'asset', operator: 'equal', value: 'BTC' }] },
          event: { type: 'flag', params: { reason: 'a BTC payment', flag: `btc-${i}` } },
        };
      default:
        return {
          name: `hours ${i}`,
          conditions: { all: [{ fact: 'outsideBusinessHours', operator: 'equal', value: true }] },
          event: { type: 'escalate', params: { reason: 'out of hours', approvals: { ops: 1 } } },
        };
    }
  });
  return { version: 1, defaultOutcome: 'allow', rules };
}

/** Evaluation latency of an `n`-rule set on the bench payment, in process (ms per evaluation). */
export async function measurePolicyEvaluation(n: number, runs: number): Promise<number[]> {
  const ruleSet = benchRuleSet(n);
  const config = parseTenantPolicyConfig(benchPolicyConfig);
  const tx = {
    ...benchPayment,
    tenant: 'bench',
    walletId: 'bench-wallet',
    initiator: 'bench',
    at: new Date().toISOString(),
  };
  const samples: number[] = [];
  for (let i = 0; i < runs + 3; i++) {
    const start = performance.now();
    const d = await evaluatePolicy(ruleSet, config, tx);
    const ms = performance.now() - start;
    if (d.outcome !== 'allow')
      throw new Error(`bench rule set did not allow the bench payment: ${d.outcome}`);
    if (i >= 3) samples.push(ms);
  }
  return samples;
}
