/**
 * The crypto floor: the computation of one ceremony with no Temporal, no database and no
 * network, every party's and the coordinator's steps run back to back in this one process.
 *
 * Each function below mirrors one activity (activities/party/keygen.ts, activities/party/sign.ts,
 * activities/coordinator.ts) step for step, calling the same project functions in the same
 * order: FROST wrappers (src/crypto/frost.ts), envelope sealing and opening
 * (src/crypto/envelope.ts), at-rest sealing of round state, shares and nonces
 * (src/crypto/at-rest.ts), the parameter and request hashes, and the JSON encodings of
 * message bodies. What an activity does with its database (reads, insert-or-get, tombstone
 * checks, pinning) is left out; what it keeps in a database is kept here in memory, sealed
 * exactly as it would be stored, and opened again where the activity reads it back.
 *
 * Threshold ECDSA (DKLs23) does not mirror: it calls the very pure steps the activities run
 * (pairSetupStart/Answer/Finish in activities/party/pair-setup.ts, ecdsaPresignStart/Answer and
 * ecdsaOnline in activities/party/ecdsa-sign.ts, combineEcdsa in activities/coordinator.ts),
 * sealing and opening round states, shares and pair setups as the activities' database does.
 */
import { randomUUID } from 'node:crypto';
import { combineEcdsa, openSigned, pickSigners } from '../../activities/coordinator.js';
import { openFrom as openPartyEnvelope, type PartyKeyring } from '../../activities/party/common.js';
import {
  ecdsaOnline,
  ecdsaPresignAnswer,
  ecdsaPresignStart,
  ecdsaSigner,
  ecdsaSpentOn,
  type EcdsaRoundState,
  type EcdsaSigner,
} from '../../activities/party/ecdsa-sign.js';
import { keygenParams, type KeygenResultBody } from '../../activities/party/keygen.js';
import {
  checkPairSetupDone,
  pairSetupAnswer,
  pairSetupContext,
  pairSetupFinish,
  pairSetupStart,
  type PairAnswerState,
  type PairSetups,
  type PairStartState,
} from '../../activities/party/pair-setup.js';
import { signRequestHash, type SignShareBody } from '../../activities/party/sign.js';
import type {
  KeygenContext,
  KeygenRequest,
  PairSetupContext,
  SignContext,
  SignRequest,
} from '../../activities/types.js';
import { openJson, sealJson, type AtRestContext, type SealedBox } from '../crypto/at-rest.js';
import type { DklsSignature } from '../crypto/ecdsa/dkls-sign.js';
import { fromHex, toHex, transcriptHash, utf8 } from '../crypto/encoding.js';
import {
  broadcastJson,
  openEnvelope,
  sealBroadcast,
  sealDirect,
  type Envelope,
  type EnvelopeHeader,
} from '../crypto/envelope.js';
import {
  aggregateSignature,
  dkgRound1,
  dkgRound2,
  dkgRound3,
  dkgTranscriptHash,
  identifierFor,
  signCommit,
  signShare,
  tweakPublicPackage,
  tweakSigningShare,
  type DkgState,
  type PublicPackage,
  type Round1Pkg,
  type SigningCommitment,
  type SigningNonces,
} from '../crypto/frost.js';
import { generatePartyKeys, type PartyKeys } from '../crypto/identity.js';
import { getScheme, resolveScheme } from '../crypto/schemes.js';
import { canonicalKeyRequest, signingKeyFor, type SigningKeyRequest } from '../crypto/signing-key.js';
import type { PeerEntry } from '../store/party-store.js';
import { validateKeygenRequest, validateSignRequest } from '../validation.js';
import { now, summarize, type Summary } from './stats.js';

/** What a party worker holds in memory: its id, KEK and decrypted long-lived keys. */
export interface FloorParty {
  partyId: string;
  kek: Uint8Array;
  keys: PartyKeys;
  identityPublic: string;
  transportPublic: string;
}

/** What the party databases and the wallet registry hold after a key generation. */
export interface FloorWallet {
  tenant: string;
  walletId: string;
  /** The key generation's ceremony (a DKLs23 key's pair setup runs under it too). */
  ceremonyId: string;
  keyId: string;
  version: number;
  scheme: string;
  threshold: number;
  roster: PeerEntry[];
  publicKey: string;
  transcriptHash: string;
  public: PublicPackage;
  /** Per party: its identifier and its sealed signing share (as in its `shares` collection). */
  shares: Map<string, { identifier: string; sealed: SealedBox }>;
}

