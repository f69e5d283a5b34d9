/**
 * The misbehaving-party drill: a party worker in this process (an extra party, `p6` by default,
 * with its own database and KEK) that lies in one way per case. Each case must abort with a
 * typed error naming that party, and leave nothing active behind.
 */
import { randomBytes } from 'node:crypto';
import type { Worker } from '@temporalio/worker';
import { ConclaveClient } from '../client/index.js';
import { loadConfig, partyKekEnvName, type Env } from '../config.js';
import { ConclaveError, CulpritError } from '../errors.js';
import { devPartyKek } from '../stack/dev.js';
import { closeAllDbs, openDb } from '../store/mongo.js';
import { PartyStore } from '../store/party-store.js';
import { createPartyWorker } from '../worker/party.js';
import { opensslVerifyEd25519 } from './checks.js';
import { misbehaviourCases, misbehavingParty, type MisbehaviourMode } from './misbehaving.js';

export interface MisbehavingRow {
  case: string;
  mode: MisbehaviourMode;
  expectedCode: string;
  code: string;
  culprit: string;
  /** Active shares of the aborted wallet (keygen) or sealed nonces left (signing), on any party. */
  leftovers: number;
  pass: boolean;
  detail: string;
}

export interface MisbehavingWorker {
  partyId: string;
  setMode(mode: MisbehaviourMode): void;
  stop(): Promise<void>;
}

/**
 * Starts a misbehaving party worker in this process against the stack of `env`. The worker
 * reads its config from `process.env`, so CONCLAVE_HOME and the party's KEK are set there for
 * the time it is created.
 */
export async function startMisbehavingWorker(env: Env, partyId = 'p6'): Promise<MisbehavingWorker> {
  let mode: MisbehaviourMode = 'honest';
  const kekName = partyKekEnvName(partyId);
  const saved = {
    home: process.env.CONCLAVE_HOME,
    kek: process.env[kekName],
    gate: process.env.CONCLAVE_REQUIRE_GATE,
  };
  process.env.CONCLAVE_HOME = env.CONCLAVE_HOME;
  process.env[kekName] = env[kekName] ?? devPartyKek(env, partyId);
  // a party of the dev stack, whose operator opted out of gating
  process.env.CONCLAVE_REQUIRE_GATE = env.CONCLAVE_REQUIRE_GATE ?? '0';
  let worker: Worker;
  try {
    worker = await createPartyWorker({ partyId, decorate: misbehavingParty(() => mode) });
  } finally {
    restore('CONCLAVE_HOME', saved.home);
    restore(kekName, saved.kek);
    restore('CONCLAVE_REQUIRE_GATE', saved.gate);
  }
  const running = worker.run();
  return {
    partyId,
    setMode: (m) => {
      mode = m;
    },
    async stop() {
      worker.shutdown();
      await running;
    },
  };
}

function restore(name: string, value: string | undefined): void {
  if (value === undefined) delete process.env[name];
  else process.env[name] = value;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function eventually(check: () => Promise<number>, timeoutMs: number): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const n = await check();
    if (n === 0 || Date.now() > deadline) return n;
    await sleep(200);
  }
}

export interface MisbehavingDrillOptions {
  env: Env;
  /** Honest parties that take part with the misbehaving one (default p1, p2). */
  honest?: string[];
  partyId?: string;
  log?: (line: string) => void;
}

