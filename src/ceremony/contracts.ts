/** What every ceremony's contracts share: parties, wallets and their versions, failures. */
import { getScheme } from '../crypto/schemes.js';
import type { PeerEntry } from '../store/party-store.js';

export interface PartyInfo {
  partyId: string;
  identityPublic: string;
  transportPublic: string;
}

/** One version of a wallet as governance statements describe it: key, threshold, roster. */
export interface WalletVersionDescription {
  tenant: string;
  walletId: string;
  keyId: string;
  /** The group key (hex), as every share's public package has it. */
  publicKey: string;
  version: number;
  threshold: number;
  roster: PeerEntry[];
}

export interface WalletInfo {
  tenant: string;
  walletId: string;
  keyId: string;
  version: number;
  curve: string;
  scheme: string;
  threshold: number;
  parties: string[];
  publicKey: string;
  /** BIP32-style chain code for public derivation, agreed through the key generation transcript. */
  chainCode: string;
  transcriptHash: string;
  createdAt: string;
}

/** What a failed ceremony carries in its failure details. */
export interface FailureDetails {
  code: string;
  culprit?: string;
  /** The one-line reason, without the ceremony prefix. */
  reason?: string;
}

/** The ceremonies that change a wallet's shares and keep its key; each moves it to a new version. */
export type ShareChangeKind = 'rotation' | 'reshare' | 'recovery';

/** A signature made and verified to show that a set of shares still signs; its message signs nothing else. */
export interface SigningProof {
  signers: string[];
  message: string;
  signature: string;
  publicKey: string;
}

/** What a ceremony context says of its scheme's signing protocol: 'dkls23', or absent for FROST. */
export const protocolOf = (scheme: string): { protocol?: 'dkls23' } =>
  getScheme(scheme).protocol === 'dkls23' ? { protocol: 'dkls23' } : {};
