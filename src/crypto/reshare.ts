/**
 * Verifiable resharing of a FROST key to a new committee and/or threshold (Desmedt–Jajodia,
 * Wong–Wang–Wing style). The group key stays the same; every share changes. Rotation (proactive
 * refresh) is the special case "same identifiers, same threshold".
 *
 * Notation: G the base point; oldPub the current public package with verifying shares Y_i = s_i·G;
 * D the dealers, |D| ≥ oldPub.threshold old identifiers; t' the new threshold; N' the new
 * identifiers (x_j is identifier j as a scalar); λ_i = Π_{m∈D, m≠i} x_m / (x_m − x_i), the Lagrange
 * coefficient of dealer i at 0 over D, so Σ_{i∈D} λ_i·s_i = s (the group secret).
 *
 * Dealer i ∈ D (reshareDeal):
 *   draws g_i(x) = λ_i·s_i + a_i1·x + … + a_i,t'−1·x^{t'−1} with fresh random a_ik;
 *   broadcasts commitment G_ik = g_ik·G (k = 0..t'−1);                        PUBLIC
 *   sends each new participant j privately g_i(x_j).                          SECRET (caller encrypts)
 * Anyone (verifyReshareCommitment): exactly t' canonical non-identity points and G_i0 = λ_i·Y_i,
 *   i.e. the dealer reshares its real share and not some other value; else BAD_PROOF naming i.
 * New participant j (reshareReceive), for every dealer i: the commitment check above, then
 *   g_i(x_j)·G = Σ_k G_ik·x_j^k (Feldman), else BAD_SHARE naming i. Its new share is
 *   s'_j = Σ_i g_i(x_j), a point on g = Σ_i g_i with g(0) = Σ_i λ_i·s_i = s.
 * Everyone (resharePublic): C'_k = Σ_i G_ik, Y'_m = Σ_k C'_k·x_m^k for every m ∈ N'; C'_0 must be the
 *   old group key (DISAGREEMENT otherwise: oldPub's verifying shares do not interpolate to it).
 *   Parties must compare the resulting package (e.g. its hash) so nobody was shown other commitments.
 *
 * Secret: the old shares s_i, the polynomials g_i and the sub-shares g_i(x_j), the new shares s'_j.
 * Old and new shares are points on unrelated polynomials, so after the old shares are erased a
 * mix of old and new shares is useless (fewer than t' new shares reveal nothing about s).
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

/** One dealer's output: `commitment` is broadcast, `shares[newId]` goes privately to newId. */
export interface ReshareDeal {
  commitment: string[];
  /** SECRET: sub-share g_i(x_j) per new identifier (scalar hex). */
  shares: Record<string, string>;
}

/** A list of distinct canonical identifiers, as scalars keyed by identifier. */
function idList(scheme: Scheme, ids: unknown, what: string): Map<string, bigint> {
  if (!Array.isArray(ids)) throw bad(`${what} must be an array of identifiers`);
  const out = new Map<string, bigint>();
  for (const id of ids as unknown[]) {
    const x = idScalar(scheme, id, what);
    if (out.has(id as string)) throw bad(`${what} contains a duplicate identifier`);
    out.set(id as string, x);
  }
  return out;
}

function checkPublicShape(pub: unknown): asserts pub is PublicPackage {
  if (
    !isObject(pub) ||
    !Number.isSafeInteger(pub.threshold) ||
    !Number.isSafeInteger(pub.total) ||
    (pub.threshold as number) < 2 ||
    (pub.threshold as number) > (pub.total as number) ||
    !Array.isArray(pub.commitments) ||
    pub.commitments.length !== pub.threshold ||
    !isObject(pub.verifyingShares)
  ) {
    throw bad('invalid public key package');
  }
}

/** Σ_k C_k·x^k over public points (x ≠ 0, so every power is a valid nonzero scalar). */
function evalCommitment(scheme: Scheme, c: Pt[], x: bigint): Pt {
  const Fn = scheme.frost.utils.Fn;
  let acc = pointsOf(scheme).ZERO;
  let pow = Fn.ONE;
  for (const ck of c) {
    acc = acc.add(ck.multiplyUnsafe(pow));
    pow = Fn.mul(pow, x);
  }
  return acc;
}

/** Lagrange coefficient of `xi` at 0 over `xs` (which contains xi). */
function lagrangeAtZero(scheme: Scheme, xs: bigint[], xi: bigint): bigint {
  const Fn = scheme.frost.utils.Fn;
  let num = Fn.ONE;
  let den = Fn.ONE;
  for (const xm of xs) {
    if (xm === xi) continue;
    num = Fn.mul(num, xm);
    den = Fn.mul(den, Fn.sub(xm, xi));
  }
  return Fn.div(num, den);
}

