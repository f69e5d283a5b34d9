import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { ed25519, x25519 } from '@noble/curves/ed25519.js';
import { numberToBytesLE } from '@noble/curves/utils.js';
import { hkdf } from '@noble/hashes/hkdf.js';
import { sha256 as nobleSha256 } from '@noble/hashes/sha2.js';
import { concatBytes } from '@noble/hashes/utils.js';
import { describe, expect, it } from 'vitest';
import { ConclaveError, CulpritError } from '../../src/errors.js';
import { encodeFields, fromHex, toHex, utf8 } from '../../src/crypto/encoding.js';
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

// ---- envelopes as noble sealed and opened them before (X25519, Ed25519 on noble) ---------------

const headerBytes = (h: EnvelopeHeader) =>
  encodeFields(['conclave/envelope/v1/header', h.tenant, h.ceremonyId, h.round, h.type, h.from, h.to]);
const signedBytes = (h: EnvelopeHeader, b: Uint8Array, d?: { epk: Uint8Array; nonce: Uint8Array }) =>
  encodeFields([
    'conclave/envelope/v1/sig',
    d ? 'direct' : 'broadcast',
    h.tenant,
    h.ceremonyId,
    h.round,
    h.type,
    h.from,
    h.to,
    b,
    d ? d.epk : new Uint8Array(0),
    d ? d.nonce : new Uint8Array(0),
  ]);
const envelopeKey = (shared: Uint8Array, h: EnvelopeHeader, epk: Uint8Array, recipientPub: Uint8Array) =>
  hkdf(
    nobleSha256,
    shared,
    nobleSha256(headerBytes(h)),
    concatBytes(utf8('conclave/envelope/v1'), epk, recipientPub),
    32,
  );

/** sealDirect as it was, on noble's X25519 and Ed25519 (`hex`: a body sealed before base64). */
function nobleSealDirect(
  h: EnvelopeHeader,
  plain: Uint8Array,
  identitySecret: Uint8Array,
  to: Uint8Array,
  hex = false,
) {
  const eph = x25519.utils.randomSecretKey();
  const epk = x25519.getPublicKey(eph);
  const key = envelopeKey(x25519.getSharedSecret(eph, to), h, epk, to);
  const nonce = new Uint8Array(randomBytes(12));
  const cipher = createCipheriv('aes-256-gcm', key, nonce);
  cipher.setAAD(encodeFields([headerBytes(h), epk]));
  const ct = new Uint8Array(Buffer.concat([cipher.update(plain), cipher.final(), cipher.getAuthTag()]));
  const sig = ed25519.sign(signedBytes(h, ct, { epk, nonce }), identitySecret);
  const bodyField = hex
    ? { body: toHex(ct) }
    : { body: Buffer.from(ct).toString('base64'), enc: 'base64' as const };
  return { ...h, ...bodyField, epk: toHex(epk), nonce: toHex(nonce), sig: toHex(sig) };
}

/** openEnvelope's checks and decryption for a direct envelope, on noble. */
function nobleOpenDirect(env: Envelope, identityPublic: Uint8Array, transportSecret: Uint8Array): Uint8Array {
  const ct = envelopeBytes(env);
  const epk = fromHex(env.epk!, 'epk');
  const nonce = fromHex(env.nonce!, 'nonce');
  const ok = ed25519.verify(fromHex(env.sig, 'sig'), signedBytes(env, ct, { epk, nonce }), identityPublic, {
    zip215: false,
  });
  if (!ok) throw new Error('bad signature');
  const key = envelopeKey(
    x25519.getSharedSecret(transportSecret, epk),
    env,
    epk,
    x25519.getPublicKey(transportSecret),
  );
  const decipher = createDecipheriv('aes-256-gcm', key, nonce);
  decipher.setAAD(encodeFields([headerBytes(env), epk]));
  decipher.setAuthTag(ct.subarray(ct.length - 16));
  return new Uint8Array(Buffer.concat([decipher.update(ct.subarray(0, ct.length - 16)), decipher.final()]));
}

// The X25519 public keys of small order, and other spellings of them (top bit set, u + p).
const P25519 = 2n ** 255n - 19n;
const smallOrderU = [
  0n,
  1n,
  P25519 - 1n,
  325606250916557431795983626356110631294008115727848805560023387167927233504n,
  39382357235489614581723060781553021112529911719440698176882885853963445705823n,
].flatMap((u) => {
  const spellings = [numberToBytesLE(u, 32)];
  const top = numberToBytesLE(u, 32);
  top[31] = (top[31] as number) | 0x80;
  spellings.push(top);
  if (u + P25519 < 2n ** 255n) spellings.push(numberToBytesLE(u + P25519, 32));
  return spellings;
});

