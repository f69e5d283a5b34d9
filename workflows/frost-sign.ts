/** The signing rounds of FROST, run by `signWorkflow` (./sign.ts) once the request may be signed. */
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import { log, ParentClosePolicy, startChild } from '@temporalio/workflow';
import type { SignContext, SignResult } from '../src/ceremony/sign/contracts.js';
import { coordinator, failureDetails, onEach, party } from './common.js';
import { noncePoolWorkflow } from './nonce-pool.js';

/**
 * FROST: commitments, then signature shares, aggregated by the coordinator. With a preprocessed
 * nonce (a pool slot the coordinator claimed for this request) only the shares' round runs; if a
 * signer no longer holds the slot's nonce (restored from a backup, say), both rounds run after all.
 */
export async function signFrost(c: SignContext): Promise<SignResult> {
  if (c.preprocessed) {
    const pooled = c.preprocessed.commitments;
    try {
      const shares = await onEach(c.signers, (p) => party(p).signRound2(c, pooled));
      return await coordinator.aggregateSignature(c, pooled, shares);
    } catch (err) {
      // only a signer that cannot use the slot falls back; a refusal or a bad share does not
      if (!['BAD_INPUT', 'NONCE_REUSE'].includes(failureDetails(err).details.code)) throw err;
    }
  }
  const fresh: SignContext = { ...c };
  delete fresh.preprocessed;
  const commitments = await onEach(fresh.signers, (p) => party(p).signRound1(fresh));
  const shares = await onEach(fresh.signers, (p) => party(p).signRound2(fresh, commitments));
  return coordinator.aggregateSignature(fresh, commitments, shares);
}

/**
 * Tops a pool up in the background (a child that outlives the request) once it is half empty;
 * one refill per pool at a time, and one already running is enough. Never fails the request: the
 * signature exists, and an empty pool only means two rounds.
 */
export async function refillNoncePool(
  tenant: string,
  pool: { walletId: string; signers: string[]; ready: number; target: number },
): Promise<void> {
  if (pool.ready * 2 > pool.target) return;
  try {
    await startChild(noncePoolWorkflow, {
      workflowId: `nonce-pool:${tenant}:${pool.walletId}:refill:${pool.signers.join('+')}`,
      args: [{ tenant, walletId: pool.walletId, signers: pool.signers }],
      parentClosePolicy: ParentClosePolicy.ABANDON,
    });
  } catch (err) {
    if (!(err instanceof WorkflowExecutionAlreadyStartedError))
      log.warn('nonce pool refill not started', { err });
  }
}
