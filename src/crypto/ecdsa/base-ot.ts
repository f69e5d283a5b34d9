/**
 * Batched base OT with proofs: the "simplest OT" of Chou and Orlandi (2015) made verifiable, as
 * the DKLs line of work uses it to seed OT extension, in two messages.
 *
 *   msg1  sender -> receiver   B = b·G and a Schnorr proof of knowledge of b (Fiat–Shamir).
 *   msg2  receiver -> sender   for each OT i with choice bit ω_i: A_i = a_i·G + ω_i·B, and a
 *                              Cramer–Damgård–Schoenmakers OR-proof that the receiver knows a_i with
 *                              A_i = a_i·G or A_i − B = a_i·G.
 *
 * Outputs (random OT): the sender gets k0_i = H(i, A_i, b·A_i) and k1_i = H(i, A_i, b·(A_i − B));
 * the receiver gets k_{ω_i} = H(i, A_i, a_i·B). H binds the session id, B, and the whole msg1.
 *
 * Why the proofs. The sender's Schnorr proof makes B extractable and non-degenerate (B is never the
 * identity, and the sender knows b, so both of its keys are defined). The receiver's OR-proof is the
 * non-interactive form of the challenge/response "verification" of VSOT (DKLs18): it proves the
 * receiver knows the key for one of the two branches (so its choice bit is extractable) while A_i is
 * perfectly hiding and the proof is witness-indistinguishable, so it reveals nothing about ω_i. It
 * fits the two-message flow that the OT-extension setup needs (VSOT's three extra messages do not).
 * The OR-proofs are verified in one batch (a random linear combination, weights by Fiat–Shamir over
 * the whole msg2) with a multi-scalar multiplication.
 *
 * Determinism: the sender's b and proof nonce come from (seed, session id, count); the receiver's
 * a_i and proof randomness from (seed, session id, digest of msg1). Answering a different msg1 (for
 * instance another B) therefore uses independent a_i, so two answers never reveal ω_i by
 * A_i − A'_i = ω_i·(B − B').
 *
 * Timing: secret scalars are multiplied with noble's constant-time `multiply`; the JS bigint
 * arithmetic around it is not constant-time.
 */
import { mulAddUnsafe, normalizeZ } from '@noble/curves/abstract/curve.js';
import { ConclaveError, CulpritError } from '../../errors.js';
import { toHex } from '../encoding.js';
import {
  Point,
  SeedStream,
  assertSeed,
  assertSessionId,
  hashFields,
  hashFieldsToScalar,
  isRecord,
  modN,
  parseHex,
  parsePoint,
  parseScalar,
  scalarBytes,
  scalarHex,
  type Fail,
} from './transcript.js';

/** Upper bound on the number of base OTs in one batch. */
export const BASE_OT_MAX = 1024;
const PROOF_BYTES = 33 + 33 + 32 + 32 + 32;

/** msg1: the sender's public key with its Schnorr proof. */
export interface BaseOtMsg1 {
  v: 1;
  kind: 'base-ot-1';
  /** hex H(session id): lets the receiver reject another session's message before any check. */
  session: string;
  count: number;
  B: string;
  c: string;
  s: string;
}

/** msg2: the receiver's points and OR-proofs. `proofs[i]` is R0 ‖ R1 ‖ c0 ‖ s0 ‖ s1 (hex). */
export interface BaseOtMsg2 {
  v: 1;
  kind: 'base-ot-2';
  /** hex digest of the msg1 this answers. */
  ref: string;
  A: string[];
  proofs: string[];
}

/** SECRET sender state between msg1 and msg2 (b is the sender's key). */
export interface BaseOtSenderState {
  v: 1;
  kind: 'base-ot-sender-state';
  session: string;
  count: number;
  b: string;
  B: string;
  msg1: string;
}

const bad = (msg: string) => new ConclaveError('BAD_INPUT', msg);
const malformed =
  (peer: string): Fail =>
  (what) =>
    new CulpritError('TAMPERED', peer, `malformed base-OT message: ${what}`);

