/**
 * Runtime configuration from the environment, with the local dev stack's state file as the
 * fallback. `TEMPORAL_ADDRESS`, `TEMPORAL_NAMESPACE`, `MONGODB_URI` and the per-party
 * `CONCLAVE_PARTY_<ID>_MONGODB_URI` replace the local servers without code changes.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { resolveTemporalSettings, type TemporalSettings } from '../temporal.config.js';
import { ConclaveError } from './errors.js';
import { fromHex } from './crypto/encoding.js';
import { parseActorSecret, type ActorSecret } from './policy/authorization.js';
import { projectRoot } from './stack/paths.js';

export type Env = Record<string, string | undefined>;

export interface DbLocation {
  uri: string;
  name: string;
}

export interface ConclaveConfig {
  temporal: TemporalSettings;
  mongoUri: string;
  /** Party ids this deployment knows, in order; `--parties N` takes the first N. */
  parties: string[];
  coordinatorDb: DbLocation;
  partyDb(partyId: string): DbLocation;
  /** Encrypts every Temporal payload (src/codec/payload-codec.ts); none: payloads in the clear. */
  payloadKey?: Uint8Array;
}

const partyIdPattern = /^[a-z0-9][a-z0-9-]{0,31}$/;

export function assertPartyId(id: string): string {
  if (!partyIdPattern.test(id)) {
    throw new ConclaveError(
      'BAD_INPUT',
      `invalid party id "${id}" (lowercase letters, digits, dashes; 1-32)`,
    );
  }
  return id;
}

function envKey(partyId: string): string {
  return partyId.toUpperCase().replace(/-/g, '_');
}

/** Local state of the dev stack: `$CONCLAVE_HOME` or `<project>/.conclave`. */
export function conclaveHome(env: Env = process.env): string {
  return env.CONCLAVE_HOME ? resolve(env.CONCLAVE_HOME) : join(projectRoot, '.conclave');
}

export function stackStatePath(env: Env = process.env): string {
  return join(conclaveHome(env), 'stack.json');
}

interface StackState {
  servers?: { temporalAddress?: string; mongoUri?: string };
  parties?: string[];
  dbPrefix?: string;
}

export function readStackState(env: Env = process.env): StackState | undefined {
  const path = stackStatePath(env);
  if (!existsSync(path)) return undefined;
  return JSON.parse(readFileSync(path, 'utf8')) as StackState;
}

export const defaultParties = ['p1', 'p2', 'p3', 'p4', 'p5', 'p6', 'p7'];

export function loadConfig(env: Env = process.env): ConclaveConfig {
  const state = readStackState(env);
  const stackTemporal = state?.servers?.temporalAddress;
  const temporal = resolveTemporalSettings(env, stackTemporal ? { address: stackTemporal } : undefined);
  if (!temporal) {
    throw new ConclaveError(
      'CONFIG',
      'no Temporal server: run `npx conclave dev up`, or set TEMPORAL_ADDRESS to an existing server',
    );
  }
  const mongoUri = env.MONGODB_URI || state?.servers?.mongoUri;
  if (!mongoUri) {
    throw new ConclaveError(
      'CONFIG',
      'no MongoDB server: run `npx conclave dev up`, or set MONGODB_URI to an existing server',
    );
  }
  const prefix = env.CONCLAVE_DB_PREFIX || state?.dbPrefix || 'conclave';
  const parties = (
    env.CONCLAVE_PARTIES ? env.CONCLAVE_PARTIES.split(',') : (state?.parties ?? defaultParties)
  ).map((p) => assertPartyId(p.trim()));
  const payloadKey = payloadKeyOf(env, Boolean(state));
  return {
    temporal,
    mongoUri,
    parties,
    ...(payloadKey ? { payloadKey } : {}),
    coordinatorDb: { uri: env.CONCLAVE_COORDINATOR_MONGODB_URI || mongoUri, name: `${prefix}_coordinator` },
    partyDb: (partyId) => ({
      uri: env[`CONCLAVE_PARTY_${envKey(partyId)}_MONGODB_URI`] || mongoUri,
      name: `${prefix}_party_${partyId.replace(/-/g, '_')}`,
    }),
  };
}

/** The party's key-encryption key (32 bytes, hex) from `CONCLAVE_PARTY_<ID>_KEK`. */
export function partyKek(partyId: string, env: Env = process.env): Uint8Array {
  const name = `CONCLAVE_PARTY_${envKey(partyId)}_KEK`;
  const value = env[name];
  if (!value) throw new ConclaveError('CONFIG', `${name} is not set: the party needs its key-encryption key`);
  const kek = fromHex(value, name);
  if (kek.length !== 32) throw new ConclaveError('CONFIG', `${name} must be 32 bytes (64 hex characters)`);
  return kek;
}

