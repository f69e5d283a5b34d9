/**
 * DKLs23 two-party multiplication: the OT-based random vector OLE (Doerner, Kondi, Lee, shelat,
 * "Threshold ECDSA in Three Rounds", 2023: the F_RVOLE functionality and its OT-based protocol in
 * §5, which refines Protocol 1 of DKLs19 to two messages with one Fiat–Shamir consistency check).
 *
 * Alice inputs a ∈ Z_n^ℓ; Bob gets a random b; they end with additive shares
 * aliceShares[k] + bobShares[k] = a[k]·b (mod n).
 *
 * Parameters: ξ = 256 + 2·80 = 416 random OTs per multiplication (XI), each carrying ℓ + 1 scalars,
 * and a public gadget vector g ∈ Z_n^ξ (random, derived from the setup id). Bob's b = ⟨g, β⟩ for
 * uniform choice bits β ∈ {0,1}^ξ; by the leftover hash lemma b is 2^-80-close to uniform even if a
 * cheating Alice learns a few bits of β by selective failure (the 2·80 slack is for that).
 *
 * Message flow (per multiplication; the OT setup below is once per pair and direction):
 *  1. Bob   → Alice  MulMsg1: one KOS OT-extension message for ξ OTs with choice bits β
 *                    (ot-extension.ts) and ℓ.
 *  2. Alice → Bob    MulMsg2: Alice checks the KOS consistency check, derives her random-OT
 *                    messages v0_j, v1_j ∈ Z_n^{ℓ+1}, samples η, and sends
 *                      ã_j = v0_j − v1_j + (a ‖ η)          for j < ξ,
 *                      θ = H(ã), η' = η + ⟨θ, a⟩,
 *                      μ = H({ v0_j[ℓ] + ⟨θ, v0_j[..ℓ]⟩ }_j).
 *                    Her shares: c_k = −Σ_j g_j·v0_j[k].
 *     Bob: d_j = v_{β_j,j} + β_j·ã_j (= v0_j + β_j·(a ‖ η)); he checks
 *          μ = H({ d_j[ℓ] + ⟨θ, d_j[..ℓ]⟩ − β_j·η' }_j) and outputs d_k = Σ_j g_j·d_j[k].
 *     θ is derived AFTER ã is fixed (Fiat–Shamir over ã), so an Alice who used different inputs in
 *     different OTs passes only with probability ≈ 1/n per hash query; the one cheat left to her is
 *     selective failure on single bits of β, which the ξ slack absorbs.
 *
 * OT setup (run when a key is generated or reshared; Alice is the OT-extension sender):
 *    otSetupReceiverStart (Bob)  → OtSetupMsg1 → otSetupSenderRespond (Alice; her setup is done)
 *    → OtSetupMsg2 → otSetupReceiverFinish (Bob; his setup is done). No third message.
 *
 * Rules the API enforces by construction:
 *  - Determinism: all randomness is expanded from the `seed` arguments and the public context, so
 *    a retried step returns the identical message. Bob's nonce (which keys the OT-extension PRG)
 *    is derived from (seed, setup, session, ℓ), so two Bob messages for one session with different
 *    seeds still use independent pads. Alice's pads are salted with a value derived from (seed,
 *    session, msg1, a): answering the same msg1 twice with different inputs a (or seeds) uses
 *    independent pads, so the two answers do not reveal a − a'.
 *  - Aborts: a failed consistency check marks the setup (Alice) or the state (Bob) aborted in place
 *    and throws OtSetupAborted (a CulpritError, code TAMPERED, carrying setupId). Every function
 *    refuses an aborted setup/state with ABORTED. The caller MUST persist the mark (or delete the
 *    setup) and run a new OT setup with that peer: for Alice a failed check may have been a guess at
 *    bits of her long-lived Δ, so continuing would eventually leak her inputs. Bob's caller should
 *    likewise call markOtSetupAborted on its MulReceiverSetup for err.setupId.
 *  - Binding: the session id is in every hash (KOS context, pads, θ, μ, seeds); a message from
 *    another session or setup is rejected as REPLAY before any secret-dependent check (and does
 *    not abort the setup).
 *
 * Caller obligations: a retried step passes the same seed (it then recomputes the same message);
 * two different multiplications over one setup must differ in sessionId or in Bob's seed, else
 * Bob's b repeats (use e.g. sessionId ‖ index for several multiplications in one signing session).
 * Store setups and Bob's state through at-rest encryption (they are SECRET). Persist an aborted mark.
 *
 * Implementation notes: hashing is SHA-256/SHA-512 for transcripts and TurboSHAKE256 (12-round
 * Keccak, RFC 9861) for the OT-extension PRG and random-OT messages, which dominate the cost. JS
 * bigint arithmetic and the β-dependent branches in mulBobFinish are not constant-time; curve
 * multiplications by secrets use noble's constant-time `multiply`.
 */
