/**
 * Webhook endpoint SSRF guard (src/webhooks/endpoint.ts).
 *
 * Address ranges are checked at their edges (first and last address inside, neighbours outside)
 * and, for IPv4, against node:net's BlockList built from the same list as an independent oracle.
 */
import { createServer, type Server } from 'node:http';
import { BlockList, type AddressInfo } from 'node:net';
import got from 'got';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConclaveError } from '../../src/errors.js';
import {
  checkEndpointUrl,
  EndpointRefused,
  isPrivateAddress,
  MAX_ENDPOINT_URL_LENGTH,
  pinnedLookup,
  resolveEndpoint,
  type EndpointRefusal,
  type ResolvedEndpoint,
} from '../../src/webhooks/endpoint.js';

const HINT = "allow private endpoints in the tenant's configuration to use it";

/** Runs `fn`, expecting an EndpointRefused; returns it. */
function refusal(fn: () => unknown): EndpointRefused {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(EndpointRefused);
    expect(err).toBeInstanceOf(ConclaveError);
    expect((err as ConclaveError).code).toBe('BAD_INPUT');
    return err as EndpointRefused;
  }
  throw new Error('expected an EndpointRefused');
}

async function asyncRefusal(p: Promise<unknown>): Promise<EndpointRefused> {
  try {
    await p;
  } catch (err) {
    expect(err).toBeInstanceOf(EndpointRefused);
    expect((err as ConclaveError).code).toBe('BAD_INPUT');
    return err as EndpointRefused;
  }
  throw new Error('expected an EndpointRefused');
}

// [cidr, first address, last address] of every IPv4 range the guard refuses.
const V4_PRIVATE: [string, string, string][] = [
  ['0.0.0.0/8', '0.0.0.0', '0.255.255.255'],
  ['10.0.0.0/8', '10.0.0.0', '10.255.255.255'],
  ['100.64.0.0/10', '100.64.0.0', '100.127.255.255'],
  ['127.0.0.0/8', '127.0.0.0', '127.255.255.255'],
  ['169.254.0.0/16', '169.254.0.0', '169.254.255.255'],
  ['172.16.0.0/12', '172.16.0.0', '172.31.255.255'],
  ['192.0.0.0/24', '192.0.0.0', '192.0.0.255'],
  ['192.0.2.0/24', '192.0.2.0', '192.0.2.255'],
  ['192.168.0.0/16', '192.168.0.0', '192.168.255.255'],
  ['198.18.0.0/15', '198.18.0.0', '198.19.255.255'],
  ['198.51.100.0/24', '198.51.100.0', '198.51.100.255'],
  ['203.0.113.0/24', '203.0.113.0', '203.0.113.255'],
  ['224.0.0.0/4', '224.0.0.0', '239.255.255.255'],
  ['240.0.0.0/4', '240.0.0.0', '255.255.255.255'],
];

const V4_PRIVATE_SAMPLES = [
  '10.0.0.5',
  '100.100.100.200', // Alibaba Cloud metadata
  '127.0.0.1',
  '127.0.53.53',
  '169.254.169.254', // AWS / GCP / Azure metadata
  '169.254.170.2', // ECS task metadata
  '172.17.0.1', // docker bridge
  '192.168.1.1',
  '192.0.0.192', // Oracle Cloud metadata
  '224.0.0.251', // mDNS
  '255.255.255.255',
];

// Just outside each range, and ordinary public addresses.
const V4_PUBLIC = [
  '1.0.0.0',
  '9.255.255.255',
  '11.0.0.0',
  '100.63.255.255',
  '100.128.0.0',
  '126.255.255.255',
  '128.0.0.0',
  '169.253.255.255',
  '169.255.0.0',
  '172.15.255.255',
  '172.32.0.0',
  '191.255.255.255',
  '192.0.1.0',
  '192.0.3.0',
  '192.167.255.255',
  '192.169.0.0',
  '198.17.255.255',
  '198.20.0.0',
  '198.51.99.255',
  '198.51.101.0',
  '203.0.112.255',
  '203.0.114.0',
  '223.255.255.255',
  '1.1.1.1',
  '8.8.8.8',
  '93.184.216.34',
  '140.82.112.3',
];

