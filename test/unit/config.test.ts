import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig, partyKek } from '../../src/config.js';
import { partyTaskQueue, resolveTemporalSettings } from '../../temporal.config.js';

const homes: string[] = [];
function home(state?: unknown): string {
  const dir = mkdtempSync(join(tmpdir(), 'conclave-cfg-'));
  homes.push(dir);
  if (state) writeFileSync(join(dir, 'stack.json'), JSON.stringify(state));
  return dir;
}
afterEach(() => homes.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true })));

describe('configuration', () => {
  it('uses the local stack state when no servers are given', () => {
    const c = loadConfig({
      CONCLAVE_HOME: home({
        servers: { temporalAddress: '127.0.0.1:7', mongoUri: 'mongodb://x:1/' },
        parties: ['p1', 'p2'],
        dbPrefix: 'it',
      }),
    });
    // the local stack registers the tenant search attribute; no payload key file: none
    expect(c.temporal).toEqual({ address: '127.0.0.1:7', namespace: 'default', tenantAttribute: true });
    expect(c.payloadKey).toBeUndefined();
    expect(c.mongoUri).toBe('mongodb://x:1/');
    expect(c.parties).toEqual(['p1', 'p2']);
    expect(c.partyDb('p2')).toEqual({ uri: 'mongodb://x:1/', name: 'it_party_p2' });
    expect(c.coordinatorDb.name).toBe('it_coordinator');
  });

  it('TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, MONGODB_URI and per-party URIs override the local stack', () => {
    const c = loadConfig({
      CONCLAVE_HOME: home({ servers: { temporalAddress: 'local:1', mongoUri: 'mongodb://local:1/' } }),
      TEMPORAL_ADDRESS: 'temporal.prod:7233',
      TEMPORAL_NAMESPACE: 'custody',
      MONGODB_URI: 'mongodb://shared:27017/',
      CONCLAVE_PARTY_P2_MONGODB_URI: 'mongodb://party-two:27017/',
      CONCLAVE_PARTY_EU_WEST_1_MONGODB_URI: 'mongodb://eu:27017/',
    });
    expect(c.temporal).toEqual({
      address: 'temporal.prod:7233',
      namespace: 'custody',
      tenantAttribute: false,
    });
    expect(c.partyDb('p1').uri).toBe('mongodb://shared:27017/');
    expect(c.partyDb('p2').uri).toBe('mongodb://party-two:27017/');
    expect(c.partyDb('eu-west-1')).toEqual({ uri: 'mongodb://eu:27017/', name: 'conclave_party_eu_west_1' });
  });

  it('takes the payload key and the tenant search attribute from the environment on a cluster', () => {
    const env = { CONCLAVE_HOME: home(), TEMPORAL_ADDRESS: 'a:1', MONGODB_URI: 'm' };
    const c = loadConfig({
      ...env,
      CONCLAVE_PAYLOAD_KEY: 'ab'.repeat(32),
      CONCLAVE_TENANT_SEARCH_ATTRIBUTE: '1',
    });
    expect(c.temporal.tenantAttribute).toBe(true);
    expect(c.payloadKey).toEqual(new Uint8Array(32).fill(0xab));
    expect(() => loadConfig({ ...env, CONCLAVE_PAYLOAD_KEY: 'ab'.repeat(16) })).toThrow(/32 bytes/);
  });

  it('says how to get servers when there are none', () => {
    expect(() => loadConfig({ CONCLAVE_HOME: home() })).toThrow(/conclave dev up.*TEMPORAL_ADDRESS/);
    expect(() => loadConfig({ CONCLAVE_HOME: home(), TEMPORAL_ADDRESS: 'a:1' })).toThrow(/MONGODB_URI/);
  });

  it('rejects malformed party ids', () => {
    expect(() =>
      loadConfig({
        CONCLAVE_HOME: home(),
        TEMPORAL_ADDRESS: 'a:1',
        MONGODB_URI: 'm',
        CONCLAVE_PARTIES: 'p1,P 2',
      }),
    ).toThrow(/invalid party id "P 2"/);
  });

  it('reads a party KEK of exactly 32 bytes, never echoing it', () => {
    const kek = 'ab'.repeat(32);
    expect(partyKek('p1', { CONCLAVE_PARTY_P1_KEK: kek })).toHaveLength(32);
    expect(() => partyKek('p1', {})).toThrow(/CONCLAVE_PARTY_P1_KEK is not set/);
    expect(() => partyKek('p1', { CONCLAVE_PARTY_P1_KEK: 'ab'.repeat(16) })).toThrow(/32 bytes/);
    expect(() => partyKek('p1', { CONCLAVE_PARTY_P1_KEK: 'zz'.repeat(32) })).toThrow(/not valid hex/);
    try {
      partyKek('p1', { CONCLAVE_PARTY_P1_KEK: 'cd'.repeat(16) });
    } catch (e) {
      expect((e as Error).message).not.toContain('cdcd');
    }
  });

  it('names task queues per party', () => {
    expect(partyTaskQueue('p3')).toBe('party.p3');
    expect(resolveTemporalSettings({})).toBeUndefined();
  });
});
