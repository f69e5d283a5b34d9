/**
 * The client's API as a caller sees it (issue 19): literal types for curves and schemes, one
 * object per call, the request and result types exported by the package, an unknown scheme
 * refused as such, and an actor key given as a value. No stack: Temporal is stubbed where a call
 * would reach it.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Connection } from '@temporalio/client';
import { afterEach, describe, expect, expectTypeOf, it, vi } from 'vitest';
import {
  ConclaveClient,
  ConclaveError,
  CulpritError,
  isCurve,
  isSchemeName,
  listCurves,
  listSchemes,
  type ActorSecret,
  type ApproveOptions,
  type ConnectOptions,
  type CreateWalletOptions,
  type Curve,
  type ErrorCode,
  type KeygenResult,
  type RecoverOptions,
  type ReshareOptions,
  type SchemeName,
  type SignOptions,
  type SignResult,
  type TransactionDescription,
  type TransactionState,
  type WalletInfo,
  type WalletRef,
} from '../../src/index.js';
import { actorKeyOf, clientActorKey, readActorKeyFile } from '../../src/config.js';
import { getScheme, resolveScheme } from '../../src/crypto/schemes.js';
import { generateActorKey, requestDigest, verifyDigest } from '../../src/policy/authorization.js';
import type { SignRequest } from '../../src/ceremony/sign/contracts.js';
import { validateKeygenRequest } from '../../src/validation.js';
import { errOf, expectCode } from './expect-errors.js';

const knownSchemes = 'frost-ed25519, frost-secp256k1, frost-taproot, dkls23-secp256k1';

const dirs: string[] = [];
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'conclave-client-api-'));
  dirs.push(dir);
  return dir;
}
afterEach(() => {
  vi.restoreAllMocks();
  dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true }));
});

/** A key file as `conclave keys new` writes it. */
function keyFile(key: ActorSecret): string {
  const file = join(tempDir(), `${key.id}.key`);
  writeFileSync(file, JSON.stringify(key, null, 2));
  return file;
}

/** Settings that load without a stack (nothing is contacted until `connect` dials Temporal). */
function offlineEnv(extra: Record<string, string> = {}): Record<string, string> {
  return {
    CONCLAVE_HOME: tempDir(),
    TEMPORAL_ADDRESS: '127.0.0.1:1',
    MONGODB_URI: 'mongodb://127.0.0.1:1/',
    CONCLAVE_ACTOR: 'api-test',
    ...extra,
  };
}

/** `connect` with Temporal stubbed: the connection is a dummy and no call leaves the process. */
async function offlineClient(opts: ConnectOptions): Promise<ConclaveClient> {
  const dummy = { close: async () => {}, workflowService: {}, operatorService: {}, healthService: {} };
  vi.spyOn(Connection, 'connect').mockResolvedValue(dummy as unknown as Connection);
  return ConclaveClient.connect(opts);
}

/** Replaces the client's Temporal client by one that records what is started and returns `result`. */
function recordStarts(
  client: ConclaveClient,
  result: unknown,
): { workflow: string; id: string; args: unknown[] }[] {
  const started: { workflow: string; id: string; args: unknown[] }[] = [];
  const handle = { result: async () => result };
  Object.assign(client as unknown as Record<string, unknown>, {
    client: {
      workflow: {
        start: async (workflow: string, o: { workflowId: string; args: unknown[] }) => {
          started.push({ workflow, id: o.workflowId, args: o.args });
          return handle;
        },
      },
    },
  });
  return started;
}

