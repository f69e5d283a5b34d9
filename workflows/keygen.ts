/**
 * Distributed key generation. The workflow only routes: every party computes its rounds on its
 * own worker, and every message it routes is signed (and, point to point, encrypted) by a party.
 */
import { uuid4, workflowInfo } from '@temporalio/workflow';
import type { AuditRecord } from '../src/audit/contracts.js';
import type { Envelope } from '../src/crypto/envelope.js';
import type { KeygenContext, KeygenRequest, KeygenResult } from '../src/ceremony/keygen/contracts.js';
import type { PairSetupContext } from '../src/ceremony/pair-setup/contracts.js';
import {
  abortWith,
  audit,
  evenIfCancelled,
  ceremonyIdOfThisRun,
  coordinator,
  onEach,
  party,
  partyBrief,
  assertWorkflowOfTenant,
  runPairSetup,
  activatePairSetup,
  abortPairSetup,
} from './common.js';

export async function keygenWorkflow(req: KeygenRequest): Promise<KeygenResult> {
  assertWorkflowOfTenant(req.tenant);
  const ceremonyId = ceremonyIdOfThisRun();
  let ctx: KeygenContext | undefined;
  try {
    await coordinator.validateKeygen(req);
    const infos = await onEach(req.parties, (p) => party(p).describeParty());
    ctx = await coordinator.planKeygen(req, ceremonyId, `key-${uuid4()}`, infos);
    const c = ctx;
    const round1 = await onEach(req.parties, (p) => party(p).dkgRound1(c));
    const round2 = (await onEach(req.parties, (p) => party(p).dkgRound2(c, round1))).flat();
    const results = await onEach(req.parties, (p) =>
      party(p).dkgRound3(
        c,
        round1,
        round2.filter((e: Envelope) => e.to === p),
      ),
    );
    const pairing = c.protocol === 'dkls23' ? pairSetupOf(c) : undefined;
    const pairsDone = pairing ? await runPairSetup(pairing) : [];
    const confirmed = await coordinator.confirmKeygen(c, results);
    // the setups first: an active ECDSA share always has its pairs
    if (pairing) await activatePairSetup(pairing, pairsDone);
    await onEach(req.parties, (p) => party(p).dkgActivate(c, results));
    const result = await coordinator.saveWallet(c, confirmed);
    await audit(req.requestedBy, keygenRecord(c));
    return result;
  } catch (err) {
    if (ctx) {
      const c = ctx;
      await audit(req.requestedBy, keygenRecord(c), err);
      // Best effort: a party that is down keeps only a pending share, never an active one.
      await evenIfCancelled(() => Promise.allSettled(req.parties.map((p) => partyBrief(p).dkgAbort(c))));
      if (c.protocol === 'dkls23') await abortPairSetup(pairSetupOf(c));
    }
    throw abortWith(`key generation ${workflowInfo().workflowId}`, err);
  }
}

const pairSetupOf = (c: KeygenContext): PairSetupContext => ({
  tenant: c.tenant,
  ceremonyId: c.ceremonyId,
  walletId: c.walletId,
  keyId: c.keyId,
  version: c.version,
  roster: c.roster,
});

const keygenRecord = (c: KeygenContext): AuditRecord => ({
  tenant: c.tenant,
  walletId: c.walletId,
  ceremony: 'keygen',
  version: c.version,
  parties: c.roster.map((p) => p.partyId),
  detail: { scheme: c.scheme, threshold: c.threshold, keyId: c.keyId },
});
