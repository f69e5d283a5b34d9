/**
 * The dev stack's default tenant, set up so its gating parties act for it out of the box: one
 * dev key (`<CONCLAVE_HOME>/keys/dev-admin.key`) is the tenant's initiator, approver, rule set
 * publisher and governance publisher; every party's operator (here, the stack) trusts it; the
 * tenant gets a permissive rule set and a governance policy that asks no approvals. Every
 * signature and key change still runs on statements each party verifies itself — the rules and
 * policy are only lenient. A deployment writes its own (docs/examples/).
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ConclaveClient, defaultTenant } from '../client/index.js';
import { conclaveHome, type Env } from '../config.js';
import { trustPublishers } from '../party/admin.js';
import { generateActorKey, parseActorSecret } from '../policy/authorization.js';
import type { GovernancePolicy } from '../policy/governance.js';

export const devAdminId = 'dev-admin';

/** The dev key's file, created on first use (mode 600). */
export function devAdminKeyFile(env: Env): string {
  const dir = join(conclaveHome(env), 'keys');
  const file = join(dir, `${devAdminId}.key`);
  if (!existsSync(file)) {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    writeFileSync(file, JSON.stringify(generateActorKey(devAdminId)), { mode: 0o600 });
  }
  return file;
}

/** The default tenant's dev rules: allow, except destinations on the (example) deny list. */
export const devRules = {
  version: 1,
  defaultOutcome: 'allow',
  rules: [
    {
      name: 'deny-listed destination',
      conditions: { all: [{ fact: 'destination', operator: 'inDenyList', value: true }] },
      event: { type: 'block', params: { reason: 'destination {{destination}} is on the deny list' } },
    },
  ],
};

export const devDenyList = ['bc1qdeniedaddress0000000000000000000000000'];

const devPolicyConfig = (publicKey: string) => ({
  denyList: devDenyList,
  initiators: [{ id: devAdminId, publicKey }],
  approvers: [{ id: devAdminId, publicKey, roles: ['admin'] }],
});

/** Every key-management action allowed with no approval, no time lock; still signed and checked. */
const devGovernance = (publicKey: string): GovernancePolicy => ({
  approvers: [{ id: devAdminId, publicKey, roles: ['admin'] }],
  actions: { rotate: {}, reshare: {}, recover: {}, 'backup-export': {}, pairing: {} },
  requestExpiresAfter: 86_400,
  timeLock: 0,
});

/**
 * Sets up the default tenant on a running dev stack: each party trusts the dev key for the
 * tenant's rules and governance; rules and governance are published unless the tenant has some
 * (a restarted stack keeps what was published, by this key or another). Returns the key's file.
 */
export async function setUpDevTenant(
  env: Env,
  parties: readonly string[],
  log: (line: string) => void,
): Promise<string> {
  const file = devAdminKeyFile(env);
  const key = parseActorSecret(readFileSync(file, 'utf8'), file);
  const trusted = { id: devAdminId, publicKey: key.publicKey };
  for (const party of parties) {
    await trustPublishers(
      party,
      defaultTenant,
      { publishers: [trusted], governancePublishers: [trusted] },
      env,
    );
  }
  const client = await ConclaveClient.connect({
    env: { ...env, CONCLAVE_KEY: file, CONCLAVE_ACTOR: devAdminId },
  });
  try {
    if ((await client.governanceHistory({ tenant: defaultTenant })).length === 0) {
      await client.publishGovernance({ policy: devGovernance(key.publicKey), tenant: defaultTenant });
      log(
        `tenant ${defaultTenant}: governance v1 published (every key change allowed, signed by ${devAdminId})`,
      );
    }
    if ((await client.rulesHistory({ tenant: defaultTenant })).length === 0) {
      await client.publishRules({
        text: JSON.stringify(devRules),
        config: devPolicyConfig(key.publicKey),
        tenant: defaultTenant,
      });
      log(`tenant ${defaultTenant}: rules v1 published (allow unless deny-listed, signed by ${devAdminId})`);
    }
  } finally {
    await client.close();
  }
  return file;
}
