/**
 * The ceremony layer's pure steps, driven directly as a workflow would, with the attacks a
 * misbehaving party or coordinator can make on what they relay: the one round opener refuses a
 * missing, duplicated, forged or unparsable message and names its sender; parties and the
 * coordinator name a party that disagrees; a signer refuses a commitment list without its own.
 */
import { ed25519 } from '@noble/curves/ed25519.js';
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { describe, expect, it } from 'vitest';
import { ecdsaKeygenFloor, ecdsaSignFloor, floorParties, type FloorParty } from '../../src/bench/floor.js';
import { combineEcdsa } from '../../src/ceremony/ecdsa-sign/coordinator.js';
import type { EcdsaOnlineBody } from '../../src/ceremony/ecdsa-sign/contracts.js';
import { broadcastJson } from '../../src/crypto/envelope.js';
import { signingKeyFor } from '../../src/crypto/signing-key.js';
import type { KeygenContext } from '../../src/ceremony/keygen/contracts.js';
import { confirmResults } from '../../src/ceremony/keygen/coordinator.js';
import * as keygen from '../../src/ceremony/keygen/party.js';
import { jsonBytes, openFrom, openRound, roundHeader } from '../../src/ceremony/rounds.js';
import type { SignContext } from '../../src/ceremony/sign/contracts.js';
import { aggregate, type WalletKey } from '../../src/ceremony/sign/coordinator.js';
import * as frostSign from '../../src/ceremony/sign/party.js';
import { sealBroadcast, type Envelope } from '../../src/crypto/envelope.js';
import { identifierFor } from '../../src/crypto/frost.js';
import { getScheme } from '../../src/crypto/schemes.js';
import { ConclaveError, CulpritError } from '../../src/errors.js';
import type { PeerEntry } from '../../src/ceremony/contracts.js';

const hex = (h: string) => Uint8Array.from(Buffer.from(h, 'hex'));
const scheme = getScheme('frost-ed25519');

function blames(fn: () => unknown, code: string, culprit: string): void {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(CulpritError);
    expect((err as CulpritError).code).toBe(code);
    expect((err as CulpritError).culprit).toBe(culprit);
    return;
  }
  throw new Error('expected a CulpritError');
}

/** A 2-of-3 key generated round by round with the pure steps. */
function generate(parties: FloorParty[]) {
  const roster: PeerEntry[] = parties.map((p, i) => ({
    partyId: p.partyId,
    identifier: identifierFor(scheme, i + 1),
    identityPublic: p.identityPublic,
    transportPublic: p.transportPublic,
  }));
  const ctx: KeygenContext = {
    tenant: 't',
    ceremonyId: 'keygen:t:w/1',
    walletId: 'w',
    keyId: 'k',
    version: 1,
    scheme: scheme.name,
    threshold: 2,
    roster,
  };
  const r1 = parties.map((p) => keygen.round1(p, ctx));
  const round1 = r1.map((r) => r.output);
  const r2 = parties.map((p, i) => keygen.round2(p, ctx, r1[i]!.state, round1));
  const round2 = r2.flatMap((r) => r.output);
  const r3 = parties.map((p, i) => keygen.round3(p, ctx, r2[i]!.state, round1, round2, round1[i]!));
  return { ctx, roster, round1, round2, results: r3.map((r) => r.output), keys: r3.map((r) => r.key) };
}