import { ConclaveError, CulpritError } from '../../errors.js';
import { toHex } from '../encoding.js';
import type { BaseOtMsg1, BaseOtMsg2 } from './base-ot.js';
import {
  EXTRA_ROWS,
  OtSetupAborted,
  ROW_BYTES,
  isOtSetupAborted,
  markOtSetupAborted,
  otExtReceive,
  otExtSend,
  otExtSetupReceiverFinish,
  otExtSetupReceiverStart,
  otExtSetupSenderRespond,
  readReceiverSetup,
  readSenderSetup,
  rotReceiverPads,
  rotSenderPads,
  type OtExtMsg,
  type OtExtReceiverSetup,
  type OtExtSenderSetup,
  type OtExtSetupState,
} from './ot-extension.js';
import {
  N,
  SeedStream,
  assertSeed,
  assertSessionId,
  bytesEqual,
  hashFields,
  hashFieldsToScalar,
  isRecord,
  modN,
  parseBase64,
  parseHex,
  parseScalar,
  read256,
  scalarBytes,
  scalarHex,
  toBase64,
  type Fail,
} from './transcript.js';

export { OtSetupAborted, isOtSetupAborted, markOtSetupAborted };

/** Random OTs per multiplication: κ_q + 2·λ_s = 256 + 2·80. */
export const XI = 416;
/** Largest input vector accepted. */
export const MAX_LENGTH = 64;

/** SECRET. Bob's state between the two OT-setup messages. */
export type OtSetupState = OtExtSetupState;
/** Bob → Alice: base-OT sender key with its Schnorr proof. */
export type OtSetupMsg1 = BaseOtMsg1;
/** Alice → Bob: base-OT receiver points with their OR-proofs. */
export type OtSetupMsg2 = BaseOtMsg2;
/** Never sent: the setup is two messages. */
export type OtSetupMsg3 = never;
/** SECRET. Alice's long-lived setup with this peer (OT-extension sender). */
export type MulSenderSetup = OtExtSenderSetup;
/** SECRET. Bob's long-lived setup with this peer (OT-extension receiver). */
export type MulReceiverSetup = OtExtReceiverSetup;

/** Bob → Alice. */
export interface MulMsg1 {
  v: 1;
  kind: 'dkls-mul-1';
  /** hex setup id both sides share. */
  setup: string;
  /** ℓ, the length of Alice's input vector. */
  length: number;
  ext: OtExtMsg;
}

/** Alice → Bob. */
export interface MulMsg2 {
  v: 1;
  kind: 'dkls-mul-2';
  /** hex digest of the MulMsg1 answered. */
  ref: string;
  /** hex 32 bytes: salts Alice's pads (derived from her seed, the session, msg1 and a). */
  salt: string;
  /** ξ rows of ℓ + 1 scalars, 32 bytes big-endian each, one after the other, base64. */
  aTilde: string;
  /** η' (hex scalar). */
  eta: string;
  /** hex 32-byte check digest μ. */
  mu: string;
}

