/**
 * Batch signing in the ceremony layer: k messages under their own derived keys in one FROST
 * ceremony, each signature checked by an independent verifier; and what a coordinator could try
 * on a batch (another item behind the request's digest, a signer's commitments dropped for one
 * item) refused by the signers and named by the coordinator.
 */
import { schnorr } from '@noble/curves/secp256k1.js';
import { ed25519 } from '@noble/curves/ed25519.js';
import { describe, expect, it } from 'vitest';
import { floorParties, keygenFloor, signingShareOf } from '../../src/bench/floor.js';
import {
  batchDigest,
  canonicalSignItem,
  checkBatchContext,
  type SignContext,
  type SignItem,
} from '../../src/ceremony/sign/contracts.js';
import { aggregate, planSign, type WalletKey } from '../../src/ceremony/sign/coordinator.js';
import * as frostSign from '../../src/ceremony/sign/party.js';
import { broadcastJson, sealBroadcast } from '../../src/crypto/envelope.js';
import { getScheme } from '../../src/crypto/schemes.js';
import { signingKeyFor } from '../../src/crypto/signing-key.js';
import { ConclaveError, CulpritError } from '../../src/errors.js';
import { validateSignRequest } from '../../src/validation.js';
import { jsonBytes, roundHeader } from '../../src/ceremony/rounds.js';

const hex = (h: string) => Uint8Array.from(Buffer.from(h, 'hex'));
const msg = (i: number, bytes = 32) => Buffer.alloc(bytes, i + 1).toString('hex');

function code(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(ConclaveError);
    return (err as ConclaveError).code;
  }
  throw new Error('expected a ConclaveError');
}

describe.each(['frost-ed25519', 'frost-taproot'] as const)(
  '%s: a batch of messages in one ceremony',
  (name) => {
    const scheme = getScheme(name);
    const parties = floorParties(3);
    const wallet = keygenFloor(parties, 2, name);
    const walletKey: WalletKey = {
      walletId: wallet.walletId,
      keyId: wallet.keyId,
      version: wallet.version,
      scheme: name,
      threshold: 2,
      parties: wallet.roster,
      publicKey: wallet.publicKey,
      transcriptHash: wallet.transcriptHash,
      publicPackage: wallet.public,
    };
    const items: SignItem[] = [
      { message: msg(0), path: 'm/0/1' },
      { message: msg(1), path: 'm/0/2' },
      { message: msg(2) },
      { message: msg(3), path: 'm/0/1' },
      ...(scheme.takesMerkleRoot ? [{ message: msg(4), merkleRoot: 'cd'.repeat(32) }] : []),
    ];
    const plan = (batch: SignItem[] = items): SignContext =>
      planSign(
        {
          tenant: wallet.tenant,
          walletId: wallet.walletId,
          message: batchDigest(batch),
          batch,
          signers: ['p1', 'p3'],
        },
        walletKey,
        `sign:${wallet.tenant}:batch/1`,
      );
    const signers = (ctx: SignContext) =>
      wallet.roster
        .filter((e) => ctx.signers.includes(e.partyId))
        .map((e) => ({
          p: parties.find((p) => p.partyId === e.partyId)!,
          key: { ...wallet, scheme: name, identifier: e.identifier },
          secret: signingShareOf(
            parties.find((p) => p.partyId === e.partyId)!,
            wallet,
          ),
        }));

    function run(ctx: SignContext) {
      const s = signers(ctx);
      const r1 = s.map((x) => frostSign.round1(x.p, ctx, x.key, x.secret));
      const commitments = r1.map((r) => r.output);
      const shares = s.map((x, i) => {
        const lists = frostSign.openCommitments(x.p, ctx, x.key, commitments, commitments[i]!);
        return frostSign.round2(x.p, ctx, x.key, x.secret, r1[i]!.nonces, lists);
      });
      return { s, r1, commitments, shares };
    }

    it('signs every item under its own derived key; each signature verifies independently', () => {
      const ctx = plan();
      checkBatchContext(ctx);
      expect(ctx.batch).toHaveLength(items.length);
      const { commitments, shares } = run(ctx);
      // one nonce commitment per item from each signer
      expect(broadcastJson<{ commitments: unknown[] }>(commitments[0]!).commitments).toHaveLength(
        items.length,
      );
      const signed = aggregate(ctx, walletKey, commitments, shares);
      expect(signed).toHaveLength(items.length);
      items.forEach((item, i) => {
        const key = signingKeyFor(scheme, wallet.publicKey, wallet.transcriptHash, canonicalSignItem(item));
        expect(signed[i]!.key.verifyingKey).toBe(key.verifyingKey);
        const sig = hex(signed[i]!.signature);
        // independent verifiers: noble's Ed25519 and BIP340, which know nothing of Conclave
        const ok =
          name === 'frost-ed25519'
            ? ed25519.verify(sig, hex(item.message), hex(key.verifyingKey))
            : schnorr.verify(sig, hex(item.message), hex(key.verifyingKey));
        expect(ok).toBe(true);
      });
      // items under the same path share a key, items under another path do not
      expect(signed[0]!.key.verifyingKey).toBe(signed[3]!.key.verifyingKey);
      expect(signed[0]!.key.verifyingKey).not.toBe(signed[1]!.key.verifyingKey);
    });

    it('refuses a batch whose items are not what the request digest binds', () => {
      const ctx = plan();
      const swapped = [ctx.batch![1]!, ctx.batch![0]!, ...ctx.batch!.slice(2)];
      expect(code(() => checkBatchContext({ ...ctx, batch: swapped }))).toBe('UNAUTHORIZED');
      const changed = ctx.batch!.map((it, i) => (i === 2 ? { ...it, message: msg(9) } : it));
      expect(code(() => checkBatchContext({ ...ctx, batch: changed }))).toBe('UNAUTHORIZED');
      expect(code(() => checkBatchContext({ ...ctx, batch: ctx.batch!.slice(1) }))).toBe('UNAUTHORIZED');
      expect(code(() => checkBatchContext({ ...ctx, path: 'm/1' }))).toBe('UNAUTHORIZED');
      expect(code(() => checkBatchContext({ ...ctx, protocol: 'dkls23' }))).toBe('UNAUTHORIZED');
    });

    it('names a signer that commits to fewer items than the batch, or signs fewer', () => {
      const ctx = plan();
      const { s, commitments, shares } = run(ctx);
      const body = broadcastJson<{ request: string; commitments: unknown[] }>(commitments[1]!);
      const short = sealBroadcast(
        roundHeader(ctx, 'sign-1', 'sign-commitments', s[1]!.p.partyId, '*'),
        jsonBytes({ ...body, commitments: body.commitments.slice(1) }),
        s[1]!.p.identitySecret,
      );
      for (const fn of [
        () => frostSign.openCommitments(s[0]!.p, ctx, s[0]!.key, [commitments[0]!, short], commitments[0]!),
        () => aggregate(ctx, walletKey, [commitments[0]!, short], shares),
      ]) {
        try {
          fn();
          throw new Error('expected a refusal');
        } catch (err) {
          expect(err).toBeInstanceOf(CulpritError);
          expect((err as CulpritError).culprit).toBe(s[1]!.p.partyId);
        }
      }
      const shareBody = broadcastJson<{ request: string; shares: string[] }>(shares[1]!);
      const fewer = sealBroadcast(
        roundHeader(ctx, 'sign-2', 'sign-share', s[1]!.p.partyId, '*'),
        jsonBytes({ ...shareBody, shares: shareBody.shares.slice(1) }),
        s[1]!.p.identitySecret,
      );
      expect(() => aggregate(ctx, walletKey, commitments, [shares[0]!, fewer])).toThrow(CulpritError);
      // a wrong share for one item is named too (RFC 9591 cheater detection, per item)
      const flipped = shareBody.shares.map((x, i) => (i === 2 ? shareBody.shares[0]! : x));
      const bad = sealBroadcast(
        roundHeader(ctx, 'sign-2', 'sign-share', s[1]!.p.partyId, '*'),
        jsonBytes({ ...shareBody, shares: flipped }),
        s[1]!.p.identitySecret,
      );
      try {
        aggregate(ctx, walletKey, commitments, [shares[0]!, bad]);
        throw new Error('expected a refusal');
      } catch (err) {
        expect((err as CulpritError).culprit).toBe(s[1]!.p.partyId);
      }
    });
  },
);