/** Runs an honest check of the harness, then every misbehaviour case; one row each. */
export async function runMisbehavingDrill(opts: MisbehavingDrillOptions): Promise<MisbehavingRow[]> {
  const env = opts.env;
  const log = opts.log ?? (() => undefined);
  const honestParties = opts.honest ?? ['p1', 'p2'];
  const config = loadConfig(env);
  const mallory = await startMisbehavingWorker(env, opts.partyId ?? 'p6');
  const parties = [...honestParties, mallory.partyId];
  const stores = new Map<string, PartyStore>();
  // "nothing active on any party": every party of the deployment is checked, not only the wallet's
  for (const p of new Set([...config.parties, ...parties]))
    stores.set(p, new PartyStore(await openDb(config.partyDb(p))));
  const client = await ConclaveClient.connect({ env });
  const rows: MisbehavingRow[] = [];
  const tag = randomBytes(3).toString('hex');
  try {
    // The harness itself must be sound: an honest run with the in-process party works.
    {
      const t = Date.now();
      let detail = '';
      let pass = false;
      try {
        const w = await client.createWallet({ walletId: `drill-honest-${tag}`, threshold: 2, parties });
        const message = randomBytes(32).toString('hex');
        const s = await client.sign({
          walletId: w.walletId,
          message,
          signers: [parties[0]!, mallory.partyId],
        });
        pass = opensslVerifyEd25519(w.publicKey, message, s.signature);
        detail = pass ? `keygen + sign, ${Date.now() - t} ms` : 'signature does not verify';
      } catch (err) {
        detail = (err as Error).message;
      }
      rows.push({
        case: 'honest (harness check)',
        mode: 'honest',
        expectedCode: '-',
        code: '-',
        culprit: '-',
        leftovers: 0,
        pass,
        detail,
      });
    }
    let n = 0;
    for (const c of misbehaviourCases) {
      n++;
      log(`misbehaving: ${c.title} (${c.mode})`);
      let walletId = `drill-bad-${tag}-${n}`;
      let err: unknown;
      let leftovers = 0;
      if (c.ceremony === 'keygen') {
        mallory.setMode(c.mode);
        err = await client.createWallet({ walletId, threshold: 2, parties }).catch((e: unknown) => e);
        mallory.setMode('honest');
        // a round still in flight when the abort ran undoes its own write as soon as it lands
        leftovers = await eventually(async () => {
          let active = 0;
          for (const s of stores.values())
            active += await s.shares.countDocuments({ walletId, status: 'active' });
          return active;
        }, 5_000);
        const registered = await client.getWallet({ walletId }).then(
          () => 1,
          () => 0,
        );
        leftovers += registered;
      } else {
        walletId = `drill-signer-${tag}-${n}`;
        const w = await client.createWallet({
          walletId,
          threshold: 2,
          parties,
          ...(c.ceremony === 'ecdsa-sign' ? { curve: 'secp256k1', scheme: 'dkls23-secp256k1' } : {}),
        });
        const requestId = `drill-bad-sign-${tag}-${n}`;
        mallory.setMode(c.mode);
        err = await client
          .sign({
            walletId: w.walletId,
            message: randomBytes(32).toString('hex'),
            signers: [parties[0]!, mallory.partyId],
            requestId,
          })
          .catch((e: unknown) => e);
        mallory.setMode('honest');
        const ceremony = new RegExp(`^sign:default:${requestId}/`);
        leftovers = await eventually(async () => {
          let sealed = 0;
          for (const s of stores.values())
            sealed +=
              (await s.nonces.countDocuments({ ceremonyId: ceremony, sealed: { $exists: true } })) +
              (await s.rounds.countDocuments({ ceremonyId: ceremony, sealedState: { $exists: true } }));
          return sealed;
        }, 5_000);
      }
      const code = err instanceof ConclaveError ? err.code : err === undefined ? 'none' : 'untyped';
      const culprit = err instanceof CulpritError ? err.culprit : '-';
      const pass =
        err instanceof CulpritError &&
        code === c.expectedCode &&
        culprit === mallory.partyId &&
        leftovers === 0;
      rows.push({
        case: c.title,
        mode: c.mode,
        expectedCode: c.expectedCode,
        code,
        culprit,
        leftovers,
        pass,
        detail:
          err instanceof Error ? err.message : err === undefined ? 'ceremony did not abort' : String(err),
      });
    }
  } finally {
    await client.close().catch(() => undefined);
    await mallory.stop().catch(() => undefined);
    await closeAllDbs();
  }
  return rows;
}
