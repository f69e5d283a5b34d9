/**
 * Published FROST known-answer vectors, run through our wrappers: every file in test/vectors/frost/
 * goes through the same checks. Each file names its source in its "source" field and the scheme it
 * runs under in "scheme"; its layout is that of the vectors.json files of RFC 9591's reference code
 * and ZF frost (config, inputs, round_one_outputs, round_two_outputs, final_output), holding only
 * what was published. Values a vector does not publish (coefficient commitment, verifying shares)
 * are DERIVED at run time from its published scalars. Checks that need a value a file does not hold
 * (group secret, nonce randomness) run only for the files that hold it.
 *
 * What differs between the suites is below in SUITES: how the published signature is encoded, and
 * which implementation outside noble confirms it.
 */
import { createPublicKey, verify as nodeVerify } from 'node:crypto';
import { ed25519 } from '@noble/curves/ed25519.js';
import { schnorr } from '@noble/curves/secp256k1.js';
import { describe, expect, it } from 'vitest';
import { CulpritError } from '../../src/errors.js';
import { fromHex, toHex } from '../../src/crypto/encoding.js';
import {
  aggregateSignature,
  identifierFor,
  signCommit,
  signShare,
  tweakPublicPackage,
  tweakSigningShare,
  verifySignatureShares,
  type PublicPackage,
  type SigningCommitment,
} from '../../src/crypto/frost.js';
import { getScheme, type Scheme } from '../../src/crypto/schemes.js';
import { taprootTweak } from '../../src/crypto/taproot.js';
import { verifyFrostSecp256k1 } from '../independent-verify.js';
import { listVectors, readVectors } from './vectors.js';

interface FrostVector {
  source: string;
  name: string;
  scheme: string;
  config: { MAX_PARTICIPANTS: number; MIN_PARTICIPANTS: number };
  inputs: {
    participant_list: number[];
    group_secret_key?: string;
    group_public_key: string;
    message: string;
    share_polynomial_coefficients: string[];
    participant_shares: Array<{ identifier: number; participant_share: string }>;
  };
  round_one_outputs: {
    outputs: Array<{
      identifier: number;
      hiding_nonce_randomness?: string;
      binding_nonce_randomness?: string;
      hiding_nonce: string;
      binding_nonce: string;
      hiding_nonce_commitment: string;
      binding_nonce_commitment: string;
    }>;
  };
  round_two_outputs: { outputs: Array<{ identifier: number; sig_share: string }> };
  final_output: { sig: string };
}

/** A loaded vector with what every check needs, derived once. */
interface Case {
  v: FrostVector;
  S: Scheme;
  id: (n: number) => string;
  msg: Uint8Array;
  share: (n: number) => string;
  pub: PublicPackage;
  commitmentList: SigningCommitment[];
  publishedShares: Record<string, string>;
}

interface Suite {
  /** Our encoding of the published final signature. */
  signature(published: string): string;
  /** Verifies the signature outside our wrappers and outside noble's FROST code. */
  independentCheck: { title: string; run(c: Case, sig: string): void };
  /** Checks only this suite has. */
  extra?: Array<{ title: string; run(c: Case): void }>;
}

const SUITES: Record<string, Suite> = {
  'frost-ed25519': {
    signature: (sig) => sig,
    independentCheck: {
      title: 'ed25519 (strict RFC 8032) and OpenSSL accept the signature',
      run: ({ v, msg }, sig) => {
        const pk = fromHex(v.inputs.group_public_key, 'pk');
        expect(ed25519.verify(fromHex(sig, 'sig'), msg, pk, { zip215: false })).toBe(true);
        const key = createPublicKey({
          key: Buffer.concat([Buffer.from('302a300506032b6570032100', 'hex'), Buffer.from(pk)]),
          format: 'der',
          type: 'spki',
        });
        expect(nodeVerify(null, msg, key, fromHex(sig, 'sig'))).toBe(true);
      },
    },
  },
  'frost-secp256k1': {
    signature: (sig) => sig,
    independentCheck: {
      // z·G == R + c·PK, computed with libsecp256k1 and a hash-to-field written outside noble
      title: 'a libsecp256k1 check accepts the signature, and not another message or a share',
      run: ({ v, msg }, sig) => {
        const pk = v.inputs.group_public_key;
        expect(verifyFrostSecp256k1(sig, msg, pk)).toBe(true);
        expect(verifyFrostSecp256k1(sig, fromHex('74657375', 'm'), pk)).toBe(false);
        const aShare = v.round_two_outputs.outputs[0]!.sig_share;
        expect(verifyFrostSecp256k1(aShare.padStart(130, '0'), msg, pk)).toBe(false);
      },
    },
  },
  // ZF frost-secp256k1-tr signs under the untweaked group key (no TapTweak); its signature is
  // 0x02 || R.x || z and BIP340's is R.x || z.
  'frost-taproot': {
    signature: (sig) => {
      expect(sig.slice(0, 2)).toBe('02');
      return sig.slice(2);
    },
    independentCheck: {
      title: 'BIP340 verification accepts the signature under the x-only group key',
      run: ({ v, msg }, sig) => {
        const xOnlyKey = fromHex(v.inputs.group_public_key.slice(2), 'key');
        expect(schnorr.verify(fromHex(sig, 'sig'), msg, xOnlyKey)).toBe(true);
      },
    },
    extra: [
      {
        // BIP86 (no script tree): the same shares and nonces sign for the Taproot output key.
        title: 'with the BIP86 tweak the same shares sign for the Taproot output key instead',
        run: ({ v, S, id, msg, share, pub, commitmentList }) => {
          const tweak = taprootTweak(fromHex(v.inputs.group_public_key, 'key'));
          const t = { negate: tweak.internalNegated, add: tweak.tweak.toString(16).padStart(64, '0') };
          const p = tweakPublicPackage(S, pub, t);
          const shares = Object.fromEntries(
            v.round_one_outputs.outputs.map((r) => [
              id(r.identifier),
              signShare(
                S,
                id(r.identifier),
                tweakSigningShare(S, share(r.identifier), t),
                p,
                { hiding: r.hiding_nonce, binding: r.binding_nonce },
                commitmentList,
                msg,
              ),
            ]),
          );
          const sig = aggregateSignature(S, p, commitmentList, msg, shares);
          expect(schnorr.verify(fromHex(sig, 'sig'), msg, tweak.outputKey)).toBe(true);
          const internal = fromHex(v.inputs.group_public_key.slice(2), 'key');
          expect(schnorr.verify(fromHex(sig, 'sig'), msg, internal)).toBe(false);
        },
      },
    ],
  },
};

