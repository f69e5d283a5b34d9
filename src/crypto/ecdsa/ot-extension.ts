/**
 * Actively secure OT extension: KOS15 (Keller, Orsini, Scholl, "Actively Secure OT Extension with
 * Optimal Overhead", CRYPTO 2015) with its GF(2^128) consistency check, made non-interactive with
 * Fiat–Shamir, producing random OTs whose messages are vectors of scalars mod n.
 *
 * Roles. The extension SENDER (Alice in the multiplication) holds a secret Δ ∈ {0,1}^128 and, from
 * 128 base OTs in which she is the base-OT receiver with choice bits Δ, one seed k_{Δ_i,i} per
 * column. The extension RECEIVER (Bob) is the base-OT sender and holds both seeds of every column.
 * The base OTs run once per pair and direction (the "setup"); every extension after that is one
 * message from the receiver.
 *
 * One extension of m OTs with choice bits x (m ≡ 0 mod 8), in context ctx = H(setup id, session
 * id, receiver nonce, m):
 *  - the receiver appends EXTRA_ROWS = 128 + 80 random choice bits (they mask the check values),
 *    so M = m + 208 rows; columns t0_i = PRG(k0_i, ctx), t1_i = PRG(k1_i, ctx) ∈ {0,1}^M;
 *    u_i = t0_i ⊕ t1_i ⊕ x̄. With rows t_j of the matrix (t0_i)_i: q_j = t_j ⊕ x̄_j·Δ, where the
 *    sender's column is q_i = PRG(k_{Δ_i,i}, ctx) ⊕ Δ_i·u_i.
 *  - check (KOS15, over GF(2^128) = GF(2)[X]/(X^128 + X^7 + X^2 + X + 1)): χ_1..χ_M = XOF(H(ctx, u));
 *    the receiver sends x̃ = Σ x̄_j·χ_j and t̃ = Σ t_j·χ_j (field products); the sender accepts iff
 *    Σ q_j·χ_j = t̃ + x̃·Δ. A receiver who used different choice bits in different columns (a
 *    "polychromatic" row, the way to learn bits of Δ) passes only by guessing those bits of Δ,
 *    each guess at probability 1/2 — a plain XOR check would not catch this.
 *  - random OT: the sender's messages for OT j are H(ctx', j, q_j) and H(ctx', j, q_j ⊕ Δ); the
 *    receiver gets H(ctx', j, t_j), equal to the one of index x_j. H is TurboSHAKE256 modelled as a
 *    random oracle (so correlation robust even if a cheating receiver guessed a few bits of Δ), ctx'
 *    a caller-supplied context (the multiplication binds the full transcript there). The PRG is
 *    TurboSHAKE256 too. Hashing is where the time goes (one 12-round Keccak-p per row and side).
 *
 * Setup reuse and aborts (important). Δ is long-lived: it is the same for every extension of a
 * setup. A failed check may have been a guess at bits of Δ, and a sender who kept going after
 * failures would eventually reveal Δ (and then every input it ever sent). So a failed check MARKS
 * THE SETUP ABORTED in place (`setup.aborted`), throws OtSetupAborted, and every function refuses
 * an aborted setup with ABORTED. The caller must persist the marked setup (or delete it) and run a
 * new setup with that peer before the next extension. Malformed or misrouted messages (bad hex,
 * wrong lengths, another session's or setup's message) are rejected before any secret-dependent
 * check and do not abort the setup.
 */
import { ConclaveError, CulpritError } from '../../errors.js';
import { encodeFields, toHex } from '../encoding.js';
import {
  baseOtMsg1Digest,
  baseOtReceiverRespond,
  baseOtSenderFinish,
  baseOtSenderStart,
  type BaseOtMsg1,
  type BaseOtMsg2,
  type BaseOtSenderState,
} from './base-ot.js';
import {
  SeedStream,
  TurboRowHasher,
  assertSeed,
  assertSessionId,
  bytesEqual,
  hashFields,
  isRecord,
  parseBase64,
  parseHex,
  patchIndexAndBytes,
  toBase64,
  turboXofFields,
  type Fail,
} from './transcript.js';