export function partyKekEnvName(partyId: string): string {
  return `CONCLAVE_PARTY_${envKey(partyId)}_KEK`;
}

/**
 * The operator's recovery public key (X25519, hex) from `CONCLAVE_RECOVERY_PUBLIC_KEY`, chosen at
 * setup: a party encrypts its backups to this key only, never to one a caller names.
 */
export function recoveryPublicKey(env: Env = process.env): Uint8Array | undefined {
  const value = env.CONCLAVE_RECOVERY_PUBLIC_KEY;
  if (!value) return undefined;
  const key = fromHex(value, 'CONCLAVE_RECOVERY_PUBLIC_KEY');
  if (key.length !== 32) {
    throw new ConclaveError('CONFIG', 'CONCLAVE_RECOVERY_PUBLIC_KEY must be 32 bytes (64 hex characters)');
  }
  return key;
}

/**
 * The coordinator's Ed25519 key that signs audit checkpoints: `CONCLAVE_COORDINATOR_KEY` names a
 * key file (`conclave keys new`). Without one, the audit chain has no checkpoints.
 */
export function coordinatorAuditKey(
  env: Env = process.env,
): { secret: Uint8Array; publicKey: string } | undefined {
  const file = env.CONCLAVE_COORDINATOR_KEY;
  if (!file) return undefined;
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    throw new ConclaveError('CONFIG', `cannot read CONCLAVE_COORDINATOR_KEY file ${file}`);
  }
  const key = parseActorSecret(text, file);
  return { secret: fromHex(key.secretKey, 'coordinator key'), publicKey: key.publicKey };
}

/**
 * The client's actor key file: `CONCLAVE_KEY`, or on the dev stack its default tenant's key
 * (`<CONCLAVE_HOME>/keys/dev-admin.key`, made by `conclave dev up`) when that exists.
 */
export function actorKeyFile(env: Env = process.env): string | undefined {
  if (env.CONCLAVE_KEY) return env.CONCLAVE_KEY;
  const devFile = join(conclaveHome(env), 'keys', 'dev-admin.key');
  return readStackState(env) && existsSync(devFile) ? devFile : undefined;
}

/**
 * An actor key given as a value rather than a file: its fields (`{ id, publicKey, secretKey }`,
 * hex), or the text of a key file (`conclave keys new` writes that JSON).
 */
export type ActorKeyInput = ActorSecret | string;

/** Reads an actor key file (`conclave keys new`). */
export function readActorKeyFile(path: string): ActorSecret {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    throw new ConclaveError('CONFIG', `cannot read the actor key file ${path}`);
  }
  return parseActorSecret(text, path);
}

/**
 * An actor key given as a value, checked as a key file is: a JSON object whose secret key (32
 * bytes, hex) is the secret of its public key.
 */
export function actorKeyOf(key: ActorKeyInput, where = 'the actor key given'): ActorSecret {
  try {
    return parseActorSecret(typeof key === 'string' ? key : (JSON.stringify(key) ?? ''), where);
  } catch {
    throw new ConclaveError(
      'BAD_INPUT',
      `${where} is not an actor key: { id, publicKey, secretKey } (hex), the secret key that of the public key, as \`conclave keys new\` writes it`,
    );
  }
}

/**
 * The client's actor key: `key` when one is given as a value, or else the file `actorKeyFile`
 * names (`CONCLAVE_KEY`, or the dev stack's key). A key given both ways (a value and
 * `CONCLAVE_KEY`) is refused rather than one of them silently winning.
 */
export function clientActorKey(env: Env = process.env, key?: ActorKeyInput): ActorSecret | undefined {
  if (key !== undefined) {
    if (env.CONCLAVE_KEY)
      throw new ConclaveError(
        'CONFIG',
        'an actor key was given both as a value and in CONCLAVE_KEY (a file): give one of them',
      );
    return actorKeyOf(key);
  }
  const file = actorKeyFile(env);
  return file ? readActorKeyFile(file) : undefined;
}

/**
 * The Temporal payload key: `CONCLAVE_PAYLOAD_KEY` (32 bytes, hex), or the dev stack's
 * `<CONCLAVE_HOME>/keys/payload.key` when this process talks to the dev stack.
 */
function payloadKeyOf(env: Env, devStack: boolean): Uint8Array | undefined {
  let value = env.CONCLAVE_PAYLOAD_KEY;
  const devFile = join(conclaveHome(env), 'keys', 'payload.key');
  if (!value && devStack && existsSync(devFile)) value = readFileSync(devFile, 'utf8').trim();
  if (!value) return undefined;
  const key = fromHex(value, 'CONCLAVE_PAYLOAD_KEY');
  if (key.length !== 32)
    throw new ConclaveError('CONFIG', 'CONCLAVE_PAYLOAD_KEY must be 32 bytes (64 hex characters)');
  return key;
}
