/**
 * Ethereum encodings of secp256k1 keys and signatures: EIP-55 addresses, EIP-191 personal
 * message hashes, RLP, and EIP-1559 (type 2) transactions: the signing hash, the signed
 * serialization and sender recovery. Curve arithmetic and Keccak-256 come from @noble; this
 * module only encodes, and checks what it is given so a malformed transaction is refused here
 * rather than signed.
 *
 * Conventions: hashes are returned as bytes; addresses, raw transactions and unsigned payloads
 * as `0x`-prefixed hex. Addresses must carry `0x`; a mixed-case address must carry a valid
 * EIP-55 checksum (all-lowercase and all-uppercase ones carry none and are accepted as such).
 * Other hex inputs may omit `0x`. Strings given to `eip191MessageHash` are UTF-8, never hex.
 */
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { keccak_256 } from '@noble/hashes/sha3.js';
import { bytesToHex, concatBytes, hexToBytes, utf8ToBytes } from '@noble/hashes/utils.js';
import { ConclaveError } from '../errors.js';

/** A non-negative integer: bigint, safe integer number, or canonical decimal string. */
export type EthQuantity = bigint | number | string;

export interface Eip1559AccessListEntry {
  /** 20-byte `0x` address. */
  address: string;
  /** 32-byte hex storage slots. */
  storageKeys: readonly string[];
}

/** Fields of an EIP-1559 (type 2) transaction. */
export interface Eip1559Transaction {
  /** EIP-155 chain id, at least 1. */
  chainId: EthQuantity;
  /** At most 2^64 - 1 (EIP-2681). */
  nonce: EthQuantity;
  maxPriorityFeePerGas: EthQuantity;
  /** At least `maxPriorityFeePerGas` (EIP-1559 makes the transaction invalid otherwise). */
  maxFeePerGas: EthQuantity;
  /** At most 2^64 - 1. */
  gasLimit: EthQuantity;
  /** 20-byte `0x` address; `null` or `''` creates a contract (then `data` must hold init code). */
  to: string | null;
  value: EthQuantity;
  /** Calldata (or init code) as hex; default empty. */
  data?: string;
  /** EIP-2930 access list; default empty. */
  accessList?: readonly Eip1559AccessListEntry[];
}

/**
 * An ECDSA signature over a 32-byte hash. `r` and `s` are big-endian hex (at most 32 bytes,
 * `0x` optional); `recovery` is the y-parity of R and must be 0 or 1. A DKLs23 signature
 * from `dklsSignCombine` has this shape (its other fields are ignored).
 */
export interface EthSignature {
  r: string;
  s: string;
  recovery: number;
}

/** RLP item: a byte string, a non-negative integer (minimal big-endian), or a list of items. */
export type RlpItem = Uint8Array | bigint | number | readonly RlpItem[];

const EIP1559_TX_TYPE = 0x02;
const EIP191_PREFIX = '\x19Ethereum Signed Message:\n';
const ADDRESS_RE = /^0x[0-9a-fA-F]{40}$/;
const HEX_RE = /^[0-9a-fA-F]*$/;
const DECIMAL_RE = /^(0|[1-9][0-9]*)$/;
const MAX_UINT256 = (1n << 256n) - 1n;
const MAX_UINT64 = (1n << 64n) - 1n;
const CURVE_N = secp256k1.Point.Fn.ORDER;
// Deep enough for any Ethereum structure; stops a cyclic or hostile list before the stack does.
const RLP_MAX_DEPTH = 64;

const TX_FIELDS = new Set([
  'chainId',
  'nonce',
  'maxPriorityFeePerGas',
  'maxFeePerGas',
  'gasLimit',
  'to',
  'value',
  'data',
  'accessList',
]);
const ACCESS_LIST_FIELDS = new Set(['address', 'storageKeys']);

function bad(message: string): never {
  throw new ConclaveError('BAD_INPUT', message);
}

function isPlainObject(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x) && !(x instanceof Uint8Array);
}

/** Hex to bytes; `0x` optional; even length; optionally an exact byte length. */
function hexBytes(value: unknown, what: string, length?: number): Uint8Array {
  if (typeof value !== 'string') bad(`${what} must be a hex string`);
  const body = value.startsWith('0x') || value.startsWith('0X') ? value.slice(2) : value;
  if (body.length % 2 !== 0 || !HEX_RE.test(body)) bad(`${what} is not valid hex (even length, 0-9a-f)`);
  if (length !== undefined && body.length !== length * 2) bad(`${what} must be ${length} bytes`);
  return hexToBytes(body);
}

function bytesOrHex(value: unknown, what: string, length?: number): Uint8Array {
  if (value instanceof Uint8Array) {
    if (length !== undefined && value.length !== length) bad(`${what} must be ${length} bytes`);
    return value;
  }
  return hexBytes(value, what, length);
}