/** Validated dealer set: identifier → x_i. */
type Dealers = Map<string, bigint>;

function dealerSet(scheme: Scheme, oldPub: PublicPackage, dealers: unknown): Dealers {
  checkPublicShape(oldPub);
  const d = idList(scheme, dealers, 'dealers');
  for (const id of d.keys()) {
    if (!Object.hasOwn(oldPub.verifyingShares, id)) throw bad('a dealer is not a participant of the old key');
  }
  if (d.size < oldPub.threshold) throw bad(`at least ${oldPub.threshold} dealers are required`);
  return d;
}

function thresholdOf(t: unknown, max: number): number {
  if (!Number.isSafeInteger(t) || (t as number) < 2 || (t as number) > max) {
    throw bad('new threshold must be an integer with 2 <= threshold <= number of new identifiers');
  }
  return t as number;
}

interface Context {
  dealers: Dealers;
  newIds: Map<string, bigint>;
  t: number;
}

/** Shared input validation (see the module header for the rules). */
function context(
  scheme: Scheme,
  oldPub: PublicPackage,
  dealers: unknown,
  newThreshold: unknown,
  newIds: unknown,
): Context {
  const d = dealerSet(scheme, oldPub, dealers);
  const n = idList(scheme, newIds, 'new identifiers');
  return { dealers: d, newIds: n, t: thresholdOf(newThreshold, n.size) };
}

function dealerLambda(scheme: Scheme, dealers: Dealers, dealerId: string): bigint {
  const xi = dealers.get(dealerId);
  if (xi === undefined) throw bad('dealer is not among the dealers');
  return lagrangeAtZero(scheme, [...dealers.values()], xi);
}

/** Checks dealer i's broadcast and decodes it; failures name the dealer. */
function checkCommitment(
  scheme: Scheme,
  oldPub: PublicPackage,
  dealers: Dealers,
  t: number,
  dealerId: string,
  commitment: unknown,
): Pt[] {
  const lambda = dealerLambda(scheme, dealers, dealerId);
  if (!Array.isArray(commitment) || commitment.length !== t) {
    throw new CulpritError('BAD_PROOF', dealerId, `reshare commitment must have ${t} points`);
  }
  const pts = (commitment as unknown[]).map((c) => tryPoint(scheme, c));
  if (!pts.every((p): p is Pt => p !== undefined)) {
    throw new CulpritError('BAD_PROOF', dealerId, 'invalid reshare commitment point');
  }
  const yi = pubPoint(scheme, oldPub.verifyingShares[dealerId]);
  // G_i0 = λ_i·Y_i binds the dealt constant term to the dealer's real share.
  if (!(pts[0] as Pt).equals(yi.multiplyUnsafe(lambda))) {
    throw new CulpritError('BAD_PROOF', dealerId, 'reshare commitment does not match the dealer’s share');
  }
  return pts;
}

/** Dealer i's contribution. `rng` exists only for tests; production callers must omit it. */
export function reshareDeal(
  scheme: Scheme,
  oldPub: PublicPackage,
  dealers: string[],
  dealerId: string,
  dealerShare: string,
  newThreshold: number,
  newIds: string[],
  rng?: Rng,
): ReshareDeal {
  const ctx = context(scheme, oldPub, dealers, newThreshold, newIds);
  const lambda = dealerLambda(scheme, ctx.dealers, dealerId);
  const Fn = scheme.frost.utils.Fn;
  const s = scalarOf(scheme, dealerShare, 'dealer share');
  // Refuse to deal from a share that is not ours: every receiver would blame us anyway.
  if (!mulG(scheme, s).equals(pubPoint(scheme, oldPub.verifyingShares[dealerId]))) {
    throw bad('dealer share does not match the old public key package');
  }
  const coeffs = [Fn.mul(lambda, s)];
  for (let k = 1; k < ctx.t; k++) {
    const r = rng ? scheme.frost.utils.randomScalar(rng) : scheme.frost.utils.randomScalar();
    coeffs.push(Fn.fromBytes(r));
    r.fill(0);
  }
  const commitment = coeffs.map((c) => toHex(mulG(scheme, c).toBytes()));
  const shares: Record<string, string> = {};
  for (const [id, x] of ctx.newIds) {
    let v = Fn.ZERO; // Horner: g_i(x)
    for (let k = coeffs.length - 1; k >= 0; k--) v = Fn.add(Fn.mul(v, x), coeffs[k] as bigint);
    shares[id] = scalarHex(scheme, v);
  }
  return { commitment, shares };
}

