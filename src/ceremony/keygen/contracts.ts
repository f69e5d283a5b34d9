/** Key generation's contracts: the request, the context every party checks, the result. */
import type { PublicPackage, Round1Pkg } from '../../crypto/frost.js';
import type { SigningProtocol } from '../../crypto/schemes.js';
import type { PeerEntry } from '../contracts.js';
import { paramsHash } from '../rounds.js';

export interface KeygenRequest {
  tenant: string;
  /** Who asks (for the audit record); the client fills it in. */
  requestedBy?: string;
  walletId: string;
  curve: string;
  /** Needed when the curve has several schemes (secp256k1: frost-secp256k1, frost-taproot). */
  scheme?: string;
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
  /** 'dkls23': the key also needs the pairwise setup (pairSetup rounds) before it is activated. */
  protocol?: SigningProtocol;
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

/** Round 1 (broadcast, `dkg-1`/`dkg-round1`): the party's commitments and proof of knowledge. */
export interface KeygenRound1Body {
  params: string;
  pkg: Round1Pkg;
}

/** Round 2 (direct, `dkg-2`/`dkg-share`): the share the sender dealt to the recipient, encrypted to it. */
export interface KeygenRound2Body {
  share: string;
}

/** Round 3 (broadcast, `dkg-3`/`dkg-result`): the key and transcript the party derived, signed. */
export interface KeygenResultBody {
  params: string;
  publicKey: string;
  public: PublicPackage;
  transcriptHash: string;
}

/** What binds every key generation message to one ceremony: tenant, wallet, key, scheme, roster. */
export const keygenParams = (ctx: KeygenContext) =>
  paramsHash(
    ['keygen', ctx.tenant, ctx.walletId, ctx.keyId, ctx.version, ctx.scheme, ctx.threshold],
    ctx.roster,
  );
