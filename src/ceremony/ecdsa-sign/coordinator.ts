/**
 * The coordinator's side of DKLs23 threshold ECDSA signing: it combines the signers' round-3
 * broadcasts into one signature from public values only. It holds no secret.
 */
import type { Envelope } from '../../crypto/envelope.js';
import { fromHex } from '../../crypto/encoding.js';
import { dklsSessionOf, dklsSignCombine, type DklsSignature } from '../../crypto/ecdsa/dkls-sign.js';
import { tweakPublicPackage } from '../../crypto/frost.js';
import { getScheme } from '../../crypto/schemes.js';
import { signingKeyFor } from '../../crypto/signing-key.js';
import { ConclaveError, CulpritError } from '../../errors.js';
import { openFrom, renameCulprit, roundHeader } from '../rounds.js';
import { signRequestHash, type SignContext } from '../sign/contracts.js';
import type { WalletKey } from '../sign/coordinator.js';
import { ecdsaSessionId, type EcdsaRound3Body } from './contracts.js';

/** What combining a DKLs23 signature reads of a wallet version: all public. */
export type EcdsaWalletKey = Pick<
  WalletKey,
  'scheme' | 'parties' | 'publicKey' | 'transcriptHash' | 'publicPackage'
>;

/**
 * Combines the signers' DKLs23 round-3 broadcasts into one low-S ECDSA signature from public
 * values only, naming a signer whose contribution does not match, and verifies the result under
 * the request's (derived) key.
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
    const body = openFrom<EcdsaRound3Body>(
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
  const first = msgs[0]!;
  let sig: DklsSignature;
  try {
    // Combining needs only public values: the first signer's view of them, rebuilt here.
    sig = dklsSignCombine(
      {
        v: 1,
        kind: 'dkls23-sign/state',
        step: 3,
        session: dklsSessionOf(
          tweakPublicPackage(scheme, w.publicPackage, key.tweak),
          signers.map((p) => p.identifier),
          ecdsaSessionId(ctx),
        ),
        identifier: first.from,
        signers: signers.map((p) => p.identifier),
        groupKey: key.verifyingKey,
        r: '',
        phi: '',
        salt: '',
        instancePoint: '',
        commitment: '',
        bob: {},
        round3: { used: '', messageHash: first.messageHash, R: first.R, broadcast: first },
      },
      msgs,
    );
  } catch (err) {
    throw renameCulprit(err, signers);
  }
  const compact = fromHex(sig.compact, 'signature');
  if (
    sig.messageHash !== ctx.message ||
    !scheme.verify(compact, fromHex(ctx.message, 'message'), fromHex(key.verifyingKey, 'key'))
  ) {
    throw new ConclaveError('ABORTED', 'the combined ECDSA signature does not verify under the wallet key');
  }
  return { sig, key };
}
