/**
 * RFC 9591 Appendix E.1, FROST(Ed25519, SHA-512) known-answer test, run through our wrappers.
 *
 * Every value in VECTOR is copied verbatim from the published test vector (RFC 9591 Appendix E.1;
 * source text: cfrg/draft-irtf-cfrg-frost, draft-irtf-cfrg-frost.md, section "Test Vectors" /
 * "FROST(Ed25519, SHA-512)", vectors finalised in commit 4e1c5db "Finalize vectors"). Nothing in
 * VECTOR was computed by us. Values the vector does not publish (coefficient commitment, verifying
 * shares) are DERIVED at run time from published scalars and are labelled as such.
 */
import { createPublicKey, verify as nodeVerify } from 'node:crypto';
import { ed25519 } from '@noble/curves/ed25519.js';
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

const VECTOR = {
  maxParticipants: 3,
  minParticipants: 2,
  participantList: [1, 3],
  groupSecretKey: '7b1c33d3f5291d85de664833beb1ad469f7fb6025a0ec78b3a790c6e13a98304',
  groupPublicKey: '15d21ccd7ee42959562fc8aa63224c8851fb3ec85a3faf66040d380fb9738673',
  message: '74657374',
  sharePolynomialCoefficient1: '178199860edd8c62f5212ee91eff1295d0d670ab4ed4506866bae57e7030b204',
  participantShares: {
    1: '929dcc590407aae7d388761cddb0c0db6f5627aea8e217f4a033f2ec83d93509',
    2: 'a91e66e012e4364ac9aaa405fcafd370402d9859f7b6685c07eed76bf409e80d',
    3: 'd3cb090a075eb154e82fdb4b3cb507f110040905468bb9c46da8bdea643a9a02',
  } as Record<number, string>,
  roundOne: {
    1: {
      hidingNonceRandomness: '0fd2e39e111cdc266f6c0f4d0fd45c947761f1f5d3cb583dfcb9bbaf8d4c9fec',
      bindingNonceRandomness: '69cd85f631d5f7f2721ed5e40519b1366f340a87c2f6856363dbdcda348a7501',
      hidingNonce: '812d6104142944d5a55924de6d49940956206909f2acaeedecda2b726e630407',
      bindingNonce: 'b1110165fc2334149750b28dd813a39244f315cff14d4e89e6142f262ed83301',
      hidingNonceCommitment: 'b5aa8ab305882a6fc69cbee9327e5a45e54c08af61ae77cb8207be3d2ce13de3',
      bindingNonceCommitment: '67e98ab55aa310c3120418e5050c9cf76cf387cb20ac9e4b6fdb6f82a469f932',
    },
    3: {
      hidingNonceRandomness: '86d64a260059e495d0fb4fcc17ea3da7452391baa494d4b00321098ed2a0062f',
      bindingNonceRandomness: '13e6b25afb2eba51716a9a7d44130c0dbae0004a9ef8d7b5550c8a0e07c61775',
      hidingNonce: 'c256de65476204095ebdc01bd11dc10e57b36bc96284595b8215222374f99c0e',
      bindingNonce: '243d71944d929063bc51205714ae3c2218bd3451d0214dfb5aeec2a90c35180d',
      hidingNonceCommitment: 'cfbdb165bd8aad6eb79deb8d287bcc0ab6658ae57fdcc98ed12c0669e90aec91',
      bindingNonceCommitment: '7487bc41a6e712eea2f2af24681b58b1cf1da278ea11fe4e8b78398965f13552',
    },
  } as Record<number, Record<string, string>>,
  sigShares: {
    1: '001719ab5a53ee1a12095cd088fd149702c0720ce5fd2f29dbecf24b7281b603',
    3: 'bd86125de990acc5e1f13781d8e32c03a9bbd4c53539bbc106058bfd14326007',
  } as Record<number, string>,
  sig: '36282629c383bb820a88b71cae937d41f2f2adfcc3d02e55507e2fb9e2dd3cbebd9d2b0844e49ae0f3fa935161e1419aab7b47d21a37ebeae1f17d4987b3160b',
};

const S = getScheme('frost-ed25519');
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

describe('RFC 9591 E.1 FROST(Ed25519, SHA-512)', () => {
  it('published group key matches the published group secret', () => {
    expect(baseMul(VECTOR.groupSecretKey)).toBe(VECTOR.groupPublicKey);
  });

  it('signCommit with the published randomness yields the published nonces and commitments', () => {
    for (const n of VECTOR.participantList) {
      const r = VECTOR.roundOne[n]!;
      const feed = [r.hidingNonceRandomness as string, r.bindingNonceRandomness as string];
      const rng = (len?: number) => {
        const next = fromHex(feed.shift() as string, 'randomness');
        expect(len).toBe(32);
        return next;
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

  it('aggregateSignature reproduces the published signature, which ed25519 and OpenSSL accept', () => {
    const sig = aggregateSignature(S, pub, commitmentList, msg, publishedShares);
    expect(sig).toBe(VECTOR.sig);
    const pk = fromHex(VECTOR.groupPublicKey, 'pk');
    expect(ed25519.verify(fromHex(sig, 'sig'), msg, pk, { zip215: false })).toBe(true);
    const key = createPublicKey({
      key: Buffer.concat([Buffer.from('302a300506032b6570032100', 'hex'), Buffer.from(pk)]),
      format: 'der',
      type: 'spki',
    });
    expect(nodeVerify(null, msg, key, fromHex(sig, 'sig'))).toBe(true);
  });
});
