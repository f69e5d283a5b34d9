/**
 * A tenant's policy settings from JSON (a file for `conclave rules test`), with the defaults a
 * tenant starts from: UTC, Monday to Friday 09:00–17:00, no lists, no prices (so every fiat limit
 * fails closed until prices are configured), USD.
 */
import { ConclaveError } from '../errors.js';
import type { TenantPolicyConfig } from './types.js';

export const defaultTenantPolicyConfig: TenantPolicyConfig = {
  timeZone: 'UTC',
  businessHours: { days: [1, 2, 3, 4, 5], start: '09:00', end: '17:00' },
  holidays: [],
  denyList: [],
  allowList: [],
  sanctions: [],
  prices: {},
  fiatCurrency: 'USD',
};

const stringList = (v: unknown, what: string): string[] => {
  if (!Array.isArray(v) || v.some((x) => typeof x !== 'string')) {
    throw new ConclaveError('BAD_INPUT', `policy config: ${what} must be a list of strings`);
  }
  return v as string[];
};

/** Parses and checks a tenant's policy config; fields left out take their defaults. */
export function parseTenantPolicyConfig(value: unknown): TenantPolicyConfig {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new ConclaveError('BAD_INPUT', 'policy config must be a JSON object');
  }
  const v = value as Record<string, unknown>;
  const known = new Set(Object.keys(defaultTenantPolicyConfig));
  for (const k of Object.keys(v)) {
    if (!known.has(k)) throw new ConclaveError('BAD_INPUT', `policy config: unknown field "${k}"`);
  }
  const out: TenantPolicyConfig = { ...defaultTenantPolicyConfig, ...(v as Partial<TenantPolicyConfig>) };
  if (typeof out.timeZone !== 'string')
    throw new ConclaveError('BAD_INPUT', 'policy config: timeZone must be a string');
  if (typeof out.fiatCurrency !== 'string') {
    throw new ConclaveError('BAD_INPUT', 'policy config: fiatCurrency must be a string');
  }
  const bh = out.businessHours as unknown as Record<string, unknown>;
  if (
    typeof bh !== 'object' ||
    bh === null ||
    !Array.isArray(bh.days) ||
    !bh.days.every((d) => Number.isInteger(d) && (d as number) >= 1 && (d as number) <= 7) ||
    typeof bh.start !== 'string' ||
    typeof bh.end !== 'string'
  ) {
    throw new ConclaveError(
      'BAD_INPUT',
      'policy config: businessHours needs days (1-7), start and end (HH:MM)',
    );
  }
  stringList(out.holidays, 'holidays');
  stringList(out.denyList, 'denyList');
  stringList(out.allowList, 'allowList');
  if (out.sanctions !== undefined) stringList(out.sanctions, 'sanctions');
  if (
    typeof out.prices !== 'object' ||
    out.prices === null ||
    Object.values(out.prices).some((p) => typeof p !== 'string')
  ) {
    throw new ConclaveError('BAD_INPUT', 'policy config: prices must map assets to decimal strings');
  }
  return out;
}