describe('curve and scheme types', () => {
  it('are the registry names, as literal unions', () => {
    expectTypeOf<Curve>().toEqualTypeOf<'ed25519' | 'secp256k1'>();
    expectTypeOf<SchemeName>().toEqualTypeOf<
      'frost-ed25519' | 'frost-secp256k1' | 'frost-taproot' | 'dkls23-secp256k1'
    >();
    expectTypeOf<CreateWalletOptions['curve']>().toEqualTypeOf<Curve | undefined>();
    expectTypeOf<CreateWalletOptions['scheme']>().toEqualTypeOf<SchemeName | undefined>();
    expectTypeOf<KeygenResult['curve']>().toEqualTypeOf<Curve>();
    expectTypeOf<KeygenResult['scheme']>().toEqualTypeOf<SchemeName>();
    expectTypeOf<WalletInfo['scheme']>().toEqualTypeOf<SchemeName>();
    expectTypeOf<SignResult['scheme']>().toEqualTypeOf<SchemeName>();
    // and the registry lists exactly those at run time
    expect(listSchemes()).toEqual(knownSchemes.split(', '));
    expect(listCurves()).toEqual(['ed25519', 'secp256k1']);
  });

  it('a curve or scheme the registry does not know does not compile', () => {
    const ok: CreateWalletOptions[] = [
      { curve: 'ed25519', threshold: 2, parties: 3 },
      { scheme: 'dkls23-secp256k1', threshold: 2, parties: 3 },
      { curve: 'secp256k1', scheme: 'frost-taproot', threshold: 2, parties: ['p1', 'p2', 'p3'] },
    ];
    // @ts-expect-error 'p256' is not a Curve
    const badCurve: CreateWalletOptions = { curve: 'p256', threshold: 2, parties: 3 };
    // @ts-expect-error 'frost-p256' is not a SchemeName
    const badScheme: CreateWalletOptions = { scheme: 'frost-p256', threshold: 2, parties: 3 };
    // @ts-expect-error names are case-sensitive
    const shouting: CreateWalletOptions = { scheme: 'FROST-ED25519', threshold: 2, parties: 3 };
    expect([ok.length, badCurve.threshold, badScheme.threshold, shouting.threshold]).toEqual([3, 2, 2, 2]);
  });

  it('guards narrow untyped names (a CLI flag, a config file) to the types', () => {
    const fromConfig: string = 'frost-taproot';
    if (isSchemeName(fromConfig)) expectTypeOf(fromConfig).toEqualTypeOf<SchemeName>();
    expect(isSchemeName(fromConfig)).toBe(true);
    for (const bad of ['frost-p256', 'FROST-ED25519', 'secp256k1', '', '__proto__', 'constructor', 42, null])
      expect(isSchemeName(bad)).toBe(false);
    expect(isCurve('secp256k1')).toBe(true);
    for (const bad of ['p256', 'frost-ed25519', '', 'toString', undefined]) expect(isCurve(bad)).toBe(false);
  });
});

describe('an unknown scheme', () => {
  it('is UNKNOWN_SCHEME naming the known ones, apart from an unknown curve', () => {
    expectCode(
      () => getScheme('frost-p256'),
      'UNKNOWN_SCHEME',
      new RegExp(`^unknown scheme "frost-p256" \\(known: ${knownSchemes}\\)$`),
    );
    expectCode(() => resolveScheme('secp256k1', 'taproot'), 'UNKNOWN_SCHEME', /unknown scheme "taproot"/);
    expectCode(() => resolveScheme(undefined, 'ecdsa'), 'UNKNOWN_SCHEME');
    // the curve is checked first: an unknown curve is UNKNOWN_CURVE even with a known scheme
    expectCode(
      () => resolveScheme('p256', 'frost-taproot'),
      'UNKNOWN_CURVE',
      /^unknown curve "p256" \(known: ed25519, secp256k1\)$/,
    );
    expectCode(() => resolveScheme('p256'), 'UNKNOWN_CURVE');
    expectCode(() => resolveScheme(undefined), 'BAD_INPUT', /names its curve or its scheme/);
    // what the client and the coordinator both validate
    const req = { tenant: 't', walletId: 'w', curve: 'secp256k1', threshold: 2, parties: ['p1', 'p2'] };
    expectCode(() => validateKeygenRequest({ ...req, scheme: 'frost-p256' }), 'UNKNOWN_SCHEME');
    expectCode(() => validateKeygenRequest({ ...req, curve: 'p256' }), 'UNKNOWN_CURVE');
  });

  it('is refused by createWallet before anything is started', async () => {
    const client = await offlineClient({ env: offlineEnv() });
    const started = recordStarts(client, {});
    const err = await client
      .createWallet({ scheme: 'frost-p256' as SchemeName, threshold: 2, parties: 3 })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConclaveError);
    expect(err).toMatchObject({
      code: 'UNKNOWN_SCHEME',
      message: `unknown scheme "frost-p256" (known: ${knownSchemes})`,
    });
    await expect(
      client.createWallet({ curve: 'p256' as Curve, threshold: 2, parties: 3 }),
    ).rejects.toMatchObject({ code: 'UNKNOWN_CURVE' });
    expect(started).toEqual([]);
  });
});

