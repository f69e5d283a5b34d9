/**
 * A tenant's policy settings from JSON (a file for `conclave rules test`), with the defaults a
 * tenant starts from: UTC, Monday to Friday 09:00–17:00, no lists, no prices (so every fiat limit
 * fails closed until prices are configured), USD.
 */
import { ConclaveError } from '../errors.js';
import { isDecimalString } from './decimal.js';
import { formatPath, type JsonPath } from './json-positions.js';
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

/** A problem in a config value, named by the JSON path of the offending value. */
export interface ConfigProblem {
  path: JsonPath;
  message: string;
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const show = (v: unknown) => JSON.stringify(v)?.slice(0, 60) ?? String(v);
const throwFirst = (where: string, problems: readonly ConfigProblem[]): void => {
  const p = problems[0];
  if (p) throw new ConclaveError('BAD_INPUT', `${where}: ${formatPath(p.path)}: ${p.message}`);
};

/** The fields an initiator or approver entry may have (approvers only: roles). */
export const actorKeyFields = ['id', 'publicKey', 'roles'] as const;

/**
 * Checks a list of actor keys (initiators, approvers with roles) at `path`; every problem goes to
 * `problems`. Returns the keys as parsed (roles de-duplicated), skipping entries with problems.
 */
export function checkActorKeys(
  v: unknown,
  path: JsonPath,
  withRoles: boolean,
  problems: ConfigProblem[],
): ActorKey[] {
  const err = (p: JsonPath, message: string) => void problems.push({ path: p, message });
  if (!Array.isArray(v)) {
    err(path, `must be a list of {"id", "publicKey"${withRoles ? ', "roles"' : ''}} objects, got ${show(v)}`);
    return [];
  }
  const seen = new Set<string>();
  const out: ActorKey[] = [];
  v.forEach((k: unknown, i) => {
    const at = [...path, i];
    if (!isObj(k)) return err(at, `must be an object with id, publicKey${withRoles ? ' and roles' : ''}`);
    const before = problems.length;
    for (const key of Object.keys(k)) {
      if (!['id', 'publicKey', ...(withRoles ? ['roles'] : [])].includes(key))
        err([...at, key], `unknown field "${key}"`);
    }
    if (typeof k.id !== 'string' || !actorId.test(k.id))
      err([...at, 'id'], 'id must be letters, digits, . _ @ - (at most 128)');
    else if (seen.has(k.id)) err([...at, 'id'], `${k.id} is listed twice`);
    else seen.add(k.id);
    if (typeof k.publicKey !== 'string' || !/^[0-9a-f]{64}$/.test(k.publicKey))
      err([...at, 'publicKey'], 'publicKey must be an Ed25519 public key (64 lowercase hex)');
    const roles = k.roles;
    if (
      withRoles &&
      (!Array.isArray(roles) ||
        roles.length === 0 ||
        roles.some((r) => typeof r !== 'string' || !actorId.test(r)))
    )
      err([...at, 'roles'], 'roles must be a non-empty list of role names');
    if (problems.length > before) return;
    const id = k.id as string;
    const publicKey = k.publicKey as string;
    out.push(withRoles ? { id, publicKey, roles: [...new Set(roles as string[])] } : { id, publicKey });
  });
  return out;
}

/** A list of actor keys (initiators, approvers with roles) from JSON; `where` prefixes errors. */
export function parseActorKeys(
  v: unknown,
  what: string,
  withRoles: boolean,
  where = 'policy config',
): ActorKey[] {
  const problems: ConfigProblem[] = [];
  const keys = checkActorKeys(v, [what], withRoles, problems);
  throwFirst(where, problems);
  return keys;
}

/** The top-level fields a tenant policy config may have: those with a default. */
export const tenantPolicyConfigFields = Object.keys(
  defaultTenantPolicyConfig,
) as (keyof TenantPolicyConfig)[];
/** The fields of `businessHours`. */
export const businessHoursFields = ['days', 'start', 'end'] as const;

const clock = /^([01]\d|2[0-3]):([0-5]\d)$/;
const isoDate = /^\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])$/;

