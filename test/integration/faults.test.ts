/**
 * Faults on the real stack: a party worker killed with SIGKILL mid-ceremony and started again,
 * and a misbehaving party (a worker in this test process whose honest activities are wrapped
 * to tamper, forge or replay) that must be named when the ceremony aborts.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Worker } from '@temporalio/worker';
import type { Envelope } from '../../src/crypto/envelope.js';
import { ConclaveClient } from '../../src/client/index.js';
import { misbehavingParty, type MisbehaviourMode } from '../../src/drills/misbehaving.js';
import { CulpritError } from '../../src/errors.js';
import { partyKekEnvName } from '../../src/config.js';
import { devPartyKek, killWorker, restartWorker } from '../../src/stack/dev.js';
import { createPartyWorker } from '../../src/worker/party.js';
import { closeAllDbs } from '../../src/store/mongo.js';
import {
  nobleVerifyEd25519,
  opensslVerifyEd25519,
  message32,
  partyStore,
  randomMessage,
  stackEnv,
  waitFor,
} from './helpers.js';
import { verifyEcdsaLibsecp } from '../independent-verify.js';

let client: ConclaveClient;

beforeAll(async () => {
  client = await ConclaveClient.connect({ env: stackEnv() });
});
afterAll(async () => {
  await client?.close();
});

describe('a party worker killed mid-ceremony', () => {
  it('key generation completes when a party is killed between rounds and restarted', async () => {
    const env = stackEnv();
    const walletId = `w-kill-keygen-${Date.now()}`;
    const p3 = await partyStore('p3');
    const ceremony = new RegExp(`^keygen:default:${walletId}/`);
    const pending = client.createWallet({ walletId, threshold: 2, parties: ['p1', 'p2', 'p3'] });
    try {
      // SIGKILL p3 the moment its round 1 is stored: its later rounds are queued or lost in flight
      await waitFor(
        'p3 round 1',
        async () => (await p3.rounds.countDocuments({ ceremonyId: ceremony, step: 'dkg-1' })) === 1,
        30_000,
        5,
      );
      await killWorker(env, 'p3');
      expect(await p3.shares.countDocuments({ walletId, status: 'active' })).toBe(0);
    } finally {
      await restartWorker(env, 'p3');
    }
    const r = await pending;
    const message = randomMessage();
    const s = await client.sign({ walletId, message, signers: ['p2', 'p3'] });
    expect(opensslVerifyEd25519(r.publicKey, message, s.signature)).toBe(true);
  });

  it('signing completes when a signer is killed after its round 1 and restarted; its nonce is not redrawn', async () => {
    const env = stackEnv();
    const w = await client.createWallet({ threshold: 2, parties: 3 });
    const requestId = `kill-sign-${Date.now()}`;
    const p2 = await partyStore('p2');
    await killWorker(env, 'p1'); // round 1 cannot finish on p1, so round 2 cannot start
    const message = randomMessage();
    const ceremony = new RegExp(`^sign:default:${requestId}/`);
    let pending: Promise<{ signature: string }>;
    let before;
    try {
      pending = client.sign({ walletId: w.walletId, message, signers: ['p1', 'p2'], requestId });
      await waitFor(
        'p2 round 1',
        async () => (await p2.nonces.countDocuments({ ceremonyId: ceremony })) === 1,
      );
      before = await p2.nonces.findOne({ ceremonyId: ceremony });
    } finally {
      await restartWorker(env, 'p1');
    }
    const s = await pending;
    expect(nobleVerifyEd25519(w.publicKey, message, s.signature)).toBe(true);
    const after = await p2.nonceSpends.findOne({ ceremonyId: ceremony });
    expect((after!.round1Output as Envelope).body).toBe((before!.round1Output as Envelope).body);
    expect(await p2.nonces.findOne({ ceremonyId: ceremony })).toBeNull(); // spent, so deleted
  });
});

describe('a misbehaving party is named', () => {
  const mallory = 'p6';
  let mode: MisbehaviourMode = 'honest';
  let worker: Worker;
  let running: Promise<void>;

  beforeAll(async () => {
    const env = stackEnv();
    process.env.CONCLAVE_HOME = env.CONCLAVE_HOME;
    process.env[partyKekEnvName(mallory)] = devPartyKek(env, mallory);
    process.env.CONCLAVE_REQUIRE_GATE = '0'; // a party of the dev stack, opted out of gating
    // the decorators (tamper, forge, replay) live in src/drills/misbehaving.ts, shared with the drills
    worker = await createPartyWorker({ partyId: mallory, decorate: misbehavingParty(() => mode) });
    running = worker.run();
  });

  afterAll(async () => {
    worker?.shutdown();
    await running;
    await closeAllDbs();
  });

  async function keygenFailure(m: MisbehaviourMode) {
    mode = m;
    const err = await client
      .createWallet({ threshold: 2, parties: ['p1', 'p2', mallory] })
      .catch((e: unknown) => e);
    mode = 'honest';
    return err;
  }

  it('an honest run with the in-test party works (the harness itself is sound)', async () => {
    const r = await client.createWallet({ threshold: 2, parties: ['p1', 'p2', mallory] });
    const message = randomMessage();
    const s = await client.sign({ walletId: r.walletId, message, signers: ['p1', mallory] });
    expect(opensslVerifyEd25519(r.publicKey, message, s.signature)).toBe(true);
  });

  it('a share tampered after signing aborts key generation naming the sender', async () => {
    const err = await keygenFailure('tamper-share');
    expect(err).toBeInstanceOf(CulpritError);
    expect(err).toMatchObject({ code: 'TAMPERED', culprit: mallory });
  });

  it('a signed share that fails its commitment aborts key generation naming the sender', async () => {
    const err = await keygenFailure('bad-share');
    expect(err).toMatchObject({ code: 'BAD_SHARE', culprit: mallory });
  });

  it('a round-1 message re-signed with a wrong proof of knowledge aborts key generation naming the sender', async () => {
    const err = await keygenFailure('bad-proof');
    expect(err).toBeInstanceOf(CulpritError);
    expect(err).toMatchObject({ code: 'BAD_PROOF', culprit: mallory });
  });

  it('a round-1 message replayed from an older ceremony aborts key generation naming the sender', async () => {
    const err = await keygenFailure('replay-round1');
    expect(err).toMatchObject({ code: 'REPLAY', culprit: mallory });
  });

  it('nothing of an aborted key generation is kept as active, and its round state is gone', async () => {
    const walletId = `w-aborted-${Date.now()}`;
    mode = 'bad-share';
    await expect(
      client.createWallet({ walletId, threshold: 2, parties: ['p1', 'p2', mallory] }),
    ).rejects.toBeInstanceOf(CulpritError);
    mode = 'honest';
    // a round still in flight when the abort ran undoes its own write as soon as it lands
    for (const p of ['p1', 'p2', mallory]) {
      const store = await partyStore(p);
      const ceremony = new RegExp(`^keygen:default:${walletId}/`);
      await waitFor(
        `${p} to hold nothing of the aborted ceremony`,
        async () =>
          (await store.shares.countDocuments({ walletId })) +
            (await store.pendingShares.countDocuments({ walletId })) +
            (await store.rounds.countDocuments({ ceremonyId: ceremony })) ===
          0,
        5_000,
      );
      expect(await store.shares.countDocuments({ walletId, status: 'active' })).toBe(0);
    }
    await expect(client.getWallet({ walletId })).rejects.toMatchObject({ code: 'UNKNOWN_WALLET' });
  });

  it('a bad signature share aborts signing naming the signer', async () => {
    const r = await client.createWallet({ threshold: 2, parties: ['p1', 'p2', mallory] });
    mode = 'bad-sig-share';
    const err = await client
      .sign({ walletId: r.walletId, message: randomMessage(), signers: ['p1', mallory] })
      .catch((e: unknown) => e);
    mode = 'honest';
    expect(err).toMatchObject({ code: 'BAD_SHARE', culprit: mallory });
  });

  it.each(['frost-secp256k1', 'frost-taproot'] as const)(
    '%s: a bad signature share on a derived key aborts signing naming the signer',
    async (scheme) => {
      const r = await client.createWallet({ scheme, threshold: 2, parties: ['p1', 'p2', mallory] });
      mode = 'bad-sig-share';
      const err = await client
        .sign({ walletId: r.walletId, message: randomMessage(), signers: ['p1', mallory], path: 'm/0/7' })
        .catch((e: unknown) => e);
      mode = 'honest';
      expect(err).toMatchObject({ code: 'BAD_SHARE', culprit: mallory });
      // and the same signers sign honestly afterwards
      const ok = await client.sign({
        walletId: r.walletId,
        message: randomMessage(),
        signers: ['p1', mallory],
      });
      expect(ok.signature).toMatch(/^[0-9a-f]{128,130}$/);
    },
  );

  it('ECDSA: an inconsistent OT extension aborts signing naming the sender; the honest signer retires that setup until a pairing ceremony replaces it', async () => {
    const r = await client.createWallet({
      curve: 'secp256k1',
      scheme: 'dkls23-secp256k1',
      threshold: 2,
      parties: ['p1', 'p2', mallory],
    });
    mode = 'bad-ot';
    const err = await client
      .sign({ walletId: r.walletId, message: message32(), signers: ['p1', mallory] })
      .catch((e: unknown) => e);
    mode = 'honest';
    expect(err).toBeInstanceOf(CulpritError);
    expect(err).toMatchObject({ code: 'TAMPERED', culprit: mallory });
    expect(String((err as Error).message)).toMatch(/consistency|check/i);

    // p1 retired its setup with mallory in its own database, whatever a coordinator asks next
    const p1 = await partyStore('p1');
    const setup = await p1.pairSetups.findOne({ keyId: r.keyId, version: 1 });
    expect(setup?.abortedPeers).toHaveLength(1);
    const malloryShare = await (await partyStore(mallory)).shares.findOne({ keyId: r.keyId });
    expect(setup?.abortedPeers).toEqual([malloryShare?.identifier]);
    const refused = await client
      .sign({ walletId: r.walletId, message: message32(), signers: ['p1', mallory] })
      .catch((e: unknown) => e);
    expect(refused).toMatchObject({ code: 'ABORTED' });
    expect(String((refused as Error).message)).toMatch(/p1 retired its OT setup with p6/);

    // other pairs are untouched: p2 and mallory (honest now) sign
    const message = message32();
    const other = await client.sign({ walletId: r.walletId, message, signers: ['p2', mallory] });
    expect(verifyEcdsaLibsecp(other.signature, Buffer.from(message, 'hex'), r.publicKey)).toBe(true);

    // a pairing ceremony gives every pair fresh setups; p1 and mallory sign together again
    const pairing = await client.pairWallet({ walletId: r.walletId });
    expect(pairing.setupId).not.toBe(setup?.setupId);
    const fresh = await p1.pairSetups.findOne({ keyId: r.keyId, version: 1 });
    expect(fresh?.setupId).toBe(pairing.setupId);
    expect(fresh?.abortedPeers ?? []).toEqual([]);
    const again = message32();
    const s = await client.sign({ walletId: r.walletId, message: again, signers: ['p1', mallory] });
    expect(verifyEcdsaLibsecp(s.signature, Buffer.from(again, 'hex'), r.publicKey)).toBe(true);
    const trail = (await client.auditLog({ walletId: r.walletId })).map((e) => `${e.ceremony}:${e.outcome}`);
    expect(trail).toContain('pairing:completed');
  });

  it('ECDSA: of concurrent requests over one setup, one fails the consistency check; the others are refused before any second check', async () => {
    const r = await client.createWallet({
      curve: 'secp256k1',
      scheme: 'dkls23-secp256k1',
      threshold: 2,
      parties: ['p1', 'p2', mallory],
    });
    mode = 'bad-ot';
    const errors = await Promise.all(
      [1, 2, 3].map(() =>
        client
          .sign({ walletId: r.walletId, message: message32(), signers: ['p1', mallory] })
          .catch((e: unknown) => e),
      ),
    );
    mode = 'honest';
    // only a check that ran can fail (TAMPERED): exactly one ran against p1's Δ with mallory
    const failed = errors.filter((e) => (e as { code?: string }).code === 'TAMPERED');
    expect(failed).toHaveLength(1);
    expect(failed[0]).toMatchObject({ code: 'TAMPERED', culprit: mallory });
    for (const e of errors.filter((x) => x !== failed[0])) {
      expect(e).toMatchObject({ code: 'ABORTED' });
      expect(String((e as Error).message)).toMatch(/p1 retired its OT setup with p6/);
    }
    const setup = await (await partyStore('p1')).pairSetups.findOne({ keyId: r.keyId, version: 1 });
    expect(setup?.abortedPeers).toHaveLength(1);
  });
});
