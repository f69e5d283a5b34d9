/**
 * Workers killed (SIGKILL) at each step of rotation and recovery, on the real stack: the worker
 * that runs the step kills itself right before or right after doing it (`src/drills/crash-at.ts`),
 * comes back, and the ceremony finishes with every pair signing under the unchanged key and no
 * pending or old share left anywhere. A ceremony aborted at any step before the version switch
 * (cancelled while a party is dead) leaves the wallet signing with the shares it had, and the
 * next ceremony goes through despite what the dead party left pending.
 */
import { Client, Connection } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConclaveClient, type SignResult } from '../../src/client/index.js';
import { loadConfig } from '../../src/config.js';
import { ConclaveError } from '../../src/errors.js';
import { killWorker, restartWorker } from '../../src/stack/dev.js';
import { isAlive } from '../../src/stack/processes.js';
import { closeAllDbs } from '../../src/store/mongo.js';
import { verifyIndependently } from '../independent-verify.js';
import {
  expectSignsWithEverySubset,
  message32,
  pinEverywhere,
  shareVersions,
  stackEnv,
  waitFor,
  wipeParty,
} from './helpers.js';

let client: ConclaveClient;
let temporal: Client;
let connection: Connection;
beforeAll(async () => {
  client = await ConclaveClient.connect({ env: stackEnv() });
  connection = await Connection.connect({ address: loadConfig(stackEnv()).temporal.address });
  temporal = new Client({ connection });
});
afterAll(async () => {
  await client?.close();
  await connection?.close();
  await closeAllDbs();
});

const parties = ['p1', 'p2', 'p3'];

/** Swaps `target`'s worker for one that dies at `crashAt`, runs `ceremony`, revives it once dead. */
async function throughCrash<T>(target: string, crashAt: string, ceremony: () => Promise<T>): Promise<T> {
  const env = stackEnv();
  await killWorker(env, target);
  const pid = await restartWorker(env, target, { crashAt });
  let running: Promise<T> | undefined;
  try {
    running = ceremony();
    running.catch(() => undefined); // awaited below
    await waitFor(`${target} to crash at ${crashAt}`, async () => !isAlive(pid), 60_000, 20);
  } finally {
    await restartWorker(env, target);
  }
  return running;
}

/**
 * Every party holds `version` active and nothing of the versions in `gone`, except the parties of
 * `keptActive`, which still hold an aborted version they had activated (see below).
 */
async function expectCleanVersion(
  walletId: string,
  keyId: string,
  version: number,
  gone = [version - 1],
  keptActive: string[] = [],
) {
  for (const [p, v] of Object.entries(await shareVersions(walletId, keyId, parties, version))) {
    expect(v, `${p} v${version}`).toEqual({ active: true, pending: false });
  }
  for (const old of gone) {
    for (const [p, v] of Object.entries(await shareVersions(walletId, keyId, parties, old))) {
      expect(v, `${p} v${old}`).toEqual({ active: keptActive.includes(p), pending: false });
    }
  }
}

describe('rotation survives a worker killed at each step', () => {
  it.each([
    ['p2', 'reshareDeal:after'],
    ['p3', 'reshareReceive:before'],
    ['p2', 'reshareActivate:after'],
    ['coordinator', 'switchWalletVersion:after'],
    ['p2', 'reshareRetire:after'],
  ])('%s killed at %s', async (target, crashAt) => {
    const w = await client.createWallet({ threshold: 2, parties: 3 });
    const r = await throughCrash(target, crashAt, () =>
      client.rotate({ walletId: w.walletId, dealers: ['p1', 'p2'] }),
    );
    expect(r).toMatchObject({ version: 2, publicKey: w.publicKey });
    await expectCleanVersion(w.walletId, w.keyId, 2);
    await expectSignsWithEverySubset(client, 'frost-ed25519', w.walletId, parties, 2);
  });
});

describe('recovery survives a worker killed at each step', () => {
  it.each([
    ['p2', 'repairDeal:after'],
    ['p1', 'repairCombine:after'],
    ['p3', 'repairReceive:after'],
    ['p1', 'recoverCarry:after'],
  ])('%s killed at %s', async (target, crashAt) => {
    const w = await client.createWallet({ scheme: 'frost-secp256k1', threshold: 2, parties: 3 });
    await wipeParty('p3');
    await pinEverywhere('p3');
    const r = await throughCrash(target, crashAt, () =>
      client.recover({ walletId: w.walletId, party: 'p3', helpers: ['p1', 'p2'] }),
    );
    expect(r).toMatchObject({ version: 2, recovered: 'p3', publicKey: w.publicKey });
    await expectCleanVersion(w.walletId, w.keyId, 2);
    await expectSignsWithEverySubset(client, 'frost-secp256k1', w.walletId, parties, 2);
  });
});

describe('a rotation aborted at a step before the switch', () => {
  it.each([
    ['p2', 'reshareDeal:after'],
    ['p2', 'reshareReceive:after'],
    ['p2', 'reshareActivate:after'],
  ])(
    '%s dead after %s, the rotation cancelled: the old shares sign, the next rotation works',
    async (target, crashAt) => {
      const env = stackEnv();
      const w = await client.createWallet({ threshold: 2, parties: 3 });
      await killWorker(env, target);
      const pid = await restartWorker(env, target, { crashAt });
      const requestId = `abort-${crashAt.replace(':', '-')}`;
      const rotation = client.rotate({ walletId: w.walletId, dealers: ['p1', 'p2'], requestId });
      rotation.catch(() => undefined);
      try {
        await waitFor(`${target} to crash`, async () => !isAlive(pid), 60_000, 20);
        await temporal.workflow.getHandle(`reshare:default:${w.walletId}:${requestId}`).cancel();
        // released at once, though p2 is still dead: the two others sign with their old shares
        let s: SignResult | undefined;
        await waitFor('the wallet to be released', async () => {
          s = await client
            .sign({ walletId: w.walletId, message: message32(), signers: ['p1', 'p3'] })
            .catch((e: unknown) => {
              if (e instanceof ConclaveError && e.code === 'BUSY') return undefined;
              throw e;
            });
          return s !== undefined;
        });
        expect(
          verifyIndependently('frost-ed25519', s!.signature, Buffer.from(s!.message, 'hex'), w.publicKey),
        ).toBe(true);
        expect((await client.getWallet({ walletId: w.walletId })).version).toBe(1);
      } finally {
        await restartWorker(env, target);
      }
      // the abort reaches p2 once it is back: nothing pending of version 2 is left anywhere. A share
      // a party had already activated (p2 did, and the others activate alongside it) stays: a party
      // never deletes an active share on the coordinator's word (it cannot tell that nobody retired
      // an old share on the strength of it); the next share change's retirement removes it
      await expect(rotation).rejects.toThrow();
      const v2 = await shareVersions(w.walletId, w.keyId, parties, 2);
      const kept = parties.filter((p) => v2[p]!.active);
      expect(kept.includes('p2')).toBe(crashAt === 'reshareActivate:after');
      if (crashAt !== 'reshareActivate:after') expect(kept).toEqual([]);
      await expectCleanVersion(w.walletId, w.keyId, 1, [2], kept);
      await expectSignsWithEverySubset(client, 'frost-ed25519', w.walletId, parties, 2);
      const next = await client.rotate({ walletId: w.walletId });
      expect(next).toMatchObject({ fromVersion: 1, version: 3 });
      await expectCleanVersion(w.walletId, w.keyId, 3, [1, 2]);
      await expectSignsWithEverySubset(client, 'frost-ed25519', w.walletId, parties, 2);
    },
  );
});
