import { beforeAll, describe, expect, it } from 'vitest';
import {
  MAX_LENGTH,
  OtSetupAborted,
  XI,
  isOtSetupAborted,
  markOtSetupAborted,
  mulAliceRespond,
  mulAliceRespondWithRowInputs,
  mulBobFinish,
  mulBobStart,
  otSetupReceiverFinish,
  otSetupReceiverStart,
  otSetupSenderRespond,
  type MulMsg1,
  type MulMsg2,
  type MulReceiverSetup,
  type MulSenderSetup,
} from '../../src/crypto/ecdsa/multiply.js';
import { N, hashFields, hashFieldsToScalar, modN, scalarHex } from '../../src/crypto/ecdsa/transcript.js';
import { expectCulprit, expectCode } from './expect-errors.js';

const te = new TextEncoder();
const bytes = (s: string) => te.encode(s);
const seedOf = (...label: Array<string | number>) => hashFields('test/seed', ...label);
const clone = <T>(x: T): T => JSON.parse(JSON.stringify(x)) as T;
/** ã as ξ rows of ℓ + 1 scalar hex strings, and back to the message's packed base64. */
const rowsOf = (m: MulMsg2): string[][] => {
  const b = Buffer.from(m.aTilde, 'base64');
  const w = b.length / 32 / XI;
  return Array.from({ length: XI }, (_, j) =>
    Array.from({ length: w }, (_, i) => b.subarray((j * w + i) * 32, (j * w + i + 1) * 32).toString('hex')),
  );
};
const packRows = (rows: string[][]): string => Buffer.from(rows.flat().join(''), 'hex').toString('base64');
const editRows = (m: MulMsg2, f: (rows: string[][]) => void) => {
  const rows = rowsOf(m);
  f(rows);
  m.aTilde = packRows(rows);
};
/** The OT-extension columns u as hex strings, and back. */
const colsOf = (m: MulMsg1): string[] => {
  const b = Buffer.from(m.ext.u, 'base64');
  const mb = b.length / 256;
  return Array.from({ length: 256 }, (_, i) => b.subarray(i * mb, (i + 1) * mb).toString('hex'));
};
const packCols = (cols: string[]): string => Buffer.from(cols.join(''), 'hex').toString('base64');
const bitOf = (hex: string, j: number) =>
  (parseInt(hex.slice(2 * (j >> 3), 2 * (j >> 3) + 2), 16) >> (j & 7)) & 1;

