/**
 * The bench's peers (src/bench/peers): noble's FROST and Silence Labs' DKLs23 measured with tiny
 * sizes, their signatures checked by noble's verifiers, their rows next to Conclave's floor; and
 * tss-lib's output parsed from a recorded run (its Go build is not run here: it is slow), its
 * "not measured" path without Go.
 */
import { ed25519 } from '@noble/curves/ed25519.js';
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { beforeAll, describe, expect, it } from 'vitest';
import { measureEcdsaFloor, measureFloor } from '../../src/bench/floor.js';
import { measurePeers, type PeerSample, type PeersResult } from '../../src/bench/peers/index.js';
import { measureTssLib, parseTssBenchOutput, tssLibResultOf } from '../../src/bench/peers/tss-lib.js';
import { formatPeers } from '../../src/bench/report.js';

const hex = (h: string) => Uint8Array.from(Buffer.from(h, 'hex'));
const verifyEd25519 = (s: PeerSample) => ed25519.verify(hex(s.signature), hex(s.message), hex(s.publicKey));
/** ECDSA over the 32-byte hash as given (no hashing by the verifier); high s accepted, as both peers may emit it. */
const verifySecp256k1 = (s: PeerSample) =>
  secp256k1.verify(hex(s.signature), hex(s.message), hex(s.publicKey), { prehash: false, lowS: false });
/** The same sample with one bit of the message flipped. */
const tampered = (s: PeerSample): PeerSample => ({
  ...s,
  message: (parseInt(s.message.slice(0, 2), 16) ^ 1).toString(16).padStart(2, '0') + s.message.slice(2),
});

const positive = (x: number | undefined) => {
  expect(x).toBeTypeOf('number');
  expect(Number.isFinite(x)).toBe(true);
  expect(x).toBeGreaterThan(0);
};

describe('bench peers (noble FROST, Silence DKLs23) next to the floor', () => {
  let peers: PeersResult;
  let conclave: { ed25519: number[]; dkls23: number[] };

  beforeAll(async () => {
    const ed = await measureFloor({ threshold: 2, parties: 3, keygenRuns: 1, signRuns: 2, warmup: 0 });
    const dkls = await measureEcdsaFloor({ threshold: 2, parties: 3, keygenRuns: 1, signRuns: 2, warmup: 0 });
    conclave = {
      ed25519: [ed.keygen.p50, ed.sign.p50],
      dkls23: [dkls.keygen.p50, dkls.presign.p50, dkls.online.p50, dkls.sign.p50],
    };
    // no Go here: tss-lib's rows must say why they were not measured, and nothing may throw
    peers = await measurePeers({
      sizes: { keygenRuns: 1, signRuns: 2, warmup: 0, ecdsaKeygenRuns: 1 },
      conclave: { ed25519: ed, dkls23: dkls },
      goBinary: '/nonexistent/go',
    });
  }, 120_000);

  it("noble's FROST signature verifies under ed25519.verify", () => {
    const sample = peers.noble!.sample;
    expect(verifyEd25519(sample)).toBe(true);
    expect(verifyEd25519(tampered(sample))).toBe(false);
    expect(peers.noble!.sign.n).toBe(2);
  });

  it("Silence Labs' DKLs23 signature verifies under secp256k1.verify", () => {
    const sample = peers.silence!.sample;
    expect(hex(sample.publicKey)).toHaveLength(33);
    expect(verifySecp256k1(sample)).toBe(true);
    expect(verifySecp256k1(tampered(sample))).toBe(false);
    expect(peers.silence!.sign.n).toBe(2);
    positive(peers.silence!.keyshareBytes);
    // presign and online are the two parts of each full signature
    for (let i = 0; i < 2; i++)
      expect(peers.silence!.presignSamples[i]! + peers.silence!.onlineSamples[i]!).toBeLessThanOrEqual(
        peers.silence!.signSamples[i]! + 1e-6,
      );
  });

  it('gives every measured row a finite positive ratio conclave / peer, against its floor', () => {
    const measured = peers.rows.filter((r) => r.notMeasured === undefined);
    expect(measured.map((r) => r.name)).toEqual([
      'noble FROST ed25519 2-of-3 keygen (DKG)',
      'noble FROST ed25519 2-of-3 sign',
      'Silence DKLs23 2-of-3 keygen (DKG with OT seeds)',
      'Silence DKLs23 2-of-3 presign (share load + 3 rounds)',
      'Silence DKLs23 2-of-3 online (last message + combine)',
      'Silence DKLs23 2-of-3 sign (full)',
    ]);
    expect(measured.map((r) => r.conclaveP50)).toEqual([...conclave.ed25519, ...conclave.dkls23]);
    for (const r of measured) {
      positive(r.p50);
      positive(r.conclaveP50);
      positive(r.ratio);
      expect(r.ratio).toBeCloseTo(r.conclaveP50! / r.p50!, 10);
      expect(r.conclave).toMatch(/^floor /);
    }
  });

  it('reports tss-lib as not measured, with the reason, when there is no Go', () => {
    const tss = peers.rows.filter((r) => r.name.startsWith('tss-lib'));
    expect(tss).toHaveLength(4);
    for (const r of tss) {
      expect(r.notMeasured).toMatch(/no Go toolchain found/);
      expect(r.p50).toBeUndefined();
      expect(r.ratio).toBeUndefined();
    }
    expect(peers.tssLib).toEqual({ measured: false, reason: expect.stringMatching(/no Go toolchain/) });
    const text = formatPeers(peers);
    for (const r of peers.rows) expect(text).toContain(r.name);
    expect(text).toContain('tss-lib ECDSA (GG18) 2-of-3 sign: not measured: no Go toolchain found');
  });
});

