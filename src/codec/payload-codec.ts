/**
 * Temporal payload encryption: every payload the client and the workers send (ceremony inputs,
 * round messages, results, failure messages) reaches the Temporal server as AES-256-GCM
 * ciphertext. The key comes from configuration (`CONCLAVE_PAYLOAD_KEY`, 32 bytes hex); each
 * tenant gets its own key derived from it (HKDF-SHA256), and the tenant is authenticated data,
 * so a payload moved from one tenant's history to another's does not decrypt.
 *
 * The codec is enforced: decode refuses every payload that is not ours (no `encoding:
 * binary/conclave-aes-256-gcm`) with `UnencryptedPayloadError` (UNENCRYPTED_PAYLOAD), so whoever
 * reaches the Temporal server without the key cannot hand a worker or a client plaintext: a
 * workflow started with plaintext input fails its workflow tasks and never runs, an activity
 * scheduled with plaintext input fails before the activity is called, and a client refuses a
 * plaintext result. Nothing needs letting through: every payload Temporal hands to decode went
 * through an encode first (ours, in the client or a worker), as the integration tests show
 * (ceremonies, failures, updates, queries, schedules, cancellations); headers and search
 * attributes are not given to codecs, a call without arguments decodes an empty list, and
 * `binary/null` is made by the payload converter before encode. A process without the key
 * runs without the codec and says so at start (`warnWithoutPayloadKey`).
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { hkdf } from '@noble/hashes/hkdf.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { DefaultFailureConverter, type Payload, type PayloadCodec } from '@temporalio/common';
import { fileURLToPath } from 'node:url';
import { ConclaveError, UnencryptedPayloadError } from '../errors.js';

export const encryptedEncoding = 'binary/conclave-aes-256-gcm';
const utf8 = new TextEncoder();
const fromUtf8 = new TextDecoder();

/** The tenant a payload belongs to: the `tenant` field of a JSON object payload, or '' (none). */
function tenantOf(p: Payload): string {
  const encoding = textOf(p.metadata?.encoding);
  if (encoding !== 'json/plain' || !p.data || p.data[0] !== 0x7b) return '';
  try {
    const v = JSON.parse(fromUtf8.decode(p.data)) as { tenant?: unknown };
    return typeof v.tenant === 'string' && v.tenant.length <= 128 ? v.tenant : '';
  } catch {
    return '';
  }
}

/** A metadata value as text: protobuf may hand an empty bytes field over as `[]`. */
const textOf = (v: Uint8Array | number[] | null | undefined): string =>
  v && v.length ? fromUtf8.decode(v instanceof Uint8Array ? v : Uint8Array.from(v)) : '';

/** An encoding as it may appear in a message: a short name of safe characters, or not at all. */
const nameOf = (encoding: string): string =>
  !encoding ? 'none' : /^[\w.+/-]{1,64}$/.test(encoding) ? encoding : 'unrecognised';

const b64 = (b: Uint8Array) => Buffer.from(b).toString('base64');
const unb64 = (s: string) => new Uint8Array(Buffer.from(s, 'base64'));

export class ConclavePayloadCodec implements PayloadCodec {
  private readonly keys = new Map<string, Uint8Array>();
  /** Names the master key in each payload, so a rotated key can be told apart. */
  readonly keyId: string;

  constructor(private readonly master: Uint8Array) {
    if (master.length !== 32) throw new ConclaveError('CONFIG', 'the payload key must be 32 bytes');
    this.keyId = Buffer.from(sha256(master)).toString('hex').slice(0, 16);
  }

  private keyFor(tenant: string): Uint8Array {
    let k = this.keys.get(tenant);
    if (!k) {
      k = hkdf(sha256, this.master, utf8.encode('conclave/payload/1'), utf8.encode(tenant), 32);
      this.keys.set(tenant, k);
    }
    return k;
  }