/** Number of base OTs / width of Δ (computational security parameter). */
export const KAPPA = 128;
/** Statistical security parameter of the KOS check. */
export const KOS_STAT = 80;
/** Extra random rows the receiver appends to every extension (κ + s, as in KOS15). */
export const EXTRA_ROWS = KAPPA + KOS_STAT;
/** Bytes of one row (an element of GF(2^128)). */
export const ROW_BYTES = KAPPA / 8;
/** Largest extension accepted. */
export const MAX_OTS = 1 << 16;

/** SECRET. The extension sender's setup: Δ and the seed of the chosen side of every base OT. */
export interface OtExtSenderSetup {
  v: 1;
  kind: 'ot-ext-sender';
  /** hex setup id, the same on both sides (hash of the base-OT transcript). */
  id: string;
  delta: string;
  seeds: string[];
  /** Set (in place) when a consistency check failed: the setup must not be used again. */
  aborted?: string;
}

/** SECRET. The extension receiver's setup: both seeds of every base OT. */
export interface OtExtReceiverSetup {
  v: 1;
  kind: 'ot-ext-receiver';
  id: string;
  seeds0: string[];
  seeds1: string[];
  aborted?: string;
}

/** SECRET. The receiver's state between the two setup messages (its base-OT sender state). */
export type OtExtSetupState = BaseOtSenderState;

/** The receiver's extension message. */
export interface OtExtMsg {
  /** hex receiver nonce (fresh per extension, from the receiver's seed). */
  nonce: string;
  /** hex H(setup id, session id, nonce, m): lets the sender reject a misrouted message cheaply. */
  ctx: string;
  /** KAPPA columns of M/8 bytes each, one after the other, base64. */
  u: string;
  xTilde: string;
  tTilde: string;
}

/**
 * A consistency check failed: the peer cheated (or the message was corrupted in a way that only
 * a secret-dependent check can see). The setup `setupId` is now unusable on this side; discard it
 * (persist `aborted`) and run a new OT setup with this peer before multiplying again.
 */
export class OtSetupAborted extends CulpritError {
  readonly setupId: string;
  constructor(culprit: string, reason: string, setupId: string) {
    super('TAMPERED', culprit, reason);
    this.name = 'OtSetupAborted';
    this.setupId = setupId;
  }
}

const bad = (msg: string) => new ConclaveError('BAD_INPUT', msg);
const malformed =
  (peer: string): Fail =>
  (what) =>
    new CulpritError('TAMPERED', peer, `malformed OT-extension message: ${what}`);

// ---------- setup ----------

/** Receiver (Bob), setup step 1: the base-OT sender's key and proof. */
export function otExtSetupReceiverStart(
  sessionId: Uint8Array,
  seed: Uint8Array,
): { state: OtExtSetupState; msg: BaseOtMsg1 } {
  return baseOtSenderStart(sessionId, seed, KAPPA);
}

function setupIdFrom(transcript: Uint8Array): string {
  return toHex(hashFields('ot-ext/setup-id', transcript));
}

/** Sender (Alice), setup step 2: picks Δ, runs the base-OT receiver, and is done. */
export function otExtSetupSenderRespond(
  sessionId: Uint8Array,
  seed: Uint8Array,
  msg1: BaseOtMsg1,
  peer = 'peer',
): { setup: OtExtSenderSetup; msg: BaseOtMsg2 } {
  assertSessionId(sessionId);
  assertSeed(seed);
  const digest = baseOtMsg1Digest(sessionId, msg1, peer);
  if (msg1.count !== KAPPA) {
    throw new CulpritError('TAMPERED', peer, `OT setup must run ${KAPPA} base OTs, not ${msg1.count}`);
  }
  // Δ depends on the msg1 answered, so answering two different msg1 never reuses Δ.
  const delta = new SeedStream(seed, 'ot-ext/delta', sessionId, digest).bytes(ROW_BYTES);
  const choices = new Uint8Array(KAPPA);
  for (let i = 0; i < KAPPA; i++) choices[i] = ((delta[i >> 3] as number) >> (i & 7)) & 1;
  const { keys, msg, transcript } = baseOtReceiverRespond(sessionId, seed, choices, msg1, peer);
  return {
    setup: {
      v: 1,
      kind: 'ot-ext-sender',
      id: setupIdFrom(transcript),
      delta: toHex(delta),
      seeds: keys.map((k) => toHex(k)),
    },
    msg,
  };
}