describe('one calling style', () => {
  it('every wallet and request method takes one object', () => {
    expectTypeOf<ConclaveClient['getWallet']>().parameters.toEqualTypeOf<[WalletRef]>();
    expectTypeOf<ConclaveClient['validateShares']>().parameters.toEqualTypeOf<[WalletRef]>();
    expectTypeOf<ConclaveClient['auditLog']>().parameters.toEqualTypeOf<[WalletRef]>();
    expectTypeOf<ConclaveClient['reshare']>().parameters.toEqualTypeOf<[ReshareOptions]>();
    expectTypeOf<ConclaveClient['recover']>().parameters.toEqualTypeOf<[RecoverOptions]>();
    expectTypeOf<ConclaveClient['approve']>().parameters.toEqualTypeOf<[ApproveOptions]>();
    expectTypeOf<ConclaveClient['createWallet']>().parameters.toEqualTypeOf<[CreateWalletOptions]>();
    expectTypeOf<ConclaveClient['sign']>().parameters.toEqualTypeOf<[SignOptions]>();
    expectTypeOf<ConclaveClient['transaction']>().returns.resolves.toEqualTypeOf<TransactionState>();
    expectTypeOf<SignOptions['tx']>().toEqualTypeOf<TransactionDescription | undefined>();
    expectTypeOf<ErrorCode>().toExtend<string>();
    expectTypeOf<CulpritError>().toExtend<ConclaveError>();
    const positional = (c: ConclaveClient) => [
      // @ts-expect-error getWallet takes { walletId, tenant }
      c.getWallet('w1', 'default'),
      // @ts-expect-error transaction takes { requestId, tenant }
      c.transaction('r1', 'default'),
      // @ts-expect-error reshare takes { walletId, ... }
      c.reshare('w1', { threshold: 2 }),
    ];
    expect(typeof positional).toBe('function');
  });

  it('getWallet({ walletId, tenant }) reads that wallet of that tenant, `default` when left out', async () => {
    const client = await offlineClient({ env: offlineEnv() });
    const started = recordStarts(client, { walletId: 'w1' });
    await client.getWallet({ walletId: 'w1', tenant: 'acme' });
    await client.getWallet({ walletId: 'w2' });
    expect(started.map((s) => [s.workflow, s.args])).toEqual([
      ['getWalletWorkflow', ['acme', 'w1']],
      ['getWalletWorkflow', ['default', 'w2']],
    ]);
    await expect(client.getWallet({ walletId: 'no:such' })).rejects.toMatchObject({ code: 'BAD_INPUT' });
  });

  it('reshare, recover and exportBackups carry their wallet, tenant and request id', async () => {
    const client = await offlineClient({ env: offlineEnv() });
    const started = recordStarts(client, {});
    await client.reshare({
      walletId: 'w1',
      tenant: 'acme',
      parties: ['p1', 'p2', 'p4'],
      threshold: 2,
      requestId: 'r1',
    });
    await client.rotate({ walletId: 'w1', requestId: 'r2' });
    await client.recover({ walletId: 'w1', party: 'p3', helpers: ['p1', 'p2'], requestId: 'r3' });
    await client.exportBackups({ walletId: 'w1', tenant: 'acme', requestId: 'r4' });
    expect(started.map((s) => s.id)).toEqual([
      'reshare:acme:w1:r1',
      'reshare:default:w1:r2',
      'recover:default:w1:r3',
      'backup:acme:w1:r4',
    ]);
    expect(started[0]!.args[0]).toMatchObject({ parties: ['p1', 'p2', 'p4'], threshold: 2 });
    expect(started[2]!.args[0]).toMatchObject({ party: 'p3', helpers: ['p1', 'p2'] });
  });

  it('publishRules and governanceHistory take their tenant in the same object', async () => {
    const client = await offlineClient({ env: offlineEnv() });
    const started = recordStarts(client, []);
    const text = JSON.stringify({ version: 1, defaultOutcome: 'allow', rules: [] });
    await client.publishRules({ text, tenant: 'acme' });
    await client.governanceHistory({ tenant: 'acme' });
    await client.rulesHistory();
    expect(started[0]!.id).toMatch(/^rules-publish:acme:/);
    expect(started[0]!.args[0]).toMatchObject({ tenant: 'acme', text });
    expect(started[0]!.args[0]).not.toHaveProperty('signature'); // no key: unsigned
    expect(started[1]!.args).toEqual(['acme']);
    expect(started[2]!.args).toEqual(['default']);
  });
});

