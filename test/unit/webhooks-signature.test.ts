/**
 * Standard Webhooks signing and verification (src/webhooks/signature.ts).
 *
 * Published vectors are checked byte for byte; every other signature is also checked by an
 * independent implementation (@noble/hashes for HMAC-SHA256, node:crypto / OpenSSL for Ed25519), so a
 * mistake shared by the signer and the verifier in the module cannot pass unnoticed.
 */
import { createPublicKey, verify as nodeVerify } from 'node:crypto';
import { hmac } from '@noble/hashes/hmac.js';
import { ED25519_TORSION_SUBGROUP, ed25519 } from '@noble/curves/ed25519.js';
import { bytesToNumberLE, numberToBytesLE } from '@noble/curves/utils.js';
import { sha256, sha512 } from '@noble/hashes/sha2.js';
import { describe, expect, it } from 'vitest';
import {
  generateWebhookSecret,
  generateWebhookSigningKey,
  signWebhook,
  verifyWebhook,
  webhookHeaders,
  WebhookVerificationError,
  type WebhookHeadersInput,
  type WebhookVerificationFailure,
} from '../../src/webhooks/signature.js';
import { readVectors, titled } from './vectors.js';

interface Vector {
  /** Which published test it is; where that is, is in the file's "source" under this name. */
  name: string;
  secret: string;
  /** What a receiver verifies with: the secret itself (v1) or the public key (v1a). */
  verifyKey: string;
  id: string;
  timestamp: number;
  body: string;
  signature: string;
}

const VECTORS = readVectors<{ source: Record<string, string>; vectors: Vector[] }>(
  'standard-webhooks.json',
).vectors;

const HMAC_VECTOR = VECTORS.find((v) => v.name === 'standard-webhooks javascript reference test')!;
const ED_VECTOR = VECTORS.find((v) => v.name === 'svix-webhooks asymmetric signing test')!;

function b64(text: string): Uint8Array {
  return new Uint8Array(Buffer.from(text, 'base64'));
}

/** Independent check of one `v1`/`v1a` entry against the signed content, outside the module. */
function independentlyValid(
  key: string,
  id: string,
  timestamp: number,
  body: string,
  entry: string,
): boolean {
  const content = `${id}.${timestamp}.${body}`;
  const [version, sig = ''] = entry.split(',');
  if (version === 'v1' && key.startsWith('whsec_')) {
    const mac = hmac(sha256, b64(key.slice(6)), new TextEncoder().encode(content));
    return Buffer.from(mac).toString('base64') === sig;
  }
  if (version === 'v1a' && key.startsWith('whpk_')) {
    const x = Buffer.from(key.slice(5), 'base64').toString('base64url');
    const publicKey = createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x }, format: 'jwk' });
    return nodeVerify(null, Buffer.from(content, 'utf8'), publicKey, Buffer.from(sig, 'base64'));
  }
  return false;
}

/** The failure reason, or undefined when the call succeeded; other errors propagate. */
function failure(fn: () => unknown): WebhookVerificationFailure | undefined {
  try {
    fn();
  } catch (error) {
    if (error instanceof WebhookVerificationError) return error.reason;
    throw error;
  }
  return undefined;
}

function headersFor(v: Vector, signature = v.signature): Record<string, string> {
  return { 'webhook-id': v.id, 'webhook-timestamp': String(v.timestamp), 'webhook-signature': signature };
}