/** SECRET. Bob's state between mulBobStart and mulBobFinish. */
export interface MulBobState {
  v: 1;
  kind: 'dkls-mul-bob';
  setup: string;
  length: number;
  /** hex digest of the MulMsg1 sent. */
  ref: string;
  /** hex packed choice bits β (ξ/8 bytes). */
  beta: string;
  /** hex b = ⟨g, β⟩. */
  b: string;
  /** hex rows t_j of the OT extension (ξ × 16 bytes). */
  rows: string;
  /** hex digest of the MulMsg2 accepted (set in place on success; a different msg2 is refused). */
  finished?: string;
  /** Set in place when the consistency check failed: the state must not be used again. */
  aborted?: string;
}

const bad = (msg: string) => new ConclaveError('BAD_INPUT', msg);
const malformed =
  (peer: string): Fail =>
  (what) =>
    new CulpritError('TAMPERED', peer, `malformed multiplication message: ${what}`);

// ---------- OT setup ----------

/** Bob (OT-extension receiver), setup step 1. */
export function otSetupReceiverStart(
  sessionId: Uint8Array,
  seed: Uint8Array,
): { state: OtSetupState; msg: OtSetupMsg1 } {
  return otExtSetupReceiverStart(sessionId, seed);
}

/** Alice (OT-extension sender), setup step 2: checks Bob's proof; her setup is complete. */
export function otSetupSenderRespond(
  sessionId: Uint8Array,
  seed: Uint8Array,
  msg: OtSetupMsg1,
  peer = 'peer',
): { setup: MulSenderSetup; msg: OtSetupMsg2 } {
  return otExtSetupSenderRespond(sessionId, seed, msg, peer);
}

/** Bob, setup step 3: checks Alice's proofs; his setup is complete. There is no third message. */
export function otSetupReceiverFinish(
  state: OtSetupState,
  msg: OtSetupMsg2,
  peer = 'peer',
): { setup: MulReceiverSetup; msg?: OtSetupMsg3 } {
  return otExtSetupReceiverFinish(state, msg, peer);
}

// ---------- gadget vector ----------

const gadgetCache = new Map<string, bigint[]>();

/** The public gadget vector g ∈ Z_n^ξ of a setup (uniform, from the setup id; memoised). */
export function gadgetVector(setupId: string): bigint[] {
  const hit = gadgetCache.get(setupId);
  if (hit) return hit;
  const id = parseHex(setupId, 32, 'setup id', (w) => bad(w));
  const g: bigint[] = [];
  for (let j = 0; j < XI; j++) g.push(hashFieldsToScalar('mul/gadget', id, j));
  if (gadgetCache.size >= 64) gadgetCache.delete(gadgetCache.keys().next().value as string);
  gadgetCache.set(setupId, g);
  return g;
}

// ---------- helpers ----------

function assertLength(length: unknown): number {
  if (!Number.isSafeInteger(length) || (length as number) < 1 || (length as number) > MAX_LENGTH) {
    throw bad(`multiplication length must be an integer in 1..${MAX_LENGTH}`);
  }
  return length as number;
}

function bit(bytes: Uint8Array, j: number): number {
  return ((bytes[j >> 3] as number) >> (j & 7)) & 1;
}

function msg1Digest(extTranscript: Uint8Array, length: number): Uint8Array {
  return hashFields('mul/msg1', extTranscript, length);
}

function padContext(ref: Uint8Array, salt: Uint8Array): Uint8Array {
  return hashFields('mul/pads', ref, salt);
}

/** Digest of Alice's committed correlations ã (the Fiat–Shamir input for θ). */
function aTildeDigest(padCtx: Uint8Array, length: number, aTilde: Uint8Array): Uint8Array {
  return hashFields('mul/atilde', padCtx, length, aTilde);
}

function thetas(aTildeD: Uint8Array, length: number): bigint[] {
  const out: bigint[] = [];
  for (let i = 0; i < length; i++) out.push(hashFieldsToScalar('mul/theta', aTildeD, i));
  return out;
}

