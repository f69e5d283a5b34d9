import { ed25519 } from '@noble/curves/ed25519.js';
import { describe, expect, it } from 'vitest';
import {
  entryHash,
  genesisHash,
  signCheckpoint,
  verifyAuditChain,
  type AuditChainEntry,
  type AuditCheckpoint,
} from '../../src/audit/chain.js';
import { toHex } from '../../src/crypto/encoding.js';

const secret = ed25519.utils.randomSecretKey();
const publicKey = toHex(ed25519.getPublicKey(secret));
const other = toHex(ed25519.getPublicKey(ed25519.utils.randomSecretKey()));

function chain(n: number, tenant = 'acme'): AuditChainEntry[] {
  const out: AuditChainEntry[] = [];
  let prev = genesisHash;
  for (let seq = 1; seq <= n; seq++) {
    const e = {
      tenant,
      seq,
      at: `2026-11-21T10:00:${String(seq % 60).padStart(2, '0')}.000Z`,
      action: 'sign',
      actor: `user${seq}`,
      prevHash: prev,
    };
    const hash = entryHash(e);
    out.push({ ...e, hash });
    prev = hash;
  }
  return out;
}
const checkpoint = (e: AuditChainEntry): AuditCheckpoint =>
  signCheckpoint(secret, { tenant: e.tenant, seq: e.seq, hash: e.hash, at: e.at });

describe('audit chain', () => {
  const entries = chain(25);
  const cps = [checkpoint(entries[9]!), checkpoint(entries[19]!)];

  it('a whole chain verifies, in any order, with its head', () => {
    const r = verifyAuditChain('acme', [...entries].reverse(), cps, publicKey);
    expect(r).toMatchObject({
      ok: true,
      entries: 25,
      checkpoints: 2,
      head: { seq: 25, hash: entries[24]!.hash },
    });
    expect(verifyAuditChain('acme', [], [], publicKey)).toMatchObject({ ok: true, entries: 0 });
  });

  it('hashes change with any field, and key order does not matter', () => {
    const e = entries[0]!;
    const { hash: _h, ...rest } = e;
    expect(entryHash({ ...rest })).toBe(e.hash);
    expect(entryHash({ actor: rest.actor, ...rest })).toBe(e.hash);
    for (const change of [
      { actor: 'x' },
      { seq: 2 },
      { at: '2026-11-21T10:00:02.000Z' },
      { prevHash: 'ff'.repeat(32) },
      { extra: 1 },
    ])
      expect(entryHash({ ...rest, ...change }), JSON.stringify(change)).not.toBe(e.hash);
  });

  const broken = (list: AuditChainEntry[], c = cps, key: string | undefined = publicKey) =>
    verifyAuditChain('acme', list, c, key).broken;
  it.each<[string, () => ReturnType<typeof broken>, number, RegExp]>([
    [
      'an edited entry',
      () => broken(entries.map((e) => (e.seq === 7 ? { ...e, actor: 'mallory' } : e))),
      7,
      /entry 7 was changed/,
    ],
    ['a deleted entry', () => broken(entries.filter((e) => e.seq !== 13)), 13, /entry 13 is missing/],
    ['a duplicated entry', () => broken([...entries, entries[3]!]), 4, /appears twice/],
    [
      'a swapped pair',
      () =>
        broken(
          entries.map((e) =>
            e.seq === 3 ? { ...entries[3]!, seq: 3 } : e.seq === 4 ? { ...entries[2]!, seq: 4 } : e,
          ),
        ),
      3,
      /does not follow|changed/,
    ],
    [
      'an entry of another tenant',
      () => broken(entries.map((e) => (e.seq === 2 ? { ...e, tenant: 'globex' } : e))),
      2,
      /belongs to tenant globex/,
    ],
    ['a cut-off tail under a checkpoint', () => broken(entries.slice(0, 15)), 20, /no longer in the log/],
    [
      'a checkpoint under another key',
      () => broken(entries, cps, other),
      10,
      /not signed by the coordinator key/,
    ],
    [
      'no key to check checkpoints with',
      () => verifyAuditChain('acme', entries, cps, undefined).broken,
      10,
      /none given/,
    ],
    [
      'a forged checkpoint',
      () => broken(entries, [{ ...cps[0]!, hash: entries[8]!.hash }]),
      10,
      /not signed/,
    ],
  ])('finds %s', (_n, run, seq, why) => {
    const b = run();
    expect(b?.seq).toBe(seq);
    expect(b?.reason).toMatch(why);
  });

  it('a rewrite with every later hash recomputed is caught by the next checkpoint', () => {
    const rewritten = [...entries.slice(0, 11)];
    let prev = rewritten[10]!.hash;
    for (const e of entries.slice(11)) {
      const next = { ...e, prevHash: prev, ...(e.seq === 12 ? { actor: 'mallory' } : {}) };
      const hash = entryHash(next);
      rewritten.push({ ...next, hash });
      prev = hash;
    }
    expect(verifyAuditChain('acme', rewritten, [], publicKey).ok).toBe(true); // without checkpoints: undetectable
    expect(broken(rewritten)).toMatchObject({
      seq: 20,
      reason: expect.stringMatching(/checkpoint 20 signed/),
    });
  });
});
