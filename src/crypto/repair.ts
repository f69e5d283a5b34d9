/**
 * Verifiable repairable threshold scheme (RTS): rebuilds the lost share of participant r from a
 * set of helpers, without anyone but r learning it and without changing any share or the public
 * key package. This is the repair of the ZF frost crate (keys/repairable, after Laing–Stinson),
 * plus public commitments so that every check names the participant at fault.
 *
 * Notation: G the base point; pub the public package with verifying shares Y_i = s_i·G; H the
 * helpers, |H| ≥ pub.threshold, r ∉ H; x_i identifier i as a scalar;
 * λ_i = Π_{m∈H, m≠i} (x_r − x_m) / (x_i − x_m), the Lagrange coefficient of helper i at x_r over H,
 * so Σ_{i∈H} λ_i·s_i = f(x_r) = s_r.
 *
 * Step 1, helper i (repairStep1): δ_i = λ_i·s_i, split into random additive pieces δ_ij (j ∈ H,
 *   Σ_j δ_ij = δ_i, all nonzero). Broadcast Δ_ij = δ_ij·G for every j (PUBLIC); send δ_ij privately
 *   to helper j (SECRET; the caller encrypts).
 *   Anyone (verifyRepairCommitments): every Δ_ij a valid point and Σ_j Δ_ij = λ_i·Y_i, else BAD_PROOF
 *   naming i.
 * Step 2, helper j (repairStep2): for every i the check above, then δ_ij·G = Δ_ij, else BAD_SHARE
 *   naming i. σ_j = Σ_i δ_ij is sent privately to r (SECRET).
 * Step 3, r (repairStep3): every helper's commitments as above, σ_j·G = Σ_i Δ_ij, else BAD_SHARE
 *   naming j; s_r = Σ_j σ_j must satisfy s_r·G = Y_r, else DISAGREEMENT (pub is inconsistent).
 *
 * Secrecy: each δ_ij is uniformly random on its own, so helper j learns nothing about δ_i from one
 * piece, and σ_j mixes a fresh random piece from every helper; r learns σ_j and the public points.
 * The commitments reveal only the points δ_ij·G (and so σ_j·G), never a scalar. They must be the
 * same for everyone: the coordinator broadcasts one copy and parties compare it, or a helper could
 * show different commitments to different peers.
 * Bigint intermediates cannot be wiped in JS; byte arrays this module creates are zeroed.
 */
import { ConclaveError, CulpritError } from '../errors.js';
import { toHex } from './encoding.js';
import type { PublicPackage } from './frost.js';
import type { Scheme } from './schemes.js';
import {
  bad,
  idScalar,
  isObject,
  mulG,
  pointsOf,
  pubPoint,
  scalarHex,
  scalarOf,
  tryPoint,
  type Pt,
  type Rng,
} from './group.js';

interface Context {
  /** helper identifier → x_i, in the caller's order */
  helpers: Map<string, bigint>;
  xr: bigint;
}

/** Shared input validation: helpers ⊆ participants, distinct, ≥ threshold; lostId a participant ∉ helpers. */
function context(scheme: Scheme, pub: PublicPackage, helpers: unknown, lostId: unknown): Context {
  if (
    !isObject(pub) ||
    !Number.isSafeInteger(pub.threshold) ||
    pub.threshold < 2 ||
    !Array.isArray(pub.commitments) ||
    !isObject(pub.verifyingShares)
  ) {
    throw bad('invalid public key package');
  }
  if (!Array.isArray(helpers)) throw bad('helpers must be an array of identifiers');
  const h = new Map<string, bigint>();
  for (const id of helpers as unknown[]) {
    const x = idScalar(scheme, id, 'helper');
    if (h.has(id as string)) throw bad('helpers contain a duplicate identifier');
    if (!Object.hasOwn(pub.verifyingShares, id as string))
      throw bad('a helper is not a participant of the key');
    h.set(id as string, x);
  }
  const xr = idScalar(scheme, lostId, 'lost identifier');
  if (!Object.hasOwn(pub.verifyingShares, lostId as string)) {
    throw bad('the lost identifier is not a participant of the key');
  }
  if (h.has(lostId as string)) throw bad('the lost participant cannot be a helper');
  if (h.size < pub.threshold) throw bad(`at least ${pub.threshold} helpers are required`);
  return { helpers: h, xr };
}

