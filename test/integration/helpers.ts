/** Shared helpers of integration tests: the stack's env, independent signature checks, DB access. */
import { execFile } from 'node:child_process';
import { createPublicKey, verify as nodeVerify } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ed25519 } from '@noble/curves/ed25519.js';
import { verifyIndependently } from '../independent-verify.js';
import { expect, inject } from 'vitest';
import type { ConclaveClient } from '../../src/client/index.js';
import { loadConfig } from '../../src/config.js';
import { openDb } from '../../src/store/mongo.js';
import { pinPeerKeys, showPartyKeys } from '../../src/party/admin.js';
import { killWorker, restartWorker } from '../../src/stack/dev.js';
import { projectRoot } from '../../src/stack/paths.js';
import { PartyStore, shareDocId } from '../../src/store/party-store.js';

export function stackEnv(): Record<string, string | undefined> {
  return { ...process.env, CONCLAVE_HOME: inject('conclaveHome') };
}

const hex = (h: string) => Uint8Array.from(Buffer.from(h, 'hex'));

/** Ed25519 verification by OpenSSL (node:crypto), which knows nothing about Conclave or noble. */
export function opensslVerifyEd25519(
  publicKeyHex: string,
  messageHex: string,
  signatureHex: string,
): boolean {
  const spkiPrefix = Buffer.from('302a300506032b6570032100', 'hex');
  const key = createPublicKey({
    key: Buffer.concat([spkiPrefix, Buffer.from(publicKeyHex, 'hex')]),
    format: 'der',
    type: 'spki',
  });
  return nodeVerify(null, Buffer.from(messageHex, 'hex'), key, Buffer.from(signatureHex, 'hex'));
}

export function nobleVerifyEd25519(publicKeyHex: string, messageHex: string, signatureHex: string): boolean {
  return ed25519.verify(hex(signatureHex), hex(messageHex), hex(publicKeyHex));
}

export async function partyStore(partyId: string): Promise<PartyStore> {
  return partyStoreOf(partyId, stackEnv());
}

/** A party's database on the stack that `env` names. */
export async function partyStoreOf(
  partyId: string,
  env: Record<string, string | undefined>,
): Promise<PartyStore> {
  return new PartyStore(await openDb(loadConfig(env).partyDb(partyId)));
}

export function randomMessage(): string {
  return Buffer.from(crypto.getRandomValues(new Uint8Array(48))).toString('hex');
}

export async function waitFor(
  what: string,
  check: () => Promise<boolean>,
  timeoutMs = 60_000,
  everyMs = 50,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

export const message32 = () => Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString('hex');

export function subsets<T>(items: T[], k: number): T[][] {
  if (k === 0) return [[]];
  if (items.length < k) return [];
  const [head, ...rest] = items;
  return [...subsets(rest, k - 1).map((s) => [head!, ...s]), ...subsets(rest, k)];
}

export async function expectSignsWithEverySubset(
  client: ConclaveClient,
  scheme: string,
  walletId: string,
  parties: string[],
  t: number,
) {
  const key = await client.deriveKey({ walletId, path: 'm/0' });
  for (const signers of subsets(parties, t)) {
    const message = message32();
    const r = await client.sign({ walletId, message, signers, path: 'm/0' });
    const ok = verifyIndependently(scheme, r.signature, Buffer.from(message, 'hex'), key.verifyingKey);
    expect(ok, `${signers.join('+')}`).toBe(true);
  }
}

export async function shareVersions(walletId: string, keyId: string, parties: string[], version: number) {
  const out: Record<string, { active: boolean; pending: boolean }> = {};
  for (const p of parties) {
    const store = await partyStore(p);
    const id = shareDocId('default', keyId, version);
    out[p] = {
      active: (await store.shares.findOne({ _id: id, walletId })) !== null,
      pending: (await store.pendingShares.findOne({ _id: id })) !== null,
    };
  }
  return out;
}

/**
 * A party loses everything: its worker is killed, its database dropped, and it starts again with
 * new keys, unless `beforeRestart` restored them from a backup.
 */
export async function wipeParty(partyId: string, beforeRestart?: () => Promise<unknown>): Promise<void> {
  const env = stackEnv();
  await killWorker(env, partyId);
  const db = await openDb(loadConfig(env).partyDb(partyId));
  try {
    await db.dropDatabase();
    await beforeRestart?.();
  } finally {
    await restartWorker(env, partyId);
  }
  // the server may still list the killed worker's poller: wait for the new worker's own keys
  await waitFor(
    `${partyId} to create its keys`,
    async () => (await db.collection('party_keys').findOne()) !== null,
  );
  // its operator pins its peers again, as at set-up (the wiped database lost those pins); the
  // peers' operators pinning its new keys is the tests' own step (pinEverywhere)
  for (const other of loadConfig(env).parties) {
    if (other !== partyId) await pinPeerKeys(partyId, await showPartyKeys(other, env), env);
  }
}

export async function pinEverywhere(partyId: string): Promise<void> {
  const env = stackEnv();
  const keys = await showPartyKeys(partyId, env);
  for (const other of loadConfig(env).parties) {
    if (other !== partyId) await pinPeerKeys(other, keys, env);
  }
}

/** The `conclave` command as a user runs it: a real process, its exit code and output. */
export interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

export function conclave(args: string[], env: Record<string, string | undefined> = stackEnv()): Promise<Run> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [join(projectRoot, 'bin', 'conclave.mjs'), ...args],
      { env, cwd: tmpdir() },
      (err, stdout, stderr) => {
        resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
      },
    );
  });
}

export const json = (r: Run) => JSON.parse(r.stdout) as Record<string, unknown>;
