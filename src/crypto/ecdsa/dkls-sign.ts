/**
 * DKLs23 threshold ECDSA signing on secp256k1 (Doerner, Kondi, Lee, shelat, "Threshold ECDSA in Three
 * Rounds", 2023, Protocol 3.6), as pure round functions over JSON messages and states, split into a
 * presignature made before the message is known and a cheap online step.
 *
 * Setting: a signer set S of t (or more) parties holding Shamir shares x_i of the key x (e.g. from the
 * FROST secp256k1 DKG in ../frost.ts: `{ identifier, signingShare, public }`), pairwise zero-share
 * seeds (./zero-share.ts) and, per ordered pair, a two-party multiplication setup (`Multiplier`). The
 * presignature is made with the UNTWEAKED key (pk = x·G); a derivation tweak is chosen at the online step.
 *
 * Round/message flow for party i (peers j ∈ S \ {i}):
 *  Round 1  (dklsSignRound1): sample instance key r_i and inversion mask φ_i, R_i = r_i·G; commit
 *           C_i = H(sid, i, R_i, salt). For every peer j, start the multiplication in which i is Bob
 *           (receiver) with random input χ_ij. Sends to each j (point-to-point): C_i, Bob's message.
 *  Round 2  (dklsSignRound2): sk_i = λ_i·x_i + ζ_i (Lagrange coefficient and zero share), pk_i = sk_i·G.
 *           For every peer j, answer j's multiplication as Alice with input (r_i, sk_i), obtaining
 *           (c_u, c_v) with c_u + d_u^j = r_i·χ_ji and c_v + d_v^j = sk_i·χ_ji. Sends to each j: the
 *           opening (R_i, salt), pk_i with its zero-share term points, the echo of all round-1
 *           commitments, Γ_u^{i→j} = c_u·G, Γ_v^{i→j} = c_v·G, ψ_ij = φ_i − χ_ij (χ_ij: i's own Bob input
 *           toward j, from round 1), and Alice's message.
 *  Finish   (dklsPresignFinish, no message needed): finish the multiplications as Bob (d_u, d_v) and
 *           run the paper's checks per peer j, naming j if one fails: C_j opens to R_j;
 *           χ_ij·R_j = d_u·G + Γ_u^j and χ_ij·pk_j = d_v·G + Γ_v^j (the Γ checks); pk_j matches its
 *           verifying share (pk_j = λ_j·Y_j + Σ zero-share term points, the own pair's term checked
 *           exactly); Σ pk_j = pk. Then R = Σ R_j and
 *             u_i = r_i·(φ_i + Σ ψ_ji) + Σ (c_u + d_u),  v_i = sk_i·(φ_i + Σ ψ_ji) + Σ (c_v + d_v),
 *           so that Σ u_i = φ·k and Σ v_i = φ·x with φ = Σ φ_i, k = Σ r_i (R = k·G). The result is the
 *           PRESIGNATURE (`DklsPresignature`): R, φ_i, u_i, v_i, the pairwise points below, the
 *           proof's precomputed nonce points, bound to the session (hence the untweaked key package
 *           and the signer set). No OT state survives it.
 *  Online   (dklsSignOnline, for the 32-byte message hash m, z = bits2int(m), and an additive tweak t
 *           chosen only now, e.g. a BIP32 CKDpub tweak: the key signed under is pk' = pk + t·G):
 *           Groth–Shoup re-randomisation ("On the Security of ECDSA with Additive Key Derivation and
 *           Presignatures", Eurocrypt 2022) with the public
 *             δ = H("dkls23/sign/rerandomize", sid, R, pk, t, m),   k' = k + δ,   R' = R + δ·G = k'·G,
 *           r' = R'.x mod n. Each party broadcasts
 *             u_i' = u_i + δ·φ_i,   v_i' = v_i + t·φ_i (not sent),   w_i = z·φ_i + r'·v_i',
 *           so Σ u_i' = φ·(k + δ) = φ·k' and Σ w_i = φ·z + r'·φ·(x + t) = φ·(z + r'·x'), x' = x + t.
 *           Re-randomisation always applies (t = 0 without a path): there is one online algebra.
 *  Combine  (dklsSignCombine): s = Σ w / Σ u' = (z + r'·x')/k', low-S normalised, verified under pk'.
 *
 * Attributable online round (a Conclave addition; the paper aborts without blame here). With the
 * pairwise points, which both members of a pair compute at the finish from their own view (a_ij = −a_ji):
 *   a_ij = ψ_ji·R_i − ψ_ij·R_j + Γ_u^{i→j} − Γ_u^{j→i},   b_ij = ψ_ji·pk_i − ψ_ij·pk_j + Γ_v^{i→j} − Γ_v^{j→i},
 * an honest i has u_i·G = φ_i·R + Σ_j a_ij and v_i·G = φ_i·pk + Σ_j b_ij (using d_u·G = χ_ij·R_j − Γ_u^{j→i}
 * and φ_i − χ_ij = ψ_ij). The online values keep the same pairwise points:
 *   u_i'·G = φ_i·R + Σ a_ij + δ·φ_i·G = φ_i·R' + Σ_j a_ij,
 *   w_i·G  = z·φ_i·G + r'·(φ_i·pk + Σ b_ij + t·φ_i·G) = φ_i·K' + r'·Σ_j b_ij,   K' = z·G + r'·pk'.
 * Dividing the second equation by r' (≠ 0) gives the same statement over bases known in advance up to
 * public online scalars: W_i'' = r'^{-1}·w_i·G − Σ b_ij = φ_i·K'' with K'' = r'^{-1}·K' = r'^{-1}·z·G + pk'.
 * Each party broadcasts its a_ij, b_ij and a Chaum–Pedersen proof that
 *   log_{R'}(U_i) = log_{K''}(W_i'') (= φ_i),   U_i = u_i'·G − Σ a_ij,
 * whose Fiat–Shamir challenge hashes (sid, i, m, pk', R', u_i', w_i, Σ a_ij, Σ b_ij, T1, T2), from which
 * the statement (R', K'', U_i, W_i'') is determined. The commitments need no variable-base
 * multiplication online: with the proof nonce ρ_i (derived from the presignature's secrets) and the
 * points ρ_i·R and ρ_i·pk precomputed at the finish,
 *   T1 = ρ_i·R' = ρ_i·R + (ρ_i·δ)·G,   T2 = ρ_i·K'' = (ρ_i·(r'^{-1}·z + t))·G + ρ_i·pk;
 * the response is y_i = ρ_i + c·φ_i. The nonce ρ_i is spent with the presignature: a second online
 * output from the same presignature would reveal φ_i through the proof, as it already would through u'.
 * If every proof verifies and the pairwise points cancel, the signature is valid; so when it is not,
 * combine names the party whose proof fails, or a peer whose pairwise points contradict the combining
 * party's own. Only pairwise aggregate points become public (no ψ or Γ scalar); this extension
 * deserves a formal review.
 *
 * Zero-share term points: pk_j is rerandomised by ζ_j as in the paper; to make a wrong pk_j attributable,
 * j also sends E_jk = ±PRF(seed_jk)·G for each k (pk_j = λ_j·Y_j + Σ_k E_jk; j's receiver checks E_ji
 * exactly, third pairs must cancel). Conclave's public package already publishes every verifying share
 * Y_j, so these points reveal nothing the package does not.
 *
 * Single use (CRITICAL). The round-2 state and the presignature are secret one-time values:
 *  - The finish consumes the round-2 state: finish it once, persist the presignature and drop the
 *    round-2 state; finishing it twice with different peer messages gives two presignatures that must
 *    never both be used (the finish is deterministic: identical messages give an identical presignature).
 *  - Two online outputs from one presignature (another message or another tweak) reveal the key share.
 *    dklsSignOnline returns the presignature marked USED (`step: 'used'`, its secrets dropped) and
 *    refuses a used one unless message and tweak are byte-identical (then it returns the same
 *    broadcast), with NONCE_REUSE. The module is stateless, so the CALLER MUST persist the used
 *    presignature (or another single-use record) atomically BEFORE releasing the broadcast, and must
 *    never run the online step from an older copy. Likewise persist the round-2 state before sending
 *    round-2 messages (a multiplication answered twice to different requests may leak its input).
 *
 * Randomness: rounds 1 and 2 take explicit `seed` bytes (≥ 32, fresh from a CSPRNG), expanded with
 * domain separation and hedged with secret state, so a retried round with the same seed and inputs
 * returns the same output; the finish and the online step are deterministic. Never reuse a seed for
 * another session, and never re-run round 1 after a state was lost once an online output may have
 * been released.
 *
 * States and presignatures are SECRET (instance key, masks, multiplication outputs): store them only
 * through at-rest encryption. Messages are public JSON but rounds 1–2 are point-to-point; the online
 * message is a broadcast.
 */
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { ConclaveError, CulpritError } from '../../errors.js';
import { fromHex, toHex, type Field } from '../encoding.js';
import type { PublicPackage } from '../frost.js';
import { assertIdentifier, isIdentifier, stableStringify, zeroShareTerms } from './zero-share.js';
import {
  hashFields,
  hashFieldsToNonzeroScalar,
  hashFieldsToScalar,
  isRecord,
  parseHex,
  parsePoint,
  parseScalar,
  pointBytes,
  pointHex,
  scalarBytes,
  scalarHex,
  type Fail,
} from './transcript.js';