describe('published vectors', () => {
  it.each(titled(VECTORS, (v) => v.name))('%s: signs to the published signature', (_title, v) => {
    expect(signWebhook({ id: v.id, timestamp: v.timestamp, body: v.body }, v.secret)).toBe(v.signature);
    expect(independentlyValid(v.verifyKey, v.id, v.timestamp, v.body, v.signature)).toBe(true);
  });

  it.each(titled(VECTORS, (v) => v.name))('%s: webhookHeaders carries it', (_title, v) => {
    expect(webhookHeaders(v.id, v.timestamp, v.body, [v.secret])).toEqual(headersFor(v));
  });

  it.each(titled(VECTORS, (v) => v.name))('%s: verifies as string and as bytes', (_title, v) => {
    const expected = { id: v.id, timestamp: v.timestamp };
    expect(verifyWebhook(headersFor(v), v.body, v.verifyKey, { now: v.timestamp })).toEqual(expected);
    expect(verifyWebhook(headersFor(v), Buffer.from(v.body), v.verifyKey, { now: v.timestamp })).toEqual(
      expected,
    );
  });

  it.each(titled(VECTORS, (v) => v.name))('%s: one flipped signature bit is refused', (_title, v) => {
    const [version, sig] = v.signature.split(',') as [string, string];
    const bytes = b64(sig);
    bytes[5]! ^= 0x01;
    const flipped = `${version},${Buffer.from(bytes).toString('base64')}`;
    expect(
      failure(() => verifyWebhook(headersFor(v, flipped), v.body, v.verifyKey, { now: v.timestamp })),
    ).toBe('no-matching-signature');
  });

  it('the whsk_ vector key pair is consistent: its public half is the whpk_ key', () => {
    expect(b64(ED_VECTOR.secret.slice(5)).subarray(32)).toEqual(b64(ED_VECTOR.verifyKey.slice(5)));
  });

  it('a spec-style header with a v1 and a v1a entry verifies under either key alone', () => {
    const both = webhookHeaders(HMAC_VECTOR.id, HMAC_VECTOR.timestamp, HMAC_VECTOR.body, [
      HMAC_VECTOR.secret,
      ED_VECTOR.secret,
    ]);
    expect(both['webhook-signature']).toBe(`${HMAC_VECTOR.signature} ${ED_VECTOR.signature}`);
    for (const key of [HMAC_VECTOR.verifyKey, ED_VECTOR.verifyKey]) {
      expect(failure(() => verifyWebhook(both, HMAC_VECTOR.body, key, { now: HMAC_VECTOR.timestamp }))).toBe(
        undefined,
      );
    }
  });
});

describe('key generation', () => {
  it('generateWebhookSecret: whsec_ + base64 of 32 random bytes, usable for signing', () => {
    const a = generateWebhookSecret();
    const b = generateWebhookSecret();
    expect(a).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    expect(b64(a.slice(6))).toHaveLength(32);
    expect(a).not.toBe(b);
    const sig = signWebhook({ id: 'msg_1', timestamp: 1700000000, body: '{}' }, a);
    expect(independentlyValid(a, 'msg_1', 1700000000, '{}', sig)).toBe(true);
  });

  it('generateWebhookSigningKey: whsk_ = seed || public key, whpk_ verifies independently', () => {
    const { secretKey, publicKey } = generateWebhookSigningKey();
    expect(secretKey).toMatch(/^whsk_[A-Za-z0-9+/]{86}==$/);
    expect(publicKey).toMatch(/^whpk_[A-Za-z0-9+/]{43}=$/);
    expect(b64(secretKey.slice(5)).subarray(32)).toEqual(b64(publicKey.slice(5)));
    expect(generateWebhookSigningKey().publicKey).not.toBe(publicKey);
    const sig = signWebhook({ id: 'msg_1', timestamp: 1700000000, body: '{"a":1}' }, secretKey);
    expect(sig.startsWith('v1a,')).toBe(true);
    expect(independentlyValid(publicKey, 'msg_1', 1700000000, '{"a":1}', sig)).toBe(true);
  });
});

const NOW = 1_700_000_000;
const BODY = '{"type":"ceremony.completed","data":{"walletId":"w_1","note":"caf\u00e9 \u{1F510}"}}';
const ID = 'msg_2KWPBgLlAfxdpx2AI54pPJ85f4W';

function freshHmac(): { sign: string; verify: string } {
  const secret = generateWebhookSecret();
  return { sign: secret, verify: secret };
}
function freshEd25519(): { sign: string; verify: string } {
  const { secretKey, publicKey } = generateWebhookSigningKey();
  return { sign: secretKey, verify: publicKey };
}