function muDigest(padCtx: Uint8Array, values: string[]): Uint8Array {
  return hashFields('mul/mu', padCtx, new Uint8Array(Buffer.from(values.join(''), 'hex')));
}

function msg2Digest(aTildeD: Uint8Array, eta: bigint, mu: Uint8Array) {
  return hashFields('mul/msg2', aTildeD, scalarBytes(eta), mu);
}

function view(b: Uint8Array): DataView {
  return new DataView(b.buffer, b.byteOffset, b.byteLength);
}

// ---------- multiplication ----------

/**
 * Bob starts a multiplication of length `length` (Alice's vector length). Returns his state
 * (SECRET, keep until mulBobFinish), the message for Alice, and his random factor b.
 * Deterministic in (setup, sessionId, seed, length).
 */
export function mulBobStart(
  setup: MulReceiverSetup,
  sessionId: Uint8Array,
  seed: Uint8Array,
  length: number,
): { state: MulBobState; msg: MulMsg1; b: bigint } {
  readReceiverSetup(setup); // shape, and refuses an aborted setup
  assertSessionId(sessionId);
  assertSeed(seed);
  assertLength(length);
  const rng = new SeedStream(seed, 'mul/bob', setup.id, sessionId, length);
  const nonce = rng.bytes(32);
  const beta = rng.bytes(XI / 8);
  const padding = rng.bytes(EXTRA_ROWS / 8);
  const g = gadgetVector(setup.id);
  let b = 0n;
  for (let j = 0; j < XI; j++) b += (g[j] as bigint) * BigInt(bit(beta, j));
  b %= N;
  const { msg: ext, rows, transcript } = otExtReceive(setup, sessionId, nonce, beta, padding, XI);
  const ref = msg1Digest(transcript, length);
  return {
    state: {
      v: 1,
      kind: 'dkls-mul-bob',
      setup: setup.id,
      length,
      ref: toHex(ref),
      beta: toHex(beta),
      b: scalarHex(b),
      rows: toHex(rows),
    },
    msg: { v: 1, kind: 'dkls-mul-1', setup: setup.id, length, ext },
    b,
  };
}

/**
 * Alice answers Bob's MulMsg1 with her input vector `a` (scalars in [0, n)). Returns her shares
 * and the message for Bob. Deterministic in (setup, sessionId, seed, a, msg). If Bob's OT-extension
 * check fails, `setup` is marked aborted in place and OtSetupAborted is thrown.
 */
export function mulAliceRespond(
  setup: MulSenderSetup,
  sessionId: Uint8Array,
  seed: Uint8Array,
  a: bigint[],
  msg: MulMsg1,
  peer = 'peer',
): { shares: bigint[]; msg: MulMsg2 } {
  return aliceRespond(setup, sessionId, seed, a, msg, peer, undefined);
}

/**
 * TEST HOOK — what a cheating Alice does: like mulAliceRespond, but OT row j uses the input vector
 * `rowInput(j)` (when it returns one) instead of `a`, with θ, η′ and μ computed consistently for the
 * inputs actually used. Bob's check must catch this whenever he chose 1 in such a row. Never use
 * it to multiply.
 */
export function mulAliceRespondWithRowInputs(
  setup: MulSenderSetup,
  sessionId: Uint8Array,
  seed: Uint8Array,
  a: bigint[],
  msg: MulMsg1,
  rowInput: (j: number) => bigint[] | undefined,
  peer = 'peer',
): { shares: bigint[]; msg: MulMsg2 } {
  return aliceRespond(setup, sessionId, seed, a, msg, peer, rowInput);
}