const V6_PRIVATE: [string, string][] = [
  ['::', 'unspecified'],
  ['::1', 'loopback'],
  ['0:0:0:0:0:0:0:1', 'loopback'],
  ['::7f00:1', 'IPv4-compatible'],
  ['::8.8.8.8', 'IPv4-compatible'],
  ['::ffff:127.0.0.1', '127.0.0.0/8'],
  ['::ffff:7f00:1', '127.0.0.0/8'],
  ['::FFFF:7F00:0001', '127.0.0.0/8'],
  ['::ffff:169.254.169.254', '169.254.0.0/16'],
  ['::ffff:a9fe:a9fe', '169.254.0.0/16'],
  ['::ffff:10.0.0.5', '10.0.0.0/8'],
  ['::ffff:0.0.0.0', '0.0.0.0/8'],
  ['::ffff:255.255.255.255', '255.255.255.255'],
  ['0:0:0:0:0:ffff:c0a8:101', '192.168.0.0/16'],
  ['64:ff9b::10.0.0.5', 'NAT64'],
  ['64:ff9b::7f00:1', 'NAT64'],
  ['64:ff9b::a9fe:a9fe', '169.254.0.0/16'],
  ['64:ff9b:1::1', 'local-use NAT64'],
  ['64:ff9b:1:ffff::8.8.8.8', 'local-use NAT64'],
  ['100::', 'discard-only'],
  ['100::ffff:ffff:ffff:ffff', 'discard-only'],
  ['2001:db8::', 'documentation'],
  ['2001:db8:ffff:ffff:ffff:ffff:ffff:ffff', 'documentation'],
  ['3fff::1', 'documentation'],
  ['2002:a00:5::', '6to4'], // 6to4 for 10.0.0.5
  ['2002:7f00:1::1', '6to4'],
  ['2001:0:4136:e378:8000:63bf:f5ff:fffa', 'Teredo'], // client 10.0.0.5 (inverted)
  ['fc00::', 'unique local'],
  ['fd12:3456:789a::1', 'unique local'],
  ['fdff:ffff:ffff:ffff:ffff:ffff:ffff:ffff', 'unique local'],
  ['fd00:ec2::254', 'unique local'], // AWS IMDS over IPv6
  ['fe80::', 'link-local'],
  ['fe80::1%eth0', 'link-local'],
  ['febf:ffff:ffff:ffff:ffff:ffff:ffff:ffff', 'link-local'],
  ['fec0::1', 'site-local'],
  ['ff00::', 'multicast'],
  ['ff02::1', 'multicast'],
  ['ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff', 'multicast'],
  ['4000::1', 'outside 2000::/3'],
  ['1::1', 'outside 2000::/3'],
];

const V6_PUBLIC = [
  '2606:2800:220:1::',
  '2606:2800:220:1:248:1893:25c8:1946',
  '2001:4860:4860::8888',
  '2a00:1450:4001:81b::200e',
  '2000::',
  '3ffe:ffff:ffff:ffff:ffff:ffff:ffff:ffff', // just below 3fff::/20
  '3fff:1000::1', // just past 3fff::/20
  '2001:db7:ffff:ffff:ffff:ffff:ffff:ffff', // just below 2001:db8::/32
  '2001:db9::',
  '::ffff:93.184.216.34',
  '::ffff:5db8:d822',
  '64:ff9b::8.8.8.8',
  '64:ff9b::5db8:d822',
  '2002:5db8:d822::1', // 6to4 for 93.184.216.34
  '2001:0:4136:e378:8000:63bf:a247:27dd', // Teredo client 93.184.216.34 (inverted)
];