function validTimeZone(zone: string): boolean {
  if (zone === '') return false;
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

/**
 * Checks a tenant's policy config (a JSON value) and reports every problem by the JSON path of the
 * offending value; `config` is the config with defaults filled in when there is no problem.
 */
export function checkTenantPolicyConfig(value: unknown): {
  config?: TenantPolicyConfig;
  problems: ConfigProblem[];
} {
  const problems: ConfigProblem[] = [];
  const err = (path: JsonPath, message: string) => void problems.push({ path, message });
  if (!isObj(value)) return { problems: [{ path: [], message: 'policy config must be a JSON object' }] };
  const known = new Set<string>(tenantPolicyConfigFields);
  for (const k of Object.keys(value)) {
    if (!known.has(k)) err([k], `unknown field "${k}"; known fields: ${tenantPolicyConfigFields.join(', ')}`);
  }
  const out: TenantPolicyConfig = { ...defaultTenantPolicyConfig, ...(value as Partial<TenantPolicyConfig>) };
  if (typeof out.timeZone !== 'string' || !validTimeZone(out.timeZone))
    err(['timeZone'], `timeZone must be an IANA time zone such as "Europe/Paris", got ${show(out.timeZone)}`);
  if (typeof out.fiatCurrency !== 'string')
    err(['fiatCurrency'], `fiatCurrency must be a string such as "USD", got ${show(out.fiatCurrency)}`);
  const bh: unknown = out.businessHours;
  if (!isObj(bh)) err(['businessHours'], 'businessHours needs days (1-7), start and end (HH:MM)');
  else {
    for (const k of Object.keys(bh)) {
      if (!(businessHoursFields as readonly string[]).includes(k))
        err(['businessHours', k], `unknown field "${k}"; businessHours has days, start and end`);
    }
    if (!Array.isArray(bh.days))
      err(['businessHours', 'days'], 'days must be a list of weekdays 1 (Monday) to 7 (Sunday)');
    else
      bh.days.forEach((d: unknown, i) => {
        if (!(Number.isInteger(d) && (d as number) >= 1 && (d as number) <= 7))
          err(['businessHours', 'days', i], `a weekday must be 1 (Monday) to 7 (Sunday), got ${show(d)}`);
      });
    const hhmm = (k: 'start' | 'end') => {
      const t = bh[k];
      if (typeof t === 'string' && clock.test(t)) return t;
      err(['businessHours', k], `${k} must be a time HH:MM (00:00 to 23:59), got ${show(t)}`);
      return undefined;
    };
    const start = hhmm('start');
    const end = hhmm('end');
    if (start !== undefined && end !== undefined && end <= start)
      err(['businessHours', 'end'], `end ${end} must be after start ${start}`);
  }
  const strings = (
    k: 'holidays' | 'denyList' | 'allowList' | 'sanctions',
    what: string,
    ok = (_s: string) => true,
  ) => {
    const list: unknown = out[k];
    if (!Array.isArray(list)) return err([k], `${k} must be a list of ${what}, got ${show(list)}`);
    list.forEach((x: unknown, i) => {
      if (typeof x !== 'string' || !ok(x)) err([k, i], `${k} entries must be ${what}, got ${show(x)}`);
    });
  };
  strings('holidays', 'dates "YYYY-MM-DD"', (s) => isoDate.test(s));
  strings('denyList', 'address strings');
  strings('allowList', 'address strings');
  // an explicit undefined (from code, not JSON) means "the list is unavailable": rules fail closed
  if (out.sanctions !== undefined) strings('sanctions', 'address strings');
  const prices: unknown = out.prices;
  if (!isObj(prices)) err(['prices'], 'prices must map assets to decimal strings, e.g. {"BTC": "65000.00"}');
  else
    for (const [asset, p] of Object.entries(prices)) {
      if (!isDecimalString(p))
        err(
          ['prices', asset],
          `the price of ${asset} must be a decimal string such as "65000.00", got ${show(p)}`,
        );
    }
  out.initiators = checkActorKeys(out.initiators, ['initiators'], false, problems);
  out.approvers = checkActorKeys(out.approvers, ['approvers'], true, problems);
  const expiry = out.escalationExpiresAfter;
  if (!Number.isInteger(expiry) || expiry < 1 || expiry > 30 * 86_400)
    err(
      ['escalationExpiresAfter'],
      `escalationExpiresAfter must be a whole number of seconds, 1 to 2592000 (30 days), got ${show(expiry)}`,
    );
  if (typeof out.allowPrivateWebhookEndpoints !== 'boolean')
    err(
      ['allowPrivateWebhookEndpoints'],
      `allowPrivateWebhookEndpoints must be true or false, got ${show(out.allowPrivateWebhookEndpoints)}`,
    );
  return problems.length ? { problems } : { config: out, problems };
}

/** Parses and checks a tenant's policy config; fields left out take their defaults. Throws on the first problem. */
export function parseTenantPolicyConfig(value: unknown): TenantPolicyConfig {
  const { config, problems } = checkTenantPolicyConfig(value);
  if (problems[0]?.path.length === 0) throw new ConclaveError('BAD_INPUT', problems[0].message);
  throwFirst('policy config', problems);
  return config as TenantPolicyConfig;
}