describe('an actor key given as a value', () => {
  const alice = generateActorKey('alice');

  it('is taken as its fields or as a key file text, and checked like a file', () => {
    expect(actorKeyOf(alice)).toEqual(alice);
    expect(actorKeyOf(JSON.stringify(alice))).toEqual(alice);
    expect(actorKeyOf({ ...alice, note: 'extra fields are dropped' } as ActorSecret)).toEqual(alice);
    const bob = generateActorKey('bob');
    expectCode(
      () => actorKeyOf({ ...alice, secretKey: bob.secretKey }),
      'BAD_INPUT',
      /^the actor key given is not an actor key: \{ id, publicKey, secretKey \}/,
    );
    expectCode(() => actorKeyOf('not json'), 'BAD_INPUT', /is not an actor key/);
    expectCode(() => actorKeyOf(undefined as unknown as string), 'BAD_INPUT', /is not an actor key/);
    // the file and the value give the same key
    expect(readActorKeyFile(keyFile(alice))).toEqual(alice);
  });

  it('is used instead of a file; given both ways it is refused', () => {
    const bob = generateActorKey('bob');
    expect(clientActorKey({}, alice)).toEqual(alice);
    expect(clientActorKey({ CONCLAVE_KEY: keyFile(bob) })).toEqual(bob);
    expect(clientActorKey({})).toBeUndefined();
    expectCode(
      () => clientActorKey({ CONCLAVE_KEY: keyFile(bob) }, alice),
      'CONFIG',
      /given both as a value and in CONCLAVE_KEY/,
    );
    // the dev stack's key is a default, not a second way: a key given as a value wins
    const home = tempDir();
    writeFileSync(join(home, 'stack.json'), '{}');
    mkdirSync(join(home, 'keys'));
    writeFileSync(join(home, 'keys', 'dev-admin.key'), JSON.stringify(bob));
    expect(clientActorKey({ CONCLAVE_HOME: home })).toEqual(bob);
    expect(clientActorKey({ CONCLAVE_HOME: home }, alice)).toEqual(alice);
  });

  it('connect({ key }) signs with it: a sign request carries its signature', async () => {
    const client = await offlineClient({ env: offlineEnv(), key: JSON.stringify(alice) });
    expect(client.key).toEqual(alice);
    const started = recordStarts(client, {});
    const tx = { chain: 'solana', asset: 'SOL', amount: '1.5', destination: 'A1ice' };
    const requestId = await client.startSign({ walletId: 'w1', message: 'deadbeef', tx, requestId: 'pay-1' });
    expect(requestId).toBe('pay-1');
    const req = started[0]!.args[0] as SignRequest;
    expect(started[0]!.id).toBe('sign:default:pay-1');
    expect(req.signed?.initiatorKey).toBe(alice.publicKey);
    expect(req.signed?.statement).toMatchObject({ initiator: 'alice', tx, requestId: 'sign:default:pay-1' });
    expect(verifyDigest(alice.publicKey, requestDigest(req.signed!.statement), req.signed!.signature!)).toBe(
      true,
    );
  });

  it('connect refuses a key given both ways, a bad key and an unknown option before dialling', async () => {
    const dial = vi.spyOn(Connection, 'connect');
    const both = offlineEnv({ CONCLAVE_KEY: keyFile(generateActorKey('bob')) });
    await expect(ConclaveClient.connect({ env: both, key: alice })).rejects.toMatchObject({ code: 'CONFIG' });
    await expect(
      ConclaveClient.connect({ env: offlineEnv(), key: { ...alice, publicKey: '00'.repeat(32) } }),
    ).rejects.toMatchObject({ code: 'BAD_INPUT' });
    const typo = { env: offlineEnv(), keyFile: '/tmp/x.key' } as unknown as { env: Record<string, string> };
    const err = await ConclaveClient.connect(typo).catch((e: unknown) => e);
    expect(err).toMatchObject({
      code: 'BAD_INPUT',
      message: expect.stringMatching(/unknown connect option "keyFile"/),
    });
    expect(dial).not.toHaveBeenCalled();
    expect(errOf(() => clientActorKey({ CONCLAVE_KEY: '/no/such/file' }))).toMatchObject({ code: 'CONFIG' });
  });

  it('connect({ env }) reads the CONCLAVE_KEY file the environment names', async () => {
    const bob = generateActorKey('bob');
    const client = await offlineClient({ env: offlineEnv({ CONCLAVE_KEY: keyFile(bob) }) });
    expect(client.key).toEqual(bob);
    expect(client.actor).toBe('api-test');
  });

  it('approve({ key }) takes an approver key as a value, checked', async () => {
    const client = await offlineClient({ env: offlineEnv() });
    const opts: ApproveOptions = {
      requestId: 'r1',
      key: { ...alice, secretKey: generateActorKey('x').secretKey },
    };
    await expect(client.approve(opts)).rejects.toMatchObject({
      code: 'BAD_INPUT',
      message: expect.stringMatching(/^the approver key given is not an actor key/),
    });
  });
});