/** λ_i: Lagrange coefficient of helper i at x_r over the helpers. */
function lambdaOf(scheme: Scheme, ctx: Context, helperId: string): bigint {
  const Fn = scheme.frost.utils.Fn;
  const xi = ctx.helpers.get(helperId);
  if (xi === undefined) throw bad('helper identifier is not among the helpers');
  let num = Fn.ONE;
  let den = Fn.ONE;
  for (const xm of ctx.helpers.values()) {
    if (xm === xi) continue;
    num = Fn.mul(num, Fn.sub(ctx.xr, xm));
    den = Fn.mul(den, Fn.sub(xi, xm));
  }
  return Fn.div(num, den);
}

/** Public check of helper i's commitments Δ_ij (keyed by j); returns them decoded. */
function checkCommitments(
  scheme: Scheme,
  pub: PublicPackage,
  ctx: Context,
  helperId: string,
  commitments: unknown,
): Map<string, Pt> {
  const lambda = lambdaOf(scheme, ctx, helperId);
  const blame = (why: string) => new CulpritError('BAD_PROOF', helperId, why);
  if (!isObject(commitments)) throw blame('repair commitments are malformed');
  const keys = Object.keys(commitments);
  if (keys.length !== ctx.helpers.size || !keys.every((k) => ctx.helpers.has(k))) {
    throw blame('repair commitments must name exactly the helpers');
  }
  const out = new Map<string, Pt>();
  let sum = pointsOf(scheme).ZERO;
  for (const j of ctx.helpers.keys()) {
    const p = tryPoint(scheme, commitments[j]);
    if (!p) throw blame('invalid repair commitment point');
    out.set(j, p);
    sum = sum.add(p);
  }
  // Σ_j Δ_ij = λ_i·Y_i: the pieces add up to the helper's real contribution, not something else.
  if (!sum.equals(pubPoint(scheme, pub.verifyingShares[helperId]).multiplyUnsafe(lambda))) {
    throw blame('repair commitments do not add up to the helper’s share');
  }
  return out;
}

/** Exact-key check of a record keyed by helper identifier. */
function byHelper<T>(ctx: Context, rec: unknown, what: string): Record<string, T> {
  if (!isObject(rec)) throw bad(`${what} must be an object keyed by helper`);
  for (const k of Object.keys(rec)) if (!ctx.helpers.has(k)) throw bad(`${what} from a non-helper`);
  for (const k of ctx.helpers.keys()) if (!Object.hasOwn(rec, k)) throw bad(`${what} missing for a helper`);
  return rec as Record<string, T>;
}

/**
 * Step 1 for helper `helperId`: SECRET pieces (one per helper, including itself) and their
 * public commitments. `rng` exists only for tests; production callers must omit it.
 */
export function repairStep1(
  scheme: Scheme,
  pub: PublicPackage,
  helpers: string[],
  lostId: string,
  helperId: string,
  helperShare: string,
  rng?: Rng,
): { pieces: Record<string, string>; commitments: Record<string, string> } {
  const ctx = context(scheme, pub, helpers, lostId);
  const lambda = lambdaOf(scheme, ctx, helperId);
  const Fn = scheme.frost.utils.Fn;
  const s = scalarOf(scheme, helperShare, 'helper share');
  // Refuse to help with a share that is not ours: everyone downstream would blame us anyway.
  if (!mulG(scheme, s).equals(pubPoint(scheme, pub.verifyingShares[helperId]))) {
    throw bad('helper share does not match the public key package');
  }
  const delta = Fn.mul(lambda, s);
  const random = () => {
    const b = rng ? scheme.frost.utils.randomScalar(rng) : scheme.frost.utils.randomScalar();
    const n = Fn.fromBytes(b); // nonzero by construction
    b.fill(0);
    return n;
  };
  const others = [...ctx.helpers.keys()].filter((j) => j !== helperId);
  let piecesN: Map<string, bigint>;
  for (;;) {
    // Own piece = δ_i − Σ others; redraw in the negligible case it is 0 (its commitment would be invalid).
    piecesN = new Map(others.map((j) => [j, random()]));
    const own = [...piecesN.values()].reduce((a, b) => Fn.sub(a, b), delta);
    if (!Fn.is0(own)) {
      piecesN.set(helperId, own);
      break;
    }
  }
  const pieces: Record<string, string> = {};
  const commitments: Record<string, string> = {};
  for (const j of ctx.helpers.keys()) {
    const d = piecesN.get(j) as bigint;
    pieces[j] = scalarHex(scheme, d);
    commitments[j] = toHex(mulG(scheme, d).toBytes());
  }
  return { pieces, commitments };
}

