/**
 * The rogue-coordinator drill: a compromised coordinator on the drill's stack. It runs a Temporal
 * worker of its own (with the stack's payload codec, as a coordinator holding the stack's secrets
 * would) and schedules the parties' share-change activities directly, on their real task queues,
 * with round inputs it built from what a coordinator holds (the wallet records, every roster, the
 * signed governance) and from the approvals it could gather or forge. Every attack must be refused
 * by the party with the expected typed error, and afterwards every wallet must still sign with
 * every pair, each party holding its one active share.
 *
 * Two tenants: one governed (a published governance policy whose publisher every party's operator
 * trusts: rotations need one admin, recoveries and reshares two) and one with no governance, where
 * the parties still check rosters, pins and successors against their own records.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client, Connection } from '@temporalio/client';
import { bundleWorkflowCode, DefaultLogger, NativeConnection, Runtime, Worker } from '@temporalio/worker';
import type { ReshareContext } from '../ceremony/reshare/contracts.js';
import { ConclaveClient } from '../client/index.js';
import { clientDataConverter, workerDataConverter } from '../codec/payload-codec.js';
import { loadConfig, type Env } from '../config.js';
import type { ErrorCode } from '../errors.js';
import { trustPublishers } from '../party/admin.js';
import {
  generateActorKey,
  signGovernance,
  signedGovernanceOf,
  type ActorSecret,
  type GovernancePolicy,
  type KeyChangeAuthorization,
  type KeyChangeStatement,
  type SignedGovernance,
} from '../policy/index.js';
import { closeAllDbs } from '../store/mongo.js';
import { shareDocId, type ShareDoc } from '../store/party-store.js';
import type { PeerEntry } from '../ceremony/contracts.js';
import { findMissingShares, opensslVerifyEd25519, partyStores } from './checks.js';
import type { RogueCall, RogueOutcome } from './rogue-coordinator-workflows.js';
import { approvedStatement, attackerKeys, inventParty, rotationOf, swapKeys } from './rogue-inputs.js';

export interface RogueCoordinatorRow {
  attack: string;
  /** 'governed', 'ungoverned', or 'both' (the final check). */
  tenant: 'governed' | 'ungoverned' | 'both';
  /** The party and activity the coordinator called. */
  call: string;
  /** The refusal the party must give (its error code), or what must hold instead. */
  expected: string;
  /** The party's error code; 'none' when the call went through. */
  code: string;
  /** What the party said: its refusal as `CODE: message`, or what came of the call. */
  said: string;
  pass: boolean;
}

export interface RogueCoordinatorDrillOptions {
  env: Env;
  log?: (line: string) => void;
}

const workflowsPath = fileURLToPath(new URL('./rogue-coordinator-workflows.ts', import.meta.url));
const committee = ['p1', 'p2', 'p3'];
const pairs = [
  ['p1', 'p2'],
  ['p1', 'p3'],
  ['p2', 'p3'],
];

/** The error code of a refusal `"<CODE>: <message>"`; 'untyped' for anything else (a timeout). */
const codeOf = (o: RogueOutcome): string =>
  o.refused === undefined ? 'none' : (/^([A-Z][A-Z_]+): /.exec(o.refused)?.[1] ?? 'untyped');
const saidOf = (o: RogueOutcome): string => o.refused ?? 'accepted: the call went through';

interface Attack {
  attack: string;
  tenant: 'governed' | 'ungoverned';
  expected: ErrorCode;
  call: RogueCall;
}

