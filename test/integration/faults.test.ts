/**
 * Faults on the real stack: a party worker killed with SIGKILL mid-ceremony and started again,
 * and a misbehaving party (a worker in this test process whose honest activities are wrapped
 * to tamper, forge or replay) that must be named when the ceremony aborts.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Worker } from '@temporalio/worker';
import type { Envelope, KeygenContext, SignContext } from '../../activities/types.js';
import type { PartyActivities } from '../../activities/party/index.js';
import { ConclaveClient } from '../../src/client/index.js';
import { sealBroadcast, sealDirect } from '../../src/crypto/envelope.js';
import { fromHex, utf8 } from '../../src/crypto/encoding.js';
import { CulpritError } from '../../src/errors.js';
import { partyKekEnvName } from '../../src/config.js';
import { devPartyKek, killPartyWorker, restartPartyWorker } from '../../src/stack/dev.js';
import { createPartyWorker } from '../../src/worker/party.js';
import { closeAllDbs } from '../../src/store/mongo.js';
import {
  nobleVerifyEd25519,
  opensslVerifyEd25519,
  partyStore,
  randomMessage,
  stackEnv,
  waitFor,
} from './helpers.js';

let client: ConclaveClient;

beforeAll(async () => {
  client = await ConclaveClient.connect(stackEnv());
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
      await killPartyWorker(env, 'p3');
      expect(await p3.shares.countDocuments({ walletId, status: 'active' })).toBe(0);
    } finally {
      await restartPartyWorker(env, 'p3');
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
    await killPartyWorker(env, 'p1'); // round 1 cannot finish on p1, so round 2 cannot start
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
      await restartPartyWorker(env, 'p1');
    }
    const s = await pending;
    expect(nobleVerifyEd25519(w.publicKey, message, s.signature)).toBe(true);
    const after = await p2.nonces.findOne({ ceremonyId: ceremony });
    expect((after!.round1Output as Envelope).body).toBe((before!.round1Output as Envelope).body);
    expect(after!.status).toBe('used');
  });
});

type Mode = 'honest' | 'tamper-share' | 'bad-share' | 'replay-round1' | 'bad-sig-share';

describe('a misbehaving party is named', () => {
  const mallory = 'p6';
  let mode: Mode = 'honest';
  let lastRound1: Envelope | undefined;
  let worker: Worker;
  let running: Promise<void>;

  beforeAll(async () => {
    const env = stackEnv();
    process.env.CONCLAVE_HOME = env.CONCLAVE_HOME;
    process.env[partyKekEnvName(mallory)] = devPartyKek(env, mallory);
    worker = await createPartyWorker({
      partyId: mallory,
      decorate: (honest, rt): PartyActivities => ({
        ...honest,
        async dkgRound1(ctx: KeygenContext) {
          const out = await honest.dkgRound1(ctx);
          if (mode === 'replay-round1' && lastRound1) return lastRound1; // a validly signed message of an older ceremony
          lastRound1 = out;
          return out;
        },
        async dkgRound2(ctx: KeygenContext, round1: Envelope[]) {
          const out = await honest.dkgRound2(ctx, round1);
          if (mode === 'tamper-share') {
            // flip one ciphertext byte after signing: the signature no longer matches
            return out.map((e) => ({ ...e, body: (e.body[0] === 'a' ? 'b' : 'a') + e.body.slice(1) }));
          }
          if (mode === 'bad-share') {
            // a correctly signed and encrypted share that does not match mallory's commitments
            return out.map((e) => {
              const peer = ctx.roster.find((p) => p.partyId === e.to)!;
              const share = '07'.padEnd(64, '0');
              return sealDirect(
                {
                  tenant: e.tenant,
                  ceremonyId: e.ceremonyId,
                  round: e.round,
                  type: e.type,
                  from: e.from,
                  to: e.to,
                },
                utf8(JSON.stringify({ share })),
                rt.identitySecret,
                fromHex(peer.transportPublic, 'transport key'),
              );
            });
          }
          return out;
        },
        async signRound2(ctx: SignContext, commitments: Envelope[]) {
          const out = await honest.signRound2(ctx, commitments);
          if (mode !== 'bad-sig-share') return out;
          const body = JSON.parse(Buffer.from(out.body, 'hex').toString()) as {
            request: string;
            share: string;
          };
          const forged = { ...body, share: body.share.replace(/^../, (b) => (b === '01' ? '02' : '01')) };
          const { tenant, ceremonyId, round, type, from, to } = out;
          return sealBroadcast(
            { tenant, ceremonyId, round, type, from, to },
            utf8(JSON.stringify(forged)),
            rt.identitySecret,
          );
        },
      }),
    });
    running = worker.run();
  });

  afterAll(async () => {
    worker?.shutdown();
    await running;
    await closeAllDbs();
  });

  async function keygenFailure(m: Mode) {
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
            (await store.rounds.countDocuments({ ceremonyId: ceremony })) ===
          0,
        5_000,
      );
      expect(await store.shares.countDocuments({ walletId, status: 'active' })).toBe(0);
    }
    await expect(client.getWallet(walletId)).rejects.toMatchObject({ code: 'UNKNOWN_WALLET' });
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
});