describe('the ceremony layer, round by round', () => {
  const parties = floorParties(3);
  const dkg = generate(parties);

  it('generates one key every party and the coordinator agree on, and it signs', () => {
    const confirmed = confirmResults(dkg.ctx, dkg.results);
    for (const [i, p] of parties.entries()) {
      expect(dkg.keys[i]!.publicKey).toBe(confirmed.publicKey);
      keygen.checkResults(p, dkg.ctx, dkg.results, confirmed);
    }
    const wallet: WalletKey = {
      walletId: 'w',
      keyId: 'k',
      version: 1,
      scheme: scheme.name,
      threshold: 2,
      parties: dkg.roster,
      publicKey: confirmed.publicKey,
      transcriptHash: confirmed.transcriptHash,
      publicPackage: confirmed.public,
    };
    const ctx: SignContext = {
      tenant: 't',
      ceremonyId: 'sign:t:1/1',
      walletId: 'w',
      keyId: 'k',
      version: 1,
      message: 'ab'.repeat(32),
      signers: ['p1', 'p3'],
      path: 'm',
    };
    const signers = [0, 2].map((i) => ({
      p: parties[i]!,
      key: { ...confirmed, scheme: scheme.name, roster: dkg.roster, identifier: dkg.roster[i]!.identifier },
      secret: dkg.keys[i]!.signingShare,
    }));
    const r1 = signers.map((s) => frostSign.round1(s.p, ctx, s.key, s.secret));
    const commitments = r1.map((r) => r.output);
    // a coordinator that drops a signer's commitments from the list it relays to that signer
    expect(() =>
      frostSign.openCommitments(signers[0]!.p, ctx, signers[0]!.key, [commitments[1]!], commitments[0]!),
    ).toThrow(/no sign-commitments message from p1/);
    const shares = signers.map((s, i) => {
      const list = frostSign.openCommitments(s.p, ctx, s.key, commitments, commitments[i]!);
      return frostSign.round2(s.p, ctx, s.key, s.secret, r1[i]!.nonces, list);
    });
    const { signature } = aggregate(ctx, wallet, commitments, shares)[0]!;
    // an independent verifier: noble's Ed25519, which knows nothing of Conclave
    expect(ed25519.verify(hex(signature), hex(ctx.message), hex(confirmed.publicKey))).toBe(true);
    // a signer whose share is swapped for another request's is named by the coordinator
    const other = sealBroadcast(
      roundHeader(ctx, 'sign-2', 'sign-share', 'p3', '*'),
      jsonBytes({ request: 'ff'.repeat(32), shares: ['ab'.repeat(32)] }),
      parties[2]!.identitySecret,
    );
    blames(() => aggregate(ctx, wallet, commitments, [shares[0]!, other]), 'DISAGREEMENT', 'p3');
  });

  it('opens one message per sender: a duplicate, a forgery or bad JSON names the sender', () => {
    const p2 = dkg.roster[1];
    const expect2 = roundHeader(dkg.ctx, 'dkg-1', 'dkg-round1', p2!.partyId, '*');
    const from2 = dkg.round1[1]!;
    expect(openFrom<{ params: string }>(dkg.round1, expect2, p2!).params).toBeTypeOf('string');
    blames(() => openFrom(dkg.round1.concat(from2), expect2, p2!), 'TAMPERED', 'p2');
    blames(() => openFrom([dkg.round1[0]!], expect2, p2!), 'BAD_INPUT', 'p2');
    const garbled = sealBroadcast(expect2, new TextEncoder().encode('{not json'), parties[1]!.identitySecret);
    blames(() => openFrom([garbled], expect2, p2!), 'TAMPERED', 'p2');
    const forged: Envelope = { ...from2, sig: dkg.round1[0]!.sig };
    expect(() => openFrom([forged], expect2, p2!)).toThrow(ConclaveError);
    const byParty = openRound<{ params: string }>(dkg.round1, dkg.roster, (p) =>
      roundHeader(dkg.ctx, 'dkg-1', 'dkg-round1', p.partyId, '*'),
    );
    expect([...byParty.keys()]).toEqual(['p1', 'p2', 'p3']);
  });

  it('names a party that reports another key, on the coordinator and on every other party', () => {
    const liar = sealBroadcast(
      roundHeader(dkg.ctx, 'dkg-3', 'dkg-result', 'p2', '*'),
      jsonBytes({
        ...JSON.parse(Buffer.from(dkg.results[1]!.body, 'base64').toString()),
        transcriptHash: '00'.repeat(32),
      }),
      parties[1]!.identitySecret,
    );
    const results = [dkg.results[0]!, liar, dkg.results[2]!];
    blames(() => confirmResults(dkg.ctx, results), 'DISAGREEMENT', 'p2');
    blames(() => keygen.checkResults(parties[0]!, dkg.ctx, results, dkg.keys[0]!), 'DISAGREEMENT', 'p2');
  });

  it('refuses a roster that carries another party keys for this party', () => {
    const swapped = {
      ...dkg.ctx,
      roster: dkg.roster.map((e) => (e.partyId === 'p1' ? { ...e, transportPublic: e.identityPublic } : e)),
    };
    expect(() => keygen.round1(parties[0]!, swapped)).toThrow(/not its own/);
  });
});

