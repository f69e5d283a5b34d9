/**
 * DKLs23 signing with the real OT-based multiplication (base OT, KOS extension, random vector
 * OLE) between two signers of a 2-of-3 key: the pairwise OT setup in both directions, then two
 * signatures, verified by node:crypto and by public-key recovery. The other signing tests use
 * an ideal multiplier; this one shows the pieces fit.
 */
import { sha256 } from '@noble/hashes/sha2.js';
import { describe, expect, it } from 'vitest';
import * as mul from '../../src/crypto/ecdsa/multiply.js';
import type { DklsPeerSetup } from '../../src/crypto/ecdsa/dkls-sign.js';
import {
  agreeZeroSeeds,
  deal,
  expectValidSignature,
  makeInputs,
  runSign,
  seedFor,
} from './ecdsa-sign-fixtures.js';

const sid = (label: string) => new TextEncoder().encode(`ot-setup|${label}`);

/** The OT setup in which `alice` sends to `bob`: Bob starts, Alice answers, Bob finishes. */
function setupPair(alice: string, bob: string) {
  const id = sid(`${alice}->${bob}`);
  const start = mul.otSetupReceiverStart(id, seedFor(bob, `ot-${alice}`));
  const sent = mul.otSetupSenderRespond(id, seedFor(alice, `ot-${bob}`), start.msg, bob);
  const got = mul.otSetupReceiverFinish(start.state, sent.msg, alice);
  return { sender: sent.setup, receiver: got.setup };
}

describe('DKLs23 with the real multiplication', () => {
  it('signs twice with a 2-of-3 key over fresh OT setups, and every signature verifies', () => {
    const { keys } = deal(2, 3, 'real-mul');
    const signers = [keys[0]!.identifier, keys[2]!.identifier];
    const [p, q] = signers as [string, string];
    const pq = setupPair(p, q);
    const qp = setupPair(q, p);
    const zeroSeeds = agreeZeroSeeds(signers);
    for (const n of [1, 2]) {
      const inputs = makeInputs(keys, zeroSeeds, signers, `5e55${String(n).padStart(2, '0')}`.repeat(8));
      const peer = (self: string, other: string): DklsPeerSetup => ({
        zeroSeed: zeroSeeds[self]![other]!,
        mulSender: self === p ? pq.sender : qp.sender,
        mulReceiver: self === p ? qp.receiver : pq.receiver,
      });
      inputs.get(p)!.peers = { [q]: peer(p, q) };
      inputs.get(q)!.peers = { [p]: peer(q, p) };
      const message = new TextEncoder().encode(`pay 1 ETH, #${n}`);
      const run = runSign(inputs, sha256(message), { mul, seedSalt: `real-${n}` });
      expect([...run.errors.values()]).toEqual([]);
      const [a, b] = [run.sigs.get(p)!, run.sigs.get(q)!];
      expect(a.compact).toBe(b.compact);
      expectValidSignature(a, keys[0]!.public.commitments[0]!, message);
    }
  });
});
