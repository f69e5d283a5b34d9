import { describe, expect, it } from 'vitest';
import { ConclaveError, CulpritError } from '../../src/errors.js';
import { fromHex, toHex, utf8 } from '../../src/crypto/encoding.js';
import {
  openEnvelope,
  sealBroadcast,
  sealDirect,
  type Envelope,
  type EnvelopeHeader,
} from '../../src/crypto/envelope.js';
import { generatePartyKeys } from '../../src/crypto/identity.js';

const alice = generatePartyKeys();
const bob = generatePartyKeys();
const carol = generatePartyKeys();

const bcast: EnvelopeHeader = {
  tenant: 't1',
  ceremonyId: 'c1',
  round: 'dkg-1',
  type: 'round1',
  from: 'alice',
  to: '*',
};
const direct: EnvelopeHeader = { ...bcast, round: 'dkg-2', type: 'round2-share', to: 'bob' };
const body = utf8('{"secret-ish":"payload"}');

function errOf(fn: () => unknown): unknown {
  try {
    fn();
  } catch (e) {
    return e;
  }
  throw new Error('expected a throw');
}

function expectCulprit(fn: () => unknown, code: string, culprit: string, msg?: RegExp) {
  const e = errOf(fn);
  expect(e).toBeInstanceOf(CulpritError);
  expect((e as CulpritError).code).toBe(code);
  expect((e as CulpritError).culprit).toBe(culprit);
  if (msg) expect((e as Error).message).toMatch(msg);
}

function flipHex(hex: string, byte: number): string {
  const b = fromHex(hex, 'x');
  b[byte] = (b[byte] as number) ^ 0x01;
  return toHex(b);
}

describe('broadcast envelopes', () => {
  it('round-trips', () => {
    const env = sealBroadcast(bcast, body, alice.identitySecret);
    expect(env.to).toBe('*');
    expect(env.epk).toBeUndefined();
    expect(openEnvelope(JSON.parse(JSON.stringify(env)), bcast, alice.identityPublic)).toEqual(body);
  });

  it('rejects a flipped body byte as TAMPERED by the expected sender', () => {
    const env = sealBroadcast(bcast, body, alice.identitySecret);
    expectCulprit(
      () => openEnvelope({ ...env, body: flipHex(env.body, 3) }, bcast, alice.identityPublic),
      'TAMPERED',
      'alice',
      /bad signature on round1 message/,
    );
  });

  it('rejects a signature made with another identity key', () => {
    const forged = sealBroadcast(bcast, body, carol.identitySecret);
    expectCulprit(
      () => openEnvelope(forged, bcast, alice.identityPublic),
      'TAMPERED',
      'alice',
      /bad signature/,
    );
  });

  it('rejects replay into another ceremony, round, tenant or type, naming the sender', () => {
    const env = sealBroadcast(bcast, body, alice.identitySecret);
    for (const k of ['tenant', 'ceremonyId', 'round', 'type'] as const) {
      expectCulprit(
        () => openEnvelope(env, { ...bcast, [k]: 'other' }, alice.identityPublic),
        'REPLAY',
        'alice',
        /another ceremony or round/,
      );
    }
  });

  it('rejects a header rewritten to match the expectation (signature covers the header)', () => {
    const env = sealBroadcast(bcast, body, alice.identitySecret);
    for (const k of ['tenant', 'ceremonyId', 'round', 'type'] as const) {
      const expect2 = { ...bcast, [k]: 'other' };
      expectCulprit(
        () => openEnvelope({ ...env, [k]: 'other' }, expect2, alice.identityPublic),
        'TAMPERED',
        'alice',
        /bad signature/,
      );
    }
  });

  it('rejects from/to mismatches as TAMPERED by the expected sender', () => {
    const env = sealBroadcast(bcast, body, alice.identitySecret);
    expectCulprit(
      () => openEnvelope({ ...env, from: 'carol' }, bcast, alice.identityPublic),
      'TAMPERED',
      'alice',
    );
    expectCulprit(
      () => openEnvelope({ ...env, to: 'bob' }, bcast, alice.identityPublic),
      'TAMPERED',
      'alice',
    );
  });

  it('rejects malformed envelopes as TAMPERED, never with an untyped error', () => {
    const env = sealBroadcast(bcast, body, alice.identitySecret);
    const bad: unknown[] = [
      null,
      'str',
      { ...env, body: 'zz' },
      { ...env, sig: 'abc' },
      { ...env, epk: '00'.repeat(32) },
      { ...env, tenant: 5 },
      { ...env, body: undefined },
    ];
    for (const b of bad) {
      expectCulprit(() => openEnvelope(b as Envelope, bcast, alice.identityPublic), 'TAMPERED', 'alice');
    }
  });

  it('refuses to seal a broadcast addressed to one party', () => {
    const e = errOf(() => sealBroadcast({ ...bcast, to: 'bob' }, body, alice.identitySecret));
    expect((e as ConclaveError).code).toBe('BAD_INPUT');
  });
});

