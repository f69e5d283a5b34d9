/**
 * Chain addresses of verifying keys. The encodings come from @scure/base; this module only
 * picks the network prefix and checks what it is given.
 */
import { schnorr, secp256k1 } from '@noble/curves/secp256k1.js';
import { bytesToNumberBE } from '@noble/curves/utils.js';
import { ripemd160 } from '@noble/hashes/legacy.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { base58, bech32, bech32m, createBase58check } from '@scure/base';
import { ConclaveError } from '../errors.js';

export type BitcoinNetwork = 'mainnet' | 'testnet' | 'signet' | 'regtest';
export type SolanaNetwork = 'mainnet-beta' | 'devnet' | 'testnet';

// Maps (not objects) so names like "__proto__" can never resolve.
const BECH32_HRP = new Map<string, string>([
  ['mainnet', 'bc'],
  ['testnet', 'tb'],
  ['signet', 'tb'],
  ['regtest', 'bcrt'],
]);
const SOLANA_NETWORKS = new Set<string>(['mainnet-beta', 'devnet', 'testnet']);

// BIP341: a P2TR output is a segwit version 1 program of 32 bytes.
const TAPROOT_VERSION = 1;
// BIP141: a P2WPKH output is a segwit version 0 program of 20 bytes (bech32, BIP173).
const WITNESS_V0 = 0;
// Base58Check version bytes of P2PKH addresses: mainnet, and every test network.
const P2PKH_VERSION = new Map<string, number>([
  ['mainnet', 0x00],
  ['testnet', 0x6f],
  ['signet', 0x6f],
  ['regtest', 0x6f],
]);
const base58check = createBase58check(sha256);

export function isBitcoinNetwork(x: string): x is BitcoinNetwork {
  return typeof x === 'string' && BECH32_HRP.has(x);
}

export function isSolanaNetwork(x: string): x is SolanaNetwork {
  return typeof x === 'string' && SOLANA_NETWORKS.has(x);
}

/** P2TR (segwit v1, bech32m per BIP350) address of a 32-byte x-only output key. */
export function p2trAddress(outputKey: Uint8Array, network: BitcoinNetwork): string {
  const hrp = isBitcoinNetwork(network) ? BECH32_HRP.get(network) : undefined;
  if (hrp === undefined) {
    throw new ConclaveError('BAD_INPUT', `unknown Bitcoin network ${JSON.stringify(String(network))}`);
  }
  if (!(outputKey instanceof Uint8Array) || outputKey.length !== 32) {
    throw new ConclaveError('BAD_INPUT', 'P2TR output key must be 32 bytes (x-only)');
  }
  // An x that is on no point makes an unspendable output; refuse rather than lose funds.
  try {
    schnorr.utils.lift_x(bytesToNumberBE(outputKey));
  } catch {
    throw new ConclaveError('BAD_INPUT', 'P2TR output key is not the x coordinate of a secp256k1 point');
  }
  return bech32m.encode(hrp, [TAPROOT_VERSION, ...bech32m.toWords(outputKey)]);
}

/**
 * Solana address: base58 of the 32-byte ed25519 public key. The string is the same on every
 * cluster; the network is taken so callers are explicit about it, and checked.
 */
export function solanaAddress(publicKey: Uint8Array, network: SolanaNetwork): string {
  if (!isSolanaNetwork(network)) {
    throw new ConclaveError('BAD_INPUT', `unknown Solana network ${JSON.stringify(String(network))}`);
  }
  if (!(publicKey instanceof Uint8Array) || publicKey.length !== 32) {
    throw new ConclaveError('BAD_INPUT', 'Solana public key must be 32 bytes');
  }
  return base58.encode(publicKey);
}

function networkHrp(network: BitcoinNetwork): string {
  const hrp = isBitcoinNetwork(network) ? BECH32_HRP.get(network) : undefined;
  if (hrp === undefined) {
    throw new ConclaveError('BAD_INPUT', `unknown Bitcoin network ${JSON.stringify(String(network))}`);
  }
  return hrp;
}

/** HASH160 (RIPEMD-160 of SHA-256) of a compressed secp256k1 public key, checked to be one. */
function pubkeyHash(publicKey: Uint8Array): Uint8Array {
  if (!(publicKey instanceof Uint8Array) || publicKey.length !== 33) {
    throw new ConclaveError('BAD_INPUT', 'a P2PKH or P2WPKH key must be a 33-byte compressed secp256k1 key');
  }
  try {
    secp256k1.Point.fromBytes(publicKey);
  } catch {
    throw new ConclaveError('BAD_INPUT', 'the key is not a secp256k1 point');
  }
  return ripemd160(sha256(publicKey));
}

/** Legacy P2PKH address (Base58Check) of a compressed ECDSA public key. */
export function p2pkhAddress(publicKey: Uint8Array, network: BitcoinNetwork): string {
  networkHrp(network);
  const version = P2PKH_VERSION.get(network)!;
  return base58check.encode(Uint8Array.of(version, ...pubkeyHash(publicKey)));
}

/** P2WPKH address (segwit v0, bech32 per BIP173) of a compressed ECDSA public key. */
export function p2wpkhAddress(publicKey: Uint8Array, network: BitcoinNetwork): string {
  const hrp = networkHrp(network);
  return bech32.encode(hrp, [WITNESS_V0, ...bech32.toWords(pubkeyHash(publicKey))]);
}
