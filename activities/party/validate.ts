/**
 * A party checks its share of a wallet version without using it: it is there, it decrypts under
 * the party's KEK, its public point is the verifying share the public key package commits to,
 * and that package and the party's own keys are those of the coordinator's record.
 */
import { samePublicPackage } from '../../src/crypto/frost.js';
import { mulG, pubPoint, scalarOf } from '../../src/crypto/group.js';
import { getScheme } from '../../src/crypto/schemes.js';
import { ConclaveError } from '../../src/errors.js';
import { openShareSecret, type PartyRuntime } from '../../src/party/runtime.js';
import { shareDocId } from '../../src/store/party-store.js';
import type { ShareCheck, ValidateContext } from '../../src/ceremony/validate/contracts.js';
import { selfEntry } from '../../src/ceremony/rounds.js';

export function validateActivities(rt: PartyRuntime) {
  return {
    async validateShare(ctx: ValidateContext): Promise<ShareCheck> {
      const fail = (code: string, reason: string): ShareCheck => ({
        party: rt.partyId,
        ok: false,
        code,
        reason,
      });
      const share = await rt.store.shares.findOne({ _id: shareDocId(ctx.tenant, ctx.keyId, ctx.version) });
      if (!share || share.tenant !== ctx.tenant || share.walletId !== ctx.walletId) {
        return fail('UNKNOWN_WALLET', `${rt.partyId} holds no share of ${ctx.walletId} v${ctx.version}`);
      }
      let secret: string;
      try {
        secret = openShareSecret(rt, share);
      } catch {
        return fail('TAMPERED', `${rt.partyId}'s share does not decrypt under its key-encryption key`);
      }
      try {
        selfEntry(rt, share.roster);
      } catch (err) {
        return fail('TAMPERED', err instanceof Error ? err.message : String(err));
      }
      const scheme = getScheme(share.scheme);
      let matches: boolean;
      try {
        matches = mulG(scheme, scalarOf(scheme, secret, 'share')).equals(
          pubPoint(scheme, share.public.verifyingShares[share.identifier]),
        );
      } catch (err) {
        if (!(err instanceof ConclaveError)) throw err;
        matches = false;
      }
      if (!matches) {
        return fail('BAD_SHARE', `${rt.partyId}'s share does not match its verifying share`);
      }
      if (!samePublicPackage(share.public, ctx.public) || share.threshold !== ctx.threshold) {
        return fail('DISAGREEMENT', `${rt.partyId} holds another public key package than the wallet record`);
      }
      return { party: rt.partyId, ok: true };
    },
  };
}
