/**
 * The Temporal server stores ciphertext only: a sign request's history, read with a client that
 * has no payload key, shows no message, destination or policy reason, and every payload is
 * encrypted and labelled with its tenant. And the codec is enforced: a ceremony started with
 * plaintext input never runs, a party refuses a round whose input is plaintext, and a client
 * with the key refuses a plaintext result.
 */
import { fileURLToPath } from 'node:url';
import { Client, Connection } from '@temporalio/client';
import { defaultPayloadConverter, type Payload, type PayloadCodec } from '@temporalio/common';
import { DefaultLogger, NativeConnection, Runtime, Worker } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConclaveClient, signWorkflowId } from '../../src/client/index.js';
import {
  ConclavePayloadCodec,
  clientDataConverter,
  encryptedEncoding,
} from '../../src/codec/payload-codec.js';
import { loadConfig } from '../../src/config.js';
import { ConclaveError, UnencryptedPayloadError } from '../../src/errors.js';
import { closeAllDbs } from '../../src/store/mongo.js';
import { coordinatorTaskQueue, tenantSearchAttribute } from '../../temporal.config.js';
import { message32, stackEnv, waitFor } from './helpers.js';
import type { plaintextResultWorkflow, plaintextRoundWorkflow } from './rogue/plaintext-workflows.js';

