/**
 * Preprocessed FROST nonces in the ceremony layer: commitments made for a pool slot ahead of any
 * request sign a request later in one round, the signature verifies independently; and what a
 * coordinator could try with a slot (another pool's, a forged or rebound commitment) is refused.
 */
import { ed25519 } from '@noble/curves/ed25519.js';
import { describe, expect, it } from 'vitest';
import { floorParties, keygenFloor, signingShareOf } from '../../src/bench/floor.js';
import {
  checkPreprocessedContext,
  noncePoolId,
  type NoncePoolSpec,
  type SignContext,
} from '../../src/ceremony/sign/contracts.js';
import {
  aggregate,
  checkPoolCommitments,
  planSign,
  type WalletKey,
} from '../../src/ceremony/sign/coordinator.js';
import * as frostSign from '../../src/ceremony/sign/party.js';
import { jsonBytes, roundHeader } from '../../src/ceremony/rounds.js';
import { broadcastJson, sealBroadcast } from '../../src/crypto/envelope.js';
import { ConclaveError, CulpritError } from '../../src/errors.js';

const hex = (h: string) => Uint8Array.from(Buffer.from(h, 'hex'));
const msg = () => Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString('hex');

describe('preprocessed nonces', () => {
  const parties = floorParties(3);
  const wallet = keygenFloor(parties, 2, 'frost-ed25519');
  const w: WalletKey = {
    walletId: wallet.walletId,
    keyId: wallet.keyId,
    version: wallet.version,
    scheme: wallet.scheme,
    threshold: 2,
    parties: wallet.roster,
    publicKey: wallet.publicKey,
    transcriptHash: wallet.transcriptHash,
    publicPackage: wallet.public,
  };
  const signers = ['p1', 'p3'];
  const spec: NoncePoolSpec = {
    tenant: wallet.tenant,
    walletId: wallet.walletId,
    keyId: wallet.keyId,
    version: wallet.version,
    signers,
    poolId: noncePoolId(wallet.tenant, wallet.walletId, wallet.version, signers),
  };
  const signer = (id: string) => {
    const p = parties.find((x) => x.partyId === id)!;
    const entry = wallet.roster.find((e) => e.partyId === id)!;
    return { p, key: { ...wallet, identifier: entry.identifier }, secret: signingShareOf(p, wallet) };
  };
  const slot = `${spec.poolId}/1`;
  const made = signers.map((id) => {
    const s = signer(id);
    return frostSign.preprocess(s.p, spec, s.key, s.secret, slot);
  });
  const published = made.map((m) => m.output);
  const request = (message: string): SignContext => ({
    ...planSign(
      { tenant: wallet.tenant, walletId: wallet.walletId, message, signers },
      w,
      `sign:${wallet.tenant}:pooled/1`,
    ),
    preprocessed: { slot, commitments: published },
  });

  it('signs a request in one round with commitments made before the message was known', () => {
    checkPoolCommitments(spec, w, slot, published);
    const ctx = request(msg());
    checkPreprocessedContext(ctx);
    const shares = signers.map((id, i) => {
      const s = signer(id);
      const lists = frostSign.openCommitments(s.p, ctx, s.key, published, published[i]!);
      return frostSign.round2(s.p, ctx, s.key, s.secret, made[i]!.nonces, lists);
    });
    const { signature, key } = aggregate(ctx, w, published, shares)[0]!;
    expect(ed25519.verify(hex(signature), hex(ctx.message), hex(key.verifyingKey))).toBe(true);
    expect(ed25519.verify(hex(signature), hex(msg()), hex(key.verifyingKey))).toBe(false);
  });

  it('a signer refuses to sign with nonces that are not those of its own commitment', () => {
    const ctx = request(msg());
    const s = signer('p1');
    const lists = frostSign.openCommitments(s.p, ctx, s.key, published, published[0]!);
    const others = made[1]!.nonces.map((n) => ({ ...n }));
    expect(() => frostSign.round2(s.p, ctx, s.key, s.secret, others, lists)).toThrow(
      /own commitment in the commitment list does not match these nonces/,
    );
  });

  it('refuses a slot of another pool, a batch on a slot, and commitments bound to another slot', () => {
    const ctx = request(msg());
    const other = noncePoolId(wallet.tenant, wallet.walletId, wallet.version, ['p1', 'p2']);
    for (const bad of [
      { ...ctx, preprocessed: { slot: `${other}/1`, commitments: published } },
      { ...ctx, preprocessed: { slot: `${spec.poolId}/x`, commitments: published } },
      { ...ctx, version: 2 },
      { ...ctx, protocol: 'dkls23' as const },
    ]) {
      expect(() => checkPreprocessedContext(bad)).toThrow(ConclaveError);
    }
    // a coordinator moving slot 1's commitments to slot 2: signed for slot 1, refused for slot 2
    const moved = `${spec.poolId}/2`;
    expect(() => checkPoolCommitments(spec, w, moved, published)).toThrow(ConclaveError);
    const s = signer('p1');
    const ctx2 = { ...ctx, preprocessed: { slot: moved, commitments: published } };
    expect(() => frostSign.openCommitments(s.p, ctx2, s.key, published, published[0]!)).toThrow(
      ConclaveError,
    );
    // p3 re-signing its slot-1 commitment under another binding is named
    const body = broadcastJson<{ request: string; commitments: unknown[] }>(published[1]!);
    const rebound = sealBroadcast(
      roundHeader({ tenant: spec.tenant, ceremonyId: slot }, 'sign-1', 'sign-commitments', 'p3', '*'),
      jsonBytes({ ...body, request: 'ab'.repeat(32) }),
      signer('p3').p.identitySecret,
    );
    try {
      checkPoolCommitments(spec, w, slot, [published[0]!, rebound]);
      throw new Error('expected a refusal');
    } catch (err) {
      expect(err).toBeInstanceOf(CulpritError);
      expect((err as CulpritError).culprit).toBe('p3');
    }
  });
});
