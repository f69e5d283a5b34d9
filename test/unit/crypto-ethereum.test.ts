import { secp256k1 } from '@noble/curves/secp256k1.js';
import { keccak_256 } from '@noble/hashes/sha3.js';
import { bytesToHex, hexToBytes, utf8ToBytes } from '@noble/hashes/utils.js';
import { describe, expect, it } from 'vitest';
import {
  eip1559TransactionHash,
  eip191MessageHash,
  ethereumAddress,
  isValidChecksumAddress,
  recoverAddress,
  rlpEncode,
  serializeSignedEip1559,
  serializeUnsignedEip1559,
  toChecksumAddress,
  type Eip1559Transaction,
  type EthSignature,
  type RlpItem,
} from '../../src/crypto/ethereum.js';
import { expectCode } from './expect-errors.js';
import { readVectors, titled } from './vectors.js';

const hex = (b: Uint8Array) => '0x' + bytesToHex(b);
const unhex = (s: string) => hexToBytes(s.startsWith('0x') ? s.slice(2) : s);
const N = secp256k1.Point.Fn.ORDER;
const pubOf = (privateKeyHex: string) => secp256k1.getPublicKey(unhex(privateKeyHex), false);
const u = utf8ToBytes;

// ---------------------------------------------------------------------------------------------
// RLP

/**
 * An RLP input as the published files write it (ethereum/tests rlptest.json): a string is a byte
 * string (its characters are the bytes), "#N" a big integer, a number an integer, an array a list.
 */
type RlpJson = string | number | RlpJson[];
function rlpItem(x: RlpJson): RlpItem {
  if (Array.isArray(x)) return x.map(rlpItem);
  if (typeof x === 'number') return x;
  if (x.startsWith('#')) return BigInt(x.slice(1));
  return Uint8Array.from(x, (ch) => {
    const b = ch.charCodeAt(0);
    if (b > 0x7f) throw new Error(`RLP byte string ${JSON.stringify(x)} is not ASCII`);
    return b;
  });
}

type RlpSet = Record<string, { in: RlpJson; out: string }>;
const RLP = readVectors<{ source: Record<string, string>; rlptest: RlpSet; ethereumOrg: RlpSet }>(
  'ethereum/rlp.json',
);
const RLP_CASES: Array<[string, RlpItem, string]> = [
  ['ethereum/tests rlptest.json', RLP.rlptest] as const,
  ['ethereum.org example', RLP.ethereumOrg] as const,
].flatMap(([set, cases]) =>
  Object.entries(cases).map(([name, c]): [string, RlpItem, string] => [
    `${set}: ${name}`,
    rlpItem(c.in),
    c.out,
  ]),
);

describe('rlpEncode', () => {
  it.each(RLP_CASES)('%s', (_name, input, out) => {
    expect(hex(rlpEncode(input))).toBe(out);
  });

  it('ethereum.org: a 56-byte string takes 0xb8 0x38, a 1024-byte string 0xb9 0x04 0x00', () => {
    const lorem = u('Lorem ipsum dolor sit amet, consectetur adipisicing elit');
    expect(lorem.length).toBe(56);
    expect(hex(rlpEncode(lorem).subarray(0, 2))).toBe('0xb838');
    const kib = new Uint8Array(1024).fill(0xab);
    const enc = rlpEncode(kib);
    expect(hex(enc.subarray(0, 3))).toBe('0xb90400');
    expect(hex(enc.subarray(3))).toBe(hex(kib));
  });

  it('encodes integers minimally whatever their type', () => {
    expect(hex(rlpEncode(1024n))).toBe('0x820400');
    expect(hex(rlpEncode(0n))).toBe('0x80');
    expect(hex(rlpEncode(0x7f))).toBe('0x7f');
    expect(hex(rlpEncode(0x80n))).toBe('0x8180');
  });

  it('refuses what it cannot encode', () => {
    expectCode(() => rlpEncode(-1), 'BAD_INPUT', /negative/);
    expectCode(() => rlpEncode(-1n), 'BAD_INPUT', /negative/);
    expectCode(() => rlpEncode(2 ** 53), 'BAD_INPUT', /safe integer/);
    expectCode(() => rlpEncode(1.5), 'BAD_INPUT', /safe integer/);
    expectCode(
      () => rlpEncode('dog' as unknown as RlpItem),
      'BAD_INPUT',
      /bytes, a non-negative integer or a list/,
    );
    expectCode(() => rlpEncode({} as unknown as RlpItem), 'BAD_INPUT');
    let deep: RlpItem = [];
    for (let i = 0; i < 100; i++) deep = [deep];
    expectCode(() => rlpEncode(deep), 'BAD_INPUT', /nesting/);
  });
});