/** Public check of one dealer's broadcast; throws BAD_PROOF naming the dealer. */
export function verifyReshareCommitment(
  scheme: Scheme,
  oldPub: PublicPackage,
  dealers: string[],
  dealerId: string,
  commitment: string[],
  newThreshold: number,
): void {
  const d = dealerSet(scheme, oldPub, dealers);
  // The new committee does not enter this check; only t' (its size bound is checked elsewhere).
  checkCommitment(
    scheme,
    oldPub,
    d,
    thresholdOf(newThreshold, Number.MAX_SAFE_INTEGER),
    dealerId,
    commitment,
  );
}

/** Checks every dealer's commitment and returns them decoded, in dealer order. */
function allCommitments(
  scheme: Scheme,
  oldPub: PublicPackage,
  ctx: Context,
  byDealer: Record<string, unknown>,
): Map<string, Pt[]> {
  if (!isObject(byDealer)) throw bad('dealer contributions must be an object keyed by dealer');
  for (const k of Object.keys(byDealer)) {
    if (!ctx.dealers.has(k)) throw bad('contribution from an identifier that is not a dealer');
  }
  const out = new Map<string, Pt[]>();
  for (const id of ctx.dealers.keys()) {
    if (!Object.hasOwn(byDealer, id)) throw bad('a dealer’s contribution is missing');
    out.set(id, checkCommitment(scheme, oldPub, ctx.dealers, ctx.t, id, byDealer[id]));
  }
  return out;
}

function combine(scheme: Scheme, oldPub: PublicPackage, ctx: Context, cs: Map<string, Pt[]>): PublicPackage {
  const P = pointsOf(scheme);
  const sum: Pt[] = Array.from({ length: ctx.t }, () => P.ZERO);
  for (const c of cs.values()) c.forEach((p, k) => (sum[k] = (sum[k] as Pt).add(p)));
  if (!(sum[0] as Pt).equals(pubPoint(scheme, oldPub.commitments[0]))) {
    throw new ConclaveError('DISAGREEMENT', 'reshared key differs from the old group key');
  }
  // An identity here would drop the effective degree (or is unencodable): never from honest dealers.
  if (sum.some((p) => p.is0()))
    throw new ConclaveError('DISAGREEMENT', 'reshared commitment is the identity');
  const ids = [...ctx.newIds.keys()].sort();
  const verifyingShares: Record<string, string> = {};
  for (const id of ids) {
    const y = evalCommitment(scheme, sum, ctx.newIds.get(id) as bigint);
    if (y.is0()) throw new ConclaveError('DISAGREEMENT', 'a new verifying share is the identity');
    verifyingShares[id] = toHex(y.toBytes());
  }
  return {
    threshold: ctx.t,
    total: ctx.newIds.size,
    commitments: sum.map((p) => toHex(p.toBytes())),
    verifyingShares,
  };
}

/** The new public package from the dealers' commitments alone (what the coordinator and every party compute and compare). */
export function resharePublic(
  scheme: Scheme,
  oldPub: PublicPackage,
  dealers: string[],
  newThreshold: number,
  newIds: string[],
  commitments: Record<string, string[]>,
): PublicPackage {
  const ctx = context(scheme, oldPub, dealers, newThreshold, newIds);
  return combine(scheme, oldPub, ctx, allCommitments(scheme, oldPub, ctx, commitments));
}

/** New participant `myNewId`: verifies every dealer's sub-share and returns its new share and key package. */
export function reshareReceive(
  scheme: Scheme,
  oldPub: PublicPackage,
  dealers: string[],
  newThreshold: number,
  newIds: string[],
  myNewId: string,
  received: Record<string, { commitment: string[]; share: string }>,
): { signingShare: string; public: PublicPackage } {
  const ctx = context(scheme, oldPub, dealers, newThreshold, newIds);
  const x = ctx.newIds.get(myNewId);
  if (x === undefined) throw bad('own identifier is not among the new identifiers');
  if (!isObject(received)) throw bad('received sub-shares must be an object keyed by dealer');
  const commitments: Record<string, unknown> = {};
  for (const [id, r] of Object.entries(received)) commitments[id] = isObject(r) ? r.commitment : undefined;
  const cs = allCommitments(scheme, oldPub, ctx, commitments);
  const Fn = scheme.frost.utils.Fn;
  let share = Fn.ZERO;
  for (const [id, c] of cs) {
    const v = scalarOf(scheme, (received[id] as { share?: unknown }).share, 'reshare sub-share', id);
    if (!mulG(scheme, v).equals(evalCommitment(scheme, c, x))) {
      throw new CulpritError('BAD_SHARE', id, 'reshare sub-share does not match its commitment');
    }
    share = Fn.add(share, v);
  }
  const pub = combine(scheme, oldPub, ctx, cs);
  if (!mulG(scheme, share).equals(pubPoint(scheme, pub.verifyingShares[myNewId]))) {
    throw new ConclaveError('DISAGREEMENT', 'new share does not match the new public key package');
  }
  return { signingShare: scalarHex(scheme, share), public: pub };
}
