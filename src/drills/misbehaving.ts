/**
 * A misbehaving party for fault drills and tests: decorators over a party's honest activities
 * that lie in one chosen way while everything else stays honest. Every lie is one a real
 * attacker holding the party's identity key could tell, so the honest parties must catch it and
 * abort naming this party:
 *
 * | mode            | what the party does                                                     | expected   |
 * | --------------- | ----------------------------------------------------------------------- | ---------- |
 * | `bad-share`     | sends DKG shares, correctly signed and encrypted, that fail its commitment | BAD_SHARE  |
 * | `bad-proof`     | re-signs its round-1 body with a proof of knowledge of another secret    | BAD_PROOF  |
 * | `bad-sig-share` | sends a correctly signed signature share that is wrong                   | BAD_SHARE  |
 * | `tamper-share`  | flips a byte of its DKG share messages after signing them                | TAMPERED   |
 * | `replay-round1` | sends its validly signed round-1 message of an older ceremony            | REPLAY     |
 * | `bad-ot`        | ECDSA: sends an OT-extension message that fails the consistency check    | TAMPERED   |
 *
 * The mode is read at each call, so one worker can switch between modes from run to run.
 */
import type { PartyActivities } from '../../activities/party/index.js';
import type { Envelope } from '../crypto/envelope.js';
import type { KeygenContext } from '../ceremony/keygen/contracts.js';
import type { SignContext } from '../ceremony/sign/contracts.js';
import { broadcastJson, sealBroadcast, sealDirect } from '../crypto/envelope.js';
import { fromHex, utf8 } from '../crypto/encoding.js';
import { dkgRound1 } from '../crypto/frost.js';
import { getScheme } from '../crypto/schemes.js';
import type { ErrorCode } from '../errors.js';
import type { PartyRuntime } from '../party/runtime.js';
import { ecdsaSignActivities } from '../../activities/party/ecdsa-sign.js';
import type { DklsRound1Msg } from '../crypto/ecdsa/dkls-sign.js';

export type MisbehaviourMode =
  'honest' | 'bad-share' | 'bad-proof' | 'bad-sig-share' | 'tamper-share' | 'replay-round1' | 'bad-ot';

export interface MisbehaviourCase {
  mode: Exclude<MisbehaviourMode, 'honest'>;
  /** What the case is called in reports. */
  title: string;
  ceremony: 'keygen' | 'sign' | 'ecdsa-sign';
  /** The code the ceremony must abort with. */
  expectedCode: ErrorCode;
}

export const misbehaviourCases: readonly MisbehaviourCase[] = [
  { mode: 'bad-share', title: 'wrong DKG share', ceremony: 'keygen', expectedCode: 'BAD_SHARE' },
  { mode: 'bad-proof', title: 'wrong proof of knowledge', ceremony: 'keygen', expectedCode: 'BAD_PROOF' },
  { mode: 'bad-sig-share', title: 'wrong signature share', ceremony: 'sign', expectedCode: 'BAD_SHARE' },
  { mode: 'tamper-share', title: 'tampered message', ceremony: 'keygen', expectedCode: 'TAMPERED' },
  { mode: 'replay-round1', title: 'replayed message', ceremony: 'keygen', expectedCode: 'REPLAY' },
  {
    mode: 'bad-ot',
    title: 'inconsistent OT extension (ECDSA)',
    ceremony: 'ecdsa-sign',
    expectedCode: 'TAMPERED',
  },
];

type Decorator = (honest: PartyActivities, rt: PartyRuntime) => PartyActivities;

const decodeBody = <T>(e: Envelope): T => broadcastJson<T>(e);
const headerOf = ({ tenant, ceremonyId, round, type, from, to }: Envelope) => ({
  tenant,
  ceremonyId,
  round,
  type,
  from,
  to,
});

/**
 * Decorators for `createPartyWorker({ partyId, decorate })`. `mode` is a fixed mode or a
 * function read at every call. The last honest round-1 message is remembered for replays, so
 * `replay-round1` needs one earlier key generation with this party.
 */
export function misbehavingParty(mode: MisbehaviourMode | (() => MisbehaviourMode)): Decorator {
  const current = typeof mode === 'function' ? mode : () => mode;
  return (honest, rt) => {
    let lastRound1: Envelope | undefined;
    // Bob's OT-extension columns with one bit flipped: well formed, signed, and inconsistent
    const lyingEcdsa = ecdsaSignActivities(rt, (round, msg) => {
      if (round !== 'ecdsa-1' || current() !== 'bad-ot') return msg;
      const m = msg as DklsRound1Msg & { mul: { ext: { u: string } } };
      const u = Buffer.from(m.mul.ext.u, 'base64');
      u[0] = u[0]! ^ 0x10;
      return { ...m, mul: { ...m.mul, ext: { ...m.mul.ext, u: u.toString('base64') } } };
    });
    return {
      ...honest,
      ecdsaSignRound1: lyingEcdsa.ecdsaSignRound1,
      async dkgRound1(ctx: KeygenContext) {
        const out = await honest.dkgRound1(ctx);
        const m = current();
        if (m === 'replay-round1' && lastRound1) return lastRound1; // validly signed, older ceremony
        if (m === 'bad-proof') {
          // The same commitments with a proof of knowledge of another polynomial's secret,
          // signed by this party: well formed, correctly signed, and false.
          const body = decodeBody<{ params: string; pkg: { identifier: string; proofOfKnowledge: string } }>(
            out,
          );
          const me = ctx.roster.find((p) => p.partyId === rt.partyId)!;
          const other = dkgRound1(getScheme(ctx.scheme), me.identifier, ctx.threshold, ctx.roster.length);
          const forged = { ...body, pkg: { ...body.pkg, proofOfKnowledge: other.pkg.proofOfKnowledge } };
          return sealBroadcast(headerOf(out), utf8(JSON.stringify(forged)), rt.identitySecret);
        }
        lastRound1 = out;
        return out;
      },
      async dkgRound2(ctx: KeygenContext, round1: Envelope[]) {
        const out = await honest.dkgRound2(ctx, round1);
        const m = current();
        if (m === 'tamper-share') {
          // flip one ciphertext byte after signing: the signature no longer matches
          return out.map((e) => ({ ...e, body: (e.body[0] === 'a' ? 'b' : 'a') + e.body.slice(1) }));
        }
        if (m === 'bad-share') {
          // a correctly signed and encrypted share that does not match this party's commitments
          return out.map((e) => {
            const peer = ctx.roster.find((p) => p.partyId === e.to)!;
            const share = '07'.padEnd(64, '0');
            return sealDirect(
              headerOf(e),
              utf8(JSON.stringify({ share })),
              rt.identitySecret,
              fromHex(peer.transportPublic, 'transport key'),
            );
          });
        }
        return out;
      },
      async signRound2(ctx: SignContext, commitments: Envelope[]) {
        const out = await honest.signRound2(ctx, commitments);
        if (current() !== 'bad-sig-share') return out;
        const body = decodeBody<{ request: string; shares: string[] }>(out);
        const forged = {
          ...body,
          shares: body.shares.map((s) => s.replace(/^../, (b) => (b === '01' ? '02' : '01'))),
        };
        return sealBroadcast(headerOf(out), utf8(JSON.stringify(forged)), rt.identitySecret);
      },
    };
  };
}
