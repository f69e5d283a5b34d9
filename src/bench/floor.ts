/**
 * The crypto floor: the computation of one ceremony with no Temporal, no database and no
 * network, every party's and the coordinator's steps run back to back in this one process.
 *
 * It calls the very round functions the activities run (src/ceremony/<ceremony>/party.ts and
 * coordinator.ts) and leaves out only what an activity does with its database: reads,
 * insert-or-get, tombstone checks, pinning. What an activity keeps in its database is kept here
 * in memory, sealed exactly as it would be stored (src/party/runtime.ts's at-rest contexts), and
 * opened again where the activity reads it back.
 */
import { randomUUID } from 'node:crypto';
import { rosterOf } from '../ceremony/contracts.js';
import type { KeygenContext, KeygenRequest } from '../ceremony/keygen/contracts.js';
import * as keygen from '../ceremony/keygen/party.js';
import { confirmResults } from '../ceremony/keygen/coordinator.js';
import type { PairSetupContext } from '../ceremony/pair-setup/contracts.js';
import {
  checkPairSetupDone,
  pairSetupAnswer,
  pairSetupFinish,
  pairSetupStart,
  type PairAnswerState,
  type PairStartState,
} from '../ceremony/pair-setup/party.js';
import {
  ecdsaOnline,
  ecdsaPresignAnswer,
  ecdsaPresignFinish,
  ecdsaPresignStart,
  ecdsaOnlineSigner,
  ecdsaSigner,
  ecdsaSpentOn,
  type EcdsaRoundState,
  type EcdsaSigner,
} from '../ceremony/ecdsa-sign/party.js';
import { combineEcdsa } from '../ceremony/ecdsa-sign/coordinator.js';
import type { PartyKeyring } from '../ceremony/rounds.js';
import {
  batchDigest,
  type SignContext,
  type SignItem,
  type SignRequest,
} from '../ceremony/sign/contracts.js';
import * as frostSign from '../ceremony/sign/party.js';
import { aggregate, planSign, type WalletKey } from '../ceremony/sign/coordinator.js';
import { openJson, sealJson, type SealedBox } from '../crypto/at-rest.js';
import type { DklsPresignature, DklsSignature } from '../crypto/ecdsa/dkls-sign.js';
import { fromHex, toHex } from '../crypto/encoding.js';
import { openEnvelope, type Envelope } from '../crypto/envelope.js';
import { type PublicPackage, type SigningNonces } from '../crypto/frost.js';
import { generatePartyKeys, type PartyKeys } from '../crypto/identity.js';
import { getScheme, resolveScheme } from '../crypto/schemes.js';
import { signingKeyFor, type SigningKeyRequest } from '../crypto/signing-key.js';
import type { DkgState } from '../crypto/frost.js';
import { nonceContext, pairSetupContext, roundStateContext, shareContext } from '../party/runtime.js';
import type { PairSetups } from '../store/party-store.js';
import type { PeerEntry } from '../ceremony/contracts.js';
import { validateKeygenRequest, validateSignRequest } from '../validation.js';
import { now, summarize, type Summary } from './stats.js';

/** What a party worker holds in memory: its id, KEK and decrypted long-lived keys. */
export interface FloorParty extends PartyKeyring {
  kek: Uint8Array;
  keys: PartyKeys;
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
      identitySecret: keys.identitySecret,
      transportSecret: keys.transportSecret,
    };
  });
}

/** A round's state, sealed and opened as runRoundOnce and loadRoundState do in the database. */
const sealState = <T>(p: FloorParty, ceremonyId: string, step: string, state: T): SealedBox =>
  sealJson(p.kek, state, roundStateContext(p, tenant, ceremonyId, step));
const openState = <T>(p: FloorParty, ceremonyId: string, step: string, box: SealedBox): T =>
  openJson<T>(p.kek, box, roundStateContext(p, tenant, ceremonyId, step));

/** The signing share, opened from its sealed form as the activities open it. */
export const signingShareOf = (p: FloorParty, wallet: FloorWallet): string =>
  openJson<{ signingShare: string }>(
    p.kek,
    wallet.shares.get(p.partyId)!.sealed,
    shareContext(p, wallet.tenant, wallet.keyId, wallet.version),
  ).signingShare;

