/**
 * The coordinator's side of a share change (rotation, reshare, recovery). It holds no secret: it
 * relays the rounds and moves the wallet to the new version only if every new party signed the
 * same public package, under the wallet's key.
 */
import type { Envelope } from '../../crypto/envelope.js';
import { samePublicPackage } from '../../crypto/frost.js';
import { CulpritError } from '../../errors.js';
import { openRound, roundHeader } from '../rounds.js';
import { reshareParams, type ReshareContext, type ReshareResultBody } from './contracts.js';

/**
 * Every new party's signed result, opened; accepted only if all carry this ceremony's parameters,
 * the wallet's key and the same public package as the first party's. Otherwise the first party
 * (in roster order) that does not is named.
 */
export function confirmResults(ctx: ReshareContext, results: Envelope[]): ReshareResultBody {
  const bodies = openRound<ReshareResultBody>(results, ctx.roster, (p) =>
    roundHeader(ctx, 'reshare-2', 'reshare-result', p.partyId, '*'),
  );
  const params = reshareParams(ctx);
  const first = bodies.get(ctx.roster[0]!.partyId)!;
  for (const [party, body] of bodies) {
    if (
      body.params !== params ||
      body.publicKey !== ctx.oldPublic.commitments[0] ||
      !samePublicPackage(body.public, first.public)
    ) {
      throw new CulpritError('DISAGREEMENT', party, `${party} reports another public package`);
    }
  }
  return first;
}
