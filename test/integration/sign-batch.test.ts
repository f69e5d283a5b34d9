/**
 * Batch signing on the real stack: one request, one ceremony, many messages each under its own
 * derived key, every signature checked by a verifier that knows nothing of Conclave; one policy
 * decision for the whole batch; a reused request id; a threshold ECDSA wallet refused; the CLI.
 */
import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConclaveClient, type SignItem } from '../../src/client/index.js';
import { ConclaveError } from '../../src/errors.js';
import { closeAllDbs } from '../../src/store/mongo.js';
import { verifyIndependently } from '../independent-verify.js';
import { conclave, json, message32, stackEnv } from './helpers.js';

let client: ConclaveClient;
beforeAll(async () => {
  client = await ConclaveClient.connect({ env: { ...stackEnv(), CONCLAVE_ACTOR: 'batch@payments' } });
});
afterAll(async () => {
  await client?.close();
  await closeAllDbs();
});

async function refusal(p: Promise<unknown>): Promise<ConclaveError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ConclaveError);
  return err as ConclaveError;
}

const bytes = (h: string) => Uint8Array.from(Buffer.from(h, 'hex'));

describe.each(['frost-ed25519', 'frost-taproot'] as const)('%s: a batch of 64 messages', (scheme) => {
  it('signs each message under its own key in one request; each signature verifies independently', async () => {
    const w = await client.createWallet({
      curve: scheme === 'frost-ed25519' ? 'ed25519' : 'secp256k1',
      scheme,
      threshold: 2,
      parties: 3,
    });
    const items: SignItem[] = Array.from({ length: 64 }, (_, i) => ({
      message: message32(),
      ...(i % 4 === 0 ? {} : { path: `m/0/${i % 7}` }),
    }));
    const requestId = `batch-${Date.now().toString(36)}-${scheme}`;
    const r = await client.signBatch({ walletId: w.walletId, items, requestId });
    expect(r.signatures).toHaveLength(64);
    expect(r.scheme).toBe(scheme);
    for (const [i, s] of r.signatures.entries()) {
      const key = await client.deriveKey({ walletId: w.walletId, path: items[i]!.path ?? 'm' });
      expect(s.message).toBe(items[i]!.message);
      expect(s.path).toBe(key.path);
      expect(s.publicKey).toBe(key.verifyingKey);
      expect(verifyIndependently(scheme, s.signature, bytes(s.message), s.publicKey)).toBe(true);
      // and not for another message: the verifier really checks
      expect(verifyIndependently(scheme, s.signature, bytes(message32()), s.publicKey)).toBe(false);
    }
    // the same request again is the same signatures (idempotent); another batch under its id is REPLAY
    const again = await client.signBatch({ walletId: w.walletId, items, requestId });
    expect(again.signatures).toEqual(r.signatures);
    const other = items.map((it, i) => (i === 5 ? { ...it, message: message32() } : it));
    expect((await refusal(client.signBatch({ walletId: w.walletId, items: other, requestId }))).code).toBe(
      'REPLAY',
    );
    // a single message under a batch's id, too
    expect(
      (await refusal(client.sign({ walletId: w.walletId, message: items[0]!.message, requestId }))).code,
    ).toBe('REPLAY');
  });
});

describe('a batch under the tenant rules, for ECDSA, and from the CLI', () => {
  it('one decision for the whole batch: allowed and signed, or blocked before any party', async () => {
    const tenant = `batch-${Date.now().toString(36)}`;
    const w = await client.createWallet({ tenant, threshold: 2, parties: 3 });
    await client.publishRules({
      tenant,
      text: JSON.stringify({
        version: 1,
        defaultOutcome: 'allow',
        rules: [
          {
            name: 'deny-listed destination',
            conditions: { all: [{ fact: 'destination', operator: 'inDenyList', value: true }] },
            event: { type: 'block', params: { reason: 'destination {{destination}} is on the deny list' } },
          },
        ],
      }),
      config: { denyList: ['Bad1111111111111111111111111111111111111111'], prices: { SOL: '150' } },
    });
    const items = [{ message: message32() }, { message: message32(), path: 'm/1' }];
    const tx = (destination: string) => ({ chain: 'solana', asset: 'SOL', amount: '1', destination });
    // described like any request once rules are published
    expect((await refusal(client.signBatch({ tenant, walletId: w.walletId, items }))).code).toBe('BAD_INPUT');
    const ok = await client.signBatch({
      tenant,
      walletId: w.walletId,
      items,
      tx: tx('Dest1111111111111111111111111111111111111111'),
    });
    expect(ok.policy?.outcome).toBe('allow');
    expect(
      ok.signatures.map((s) =>
        verifyIndependently('frost-ed25519', s.signature, bytes(s.message), s.publicKey),
      ),
    ).toEqual([true, true]);
    const blocked = await refusal(
      client.signBatch({
        tenant,
        walletId: w.walletId,
        items,
        tx: tx('Bad1111111111111111111111111111111111111111'),
      }),
    );
    expect(blocked.code).toBe('POLICY_BLOCKED');
  });

  it('refuses a batch for a threshold ECDSA wallet with a clear error', async () => {
    const w = await client.createWallet({ scheme: 'dkls23-secp256k1', threshold: 2, parties: 3 });
    const err = await refusal(
      client.signBatch({ walletId: w.walletId, items: [{ message: message32() }, { message: message32() }] }),
    );
    expect(err.code).toBe('BAD_INPUT');
    expect(err.message).toMatch(/batch signing is built for FROST schemes/);
  });

  it('conclave sign --batch FILE prints every signature', async () => {
    const w = await client.createWallet({ curve: 'ed25519', threshold: 2, parties: 3 });
    const file = join(tmpdir(), `batch-${Date.now()}.json`);
    const items = [{ message: message32(), path: 'm/3' }, { message: message32() }, { message: message32() }];
    writeFileSync(file, JSON.stringify(items));
    const r = await conclave(['sign', '--wallet', w.walletId, '--batch', file, '--json']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const out = json(r) as {
      signatures: { message: string; path: string; publicKey: string; signature: string }[];
    };
    expect(out.signatures.map((s) => [s.message, s.path])).toEqual(
      items.map((i) => [i.message, i.path ?? 'm']),
    );
    for (const s of out.signatures)
      expect(verifyIndependently('frost-ed25519', s.signature, bytes(s.message), s.publicKey)).toBe(true);
    const text = await conclave(['sign', '--wallet', w.walletId, '--batch', file, '--message', message32()]);
    expect(text.code).not.toBe(0);
    expect(text.stderr).toMatch(/--batch names each item's message and path; drop --message/);
  });
});