describe.each([
  ['HMAC-SHA256 (v1)', freshHmac],
  ['Ed25519 (v1a)', freshEd25519],
])('%s', (_name, fresh) => {
  const key = fresh();
  const other = fresh();
  const headers = webhookHeaders(ID, NOW, BODY, [key.sign]);
  const verify = (
    h: WebhookHeadersInput,
    body: string | Uint8Array = BODY,
    secret: string | string[] = key.verify,
  ) => verifyWebhook(h, body, secret, { now: NOW });

  it('round trip, confirmed independently', () => {
    expect(verify(headers)).toEqual({ id: ID, timestamp: NOW });
    expect(independentlyValid(key.verify, ID, NOW, BODY, headers['webhook-signature'])).toBe(true);
  });

  it.each([
    ['tampered body', { ...headers }, BODY.replace('w_1', 'w_2')],
    ['body re-serialized as JSON', { ...headers }, JSON.stringify(JSON.parse(BODY), null, 1)],
    ['tampered id', { ...headers, 'webhook-id': `${ID}x` }, BODY],
    ['tampered timestamp', { ...headers, 'webhook-timestamp': String(NOW + 1) }, BODY],
  ])('%s is refused', (_case, h, body) => {
    expect(failure(() => verify(h, body))).toBe('no-matching-signature');
  });

  it('a different key is refused', () => {
    expect(failure(() => verify(headers, BODY, other.verify))).toBe('no-matching-signature');
  });

  it('rotation: signed with old and new, verifies with either, or with both', () => {
    const rotated = webhookHeaders(ID, NOW, BODY, [key.sign, other.sign]);
    expect(rotated['webhook-signature'].split(' ')).toHaveLength(2);
    for (const secret of [
      key.verify,
      other.verify,
      [other.verify, key.verify],
      [fresh().verify, other.verify],
    ]) {
      expect(verify(rotated, BODY, secret)).toEqual({ id: ID, timestamp: NOW });
    }
    expect(failure(() => verify(rotated, BODY, [fresh().verify, fresh().verify]))).toBe(
      'no-matching-signature',
    );
  });

  it('fetch Headers, mixed-case plain keys and Node-style arrays all work', () => {
    const mixed = {
      'Webhook-Id': headers['webhook-id'],
      'WEBHOOK-TIMESTAMP': [headers['webhook-timestamp']],
      'webhook-Signature': headers['webhook-signature'],
      'content-type': 'application/json',
      'x-absent': undefined,
    };
    const mixedHeaders = new Headers([
      ['Webhook-Id', headers['webhook-id']],
      ['WEBHOOK-TIMESTAMP', headers['webhook-timestamp']],
      ['webhook-Signature', headers['webhook-signature']],
    ]);
    for (const h of [new Headers(headers), mixedHeaders, mixed]) {
      expect(verify(h)).toEqual({ id: ID, timestamp: NOW });
    }
  });

  it('Uint8Array bodies: Buffer, plain Uint8Array, and a view at an offset', () => {
    const bytes = new TextEncoder().encode(BODY);
    const padded = new Uint8Array(bytes.length + 7);
    padded.set(bytes, 3);
    for (const body of [Buffer.from(BODY, 'utf8'), bytes, padded.subarray(3, 3 + bytes.length)]) {
      expect(verify(headers, body)).toEqual({ id: ID, timestamp: NOW });
    }
    expect(failure(() => verify(headers, padded))).toBe('no-matching-signature');
  });
});

describe('bodies', () => {
  const secret = HMAC_VECTOR.secret;
  const sign = (body: string) => webhookHeaders(ID, NOW, body, [secret]);

  it('a leading BOM is part of the body (not stripped on decode)', () => {
    const body = '\uFEFF{"a":1}';
    const bytes = new TextEncoder().encode(body);
    expect(bytes[0]).toBe(0xef);
    expect(verifyWebhook(sign(body), bytes, secret, { now: NOW })).toEqual({ id: ID, timestamp: NOW });
    expect(failure(() => verifyWebhook(sign('{"a":1}'), bytes, secret, { now: NOW }))).toBe(
      'no-matching-signature',
    );
  });

  it('invalid UTF-8 bytes are refused rather than decoded with replacement characters', () => {
    const h = sign('{"a":"\uFFFD"}');
    const bytes = new Uint8Array([
      ...new TextEncoder().encode('{"a":"'),
      0xff,
      ...new TextEncoder().encode('"}'),
    ]);
    expect(verifyWebhook(h, '{"a":"\uFFFD"}', secret, { now: NOW })).toBeDefined();
    expect(failure(() => verifyWebhook(h, bytes, secret, { now: NOW }))).toBe('no-matching-signature');
  });

  it('whitespace around the body is signed too', () => {
    const body = '  {"a":1}\n';
    const h = sign(body);
    expect(independentlyValid(secret, ID, NOW, body, h['webhook-signature'])).toBe(true);
    expect(failure(() => verifyWebhook(h, body.trim(), secret, { now: NOW }))).toBe('no-matching-signature');
  });

  it('an empty body signs and verifies', () => {
    expect(verifyWebhook(sign(''), new Uint8Array(0), secret, { now: NOW })).toEqual({
      id: ID,
      timestamp: NOW,
    });
  });
});

