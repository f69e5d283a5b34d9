/**
 * Preprocessed FROST nonces on the real stack: a filled pool makes signing one party round (no
 * round 1 in the workflow's history), each nonce is spent once and then gone from the party, the
 * pool refills itself in the background, a signer that lost its slot's nonce makes the request
 * fall back to both rounds, and a rotation destroys the nonces of the version it retires.
 */
import { Client, Connection } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConclaveClient } from '../../src/client/index.js';
import { clientDataConverter } from '../../src/codec/payload-codec.js';
import { loadConfig } from '../../src/config.js';
import { CoordinatorStore } from '../../src/store/coordinator-store.js';
import { closeAllDbs, openDb } from '../../src/store/mongo.js';
import { verifyIndependently } from '../independent-verify.js';
import { message32, partyStore, stackEnv, waitFor } from './helpers.js';

let client: ConclaveClient;
let temporal: Client;
let store: CoordinatorStore;
beforeAll(async () => {
  client = await ConclaveClient.connect({ env: stackEnv() });
  const connection = await Connection.connect({ address: loadConfig(stackEnv()).temporal.address });
  const dataConverter = clientDataConverter(loadConfig(stackEnv()).payloadKey);
  temporal = new Client({ connection, ...(dataConverter ? { dataConverter } : {}) });
  store = new CoordinatorStore(await openDb(loadConfig(stackEnv()).coordinatorDb));
});
afterAll(async () => {
  await client?.close();
  await temporal?.connection.close();
  await closeAllDbs();
});

/** The party activities a workflow scheduled, in order. */
async function activitiesOf(workflowId: string): Promise<string[]> {
  const history = await temporal.workflow.getHandle(workflowId).fetchHistory();
  return (history.events ?? [])
    .map((e) => e.activityTaskScheduledEventAttributes?.activityType?.name)
    .filter((n): n is string => typeof n === 'string');
}

const bytes = (h: string) => Uint8Array.from(Buffer.from(h, 'hex'));
const slotNonces = async (partyId: string, poolId: string) =>
  (await partyStore(partyId)).nonces.countDocuments({
    ceremonyId: { $regex: `^${poolId.replace(/[+]/g, '\\+')}/` },
  });

describe('a pool of preprocessed nonces', () => {
  it('signs in one round from the pool, spends each nonce once, refills, and falls back without it', async () => {
    const w = await client.createWallet({ curve: 'ed25519', threshold: 2, parties: 3 });
    const filled = await client.fillNoncePool({ walletId: w.walletId, target: 6 });
    expect(filled).toMatchObject({ ready: 6, target: 6, signers: ['p1', 'p2'], version: 1 });
    expect(await slotNonces('p1', filled.poolId)).toBe(6);
    expect(await slotNonces('p3', filled.poolId)).toBe(0);

    // three requests that name no signers: the pool's signers, round 2 only
    for (let i = 0; i < 3; i++) {
      const requestId = `pooled-${Date.now().toString(36)}-${i}`;
      const message = message32();
      const r = await client.sign({ walletId: w.walletId, message, requestId });
      expect(r.signers).toEqual(['p1', 'p2']);
      expect(verifyIndependently('frost-ed25519', r.signature, bytes(message), r.publicKey)).toBe(true);
      const ran = await activitiesOf(`sign:default:${requestId}`);
      expect(ran).toContain('signRound2');
      expect(ran).not.toContain('signRound1');
    }
    // spent nonces are gone from both signers; the half-empty pool refilled itself in the background
    await waitFor(
      'the background refill',
      async () => (await store.noncePools.findOne({ _id: filled.poolId }))!.produced >= 9,
      30_000,
    );
    const pool = (await store.noncePools.findOne({ _id: filled.poolId }))!;
    expect(pool.claimed).toBe(3);
    for (const p of ['p1', 'p2']) expect(await slotNonces(p, filled.poolId)).toBe(pool.produced - 3);

    // a signer that no longer holds the next slot's nonce (say, restored from a backup): both rounds
    const next = `${filled.poolId}/${pool.claimed + 1}`;
    await (await partyStore('p2')).nonces.deleteOne({ _id: `default|${next}` });
    const requestId = `pooled-fallback-${Date.now().toString(36)}`;
    const message = message32();
    const r = await client.sign({ walletId: w.walletId, message, requestId });
    expect(verifyIndependently('frost-ed25519', r.signature, bytes(message), r.publicKey)).toBe(true);
    const ran = await activitiesOf(`sign:default:${requestId}`);
    expect(ran.filter((n) => n === 'signRound2').length).toBeGreaterThanOrEqual(3);
    expect(ran).toContain('signRound1');
    // p1 spent its slot nonce on this request and never again
    expect(await (await partyStore('p1')).nonces.findOne({ _id: `default|${next}` })).toBeNull();
    expect(await (await partyStore('p1')).nonceSpends.findOne({ _id: `default|${next}` })).not.toBeNull();
  });

  it('named signers with no pool of their own sign in two rounds; a rotation destroys the pool', async () => {
    const w = await client.createWallet({ curve: 'ed25519', threshold: 2, parties: 3 });
    const filled = await client.fillNoncePool({ walletId: w.walletId, target: 4, signers: ['p2', 'p3'] });
    const requestId = `pooled-named-${Date.now().toString(36)}`;
    await client.sign({ walletId: w.walletId, message: message32(), requestId, signers: ['p1', 'p3'] });
    expect(await activitiesOf(`sign:default:${requestId}`)).toContain('signRound1');
    expect(await slotNonces('p3', filled.poolId)).toBe(4);
    await client.rotate({ walletId: w.walletId });
    for (const p of ['p2', 'p3']) expect(await slotNonces(p, filled.poolId)).toBe(0);
    // the new version has no pool: two rounds, and the old pool's slots are never claimed again
    const after = `pooled-after-${Date.now().toString(36)}`;
    await client.sign({
      walletId: w.walletId,
      message: message32(),
      requestId: after,
      signers: ['p2', 'p3'],
    });
    expect(await activitiesOf(`sign:default:${after}`)).toContain('signRound1');
    expect((await store.noncePools.findOne({ _id: filled.poolId }))!.claimed).toBe(0);
  });

  it('refuses a pool for a threshold ECDSA wallet, and a target out of range', async () => {
    const w = await client.createWallet({ scheme: 'dkls23-secp256k1', threshold: 2, parties: 3 });
    await expect(client.fillNoncePool({ walletId: w.walletId })).rejects.toMatchObject({ code: 'BAD_INPUT' });
    const e = await client.createWallet({ curve: 'ed25519', threshold: 2, parties: 3 });
    await expect(client.fillNoncePool({ walletId: e.walletId, target: 5000 })).rejects.toMatchObject({
      code: 'BAD_INPUT',
    });
  });
});
