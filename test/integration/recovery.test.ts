/**
 * Recovery of lost shares on the real stack, for Ed25519 and secp256k1 keys: each party of a
 * 2-of-3 loses its whole database in turn, its peers' operators pin its new keys, the helpers
 * rebuild its share, it proves it signs (verified by an implementation that knows nothing of
 * Conclave), and every pair of parties signs afterwards. Refusals leave the wallet as it was.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConclaveClient } from '../../src/client/index.js';
import { ConclaveError, CulpritError } from '../../src/errors.js';
import { closeAllDbs } from '../../src/store/mongo.js';
import { verifyIndependently } from '../independent-verify.js';
import {
  expectSignsWithEverySubset,
  message32,
  pinEverywhere,
  shareVersions,
  stackEnv,
  wipeParty,
} from './helpers.js';

let client: ConclaveClient;
beforeAll(async () => {
  client = await ConclaveClient.connect({ env: stackEnv() });
});
afterAll(async () => {
  await client?.close();
  await closeAllDbs();
});

const parties = ['p1', 'p2', 'p3'];

describe.each(['frost-ed25519', 'frost-secp256k1', 'dkls23-secp256k1'] as const)(
  '%s: recovery of a lost share',
  (scheme) => {
    it('recovers each party of a 2-of-3 in turn; same key, new version, every pair signs', async () => {
      const w = await client.createWallet({ scheme, threshold: 2, parties: 3 });
      let version = 1;
      for (const lost of parties) {
        await wipeParty(lost);
        await pinEverywhere(lost);
        const r = await client.recover({ walletId: w.walletId, party: lost });
        version += 1;
        expect(r).toMatchObject({
          kind: 'recovery',
          recovered: lost,
          fromVersion: version - 1,
          version,
          publicKey: w.publicKey,
          threshold: 2,
          parties,
        });
        expect(r.dealers).toHaveLength(2);
        expect(r.dealers).not.toContain(lost);
        expect(r.proof.signers).toContain(lost);
        const proofOk = verifyIndependently(
          scheme,
          r.proof.signature,
          Buffer.from(r.proof.message, 'hex'),
          r.proof.publicKey,
        );
        expect(proofOk, `proof of ${lost}`).toBe(true);
        for (const [p, v] of Object.entries(await shareVersions(w.walletId, w.keyId, parties, version))) {
          expect(v, `${p} v${version}`).toEqual({ active: true, pending: false });
        }
        for (const [p, v] of Object.entries(await shareVersions(w.walletId, w.keyId, parties, version - 1))) {
          expect(v, `${p} v${version - 1}`).toEqual({ active: false, pending: false });
        }
        await expectSignsWithEverySubset(client, scheme, w.walletId, parties, 2);
      }
      expect((await client.getWallet({ walletId: w.walletId })).publicKey).toBe(w.publicKey);
    });
  },
);

describe('recovery refusals', () => {
  it('refuses fewer helpers than the threshold, the lost party as a helper, and an unknown party', async () => {
    const w = await client.createWallet({ threshold: 2, parties: 3 });
    const refused = async (p: Promise<unknown>) => {
      const err = await p.then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(ConclaveError);
      return err as ConclaveError;
    };
    const few = await refused(client.recover({ walletId: w.walletId, party: 'p3', helpers: ['p1'] }));
    expect(few.code).toBe('BAD_INPUT');
    expect(few.message).toMatch(/at least 2 helpers/);
    const self = await refused(client.recover({ walletId: w.walletId, party: 'p3', helpers: ['p1', 'p3'] }));
    expect(self.message).toMatch(/cannot help recover its own share/);
    const outsider = await refused(client.recover({ walletId: w.walletId, party: 'p5' }));
    expect(outsider.message).toMatch(/p5 is not a party of wallet/);
    const unknown = await refused(client.recover({ walletId: 'no-such-wallet', party: 'p1' }));
    expect(unknown.code).toBe('UNKNOWN_WALLET');
    // none of it touched the wallet or left it locked
    expect((await client.getWallet({ walletId: w.walletId })).version).toBe(1);
    const s = await client.sign({ walletId: w.walletId, message: message32() });
    expect(
      verifyIndependently('frost-ed25519', s.signature, Buffer.from(s.message, 'hex'), w.publicKey),
    ).toBe(true);
  });

  it('a rebuilt party whose new keys its peers have not pinned is refused, naming it; nothing changes', async () => {
    const w = await client.createWallet({ threshold: 2, parties: ['p3', 'p4', 'p5'] });
    await wipeParty('p5');
    try {
      const err = await client.recover({ walletId: w.walletId, party: 'p5' }).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(CulpritError);
      expect(err).toMatchObject({ code: 'TAMPERED', culprit: 'p5' });
      expect((err as Error).message).toMatch(/conclave party pin/);
      expect((await client.getWallet({ walletId: w.walletId })).version).toBe(1);
      // the two remaining parties still sign, and the lock was released
      const s = await client.sign({ walletId: w.walletId, message: message32(), signers: ['p3', 'p4'] });
      expect(
        verifyIndependently('frost-ed25519', s.signature, Buffer.from(s.message, 'hex'), w.publicKey),
      ).toBe(true);
    } finally {
      await pinEverywhere('p5');
    }
    const r = await client.recover({ walletId: w.walletId, party: 'p5' });
    // the refused recovery had version 2 planned; numbers are never reused
    expect(r).toMatchObject({ fromVersion: 1, version: 3 });
    await expectSignsWithEverySubset(client, 'frost-ed25519', w.walletId, ['p3', 'p4', 'p5'], 2);
  });
});