const Point = secp256k1.Point;
const Fn = Point.Fn;
const G = Point.BASE;
type Pt = typeof Point.BASE;

const bad = (msg: string) => new ConclaveError('BAD_INPUT', msg);

// ---------- the two-party multiplication this protocol runs per ordered pair ----------

/**
 * Two-party multiplication (random VOLE): Bob samples b and moves first; Alice inputs a vector a; the
 * outputs satisfy alice[k] + bob[k] = a[k]·b mod n. Setups, states and messages are JSON values.
 * Implemented by ./multiply.ts (OT based; `import * as mul from './multiply.js'` fits this type);
 * tests may plug in an ideal one. `peer` (the other party's identifier) lets the multiplier name it.
 *
 * Errors from the multiplier: a CulpritError naming the peer (e.g. multiply.ts's OtSetupAborted, which
 * carries the setup id the caller must retire, the setup having been marked aborted in place) is
 * rethrown unchanged; a ConclaveError without culprit (bad or aborted local setup) too; anything else
 * thrown while processing a peer's message becomes CulpritError('BAD_PROOF', peer) with `cause`.
 */
export interface Multiplier {
  mulBobStart(
    setup: unknown,
    sessionId: Uint8Array,
    seed: Uint8Array,
    length: number,
  ): { state: unknown; msg: unknown; b: bigint };
  mulAliceRespond(
    setup: unknown,
    sessionId: Uint8Array,
    seed: Uint8Array,
    a: bigint[],
    msg: unknown,
    peer?: string,
  ): { shares: bigint[]; msg: unknown };
  mulBobFinish(state: unknown, msg: unknown, peer?: string): { shares: bigint[] };
}

// ---------- public types ----------

/** A Shamir key share as the FROST secp256k1 DKG returns it (hex). SECRET: signingShare. */
export interface DklsKeyShare {
  identifier: string;
  signingShare: string;
  public: PublicPackage;
}

/** What this party holds for one other party of the key (made once, at key generation). SECRET. */
export interface DklsPeerSetup {
  /** Pairwise zero-share seed (hex) from zero-share.ts. */
  zeroSeed: string;
  /** Multiplication setup in which this party is Alice (sender) toward the peer. */
  mulSender: unknown;
  /** Multiplication setup in which this party is Bob (receiver) toward the peer. */
  mulReceiver: unknown;
}

export interface DklsSignInput {
  key: DklsKeyShare;
  /** Identifiers of the signer set S (including this party), threshold ≤ |S| ≤ total; any order. */
  signers: string[];
  /** Hex, ≥ 16 bytes, unique per signature and the same for every signer (e.g. chosen by the coordinator). */
  sessionId: string;
  /** Setup per other signer, keyed by identifier. */
  peers: Record<string, DklsPeerSetup>;
}

/** Round 1, point-to-point (from → to). */
export interface DklsRound1Msg {
  v: 1;
  kind: 'dkls23-sign/1';
  session: string;
  from: string;
  to: string;
  /** C_from = H(session, from, R_from, salt). */
  commitment: string;
  /** Multiplication message 1 (from is Bob, to is Alice). */
  mul: unknown;
}

/** Round 2, point-to-point (from → to). */
export interface DklsRound2Msg {
  v: 1;
  kind: 'dkls23-sign/2';
  session: string;
  from: string;
  to: string;
  /** Opening of the round-1 commitment: R_from and the salt. */
  instancePoint: string;
  salt: string;
  /** pk_from = sk_from·G. */
  publicShare: string;
  /** Zero-share term points of `from`, one per other signer k: ±PRF(seed_{from,k})·G. */
  zeroTerms: Record<string, string>;
  /** Every signer's round-1 commitment as `from` received it (equivocation check). */
  commitments: Record<string, string>;
  gammaU: string;
  gammaV: string;
  psi: string;
  /** Multiplication message 2 (from is Alice, to is Bob). */
  mul: unknown;
}

/** The online broadcast, to every signer and to whoever combines. */
export interface DklsOnlineMsg {
  v: 1;
  kind: 'dkls23-sign/online';
  session: string;
  from: string;
  messageHash: string;
  /** The key signed under, pk' = pk + t·G (compressed SEC1, hex). */
  publicKey: string;
  /** The signature's instance point R' = R + δ·G as `from` computed it. */
  R: string;
  /** u_from' and w_from. */
  u: string;
  w: string;
  /** Pairwise points a_{from,j}, b_{from,j} for every other signer j. */
  pairs: Record<string, { a: string; b: string }>;
  /** Chaum–Pedersen proof (challenge c, response z) for (u, w). */
  proof: { c: string; z: string };
}

/** State between rounds 1, 2 and the finish. SECRET: store only through at-rest encryption. */
export interface DklsSignState {
  v: 1;
  kind: 'dkls23-sign/state';
  step: 1 | 2;
  session: string;
  identifier: string;
  signers: string[];
  groupKey: string;
  r: string;
  phi: string;
  salt: string;
  instancePoint: string;
  commitment: string;
  bob: Record<string, { chi: string; state: unknown }>;
  round2?: {
    /** Digest of the round-2 inputs (peers' round-1 messages and the seed): a retry must match it. */
    input: string;
    commitments: Record<string, string>;
    sk: string;
    publicShare: string;
    zeroTerms: Record<string, string>;
    alice: Record<string, { cu: string; cv: string }>;
    sent: Record<string, { psi: string; gammaU: string; gammaV: string }>;
  };
}

/** What every presignature carries, used or not: public values and what binds them. */
interface PresignatureCommon {
  v: 1;
  kind: 'dkls23-sign/presignature';
  /** The session (hex): the caller's session id bound to the untweaked key package and the signer set. */
  session: string;
  identifier: string;
  /** The signer set, sorted. */
  signers: string[];
  /** The untweaked group key pk it was made under (compressed SEC1, hex). */
  groupKey: string;
  /** Digest of the peers' round-2 messages it was finished with. */
  input: string;
  /** R = Σ R_j (uncompressed SEC1, hex). */
  R: string;
  /** Pairwise points a_ij, b_ij toward every other signer j (compressed, or '00' for the identity). */
  pairs: Record<string, { a: string; b: string }>;
}

/**
 * A presignature, ready for one online step: small and self-contained (no OT state). SECRET: φ_i,
 * u_i, v_i and the proof nonce. Store it only through at-rest encryption, and use it once.
 */