function bigintToBytes(n: bigint): Uint8Array {
  if (n === 0n) return new Uint8Array(0);
  let hex = n.toString(16);
  if (hex.length % 2 === 1) hex = '0' + hex;
  return hexToBytes(hex);
}

// ---------------------------------------------------------------------------------------------
// RLP (Ethereum Yellow Paper, appendix B)

function rlpLength(len: number, offset: number): Uint8Array {
  if (len < 56) return Uint8Array.of(offset + len);
  const lenBytes = bigintToBytes(BigInt(len));
  return concatBytes(Uint8Array.of(offset + 55 + lenBytes.length), lenBytes);
}

function rlpEncodeAt(item: RlpItem, depth: number): Uint8Array {
  if (item instanceof Uint8Array) {
    if (item.length === 1 && (item[0] as number) < 0x80) return Uint8Array.of(item[0] as number);
    return concatBytes(rlpLength(item.length, 0x80), item);
  }
  if (typeof item === 'bigint' || typeof item === 'number') {
    if (typeof item === 'number' && !Number.isSafeInteger(item)) {
      bad('RLP integer must be a safe integer (use a bigint for larger values)');
    }
    const n = BigInt(item);
    if (n < 0n) bad('RLP cannot encode a negative integer');
    return rlpEncodeAt(bigintToBytes(n), depth);
  }
  if (Array.isArray(item)) {
    if (depth >= RLP_MAX_DEPTH) bad(`RLP list nesting deeper than ${RLP_MAX_DEPTH}`);
    const body = concatBytes(...item.map((x: RlpItem) => rlpEncodeAt(x, depth + 1)));
    return concatBytes(rlpLength(body.length, 0xc0), body);
  }
  return bad('RLP item must be bytes, a non-negative integer or a list');
}

/**
 * RLP encoding. Integers are encoded as their minimal big-endian bytes (0 is the empty string);
 * a single byte below 0x80 is its own encoding; strings and lists over 55 bytes carry a
 * length-of-length prefix.
 */
export function rlpEncode(item: RlpItem): Uint8Array {
  return rlpEncodeAt(item, 0);
}

// ---------------------------------------------------------------------------------------------
// Addresses (EIP-55)

function checksumOfLower(lowerBody: string): string {
  // EIP-55: keccak256 of the ASCII lowercase hex; a letter is uppercased where the hash nibble ≥ 8.
  const hash = bytesToHex(keccak_256(utf8ToBytes(lowerBody)));
  let out = '0x';
  for (let i = 0; i < lowerBody.length; i++) {
    const c = lowerBody[i] as string;
    out += parseInt(hash[i] as string, 16) >= 8 ? c.toUpperCase() : c;
  }
  return out;
}

/** 20 address bytes from `0x` hex; a mixed-case address must carry a valid EIP-55 checksum. */
function parseAddress(value: unknown, what: string): Uint8Array {
  if (typeof value !== 'string' || !ADDRESS_RE.test(value)) {
    bad(`${what} must be a 20-byte address: 0x followed by 40 hex digits`);
  }
  const body = value.slice(2);
  const lower = body.toLowerCase();
  if (body !== lower && body !== body.toUpperCase() && checksumOfLower(lower) !== value) {
    bad(`${what} has an invalid EIP-55 checksum`);
  }
  return hexToBytes(lower);
}

/**
 * EIP-55 checksummed form of an address (`0x` + 40 hex digits, or 20 bytes). An all-lowercase or
 * all-uppercase address carries no checksum and is converted; a mixed-case address is taken as
 * checksummed and refused if the checksum is wrong (it is most likely mistyped).
 */
export function toChecksumAddress(addr: string | Uint8Array): string {
  if (addr instanceof Uint8Array) {
    if (addr.length !== 20) bad('address must be 20 bytes');
    return checksumOfLower(bytesToHex(addr));
  }
  return checksumOfLower(bytesToHex(parseAddress(addr, 'address')));
}

/**
 * Whether `addr` is an address in its exact EIP-55 checksummed form. Strict by default: an
 * all-lowercase or all-uppercase address passes only if that happens to be its checksummed form
 * (as for some of the EIP's own examples). With `allowUnchecksummed`, any all-lowercase or
 * all-uppercase address also passes, as an address without a checksum. Never throws.
 */
export function isValidChecksumAddress(addr: unknown, opts: { allowUnchecksummed?: boolean } = {}): boolean {
  if (typeof addr !== 'string' || !ADDRESS_RE.test(addr)) return false;
  const body = addr.slice(2);
  const lower = body.toLowerCase();
  if (checksumOfLower(lower) === addr) return true;
  return opts.allowUnchecksummed === true && (body === lower || body === body.toUpperCase());
}

