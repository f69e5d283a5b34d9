/**
 * The abort rule of a party's OT setups (activities/party/pair-setup.ts): after one failed
 * consistency check against a setup's secret Δ, no other check ever runs against that Δ — not in
 * a round of the same process that had already loaded the setup or its document, not after the
 * memo dropped and reopened the setup, not in another process of the party (a worker being
 * replaced). Real multiplications over a real OT setup; the party's database is a fake holding
 * the two collections these functions use. Every KOS check is counted by Δ.
 */
import { beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import * as otExt from '../../src/crypto/ecdsa/ot-extension.js';
import {
  OtSetupAborted,
  isOtSetupAborted,
  mulAliceRespond,
  mulBobStart,
  otSetupReceiverFinish,
  otSetupReceiverStart,
  otSetupSenderRespond,
  type MulMsg1,
  type MulReceiverSetup,
  type MulSenderSetup,
} from '../../src/crypto/ecdsa/multiply.js';
import { hashFields } from '../../src/crypto/ecdsa/transcript.js';
import { sealJson } from '../../src/crypto/at-rest.js';
import { ConclaveError } from '../../src/errors.js';
import type { PartyRuntime } from '../../src/party/runtime.js';
import { ImmutableMemo } from '../../src/store/memo.js';
import {
  pairSetupDocId,
  pairSetupSecretId,
  type PairSetupDoc,
  type PairSetupSecretDoc,
  type PairSetups,
} from '../../src/store/party-store.js';
import { loadPairSetups, multiplyWithPairSetups } from '../../activities/party/pair-setups.js';
import { pairSetupContext } from '../../src/party/runtime.js';

// Count every KOS check that runs (the setup not marked aborted when it starts), by Δ, and every
// one that runs against a Δ whose check already failed once: the number that must stay 0.
const kos = vi.hoisted(() => ({ checks: 0, afterFailure: 0, failed: new Set<string>() }));
vi.mock('../../src/crypto/ecdsa/ot-extension.js', async (importOriginal) => {
  const orig = await importOriginal<typeof import('../../src/crypto/ecdsa/ot-extension.js')>();
  return {
    ...orig,
    otExtSend: (setup: otExt.OtExtSenderSetup, ...rest: [Uint8Array, number, otExt.OtExtMsg, string?]) => {
      if (setup.aborted === undefined) {
        kos.checks++;
        if (kos.failed.has(setup.delta)) kos.afterFailure++;
      }
      try {
        return orig.otExtSend(setup, ...rest);
      } catch (e) {
        if (e instanceof orig.OtSetupAborted) kos.failed.add(setup.delta);
        throw e;
      }
    },
  };
});

const tenant = 'acme';
const keyId = 'k-ecdsa';
const version = 1;
const ALICE = 'a1'.repeat(32);
const BOB = 'b0'.repeat(32);
const BOB_PARTY = 'p2';
const peers = [{ partyId: BOB_PARTY, identifier: BOB }];
const kek = new Uint8Array(32).fill(7);
const seedOf = (...label: Array<string | number>) => hashFields('test/pair-abort', ...label);

/** The two collections of a party's database that pair setups use, shared by its "processes". */
class FakePartyDb {
  readonly docs = new Map<string, PairSetupDoc>();
  readonly secrets = new Map<string, PairSetupSecretDoc>();
  secretReads = 0;
  failUpdates = 0;
  /** Runs before a sealed setup is returned (a test may hold it there). */
  beforeSecret: () => Promise<void> = async () => undefined;

  /** A runtime over this database: one worker process of party p1. */
  runtime(memoLimit = 1_000): PartyRuntime {
    const io = () => new Promise<void>((r) => setImmediate(r));
    const store = {
      pairSetups: {
        findOne: async (q: { _id: string }) => {
          await io();
          const d = this.docs.get(q._id);
          return d ? structuredClone(d) : null;
        },
        updateOne: async (
          q: { _id: string; setupId: string },
          u: { $addToSet: { abortedPeers: string } },
        ) => {
          await io();
          if (this.failUpdates > 0) {
            this.failUpdates--;
            throw new Error('database unreachable');
          }
          const d = this.docs.get(q._id);
          if (d && d.setupId === q.setupId) {
            d.abortedPeers = [...new Set([...(d.abortedPeers ?? []), u.$addToSet.abortedPeers])];
          }
        },
      },
      pairSetupSecrets: {
        findOne: async (q: { _id: string }) => {
          this.secretReads++;
          await io();
          await this.beforeSecret();
          return this.secrets.get(q._id) ?? null;
        },
      },
    };
    return {
      partyId: 'p1',
      kek,
      store,
      openedPairSetups: new ImmutableMemo<PairSetups>(memoLimit),
      retiredPairPeers: new Set<string>(),
    } as unknown as PartyRuntime;
  }

  /** Stores p1's setups of a key version under `setupId`. */
  put(setups: PairSetups, key = keyId, setupId = 'pairing-1'): void {
    const _id = pairSetupDocId(tenant, key, version);
    this.docs.set(_id, {
      _id,
      tenant,
      keyId: key,
      version,
      setupId,
      parties: ['p1', BOB_PARTY],
      createdAt: new Date(),
    });
    const secretId = pairSetupSecretId(tenant, key, version, setupId);
    this.secrets.set(secretId, {
      _id: secretId,
      tenant,
      keyId: key,
      version,
      setupId,
      sealed: sealJson(kek, setups, pairSetupContext({ partyId: 'p1' }, tenant, key, version)),
      createdAt: new Date(),
    });
  }

  abortedPeers(key = keyId): string[] {
    return this.docs.get(pairSetupDocId(tenant, key, version))?.abortedPeers ?? [];
  }
}

/** A gate a test opens by hand. */
function gate() {
  let open!: () => void;
  const closed = new Promise<void>((r) => (open = r));
  return { wait: () => closed, open: () => open() };
}

let setups: PairSetups;
let bobReceiver: MulReceiverSetup;

beforeAll(() => {
  // p1 (Alice) sends to p2 (Bob) over one setup and receives from it over another.
  const direction = (from: string, to: string) => {
    const sid = hashFields('test/pair-abort/setup', from, to);
    const s1 = otSetupReceiverStart(sid, seedOf('receiver', from, to));
    const s2 = otSetupSenderRespond(sid, seedOf('sender', from, to), s1.msg, to);
    const s3 = otSetupReceiverFinish(s1.state, s2.msg, from);
    return { sender: s2.setup, receiver: s3.setup };
  };
  const toBob = direction(ALICE, BOB);
  const fromBob = direction(BOB, ALICE);
  bobReceiver = toBob.receiver;
  setups = {
    peers: {
      [BOB]: { zeroSeed: 'ee'.repeat(32), mulSender: toBob.sender, mulReceiver: fromBob.receiver },
    },
  };
});

beforeEach(() => {
  kos.checks = 0;
  kos.afterFailure = 0;
  kos.failed.clear();
});

/** Bob's round-1 multiplication message of session `label`, honest or failing Alice's check. */
function bobMessage(label: string, cheat: boolean): { sid: Uint8Array; msg: MulMsg1 } {
  const sid = hashFields('test/pair-abort/session', label);
  const { msg } = mulBobStart(bobReceiver, sid, seedOf('bob', label), 2);
  if (cheat) {
    const t = Buffer.from(msg.ext.tTilde, 'hex');
    t[0] = t[0]! ^ 1;
    msg.ext.tTilde = t.toString('hex');
  }
  return { sid, msg };
}

/** One signing round of p1 answering Bob's message as Alice: load, then multiply under the rule. */
async function aliceRound(rt: PartyRuntime, label: string, cheat: boolean) {
  const { sid, msg } = bobMessage(label, cheat);
  const pair = await loadPairSetups(rt, tenant, keyId, version);
  return multiplyWithPairSetups(rt, pair, peers, () =>
    mulAliceRespond(
      pair.setups.peers[BOB]!.mulSender as MulSenderSetup,
      sid,
      seedOf('alice', label),
      [3n, 5n],
      msg,
      BOB,
    ),
  );
}

const outcome = (p: Promise<unknown>) =>
  p.then(
    () => 'ok',
    (e: unknown) => e,
  );

function expectRefused(e: unknown) {
  expect(e).toBeInstanceOf(ConclaveError);
  expect(e).not.toBeInstanceOf(OtSetupAborted);
  expect((e as ConclaveError).code).toBe('ABORTED');
  expect((e as Error).message).toMatch(/p1 retired its OT setup with p2 after a failed check/);
}

describe('the OT-abort window', () => {
  it('concurrent first loads of one pair setup open it once and share one object', async () => {
    const db = new FakePartyDb();
    db.put(setups);
    const rt = db.runtime();
    const [a, b, c] = await Promise.all([1, 2, 3].map(() => loadPairSetups(rt, tenant, keyId, version)));
    expect(db.secretReads).toBe(1);
    expect(a!.setups).toBe(b!.setups);
    expect(b!.setups).toBe(c!.setups);
    expect((await loadPairSetups(rt, tenant, keyId, version)).setups).toBe(a!.setups);
    expect(db.secretReads).toBe(1);
  });

  it('an honest multiplication runs its one check and retires nothing', async () => {
    const db = new FakePartyDb();
    db.put(setups);
    const rt = db.runtime();
    await aliceRound(rt, 'honest', false);
    await aliceRound(rt, 'honest-2', false);
    expect(kos.checks).toBe(2);
    expect(db.abortedPeers()).toEqual([]);
    expect(rt.retiredPairPeers.size).toBe(0);
  });

  it('concurrent rounds of one process: after the first failed check, the others are refused without a check', async () => {
    const db = new FakePartyDb();
    db.put(setups);
    const rt = db.runtime();
    // four rounds start together: all read the document and open the setups before any check
    let recordedWhenFailed: string[] | undefined;
    const rounds = [
      outcome(
        aliceRound(rt, 'r1', true).catch((e: unknown) => {
          recordedWhenFailed = db.abortedPeers();
          throw e;
        }),
      ),
      outcome(aliceRound(rt, 'r2', true)),
      outcome(aliceRound(rt, 'r3', false)),
      outcome(aliceRound(rt, 'r4', true)),
    ];
    const [first, ...rest] = await Promise.all(rounds);
    expect(first).toBeInstanceOf(OtSetupAborted);
    expect(first).toMatchObject({ code: 'TAMPERED', culprit: BOB });
    for (const e of rest) expectRefused(e);
    expect(kos.checks).toBe(1);
    expect(kos.afterFailure).toBe(0);
    // recorded in the database before the failure was returned
    expect(recordedWhenFailed).toEqual([BOB]);
    // the shared in-memory setups with the peer are marked, both directions
    const opened = (await loadPairSetups(rt, tenant, keyId, version)).setups.peers[BOB]!;
    expect(isOtSetupAborted(opened.mulSender as MulSenderSetup)).toBe(true);
    expect(isOtSetupAborted(opened.mulReceiver as MulReceiverSetup)).toBe(true);
    expectRefused(await outcome(aliceRound(rt, 'later', false)));
    expect(kos.checks).toBe(1);
  });

  it('a round holding setups the memo dropped and reopened is refused too (two objects, one Δ)', async () => {
    const db = new FakePartyDb();
    db.put(setups);
    db.put(setups, 'k-other');
    const rt = db.runtime(1);
    const { sid: sid1, msg: cheat } = bobMessage('evict-1', true);
    const { sid: sid2, msg: honest } = bobMessage('evict-2', false);
    const held = await loadPairSetups(rt, tenant, keyId, version);
    await loadPairSetups(rt, tenant, 'k-other', version); // the memo holds one setup: ours goes
    const reopened = await loadPairSetups(rt, tenant, keyId, version);
    expect(reopened.setups).not.toBe(held.setups);
    const respond = (pair: typeof held, sid: Uint8Array, msg: MulMsg1) => () =>
      mulAliceRespond(
        pair.setups.peers[BOB]!.mulSender as MulSenderSetup,
        sid,
        seedOf('a'),
        [3n, 5n],
        msg,
        BOB,
      );
    const [failed, second] = await Promise.all([
      outcome(multiplyWithPairSetups(rt, held, peers, respond(held, sid1, cheat))),
      outcome(multiplyWithPairSetups(rt, reopened, peers, respond(reopened, sid2, honest))),
    ]);
    expect(failed).toBeInstanceOf(OtSetupAborted);
    expectRefused(second);
    expect(kos.checks).toBe(1);
    expect(kos.afterFailure).toBe(0);
  });

  it('another process that read the document before the failure was recorded reads it again after opening the setups', async () => {
    const db = new FakePartyDb();
    db.put(setups);
    const old = db.runtime(); // the worker being replaced, with its setups open
    await aliceRound(old, 'warm', false);
    const fresh = db.runtime(); // its replacement, opening the setups for the first time
    const held = gate();
    db.beforeSecret = held.wait;
    const freshRound = outcome(aliceRound(fresh, 'fresh', false));
    await new Promise((r) => setTimeout(r, 20)); // the fresh process has read the document
    expect(db.abortedPeers()).toEqual([]);
    expect(await outcome(aliceRound(old, 'cheat', true))).toBeInstanceOf(OtSetupAborted);
    expect(db.abortedPeers()).toEqual([BOB]);
    held.open();
    expectRefused(await freshRound);
    expect(kos.checks).toBe(2); // 'warm' and 'cheat'
    expect(kos.afterFailure).toBe(0);
    // and a process started after the failure refuses from the document alone
    db.beforeSecret = async () => undefined;
    expectRefused(await outcome(aliceRound(db.runtime(), 'restarted', false)));
    expect(kos.afterFailure).toBe(0);
  });

  it('if the database does not take the retirement, this process still refuses and records it at the next attempt', async () => {
    const db = new FakePartyDb();
    db.put(setups);
    const rt = db.runtime();
    db.failUpdates = 1;
    await expect(aliceRound(rt, 'cheat', true)).rejects.toThrow('database unreachable');
    expect(db.abortedPeers()).toEqual([]);
    expectRefused(await outcome(aliceRound(rt, 'retry', false)));
    expect(db.abortedPeers()).toEqual([BOB]);
    expect(kos.checks).toBe(1);
    expect(kos.afterFailure).toBe(0);
  });

  it('refuses with a peer retired before this process started, without opening anything to check', async () => {
    const db = new FakePartyDb();
    db.put(setups);
    db.docs.get(pairSetupDocId(tenant, keyId, version))!.abortedPeers = [BOB];
    expectRefused(await outcome(aliceRound(db.runtime(), 'x', false)));
    expect(kos.checks).toBe(0);
  });
});