function assertCount(count: unknown): number {
  if (!Number.isSafeInteger(count) || (count as number) < 1 || (count as number) > BASE_OT_MAX) {
    throw bad(`base-OT count must be an integer in 1..${BASE_OT_MAX}`);
  }
  return count as number;
}

function sessionTag(sessionId: Uint8Array): Uint8Array {
  return hashFields('base-ot/session', sessionId);
}

function msg1Digest(session: Uint8Array, count: number, B: Uint8Array, c: Uint8Array, s: Uint8Array) {
  return hashFields('base-ot/msg1', session, count, B, c, s);
}

function schnorrChallenge(session: Uint8Array, count: number, B: Uint8Array, R: Uint8Array): bigint {
  return hashFieldsToScalar('base-ot/schnorr', session, count, B, R);
}

function orChallenge(ref: Uint8Array, i: number, A: Uint8Array, R0: Uint8Array, R1: Uint8Array): bigint {
  return hashFieldsToScalar('base-ot/or-proof', ref, i, A, R0, R1);
}

/** Window of B's table in baseOtReceiverRespond (2·count constant-time multiplications by B). */
const B_WINDOW = 7;
/** Window of the receiver's own handle on G (3 constant-time multiplications by G per OT). */
const G_WINDOW = 8;
let gWide: Point | undefined;

/**
 * G as a separate Point object with a wider fixed-base table than noble's Point.BASE (W = 6):
 * `multiply` on it is the same constant-time, blinded, table-based path, with fewer additions.
 * A distinct object keeps Point.BASE's own table (used by everything else) untouched.
 */
function fixedBaseG(): Point {
  if (gWide === undefined) {
    const g = Point.fromAffine(Point.BASE.toAffine());
    g.precompute(G_WINDOW, false);
    gWide = g;
  }
  return gWide;
}

function otKey(ref: Uint8Array, i: number, A: Uint8Array, P: Point): Uint8Array {
  return hashFields('base-ot/key', ref, i, A, P.toBytes(true));
}

/** Sender, step 1: key pair and proof. Deterministic in (sessionId, seed, count). */
export function baseOtSenderStart(
  sessionId: Uint8Array,
  seed: Uint8Array,
  count: number,
): { state: BaseOtSenderState; msg: BaseOtMsg1 } {
  assertSessionId(sessionId);
  assertSeed(seed);
  assertCount(count);
  const session = sessionTag(sessionId);
  const rng = new SeedStream(seed, 'base-ot/sender', sessionId, count);
  const b = rng.scalar();
  const k = rng.scalar();
  const B = Point.BASE.multiply(b);
  const Bb = B.toBytes(true);
  const R = Point.BASE.multiply(k);
  const c = schnorrChallenge(session, count, Bb, R.toBytes(true));
  const s = modN(k + c * b);
  const msg: BaseOtMsg1 = {
    v: 1,
    kind: 'base-ot-1',
    session: toHex(session),
    count,
    B: toHex(Bb),
    c: scalarHex(c),
    s: scalarHex(s),
  };
  const digest = msg1Digest(session, count, Bb, scalarBytes(c), scalarBytes(s));
  return {
    state: {
      v: 1,
      kind: 'base-ot-sender-state',
      session: toHex(session),
      count,
      b: scalarHex(b),
      B: msg.B,
      msg1: toHex(digest),
    },
    msg,
  };
}

