/**
 * The frost-taproot signing suite against the FROST(secp256k1, SHA-256, BIP340) test vector of the
 * Zcash Foundation's frost-secp256k1-tr crate (ZcashFoundation/frost,
 * frost-secp256k1-tr/tests/helpers/vectors.json at 15688ab). That vector signs under the untweaked
 * group key (no TapTweak), so it runs with the identity tweak; its signature is 0x02 || R.x || z and
 * BIP340's is R.x || z. A second case checks the BIP86 (no script tree) output-key signature of the
 * same shares and nonces verifies under the Taproot output key and not under the internal key.
 */
import { schnorr } from '@noble/curves/secp256k1.js';
import { describe, expect, it } from 'vitest';
import { fromHex, toHex } from '../../src/crypto/encoding.js';
import {
  aggregateSignature,
  identifierFor,
  signShare,
  tweakPublicPackage,
  tweakSigningShare,
  type KeyTweak,
  type PublicPackage,
  type SigningCommitment,
} from '../../src/crypto/frost.js';
import { getScheme } from '../../src/crypto/schemes.js';
import { taprootTweak } from '../../src/crypto/taproot.js';

const VECTOR = {
  verifyingKey: '02f37c34b66ced1fb51c34a90bdae006901f10625cc06c4f64663b0eae87d87b4f',
  coefficient1: 'fbf85eadae3058ea14f19148bb72b45e4399c0b16028acaf0395c9b03c823579',
  message: '74657374',
  shares: {
    1: '08f89ffe80ac94dcb920c26f3f46140bfc7f95b493f8310f5fc1ea2b01f4254c',
    2: '04f0feac2edcedc6ce1253b7fab8c86b856a797f44d83d82a385554e6e401984',
    3: '00e95d59dd0d46b0e303e500b62b7ccb0e555d49f5b849f5e748c071da8c0dbc',
  } as Record<number, string>,
  nonces: {
    1: {
      hiding: '58cd30723da418156fe9b71870a118e0bbc3d0353ba7c760f9bbc8d60c3dab29',
      binding: 'c22289cc43b82ed938d4b2288efb7381c405fb59f5d43bddc543d98838c60b19',
      hidingCommitment: '024e34ab3a7ad6b4563dbfe97e9f1206b3378cceb2502491ed0fb709765e1e5ba8',
      bindingCommitment: '03d4b1f3a61dc67e64dfb4abfccabb712f1f6914a6ec9b67749d171370453192cb',
    },
    3: {
      hiding: 'a4109db0a5db30fac8cd1f4e272ff02e08258928f067d82c63d97279b114514a',
      binding: 'ce3837bd963f0d81002279f7bb9eefceac64435f638885c2beae6f1dd881fd9e',
      hidingCommitment: '02d768658a1b94225645401a1512b803657770c7a21bf9ccccccfa09930a44951b',
      bindingCommitment: '034570a4e5217ee8770a28401185f50b4fce4d3f3933a3af9df7ab39b42381d0eb',
    },
  } as Record<
    number,
    { hiding: string; binding: string; hidingCommitment: string; bindingCommitment: string }
  >,
  sigShares: {
    1: '2ffc305d1694fd84108b84d98306a1af807c6ad9bc3a2d8e448a09643202a15b',
    3: 'a8c392566ea29e852b4080a028bf5547166c87e703e4fb7136d4ebef65f99b3f',
  } as Record<number, string>,
  sig: '020c776a9516a77808b70a31e74f1464814a6fcf897fb3a6bd84c7a9a9a7a5bcb8d8bfc2b385379c093bcc0579abc5f6f696e8f2c0c01f28ff7b5ef55397fc3c9a',
};

const S = getScheme('frost-taproot');
const id = (n: number) => identifierFor(S, n);
const baseMul = (hex: string) => toHex(S.scalarBaseMult(fromHex(hex, 'scalar')));
const msg = fromHex(VECTOR.message, 'message');
// DERIVED: the public package implied by the published dealer scalars.
const pub: PublicPackage = {
  threshold: 2,
  total: 3,
  commitments: [VECTOR.verifyingKey, baseMul(VECTOR.coefficient1)],
  verifyingShares: Object.fromEntries(
    Object.entries(VECTOR.shares).map(([n, s]) => [id(Number(n)), baseMul(s)]),
  ),
};
const list: SigningCommitment[] = [1, 3].map((n) => ({
  identifier: id(n),
  hiding: VECTOR.nonces[n]!.hidingCommitment,
  binding: VECTOR.nonces[n]!.bindingCommitment,
}));

function signAll(t: KeyTweak): { shares: string[]; sig: string } {
  const p = tweakPublicPackage(S, pub, t);
  const shares = [1, 3].map((n) =>
    signShare(S, id(n), tweakSigningShare(S, VECTOR.shares[n]!, t), p, VECTOR.nonces[n]!, list, msg),
  );
  return { shares, sig: aggregateSignature(S, p, list, msg, { [id(1)]: shares[0]!, [id(3)]: shares[1]! }) };
}

describe('frost-secp256k1-tr vector (ZF frost) through our wrappers', () => {
  it('reproduces the published signature shares and BIP340 signature', () => {
    const { shares, sig } = signAll({ negate: false, add: '00'.repeat(32) });
    expect(shares).toEqual([VECTOR.sigShares[1], VECTOR.sigShares[3]]);
    expect(sig).toBe(VECTOR.sig.slice(2));
    expect(schnorr.verify(fromHex(sig, 'sig'), msg, fromHex(VECTOR.verifyingKey.slice(2), 'key'))).toBe(true);
  });

  it('with the BIP86 tweak the same shares sign for the Taproot output key instead', () => {
    const tweak = taprootTweak(fromHex(VECTOR.verifyingKey, 'key'));
    const { sig } = signAll({
      negate: tweak.internalNegated,
      add: tweak.tweak.toString(16).padStart(64, '0'),
    });
    expect(schnorr.verify(fromHex(sig, 'sig'), msg, tweak.outputKey)).toBe(true);
    expect(schnorr.verify(fromHex(sig, 'sig'), msg, fromHex(VECTOR.verifyingKey.slice(2), 'key'))).toBe(
      false,
    );
  });
});
