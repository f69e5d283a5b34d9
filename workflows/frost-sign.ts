/** The signing rounds of FROST, run by `signWorkflow` (./sign.ts) once the request may be signed. */
import type { SignContext, SignResult } from '../src/ceremony/sign/contracts.js';
import { coordinator, onEach, party } from './common.js';

/** FROST: commitments, then signature shares, aggregated by the coordinator. */
export async function signFrost(c: SignContext): Promise<SignResult> {
  const commitments = await onEach(c.signers, (p) => party(p).signRound1(c));
  const shares = await onEach(c.signers, (p) => party(p).signRound2(c, commitments));
  return coordinator.aggregateSignature(c, commitments, shares);
}
