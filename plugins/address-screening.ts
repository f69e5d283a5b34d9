/**
 * Address screening: deny list, allow list and sanctions list. Addresses starting with 0x are hex
 * and compared case-insensitively (EIP-55 checksums are only a casing of the same address); all
 * others (base58, bech32, …) are compared exactly, since their case can be significant.
 */
import type { PolicyPlugin, TenantPolicyConfig } from '../src/policy/types.js';

export function normalizeAddress(address: string): string {
  const a = address.trim();
  return /^0x/i.test(a) ? a.toLowerCase() : a;
}

function address(v: unknown): string {
  if (typeof v !== 'string') throw new Error(`expected an address string, got ${typeof v}`);
  return normalizeAddress(v);
}

function flag(v: unknown): boolean {
  if (typeof v !== 'boolean') throw new Error(`expected true or false, got ${JSON.stringify(v)}`);
  return v;
}

// A linear scan rather than a cached Set: config lists may be replaced or edited between
// evaluations, and a stale cache would let a newly denied address through.
function listed(list: readonly string[] | undefined, what: string, v: unknown): boolean {
  if (!Array.isArray(list)) throw new Error(`${what} is unavailable`);
  const a = address(v);
  return list.some((x) => typeof x === 'string' && normalizeAddress(x) === a);
}

const deny = (c: TenantPolicyConfig, v: unknown) => listed(c.denyList, 'deny list', v);
const allow = (c: TenantPolicyConfig, v: unknown) => listed(c.allowList, 'allow list', v);
const sanctioned = (c: TenantPolicyConfig, v: unknown) => listed(c.sanctions, 'sanctions list', v);

export const addressScreening: PolicyPlugin = {
  name: 'address-screening',
  facts: {
    destination: (_c, tx) => address(tx.destination),
    inDenyList: (c, tx) => deny(c, tx.destination),
    inAllowList: (c, tx) => allow(c, tx.destination),
    inSanctionsList: (c, tx) => sanctioned(c, tx.destination),
  },
  // used as { fact: 'destination', operator: 'inDenyList', value: true }
  operators: {
    inDenyList: (fact, value, c) => deny(c, fact) === flag(value),
    notInAllowList: (fact, value, c) => !allow(c, fact) === flag(value),
    inSanctionsList: (fact, value, c) => sanctioned(c, fact) === flag(value),
  },
  checkValue: (_op, value) => (typeof value === 'boolean' ? undefined : 'value must be true or false'),
};