const tenant = 'bench-floor';

export function floorParties(count: number): FloorParty[] {
  return Array.from({ length: count }, (_, i) => {
    const keys = generatePartyKeys();
    const kek = new Uint8Array(32);
    crypto.getRandomValues(kek);
    return {
      partyId: `p${i + 1}`,
      kek,
      keys,
      identityPublic: toHex(keys.identityPublic),
      transportPublic: toHex(keys.transportPublic),
    };
  });
}

// ---- mirrors of the activities' small helpers ------------------------------------------------

const jsonBytes = (value: unknown): Uint8Array => utf8(JSON.stringify(value));

const header = (
  ctx: { tenant: string; ceremonyId: string },
  round: string,
  type: string,
  from: string,
  to: string,
): EnvelopeHeader => ({ tenant: ctx.tenant, ceremonyId: ctx.ceremonyId, round, type, from, to });

const roundStateContext = (p: FloorParty, ceremonyId: string, step: string): AtRestContext => ({
  purpose: 'round-state',
  tenant,
  party: p.partyId,
  keyId: `${ceremonyId}/${step}`,
  version: 1,
});

const shareContext = (p: FloorParty, keyId: string, version: number): AtRestContext => ({
  purpose: 'share',
  tenant,
  party: p.partyId,
  keyId,
  version,
});

const nonceContext = (p: FloorParty, ctx: SignContext): AtRestContext => ({
  purpose: 'nonce',
  tenant: ctx.tenant,
  party: p.partyId,
  keyId: `${ctx.keyId}/${ctx.ceremonyId}`,
  version: ctx.version,
});

/** The party's own `openFrom`, given this floor party's transport key. */
function openFrom<T>(
  me: FloorParty,
  envelopes: Envelope[],
  expect: EnvelopeHeader,
  sender: PeerEntry,
  direct: boolean,
): T {
  return openPartyEnvelope<T>(
    { transportSecret: me.keys.transportSecret },
    envelopes,
    expect,
    sender,
    direct,
  );
}

const envelopeFrom = (envelopes: Envelope[], p: PeerEntry): Envelope => {
  const env = envelopes.find((e) => e.from === p.partyId);
  if (!env) throw new Error(`floor: no envelope from ${p.partyId}`);
  return env;
};

// ---- key generation ----------------------------------------------------------------------------

interface Round1Body {
  params: string;
  pkg: Round1Pkg;
}

function openRound1(me: FloorParty, ctx: KeygenContext, round1: Envelope[]): Round1Pkg[] {
  const params = keygenParams(ctx);
  return ctx.roster
    .filter((p) => p.partyId !== me.partyId)
    .map((peer) => {
      const body = openFrom<Round1Body>(
        me,
        round1,
        header(ctx, 'dkg-1', 'dkg-round1', peer.partyId, '*'),
        peer,
        false,
      );
      if (body.params !== params || body.pkg?.identifier !== peer.identifier) {
        throw new Error(`floor: bad round-1 package from ${peer.partyId}`);
      }
      return body.pkg;
    });
}

