import { entriesOf } from '../functions/wiring';

/** Whether `partial` has a value for every one of `keys`: what lets a record built key by key be typed as complete. */
const hasEvery = <K extends string, V>(partial: Partial<Record<K, V>>, keys: readonly K[]): partial is Record<K, V> =>
  keys.every((key) => partial[key] !== undefined);

/**
 * One value per entry of a wiring record (functions/wiring.ts httpRoutes,
 * eventConsumers, scheduledFunctions), built in declaration order and keyed
 * by the entry's name: `Record<Name, R>`, checked (not asserted) to hold
 * every name.
 */
export const mapRecord = <K extends string, V, R>(record: Record<K, V>, build: (name: K, entry: V) => R): Record<K, R> => {
  const built: Partial<Record<K, R>> = {};
  const entries = entriesOf(record);
  for (const [name, entry] of entries) built[name] = build(name, entry);
  const names = entries.map(([name]) => name);
  if (!hasEvery(built, names)) throw new Error(`no value built for ${names.filter((name) => built[name] === undefined).join(', ')}`);
  return built;
};
