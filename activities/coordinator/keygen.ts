/**
 * The coordinator's side of key generation: checks the request, plans the ceremony (roster from
 * the parties' answers), confirms that every party signed the same result, and saves the wallet.
 */
import type { Envelope } from '../../src/crypto/envelope.js';
import { getScheme, resolveScheme } from '../../src/crypto/schemes.js';
import { ConclaveError } from '../../src/errors.js';
import { validateKeygenRequest } from '../../src/validation.js';
import { walletDocId, walletVersionDocId, type WalletDoc } from '../../src/store/coordinator-store.js';
import { PartyStore } from '../../src/store/party-store.js';
import { confirmResults as confirmKeygenResults } from '../../src/ceremony/keygen/coordinator.js';
import { protocolOf, rosterOf, type PartyInfo } from '../../src/ceremony/contracts.js';
import type {
  KeygenContext,
  KeygenRequest,
  KeygenResult,
  KeygenResultBody,
} from '../../src/ceremony/keygen/contracts.js';
import type { CoordinatorRegistry } from './registry.js';

export function keygenActivities(registry: CoordinatorRegistry) {
  const { getStore } = registry;
  return {
    async validateKeygen(req: KeygenRequest): Promise<void> {
      validateKeygenRequest(req);
      const store = await getStore();
      const existing = await store.wallets.findOne({ _id: walletDocId(req.tenant, req.walletId) });
      if (existing)
        throw new ConclaveError('BAD_INPUT', `wallet ${req.walletId} already exists in tenant ${req.tenant}`);
    },

    async planKeygen(
      req: KeygenRequest,
      ceremonyId: string,
      keyId: string,
      infos: PartyInfo[],
    ): Promise<KeygenContext> {
      validateKeygenRequest(req);
      const scheme = resolveScheme(req.curve, req.scheme);
      const roster = rosterOf(scheme, req.parties, infos);
      return {
        tenant: req.tenant,
        ceremonyId,
        walletId: req.walletId,
        keyId,
        version: 1,
        scheme: scheme.name,
        threshold: req.threshold,
        roster,
        ...protocolOf(scheme.name),
      };
    },

    /** Accepts only if every party signed the same public key and transcript hash. */
    async confirmKeygen(ctx: KeygenContext, results: Envelope[]): Promise<KeygenResultBody> {
      return confirmKeygenResults(ctx, results);
    },

    async saveWallet(ctx: KeygenContext, confirmed: KeygenResultBody): Promise<KeygenResult> {
      const store = await getStore();
      const doc: WalletDoc = {
        _id: walletDocId(ctx.tenant, ctx.walletId),
        tenant: ctx.tenant,
        walletId: ctx.walletId,
        keyId: ctx.keyId,
        version: ctx.version,
        curve: getScheme(ctx.scheme).curve,
        scheme: ctx.scheme,
        threshold: ctx.threshold,
        parties: ctx.roster,
        publicKey: confirmed.publicKey,
        publicPackage: confirmed.public,
        transcriptHash: confirmed.transcriptHash,
        status: 'active',
        createdAt: new Date(),
      };
      const { _id: _unused, ...version } = doc;
      await PartyStore.insertOrGet(store.walletVersions, {
        ...version,
        _id: walletVersionDocId(ctx.tenant, ctx.walletId, ctx.version),
      });
      const stored = await PartyStore.insertOrGet(store.wallets, doc);
      if (stored.keyId !== ctx.keyId) {
        throw new ConclaveError('BAD_INPUT', `wallet ${ctx.walletId} already exists in tenant ${ctx.tenant}`);
      }
      return {
        walletId: stored.walletId,
        keyId: stored.keyId,
        curve: stored.curve,
        scheme: stored.scheme,
        publicKey: stored.publicKey,
        threshold: stored.threshold,
        parties: stored.parties.map((p) => p.partyId),
        transcriptHash: stored.transcriptHash,
      };
    },
  };
}
