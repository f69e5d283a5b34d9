import { describe, expect, it } from 'vitest';
import { ConclaveError } from '../../src/errors.js';
import { encodeFields } from '../../src/crypto/encoding.js';
import {
  baseOtReceiverRespond,
  baseOtSenderFinish,
  baseOtSenderStart,
  type BaseOtMsg1,
  type BaseOtMsg2,
} from '../../src/crypto/ecdsa/base-ot.js';
import {
  N,
  Point,
  PrefixXof,
  SeedStream,
  TurboRowHasher,
  hashFields,
  hashFieldsToScalar,
  modN,
  patchIndexAndBytes,
  scalarHex,
  turboXofFields,
  xofFields,
} from '../../src/crypto/ecdsa/transcript.js';
import { expectCulprit, expectCode } from './expect-errors.js';

const te = new TextEncoder();
const bytes = (s: string) => te.encode(s);
const seedOf = (label: string) => hashFields('test/seed', label);
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const clone = <T>(x: T): T => JSON.parse(JSON.stringify(x)) as T;

/** An x coordinate with no point on secp256k1 (x^3 + 7 is not a square mod p). */
function offCurveHex(): string {
  for (let x = 1n; ; x++) {
    const h = '02' + x.toString(16).padStart(64, '0');
    try {
      Point.fromHex(h);
    } catch {
      return h;
    }
  }
}

describe('ecdsa transcript hashing', () => {
  it('length-prefixes fields: ("ab","c") and ("a","bc") hash differently', () => {
    expect(hex(hashFields('t', 'ab', 'c'))).not.toBe(hex(hashFields('t', 'a', 'bc')));
    expect(hex(hashFields('t', bytes('ab'), bytes('c')))).not.toBe(
      hex(hashFields('t', bytes('a'), bytes('bc'))),
    );
    expect(hashFieldsToScalar('t', 'ab', 'c')).not.toBe(hashFieldsToScalar('t', 'a', 'bc'));
    expect(hex(xofFields('t', 48, 'ab', 'c'))).not.toBe(hex(xofFields('t', 48, 'a', 'bc')));
    expect(hex(turboXofFields('t', 48, 'ab', 'c'))).not.toBe(hex(turboXofFields('t', 48, 'a', 'bc')));
    // one field vs two, empty fields, and the tag itself are all part of the encoding
    expect(hex(hashFields('t', 'abc'))).not.toBe(hex(hashFields('t', 'ab', 'c')));
    expect(hex(hashFields('t', '', 'abc'))).not.toBe(hex(hashFields('t', 'abc', '')));
    expect(hex(hashFields('ta', 'b'))).not.toBe(hex(hashFields('t', 'ab')));
  });

  it('separates types and tags', () => {
    expect(hex(hashFields('t', 'ab'))).not.toBe(hex(hashFields('t', bytes('ab'))));
    expect(hex(hashFields('t', 7))).not.toBe(hex(hashFields('t', '7')));
    expect(hex(hashFields('a', 'x'))).not.toBe(hex(hashFields('b', 'x')));
    expect(() => hashFields('', 'x')).toThrow(ConclaveError);
  });

  it('hash-to-scalar is in range and deterministic', () => {
    for (let i = 0; i < 20; i++) {
      const k = hashFieldsToScalar('t', i);
      expect(k >= 0n && k < N).toBe(true);
      expect(hashFieldsToScalar('t', i)).toBe(k);
    }
  });

  it('prefix and hot-loop hashers equal the plain tagged XOFs', () => {
    const ctx = hashFields('ctx');
    const p = new PrefixXof('shake256', 'tag', ctx, 3);
    expect(hex(p.read(100, 5, bytes('row')))).toBe(hex(xofFields('tag', 100, ctx, 3, 5, bytes('row'))));
    const q = new PrefixXof('turboshake256', 'tag', ctx);
    expect(hex(q.read(40, 9))).toBe(hex(turboXofFields('tag', 40, ctx, 9)));
    // single-block fast path (short prefix) and multi-block fallback (long prefix), short and long outputs
    for (const prefix of [[ctx, 3], [new Uint8Array(200)]]) {
      const h = new TurboRowHasher('ot/rows', prefix, encodeFields([0, new Uint8Array(16)]));
      for (const outLen of [96, 300]) {
        for (const j of [0, 1, 415]) {
          const row = hashFields('row', j).subarray(0, 16);
          patchIndexAndBytes(h.suffix, j, row);
          expect(hex(h.suffix)).toBe(hex(encodeFields([j, row])));
          const out = new Uint8Array(outLen);
          h.hashInto(out);
          expect(hex(out)).toBe(hex(turboXofFields('ot/rows', outLen, ...prefix, j, row)));
        }
      }
    }
  });

  it('seed streams are deterministic and context-separated', () => {
    const s = seedOf('a');
    const x = new SeedStream(s, 'tag', 'ctx');
    const y = new SeedStream(s, 'tag', 'ctx');
    expect(hex(x.bytes(40))).toBe(hex(y.bytes(40)));
    expect(x.scalar()).toBe(y.scalar());
    expect(hex(new SeedStream(s, 'tag', 'ctx2').bytes(32))).not.toBe(
      hex(new SeedStream(s, 'tag', 'ctx').bytes(32)),
    );
    expect(hex(new SeedStream(s, 'tag2', 'ctx').bytes(32))).not.toBe(
      hex(new SeedStream(s, 'tag', 'ctx').bytes(32)),
    );
    expectCode(() => new SeedStream(new Uint8Array(16), 'tag'), 'BAD_INPUT');
  });
});