export async function runRogueCoordinatorDrill(
  opts: RogueCoordinatorDrillOptions,
): Promise<RogueCoordinatorRow[]> {
  const env = opts.env;
  const log = opts.log ?? (() => undefined);
  const config = loadConfig(env);
  const tag = `${Date.now().toString(36)}${randomBytes(2).toString('hex')}`;
  const governed = `rogue-gov-${tag}`;
  const plainTenant = `rogue-plain-${tag}`;
  let n = 0;

  // the governance publisher, three approvers (two admins, one ops) and an outsider
  const keys: Record<string, ActorSecret> = {};
  for (const id of ['gov-lead', 'alice', 'bob', 'carol', 'mallory']) keys[id] = generateActorKey(id);
  const pub = (id: string) => ({ id, publicKey: keys[id]!.publicKey });
  const policy: GovernancePolicy = {
    approvers: [
      { ...pub('alice'), roles: ['admin'] },
      { ...pub('bob'), roles: ['admin'] },
      { ...pub('carol'), roles: ['ops'] },
    ],
    actions: {
      rotate: { admin: 1 },
      reshare: { admin: 2 },
      recover: { admin: 2 },
      'backup-export': { admin: 2 },
    },
    requestExpiresAfter: 3600,
    timeLock: 0,
  };
  const keyDir = mkdtempSync(join(tmpdir(), 'conclave-rogue-'));
  const publisherKeyFile = join(keyDir, 'gov-lead.key');
  writeFileSync(publisherKeyFile, JSON.stringify(keys['gov-lead']), { mode: 0o600 });

  try {
    // the drill's process may already run Temporal workers (the misbehaving party): keep its runtime
    Runtime.install({ logger: new DefaultLogger('ERROR') });
  } catch {
    // a runtime is already installed in this process
  }
  const closers: Array<() => Promise<unknown>> = [];
  const closing = <T extends { close(): Promise<unknown> }>(c: T): T => {
    closers.push(() => c.close());
    return c;
  };
  try {
    const client = closing(await ConclaveClient.connect({ env }));
    const publisher = closing(
      await ConclaveClient.connect({ env: { ...env, CONCLAVE_KEY: publisherKeyFile } }),
    );
    const connection = closing(await Connection.connect({ address: config.temporal.address }));
    const clientConverter = clientDataConverter(config.payloadKey);
    const temporal = new Client({
      connection,
      namespace: config.temporal.namespace,
      ...(clientConverter ? { dataConverter: clientConverter } : {}),
    });
    const workerConnection = closing(await NativeConnection.connect({ address: config.temporal.address }));
    // the compromised coordinator's own worker, with the stack's payload codec: bundled meanwhile
    const dataConverter = workerDataConverter(config.payloadKey, 'rogue coordinator');
    const bundling = bundleWorkflowCode({
      workflowsPath,
      logger: quietBundlerLogger,
      ...(dataConverter ? { failureConverterPath: dataConverter.failureConverterPath } : {}),
    });
    bundling.catch(() => undefined);
    closers.push(closeAllDbs);
    const stores = await partyStores(env, committee);
    const storeOf = (p: string) => stores.get(p)!;

    // --- the set-up a real deployment has: a governed tenant, an ungoverned one, a wallet in each
    const t0 = Date.now();
    const published = await publisher.publishGovernance({ policy, tenant: governed });
    for (const p of config.parties)
      await trustPublishers(p, governed, { governancePublishers: [pub('gov-lead')] }, env);
    const [w, other, plain] = await Promise.all([
      client.createWallet({ tenant: governed, walletId: `rogue-${tag}-a`, threshold: 2, parties: committee }),
      client.createWallet({ tenant: governed, walletId: `rogue-${tag}-b`, threshold: 2, parties: committee }),
      client.createWallet({
        tenant: plainTenant,
        walletId: `rogue-${tag}-c`,
        threshold: 2,
        parties: committee,
      }),
    ]);
    log(`rogue coordinator: governance v${published.version} and 3 wallets in ${Date.now() - t0} ms`);

    const governance = signedGovernanceOf(published);
    /** A party's own share of a wallet's current version: what the coordinator builds rounds from. */
    const shareOf = async (tenant: string, walletId: string, party = 'p1'): Promise<ShareDoc> => {
      const info = await client.getWallet({ walletId, tenant });
      const s = await storeOf(party).shares.findOne({ _id: shareDocId(tenant, info.keyId, info.version) });
      if (!s) throw new Error(`${party} holds no share of ${tenant}/${walletId} v${info.version}`);
      return s;
    };
    const share = await shareOf(governed, w.walletId);
    const otherShare = await shareOf(governed, other.walletId);
    const plainShare = await shareOf(plainTenant, plain.walletId);

    const rogueKeys = attackerKeys();
    /** A rotation of `s`'s wallet as a coordinator would plan it, changed by `over`. */
    const ctxOf = (s: ShareDoc, over: Partial<ReshareContext> = {}): ReshareContext =>
      rotationOf(s, `reshare:${s.tenant}:${s.walletId}:rogue-${tag}-${n}/run-${n++}`, over);
    const swap = (roster: PeerEntry[], party: string) => swapKeys(roster, party, rogueKeys);
    // an invented lost party carrying p2's identifier, with the attacker's keys, in both rosters
    const invented = (roster: PeerEntry[]) => inventParty(roster, 'p2', 'p9', rogueKeys);
    /** A recovery of p2's share, rebuilt for the attacker's keys. */
    const recovery = (s: ShareDoc, over: Partial<ReshareContext> = {}) =>
      ctxOf(s, {
        kind: 'recovery',
        lost: 'p2',
        dealers: ['p1', 'p3'],
        roster: swap(s.roster, 'p2'),
        ...over,
      });
    /** A statement for `ctx` under `g`, approved by `approvers` (as admins unless said otherwise). */
    const approved = (
      ctx: ReshareContext,
      approvers: [string, string?][],
      over: Partial<KeyChangeStatement> = {},
      g: SignedGovernance = governance,
    ): KeyChangeAuthorization =>
      approvedStatement(
        g,
        ctx,
        approvers.map(([who, role]) => [keys[who]!, role]),
        over,
      );
    const withAuth = (ctx: ReshareContext, auth: KeyChangeAuthorization): ReshareContext => ({
      ...ctx,
      authorization: auth,
    });
    // a policy that lets a recovery through with no approval, signed by mallory under her own name,
    // and the same signed by mallory's key under the trusted publisher's name and key
    const loose: GovernancePolicy = { ...policy, actions: { recover: {} } };
    const publishedAt = new Date().toISOString();
    const untrustedGovernance: SignedGovernance = {
      tenant: governed,
      policy: loose,
      ...signGovernance(keys.mallory!, governed, loose, publishedAt),
      governanceVersion: 2,
    };
    const forgedGovernance: SignedGovernance = {
      tenant: governed,
      policy: loose,
      ...signGovernance({ ...keys.mallory!, id: 'gov-lead' }, governed, loose, publishedAt),
      publisherKey: keys['gov-lead']!.publicKey,
      governanceVersion: 2,
    };
    const replayed = ctxOf(share);
    const replayAuth = approved(replayed, [['alice']]);
    const expired = ctxOf(share);
    const swapped = ctxOf(share);
    const otherVersion = ctxOf(share);

    const attacks: Attack[] = [
      {
        attack: "recovery with no statement, rebuilding p2's share for the attacker's keys",
        tenant: 'governed',
        expected: 'UNAUTHORIZED',
        call: { party: 'p1', activity: 'repairDeal', args: [recovery(share)] },
      },
      {
        attack: "invented lost party p9 carrying p2's identifier",
        tenant: 'governed',
        expected: 'UNAUTHORIZED',
        call: {
          party: 'p1',
          activity: 'repairDeal',
          args: [
            recovery(share, {
              lost: 'p9',
              oldRoster: invented(share.roster),
              roster: invented(share.roster),
            }),
          ],
        },
      },
      {
        attack: 'recovery approved by 1 admin where the policy asks 2',
        tenant: 'governed',
        expected: 'APPROVAL_REQUIRED',
        call: {
          party: 'p1',
          activity: 'repairDeal',
          args: [
            (() => {
              const c = recovery(share);
              return withAuth(c, approved(c, [['alice']]));
            })(),
          ],
        },
      },
      {
        attack: 'recovery approved by an admin and a non-admin posing as admin',
        tenant: 'governed',
        expected: 'APPROVAL_REQUIRED',
        call: {
          party: 'p1',
          activity: 'repairDeal',
          args: [
            (() => {
              const c = recovery(share);
              return withAuth(c, approved(c, [['alice'], ['carol']]));
            })(),
          ],
        },
      },
      {
        attack: 'governance policy signed by an untrusted key (no approvals needed)',
        tenant: 'governed',
        expected: 'UNAUTHORIZED',
        call: {
          party: 'p1',
          activity: 'repairDeal',
          args: [
            (() => {
              const c = recovery(share);
              return withAuth(c, approved(c, [], {}, untrustedGovernance));
            })(),
          ],
        },
      },
      {
        attack: 'governance policy with a forged signature of the trusted publisher',
        tenant: 'governed',
        expected: 'UNAUTHORIZED',
        call: {
          party: 'p1',
          activity: 'repairDeal',
          args: [
            (() => {
              const c = recovery(share);
              return withAuth(c, approved(c, [], {}, forgedGovernance));
            })(),
          ],
        },
      },
      {
        attack: 'statement approved for another wallet',
        tenant: 'governed',
        expected: 'UNAUTHORIZED',
        call: {
          party: 'p1',
          activity: 'reshareDeal',
          args: [withAuth(ctxOf(share), approved(ctxOf(otherShare), [['alice']]))],
        },
      },
      {
        attack: "statement approved for another tenant's wallet",
        tenant: 'governed',
        expected: 'UNAUTHORIZED',
        call: {
          party: 'p1',
          activity: 'reshareDeal',
          args: [withAuth(ctxOf(share), approved(ctxOf(plainShare), [['alice']]))],
        },
      },
      {
        attack: "statement for the real roster, p3's keys swapped in the round input",
        tenant: 'governed',
        expected: 'UNAUTHORIZED',
        call: {
          party: 'p1',
          activity: 'reshareDeal',
          args: [
            { ...swapped, roster: swap(swapped.roster, 'p3'), authorization: approved(swapped, [['alice']]) },
          ],
        },
      },
      {
        attack: 'statement approved for another version',
        tenant: 'governed',
        expected: 'UNAUTHORIZED',
        call: {
          party: 'p1',
          activity: 'reshareDeal',
          args: [withAuth(otherVersion, approved({ ...otherVersion, toVersion: 7 }, [['alice']]))],
        },
      },
      {
        attack: 'expired statement',
        tenant: 'governed',
        expected: 'UNAUTHORIZED',
        call: {
          party: 'p1',
          activity: 'reshareDeal',
          args: [
            withAuth(
              expired,
              approved(expired, [['alice']], {
                createdAt: new Date(Date.now() - 7_200_000).toISOString(),
                expiresAt: new Date(Date.now() - 3_600_000).toISOString(),
              }),
            ),
          ],
        },
      },
      {
        attack: 'replayed statement: spent by a ceremony, presented by another',
        tenant: 'governed',
        expected: 'REPLAY',
        call: {
          party: 'p1',
          activity: 'reshareDeal',
          args: [
            {
              ...replayed,
              ceremonyId: `${replayAuth.statement.requestId}/run-again`,
              authorization: replayAuth,
            },
          ],
        },
      },
      {
        attack: 'backup export with no statement',
        tenant: 'governed',
        expected: 'UNAUTHORIZED',
        call: {
          party: 'p1',
          activity: 'exportShareBackup',
          args: [share.tenant, share.walletId, share.keyId, share.version],
        },
      },
      {
        attack: 'backup export to a recovery key the statement does not name',
        tenant: 'governed',
        expected: 'UNAUTHORIZED',
        call: {
          party: 'p1',
          activity: 'exportShareBackup',
          args: (() => {
            const ceremonyId = `backup:${share.tenant}:${share.walletId}:rogue-${tag}/run-${n++}`;
            const c = { ...ctxOf(share), ceremonyId };
            const auth = approved(c, [['alice'], ['bob']], {
              action: 'backup-export',
              toVersion: share.version,
              recoveryKeys: { p1: rogueKeys.transportPublic },
            });
            return [share.tenant, share.walletId, share.keyId, share.version, ceremonyId, auth];
          })(),
        },
      },
      {
        attack: 'approved retirement of the current version, no activations',
        tenant: 'governed',
        expected: 'BAD_INPUT',
        call: {
          party: 'p1',
          activity: 'reshareRetire',
          args: [
            (() => {
              const c = ctxOf(share);
              return withAuth(c, approved(c, [['alice']]));
            })(),
            [],
          ],
        },
      },
      // no governance: the parties still check rosters, pins and successors against their own records
      {
        attack: "invented lost party p9 carrying p2's identifier",
        tenant: 'ungoverned',
        expected: 'DISAGREEMENT',
        call: {
          party: 'p1',
          activity: 'repairDeal',
          args: [
            recovery(plainShare, {
              lost: 'p9',
              oldRoster: invented(plainShare.roster),
              roster: invented(plainShare.roster),
            }),
          ],
        },
      },
      {
        attack: "recovery handing p2's share to keys nobody pinned",
        tenant: 'ungoverned',
        expected: 'TAMPERED',
        call: { party: 'p1', activity: 'repairDeal', args: [recovery(plainShare)] },
      },
      {
        attack: "reshare to a committee of the attacker's workers",
        tenant: 'ungoverned',
        expected: 'TAMPERED',
        call: {
          party: 'p1',
          activity: 'reshareDeal',
          args: [
            ctxOf(plainShare, {
              kind: 'reshare',
              roster: [
                plainShare.roster[0]!,
                { partyId: 'p8', identifier: plainShare.roster[1]!.identifier, ...rogueKeys },
                { partyId: 'p9', identifier: plainShare.roster[2]!.identifier, ...rogueKeys },
              ],
            }),
          ],
        },
      },
      {
        attack: 'retirement of the current version, no successor',
        tenant: 'ungoverned',
        expected: 'BAD_INPUT',
        call: { party: 'p1', activity: 'reshareRetire', args: [ctxOf(plainShare), []] },
      },
    ];

    const workflowBundle = await bundling;
    const taskQueue = `conclave.drill.rogue-coordinator.${tag}`;
    const worker = await Worker.create({
      connection: workerConnection,
      namespace: config.temporal.namespace,
      ...(dataConverter ? { dataConverter } : {}),
      taskQueue,
      workflowBundle,
    });
    const calls = (c: RogueCall[]) =>
      temporal.workflow.execute<(c: RogueCall[]) => Promise<RogueOutcome[]>>(
        'rogueCoordinatorCallsWorkflow',
        {
          taskQueue,
          workflowId: `${taskQueue}-${n++}`,
          args: [c],
          workflowExecutionTimeout: '5 minutes',
        },
      );

    const rows: RogueCoordinatorRow[] = [];
    await worker.runUntil(async () => {
      // the replay needs the statement spent first: its genuine first use deals, as a real ceremony would
      const [first] = await calls([
        { party: 'p1', activity: 'reshareDeal', args: [withAuth(replayed, replayAuth)] },
      ]);
      let t = Date.now();
      const outcomes = await calls(attacks.map((a) => a.call));
      log(`rogue coordinator: ${attacks.length} attacks answered in ${Date.now() - t} ms`);
      for (const [i, a] of attacks.entries()) {
        const o = outcomes[i]!;
        const code = codeOf(o);
        let said = saidOf(o);
        let pass = code === a.expected;
        if (a.expected === 'REPLAY' && first!.refused !== undefined) {
          pass = false;
          said = `its genuine first use was refused: ${first!.refused}`;
        }
        rows.push({
          attack: a.attack,
          tenant: a.tenant,
          call: `${a.call.party}.${a.call.activity}`,
          expected: a.expected,
          code,
          said,
          pass,
        });
      }

      // an abort ordered after a completed rotation: every party keeps its active share
      t = Date.now();
      const rot = await client.rotate({ walletId: plain.walletId, tenant: plainTenant });
      const after = await shareOf(plainTenant, plain.walletId);
      const abortCtx = ctxOf(plainShare, { ceremonyId: after.ceremonyId!, toVersion: rot.version });
      const aborts = await calls(
        committee.map((p) => ({ party: p, activity: 'reshareAbort', args: [abortCtx] })),
      );
      const kept: string[] = [];
      for (const p of committee) {
        const s = await storeOf(p).shares.findOne({ _id: after._id });
        if (s?.status === 'active') kept.push(p);
      }
      log(`rogue coordinator: rotation and abort in ${Date.now() - t} ms`);
      const codes = [...new Set(aborts.map(codeOf))];
      rows.push({
        attack: `abort ordered after a completed rotation (v${rot.fromVersion} -> v${rot.version})`,
        tenant: 'ungoverned',
        call: `${committee.join(',')}.reshareAbort`,
        expected: `v${rot.version} share stays active`,
        code: codes.join(','),
        said: `${aborts.map((o, i) => `${committee[i]}: ${o.refused ?? 'ok'}`).join('; ')}; v${rot.version} share active on ${kept.length ? kept.join(',') : 'none'}`,
        pass: kept.length === committee.length,
      });
    });

    // --- nothing of it changed a wallet: each still signs with every pair, verified by OpenSSL
    const t1 = Date.now();
    const failures: string[] = [];
    let signatures = 0;
    await Promise.all(
      (
        [
          [governed, w.walletId],
          [governed, other.walletId],
          [plainTenant, plain.walletId],
        ] as const
      ).map(async ([tenant, walletId]) => {
        for (const signers of pairs) {
          const message = randomBytes(32).toString('hex');
          try {
            const r = await client.sign({ tenant, walletId, message, signers });
            if (opensslVerifyEd25519(r.publicKey, message, r.signature)) signatures++;
            else failures.push(`${walletId} with ${signers.join('+')}: signature does not verify`);
          } catch (err) {
            failures.push(`${walletId} with ${signers.join('+')}: ${(err as Error).message}`);
          }
        }
      }),
    );
    const missing = [
      ...(await findMissingShares(
        stores,
        [w, other].map((x) => ({ walletId: x.walletId, parties: committee })),
        governed,
      )),
      ...(await findMissingShares(stores, [{ walletId: plain.walletId, parties: committee }], plainTenant)),
    ];
    for (const m of missing) failures.push(`${m.partyId} holds ${m.active} active shares of ${m.walletId}`);
    for (const [tenant, x] of [
      [governed, w],
      [governed, other],
    ] as const) {
      const info = await client.getWallet({ walletId: x.walletId, tenant });
      if (info.version !== 1) failures.push(`${x.walletId} moved to v${info.version}`);
    }
    log(`rogue coordinator: ${signatures} signatures and the shares checked in ${Date.now() - t1} ms`);
    rows.push({
      attack: 'wallets still sign (3 wallets x every pair, OpenSSL), one active share each',
      tenant: 'both',
      call: 'sign',
      expected: `${3 * pairs.length} signatures`,
      code: '-',
      said: failures.length ? failures.join('; ') : `${signatures} signatures verified; every share in place`,
      pass: failures.length === 0 && signatures === 3 * pairs.length,
    });
    return rows;
  } finally {
    for (const close of closers) await close().catch(() => undefined);
    rmSync(keyDir, { recursive: true, force: true });
  }
}

/** A published governance version as parties get it. */
const noop = () => undefined;
const quietBundlerLogger = {
  trace: noop,
  debug: noop,
  info: noop,
  warn: noop,
  error: console.error,
  log: noop,
};
