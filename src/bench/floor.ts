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
 */
import { randomUUID } from 'node:crypto';
import { openSigned, pickSigners } from '../../activities/coordinator.js';
import { openFrom as openPartyEnvelope } from '../../activities/party/common.js';
import { keygenParams, type KeygenResultBody } from '../../activities/party/keygen.js';
import { signRequestHash, type SignShareBody } from '../../activities/party/sign.js';
import type { KeygenContext, KeygenRequest, SignContext, SignRequest } from '../../activities/types.js';
import { openJson, sealJson, type AtRestContext, type SealedBox } from '../crypto/at-rest.js';
import { fromHex, toHex, transcriptHash, utf8 } from '../crypto/encoding.js';
import { sealBroadcast, sealDirect, type Envelope, type EnvelopeHeader } from '../crypto/envelope.js';
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
    const ownPkg = (JSON.parse(Buffer.from(own.body, 'hex').toString('utf8')) as Round1Body).pkg;
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
  const req: SignRequest = { tenant: wallet.tenant, walletId: wallet.walletId, message, ...keyRequest };

  // coordinator: planSign (validation and signer choice; the wallet comes from its database)
  validateSignRequest(req);
  const members = wallet.roster.map((p) => p.partyId);
  const chosen = pickSigners(members, wallet.threshold);
  const ctx: SignContext = {
    tenant: wallet.tenant,
    ceremonyId: `sign:${wallet.tenant}:${randomUUID()}/${randomUUID()}`,
    walletId: wallet.walletId,
    keyId: wallet.keyId,
    version: wallet.version,
    message: message.toLowerCase(),
    signers: members.filter((m) => chosen.includes(m)),
    ...canonicalKeyRequest(scheme, req),
  };
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
    if (
      JSON.stringify(own) !==
      JSON.stringify((JSON.parse(Buffer.from(ownEnvelope.body, 'hex').toString()) as CommitBody).commitments)
    ) {
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