describe('isPrivateAddress', () => {
  it.each(V4_PRIVATE.flatMap(([cidr, first, last]) => [[first, cidr] as const, [last, cidr] as const]))(
    'IPv4 %s is private (%s)',
    (ip) => {
      expect(isPrivateAddress(ip)).toBe(true);
    },
  );

  it.each(V4_PRIVATE_SAMPLES)('IPv4 %s is private', (ip) => {
    expect(isPrivateAddress(ip)).toBe(true);
  });

  it.each(V4_PUBLIC)('IPv4 %s is public', (ip) => {
    expect(isPrivateAddress(ip)).toBe(false);
    expect(isPrivateAddress(`::ffff:${ip}`)).toBe(false);
  });

  it.each(V6_PRIVATE)('IPv6 %s is private (%s)', (ip) => {
    expect(isPrivateAddress(ip)).toBe(true);
  });

  it.each(V6_PUBLIC)('IPv6 %s is public', (ip) => {
    expect(isPrivateAddress(ip)).toBe(false);
  });

  it.each([
    '',
    'localhost',
    'example.com',
    '127.1',
    '0x7f000001',
    '2130706433',
    '010.0.0.1',
    '[::1]',
    '1::2::3',
  ])('anything that is not an address (%j) counts as private', (s) => {
    expect(isPrivateAddress(s)).toBe(true);
  });

  it('agrees with a node:net BlockList built from the same ranges, and IPv4-mapped agrees with IPv4', () => {
    const oracle = new BlockList();
    for (const [cidr] of V4_PRIVATE) {
      const [net, len] = cidr.split('/') as [string, string];
      oracle.addSubnet(net, Number(len), 'ipv4');
    }
    // Deterministic PRNG (mulberry32) so a failure reproduces.
    let seed = 0x5eed;
    const next = (): number => {
      seed = (seed + 0x6d2b79f5) | 0;
      let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
      t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
      return (t ^ (t >>> 14)) >>> 0;
    };
    const ip = (n: number): string => [n >>> 24, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff].join('.');
    for (let i = 0; i < 20_000; i++) {
      const a = ip(next());
      const expected = oracle.check(a, 'ipv4');
      expect(isPrivateAddress(a), a).toBe(expected);
      expect(isPrivateAddress(`::ffff:${a}`), `::ffff:${a}`).toBe(expected);
      expect(isPrivateAddress(`64:ff9b::${a}`), `64:ff9b::${a}`).toBe(expected);
    }
  });
});

