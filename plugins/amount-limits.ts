/**
 * Amount limits in the asset and in fiat. Amounts, prices and limits are decimal strings compared
 * exactly (BigInt scaled integers), so "0.30000000000000004"-style float drift cannot move a
 * transaction across a limit. Limits in rules must be strings: a JSON number is already a float.
 */
import {
  compareDecimal,
  formatDecimal,
  isDecimalString,
  mulDecimal,
  parseDecimal,
} from '../src/policy/decimal.js';
import type { PolicyPlugin, TenantPolicyConfig, Transaction } from '../src/policy/types.js';

// a product of two 78-digit decimals has at most 156 digits
const factDigits = 156;

export function fiatValue(c: TenantPolicyConfig, tx: Transaction): string {
  // own property only: an asset named "constructor" must not find Object.prototype.constructor
  const price = c.prices && Object.hasOwn(c.prices, tx.asset) ? c.prices[tx.asset] : undefined;
  if (price === undefined)
    throw new Error(`no ${c.fiatCurrency ?? 'fiat'} price for asset ${JSON.stringify(tx.asset)}`);
  return formatDecimal(
    mulDecimal(parseDecimal(tx.amount, 'amount'), parseDecimal(price, `price of ${tx.asset}`)),
  );
}

const greaterThan = (fact: unknown, limit: unknown): boolean =>
  compareDecimal(parseDecimal(fact, 'fact value', factDigits), parseDecimal(limit, 'limit')) > 0;

export const amountLimits: PolicyPlugin = {
  name: 'amount-limits',
  facts: {
    amount: (_c, tx) => formatDecimal(parseDecimal(tx.amount, 'amount')),
    fiatValue,
  },
  operators: {
    // { fact: 'amount', operator: 'amountGreaterThan', value: '2.5' }
    amountGreaterThan: greaterThan,
    // { fact: 'fiatValue', operator: 'fiatGreaterThan', value: '10000' }
    fiatGreaterThan: greaterThan,
  },
  checkValue: (_op, value) =>
    isDecimalString(value)
      ? undefined
      : 'limit must be a decimal string such as "10000" (a JSON number is a float)',
};
