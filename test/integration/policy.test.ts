/**
 * The tenant's rules in front of signing, on the real stack: an allowed payment is signed (and
 * the decision comes back with it), a deny-listed destination is blocked and never reaches a
 * party, an over-limit payment and an out-of-hours one are held for approvals (not signed), a
 * payment that cannot be valued fails closed, and a newly published version applies at once.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConclaveClient } from '../../src/client/index.js';
import { ConclaveError } from '../../src/errors.js';
import { closeAllDbs } from '../../src/store/mongo.js';
import { verifyIndependently } from '../independent-verify.js';
import { message32, partyStore, stackEnv } from './helpers.js';

let client: ConclaveClient;
beforeAll(async () => {
  client = await ConclaveClient.connect({ env: { ...stackEnv(), CONCLAVE_ACTOR: 'carol@payments' } });
});
afterAll(async () => {
  await client?.close();
  await closeAllDbs();
});

const denied = 'So11111111111111111111111111111111111111112';
const rules = (extra: object[] = []) =>
  JSON.stringify({
    version: 1,
    defaultOutcome: 'allow',
    rules: [
      {
        name: 'deny-listed destination',
        conditions: { all: [{ fact: 'destination', operator: 'inDenyList', value: true }] },
        event: { type: 'block', params: { reason: 'destination {{destination}} is on the deny list' } },
      },
      {
        name: 'large transfer',
        conditions: { all: [{ fact: 'fiatValue', operator: 'fiatGreaterThan', value: '10000' }] },
        event: {
          type: 'escalate',
          params: {
            reason: '{{amount}} {{asset}} is worth {{fiatValue}} USD',
            approvals: { risk: 1, treasury: 1 },
          },
        },
      },
      ...extra,
    ],
  });
// escalations wait 2 s for approvals here, then expire (approvals.test.ts gathers them)
const config = { denyList: [denied], prices: { SOL: '150' }, escalationExpiresAfter: 2 };
const pay = (
  amount: string,
  destination = 'Dest1111111111111111111111111111111111111111',
  asset = 'SOL',
) => ({
  chain: 'solana',
  asset,
  amount,
  destination,
});

async function refusal(p: Promise<unknown>): Promise<ConclaveError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ConclaveError);
  return err as ConclaveError;
}

describe('rules in front of signing', () => {
  it('allows, blocks before any party, holds for approvals, fails closed, and follows the current version', async () => {
    const tenant = `pay-${Date.now().toString(36)}`;
    const w = await client.createWallet({ tenant, threshold: 2, parties: 3 });
    // no rules published yet: signing needs no transaction description
    const plain = await client.sign({ tenant, walletId: w.walletId, message: message32() });
    expect(plain.policy).toBeUndefined();

    const v1 = await client.publishRules({ text: rules(), config, tenant });
    expect(v1.version).toBe(1);

    const okId = `allowed-${Date.now()}`;
    const ok = await client.sign({
      tenant,
      walletId: w.walletId,
      message: message32(),
      tx: pay('10'),
      requestId: okId,
    });
    expect(ok.policy).toMatchObject({ outcome: 'allow', rulesVersion: 1, fired: [] });
    expect(
      verifyIndependently('frost-ed25519', ok.signature, Buffer.from(ok.message, 'hex'), w.publicKey),
    ).toBe(true);

    const requestId = `blocked-${Date.now()}`;
    const blocked = await refusal(
      client.sign({ tenant, walletId: w.walletId, message: message32(), tx: pay('1', denied), requestId }),
    );
    expect(blocked.code).toBe('POLICY_BLOCKED');
    expect(blocked.message).toContain(`destination ${denied} is on the deny list`);
    expect(blocked.message).toContain('rules v1');
    // no party ever saw it: no nonce was drawn for that ceremony anywhere (an allowed request's
    // signers each spent one, found the same way)
    for (const p of ok.signers) {
      const spent = await (
        await partyStore(p)
      ).nonceSpends.countDocuments({ ceremonyId: new RegExp(`^sign:${tenant}:${okId}/`) });
      expect(spent, p).toBe(1);
    }
    for (const p of ['p1', 'p2', 'p3']) {
      const st = await partyStore(p);
      const prefix = new RegExp(`^sign:${tenant}:${requestId}/`);
      expect(await st.nonces.countDocuments({ ceremonyId: prefix }), p).toBe(0);
      expect(await st.nonceSpends.countDocuments({ ceremonyId: prefix }), p).toBe(0);
    }

    const large = await refusal(
      client.sign({ tenant, walletId: w.walletId, message: message32(), tx: pay('100') }),
    );
    expect(large.code).toBe('APPROVAL_EXPIRED');
    expect(large.message).toContain('1 risk, 1 treasury');
    expect(large.message).toContain('100 SOL is worth 15000 USD');

    // no price for the asset: the limit cannot be checked, so it fails closed
    const unpriced = await refusal(
      client.sign({ tenant, walletId: w.walletId, message: message32(), tx: pay('1', undefined, 'BONK') }),
    );
    expect(unpriced.code).toBe('APPROVAL_EXPIRED');
    expect(unpriced.message).toContain('failing closed');

    expect((await refusal(client.sign({ tenant, walletId: w.walletId, message: message32() }))).code).toBe(
      'BAD_INPUT',
    );
    const floaty = await refusal(
      client.sign({ tenant, walletId: w.walletId, message: message32(), tx: pay('1e3') }),
    );
    expect(floaty.code).toBe('BAD_INPUT');
    // refused by the client before anything starts (the coordinator refuses it the same way)
    expect(floaty.message).toMatch(/^transaction description: amount must be a decimal string/);

    // a new version applies to the next request; rolling back restores the old behaviour
    const blockAll = {
      name: 'freeze',
      conditions: { all: [{ fact: 'asset', operator: 'equal', value: 'SOL' }] },
      event: { type: 'block', params: { reason: 'SOL payments are frozen' } },
    };
    await client.publishRules({ text: rules([blockAll]), config, tenant });
    const frozen = await refusal(
      client.sign({ tenant, walletId: w.walletId, message: message32(), tx: pay('1') }),
    );
    expect(frozen.message).toMatch(/rules v2: freeze: SOL payments are frozen/);
    await client.publishRules({ rollbackTo: 1, tenant });
    const again = await client.sign({ tenant, walletId: w.walletId, message: message32(), tx: pay('1') });
    expect(again.policy).toMatchObject({ outcome: 'allow', rulesVersion: 3 });

    // every decision is in the wallet's audit records, with the version it used
    const log = await client.auditLog({ walletId: w.walletId, tenant });
    const signs = log.filter((e) => e.ceremony === 'sign');
    expect(signs.map((e) => [e.outcome, e.code ?? '', e.detail?.rulesVersion ?? '-'])).toEqual([
      ['completed', '', '-'],
      ['completed', '', 1],
      ['failed', 'POLICY_BLOCKED', 1],
      ['failed', 'APPROVAL_EXPIRED', 1],
      ['failed', 'APPROVAL_EXPIRED', 1],
      // refused before judging (no transaction): recorded too
      ['failed', 'BAD_INPUT', '-'],
      ['failed', 'POLICY_BLOCKED', 2],
      ['completed', '', 3],
    ]);
    expect(signs.every((e) => e.requestedBy === 'carol@payments')).toBe(true);

    // backtest a draft without the deny rule: only the deny-listed payment and the frozen one
    // (both blocked) would change, to allowed; the escalations stay escalations
    const draft = JSON.parse(rules()) as { rules: { name: string }[] };
    draft.rules = draft.rules.filter((r) => r.name !== 'deny-listed destination');
    const bt = await client.backtestRules({ text: JSON.stringify(draft), tenant });
    expect(bt.evaluated).toBe(6); // every sign request judged by rules (the first had none)
    expect(bt.changed.map((c) => [c.before, c.beforeVersion, c.after])).toEqual([
      ['block', 1, 'allow'],
      ['block', 2, 'allow'],
    ]);
    expect(bt.changed.every((c) => c.walletId === w.walletId)).toBe(true);
    // the same rules as version 1 change nothing that version 1 decided
    const same = await client.backtestRules({ text: rules(), tenant, since: v1.publishedAt });
    expect(same.changed.map((c) => c.beforeVersion)).toEqual([2]);
  });

  it('a tenant whose business hours never hold escalates every payment as out of hours', async () => {
    const tenant = `night-${Date.now().toString(36)}`;
    const w = await client.createWallet({ tenant, threshold: 2, parties: 3 });
    const outOfHours = {
      name: 'out of hours',
      conditions: { all: [{ fact: 'outsideBusinessHours', operator: 'equal', value: true }] },
      event: { type: 'escalate', params: { reason: 'outside business hours', approvals: { risk: 1 } } },
    };
    await client.publishRules({
      text: JSON.stringify({ version: 1, defaultOutcome: 'allow', rules: [outOfHours] }),
      config: { businessHours: { days: [], start: '09:00', end: '17:00' }, escalationExpiresAfter: 2 },
      tenant,
    });
    const e = await refusal(
      client.sign({ tenant, walletId: w.walletId, message: message32(), tx: pay('1') }),
    );
    expect(e.code).toBe('APPROVAL_EXPIRED');
    expect(e.message).toContain('out of hours: outside business hours');
  });
});
