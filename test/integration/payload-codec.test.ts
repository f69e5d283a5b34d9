/**
 * The Temporal server stores ciphertext only: a sign request's history, read with a client that
 * has no payload key, shows no message, destination or policy reason, and every payload is
 * encrypted and labelled with its tenant.
 */
import { Client, Connection } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConclaveClient, signWorkflowId } from '../../src/client/index.js';
import { encryptedEncoding } from '../../src/codec/payload-codec.js';
import { loadConfig } from '../../src/config.js';
import { ConclaveError } from '../../src/errors.js';
import { closeAllDbs } from '../../src/store/mongo.js';
import { tenantSearchAttribute } from '../../temporal.config.js';
import { message32, stackEnv, waitFor } from './helpers.js';

let client: ConclaveClient;
let raw: Client;
beforeAll(async () => {
  client = await ConclaveClient.connect(stackEnv());
  const connection = await Connection.connect({ address: loadConfig(stackEnv()).temporal.address });
  raw = new Client({ connection }); // no payload key: what the Temporal server (or its operator) sees
});
afterAll(async () => {
  await client?.close();
  await raw?.connection.close();
  await closeAllDbs();
});

const secretDestination = 'Secret1111111111111111111111111111111111111';

describe('payload encryption', () => {
  it('keeps messages, destinations and refusal reasons out of Temporal', async () => {
    expect(loadConfig(stackEnv()).payloadKey).toBeDefined();
    const tenant = `codec-${Date.now().toString(36)}`;
    const w = await client.createWallet({ tenant, threshold: 2, parties: 3 });
    await client.publishRules(
      {
        text: JSON.stringify({
          version: 1,
          defaultOutcome: 'allow',
          rules: [
            {
              name: 'deny',
              conditions: { all: [{ fact: 'destination', operator: 'inDenyList', value: true }] },
              event: { type: 'block', params: { reason: 'destination {{destination}} is denied' } },
            },
          ],
        }),
        config: { denyList: [secretDestination] },
      },
      tenant,
    );
    const message = message32();
    const okId = `ok-${Date.now()}`;
    const tx = {
      chain: 'solana',
      asset: 'SOL',
      amount: '1',
      destination: 'Open11111111111111111111111111111111111111',
    };
    const signed = await client.sign({ tenant, walletId: w.walletId, message, tx, requestId: okId });
    const blockedId = `blocked-${Date.now()}`;
    const err = await client
      .sign({
        tenant,
        walletId: w.walletId,
        message: message32(),
        tx: { ...tx, destination: secretDestination },
        requestId: blockedId,
      })
      .catch((e: unknown) => e);
    // the client, which has the key, reads the reason
    expect(err).toBeInstanceOf(ConclaveError);
    expect((err as ConclaveError).message).toContain(`destination ${secretDestination} is denied`);

    for (const [id, hidden] of [
      [okId, [message, signed.signature, tx.destination]],
      [blockedId, [secretDestination, 'is denied']],
    ] as const) {
      const history = await raw.workflow.getHandle(signWorkflowId(tenant, id)).fetchHistory();
      const text = JSON.stringify(history, (_k, v: unknown) =>
        v instanceof Uint8Array ? Buffer.from(v).toString('latin1') : v,
      );
      for (const h of hidden) expect(text, `${id} shows ${h}`).not.toContain(h);
      const started = history.events?.[0]?.workflowExecutionStartedEventAttributes?.input?.payloads?.[0];
      expect(new TextDecoder().decode(started?.metadata?.encoding ?? undefined)).toBe(encryptedEncoding);
      expect(new TextDecoder().decode(started?.metadata?.['conclave-tenant'] ?? undefined)).toBe(tenant);
    }

    // visibility: the tenant's ceremonies are found by its search attribute, and only they
    let ids: string[] = [];
    await waitFor('visibility to list the tenant', async () => {
      ids = [];
      for await (const e of raw.workflow.list({ query: `${tenantSearchAttribute} = '${tenant}'` }))
        ids.push(e.workflowId);
      return ids.length >= 4;
    });
    expect(ids).toEqual(
      expect.arrayContaining([signWorkflowId(tenant, okId), signWorkflowId(tenant, blockedId)]),
    );
    expect(ids.length).toBeGreaterThanOrEqual(4); // keygen, publish, two signs
    expect(ids.every((id) => id.includes(`:${tenant}:`))).toBe(true);
  });
});
