/**
 * The coordinator's side of signing: plans a request on the wallet's current version (refused
 * while a share change holds the wallet), aggregates FROST signature shares or combines DKLs23
 * contributions under the version it was planned with, and names a dry run's message.
 */
import type { Envelope } from '../../src/crypto/envelope.js';
import { ConclaveError } from '../../src/errors.js';
import { dryRunMessage, type DryRunPurpose } from '../../src/policy/authorization.js';
import { validateSignRequest } from '../../src/validation.js';
import { aggregate, planSign } from '../../src/ceremony/sign/coordinator.js';
import { combineEcdsa } from '../../src/ceremony/ecdsa-sign/coordinator.js';
import { ethereumAddress } from '../../src/crypto/ethereum.js';
import type { SignContext, SignedItem, SignRequest, SignResult } from '../../src/ceremony/sign/contracts.js';
import { signingKeyFor, type SigningKey } from '../../src/crypto/signing-key.js';
import { getScheme } from '../../src/crypto/schemes.js';
import type { CoordinatorRegistry } from './registry.js';

export function signActivities(registry: CoordinatorRegistry) {
  const { getStore, walletOf, findWalletVersion } = registry;
  /** The version a request was planned with, even if the wallet has moved on since. */
  const plannedVersion = async (ctx: SignContext) => {
    const w = await findWalletVersion(await getStore(), ctx.tenant, ctx.walletId, ctx.version);
    if (!w)
      throw new ConclaveError('UNKNOWN_WALLET', `unknown wallet ${ctx.walletId} in tenant ${ctx.tenant}`);
    return w;
  };
  return {
    async planSign(req: SignRequest, ceremonyId: string): Promise<SignContext> {
      validateSignRequest(req);
      const store = await getStore();
      const w = await walletOf(store, req.tenant, req.walletId);
      if (w.lockedBy) {
        throw new ConclaveError(
          'BUSY',
          `wallet ${req.walletId} is changing its shares (${w.lockedBy}); signing is refused until that ceremony ends, retry then`,
        );
      }
      return planSign(req, w, ceremonyId);
    },

    /**
     * The message of a dry-run signature (a recovery's proof, a share validation): a tagged hash
     * of the ceremony, 32 bytes that are no transaction, sighash or message of any chain.
     */
    async dryRunMessage(purpose: DryRunPurpose, ceremonyId: string): Promise<string> {
      return dryRunMessage({ purpose, reference: ceremonyId });
    },

    /**
     * Aggregates each message's signature, verifies it, and only if that fails checks each share
     * to name a bad signer. A batch's signatures come back in `batch`, in the request's order.
     */
    async aggregateSignature(
      ctx: SignContext,
      commitments: Envelope[],
      shares: Envelope[],
    ): Promise<SignResult> {
      const w = await plannedVersion(ctx);
      const signed = aggregate(ctx, w, commitments, shares);
      if (!ctx.batch) return signedResult(ctx, w, signed[0]!.key, signed[0]!.signature);
      const batch: SignedItem[] = ctx.batch.map((item, i) => ({
        ...item,
        publicKey: signed[i]!.key.verifyingKey,
        signature: signed[i]!.signature,
      }));
      return {
        ...signedResult(ctx, w, signingKeyFor(getScheme(w.scheme), w.publicKey, w.transcriptHash, ctx), ''),
        batch,
      };
    },

    /**
     * Combines the signers' DKLs23 round-3 broadcasts into one low-S ECDSA signature, naming a
     * signer whose contribution does not match its public values, and verifies the result under
     * the request's (derived) key before returning it.
     */
    async combineEcdsaSignature(ctx: SignContext, round3: Envelope[]): Promise<SignResult> {
      const w = await plannedVersion(ctx);
      const { sig, key } = combineEcdsa(ctx, w, round3);
      return {
        ...signedResult(ctx, w, key, sig.compact),
        ecdsa: { recoveryId: sig.recovery, der: sig.der, address: ethereumAddress(key.verifyingKey) },
      };
    },
  };
}

/** A verified signature as the client gets it: under the key derived for the request. */
function signedResult(
  ctx: SignContext,
  w: { walletId: string; keyId: string; scheme: string },
  key: SigningKey,
  signature: string,
): SignResult {
  return {
    status: 'signed',
    walletId: w.walletId,
    keyId: w.keyId,
    publicKey: key.verifyingKey,
    path: key.path,
    ...(key.merkleRoot === undefined ? {} : { merkleRoot: key.merkleRoot }),
    message: ctx.message,
    signature,
    scheme: w.scheme,
    signers: ctx.signers,
  };
}