describe('direct envelopes', () => {
  it('round-trips and hides the plaintext', () => {
    const env = sealDirect(direct, body, alice.identitySecret, bob.transportPublic);
    expect(env.body).not.toContain(toHex(body));
    expect(fromHex(env.epk as string, 'epk').length).toBe(32);
    expect(fromHex(env.nonce as string, 'nonce').length).toBe(12);
    const copy = JSON.parse(JSON.stringify(env)) as Envelope;
    expect(openEnvelope(copy, direct, alice.identityPublic, bob.transportSecret)).toEqual(body);
  });

  it('uses a fresh ephemeral key and nonce per message', () => {
    const a = sealDirect(direct, body, alice.identitySecret, bob.transportPublic);
    const b = sealDirect(direct, body, alice.identitySecret, bob.transportPublic);
    expect(a.epk).not.toBe(b.epk);
    expect(a.nonce).not.toBe(b.nonce);
    expect(a.body).not.toBe(b.body);
  });

  it('rejects ciphertext, epk, nonce changes (signature check)', () => {
    const env = sealDirect(direct, body, alice.identitySecret, bob.transportPublic);
    const other = sealDirect(direct, body, alice.identitySecret, bob.transportPublic);
    const variants: Envelope[] = [
      { ...env, body: flipHex(env.body, 0) },
      { ...env, body: flipHex(env.body, fromHex(env.body, 'b').length - 1) },
      { ...env, epk: other.epk as string },
      { ...env, nonce: flipHex(env.nonce as string, 0) },
    ];
    for (const v of variants) {
      expectCulprit(
        () => openEnvelope(v, direct, alice.identityPublic, bob.transportSecret),
        'TAMPERED',
        'alice',
        /bad signature on round2-share message/,
      );
    }
  });

  it('reports a correctly signed but undecryptable message (encrypted to the wrong key) as TAMPERED', () => {
    const env = sealDirect(direct, body, alice.identitySecret, carol.transportPublic);
    expectCulprit(
      () => openEnvelope(env, direct, alice.identityPublic, bob.transportSecret),
      'TAMPERED',
      'alice',
      /undecryptable round2-share message/,
    );
  });

  it('fails to decrypt with the wrong recipient transport key', () => {
    const env = sealDirect(direct, body, alice.identitySecret, bob.transportPublic);
    expectCulprit(
      () => openEnvelope(env, direct, alice.identityPublic, carol.transportSecret),
      'TAMPERED',
      'alice',
      /undecryptable/,
    );
  });

  it('rejects a direct message replayed into another round or ceremony', () => {
    const env = sealDirect(direct, body, alice.identitySecret, bob.transportPublic);
    expectCulprit(
      () => openEnvelope(env, { ...direct, round: 'dkg-3' }, alice.identityPublic, bob.transportSecret),
      'REPLAY',
      'alice',
    );
    expectCulprit(
      () => openEnvelope(env, { ...direct, ceremonyId: 'c2' }, alice.identityPublic, bob.transportSecret),
      'REPLAY',
      'alice',
    );
  });

  it('rejects a message for bob delivered to carol, and a direct message posing as broadcast', () => {
    const env = sealDirect(direct, body, alice.identitySecret, bob.transportPublic);
    expectCulprit(
      () => openEnvelope(env, { ...direct, to: 'carol' }, alice.identityPublic, carol.transportSecret),
      'TAMPERED',
      'alice',
      /misaddressed/,
    );
    // Rewriting `to` to '*' and dropping the crypto fields does not verify either.
    const { epk: _e, nonce: _n, ...rest } = env;
    expectCulprit(() => openEnvelope({ ...rest, to: '*' }, bcast, alice.identityPublic), 'REPLAY', 'alice');
    expectCulprit(
      () => openEnvelope({ ...rest, to: '*' }, { ...direct, to: '*' }, alice.identityPublic),
      'TAMPERED',
      'alice',
      /bad signature/,
    );
  });

  it('rejects direct messages missing epk/nonce as malformed', () => {
    const env = sealDirect(direct, body, alice.identitySecret, bob.transportPublic);
    for (const v of [
      { ...env, epk: undefined },
      { ...env, nonce: undefined },
      { ...env, epk: '00' },
      { ...env, body: '00' },
    ]) {
      expectCulprit(
        () => openEnvelope(v as Envelope, direct, alice.identityPublic, bob.transportSecret),
        'TAMPERED',
        'alice',
        /malformed message/,
      );
    }
  });

  it('never throws an untyped error on randomly mutated envelopes', () => {
    const env = sealDirect(direct, body, alice.identitySecret, bob.transportPublic);
    const keys = Object.keys(env) as Array<keyof Envelope>;
    const junk: unknown[] = [undefined, null, 1, '', 'zz', '00', {}, [], env.sig, bcast.tenant];
    for (let i = 0; i < 300; i++) {
      const v: Record<string, unknown> = { ...env };
      const k = keys[i % keys.length] as string;
      v[k] = junk[Math.floor(Math.random() * junk.length)];
      let thrown: unknown;
      try {
        openEnvelope(v as unknown as Envelope, direct, alice.identityPublic, bob.transportSecret);
      } catch (e) {
        thrown = e;
      }
      if (thrown !== undefined) expect(thrown).toBeInstanceOf(ConclaveError);
    }
  });

  it('refuses to seal a direct message to "*" and to an invalid transport key', () => {
    expect(
      (errOf(() => sealDirect(bcast, body, alice.identitySecret, bob.transportPublic)) as ConclaveError).code,
    ).toBe('BAD_INPUT');
    expect(
      (errOf(() => sealDirect(direct, body, alice.identitySecret, new Uint8Array(32))) as ConclaveError).code,
    ).toBe('BAD_INPUT');
  });
});
