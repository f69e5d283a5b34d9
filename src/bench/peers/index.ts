/**
 * Peers measured in the same run as Conclave's in-process crypto floor, each row next to
 * Conclave's comparable floor figure, with the ratio conclave / peer (above 1: Conclave is slower):
 *
 * - noble's bare FROST Ed25519 (the library under Conclave's FROST) against the Ed25519 2-of-3 floor;
 * - Silence Laboratories' DKLs23 (WASM) against the dkls23-secp256k1 2-of-3 floor, part by part;
 * - bnb-chain tss-lib v2 (Go): its ECDSA (GG18, another protocol) against the DKLs23 floor, its
 *   EdDSA against the Ed25519 floor.
 *
 * Every peer runs all its parties in this one machine's one process, on one core, with no
 * network, no database, no orchestration, as the floor does. A peer that cannot run here is a row
 * "not measured" with the reason, never a number.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { EcdsaFloorResult, FloorResult } from '../floor.js';
import type { Summary } from '../stats.js';
import { measureNobleFrost, type NobleFrostResult, type PeerSizes } from './noble-frost.js';
import { measureSilenceDkls, type SilenceDklsResult } from './silence-dkls.js';
import { measureTssLib, type TssLibResult } from './tss-lib.js';

export type { PeerSample, PeerSizes } from './noble-frost.js';

export interface PeerRow {
  /** What the peer did, e.g. 'noble FROST ed25519 2-of-3 sign'. */
  name: string;
  peer: string;
  /** Name of Conclave's row it is compared with (a floor row of the bench). */
  conclave: string;
  /** Conclave's p50 (ms), when Conclave's floor was measured in this run. */
  conclaveP50?: number;
  /** Set when the peer was measured: its samples' summary and conclaveP50 / p50. */
  n?: number;
  p50?: number;
  p95?: number;
  p99?: number;
  mean?: number;
  ratio?: number;
  /** Set when it was not: why. */
  notMeasured?: string;
}

export interface PeersResult {
  rows: PeerRow[];
  noble?: NobleFrostResult;
  silence?: SilenceDklsResult;
  tssLib?: TssLibResult;
  notes: string[];
}

export interface PeersOptions {
  /** noble and Silence: the floor's sizes; tss-lib: `sign.signRuns` signatures, one key generation. */
  sizes: PeerSizes & { ecdsaKeygenRuns: number };
  /** Conclave's floors measured in this run: FROST Ed25519 2-of-3 and dkls23-secp256k1 2-of-3. */
  conclave: { ed25519?: FloorResult; dkls23?: EcdsaFloorResult };
  /** Build and run tss-lib's Go program (true by default). */
  tssLib?: boolean;
  /** For tss-lib: the Go executable to build with (found by default). */
  goBinary?: string;
  log?: (line: string) => void;
}

const ed25519Floor = {
  keygen: 'floor keygen ed25519 2-of-3',
  sign: 'floor sign ed25519 2-of-3',
};
const dklsFloor = {
  keygen: 'floor keygen dkls23-secp256k1 2-of-3 (DKG + OT setups + zero seeds)',
  presign: 'floor presign dkls23-secp256k1 2-of-3 (rounds 1+2 + finish)',
  online: 'floor online dkls23-secp256k1 2-of-3 (online + combine)',
  sign: 'floor sign dkls23-secp256k1 2-of-3 (full protocol)',
};

/** A row of a measured peer; no ratio when Conclave's figure is missing. */
function measured(name: string, peer: string, conclave: string, s: Summary, conclaveP50?: number): PeerRow {
  const row: PeerRow = { name, peer, conclave, n: s.n, p50: s.p50, p95: s.p95, p99: s.p99, mean: s.mean };
  if (conclaveP50 !== undefined) {
    row.conclaveP50 = conclaveP50;
    row.ratio = conclaveP50 / s.p50;
  }
  return row;
}

const notMeasured = (name: string, peer: string, conclave: string, reason: string, conclaveP50?: number) => ({
  name,
  peer,
  conclave,
  ...(conclaveP50 !== undefined ? { conclaveP50 } : {}),
  notMeasured: reason,
});

const reasonOf = (err: unknown) => (err instanceof Error ? err.message : String(err));

/** @noble/curves' version, from the package.json next to its entry (its exports do not list package.json). */
function nobleVersion(): string {
  try {
    const entry = createRequire(import.meta.url).resolve('@noble/curves/ed25519.js');
    return (JSON.parse(readFileSync(join(dirname(entry), 'package.json'), 'utf8')) as { version: string })
      .version;
  } catch {
    return 'unknown';
  }
}

