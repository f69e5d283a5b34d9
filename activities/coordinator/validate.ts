/** The coordinator's side of share validation: what every party's share must match. */
import type { ValidateContext, ValidateRequest } from '../../src/ceremony/validate/contracts.js';
import type { CoordinatorRegistry } from './registry.js';

export function validateActivities(registry: CoordinatorRegistry) {
  const { getStore, walletOf } = registry;
  return {
    /** What every party's share of the wallet's current version must match. */
    async planValidate(req: ValidateRequest): Promise<ValidateContext> {
      const store = await getStore();
      const w = await walletOf(store, req.tenant, req.walletId);
      return {
        tenant: w.tenant,
        walletId: w.walletId,
        keyId: w.keyId,
        version: w.version,
        threshold: w.threshold,
        parties: w.parties.map((p) => p.partyId),
        public: w.publicPackage,
      };
    },
  };
}