describe('checkEndpointUrl', () => {
  it.each([
    ['https://example.com/hooks/conclave', 'https://example.com/hooks/conclave'],
    ['https://EXAMPLE.com:8443/a?b=c#d', 'https://example.com:8443/a?b=c#d'],
    ['https://93.184.216.34/', 'https://93.184.216.34/'],
    ['https://1572395042/', 'https://93.184.216.34/'], // decimal form of a public address
    ['https://[2606:2800:220:1::]/', 'https://[2606:2800:220:1::]/'],
    ['https://[::ffff:93.184.216.34]/', 'https://[::ffff:5db8:d822]/'],
    ['https://[64:ff9b::8.8.8.8]/', 'https://[64:ff9b::808:808]/'],
    ['https://hooks.example.com:1/', 'https://hooks.example.com:1/'],
    ['https://bücher.example/', 'https://xn--bcher-kva.example/'],
    ['https://example.com./', 'https://example.com./'],
  ])('accepts %s', (input, href) => {
    const url = checkEndpointUrl(input);
    expect(url).toBeInstanceOf(URL);
    expect(url.href).toBe(href);
  });

  // Every spelling Node's URL parser normalises to a private address.
  it.each([
    ['http://2130706433/', '127.0.0.1'],
    ['http://0x7f000001/', '127.0.0.1'],
    ['http://0x7F.1/', '127.0.0.1'],
    ['http://127.1/', '127.0.0.1'],
    ['http://127.0.1/', '127.0.0.1'],
    ['http://0177.0.0.1/', '127.0.0.1'],
    ['http://017700000001/', '127.0.0.1'],
    ['http://127.0.0.1./', '127.0.0.1'],
    ['http://%31%32%37.0.0.1/', '127.0.0.1'],
    ['http://１２７.０.０.１/', '127.0.0.1'], // full-width digits
    ['http://0/', '0.0.0.0'],
    ['http://0.0.0.0/', '0.0.0.0'],
    ['http://10.0.0.5/', '10.0.0.5'],
    ['http://0xa.0.0.5/', '10.0.0.5'],
    ['http://169.254.169.254/latest/meta-data/', '169.254.169.254'],
    ['http://2852039166/', '169.254.169.254'],
    ['http://0xa9.0xfe.0xa9.0xfe/', '169.254.169.254'],
    ['http://0251.0376.0251.0376/', '169.254.169.254'],
    ['http://169.254.43518/', '169.254.169.254'],
    ['http://100.64.0.1/', '100.64.0.1'],
    ['http://172.16.0.1/', '172.16.0.1'],
    ['http://172.31.255.255/', '172.31.255.255'],
    ['http://192.0.0.192/', '192.0.0.192'],
    ['http://192.0.2.1/', '192.0.2.1'],
    ['http://192.168.0.1:8080/', '192.168.0.1'],
    ['http://198.18.0.1/', '198.18.0.1'],
    ['http://198.51.100.7/', '198.51.100.7'],
    ['http://203.0.113.9/', '203.0.113.9'],
    ['http://224.0.0.1/', '224.0.0.1'],
    ['http://240.0.0.1/', '240.0.0.1'],
    ['http://255.255.255.255/', '255.255.255.255'],
    ['http://4294967295/', '255.255.255.255'],
    ['http://[::]/', '[::]'],
    ['http://[::1]/', '[::1]'],
    ['http://[0:0:0:0:0:0:0:1]/', '[::1]'],
    ['http://[::ffff:7f00:1]/', '[::ffff:7f00:1]'],
    ['http://[::ffff:127.0.0.1]/', '[::ffff:7f00:1]'],
    ['http://[::ffff:169.254.169.254]/', '[::ffff:a9fe:a9fe]'],
    ['http://[0:0:0:0:0:ffff:a00:5]/', '[::ffff:a00:5]'],
    ['http://[::127.0.0.1]/', '[::7f00:1]'],
    ['http://[64:ff9b::169.254.169.254]/', '[64:ff9b::a9fe:a9fe]'],
    ['http://[64:ff9b::10.0.0.5]/', '[64:ff9b::a00:5]'],
    ['http://[fc00::1]/', '[fc00::1]'],
    ['http://[fd00:ec2::254]/', '[fd00:ec2::254]'],
    ['http://[fe80::1]/', '[fe80::1]'],
    ['http://[ff02::1]/', '[ff02::1]'],
    ['http://[2001:db8::1]/', '[2001:db8::1]'],
    ['http://[100::1]/', '[100::1]'],
    ['http://[2002:a9fe:a9fe::]/', '[2002:a9fe:a9fe::]'],
  ])('refuses %s (host %s)', (input, host) => {
    const err = refusal(() => checkEndpointUrl(input, { allowHttp: true }));
    expect(err.reason).toBe<EndpointRefusal>('private-address');
    expect(err.host).toBe(host);
    expect(err.message).toContain(`host ${host} is a private address`);
    expect(err.message).toContain(HINT);
    // allowPrivate lifts it, and the URL comes back normalised to that host.
    expect(checkEndpointUrl(input, { allowHttp: true, allowPrivate: true }).hostname).toBe(host);
  });

  it.each([
    'https://localhost/',
    'https://LOCALHOST:8443/',
    'https://localhost./',
    'https://api.localhost/',
    'https://printer.local/',
    'https://metadata.google.internal/computeMetadata/v1/',
    'https://db.svc.internal/',
    'https://metadata/',
    'https://intranet/',
  ])('refuses local-only host name %s unless allowPrivate', (input) => {
    const err = refusal(() => checkEndpointUrl(input));
    expect(err.reason).toBe<EndpointRefusal>('private-hostname');
    expect(err.message).toContain(`host ${new URL(input).hostname} is`);
    expect(err.message).toContain(HINT);
    expect(checkEndpointUrl(input, { allowPrivate: true }).href).toBe(new URL(input).href);
  });

  it.each(['https://localhost.example.com/', 'https://local.example/', 'https://internal.example.com/'])(
    'does not refuse public names that merely contain a local word: %s',
    (input) => {
      expect(checkEndpointUrl(input).href).toBe(input);
    },
  );

  it('refuses http unless allowHttp, and other schemes always', () => {
    const err = refusal(() => checkEndpointUrl('http://example.com/hook'));
    expect(err.reason).toBe<EndpointRefusal>('scheme');
    expect(err.message).toContain('example.com');
    expect(err.message).toContain('only https');
    expect(checkEndpointUrl('http://example.com/hook', { allowHttp: true }).href).toBe(
      'http://example.com/hook',
    );
    for (const input of [
      'ftp://example.com/',
      'ws://example.com/',
      'wss://example.com/',
      'file:///etc/passwd',
      'gopher://127.0.0.1:6379/_INFO',
      'javascript:alert(1)',
      'data:text/plain,hi',
    ]) {
      for (const opts of [{}, { allowHttp: true, allowPrivate: true }]) {
        expect(refusal(() => checkEndpointUrl(input, opts)).reason, input).toBe<EndpointRefusal>('scheme');
      }
    }
  });

  it.each([
    'https://alice:hunter2@example.com/',
    'https://alice@example.com/',
    'https://:hunter2@example.com/',
  ])('refuses credentials in %s, even with allowPrivate, without echoing them', (input) => {
    for (const opts of [{}, { allowPrivate: true, allowHttp: true }]) {
      const err = refusal(() => checkEndpointUrl(input, opts));
      expect(err.reason).toBe<EndpointRefusal>('credentials');
      expect(err.message).toContain('example.com');
      expect(err.message).not.toContain('hunter2');
      expect(err.message).not.toContain('alice');
    }
  });

  it.each([
    '',
    'example.com/hook',
    '/hook',
    'https://',
    'https://exa mple.com/',
    'https://[::1/',
    'https://1.2.3.4.5/',
    'https://256.0.0.1/',
    'https://[fe80::1%25eth0]/',
  ])('refuses unparseable %j', (input) => {
    const err = refusal(() => checkEndpointUrl(input, { allowPrivate: true, allowHttp: true }));
    expect(err.reason).toBe<EndpointRefusal>('invalid-url');
  });

  it('refuses URLs longer than 2048 characters, before or after normalisation', () => {
    const base = 'https://example.com/';
    const exact = base + 'a'.repeat(MAX_ENDPOINT_URL_LENGTH - base.length);
    expect(checkEndpointUrl(exact).href).toBe(exact);
    const err = refusal(() => checkEndpointUrl(exact + 'a'));
    expect(err.reason).toBe<EndpointRefusal>('invalid-url');
    expect(err.message).toContain('2049');
    // 700 spaces are 2100 characters once percent-encoded.
    const grows = base + ' '.repeat(700) + 'x';
    expect(refusal(() => checkEndpointUrl(grows)).reason).toBe<EndpointRefusal>('invalid-url');
  });

  it('never puts the path or query (where webhook tokens live) in a message', () => {
    const secret = 'T0KEN-s3cr3t';
    for (const input of [
      `https://10.0.0.5/hooks/${secret}?k=${secret}`,
      `http://example.com/hooks/${secret}`,
      `https://u:${secret}@example.com/`,
      `https://localhost/${secret}`,
      `https://example.com/${secret}${'x'.repeat(3000)}`,
    ]) {
      expect(refusal(() => checkEndpointUrl(input)).message).not.toContain(secret);
    }
  });
});

