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

const hex = (b: Uint8Array) => '0x' + bytesToHex(b);
const unhex = (s: string) => hexToBytes(s.startsWith('0x') ? s.slice(2) : s);
const N = secp256k1.Point.Fn.ORDER;
const pubOf = (privateKeyHex: string) => secp256k1.getPublicKey(unhex(privateKeyHex), false);
const u = utf8ToBytes;

// ---------------------------------------------------------------------------------------------
// RLP

// ethereum/tests RLPTests/rlptest.json ("in" -> "out"); strings there are byte strings, "#N" big integers.
const RLPTEST: Array<[string, RlpItem, string]> = [
  ['emptystring', u(''), '0x80'],
  ['bytestring00', Uint8Array.of(0x00), '0x00'],
  ['bytestring01', Uint8Array.of(0x01), '0x01'],
  ['bytestring7F', Uint8Array.of(0x7f), '0x7f'],
  ['shortstring', u('dog'), '0x83646f67'],
  [
    'shortstring2',
    u('Lorem ipsum dolor sit amet, consectetur adipisicing eli'),
    '0xb74c6f72656d20697073756d20646f6c6f722073697420616d65742c20636f6e7365637465747572206164697069736963696e6720656c69',
  ],
  [
    'longstring',
    u('Lorem ipsum dolor sit amet, consectetur adipisicing elit'),
    '0xb8384c6f72656d20697073756d20646f6c6f722073697420616d65742c20636f6e7365637465747572206164697069736963696e6720656c6974',
  ],
  ['zero', 0, '0x80'],
  ['smallint', 1, '0x01'],
  ['smallint2', 16, '0x10'],
  ['smallint3', 79, '0x4f'],
  ['smallint4', 127, '0x7f'],
  ['mediumint1', 128, '0x8180'],
  ['mediumint2', 1000, '0x8203e8'],
  ['mediumint3', 100000, '0x830186a0'],
  ['mediumint4', 83729609699884896815286331701780722n, '0x8f102030405060708090a0b0c0d0e0f2'],
  [
    'mediumint5',
    105315505618206987246253880190783558935785933862974822347068935681n,
    '0x9c0100020003000400050006000700080009000a000b000c000d000e01',
  ],
  ['emptylist', [], '0xc0'],
  ['stringlist', [u('dog'), u('god'), u('cat')], '0xcc83646f6783676f6483636174'],
  ['multilist', [u('zw'), [4], 1], '0xc6827a77c10401'],
  [
    'shortListMax1',
    ['asdf', 'qwer', 'zxcv', 'asdf', 'qwer', 'zxcv', 'asdf', 'qwer', 'zxcv', 'asdf', 'qwer'].map(u),
    '0xf784617364668471776572847a78637684617364668471776572847a78637684617364668471776572847a78637684617364668471776572',
  ],
  [
    'longList1',
    Array.from({ length: 4 }, () => ['asdf', 'qwer', 'zxcv'].map(u)),
    '0xf840' + 'cf84617364668471776572847a786376'.repeat(4),
  ],
  [
    // The published "out" is f90200 followed by the same 16-byte item 32 times.
    'longList2',
    Array.from({ length: 32 }, () => ['asdf', 'qwer', 'zxcv'].map(u)),
    '0xf90200' + 'cf84617364668471776572847a786376'.repeat(32),
  ],
  ['listsoflists', [[[], []], []], '0xc4c2c0c0c0'],
  ['listsoflists2', [[], [[]], [[], [[]]]], '0xc7c0c1c0c3c0c1c0'],
  [
    'dictTest1',
    [
      [u('key1'), u('val1')],
      [u('key2'), u('val2')],
      [u('key3'), u('val3')],
      [u('key4'), u('val4')],
    ],
    '0xecca846b6579318476616c31ca846b6579328476616c32ca846b6579338476616c33ca846b6579348476616c34',
  ],
  ['bigint', 1n << 256n, '0xa1010000000000000000000000000000000000000000000000000000000000000000'],
];