/** Receiver (Bob), setup step 3: checks the sender's proofs and derives both seeds per column. */
export function otExtSetupReceiverFinish(
  state: OtExtSetupState,
  msg2: BaseOtMsg2,
  peer = 'peer',
): { setup: OtExtReceiverSetup } {
  const { keys0, keys1, transcript } = baseOtSenderFinish(state, msg2, peer);
  if (keys0.length !== KAPPA) throw bad(`OT setup state is for ${keys0.length} base OTs, not ${KAPPA}`);
  return {
    setup: {
      v: 1,
      kind: 'ot-ext-receiver',
      id: setupIdFrom(transcript),
      seeds0: keys0.map((k) => toHex(k)),
      seeds1: keys1.map((k) => toHex(k)),
    },
  };
}

// ---------- setup state helpers ----------

/** Marks a setup unusable (in place) and returns it; persist it, or delete the setup. */
export function markOtSetupAborted<T extends OtExtSenderSetup | OtExtReceiverSetup>(
  setup: T,
  reason: string,
): T {
  setup.aborted = reason || 'aborted';
  return setup;
}

export function isOtSetupAborted(setup: OtExtSenderSetup | OtExtReceiverSetup): boolean {
  return typeof setup.aborted === 'string';
}

function refuseAborted(setup: Record<string, unknown>): void {
  if (setup.aborted !== undefined) {
    throw new ConclaveError(
      'ABORTED',
      'this OT setup was aborted after a failed consistency check; run a new OT setup with the peer',
    );
  }
}

const setupFail: Fail = (what) => bad(`invalid OT setup: ${what}`);

function parseSeeds(x: unknown, what: string): Uint8Array[] {
  if (!Array.isArray(x) || x.length !== KAPPA) throw setupFail(`${what} must have ${KAPPA} entries`);
  return x.map((s, i) => parseHex(s, 32, `${what}[${i}]`, setupFail));
}

interface ParsedSender {
  id: Uint8Array;
  delta: Uint8Array;
  seeds: Uint8Array[];
}
interface ParsedReceiver {
  id: Uint8Array;
  seeds0: Uint8Array[];
  seeds1: Uint8Array[];
}
// Parsing 128–256 hex seeds per call is measurable in the multiplication; setups are long-lived
// objects, so the decoded form is cached per object (and re-parsed if its fields are replaced).
const senderCache = new WeakMap<object, { key: unknown[]; parsed: ParsedSender }>();
const receiverCache = new WeakMap<object, { key: unknown[]; parsed: ParsedReceiver }>();

