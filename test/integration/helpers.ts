/** Shared helpers of integration tests: the stack's env, independent signature checks, DB access. */
import { createPublicKey, verify as nodeVerify } from 'node:crypto';
import { ed25519 } from '@noble/curves/ed25519.js';
import { inject } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { openDb } from '../../src/store/mongo.js';
import { PartyStore } from '../../src/store/party-store.js';

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
  return new PartyStore(await openDb(loadConfig(stackEnv()).partyDb(partyId)));
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
