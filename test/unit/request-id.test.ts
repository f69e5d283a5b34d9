/**
 * Issue 19 (risk analyst): a request id is taken in either form it is printed, bare (`93fa…`) or
 * full (`sign:T:93fa…`, `reshare:T:W:…`), by one parser; a full id of another tenant is refused
 * naming both. Also: the config changes and signer a rule set version reports, and the refusal a
 * detached sign request gets at once. No stack: Temporal is stubbed where a call would reach it.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Connection } from '@temporalio/client';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ConclaveClient, type TransactionState } from '../../src/index.js';
import { bareRequestId, parseRequestId, requestWorkflowId } from '../../src/client/request-id.js';
import { signRequestRefusal } from '../../src/policy/contracts.js';
import { diffConfigs } from '../../activities/coordinator/policy.js';
import { parseTenantPolicyConfig } from '../../src/policy/tenant-config.js';
import { generateActorKey } from '../../src/policy/authorization.js';
import { expectCode } from './expect-errors.js';

const dirs: string[] = [];
afterEach(() => {
  vi.restoreAllMocks();
  dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true }));
});

async function offlineClient(): Promise<ConclaveClient> {
  const home = mkdtempSync(join(tmpdir(), 'conclave-request-id-'));
  dirs.push(home);
  const dummy = { close: async () => {}, workflowService: {}, operatorService: {}, healthService: {} };
  vi.spyOn(Connection, 'connect').mockResolvedValue(dummy as unknown as Connection);
  return ConclaveClient.connect({
    env: {
      CONCLAVE_HOME: home,
      TEMPORAL_ADDRESS: '127.0.0.1:1',
      MONGODB_URI: 'mongodb://127.0.0.1:1/',
      CONCLAVE_ACTOR: 'request-id-test',
    },
  });
}

/** Stubs Temporal: records started workflow ids and answers `run` with `results[workflow]`. */
function stub(client: ConclaveClient, results: Record<string, unknown> = {}) {
  const started: { workflow: string; id: string }[] = [];
  const handles: string[] = [];
  Object.assign(client as unknown as Record<string, unknown>, {
    client: {
      workflow: {
        start: async (workflow: string, o: { workflowId: string }) => {
          started.push({ workflow, id: o.workflowId });
          return { result: async () => results[workflow] };
        },
        getHandle: (id: string) => {
          handles.push(id);
          return { result: async () => ({}), query: async () => ({}) };
        },
      },
    },
  });
  return { started, handles };
}

const id = '93fa0c1e-5d2b-4c7a-9a57-0d6f4d1c2b3a';

