/**
 * Zero-sharing for DKLs23 (Functionality 3.4 of Doerner–Kondi–Lee–shelat, "Threshold ECDSA in Three
 * Rounds", 2023, realised as the paper suggests with pairwise seeds and a PRF).
 *
 * Setup, once per key and per pair of parties {i, j}: both commit to a random contribution, then both
 * reveal; the pairwise seed is a hash of the two contributions. Because each contribution is fixed by a
 * commitment before the other is seen, neither party chooses the seed.
 *
 * Per signing session: party i's share is ζ_i = Σ_{j ∈ S, j ≠ i} ±PRF(seed_ij, sessionId), with sign +
 * when i < j and − otherwise, so the shares of any signer set S sum to zero and are fresh per session.
 *
 * The seeds are SECRET (whoever holds seed_ij can compute that pair's term): store them with the key
 * share through at-rest encryption.
 *
 * Every hash is ./transcript.ts's length-prefixed, domain-separated hashFields under a 'dkls23/…' tag.
 */
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { ConclaveError, CulpritError } from '../../errors.js';
import { equalBytes, fromHex, toHex, type Field } from '../encoding.js';
import { hashFields, hashFieldsToNonzeroScalar } from './transcript.js';

const Fn = secp256k1.Point.Fn;

const bad = (msg: string) => new ConclaveError('BAD_INPUT', msg);

// ---------- helpers ----------