/**
 * EIP-55 address of a secp256k1 public key (33-byte compressed or 65-byte uncompressed SEC1,
 * bytes or hex): the last 20 bytes of keccak256(X || Y).
 */
export function ethereumAddress(publicKey: Uint8Array | string): string {
  const bytes = bytesOrHex(publicKey, 'public key');
  const head = bytes[0];
  const shapeOk =
    (bytes.length === 33 && (head === 0x02 || head === 0x03)) || (bytes.length === 65 && head === 0x04);
  if (!shapeOk) {
    bad('public key must be 33 bytes (02/03 || X) or 65 bytes (04 || X || Y) SEC1');
  }
  let uncompressed: Uint8Array;
  try {
    // fromBytes checks the point is on the curve; the identity has no 33/65-byte encoding.
    const point = secp256k1.Point.fromBytes(bytes);
    point.assertValidity();
    uncompressed = point.toBytes(false);
  } catch {
    return bad('public key is not a point on secp256k1');
  }
  return checksumOfLower(bytesToHex(keccak_256(uncompressed.subarray(1)).subarray(12)));
}

// ---------------------------------------------------------------------------------------------
// EIP-191 personal messages

/**
 * EIP-191 version 0x45 (`personal_sign`) hash: keccak256("\x19Ethereum Signed Message:\n" +
 * decimal byte length + message). A string is hashed as its UTF-8 bytes, even if it looks like hex.
 */
export function eip191MessageHash(message: Uint8Array | string): Uint8Array {
  let bytes: Uint8Array;
  if (message instanceof Uint8Array) bytes = message;
  else if (typeof message === 'string') bytes = utf8ToBytes(message);
  else return bad('message must be bytes or a string');
  return keccak_256(concatBytes(utf8ToBytes(EIP191_PREFIX + String(bytes.length)), bytes));
}

// ---------------------------------------------------------------------------------------------
// EIP-1559 transactions

function quantity(value: unknown, what: string, max: bigint = MAX_UINT256): bigint {
  let n: bigint;
  if (typeof value === 'bigint') {
    n = value;
  } else if (typeof value === 'number') {
    if (!Number.isSafeInteger(value))
      bad(`${what} must be an integer (a safe number, bigint or decimal string)`);
    n = BigInt(value);
  } else if (typeof value === 'string') {
    // 78 digits is enough for 2^256 - 1; longer strings are refused before BigInt parses them.
    if (value.length > 78 || !DECIMAL_RE.test(value)) {
      bad(`${what} must be a non-negative decimal integer string without leading zeros`);
    }
    n = BigInt(value);
  } else {
    return bad(`${what} must be a non-negative integer (bigint, number or decimal string)`);
  }
  if (n < 0n) bad(`${what} must not be negative`);
  if (n > max) bad(`${what} exceeds ${max === MAX_UINT64 ? '2^64 - 1' : '2^256 - 1'}`);
  return n;
}

/** Validated RLP fields of the unsigned transaction, in EIP-1559 order. */
function parseTx(tx: unknown): RlpItem[] {
  if (!isPlainObject(tx)) bad('transaction must be an object');
  for (const k of Object.keys(tx)) {
    if (!TX_FIELDS.has(k)) bad(`tx.${k} is not a field of an EIP-1559 transaction`);
  }
  const chainId = quantity(tx.chainId, 'tx.chainId');
  if (chainId === 0n) bad('tx.chainId must be at least 1');
  const nonce = quantity(tx.nonce, 'tx.nonce', MAX_UINT64);
  const maxPriorityFeePerGas = quantity(tx.maxPriorityFeePerGas, 'tx.maxPriorityFeePerGas');
  const maxFeePerGas = quantity(tx.maxFeePerGas, 'tx.maxFeePerGas');
  if (maxPriorityFeePerGas > maxFeePerGas) bad('tx.maxPriorityFeePerGas must not exceed tx.maxFeePerGas');
  const gasLimit = quantity(tx.gasLimit, 'tx.gasLimit', MAX_UINT64);
  const value = quantity(tx.value, 'tx.value');

  if (tx.to === undefined) bad('tx.to is required (null or "" to create a contract)');
  const to = tx.to === null || tx.to === '' ? new Uint8Array(0) : parseAddress(tx.to, 'tx.to');

  const data = tx.data === undefined ? new Uint8Array(0) : hexBytes(tx.data, 'tx.data');
  if (to.length === 0 && data.length === 0) {
    bad('tx.data must hold init code when tx.to is empty (contract creation)');
  }

  const accessList: RlpItem[] = [];
  if (tx.accessList !== undefined) {
    if (!Array.isArray(tx.accessList)) bad('tx.accessList must be an array');
    tx.accessList.forEach((entry: unknown, i: number) => {
      const where = `tx.accessList[${i}]`;
      if (!isPlainObject(entry)) bad(`${where} must be an object { address, storageKeys }`);
      for (const k of Object.keys(entry)) {
        if (!ACCESS_LIST_FIELDS.has(k)) bad(`${where}.${k} is not a field of an access list entry`);
      }
      const address = parseAddress(entry.address, `${where}.address`);
      if (!Array.isArray(entry.storageKeys)) bad(`${where}.storageKeys must be an array`);
      const keys = entry.storageKeys.map((key: unknown, j: number) =>
        hexBytes(key, `${where}.storageKeys[${j}]`, 32),
      );
      accessList.push([address, keys]);
    });
  }

  return [chainId, nonce, maxPriorityFeePerGas, maxFeePerGas, gasLimit, to, value, data, accessList];
}