describe('ecdsa base OT (simplest OT with proofs)', () => {
  const count = 8;
  const sid = bytes('base-ot-session-1');
  const choices = Uint8Array.from([0, 1, 1, 0, 1, 0, 0, 1]);

  function runFresh(c = choices, sidA = sid, sidB = sid) {
    const s1 = baseOtSenderStart(sidB, seedOf('bob'), count);
    const r = baseOtReceiverRespond(sidA, seedOf('alice'), c, s1.msg, 'bob');
    return { s1, r };
  }
  // The honest run is shared (deep copies) to keep the file fast.
  let honest: ReturnType<typeof runFresh> | undefined;
  function run() {
    honest ??= runFresh();
    return structuredClone(honest);
  }

  it('receiver gets exactly the key of its choice; transcripts agree', () => {
    const { s1, r } = run();
    const f = baseOtSenderFinish(s1.state, r.msg, 'alice');
    expect(hex(f.transcript)).toBe(hex(r.transcript));
    for (let i = 0; i < count; i++) {
      const mine = hex(r.keys[i] as Uint8Array);
      const k0 = hex(f.keys0[i] as Uint8Array);
      const k1 = hex(f.keys1[i] as Uint8Array);
      expect(k0).not.toBe(k1);
      expect(mine).toBe(choices[i] === 1 ? k1 : k0);
    }
    // all keys distinct across OTs
    expect(new Set(f.keys0.concat(f.keys1).map(hex)).size).toBe(2 * count);
  });

  it('is deterministic in its seeds and session', () => {
    const a = run();
    const b = runFresh();
    expect(JSON.stringify(a.s1)).toBe(JSON.stringify(b.s1));
    expect(JSON.stringify(a.r.msg)).toBe(JSON.stringify(b.r.msg));
    expect(a.r.keys.map(hex)).toEqual(b.r.keys.map(hex));
    const other = baseOtSenderStart(sid, seedOf('bob2'), count);
    expect(other.msg.B).not.toBe(a.s1.msg.B);
  });

  it('messages and state are plain JSON', () => {
    const { s1, r } = run();
    const f1 = baseOtSenderFinish(clone(s1.state), clone(r.msg), 'alice');
    const r2 = baseOtReceiverRespond(sid, seedOf('alice'), choices, clone(s1.msg), 'bob');
    expect(JSON.stringify(r2.msg)).toBe(JSON.stringify(r.msg));
    expect(f1.keys0.map(hex)).toEqual(baseOtSenderFinish(s1.state, r.msg).keys0.map(hex));
  });

  it('answers to different msg1 use independent receiver randomness (no A − A′ = ω(B − B′) leak)', () => {
    const { s1, r } = run();
    const other = baseOtSenderStart(sid, seedOf('bob-other'), count);
    const r2 = baseOtReceiverRespond(sid, seedOf('alice'), choices, other.msg, 'bob');
    const dB = Point.fromHex(s1.msg.B).subtract(Point.fromHex(other.msg.B));
    for (let i = 0; i < count; i++) {
      const d = Point.fromHex(r.msg.A[i] as string).subtract(Point.fromHex(r2.msg.A[i] as string));
      expect(d.is0()).toBe(false);
      expect(d.equals(dB)).toBe(false);
    }
  });

  it('rejects a forged sender proof with BAD_PROOF naming the sender', () => {
    const { s1 } = run();
    const m: BaseOtMsg1 = { ...s1.msg, s: scalarHex(modN(BigInt('0x' + s1.msg.s) + 1n)) };
    expectCulprit(() => baseOtReceiverRespond(sid, seedOf('alice'), choices, m, 'bob'), 'BAD_PROOF', 'bob');
    const m2: BaseOtMsg1 = { ...s1.msg, c: scalarHex(modN(BigInt('0x' + s1.msg.c) + 1n)) };
    expectCulprit(() => baseOtReceiverRespond(sid, seedOf('alice'), choices, m2, 'bob'), 'BAD_PROOF', 'bob');
    // a public key whose proof belongs to another key
    const other = baseOtSenderStart(sid, seedOf('bob-other'), count);
    const m3: BaseOtMsg1 = { ...s1.msg, B: other.msg.B };
    expectCulprit(() => baseOtReceiverRespond(sid, seedOf('alice'), choices, m3, 'bob'), 'BAD_PROOF', 'bob');
    // a different count changes the proof's statement
    const m4 = { ...s1.msg, count: count - 1 };
    expectCulprit(
      () => baseOtReceiverRespond(sid, seedOf('alice'), choices.subarray(0, count - 1), m4, 'bob'),
      'BAD_PROOF',
      'bob',
    );
  });

  it('rejects a message from another session with REPLAY', () => {
    const s1 = baseOtSenderStart(bytes('another-session'), seedOf('bob'), count);
    expectCulprit(() => baseOtReceiverRespond(sid, seedOf('alice'), choices, s1.msg, 'bob'), 'REPLAY', 'bob');
    const { s1: mine, r } = run();
    const stale = runFresh(choices, bytes('s2'), bytes('s2')).r.msg;
    expectCulprit(() => baseOtSenderFinish(mine.state, stale, 'alice'), 'REPLAY', 'alice');
    expect(baseOtSenderFinish(mine.state, r.msg, 'alice').keys0).toHaveLength(count);
  });

  it('rejects a forged receiver point or proof with BAD_PROOF naming the receiver', () => {
    const { s1, r } = run();
    const tamper = (f: (m: BaseOtMsg2) => void) => {
      const m = clone(r.msg);
      f(m);
      expectCulprit(() => baseOtSenderFinish(s1.state, m, 'alice'), 'BAD_PROOF', 'alice');
    };
    // A_i replaced by a point for which the receiver has no proof (e.g. B/2: knows neither key)
    const half = Point.fromHex(s1.msg.B)
      .multiply((N + 1n) / 2n)
      .toHex(true);
    tamper((m) => (m.A[3] = half));
    // swap two A's (each proof is bound to its index and point)
    tamper((m) => ([m.A[0], m.A[1]] = [m.A[1] as string, m.A[0] as string]));
    // each proof field
    for (const [start, end] of [
      [0, 66],
      [66, 132],
      [132, 196],
      [196, 260],
      [260, 324],
    ] as const) {
      tamper((m) => {
        const p = m.proofs[5] as string;
        const field = p.slice(start, end);
        const repl =
          end - start === 66
            ? Point.BASE.multiply(7n).toHex(true)
            : scalarHex(modN(BigInt('0x' + field) + 1n));
        m.proofs[5] = p.slice(0, start) + repl + p.slice(end);
      });
    }
    // a proof copied from another OT
    tamper((m) => (m.proofs[2] = m.proofs[4] as string));
  });

  it('rejects malformed messages with typed errors naming the peer', () => {
    const { s1, r } = run();
    const bad1 = (f: (m: Record<string, unknown>) => void, code = 'TAMPERED') => {
      const m = clone(s1.msg) as unknown as Record<string, unknown>;
      f(m);
      expectCulprit(
        () => baseOtReceiverRespond(sid, seedOf('alice'), choices, m as unknown as BaseOtMsg1, 'bob'),
        code,
        'bob',
      );
    };
    bad1((m) => (m.kind = 'other'));
    bad1((m) => (m.B = 'zz' + (m.B as string).slice(2))); // bad hex
    bad1((m) => (m.B = (m.B as string).toUpperCase())); // not lowercase
    bad1((m) => (m.B = (m.B as string).slice(0, 64))); // wrong length
    bad1((m) => (m.B = offCurveHex())); // off curve
    bad1((m) => (m.B = '00'.repeat(33))); // identity / invalid encoding
    bad1((m) => (m.B = '00')); // identity in SEC1 one-byte form
    bad1((m) => (m.s = scalarHex(N))); // scalar >= n
    bad1((m) => (m.c = 'f'.repeat(64)));
    bad1((m) => (m.count = 0));
    bad1((m) => (m.count = '8'));
    bad1((m) => (m.session = 'ab'));
    expectCulprit(
      () => baseOtReceiverRespond(sid, seedOf('alice'), choices.subarray(0, 4), s1.msg, 'bob'),
      'TAMPERED',
      'bob',
    );

    const bad2 = (f: (m: Record<string, unknown>) => void) => {
      const m = clone(r.msg) as unknown as Record<string, unknown>;
      f(m);
      expectCulprit(
        () => baseOtSenderFinish(s1.state, m as unknown as BaseOtMsg2, 'alice'),
        'TAMPERED',
        'alice',
      );
    };
    bad2((m) => (m.v = 2));
    bad2((m) => (m.A = (m.A as string[]).slice(1)));
    bad2((m) => (m.proofs = (m.proofs as string[]).slice(1)));
    bad2((m) => ((m.A as string[])[0] = offCurveHex()));
    bad2((m) => ((m.A as string[])[0] = '00'.repeat(33)));
    bad2((m) => ((m.A as string[])[0] = s1.msg.B)); // A = B makes k1 the identity's hash
    bad2((m) => ((m.A as string[])[0] = 'g' + ((m.A as string[])[0] as string).slice(1)));
    bad2((m) => ((m.proofs as string[])[0] = ((m.proofs as string[])[0] as string).slice(2)));
    bad2((m) => {
      const p = (m.proofs as string[])[0] as string;
      (m.proofs as string[])[0] = p.slice(0, 260) + scalarHex(N);
    });
    bad2((m) => {
      const p = (m.proofs as string[])[0] as string;
      (m.proofs as string[])[0] = offCurveHex() + p.slice(66);
    });
  });

  it('rejects bad local inputs with BAD_INPUT', () => {
    expectCode(() => baseOtSenderStart(sid, new Uint8Array(8), count), 'BAD_INPUT');
    expectCode(() => baseOtSenderStart(sid, seedOf('b'), 0), 'BAD_INPUT');
    expectCode(() => baseOtSenderStart(new Uint8Array(0), seedOf('b'), 4), 'BAD_INPUT');
    const { s1, r } = run();
    expectCode(
      () => baseOtReceiverRespond(sid, seedOf('alice'), Uint8Array.from([0, 1, 2, 0, 0, 0, 0, 0]), s1.msg),
      'BAD_INPUT',
    );
    const st = { ...s1.state, b: scalarHex(1n) };
    expectCode(() => baseOtSenderFinish(st, r.msg), 'BAD_INPUT');
  });
});
