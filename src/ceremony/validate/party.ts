/**
 * A party's side of share validation: it checks its share of a wallet version without using it.
 * Pure: the caller reads the share record and hands over a way to open its secret.
 */
import { samePublicPackage } from '../../crypto/frost.js';
import { mulG, pubPoint, scalarOf } from '../../crypto/group.js';
import { getScheme } from '../../crypto/schemes.js';
import { ConclaveError } from '../../errors.js';
import type { ShareDoc } from '../../store/party-store.js';
import { selfEntry, type PartyKeyring } from '../rounds.js';
import type { ShareCheck, ValidateContext } from './contracts.js';

/**
 * The share is there, decrypts under the party's KEK, its public point is the verifying share
 * the public key package commits to, and that package and the party's own keys are those of the
 * coordinator's record. Each failure is an answer naming why, never an exception.
 */
export function checkShare(
  me: Pick<PartyKeyring, 'partyId' | 'identityPublic' | 'transportPublic'>,
  ctx: ValidateContext,
  share: ShareDoc | null,
  openSecret: (share: ShareDoc) => string,
): ShareCheck {
  const fail = (code: string, reason: string): ShareCheck => ({ party: me.partyId, ok: false, code, reason });
  if (!share || share.tenant !== ctx.tenant || share.walletId !== ctx.walletId) {
    return fail('UNKNOWN_WALLET', `${me.partyId} holds no share of ${ctx.walletId} v${ctx.version}`);
  }
  let secret: string;
  try {
    secret = openSecret(share);
  } catch {
    return fail('TAMPERED', `${me.partyId}'s share does not decrypt under its key-encryption key`);
  }
  try {
    selfEntry(me, share.roster);
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
    return fail('BAD_SHARE', `${me.partyId}'s share does not match its verifying share`);
  }
  if (!samePublicPackage(share.public, ctx.public) || share.threshold !== ctx.threshold) {
    return fail('DISAGREEMENT', `${me.partyId} holds another public key package than the wallet record`);
  }
  return { party: me.partyId, ok: true };
}