// ---------------------------------------------------------------------------------------------
// EIP-55

const EIP55 = readVectors<{ source: string; allCaps: string[]; allLower: string[]; normal: string[] }>(
  'ethereum/eip55.json',
);
const EIP55_ALL = [...EIP55.allCaps, ...EIP55.allLower, ...EIP55.normal];

describe('EIP-55', () => {
  it.each(EIP55_ALL)('checksums %s from lowercase, uppercase and bytes', (addr) => {
    const body = addr.slice(2);
    expect(toChecksumAddress('0x' + body.toLowerCase())).toBe(addr);
    expect(toChecksumAddress('0x' + body.toUpperCase())).toBe(addr);
    expect(toChecksumAddress(unhex(body))).toBe(addr);
    expect(toChecksumAddress(addr)).toBe(addr);
    expect(isValidChecksumAddress(addr)).toBe(true);
  });

  // web3/web3.js test/utils.checkAddressChecksum.js: the lowercased and 0X-uppercased forms of a
  // mixed-case address are not valid checksummed addresses.
  it('strict by default: unchecksummed spellings of a mixed-case address fail', () => {
    expect(isValidChecksumAddress('0xd1220a0cf47c7b9be7a2e6ba89f429762e7b9adb')).toBe(false);
    expect(isValidChecksumAddress('0XD1220A0CF47C7B9BE7A2E6BA89F429762E7B9ADB')).toBe(false);
    expect(isValidChecksumAddress('0xD1220A0CF47C7B9BE7A2E6BA89F429762E7B9ADB')).toBe(false);
  });

  it('allowUnchecksummed accepts all-lowercase and all-uppercase, never a wrong mixed case', () => {
    const opts = { allowUnchecksummed: true };
    expect(isValidChecksumAddress('0xd1220a0cf47c7b9be7a2e6ba89f429762e7b9adb', opts)).toBe(true);
    expect(isValidChecksumAddress('0xD1220A0CF47C7B9BE7A2E6BA89F429762E7B9ADB', opts)).toBe(true);
    expect(isValidChecksumAddress('0XD1220A0CF47C7B9BE7A2E6BA89F429762E7B9ADB', opts)).toBe(false);
    expect(isValidChecksumAddress('0xd1220A0cf47c7B9Be7A2E6BA89F429762e7b9aDb', opts)).toBe(false);
  });

  it('isValidChecksumAddress never throws on junk', () => {
    for (const junk of [
      undefined,
      null,
      42,
      {},
      '',
      '0x',
      '0x1234',
      '5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed',
    ]) {
      expect(isValidChecksumAddress(junk)).toBe(false);
    }
    expect(isValidChecksumAddress('0x' + 'g'.repeat(40))).toBe(false);
    expect(isValidChecksumAddress(EIP55.normal[0] + '00')).toBe(false);
  });

  it('toChecksumAddress refuses a wrong checksum and malformed addresses', () => {
    // One letter's case flipped in an EIP example.
    expectCode(
      () => toChecksumAddress('0x5AAeb6053F3E94C9b9A09f33669435E7Ef1BeAed'),
      'BAD_INPUT',
      /checksum/,
    );
    for (const bad of [
      '',
      '0x',
      '0x1234',
      '5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed',
      '0X5AAEB6053F3E94C9B9A09F33669435E7EF1BEAED',
    ]) {
      expectCode(() => toChecksumAddress(bad), 'BAD_INPUT', /0x followed by 40 hex digits/);
    }
    expectCode(() => toChecksumAddress('0x' + 'z'.repeat(40)), 'BAD_INPUT');
    expectCode(() => toChecksumAddress(new Uint8Array(19)), 'BAD_INPUT', /20 bytes/);
    expectCode(() => toChecksumAddress(42 as unknown as string), 'BAD_INPUT');
  });
});

// ---------------------------------------------------------------------------------------------
// Public key -> address

const KEY_ADDRESS = readVectors<{
  source: Record<string, string>;
  cases: Array<{ source: string; privateKey: string; address: string }>;
}>('ethereum/key-address.json').cases;

/** The published address of a published private key. */
function publishedAddress(privateKey: string): string {
  const c = KEY_ADDRESS.find((k) => k.privateKey === privateKey);
  if (!c) throw new Error(`no published address for ${privateKey}`);
  return c.address;
}

