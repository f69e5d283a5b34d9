import { createHash, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { ConclaveError } from '../../src/errors.js';
import {
  encodeFields,
  fromHex,
  sha256,
  toHex,
  transcriptHash,
  utf8,
  type Field,
} from '../../src/crypto/encoding.js';

// Independent decoder: if every encoding decodes back to its input, the encoding is injective.
function decode(b: Uint8Array): Field[] {
  const out: Field[] = [];
  const view = new DataView(b.buffer, b.byteOffset, b.byteLength);
  let off = 0;
  while (off < b.length) {
    const tag = b[off];
    const len = view.getUint32(off + 1, false);
    const body = b.slice(off + 5, off + 5 + len);
    if (body.length !== len) throw new Error('truncated');
    if (tag === 1) out.push(body);
    else if (tag === 2) out.push(new TextDecoder().decode(body));
    else if (tag === 3) out.push(Number(new DataView(body.buffer).getBigUint64(0, false)));
    else throw new Error('bad tag');
    off += 5 + len;
  }
  return out;
}

function errOf(fn: () => unknown): unknown {
  try {
    fn();
  } catch (e) {
    return e;
  }
  throw new Error('expected a throw');
}

describe('encodeFields', () => {
  it('distinguishes tricky splits and kinds', () => {
    const cases: Field[][] = [
      ['ab', 'c'],
      ['a', 'bc'],
      ['abc'],
      [utf8('ab'), 'c'],
      ['ab', utf8('c')],
      [utf8('abc')],
      [],
      [''],
      [new Uint8Array(0)],
      ['', ''],
      [0],
      [1],
      ['1'],
      [new Uint8Array(8)],
      [256],
    ];
    const encodings = cases.map((c) => toHex(encodeFields(c)));
    expect(new Set(encodings).size).toBe(cases.length);
  });

  it('has the documented layout: tag, 4-byte BE length, bytes; numbers as 8-byte BE', () => {
    expect(toHex(encodeFields(['a']))).toBe('020000000161');
    expect(toHex(encodeFields([new Uint8Array([0xff, 0x00])]))).toBe('0100000002ff00');
    expect(toHex(encodeFields([258]))).toBe('03000000080000000000000102');
  });

  it('round-trips random field lists through an independent decoder', () => {
    for (let i = 0; i < 200; i++) {
      const fields: Field[] = [];
      const n = Math.floor(Math.random() * 5);
      for (let j = 0; j < n; j++) {
        const k = Math.floor(Math.random() * 3);
        if (k === 0) fields.push(new Uint8Array(randomBytes(Math.floor(Math.random() * 6))));
        else if (k === 1)
          fields.push(
            randomBytes(3)
              .toString('base64')
              .slice(0, Math.floor(Math.random() * 4)),
          );
        else fields.push(Math.floor(Math.random() * 2 ** 40));
      }
      expect(decode(encodeFields(fields))).toEqual(fields);
    }
  });

  it('rejects numbers that are not safe non-negative integers', () => {
    for (const bad of [-1, 1.5, Number.NaN, 2 ** 53, Infinity]) {
      const e = errOf(() => encodeFields([bad]));
      expect(e).toBeInstanceOf(ConclaveError);
      expect((e as ConclaveError).code).toBe('BAD_INPUT');
    }
  });
});

describe('hex', () => {
  it('round-trips, including subarray views', () => {
    const buf = new Uint8Array([9, 1, 2, 255, 7]);
    expect(toHex(buf.subarray(1, 4))).toBe('0102ff');
    expect(fromHex('0102ff', 'x')).toEqual(new Uint8Array([1, 2, 255]));
    expect(fromHex('', 'x')).toEqual(new Uint8Array(0));
    expect(fromHex('ABcd', 'x')).toEqual(new Uint8Array([0xab, 0xcd]));
  });

  it('rejects odd length, non-hex characters and 0x prefixes', () => {
    for (const bad of ['abc', 'zz', '0x00', ' 00', '00 ', '0g', '--']) {
      const e = errOf(() => fromHex(bad, 'the field'));
      expect(e).toBeInstanceOf(ConclaveError);
      expect((e as ConclaveError).code).toBe('BAD_INPUT');
      expect((e as Error).message).toBe('the field is not valid hex');
    }
  });
});

describe('hashing', () => {
  it('sha256 and transcriptHash agree with node:crypto', () => {
    const data = utf8('conclave');
    expect(toHex(sha256(data))).toBe(createHash('sha256').update(data).digest('hex'));
    const parts = [utf8('x'), utf8('yz')];
    expect(transcriptHash(parts)).toBe(createHash('sha256').update(encodeFields(parts)).digest('hex'));
    expect(transcriptHash([utf8('xy'), utf8('z')])).not.toBe(transcriptHash(parts));
  });
});
