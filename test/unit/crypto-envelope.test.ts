import { describe, expect, it } from 'vitest';
import { ConclaveError, CulpritError } from '../../src/errors.js';
import { fromHex, toHex, utf8 } from '../../src/crypto/encoding.js';
import {
  envelopeBytes,
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

/** The envelope with byte `byte` of its body flipped, in the body's own encoding. */
function flipBody(env: Envelope, byte: number): Envelope {
  const b = envelopeBytes(env);
  b[byte] = (b[byte] as number) ^ 0x01;
  return { ...env, body: Buffer.from(b).toString('base64') };
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
      () => openEnvelope(flipBody(env, 3), bcast, alice.identityPublic),
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
    expect(env.body).not.toContain(Buffer.from(body).toString('base64'));
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
      flipBody(env, 0),
      flipBody(env, envelopeBytes(env).length - 1),
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

describe('body encodings', () => {
  it('seals base64 bodies, two thirds the size of hex', () => {
    const env = sealDirect(direct, body, alice.identitySecret, bob.transportPublic);
    expect(env.enc).toBe('base64');
    expect(env.body.length).toBe(Math.ceil((body.length + 16) / 3) * 4);
  });

  it('still opens hex bodies (envelopes sealed before, such as older backups)', () => {
    for (const [env, to, secret] of [
      [sealBroadcast(bcast, body, alice.identitySecret), bcast, undefined],
      [sealDirect(direct, body, alice.identitySecret, bob.transportPublic), direct, bob.transportSecret],
    ] as const) {
      const { enc: _enc, ...legacy } = { ...env, body: toHex(envelopeBytes(env)) };
      expect(openEnvelope(legacy, to, alice.identityPublic, secret)).toEqual(body);
    }
  });

  it('refuses a body that is not the one spelling its encoding allows, or an unknown encoding', () => {
    // 26 bytes: base64 with padding
    const env = sealBroadcast(bcast, utf8('{"secret-ish":"payload!!"}'), alice.identitySecret);
    expect(env.body).toMatch(/=$/);
    const hex = toHex(envelopeBytes(env));
    const variants: Envelope[] = [
      { ...env, body: env.body.replace(/=*$/, '') + '==' }, // padding that is not canonical
      { ...env, body: env.body.replace(/=*$/, '') }, // padding dropped
      { ...env, body: `${env.body.slice(0, 4)}\n${env.body.slice(4)}` },
      {
        ...env,
        body: env.body.replace(/\+/g, '-').replace(/\//g, '_') + (env.body.includes('+') ? '' : '-A'),
      },
      { ...env, body: hex }, // hex labelled base64
      { ...env, enc: 'hex' as never },
      { ...env, enc: undefined }, // base64 read as hex
    ];
    for (const v of variants) {
      expectCulprit(() => openEnvelope(v, bcast, alice.identityPublic), 'TAMPERED', 'alice');
    }
  });
});