describe('ethereumAddress', () => {
  it.each(titled(KEY_ADDRESS, (c) => `private key ${c.privateKey} -> ${c.address}`))(
    '%s (compressed, uncompressed, hex)',
    (_title, c) => {
      const { privateKey: sk, address: addr } = c;
      const compressed = secp256k1.getPublicKey(unhex(sk), true);
      const uncompressed = secp256k1.getPublicKey(unhex(sk), false);
      expect(ethereumAddress(compressed)).toBe(addr);
      expect(ethereumAddress(uncompressed)).toBe(addr);
      expect(ethereumAddress(bytesToHex(compressed))).toBe(addr);
      expect(ethereumAddress('0x' + bytesToHex(uncompressed))).toBe(addr);
      expect(isValidChecksumAddress(ethereumAddress(compressed))).toBe(true);
    },
  );

  it('refuses wrong lengths and prefixes', () => {
    const unc = pubOf(KEY_ADDRESS[0]!.privateKey);
    const cmp = secp256k1.getPublicKey(unhex(KEY_ADDRESS[0]!.privateKey), true);
    expectCode(() => ethereumAddress(unc.subarray(1)), 'BAD_INPUT', /33 bytes .* or 65 bytes/); // raw X||Y
    expectCode(() => ethereumAddress(cmp.subarray(1)), 'BAD_INPUT', /33 bytes/); // x-only
    expectCode(() => ethereumAddress(new Uint8Array(0)), 'BAD_INPUT');
    expectCode(() => ethereumAddress(Uint8Array.of(0x04, ...cmp.subarray(1))), 'BAD_INPUT');
    expectCode(() => ethereumAddress(Uint8Array.of(0x02, ...unc.subarray(1))), 'BAD_INPUT');
    // SEC1 hybrid encoding (0x06/0x07) is not accepted.
    expectCode(() => ethereumAddress(Uint8Array.of(0x06 | (unc[64]! & 1), ...unc.subarray(1))), 'BAD_INPUT');
    expectCode(() => ethereumAddress('0x04zz'), 'BAD_INPUT', /hex/);
    expectCode(() => ethereumAddress('0x021'), 'BAD_INPUT', /hex/);
    expectCode(() => ethereumAddress(12 as unknown as string), 'BAD_INPUT');
  });

  it('refuses off-curve points and the identity', () => {
    // No secp256k1 point has x = 0 (7 is not a square mod p).
    expectCode(() => ethereumAddress('02' + '00'.repeat(32)), 'BAD_INPUT', /not a point/);
    // x >= p.
    expectCode(() => ethereumAddress('02' + 'ff'.repeat(32)), 'BAD_INPUT', /not a point/);
    // G with y + 1.
    const g = secp256k1.Point.BASE.toAffine();
    const offY = (g.y + 1n).toString(16).padStart(64, '0');
    expectCode(
      () => ethereumAddress('04' + g.x.toString(16).padStart(64, '0') + offY),
      'BAD_INPUT',
      /not a point/,
    );
    // The identity has no 33/65-byte encoding; these are the all-zero attempts at one.
    expectCode(() => ethereumAddress(new Uint8Array(33)), 'BAD_INPUT');
    expectCode(() => ethereumAddress(Uint8Array.of(0x04, ...new Uint8Array(64))), 'BAD_INPUT', /not a point/);
  });
});

// ---------------------------------------------------------------------------------------------
// EIP-191

/** A message as the vector file gives it: UTF-8 text, bytes, or ethers.utils.id (keccak256) of text. */
type MessageJson = { text: string } | { bytes: string } | { keccak256OfText: string };
function messageOf(m: MessageJson): string | Uint8Array {
  if ('text' in m) return m.text;
  if ('bytes' in m) return unhex(m.bytes);
  return keccak_256(u(m.keccak256OfText));
}

interface Eip191Case {
  name: string;
  message: MessageJson;
  messageHash: string;
  /** Signed vectors only: the key, its address and the 65-byte r || s || v signature. */
  privateKey?: string;
  address?: string;
  signature?: string;
}
const EIP191 = readVectors<{
  source: Record<string, string>;
  ethersV6: Eip191Case[];
  ethersV5: Eip191Case[];
}>('ethereum/eip191.json');
const EIP191_CASES = [
  ...EIP191.ethersV6.map((c) => ({ ...c, label: `ethers v6 vector ${c.name}` })),
  ...EIP191.ethersV5.map((c) => ({ ...c, label: `ethers v5 vector ${c.name}: hash, address, recovery` })),
];

/** 65-byte r || s || v (v = 27/28) -> EthSignature. */
function splitRsv(sig: string): EthSignature {
  const b = unhex(sig);
  expect(b.length).toBe(65);
  const v = b[64]!;
  expect([27, 28]).toContain(v);
  return { r: bytesToHex(b.subarray(0, 32)), s: bytesToHex(b.subarray(32, 64)), recovery: v - 27 };
}