/** Public check of helper `helperId`'s step-1 commitments; throws BAD_PROOF naming it. */
export function verifyRepairCommitments(
  scheme: Scheme,
  pub: PublicPackage,
  helpers: string[],
  lostId: string,
  helperId: string,
  commitments: Record<string, string>,
): void {
  checkCommitments(scheme, pub, context(scheme, pub, helpers, lostId), helperId, commitments);
}

/** Step 2 for helper `helperId`: checks every piece it received (its own included); σ_j is SECRET, for r only. */
export function repairStep2(
  scheme: Scheme,
  pub: PublicPackage,
  helpers: string[],
  lostId: string,
  helperId: string,
  received: Record<string, { piece: string; commitments: Record<string, string> }>,
): { sigma: string } {
  const ctx = context(scheme, pub, helpers, lostId);
  if (!ctx.helpers.has(helperId)) throw bad('helper identifier is not among the helpers');
  const rec = byHelper<unknown>(ctx, received, 'repair piece');
  const Fn = scheme.frost.utils.Fn;
  let sigma = Fn.ZERO;
  for (const i of ctx.helpers.keys()) {
    const r = rec[i];
    const cs = checkCommitments(scheme, pub, ctx, i, isObject(r) ? r.commitments : undefined);
    const piece = scalarOf(scheme, isObject(r) ? r.piece : undefined, 'repair piece', i);
    if (!mulG(scheme, piece).equals(cs.get(helperId) as Pt)) {
      throw new CulpritError('BAD_SHARE', i, 'repair piece does not match its commitment');
    }
    sigma = Fn.add(sigma, piece);
  }
  return { sigma: scalarHex(scheme, sigma) };
}

/** Step 3 for the lost participant: checks every σ_j and returns its rebuilt signing share (SECRET). */
export function repairStep3(
  scheme: Scheme,
  pub: PublicPackage,
  helpers: string[],
  lostId: string,
  sigmas: Record<string, string>,
  commitments: Record<string, Record<string, string>>,
): { signingShare: string } {
  const ctx = context(scheme, pub, helpers, lostId);
  const sg = byHelper<unknown>(ctx, sigmas, 'repair sigma');
  const cm = byHelper<unknown>(ctx, commitments, 'repair commitments');
  const P = pointsOf(scheme);
  const expected = new Map<string, Pt>([...ctx.helpers.keys()].map((j) => [j, P.ZERO]));
  for (const i of ctx.helpers.keys()) {
    for (const [j, p] of checkCommitments(scheme, pub, ctx, i, cm[i])) {
      expected.set(j, (expected.get(j) as Pt).add(p));
    }
  }
  const Fn = scheme.frost.utils.Fn;
  let share = Fn.ZERO;
  for (const j of ctx.helpers.keys()) {
    const sigma = scalarOf(scheme, sg[j], 'repair sigma', j);
    if (!mulG(scheme, sigma).equals(expected.get(j) as Pt)) {
      throw new CulpritError('BAD_SHARE', j, 'repair sigma does not match the commitments');
    }
    share = Fn.add(share, sigma);
  }
  if (!mulG(scheme, share).equals(pubPoint(scheme, pub.verifyingShares[lostId]))) {
    throw new ConclaveError('DISAGREEMENT', 'repaired share does not match the public key package');
  }
  return { signingShare: scalarHex(scheme, share) };
}