export interface DklsPresignature extends PresignatureCommon {
  step: 'presigned';
  phi: string;
  /** u_i and v_i. */
  ui: string;
  vi: string;
  /** Σ_j a_ij and Σ_j b_ij (compressed, or '00'). */
  A: string;
  B: string;
  /** The proof nonce ρ_i, and ρ_i·R, ρ_i·pk (uncompressed SEC1, hex). */
  rho: string;
  rhoR: string;
  rhoPk: string;
}

/** A presignature the online step has spent: its secrets are gone; it answers a byte-identical retry. */
export interface DklsUsedPresignature extends PresignatureCommon {
  step: 'used';
  used: {
    /** Digest of the message hash and tweak it was spent on. */
    on: string;
    /** The additive tweak t (hex scalar). */
    tweak: string;
    broadcast: DklsOnlineMsg;
  };
}

/**
 * What combining needs, all public: a signer builds it from its used presignature
 * (`dklsCombineInput`), a combiner holding no share from the key package (`dklsSessionOf`).
 */
export interface DklsCombineInput {
  session: string;
  signers: string[];
  /** The untweaked group key pk (compressed SEC1, hex). */
  groupKey: string;
  /** The additive tweak t (hex scalar); the signature verifies under pk + t·G. Zero when absent. */
  tweak?: string;
  /** The 32-byte message hash (hex). */
  messageHash: string;
  /**
   * The combining signer's own broadcast, if a signer combines: it must come back unaltered, and its
   * pairwise points are trusted to name a peer that contradicts them.
   */
  own?: DklsOnlineMsg;
}

export interface DklsSignature {
  /** 32-byte big-endian hex. */
  r: string;
  /** 32-byte big-endian hex, always ≤ n/2 (low-S). */
  s: string;
  /** Recovery id: parity of R'.y after low-S normalisation (bit 1 set only if R'.x ≥ n, probability ~2^-128). */
  recovery: number;
  /** r || s (64 bytes, hex). */
  compact: string;
  /** ASN.1 DER (hex). */
  der: string;
  messageHash: string;
  /** The key the signature verifies under, pk' = pk + t·G (compressed SEC1, hex). */
  publicKey: string;
}

// ---------- encoding ----------

// Scalars and points use transcript.ts's codecs. Aggregate and pairwise points (zero-share terms, Γ,
// a_ij, b_ij and the proof's points) may be the identity, written '00': those pass `allowIdentity`.

const HEX32 = /^[0-9a-f]{64}$/;

/**
 * The `fail` given to transcript.ts's decoders: a plain Error, because every decode here sits in a
 * try whose catch turns any failure into the error its context calls for (a CulpritError naming the
 * sender of a malformed message, or BAD_INPUT for a bad state or key package).
 */
const plain: Fail = (msg) => new Error(msg);

/** k·P for a secret k; k = 0 gives the identity. */
function mulSecret(p: Pt, k: bigint): Pt {
  return k === 0n ? Point.ZERO : p.multiply(k);
}

function mulPublic(p: Pt, k: bigint): Pt {
  return p.multiplyUnsafe(k);
}

/** The message hash as an ECDSA integer (bits2int for a 256-bit hash, reduced mod n). */
function hashToInt(h: Uint8Array): bigint {
  return Fn.create(BigInt(`0x${toHex(h)}`));
}

// ---------- context ----------

/** What identifies a session: enough to route and check messages and to hash transcripts. */
interface Sess {
  self: string;
  signers: string[];
  peers: string[];
  sid: Uint8Array;
  sidHex: string;
}

interface Ctx extends Sess {
  groupKey: Pt;
  groupKeyHex: string;
  Y: Map<string, Pt>;
  lambda: Map<string, bigint>;
  share: bigint;
  setups: Record<string, DklsPeerSetup>;
}

function lagrangeAtZero(ids: bigint[], i: bigint): bigint {
  let num = 1n;
  let den = 1n;
  for (const j of ids) {
    if (j === i) continue;
    num = Fn.mul(num, j);
    den = Fn.mul(den, Fn.sub(j, i));
  }
  return Fn.mul(num, Fn.inv(den));
}

/** The session every message carries: the caller's session id bound to key package and signer set. */
function sessionHash(
  sessionId: Uint8Array,
  groupKey: Pt,
  pub: PublicPackage,
  sorted: string[],
  Y: Map<string, Pt>,
): Uint8Array {
  const sidFields: Field[] = [sessionId, groupKey.toBytes(true), pub.threshold, pub.total, sorted.length];
  for (const s of sorted) sidFields.push(s, (Y.get(s) as Pt).toBytes(true));
  return hashFields('dkls23/sign/session', ...sidFields);
}

/**
 * The session (hex) the signers' messages carry for this public package, signer set and caller's
 * session id: what a combiner holding no share checks their broadcasts against.
 */
export function dklsSessionOf(pub: PublicPackage, signers: string[], sessionId: string): string {
  const sorted = [...new Set(signers.map((s) => assertIdentifier(s, 'signer identifier')))].sort();
  const Y = new Map<string, Pt>();
  for (const s of sorted) {
    try {
      Y.set(s, parsePoint(pub.verifyingShares[s], 'verifying share', plain));
    } catch {
      throw bad('public key package lacks a valid verifying share for a signer');
    }
  }
  let groupKey: Pt;
  try {
    groupKey = parsePoint(pub.commitments[0], 'group key', plain);
  } catch {
    throw bad('invalid group public key');
  }
  return toHex(sessionHash(fromHex(sessionId, 'session id'), groupKey, pub, sorted, Y));
}

function context(input: DklsSignInput): Ctx {
  if (!isRecord(input) || !isRecord(input.key)) throw bad('signing input is malformed');
  const { key } = input;
  const self = assertIdentifier(key.identifier);
  let share: bigint;
  try {
    share = parseScalar(key.signingShare, 'signing share', plain);
  } catch {
    throw bad('signing share is not a canonical scalar');
  }
  if (share === 0n) throw bad('signing share is zero');
  const pub = key.public;
  if (
    !isRecord(pub) ||
    !Number.isSafeInteger(pub.threshold) ||
    !Number.isSafeInteger(pub.total) ||
    pub.threshold < 2 ||
    pub.threshold > pub.total ||
    !Array.isArray(pub.commitments) ||
    !isRecord(pub.verifyingShares)
  ) {
    throw bad('invalid public key package');
  }
  let groupKey: Pt;
  try {
    groupKey = parsePoint(pub.commitments[0], 'group key', plain);
  } catch {
    throw bad('invalid group public key');
  }
  const { signers } = input;
  if (!Array.isArray(signers) || signers.length < pub.threshold || signers.length > pub.total) {
    throw bad(`signer set must have between ${pub.threshold} and ${pub.total} members`);
  }
  const set = new Set<string>();
  for (const s of signers) {
    assertIdentifier(s, 'signer identifier');
    if (set.has(s)) throw bad('duplicate signer identifier');
    set.add(s);
  }
  if (!set.has(self)) throw bad('signer set does not include this party');
  const sorted = [...set].sort();
  const Y = new Map<string, Pt>();
  for (const s of sorted) {
    try {
      Y.set(s, parsePoint(pub.verifyingShares[s], 'verifying share', plain));
    } catch {
      throw bad('public key package lacks a valid verifying share for a signer');
    }
  }
  if (typeof input.sessionId !== 'string' || input.sessionId.length < 32) {
    throw bad('session id must be at least 16 bytes of hex');
  }
  const sessionId = fromHex(input.sessionId, 'session id');
  const peers = sorted.filter((s) => s !== self);
  if (!isRecord(input.peers)) throw bad('peer setups must be an object');
  for (const p of peers) {
    const st = input.peers[p];
    if (!isRecord(st) || typeof st.zeroSeed !== 'string' || !HEX32.test(st.zeroSeed)) {
      throw bad('missing or malformed setup for a signer');
    }
  }
  const sid = sessionHash(sessionId, groupKey, pub, sorted, Y);
  const ids = sorted.map((s) => BigInt(`0x${s}`));
  const lambda = new Map<string, bigint>();
  sorted.forEach((s, k) => lambda.set(s, lagrangeAtZero(ids, ids[k] as bigint)));
  return {
    self,
    signers: sorted,
    peers,
    sid,
    sidHex: toHex(sid),
    groupKey,
    groupKeyHex: toHex(groupKey.toBytes(true)),
    Y,
    lambda,
    share,
    setups: input.peers,
  };
}

