/**
 * A party's share validation activity: it reads its share of the version and runs the pure check
 * of src/ceremony/validate/party.ts, which opens the share without using it.
 */
import { openShareSecret, type PartyRuntime } from '../../src/party/runtime.js';
import { shareDocId } from '../../src/store/party-store.js';
import type { ShareCheck, ValidateContext } from '../../src/ceremony/validate/contracts.js';
import { checkShare } from '../../src/ceremony/validate/party.js';

export function validateActivities(rt: PartyRuntime) {
  return {
    async validateShare(ctx: ValidateContext): Promise<ShareCheck> {
      const share = await rt.store.shares.findOne({ _id: shareDocId(ctx.tenant, ctx.keyId, ctx.version) });
      return checkShare(rt, ctx, share, (s) => openShareSecret(rt, s));
    },
  };
}