/** One whole FROST DKG ceremony as the workflow runs it, every step back to back. */
export function keygenFloor(
  parties: FloorParty[],
  threshold: number,
  schemeName: string = 'frost-ed25519',
): FloorWallet {
  const walletId = `floor-${randomUUID()}`;
  const req: KeygenRequest = {
    tenant,
    walletId,
    curve: getScheme(schemeName).curve,
    scheme: schemeName,
    threshold,
    parties: parties.map((p) => p.partyId),
  };
  const ceremonyId = `keygen:${tenant}:${walletId}/${randomUUID()}`;
  const byId = new Map(parties.map((p) => [p.partyId, p]));
  const party = (id: string) => byId.get(id)!;

  // coordinator: validateKeygen, then planKeygen (describeParty only returns public keys)
  validateKeygenRequest(req);
  const scheme = resolveScheme(req.curve, req.scheme);
  const roster: PeerEntry[] = req.parties.map((partyId, i) => ({
    partyId,
    identifier: identifierFor(scheme, i + 1),
    identityPublic: party(partyId).identityPublic,
    transportPublic: party(partyId).transportPublic,
  }));
  const ctx: KeygenContext = {
    tenant,
    ceremonyId,
    walletId,
    keyId: `key-${randomUUID()}`,
    version: 1,
    scheme: scheme.name,
    threshold,
    roster,
  };

  // dkgRound1 on every party: DKG round 1, signed broadcast, round state sealed
  const sealedState1 = new Map<string, SealedBox>();
  const round1 = roster.map((me) => {
    const p = party(me.partyId);
    const s = getScheme(ctx.scheme);
    const { pkg, state } = dkgRound1(s, me.identifier, ctx.threshold, ctx.roster.length);
    const body: Round1Body = { params: keygenParams(ctx), pkg };
    const output = sealBroadcast(
      header(ctx, 'dkg-1', 'dkg-round1', p.partyId, '*'),
      jsonBytes(body),
      p.keys.identitySecret,
    );
    sealedState1.set(p.partyId, sealJson(p.kek, state, roundStateContext(p, ceremonyId, 'dkg-1')));
    return output;
  });

  // dkgRound2 on every party: open state and peers' packages, DKG round 2, one sealed share per peer
  const sealedState2 = new Map<string, SealedBox>();
  const round2 = roster.flatMap((me) => {
    const p = party(me.partyId);
    const s = getScheme(ctx.scheme);
    const state1 = openJson<DkgState>(
      p.kek,
      sealedState1.get(p.partyId)!,
      roundStateContext(p, ceremonyId, 'dkg-1'),
    );
    const others = openRound1(p, ctx, round1);
    const result = dkgRound2(s, state1, others);
    const output = roster
      .filter((peer) => peer.partyId !== p.partyId)
      .map((peer) =>
        sealDirect(
          header(ctx, 'dkg-2', 'dkg-share', p.partyId, peer.partyId),
          jsonBytes({ share: result.shares[peer.identifier]! }),
          p.keys.identitySecret,
          fromHex(peer.transportPublic, 'transport key'),
        ),
      );
    sealedState2.set(p.partyId, sealJson(p.kek, result.state, roundStateContext(p, ceremonyId, 'dkg-2')));
    return output;
  });

  // dkgRound3 on every party: check shares, derive the key share, seal it, signed result
  const shares = new Map<string, { identifier: string; sealed: SealedBox }>();
  let pub: PublicPackage | undefined;
  const results = roster.map((me) => {
    const p = party(me.partyId);
    const s = getScheme(ctx.scheme);
    const state2 = openJson<DkgState>(
      p.kek,
      sealedState2.get(p.partyId)!,
      roundStateContext(p, ceremonyId, 'dkg-2'),
    );
    const others = openRound1(p, ctx, round1);
    const mine = round2.filter((e) => e.to === p.partyId);
    const received = roster
      .filter((peer) => peer.partyId !== p.partyId)
      .map((peer) => {
        const body = openFrom<{ share: string }>(
          p,
          mine,
          header(ctx, 'dkg-2', 'dkg-share', peer.partyId, p.partyId),
          peer,
          true,
        );
        return { from: peer.identifier, share: body.share };
      });
    const key = dkgRound3(s, state2, others, received);
    const own = round1.find((e) => e.from === p.partyId)!;
    const ownPkg = broadcastJson<Round1Body>(own).pkg;
    const transcript = dkgTranscriptHash([ownPkg, ...others], key.public);
    const publicKey = key.public.commitments[0]!;
    shares.set(p.partyId, {
      identifier: me.identifier,
      sealed: sealJson(p.kek, { signingShare: key.signingShare }, shareContext(p, ctx.keyId, ctx.version)),
    });
    pub = key.public;
    const body: KeygenResultBody = {
      params: keygenParams(ctx),
      publicKey,
      public: key.public,
      transcriptHash: transcript,
    };
    return sealBroadcast(
      header(ctx, 'dkg-3', 'dkg-result', p.partyId, '*'),
      jsonBytes(body),
      p.keys.identitySecret,
    );
  });

  // coordinator: confirmKeygen opens every signed result and checks they agree
  const bodies = roster.map((p) =>
    openSigned<KeygenResultBody>(envelopeFrom(results, p), ctx, 'dkg-3', 'dkg-result', p),
  );
  const params = keygenParams(ctx);
  const votes = new Set(
    bodies.map((b) => (b.params === params ? `${b.publicKey}|${b.transcriptHash}` : 'wrong-params')),
  );
  if (votes.size !== 1 || votes.has('wrong-params')) throw new Error('floor: parties disagree');
  const confirmed = bodies[0]!;

  // dkgActivate on every party: checks every other party's signed result itself
  for (const me of roster) {
    const p = party(me.partyId);
    for (const peer of roster) {
      if (peer.partyId === p.partyId) continue;
      const body = openFrom<KeygenResultBody>(
        p,
        results,
        header(ctx, 'dkg-3', 'dkg-result', peer.partyId, '*'),
        peer,
        false,
      );
      if (body.transcriptHash !== confirmed.transcriptHash || body.publicKey !== confirmed.publicKey) {
        throw new Error(`floor: ${peer.partyId} reports another key`);
      }
    }
  }
  // coordinator: saveWallet is a database write only

  return {
    tenant,
    walletId,
    ceremonyId,
    keyId: ctx.keyId,
    version: ctx.version,
    scheme: ctx.scheme,
    threshold,
    roster,
    publicKey: confirmed.publicKey,
    transcriptHash: confirmed.transcriptHash,
    public: pub!,
    shares,
  };
}