function aliceRespond(
  setup: MulSenderSetup,
  sessionId: Uint8Array,
  seed: Uint8Array,
  a: bigint[],
  msg: MulMsg1,
  peer: string,
  rowInput: ((j: number) => bigint[] | undefined) | undefined,
): { shares: bigint[]; msg: MulMsg2 } {
  readSenderSetup(setup);
  assertSessionId(sessionId);
  assertSeed(seed);
  if (!Array.isArray(a)) throw bad('a must be an array of scalars');
  const len = assertLength(a.length);
  for (const x of a) {
    if (typeof x !== 'bigint' || x < 0n || x >= N) throw bad('every a[k] must be a bigint in [0, n)');
  }
  const fail = malformed(peer);
  const m: unknown = msg;
  if (!isRecord(m) || m.v !== 1 || m.kind !== 'dkls-mul-1') throw fail('not a MulMsg1');
  if (typeof m.setup !== 'string' || m.setup !== setup.id) {
    throw new CulpritError('REPLAY', peer, 'multiplication message is for another OT setup');
  }
  if (m.length !== len) {
    throw new CulpritError(
      'TAMPERED',
      peer,
      `multiplication message is for length ${String(m.length)}, not ${len}`,
    );
  }
  const { rows, delta, transcript } = otExtSend(setup, sessionId, XI, m.ext as OtExtMsg, peer);
  const ref = msg1Digest(transcript, len);
  const W = len + 1;

  // Salt and η depend on everything Alice's answer depends on, including a.
  const rng = new SeedStream(seed, 'mul/alice', setup.id, sessionId, ref, ...a.map((x) => scalarBytes(x)));
  const salt = rng.bytes(32);
  const eta = rng.scalar();
  const padCtx = padContext(ref, salt);
  const { v0, v1 } = rotSenderPads(rows, delta, XI, padCtx, W);
  const d0 = view(v0);
  const d1 = view(v1);
  const g = gadgetVector(setup.id);
  const alpha = [...a, eta];

  const v0s: bigint[] = new Array<bigint>(XI * W);
  const hex: string[] = new Array<string>(XI * W);
  const acc: bigint[] = new Array<bigint>(len).fill(0n);
  for (let j = 0; j < XI; j++) {
    const gj = g[j] as bigint;
    const override = rowInput?.(j);
    const row = override ? [...override, eta] : alpha;
    for (let i = 0; i < W; i++) {
      const k = j * W + i;
      let x0 = read256(d0, k * 32);
      if (x0 >= N) x0 -= N;
      let x1 = read256(d1, k * 32);
      if (x1 >= N) x1 -= N;
      let t = x0 - x1 + (row[i] as bigint);
      if (t < 0n) t += N;
      else if (t >= N) t -= N;
      hex[k] = scalarHex(t);
      v0s[k] = x0;
      if (i < len) acc[i] = (acc[i] as bigint) + gj * x0;
    }
  }
  const aTildeBytes = new Uint8Array(Buffer.from(hex.join(''), 'hex'));
  const aTildeD = aTildeDigest(padCtx, len, aTildeBytes);
  const theta = thetas(aTildeD, len);
  let etaPrime = eta;
  for (let i = 0; i < len; i++) etaPrime += (theta[i] as bigint) * (a[i] as bigint);
  etaPrime %= N;
  const checks: string[] = new Array<string>(XI);
  for (let j = 0; j < XI; j++) {
    let v = v0s[j * W + len] as bigint;
    for (let i = 0; i < len; i++) v += (theta[i] as bigint) * (v0s[j * W + i] as bigint);
    checks[j] = scalarHex(v % N);
  }
  const mu = muDigest(padCtx, checks);
  return {
    shares: acc.map((x) => modN(-x)),
    msg: {
      v: 1,
      kind: 'dkls-mul-2',
      ref: toHex(ref),
      salt: toHex(salt),
      aTilde: toBase64(aTildeBytes),
      eta: scalarHex(etaPrime),
      mu: toHex(mu),
    },
  };
}