function sameKey(a: unknown[], b: unknown[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

/** Decodes a sender setup (BAD_INPUT if malformed; ABORTED if marked aborted). */
export function readSenderSetup(setup: OtExtSenderSetup): ParsedSender {
  const s: unknown = setup;
  if (!isRecord(s) || s.v !== 1 || s.kind !== 'ot-ext-sender')
    throw setupFail('not an OT-extension sender setup');
  refuseAborted(s);
  const key = [s.id, s.delta, s.seeds];
  const hit = senderCache.get(s);
  if (hit && sameKey(hit.key, key)) return hit.parsed;
  const parsed = {
    id: parseHex(s.id, 32, 'id', setupFail),
    delta: parseHex(s.delta, ROW_BYTES, 'delta', setupFail),
    seeds: parseSeeds(s.seeds, 'seeds'),
  };
  senderCache.set(s, { key, parsed });
  return parsed;
}

/** Decodes a receiver setup (BAD_INPUT if malformed; ABORTED if marked aborted). */
export function readReceiverSetup(setup: OtExtReceiverSetup): ParsedReceiver {
  const s: unknown = setup;
  if (!isRecord(s) || s.v !== 1 || s.kind !== 'ot-ext-receiver') {
    throw setupFail('not an OT-extension receiver setup');
  }
  refuseAborted(s);
  const key = [s.id, s.seeds0, s.seeds1];
  const hit = receiverCache.get(s);
  if (hit && sameKey(hit.key, key)) return hit.parsed;
  const parsed = {
    id: parseHex(s.id, 32, 'id', setupFail),
    seeds0: parseSeeds(s.seeds0, 'seeds0'),
    seeds1: parseSeeds(s.seeds1, 'seeds1'),
  };
  receiverCache.set(s, { key, parsed });
  return parsed;
}

// ---------- GF(2^128) ----------
// An element is 4 little-endian 32-bit words; bit k (coefficient of X^k) is bit k&31 of word k>>5,
// which is bit k&7 of byte k>>3 of its 16-byte encoding.

function wordsOf(b: Uint8Array): Uint32Array {
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const out = new Uint32Array(b.length / 4);
  for (let i = 0; i < out.length; i++) out[i] = v.getUint32(i * 4, true);
  return out;
}

function bytesOf(w: Uint32Array): Uint8Array {
  const out = new Uint8Array(w.length * 4);
  const v = new DataView(out.buffer);
  for (let i = 0; i < w.length; i++) v.setUint32(i * 4, w[i] as number, true);
  return out;
}

/** acc ← acc·X (in place). */
function mulX(acc: Uint32Array): void {
  const a0 = acc[0] as number;
  const a1 = acc[1] as number;
  const a2 = acc[2] as number;
  const a3 = acc[3] as number;
  const carry = a3 >>> 31;
  acc[3] = (a3 << 1) | (a2 >>> 31);
  acc[2] = (a2 << 1) | (a1 >>> 31);
  acc[1] = (a1 << 1) | (a0 >>> 31);
  acc[0] = (a0 << 1) ^ (-carry & 0x87);
}

/** Product in GF(2^128) of two 16-byte elements. */
export function gf128Mul(a: Uint8Array, b: Uint8Array): Uint8Array {
  if (a.length !== ROW_BYTES || b.length !== ROW_BYTES) throw bad('GF(2^128) elements are 16 bytes');
  const aw = wordsOf(a);
  const acc = new Uint32Array(4);
  for (let k = KAPPA - 1; k >= 0; k--) {
    mulX(acc);
    const mask = -(((b[k >> 3] as number) >> (k & 7)) & 1);
    acc[0] = (acc[0] as number) ^ ((aw[0] as number) & mask);
    acc[1] = (acc[1] as number) ^ ((aw[1] as number) & mask);
    acc[2] = (acc[2] as number) ^ ((aw[2] as number) & mask);
    acc[3] = (acc[3] as number) ^ ((aw[3] as number) & mask);
  }
  return bytesOf(acc);
}

/** ⊕ of χ_j over the rows j < M whose bit is set in `bits` (a column, LSB-first). */
function xorSelect(bits: Uint8Array, M: number, chi: Uint32Array, out: Uint32Array): void {
  let a0 = 0;
  let a1 = 0;
  let a2 = 0;
  let a3 = 0;
  for (let j = 0; j < M; j++) {
    const mask = -(((bits[j >> 3] as number) >> (j & 7)) & 1);
    const o = j * 4;
    a0 ^= (chi[o] as number) & mask;
    a1 ^= (chi[o + 1] as number) & mask;
    a2 ^= (chi[o + 2] as number) & mask;
    a3 ^= (chi[o + 3] as number) & mask;
  }
  out[0] = a0;
  out[1] = a1;
  out[2] = a2;
  out[3] = a3;
}

/**
 * Σ_j row_j·χ_j for the matrix whose columns are `cols` (row j = bits j of every column):
 * = Σ_i X^i · (⊕_{j: col_i[j] = 1} χ_j), evaluated by Horner — no general multiplication needed.
 */
function combineColumns(cols: Uint8Array[], M: number, chi: Uint32Array): Uint8Array {
  const acc = new Uint32Array(4);
  const y = new Uint32Array(4);
  for (let i = cols.length - 1; i >= 0; i--) {
    mulX(acc);
    xorSelect(cols[i] as Uint8Array, M, chi, y);
    acc[0] = (acc[0] as number) ^ (y[0] as number);
    acc[1] = (acc[1] as number) ^ (y[1] as number);
    acc[2] = (acc[2] as number) ^ (y[2] as number);
    acc[3] = (acc[3] as number) ^ (y[3] as number);
  }
  return bytesOf(acc);
}

/** Rows 0..m−1 (ROW_BYTES each) of the bit matrix whose KAPPA columns are `cols`. */
function transposeRows(cols: Uint8Array[], m: number): Uint8Array {
  const rows = new Uint8Array(m * ROW_BYTES);
  for (let i = 0; i < KAPPA; i++) {
    const col = cols[i] as Uint8Array;
    const bi = i >> 3;
    const sh = i & 7;
    for (let jb = 0; jb < m >> 3; jb++) {
      const byte = col[jb] as number;
      const base = jb * 8 * ROW_BYTES + bi;
      for (let k = 0; k < 8; k++) {
        const idx = base + k * ROW_BYTES;
        rows[idx] = (rows[idx] as number) | (((byte >> k) & 1) << sh);
      }
    }
  }
  return rows;
}

// ---------- extension ----------

function assertM(m: unknown): number {
  if (!Number.isSafeInteger(m) || (m as number) < 8 || (m as number) > MAX_OTS || (m as number) % 8 !== 0) {
    throw bad(`number of OTs must be a multiple of 8 in 8..${MAX_OTS}`);
  }
  return m as number;
}

/** The extension context: binds setup, session, receiver nonce and size into every later hash. */
export function otExtContext(
  setupId: Uint8Array,
  sessionId: Uint8Array,
  nonce: Uint8Array,
  m: number,
): Uint8Array {
  return hashFields('ot-ext/ctx', setupId, sessionId, nonce, m);
}

const PRG_TEMPLATE = encodeFields([0, new Uint8Array(32)]);

/** Column i = TurboSHAKE256('ot-ext/prg', ctx, i, seed_i) — a PRG keyed by the base-OT seed. */
function prgColumns(ctx: Uint8Array, seeds: Uint8Array[], bytes: number): Uint8Array[] {
  const h = new TurboRowHasher('ot-ext/prg', [ctx], PRG_TEMPLATE);
  return seeds.map((s, i) => {
    patchIndexAndBytes(h.suffix, i, s);
    const out = new Uint8Array(bytes);
    h.hashInto(out);
    return out;
  });
}

function concatColumns(u: Uint8Array[], Mb: number): Uint8Array {
  const all = new Uint8Array(u.length * Mb);
  u.forEach((col, i) => all.set(col, i * Mb));
  return all;
}

/** Digest of the receiver's columns u (the Fiat–Shamir commitment the challenges depend on). */
function uDigest(ctx: Uint8Array, uAll: Uint8Array): Uint8Array {
  return hashFields('ot-ext/u', ctx, uAll);
}

/** χ_1..χ_M ∈ GF(2^128), expanded from the digest of u. */
function challenges(ud: Uint8Array, M: number): Uint32Array {
  return wordsOf(turboXofFields('ot-ext/chi', M * ROW_BYTES, ud));
}

/** Digest of a whole extension message (both sides compute it; later hashes bind it). */
function extTranscript(ud: Uint8Array, xTilde: Uint8Array, tTilde: Uint8Array): Uint8Array {
  return hashFields('ot-ext/msg', ud, xTilde, tTilde);
}

/**
 * The receiver's PRG columns t0_i, t1_i and context for one extension — what otExtReceive uses.
 * Exported so tests can play a cheating receiver (who knows both seeds anyway).
 */
export function otExtReceiverColumns(
  setup: OtExtReceiverSetup,
  sessionId: Uint8Array,
  nonce: Uint8Array,
  m: number,
): { t0: Uint8Array[]; t1: Uint8Array[]; ctx: Uint8Array } {
  const { id, seeds0, seeds1 } = readReceiverSetup(setup);
  assertSessionId(sessionId);
  assertM(m);
  const Mb = (m + EXTRA_ROWS) / 8;
  const ctx = otExtContext(id, sessionId, nonce, m);
  return { t0: prgColumns(ctx, seeds0, Mb), t1: prgColumns(ctx, seeds1, Mb), ctx };
}

/** The KOS challenges χ_1..χ_M (M × 16 bytes) for columns `u` of an extension of m OTs. */
export function kosChallenges(ctx: Uint8Array, u: Uint8Array[], m: number): Uint8Array {
  const M = m + EXTRA_ROWS;
  return bytesOf(challenges(uDigest(ctx, concatColumns(u, M / 8)), M));
}

/** Σ_j row_j·χ_j in GF(2^128) for the bit matrix with columns `cols` (column i ↦ X^i). */
export function kosCombine(cols: Uint8Array[], m: number, chi: Uint8Array): Uint8Array {
  return combineColumns(cols, m + EXTRA_ROWS, wordsOf(chi));
}

/**
 * Receiver (Bob): extends to `m` random OTs with packed choice bits `choices` (m/8 bytes, bit j
 * = bit j&7 of byte j>>3) and `padding` (EXTRA_ROWS/8 fresh random bytes, never reused).
 * `nonce` (32 bytes) must be fresh per extension and derived from the receiver's own seed.
 * Returns the message for the sender, the receiver's rows t_j (m × ROW_BYTES), and `transcript`,
 * a digest of the message that the sender's otExtSend returns too.
 */
export function otExtReceive(
  setup: OtExtReceiverSetup,
  sessionId: Uint8Array,
  nonce: Uint8Array,
  choices: Uint8Array,
  padding: Uint8Array,
  m: number,
): { msg: OtExtMsg; rows: Uint8Array; transcript: Uint8Array } {
  const { id, seeds0, seeds1 } = readReceiverSetup(setup);
  assertSessionId(sessionId);
  assertM(m);
  if (!(nonce instanceof Uint8Array) || nonce.length !== 32) throw bad('nonce must be 32 bytes');
  if (!(choices instanceof Uint8Array) || choices.length !== m / 8)
    throw bad(`choices must be ${m / 8} bytes`);
  if (!(padding instanceof Uint8Array) || padding.length !== EXTRA_ROWS / 8) {
    throw bad(`padding must be ${EXTRA_ROWS / 8} bytes`);
  }
  const M = m + EXTRA_ROWS;
  const Mb = M / 8;
  const ctx = otExtContext(id, sessionId, nonce, m);
  const xbar = new Uint8Array(Mb);
  xbar.set(choices, 0);
  xbar.set(padding, m / 8);
  const t0 = prgColumns(ctx, seeds0, Mb);
  const t1 = prgColumns(ctx, seeds1, Mb);
  const u: Uint8Array[] = [];
  for (let i = 0; i < KAPPA; i++) {
    const a = t0[i] as Uint8Array;
    const b = t1[i] as Uint8Array;
    const col = new Uint8Array(Mb);
    for (let k = 0; k < Mb; k++) col[k] = (a[k] as number) ^ (b[k] as number) ^ (xbar[k] as number);
    u.push(col);
  }
  const ud = uDigest(ctx, concatColumns(u, Mb));
  const chi = challenges(ud, M);
  const xw = new Uint32Array(4);
  xorSelect(xbar, M, chi, xw);
  const xTilde = bytesOf(xw);
  const tTilde = combineColumns(t0, M, chi);
  return {
    msg: {
      nonce: toHex(nonce),
      ctx: toHex(ctx),
      u: toBase64(concatColumns(u, Mb)),
      xTilde: toHex(xTilde),
      tTilde: toHex(tTilde),
    },
    rows: transposeRows(t0, m),
    transcript: extTranscript(ud, xTilde, tTilde),
  };
}

/**
 * Decodes an extension message for `m` OTs and checks its public binding to (setup, session).
 * Throws CulpritError TAMPERED (malformed) or REPLAY (another setup/session); never aborts the setup.
 */
export function readOtExtMsg(
  setupId: Uint8Array,
  sessionId: Uint8Array,
  m: number,
  msg: OtExtMsg,
  peer: string,
): { ctx: Uint8Array; u: Uint8Array[]; xTilde: Uint8Array; tTilde: Uint8Array } {
  const fail = malformed(peer);
  const x: unknown = msg;
  if (!isRecord(x)) throw fail('not an object');
  const Mb = (m + EXTRA_ROWS) / 8;
  const nonce = parseHex(x.nonce, 32, 'nonce', fail);
  const ctx = parseHex(x.ctx, 32, 'ctx', fail);
  if (!bytesEqual(ctx, otExtContext(setupId, sessionId, nonce, m))) {
    throw new CulpritError('REPLAY', peer, 'OT-extension message belongs to another session or setup');
  }
  const packed = parseBase64(x.u, KAPPA * Mb, `u (${KAPPA} columns)`, fail);
  const u = Array.from({ length: KAPPA }, (_, i) => packed.subarray(i * Mb, (i + 1) * Mb));
  return {
    ctx,
    u,
    xTilde: parseHex(x.xTilde, ROW_BYTES, 'xTilde', fail),
    tTilde: parseHex(x.tTilde, ROW_BYTES, 'tTilde', fail),
  };
}

/**
 * Sender (Alice): checks the receiver's message and returns its rows q_j (m × ROW_BYTES), Δ, and
 * the message digest `transcript` (equal to the receiver's).
 * If the KOS check fails the setup is marked aborted in place and OtSetupAborted is thrown.
 */
export function otExtSend(
  setup: OtExtSenderSetup,
  sessionId: Uint8Array,
  m: number,
  msg: OtExtMsg,
  peer = 'peer',
): { rows: Uint8Array; delta: Uint8Array; transcript: Uint8Array } {
  const { id, delta, seeds } = readSenderSetup(setup);
  assertSessionId(sessionId);
  assertM(m);
  const { ctx, u, xTilde, tTilde } = readOtExtMsg(id, sessionId, m, msg, peer);
  const M = m + EXTRA_ROWS;
  const Mb = M / 8;
  const q = prgColumns(ctx, seeds, Mb);
  for (let i = 0; i < KAPPA; i++) {
    const mask = -(((delta[i >> 3] as number) >> (i & 7)) & 1) & 0xff;
    const col = q[i] as Uint8Array;
    const ui = u[i] as Uint8Array;
    for (let k = 0; k < Mb; k++) col[k] = (col[k] as number) ^ ((ui[k] as number) & mask);
  }
  const ud = uDigest(ctx, concatColumns(u, Mb));
  const chi = challenges(ud, M);
  const qTilde = combineColumns(q, M, chi);
  const expected = gf128Mul(xTilde, delta);
  for (let k = 0; k < ROW_BYTES; k++) expected[k] = (expected[k] as number) ^ (tTilde[k] as number);
  if (!bytesEqual(qTilde, expected)) {
    markOtSetupAborted(setup, `OT-extension consistency check failed (culprit: ${peer})`);
    throw new OtSetupAborted(peer, 'OT-extension consistency check failed', setup.id);
  }
  return { rows: transposeRows(q, m), delta, transcript: extTranscript(ud, xTilde, tTilde) };
}

// ---------- random OT messages ----------

// The random-OT hash input for OT j is encodeFields([j, row]), patched in place per row.
const ROW_TEMPLATE = encodeFields([0, new Uint8Array(ROW_BYTES)]);

function padsFor(
  rows: Uint8Array,
  m: number,
  context: Uint8Array,
  width: number,
  xorDelta: Uint8Array | undefined,
): Uint8Array {
  const bytes = width * 32;
  const out = new Uint8Array(m * bytes);
  const h = new TurboRowHasher('ot-ext/rot', [context, width], ROW_TEMPLATE);
  const row = new Uint8Array(ROW_BYTES);
  for (let j = 0; j < m; j++) {
    row.set(rows.subarray(j * ROW_BYTES, (j + 1) * ROW_BYTES));
    if (xorDelta) for (let k = 0; k < ROW_BYTES; k++) row[k] = (row[k] as number) ^ (xorDelta[k] as number);
    patchIndexAndBytes(h.suffix, j, row);
    h.hashInto(out.subarray(j * bytes, (j + 1) * bytes));
  }
  return out;
}

function assertPadArgs(rows: Uint8Array, m: number, context: Uint8Array, width: number): void {
  assertM(m);
  if (!(rows instanceof Uint8Array) || rows.length !== m * ROW_BYTES) throw bad('rows have the wrong length');
  if (!(context instanceof Uint8Array) || context.length === 0) throw bad('context must be non-empty bytes');
  if (!Number.isSafeInteger(width) || width < 1 || width > 256)
    throw bad('width must be an integer in 1..256');
}

/**
 * Sender's random-OT messages: for OT j, v0 = H(context, j, q_j) and v1 = H(context, j, q_j ⊕ Δ),
 * each `width` × 32 bytes (callers read 32-byte big-endian words and reduce them mod n).
 */
export function rotSenderPads(
  rows: Uint8Array,
  delta: Uint8Array,
  m: number,
  context: Uint8Array,
  width: number,
): { v0: Uint8Array; v1: Uint8Array } {
  assertPadArgs(rows, m, context, width);
  if (!(delta instanceof Uint8Array) || delta.length !== ROW_BYTES) throw bad('delta must be 16 bytes');
  return { v0: padsFor(rows, m, context, width, undefined), v1: padsFor(rows, m, context, width, delta) };
}

/** Receiver's random-OT messages: H(context, j, t_j), equal to the sender's v_{x_j}. */
export function rotReceiverPads(rows: Uint8Array, m: number, context: Uint8Array, width: number): Uint8Array {
  assertPadArgs(rows, m, context, width);
  return padsFor(rows, m, context, width, undefined);
}