// ---- key generation ----------------------------------------------------------------------------

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
  const roster = rosterOf(scheme, req.parties, parties);
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
  const members = roster.map((e) => party(e.partyId));

  // dkgRound1 on every party
  const state1 = new Map<string, SealedBox>();
  const round1 = members.map((p) => {
    const r = keygen.round1(p, ctx);
    state1.set(p.partyId, sealState(p, ceremonyId, 'dkg-1', r.state));
    return r.output;
  });

  // dkgRound2 on every party
  const state2 = new Map<string, SealedBox>();
  const round2 = members.flatMap((p) => {
    const s1 = openState<DkgState>(p, ceremonyId, 'dkg-1', state1.get(p.partyId)!);
    const r = keygen.round2(p, ctx, s1, round1);
    state2.set(p.partyId, sealState(p, ceremonyId, 'dkg-2', r.state));
    return r.output;
  });

  // dkgRound3 on every party: the derived share is stored sealed, as the pending share
  const shares = new Map<string, { identifier: string; sealed: SealedBox }>();
  const results = members.map((p, i) => {
    const s2 = openState<DkgState>(p, ceremonyId, 'dkg-2', state2.get(p.partyId)!);
    const own = round1.find((e) => e.from === p.partyId)!;
    const { key, output } = keygen.round3(p, ctx, s2, round1, round2, own);
    shares.set(p.partyId, {
      identifier: roster[i]!.identifier,
      sealed: sealJson(
        p.kek,
        { signingShare: key.signingShare },
        shareContext(p, tenant, ctx.keyId, ctx.version),
      ),
    });
    return output;
  });

  // coordinator: confirmKeygen; then dkgActivate on every party checks every other's result itself
  const confirmed = confirmResults(ctx, results);
  for (const p of members) keygen.checkResults(p, ctx, results, confirmed);
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
    public: confirmed.public,
    shares,
  };
}

// ---- signing -----------------------------------------------------------------------------------

/** The wallet version as the coordinator's registry holds it. */
const walletKeyOf = (wallet: FloorWallet): WalletKey => ({
  walletId: wallet.walletId,
  keyId: wallet.keyId,
  version: wallet.version,
  scheme: wallet.scheme,
  threshold: wallet.threshold,
  parties: wallet.roster,
  publicKey: wallet.publicKey,
  transcriptHash: wallet.transcriptHash,
  publicPackage: wallet.public,
});

/** The coordinator's planSign (the wallet comes from its database). */
function planSignFloor(
  wallet: FloorWallet,
  message: string,
  keyRequest: SigningKeyRequest = {},
  batch?: SignItem[],
): SignContext {
  const req: SignRequest = {
    tenant: wallet.tenant,
    walletId: wallet.walletId,
    message,
    ...keyRequest,
    ...(batch ? { batch } : {}),
  };
  validateSignRequest(req);
  return planSign(req, walletKeyOf(wallet), `sign:${wallet.tenant}:${randomUUID()}/${randomUUID()}`);
}

/** One whole two-round FROST signing ceremony, every step back to back; returns the signature. */
export function signFloor(
  parties: FloorParty[],
  wallet: FloorWallet,
  message: string,
  keyRequest: SigningKeyRequest = {},
): string {
  return frostCeremony(parties, wallet, planSignFloor(wallet, message, keyRequest))[0]!;
}

/** One FROST ceremony signing a batch (each item under its own key); returns the signatures in order. */
export function signBatchFloor(parties: FloorParty[], wallet: FloorWallet, items: SignItem[]): string[] {
  return frostCeremony(parties, wallet, planSignFloor(wallet, batchDigest(items), {}, items));
}

