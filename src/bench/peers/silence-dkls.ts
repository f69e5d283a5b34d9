/**
 * Peer: Silence Laboratories' DKLs23 (`@silencelaboratories/dkls-wasm-ll-node`, WASM), 2-of-3,
 * every party in this process, messages passed in memory as the package's README does.
 *
 * - keygen: the whole DKG of three parties (its key shares carry the pairwise OT seeds, as
 *   Conclave's key generation with its pair setup does);
 * - presign: each signer's key share loaded from its bytes (as Conclave's floor opens its sealed
 *   share), then the three message rounds that end in a pre-signature;
 * - online: the last message over the 32-byte hash, and the combination into (r, s);
 * - sign: presign + online.
 *
 * The package is a devDependency under Silence Laboratories' non-commercial licence; it is loaded
 * when measured, so the bench still runs (with this peer "not measured") without it.
 */
import { randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';
import { now, summarize, type Summary } from '../stats.js';
import type { PeerSample, PeerSizes } from './noble-frost.js';

type Dkls = typeof import('@silencelaboratories/dkls-wasm-ll-node');
type Message = InstanceType<Dkls['Message']>;
type Keyshare = InstanceType<Dkls['Keyshare']>;

export const silencePackage = '@silencelaboratories/dkls-wasm-ll-node';

export interface SilenceDklsResult {
  peer: string;
  version: string;
  keygen: Summary;
  presign: Summary;
  online: Summary;
  sign: Summary;
  keygenSamples: number[];
  presignSamples: number[];
  onlineSamples: number[];
  signSamples: number[];
  /** Bytes of one party's serialized key share. */
  keyshareBytes: number;
  /** The last signature (secp256k1, compressed key, r || s over the 32-byte hash). */
  sample: PeerSample;
}

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const yieldToEventLoop = () => new Promise<void>((resolve) => setImmediate(resolve));

/** The package and its version, or why it cannot be loaded. */
export async function loadSilence(): Promise<{ dkls: Dkls; version: string } | { error: string }> {
  try {
    const dkls = (await import(silencePackage)) as Dkls;
    const require = createRequire(import.meta.url);
    const version = (require(`${silencePackage}/package.json`) as { version: string }).version;
    return { dkls, version };
  } catch (err) {
    return {
      error: `${silencePackage} could not be loaded (${err instanceof Error ? err.message : String(err)})`,
    };
  }
}

/** Broadcasts from everyone but `party`, and the messages addressed to `party`; clones, as handleMessages consumes them. */
const broadcastTo = (msgs: Message[], party: number) =>
  msgs.filter((m) => m.from_id !== party).map((m) => m.clone());
const directTo = (msgs: Message[], party: number) =>
  msgs.filter((m) => m.to_id === party).map((m) => m.clone());
const free = (...batches: Message[][]) => batches.flat().forEach((m) => m.free());

/** One whole DKG of `n` parties with threshold `t`; returns every party's key share. */
export function silenceDkg(dkls: Dkls, n = 3, t = 2): Keyshare[] {
  const parties = Array.from({ length: n }, (_, i) => new dkls.KeygenSession(n, t, i));
  const msg1 = parties.map((p) => p.createFirstMessage());
  const msg2 = parties.flatMap((p, i) => p.handleMessages(broadcastTo(msg1, i)));
  const commitments = parties.map((p) => p.calculateChainCodeCommitment());
  const msg3 = parties.flatMap((p, i) => p.handleMessages(directTo(msg2, i)));
  const msg4 = parties.flatMap((p, i) => p.handleMessages(directTo(msg3, i), commitments));
  parties.forEach((p, i) => p.handleMessages(broadcastTo(msg4, i)));
  free(msg1, msg2, msg3, msg4);
  return parties.map((p) => p.keyshare());
}

export interface SilenceSignature {
  r: Uint8Array;
  s: Uint8Array;
  presignMs: number;
  onlineMs: number;
}

/** One signature by the parties whose serialized shares are given (their ids are in the shares). */
export function silenceSign(dkls: Dkls, shares: Uint8Array[], messageHash: Uint8Array): SilenceSignature {
  const began = now();
  const keyshares = shares.map((b) => dkls.Keyshare.fromBytes(b));
  const ids = keyshares.map((k) => k.partyId);
  // a session consumes its key share
  const parties = keyshares.map((k) => new dkls.SignSession(k, 'm'));
  const msg1 = parties.map((p) => p.createFirstMessage());
  const msg2 = parties.flatMap((p, i) => p.handleMessages(broadcastTo(msg1, ids[i]!)));
  const msg3 = parties.flatMap((p, i) => p.handleMessages(directTo(msg2, ids[i]!)));
  parties.forEach((p, i) => p.handleMessages(directTo(msg3, ids[i]!)));
  const presigned = now();
  const msg4 = parties.map((p) => p.lastMessage(messageHash));
  // combine consumes the session
  const signatures = parties.map((p, i) => p.combine(broadcastTo(msg4, ids[i]!)) as [Uint8Array, Uint8Array]);
  const end = now();
  free(msg1, msg2, msg3, msg4);
  const [r, s] = signatures[0]!;
  return { r, s, presignMs: presigned - began, onlineMs: end - presigned };
}

export async function measureSilenceDkls(sizes: PeerSizes): Promise<SilenceDklsResult> {
  const loaded = await loadSilence();
  if ('error' in loaded) throw new Error(loaded.error);
  const { dkls, version } = loaded;
  if (sizes.keygenRuns < 1) throw new Error('Silence DKLs23: at least one key generation is needed');
  // Key generations are not warmed up, as Conclave's DKLs23 floor's are not (seconds each).
  const keygenSamples: number[] = [];
  let shares: Uint8Array[] = [];
  let publicKey: Uint8Array = new Uint8Array();
  for (let i = 0; i < sizes.keygenRuns; i++) {
    await yieldToEventLoop();
    const start = now();
    const keyshares = silenceDkg(dkls);
    keygenSamples.push(now() - start);
    publicKey = keyshares[0]!.publicKey;
    shares = keyshares.map((k) => k.toBytes());
    keyshares.forEach((k) => k.free());
  }
  // parties 0 and 2 sign (any two would do)
  const signing = [shares[0]!, shares[2]!];
  const presignSamples: number[] = [];
  const onlineSamples: number[] = [];
  const signSamples: number[] = [];
  let sample: PeerSample | undefined;
  for (let i = 0; i < sizes.warmup + sizes.signRuns; i++) {
    const hash = randomBytes(32);
    await yieldToEventLoop();
    const start = now();
    const sig = silenceSign(dkls, signing, hash);
    const ms = now() - start;
    if (i < sizes.warmup) continue;
    signSamples.push(ms);
    presignSamples.push(sig.presignMs);
    onlineSamples.push(sig.onlineMs);
    sample = { publicKey: hex(publicKey), message: hex(hash), signature: hex(sig.r) + hex(sig.s) };
  }
  if (!sample) throw new Error('Silence DKLs23: no signature was measured');
  return {
    peer: silencePackage,
    version,
    keygen: summarize(keygenSamples),
    presign: summarize(presignSamples),
    online: summarize(onlineSamples),
    sign: summarize(signSamples),
    keygenSamples,
    presignSamples,
    onlineSamples,
    signSamples,
    keyshareBytes: shares[0]!.length,
    sample,
  };
}
