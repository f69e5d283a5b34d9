/** All activities a party worker registers on its own task queue `party.<id>`. */
import type { PartyRuntime } from '../../src/party/runtime.js';
import { ConclaveError } from '../../src/errors.js';
import type { SignedGovernance } from '../../src/policy/governance.js';
import { assertId } from '../../src/validation.js';
import { withFailures } from '../failures.js';
import { notePublication } from './time-lock.js';
import type { PartyInfo } from '../../src/ceremony/contracts.js';
import { backupActivities } from './backup.js';
import { ecdsaSignActivities } from './ecdsa-sign.js';
import { keygenActivities } from './keygen.js';
import { pairSetupActivities } from './pair-setup.js';
import { recoverActivities } from './recover.js';
import { reshareActivities } from './reshare.js';
import { signActivities } from './sign.js';
import { validateActivities } from './validate.js';

export function createPartyActivities(rt: PartyRuntime) {
  return withFailures({
    async describeParty(): Promise<PartyInfo> {
      return { partyId: rt.partyId, identityPublic: rt.identityPublic, transportPublic: rt.transportPublic };
    },
    /** The coordinator's announcement of a governance or rule set publication (time locks count from it). */
    async notePublication(
      tenant: string,
      kind: 'governance' | 'rules',
      digest: string,
      governance?: SignedGovernance,
    ): Promise<void> {
      assertId('tenant', tenant);
      if (kind !== 'governance' && kind !== 'rules')
        throw new ConclaveError('BAD_INPUT', 'unknown publication kind');
      if (!/^[0-9a-f]{64}$/.test(digest))
        throw new ConclaveError('BAD_INPUT', 'a publication digest is 32 bytes of hex');
      await notePublication(rt, tenant, kind, digest, governance);
    },
    ...keygenActivities(rt),
    ...signActivities(rt),
    ...pairSetupActivities(rt),
    ...ecdsaSignActivities(rt),
    ...reshareActivities(rt),
    ...recoverActivities(rt),
    ...backupActivities(rt),
    ...validateActivities(rt),
  });
}

export type PartyActivities = ReturnType<typeof createPartyActivities>;