function assertShareMatches(ctx: Ctx): void {
  if (!G.multiply(ctx.share).equals(ctx.Y.get(ctx.self) as Pt)) {
    throw bad('signing share does not match its verifying share');
  }
}

function assertSeed(seed: unknown): Uint8Array {
  if (!(seed instanceof Uint8Array) || seed.length < 32) throw bad('seed must be at least 32 random bytes');
  return seed;
}

function loadState(ctx: Ctx, state: unknown): DklsSignState {
  if (!isRecord(state) || state.v !== 1 || state.kind !== 'dkls23-sign/state')
    throw bad('invalid signing state');
  const s = state as unknown as DklsSignState;
  if (s.session !== ctx.sidHex) throw bad('signing state belongs to another session or key');
  if (s.identifier !== ctx.self) throw bad('signing state belongs to another party');
  if (!Array.isArray(s.signers) || s.signers.join(',') !== ctx.signers.join(',')) {
    throw bad('signing state was made for another signer set');
  }
  return s;
}

function mulSessionId(ctx: Ctx, alice: string, bob: string): Uint8Array {
  return hashFields('dkls23/sign/mul-session', ctx.sid, alice, bob);
}

function commitR(sid: Uint8Array, from: string, R: Pt, salt: Uint8Array): string {
  return toHex(hashFields('dkls23/sign/commit-R', sid, from, R.toBytes(true), salt));
}

/** One message from each peer, addressed to us, of `kind`, from this session; culprit otherwise. */
function collect<T>(ctx: Sess, received: unknown, kind: string, includeSelf = false): Map<string, T> {
  const expected = includeSelf ? ctx.signers : ctx.peers;
  if (!Array.isArray(received) || received.length !== expected.length) {
    throw bad(
      `expected ${expected.length} messages, one from each ${includeSelf ? 'signer' : 'other signer'}`,
    );
  }
  const out = new Map<string, T>();
  for (const m of received as unknown[]) {
    const from = isRecord(m) ? m.from : undefined;
    if (typeof from !== 'string' || !expected.includes(from))
      throw bad('message from a party outside the signer set');
    if (out.has(from)) throw bad('duplicate message from one signer');
    const msg = m as Record<string, unknown>;
    if (msg.v !== 1 || msg.kind !== kind) throw new CulpritError('TAMPERED', from, `not a ${kind} message`);
    if (msg.session !== ctx.sidHex)
      throw new CulpritError(
        'REPLAY',
        from,
        'message from another signing session (or made with another key package or signer set)',
      );
    if (!includeSelf && msg.to !== ctx.self) {
      throw new CulpritError('TAMPERED', from, 'message addressed to another party');
    }
    out.set(from, m as T);
  }
  return out;
}

function inOrder<T>(ctx: Sess, msgs: Map<string, T>, includeSelf = false): T[] {
  return (includeSelf ? ctx.signers : ctx.peers).map((p) => msgs.get(p) as T);
}

function sharesOf(res: unknown, what: string): [bigint, bigint] {
  const shares = isRecord(res) ? res.shares : undefined;
  if (
    !Array.isArray(shares) ||
    shares.length !== 2 ||
    !shares.every((x) => typeof x === 'bigint' && x >= 0n && x < Fn.ORDER)
  ) {
    throw new Error(`${what} returned malformed shares`);
  }
  return [shares[0] as bigint, shares[1] as bigint];
}

function why(e: unknown): string {
  return e instanceof Error ? e.message : 'rejected';
}

/** Maps an error the multiplier threw while handling `peer`'s message (see Multiplier). */
function multiplierError(e: unknown, peer: string): Error {
  if (e instanceof CulpritError && e.culprit === peer) return e;
  if (e instanceof ConclaveError && !(e instanceof CulpritError)) return e;
  const err = new CulpritError(
    e instanceof CulpritError ? e.code : 'BAD_PROOF',
    peer,
    `multiplication message rejected: ${why(e)}`,
  );
  err.cause = e;
  return err;
}

// ---------- round 1 ----------

/** Round 1: instance key commitment and, toward every peer, the start of the multiplication as Bob. */
export function dklsSignRound1(
  mul: Multiplier,
  input: DklsSignInput,
  seed: Uint8Array,
): { state: DklsSignState; messages: Record<string, DklsRound1Msg> } {
  const ctx = context(input);
  assertSeed(seed);
  assertShareMatches(ctx);
  const k1 = hashFields('dkls23/sign/round1-key', seed, ctx.sid, ctx.self, scalarBytes(ctx.share));
  const r = hashFieldsToNonzeroScalar('dkls23/sign/instance-key', k1);
  const phi = hashFieldsToNonzeroScalar('dkls23/sign/inversion-mask', k1);
  const salt = hashFields('dkls23/sign/salt', k1);
  const R = G.multiply(r);
  const commitment = commitR(ctx.sid, ctx.self, R, salt);
  const bob: DklsSignState['bob'] = {};
  const messages: Record<string, DklsRound1Msg> = {};
  for (const p of ctx.peers) {
    const setup = (ctx.setups[p] as DklsPeerSetup).mulReceiver;
    let res: { state: unknown; msg: unknown; b: bigint };
    try {
      res = mul.mulBobStart(
        setup,
        mulSessionId(ctx, p, ctx.self),
        hashFields('dkls23/sign/mul-bob-seed', k1, p),
        2,
      );
    } catch (e) {
      if (e instanceof ConclaveError) throw e;
      throw bad(`multiplication (receiver) setup toward a signer was rejected: ${why(e)}`);
    }
    if (typeof res.b !== 'bigint' || res.b <= 0n || res.b >= Fn.ORDER)
      throw bad('multiplier returned a bad input b');
    bob[p] = { chi: scalarHex(res.b), state: res.state };
    messages[p] = {
      v: 1,
      kind: 'dkls23-sign/1',
      session: ctx.sidHex,
      from: ctx.self,
      to: p,
      commitment,
      mul: res.msg,
    };
  }
  const state: DklsSignState = {
    v: 1,
    kind: 'dkls23-sign/state',
    step: 1,
    session: ctx.sidHex,
    identifier: ctx.self,
    signers: ctx.signers,
    groupKey: ctx.groupKeyHex,
    r: scalarHex(r),
    phi: scalarHex(phi),
    salt: toHex(salt),
    instancePoint: toHex(R.toBytes(true)),
    commitment,
    bob,
  };
  return { state, messages };
}

// ---------- round 2 ----------

/**
 * Round 2: answers every peer's multiplication as Alice with (r_i, sk_i) and opens R_i. Persist the
 * returned state before sending. A retry with the same seed and messages returns the same output; a
 * retry with different ones is refused (DISAGREEMENT).
 */
