/**
 * Peer: noble's bare FROST Ed25519 (RFC 9591, `ed25519_FROST` of @noble/curves), 2-of-3, every
 * party in this process. Its DKG's three rounds on the three parties, then signing: a commitment
 * and a signature share from two signers, aggregated (noble's aggregate checks the result). No
 * envelopes, no sealed state, no validation of requests: the library alone.
 *
 * Conclave's own FROST floor runs on the same library, so the ratio of the two is what Conclave
 * adds around it in process (signed and encrypted envelopes, sealed round states and shares,
 * request validation, transcript checks).
 */
import { ed25519_FROST } from '@noble/curves/ed25519.js';
import type { DKG_Round1, DKG_Round2, Key } from '@noble/curves/abstract/frost.js';
import { randomBytes } from 'node:crypto';
import { now, summarize, type Summary } from '../stats.js';

/** One signature a peer produced, for an independent verifier (all hex). */
export interface PeerSample {
  publicKey: string;
  message: string;
  signature: string;
}

export interface PeerSizes {
  keygenRuns: number;
  signRuns: number;
  /** Untimed runs before measuring (JIT, caches). */
  warmup: number;
}

export interface NobleFrostResult {
  peer: string;
  version: string;
  keygen: Summary;
  sign: Summary;
  keygenSamples: number[];
  signSamples: number[];
  /** The last signature, for an independent check. */
  sample: PeerSample;
}

const frost = ed25519_FROST;
const signers = { min: 2, max: 3 };
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const yieldToEventLoop = () => new Promise<void>((resolve) => setImmediate(resolve));

/** One whole DKG among three in-process parties; returns every party's key. */
export function nobleDkg(): Key[] {
  const ids = [1, 2, 3].map((i) => frost.Identifier.fromNumber(i));
  const r1 = ids.map((id) => frost.DKG.round1(id, signers));
  const round1: DKG_Round1[] = r1.map((r) => r.public);
  const round2 = r1.map((r, i) =>
    frost.DKG.round2(
      r.secret,
      round1.filter((_, j) => j !== i),
    ),
  );
  return r1.map((r, i) => {
    const mine: DKG_Round2[] = round2.filter((_, j) => j !== i).map((out) => out[ids[i]!]!);
    return frost.DKG.round3(
      r.secret,
      round1.filter((_, j) => j !== i),
      mine,
    );
  });
}

/** One 2-of-3 signature by the first two parties: commit, sign shares, aggregate. */
export function nobleSign(keys: Key[], message: Uint8Array): Uint8Array {
  const signing = keys.slice(0, 2);
  const nonces = signing.map((k) => frost.commit(k.secret));
  const commitments = nonces.map((n) => n.commitments);
  const shares: Record<string, Uint8Array> = {};
  signing.forEach((k, i) => {
    shares[k.secret.identifier] = frost.signShare(
      k.secret,
      k.public,
      nonces[i]!.nonces,
      commitments,
      message,
    );
  });
  return frost.aggregate(keys[0]!.public, commitments, message, shares);
}

export async function measureNobleFrost(sizes: PeerSizes, version = 'unknown'): Promise<NobleFrostResult> {
  let keys: Key[] | undefined;
  for (let i = 0; i < sizes.warmup; i++) {
    keys = nobleDkg();
    nobleSign(keys, randomBytes(32));
  }
  const keygenSamples: number[] = [];
  for (let i = 0; i < sizes.keygenRuns; i++) {
    await yieldToEventLoop();
    const start = now();
    keys = nobleDkg();
    keygenSamples.push(now() - start);
  }
  keys ??= nobleDkg();
  const publicKey = keys[0]!.public.commitments[0]!;
  const signSamples: number[] = [];
  let sample: PeerSample | undefined;
  for (let i = 0; i < sizes.signRuns; i++) {
    const message = randomBytes(32);
    await yieldToEventLoop();
    const start = now();
    const signature = nobleSign(keys, message);
    signSamples.push(now() - start);
    sample = { publicKey: hex(publicKey), message: hex(message), signature: hex(signature) };
  }
  if (!sample) throw new Error('noble FROST: no signature was measured');
  return {
    peer: '@noble/curves ed25519_FROST',
    version,
    keygen: summarize(keygenSamples),
    sign: summarize(signSamples),
    keygenSamples,
    signSamples,
    sample,
  };
}