describe('timestamp tolerance', () => {
  const secret = HMAC_VECTOR.secret;
  const at = (timestamp: number) => webhookHeaders(ID, timestamp, BODY, [secret]);
  it.each([
    ['exactly now', NOW, undefined, undefined],
    ['300 s old (boundary)', NOW - 300, undefined, undefined],
    ['301 s old', NOW - 301, undefined, 'too-old'],
    ['300 s ahead (boundary)', NOW + 300, undefined, undefined],
    ['301 s ahead', NOW + 301, undefined, 'too-new'],
    ['an hour old', NOW - 3600, undefined, 'too-old'],
    ['tolerance 0, now', NOW, 0, undefined],
    ['tolerance 0, 1 s old', NOW - 1, 0, 'too-old'],
    ['tolerance 0, 1 s ahead', NOW + 1, 0, 'too-new'],
    ['tolerance 3600, 3600 s old', NOW - 3600, 3600, undefined],
    ['epoch 0', 0, undefined, 'too-old'],
  ] as const)('%s', (_case, timestamp, toleranceSeconds, expected) => {
    const opts = toleranceSeconds === undefined ? { now: NOW } : { now: NOW, toleranceSeconds };
    expect(failure(() => verifyWebhook(at(timestamp), BODY, secret, opts))).toBe(expected);
  });

  it('defaults to the system clock', () => {
    const now = Math.floor(Date.now() / 1000);
    expect(failure(() => verifyWebhook(at(now), BODY, secret))).toBe(undefined);
    expect(failure(() => verifyWebhook(at(now - 1000), BODY, secret))).toBe('too-old');
  });
});

describe('malformed headers', () => {
  const v = HMAC_VECTOR;
  const good = headersFor(v);
  const check = (h: WebhookHeadersInput) =>
    failure(() => verifyWebhook(h, v.body, v.verifyKey, { now: v.timestamp }));

  it.each(['webhook-id', 'webhook-timestamp', 'webhook-signature'])('missing %s', (name) => {
    const h: Record<string, string | undefined> = { ...good };
    delete h[name];
    expect(check(h)).toBe('missing-headers');
    expect(check({ ...good, [name]: '' })).toBe('missing-headers');
    expect(check({ ...good, [name]: undefined })).toBe('missing-headers');
    expect(check(new Headers(h as Record<string, string>))).toBe('missing-headers');
    expect(check(new Headers({ ...good, [name]: '' }))).toBe('missing-headers');
  });

  it.each([
    ['two keys differing in case', { ...good, 'Webhook-Id': 'msg_other' }],
    ['an array of two values', { ...good, 'webhook-signature': [v.signature, v.signature] }],
    ['an empty array', { ...good, 'webhook-id': [] }],
    ['no headers at all', {}],
  ])('ambiguous or absent: %s', (_case, h) => {
    expect(check(h)).toBe('missing-headers');
  });

  it.each([
    ['contains "."', 'msg.1'],
    ['contains a space', 'msg 1'],
    ['non-ASCII', 'msg_\u00e9'],
    ['control character', 'msg_\u0001'],
    ['257 characters', 'm'.repeat(257)],
  ])('webhook-id %s', (_case, id) => {
    expect(check({ ...good, 'webhook-id': id })).toBe('missing-headers');
  });

  it.each([
    'hello',
    '-1614265330',
    '+1614265330',
    '01614265330',
    '1614265330.0',
    '1.6e9',
    ' 1614265330',
    '0x10',
  ])('webhook-timestamp %j', (timestamp) => {
    expect(check({ ...good, 'webhook-timestamp': timestamp })).toBe('bad-timestamp');
  });
});