describe('resolveEndpoint', () => {
  const fake =
    (answers: Record<string, ResolvedEndpoint[]>) =>
    async (host: string): Promise<ResolvedEndpoint[]> => {
      const a = answers[host];
      if (a === undefined)
        throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${host}`), { code: 'ENOTFOUND' });
      return a;
    };
  const lookup = fake({
    'public.example': [
      { address: '93.184.216.34', family: 4 },
      { address: '2606:2800:220:1:248:1893:25c8:1946', family: 6 },
    ],
    'public6.example': [{ address: '2606:2800:220:1::', family: 6 }],
    'mixed.example': [
      { address: '93.184.216.34', family: 4 },
      { address: '10.0.0.5', family: 4 },
    ],
    'mixed6.example': [
      { address: '2606:2800:220:1::', family: 6 },
      { address: '::ffff:169.254.169.254', family: 6 },
    ],
    'rebind.example': [{ address: '169.254.169.254', family: 4 }],
    'loop6.example': [{ address: '::1', family: 6 }],
    'empty.example': [],
    'garbage.example': [{ address: 'not-an-ip', family: 4 }],
  });

  it('returns the first address when every address is public', async () => {
    await expect(resolveEndpoint(new URL('https://public.example/h'), { lookup })).resolves.toEqual({
      address: '93.184.216.34',
      family: 4,
    });
    await expect(resolveEndpoint(new URL('https://public6.example/h'), { lookup })).resolves.toEqual({
      address: '2606:2800:220:1::',
      family: 6,
    });
  });

  it.each([
    ['mixed.example', '10.0.0.5'],
    ['mixed6.example', '::ffff:169.254.169.254'],
    ['rebind.example', '169.254.169.254'],
    ['loop6.example', '::1'],
  ])('refuses %s: one address (%s) is private, unless allowPrivate', async (host, bad) => {
    const err = await asyncRefusal(resolveEndpoint(new URL(`https://${host}/h`), { lookup }));
    expect(err.reason).toBe<EndpointRefusal>('private-address');
    expect(err.host).toBe(host);
    expect(err.message).toContain(`webhook endpoint ${host} resolves to ${bad}, a private address`);
    expect(err.message).toContain(HINT);
    const first = (await lookup(host))[0]!;
    await expect(
      resolveEndpoint(new URL(`https://${host}/h`), { lookup, allowPrivate: true }),
    ).resolves.toEqual(first);
  });

  it('refuses an empty answer and an answer that is not an address, even with allowPrivate', async () => {
    for (const allowPrivate of [false, true]) {
      const empty = await asyncRefusal(
        resolveEndpoint(new URL('https://empty.example/'), { lookup, allowPrivate }),
      );
      expect(empty.reason).toBe<EndpointRefusal>('unresolvable');
      const garbage = await asyncRefusal(
        resolveEndpoint(new URL('https://garbage.example/'), { lookup, allowPrivate }),
      );
      expect(garbage.reason).toBe<EndpointRefusal>('unresolvable');
      expect(garbage.message).toContain('not-an-ip');
    }
  });

  it('lets DNS failures through unchanged so the caller can retry', async () => {
    await expect(resolveEndpoint(new URL('https://nowhere.example/'), { lookup })).rejects.toMatchObject({
      code: 'ENOTFOUND',
    });
  });

  it('answers IP literals without a lookup, checking them', async () => {
    const never = async (): Promise<ResolvedEndpoint[]> => {
      throw new Error('lookup must not be called for an IP literal');
    };
    await expect(resolveEndpoint(new URL('https://93.184.216.34/'), { lookup: never })).resolves.toEqual({
      address: '93.184.216.34',
      family: 4,
    });
    await expect(
      resolveEndpoint(new URL('https://[2606:2800:220:1::]/'), { lookup: never }),
    ).resolves.toEqual({ address: '2606:2800:220:1::', family: 6 });
    const err = await asyncRefusal(resolveEndpoint(new URL('http://0x7f000001/'), { lookup: never }));
    expect(err.reason).toBe<EndpointRefusal>('private-address');
    await expect(
      resolveEndpoint(new URL('http://[::ffff:7f00:1]/'), { lookup: never, allowPrivate: true }),
    ).resolves.toEqual({ address: '::ffff:7f00:1', family: 6 });
  });

  it('refuses local-only host names before resolving them, unless allowPrivate', async () => {
    const local = fake({ 'hooks.internal': [{ address: '93.184.216.34', family: 4 }] });
    const err = await asyncRefusal(resolveEndpoint(new URL('https://hooks.internal/'), { lookup: local }));
    expect(err.reason).toBe<EndpointRefusal>('private-hostname');
    await expect(
      resolveEndpoint(new URL('https://hooks.internal/'), { lookup: local, allowPrivate: true }),
    ).resolves.toEqual({ address: '93.184.216.34', family: 4 });
  });

  it('uses dns.promises.lookup by default (localhost resolves to loopback, refused)', async () => {
    const err = await asyncRefusal(resolveEndpoint(new URL('https://localhost/')));
    expect(err.reason).toBe<EndpointRefusal>('private-hostname');
    const resolved = await resolveEndpoint(new URL('https://localhost/'), { allowPrivate: true });
    expect(isPrivateAddress(resolved.address)).toBe(true);
  });
});