describe('eip191MessageHash', () => {
  it.each(titled(EIP191_CASES, (c) => c.label))('%s', (_title, t) => {
    const message = messageOf(t.message);
    expect(hex(eip191MessageHash(message))).toBe(t.messageHash);
    if (t.privateKey === undefined && t.address === undefined && t.signature === undefined) return;
    const { privateKey, address, signature } = t as Required<Eip191Case>;
    expect(ethereumAddress(pubOf(privateKey))).toBe(address);
    expect(recoverAddress(t.messageHash, splitRsv(signature))).toBe(address);
    expect(recoverAddress(eip191MessageHash(message), splitRsv(signature))).toBe(address);
  });

  it('hashes a string and its UTF-8 bytes alike, with the byte length (not the character count)', () => {
    expect(hex(eip191MessageHash('hello world'))).toBe(hex(eip191MessageHash(u('hello world'))));
    const s = 'héllo ✓';
    const expected = keccak_256(u('\x19Ethereum Signed Message:\n' + u(s).length + s));
    expect(hex(eip191MessageHash(s))).toBe(hex(expected));
    expect(u(s).length).not.toBe(s.length);
  });

  it('refuses what is neither bytes nor a string', () => {
    expectCode(() => eip191MessageHash(42 as unknown as string), 'BAD_INPUT', /bytes or a string/);
    expectCode(() => eip191MessageHash(null as unknown as string), 'BAD_INPUT');
  });
});

// ---------------------------------------------------------------------------------------------
// EIP-155 worked example: exercises RLP over a real transaction and recovery against a published signature.

const EIP155 = readVectors<{
  source: string;
  transaction: {
    nonce: number;
    gasPrice: string;
    gasLimit: number;
    to: string;
    value: string;
    data: string;
    chainId: number;
  };
  signingData: string;
  signingHash: string;
  privateKey: string;
  signature: { v: number; r: string; s: string };
  signedTransaction: string;
}>('ethereum/eip155.json');

describe(`EIP-155 example (${EIP155.source})`, () => {
  const { nonce, gasPrice, gasLimit, to, value, data, chainId } = EIP155.transaction;
  const fields = [nonce, BigInt(gasPrice), gasLimit, unhex(to), BigInt(value), unhex(data)];
  const { v, r, s } = EIP155.signature;

  it('signing data, signing hash, signed transaction', () => {
    const unsigned: RlpItem = [...fields, chainId, 0, 0];
    expect(hex(rlpEncode(unsigned))).toBe(EIP155.signingData);
    expect(hex(keccak_256(rlpEncode(unsigned)))).toBe(EIP155.signingHash);
    expect(hex(rlpEncode([...fields, v, BigInt(r), BigInt(s)]))).toBe(EIP155.signedTransaction);
  });

  it('the signature (v = chainId * 2 + 35 + recovery) recovers to the address of the example key', () => {
    const recovery = v - 35 - 2 * chainId;
    expect([0, 1]).toContain(recovery);
    const sig = { r: BigInt(r).toString(16), s: BigInt(s).toString(16), recovery };
    const addr = recoverAddress(EIP155.signingHash, sig);
    expect(addr).toBe(publishedAddress(EIP155.privateKey));
    expect(addr).toBe(ethereumAddress(pubOf(EIP155.privateKey)));
  });
});

// ---------------------------------------------------------------------------------------------
// EIP-1559

/**
 * One published EIP-1559 vector: a transaction and whatever its source published about it. A
 * signedTransactionRLP is the signed transaction wrapped once more as an RLP string (ethereumjs/Besu).
 */
interface Eip1559Case {
  name: string;
  tx: Eip1559Transaction;
  signedTransactionRLP?: string;
  signedTransaction?: string;
  signature?: EthSignature;
  unsignedTransaction?: string;
  signingHash?: string;
  transactionHash?: string;
  privateKey?: string;
}
const EIP1559 = readVectors<
  { source: Record<string, string>; besu: Eip1559Case[] } & Record<string, unknown>
>('ethereum/eip1559.json');
const EIP1559_CASES = Object.entries(EIP1559)
  .filter(([set]) => set !== 'source')
  .flatMap(([, cases]) => cases as Eip1559Case[]);

const BESU_CASES = EIP1559.besu;
const BESU_DEV_KEY = BESU_CASES[0]!.privateKey!;
const BESU_DEV_ADDRESS = publishedAddress(BESU_DEV_KEY);