/** Stdout of one real run of bench/peers/tss-lib (tss-lib v2.0.2, Go 1.26.8, GOMAXPROCS=1, 2 cores). */
const recordedTssBench = JSON.stringify({
  library: 'github.com/bnb-chain/tss-lib/v2',
  version: 'v2.0.2',
  go: 'go1.26.8',
  gomaxprocs: 1,
  parties: 3,
  signers: 2,
  warmup: 1,
  preParams: { path: '.conclave/bench-peers/tss-preparams.json', cached: false, generateMs: 82904.882 },
  ecdsa: {
    keygenMs: [11389.646],
    signMs: [609.649, 614.489, 633.552],
    sample: {
      publicKey: '0399f00792a71a940e7d3517f2584f551260ebbe31ec5d05bee9d1fd0a855f75b8',
      message: '4b9b07db67a51aa178382c14ac6532ff45f1d9d96a1a3447cef343b1809e6606',
      signature:
        'ca9f295da2eb1e6d9ec0cf8ee164134688efa3d2cf1d0bab55c5835f9c1e749949bb0d542458a16c7b36efc531ff5595d019419c8c168616e1ac68138a10c179',
    },
  },
  eddsa: {
    keygenMs: [506.925],
    signMs: [92.464, 93.84, 91.11],
    sample: {
      publicKey: 'b6f5b9d8a0d375cd489d3ea279ca3dea2d5337dfbd8ed6fbecf2799bcf2cee8a',
      message: '136de8d964cf9f5ace1a4c0f08b7093f7379a87441136ce138e9572741ec3e2c',
      signature:
        '758ddbdce7a7ac60e71f1f80ff03c1a06c055ecbfccdb5e0f8921246be7b74273659c4895386c5670f8e780fee0f410401ead887e3729fd77dde83a9bed7c60e',
    },
  },
});

describe('bench peer tss-lib (recorded output)', () => {
  it('parses its JSON into summaries, and its signatures verify under noble', () => {
    const out = parseTssBenchOutput(`some line of progress\n${recordedTssBench}\n`);
    const r = tssLibResultOf(out);
    if (!r.measured) throw new Error('expected a measured result');
    expect(r.version).toBe('v2.0.2');
    expect(r.gomaxprocs).toBe(1);
    expect(r.ecdsa.sign.n).toBe(3);
    expect(r.ecdsa.sign.p50).toBe(614.489);
    expect(r.ecdsa.keygen.p50).toBe(11389.646);
    expect(r.eddsa!.sign.p50).toBe(92.464);
    expect(verifySecp256k1(r.ecdsa.sample)).toBe(true);
    expect(verifySecp256k1(tampered(r.ecdsa.sample))).toBe(false);
    expect(verifyEd25519(r.eddsa!.sample)).toBe(true);
    expect(verifyEd25519(tampered(r.eddsa!.sample))).toBe(false);
  });

  it('refuses output that is not a whole 2-of-3 document', () => {
    const doc = JSON.parse(recordedTssBench) as Record<string, unknown>;
    const bad = (patch: Record<string, unknown>) => JSON.stringify({ ...doc, ...patch });
    expect(() => parseTssBenchOutput('panic: something')).toThrow(/not JSON/);
    expect(() => parseTssBenchOutput(bad({ signers: 3 }))).toThrow(/expected 2-of-3/);
    expect(() => parseTssBenchOutput(bad({ ecdsa: { ...(doc.ecdsa as object), signMs: [] } }))).toThrow(
      /ecdsa timings/,
    );
    expect(() =>
      parseTssBenchOutput(bad({ ecdsa: { ...(doc.ecdsa as object), signMs: [1, Number.NaN] } })),
    ).toThrow(/ecdsa timings/);
    expect(() =>
      parseTssBenchOutput(
        bad({ eddsa: { ...(doc.eddsa as object), sample: { publicKey: 'zz', message: '', signature: '' } } }),
      ),
    ).toThrow(/eddsa sample/);
  });

  it('is "not measured" rather than a crash when Go is missing', async () => {
    expect(await measureTssLib({ signRuns: 1, warmup: 0, goBinary: '/nonexistent/go' })).toEqual({
      measured: false,
      reason: expect.stringMatching(/^no Go toolchain found/),
    });
  });
});
