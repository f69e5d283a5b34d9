/**
 * Rotation and resharing on the real stack, for Ed25519 and Taproot keys: the key and its
 * addresses never change, every allowed signer subset of the new committee signs (verified by an
 * implementation that knows nothing of Conclave), old shares are destroyed, a worker killed
 * mid-ceremony does not cost the wallet its signing ability, and lifecycle ceremonies are one
 * at a time per wallet with signing refused meanwhile.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConclaveClient } from '../../src/client/index.js';
import { loadConfig } from '../../src/config.js';
import { devPartyKek, killWorker, restartWorker } from '../../src/stack/dev.js';
import { CoordinatorStore, walletDocId } from '../../src/store/coordinator-store.js';
import { closeAllDbs, openDb } from '../../src/store/mongo.js';
import { shareDocId, type ShareDoc } from '../../src/store/party-store.js';
import { openJson } from '../../src/crypto/at-rest.js';
import {
  aggregateSignature,
  signCommit,
  signShare,
  tweakPublicPackage,
  tweakSigningShare,
} from '../../src/crypto/frost.js';
import { signingKeyFor } from '../../src/crypto/signing-key.js';
import { getScheme } from '../../src/crypto/schemes.js';
import { shareContext } from '../../src/party/runtime.js';
import { verifyIndependently } from '../independent-verify.js';
import {
  expectSignsWithEverySubset,
  message32,
  partyStore,
  shareVersions,
  stackEnv,
  waitFor,
} from './helpers.js';

let client: ConclaveClient;
beforeAll(async () => {
  client = await ConclaveClient.connect({ env: stackEnv() });
});
afterAll(async () => {
  await client?.close();
  await closeAllDbs();
});

/** A share as its party holds it, decrypted with the party's KEK (what a thief with both would have). */
function unseal(partyId: string, share: ShareDoc): { identifier: string; signingShare: string } {
  const kek = Buffer.from(devPartyKek(stackEnv(), partyId), 'hex');
  const { signingShare } = openJson<{ signingShare: string }>(
    kek,
    share.sealed,
    shareContext({ partyId }, share.tenant, share.keyId, share.version),
  );
  return { identifier: share.identifier, signingShare };
}

/** Runs FROST in this process with the given shares; true if the signature verifies under the key. */
function signsTogether(
  schemeName: string,
  shares: { identifier: string; signingShare: string }[],
  held: ShareDoc,
): boolean {
  // A DKLs23 key's shares are FROST(secp256k1) Shamir shares: a FROST signature shows they form the key.
  const name = getScheme(schemeName).protocol === 'dkls23' ? 'frost-secp256k1' : schemeName;
  const S = getScheme(name);
  const msg = Buffer.from(message32(), 'hex');
  // the wallet key's own signing key (for Taproot: the BIP341 output key), as signers compute it
  const key = signingKeyFor(S, held.publicKey, held.transcriptHash, { path: 'm' });
  const pub = tweakPublicPackage(S, held.public, key.tweak);
  const tweaked = shares.map((p) => ({
    ...p,
    signingShare: tweakSigningShare(S, p.signingShare, key.tweak),
  }));
  const commits = tweaked.map((p) => signCommit(S, p.identifier, p.signingShare));
  const list = commits.map((c) => c.commitments);
  try {
    const sigShares = Object.fromEntries(
      tweaked.map((p, k) => [
        p.identifier,
        signShare(S, p.identifier, p.signingShare, pub, commits[k]!.nonces, list, msg),
      ]),
    );
    const sig = aggregateSignature(S, pub, list, msg, sigShares);
    return verifyIndependently(name, sig, msg, key.verifyingKey);
  } catch {
    return false; // aggregation checks each share and refuses a wrong one
  }
}