const FILES = listVectors('frost');

function load(file: string): Case {
  const v = readVectors<FrostVector>(file);
  const S = getScheme(v.scheme);
  const id = (n: number) => identifierFor(S, n);
  const baseMul = (hex: string) => toHex(S.scalarBaseMult(fromHex(hex, 'scalar')));
  const share = (n: number) => {
    const s = v.inputs.participant_shares.find((p) => p.identifier === n);
    if (!s) throw new Error(`${file}: no share for participant ${n}`);
    return s.participant_share;
  };
  // DERIVED (not published): the public package implied by the published dealer scalars.
  const pub: PublicPackage = {
    threshold: v.config.MIN_PARTICIPANTS,
    total: v.config.MAX_PARTICIPANTS,
    commitments: [v.inputs.group_public_key, ...v.inputs.share_polynomial_coefficients.map(baseMul)],
    verifyingShares: Object.fromEntries(
      v.inputs.participant_shares.map((p) => [id(p.identifier), baseMul(p.participant_share)]),
    ),
  };
  const outputs = v.round_one_outputs.outputs;
  if (outputs.map((r) => r.identifier).join() !== v.inputs.participant_list.join()) {
    throw new Error(`${file}: round one outputs are not those of the participant list`);
  }
  const commitmentList: SigningCommitment[] = outputs.map((r) => ({
    identifier: id(r.identifier),
    hiding: r.hiding_nonce_commitment,
    binding: r.binding_nonce_commitment,
  }));
  const publishedShares = Object.fromEntries(
    v.round_two_outputs.outputs.map((o) => [id(o.identifier), o.sig_share]),
  );
  return { v, S, id, msg: fromHex(v.inputs.message, 'message'), share, pub, commitmentList, publishedShares };
}

it('finds the FROST vector files, each naming its source and a known scheme', () => {
  expect(FILES.length).toBeGreaterThanOrEqual(3);
  for (const file of FILES) {
    const v = readVectors<FrostVector>(file);
    expect(v.source.length).toBeGreaterThan(0);
    expect(Object.keys(SUITES)).toContain(v.scheme);
  }
});

for (const file of FILES) {
  const c = load(file);
  const { v, S, id, msg, pub, commitmentList, publishedShares } = c;
  const suite = SUITES[v.scheme]!;

  describe(`${v.name} (${file})`, () => {
    const groupSecret = v.inputs.group_secret_key;
    if (groupSecret !== undefined) {
      it('published group key matches the published group secret', () => {
        expect(toHex(S.scalarBaseMult(fromHex(groupSecret, 'scalar')))).toBe(v.inputs.group_public_key);
      });
    }

    if (v.round_one_outputs.outputs.every((r) => r.hiding_nonce_randomness && r.binding_nonce_randomness)) {
      it('signCommit with the published randomness yields the published nonces and commitments', () => {
        for (const r of v.round_one_outputs.outputs) {
          const feed = [r.hiding_nonce_randomness as string, r.binding_nonce_randomness as string];
          const rng = (len?: number) => {
            expect(len).toBe(32);
            return fromHex(feed.shift() as string, 'randomness');
          };
          const got = signCommit(S, id(r.identifier), c.share(r.identifier), rng);
          expect(feed.length).toBe(0);
          expect(got.nonces).toEqual({ hiding: r.hiding_nonce, binding: r.binding_nonce });
          expect(got.commitments).toEqual({
            identifier: id(r.identifier),
            hiding: r.hiding_nonce_commitment,
            binding: r.binding_nonce_commitment,
          });
        }
      });
    }

    it('signShare reproduces each published signature share', () => {
      for (const r of v.round_one_outputs.outputs) {
        const got = signShare(
          S,
          id(r.identifier),
          c.share(r.identifier),
          pub,
          { hiding: r.hiding_nonce, binding: r.binding_nonce },
          commitmentList,
          msg,
        );
        expect(got).toBe(publishedShares[id(r.identifier)]);
      }
    });

    it('verifySignatureShares accepts the published shares and names a swapped one', () => {
      expect(() => verifySignatureShares(S, pub, commitmentList, msg, publishedShares)).not.toThrow();
      const [a, b] = v.inputs.participant_list.map(id) as [string, string];
      const swapped = { [a]: publishedShares[b]!, [b]: publishedShares[a]! };
      let err: unknown;
      try {
        verifySignatureShares(S, pub, commitmentList, msg, swapped);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(CulpritError);
      expect((err as CulpritError).culprit).toBe(a);
    });

    it('aggregateSignature reproduces the published signature', () => {
      const sig = aggregateSignature(S, pub, commitmentList, msg, publishedShares);
      expect(sig).toBe(suite.signature(v.final_output.sig));
    });

    it(suite.independentCheck.title, () => {
      suite.independentCheck.run(c, suite.signature(v.final_output.sig));
    });

    for (const x of suite.extra ?? []) it(x.title, () => x.run(c));
  });
}