export function dklsSignRound2(
  mul: Multiplier,
  input: DklsSignInput,
  state: DklsSignState,
  received: DklsRound1Msg[],
  seed: Uint8Array,
): { state: DklsSignState; messages: Record<string, DklsRound2Msg> } {
  const ctx = context(input);
  assertSeed(seed);
  const s = loadState(ctx, state);
  const msgs = collect<DklsRound1Msg>(ctx, received, 'dkls23-sign/1');
  const inputDigest = toHex(
    hashFields('dkls23/sign/round2-input', seed, stableStringify(inOrder(ctx, msgs))),
  );
  // A retry (state already past round 2) must answer the very same messages with the same seed; the
  // output is then recomputed byte for byte (everything is deterministic) and the state kept as is.
  const retry = s.step !== 1;
  if (retry && s.round2?.input !== inputDigest) {
    throw new ConclaveError('DISAGREEMENT', 'round-1 messages (or seed) differ from those already answered');
  }
  for (const [from, m] of msgs) {
    if (typeof m.commitment !== 'string' || !HEX32.test(m.commitment)) {
      throw new CulpritError('BAD_PROOF', from, 'malformed instance-point commitment');
    }
  }
  assertShareMatches(ctx);
  let r: bigint, phi: bigint;
  const chis = new Map<string, bigint>();
  try {
    r = parseScalar(s.r, 'r', plain);
    phi = parseScalar(s.phi, 'phi', plain);
    for (const p of ctx.peers) chis.set(p, parseScalar(s.bob[p]?.chi, 'chi', plain));
  } catch {
    throw bad('invalid signing state');
  }
  const commitments: Record<string, string> = { [ctx.self]: s.commitment };
  for (const p of ctx.peers) commitments[p] = (msgs.get(p) as DklsRound1Msg).commitment;

  const seeds: Record<string, string> = {};
  for (const p of ctx.peers) seeds[p] = (ctx.setups[p] as DklsPeerSetup).zeroSeed;
  const terms = zeroShareTerms(ctx.self, seeds, ctx.signers, ctx.sid);
  let sk = Fn.mul(ctx.lambda.get(ctx.self) as bigint, ctx.share);
  for (const p of ctx.peers) sk = Fn.add(sk, terms[p] as bigint);
  if (sk === 0n)
    throw new ConclaveError('ABORTED', 'degenerate additive key share; retry with a new session');
  const publicShare = toHex(G.multiply(sk).toBytes(true));
  const zeroTerms: Record<string, string> = {};
  for (const p of ctx.peers) zeroTerms[p] = pointHex(mulSecret(G, terms[p] as bigint), true);

  const k2 = hashFields('dkls23/sign/round2-key', seed, ctx.sid, ctx.self, scalarBytes(r));
  const alice: NonNullable<DklsSignState['round2']>['alice'] = {};
  const sent: NonNullable<DklsSignState['round2']>['sent'] = {};
  const messages: Record<string, DklsRound2Msg> = {};
  for (const p of ctx.peers) {
    const m = msgs.get(p) as DklsRound1Msg;
    let cu: bigint, cv: bigint, out: unknown;
    try {
      const res = mul.mulAliceRespond(
        (ctx.setups[p] as DklsPeerSetup).mulSender,
        mulSessionId(ctx, ctx.self, p),
        hashFields('dkls23/sign/mul-alice-seed', k2, p),
        [r, sk],
        m.mul,
        p,
      );
      [cu, cv] = sharesOf(res, 'multiplier');
      out = res.msg;
    } catch (e) {
      throw multiplierError(e, p);
    }
    const chi = chis.get(p) as bigint;
    const gammaU = pointHex(mulSecret(G, cu), true);
    const gammaV = pointHex(mulSecret(G, cv), true);
    const psi = scalarHex(Fn.sub(phi, chi));
    alice[p] = { cu: scalarHex(cu), cv: scalarHex(cv) };
    sent[p] = { psi, gammaU, gammaV };
    messages[p] = {
      v: 1,
      kind: 'dkls23-sign/2',
      session: ctx.sidHex,
      from: ctx.self,
      to: p,
      instancePoint: s.instancePoint,
      salt: s.salt,
      publicShare,
      zeroTerms,
      commitments,
      gammaU,
      gammaV,
      psi,
      mul: out,
    };
  }
  if (retry) return { state: s, messages };
  return {
    state: {
      ...s,
      step: 2,
      round2: {
        input: inputDigest,
        commitments,
        sk: scalarHex(sk),
        publicShare,
        zeroTerms,
        alice,
        sent,
      },
    },
    messages,
  };
}

// ---------- finish: the presignature ----------

interface PeerView {
  R: Pt;
  pk: Pt;
  zero: Map<string, Pt>;
  gammaU: Pt;
  gammaV: Pt;
  psi: bigint;
}

/** This party's own per-peer values, decoded from its state. */
interface OwnPeer {
  zero: Pt;
  chi: bigint;
  bobState: unknown;
  cu: bigint;
  cv: bigint;
  psi: bigint;
  gammaU: Pt;
  gammaV: Pt;
}

function parseRound2(ctx: Ctx, from: string, m: DklsRound2Msg): PeerView {
  try {
    if (typeof m.salt !== 'string' || !HEX32.test(m.salt)) throw new Error('salt');
    if (!isRecord(m.zeroTerms) || !isRecord(m.commitments)) throw new Error('shape');
    const zero = new Map<string, Pt>();
    for (const k of ctx.signers) {
      if (k !== from) zero.set(k, parsePoint(m.zeroTerms[k], 'zero-share term', plain, true));
    }
    return {
      R: parsePoint(m.instancePoint, 'instance point', plain),
      pk: parsePoint(m.publicShare, 'public share', plain),
      zero,
      gammaU: parsePoint(m.gammaU, 'gammaU', plain, true),
      gammaV: parsePoint(m.gammaV, 'gammaV', plain, true),
      psi: parseScalar(m.psi, 'psi', plain),
    };
  } catch {
    throw new CulpritError('TAMPERED', from, 'malformed round-2 message');
  }
}

/**
 * The finish: checks every peer's round-2 message (naming the first one that fails), finishes the
 * multiplications and returns the presignature. Needs no message, tweak or request. Deterministic;
 * the round-2 state is consumed (see "Single use"): persist the presignature, drop the state.
 */