describe('signature entries', () => {
  const v = HMAC_VECTOR;
  const sig = v.signature.slice(3); // base64 part
  const check = (signature: string, key = v.verifyKey) =>
    failure(() => verifyWebhook(headersFor(v, signature), v.body, key, { now: v.timestamp }));

  it.each([
    ['unknown version v2 with the right MAC', `v2,${sig}`],
    ['right MAC labelled v1a', `v1a,${sig}`],
    ['upper-case version', `V1,${sig}`],
    ['no comma', `v1${sig}`],
    ['empty signature', 'v1,'],
    ['version only', 'v1'],
    ['short garbage (reference test)', 'v1,dawfeoifkpqwoekfpqoekf'],
    ['truncated', v.signature.slice(0, 8)],
    ['missing padding', `v1,${sig.replace(/=+$/, '')}`],
    ['non-canonical last character (decodes to the same bytes leniently)', `v1,${sig.replace(/E=$/, 'F=')}`],
    ['trailing comma field', `v1,${sig},extra`],
    ['url-safe alphabet', `v1,${sig.replace(/\+/g, '-').replace(/\//g, '_')}`],
    [
      'other MACs only (rust reference test)',
      'v1,tFtCZ5RDCPxzWQRWXWPgrCgE2frDBe9gjpbWQxnVfsQ= v1,Mm7xgUVICxZfQ3bgf0h0Dof65L/IFx+PnZvnDWPCX6Q=',
    ],
  ])('refused: %s', (_case, signature) => {
    expect(check(signature)).toBe('no-matching-signature');
  });

  it('the lenient decoders would have accepted the non-canonical form', () => {
    expect(Buffer.from(sig.replace(/E=$/, 'F='), 'base64')).toEqual(Buffer.from(sig, 'base64'));
  });

  it('malformed and foreign entries around a valid one are skipped (reference multi-sig test)', () => {
    const entries = [
      'v1,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc=',
      'v2,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc=',
      'v1,',
      'garbage',
      ED_VECTOR.signature,
      v.signature,
      'v1,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc=',
    ];
    expect(check(entries.join(' '))).toBe(undefined);
    expect(check(entries.join('  '))).toBe(undefined);
  });

  it('a v1a signature is not checked against a whsec_ secret, nor v1 against a whpk_ key', () => {
    expect(check(ED_VECTOR.signature)).toBe('no-matching-signature');
    expect(check(v.signature, ED_VECTOR.verifyKey)).toBe('no-matching-signature');
  });

  it('more than 32 entries is refused outright', () => {
    const filler = Array.from({ length: 32 }, () => 'v1,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc=');
    expect(check([...filler.slice(1), v.signature].join(' '))).toBe(undefined);
    expect(check([...filler, v.signature].join(' '))).toBe('no-matching-signature');
  });
});

