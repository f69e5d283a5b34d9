/**
 * Which URLs Conclave may deliver webhooks to: a server-side request forgery (SSRF) guard.
 *
 * A tenant registers a webhook URL and Conclave's workers POST to it, from inside the deployment's
 * network. Unchecked, that lets a tenant make the worker reach the cloud metadata service
 * (169.254.169.254), loopback admin ports, or anything else on the private network. Two checks:
 *
 *   checkEndpointUrl   static, at registration and again before each delivery: https only (http
 *                      with `allowHttp`), no credentials, at most 2048 characters, and neither an IP
 *                      literal in a non-public range nor a local-only host name (localhost, *.local…)
 *   resolveEndpoint    at delivery: resolves the host and refuses it if ANY address is non-public,
 *                      returning the address the delivery must then connect to (see pinnedLookup)
 *
 * `allowPrivate` (a tenant setting, for self-hosted deployments delivering inside their own network)
 * lifts the address and host name checks but never the URL shape checks.
 *
 * IP literals are judged after Node's WHATWG URL parser has normalised them, so every spelling it
 * accepts (http://2130706433/, http://0x7f000001/, http://127.1/, http://[::ffff:7f00:1]/) is
 * judged as the address it connects to. IPv6 addresses that embed an IPv4 address (IPv4-mapped
 * ::ffff:0:0/96, NAT64 64:ff9b::/96, 6to4 2002::/16, Teredo 2001::/32) are judged by the embedded
 * address too.
 *
 * Refusals are `EndpointRefused`, a `ConclaveError` with code BAD_INPUT. Messages name only the
 * host, never the whole URL: webhook URLs often carry a secret token in the path or query.
 */
import { lookup as dnsLookup } from 'node:dns/promises';
import { isIP, isIPv4, isIPv6, type LookupFunction } from 'node:net';
import { ConclaveError } from '../errors.js';

/** Why an endpoint was refused. */
export type EndpointRefusal =
  | 'invalid-url' // not an absolute URL, or longer than MAX_ENDPOINT_URL_LENGTH
  | 'scheme' // not https (or http with allowHttp)
  | 'credentials' // a username or password in the URL
  | 'no-host'
  | 'private-address' // an IP literal, or a resolved address, outside the public unicast space
  | 'private-hostname' // localhost, *.localhost, *.local, *.internal, or a single-label name
  | 'unresolvable'; // DNS returned no addresses, or something that is not an address

/** A webhook endpoint Conclave will not deliver to. */
export class EndpointRefused extends ConclaveError {
  readonly reason: EndpointRefusal;
  /** The URL's host name as parsed (IPv6 in brackets), when the URL got that far. */
  readonly host: string | undefined;

  constructor(reason: EndpointRefusal, message: string, host?: string) {
    super('BAD_INPUT', message);
    this.name = 'EndpointRefused';
    this.reason = reason;
    this.host = host;
  }
}

export interface EndpointCheckOptions {
  /** Allow non-public addresses and local host names (self-hosted deployments). Default false. */
  allowPrivate?: boolean;
  /** Allow plain http. Default false. */
  allowHttp?: boolean;
}

export interface ResolvedEndpoint {
  address: string;
  family: number;
}

export interface ResolveOptions {
  /** See EndpointCheckOptions.allowPrivate. */
  allowPrivate?: boolean;
  /** Resolver; defaults to `dns.promises.lookup(host, { all: true })` (getaddrinfo, honours /etc/hosts). */
  lookup?: (host: string) => Promise<ResolvedEndpoint[]>;
}

export const MAX_ENDPOINT_URL_LENGTH = 2048;

/** How an operator allows private endpoints: the field, and the command that sets it. */
const HOW_TO_ALLOW =
  'set "allowPrivateWebhookEndpoints": true in the tenant\'s policy config and publish it with its rules: ' +
  'conclave rules publish RULES.json --config CONFIG.json [--tenant ID]';
const ALLOW_PRIVATE_HINT = `allow private endpoints in the tenant's configuration to use it: ${HOW_TO_ALLOW}`;

/**
 * Parses `url` and checks it without touching the network. Returns the parsed URL; deliver to that
 * (its `href`), not to the original string, so what was checked is what is used.
 */