describe('ecdsa DKLs23 two-party multiplication (random vector OLE)', () => {
  let aliceSetup: MulSenderSetup;
  let bobSetup: MulReceiverSetup;
  const alice = () => clone(aliceSetup);
  const bob = () => clone(bobSetup);
  let setupMs = { bobStart: 0, aliceRespond: 0, bobFinish: 0 };

  beforeAll(() => {
    // Everything goes through JSON, as it would through Temporal and encrypted storage.
    const sid = bytes('key-42/pair p1->p2/setup');
    const t = performance.now();
    const s1 = otSetupReceiverStart(sid, seedOf('bob-setup'));
    const t1 = performance.now();
    const s2 = otSetupSenderRespond(sid, seedOf('alice-setup'), clone(s1.msg), 'bob');
    const t2 = performance.now();
    const s3 = otSetupReceiverFinish(clone(s1.state), clone(s2.msg), 'alice');
    const t3 = performance.now();
    expect(s3.msg).toBeUndefined();
    aliceSetup = clone(s2.setup);
    bobSetup = clone(s3.setup);
    setupMs = { bobStart: t1 - t, aliceRespond: t2 - t1, bobFinish: t3 - t2 };
  });

  function multiply(
    a: bigint[],
    label: string | number,
    opts: { setupA?: MulSenderSetup; setupB?: MulReceiverSetup } = {},
  ) {
    const sid = bytes(`sign-session-${label}`);
    const b1 = mulBobStart(opts.setupB ?? bob(), sid, seedOf('bob', label), a.length);
    const a1 = mulAliceRespond(opts.setupA ?? alice(), sid, seedOf('alice', label), a, clone(b1.msg), 'bob');
    const b2 = mulBobFinish(clone(b1.state), clone(a1.msg), 'alice');
    return { b: b1.b, alice: a1.shares, bob: b2.shares, b1, a1 };
  }

  it('setup: both sides agree on the setup id and the setup is two messages', () => {
    expect(aliceSetup.id).toBe(bobSetup.id);
    expect(isOtSetupAborted(aliceSetup)).toBe(false);
  });

  it('shares add up to a[k]·b for many random inputs, lengths 1..3 and edge values', () => {
    const edge = [0n, 1n, N - 1n, N - 2n, (N - 1n) / 2n];
    const cases: bigint[][] = [[0n], [N - 1n], [1n], [0n, N - 1n], [N - 1n, N - 1n, 0n], edge.slice(0, 3)];
    for (let i = 0; i < 8; i++) {
      const len = 1 + (i % 3);
      cases.push(Array.from({ length: len }, (_, k) => hashFieldsToScalar('input', i, k)));
    }
    cases.forEach((a, idx) => {
      const r = multiply(a, `c${idx}`);
      expect(r.b > 0n && r.b < N).toBe(true);
      expect(r.alice).toHaveLength(a.length);
      expect(r.bob).toHaveLength(a.length);
      a.forEach((ak, k) => {
        expect((r.alice[k] as bigint) >= 0n && (r.alice[k] as bigint) < N).toBe(true);
        expect((r.bob[k] as bigint) >= 0n && (r.bob[k] as bigint) < N).toBe(true);
        expect(modN((r.alice[k] as bigint) + (r.bob[k] as bigint))).toBe(modN(ak * r.b));
      });
    });
  });

  it('every message, state and setup is plain JSON', () => {
    const r = multiply([5n, 7n], 'json');
    for (const x of [aliceSetup, bobSetup, r.b1.msg, r.b1.state, r.a1.msg]) {
      expect(clone(x)).toEqual(x);
      expect(JSON.stringify(x)).not.toMatch(/"\d+n"|undefined/);
    }
  });

  it('is deterministic in its seeds: a retried step returns the same message', () => {
    const sid = bytes('retry-session');
    const x = mulBobStart(bob(), sid, seedOf('bob-r'), 2);
    const y = mulBobStart(bob(), sid, seedOf('bob-r'), 2);
    expect(y.msg).toEqual(x.msg);
    expect(y.state).toEqual(x.state);
    expect(y.b).toBe(x.b);
    const a = [11n, 13n];
    const p = mulAliceRespond(alice(), sid, seedOf('alice-r'), a, x.msg, 'bob');
    const q = mulAliceRespond(alice(), sid, seedOf('alice-r'), a, clone(x.msg), 'bob');
    expect(q).toEqual(p);
    const f1 = mulBobFinish(clone(x.state), p.msg, 'alice');
    const st = clone(x.state);
    const f2 = mulBobFinish(st, p.msg, 'alice');
    expect(f2).toEqual(f1);
    expect(mulBobFinish(st, clone(p.msg), 'alice')).toEqual(f1); // finishing twice with the same answer
    // another seed in the same session: independent choice bits and pads
    const z = mulBobStart(bob(), sid, seedOf('bob-r2'), 2);
    expect(z.b).not.toBe(x.b);
    expect(z.msg.ext.nonce).not.toBe(x.msg.ext.nonce);
  });

  it('answering one msg1 with two different inputs uses independent pads (no a − a′ leak)', () => {
    const sid = bytes('double-answer');
    const x = mulBobStart(bob(), sid, seedOf('bob-d'), 1);
    const p = mulAliceRespond(alice(), sid, seedOf('alice-d'), [100n], x.msg, 'bob');
    const q = mulAliceRespond(alice(), sid, seedOf('alice-d'), [101n], x.msg, 'bob');
    expect(q.msg.salt).not.toBe(p.msg.salt);
    for (let j = 0; j < 8; j++) {
      const d = modN(BigInt('0x' + rowsOf(q.msg)[j]![0]) - BigInt('0x' + rowsOf(p.msg)[j]![0]));
      expect(d).not.toBe(1n);
    }
    // both are valid answers
    expect(modN(mulBobFinish(clone(x.state), q.msg, 'alice').shares[0]! + q.shares[0]!)).toBe(
      modN(101n * x.b),
    );
  });

  it('catches a cheating Alice who uses a different input in one OT, and aborts', () => {
    const sid = bytes('cheat-alice');
    const x = mulBobStart(bob(), sid, seedOf('bob-c'), 2);
    const a = [3n, 4n];
    const row1 = Array.from({ length: XI }, (_, j) => j).find((j) => bitOf(x.state.beta, j) === 1)!;
    const row0 = Array.from({ length: XI }, (_, j) => j).find((j) => bitOf(x.state.beta, j) === 0)!;
    const cheat = (row: number, input: bigint[]) =>
      mulAliceRespondWithRowInputs(
        alice(),
        sid,
        seedOf('alice-c'),
        a,
        x.msg,
        (j) => (j === row ? input : undefined),
        'bob',
      );
    // sanity: the hook without overrides is the honest protocol
    const honest = cheat(-1, a);
    expect(honest).toEqual(mulAliceRespond(alice(), sid, seedOf('alice-c'), a, x.msg, 'bob'));

    // a different a[0] (or a[1]) in one OT where Bob chose 1: caught, state aborted, retry refused
    for (const input of [
      [4n, 4n],
      [3n, 0n],
    ]) {
      const st = clone(x.state);
      const err = expectCulprit(() => mulBobFinish(st, cheat(row1, input).msg, 'alice'), 'TAMPERED', 'alice');
      expect(err).toBeInstanceOf(OtSetupAborted);
      expect((err as OtSetupAborted).setupId).toBe(bobSetup.id);
      expect(st.aborted).toBeDefined();
      expectCode(() => mulBobFinish(st, honest.msg, 'alice'), 'ABORTED');
      // the caller discards the setup: Bob refuses to start with it
      const s = markOtSetupAborted(bob(), err.message);
      expectCode(() => mulBobStart(s, bytes('next'), seedOf('bob-n'), 2), 'ABORTED');
    }
    // many rows at once: caught
    const many = mulAliceRespondWithRowInputs(
      alice(),
      sid,
      seedOf('alice-c'),
      a,
      x.msg,
      (j) => (j % 3 === 0 ? [5n, 4n] : undefined),
      'bob',
    );
    expectCulprit(() => mulBobFinish(clone(x.state), many.msg, 'alice'), 'TAMPERED', 'alice');
    // in an OT where Bob chose 0 the cheat is invisible — and harmless: the output stays correct.
    // Passing reveals that one bit of β (selective failure), which the 2·80 slack in ξ absorbs.
    const invisible = cheat(row0, [4n, 4n]);
    const ok = mulBobFinish(clone(x.state), invisible.msg, 'alice');
    expect(modN(ok.shares[0]! + invisible.shares[0]!)).toBe(modN(3n * x.b));
    expect(modN(ok.shares[1]! + invisible.shares[1]!)).toBe(modN(4n * x.b));
  });

  it('catches tampering with η′, μ, the salt or any ã', () => {
    const sid = bytes('tamper-msg2');
    const x = mulBobStart(bob(), sid, seedOf('bob-t'), 2);
    const p = mulAliceRespond(alice(), sid, seedOf('alice-t'), [8n, 9n], x.msg, 'bob');
    const inc = (h: string) => scalarHex(modN(BigInt('0x' + h) + 1n));
    const muts: Array<(m: MulMsg2) => void> = [
      (m) => (m.eta = inc(m.eta)),
      (m) => (m.mu = inc(m.mu)),
      (m) => (m.salt = inc(m.salt)),
      (m) =>
        editRows(m, (rows) => {
          for (let j = 0; j < XI; j++) rows[j]![1] = inc(rows[j]![1]!);
        }),
      (m) => editRows(m, (rows) => ([rows[0], rows[1]] = [rows[1]!, rows[0]!])),
    ];
    for (const f of muts) {
      const m = clone(p.msg);
      f(m);
      const st = clone(x.state);
      expect(expectCulprit(() => mulBobFinish(st, m, 'alice'), 'TAMPERED', 'alice')).toBeInstanceOf(
        OtSetupAborted,
      );
      expect(st.aborted).toBeDefined();
    }
  });

  it('a cheating Bob is caught by the OT-extension check; Alice marks her setup aborted and refuses it', () => {
    const sid = bytes('cheat-bob');
    const x = mulBobStart(bob(), sid, seedOf('bob-x'), 2);
    const delta = Buffer.from(aliceSetup.delta, 'hex');
    const col = Array.from({ length: 128 }, (_, i) => i).find(
      (i) => ((delta[i >> 3]! >> (i & 7)) & 1) === 1,
    )!;
    const forgeries: Array<(m: MulMsg1) => void> = [
      // one choice bit different in one column only (a polychromatic row, to learn Δ_col)
      (m) => {
        const cols = colsOf(m);
        const u = Buffer.from(cols[col]!, 'hex');
        u[2] = u[2]! ^ 0x10;
        cols[col] = u.toString('hex');
        m.ext.u = packCols(cols);
      },
      (m) => {
        const t = Buffer.from(m.ext.tTilde, 'hex');
        t[0] = t[0]! ^ 1;
        m.ext.tTilde = t.toString('hex');
      },
      (m) => {
        const t = Buffer.from(m.ext.xTilde, 'hex');
        t[15] = t[15]! ^ 0x80;
        m.ext.xTilde = t.toString('hex');
      },
    ];
    for (const forge of forgeries) {
      const m = clone(x.msg);
      forge(m);
      const s = alice();
      const err = expectCulprit(
        () => mulAliceRespond(s, sid, seedOf('alice-x'), [1n, 2n], m, 'bob'),
        'TAMPERED',
        'bob',
      );
      expect(err).toBeInstanceOf(OtSetupAborted);
      expect(isOtSetupAborted(s)).toBe(true);
      // the setup is spent: even the honest message is refused now
      expectCode(() => mulAliceRespond(s, sid, seedOf('alice-x'), [1n, 2n], x.msg, 'bob'), 'ABORTED');
    }
  });

  it('binds the session id: another session, setup or answer is REPLAY and aborts nothing', () => {
    const sid = bytes('bind-1');
    const x = mulBobStart(bob(), sid, seedOf('bob-b'), 2);
    const s = alice();
    expectCulprit(
      () => mulAliceRespond(s, bytes('bind-2'), seedOf('alice-b'), [1n, 2n], x.msg, 'bob'),
      'REPLAY',
      'bob',
    );
    const other = { ...alice(), id: scalarHex(123n) };
    expectCulprit(
      () => mulAliceRespond(other, sid, seedOf('alice-b'), [1n, 2n], x.msg, 'bob'),
      'REPLAY',
      'bob',
    );
    expect(isOtSetupAborted(s)).toBe(false);
    const p = mulAliceRespond(s, sid, seedOf('alice-b'), [1n, 2n], x.msg, 'bob');
    // an answer from another session
    const y = mulBobStart(bob(), bytes('bind-3'), seedOf('bob-b'), 2);
    const st = clone(y.state);
    expectCulprit(() => mulBobFinish(st, p.msg, 'alice'), 'REPLAY', 'alice');
    expect(st.aborted).toBeUndefined();
    // after success, a different answer for the same state is refused
    const st2 = clone(x.state);
    mulBobFinish(st2, p.msg, 'alice');
    const q = mulAliceRespond(alice(), sid, seedOf('alice-b2'), [1n, 2n], x.msg, 'bob');
    expectCulprit(() => mulBobFinish(st2, q.msg, 'alice'), 'REPLAY', 'alice');
  });

  it('rejects malformed messages with typed errors naming the peer', () => {
    const sid = bytes('malformed');
    const x = mulBobStart(bob(), sid, seedOf('bob-m'), 2);
    const p = mulAliceRespond(alice(), sid, seedOf('alice-m'), [1n, 2n], x.msg, 'bob');
    const bad1 = (f: (m: MulMsg1) => void, code = 'TAMPERED') => {
      const m = clone(x.msg);
      f(m);
      const s = alice();
      expectCulprit(() => mulAliceRespond(s, sid, seedOf('alice-m'), [1n, 2n], m, 'bob'), code, 'bob');
      expect(isOtSetupAborted(s)).toBe(false);
    };
    bad1((m) => ((m as { kind: string }).kind = 'x'));
    bad1((m) => (m.length = 3));
    bad1((m) => (m.ext.u = packCols(colsOf(m).slice(1)))); // a column short
    bad1((m) => (m.ext.u = packCols(colsOf(m).map((c, i) => (i === 0 ? c.slice(2) : c))))); // a byte short
    bad1((m) => (m.ext.u = '*' + m.ext.u.slice(1))); // not base64
    bad1((m) => (m.ext.u = m.ext.u.replace(/=*$/, '') + '===')); // not the canonical spelling
    bad1((m) => (m.ext.u = colsOf(m) as unknown as string)); // the columns as an array
    bad1((m) => (m.ext.xTilde = 'ab'));
    bad1((m) => (m.ext = null as unknown as MulMsg1['ext']));
    bad1((m) => (m.setup = 'not-hex'), 'REPLAY');

    const bad2 = (f: (m: MulMsg2) => void) => {
      const m = clone(p.msg);
      f(m);
      const st = clone(x.state);
      expectCulprit(() => mulBobFinish(st, m, 'alice'), 'TAMPERED', 'alice');
      expect(st.aborted).toBeUndefined(); // format errors are caught before the secret-dependent check
    };
    bad2((m) => ((m as { v: number }).v = 2));
    bad2((m) => (m.aTilde = packRows(rowsOf(m).slice(1)))); // a row short
    bad2((m) => editRows(m, (rows) => (rows[5] = rows[5]!.slice(1)))); // a scalar short
    bad2((m) => editRows(m, (rows) => (rows[5]![0] = rows[5]![0]!.slice(2)))); // a byte short
    bad2((m) => (m.aTilde = m.aTilde.slice(0, 10) + '!' + m.aTilde.slice(11))); // not base64
    bad2((m) => (m.aTilde = m.aTilde.replace(/=*$/, '') + '===')); // not the canonical spelling
    bad2((m) => (m.aTilde = rowsOf(m) as unknown as string)); // the rows as an array
    bad2((m) => editRows(m, (rows) => (rows[5]![0] = scalarHex(N)))); // scalar >= n
    bad2((m) => editRows(m, (rows) => (rows[5]![0] = 'f'.repeat(64))));
    bad2((m) => (m.eta = scalarHex(N + 5n)));
    bad2((m) => (m.eta = '00'));
    bad2((m) => (m.mu = m.mu.slice(2)));
    bad2((m) => (m.salt = 7 as unknown as string));
    expectCulprit(
      () => mulBobFinish(clone(x.state), null as unknown as MulMsg2, 'alice'),
      'TAMPERED',
      'alice',
    );
    // the default culprit name
    expectCulprit(() => mulBobFinish(clone(x.state), {} as MulMsg2), 'TAMPERED', 'peer');
  });

  it('rejects bad local inputs with BAD_INPUT', () => {
    const sid = bytes('local');
    const x = mulBobStart(bob(), sid, seedOf('bob-l'), 2);
    const respond = (a: unknown[]) =>
      mulAliceRespond(alice(), sid, seedOf('alice-l'), a as bigint[], x.msg, 'bob');
    expectCode(() => respond([1n, N]), 'BAD_INPUT');
    expectCode(() => respond([1n, -1n]), 'BAD_INPUT');
    expectCode(() => respond([1n, 2]), 'BAD_INPUT');
    expectCode(() => respond([]), 'BAD_INPUT');
    expectCode(() => mulAliceRespond(alice(), sid, new Uint8Array(4), [1n, 2n], x.msg), 'BAD_INPUT');
    expectCode(() => mulBobStart(bob(), sid, seedOf('b'), 0), 'BAD_INPUT');
    expectCode(() => mulBobStart(bob(), sid, seedOf('b'), MAX_LENGTH + 1), 'BAD_INPUT');
    expectCode(() => mulBobStart(bob(), new Uint8Array(0), seedOf('b'), 2), 'BAD_INPUT');
    expectCode(() => mulBobStart(alice() as unknown as MulReceiverSetup, sid, seedOf('b'), 2), 'BAD_INPUT');
    expectCode(
      () => mulAliceRespond(bob() as unknown as MulSenderSetup, sid, seedOf('a'), [1n, 2n], x.msg),
      'BAD_INPUT',
    );
    expectCode(() => mulBobFinish({ ...clone(x.state), rows: 'ab' }, {} as MulMsg2), 'BAD_INPUT');
    expectCode(
      () => mulAliceRespond(markOtSetupAborted(alice(), 'x'), sid, seedOf('a'), [1n, 2n], x.msg),
      'ABORTED',
    );
  });

  it('timings (setup once per pair and direction; one multiplication of length 2)', () => {
    const runs = 10;
    const t = { bobStart: 0, aliceRespond: 0, bobFinish: 0 };
    for (let i = 0; i < runs + 2; i++) {
      const sid = bytes(`timing-${i}`);
      const a = [hashFieldsToScalar('t', i, 0), hashFieldsToScalar('t', i, 1)];
      const t0 = performance.now();
      const x = mulBobStart(bobSetup, sid, seedOf('tb', i), 2);
      const t1 = performance.now();
      const p = mulAliceRespond(aliceSetup, sid, seedOf('ta', i), a, x.msg, 'bob');
      const t2 = performance.now();
      const f = mulBobFinish(x.state, p.msg, 'alice');
      const t3 = performance.now();
      expect(modN(f.shares[1]! + p.shares[1]!)).toBe(modN(a[1]! * x.b));
      if (i >= 2) {
        t.bobStart += (t1 - t0) / runs;
        t.aliceRespond += (t2 - t1) / runs;
        t.bobFinish += (t3 - t2) / runs;
      }
    }
    const fmt = (o: Record<string, number>) =>
      Object.entries(o)
        .map(([k, v]) => `${k} ${v.toFixed(1)} ms`)
        .join(', ');
    console.log(`OT setup: ${fmt(setupMs)}`);
    console.log(`multiplication (length 2): ${fmt(t)}`);
    const sizes = mulBobStart(bobSetup, bytes('size'), seedOf('s'), 2);
    const ans = mulAliceRespond(aliceSetup, bytes('size'), seedOf('s2'), [1n, 2n], sizes.msg, 'bob');
    console.log(
      `message sizes (JSON): MulMsg1 ${JSON.stringify(sizes.msg).length} B, MulMsg2 ${JSON.stringify(ans.msg).length} B, MulBobState ${JSON.stringify(sizes.state).length} B`,
    );
  });
});