// ---- signing -----------------------------------------------------------------------------------

interface CommitBody {
  request: string;
  commitments: SigningCommitment;
}

/** The coordinator's planSign: validation and signer choice (the wallet comes from its database). */
function planSignFloor(
  wallet: FloorWallet,
  message: string,
  keyRequest: SigningKeyRequest = {},
): SignContext {
  const req: SignRequest = { tenant: wallet.tenant, walletId: wallet.walletId, message, ...keyRequest };
  validateSignRequest(req);
  const members = wallet.roster.map((p) => p.partyId);
  const chosen = pickSigners(members, wallet.threshold);
  return {
    tenant: wallet.tenant,
    ceremonyId: `sign:${wallet.tenant}:${randomUUID()}/${randomUUID()}`,
    walletId: wallet.walletId,
    keyId: wallet.keyId,
    version: wallet.version,
    message: message.toLowerCase(),
    signers: members.filter((m) => chosen.includes(m)),
    ...canonicalKeyRequest(getScheme(wallet.scheme), req),
  };
}

/** One whole two-round FROST signing ceremony, every step back to back; returns the signature. */
export function signFloor(
  parties: FloorParty[],
  wallet: FloorWallet,
  message: string,
  keyRequest: SigningKeyRequest = {},
): string {
  const byId = new Map(parties.map((p) => [p.partyId, p]));
  const party = (id: string) => byId.get(id)!;
  const scheme = getScheme(wallet.scheme);
  const ctx = planSignFloor(wallet, message, keyRequest);
  const signers = wallet.roster.filter((p) => ctx.signers.includes(p.partyId));
  const shareOf = (p: FloorParty): string =>
    openJson<{ signingShare: string }>(
      p.kek,
      wallet.shares.get(p.partyId)!.sealed,
      shareContext(p, wallet.keyId, wallet.version),
    ).signingShare;

  // signRound1 on every signer: open the share, draw nonces, seal them, signed commitments
  const sealedNonces = new Map<string, SealedBox>();
  const commitments = signers.map((me) => {
    const p = party(me.partyId);
    const request = signRequestHash(ctx);
    const { nonces, commitments: c } = signCommit(getScheme(wallet.scheme), me.identifier, shareOf(p));
    const body: CommitBody = { request, commitments: c };
    sealedNonces.set(p.partyId, sealJson(p.kek, nonces, nonceContext(p, ctx)));
    return sealBroadcast(
      header(ctx, 'sign-1', 'sign-commitments', p.partyId, '*'),
      jsonBytes(body),
      p.keys.identitySecret,
    );
  });

  // signRound2 on every signer: check every commitment, open the nonces and the share, sign
  const shares = signers.map((me) => {
    const p = party(me.partyId);
    const request = signRequestHash(ctx);
    const list = signers.map((peer) => {
      const body = openFrom<CommitBody>(
        p,
        commitments,
        header(ctx, 'sign-1', 'sign-commitments', peer.partyId, '*'),
        peer,
        false,
      );
      if (body.request !== request || body.commitments?.identifier !== peer.identifier) {
        throw new Error(`floor: bad commitments from ${peer.partyId}`);
      }
      return body.commitments;
    });
    const ownEnvelope = commitments.find((e) => e.from === p.partyId)!;
    const own = list.find((c) => c.identifier === me.identifier);
    if (JSON.stringify(own) !== JSON.stringify(broadcastJson<CommitBody>(ownEnvelope).commitments)) {
      throw new Error('floor: own commitments missing');
    }
    transcriptHash([fromHex(request, 'request'), jsonBytes(list)]); // spentOn
    const nonces = openJson<SigningNonces>(p.kek, sealedNonces.get(p.partyId)!, nonceContext(p, ctx));
    const key = signingKeyFor(scheme, wallet.publicKey, wallet.transcriptHash, ctx);
    const sig = signShare(
      scheme,
      me.identifier,
      tweakSigningShare(scheme, shareOf(p), key.tweak),
      tweakPublicPackage(scheme, wallet.public, key.tweak),
      nonces,
      list,
      fromHex(ctx.message, 'message'),
    );
    const body: SignShareBody = { request, share: sig };
    return sealBroadcast(
      header(ctx, 'sign-2', 'sign-share', p.partyId, '*'),
      jsonBytes(body),
      p.keys.identitySecret,
    );
  });

  // coordinator: aggregateSignature opens every commitment and share, aggregates, verifies
  const request = signRequestHash(ctx);
  const list = signers.map((p) => {
    const body = openSigned<CommitBody>(envelopeFrom(commitments, p), ctx, 'sign-1', 'sign-commitments', p);
    if (body.request !== request || body.commitments.identifier !== p.identifier) {
      throw new Error(`floor: ${p.partyId} committed to another request`);
    }
    return body.commitments;
  });
  const sigShares: Record<string, string> = {};
  for (const p of signers) {
    const body = openSigned<SignShareBody>(envelopeFrom(shares, p), ctx, 'sign-2', 'sign-share', p);
    if (body.request !== request) throw new Error(`floor: ${p.partyId} signed another request`);
    sigShares[p.identifier] = body.share;
  }
  const key = signingKeyFor(scheme, wallet.publicKey, wallet.transcriptHash, ctx);
  return aggregateSignature(
    scheme,
    tweakPublicPackage(scheme, wallet.public, key.tweak),
    list,
    fromHex(ctx.message, 'message'),
    sigShares,
  );
}