function readBobState(state: MulBobState): {
  length: number;
  ref: Uint8Array;
  beta: Uint8Array;
  rows: Uint8Array;
} {
  const fail: Fail = (what) => bad(`invalid multiplication state: ${what}`);
  const s: unknown = state;
  if (!isRecord(s) || s.v !== 1 || s.kind !== 'dkls-mul-bob') throw fail('kind');
  if (s.aborted !== undefined) {
    throw new ConclaveError(
      'ABORTED',
      'this multiplication was aborted after a failed consistency check; discard the OT setup with the peer',
    );
  }
  parseHex(s.setup, 32, 'setup', fail);
  parseScalar(s.b, 'b', fail);
  return {
    length: assertLength(s.length),
    ref: parseHex(s.ref, 32, 'ref', fail),
    beta: parseHex(s.beta, XI / 8, 'beta', fail),
    rows: parseHex(s.rows, XI * ROW_BYTES, 'rows', fail),
  };
}

/**
 * Bob finishes with Alice's MulMsg2 and returns his shares. If Alice's consistency check fails,
 * `state` is marked aborted in place and OtSetupAborted is thrown (carrying the setup id the
 * caller must discard).
 */
export function mulBobFinish(state: MulBobState, msg: MulMsg2, peer = 'peer'): { shares: bigint[] } {
  const { length: len, ref, beta, rows } = readBobState(state);
  const W = len + 1;
  const fail = malformed(peer);
  const m: unknown = msg;
  if (!isRecord(m) || m.v !== 1 || m.kind !== 'dkls-mul-2') throw fail('not a MulMsg2');
  const claimed = parseHex(m.ref, 32, 'ref', fail);
  if (!bytesEqual(claimed, ref)) {
    throw new CulpritError('REPLAY', peer, 'multiplication answer is for another message or session');
  }
  const salt = parseHex(m.salt, 32, 'salt', fail);
  const etaPrime = parseScalar(m.eta, 'eta', fail);
  const mu = parseHex(m.mu, 32, 'mu', fail);
  const aTildeBytes = parseBase64(m.aTilde, XI * W * 32, `aTilde (${XI} rows of ${W} scalars)`, fail);
  const at = view(aTildeBytes);
  const aT: bigint[] = new Array<bigint>(XI * W);
  for (let k = 0; k < XI * W; k++) {
    const x = read256(at, k * 32);
    if (x >= N) throw fail(`aTilde[${Math.floor(k / W)}] has a scalar not below the group order`);
    aT[k] = x;
  }
  const padCtx = padContext(ref, salt);
  const aTildeD = aTildeDigest(padCtx, len, aTildeBytes);
  const digest = toHex(msg2Digest(aTildeD, etaPrime, mu));
  if (state.finished !== undefined && state.finished !== digest) {
    throw new CulpritError('REPLAY', peer, 'a different answer was already accepted for this multiplication');
  }

  const vx = view(rotReceiverPads(rows, XI, padCtx, W));
  const theta = thetas(aTildeD, len);
  const g = gadgetVector(state.setup);
  const acc: bigint[] = new Array<bigint>(len).fill(0n);
  const checks: string[] = new Array<string>(XI);
  const dj: bigint[] = new Array<bigint>(W);
  for (let j = 0; j < XI; j++) {
    const bj = bit(beta, j) === 1;
    const gj = g[j] as bigint;
    for (let i = 0; i < W; i++) {
      const k = j * W + i;
      let x = read256(vx, k * 32);
      if (x >= N) x -= N;
      if (bj) {
        x += aT[k] as bigint;
        if (x >= N) x -= N;
      }
      dj[i] = x;
      if (i < len) acc[i] = (acc[i] as bigint) + gj * x;
    }
    let v = dj[len] as bigint;
    for (let i = 0; i < len; i++) v += (theta[i] as bigint) * (dj[i] as bigint);
    if (bj) v -= etaPrime;
    checks[j] = scalarHex(modN(v));
  }
  if (!bytesEqual(muDigest(padCtx, checks), mu)) {
    state.aborted = `multiplication consistency check failed (culprit: ${peer})`;
    throw new OtSetupAborted(peer, 'multiplication consistency check failed', state.setup);
  }
  state.finished = digest;
  return { shares: acc.map((x) => x % N) };
}