/** r, s and y-parity from the tail of a signed type-2 transaction: … yParity, a0 r(32), a0 s(32). */
function tailSignature(raw: string): EthSignature {
  const h = raw.slice(2);
  expect(h.slice(-66, -64)).toBe('a0');
  expect(h.slice(-132, -130)).toBe('a0');
  const v = h.slice(-134, -132);
  expect(['80', '01']).toContain(v);
  return { r: h.slice(-130, -66), s: h.slice(-64), recovery: v === '01' ? 1 : 0 };
}

describe('EIP-1559 published vectors', () => {
  it.each(titled(EIP1559_CASES, (c) => c.name))('%s', (_title, c) => {
    let raw = c.signedTransaction;
    if (c.signedTransactionRLP !== undefined) {
      // Unwrap: the published value is rlp(rawTx) for a string longer than 55 bytes.
      const rawBytes = unhex(c.signedTransactionRLP).subarray(2);
      expect(hex(rlpEncode(rawBytes))).toBe(c.signedTransactionRLP);
      raw = hex(rawBytes);
    }
    if (raw !== undefined) expect(raw.startsWith('0x02')).toBe(true);
    const sig = c.signature ?? (raw === undefined ? undefined : tailSignature(raw));
    if (c.signature !== undefined && raw !== undefined) expect(tailSignature(raw)).toEqual(c.signature);

    if (c.unsignedTransaction !== undefined)
      expect(serializeUnsignedEip1559(c.tx)).toBe(c.unsignedTransaction);
    const hash = eip1559TransactionHash(c.tx);
    if (c.signingHash !== undefined) expect(hex(hash)).toBe(c.signingHash);
    if (sig !== undefined) {
      const signed = serializeSignedEip1559(c.tx, sig);
      if (raw !== undefined) expect(signed).toBe(raw);
      if (c.transactionHash !== undefined) expect(hex(keccak_256(unhex(signed)))).toBe(c.transactionHash);
    }

    if (c.privateKey !== undefined) {
      expect(sig).toBeDefined();
      const sender = ethereumAddress(pubOf(c.privateKey));
      if (KEY_ADDRESS.some((k) => k.privateKey === c.privateKey)) {
        expect(sender).toBe(publishedAddress(c.privateKey));
      }
      expect(recoverAddress(hash, sig!)).toBe(sender);
      expect(serializeSignedEip1559(c.tx, sig!, { from: sender })).toBe(serializeSignedEip1559(c.tx, sig!));
      // The published signatures are RFC 6979 deterministic: re-signing our hash reproduces them byte
      // for byte, which pins the signing hash itself, not only something that recovers to the sender.
      const again = secp256k1.sign(hash, unhex(c.privateKey), { prehash: false, format: 'recovered' });
      expect(bytesToHex(again)).toBe('0' + sig!.recovery + sig!.r + sig!.s);
    }
  });
});

describe('EIP-1559 encoding details', () => {
  const base: Eip1559Transaction = BESU_CASES[0]!.tx;

  it('the same value as bigint, number or decimal string hashes the same', () => {
    const h = hex(eip1559TransactionHash(base));
    const asStrings: Eip1559Transaction = {
      ...base,
      chainId: String(base.chainId),
      nonce: String(base.nonce),
      maxPriorityFeePerGas: String(base.maxPriorityFeePerGas),
      maxFeePerGas: String(base.maxFeePerGas),
      gasLimit: String(base.gasLimit),
      value: String(base.value),
    };
    const asBigints: Eip1559Transaction = {
      ...base,
      chainId: BigInt(base.chainId),
      nonce: BigInt(base.nonce),
      maxPriorityFeePerGas: BigInt(base.maxPriorityFeePerGas),
      maxFeePerGas: BigInt(base.maxFeePerGas),
      gasLimit: BigInt(base.gasLimit),
      value: BigInt(base.value),
    };
    expect(hex(eip1559TransactionHash(asStrings))).toBe(h);
    expect(hex(eip1559TransactionHash(asBigints))).toBe(h);
    // data and accessList default to empty; data may omit 0x; address case does not matter.
    const { data: _d, accessList: _a, ...bare } = base;
    expect(hex(eip1559TransactionHash(bare))).toBe(h);
    expect(hex(eip1559TransactionHash({ ...base, data: '' }))).toBe(h);
    expect(hex(eip1559TransactionHash({ ...base, to: '0x000000000000000000000000000000000000AAAA' }))).toBe(
      h,
    );
  });

  it('contract creation: null and "" both encode `to` as the empty string', () => {
    const create = { ...base, to: null, data: '0x6080' };
    const payload = serializeUnsignedEip1559(create);
    expect(serializeUnsignedEip1559({ ...create, to: '' })).toBe(payload);
    const expected = rlpEncode([
      7822,
      819,
      75853,
      121212,
      35552,
      new Uint8Array(0),
      43203529,
      unhex('6080'),
      [],
    ]);
    expect(payload).toBe('0x02' + bytesToHex(expected));
  });

  it('uint256 bounds: 2^256 - 1 is accepted as a value, 2^256 is not', () => {
    const max = (1n << 256n) - 1n;
    expect(() => eip1559TransactionHash({ ...base, value: max })).not.toThrow();
    expect(() =>
      eip1559TransactionHash({ ...base, maxFeePerGas: max, maxPriorityFeePerGas: max }),
    ).not.toThrow();
    expectCode(
      () => eip1559TransactionHash({ ...base, value: max + 1n }),
      'BAD_INPUT',
      /tx\.value exceeds 2\^256/,
    );
    expectCode(
      () => eip1559TransactionHash({ ...base, value: (max + 1n).toString() }),
      'BAD_INPUT',
      /tx\.value/,
    );
  });
});

