/** Key generation and signing on the real stack: Temporal, FerretDB, one worker process per party. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConclaveClient } from '../../src/client/index.js';
import { ConclaveError } from '../../src/errors.js';
import { closeAllDbs } from '../../src/store/mongo.js';
import { verifyIndependently } from '../independent-verify.js';
import { nobleVerifyEd25519, opensslVerifyEd25519, partyStore, randomMessage, stackEnv } from './helpers.js';

let client: ConclaveClient;

beforeAll(async () => {
  client = await ConclaveClient.connect({ env: stackEnv() });
});
afterAll(async () => {
  await client?.close();
  await closeAllDbs();
});

function expectValid(publicKey: string, message: string, signature: string) {
  expect(signature).toMatch(/^[0-9a-f]{128}$/);
  expect(nobleVerifyEd25519(publicKey, message, signature)).toBe(true);
  expect(opensslVerifyEd25519(publicKey, message, signature)).toBe(true);
  // and a signature for another message must not pass: the verifiers are really checking
  expect(
    opensslVerifyEd25519(
      publicKey,
      message.replace(/^../, (b) => (b === '00' ? '01' : '00')),
      signature,
    ),
  ).toBe(false);
}

describe('ed25519 2-of-3', () => {
  let walletId: string;
  let publicKey: string;

  it('generates a key with every party holding an encrypted share', async () => {
    const r = await client.createWallet({ curve: 'ed25519', threshold: 2, parties: 3 });
    walletId = r.walletId;
    publicKey = r.publicKey;
    expect(r).toMatchObject({
      curve: 'ed25519',
      scheme: 'frost-ed25519',
      threshold: 2,
      parties: ['p1', 'p2', 'p3'],
    });
    expect(r.publicKey).toMatch(/^[0-9a-f]{64}$/);
    const w = await client.getWallet({ walletId });
    expect(w).toMatchObject({
      walletId,
      keyId: r.keyId,
      publicKey,
      threshold: 2,
      parties: ['p1', 'p2', 'p3'],
    });
    for (const p of ['p1', 'p2', 'p3']) {
      const store = await partyStore(p);
      const share = await store.shares.findOne({ walletId });
      expect(share?.status).toBe('active');
      expect(await store.pendingShares.countDocuments({ walletId })).toBe(0);
      expect(share?.publicKey).toBe(publicKey);
      expect(share?.transcriptHash).toBe(r.transcriptHash);
      // at rest only the sealed box: no field holds the signing share in the clear
      expect(JSON.stringify(share)).not.toMatch(/signingShare/);
      expect(share?.sealed.ct).toMatch(/^[0-9a-f]+$/);
      // round state is gone once the key is active
      expect(
        await store.rounds.countDocuments({
          tenant: 'default',
          ceremonyId: new RegExp(`^keygen:default:${walletId}/`),
        }),
      ).toBe(0);
    }
    expect(await (await partyStore('p4')).shares.countDocuments({ walletId })).toBe(0);
  });

  for (const signers of [
    ['p1', 'p2'],
    ['p1', 'p3'],
    ['p2', 'p3'],
  ]) {
    it(`signs with ${signers.join('+')}; noble and OpenSSL accept the signature`, async () => {
      const message = randomMessage();
      const r = await client.sign({ walletId, message, signers });
      expect(r).toMatchObject({
        status: 'signed',
        walletId,
        publicKey,
        message,
        scheme: 'frost-ed25519',
        signers,
      });
      expectValid(publicKey, message, r.signature);
    });
  }

  it('signs with all three parties named', async () => {
    const message = randomMessage();
    const r = await client.sign({ walletId, message, signers: ['p1', 'p2', 'p3'] });
    expectValid(publicKey, message, r.signature);
  });

  it('runs a request id once: the second call returns the same signature and spends no new nonce', async () => {
    const message = randomMessage();
    const requestId = `req-${Date.now()}`;
    const first = await client.sign({ walletId, message, requestId });
    const second = await client.sign({ walletId, message, requestId });
    expect(second.signature).toBe(first.signature);
    for (const p of first.signers) {
      const store = await partyStore(p);
      const ceremony = new RegExp(`^sign:default:${requestId}/`);
      // one nonce was drawn and spent once; the sealed nonce itself is gone
      expect(await store.nonceSpends.find({ ceremonyId: ceremony }).toArray()).toHaveLength(1);
      expect(await store.nonces.find({ ceremonyId: ceremony }).toArray()).toHaveLength(0);
    }
    await expect(client.sign({ walletId, message: randomMessage(), requestId })).rejects.toMatchObject({
      code: 'REPLAY',
    });
  });

  it('refuses bad input with typed, one-line errors', async () => {
    await expect(client.sign({ walletId: 'no-such-wallet', message: 'aa' })).rejects.toMatchObject({
      code: 'UNKNOWN_WALLET',
    });
    await expect(client.sign({ walletId, message: 'xyz' })).rejects.toMatchObject({ code: 'BAD_INPUT' });
    await expect(client.sign({ walletId, message: 'aa', signers: ['p1'] })).rejects.toMatchObject({
      code: 'BAD_INPUT',
    });
    await expect(client.sign({ walletId, message: 'aa', signers: ['p1', 'p5'] })).rejects.toMatchObject({
      code: 'BAD_INPUT',
    });
    await expect(client.sign({ walletId, message: 'aa', tenant: 'other-tenant' })).rejects.toMatchObject({
      code: 'UNKNOWN_WALLET',
    });
    await expect(client.createWallet({ threshold: 4, parties: 3 })).rejects.toMatchObject({
      code: 'BAD_INPUT',
    });
    await expect(client.createWallet({ threshold: 1, parties: 3 })).rejects.toMatchObject({
      code: 'BAD_INPUT',
    });
    // @ts-expect-error 'p256' is not a Curve: a JavaScript caller's typo is refused at run time
    await expect(client.createWallet({ curve: 'p256', threshold: 2, parties: 3 })).rejects.toMatchObject({
      code: 'UNKNOWN_CURVE',
    });
    await expect(
      // @ts-expect-error nor is 'frost-p256' a SchemeName
      client.createWallet({ scheme: 'frost-p256', threshold: 2, parties: 3 }),
    ).rejects.toMatchObject({
      code: 'UNKNOWN_SCHEME',
      message:
        'unknown scheme "frost-p256" (known: frost-ed25519, frost-secp256k1, frost-taproot, dkls23-secp256k1)',
    });
    const err = await client.sign({ walletId: 'no-such-wallet', message: 'aa' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConclaveError);
    expect((err as Error).message).not.toContain('\n');
  });
});

describe('ed25519 3-of-5', () => {
  it('generates a key and signs with several 3-subsets', async () => {
    const r = await client.createWallet({ threshold: 3, parties: 5 });
    expect(r.parties).toEqual(['p1', 'p2', 'p3', 'p4', 'p5']);
    for (const signers of [
      ['p1', 'p2', 'p3'],
      ['p3', 'p4', 'p5'],
      ['p1', 'p3', 'p5'],
      ['p2', 'p4', 'p5'],
    ]) {
      const message = randomMessage();
      const s = await client.sign({ walletId: r.walletId, message, signers });
      expectValid(r.publicKey, message, s.signature);
    }
  });

  it('keeps wallets of different tenants apart', async () => {
    const r = await client.createWallet({ tenant: 'tenant-b', threshold: 2, parties: 3 });
    await expect(client.getWallet({ walletId: r.walletId })).rejects.toMatchObject({
      code: 'UNKNOWN_WALLET',
    });
    const w = await client.getWallet({ walletId: r.walletId, tenant: 'tenant-b' });
    expect(w.tenant).toBe('tenant-b');
    const message = randomMessage();
    const s = await client.sign({ tenant: 'tenant-b', walletId: r.walletId, message });
    expectValid(r.publicKey, message, s.signature);
  });
});

describe.each(['frost-secp256k1', 'frost-taproot'] as const)('%s 2-of-3 with derivation paths', (scheme) => {
  let walletId: string;

  it('generates a key through the same ceremony as Ed25519', async () => {
    const r = await client.createWallet({ curve: 'secp256k1', scheme, threshold: 2, parties: 3 });
    walletId = r.walletId;
    expect(r).toMatchObject({ curve: 'secp256k1', scheme, threshold: 2, parties: ['p1', 'p2', 'p3'] });
    expect(r.publicKey).toMatch(/^0[23][0-9a-f]{64}$/);
    for (const p of ['p1', 'p2', 'p3']) {
      const share = await (await partyStore(p)).shares.findOne({ walletId });
      expect(share?.scheme).toBe(scheme);
    }
  });

  it.each(['m', 'm/0/7', 'm/44/1/2'])('signs along %s; an independent verifier accepts it', async (path) => {
    const message = randomMessage().slice(0, 64); // 32 bytes, as a sighash
    const r = await client.sign({ walletId, message, path });
    const derived = await client.deriveKey({ walletId, path });
    expect(r).toMatchObject({ status: 'signed', path, scheme, publicKey: derived.verifyingKey });
    const msg = new Uint8Array(Buffer.from(message, 'hex'));
    expect(verifyIndependently(scheme, r.signature, msg, derived.verifyingKey)).toBe(true);
    if (path !== 'm') {
      const root = await client.deriveKey({ walletId });
      expect(verifyIndependently(scheme, r.signature, msg, root.verifyingKey)).toBe(false);
    }
  });

  it('a request id bound to one path cannot be replayed for another', async () => {
    const message = randomMessage();
    const requestId = `path-replay-${scheme}-${Date.now()}`;
    await client.sign({ walletId, message, path: 'm/1', requestId });
    await expect(client.sign({ walletId, message, path: 'm/2', requestId })).rejects.toMatchObject({
      code: 'REPLAY',
    });
  });
});
