/**
 * A tenant's policy settings from JSON (a file for `conclave rules test`), with the defaults a
 * tenant starts from: UTC, Monday to Friday 09:00–17:00, no lists, no prices (so every fiat limit
 * fails closed until prices are configured), USD.
 */
import { ConclaveError } from '../errors.js';
import type { ActorKey, TenantPolicyConfig } from './types.js';

export const defaultTenantPolicyConfig: TenantPolicyConfig = {
  timeZone: 'UTC',
  businessHours: { days: [1, 2, 3, 4, 5], start: '09:00', end: '17:00' },
  holidays: [],
  denyList: [],
  allowList: [],
  sanctions: [],
  prices: {},
  fiatCurrency: 'USD',
  initiators: [],
  approvers: [],
  escalationExpiresAfter: 86_400,
  allowPrivateWebhookEndpoints: false,
};

const actorId = /^[A-Za-z0-9][A-Za-z0-9._@-]{0,127}$/;

/** An initiator, approver or publisher id: letters, digits, . _ @ -, at most 128. */
export function assertActorId(what: string, v: unknown): string {
  if (typeof v !== 'string' || !actorId.test(v))
    throw new ConclaveError(
      'BAD_INPUT',
      `${what} must be letters, digits, . _ @ - (at most 128), got ${JSON.stringify(String(v).slice(0, 40))}`,
    );
  return v;
}

/** A list of actor keys (initiators, approvers with roles) from JSON; `where` prefixes errors. */
export function parseActorKeys(
  v: unknown,
  what: string,
  withRoles: boolean,
  where = 'policy config',
): ActorKey[] {
  if (!Array.isArray(v)) throw new ConclaveError('BAD_INPUT', `${where}: ${what} must be a list`);
  const seen = new Set<string>();
  return v.map((k: unknown, i) => {
    const e = (typeof k === 'object' && k !== null ? k : {}) as Record<string, unknown>;
    const at = `${where}: ${what}[${i}]`;
    if (typeof e.id !== 'string' || !actorId.test(e.id))
      throw new ConclaveError('BAD_INPUT', `${at}: id must be letters, digits, . _ @ - (at most 128)`);
    if (seen.has(e.id)) throw new ConclaveError('BAD_INPUT', `${at}: ${e.id} is listed twice`);
    seen.add(e.id);
    if (typeof e.publicKey !== 'string' || !/^[0-9a-f]{64}$/.test(e.publicKey))
      throw new ConclaveError(
        'BAD_INPUT',
        `${at}: publicKey must be an Ed25519 public key (64 lowercase hex)`,
      );
    for (const key of Object.keys(e)) {
      if (!['id', 'publicKey', ...(withRoles ? ['roles'] : [])].includes(key))
        throw new ConclaveError('BAD_INPUT', `${at}: unknown field "${key}"`);
    }
    if (!withRoles) return { id: e.id, publicKey: e.publicKey };
    const roles = e.roles;
    if (
      !Array.isArray(roles) ||
      roles.length === 0 ||
      roles.some((r) => typeof r !== 'string' || !actorId.test(r))
    )
      throw new ConclaveError('BAD_INPUT', `${at}: roles must be a non-empty list of role names`);
    return { id: e.id, publicKey: e.publicKey, roles: [...new Set(roles as string[])] };
  });
}

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
  out.initiators = parseActorKeys(out.initiators, 'initiators', false);
  out.approvers = parseActorKeys(out.approvers, 'approvers', true);
  const expiry = out.escalationExpiresAfter;
  if (!Number.isInteger(expiry) || expiry < 1 || expiry > 30 * 86_400) {
    throw new ConclaveError(
      'BAD_INPUT',
      'policy config: escalationExpiresAfter must be a whole number of seconds, 1 to 2592000 (30 days)',
    );
  }
  if (typeof out.allowPrivateWebhookEndpoints !== 'boolean') {
    throw new ConclaveError('BAD_INPUT', 'policy config: allowPrivateWebhookEndpoints must be true or false');
  }
  return out;
}