/** Decodes and checks msg1 (shape, session, Schnorr proof). Returns B and the msg1 digest. */
function readMsg1(
  sessionId: Uint8Array,
  msg: unknown,
  peer: string,
): { B: Point; Bb: Uint8Array; digest: Uint8Array; count: number } {
  const fail = malformed(peer);
  if (!isRecord(msg) || msg.v !== 1 || msg.kind !== 'base-ot-1') throw fail('not a base-OT msg1');
  const session = sessionTag(sessionId);
  const claimed = parseHex(msg.session, 32, 'session', fail);
  if (toHex(claimed) !== toHex(session)) {
    throw new CulpritError('REPLAY', peer, 'base-OT msg1 belongs to another session');
  }
  const count = msg.count;
  if (!Number.isSafeInteger(count) || (count as number) < 1 || (count as number) > BASE_OT_MAX) {
    throw fail('count');
  }
  const B = parsePoint(msg.B, 'B', fail);
  const c = parseScalar(msg.c, 'c', fail);
  const s = parseScalar(msg.s, 's', fail);
  const Bb = B.toBytes(true);
  // R = s·G − c·B must hash back to c.
  const R = Point.BASE.mulAddUnsafe(s, B, modN(-c));
  if (R.is0() || schnorrChallenge(session, count as number, Bb, R.toBytes(true)) !== c) {
    throw new CulpritError('BAD_PROOF', peer, 'base-OT sender proof of knowledge does not verify');
  }
  return {
    B,
    Bb,
    digest: msg1Digest(session, count as number, Bb, scalarBytes(c), scalarBytes(s)),
    count: count as number,
  };
}

/**
 * Checks msg1 (shape, session binding, Schnorr proof) and returns its digest: the value that the
 * receiver's randomness and every derived key are bound to. Throws like baseOtReceiverRespond.
 */
export function baseOtMsg1Digest(sessionId: Uint8Array, msg1: BaseOtMsg1, peer = 'peer'): Uint8Array {
  assertSessionId(sessionId);
  return readMsg1(sessionId, msg1, peer).digest;
}

/**
 * Receiver: checks msg1 and answers with one OT per choice bit (`choices[i]` is 0 or 1).
 * Returns the receiver's keys k_{choices[i]} (32 bytes each) and the transcript digest that both
 * sides obtain (binds session, msg1 and msg2). Deterministic in (sessionId, seed, choices, msg1).
 */
export function baseOtReceiverRespond(
  sessionId: Uint8Array,
  seed: Uint8Array,
  choices: Uint8Array,
  msg1: BaseOtMsg1,
  peer = 'peer',
): { keys: Uint8Array[]; msg: BaseOtMsg2; transcript: Uint8Array } {
  assertSessionId(sessionId);
  assertSeed(seed);
  if (!(choices instanceof Uint8Array)) throw bad('choices must be a Uint8Array of 0/1 values');
  const { B, digest, count } = readMsg1(sessionId, msg1, peer);
  if (choices.length !== count) {
    throw new CulpritError('TAMPERED', peer, `base-OT msg1 is for ${count} OTs, expected ${choices.length}`);
  }
  for (const c of choices) if (c !== 0 && c !== 1) throw bad('choice bits must be 0 or 1');

  const rng = new SeedStream(seed, 'base-ot/receiver', sessionId, digest);
  // Fixed-base tables for B pay off when every a_i·B and cSim·B below reuses them (2·count uses).
  if (count >= 32) B.precompute(B_WINDOW, false);
  const G = fixedBaseG();
  const keys: Point[] = [];
  const a: bigint[] = [];
  const k: bigint[] = [];
  const cSim: bigint[] = [];
  const sSim: bigint[] = [];
  const A: Point[] = [];
  const Rreal: Point[] = [];
  const Rsim: Point[] = [];
  // Pass 1: every secret-scalar multiplication (constant-time `multiply`). The point operations do
  // not depend on ω_i: A_i always adds B or the identity, Rsim always adds ±cSim·B.
  for (let i = 0; i < count; i++) {
    const w = choices[i] as number;
    const ai = rng.scalar();
    const ki = rng.scalar();
    const ci = rng.scalar();
    const r = rng.scalar(); // s_sim = r + cSim·a, so R_sim = r·G ∓ cSim·B
    A.push(G.multiply(ai).add(w === 1 ? B : Point.ZERO));
    keys.push(B.multiply(ai)); // a_i·B, hashed into the key below
    const cB = B.multiply(ci);
    const ncB = cB.negate();
    Rsim.push(G.multiply(r).add(w === 1 ? ncB : cB));
    Rreal.push(G.multiply(ki));
    a.push(ai);
    k.push(ki);
    cSim.push(ci);
    sSim.push(modN(r + ci * ai));
  }
  // One batched inversion brings every A_i and R_sim,i to affine form for serialisation (the
  // multiply results already are).
  const affine = normalizeZ(Point, [...A, ...Rsim]);
  const keyBytes: Uint8Array[] = [];
  const As: string[] = [];
  const proofs: string[] = [];
  // Pass 2: encodings, challenges and responses (scalar arithmetic only).
  for (let i = 0; i < count; i++) {
    const w = choices[i] as number;
    const Ab = (affine[i] as Point).toBytes(true);
    keyBytes.push(otKey(digest, i, Ab, keys[i] as Point));
    const rs = affine[count + i] as Point;
    const rr = Rreal[i] as Point;
    const R0b = (w === 0 ? rr : rs).toBytes(true);
    const R1b = (w === 0 ? rs : rr).toBytes(true);
    const c = orChallenge(digest, i, Ab, R0b, R1b);
    const ai = a[i] as bigint;
    const cReal = modN(c - (cSim[i] as bigint));
    const sReal = modN((k[i] as bigint) + cReal * ai);
    const ci = cSim[i] as bigint;
    const si = sSim[i] as bigint;
    const [c0, s0, s1] = w === 0 ? [cReal, sReal, si] : [ci, si, sReal];
    As.push(toHex(Ab));
    proofs.push(toHex(R0b) + toHex(R1b) + scalarHex(c0) + scalarHex(s0) + scalarHex(s1));
  }
  const msg: BaseOtMsg2 = { v: 1, kind: 'base-ot-2', ref: toHex(digest), A: As, proofs };
  return { keys: keyBytes, msg, transcript: transcriptDigest(digest, msg) };
}