function typed(payload: RlpItem[]): Uint8Array {
  return concatBytes(Uint8Array.of(EIP1559_TX_TYPE), rlpEncode(payload));
}

/** The unsigned EIP-1559 payload, `0x02 || rlp([chainId, …, accessList])`, as `0x` hex. */
export function serializeUnsignedEip1559(tx: Eip1559Transaction): string {
  return '0x' + bytesToHex(typed(parseTx(tx)));
}

/**
 * EIP-1559 signing hash: keccak256(0x02 || rlp([chainId, nonce, maxPriorityFeePerGas,
 * maxFeePerGas, gasLimit, to, value, data, accessList])).
 */
export function eip1559TransactionHash(tx: Eip1559Transaction): Uint8Array {
  return keccak_256(typed(parseTx(tx)));
}

interface ParsedSig {
  r: bigint;
  s: bigint;
  recovery: 0 | 1;
}

function sigScalar(value: unknown, what: string): bigint {
  if (typeof value !== 'string') bad(`${what} must be a hex string`);
  const body = value.startsWith('0x') || value.startsWith('0X') ? value.slice(2) : value;
  if (body.length === 0 || body.length > 64 || !HEX_RE.test(body)) {
    bad(`${what} must be 1 to 32 bytes of big-endian hex`);
  }
  const n = BigInt('0x' + body);
  if (n === 0n || n >= CURVE_N) bad(`${what} must be in [1, n - 1]`);
  return n;
}

function parseSig(signature: unknown): ParsedSig {
  if (!isPlainObject(signature)) bad('signature must be an object { r, s, recovery }');
  const r = sigScalar(signature.r, 'signature.r');
  const s = sigScalar(signature.s, 'signature.s');
  const recovery = signature.recovery;
  if (recovery !== 0 && recovery !== 1) bad('signature.recovery must be 0 or 1 (the y-parity of R)');
  // EIP-2: s above n/2 is malleable and invalid in a transaction; a signer must normalise it.
  if (s > CURVE_N >> 1n) bad('signature.s is high (s > n/2); Ethereum accepts only low-S signatures');
  return { r, s, recovery };
}

function recoverFrom(hash: Uint8Array, sig: ParsedSig): string {
  let publicKey: Uint8Array;
  try {
    const point = new secp256k1.Signature(sig.r, sig.s, sig.recovery).recoverPublicKey(hash);
    publicKey = point.toBytes(false);
  } catch {
    return bad('signature does not recover to a public key for this hash');
  }
  return ethereumAddress(publicKey);
}

/**
 * Sender address of a low-S signature over a 32-byte hash (bytes or hex), via public key
 * recovery. High-S signatures and recovery ids other than 0/1 are refused.
 */
export function recoverAddress(hash32: Uint8Array | string, signature: EthSignature): string {
  const hash = bytesOrHex(hash32, 'hash', 32);
  return recoverFrom(hash, parseSig(signature));
}

/**
 * Raw signed EIP-1559 transaction, `0x02 || rlp([…fields, yParity, r, s])`, as `0x` hex (ready
 * for eth_sendRawTransaction). The signature must be low-S and must recover over the
 * transaction's signing hash; with `opts.from` it must recover to that address.
 */
export function serializeSignedEip1559(
  tx: Eip1559Transaction,
  signature: EthSignature,
  opts: { from?: string } = {},
): string {
  const fields = parseTx(tx);
  const sig = parseSig(signature);
  const sender = recoverFrom(keccak_256(typed(fields)), sig);
  if (opts.from !== undefined) {
    const expected = bytesToHex(parseAddress(opts.from, 'from'));
    if (sender.slice(2).toLowerCase() !== expected) {
      bad(`signature recovers to ${sender}, not to the expected sender`);
    }
  }
  return '0x' + bytesToHex(typed([...fields, sig.recovery, sig.r, sig.s]));
}