describe('secrets', () => {
  const v = HMAC_VECTOR;
  const noncanonicalPoint = `whpk_${Buffer.from([0xed, ...new Array<number>(30).fill(0xff), 0x7f]).toString('base64')}`;
  const rotten = ED_VECTOR.secret.replace('LlX0dRqSKJp4', 'Llaaaaaaaaaa'); // svix-webhooks types/mod.rs test

  it.each([
    ['no prefix (reference libraries accept this; we do not)', 'MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw'],
    ['wrong prefix', 'hwsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD'],
    ['empty whsec_', 'whsec_'],
    ['not base64', 'whsec_%'],
    ['unpadded base64', 'whsec_wronglength'],
    ['16-byte whsec_', `whsec_${Buffer.alloc(16, 1).toString('base64')}`],
    ['65-byte whsec_', `whsec_${Buffer.alloc(65, 1).toString('base64')}`],
    ['whsk_ signing key given to the verifier', ED_VECTOR.secret],
    ['31-byte whpk_', `whpk_${Buffer.alloc(31, 1).toString('base64')}`],
    [
      'whpk_ of the identity point (small order)',
      `whpk_${Buffer.from(ED25519_TORSION_SUBGROUP[0]!, 'hex').toString('base64')}`,
    ],
    ['whpk_ that is not a canonical point', noncanonicalPoint],
    ['empty list', []],
  ])('verify refuses %s', (_case, secret) => {
    expect(failure(() => verifyWebhook(headersFor(v), v.body, secret, { now: v.timestamp }))).toBe(
      'bad-secret',
    );
    // Configuration is checked before the request, so a bad secret shows even on a bad request.
    expect(failure(() => verifyWebhook({}, v.body, secret))).toBe('bad-secret');
  });

  it('one bad secret in a rotation list is refused even if another would verify', () => {
    expect(
      failure(() => verifyWebhook(headersFor(v), v.body, [v.verifyKey, 'nope'], { now: v.timestamp })),
    ).toBe('bad-secret');
  });

  it.each([
    ['a whpk_ public key', ED_VECTOR.verifyKey],
    ['no prefix', 'MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw'],
    ['a whsk_ key whose public half does not match its seed', rotten],
    ['a 48-byte whsk_', `whsk_${Buffer.alloc(48, 1).toString('base64')}`],
  ])('signing refuses %s', (_case, secret) => {
    expect(failure(() => signWebhook({ id: v.id, timestamp: v.timestamp, body: v.body }, secret))).toBe(
      'bad-secret',
    );
  });

  it('signing needs at least one secret', () => {
    expect(failure(() => webhookHeaders(v.id, v.timestamp, v.body, []))).toBe('bad-secret');
  });

  it('a bare 32-byte whsk_ seed signs like the seed || public key form', () => {
    const seedOnly = `whsk_${Buffer.from(b64(ED_VECTOR.secret.slice(5)).subarray(0, 32)).toString('base64')}`;
    expect(
      signWebhook({ id: ED_VECTOR.id, timestamp: ED_VECTOR.timestamp, body: ED_VECTOR.body }, seedOnly),
    ).toBe(ED_VECTOR.signature);
  });

  it('errors carry a reason and never the key material', () => {
    let caught: unknown;
    try {
      verifyWebhook(headersFor(v), v.body, 'whsec_short', { now: v.timestamp });
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(WebhookVerificationError);
    expect(caught).toBeInstanceOf(Error);
    expect((caught as WebhookVerificationError).name).toBe('WebhookVerificationError');
    expect((caught as WebhookVerificationError).message).not.toContain('short');
  });
});

describe('Ed25519 verification uses strict RFC 8032 encodings, not ZIP-215', () => {
  // R = identity point written non-canonically (y = p + 1), S = k * a: the signer's own key makes the
  // equation hold, so only the encoding rule decides. ZIP-215 accepts y >= p; RFC 8032 does not.
  const v = ED_VECTOR;
  const content = new TextEncoder().encode(`${v.id}.${v.timestamp}.${v.body}`);
  const { scalar: a, pointBytes: A } = ed25519.utils.getExtendedPublicKey(
    b64(v.secret.slice(5)).subarray(0, 32),
  );
  const L = ed25519.Point.CURVE().n;
  const R = new Uint8Array([0xee, ...new Array<number>(30).fill(0xff), 0x7f]);
  const k = bytesToNumberLE(sha512(new Uint8Array([...R, ...A, ...content]))) % L;
  const sig = new Uint8Array([...R, ...numberToBytesLE((k * a) % L, 32)]);
  const entry = `v1a,${Buffer.from(sig).toString('base64')}`;

  it('the crafted signature separates the two rules', () => {
    expect(ed25519.verify(sig, content, A, { zip215: true })).toBe(true);
    expect(ed25519.verify(sig, content, A, { zip215: false })).toBe(false);
  });

  it('verifyWebhook refuses it', () => {
    expect(
      failure(() => verifyWebhook(headersFor(v, entry), v.body, v.verifyKey, { now: v.timestamp })),
    ).toBe('no-matching-signature');
  });
});

describe('signing input', () => {
  it.each([
    ['id with "."', { id: 'msg.1', timestamp: NOW, body: '' }, 'missing-headers'],
    ['empty id', { id: '', timestamp: NOW, body: '' }, 'missing-headers'],
    ['fractional timestamp', { id: 'msg_1', timestamp: NOW + 0.5, body: '' }, 'bad-timestamp'],
    [
      'timestamp beyond the safe integer range',
      { id: 'msg_1', timestamp: 2 ** 53, body: '' },
      'bad-timestamp',
    ],
    ['negative timestamp', { id: 'msg_1', timestamp: -1, body: '' }, 'bad-timestamp'],
    ['NaN timestamp', { id: 'msg_1', timestamp: Number.NaN, body: '' }, 'bad-timestamp'],
  ] as const)('refuses %s', (_case, input, reason) => {
    expect(failure(() => signWebhook(input, HMAC_VECTOR.secret))).toBe(reason);
  });
});
