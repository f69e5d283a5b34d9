/** The signing rounds of DKLs23 threshold ECDSA, run by `signWorkflow` (./sign.ts) once the request may be signed. */
import type { SignContext, SignResult } from '../src/ceremony/sign/contracts.js';
import { coordinator, onEach, party } from './common.js';

/**
 * DKLs23: two presign rounds of point-to-point messages (commitments and OT-based
 * multiplications), then round 3 on each signer (the presignature's finish and the online step
 * under the request's path tweak) and its broadcasts, combined by the coordinator.
 */
export async function signEcdsa(c: SignContext): Promise<SignResult> {
  const round1 = (await onEach(c.signers, (p) => party(p).ecdsaSignRound1(c))).flat();
  const round2 = (
    await onEach(c.signers, (p) =>
      party(p).ecdsaSignRound2(
        c,
        round1.filter((e) => e.to === p),
      ),
    )
  ).flat();
  const round3 = await onEach(c.signers, (p) =>
    party(p).ecdsaSignRound3(
      c,
      round2.filter((e) => e.to === p),
    ),
  );
  return coordinator.combineEcdsaSignature(c, round3);
}