function transcriptDigest(ref: Uint8Array, msg: BaseOtMsg2): Uint8Array {
  return hashFields(
    'base-ot/transcript',
    ref,
    new Uint8Array(Buffer.from(msg.A.join(''), 'hex')),
    new Uint8Array(Buffer.from(msg.proofs.join(''), 'hex')),
  );
}

function readSenderState(state: unknown): { b: bigint; B: Point; ref: Uint8Array; count: number } {
  const fail: Fail = (what) => bad(`invalid base-OT sender state: ${what}`);
  if (!isRecord(state) || state.v !== 1 || state.kind !== 'base-ot-sender-state') throw fail('kind');
  const count = state.count;
  if (!Number.isSafeInteger(count) || (count as number) < 1 || (count as number) > BASE_OT_MAX) {
    throw fail('count');
  }
  parseHex(state.session, 32, 'session', fail);
  const b = parseScalar(state.b, 'b', fail, true);
  const B = parsePoint(state.B, 'B', fail);
  if (!Point.BASE.multiply(b).equals(B)) throw fail('B does not match b');
  return { b, B, ref: parseHex(state.msg1, 32, 'msg1', fail), count: count as number };
}

/**
 * Sender, step 2: checks msg2 (shape, binding, every OR-proof) and derives both keys of every OT.
 * Throws CulpritError BAD_PROOF (naming `peer`) if a proof fails.
 */
