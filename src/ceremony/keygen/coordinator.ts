/**
 * The coordinator's side of key generation. It holds no secret: it relays the rounds and, at
 * the end, accepts a key only if every party signed the same one.
 */
import type { Envelope } from '../../crypto/envelope.js';
import { CulpritError } from '../../errors.js';
import { openRound, roundHeader } from '../rounds.js';
import { keygenParams, type KeygenContext, type KeygenResultBody } from './contracts.js';

/**
 * Every party's signed result, opened; accepted only if all carry this ceremony's parameters
 * and the same key and transcript. Otherwise the minority (or, with no majority, every party
 * that ran with other parameters) is named.
 */
export function confirmResults(ctx: KeygenContext, results: Envelope[]): KeygenResultBody {
  const bodies = openRound<KeygenResultBody>(results, ctx.roster, (p) =>
    roundHeader(ctx, 'dkg-3', 'dkg-result', p.partyId, '*'),
  );
  const params = keygenParams(ctx);
  const votes = new Map<string, string[]>();
  for (const [party, body] of bodies) {
    const k = body.params === params ? `${body.publicKey}|${body.transcriptHash}` : 'wrong-params';
    votes.set(k, [...(votes.get(k) ?? []), party]);
  }
  const ranked = [...votes.entries()].sort((a, b) => b[1].length - a[1].length);
  if (ranked.length !== 1 || ranked[0]![0] === 'wrong-params') {
    const dissent = ranked.slice(1).flatMap(([, parties]) => parties);
    const culprits = dissent.length ? dissent : ranked[0]![1];
    throw new CulpritError(
      'DISAGREEMENT',
      culprits.join(','),
      'parties disagree on the group key or transcript',
    );
  }
  return bodies.get(ctx.roster[0]!.partyId)!;
}
