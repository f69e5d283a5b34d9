/** The coordinator's side of a fresh pair setup of a threshold-ECDSA wallet's current version. */
import { getScheme } from '../../src/crypto/schemes.js';
import { ConclaveError } from '../../src/errors.js';
import type { PairingRequest, PairSetupContext } from '../../src/ceremony/pair-setup/contracts.js';
import { assertNotLocked, type CoordinatorRegistry } from './registry.js';

export function pairingActivities(registry: CoordinatorRegistry) {
  const { getStore, walletOf } = registry;
  return {
    /**
     * Plans a fresh pair setup of a threshold-ECDSA wallet's current version (after an abort
     * retired a pair's setup, or on the operator's schedule). Refused while a share change runs:
     * that one makes fresh setups for its new version anyway.
     */
    async planPairing(req: PairingRequest, ceremonyId: string): Promise<PairSetupContext> {
      const store = await getStore();
      const w = await walletOf(store, req.tenant, req.walletId);
      if (getScheme(w.scheme).protocol !== 'dkls23') {
        throw new ConclaveError(
          'BAD_INPUT',
          `wallet ${req.walletId} is a ${w.scheme} wallet: only threshold ECDSA keys have pair setups`,
        );
      }
      assertNotLocked(w, ceremonyId);
      return {
        tenant: w.tenant,
        ceremonyId,
        walletId: w.walletId,
        keyId: w.keyId,
        version: w.version,
        roster: w.parties,
        replace: true,
      };
    },
  };
}