export function checkEndpointUrl(url: string, opts: EndpointCheckOptions = {}): URL {
  if (url.length > MAX_ENDPOINT_URL_LENGTH) {
    throw new EndpointRefused(
      'invalid-url',
      `webhook endpoint URL is ${url.length} characters long; at most ${MAX_ENDPOINT_URL_LENGTH} are allowed`,
    );
  }
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new EndpointRefused('invalid-url', 'webhook endpoint is not a valid absolute URL');
  }
  // Percent-encoding during parsing can lengthen it.
  if (parsed.href.length > MAX_ENDPOINT_URL_LENGTH) {
    throw new EndpointRefused(
      'invalid-url',
      `webhook endpoint URL is ${parsed.href.length} characters long once normalised; at most ${MAX_ENDPOINT_URL_LENGTH} are allowed`,
    );
  }
  const host = parsed.hostname;
  if (parsed.protocol !== 'https:' && !(parsed.protocol === 'http:' && opts.allowHttp)) {
    const allowed = opts.allowHttp ? 'https or http' : 'https';
    // plain http is allowed with private endpoints (self-hosted receivers inside the network)
    const hint = parsed.protocol === 'http:' ? `; to allow http and private endpoints, ${HOW_TO_ALLOW}` : '';
    throw new EndpointRefused(
      'scheme',
      `webhook endpoint ${host || 'URL'} uses ${parsed.protocol.slice(0, 32)}; only ${allowed} is allowed${hint}`,
      host || undefined,
    );
  }
  if (parsed.username !== '' || parsed.password !== '') {
    throw new EndpointRefused(
      'credentials',
      `webhook endpoint ${host} has a username or password in its URL; remove them (deliveries are signed instead)`,
      host,
    );
  }
  if (host === '') {
    throw new EndpointRefused('no-host', 'webhook endpoint URL has no host', undefined);
  }
  if (!opts.allowPrivate) checkHost(host);
  return parsed;
}

/**
 * True when `ip` (an address as DNS returns it: dotted-quad IPv4, or IPv6 without brackets, with
 * an optional %zone) is outside the public unicast space: loopback, private-use, link-local,
 * CGNAT, documentation, benchmarking, multicast, reserved, or an IPv6 address embedding such an
 * IPv4 address. Anything that is not a valid address also counts as private (fail closed).
 */
export function isPrivateAddress(ip: string): boolean {
  return classifyAddress(ip) !== undefined;
}

/**
 * Resolves the endpoint's host and refuses it if any address is private (unless allowPrivate):
 * a host answering with one public and one private address could be connected to either.
 * Returns the first address. DNS failures (ENOTFOUND, EAI_AGAIN…) propagate unchanged so the
 * caller can retry transient ones.
 *
 * DNS rebinding: resolving here and letting the HTTP client resolve again would let a hostile DNS
 * server answer publicly now and privately a moment later. The delivery must connect to exactly the
 * returned address, keeping the URL's host name for the Host header and TLS (SNI and certificate
 * checks), e.g. with got:
 *
 *   const target = checkEndpointUrl(endpoint.url, tenantOpts);
 *   const pinned = await resolveEndpoint(target, tenantOpts);
 *   await got.post(target, {
 *     dnsLookup: pinnedLookup(pinned), // every connection goes to the checked address
 *     followRedirect: false,           // a redirect would go to an unchecked URL
 *     body, headers,
 *   });
 *
 * and resolve again (calling both checks) for each retry rather than reusing an old result. Do not
 * combine this with got's `dnsCache`, an agent that resolves by itself, or a proxy.
 */
export async function resolveEndpoint(url: URL, opts: ResolveOptions = {}): Promise<ResolvedEndpoint> {
  const host = url.hostname;
  if (host === '') throw new EndpointRefused('no-host', 'webhook endpoint URL has no host', undefined);
  if (!opts.allowPrivate) checkHost(host);
  // An IP literal (already checked above) needs no lookup.
  const literal = host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
  const literalFamily = isIP(literal);
  if (literalFamily !== 0) return { address: literal, family: literalFamily };

  const resolve = opts.lookup ?? ((h: string) => dnsLookup(h, { all: true }));
  const answers = await resolve(host);
  if (answers.length === 0) {
    throw new EndpointRefused('unresolvable', `webhook endpoint ${host} resolves to no address`, host);
  }
  const checked: ResolvedEndpoint[] = [];
  for (const { address } of answers) {
    const family = isIP(address);
    if (family === 0) {
      throw new EndpointRefused(
        'unresolvable',
        `webhook endpoint ${host} resolves to ${JSON.stringify(String(address).slice(0, 64))}, which is not an IP address`,
        host,
      );
    }
    if (!opts.allowPrivate) {
      const why = classifyAddress(address);
      if (why !== undefined) {
        throw new EndpointRefused(
          'private-address',
          `webhook endpoint ${host} resolves to ${address}, a private address (${why}); ${ALLOW_PRIVATE_HINT}`,
          host,
        );
      }
    }
    checked.push({ address, family });
  }
  return checked[0]!;
}