// ---- threshold ECDSA (DKLs23) ------------------------------------------------------------------

/** What the party databases hold after a DKLs23 key generation: the key shares and the pair setups. */
export interface EcdsaFloorWallet extends FloorWallet {
  /** The ceremony whose pair setup the version holds. */
  setupId: string;
  /** Per party: its pair setups with every other party, sealed as in its `pairSetups` collection. */
  pairSetups: Map<string, SealedBox>;
}

/**
 * What one ceremony routes, each message counted once as it is produced: `bodies`, the JSON
 * bodies the parties sign (the crypto modules' messages with the request and setup they belong
 * to); `envelopes`, the JSON of the signed (point to point, also encrypted) envelopes the
 * workflow carries between parties.
 */
export interface MessageBytes {
  messages: number;
  bodies: number;
  envelopes: number;
}

const jsonSize = (value: unknown): number => Buffer.byteLength(JSON.stringify(value));

export const messageBytes = (
  bodies: readonly Uint8Array[],
  envelopes: readonly Envelope[],
): MessageBytes => ({
  messages: envelopes.length,
  bodies: bodies.reduce<number>((sum, b) => sum + b.length, 0),
  envelopes: envelopes.reduce<number>((sum, e) => sum + jsonSize(e), 0),
});

/** A floor party as the activities' pure steps see it. */
const keyringOf = (p: FloorParty): PartyKeyring => ({
  partyId: p.partyId,
  identityPublic: p.identityPublic,
  transportPublic: p.transportPublic,
  identitySecret: p.keys.identitySecret,
  transportSecret: p.keys.transportSecret,
});

/** The plaintext bodies of a ceremony's envelopes, each opened as its recipient would (outside timing). */
function openedBodies(parties: FloorParty[], roster: PeerEntry[], envelopes: Envelope[]): Uint8Array[] {
  const byId = new Map(parties.map((p) => [p.partyId, p]));
  const entry = new Map(roster.map((p) => [p.partyId, p]));
  return envelopes.map((e) =>
    openEnvelope(
      e,
      e,
      fromHex(entry.get(e.from)!.identityPublic, 'identity key'),
      e.to === '*' ? undefined : byId.get(e.to)!.keys.transportSecret,
    ),
  );
}

