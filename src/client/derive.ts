/**
 * Child keys and addresses of a wallet from its public record alone: no ceremony, no party.
 * The same derivation the parties apply to their shares when they sign along a path.
 */
import type { WalletInfo } from '../ceremony/contracts.js';
import {
  isBitcoinNetwork,
  isSolanaNetwork,
  p2pkhAddress,
  p2trAddress,
  p2wpkhAddress,
  solanaAddress,
} from '../crypto/addresses.js';
import { fromHex } from '../crypto/encoding.js';
import { ethereumAddress } from '../crypto/ethereum.js';
import { getScheme } from '../crypto/schemes.js';
import { signingKeyFor } from '../crypto/signing-key.js';
import { ConclaveError } from '../errors.js';

export interface DerivedWalletKey {
  walletId: string;
  scheme: string;
  path: string;
  merkleRoot?: string;
  /** The derived group key. */
  publicKey: string;
  /** The key signatures along this path verify under (x-only for Taproot). */
  verifyingKey: string;
  /** Absent for schemes no chain uses (frost-secp256k1). */
  address?: string;
  network?: string;
  /** ECDSA keys on a Bitcoin network: `address` is the legacy P2PKH one, this the P2WPKH one. */
  segwitAddress?: string;
}

export const defaultNetworks: Record<string, string> = { p2tr: 'mainnet', solana: 'mainnet-beta' };

export function deriveWalletKey(
  wallet: WalletInfo,
  opts: { path?: string; merkleRoot?: string; network?: string },
): DerivedWalletKey {
  const scheme = getScheme(wallet.scheme);
  const key = signingKeyFor(scheme, wallet.publicKey, wallet.transcriptHash, opts);
  const out: DerivedWalletKey = {
    walletId: wallet.walletId,
    scheme: scheme.name,
    path: key.path,
    publicKey: key.publicKey,
    verifyingKey: key.verifyingKey,
  };
  if (key.merkleRoot !== undefined) out.merkleRoot = key.merkleRoot;
  const verifyingKey = fromHex(key.verifyingKey, 'key');
  if (scheme.address === 'p2tr') {
    const network = opts.network ?? defaultNetworks.p2tr!;
    if (!isBitcoinNetwork(network)) {
      throw new ConclaveError(
        'BAD_INPUT',
        `unknown Bitcoin network "${network}" (mainnet, testnet, signet, regtest)`,
      );
    }
    out.address = p2trAddress(verifyingKey, network);
    out.network = network;
  } else if (scheme.address === 'solana') {
    const network = opts.network ?? defaultNetworks.solana!;
    if (!isSolanaNetwork(network)) {
      throw new ConclaveError(
        'BAD_INPUT',
        `unknown Solana network "${network}" (mainnet-beta, devnet, testnet)`,
      );
    }
    out.address = solanaAddress(verifyingKey, network);
    out.network = network;
  } else if (scheme.address === 'ethereum' && opts.network !== undefined && opts.network !== 'ethereum') {
    // the same ECDSA key on Bitcoin: legacy P2PKH, and P2WPKH
    if (!isBitcoinNetwork(opts.network)) {
      throw new ConclaveError(
        'BAD_INPUT',
        `unknown network "${opts.network}" (ethereum; or mainnet, testnet, signet, regtest for Bitcoin)`,
      );
    }
    out.address = p2pkhAddress(verifyingKey, opts.network);
    out.segwitAddress = p2wpkhAddress(verifyingKey, opts.network);
    out.network = opts.network;
  } else if (scheme.address === 'ethereum') {
    // one address on every EVM chain: the chain id is in what is signed, not in the address
    out.address = ethereumAddress(verifyingKey);
    out.network = 'ethereum';
  } else if (opts.network !== undefined) {
    throw new ConclaveError('BAD_INPUT', `scheme ${scheme.name} has no addresses`);
  }
  return out;
}