function frostCeremony(parties: FloorParty[], wallet: FloorWallet, ctx: SignContext): string[] {
  const byId = new Map(parties.map((p) => [p.partyId, p]));
  const signers = wallet.roster
    .filter((e) => ctx.signers.includes(e.partyId))
    .map((e) => ({ p: byId.get(e.partyId)!, key: { ...wallet, identifier: e.identifier } }));

  // signRound1 on every signer: nonces sealed as the nonces collection holds them
  const sealedNonces = new Map<string, SealedBox>();
  const commitments = signers.map(({ p, key }) => {
    const { nonces, output } = frostSign.round1(p, ctx, key, signingShareOf(p, wallet));
    sealedNonces.set(p.partyId, sealJson(p.kek, nonces, nonceContext(p, ctx)));
    return output;
  });

  // signRound2 on every signer: the commitments checked, the nonces opened and spent
  const shares = signers.map(({ p, key }, i) => {
    const list = frostSign.openCommitments(p, ctx, key, commitments, commitments[i]!);
    frostSign.nonceSpendBinding(ctx, list);
    const nonces = openJson<SigningNonces[]>(p.kek, sealedNonces.get(p.partyId)!, nonceContext(p, ctx));
    return frostSign.round2(p, ctx, key, signingShareOf(p, wallet), nonces, list);
  });

  // coordinator: aggregateSignature
  return aggregate(ctx, walletKeyOf(wallet), commitments, shares).map((s) => s.signature);
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
  const seal = <T>(p: FloorParty, step: string, state: T) => sealState(p, ctx.ceremonyId, step, state);
  const open = <T>(p: FloorParty, step: string, box: SealedBox) => openState<T>(p, ctx.ceremonyId, step, box);

  const state1 = new Map<string, SealedBox>();
  const round1 = roster.flatMap((p) => {
    const r = pairSetupStart(p, ctx);
    state1.set(p.partyId, seal(p, 'pair-1', r.state));
    return r.output;
  });
  const state2 = new Map<string, SealedBox>();
  const round2 = roster.flatMap((p) => {
    const s1 = open<PairStartState>(p, 'pair-1', state1.get(p.partyId)!);
    const r = pairSetupAnswer(
      p,
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
      p,
      ctx,
      s1,
      s2,
      round2.filter((e) => e.to === p.partyId),
    );
    sealed.set(p.partyId, sealJson(p.kek, r.setups, pairSetupContext(p, ctx.tenant, ctx.keyId, ctx.version)));
    return r.done;
  });
  for (const p of roster) checkPairSetupDone(p, ctx, done);
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
  /** The request as planned (its ceremony, signers, path). */
  ctx: SignContext;
  signature: DklsSignature;
  verifyingKey: string;
  /** Planning, rounds 1 and 2 and the finish on every signer: everything before the message is needed. */
  presignMs: number;
  /** The online step on every signer, and the coordinator's combination (verification included). */
  onlineMs: number;
  envelopes: Envelope[];
}

/**
 * One whole DKLs23 signing ceremony, every step back to back (the activities' and the
 * coordinator's pure steps): two presign rounds of point-to-point messages and the finish of the
 * presignature, then the online step's broadcasts, combined and verified. Each presign step reads
 * the share and the pair setups sealed, as the activities read them from the database. The
 * presignature is kept sealed between the finish and the online step, as a presignature pool
 * would keep it (round 3's activity runs both in one go and keeps nothing in between); the online
 * step reads only that presignature and the public key (for the path's tweak).
 */