export function baseOtSenderFinish(
  state: BaseOtSenderState,
  msg2: BaseOtMsg2,
  peer = 'peer',
): { keys0: Uint8Array[]; keys1: Uint8Array[]; transcript: Uint8Array } {
  const { b, B, ref, count } = readSenderState(state);
  const fail = malformed(peer);
  const msg: unknown = msg2;
  if (!isRecord(msg) || msg.v !== 1 || msg.kind !== 'base-ot-2') throw fail('not a base-OT msg2');
  const claimed = parseHex(msg.ref, 32, 'ref', fail);
  if (toHex(claimed) !== toHex(ref)) {
    throw new CulpritError('REPLAY', peer, 'base-OT msg2 answers another msg1');
  }
  if (!Array.isArray(msg.A) || msg.A.length !== count) throw fail(`A must have ${count} entries`);
  if (!Array.isArray(msg.proofs) || msg.proofs.length !== count) {
    throw fail(`proofs must have ${count} entries`);
  }
  const A: Point[] = [];
  const Ab: Uint8Array[] = [];
  const R0: Point[] = [];
  const R1: Point[] = [];
  const c0: bigint[] = [];
  const c1: bigint[] = [];
  const s0: bigint[] = [];
  const s1: bigint[] = [];
  for (let i = 0; i < count; i++) {
    const Ai = parsePoint(msg.A[i], `A[${i}]`, fail);
    if (Ai.equals(B)) throw fail(`A[${i}] equals B`);
    const p = msg.proofs[i];
    if (typeof p !== 'string' || p.length !== PROOF_BYTES * 2) throw fail(`proofs[${i}] length`);
    const r0 = parsePoint(p.slice(0, 66), `proofs[${i}].R0`, fail);
    const r1 = parsePoint(p.slice(66, 132), `proofs[${i}].R1`, fail);
    const ci0 = parseScalar(p.slice(132, 196), `proofs[${i}].c0`, fail);
    const si0 = parseScalar(p.slice(196, 260), `proofs[${i}].s0`, fail);
    const si1 = parseScalar(p.slice(260, 324), `proofs[${i}].s1`, fail);
    const Aib = Ai.toBytes(true);
    const c = orChallenge(ref, i, Aib, r0.toBytes(true), r1.toBytes(true));
    A.push(Ai);
    Ab.push(Aib);
    R0.push(r0);
    R1.push(r1);
    c0.push(ci0);
    c1.push(modN(c - ci0));
    s0.push(si0);
    s1.push(si1);
  }
  // Batch check of s0·G = R0 + c0·A and s1·G = R1 + c1·(A − B) for all i, with 128-bit weights
  // derived from the whole message (the prover is committed to it before the weights exist).
  const wseed = hashFields(
    'base-ot/batch-weights',
    ref,
    new Uint8Array(Buffer.from((msg.A as string[]).join(''), 'hex')),
    new Uint8Array(Buffer.from((msg.proofs as string[]).join(''), 'hex')),
  );
  // Σ_i [ w_i·(s0_i·G − R0_i − c0_i·A_i) + z_i·(s1_i·G − R1_i − c1_i·(A_i − B)) ] = O, as one
  // interleaved-wNAF multi-scalar multiplication (public points and scalars only). R0_i and R1_i
  // enter negated so that their coefficients are the 128-bit weights themselves.
  const points: Point[] = [Point.BASE, B];
  const scalars: bigint[] = [0n, 0n];
  let gCoef = 0n;
  let bCoef = 0n;
  for (let i = 0; i < count; i++) {
    const w = hashFieldsToScalar('base-ot/batch-weight', wseed, i, 0) >> 128n;
    const z = hashFieldsToScalar('base-ot/batch-weight', wseed, i, 1) >> 128n;
    gCoef += w * (s0[i] as bigint) + z * (s1[i] as bigint);
    bCoef += z * (c1[i] as bigint);
    points.push((R0[i] as Point).negate(), (R1[i] as Point).negate(), A[i] as Point);
    scalars.push(w, z, modN(-(w * (c0[i] as bigint) + z * (c1[i] as bigint))));
  }
  scalars[0] = modN(gCoef);
  scalars[1] = modN(bCoef);
  if (!mulAddUnsafe(Point, points, scalars).is0()) {
    throw new CulpritError('BAD_PROOF', peer, 'base-OT receiver proof does not verify');
  }
  const keys0: Uint8Array[] = [];
  const bA: Point[] = [];
  const bB = B.multiply(b);
  for (let i = 0; i < count; i++) bA.push((A[i] as Point).multiply(b)); // constant-time, secret b
  // b·(A_i − B) = b·A_i − b·B; one batched inversion brings them all to affine form.
  const bAB = normalizeZ(
    Point,
    bA.map((p) => p.subtract(bB)),
  );
  const keys1: Uint8Array[] = [];
  for (let i = 0; i < count; i++) {
    keys0.push(otKey(ref, i, Ab[i] as Uint8Array, bA[i] as Point));
    keys1.push(otKey(ref, i, Ab[i] as Uint8Array, bAB[i] as Point));
  }
  return { keys0, keys1, transcript: transcriptDigest(ref, msg2) };
}
