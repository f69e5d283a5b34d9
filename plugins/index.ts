/** The policy plugins every evaluation uses unless told otherwise, and a way to add more. */
import { ConclaveError } from '../src/errors.js';
import type { PolicyPlugin } from '../src/policy/types.js';
import { addressScreening } from './address-screening.js';
import { amountLimits } from './amount-limits.js';
import { businessHours } from './business-hours.js';
import { velocity } from './velocity.js';

export { addressScreening, amountLimits, businessHours, velocity };

export const defaultPlugins: PolicyPlugin[] = [addressScreening, businessHours, amountLimits, velocity];

/**
 * Adds a plugin to `list` (the default plugins unless given). Refuses a second plugin of the same
 * name or one that redefines another plugin's fact or operator: a rule must mean one thing.
 */
export function registerPlugin(plugin: PolicyPlugin, list: PolicyPlugin[] = defaultPlugins): PolicyPlugin[] {
  for (const p of list) {
    if (p.name === plugin.name)
      throw new ConclaveError('BAD_INPUT', `plugin ${plugin.name} is already registered`);
    const clash = [
      ...Object.keys(plugin.facts).filter((f) => Object.hasOwn(p.facts, f)),
      ...Object.keys(plugin.operators).filter((o) => Object.hasOwn(p.operators, o)),
    ];
    if (clash.length > 0) {
      throw new ConclaveError(
        'BAD_INPUT',
        `plugin ${plugin.name} redefines ${clash.join(', ')} of plugin ${p.name}`,
      );
    }
  }
  list.push(plugin);
  return list;
}