describe('envelopes sealed and opened with noble primitives (before Node OpenSSL)', () => {
  it('a direct envelope sealed with noble opens, base64 and hex bodies', () => {
    for (const hex of [false, true]) {
      const env = nobleSealDirect(direct, body, alice.identitySecret, bob.transportPublic, hex);
      expect(
        openEnvelope(
          JSON.parse(JSON.stringify(env)) as Envelope,
          direct,
          alice.identityPublic,
          bob.transportSecret,
        ),
      ).toEqual(body);
      // and again, the recipient's transport key now cached
      expect(openEnvelope(env, direct, alice.identityPublic, bob.transportSecret)).toEqual(body);
    }
  });

  it('a direct envelope sealed now opens with noble', () => {
    for (let i = 0; i < 5; i++) {
      const env = sealDirect(direct, body, alice.identitySecret, bob.transportPublic);
      expect(nobleOpenDirect(env, alice.identityPublic, bob.transportSecret)).toEqual(body);
    }
  });

  it('a broadcast carries the very signature noble makes, and a noble-signed broadcast opens', () => {
    const env = sealBroadcast(bcast, body, alice.identitySecret);
    expect(env.sig).toBe(toHex(ed25519.sign(signedBytes(bcast, body), alice.identitySecret)));
    const noble: Envelope = {
      ...bcast,
      body: toHex(body),
      sig: toHex(ed25519.sign(signedBytes(bcast, body), alice.identitySecret)),
    };
    expect(openEnvelope(noble, bcast, alice.identityPublic)).toEqual(body);
  });

  it('refuses small-order transport keys as noble does: BAD_INPUT on sealing, TAMPERED on opening', () => {
    for (const u of smallOrderU) {
      expect(() => x25519.getSharedSecret(bob.transportSecret, u)).toThrow(); // noble's verdict
      expect((errOf(() => sealDirect(direct, body, alice.identitySecret, u)) as ConclaveError).code).toBe(
        'BAD_INPUT',
      );
      // a well-signed message whose ephemeral key is of small order
      const env = sealDirect(direct, body, alice.identitySecret, bob.transportPublic);
      const ct = envelopeBytes(env);
      const nonce = fromHex(env.nonce!, 'nonce');
      const forged: Envelope = {
        ...env,
        epk: toHex(u),
        sig: toHex(ed25519.sign(signedBytes(direct, ct, { epk: u, nonce }), alice.identitySecret)),
      };
      expectCulprit(
        () => openEnvelope(forged, direct, alice.identityPublic, bob.transportSecret),
        'TAMPERED',
        'alice',
        /undecryptable/,
      );
    }
    expect(
      (
        errOf(() =>
          sealDirect(direct, body, alice.identitySecret, bob.transportPublic.subarray(0, 31)),
        ) as ConclaveError
      ).code,
    ).toBe('BAD_INPUT');
  });

  it('reads a transport key with its top bit set, or spelled u + p, as noble does', () => {
    // the sender's view of bob's key changes the derived key (it is in the KDF info), so bob
    // cannot decrypt it, either way; the shared secret itself is the same as noble's
    const top = Uint8Array.from(bob.transportPublic);
    top[31] = (top[31] as number) | 0x80;
    const env = sealDirect(direct, body, alice.identitySecret, top);
    expectCulprit(
      () => openEnvelope(env, direct, alice.identityPublic, bob.transportSecret),
      'TAMPERED',
      'alice',
      /undecryptable/,
    );
    expect(() => nobleOpenDirect(env, alice.identityPublic, bob.transportSecret)).toThrow();
    // decrypting as if bob's key had been given with its top bit: the same shared secret as noble's
    const epk = fromHex(env.epk!, 'epk');
    const key = envelopeKey(x25519.getSharedSecret(bob.transportSecret, epk), direct, epk, top);
    const ct = envelopeBytes(env);
    const decipher = createDecipheriv('aes-256-gcm', key, fromHex(env.nonce!, 'nonce'));
    decipher.setAAD(encodeFields([headerBytes(direct), epk]));
    decipher.setAuthTag(ct.subarray(ct.length - 16));
    expect(
      new Uint8Array(Buffer.concat([decipher.update(ct.subarray(0, ct.length - 16)), decipher.final()])),
    ).toEqual(body);
  });
});
