/**
 * JSON-safe (hex) wrappers over noble's FROST (RFC 9591) with culprit attribution.
 *
 * noble validates everything but throws untyped errors on the first bad input without saying whose
 * input it was; these wrappers check each party's contribution on its own first so an abort can
 * name the misbehaving identifier.
 *
 * Nonce safety (what this module does and does not guarantee):
 *  - signCommit returns fresh random nonces every call.
 *  - signShare refuses nonces that do not match the caller's own entry in the commitment list,
 *    and refuses all-zero nonces (the "consumed" marker produced by consumeNonces) with NONCE_REUSE.
 *  - This module is stateless and works on hex copies, so it CANNOT notice that the same nonces are
 *    used twice. The caller (party database layer) MUST store nonces encrypted, keyed by
 *    commitmentId(), and atomically mark them consumed (overwrite with consumeNonces() or delete)
 *    BEFORE releasing a signature share; a share signed with reused nonces on two different messages
 *    reveals the signing share.
 */
import type { DKG_Round1, DKG_Secret, FrostPublic, NonceCommitments } from '@noble/curves/abstract/frost.js';
import { ConclaveError, CulpritError } from '../errors.js';
import { equalBytes, fromHex, toHex, transcriptHash, type Field } from './encoding.js';
import type { Scheme } from './schemes.js';

/** Public DKG round-1 broadcast (hex). */
export interface Round1Pkg {
  identifier: string;
  commitment: string[];
  proofOfKnowledge: string;
}

/** Public key package (hex); commitments[0] is the group public key. */
export interface PublicPackage {
  threshold: number;
  total: number;
  commitments: string[];
  verifyingShares: Record<string, string>;
}

/**
 * JSON form of noble's DKG_Secret. SECRET: `coefficients` and `round2Cache` hold key material, so
 * store it only through at-rest encryption (purpose 'round-state'). Scalars are canonical scalar hex.
 */
export interface DkgState {
  v: 1;
  scheme: string;
  identifier: string;
  coefficients?: string[];
  commitment: string[];
  signers: { min: number; max: number };
  round1Cache?: Round1Pkg[];
  round2Cache?: Record<string, { identifier: string; signingShare: string }>;
  step?: 1 | 2 | 3;
}

/** Secret signing nonces (hex). */
export interface SigningNonces {
  hiding: string;
  binding: string;
}

/** Public nonce commitments broadcast in signing round 1 (hex). */
export interface SigningCommitment {
  identifier: string;
  hiding: string;
  binding: string;
}

type Rng = (bytesLength?: number) => Uint8Array<ArrayBuffer>;

const bad = (msg: string) => new ConclaveError('BAD_INPUT', msg);

