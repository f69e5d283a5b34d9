/**
 * A worker that kills itself with SIGKILL at one chosen step, for crash tests of ceremonies:
 * a real process death at a known point, with no chance to finish or clean up anything.
 *
 *   node --import tsx src/drills/crash-at.ts party <partyId> <activity>:<before|after>
 *   node --import tsx src/drills/crash-at.ts coordinator <activity>:<before|after>
 *
 * `before`: dies when the step is handed to it, having done nothing. `after`: dies once the step
 * has done all its work (stored its output, sent nothing back). Every other step is honest.
 */
import { closeAllDbs } from '../store/mongo.js';
import { createCoordinatorWorker } from '../worker/coordinator.js';
import { runUntilSignal } from '../worker/lifecycle.js';
import { createPartyWorker } from '../worker/party.js';

type Activities = Record<string, (...args: never[]) => Promise<unknown>>;

export function crashAt<T extends object>(activities: T, spec: string, die: () => never): T {
  const [name, when] = spec.split(':');
  const table = activities as unknown as Activities;
  const honest = name ? table[name] : undefined;
  if (!honest || (when !== 'before' && when !== 'after')) {
    throw new Error(`crash point must be <activity>:<before|after> of a known activity, got "${spec}"`);
  }
  return {
    ...activities,
    [name!]: async (...args: never[]) => {
      if (when === 'before') die();
      await honest(...args);
      die();
    },
  } as T;
}

const killSelf = (): never => {
  process.kill(process.pid, 'SIGKILL');
  throw new Error('unreachable');
};

if (import.meta.url === `file://${process.argv[1]}`) {
  const [kind, ...rest] = process.argv.slice(2);
  if (kind === 'party' && rest.length === 2) {
    const [partyId, spec] = rest as [string, string];
    await runUntilSignal(
      `party ${partyId} (crashes at ${spec})`,
      () => createPartyWorker({ partyId, decorate: (honest) => crashAt(honest, spec, killSelf) }),
      closeAllDbs,
    );
  } else if (kind === 'coordinator' && rest.length === 1) {
    const spec = rest[0]!;
    await runUntilSignal(
      `coordinator (crashes at ${spec})`,
      () => createCoordinatorWorker({ decorate: (a) => crashAt(a, spec, killSelf) }),
      closeAllDbs,
    );
  } else {
    console.error(
      'usage: crash-at.ts party <partyId> <activity>:<before|after> | coordinator <activity>:<before|after>',
    );
    process.exit(2);
  }
}