export interface PairSetupFloorResult {
  /** Per party: its sealed pair setups. */
  sealed: Map<string, SealedBox>;
  /** Every envelope of the setup, for `messageBytes` (outside any timing). */
  envelopes: Envelope[];
}

/**
 * One whole DKLs23 pair setup of a key version, every party's rounds back to back (the
 * activities' pure steps, with the round states and setups sealed as the database holds them):
 * for every ordered pair an OT setup, the pairwise zero-share seeds, then each party checks
 * every other's "done".
 */
export function pairSetupFloor(parties: FloorParty[], ctx: PairSetupContext): PairSetupFloorResult {
  const byId = new Map(parties.map((p) => [p.partyId, p]));
  const roster = ctx.roster.map((me) => byId.get(me.partyId)!);
  const seal = <T>(p: FloorParty, step: string, state: T) =>
    sealJson(p.kek, state, roundStateContext(p, ctx.ceremonyId, step));
  const open = <T>(p: FloorParty, step: string, box: SealedBox) =>
    openJson<T>(p.kek, box, roundStateContext(p, ctx.ceremonyId, step));

  const state1 = new Map<string, SealedBox>();
  const round1 = roster.flatMap((p) => {
    const r = pairSetupStart(keyringOf(p), ctx);
    state1.set(p.partyId, seal(p, 'pair-1', r.state));
    return r.output;
  });
  const state2 = new Map<string, SealedBox>();
  const round2 = roster.flatMap((p) => {
    const s1 = open<PairStartState>(p, 'pair-1', state1.get(p.partyId)!);
    const r = pairSetupAnswer(
      keyringOf(p),
      ctx,
      s1,
      round1.filter((e) => e.to === p.partyId),
    );
    state2.set(p.partyId, seal(p, 'pair-2', r.state));
    return r.output;
  });
  const sealed = new Map<string, SealedBox>();
  const done = roster.map((p) => {
    const s1 = open<PairStartState>(p, 'pair-1', state1.get(p.partyId)!);
    const s2 = open<PairAnswerState>(p, 'pair-2', state2.get(p.partyId)!);
    const r = pairSetupFinish(
      keyringOf(p),
      ctx,
      s1,
      s2,
      round2.filter((e) => e.to === p.partyId),
    );
    sealed.set(p.partyId, sealJson(p.kek, r.setups, pairSetupContext(p, ctx.tenant, ctx.keyId, ctx.version)));
    return r.done;
  });
  for (const p of roster) checkPairSetupDone(keyringOf(p), ctx, done);
  return { sealed, envelopes: [...round1, ...round2, ...done] };
}

/**
 * One whole DKLs23 key generation as the workflow runs it: the FROST secp256k1 DKG (`keygenFloor`)
 * and the pair setup of the new version, with what the pair setup routes.
 */
export function ecdsaKeygenFloor(
  parties: FloorParty[],
  threshold: number,
): { wallet: EcdsaFloorWallet; envelopes: Envelope[] } {
  const wallet = keygenFloor(parties, threshold, 'dkls23-secp256k1');
  const setup = pairSetupFloor(parties, {
    tenant: wallet.tenant,
    ceremonyId: wallet.ceremonyId,
    walletId: wallet.walletId,
    keyId: wallet.keyId,
    version: wallet.version,
    roster: wallet.roster,
  });
  return {
    wallet: { ...wallet, setupId: wallet.ceremonyId, pairSetups: setup.sealed },
    envelopes: setup.envelopes,
  };
}

export interface EcdsaSignFloorResult {
  signature: DklsSignature;
  verifyingKey: string;
  /** Planning and rounds 1 and 2 on every signer. */
  presignMs: number;
  /** Round 3 on every signer, and the coordinator's combination (verification included). */
  onlineMs: number;
  envelopes: Envelope[];
}

/**
 * One whole DKLs23 signing ceremony, every step back to back (the activities' and the
 * coordinator's pure steps): two presign rounds of point-to-point messages, the online round's
 * broadcasts, combined and verified. Each round reads the share and the pair setups sealed, as the
 * activities read them from the database.
 */