export async function measurePeers(opts: PeersOptions): Promise<PeersResult> {
  const log = opts.log ?? (() => undefined);
  const { ed25519, dkls23 } = opts.conclave;
  const rows: PeerRow[] = [];
  const result: PeersResult = { rows, notes: [] };

  // noble FROST Ed25519
  {
    const peer = '@noble/curves';
    log(
      `peer noble FROST ed25519 2-of-3: ${opts.sizes.keygenRuns} DKGs, ${opts.sizes.signRuns} signatures in-process`,
    );
    try {
      const r = await measureNobleFrost(opts.sizes, nobleVersion());
      result.noble = r;
      const v = `${peer}@${r.version} ed25519_FROST`;
      rows.push(
        measured(
          'noble FROST ed25519 2-of-3 keygen (DKG)',
          v,
          ed25519Floor.keygen,
          r.keygen,
          ed25519?.keygen.p50,
        ),
        measured('noble FROST ed25519 2-of-3 sign', v, ed25519Floor.sign, r.sign, ed25519?.sign.p50),
      );
    } catch (err) {
      for (const what of ['keygen', 'sign'] as const)
        rows.push(
          notMeasured(
            `noble FROST ed25519 2-of-3 ${what === 'keygen' ? 'keygen (DKG)' : 'sign'}`,
            peer,
            ed25519Floor[what],
            reasonOf(err),
            ed25519?.[what].p50,
          ),
        );
    }
  }

  // Silence Laboratories DKLs23
  {
    const peer = '@silencelaboratories/dkls-wasm-ll-node';
    const names = {
      keygen: 'Silence DKLs23 2-of-3 keygen (DKG with OT seeds)',
      presign: 'Silence DKLs23 2-of-3 presign (share load + 3 rounds)',
      online: 'Silence DKLs23 2-of-3 online (last message + combine)',
      sign: 'Silence DKLs23 2-of-3 sign (full)',
    } as const;
    log(
      `peer Silence Labs DKLs23 2-of-3: ${opts.sizes.ecdsaKeygenRuns} key generations, ${opts.sizes.signRuns} signatures in-process`,
    );
    try {
      const r = await measureSilenceDkls({ ...opts.sizes, keygenRuns: opts.sizes.ecdsaKeygenRuns });
      result.silence = r;
      for (const what of ['keygen', 'presign', 'online', 'sign'] as const)
        rows.push(
          measured(names[what], `${peer}@${r.version}`, dklsFloor[what], r[what], dkls23?.[what].p50),
        );
    } catch (err) {
      for (const what of ['keygen', 'presign', 'online', 'sign'] as const)
        rows.push(notMeasured(names[what], peer, dklsFloor[what], reasonOf(err), dkls23?.[what].p50));
    }
  }

  // bnb-chain tss-lib v2 (Go)
  if (opts.tssLib ?? true) {
    const peer = 'github.com/bnb-chain/tss-lib/v2';
    const names = [
      [
        'tss-lib ECDSA (GG18) 2-of-3 keygen (Paillier pre-params cached)',
        dklsFloor.keygen,
        dkls23?.keygen.p50,
      ],
      ['tss-lib ECDSA (GG18) 2-of-3 sign', dklsFloor.sign, dkls23?.sign.p50],
      ['tss-lib EdDSA 2-of-3 keygen', ed25519Floor.keygen, ed25519?.keygen.p50],
      ['tss-lib EdDSA 2-of-3 sign', ed25519Floor.sign, ed25519?.sign.p50],
    ] as const;
    log(`peer tss-lib 2-of-3 ECDSA and EdDSA: 1 key generation, ${opts.sizes.signRuns} signatures each`);
    const r = await measureTssLib({
      signRuns: opts.sizes.signRuns,
      warmup: opts.sizes.warmup,
      goBinary: opts.goBinary,
      log,
    });
    result.tssLib = r;
    if (r.measured) {
      const v = `${peer}@${r.version}`;
      const summaries = [r.ecdsa.keygen, r.ecdsa.sign, r.eddsa?.keygen, r.eddsa?.sign];
      names.forEach(([name, conclave, p50], i) => {
        const s = summaries[i];
        rows.push(
          s ? measured(name, v, conclave, s, p50) : notMeasured(name, v, conclave, 'not in its output', p50),
        );
      });
      result.notes.push(
        `tss-lib: ${r.go}, GOMAXPROCS=${r.gomaxprocs}; its ECDSA is GG18 (Paillier MtA with range proofs), not DKLs23; key generation timed from cached Paillier pre-parameters (${r.preParams.cached ? 'read from the cache' : `generated in this run in ${((r.preParams.generateMs ?? 0) / 1000).toFixed(0)} s`})`,
      );
    } else {
      for (const [name, conclave, p50] of names) rows.push(notMeasured(name, peer, conclave, r.reason, p50));
    }
  }

  result.notes.push(
    'peers: ratio = Conclave floor p50 / peer p50 (above 1: Conclave slower); every peer runs all its parties in this process, one core, messages in memory',
  );
  if (result.noble)
    result.notes.push(
      "peers: Conclave's FROST runs on noble's, so noble's ratio is what Conclave adds in process: signed and encrypted envelopes, sealed round states and shares, request and transcript checks",
    );
  if (result.silence)
    result.notes.push(
      "peers: both pre-signatures are complete before the message is known (Conclave's presign is rounds 1-2 and the finish, which checks and finishes the multiplications); Conclave's online row is every signer's online step (re-randomised, under the path's tweak, with its proof) and one combine at the coordinator, Silence's both parties' last message and both parties' combine",
    );
  return result;
}