function isObject(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

function isStringArray(x: unknown): x is string[] {
  return Array.isArray(x) && x.every((e) => typeof e === 'string');
}

function isCanonicalIdentifier(scheme: Scheme, id: unknown): id is string {
  if (typeof id !== 'string') return false;
  const Fn = scheme.frost.utils.Fn;
  try {
    const n = Fn.fromBytes(fromHex(id, 'identifier'));
    return !Fn.is0(n) && toHex(Fn.toBytes(n)) === id;
  } catch {
    return false;
  }
}

function assertIdentifier(scheme: Scheme, id: unknown, what = 'identifier'): string {
  if (!isCanonicalIdentifier(scheme, id)) throw bad(`${what} is not a canonical identifier`);
  return id;
}

/** Decodes a canonical scalar (share, nonce, coefficient); throws BAD_INPUT naming only `what`. */
function scalarBytes(scheme: Scheme, hex: unknown, what: string): Uint8Array<ArrayBuffer> {
  const Fn = scheme.frost.utils.Fn;
  if (typeof hex !== 'string') throw bad(`${what} must be a hex string`);
  const b = fromHex(hex, what);
  if (b.length !== Fn.BYTES) throw bad(`${what} must be ${Fn.BYTES} bytes`);
  try {
    Fn.fromBytes(b);
  } catch {
    throw bad(`${what} is not a valid scalar`);
  }
  return b;
}

function cmpHex(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

// ---------- identifiers and DKG state ----------

/** FROST identifier for participant `index` (1..n). */
export function identifierFor(scheme: Scheme, index: number): string {
  if (!Number.isSafeInteger(index) || index < 1) throw bad('participant index must be an integer >= 1');
  return scheme.frost.Identifier.fromNumber(index);
}

function round1ToNoble(p: Round1Pkg): DKG_Round1 {
  return {
    identifier: p.identifier,
    commitment: p.commitment.map((c) => fromHex(c, 'commitment')),
    proofOfKnowledge: fromHex(p.proofOfKnowledge, 'proofOfKnowledge'),
  };
}

function round1FromNoble(p: DKG_Round1): Round1Pkg {
  return {
    identifier: p.identifier,
    commitment: p.commitment.map((c) => toHex(c)),
    proofOfKnowledge: toHex(p.proofOfKnowledge),
  };
}

function isRound1Shape(p: unknown): p is Round1Pkg {
  return (
    isObject(p) &&
    typeof p.identifier === 'string' &&
    isStringArray(p.commitment) &&
    typeof p.proofOfKnowledge === 'string'
  );
}

/** Serialises noble's mutable DKG state to JSON-safe form. */
export function dkgStateFromNoble(scheme: Scheme, s: DKG_Secret): DkgState {
  const Fn = scheme.frost.utils.Fn;
  const out: DkgState = {
    v: 1,
    scheme: scheme.name,
    identifier: toHex(Fn.toBytes(s.identifier)),
    commitment: s.commitment.map((c) => toHex(c)),
    signers: { min: s.signers.min, max: s.signers.max },
  };
  if (s.coefficients) out.coefficients = s.coefficients.map((c) => toHex(Fn.toBytes(c)));
  if (s.round1Cache) out.round1Cache = s.round1Cache.map(round1FromNoble);
  if (s.round2Cache) {
    out.round2Cache = {};
    for (const [k, v] of Object.entries(s.round2Cache)) {
      out.round2Cache[k] = { identifier: v.identifier, signingShare: toHex(v.signingShare) };
    }
  }
  if (s.step !== undefined) out.step = s.step;
  return out;
}

/** Rebuilds noble's DKG state from its JSON form; any shape error is BAD_INPUT 'invalid DKG state'. */
export function dkgStateToNoble(scheme: Scheme, state: DkgState): DKG_Secret {
  const invalid = (why: string) => bad(`invalid DKG state: ${why}`);
  if (!isObject(state) || state.v !== 1) throw invalid('unknown version');
  if (state.scheme !== scheme.name) throw invalid('belongs to another scheme');
  if (!isCanonicalIdentifier(scheme, state.identifier)) throw invalid('identifier');
  const sg = state.signers;
  if (!isObject(sg) || !Number.isSafeInteger(sg.min) || !Number.isSafeInteger(sg.max))
    throw invalid('signers');
  if (!isStringArray(state.commitment)) throw invalid('commitment');
  if (state.step !== undefined && state.step !== 1 && state.step !== 2 && state.step !== 3)
    throw invalid('step');
  const Fn = scheme.frost.utils.Fn;
  try {
    const s: DKG_Secret = {
      identifier: Fn.fromBytes(fromHex(state.identifier, 'identifier')),
      commitment: state.commitment.map((c) => fromHex(c, 'commitment')),
      signers: { min: sg.min, max: sg.max },
    };
    if (state.coefficients !== undefined) {
      if (!isStringArray(state.coefficients)) throw invalid('coefficients');
      s.coefficients = state.coefficients.map((c) => Fn.fromBytes(scalarBytes(scheme, c, 'coefficient')));
    }
    if (state.round1Cache !== undefined) {
      if (!Array.isArray(state.round1Cache) || !state.round1Cache.every(isRound1Shape))
        throw invalid('round1Cache');
      s.round1Cache = state.round1Cache.map(round1ToNoble);
    }
    if (state.round2Cache !== undefined) {
      if (!isObject(state.round2Cache)) throw invalid('round2Cache');
      const r2: NonNullable<DKG_Secret['round2Cache']> = {};
      for (const [k, v] of Object.entries(state.round2Cache)) {
        if (!isObject(v) || typeof v.identifier !== 'string') throw invalid('round2Cache');
        r2[k] = { identifier: v.identifier, signingShare: scalarBytes(scheme, v.signingShare, 'share') };
      }
      s.round2Cache = r2;
    }
    if (state.step !== undefined) s.step = state.step;
    return s;
  } catch (e) {
    if (e instanceof ConclaveError && e.message.startsWith('invalid DKG state')) throw e;
    throw invalid('malformed field');
  }
}

// ---------- DKG ----------

export function dkgRound1(
  scheme: Scheme,
  identifier: string,
  threshold: number,
  total: number,
): { pkg: Round1Pkg; state: DkgState } {
  assertIdentifier(scheme, identifier);
  if (
    !Number.isSafeInteger(threshold) ||
    !Number.isSafeInteger(total) ||
    threshold < 2 ||
    threshold > total
  ) {
    throw bad('threshold must be an integer with 2 <= threshold <= total');
  }
  const r = scheme.frost.DKG.round1(identifier, { min: threshold, max: total });
  return { pkg: round1FromNoble(r.public), state: dkgStateFromNoble(scheme, r.secret) };
}

/**
 * Runs each package alone through noble's round2 in a throw-away DKG whose other participants are
 * synthetic valid packages; the first package noble rejects is the culprit.
 */
function findRejectedRound1(scheme: Scheme, signers: { min: number; max: number }, pkgs: DKG_Round1[]) {
  const f = scheme.frost;
  const taken = new Set(pkgs.map((p) => p.identifier));
  let counter = 0;
  const freshId = (): string => {
    for (;;) {
      const id = f.Identifier.derive(`conclave/dkg-probe/${counter++}`);
      if (!taken.has(id)) {
        taken.add(id);
        return id;
      }
    }
  };
  const fillers: DKG_Round1[] = [];
  for (let i = 0; i < signers.max - 2; i++) fillers.push(f.DKG.round1(freshId(), signers).public);
  const probeId = freshId();
  for (const p of pkgs) {
    const probe = f.DKG.round1(probeId, signers).secret;
    try {
      f.DKG.round2(probe, [p, ...fillers]);
    } catch {
      return p;
    } finally {
      f.DKG.clean(probe);
    }
  }
  return undefined;
}

/** Validates the others' round-1 packages (naming the culprit on failure) and decodes them. */
function checkRound1Packages(scheme: Scheme, own: DKG_Secret, others: unknown): DKG_Round1[] {
  const { min, max } = own.signers;
  if (!Array.isArray(others) || others.length !== max - 1) {
    throw bad(`expected ${max - 1} round-1 packages from the other participants`);
  }
  const ownId = toHex(scheme.frost.utils.Fn.toBytes(own.identifier));
  const seen = new Set<string>();
  const out: DKG_Round1[] = [];
  for (const p of others as unknown[]) {
    const id = isObject(p) ? p.identifier : undefined;
    if (!isCanonicalIdentifier(scheme, id)) throw bad('round-1 package has a non-canonical identifier');
    if (id === ownId) throw bad('round-1 package carries this participant’s own identifier');
    if (seen.has(id)) throw bad('duplicate round-1 package identifier');
    seen.add(id);
    if (!isRound1Shape(p)) throw new CulpritError('BAD_PROOF', id, 'malformed round-1 package');
    let n: DKG_Round1;
    try {
      n = round1ToNoble(p);
    } catch {
      throw new CulpritError('BAD_PROOF', id, 'malformed round-1 package');
    }
    if (n.commitment.length !== min) {
      throw new CulpritError(
        'BAD_PROOF',
        id,
        `wrong number of commitments (expected ${min}, got ${n.commitment.length})`,
      );
    }
    if (!n.commitment.every((c) => scheme.isValidPoint(c))) {
      throw new CulpritError('BAD_PROOF', id, 'invalid commitment point');
    }
    out.push(n);
  }
  return out;
}

/** Returns the next state and one SECRET share per recipient: send each only via sealDirect. */
export function dkgRound2(
  scheme: Scheme,
  state: DkgState,
  others: Round1Pkg[],
): { state: DkgState; shares: Record<string, string> } {
  const s = dkgStateToNoble(scheme, state);
  if (!s.coefficients || (s.step !== 1 && s.step !== 2)) throw bad('DKG state is not ready for round 2');
  const pkgs = checkRound1Packages(scheme, s, others);
  const retry = s.round2Cache !== undefined;
  let res: Record<string, { signingShare: Uint8Array }>;
  try {
    res = scheme.frost.DKG.round2(s, pkgs);
  } catch {
    // A retry with different packages means someone equivocated (or the caller mixed ceremonies).
    if (retry) throw new ConclaveError('DISAGREEMENT', 'round-1 packages differ from those already answered');
    const culprit = findRejectedRound1(scheme, s.signers, pkgs);
    if (culprit) throw new CulpritError('BAD_PROOF', culprit.identifier, 'bad proof of knowledge');
    throw bad('round-1 packages were rejected');
  }
  const shares: Record<string, string> = {};
  for (const [to, pkg] of Object.entries(res)) shares[to] = toHex(pkg.signingShare);
  return { state: dkgStateFromNoble(scheme, s), shares };
}

function round1Key(p: DKG_Round1): string {
  return JSON.stringify([p.identifier, p.commitment.map((c) => toHex(c)), toHex(p.proofOfKnowledge)]);
}

export function dkgRound3(
  scheme: Scheme,
  state: DkgState,
  others: Round1Pkg[],
  received: Array<{ from: string; share: string }>,
): { signingShare: string; identifier: string; public: PublicPackage } {
  const f = scheme.frost;
  const s = dkgStateToNoble(scheme, state);
  if (s.step !== 2 || !s.coefficients || !s.round1Cache) throw bad('DKG state is not ready for round 3');
  const ownId = toHex(f.utils.Fn.toBytes(s.identifier));

  // The packages must be exactly those this party answered in round 2.
  if (!Array.isArray(others) || !others.every(isRound1Shape)) throw bad('round-1 packages are malformed');
  let supplied: DKG_Round1[];
  try {
    supplied = others.map(round1ToNoble);
  } catch {
    throw bad('round-1 packages are malformed');
  }
  const cached = new Map(s.round1Cache.map((p) => [p.identifier, p]));
  const a = supplied.map(round1Key).sort();
  const b = s.round1Cache.map(round1Key).sort();
  if (a.length !== b.length || a.some((k, i) => k !== b[i])) {
    throw new ConclaveError('DISAGREEMENT', 'round-1 packages differ from those used in round 2');
  }

  if (!Array.isArray(received) || received.length !== cached.size) {
    throw bad(`expected ${cached.size} round-2 shares`);
  }
  const seen = new Set<string>();
  const round2: Array<{ identifier: string; signingShare: Uint8Array<ArrayBuffer> }> = [];
  for (const r of received as unknown[]) {
    const from = isObject(r) ? r.from : undefined;
    if (typeof from !== 'string' || !cached.has(from)) throw bad('round-2 share from an unknown participant');
    if (seen.has(from)) throw bad('duplicate round-2 share');
    seen.add(from);
    let share: Uint8Array<ArrayBuffer>;
    try {
      share = scalarBytes(scheme, (r as { share?: unknown }).share, 'share');
    } catch {
      throw new CulpritError('BAD_SHARE', from, 'malformed share');
    }
    // Feldman VSS: share·G must equal Σ C_k·id^k over the sender's authenticated commitment.
    const senderCommitment = (cached.get(from) as DKG_Round1).commitment;
    try {
      f.validateSecret(
        { identifier: ownId, signingShare: share },
        { signers: s.signers, commitments: senderCommitment, verifyingShares: {} },
      );
    } catch {
      throw new CulpritError('BAD_SHARE', from, 'share does not match its commitment');
    }
    round2.push({ identifier: from, signingShare: share });
  }

  let key: ReturnType<typeof f.DKG.round3>;
  try {
    key = f.DKG.round3(s, s.round1Cache, round2);
  } catch {
    throw bad('DKG round 3 failed');
  }
  return {
    signingShare: toHex(key.secret.signingShare),
    identifier: key.secret.identifier,
    public: publicFromNoble(key.public),
  };
}

function publicFromNoble(p: FrostPublic): PublicPackage {
  const verifyingShares: Record<string, string> = {};
  for (const [k, v] of Object.entries(p.verifyingShares)) verifyingShares[k] = toHex(v);
  return {
    threshold: p.signers.min,
    total: p.signers.max,
    commitments: p.commitments.map((c) => toHex(c)),
    verifyingShares,
  };
}

/**
 * Public packages are validated once per process (each point costs a subgroup check) and then
 * reused: they are public data, and every signature of a wallet uses the same one.
 */
const validatedPublic = new Map<string, FrostPublic>();
const validatedPublicLimit = 1024;

function publicToNoble(scheme: Scheme, pub: PublicPackage): FrostPublic {
  let key: string;
  try {
    key = `${scheme.name}|${JSON.stringify(pub)}`;
  } catch {
    throw bad('invalid public key package');
  }
  const cached = validatedPublic.get(key);
  if (cached) return cached;
  const decoded = decodePublic(scheme, pub);
  if (validatedPublic.size >= validatedPublicLimit)
    validatedPublic.delete(validatedPublic.keys().next().value!);
  validatedPublic.set(key, decoded);
  return decoded;
}

function decodePublic(scheme: Scheme, pub: PublicPackage): FrostPublic {
  const invalid = () => bad('invalid public key package');
  if (!isObject(pub)) throw invalid();
  const { threshold, total, commitments, verifyingShares } = pub;
  if (
    !Number.isSafeInteger(threshold) ||
    !Number.isSafeInteger(total) ||
    threshold < 2 ||
    threshold > total
  ) {
    throw invalid();
  }
  if (!isStringArray(commitments) || commitments.length !== threshold || !isObject(verifyingShares)) {
    throw invalid();
  }
  const vs: Record<string, Uint8Array<ArrayBuffer>> = {};
  try {
    for (const [k, v] of Object.entries(verifyingShares)) {
      if (!isCanonicalIdentifier(scheme, k) || typeof v !== 'string') throw invalid();
      vs[k] = fromHex(v, 'verifying share');
      if (!scheme.isValidPoint(vs[k])) throw invalid();
    }
    const cs = commitments.map((c) => fromHex(c, 'commitment'));
    if (!cs.every((c) => scheme.isValidPoint(c))) throw invalid();
    return { signers: { min: threshold, max: total }, commitments: cs, verifyingShares: vs };
  } catch {
    throw invalid();
  }
}

/**
 * Order-independent hash over every round-1 package and the final public package; all parties must
 * obtain the same value (compare it to detect a split view of the DKG).
 */
export function dkgTranscriptHash(all: Round1Pkg[], pub: PublicPackage): string {
  if (!Array.isArray(all) || !all.every(isRound1Shape)) throw bad('round-1 packages are malformed');
  const sorted = [...all].sort((a, b) => cmpHex(a.identifier, b.identifier));
  for (let i = 1; i < sorted.length; i++) {
    if ((sorted[i] as Round1Pkg).identifier === (sorted[i - 1] as Round1Pkg).identifier) {
      throw bad('duplicate round-1 package identifier');
    }
  }
  if (!isObject(pub) || !isStringArray(pub.commitments) || !isObject(pub.verifyingShares)) {
    throw bad('invalid public key package');
  }
  const fields: Field[] = ['conclave/dkg-transcript/v1', sorted.length];
  for (const p of sorted) {
    fields.push(p.identifier, p.commitment.length);
    for (const c of p.commitment) fields.push(fromHex(c, 'commitment'));
    fields.push(fromHex(p.proofOfKnowledge, 'proofOfKnowledge'));
  }
  fields.push(pub.threshold, pub.total, pub.commitments.length);
  for (const c of pub.commitments) fields.push(fromHex(c, 'commitment'));
  const vs = Object.entries(pub.verifyingShares).sort(([a], [b]) => cmpHex(a, b));
  fields.push(vs.length);
  for (const [id, v] of vs) {
    if (typeof v !== 'string') throw bad('invalid public key package');
    fields.push(id, fromHex(v, 'verifying share'));
  }
  return transcriptHash(fields);
}

// ---------- signing ----------

/**
 * Signing round 1: fresh nonces and their public commitments. `rng` exists only for known-answer
 * tests (RFC 9591 vectors); production callers must omit it.
 */
export function signCommit(
  scheme: Scheme,
  identifier: string,
  signingShare: string,
  rng?: Rng,
): { nonces: SigningNonces; commitments: SigningCommitment } {
  assertIdentifier(scheme, identifier);
  const share = scalarBytes(scheme, signingShare, 'signing share');
  const g = rng
    ? scheme.signer.commit({ identifier, signingShare: share }, rng)
    : scheme.signer.commit({ identifier, signingShare: share });
  share.fill(0);
  return {
    nonces: { hiding: toHex(g.nonces.hiding), binding: toHex(g.nonces.binding) },
    commitments: {
      identifier: g.commitments.identifier,
      hiding: toHex(g.commitments.hiding),
      binding: toHex(g.commitments.binding),
    },
  };
}

/** Stable id of a commitment pair: the key under which the caller records the nonces as consumed. */
export function commitmentId(c: SigningCommitment): string {
  return transcriptHash([
    'conclave/frost-commitment/v1',
    c.identifier,
    fromHex(c.hiding, 'hiding commitment'),
    fromHex(c.binding, 'binding commitment'),
  ]);
}

/** The "consumed" marker for stored nonces: signShare refuses it with NONCE_REUSE. */
export function consumeNonces(nonces: SigningNonces): SigningNonces {
  return { hiding: '0'.repeat(nonces.hiding.length), binding: '0'.repeat(nonces.binding.length) };
}

/** Checks one signer's round-1 commitment on receipt; a bad one names its sender. */
export function validateCommitment(scheme: Scheme, c: SigningCommitment): void {
  if (!isObject(c) || !isCanonicalIdentifier(scheme, c.identifier))
    throw bad('commitment has no valid identifier');
  let ok = false;
  try {
    ok =
      typeof c.hiding === 'string' &&
      typeof c.binding === 'string' &&
      scheme.isValidPoint(fromHex(c.hiding, 'hiding')) &&
      scheme.isValidPoint(fromHex(c.binding, 'binding'));
  } catch {
    ok = false;
  }
  if (!ok) throw new CulpritError('TAMPERED', c.identifier, 'invalid nonce commitment');
}

function commitmentsToNoble(
  scheme: Scheme,
  pub: FrostPublic,
  list: SigningCommitment[],
  checkPoints = true,
): NonceCommitments[] {
  if (!Array.isArray(list) || list.length < pub.signers.min || list.length > pub.signers.max) {
    throw bad(`commitment list must have between ${pub.signers.min} and ${pub.signers.max} entries`);
  }
  const seen = new Set<string>();
  return list.map((c) => {
    if (checkPoints) validateCommitment(scheme, c);
    else if (!isObject(c) || !isCanonicalIdentifier(scheme, c.identifier)) {
      throw bad('commitment has no valid identifier');
    }
    if (seen.has(c.identifier)) throw bad('duplicate identifier in commitment list');
    seen.add(c.identifier);
    if (!(c.identifier in pub.verifyingShares)) throw bad('commitment list names a non-participant');
    return {
      identifier: c.identifier,
      hiding: fromHex(c.hiding, 'hiding'),
      binding: fromHex(c.binding, 'binding'),
    };
  });
}

function assertMsg(msg: unknown): asserts msg is Uint8Array {
  if (!(msg instanceof Uint8Array)) throw bad('message must be bytes');
}

/** Signing round 2: this participant's signature share (hex). */
export function signShare(
  scheme: Scheme,
  identifier: string,
  signingShare: string,
  pub: PublicPackage,
  nonces: SigningNonces,
  commitmentList: SigningCommitment[],
  msg: Uint8Array,
): string {
  assertMsg(msg);
  assertIdentifier(scheme, identifier);
  const np = publicToNoble(scheme, pub);
  const share = scalarBytes(scheme, signingShare, 'signing share');
  const vs = np.verifyingShares[identifier];
  if (!vs || !equalBytes(scheme.scalarBaseMult(share), vs)) {
    throw bad('signing share does not match the public key package');
  }
  if (!isObject(nonces)) throw bad('nonces are malformed');
  const hiding = scalarBytes(scheme, nonces.hiding, 'hiding nonce');
  const binding = scalarBytes(scheme, nonces.binding, 'binding nonce');
  if (hiding.every((x) => x === 0) || binding.every((x) => x === 0)) {
    throw new ConclaveError('NONCE_REUSE', 'signing nonces were already used');
  }
  // noble validates every point as it parses it; our per-commitment checks run only to blame
  const cl = commitmentsToNoble(scheme, np, commitmentList, false);
  const own = cl.find((c) => c.identifier === identifier);
  if (!own) throw bad('own commitment is missing from the commitment list');
  try {
    // noble checks the own commitment against these nonces before it signs
    return toHex(
      scheme.signer.signShare({ identifier, signingShare: share }, np, { hiding, binding }, cl, msg),
    );
  } catch (err) {
    if (err instanceof Error && err.message === 'incorrect signer commitment')
      throw bad('own commitment in the commitment list does not match these nonces');
    commitmentList.forEach((c) => validateCommitment(scheme, c)); // throws naming a bad committer
    throw bad('signature share could not be computed');
  } finally {
    share.fill(0);
    hiding.fill(0);
    binding.fill(0);
  }
}

function sharesToBytes(scheme: Scheme, cl: NonceCommitments[], shares: unknown): Record<string, Uint8Array> {
  if (!isObject(shares)) throw bad('signature shares must be an object');
  const ids = new Set(cl.map((c) => c.identifier));
  for (const k of Object.keys(shares)) {
    if (!ids.has(k)) throw bad('signature share from a participant not in the commitment list');
  }
  const out: Record<string, Uint8Array> = {};
  for (const c of cl) {
    const v = shares[c.identifier];
    if (v === undefined) throw bad('signature share missing for a committed signer');
    try {
      out[c.identifier] = scalarBytes(scheme, v, 'signature share');
    } catch {
      throw new CulpritError('BAD_SHARE', c.identifier, 'malformed signature share');
    }
  }
  return out;
}

function verifyDecoded(
  scheme: Scheme,
  np: FrostPublic,
  cl: NonceCommitments[],
  msg: Uint8Array,
  shares: Record<string, Uint8Array>,
): void {
  for (const c of cl) {
    let ok = false;
    try {
      ok = scheme.signer.verifyShare(np, cl, msg, c.identifier, shares[c.identifier] as Uint8Array);
    } catch {
      ok = false;
    }
    if (!ok) throw new CulpritError('BAD_SHARE', c.identifier, 'signature share does not verify');
  }
}

/** Verifies every share in commitment-list order; the first bad one is named. */
export function verifySignatureShares(
  scheme: Scheme,
  pub: PublicPackage,
  commitmentList: SigningCommitment[],
  msg: Uint8Array,
  shares: Record<string, string>,
): void {
  assertMsg(msg);
  const np = publicToNoble(scheme, pub);
  const cl = commitmentsToNoble(scheme, np, commitmentList);
  verifyDecoded(scheme, np, cl, msg, sharesToBytes(scheme, cl, shares));
}

/**
 * Aggregates and checks the result against the group key; returns the hex signature. Shares are
 * verified one by one only when that fails (RFC 9591 §5.4), to name the signer at fault: a valid
 * final signature already proves every share was right, at a fraction of the cost.
 */
export function aggregateSignature(
  scheme: Scheme,
  pub: PublicPackage,
  commitmentList: SigningCommitment[],
  msg: Uint8Array,
  shares: Record<string, string>,
): string {
  assertMsg(msg);
  const np = publicToNoble(scheme, pub);
  const cl = commitmentsToNoble(scheme, np, commitmentList, false);
  const bytes = sharesToBytes(scheme, cl, shares);
  try {
    const sig = scheme.signer.aggregate(np, cl, msg, bytes);
    if (scheme.verify(sig, msg, np.commitments[0] as Uint8Array)) return toHex(sig);
  } catch {
    // fall through to blame
  }
  commitmentList.forEach((c) => validateCommitment(scheme, c));
  verifyDecoded(scheme, np, cl, msg, bytes);
  // Every commitment and share checked out, so the public package itself is inconsistent.
  throw new ConclaveError('DISAGREEMENT', 'aggregated signature does not verify under the group public key');
}

// ---------- key tweaks (HD derivation, BIP341) ----------

/**
 * An affine change of a shared key: secret' = (negate ? -secret : secret) + add. Every share
 * changes the same way, so the shares stay a sharing of the new key and nobody learns anything:
 * the polynomial f becomes ±f + add, its commitments ±C0 + add·G, ±C1.., and each verifying
 * share ±Y_i + add·G. `add` is a canonical scalar (hex).
 */
export interface KeyTweak {
  negate: boolean;
  add: string;
}

export function isIdentityTweak(t: KeyTweak): boolean {
  return !t.negate && /^0+$/.test(t.add);
}

function tweakScalar(scheme: Scheme, t: KeyTweak): bigint {
  return scheme.frost.utils.Fn.fromBytes(scalarBytes(scheme, t.add, 'tweak'));
}

/** The public key package of the tweaked key. */
export function tweakPublicPackage(scheme: Scheme, pub: PublicPackage, t: KeyTweak): PublicPackage {
  if (isIdentityTweak(t)) return pub;
  publicToNoble(scheme, pub); // validates every point first
  const P = scheme.Point;
  const add = tweakScalar(scheme, t);
  const addG = add === 0n ? P.ZERO : P.BASE.multiply(add);
  const map = (hex: string, shift: boolean) => {
    let p = P.fromBytes(fromHex(hex, 'point'));
    if (t.negate) p = p.negate();
    if (shift) p = p.add(addG);
    if (p.is0()) throw bad('the tweaked key is the identity');
    return toHex(p.toBytes());
  };
  return {
    threshold: pub.threshold,
    total: pub.total,
    commitments: pub.commitments.map((c, i) => map(c, i === 0)),
    verifyingShares: Object.fromEntries(
      Object.entries(pub.verifyingShares).map(([id, y]) => [id, map(y, true)]),
    ),
  };
}

/** A participant's signing share of the tweaked key (hex). SECRET, like its input. */
export function tweakSigningShare(scheme: Scheme, signingShare: string, t: KeyTweak): string {
  if (isIdentityTweak(t)) return signingShare;
  const Fn = scheme.frost.utils.Fn;
  const share = scalarBytes(scheme, signingShare, 'signing share');
  try {
    const s = Fn.fromBytes(share);
    return toHex(Fn.toBytes(Fn.add(t.negate ? Fn.neg(s) : s, tweakScalar(scheme, t))));
  } finally {
    share.fill(0);
  }
}

/** Whether two public key packages are the same, whatever order their fields were stored in. */
export function samePublicPackage(a: PublicPackage, b: PublicPackage): boolean {
  const canon = (p: PublicPackage) =>
    JSON.stringify([
      p.threshold,
      p.total,
      p.commitments,
      Object.entries(p.verifyingShares ?? {}).sort(([x], [y]) => (x < y ? -1 : x > y ? 1 : 0)),
    ]);
  return canon(a) === canon(b);
}
