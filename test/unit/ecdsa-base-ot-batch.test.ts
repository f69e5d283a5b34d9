import { describe, expect, it } from 'vitest';
import {
  baseOtReceiverRespond,
  baseOtSenderFinish,
  baseOtSenderStart,
  type BaseOtMsg2,
} from '../../src/crypto/ecdsa/base-ot.js';
import { hashFields, modN, scalarHex } from '../../src/crypto/ecdsa/transcript.js';
import { expectCulprit } from './expect-errors.js';

const seedOf = (label: string) => hashFields('test/seed', label);
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const clone = <T>(x: T): T => JSON.parse(JSON.stringify(x)) as T;

describe('ecdsa base OT: batched proof verification and the precomputed-table path', () => {
  // count >= 32 takes the fixed-base-table path for B on the receiver side.
  const count = 40;
  const sid = new TextEncoder().encode('base-ot-batch-session');
  const choices = Uint8Array.from({ length: count }, (_, i) => (i * 7 + (i >> 2)) & 1);
  const s1 = baseOtSenderStart(sid, seedOf('bob'), count);
  const r = baseOtReceiverRespond(sid, seedOf('alice'), choices, s1.msg, 'bob');

  it('keys agree for every choice pattern on the table path', () => {
    const f = baseOtSenderFinish(s1.state, r.msg, 'alice');
    expect(hex(f.transcript)).toBe(hex(r.transcript));
    for (let i = 0; i < count; i++) {
      const want = choices[i] === 1 ? f.keys1[i] : f.keys0[i];
      expect(hex(r.keys[i] as Uint8Array)).toBe(hex(want as Uint8Array));
    }
    for (const fill of [0, 1]) {
      const c = new Uint8Array(count).fill(fill);
      const rr = baseOtReceiverRespond(sid, seedOf('alice'), c, s1.msg, 'bob');
      const ff = baseOtSenderFinish(s1.state, rr.msg, 'alice');
      for (let i = 0; i < count; i++) {
        expect(hex(rr.keys[i] as Uint8Array)).toBe(hex((fill ? ff.keys1 : ff.keys0)[i] as Uint8Array));
      }
    }
  });

  it('rejects errors that cancel in an unweighted sum of the proof equations', () => {
    // Shift s0 of one proof by +d and of another by −d: Σ s0_i·G is unchanged, so only random
    // per-proof weights catch it.
    const shift = (p: string, d: bigint) =>
      p.slice(0, 196) + scalarHex(modN(BigInt('0x' + p.slice(196, 260)) + d)) + p.slice(260);
    for (const [i, j] of [
      [0, 1],
      [3, 39],
    ] as const) {
      const m: BaseOtMsg2 = clone(r.msg);
      m.proofs[i] = shift(m.proofs[i] as string, 5n);
      m.proofs[j] = shift(m.proofs[j] as string, -5n);
      expectCulprit(() => baseOtSenderFinish(s1.state, m, 'alice'), 'BAD_PROOF', 'alice');
    }
  });
});