describe('pinnedLookup', () => {
  it('answers both lookup shapes with the pinned address, and refuses the other family', async () => {
    const lookup = pinnedLookup({ address: '93.184.216.34', family: 4 });
    const one = await new Promise<[string | unknown, number | undefined]>((resolve, reject) =>
      lookup('evil.example', {}, (err, address, family) => (err ? reject(err) : resolve([address, family]))),
    );
    expect(one).toEqual(['93.184.216.34', 4]);
    const all = await new Promise((resolve, reject) =>
      lookup('evil.example', { all: true }, (err, address) => (err ? reject(err) : resolve(address))),
    );
    expect(all).toEqual([{ address: '93.184.216.34', family: 4 }]);
    const wrong = await new Promise<NodeJS.ErrnoException | null>((resolve) =>
      lookup('evil.example', { family: 6 }, (err) => resolve(err)),
    );
    expect(wrong?.code).toBe('ENOTFOUND');
  });

  describe('with got', () => {
    let server: Server;
    let port: number;
    const seen: string[] = [];
    beforeAll(async () => {
      server = createServer((req, res) => {
        seen.push(req.headers.host ?? '');
        res.end('pinned');
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      port = (server.address() as AddressInfo).port;
    });
    afterAll(async () => {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    });

    it('connects to the checked address whatever the name would resolve to, keeping the Host header', async () => {
      const url = checkEndpointUrl(`http://hooks.example.invalid:${port}/deliver`, {
        allowHttp: true,
      });
      const pinned = await resolveEndpoint(url, {
        allowPrivate: true, // the test server is on loopback
        lookup: async () => [{ address: '127.0.0.1', family: 4 }],
      });
      const body = await got
        .post(url, {
          dnsLookup: pinnedLookup(pinned),
          followRedirect: false,
          retry: { limit: 0 },
          body: '{}',
        })
        .text();
      expect(body).toBe('pinned');
      expect(seen).toContain(`hooks.example.invalid:${port}`);
    });
  });
});