describe('a batch request is checked before anything starts', () => {
  const base = { tenant: 't', walletId: 'w' };
  const items: SignItem[] = [{ message: msg(0) }, { message: msg(1), path: 'm/1' }];

  it('accepts a well-formed batch whose message is its digest, in any hex case', () => {
    validateSignRequest({ ...base, message: batchDigest(items), batch: items });
    const upper = items.map((i) => ({ ...i, message: i.message.toUpperCase() }));
    expect(batchDigest(upper)).toBe(batchDigest(items));
  });

  it('refuses an empty or oversized batch, a wrong digest, bad items and request-wide keys', () => {
    const bad = (req: object) =>
      code(() => validateSignRequest({ ...base, message: batchDigest(items), batch: items, ...req }));
    expect(bad({ batch: [] })).toBe('BAD_INPUT');
    const many = Array.from({ length: 257 }, (_, i) => ({ message: msg(i % 200) }));
    expect(bad({ batch: many, message: batchDigest(many) })).toBe('BAD_INPUT');
    const big = Array.from({ length: 5 }, (_, i) => ({ message: msg(i, 60 * 1024) }));
    expect(bad({ batch: big, message: batchDigest(big) })).toBe('BAD_INPUT');
    expect(bad({ message: msg(7) })).toBe('BAD_INPUT');
    expect(bad({ path: 'm/1' })).toBe('BAD_INPUT');
    expect(bad({ batch: [{ message: 'zz' }] })).toBe('BAD_INPUT');
    expect(bad({ batch: [{ message: msg(0), path: 'm/0h' }] })).toBe('BAD_INPUT');
    // the digest binds order
    expect(batchDigest([items[1]!, items[0]!])).not.toBe(batchDigest(items));
  });
});
