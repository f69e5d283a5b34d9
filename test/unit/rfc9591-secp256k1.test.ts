/**
 * RFC 9591 Appendix E.5, FROST(secp256k1, SHA-256) known-answer test, run through our wrappers.
 *
 * Every value in VECTOR is copied from the published vector (cfrg/draft-irtf-cfrg-frost,
 * poc/frost-secp256k1-sha256.json at commit 4e1c5db "Finalize vectors", the text of RFC 9591
 * E.5). Values the vector does not publish (coefficient commitment, verifying shares) are DERIVED
 * at run time from published scalars. The final signature is also checked with libsecp256k1
 * (tiny-secp256k1) point arithmetic and a hash-to-field written here from RFC 9380, so the check
 * does not rest on noble alone.
 */
import { describe, expect, it } from 'vitest';
import { CulpritError } from '../../src/errors.js';
import { fromHex, toHex } from '../../src/crypto/encoding.js';
import {
  aggregateSignature,
  identifierFor,
  signCommit,
  signShare,
  verifySignatureShares,
  type PublicPackage,
  type SigningCommitment,
} from '../../src/crypto/frost.js';
import { getScheme } from '../../src/crypto/schemes.js';
import { verifyFrostSecp256k1 } from '../independent-verify.js';

const VECTOR = {
  maxParticipants: 3,
  minParticipants: 2,
  participantList: [1, 3],
  groupSecretKey: '0d004150d27c3bf2a42f312683d35fac7394b1e9e318249c1bfe7f0795a83114',
  groupPublicKey: '02f37c34b66ced1fb51c34a90bdae006901f10625cc06c4f64663b0eae87d87b4f',
  message: '74657374',
  sharePolynomialCoefficient1: 'fbf85eadae3058ea14f19148bb72b45e4399c0b16028acaf0395c9b03c823579',
  participantShares: {
    1: '08f89ffe80ac94dcb920c26f3f46140bfc7f95b493f8310f5fc1ea2b01f4254c',
    2: '04f0feac2edcedc6ce1253b7fab8c86b856a797f44d83d82a385554e6e401984',
    3: '00e95d59dd0d46b0e303e500b62b7ccb0e555d49f5b849f5e748c071da8c0dbc',
  } as Record<number, string>,
  roundOne: {
    1: {
      hidingNonceRandomness: '7ea5ed09af19f6ff21040c07ec2d2adbd35b759da5a401d4c99dd26b82391cb2',
      bindingNonceRandomness: '47acab018f116020c10cb9b9abdc7ac10aae1b48ca6e36dc15acb6ec9be5cdc5',
      hidingNonce: '841d3a6450d7580b4da83c8e618414d0f024391f2aeb511d7579224420aa81f0',
      bindingNonce: '8d2624f532af631377f33cf44b5ac5f849067cae2eacb88680a31e77c79b5a80',
      hidingNonceCommitment: '03c699af97d26bb4d3f05232ec5e1938c12f1e6ae97643c8f8f11c9820303f1904',
      bindingNonceCommitment: '02fa2aaccd51b948c9dc1a325d77226e98a5a3fe65fe9ba213761a60123040a45e',
    },
    3: {
      hidingNonceRandomness: 'e6cc56ccbd0502b3f6f831d91e2ebd01c4de0479e0191b66895a4ffd9b68d544',
      bindingNonceRandomness: '7203d55eb82a5ca0d7d83674541ab55f6e76f1b85391d2c13706a89a064fd5b9',
      hidingNonce: '2b19b13f193f4ce83a399362a90cdc1e0ddcd83e57089a7af0bdca71d47869b2',
      bindingNonce: '7a443bde83dc63ef52dda354005225ba0e553243402a4705ce28ffaafe0f5b98',
      hidingNonceCommitment: '03077507ba327fc074d2793955ef3410ee3f03b82b4cdc2370f71d865beb926ef6',
      bindingNonceCommitment: '02ad53031ddfbbacfc5fbda3d3b0c2445c8e3e99cbc4ca2db2aa283fa68525b135',
    },
  } as Record<number, Record<string, string>>,
  sigShares: {
    1: 'c4fce1775a1e141fb579944166eab0d65eefe7b98d480a569bbbfcb14f91c197',
    3: '0160fd0d388932f4826d2ebcd6b9eaba734f7c71cf25b4279a4ca2581e47b18d',
  } as Record<number, string>,
  sig: '0205b6d04d3774c8929413e3c76024d54149c372d57aae62574ed74319b5ea14d0c65dde8492a7471437e6c2fe3da49b90d23f642b5c6dbe7e36089f096dd97324',
};

