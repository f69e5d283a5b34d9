/**
 * Contracts between workflows and activities. Only public data crosses them: envelopes are
 * signed, and their point-to-point bodies encrypted to the recipient.
 */
import type { Envelope } from '../src/crypto/envelope.js';
import type { PublicPackage } from '../src/crypto/frost.js';
import type { PeerEntry } from '../src/store/party-store.js';

export type { Envelope, PublicPackage, PeerEntry };

export interface PartyInfo {
  partyId: string;
  identityPublic: string;
  transportPublic: string;
}

export interface KeygenRequest {
  tenant: string;
  walletId: string;
  curve: string;
  threshold: number;
  parties: string[];
}

export interface KeygenContext {
  tenant: string;
  ceremonyId: string;
  walletId: string;
  keyId: string;
  version: number;
  scheme: string;
  threshold: number;
  roster: PeerEntry[];
}

export interface KeygenResult {
  walletId: string;
  keyId: string;
  curve: string;
  scheme: string;
  publicKey: string;
  threshold: number;
  parties: string[];
  transcriptHash: string;
}

export interface SignRequest {
  tenant: string;
  walletId: string;
  /** Hex bytes to sign. */
  message: string;
  /** Signers named by the caller; otherwise the coordinator picks `threshold` parties. */
  signers?: string[];
}

export interface SignContext {
  tenant: string;
  ceremonyId: string;
  walletId: string;
  keyId: string;
  version: number;
  message: string;
  signers: string[];
}

export interface SignResult {
  status: 'signed';
  walletId: string;
  keyId: string;
  publicKey: string;
  message: string;
  signature: string;
  scheme: string;
  signers: string[];
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
  createdAt: string;
}

/** What a failed ceremony carries in its failure details. */
export interface FailureDetails {
  code: string;
  culprit?: string;
  /** The one-line reason, without the ceremony prefix. */
  reason?: string;
}