/**
 * A `lookup` for node:net / http(s) / got's `dnsLookup` that answers every query with `endpoint`,
 * so the connection goes to the address resolveEndpoint checked. Answers with the `all: true`
 * shape when asked for it (Node 20's happy-eyeballs connect does).
 */
export function pinnedLookup(endpoint: ResolvedEndpoint): LookupFunction {
  return (_hostname, options, callback) => {
    const family = endpoint.family;
    const f = options.family;
    const wanted = f === 'IPv4' ? 4 : f === 'IPv6' ? 6 : (f ?? 0);
    if (wanted !== 0 && wanted !== family) {
      const err: NodeJS.ErrnoException = new Error(
        `webhook endpoint was checked as IPv${family} ${endpoint.address}, but IPv${wanted} was asked for`,
      );
      err.code = 'ENOTFOUND';
      process.nextTick(callback, err, '', undefined);
    } else if (options.all) {
      process.nextTick(callback, null, [{ address: endpoint.address, family }]);
    } else {
      process.nextTick(callback, null, endpoint.address, family);
    }
  };
}

// ---------------------------------------------------------------------------------------------
// Host and address classification

/** Throws unless `host` (a URL hostname: IPv6 in brackets) is public. */
function checkHost(host: string): void {
  if (host.startsWith('[') && host.endsWith(']')) {
    const why = classifyAddress(host.slice(1, -1));
    if (why !== undefined) {
      throw new EndpointRefused(
        'private-address',
        `webhook endpoint host ${host} is a private address (${why}); ${ALLOW_PRIVATE_HINT}`,
        host,
      );
    }
    return;
  }
  if (isIPv4(host)) {
    const why = classifyAddress(host);
    if (why !== undefined) {
      throw new EndpointRefused(
        'private-address',
        `webhook endpoint host ${host} is a private address (${why}); ${ALLOW_PRIVATE_HINT}`,
        host,
      );
    }
    return;
  }
  // A host name. URL has lower-cased it and converted IDNs to punycode; drop a trailing root dot.
  const name = host.replace(/\.+$/, '');
  let why: string | undefined;
  if (name === 'localhost' || name.endsWith('.localhost')) why = 'a loopback name';
  else if (name.endsWith('.local')) why = 'a multicast DNS (.local) name';
  else if (name.endsWith('.internal')) why = 'an internal-only name';
  // Single labels ("metadata", "intranet") resolve through the local search domains.
  else if (!name.includes('.')) why = 'a single-label name, resolved through local search domains';
  if (why !== undefined) {
    throw new EndpointRefused(
      'private-hostname',
      `webhook endpoint host ${host} is ${why}; ${ALLOW_PRIVATE_HINT}`,
      host,
    );
  }
}

interface Range4 {
  net: number;
  mask: number;
  label: string;
}

interface Range6 {
  net: bigint;
  mask: bigint;
  label: string;
  /** Where an embedded IPv4 address sits, when the range embeds one; it is then judged instead. */
  embedded?: (a: bigint) => number;
}

function range4(cidr: string, label: string): Range4 {
  const [addr, len] = cidr.split('/') as [string, string];
  const bits = Number(len);
  const mask = bits === 0 ? 0 : (~0 << (32 - bits)) >>> 0;
  return { net: (parseIPv4(addr)! & mask) >>> 0, mask, label: `${cidr} ${label}` };
}

function range6(cidr: string, label: string, embedded?: (a: bigint) => number): Range6 {
  const [addr, len] = cidr.split('/') as [string, string];
  const bits = BigInt(len);
  const mask = ((1n << bits) - 1n) << (128n - bits);
  return { net: parseIPv6(addr)! & mask, mask, label: `${cidr} ${label}`, embedded };
}

/** IANA IPv4 Special-Purpose Address Registry entries that are not globally reachable, and multicast. */
const V4_RANGES: Range4[] = [
  range4('0.0.0.0/8', '"this network"'),
  range4('10.0.0.0/8', 'private-use'),
  range4('100.64.0.0/10', 'shared address space (CGNAT)'),
  range4('127.0.0.0/8', 'loopback'),
  range4('169.254.0.0/16', 'link-local, incl. cloud metadata'),
  range4('172.16.0.0/12', 'private-use'),
  range4('192.0.0.0/24', 'IETF protocol assignments'),
  range4('192.0.2.0/24', 'documentation'),
  range4('192.168.0.0/16', 'private-use'),
  range4('198.18.0.0/15', 'benchmarking'),
  range4('198.51.100.0/24', 'documentation'),
  range4('203.0.113.0/24', 'documentation'),
  range4('224.0.0.0/4', 'multicast'),
  range4('255.255.255.255/32', 'limited broadcast'),
  range4('240.0.0.0/4', 'reserved'),
];