describe('EIP-1559 input validation', () => {
  const base: Eip1559Transaction = BESU_CASES[0]!.tx;
  const QUANTITY_FIELDS = [
    'chainId',
    'nonce',
    'maxPriorityFeePerGas',
    'maxFeePerGas',
    'gasLimit',
    'value',
  ] as const;
  const BAD_QUANTITIES: unknown[] = [
    -1,
    -1n,
    1.5,
    NaN,
    Infinity,
    2 ** 53,
    '0x10',
    '010',
    '-1',
    '1e3',
    ' 1',
    '',
    '1'.repeat(79),
    null,
    undefined,
    true,
    {},
  ];

  it.each(QUANTITY_FIELDS)(
    'tx.%s: refuses anything but a non-negative integer, naming the field',
    (field) => {
      for (const v of BAD_QUANTITIES) {
        expectCode(
          () => eip1559TransactionHash({ ...base, [field]: v } as Eip1559Transaction),
          'BAD_INPUT',
          new RegExp(`tx\\.${field}`),
        );
      }
    },
  );

  it('nonce and gasLimit are 64-bit; chainId is at least 1; priority fee at most the max fee', () => {
    const two64 = 1n << 64n;
    expect(() => eip1559TransactionHash({ ...base, nonce: two64 - 1n, gasLimit: two64 - 1n })).not.toThrow();
    expectCode(
      () => eip1559TransactionHash({ ...base, nonce: two64 }),
      'BAD_INPUT',
      /tx\.nonce exceeds 2\^64/,
    );
    expectCode(
      () => eip1559TransactionHash({ ...base, gasLimit: two64 }),
      'BAD_INPUT',
      /tx\.gasLimit exceeds 2\^64/,
    );
    expectCode(
      () => eip1559TransactionHash({ ...base, chainId: 0 }),
      'BAD_INPUT',
      /tx\.chainId must be at least 1/,
    );
    expectCode(
      () => eip1559TransactionHash({ ...base, maxPriorityFeePerGas: 2, maxFeePerGas: 1 }),
      'BAD_INPUT',
      /maxPriorityFeePerGas must not exceed tx\.maxFeePerGas/,
    );
  });

  it('tx.to: required, a 20-byte 0x address with a valid checksum when mixed-case', () => {
    const { to: _to, ...noTo } = base;
    expectCode(() => eip1559TransactionHash(noTo as Eip1559Transaction), 'BAD_INPUT', /tx\.to is required/);
    for (const to of [
      '0x1234',
      '000000000000000000000000000000000000aaaa',
      '0x' + '00'.repeat(21),
      '0x' + 'zz'.repeat(20),
    ]) {
      expectCode(
        () => eip1559TransactionHash({ ...base, to }),
        'BAD_INPUT',
        /tx\.to must be a 20-byte address/,
      );
    }
    expectCode(() => eip1559TransactionHash({ ...base, to: 5 as unknown as string }), 'BAD_INPUT', /tx\.to/);
    expectCode(
      () => eip1559TransactionHash({ ...base, to: '0x5AAeb6053F3E94C9b9A09f33669435E7Ef1BeAed' }),
      'BAD_INPUT',
      /tx\.to has an invalid EIP-55 checksum/,
    );
  });

  it('tx.data: hex bytes; contract creation needs init code', () => {
    expectCode(
      () => eip1559TransactionHash({ ...base, data: '0x123' }),
      'BAD_INPUT',
      /tx\.data is not valid hex/,
    );
    expectCode(() => eip1559TransactionHash({ ...base, data: '0xgg' }), 'BAD_INPUT', /tx\.data/);
    expectCode(
      () => eip1559TransactionHash({ ...base, data: 12 as unknown as string }),
      'BAD_INPUT',
      /tx\.data/,
    );
    expectCode(() => eip1559TransactionHash({ ...base, to: null, data: '0x' }), 'BAD_INPUT', /init code/);
    expectCode(() => eip1559TransactionHash({ ...base, to: '' }), 'BAD_INPUT', /init code/);
  });

  it('tx.accessList: entries of { address, storageKeys: 32-byte hex[] }, named by index', () => {
    const addr = '0x' + '01'.repeat(20);
    const key = '0x' + '01'.repeat(32);
    const withList = (accessList: unknown) => ({ ...base, accessList }) as Eip1559Transaction;
    expectCode(() => eip1559TransactionHash(withList({})), 'BAD_INPUT', /tx\.accessList must be an array/);
    expectCode(
      () => eip1559TransactionHash(withList([null])),
      'BAD_INPUT',
      /tx\.accessList\[0\] must be an object/,
    );
    expectCode(() => eip1559TransactionHash(withList([[addr, [key]]])), 'BAD_INPUT', /tx\.accessList\[0\]/);
    expectCode(
      () => eip1559TransactionHash(withList([{ address: addr, storageKeys: [], extra: 1 }])),
      'BAD_INPUT',
      /tx\.accessList\[0\]\.extra/,
    );
    expectCode(
      () => eip1559TransactionHash(withList([{ address: '0x01', storageKeys: [] }])),
      'BAD_INPUT',
      /tx\.accessList\[0\]\.address/,
    );
    expectCode(
      () => eip1559TransactionHash(withList([{ address: addr, storageKeys: key }])),
      'BAD_INPUT',
      /tx\.accessList\[0\]\.storageKeys must be an array/,
    );
    expectCode(
      () =>
        eip1559TransactionHash(
          withList([
            { address: addr, storageKeys: [] },
            { address: addr, storageKeys: [key, '0x01'] },
          ]),
        ),
      'BAD_INPUT',
      /tx\.accessList\[1\]\.storageKeys\[1\] must be 32 bytes/,
    );
    expect(() =>
      eip1559TransactionHash(withList([{ address: addr, storageKeys: [key, key.slice(2)] }])),
    ).not.toThrow();
  });

  it('refuses a non-object transaction and unknown fields', () => {
    for (const tx of [null, undefined, 1, 'tx', [], unhex('02')]) {
      expectCode(
        () => eip1559TransactionHash(tx as unknown as Eip1559Transaction),
        'BAD_INPUT',
        /transaction must be an object/,
      );
    }
    expectCode(
      () => eip1559TransactionHash({ ...base, gasPrice: 1 } as unknown as Eip1559Transaction),
      'BAD_INPUT',
      /tx\.gasPrice is not a field/,
    );
    expectCode(
      () => serializeUnsignedEip1559({ ...base, type: 2 } as unknown as Eip1559Transaction),
      'BAD_INPUT',
      /tx\.type/,
    );
  });
});