describe('the DKLs23 signing steps', () => {
  const parties = floorParties(3);
  const { wallet } = ecdsaKeygenFloor(parties, 2);
  const walletKey: WalletKey = {
    walletId: wallet.walletId,
    keyId: wallet.keyId,
    version: wallet.version,
    scheme: wallet.scheme,
    threshold: wallet.threshold,
    parties: wallet.roster,
    publicKey: wallet.publicKey,
    transcriptHash: wallet.transcriptHash,
    publicPackage: wallet.public,
  };
  const ecdsa = getScheme('dkls23-secp256k1');
  const message = 'cd'.repeat(32);

  it('presigns with the untweaked key and signs along a path under pk + t·G', () => {
    const path = 'm/44/60/0/0/7';
    const run = ecdsaSignFloor(parties, wallet, message, { path });
    const key = signingKeyFor(ecdsa, wallet.publicKey, wallet.transcriptHash, { path });
    expect(key.verifyingKey).not.toBe(wallet.publicKey);
    // the derived key is the wallet key plus t·G (BIP32 CKDpub, no negation)
    expect(key.tweak.negate).toBe(false);
    const pk = secp256k1.Point.fromHex(wallet.publicKey);
    expect(pk.add(secp256k1.Point.BASE.multiply(BigInt(`0x${key.tweak.add}`))).toHex(true)).toBe(
      key.verifyingKey,
    );
    expect(run.verifyingKey).toBe(key.verifyingKey);
    expect(run.signature.publicKey).toBe(key.verifyingKey);
    expect(
      secp256k1.verify(hex(run.signature.compact), hex(message), hex(key.verifyingKey), {
        prehash: false,
        lowS: true,
      }),
    ).toBe(true);
    // and the wallet key itself signs too (t = 0)
    const plain = ecdsaSignFloor(parties, wallet, message);
    expect(plain.signature.publicKey).toBe(wallet.publicKey);
  });

  it('the coordinator names a signer whose online contribution is wrong or for another request', () => {
    const run = ecdsaSignFloor(parties, wallet, message, { path: 'm/1' });
    const online = run.envelopes.filter((e) => e.round === 'ecdsa-3');
    expect(online).toHaveLength(2);
    const signer = online[1]!;
    const party = parties.find((p) => p.partyId === signer.from)!;
    const body = broadcastJson<EcdsaOnlineBody>(signer);
    const reseal = (b: EcdsaOnlineBody) =>
      sealBroadcast(
        roundHeader(run.ctx, 'ecdsa-3', 'ecdsa-sign', signer.from, '*'),
        jsonBytes(b),
        party.identitySecret,
      );
    expect(combineEcdsa(run.ctx, walletKey, online).sig.compact).toBe(run.signature.compact);
    const bump = (h: string) => (BigInt(`0x${h}`) + 1n).toString(16).padStart(64, '0');
    blames(
      () =>
        combineEcdsa(run.ctx, walletKey, [
          online[0]!,
          reseal({ ...body, msg: { ...body.msg, w: bump(body.msg.w) } }),
        ]),
      'BAD_SHARE',
      signer.from,
    );
    blames(
      () => combineEcdsa(run.ctx, walletKey, [online[0]!, reseal({ ...body, request: 'ff'.repeat(32) })]),
      'DISAGREEMENT',
      signer.from,
    );
    // an online contribution under the untweaked key (the path's tweak not applied)
    blames(
      () =>
        combineEcdsa(run.ctx, walletKey, [
          online[0]!,
          reseal({ ...body, msg: { ...body.msg, publicKey: wallet.publicKey } }),
        ]),
      'DISAGREEMENT',
      signer.from,
    );
  });
});
