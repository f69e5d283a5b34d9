import { beforeAll, describe, expect, it } from 'vitest';
import {
  EXTRA_ROWS,
  KAPPA,
  OtSetupAborted,
  ROW_BYTES,
  gf128Mul,
  isOtSetupAborted,
  kosChallenges,
  kosCombine,
  otExtReceive,
  otExtReceiverColumns,
  otExtSend,
  otExtSetupReceiverFinish,
  otExtSetupReceiverStart,
  otExtSetupSenderRespond,
  rotReceiverPads,
  rotSenderPads,
  type OtExtMsg,
  type OtExtReceiverSetup,
  type OtExtSenderSetup,
} from '../../src/crypto/ecdsa/ot-extension.js';
import { hashFields, xofFields } from '../../src/crypto/ecdsa/transcript.js';
import { expectCulprit, expectCode } from './expect-errors.js';

const te = new TextEncoder();
const bytes = (s: string) => te.encode(s);
const seedOf = (label: string) => hashFields('test/seed', label);
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const unhex = (s: string) => new Uint8Array(Buffer.from(s, 'hex'));
const clone = <T>(x: T): T => JSON.parse(JSON.stringify(x)) as T;
const bitOf = (b: Uint8Array, j: number) => ((b[j >> 3] as number) >> (j & 7)) & 1;

/** X^i as a 16-byte GF(2^128) element. */
function monomial(i: number): Uint8Array {
  const e = new Uint8Array(ROW_BYTES);
  e[i >> 3] = 1 << (i & 7);
  return e;
}

function xor(a: Uint8Array, b: Uint8Array): Uint8Array {
  return a.map((x, i) => x ^ (b[i] as number));
}

/** The message's KAPPA columns u as hex strings, and back to its packed base64. */
const columnsOf = (x: OtExtMsg): string[] => {
  const b = Buffer.from(x.u, 'base64');
  const mb = b.length / KAPPA;
  return Array.from({ length: KAPPA }, (_, i) => b.subarray(i * mb, (i + 1) * mb).toString('hex'));
};
const packCols = (cols: string[]): string => Buffer.from(cols.join(''), 'hex').toString('base64');

describe('GF(2^128) arithmetic', () => {
  const a = hashFields('gf', 1).subarray(0, 16);
  const b = hashFields('gf', 2).subarray(0, 16);
  const c = hashFields('gf', 3).subarray(0, 16);
  it('is a commutative ring with the expected reduction', () => {
    expect(hex(gf128Mul(a, b))).toBe(hex(gf128Mul(b, a)));
    expect(hex(gf128Mul(a, monomial(0)))).toBe(hex(a));
    expect(hex(gf128Mul(a, xor(b, c)))).toBe(hex(xor(gf128Mul(a, b), gf128Mul(a, c))));
    expect(hex(gf128Mul(gf128Mul(a, b), c))).toBe(hex(gf128Mul(a, gf128Mul(b, c))));
    // X^127 · X = X^128 = X^7 + X^2 + X + 1
    expect(hex(gf128Mul(monomial(127), monomial(1)))).toBe(
      hex(Uint8Array.from([0x87, ...new Array(15).fill(0)])),
    );
    expect(hex(gf128Mul(a, new Uint8Array(16)))).toBe(hex(new Uint8Array(16)));
  });
});