/** Deterministic JSON with sorted object keys: a stable digest input for opaque (JSON) values. */
export function stableStringify(x: unknown): string {
  if (x === null || typeof x !== 'object') {
    const s = JSON.stringify(x);
    if (s === undefined) throw bad('value is not JSON');
    return s;
  }
  if (Array.isArray(x)) return `[${x.map(stableStringify).join(',')}]`;
  const entries = Object.entries(x as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${stableStringify(v)}`).join(',')}}`;
}

// ---------- identifiers ----------

/** Canonical identifier: 32-byte big-endian hex of a non-zero scalar (what frost.ts identifierFor returns). */
export function isIdentifier(id: unknown): id is string {
  if (typeof id !== 'string' || !/^[0-9a-f]{64}$/.test(id)) return false;
  const n = BigInt(`0x${id}`);
  return n !== 0n && n < Fn.ORDER;
}

export function assertIdentifier(id: unknown, what = 'identifier'): string {
  if (!isIdentifier(id)) throw bad(`${what} is not a canonical identifier`);
  return id;
}

function assertPeers(self: string, peers: unknown): string[] {
  assertIdentifier(self);
  if (!Array.isArray(peers) || peers.length === 0) throw bad('peers must be a non-empty list');
  const seen = new Set<string>();
  for (const p of peers) {
    assertIdentifier(p, 'peer identifier');
    if (p === self) throw bad('peers must not include this party');
    if (seen.has(p)) throw bad('duplicate peer identifier');
    seen.add(p);
  }
  return [...seen].sort();
}

function isObject(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

// ---------- pairwise seed agreement (commit, then reveal) ----------

export interface ZeroSeedCommitMsg {
  v: 1;
  kind: 'zero-seed/commit';
  context: string;
  from: string;
  to: string;
  commitment: string;
}

export interface ZeroSeedRevealMsg {
  v: 1;
  kind: 'zero-seed/reveal';
  context: string;
  from: string;
  to: string;
  contribution: string;
  salt: string;
}

/** SECRET until the reveal: store encrypted (purpose 'round-state'). */
export interface ZeroSeedState {
  v: 1;
  kind: 'zero-seed/state';
  step: 1 | 2;
  context: string;
  identifier: string;
  peers: string[];
  own: Record<string, { contribution: string; salt: string; commitment: string }>;
  /** Peers' commitments, recorded in step 2 (the reveal is only sent after they are fixed). */
  theirs?: Record<string, string>;
}

function seedCommitment(context: string, from: string, to: string, contribution: string, salt: string) {
  return toHex(
    hashFields(
      'dkls23/zero-seed/commit',
      fromHex(context, 'context'),
      from,
      to,
      fromHex(contribution, 'contribution'),
      fromHex(salt, 'salt'),
    ),
  );
}

function assertContext(context: unknown): string {
  if (typeof context !== 'string' || context.length === 0) throw bad('context must be non-empty hex');
  fromHex(context, 'context');
  return context;
}

/**
 * Step 1: a fresh contribution per peer, committed. `context` (hex) binds the seeds to one key, e.g. its
 * DKG transcript hash; `seed` is 32+ fresh random bytes (a retry with the same seed gives the same output).
 */
export function zeroSeedsRound1(
  identifier: string,
  peers: string[],
  context: string,
  seed: Uint8Array,
): { state: ZeroSeedState; messages: Record<string, ZeroSeedCommitMsg> } {
  const ps = assertPeers(identifier, peers);
  assertContext(context);
  if (!(seed instanceof Uint8Array) || seed.length < 32) throw bad('seed must be at least 32 random bytes');
  const own: ZeroSeedState['own'] = {};
  const messages: Record<string, ZeroSeedCommitMsg> = {};
  for (const p of ps) {
    const base: Field[] = [seed, fromHex(context, 'context'), identifier, p];
    const contribution = toHex(hashFields('dkls23/zero-seed/contribution', ...base));
    const salt = toHex(hashFields('dkls23/zero-seed/salt', ...base));
    const commitment = seedCommitment(context, identifier, p, contribution, salt);
    own[p] = { contribution, salt, commitment };
    messages[p] = { v: 1, kind: 'zero-seed/commit', context, from: identifier, to: p, commitment };
  }
  return { state: { v: 1, kind: 'zero-seed/state', step: 1, context, identifier, peers: ps, own }, messages };
}

function assertSeedState(state: unknown): ZeroSeedState {
  if (!isObject(state) || state.v !== 1 || state.kind !== 'zero-seed/state')
    throw bad('invalid zero-seed state');
  return state as unknown as ZeroSeedState;
}

/** Collects exactly one well-addressed message per peer; a misaddressed or foreign one names its sender. */
function byPeer<T extends { from: string; to: string; context: string; kind: string }>(
  state: ZeroSeedState,
  received: unknown,
  kind: T['kind'],
): Map<string, T> {
  if (!Array.isArray(received) || received.length !== state.peers.length) {
    throw bad(`expected ${state.peers.length} messages, one from each peer`);
  }
  const out = new Map<string, T>();
  for (const m of received as unknown[]) {
    const from = isObject(m) ? m.from : undefined;
    if (typeof from !== 'string' || !state.peers.includes(from)) throw bad('message from an unknown party');
    if (out.has(from)) throw bad('duplicate message from one peer');
    const msg = m as Record<string, unknown>;
    if (msg.v !== 1 || msg.kind !== kind) throw new CulpritError('TAMPERED', from, `not a ${kind} message`);
    if (msg.to !== state.identifier)
      throw new CulpritError('TAMPERED', from, 'message addressed to another party');
    if (msg.context !== state.context)
      throw new CulpritError('REPLAY', from, 'message for another key context');
    out.set(from, m as T);
  }
  return out;
}

/** Step 2: records every peer's commitment, then reveals this party's contributions. */
export function zeroSeedsRound2(
  state: ZeroSeedState,
  received: ZeroSeedCommitMsg[],
): { state: ZeroSeedState; messages: Record<string, ZeroSeedRevealMsg> } {
  const s = assertSeedState(state);
  const msgs = byPeer<ZeroSeedCommitMsg>(s, received, 'zero-seed/commit');
  const theirs: Record<string, string> = {};
  for (const [from, m] of msgs) {
    if (typeof m.commitment !== 'string' || !/^[0-9a-f]{64}$/.test(m.commitment)) {
      throw new CulpritError('BAD_PROOF', from, 'malformed seed commitment');
    }
    theirs[from] = m.commitment;
  }
  if (s.step === 2 && s.theirs) {
    // A retry must answer the very same commitments (else a peer is trying to see our reveal first).
    if (s.peers.some((p) => s.theirs?.[p] !== theirs[p])) {
      throw new ConclaveError('DISAGREEMENT', 'seed commitments differ from those already answered');
    }
  } else if (s.step !== 1) {
    throw bad('zero-seed state is not ready for step 2');
  }
  const messages: Record<string, ZeroSeedRevealMsg> = {};
  for (const p of s.peers) {
    const o = s.own[p];
    if (!o) throw bad('invalid zero-seed state');
    messages[p] = {
      v: 1,
      kind: 'zero-seed/reveal',
      context: s.context,
      from: s.identifier,
      to: p,
      contribution: o.contribution,
      salt: o.salt,
    };
  }
  return { state: { ...s, step: 2, theirs }, messages };
}

/** Step 3: checks each reveal against its commitment and returns the pairwise seeds (SECRET, hex). */
export function zeroSeedsFinish(state: ZeroSeedState, received: ZeroSeedRevealMsg[]): Record<string, string> {
  const s = assertSeedState(state);
  if (s.step !== 2 || !s.theirs) throw bad('zero-seed state is not ready to finish');
  const msgs = byPeer<ZeroSeedRevealMsg>(s, received, 'zero-seed/reveal');
  const seeds: Record<string, string> = {};
  for (const [from, m] of msgs) {
    const ok =
      typeof m.contribution === 'string' &&
      /^[0-9a-f]{64}$/.test(m.contribution) &&
      typeof m.salt === 'string' &&
      /^[0-9a-f]{64}$/.test(m.salt) &&
      equalBytes(
        fromHex(seedCommitment(s.context, from, s.identifier, m.contribution, m.salt), 'commitment'),
        fromHex(s.theirs[from] as string, 'commitment'),
      );
    if (!ok) throw new CulpritError('BAD_PROOF', from, 'seed reveal does not open its commitment');
    const mine = s.own[from];
    if (!mine) throw bad('invalid zero-seed state');
    const [lo, hi] = s.identifier < from ? [s.identifier, from] : [from, s.identifier];
    const [cLo, cHi] =
      s.identifier < from ? [mine.contribution, m.contribution] : [m.contribution, mine.contribution];
    seeds[from] = toHex(
      hashFields(
        'dkls23/zero-seed/pair',
        fromHex(s.context, 'context'),
        lo,
        hi,
        fromHex(cLo, 'contribution'),
        fromHex(cHi, 'contribution'),
      ),
    );
  }
  return seeds;
}

// ---------- per-session zero shares ----------

/**
 * This party's signed pairwise terms for signer set `signers` in session `sessionId`: term[j] =
 * +PRF(seed_ij, sid) if self < j, else −PRF(seed_ij, sid); so term_i[j] + term_j[i] = 0 for every pair.
 */
export function zeroShareTerms(
  identifier: string,
  seeds: Record<string, string>,
  signers: string[],
  sessionId: Uint8Array,
): Record<string, bigint> {
  assertIdentifier(identifier);
  if (!(sessionId instanceof Uint8Array) || sessionId.length === 0) throw bad('session id must be bytes');
  if (!Array.isArray(signers) || !signers.includes(identifier)) throw bad('signers must include this party');
  if (!isObject(seeds)) throw bad('zero-share seeds must be an object');
  const peers = assertPeers(
    identifier,
    signers.filter((s) => s !== identifier),
  );
  const terms: Record<string, bigint> = {};
  for (const p of peers) {
    const seed = seeds[p];
    if (typeof seed !== 'string' || !/^[0-9a-f]{64}$/.test(seed))
      throw bad('missing zero-share seed for a signer');
    const [lo, hi] = identifier < p ? [identifier, p] : [p, identifier];
    const prf = hashFieldsToNonzeroScalar('dkls23/zero-share/prf', fromHex(seed, 'seed'), sessionId, lo, hi);
    terms[p] = identifier < p ? prf : Fn.neg(prf);
  }
  return terms;
}

/** ζ_i: this party's zero share (Σ over the signer set is 0 mod n). SECRET. */
export function zeroShare(
  identifier: string,
  seeds: Record<string, string>,
  signers: string[],
  sessionId: Uint8Array,
): bigint {
  return Object.values(zeroShareTerms(identifier, seeds, signers, sessionId)).reduce(
    (a, b) => Fn.add(a, b),
    0n,
  );
}
