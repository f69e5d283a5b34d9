/**
 * Velocity limits: rolling counts and fiat volumes per wallet and per tenant over the last hour and
 * the last 24 hours.
 *
 * The plugin only reads `context.velocity`, a snapshot of the tenant's earlier reservations taken
 * by the coordinator, which also reserves the judged request atomically with the decision; nothing
 * here writes. Each fact includes the transaction being judged, so a rule reads "the total would
 * exceed". An entry counts when it is strictly newer than `tx.at - window`; entries dated after
 * `tx.at` (reservations made concurrently) count too, to stay conservative.
 *
 * Fail closed: an unavailable ledger (`velocity` undefined), an unparsable time, a counted entry
 * without a fiat value or a transaction whose asset has no price make the fact throw.
 * Volumes are decimal strings (compare with `fiatGreaterThan`); counts are JSON numbers (compare
 * with `greaterThan` / `greaterThanInclusive`).
 */
import { addDecimal, formatDecimal, parseDecimal, type Decimal } from '../src/policy/decimal.js';
import { parseInstant } from '../src/policy/transaction.js';
import type {
  EvaluationContext,
  PolicyFact,
  PolicyPlugin,
  TenantPolicyConfig,
  Transaction,
  VelocityEntry,
} from '../src/policy/types.js';
import { fiatValue } from './amount-limits.js';

const hour = 3_600_000;
const day = 24 * hour;
// a fiat value is a product of two 78-digit decimals: at most 156 digits (as in amount-limits)
const fiatDigits = 156;

type Scope = 'wallet' | 'tenant';

/** The ledger entries within `windowMs` of `tx.at` (and any later), for the wallet or the whole tenant. */
function counted(
  context: EvaluationContext,
  tx: Transaction,
  scope: Scope,
  windowMs: number,
): VelocityEntry[] {
  const ledger: unknown = context.velocity;
  if (!Array.isArray(ledger)) throw new Error('the velocity ledger is unavailable');
  const since = parseInstant(tx.at) - windowMs;
  return (ledger as readonly VelocityEntry[]).filter(
    (e) => (scope === 'tenant' || e.walletId === tx.walletId) && parseInstant(e.at) > since,
  );
}

function volume(config: TenantPolicyConfig, tx: Transaction, entries: readonly VelocityEntry[]): string {
  let total: Decimal = parseDecimal(fiatValue(config, tx), 'fiat value', fiatDigits);
  for (const e of entries) {
    if (e.fiatValue === undefined) {
      throw new Error(
        `a velocity entry in asset ${JSON.stringify(e.asset)} at ${e.at} has no ${config.fiatCurrency ?? 'fiat'} value`,
      );
    }
    total = addDecimal(
      total,
      parseDecimal(e.fiatValue, `fiat value of a ${e.asset} velocity entry`, fiatDigits),
    );
  }
  return formatDecimal(total);
}

const volumeFact =
  (scope: Scope, windowMs: number): PolicyFact =>
  (config, tx, context) =>
    volume(config, tx, counted(context, tx, scope, windowMs));

const countFact =
  (scope: Scope, windowMs: number): PolicyFact =>
  (_config, tx, context) =>
    counted(context, tx, scope, windowMs).length + 1;

export const velocity: PolicyPlugin = {
  name: 'velocity',
  facts: {
    // { fact: 'walletVolume24h', operator: 'fiatGreaterThan', value: '10000' }
    walletVolume1h: volumeFact('wallet', hour),
    walletVolume24h: volumeFact('wallet', day),
    // { fact: 'walletCount1h', operator: 'greaterThan', value: 3 }
    walletCount1h: countFact('wallet', hour),
    walletCount24h: countFact('wallet', day),
    tenantVolume1h: volumeFact('tenant', hour),
    tenantVolume24h: volumeFact('tenant', day),
    tenantCount1h: countFact('tenant', hour),
    tenantCount24h: countFact('tenant', day),
  },
  operators: {},
};