export function ecdsaSignFloor(
  parties: FloorParty[],
  wallet: EcdsaFloorWallet,
  message: string,
  keyRequest: SigningKeyRequest = {},
): EcdsaSignFloorResult {
  const began = now();
  const byId = new Map(parties.map((p) => [p.partyId, p]));
  const ctx: SignContext = { ...planSignFloor(wallet, message, keyRequest), protocol: 'dkls23' };
  const signers = wallet.roster
    .filter((p) => ctx.signers.includes(p.partyId))
    .map((e) => byId.get(e.partyId)!);
  const messageHash = fromHex(ctx.message, 'message');

  /** The activities' loadSigner: the share and the pair setups, opened from their sealed form. */
  const signerOf = (p: FloorParty): EcdsaSigner => {
    const share = wallet.shares.get(p.partyId)!;
    const signingShare = signingShareOf(p, wallet);
    const setups = openJson<PairSetups>(
      p.kek,
      wallet.pairSetups.get(p.partyId)!,
      pairSetupContext(p, wallet.tenant, wallet.keyId, wallet.version),
    );
    return ecdsaSigner(p, ctx, { ...wallet, identifier: share.identifier }, signingShare, {
      setupId: wallet.setupId,
      setups,
    });
  };
  const seal = <T>(p: FloorParty, step: string, state: T) => sealState(p, ctx.ceremonyId, step, state);
  const open = <T>(p: FloorParty, step: string, box: SealedBox) => openState<T>(p, ctx.ceremonyId, step, box);

  const state1 = new Map<string, SealedBox>();
  const round1 = signers.flatMap((p) => {
    const r = ecdsaPresignStart(signerOf(p));
    state1.set(p.partyId, seal(p, 'ecdsa-1', r.state));
    return r.output.envelopes;
  });
  const state2 = new Map<string, SealedBox>();
  const round2 = signers.flatMap((p) => {
    const s1 = open<EcdsaRoundState>(p, 'ecdsa-1', state1.get(p.partyId)!);
    const r = ecdsaPresignAnswer(
      signerOf(p),
      s1,
      round1.filter((e) => e.to === p.partyId),
    );
    state2.set(p.partyId, seal(p, 'ecdsa-2', r.state));
    return r.output.envelopes;
  });
  const presigs = new Map<string, SealedBox>();
  for (const p of signers) {
    const s = signerOf(p);
    const mine = round2.filter((e) => e.to === p.partyId);
    ecdsaSpentOn(s.request, mine);
    const presig = ecdsaPresignFinish(s, open<EcdsaRoundState>(p, 'ecdsa-2', state2.get(p.partyId)!), mine);
    presigs.set(p.partyId, seal(p, 'ecdsa-presig', presig));
  }
  const presignDone = now();

  const round3 = signers.map((p) =>
    ecdsaOnline(
      ecdsaOnlineSigner(p, ctx, wallet),
      open<DklsPresignature>(p, 'ecdsa-presig', presigs.get(p.partyId)!),
      messageHash,
    ),
  );
  const { sig, key } = combineEcdsa(ctx, walletKeyOf(wallet), round3);
  const end = now();
  return {
    ctx,
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

/** The floor of one FROST ceremony signing `size` messages (a batch), and what one signature of it costs. */
export interface BatchFloorResult {
  scheme: string;
  threshold: number;
  parties: number;
  size: number;
  /** The whole ceremony, ms. */
  sign: Summary;
  /** sign p50 / size: the crypto of one signature of a batch, all parties together. */
  perSignatureMs: number;
}

/** Measures a batch ceremony's floor (items under two derivation paths), verifying every signature. */
export async function measureBatchFloor(opts: {
  scheme: string;
  threshold: number;
  parties: number;
  size: number;
  runs: number;
  warmup?: number;
}): Promise<BatchFloorResult> {
  const parties = floorParties(opts.parties);
  const wallet = keygenFloor(parties, opts.threshold, opts.scheme);
  const scheme = getScheme(wallet.scheme);
  const paths = ['m/0/1', 'm/0/2'];
  const keys = new Map(
    paths.map((path) => [path, signingKeyFor(scheme, wallet.publicKey, wallet.transcriptHash, { path })]),
  );
  const samples: number[] = [];
  for (let i = 0; i < (opts.warmup ?? 1) + opts.runs; i++) {
    const items = Array.from({ length: opts.size }, (_, k) => ({
      message: randomMessageHex(),
      path: paths[k % paths.length]!,
    }));
    await yieldToEventLoop();
    const start = now();
    const signatures = signBatchFloor(parties, wallet, items);
    if (i >= (opts.warmup ?? 1)) samples.push(now() - start);
    items.forEach((item, k) => {
      const ok = scheme.verify(
        fromHex(signatures[k]!, 'signature'),
        fromHex(item.message, 'message'),
        fromHex(keys.get(item.path)!.verifyingKey, 'key'),
      );
      if (!ok) throw new Error('floor: a batch signature does not verify');
    });
  }
  const sign = summarize(samples);
  return {
    scheme: wallet.scheme,
    threshold: opts.threshold,
    parties: opts.parties,
    size: opts.size,
    sign,
    perSignatureMs: sign.p50 / opts.size,
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