  async encode(payloads: Payload[]): Promise<Payload[]> {
    return payloads.map((p) => {
      const tenant = tenantOf(p);
      const inner = utf8.encode(
        JSON.stringify({
          m: Object.fromEntries(Object.entries(p.metadata ?? {}).map(([k, v]) => [k, b64(v)])),
          d: b64(p.data ?? new Uint8Array()),
        }),
      );
      const nonce = randomBytes(12);
      const cipher = createCipheriv('aes-256-gcm', this.keyFor(tenant), nonce);
      cipher.setAAD(utf8.encode(`${this.keyId}|${tenant}`));
      const data = Buffer.concat([nonce, cipher.update(inner), cipher.final(), cipher.getAuthTag()]);
      return {
        metadata: {
          encoding: utf8.encode(encryptedEncoding),
          'conclave-key-id': utf8.encode(this.keyId),
          ...(tenant ? { 'conclave-tenant': utf8.encode(tenant) } : {}),
        },
        data: new Uint8Array(data),
      };
    });
  }

  async decode(payloads: Payload[]): Promise<Payload[]> {
    return payloads.map((p) => {
      const m = p.metadata ?? {};
      const encoding = textOf(m.encoding);
      if (encoding !== encryptedEncoding)
        throw new UnencryptedPayloadError(
          `refused a Temporal payload that is not encrypted (encoding ${nameOf(encoding)}): this process has CONCLAVE_PAYLOAD_KEY and accepts ${encryptedEncoding} only`,
        );
      const keyId = textOf(m['conclave-key-id']);
      if (keyId !== this.keyId)
        throw new ConclaveError(
          'CONFIG',
          `a payload is encrypted under key ${keyId}, this process has ${this.keyId}`,
        );
      const tenant = textOf(m['conclave-tenant']);
      const data = p.data ?? new Uint8Array();
      let inner: Uint8Array;
      try {
        if (data.length < 28) throw new Error('short');
        const decipher = createDecipheriv('aes-256-gcm', this.keyFor(tenant), data.subarray(0, 12));
        decipher.setAAD(utf8.encode(`${keyId}|${tenant}`));
        decipher.setAuthTag(data.subarray(data.length - 16));
        inner = Buffer.concat([decipher.update(data.subarray(12, data.length - 16)), decipher.final()]);
      } catch {
        throw new ConclaveError('TAMPERED', `an encrypted payload (tenant "${tenant}") does not decrypt`);
      }
      const { m: meta, d } = JSON.parse(fromUtf8.decode(inner)) as { m: Record<string, string>; d: string };
      return {
        metadata: Object.fromEntries(Object.entries(meta).map(([k, v]) => [k, unb64(v)])),
        data: unb64(d),
      };
    });
  }
}

const warned = new Set<string>();

/**
 * One loud line (once per process and name) when a process runs without the payload key: its
 * payloads reach Temporal in the clear and it accepts plaintext from anyone who reaches Temporal.
 */
export function warnWithoutPayloadKey(
  payloadKey: Uint8Array | undefined,
  who: string,
  log: (line: string) => void = console.warn,
): void {
  if (payloadKey || warned.has(who)) return;
  warned.add(who);
  log(
    `${who}: WARNING: CONCLAVE_PAYLOAD_KEY is not set: Temporal payloads are NOT encrypted, and plaintext from anyone who reaches Temporal is accepted`,
  );
}

/**
 * A client's data converter: payloads and failure messages encrypted when a key is set, and
 * plaintext refused; without a key, none (and a warning).
 */
export function clientDataConverter(payloadKey: Uint8Array | undefined, who = 'conclave client') {
  warnWithoutPayloadKey(payloadKey, who);
  return payloadKey
    ? {
        payloadCodecs: [new ConclavePayloadCodec(payloadKey)],
        // the same converter as failure-converter.cjs, which workers load by path
        failureConverter: new DefaultFailureConverter({ encodeCommonAttributes: true }),
      }
    : undefined;
}

/**
 * A worker's data converter (its workflow bundle loads the failure converter by path); without
 * a key, none (and a warning naming `who`).
 */
export function workerDataConverter(payloadKey: Uint8Array | undefined, who = 'worker') {
  warnWithoutPayloadKey(payloadKey, who);
  return payloadKey
    ? {
        payloadCodecs: [new ConclavePayloadCodec(payloadKey)],
        failureConverterPath: fileURLToPath(new URL('./failure-converter.cjs', import.meta.url)),
      }
    : undefined;
}
