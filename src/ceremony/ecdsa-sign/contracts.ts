/**
 * DKLs23 signing's round bodies and bindings (its request, context and result are signing's:
 * src/ceremony/sign/contracts.ts).
 */
import { encodeFields, transcriptHash } from '../../crypto/encoding.js';
import type { DklsOnlineMsg } from '../../crypto/ecdsa/dkls-sign.js';
import type { KeyTweak } from '../../crypto/frost.js';
import { ConclaveError } from '../../errors.js';
import { signRequestHash, type SignContext } from '../sign/contracts.js';

/** Rounds 1 and 2 (direct, encrypted): a message bound to the request and the pair setup it uses. */
export interface EcdsaPeerBody<M> {
  request: string;
  setupId: string;
  msg: M;
}

/** The online round (broadcast, `ecdsa-3`/`ecdsa-sign`): the signer's contribution, bound to the request. */
export interface EcdsaOnlineBody {
  request: string;
  msg: DklsOnlineMsg;
}

/**
 * The DKLs23 session of a signing ceremony: the same for every signer, unique per request. The
 * crypto binds it to the untweaked key package and the signer set (`dklsSessionOf`).
 */
export const ecdsaSessionId = (ctx: SignContext): string =>
  transcriptHash([encodeFields(['dkls23-sign', ctx.tenant, ctx.ceremonyId, signRequestHash(ctx)])]);

/**
 * The tweak t of a DKLs23 signing key: BIP32 CKDpub on secp256k1 gives pk' = pk + t·G, and the
 * scheme's output key is the derived key itself, so the tweak never negates.
 */
export function additiveTweak(t: KeyTweak): string {
  if (t.negate) {
    throw new ConclaveError('BAD_INPUT', 'DKLs23 signs under additive key tweaks only (no negation)');
  }
  return t.add;
}