describe.each(['frost-ed25519', 'frost-secp256k1', 'frost-taproot', 'dkls23-secp256k1'] as const)(
  '%s: rotation and resharing',
  (scheme) => {
    let walletId: string;
    let keyId: string;
    let publicKey: string;
    let address: string | undefined;

    it('rotates a 2-of-3 key: same key and address, new shares, old shares destroyed', async () => {
      const w = await client.createWallet({ scheme, threshold: 2, parties: 3 });
      ({ walletId, keyId, publicKey } = w);
      address = (await client.deriveKey({ walletId, path: 'm/0' })).address;
      // what a thief of p1's disk would hold from before the rotation
      const stolen = (await (
        await partyStore('p1')
      ).shares.findOne({ _id: shareDocId('default', keyId, 1) }))!;
      const r = await client.rotate({ walletId });
      expect(r).toMatchObject({ kind: 'rotation', fromVersion: 1, version: 2, publicKey, threshold: 2 });
      expect(r.parties).toEqual(['p1', 'p2', 'p3']);
      expect(r.dealers).toHaveLength(2);
      const info = await client.getWallet({ walletId });
      expect(info).toMatchObject({ version: 2, publicKey, threshold: 2 });
      expect((await client.deriveKey({ walletId, path: 'm/0' })).address).toBe(address);
      for (const [p, v] of Object.entries(await shareVersions(walletId, keyId, ['p1', 'p2', 'p3'], 1))) {
        expect(v, `${p} v1`).toEqual({ active: false, pending: false });
      }
      for (const [p, v] of Object.entries(await shareVersions(walletId, keyId, ['p1', 'p2', 'p3'], 2))) {
        expect(v, `${p} v2`).toEqual({ active: true, pending: false });
      }
      await expectSignsWithEverySubset(client, scheme, walletId, ['p1', 'p2', 'p3'], 2);

      // the old share of p1 and the new share of p2 do not sign together; the new ones do
      const p2new = (await (
        await partyStore('p2')
      ).shares.findOne({ _id: shareDocId('default', keyId, 2) }))!;
      const p1new = (await (
        await partyStore('p1')
      ).shares.findOne({ _id: shareDocId('default', keyId, 2) }))!;
      expect(signsTogether(scheme, [unseal('p1', stolen), unseal('p2', p2new)], p2new)).toBe(false);
      expect(signsTogether(scheme, [unseal('p1', p1new), unseal('p2', p2new)], p2new)).toBe(true);
    });

    it('reshares 2-of-3 to 3-of-5: every 3-subset signs, two signers are refused', async () => {
      const r = await client.reshare({ walletId, parties: ['p1', 'p2', 'p3', 'p4', 'p5'], threshold: 3 });
      expect(r).toMatchObject({ kind: 'reshare', version: 3, publicKey, threshold: 3 });
      await expectSignsWithEverySubset(client, scheme, walletId, ['p1', 'p2', 'p3', 'p4', 'p5'], 3);
      await expect(
        client.sign({ walletId, message: message32(), signers: ['p4', 'p5'] }),
      ).rejects.toMatchObject({
        code: 'BAD_INPUT',
      });
      expect((await client.deriveKey({ walletId, path: 'm/0' })).address).toBe(address);
    });

    it('reshares back to 2-of-3 replacing p3 by p4: p3 keeps nothing, every pair signs', async () => {
      const r = await client.reshare({ walletId, parties: ['p1', 'p2', 'p4'], threshold: 2 });
      expect(r).toMatchObject({ version: 4, publicKey, threshold: 2, parties: ['p1', 'p2', 'p4'] });
      expect(r.dealers).toHaveLength(3);
      const v3 = await shareVersions(walletId, keyId, ['p1', 'p2', 'p3', 'p4', 'p5'], 3);
      expect(Object.values(v3).every((v) => !v.active && !v.pending)).toBe(true);
      const v4 = await shareVersions(walletId, keyId, ['p1', 'p2', 'p3', 'p4', 'p5'], 4);
      expect(Object.fromEntries(Object.entries(v4).map(([p, v]) => [p, v.active]))).toEqual({
        p1: true,
        p2: true,
        p3: false,
        p4: true,
        p5: false,
      });
      await expectSignsWithEverySubset(client, scheme, walletId, ['p1', 'p2', 'p4'], 2);
      await expect(
        client.sign({ walletId, message: message32(), signers: ['p1', 'p3'] }),
      ).rejects.toMatchObject({
        code: 'BAD_INPUT',
      });
    });
  },
);