const low32 = (a: bigint): number => Number(a & 0xffffffffn);

/** Checked in order; the first match decides. Anything outside 2000::/3 not matched here is refused too. */
const V6_RANGES: Range6[] = [
  range6('::/128', 'unspecified'),
  range6('::1/128', 'loopback'),
  range6('::ffff:0:0/96', 'IPv4-mapped', low32),
  range6('::/96', 'IPv4-compatible (deprecated)'),
  range6('64:ff9b::/96', 'NAT64', low32),
  range6('64:ff9b:1::/48', 'local-use NAT64'),
  range6('100::/64', 'discard-only'),
  range6('2001:db8::/32', 'documentation'),
  range6('2001::/32', 'Teredo', (a) => low32(~a)), // client address, bit-inverted
  range6('2002::/16', '6to4', (a) => Number((a >> 80n) & 0xffffffffn)),
  range6('3fff::/20', 'documentation'),
  range6('fc00::/7', 'unique local'),
  range6('fe80::/10', 'link-local'),
  range6('fec0::/10', 'site-local (deprecated)'),
  range6('ff00::/8', 'multicast'),
];
const GLOBAL_UNICAST_6 = range6('2000::/3', 'global unicast');

/** Why `ip` is not public, or undefined when it is public. */
function classifyAddress(ip: string): string | undefined {
  const zone = ip.indexOf('%');
  const bare = zone === -1 ? ip : ip.slice(0, zone);
  if (isIPv4(bare)) return classify4(parseIPv4(bare)!);
  if (isIPv6(bare)) {
    const a = parseIPv6(bare);
    if (a !== undefined) return classify6(a);
  }
  return 'not an IP address';
}

function classify4(a: number): string | undefined {
  for (const r of V4_RANGES) if ((a & r.mask) >>> 0 === r.net) return r.label;
  return undefined;
}

function classify6(a: bigint): string | undefined {
  for (const r of V6_RANGES) {
    if ((a & r.mask) !== r.net) continue;
    if (r.embedded === undefined) return r.label;
    const v4 = r.embedded(a);
    const why = classify4(v4);
    return why === undefined ? undefined : `${r.label}, embedding ${formatIPv4(v4)} in ${why}`;
  }
  if ((a & GLOBAL_UNICAST_6.mask) !== GLOBAL_UNICAST_6.net) return 'outside 2000::/3 global unicast';
  return undefined;
}

/** Strict dotted-quad (as node:net isIPv4 accepts) to an unsigned 32-bit number. */
function parseIPv4(s: string): number | undefined {
  if (!isIPv4(s)) return undefined;
  return s.split('.').reduce((acc, part) => acc * 256 + Number(part), 0);
}

function formatIPv4(a: number): string {
  return [a >>> 24, (a >>> 16) & 0xff, (a >>> 8) & 0xff, a & 0xff].join('.');
}

/** An IPv6 address (as node:net isIPv6 accepts, no zone) to a 128-bit number. */
function parseIPv6(s: string): bigint | undefined {
  if (!isIPv6(s)) return undefined;
  let text = s;
  // A trailing dotted quad (::ffff:1.2.3.4) becomes two hex groups.
  const lastColon = text.lastIndexOf(':');
  const tail = text.slice(lastColon + 1);
  if (tail.includes('.')) {
    const v4 = parseIPv4(tail);
    if (v4 === undefined) return undefined;
    text = `${text.slice(0, lastColon + 1)}${(v4 >>> 16).toString(16)}:${(v4 & 0xffff).toString(16)}`;
  }
  const halves = text.split('::');
  if (halves.length > 2) return undefined;
  const groupsOf = (part: string | undefined): string[] => (part ? part.split(':') : []);
  const head = groupsOf(halves[0]);
  const rest = groupsOf(halves[1]);
  const missing = 8 - head.length - rest.length;
  if (halves.length === 1 ? missing !== 0 : missing < 1) return undefined;
  const groups = [...head, ...Array<string>(halves.length === 2 ? missing : 0).fill('0'), ...rest];
  let out = 0n;
  for (const g of groups) {
    if (!/^[0-9a-f]{1,4}$/i.test(g)) return undefined;
    out = (out << 16n) | BigInt(parseInt(g, 16));
  }
  return out;
}
