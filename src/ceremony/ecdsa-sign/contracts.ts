/**
 * DKLs23 signing's round bodies and bindings (its request, context and result are signing's:
 * src/ceremony/sign/contracts.ts).
 */
import { encodeFields, transcriptHash } from '../../crypto/encoding.js';
import type { DklsRound3Msg } from '../../crypto/ecdsa/dkls-sign.js';
import { signRequestHash, type SignContext } from '../sign/contracts.js';

/** Rounds 1 and 2 (direct, encrypted): a message bound to the request and the pair setup it uses. */
export interface EcdsaPeerBody<M> {
  request: string;
  setupId: string;
  msg: M;
}

/** Round 3 (broadcast, `ecdsa-3`/`ecdsa-sign`): the signer's contribution, bound to the request. */
export interface EcdsaRound3Body {
  request: string;
  msg: DklsRound3Msg;
}

/** The DKLs23 session of a signing ceremony: the same for every signer, unique per request. */
export const ecdsaSessionId = (ctx: SignContext): string =>
  transcriptHash([encodeFields(['dkls23-sign', ctx.tenant, ctx.ceremonyId, signRequestHash(ctx)])]);