describe('ecdsa OT extension (KOS15 with the GF(2^128) check)', () => {
  const setupSid = bytes('ot-ext-setup');
  let senderSetup: OtExtSenderSetup;
  let receiverSetup: OtExtReceiverSetup;
  const sid = bytes('extension-session-1');
  const m = 416;
  const nonce = hashFields('nonce', 1);
  const choices = xofFields('choices', m / 8, 1);
  const padding = hashFields('padding', 1).subarray(0, EXTRA_ROWS / 8);
  let honest: { msg: OtExtMsg; rows: Uint8Array; transcript: Uint8Array };
  let delta: Uint8Array;

  // fresh deep copies, so marking one aborted does not affect the others
  const sender = () => clone(senderSetup);
  const receiver = () => clone(receiverSetup);

  beforeAll(() => {
    const s1 = otExtSetupReceiverStart(setupSid, seedOf('bob'));
    const s2 = otExtSetupSenderRespond(setupSid, seedOf('alice'), clone(s1.msg), 'bob');
    const s3 = otExtSetupReceiverFinish(clone(s1.state), clone(s2.msg), 'alice');
    senderSetup = s2.setup;
    receiverSetup = s3.setup;
    delta = unhex(senderSetup.delta);
    honest = otExtReceive(receiver(), sid, nonce, choices, padding, m);
  });

  it('setup: both sides share an id; the sender holds the seed of side Δ_i of every base OT', () => {
    expect(senderSetup.id).toBe(receiverSetup.id);
    expect(senderSetup.seeds).toHaveLength(KAPPA);
    for (let i = 0; i < KAPPA; i++) {
      const side = bitOf(delta, i) === 1 ? receiverSetup.seeds1 : receiverSetup.seeds0;
      expect(senderSetup.seeds[i]).toBe(side[i]);
    }
    // Δ is neither trivial nor all ones
    expect(delta.some((x) => x !== 0)).toBe(true);
    expect(delta.some((x) => x !== 0xff)).toBe(true);
  });

  it('extends to correlated rows q_j = t_j ⊕ x_j·Δ and agrees on the transcript', () => {
    const s = sender();
    const out = otExtSend(s, sid, m, clone(honest.msg), 'bob');
    expect(hex(out.transcript)).toBe(hex(honest.transcript));
    for (let j = 0; j < m; j++) {
      const t = honest.rows.subarray(j * ROW_BYTES, (j + 1) * ROW_BYTES);
      const q = out.rows.subarray(j * ROW_BYTES, (j + 1) * ROW_BYTES);
      expect(hex(q)).toBe(hex(bitOf(choices, j) === 1 ? xor(t, delta) : t));
    }
    expect(isOtSetupAborted(s)).toBe(false);
  });

  it('random OTs: the receiver learns exactly the message of its choice', () => {
    const out = otExtSend(sender(), sid, m, honest.msg, 'bob');
    const ctx = bytes('pads-context');
    for (const width of [1, 3]) {
      const { v0, v1 } = rotSenderPads(out.rows, out.delta, m, ctx, width);
      const vr = rotReceiverPads(honest.rows, m, ctx, width);
      const w = width * 32;
      for (let j = 0; j < m; j++) {
        const mine = hex(vr.subarray(j * w, (j + 1) * w));
        const p0 = hex(v0.subarray(j * w, (j + 1) * w));
        const p1 = hex(v1.subarray(j * w, (j + 1) * w));
        expect(mine).toBe(bitOf(choices, j) === 1 ? p1 : p0);
        expect(p0).not.toBe(p1);
      }
      // a different context gives unrelated pads
      const other = rotReceiverPads(honest.rows, m, bytes('other'), width);
      expect(hex(other.subarray(0, w))).not.toBe(hex(vr.subarray(0, w)));
    }
  });

  it('small extensions work too (m = 8)', () => {
    const c = Uint8Array.from([0b10110010]);
    const e = otExtReceive(receiver(), sid, hashFields('nonce', 9), c, padding, 8);
    const out = otExtSend(sender(), sid, 8, e.msg, 'bob');
    for (let j = 0; j < 8; j++) {
      const t = e.rows.subarray(j * 16, j * 16 + 16);
      expect(hex(out.rows.subarray(j * 16, j * 16 + 16))).toBe(hex(bitOf(c, j) ? xor(t, delta) : t));
    }
  });

  it('is deterministic', () => {
    const again = otExtReceive(receiver(), sid, nonce, choices, padding, m);
    expect(JSON.stringify(again.msg)).toBe(JSON.stringify(honest.msg));
    expect(hex(again.rows)).toBe(hex(honest.rows));
  });

  /** A cheating receiver: honest columns except that row j of column i uses the other choice bit. */
  function polychromatic(flips: Array<[number, number]>, guess?: (i: number) => boolean): OtExtMsg {
    const { t0, t1, ctx } = otExtReceiverColumns(receiver(), sid, nonce, m);
    const Mb = (m + EXTRA_ROWS) / 8;
    const xbar = new Uint8Array(Mb);
    xbar.set(choices, 0);
    xbar.set(padding, m / 8);
    const u = t0.map((c, i) => c.map((x, k) => x ^ (t1[i]?.[k] as number) ^ (xbar[k] as number)));
    for (const [i, j] of flips) {
      const col = u[i] as Uint8Array;
      col[j >> 3] = (col[j >> 3] as number) ^ (1 << (j & 7));
    }
    const chi = kosChallenges(ctx, u, m);
    const xTilde = kosCombine([xbar], m, chi);
    let tTilde = kosCombine(t0, m, chi);
    // optionally "fix" the check for a guessed Δ_i = 1 at each flipped position
    if (guess) {
      for (const [i, j] of flips) {
        if (guess(i)) tTilde = xor(tTilde, gf128Mul(chi.subarray(j * 16, j * 16 + 16), monomial(i)));
      }
    }
    return {
      nonce: hex(nonce),
      ctx: hex(ctx),
      u: Buffer.concat(u).toString('base64'),
      xTilde: hex(xTilde),
      tTilde: hex(tTilde),
    };
  }

  it('catches a receiver whose choice bits differ across columns, and aborts the setup', () => {
    const one = Array.from({ length: KAPPA }, (_, i) => i).find((i) => bitOf(delta, i) === 1) as number;
    const zero = Array.from({ length: KAPPA }, (_, i) => i).find((i) => bitOf(delta, i) === 0) as number;
    // sanity: the cheating receiver's machinery reproduces the honest message when it does not cheat
    expect(JSON.stringify(polychromatic([]))).toBe(JSON.stringify(honest.msg));

    // flip row 5 in a column where Δ_i = 1 without fixing the check: caught
    let s = sender();
    const err = expectCulprit(
      () => otExtSend(s, sid, m, polychromatic([[one, 5]]), 'bob'),
      'TAMPERED',
      'bob',
    );
    expect(err).toBeInstanceOf(OtSetupAborted);
    expect((err as OtSetupAborted).setupId).toBe(senderSetup.id);
    expect(isOtSetupAborted(s)).toBe(true);
    // ... and the setup is refused from now on, even for an honest message
    expectCode(() => otExtSend(s, sid, m, honest.msg, 'bob'), 'ABORTED');

    // "fixing" the check requires guessing Δ_i: a wrong guess (Δ_i = 1 where it is 0) is caught
    s = sender();
    expectCulprit(
      () =>
        otExtSend(
          s,
          sid,
          m,
          polychromatic([[zero, 5]], () => true),
          'bob',
        ),
      'TAMPERED',
      'bob',
    );
    expect(isOtSetupAborted(s)).toBe(true);

    // many columns at once (a receiver trying to learn many bits of Δ): caught
    s = sender();
    const cols = Array.from({ length: 40 }, (_, k) => 3 * k);
    expectCulprit(
      () => otExtSend(s, sid, m, polychromatic(cols.map((i) => [i, 100 + i])), 'bob'),
      'TAMPERED',
      'bob',
    );
    // guessing right passes — the inherent 2^-k leak KOS bounds — so a failure must end the setup:
    s = sender();
    expect(() =>
      otExtSend(
        s,
        sid,
        m,
        polychromatic([[one, 5]], () => true),
        'bob',
      ),
    ).not.toThrow();
  });

  it('catches tampering with the check values or a column bit', () => {
    const flip = (h: string, k = 0) => {
      const b = unhex(h);
      b[k] = (b[k] as number) ^ 1;
      return hex(b);
    };
    for (const mutate of [
      (x: OtExtMsg) => (x.xTilde = flip(x.xTilde)),
      (x: OtExtMsg) => (x.tTilde = flip(x.tTilde, 15)),
      (x: OtExtMsg) => (x.u = packCols(columnsOf(x).map((c, i) => (i === 0 ? flip(c, 70) : c)))), // a padding row
      (x: OtExtMsg) => {
        // the same flip in every column is a consistent change of one choice bit: not a cheat,
        // but t̃/x̃ no longer match, so it is caught
        x.u = packCols(columnsOf(x).map((c) => flip(c, 3)));
      },
    ]) {
      const s = sender();
      const msg = clone(honest.msg);
      mutate(msg);
      expectCulprit(() => otExtSend(s, sid, m, msg, 'bob'), 'TAMPERED', 'bob');
      expect(isOtSetupAborted(s)).toBe(true);
    }
  });

  it('rejects another session or setup as REPLAY without aborting the setup', () => {
    const s = sender();
    expectCulprit(() => otExtSend(s, bytes('extension-session-2'), m, honest.msg, 'bob'), 'REPLAY', 'bob');
    expectCulprit(() => otExtSend(s, sid, 8, honest.msg, 'bob'), 'REPLAY', 'bob');
    const forged = { ...clone(honest.msg), nonce: hex(hashFields('nonce', 2)) };
    expectCulprit(() => otExtSend(s, sid, m, forged, 'bob'), 'REPLAY', 'bob');
    const otherSetup = { ...s, id: hex(hashFields('another setup')) };
    expectCulprit(() => otExtSend(otherSetup, sid, m, honest.msg, 'bob'), 'REPLAY', 'bob');
    expect(isOtSetupAborted(s)).toBe(false);
    expect(() => otExtSend(s, sid, m, honest.msg, 'bob')).not.toThrow();
  });

  it('rejects malformed messages with typed errors, without aborting the setup', () => {
    const s = sender();
    const bad = (f: (x: Record<string, unknown>) => void) => {
      const msg = clone(honest.msg) as unknown as Record<string, unknown>;
      f(msg);
      expectCulprit(() => otExtSend(s, sid, m, msg as unknown as OtExtMsg, 'bob'), 'TAMPERED', 'bob');
    };
    const cols = (x: Record<string, unknown>) => columnsOf(x as unknown as OtExtMsg);
    bad((x) => (x.u = packCols(cols(x).slice(1)))); // a column short
    bad((x) => (x.u = packCols(cols(x).map((c, i) => (i === 7 ? c.slice(2) : c))))); // a byte short
    bad((x) => (x.u = 'x' + (x.u as string).slice(2))); // not the canonical spelling
    bad((x) => (x.u = (x.u as string).slice(0, 9) + '%' + (x.u as string).slice(10))); // not base64
    bad((x) => (x.u = cols(x))); // the columns as an array
    bad((x) => (x.xTilde = (x.xTilde as string).slice(2)));
    bad((x) => (x.tTilde = 7));
    bad((x) => (x.nonce = 'abcd'));
    bad((x) => (x.ctx = undefined));
    expectCulprit(() => otExtSend(s, sid, m, null as unknown as OtExtMsg, 'bob'), 'TAMPERED', 'bob');
    expect(isOtSetupAborted(s)).toBe(false);
  });

  it('refuses bad local inputs and aborted receiver setups', () => {
    expectCode(() => otExtReceive(receiver(), sid, nonce, choices, padding, 12), 'BAD_INPUT');
    expectCode(() => otExtReceive(receiver(), sid, nonce.subarray(1), choices, padding, m), 'BAD_INPUT');
    expectCode(() => otExtReceive(receiver(), sid, nonce, choices.subarray(1), padding, m), 'BAD_INPUT');
    expectCode(() => otExtReceive(receiver(), sid, nonce, choices, padding.subarray(1), m), 'BAD_INPUT');
    expectCode(
      () => otExtReceive({ ...receiver(), seeds0: [] }, sid, nonce, choices, padding, m),
      'BAD_INPUT',
    );
    expectCode(() => otExtSend({ ...sender(), delta: 'zz' }, sid, m, honest.msg), 'BAD_INPUT');
    expectCode(
      () => otExtReceive({ ...receiver(), aborted: 'x' }, sid, nonce, choices, padding, m),
      'ABORTED',
    );
    expectCode(() => rotReceiverPads(honest.rows, m, bytes('c'), 0), 'BAD_INPUT');
    expectCode(() => rotReceiverPads(honest.rows.subarray(16), m, bytes('c'), 1), 'BAD_INPUT');
  });
});
