/**
 * Signing with derived keys, for every scheme, through the same crypto steps the activities run
 * (the bench floor runs them back to back in one process). Each signature is checked by an
 * independent implementation under the key `conclave address` derives from public data only.
 */
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { WalletInfo } from '../../src/ceremony/contracts.js';
import { floorParties, keygenFloor, signFloor, type FloorWallet } from '../../src/bench/floor.js';
import { deriveWalletKey } from '../../src/client/derive.js';
import { chainCodeFor } from '../../src/crypto/hd.js';
import { fromHex, toHex } from '../../src/crypto/encoding.js';
import { getScheme, listSchemes } from '../../src/crypto/schemes.js';
import { ConclaveError } from '../../src/errors.js';
import { verifyIndependently } from '../independent-verify.js';

const parties = floorParties(3);

function walletInfo(w: FloorWallet): WalletInfo {
  return {
    tenant: w.tenant,
    walletId: w.walletId,
    keyId: w.keyId,
    version: w.version,
    curve: w.scheme === 'frost-ed25519' ? 'ed25519' : 'secp256k1',
    scheme: w.scheme,
    threshold: w.threshold,
    parties: w.roster.map((p) => p.partyId),
    publicKey: w.publicKey,
    chainCode: toHex(chainCodeFor(w.transcriptHash, fromHex(w.publicKey, 'key'))),
    transcriptHash: w.transcriptHash,
    createdAt: new Date(0).toISOString(),
  };
}

// FROST schemes, signed in-process; threshold ECDSA along paths is signed on the real stack (ecdsa.test.ts)
const frostSchemes = listSchemes().filter((s) => getScheme(s).protocol === 'frost');
describe.each(frostSchemes)('%s: signing along derivation paths', (scheme) => {
  const wallet = keygenFloor(parties, 2, scheme);
  const info = walletInfo(wallet);
  const message = randomBytes(32);

  it.each(['m', 'm/0', 'm/0/7', 'm/2147483647/1/2'])('%s verifies under the derived key', (path) => {
    const signature = signFloor(parties, wallet, toHex(message), { path });
    const key = deriveWalletKey(info, { path });
    expect(verifyIndependently(scheme, signature, message, key.verifyingKey)).toBe(true);
    expect(verifyIndependently(scheme, signature, randomBytes(32), key.verifyingKey)).toBe(false);
    if (path !== 'm') {
      // a child key is a different key: the wallet key does not verify it
      const root = deriveWalletKey(info, {});
      expect(key.publicKey).not.toBe(root.publicKey);
      expect(verifyIndependently(scheme, signature, message, root.verifyingKey)).toBe(false);
    }
  });

  it('paths are canonical: m/07 and hardened steps are refused', () => {
    for (const path of ['m/07', "m/0'", 'm/0h', 'm/2147483648', '0/1', 'm//1']) {
      let err: unknown;
      try {
        signFloor(parties, wallet, toHex(message), { path });
      } catch (e) {
        err = e;
      }
      expect(err, path).toBeInstanceOf(ConclaveError);
      expect((err as ConclaveError).code).toBe('BAD_INPUT');
    }
  });
});

describe('frost-taproot: script-tree merkle root', () => {
  const wallet = keygenFloor(parties, 2, 'frost-taproot');
  const info = walletInfo(wallet);
  it('a merkle root changes the output key and the signature verifies under it', () => {
    const merkleRoot = toHex(randomBytes(32));
    const message = randomBytes(32);
    const signature = signFloor(parties, wallet, toHex(message), { path: 'm/1', merkleRoot });
    const withTree = deriveWalletKey(info, { path: 'm/1', merkleRoot });
    const keyPath = deriveWalletKey(info, { path: 'm/1' });
    expect(withTree.publicKey).toBe(keyPath.publicKey); // same internal key
    expect(withTree.verifyingKey).not.toBe(keyPath.verifyingKey);
    expect(withTree.address).not.toBe(keyPath.address);
    expect(verifyIndependently('frost-taproot', signature, message, withTree.verifyingKey)).toBe(true);
    expect(verifyIndependently('frost-taproot', signature, message, keyPath.verifyingKey)).toBe(false);
  });

  it('a merkle root is refused by the other schemes', () => {
    const ed = keygenFloor(parties, 2, 'frost-ed25519');
    expect(() => signFloor(parties, ed, 'aa', { merkleRoot: '00'.repeat(32) })).toThrow(
      /takes no Taproot merkle root/,
    );
  });
});

describe('addresses of derived keys', () => {
  it('Taproot wallets get bech32m P2TR addresses per network, Ed25519 wallets Solana ones', () => {
    const tr = walletInfo(keygenFloor(parties, 2, 'frost-taproot'));
    expect(deriveWalletKey(tr, { path: 'm/0' }).address).toMatch(/^bc1p[02-9ac-hj-np-z]{58}$/);
    expect(deriveWalletKey(tr, { path: 'm/0', network: 'testnet' }).address).toMatch(/^tb1p/);
    expect(deriveWalletKey(tr, { network: 'regtest' }).address).toMatch(/^bcrt1p/);
    expect(() => deriveWalletKey(tr, { network: 'devnet' })).toThrow(/unknown Bitcoin network/);
    const ed = walletInfo(keygenFloor(parties, 2, 'frost-ed25519'));
    const sol = deriveWalletKey(ed, { path: 'm/3', network: 'devnet' });
    expect(sol.address).toMatch(/^[1-9A-HJ-NP-Za-km-z]{32,44}$/);
    expect(() => deriveWalletKey(ed, { network: 'mainnet' })).toThrow(/unknown Solana network/);
    const plain = walletInfo(keygenFloor(parties, 2, 'frost-secp256k1'));
    expect(deriveWalletKey(plain, {}).address).toBeUndefined();
    expect(() => deriveWalletKey(plain, { network: 'mainnet' })).toThrow(/has no addresses/);
  });
});