describe('request ids', () => {
  it('parses the bare id and every full form', () => {
    expect(parseRequestId(id)).toEqual({ id });
    expect(parseRequestId(`sign:default:${id}`)).toEqual({ id, kind: 'sign', tenant: 'default' });
    expect(parseRequestId(`reshare:acme:w1:${id}`)).toEqual({
      id,
      kind: 'reshare',
      tenant: 'acme',
      walletId: 'w1',
    });
    for (const kind of ['recover', 'backup', 'pairing'])
      expect(parseRequestId(`${kind}:acme:w1:r-1`)).toMatchObject({ id: 'r-1', kind, walletId: 'w1' });
    expectCode(() => parseRequestId('sign:default'), 'BAD_INPUT', /expected sign:TENANT:ID, or the bare ID/);
    expectCode(() => parseRequestId('reshare:acme:r-1'), 'BAD_INPUT', /reshare:TENANT:WALLET:ID/);
    expectCode(() => parseRequestId('no way'), 'BAD_INPUT', /invalid request id/);
  });

  it('gives the bare id for the tenant in use, and refuses another tenant naming both', () => {
    expect(bareRequestId(id, { tenant: 'default', kind: 'sign' })).toBe(id);
    expect(bareRequestId(`sign:default:${id}`, { tenant: 'default', kind: 'sign' })).toBe(id);
    expect(bareRequestId(`recover:acme:w1:r-1`, { tenant: 'acme', kind: 'recover', walletId: 'w1' })).toBe(
      'r-1',
    );
    expectCode(
      () => bareRequestId(`sign:acme:${id}`, { tenant: 'default' }),
      'WRONG_TENANT',
      /is tenant acme's, not tenant default's/,
    );
    expectCode(
      () => bareRequestId(`reshare:acme:w1:r-1`, { tenant: 'acme', kind: 'recover' }),
      'BAD_INPUT',
      /a reshare request, not a recover request/,
    );
    expectCode(
      () => bareRequestId(`reshare:acme:w1:r-1`, { tenant: 'acme', kind: 'reshare', walletId: 'w2' }),
      'BAD_INPUT',
      /wallet w1's, not wallet w2's/,
    );
  });

  it('gives the workflow id of a request in either form', () => {
    expect(requestWorkflowId('default', id)).toBe(`sign:default:${id}`);
    expect(requestWorkflowId('default', `sign:default:${id}`)).toBe(`sign:default:${id}`);
    expect(requestWorkflowId('acme', 'reshare:acme:w1:r-1')).toBe('reshare:acme:w1:r-1');
    expectCode(() => requestWorkflowId('default', 'reshare:acme:w1:r-1'), 'WRONG_TENANT', /tenant acme's/);
  });

  it('the client takes the full id where it takes a request id', async () => {
    const client = await offlineClient();
    const { started, handles } = stub(client, { rulesHistoryWorkflow: [] });
    const tx = { chain: 'solana', asset: 'SOL', amount: '1', destination: 'A1ice' };
    const got = await client.startSign({
      walletId: 'w1',
      message: 'dead',
      tx,
      requestId: `sign:default:${id}`,
    });
    expect(got).toBe(id);
    expect(started.at(-1)).toEqual({ workflow: 'signWorkflow', id: `sign:default:${id}` });
    await client.signResult({ requestId: `sign:default:${id}` });
    expect(handles.at(-1)).toBe(`sign:default:${id}`);
    await client.transaction({ requestId: `sign:default:${id}` });
    expect(handles.at(-1)).toBe(`sign:default:${id}`);
    await client.rotate({ walletId: 'w1', tenant: 'acme', requestId: 'reshare:acme:w1:r-1' });
    expect(started.at(-1)?.id).toBe('reshare:acme:w1:r-1');
    await client.recover({ walletId: 'w1', party: 'party-1', requestId: 'recover:default:w1:r-2' });
    expect(started.at(-1)?.id).toBe('recover:default:w1:r-2');
    await client.exportBackups({ walletId: 'w1', requestId: 'backup:default:w1:r-3' });
    expect(started.at(-1)?.id).toBe('backup:default:w1:r-3');
    await client.pairWallet({ walletId: 'w1', requestId: 'pairing:default:w1:r-4' });
    expect(started.at(-1)?.id).toBe('pairing:default:w1:r-4');
    await expect(client.signResult({ requestId: `sign:acme:${id}` })).rejects.toMatchObject({
      code: 'WRONG_TENANT',
      message: expect.stringMatching(/tenant acme's, not tenant default's/),
    });
    await expect(client.transaction({ requestId: `sign:acme:${id}` })).rejects.toMatchObject({
      code: 'WRONG_TENANT',
    });
    await expect(
      client.rotate({ walletId: 'w1', requestId: 'reshare:default:w2:r-1' }),
    ).rejects.toMatchObject({
      code: 'BAD_INPUT',
      message: expect.stringMatching(/wallet w2's, not wallet w1's/),
    });
  });
});

describe('a detached sign request', () => {
  it('is refused at once, in the coordinator words, when the rules in effect would refuse it', async () => {
    const client = await offlineClient();
    const alice = generateActorKey('alice');
    const config = parseTenantPolicyConfig({ initiators: [{ id: 'alice', publicKey: alice.publicKey }] });
    const history = [{ version: 1, current: true, tenant: 'default' }];
    const { started } = stub(client, { rulesHistoryWorkflow: history, ruleSetWorkflow: { config } });
    const tx = { chain: 'solana', asset: 'SOL', amount: '1', destination: 'A1ice' };
    const refused = signRequestRefusal({ tenant: 'default', tx }, config)!;
    expect(refused).toEqual({
      code: 'UNAUTHORIZED',
      message: 'tenant default accepts sign requests signed by its initiators only (set CONCLAVE_KEY)',
    });
    await expect(client.startSign({ walletId: 'w1', message: 'dead', tx })).rejects.toMatchObject(refused);
    await expect(client.startSign({ walletId: 'w1', message: 'dead' })).rejects.toMatchObject({
      code: 'BAD_INPUT',
      message: expect.stringMatching(/must describe its transaction/),
    });
    expect(started.some((s) => s.workflow === 'signWorkflow')).toBe(false);
    // without rules in effect nothing is refused
    stub(client, { rulesHistoryWorkflow: [] });
    await expect(client.startSign({ walletId: 'w1', message: 'dead', tx })).resolves.toBeTypeOf('string');
  });
});

describe('the last approval', () => {
  it('reports the state after the workflow moved on, not the wait it left', async () => {
    const client = await offlineClient();
    const waiting = {
      state: 'awaiting-approval',
      decision: { approvals: { risk: 1 } },
      approvals: [{ approver: 'bob', role: 'risk', verdict: 'approve', at: '' }],
    } as unknown as TransactionState;
    let reads = 0;
    const handle = {
      query: async () => ({ ...waiting, state: ++reads < 3 ? 'awaiting-approval' : 'signing' }),
    };
    const settle = (
      client as unknown as {
        settledAfterVerdict: (h: unknown, t: TransactionState) => Promise<TransactionState>;
      }
    ).settledAfterVerdict.bind(client);
    expect((await settle(handle, waiting)).state).toBe('signing');
    // approvals still missing: the wait is the truth, read once
    const open = { ...waiting, decision: { approvals: { risk: 2 } } } as unknown as TransactionState;
    reads = 0;
    expect((await settle(handle, open)).state).toBe('awaiting-approval');
    expect(reads).toBe(0);
  });
});

describe('rule set versions', () => {
  it('name the config fields a version changed', () => {
    const before = parseTenantPolicyConfig({});
    const alice = generateActorKey('alice');
    const after = parseTenantPolicyConfig({
      approvers: [{ id: 'alice', publicKey: alice.publicKey, roles: ['risk'] }],
      initiators: [{ id: 'alice', publicKey: alice.publicKey }],
    });
    expect(diffConfigs(before, after)).toEqual(['approvers', 'initiators']);
    expect(diffConfigs(undefined, after)).toEqual(['approvers', 'initiators']);
    expect(diffConfigs(after, after)).toEqual([]);
  });
});