const S = getScheme('frost-secp256k1');
const msg = fromHex(VECTOR.message, 'message');
const id = (n: number) => identifierFor(S, n);
const baseMul = (hex: string) => toHex(S.scalarBaseMult(fromHex(hex, 'scalar')));

// DERIVED (not published): the public package implied by the published dealer scalars.
const pub: PublicPackage = {
  threshold: VECTOR.minParticipants,
  total: VECTOR.maxParticipants,
  commitments: [VECTOR.groupPublicKey, baseMul(VECTOR.sharePolynomialCoefficient1)],
  verifyingShares: Object.fromEntries(
    Object.entries(VECTOR.participantShares).map(([n, share]) => [id(Number(n)), baseMul(share)]),
  ),
};

const commitmentList: SigningCommitment[] = VECTOR.participantList.map((n) => ({
  identifier: id(n),
  hiding: VECTOR.roundOne[n]!.hidingNonceCommitment as string,
  binding: VECTOR.roundOne[n]!.bindingNonceCommitment as string,
}));

const publishedShares = Object.fromEntries(
  VECTOR.participantList.map((n) => [id(n), VECTOR.sigShares[n] as string]),
);

describe('RFC 9591 E.5 FROST(secp256k1, SHA-256)', () => {
  it('published group key matches the published group secret', () => {
    expect(baseMul(VECTOR.groupSecretKey)).toBe(VECTOR.groupPublicKey);
  });

  it('signCommit with the published randomness yields the published nonces and commitments', () => {
    for (const n of VECTOR.participantList) {
      const r = VECTOR.roundOne[n]!;
      const feed = [r.hidingNonceRandomness as string, r.bindingNonceRandomness as string];
      const rng = (len?: number) => {
        expect(len).toBe(32);
        return fromHex(feed.shift() as string, 'randomness');
      };
      const c = signCommit(S, id(n), VECTOR.participantShares[n] as string, rng);
      expect(feed.length).toBe(0);
      expect(c.nonces).toEqual({ hiding: r.hidingNonce, binding: r.bindingNonce });
      expect(c.commitments).toEqual({
        identifier: id(n),
        hiding: r.hidingNonceCommitment,
        binding: r.bindingNonceCommitment,
      });
    }
  });

  it('signShare reproduces each published signature share', () => {
    for (const n of VECTOR.participantList) {
      const r = VECTOR.roundOne[n]!;
      const share = signShare(
        S,
        id(n),
        VECTOR.participantShares[n] as string,
        pub,
        { hiding: r.hidingNonce as string, binding: r.bindingNonce as string },
        commitmentList,
        msg,
      );
      expect(share).toBe(VECTOR.sigShares[n]);
    }
  });

  it('verifySignatureShares accepts the published shares and names a swapped one', () => {
    expect(() => verifySignatureShares(S, pub, commitmentList, msg, publishedShares)).not.toThrow();
    const swapped = { [id(1)]: VECTOR.sigShares[3] as string, [id(3)]: VECTOR.sigShares[1] as string };
    let err: unknown;
    try {
      verifySignatureShares(S, pub, commitmentList, msg, swapped);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(CulpritError);
    expect((err as CulpritError).culprit).toBe(id(1));
  });

  it('aggregateSignature reproduces the published signature, which a libsecp256k1 check accepts', () => {
    const sig = aggregateSignature(S, pub, commitmentList, msg, publishedShares);
    expect(sig).toBe(VECTOR.sig);
    // z·G == R + c·PK, computed with libsecp256k1 and a hash-to-field written outside noble
    expect(verifyFrostSecp256k1(sig, msg, VECTOR.groupPublicKey)).toBe(true);
    expect(verifyFrostSecp256k1(sig, fromHex('74657375', 'm'), VECTOR.groupPublicKey)).toBe(false);
    expect(verifyFrostSecp256k1(VECTOR.sigShares[1]!.padStart(130, '0'), msg, VECTOR.groupPublicKey)).toBe(
      false,
    );
  });
});