export function dklsPresignFinish(
  mul: Multiplier,
  input: DklsSignInput,
  state: DklsSignState,
  received: DklsRound2Msg[],
): DklsPresignature {
  const ctx = context(input);
  const s = loadState(ctx, state);
  if (s.step !== 2 || !s.round2) throw bad('signing state is not ready for the finish');
  const r2 = s.round2;
  const msgs = collect<DklsRound2Msg>(ctx, received, 'dkls23-sign/2');
  const inputDigest = toHex(hashFields('dkls23/sign/finish-input', stableStringify(inOrder(ctx, msgs))));

  let r: bigint, phi: bigint, sk: bigint, Ri: Pt, pki: Pt;
  const own = new Map<string, OwnPeer>();
  try {
    r = parseScalar(s.r, 'r', plain);
    phi = parseScalar(s.phi, 'phi', plain);
    sk = parseScalar(r2.sk, 'sk', plain);
    Ri = parsePoint(s.instancePoint, 'instance point', plain);
    pki = parsePoint(r2.publicShare, 'public share', plain);
    for (const p of ctx.peers) {
      const b = s.bob[p];
      const a = r2.alice[p];
      const snt = r2.sent[p];
      if (!b || !a || !snt) throw new Error('missing peer');
      own.set(p, {
        zero: parsePoint(r2.zeroTerms[p], 'zero-share term', plain, true),
        chi: parseScalar(b.chi, 'chi', plain),
        bobState: b.state,
        cu: parseScalar(a.cu, 'cu', plain),
        cv: parseScalar(a.cv, 'cv', plain),
        psi: parseScalar(snt.psi, 'psi', plain),
        gammaU: parsePoint(snt.gammaU, 'gammaU', plain, true),
        gammaV: parsePoint(snt.gammaV, 'gammaV', plain, true),
      });
    }
  } catch {
    throw bad('invalid signing state');
  }
  const saltBytes = (hex: string) => fromHex(hex, 'salt');

  // Cheap per-peer checks first: shape, commitment echo, opening, public share.
  const views = new Map<string, PeerView>();
  for (const j of ctx.peers) {
    const m = msgs.get(j) as DklsRound2Msg;
    const view = parseRound2(ctx, j, m);
    if (m.commitments[j] !== r2.commitments[j] || m.commitments[ctx.self] !== r2.commitments[ctx.self]) {
      throw new CulpritError(
        'DISAGREEMENT',
        j,
        'round-1 commitments it reports differ from those we exchanged',
      );
    }
    if (commitR(ctx.sid, j, view.R, saltBytes(m.salt)) !== r2.commitments[j]) {
      throw new CulpritError('BAD_PROOF', j, 'instance point does not open its round-1 commitment');
    }
    const mine = own.get(j) as OwnPeer;
    if (!view.zero.get(ctx.self)?.equals(mine.zero.negate())) {
      throw new CulpritError('BAD_SHARE', j, 'zero-share term does not match our pairwise seed');
    }
    let expectPk = mulPublic(ctx.Y.get(j) as Pt, ctx.lambda.get(j) as bigint);
    for (const E of view.zero.values()) expectPk = expectPk.add(E);
    if (!expectPk.equals(view.pk)) {
      throw new CulpritError(
        'BAD_SHARE',
        j,
        'public share does not match its verifying share and zero-share terms',
      );
    }
    views.set(j, view);
  }

  // Commitments between two other signers: a mismatch means one of them equivocated, but which one
  // only they can tell (each names the other above).
  for (const j of ctx.peers) {
    for (const k of ctx.peers) {
      if (k !== j && (msgs.get(j) as DklsRound2Msg).commitments[k] !== r2.commitments[k]) {
        throw new ConclaveError(
          'DISAGREEMENT',
          `signer ${k} sent different round-1 commitments to ${j} and to us (or ${j} misreports them)`,
        );
      }
    }
  }

  // Finish the multiplications and run the Γ checks (DKLs23 Protocol 3.6, step 8).
  const bobOut = new Map<string, { du: bigint; dv: bigint }>();
  for (const j of ctx.peers) {
    const view = views.get(j) as PeerView;
    const { chi, bobState } = own.get(j) as OwnPeer;
    let du: bigint, dv: bigint;
    try {
      [du, dv] = sharesOf(mul.mulBobFinish(bobState, (msgs.get(j) as DklsRound2Msg).mul, j), 'multiplier');
    } catch (e) {
      throw multiplierError(e, j);
    }
    if (!view.R.multiply(chi).equals(mulSecret(G, du).add(view.gammaU))) {
      throw new CulpritError('BAD_PROOF', j, 'Γ_u check failed: multiplication output does not match R_j');
    }
    if (!view.pk.multiply(chi).equals(mulSecret(G, dv).add(view.gammaV))) {
      throw new CulpritError('BAD_PROOF', j, 'Γ_v check failed: multiplication output does not match pk_j');
    }
    bobOut.set(j, { du, dv });
  }

  // Zero-share terms of third-party pairs must cancel; then Σ pk_j = pk.
  for (const j of ctx.peers) {
    for (const k of ctx.peers) {
      if (k <= j) continue;
      const ejk = (views.get(j) as PeerView).zero.get(k) as Pt;
      const ekj = (views.get(k) as PeerView).zero.get(j) as Pt;
      if (!ejk.add(ekj).is0()) {
        throw new ConclaveError('DISAGREEMENT', `zero-share terms of signers ${j} and ${k} do not cancel`);
      }
    }
  }
  let pkSum = pki;
  let R = Ri;
  for (const j of ctx.peers) {
    pkSum = pkSum.add((views.get(j) as PeerView).pk);
    R = R.add((views.get(j) as PeerView).R);
  }
  if (!pkSum.equals(ctx.groupKey)) throw bad('public key package is inconsistent with this signer set');
  if (R.is0()) throw new ConclaveError('ABORTED', 'aggregate instance point is the identity; retry');

  // Step 9 up to the message: u_i and v_i.
  let psiSum = phi;
  let u = 0n;
  let v = 0n;
  for (const j of ctx.peers) {
    const view = views.get(j) as PeerView;
    const { cu, cv } = own.get(j) as OwnPeer;
    const { du, dv } = bobOut.get(j) as { du: bigint; dv: bigint };
    psiSum = Fn.add(psiSum, view.psi);
    u = Fn.add(u, Fn.add(cu, du));
    v = Fn.add(v, Fn.add(cv, dv));
  }
  u = Fn.add(u, Fn.mul(r, psiSum));
  v = Fn.add(v, Fn.mul(sk, psiSum));

  // The pairwise points that make the online values attributable, and the proof's nonce points.
  const pairs: DklsPresignature['pairs'] = {};
  let A = Point.ZERO;
  let B = Point.ZERO;
  for (const j of ctx.peers) {
    const view = views.get(j) as PeerView;
    const snt = own.get(j) as OwnPeer;
    // ψ values are sent to the peer in the clear, so variable-time arithmetic on them is acceptable here.
    const a = Ri.mulAddUnsafe(view.psi, view.R, Fn.neg(snt.psi)).add(snt.gammaU).subtract(view.gammaU);
    const b = pki.mulAddUnsafe(view.psi, view.pk, Fn.neg(snt.psi)).add(snt.gammaV).subtract(view.gammaV);
    pairs[j] = { a: pointHex(a, true), b: pointHex(b, true) };
    A = A.add(a);
    B = B.add(b);
  }
  const Rfull = R.toBytes(false);
  const rho = hashFieldsToNonzeroScalar(
    'dkls23/sign/dleq-nonce',
    ctx.sid,
    ctx.self,
    scalarBytes(phi),
    scalarBytes(r),
    scalarBytes(u),
    scalarBytes(v),
    Rfull,
  );
  return {
    v: 1,
    kind: 'dkls23-sign/presignature',
    step: 'presigned',
    session: ctx.sidHex,
    identifier: ctx.self,
    signers: ctx.signers,
    groupKey: ctx.groupKeyHex,
    input: inputDigest,
    R: toHex(Rfull),
    pairs,
    phi: scalarHex(phi),
    ui: scalarHex(u),
    vi: scalarHex(v),
    A: pointHex(A, true),
    B: pointHex(B, true),
    rho: scalarHex(rho),
    rhoR: R.multiply(rho).toHex(false),
    rhoPk: ctx.groupKey.multiply(rho).toHex(false),
  };
}

// ---------- online ----------

const ZERO_TWEAK = '0'.repeat(64);

/** A point of the presignature's own (uncompressed SEC1, not the identity). */
function parseFullPoint(s: unknown, what: string): Pt {
  const p = Point.fromBytes(parseHex(s, 65, what, plain));
  p.assertValidity();
  if (p.is0()) throw new Error(`${what} is the identity`);
  return p;
}

function parseTweak(t: unknown): bigint {
  try {
    return parseScalar(t, 'tweak', plain);
  } catch {
    throw bad('tweak must be a canonical scalar (32 bytes of lowercase hex)');
  }
}

/** The key signed under, pk' = pk + t·G; refuses the identity. */
function tweakedKey(groupKey: Pt, t: bigint): Pt {
  if (t === 0n) return groupKey;
  const pk1 = groupKey.add(mulPublic(G, t));
  if (pk1.is0()) throw bad('the tweaked key is the identity');
  return pk1;
}

function isPresignature(x: unknown): x is DklsPresignature | DklsUsedPresignature {
  return (
    isRecord(x) &&
    x.v === 1 &&
    x.kind === 'dkls23-sign/presignature' &&
    (x.step === 'presigned' || x.step === 'used') &&
    typeof x.session === 'string' &&
    HEX32.test(x.session) &&
    isIdentifier(x.identifier) &&
    Array.isArray(x.signers) &&
    x.signers.every(isIdentifier) &&
    x.signers.includes(x.identifier) &&
    typeof x.groupKey === 'string' &&
    typeof x.R === 'string' &&
    isRecord(x.pairs) &&
    (x.step === 'presigned' ||
      (isRecord(x.used) && typeof x.used.on === 'string' && isRecord(x.used.broadcast)))
  );
}

/** The Fiat–Shamir challenge of the online proof; the statement (R', K'', U, W'') follows from its fields. */
function onlineChallenge(
  sid: Uint8Array,
  from: string,
  msgHash: Uint8Array,
  pk1: Uint8Array,
  R1: Uint8Array,
  u: bigint,
  w: bigint,
  A: Uint8Array,
  B: Uint8Array,
  T1: Pt,
  T2: Pt,
): bigint {
  return hashFieldsToNonzeroScalar(
    'dkls23/sign/online-dleq',
    sid,
    from,
    msgHash,
    pk1,
    R1,
    scalarBytes(u),
    scalarBytes(w),
    A,
    B,
    pointBytes(T1, true),
    pointBytes(T2, true),
  );
}