export function ecdsaSignFloor(
  parties: FloorParty[],
  wallet: EcdsaFloorWallet,
  message: string,
): EcdsaSignFloorResult {
  const began = now();
  const byId = new Map(parties.map((p) => [p.partyId, p]));
  const ctx: SignContext = { ...planSignFloor(wallet, message), protocol: 'dkls23' };
  const signers = wallet.roster
    .filter((p) => ctx.signers.includes(p.partyId))
    .map((e) => byId.get(e.partyId)!);
  const messageHash = fromHex(ctx.message, 'message');

  /** The activities' loadSigner: the share and the pair setups, opened from their sealed form. */
  const signerOf = (p: FloorParty): EcdsaSigner => {
    const share = wallet.shares.get(p.partyId)!;
    const signingShare = openJson<{ signingShare: string }>(
      p.kek,
      share.sealed,
      shareContext(p, wallet.keyId, wallet.version),
    ).signingShare;
    const setups = openJson<PairSetups>(
      p.kek,
      wallet.pairSetups.get(p.partyId)!,
      pairSetupContext(p, wallet.tenant, wallet.keyId, wallet.version),
    );
    return ecdsaSigner(keyringOf(p), ctx, { ...wallet, identifier: share.identifier }, signingShare, {
      setupId: wallet.setupId,
      setups,
    });
  };
  const seal = (p: FloorParty, step: string, state: EcdsaRoundState) =>
    sealJson(p.kek, state, roundStateContext(p, ctx.ceremonyId, step));
  const open = (p: FloorParty, step: string, box: SealedBox) =>
    openJson<EcdsaRoundState>(p.kek, box, roundStateContext(p, ctx.ceremonyId, step));

  const state1 = new Map<string, SealedBox>();
  const round1 = signers.flatMap((p) => {
    const r = ecdsaPresignStart(signerOf(p));
    state1.set(p.partyId, seal(p, 'ecdsa-1', r.state));
    return r.output.envelopes;
  });
  const state2 = new Map<string, SealedBox>();
  const round2 = signers.flatMap((p) => {
    const s1 = open(p, 'ecdsa-1', state1.get(p.partyId)!);
    const r = ecdsaPresignAnswer(
      signerOf(p),
      s1,
      round1.filter((e) => e.to === p.partyId),
    );
    state2.set(p.partyId, seal(p, 'ecdsa-2', r.state));
    return r.output.envelopes;
  });
  const presignDone = now();

  const round3 = signers.map((p) => {
    const s = signerOf(p);
    const mine = round2.filter((e) => e.to === p.partyId);
    ecdsaSpentOn(s.request, mine);
    return ecdsaOnline(s, open(p, 'ecdsa-2', state2.get(p.partyId)!), mine, messageHash);
  });
  const { sig, key } = combineEcdsa(
    ctx,
    {
      scheme: wallet.scheme,
      parties: wallet.roster,
      publicKey: wallet.publicKey,
      transcriptHash: wallet.transcriptHash,
      publicPackage: wallet.public,
    },
    round3,
  );
  const end = now();
  return {
    signature: sig,
    verifyingKey: key.verifyingKey,
    presignMs: presignDone - began,
    onlineMs: end - presignDone,
    envelopes: [...round1, ...round2, ...round3],
  };
}

// ---- measurement ---------------------------------------------------------------------------------

export interface FloorOptions {
  threshold: number;
  parties: number;
  keygenRuns: number;
  signRuns: number;
  /** 'frost-ed25519' by default. */
  scheme?: string;
  /** Derivation path signed along ('m' by default). */
  path?: string;
  /** Untimed runs of each before measuring (JIT, caches). */
  warmup?: number;
}

export interface FloorResult {
  scheme: string;
  threshold: number;
  parties: number;
  keygen: Summary;
  sign: Summary;
  keygenSamples: number[];
  signSamples: number[];
}

const randomMessageHex = (): string => {
  const b = new Uint8Array(32);
  crypto.getRandomValues(b);
  return toHex(b);
};

/** Lets signals and timers through between runs (never inside a timed run). */
const yieldToEventLoop = () => new Promise<void>((resolve) => setImmediate(resolve));

