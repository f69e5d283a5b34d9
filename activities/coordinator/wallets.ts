/** Reads of the wallet registry: a wallet as clients see it, and its current version as statements describe it. */
import { fromHex, toHex } from '../../src/crypto/encoding.js';
import { chainCodeFor } from '../../src/crypto/hd.js';
import type { WalletDoc } from '../../src/store/coordinator-store.js';
import type { WalletInfo, WalletVersionDescription } from '../../src/ceremony/contracts.js';
import type { CoordinatorRegistry } from './registry.js';

function toWalletInfo(w: WalletDoc): WalletInfo {
  return {
    tenant: w.tenant,
    walletId: w.walletId,
    keyId: w.keyId,
    version: w.version,
    curve: w.curve,
    scheme: w.scheme,
    threshold: w.threshold,
    parties: w.parties.map((p) => p.partyId),
    publicKey: w.publicKey,
    chainCode: toHex(chainCodeFor(w.transcriptHash, fromHex(w.publicKey, 'public key'))),
    transcriptHash: w.transcriptHash,
    createdAt: w.createdAt.toISOString(),
  };
}

export function walletActivities(registry: CoordinatorRegistry) {
  const { getStore, walletOf } = registry;
  return {
    /** A wallet's current version as a key-change statement describes it (public data). */
    async describeVersion(tenant: string, walletId: string): Promise<WalletVersionDescription> {
      const w = await walletOf(await getStore(), tenant, walletId);
      return {
        tenant: w.tenant,
        walletId: w.walletId,
        keyId: w.keyId,
        publicKey: w.publicPackage.commitments[0]!,
        version: w.version,
        threshold: w.threshold,
        roster: w.parties,
      };
    },

    async getWallet(tenant: string, walletId: string): Promise<WalletInfo> {
      const store = await getStore();
      const w = await walletOf(store, tenant, walletId);
      return toWalletInfo(w);
    },
  };
}
