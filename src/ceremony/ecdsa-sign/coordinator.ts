/**
 * The coordinator's side of DKLs23 threshold ECDSA signing: it combines the signers' online
 * broadcasts into one signature from public values only. It holds no secret.
 */
import type { Envelope } from '../../crypto/envelope.js';
import { dklsSessionOf, dklsSignCombine, type DklsSignature } from '../../crypto/ecdsa/dkls-sign.js';
import { getScheme } from '../../crypto/schemes.js';
import { signingKeyFor } from '../../crypto/signing-key.js';
import { ConclaveError, CulpritError } from '../../errors.js';
import { openFrom, renameCulprit, roundHeader } from '../rounds.js';
import { signRequestHash, type SignContext } from '../sign/contracts.js';
import type { WalletKey } from '../sign/coordinator.js';
import { additiveTweak, ecdsaSessionId, type EcdsaOnlineBody } from './contracts.js';

/** What combining a DKLs23 signature reads of a wallet version: all public. */
export type EcdsaWalletKey = Pick<
  WalletKey,
  'scheme' | 'parties' | 'publicKey' | 'transcriptHash' | 'publicPackage'
>;

/**
 * Combines the signers' DKLs23 online broadcasts into one low-S ECDSA signature from public
 * values only, naming a signer whose contribution does not match, and verifies the result under
 * the request's (derived) key pk + t·G. The presignatures were made with the untweaked key
 * package, so the session is that package's.
 */
export function combineEcdsa(
  ctx: SignContext,
  w: EcdsaWalletKey,
  round3: Envelope[],
): { sig: DklsSignature; key: ReturnType<typeof signingKeyFor> } {
  const scheme = getScheme(w.scheme);
  const request = signRequestHash(ctx);
  const signers = w.parties.filter((p) => ctx.signers.includes(p.partyId));
  const msgs = signers.map((p) => {
    const body = openFrom<EcdsaOnlineBody>(
      round3,
      roundHeader(ctx, 'ecdsa-3', 'ecdsa-sign', p.partyId, '*'),
      p,
    );
    if (body.request !== request)
      throw new CulpritError('DISAGREEMENT', p.partyId, `${p.partyId} signed another request`);
    if (body.msg?.from !== p.identifier)
      throw new CulpritError(
        'TAMPERED',
        p.partyId,
        `${p.partyId} sent a contribution under another identifier`,
      );
    return body.msg;
  });
  const key = signingKeyFor(scheme, w.publicKey, w.transcriptHash, ctx);
  const identifiers = signers.map((p) => p.identifier);
  let sig: DklsSignature;
  try {
    sig = dklsSignCombine(
      {
        session: dklsSessionOf(w.publicPackage, identifiers, ecdsaSessionId(ctx)),
        signers: identifiers,
        groupKey: w.publicPackage.commitments[0]!,
        tweak: additiveTweak(key.tweak),
        messageHash: ctx.message,
      },
      msgs,
    );
  } catch (err) {
    throw renameCulprit(err, signers);
  }
  // dklsSignCombine verified the signature under pk + t·G: that must be the request's key.
  if (sig.messageHash !== ctx.message || sig.publicKey !== key.verifyingKey) {
    throw new ConclaveError('ABORTED', 'the combined ECDSA signature is not under the request key');
  }
  return { sig, key };
}