/** Measures the floor of key generation and of signing for one t-of-n, in this process. */
export async function measureFloor(opts: FloorOptions): Promise<FloorResult> {
  const parties = floorParties(opts.parties);
  const warmup = opts.warmup ?? 2;
  let wallet: FloorWallet | undefined;
  for (let i = 0; i < warmup; i++) {
    wallet = keygenFloor(parties, opts.threshold, opts.scheme);
    signFloor(parties, wallet, randomMessageHex(), { path: opts.path });
  }
  const keygenSamples: number[] = [];
  for (let i = 0; i < opts.keygenRuns; i++) {
    await yieldToEventLoop();
    const start = now();
    wallet = keygenFloor(parties, opts.threshold, opts.scheme);
    keygenSamples.push(now() - start);
  }
  wallet ??= keygenFloor(parties, opts.threshold, opts.scheme);
  const scheme = getScheme(wallet.scheme);
  const verifyingKey = signingKeyFor(scheme, wallet.publicKey, wallet.transcriptHash, {
    path: opts.path,
  }).verifyingKey;
  const signSamples: number[] = [];
  for (let i = 0; i < opts.signRuns; i++) {
    const message = randomMessageHex();
    await yieldToEventLoop();
    const start = now();
    const signature = signFloor(parties, wallet, message, { path: opts.path });
    signSamples.push(now() - start);
    if (
      !scheme.verify(
        fromHex(signature, 'signature'),
        fromHex(message, 'message'),
        fromHex(verifyingKey, 'key'),
      )
    ) {
      throw new Error('floor: the aggregated signature does not verify');
    }
  }
  return {
    scheme: wallet.scheme,
    threshold: opts.threshold,
    parties: opts.parties,
    keygen: summarize(keygenSamples),
    sign: summarize(signSamples),
    keygenSamples,
    signSamples,
  };
}

export interface EcdsaFloorOptions {
  threshold: number;
  parties: number;
  /** At least one: the last key generation's wallet signs. */
  keygenRuns: number;
  signRuns: number;
  /** Untimed signatures before measuring (JIT, caches). */
  warmup?: number;
}

/** The DKLs23 floor: `sign` is the whole ceremony, `presign` and `online` its two parts. */
export interface EcdsaFloorResult extends FloorResult {
  presign: Summary;
  online: Summary;
  presignSamples: number[];
  onlineSamples: number[];
  /** What one key generation's pair setup routes. */
  pairSetupBytes: MessageBytes;
  /** What one signature's three rounds route. */
  signBytes: MessageBytes;
}

/**
 * Measures the DKLs23 floor of key generation (DKG, every ordered pair's OT setup, the zero
 * seeds) and of signing for one t-of-n, in this process. Key generations are not warmed up: each
 * is n(n-1) OT setups of seconds together, every one after the first already warm.
 */
export async function measureEcdsaFloor(opts: EcdsaFloorOptions): Promise<EcdsaFloorResult> {
  if (opts.keygenRuns < 1) throw new Error('floor: the ECDSA floor needs at least one key generation');
  const parties = floorParties(opts.parties);
  const keygenSamples: number[] = [];
  let keygen: ReturnType<typeof ecdsaKeygenFloor> | undefined;
  for (let i = 0; i < opts.keygenRuns; i++) {
    await yieldToEventLoop();
    const start = now();
    keygen = ecdsaKeygenFloor(parties, opts.threshold);
    keygenSamples.push(now() - start);
  }
  const wallet = keygen!.wallet;
  const presignSamples: number[] = [];
  const onlineSamples: number[] = [];
  const signSamples: number[] = [];
  let last: EcdsaSignFloorResult | undefined;
  for (let i = 0; i < (opts.warmup ?? 2) + opts.signRuns; i++) {
    await yieldToEventLoop();
    const start = now();
    last = ecdsaSignFloor(parties, wallet, randomMessageHex());
    const ms = now() - start;
    if (i < (opts.warmup ?? 2)) continue;
    signSamples.push(ms);
    presignSamples.push(last.presignMs);
    onlineSamples.push(last.onlineMs);
    if (last.signature.publicKey !== wallet.publicKey) {
      throw new Error('floor: the ECDSA signature is under another key');
    }
  }
  return {
    scheme: wallet.scheme,
    threshold: opts.threshold,
    parties: opts.parties,
    keygen: summarize(keygenSamples),
    sign: summarize(signSamples),
    presign: summarize(presignSamples),
    online: summarize(onlineSamples),
    keygenSamples,
    signSamples,
    presignSamples,
    onlineSamples,
    pairSetupBytes: messageBytes(openedBodies(parties, wallet.roster, keygen!.envelopes), keygen!.envelopes),
    signBytes: last
      ? messageBytes(openedBodies(parties, wallet.roster, last.envelopes), last.envelopes)
      : messageBytes([], []),
  };
}