// ethereum.org, "Recursive-length prefix (RLP) serialization", Examples
// (ethereum/ethereum-org-website public/content/developers/docs/data-structures-and-encoding/rlp/index.md).
const RLP_DOCS: Array<[string, RlpItem, string]> = [
  ['the string "dog"', u('dog'), '0x83646f67'],
  ['the list ["cat", "dog"]', [u('cat'), u('dog')], '0xc88363617483646f67'],
  ['the empty string', new Uint8Array(0), '0x80'],
  ['the empty list', [], '0xc0'],
  ['the integer 0', 0, '0x80'],
  ["the byte '\\x00'", Uint8Array.of(0x00), '0x00'],
  ["the byte '\\x0f'", Uint8Array.of(0x0f), '0x0f'],
  ["the bytes '\\x04\\x00' (the integer 1024)", Uint8Array.of(0x04, 0x00), '0x820400'],
  ['the integer 1024', 1024, '0x820400'],
  ['set-theoretic three', [[], [[]], [[], [[]]]], '0xc7c0c1c0c3c0c1c0'],
];

describe('rlpEncode', () => {
  it.each(RLPTEST)('ethereum/tests rlptest.json: %s', (_name, input, out) => {
    expect(hex(rlpEncode(input))).toBe(out);
  });

  it.each(RLP_DOCS)('ethereum.org example: %s', (_name, input, out) => {
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

// ethereum/ERCs ERCS/erc-55.md, "Test Cases" (the EIP-55 text at eips.ethereum.org/EIPS/eip-55).
// Each is already in checksummed form: the "all caps" / "all lower" ones just happen to hash that way.
const EIP55 = {
  allCaps: ['0x52908400098527886E0F7030069857D2E4169EE7', '0x8617E340B3D01FA5F11F306F4090FD50E238070D'],
  allLower: ['0xde709f2102306220921060314715629080e2fb77', '0x27b1fdb04752bbc536007a920d24acb045561c26'],
  normal: [
    '0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed',
    '0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359',
    '0xdbF03B407c01E7cD3CBea99509d93f8DDDC8C6FB',
    '0xD1220A0cf47c7B9Be7A2E6BA89F429762e7b9aDb',
  ],
};
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

  it('EIP text: toChecksumAddress(0xfb69…d359)', () => {
    expect(toChecksumAddress('0xfb6916095ca1df60bb79ce92ce3ea74c37c5d359')).toBe(
      '0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359',
    );
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

// Published private key -> address pairs:
//  - 0x4646…46 (the EIP-155 example key): trustwallet/wallet-core
//    android/app/src/androidTest/java/com/trustwallet/core/app/blockchains/thetafuel/TestThetaFuelAddress.kt;
//    the EIP-155 example signature recovers to it too (see the EIP-155 test below).
//  - afeefca7…45f5: trustwallet/wallet-core tests/chains/Ethereum/AddressTests.cpp (FromPrivateKey).
//  - 0x0123…0123, 0x51d1…73ee, 0x09a1…f25c: ethers-io/ethers.js packages/tests/src.ts/test-wallet.ts
//    (v5, "Test Signing Messages").
//  - 8f2a…be63, c875…c0d3, ae6a…162f: hyperledger/besu config/src/main/resources/dev.json (alloc).
const KEY_ADDRESS: Array<[string, string]> = [
  [
    '0x4646464646464646464646464646464646464646464646464646464646464646',
    '0x9d8A62f656a8d1615C1294fd71e9CFb3E4855A4F',
  ],
  [
    '0xafeefca74d9a325cf1d6b6911d61a65c32afa8e02bd5e78e2e4ac2910bab45f5',
    '0xAc1ec44E4f0ca7D172B7803f6836De87Fb72b309',
  ],
  [
    '0x0123456789012345678901234567890123456789012345678901234567890123',
    '0x14791697260E4c9A71f18484C9f997B308e59325',
  ],
  [
    '0x51d1d6047622bca92272d36b297799ecc152dc2ef91b229debf84fc41e8c73ee',
    '0xD351c7c627ad5531Edb9587f4150CaF393c33E87',
  ],
  [
    '0x09a11afa58d6014843fd2c5fd4e21e7fadf96ca2d8ce9934af6b8e204314f25c',
    '0xe7deA7e64B62d1Ca52f1716f29cd27d4FE28e3e1',
  ],
  [
    '0x8f2a55949038a9610f50fb23b5883af3b4ecb3c3bb792cbcefbd1542c692be63',
    '0xFE3B557E8Fb62b89F4916B721be55cEb828dBd73',
  ],
  [
    '0xc87509a1c067bbde78beb793e6fa76530b6382a4c0241e5e4a9ec0a0f44dc0d3',
    '0x627306090abaB3A6e1400e9345bC60c78a8BEf57',
  ],
  [
    '0xae6ae8e5ccbfb04590405997ee2d52d2b330726137b875053c36d94e974d162f',
    '0xf17f52151EbEF6C7334FAD080c5704D77216b732',
  ],
];

describe('ethereumAddress', () => {
  it.each(KEY_ADDRESS)('private key %s -> %s (compressed, uncompressed, hex)', (sk, addr) => {
    const compressed = secp256k1.getPublicKey(unhex(sk), true);
    const uncompressed = secp256k1.getPublicKey(unhex(sk), false);
    expect(ethereumAddress(compressed)).toBe(addr);
    expect(ethereumAddress(uncompressed)).toBe(addr);
    expect(ethereumAddress(bytesToHex(compressed))).toBe(addr);
    expect(ethereumAddress('0x' + bytesToHex(uncompressed))).toBe(addr);
    expect(isValidChecksumAddress(ethereumAddress(compressed))).toBe(true);
  });

  it('refuses wrong lengths and prefixes', () => {
    const unc = pubOf(KEY_ADDRESS[0]![0]);
    const cmp = secp256k1.getPublicKey(unhex(KEY_ADDRESS[0]![0]), true);
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

// ethers-io/ethers.js src.ts/_tests/test-hash.ts (v6), "Test EIP-191 Personal Message Hash".
const ETHERS6_HASH_MESSAGE: Array<[string, string | Uint8Array, string]> = [
  ['hello-world', 'Hello World', '0xa1de988600a42c4b4ab089b619297c17d53cffae5d5120d82d8a92d0bb3b78f2'],
  [
    'binary-message',
    Uint8Array.of(0x42, 0x43),
    '0x0d3abc18ec299cf9b42ba439ac6f7e3e6ec9f5c048943704e30fc2d9c7981438',
  ],
  // A string that looks like hex is still hashed as UTF-8 text.
  ['hex-looking-string', '0x4243', '0x6d91b221f765224b256762dcba32d62209cf78e9bebb0a1b758ca26c76db3af4'],
];

// ethers-io/ethers.js packages/tests/src.ts/test-wallet.ts (v5), "Test Signing Messages": message,
// messageHash, private key, address and 65-byte r || s || v signature. The first is also
// viem's documented hashMessage('hello world') (viem.sh/docs/utilities/hashMessage).
const ETHERS5_SIGNED_MESSAGES: Array<{
  name: string;
  message: string | Uint8Array;
  messageHash: string;
  privateKey: string;
  address: string;
  signature: string;
}> = [
  {
    name: 'string("hello world")',
    message: 'hello world',
    messageHash: '0xd9eba16ed0ecae432b71fe008c98cc872bb4cc214d3220a36f365326cf807d68',
    privateKey: '0x0123456789012345678901234567890123456789012345678901234567890123',
    address: '0x14791697260E4c9A71f18484C9f997B308e59325',
    signature:
      '0xddd0a7290af9526056b4e35a077b9a11b513aa0028ec6c9880948544508f3c63265e99e47ad31bb2cab9646c504576b3abc6939a1710afc08cbf3034d73214b81c',
  },
  {
    name: 'bytes(0x47173285...4cb01fad)',
    message: unhex('0x47173285a8d7341e5e972fc677286384f802f8ef42a5ec5f03bbfa254cb01fad'),
    messageHash: '0x93100cc9477ba6522a2d7d5e83d0e075b167224ed8aa0c5860cfd47fa9f22797',
    privateKey: '0x51d1d6047622bca92272d36b297799ecc152dc2ef91b229debf84fc41e8c73ee',
    address: '0xD351c7c627ad5531Edb9587f4150CaF393c33E87',
    signature:
      '0x546f0c996fa4cfbf2b68fd413bfb477f05e44e66545d7782d87d52305831cd055fc9943e513297d0f6755ad1590a5476bf7d1761d4f9dc07dfe473824bbdec751b',
  },
  {
    // message = ethers.utils.arrayify(ethers.utils.id('0x7f23…a2')), id = keccak256 of the UTF-8 text.
    name: 'zero-prefixed signature',
    message: keccak_256(u('0x7f23b5eed5bc7e89f267f339561b2697faab234a2')),
    messageHash: '0x06c9d148d268f9a13d8f94f4ce351b0beff3b9ba69f23abbf171168202b2dd67',
    privateKey: '0x09a11afa58d6014843fd2c5fd4e21e7fadf96ca2d8ce9934af6b8e204314f25c',
    address: '0xe7deA7e64B62d1Ca52f1716f29cd27d4FE28e3e1',
    signature:
      '0x7222038446034a0425b6e3f0cc3594f0d979c656206408f937c37a8180bb1bea047d061e4ded4aeac77fa86eb02d42ba7250964ac3eb9da1337090258ce798491c',
  },
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
  it.each(ETHERS6_HASH_MESSAGE)('ethers v6 vector %s', (_name, message, hash) => {
    expect(hex(eip191MessageHash(message))).toBe(hash);
  });

  it.each(ETHERS5_SIGNED_MESSAGES)('ethers v5 vector $name: hash, address, recovery', (t) => {
    expect(hex(eip191MessageHash(t.message))).toBe(t.messageHash);
    expect(ethereumAddress(pubOf(t.privateKey))).toBe(t.address);
    expect(recoverAddress(t.messageHash, splitRsv(t.signature))).toBe(t.address);
    expect(recoverAddress(eip191MessageHash(t.message), splitRsv(t.signature))).toBe(t.address);
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

describe('EIP-155 example (ethereum/EIPs EIPS/eip-155.md)', () => {
  const to = Uint8Array.from({ length: 20 }, () => 0x35);
  const r = 18515461264373351373200002665853028612451056578545711640558177340181847433846n;
  const s = 46948507304638947509940763649030358759909902576025900602547168820602576006531n;
  const unsigned: RlpItem = [9, 20n * 10n ** 9n, 21000, to, 10n ** 18n, new Uint8Array(0), 1, 0, 0];

  it('signing data, signing hash, signed transaction', () => {
    expect(hex(rlpEncode(unsigned))).toBe(
      '0xec098504a817c800825208943535353535353535353535353535353535353535880de0b6b3a764000080018080',
    );
    expect(hex(keccak_256(rlpEncode(unsigned)))).toBe(
      '0xdaf5a779ae972f972197303d7b574746c7ef83eadac0f2791ad23db92e4c8e53',
    );
    expect(hex(rlpEncode([9, 20n * 10n ** 9n, 21000, to, 10n ** 18n, new Uint8Array(0), 37, r, s]))).toBe(
      '0xf86c098504a817c800825208943535353535353535353535353535353535353535880de0b6b3a76400008025a028ef61340bd939bc2195fe537567866003e1a15d3c71ff63e1590620aa636276a067cbe9d8997f761aecb703304b3800ccf555c9f3dc64214b297fb1966a3b6d83',
    );
  });

  it('the signature (v = 37 = 1 * 2 + 35 + 0) recovers to the address of key 0x4646…46', () => {
    const sig = { r: r.toString(16), s: s.toString(16), recovery: 0 };
    const addr = recoverAddress('0xdaf5a779ae972f972197303d7b574746c7ef83eadac0f2791ad23db92e4c8e53', sig);
    expect(addr).toBe('0x9d8A62f656a8d1615C1294fd71e9CFb3E4855A4F');
    expect(addr).toBe(ethereumAddress(pubOf('0x' + '46'.repeat(32))));
  });
});

// ---------------------------------------------------------------------------------------------
// EIP-1559

const BESU_DEV_KEY = '0x8f2a55949038a9610f50fb23b5883af3b4ecb3c3bb792cbcefbd1542c692be63';
const BESU_DEV_ADDRESS = '0xFE3B557E8Fb62b89F4916B721be55cEb828dBd73';

// ethereumjs/ethereumjs-monorepo packages/tx/test/json/eip1559.json ("Source: Besu"), all signed with
// BESU_DEV_KEY and sent to 0x…aaaa with empty data and access list. Fields: nonce, value, gasLimit,
// maxPriorityFeePerGas (named maxInclusionFeePerGas in the oldest copy), maxFeePerGas. Each published
// signedTransactionRLP is the typed transaction wrapped once more as an RLP string (b8xx prefix).
// Two published generations: chain id 7822 (0x1e8e, the original Besu file) and chain id 4 (the file
// after ethereumjs re-signed it under its Rinkeby Common; also packages/tx/test/testData/eip1559.ts).
const EIP1559_FIELDS: Array<[number, number, number, number, number]> = [
  [819, 43203529, 35552, 75853, 121212],
  [353, 61901619, 32593, 38850, 136295],
  [985, 32531825, 68541, 66377, 136097],
  [623, 21649799, 57725, 74140, 81173],
  [972, 94563383, 65254, 42798, 103466],
  [588, 99359647, 37274, 87890, 130273],
  [900, 30402257, 76053, 8714, 112705],
  [709, 6478043, 28335, 86252, 94636],
  [939, 2782905, 45047, 45216, 91648],
  [119, 65456115, 62341, 24721, 107729],
];
const EIP1559_SIGNED: Array<[number, string[]]> = [
  [
    7822,
    [
      '0xb87302f870821e8e8203338301284d8301d97c828ae094000000000000000000000000000000000000aaaa8402933bc980c080a0d067f2167008c59219652f91cbf8788dbca5f771f6e91e2b7657e85b78b472e0a01d305af9fe81fdba43f0dfcd400ed24dcace0a7e30d4e85701dcaaf484cd079e',
      '0xb87202f86f821e8e8201618297c283021467827f5194000000000000000000000000000000000000aaaa8403b08b3380c001a004205678f13fc1d7b10feea6513dfa76e24418b6e08097d95c6f93a3b64e536da01d45ad61bfece43862de2cce7d2575a8c1d08c26c87f3cb5f26d7b0be54a91b2',
      '0xb87402f871821e8e8203d983010349830213a183010bbd94000000000000000000000000000000000000aaaa8401f0657180c001a0e6d23c5ecc0f388a4d41a9523c3ad171e98083a61288c340b968dfe0903a6741a07319e8d54a4fd8f0c081d3ce093d869f9df598481991c8534bfd8f2c163884b4',
      '0xb87302f870821e8e82026f8301219c83013d1582e17d94000000000000000000000000000000000000aaaa84014a598780c080a0b107893e4590e177e244493a3f2b59d63619ddd82772105d8c96b7fc85ff683da07dc9b9dc054d2f69f9cc540688f6c0da3b54dd8bd8323f06d0ca26b546a480f1',
      '0xb87202f86f821e8e8203cc82a72e8301942a82fee694000000000000000000000000000000000000aaaa8405a2ec3780c080a02596bfedd3101f7e3c881eec060f83c60617fb21173ff41a560e02c9c23f02f4a01ef1f7930d31081c06dfd2176046a99442a88678638a33eb80afa8d2d3389ee0',
      '0xb87302f870821e8e82024c830157528301fce182919a94000000000000000000000000000000000000aaaa8405ec1b9f80c001a0404a06f2a9ba9d444e59f03e1b4ce46c4d7127342aa287a6e9a910b26ff6cc89a04af28549efdfb3e746938d01c92785e9852eb58c48d6f35cc99961e88f56603a',
      '0xb87302f870821e8e82038482220a8301b8418301291594000000000000000000000000000000000000aaaa8401cfe6d180c080a06e1bc9e4645de8bdad2c60424539c2dd93aacbc06ae94e440629b133a99e9ba7a03d23fdfdd9934c77fe5385a6b4b6c69e84cdec7814a19d81e648b5852ee5f7eb',
      '0xb87202f86f821e8e8202c5830150ec830171ac826eaf94000000000000000000000000000000000000aaaa8362d8db80c001a09880d133cd636f8c8dce32e2c43494b9f2dc000eee8dc61931e09f866ed04b46a00e44d5c503c7f08b36c8b062c32a963f3dd20a71e95e3d903bfbe7f4da47cd47',
      '0xb87102f86e821e8e8203ab82b0a08301660082aff794000000000000000000000000000000000000aaaa832a76b980c001a0a0e7d9b07c7ec68f24788a554f993b99d59a3f08439cc6c942f62ea0341f2aeba078122b9957c146f7c87811bd58a7e9916ca8c07dabcf875b97bbdef79cb9c197',
      '0xb87002f86d821e8e778260918301a4d182f38594000000000000000000000000000000000000aaaa8403e6c7f380c001a0e38e239770801eb995498c821e55ac9c19ae09184bb27b34be105e02fe3b7615a067c64ca6bd6d9107e85fd581ab2e70a14b637eb36505bb40861ef9d6e800cab6',
    ],
  ],
  [
    4,
    [
      '0xb87102f86e048203338301284d8301d97c828ae094000000000000000000000000000000000000aaaa8402933bc980c080a00f924cb68412c8f1cfd74d9b581c71eeaf94fff6abdde3e5b02ca6b2931dcf47a07dd1c50027c3e31f8b565e25ce68a5072110f61fce5eee81b195dd51273c2f83',
      '0xb87002f86d048201618297c283021467827f5194000000000000000000000000000000000000aaaa8403b08b3380c080a08caf712f72489da6f1a634b651b4b1c7d9be7d1e8d05ea76c1eccee3bdfb86a5a06aecc106f588ce51e112f5e9ea7aba3e089dc7511718821d0e0cd52f52af4e45',
      '0xb87202f86f048203d983010349830213a183010bbd94000000000000000000000000000000000000aaaa8401f0657180c001a08c03a86e85789ee9a1b42fa0a86d316fca262694f8c198df11f194678c2c2d35a028f8e7de02b35014a17b6d28ff8c7e7be6860e7265ac162fb721f1aeae75643c',
      '0xb87102f86e0482026f8301219c83013d1582e17d94000000000000000000000000000000000000aaaa84014a598780c001a0b87c4c8c505d2d692ac77ba466547e79dd60fe7ecd303d520bf6e8c7085e3182a06dc7d00f5e68c3f3ebe8ae35a90d46051afde620ac12e43cae9560a29b13e7fb',
      '0xb87002f86d048203cc82a72e8301942a82fee694000000000000000000000000000000000000aaaa8405a2ec3780c001a006cf07af78c187db104496c58d679f37fcd2d5790970cecf9a59fe4a5321b375a039f3faafc71479d283a5b1e66a86b19c4bdc516655d89dbe57d9747747c01dfe',
      '0xb87102f86e0482024c830157528301fce182919a94000000000000000000000000000000000000aaaa8405ec1b9f80c080a03e2f59ac9ca852034c2c1da35a742ca19fdd910aa5d2ed49ab8ad27a2fcb2b10a03ac1c29c26723c58f91400fb6dfb5f5b837467b1c377541b47dae474dddbe469',
      '0xb87102f86e0482038482220a8301b8418301291594000000000000000000000000000000000000aaaa8401cfe6d180c001a0f7ffc5bca2512860f8236360159bf303dcfab71546b6a0032df0306f3739d0c4a05d38fe2c4edebdc1edc157034f780c53a0e5ae089e57220745bd48bcb10cdf87',
      '0xb87002f86d048202c5830150ec830171ac826eaf94000000000000000000000000000000000000aaaa8362d8db80c001a0a61a5710512f346c9996377f7b564ccb64c73a5fdb615499adb1250498f3e01aa002d10429572cecfaa911a58bbe05f2b26e4c3aee3402202153a93692849add11',
      '0xb86f02f86c048203ab82b0a08301660082aff794000000000000000000000000000000000000aaaa832a76b980c001a0191f0f6667a20cefc0b454e344cc01108aafbdc4e4e5ed88fdd1b5d108495b31a020879042b0f8d3807609f18fe42a9820de53c8a0ea1d0a2d50f8f5e92a94f00d',
      '0xb86e02f86b04778260918301a4d182f38594000000000000000000000000000000000000aaaa8403e6c7f380c001a05e40977f4064a2bc08785e422ed8a47b56aa219abe93251d2b3b4d0cf937b8c0a071e600cd15589c3607bd9627314b99e9b5976bd427b774aa685bd0d036b1771e',
    ],
  ],
];

const BESU_CASES = EIP1559_SIGNED.flatMap(([chainId, raws]) =>
  raws.map((wrapped, i) => {
    const [nonce, value, gasLimit, maxPriorityFeePerGas, maxFeePerGas] = EIP1559_FIELDS[i]!;
    const tx: Eip1559Transaction = {
      chainId,
      nonce,
      maxPriorityFeePerGas,
      maxFeePerGas,
      gasLimit,
      to: '0x000000000000000000000000000000000000aaaa',
      value,
      data: '0x',
      accessList: [],
    };
    return { name: `chain ${chainId} nonce ${nonce}`, tx, wrapped };
  }),
);

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
  it.each(BESU_CASES)('ethereumjs/Besu eip1559.json, $name', ({ tx, wrapped }) => {
    // Unwrap: the published value is rlp(rawTx) for a string longer than 55 bytes.
    const rawBytes = unhex(wrapped).subarray(2);
    expect(hex(rlpEncode(rawBytes))).toBe(wrapped);
    const raw = hex(rawBytes);
    expect(raw.startsWith('0x02')).toBe(true);

    const sig = tailSignature(raw);
    expect(serializeSignedEip1559(tx, sig)).toBe(raw);
    expect(serializeSignedEip1559(tx, sig, { from: BESU_DEV_ADDRESS })).toBe(raw);

    const hash = eip1559TransactionHash(tx);
    expect(recoverAddress(hash, sig)).toBe(BESU_DEV_ADDRESS);
    // The published signatures are RFC 6979 deterministic: re-signing our hash reproduces them byte
    // for byte, which pins the signing hash itself, not only something that recovers to the sender.
    const again = secp256k1.sign(hash, unhex(BESU_DEV_KEY), { prehash: false, format: 'recovered' });
    expect(bytesToHex(again)).toBe('0' + sig.recovery + sig.r + sig.s);
  });

  it('ethereumjs eip1559.spec.ts hash(): keccak of the first chain-4 signed transaction', () => {
    const raw = serializeSignedEip1559(BESU_CASES.find((c) => c.tx.chainId === 4)!.tx, {
      r: '0f924cb68412c8f1cfd74d9b581c71eeaf94fff6abdde3e5b02ca6b2931dcf47',
      s: '7dd1c50027c3e31f8b565e25ce68a5072110f61fce5eee81b195dd51273c2f83',
      recovery: 0,
    });
    expect(hex(keccak_256(unhex(raw)))).toBe(
      '0x2e564c87eb4b40e7f469b2eec5aa5d18b0b46a24e8bf0919439cfb0e8fcae446',
    );
  });

  it('ethereumjs eip1559.spec.ts getMessageToSign(): data and an access list, zero fields', () => {
    const one20 = '0x' + '01'.repeat(20);
    const tx: Eip1559Transaction = {
      chainId: 4,
      nonce: 0,
      maxPriorityFeePerGas: 0,
      maxFeePerGas: 0,
      gasLimit: 0,
      to: one20,
      value: 0,
      data: '0x010200',
      accessList: [{ address: one20, storageKeys: ['0x' + '01'.repeat(32)] }],
    };
    expect(serializeUnsignedEip1559(tx)).toBe(
      '0x02f85904808080809401010101010101010101010101010101010101018083010200f838f7940101010101010101010101010101010101010101e1a00101010101010101010101010101010101010101010101010101010101010101',
    );
    expect(hex(eip1559TransactionHash(tx))).toBe(
      '0xfa81814f7dd57bad435657a05eabdba2815f41e3f15ddd6139027e7db56b0dea',
    );
  });

  // trustwallet/wallet-core tests/chains/Ethereum/SignerTests.cpp, EthereumSigner.EIP1559_1442: a
  // transaction broadcast on Ropsten as 0x14429509307efebfdaa05227d84c147450d168c68539351fbc01ed87c916ab2e.
  it('trustwallet EIP1559_1442 (Ropsten): raw transaction, transaction hash, sender', () => {
    const tx: Eip1559Transaction = {
      chainId: 3,
      nonce: 6,
      maxPriorityFeePerGas: 2000000000,
      maxFeePerGas: 3000000000,
      gasLimit: 21100,
      to: '0xB9F5771C27664bF2282D98E09D7F50cEc7cB01a7',
      value: 543210987654321n,
    };
    const sig = {
      r: '92c336138f7d0231fe9422bb30ee9ef10bf222761fe9e04442e3a11e88880c64',
      s: '6487026011dae03dc281bc21c7d7ede5c2226d197befb813a4ecad686b559e58',
      recovery: 0,
    };
    const raw = serializeSignedEip1559(tx, sig);
    expect(raw).toBe(
      '0x02f8710306847735940084b2d05e0082526c94b9f5771c27664bf2282d98e09d7f50cec7cb01a78701ee0c29f50cb180c080a092c336138f7d0231fe9422bb30ee9ef10bf222761fe9e04442e3a11e88880c64a06487026011dae03dc281bc21c7d7ede5c2226d197befb813a4ecad686b559e58',
    );
    expect(hex(keccak_256(unhex(raw)))).toBe(
      '0x14429509307efebfdaa05227d84c147450d168c68539351fbc01ed87c916ab2e',
    );
    const key = '0x4f96ed80e9a7555a6f74b3d658afdd9c756b0a40d4ca30c42c2039eb449bb904';
    expect(recoverAddress(eip1559TransactionHash(tx), sig)).toBe(ethereumAddress(pubOf(key)));
    const again = secp256k1.sign(eip1559TransactionHash(tx), unhex(key), {
      prehash: false,
      format: 'recovered',
    });
    expect(bytesToHex(again)).toBe('00' + sig.r + sig.s);
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
    const sig = tailSignature(hex(unhex(EIP1559_SIGNED[0]![1][0]!).subarray(2)));
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
    const sig = tailSignature(hex(unhex(EIP1559_SIGNED[0]![1][0]!).subarray(2)));
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
