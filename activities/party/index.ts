/** All activities a party worker registers on its own task queue `party.<id>`. */
import type { PartyRuntime } from '../../src/party/runtime.js';
import { withFailures } from '../failures.js';
import type { PartyInfo } from '../types.js';
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
