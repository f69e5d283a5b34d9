/**
 * Fills a pool of preprocessed FROST nonces: the coordinator plans the slots, every signer of the
 * pool draws and seals one nonce pair per slot and publishes the signed commitments (one activity
 * call per signer for up to 256 slots), and the coordinator checks and keeps them. Concurrent
 * runs for one pool are harmless: a slot's nonce is drawn once on each party and its record
 * is the same whoever stores it.
 */
import type { NoncePoolRequest, NoncePoolState } from '../src/ceremony/sign/contracts.js';
import { abortWith, assertWorkflowOfTenant, coordinator, onEach, party } from './common.js';

/** At most this many preprocessing calls per run (256 slots each). */
const maxCalls = 4;

export async function noncePoolWorkflow(req: NoncePoolRequest): Promise<NoncePoolState> {
  assertWorkflowOfTenant(req.tenant);
  try {
    let state: NoncePoolState | undefined;
    for (let call = 0; call < maxCalls; call++) {
      const plan = await coordinator.planNoncePool(call === 0 ? req : { ...req, target: undefined });
      if (!plan.slots.length && state) return state;
      const published = plan.slots.length
        ? await onEach(plan.spec.signers, (p) => party(p).preprocessNonces(plan.spec, plan.slots))
        : [];
      state = await coordinator.storeNoncePool(plan.spec, plan.slots, published);
      if (!plan.slots.length) return state;
    }
    return state!;
  } catch (err) {
    throw abortWith(`filling the nonce pool of ${req.walletId}`, err);
  }
}