let client: ConclaveClient;
let raw: Client;
beforeAll(async () => {
  client = await ConclaveClient.connect({ env: stackEnv() });
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
    await client.publishRules({
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
      tenant,
    });
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

const utf8 = new TextDecoder();

/**
 * The codec of a coordinator without the payload key: it sends everything in the clear. It
 * decrypts what comes back (the test holds the key) only so the test can read the refusals.
 */
class PlaintextCodec implements PayloadCodec {
  constructor(private readonly ours: ConclavePayloadCodec) {}
  async encode(payloads: Payload[]): Promise<Payload[]> {
    return payloads;
  }
  async decode(payloads: Payload[]): Promise<Payload[]> {
    return Promise.all(
      payloads.map(async (p) =>
        utf8.decode(p.metadata?.encoding ?? undefined) === encryptedEncoding
          ? (await this.ours.decode([p]))[0]!
          : p,
      ),
    );
  }
}

describe('plaintext is refused', () => {
  const plainRefusal = /^refused a Temporal payload that is not encrypted \(encoding json\/plain\)/;

  it('a ceremony started with plaintext input never runs: its workflow task fails, no wallet is made', async () => {
    const key = loadConfig(stackEnv()).payloadKey!;
    const tenant = `plain-${Date.now().toString(36)}`;
    const walletId = `w-plain-${Date.now().toString(36)}`;
    // a valid request, which the coordinator would run if it took plaintext
    const handle = await raw.workflow.start('keygenWorkflow', {
      taskQueue: coordinatorTaskQueue,
      workflowId: `keygen:${tenant}:${walletId}`,
      args: [
        {
          tenant,
          requestedBy: 'mallory',
          walletId,
          curve: 'ed25519',
          scheme: 'frost-ed25519',
          threshold: 2,
          parties: ['p1', 'p2', 'p3'],
        },
      ],
      workflowExecutionTimeout: '5 minutes',
    });
    try {
      const failedTask = async () =>
        (await handle.fetchHistory()).events?.find((e) => e.workflowTaskFailedEventAttributes)
          ?.workflowTaskFailedEventAttributes?.failure;
      await waitFor('the workflow task to fail', async () => Boolean(await failedTask()), 60_000, 250);
      const failure = (await failedTask())!;
      // the failure is the codec's refusal, and its message is encrypted too (the key reads it)
      expect(failure.message).toBe('Encoded failure');
      const [attrs] = await new ConclavePayloadCodec(key).decode([failure.encodedAttributes!]);
      expect(defaultPayloadConverter.fromPayload<{ message: string }>(attrs!).message).toMatch(plainRefusal);

      // Temporal retries the task; it fails each time, and the workflow does nothing meanwhile
      await waitFor(
        'the workflow task to be retried',
        async () => ((await handle.describe()).raw.pendingWorkflowTask?.attempt ?? 0) >= 3,
        60_000,
        250,
      );
      const history = await handle.fetchHistory();
      const kinds = new Set(
        history.events?.flatMap((e) =>
          Object.entries(e).flatMap(([k, v]) => (k.endsWith('Attributes') && v ? [k] : [])),
        ),
      );
      expect([...kinds].sort()).toEqual(
        [
          'workflowExecutionStartedEventAttributes',
          'workflowTaskScheduledEventAttributes',
          'workflowTaskStartedEventAttributes',
          'workflowTaskFailedEventAttributes',
        ].sort(),
      );
      expect((await handle.describe()).status.name).toBe('RUNNING');
    } finally {
      await handle.terminate('test: a ceremony started with plaintext input').catch(() => undefined);
    }
    const err = await client.getWallet({ walletId, tenant }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConclaveError);
    expect((err as ConclaveError).code).toBe('UNKNOWN_WALLET');
  });

  it('a party refuses a round whose input is plaintext, at once; a client with the key refuses a plaintext result', async () => {
    const config = loadConfig(stackEnv());
    const codec = new ConclavePayloadCodec(config.payloadKey!);
    try {
      Runtime.install({ logger: new DefaultLogger('ERROR') });
    } catch {
      // a runtime is already installed in this process
    }
    const run = Date.now().toString(36);
    const queue = `plaintext-${run}`;
    const connection = await NativeConnection.connect({ address: config.temporal.address });
    const worker = await Worker.create({
      connection,
      namespace: config.temporal.namespace,
      taskQueue: queue,
      dataConverter: { payloadCodecs: [new PlaintextCodec(codec)] },
      workflowsPath: fileURLToPath(new URL('./rogue/plaintext-workflows.ts', import.meta.url)),
    });
    let n = 0;
    const round = (activity: string, args: unknown[]) =>
      raw.workflow.execute<typeof plaintextRoundWorkflow>('plaintextRoundWorkflow', {
        taskQueue: queue,
        workflowId: `plaintext-${run}-${n++}`,
        args: ['p1', activity, args],
      });
    const keyed = new Client({
      connection: raw.connection,
      namespace: config.temporal.namespace,
      dataConverter: clientDataConverter(config.payloadKey),
    });
    try {
      await worker.runUntil(async () => {
        // control: a round with no input has nothing to refuse, and the party answers
        expect(await round('describeParty', [])).toEqual({
          result: expect.objectContaining({ partyId: 'p1' }),
        });

        const ctx = {
          tenant: 'default',
          ceremonyId: `plaintext-${run}`,
          walletId: 'w-none',
          keyId: 'k-none',
          version: 1,
          message: message32(),
          signers: ['p1', 'p2'],
          path: 'm',
        };
        for (const [activity, args] of [
          ['describeParty', [{ partyId: 'p1' }]],
          ['signRound1', [ctx]],
        ] as const) {
          const started = Date.now();
          const out = await round(activity, [...args]);
          expect(out.result, activity).toBeUndefined();
          // refused by the party's codec before the activity is called, with the ceremonies'
          // retry policy: not retried
          expect(out.refused, activity).toMatchObject({
            type: 'UNENCRYPTED_PAYLOAD',
            retryState: 'NON_RETRYABLE_FAILURE',
          });
          const prefix = `Failed to parse activity args for activity ${activity}: `;
          expect(out.refused!.message.startsWith(prefix), out.refused!.message).toBe(true);
          expect(out.refused!.message.slice(prefix.length)).toMatch(plainRefusal);
          expect(Date.now() - started).toBeLessThan(30_000);
        }

        // the client with the key: the worker answers in plaintext, and the result is refused
        const handle = await keyed.workflow.start<typeof plaintextResultWorkflow>('plaintextResultWorkflow', {
          taskQueue: queue,
          workflowId: `plaintext-${run}-result`,
          args: [{ tenant: 'default', signature: 'forged' }],
        });
        const err = await handle.result().catch((e: unknown) => e);
        expect(err).toBeInstanceOf(UnencryptedPayloadError);
        expect((err as ConclaveError).code).toBe('UNENCRYPTED_PAYLOAD');
        expect((err as Error).message).not.toContain('forged');
        // what the worker sent was indeed plaintext
        expect(await raw.workflow.getHandle(handle.workflowId).result()).toEqual({
          tenant: 'default',
          signature: 'forged',
        });
      });
    } finally {
      await connection.close();
    }
  });
});