/**
 * The online step: the broadcast (u_i', w_i) with its proof for the 32-byte `messageHash`, under the
 * key pk + t·G for the additive `tweak` t (hex scalar, zero by default) chosen after presigning.
 * Returns the presignature marked USED, its secrets dropped: persist it before releasing the
 * broadcast. Called again on a used presignature, it returns the same broadcast for a byte-identical
 * message hash and tweak, and throws NONCE_REUSE for anything else.
 */
export function dklsSignOnline(
  presignature: DklsPresignature | DklsUsedPresignature,
  messageHash: Uint8Array,
  opts: { tweak?: string } = {},
): { presignature: DklsUsedPresignature; broadcast: DklsOnlineMsg } {
  if (!(messageHash instanceof Uint8Array) || messageHash.length !== 32) {
    throw bad('message hash must be 32 bytes');
  }
  if (!isPresignature(presignature)) throw bad('invalid presignature');
  const p = presignature;
  const t = parseTweak(opts.tweak ?? ZERO_TWEAK);
  const on = toHex(hashFields('dkls23/sign/online-input', messageHash, scalarBytes(t)));
  if (p.step === 'used') {
    if (p.used.on === on) return { presignature: p, broadcast: p.used.broadcast };
    throw new ConclaveError(
      'NONCE_REUSE',
      'this presignature was already used; signing again with it (another message or tweak) would leak the key share',
    );
  }
  let sid: Uint8Array, Rbytes: Uint8Array, pkBytes: Uint8Array, Abytes: Uint8Array, Bbytes: Uint8Array;
  let phi: bigint, u: bigint, v: bigint, rho: bigint, R: Pt, rhoR: Pt, rhoPk: Pt;
  try {
    sid = parseHex(p.session, 32, 'session', plain);
    Rbytes = parseHex(p.R, 65, 'R', plain);
    pkBytes = parseHex(p.groupKey, 33, 'group key', plain);
    Abytes = p.A === '00' ? new Uint8Array(1) : parseHex(p.A, 33, 'A', plain);
    Bbytes = p.B === '00' ? new Uint8Array(1) : parseHex(p.B, 33, 'B', plain);
    phi = parseScalar(p.phi, 'phi', plain, true);
    u = parseScalar(p.ui, 'u', plain);
    v = parseScalar(p.vi, 'v', plain);
    rho = parseScalar(p.rho, 'rho', plain, true);
    R = parseFullPoint(p.R, 'R');
    rhoR = parseFullPoint(p.rhoR, 'rhoR');
    rhoPk = parseFullPoint(p.rhoPk, 'rhoPk');
  } catch {
    throw bad('invalid presignature');
  }
  // Re-randomisation: δ = H(sid, R, pk, t, m), R' = R + δ·G.
  const delta = hashFieldsToScalar(
    'dkls23/sign/rerandomize',
    sid,
    Rbytes,
    pkBytes,
    scalarBytes(t),
    messageHash,
  );
  const R1 = R.add(mulPublic(G, delta));
  if (R1.is0())
    throw new ConclaveError('ABORTED', 'the signature instance point is the identity; presign again');
  const rx = Fn.create(R1.toAffine().x);
  if (rx === 0n) throw new ConclaveError('ABORTED', 'the signature instance point has r = 0; presign again');
  let pk1Hex = p.groupKey;
  if (t !== 0n) {
    let pk: Pt;
    try {
      pk = parsePoint(p.groupKey, 'group key', plain);
    } catch {
      throw bad('invalid presignature');
    }
    pk1Hex = pointHex(tweakedKey(pk, t));
  }
  const z = hashToInt(messageHash);
  const u1 = Fn.add(u, Fn.mul(delta, phi));
  const v1 = Fn.add(v, Fn.mul(t, phi));
  const w = Fn.add(Fn.mul(z, phi), Fn.mul(rx, v1));
  // The proof's commitments T1 = ρ·R', T2 = ρ·K'' (K'' = r'^{-1}·z·G + pk + t·G) from the points
  // precomputed at the finish: only fixed-base multiplications here.
  const T1 = rhoR.add(mulSecret(G, Fn.mul(rho, delta)));
  const T2 = mulSecret(G, Fn.mul(rho, Fn.add(Fn.mul(z, Fn.inv(rx)), t))).add(rhoPk);
  const R1hex = pointHex(R1);
  const c = onlineChallenge(
    sid,
    p.identifier,
    messageHash,
    fromHex(pk1Hex, 'key'),
    fromHex(R1hex, 'R'),
    u1,
    w,
    Abytes,
    Bbytes,
    T1,
    T2,
  );
  const broadcast: DklsOnlineMsg = {
    v: 1,
    kind: 'dkls23-sign/online',
    session: p.session,
    from: p.identifier,
    messageHash: toHex(messageHash),
    publicKey: pk1Hex,
    R: R1hex,
    u: scalarHex(u1),
    w: scalarHex(w),
    pairs: p.pairs,
    proof: { c: scalarHex(c), z: scalarHex(Fn.add(rho, Fn.mul(c, phi))) },
  };
  return {
    presignature: {
      v: 1,
      kind: 'dkls23-sign/presignature',
      step: 'used',
      session: p.session,
      identifier: p.identifier,
      signers: p.signers,
      groupKey: p.groupKey,
      input: p.input,
      R: p.R,
      pairs: p.pairs,
      used: { on, tweak: scalarHex(t), broadcast },
    },
    broadcast,
  };
}

/** Stable id of a presignature (its session, party and R): where a caller records it as used. */
export function dklsPresignatureId(presignature: DklsPresignature | DklsUsedPresignature): string {
  if (!isPresignature(presignature)) throw bad('invalid presignature');
  return toHex(
    hashFields(
      'dkls23/sign/presignature-id',
      fromHex(presignature.session, 'session'),
      presignature.identifier,
      fromHex(presignature.R, 'R'),
    ),
  );
}

// ---------- combine ----------

/** What a signer combines with: the public values of its used presignature and its own broadcast. */
export function dklsCombineInput(used: DklsUsedPresignature): DklsCombineInput {
  if (!isPresignature(used) || used.step !== 'used') throw bad('the presignature has not been used yet');
  return {
    session: used.session,
    signers: used.signers,
    groupKey: used.groupKey,
    tweak: used.used.tweak,
    messageHash: used.used.broadcast.messageHash,
    own: used.used.broadcast,
  };
}

/**
 * Combines every signer's online broadcast into a low-S ECDSA signature verified under pk + t·G. If
 * the result does not verify, names a signer whose contribution does not match its public values,
 * or throws DISAGREEMENT / ABORTED when no single culprit can be named. A combiner without `own`
 * (holding no share) names no one on a contradiction between two signers it cannot tell apart.
 */