// ---------------------------------------------------------------------------------------------
// Signatures: recovery, high-S, malformed

describe('recoverAddress and serializeSignedEip1559 with noble signatures', () => {
  const tx: Eip1559Transaction = BESU_CASES[0]!.tx;

  it('a low-S noble signature recovers to ethereumAddress of the key (random keys and hashes)', () => {
    for (let i = 0; i < 16; i++) {
      const sk = secp256k1.utils.randomSecretKey();
      const hash = keccak_256(secp256k1.utils.randomSecretKey());
      const sig = secp256k1.Signature.fromBytes(
        secp256k1.sign(hash, sk, { prehash: false, format: 'recovered' }),
        'recovered',
      );
      expect(sig.hasHighS()).toBe(false);
      const ethSig = { r: sig.r.toString(16), s: sig.s.toString(16), recovery: sig.recovery! };
      const addr = ethereumAddress(secp256k1.getPublicKey(sk));
      expect(recoverAddress(hash, ethSig)).toBe(addr);
      expect(recoverAddress(hex(hash), ethSig)).toBe(addr);
      expect(recoverAddress(bytesToHex(hash), ethSig)).toBe(addr);
    }
  });

  it('signs a transaction end to end and accepts a DKLs-shaped signature object', () => {
    const sk = secp256k1.utils.randomSecretKey();
    const from = ethereumAddress(secp256k1.getPublicKey(sk));
    const sig = secp256k1.Signature.fromBytes(
      secp256k1.sign(eip1559TransactionHash(tx), sk, { prehash: false, format: 'recovered' }),
      'recovered',
    );
    const dklsLike = {
      r: sig.r.toString(16).padStart(64, '0'),
      s: sig.s.toString(16).padStart(64, '0'),
      recovery: sig.recovery!,
      compact: sig.toHex('compact'),
      der: sig.toHex('der'),
      messageHash: bytesToHex(eip1559TransactionHash(tx)),
      publicKey: bytesToHex(secp256k1.getPublicKey(sk)),
    };
    const raw = serializeSignedEip1559(tx, dklsLike, { from });
    expect(raw.startsWith('0x02')).toBe(true);
    expect(recoverAddress(eip1559TransactionHash(tx), dklsLike)).toBe(from);
    expectCode(
      () => serializeSignedEip1559(tx, dklsLike, { from: BESU_DEV_ADDRESS }),
      'BAD_INPUT',
      /not to the expected sender/,
    );
    expectCode(
      () => serializeSignedEip1559(tx, dklsLike, { from: from.toLowerCase().replace('0x', '') }),
      'BAD_INPUT',
      /from/,
    );
    // Signed over another transaction: recovers to someone else.
    expectCode(
      () => serializeSignedEip1559({ ...tx, nonce: 820 }, dklsLike, { from }),
      'BAD_INPUT',
      /not to the expected sender/,
    );
  });

  it('refuses high-S (EIP-2), although it would recover the same key', () => {
    const sig = tailSignature(hex(unhex(BESU_CASES[0]!.signedTransactionRLP!).subarray(2)));
    const hash = eip1559TransactionHash(tx);
    const highS = N - BigInt('0x' + sig.s);
    const flipped = { r: sig.r, s: highS.toString(16), recovery: sig.recovery ^ 1 };
    // Malleated signature: mathematically valid for the same key...
    const q = new secp256k1.Signature(BigInt('0x' + sig.r), highS, flipped.recovery).recoverPublicKey(hash);
    expect(ethereumAddress(q.toBytes(true))).toBe(BESU_DEV_ADDRESS);
    // ...and refused.
    expectCode(() => recoverAddress(hash, flipped), 'BAD_INPUT', /high/);
    expectCode(() => serializeSignedEip1559(tx, flipped), 'BAD_INPUT', /high/);
    // n/2 itself is the largest low s; n/2 + 1 is high.
    const half = N >> 1n;
    expectCode(() => recoverAddress(hash, { ...sig, s: (half + 1n).toString(16) }), 'BAD_INPUT', /high/);
  });

  it('refuses malformed signatures and hashes', () => {
    const sig = tailSignature(hex(unhex(BESU_CASES[0]!.signedTransactionRLP!).subarray(2)));
    const hash = eip1559TransactionHash(tx);
    const bad = (s: unknown) => () => recoverAddress(hash, s as EthSignature);
    expectCode(bad(null), 'BAD_INPUT', /signature must be an object/);
    expectCode(bad('0x' + sig.r + sig.s), 'BAD_INPUT', /signature must be an object/);
    for (const recovery of [2, 3, 27, 28, -1, '0', 0.5, undefined]) {
      expectCode(bad({ ...sig, recovery }), 'BAD_INPUT', /signature\.recovery must be 0 or 1/);
    }
    expectCode(bad({ ...sig, r: '0' }), 'BAD_INPUT', /signature\.r must be in \[1, n - 1\]/);
    expectCode(bad({ ...sig, s: '0x00' }), 'BAD_INPUT', /signature\.s must be in \[1, n - 1\]/);
    expectCode(bad({ ...sig, r: N.toString(16) }), 'BAD_INPUT', /signature\.r must be in/);
    expectCode(bad({ ...sig, r: '1' + sig.r }), 'BAD_INPUT', /signature\.r must be 1 to 32 bytes/);
    expectCode(bad({ ...sig, r: '' }), 'BAD_INPUT', /signature\.r/);
    expectCode(bad({ ...sig, s: 'xyz' }), 'BAD_INPUT', /signature\.s/);
    expectCode(bad({ ...sig, r: 5n }), 'BAD_INPUT', /signature\.r must be a hex string/);
    // An r that is no point's x coordinate cannot be recovered.
    let r = 1n;
    for (; ; r++) {
      try {
        secp256k1.Point.fromHex('02' + r.toString(16).padStart(64, '0'));
      } catch {
        break;
      }
    }
    expectCode(bad({ ...sig, r: r.toString(16) }), 'BAD_INPUT', /does not recover/);

    for (const h of [
      hash.subarray(1),
      '0x' + bytesToHex(hash).slice(2),
      bytesToHex(hash) + '00',
      'zz'.repeat(32),
      7,
    ]) {
      expectCode(() => recoverAddress(h as string, sig), 'BAD_INPUT', /hash/);
    }
  });
});