describe('lifecycle rules', () => {
  it('refuses bad reshares clearly and keeps the wallet as it was', async () => {
    const w = await client.createWallet({ threshold: 2, parties: 3 });
    await expect(client.reshare({ walletId: w.walletId, threshold: 1 })).rejects.toMatchObject({
      code: 'BAD_INPUT',
      message: expect.stringMatching(/threshold must be at least 2/),
    });
    await expect(
      client.reshare({ walletId: w.walletId, parties: ['p1', 'p2'], threshold: 3 }),
    ).rejects.toMatchObject({
      code: 'BAD_INPUT',
      message: expect.stringMatching(/larger than the new committee/),
    });
    await expect(client.reshare({ walletId: w.walletId, dealers: ['p1'] })).rejects.toMatchObject({
      code: 'BAD_INPUT',
    });
    await expect(client.rotate({ walletId: 'no-such-wallet' })).rejects.toMatchObject({
      code: 'UNKNOWN_WALLET',
    });
    const info = await client.getWallet({ walletId: w.walletId });
    expect(info.version).toBe(1);
    const r = await client.sign({ walletId: w.walletId, message: message32() });
    expect(
      verifyIndependently('frost-ed25519', r.signature, Buffer.from(r.message, 'hex'), w.publicKey),
    ).toBe(true);
  });

  it('one lifecycle ceremony per wallet; signing is refused while one holds the wallet', async () => {
    const w = await client.createWallet({ threshold: 2, parties: 3 });
    const store = new CoordinatorStore(await openDb(loadConfig(stackEnv()).coordinatorDb));
    const id = walletDocId('default', w.walletId);
    await store.wallets.updateOne({ _id: id }, { $set: { lockedBy: 'reshare:default:other/run' } });
    try {
      await expect(client.sign({ walletId: w.walletId, message: message32() })).rejects.toMatchObject({
        code: 'BUSY',
        message: expect.stringMatching(/changing its shares .*retry/),
      });
      await expect(client.rotate({ walletId: w.walletId })).rejects.toMatchObject({ code: 'BUSY' });
    } finally {
      await store.wallets.updateOne({ _id: id }, { $set: { lockedBy: null } });
    }
    await client.rotate({ walletId: w.walletId });
    await client.sign({ walletId: w.walletId, message: message32() });
  });

  it('rotates on a Temporal schedule until unscheduled', async () => {
    const w = await client.createWallet({ threshold: 2, parties: 3 });
    await client.scheduleRotation({ walletId: w.walletId, every: '2s' });
    try {
      await expect(client.scheduleRotation({ walletId: w.walletId, every: '2s' })).rejects.toMatchObject({
        code: 'BAD_INPUT',
      });
      await waitFor(
        'a scheduled rotation',
        async () => (await client.getWallet({ walletId: w.walletId })).version >= 2,
        60_000,
        250,
      );
    } finally {
      expect(await client.unscheduleRotation({ walletId: w.walletId })).toBe(true);
    }
    expect(await client.unscheduleRotation({ walletId: w.walletId })).toBe(false);
    // a run may still be finishing: wait for the lock to go, then the key signs as before
    await waitFor(
      'the last scheduled rotation to finish',
      async () =>
        client
          .sign({ walletId: w.walletId, message: message32() })
          .then(() => true)
          .catch((e: { code?: string }) => {
            if (e.code !== 'BUSY') throw e;
            return false;
          }),
      60_000,
      250,
    );
    const info = await client.getWallet({ walletId: w.walletId });
    expect(info.publicKey).toBe(w.publicKey);
  });

  it('a new party killed during a reshare: the ceremony finishes once it is back, and the key signs', async () => {
    const env = stackEnv();
    const w = await client.createWallet({ threshold: 2, parties: 3 });
    const old = await Promise.all(['p1', 'p2', 'p3'].map((p) => partyStore(p)));
    const pending = client.reshare({ walletId: w.walletId, parties: ['p1', 'p2', 'p4'], threshold: 2 });
    try {
      // SIGKILL the new party p4 the moment a dealer has dealt: its receive round is queued or lost
      const ceremony = new RegExp(`^reshare:default:${w.walletId}:`);
      await waitFor(
        'a dealer dealt',
        async () =>
          (
            await Promise.all(
              old.map((st) => st.rounds.countDocuments({ ceremonyId: ceremony, step: 'reshare-deal' })),
            )
          ).some((n) => n > 0),
        30_000,
        5,
      );
      await killWorker(env, 'p4');
    } finally {
      await restartWorker(env, 'p4');
    }
    const r = await pending;
    expect(r.version).toBe(2);
    const s = await client.sign({ walletId: w.walletId, message: message32(), signers: ['p2', 'p4'] });
    expect(
      verifyIndependently('frost-ed25519', s.signature, Buffer.from(s.message, 'hex'), w.publicKey),
    ).toBe(true);
  });
});