export function dklsSignCombine(input: DklsCombineInput, broadcasts: DklsOnlineMsg[]): DklsSignature {
  if (!isRecord(input)) throw bad('invalid combine input');
  const { signers, own } = input;
  if (!Array.isArray(signers) || signers.length < 2 || !signers.every(isIdentifier)) {
    throw bad('invalid signer set');
  }
  if (new Set(signers).size !== signers.length) throw bad('duplicate signer identifier');
  if (own !== undefined && (!isRecord(own) || typeof own.from !== 'string' || !signers.includes(own.from))) {
    throw bad("the combining party's own broadcast is not a signer's");
  }
  let sid: Uint8Array, groupKey: Pt, msgHash: Uint8Array;
  try {
    sid = parseHex(input.session, 32, 'session', plain);
    groupKey = parsePoint(input.groupKey, 'group key', plain);
    msgHash = parseHex(input.messageHash, 32, 'message hash', plain);
  } catch {
    throw bad('invalid combine input');
  }
  const t = parseTweak(input.tweak ?? ZERO_TWEAK);
  const self = own?.from ?? '';
  const ctx: Sess = {
    self,
    signers,
    peers: signers.filter((x) => x !== self),
    sid,
    sidHex: input.session,
  };
  const msgs = collect<DklsOnlineMsg>(ctx, broadcasts, 'dkls23-sign/online', true);
  if (own && stableStringify(msgs.get(self)) !== stableStringify(own)) {
    throw bad("this party's own online broadcast was altered");
  }
  const pk1 = tweakedKey(groupKey, t);
  const pk1Hex = pointHex(pk1);
  for (const id of signers) {
    const m = msgs.get(id) as DklsOnlineMsg;
    if (m.messageHash !== input.messageHash) {
      throw new CulpritError('DISAGREEMENT', id, 'signed a different message hash');
    }
    if (m.publicKey !== pk1Hex) {
      throw new CulpritError('DISAGREEMENT', id, 'signed under another key (another derivation tweak)');
    }
  }
  const Rhex = agreedInstancePoint(signers, msgs, own);
  let R1: Pt;
  try {
    R1 = parsePoint(Rhex, 'R', plain);
  } catch {
    throw new ConclaveError('DISAGREEMENT', 'the signers agree on a malformed instance point');
  }
  const parsed = new Map<string, { u: bigint; w: bigint }>();
  let uSum = 0n;
  let wSum = 0n;
  for (const id of signers) {
    const m = msgs.get(id) as DklsOnlineMsg;
    let u: bigint, w: bigint;
    try {
      u = parseScalar(m.u, 'u', plain);
      w = parseScalar(m.w, 'w', plain);
    } catch {
      throw new CulpritError('BAD_SHARE', id, 'malformed (u, w)');
    }
    parsed.set(id, { u, w });
    uSum = Fn.add(uSum, u);
    wSum = Fn.add(wSum, w);
  }

  const Raff = R1.toAffine();
  const rx = Fn.create(Raff.x);
  if (uSum !== 0n && rx !== 0n) {
    let sVal = Fn.mul(wSum, Fn.inv(uSum));
    let recovery = Number(Raff.y & 1n) | (Raff.x >= Fn.ORDER ? 2 : 0);
    if (sVal > Fn.ORDER >> 1n) {
      sVal = Fn.neg(sVal);
      recovery ^= 1;
    }
    if (sVal !== 0n) {
      const sig = new secp256k1.Signature(rx, sVal);
      const compact = sig.toBytes('compact');
      let ok = false;
      try {
        ok = secp256k1.verify(compact, msgHash, pk1.toBytes(true), { prehash: false, lowS: true });
      } catch {
        ok = false;
      }
      if (ok) {
        return {
          r: scalarHex(rx),
          s: scalarHex(sVal),
          recovery,
          compact: toHex(compact),
          der: toHex(sig.toBytes('der')),
          messageHash: input.messageHash,
          publicKey: pk1Hex,
        };
      }
    }
  }
  if (rx === 0n) throw new ConclaveError('ABORTED', 'the agreed instance point has r = 0');
  blame(ctx, msgs, parsed, { R1, pk1, rx, msgHash, trusted: own !== undefined });
}

/**
 * The instance point R' every signer must have computed. A signing combiner holds its own; a
 * combiner without one names the single signer that differs from all others (three signers or
 * more), and no one when two signers contradict each other.
 */
function agreedInstancePoint(
  signers: string[],
  msgs: Map<string, DklsOnlineMsg>,
  own: DklsOnlineMsg | undefined,
): string {
  const Rs = signers.map((id) => (msgs.get(id) as DklsOnlineMsg).R);
  if (own) {
    const i = Rs.findIndex((x) => x !== own.R);
    if (i >= 0)
      throw new CulpritError('DISAGREEMENT', signers[i] as string, 'computed a different instance point R');
    return own.R;
  }
  const counts = new Map<unknown, number>();
  for (const x of Rs) counts.set(x, (counts.get(x) ?? 0) + 1);
  if (counts.size === 1) return Rs[0] as string;
  if (counts.size === 2 && signers.length >= 3) {
    const odd = signers.find((_, i) => counts.get(Rs[i]) === 1);
    if (odd !== undefined)
      throw new CulpritError('DISAGREEMENT', odd, 'computed a different instance point R');
  }
  throw new ConclaveError('DISAGREEMENT', 'the signers computed different instance points R');
}

/** Runs only when the combined signature is invalid; always throws. */
function blame(
  ctx: Sess,
  msgs: Map<string, DklsOnlineMsg>,
  parsed: Map<string, { u: bigint; w: bigint }>,
  pub: { R1: Pt; pk1: Pt; rx: bigint; msgHash: Uint8Array; trusted: boolean },
): never {
  const { R1, pk1, rx, msgHash } = pub;
  const rxInv = Fn.inv(rx);
  const K2 = mulPublic(G, Fn.mul(hashToInt(msgHash), rxInv)).add(pk1);
  const pk1Bytes = pk1.toBytes(true);
  const R1Bytes = R1.toBytes(true);
  const pairPts = new Map<string, Map<string, { a: Pt; b: Pt }>>();
  // 1. Each signer's proof, over the pairwise points it published itself.
  for (const id of ctx.signers) {
    const m = msgs.get(id) as DklsOnlineMsg;
    const mine = new Map<string, { a: Pt; b: Pt }>();
    let c: bigint, zr: bigint;
    try {
      if (!isRecord(m.pairs) || !isRecord(m.proof)) throw new Error('shape');
      for (const j of ctx.signers) {
        if (j === id) continue;
        const p = m.pairs[j];
        if (!isRecord(p)) throw new Error('missing pair');
        mine.set(j, { a: parsePoint(p.a, 'a', plain, true), b: parsePoint(p.b, 'b', plain, true) });
      }
      c = parseScalar(m.proof.c, 'c', plain);
      zr = parseScalar(m.proof.z, 'z', plain);
    } catch {
      throw new CulpritError('BAD_SHARE', id, 'malformed online broadcast');
    }
    pairPts.set(id, mine);
    const { u, w } = parsed.get(id) as { u: bigint; w: bigint };
    let A = Point.ZERO;
    let B = Point.ZERO;
    for (const q of mine.values()) {
      A = A.add(q.a);
      B = B.add(q.b);
    }
    const U = mulPublic(G, u).subtract(A);
    const W2 = mulPublic(G, Fn.mul(w, rxInv)).subtract(B);
    const T1 = R1.mulAddUnsafe(zr, U, Fn.neg(c));
    const T2 = K2.mulAddUnsafe(zr, W2, Fn.neg(c));
    const expected = onlineChallenge(
      ctx.sid,
      id,
      msgHash,
      pk1Bytes,
      R1Bytes,
      u,
      w,
      pointBytes(A, true),
      pointBytes(B, true),
      T1,
      T2,
    );
    if (expected !== c) {
      throw new CulpritError('BAD_SHARE', id, 'final contribution (u, w) does not match its public values');
    }
  }
  // 2. Pairwise points must cancel. A signer's own are right, so a peer contradicting them is the culprit.
  const pairOf = (i: string, j: string) =>
    (pairPts.get(i) as Map<string, { a: Pt; b: Pt }>).get(j) as { a: Pt; b: Pt };
  const cancel = (x: { a: Pt; b: Pt }, y: { a: Pt; b: Pt }) => x.a.add(y.a).is0() && x.b.add(y.b).is0();
  if (pub.trusted) {
    for (const j of ctx.peers) {
      if (!cancel(pairOf(ctx.self, j), pairOf(j, ctx.self))) {
        throw new CulpritError('DISAGREEMENT', j, 'its pairwise values contradict what we exchanged with it');
      }
    }
  }
  for (const j of ctx.peers) {
    for (const k of ctx.peers) {
      if (k <= j) continue;
      if (!cancel(pairOf(j, k), pairOf(k, j))) {
        throw new ConclaveError('DISAGREEMENT', `signers ${j} and ${k} report contradicting pairwise values`);
      }
    }
  }
  throw new ConclaveError('ABORTED', 'combined signature is invalid although every contribution checks out');
}
