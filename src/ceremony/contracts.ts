/** What every ceremony's contracts share: parties, wallets and their versions, failures. */
import { identifierFor } from '../crypto/frost.js';
import { getScheme, type Scheme } from '../crypto/schemes.js';
import { ConclaveError } from '../errors.js';

/** A party as a ceremony's roster names it: its id, FROST identifier and public keys. */
export interface PeerEntry {
  partyId: string;
  identifier: string;
  identityPublic: string;
  transportPublic: string;
}

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

/**
 * A ceremony's roster: each party, in the order given, with its FROST identifier (its position)
 * and the public keys it described itself with; a party that did not answer is UNKNOWN_PARTY.
 */
export function rosterOf(scheme: Scheme, parties: string[], infos: PartyInfo[]): PeerEntry[] {
  return parties.map((partyId, i) => {
    const info = infos.find((p) => p.partyId === partyId);
    if (!info) throw new ConclaveError('UNKNOWN_PARTY', `party ${partyId} did not answer`);
    return {
      partyId,
      identifier: identifierFor(scheme, i + 1),
      identityPublic: info.identityPublic,
      transportPublic: info.transportPublic,
    };
  });
}
