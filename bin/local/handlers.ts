import { resolve } from 'node:path';

const ROOT = resolve(__dirname, '../..');

/** Any Lambda handler signature (the trigger's event and Lambda's context in, a result out). */
type Handler = (...args: never[]) => unknown;

/**
 * What can be checked of an exported handler at runtime: that it is a
 * function. Its signature cannot be checked; that it takes the event of its
 * trigger is what the wiring entry it was imported for declares (an HTTP
 * route, an event consumer, a schedule), and the handler module is typed
 * against that trigger's event where it is written.
 */
const isHandler = <H extends Handler>(value: unknown): value is H => typeof value === 'function';

/**
 * The `handler` export of a wiring entry's module (`entry` is relative to the
 * repo root, as in functions/wiring.ts), imported as Lambda would load it.
 */
export const importHandler = async <H extends Handler>(entry: string): Promise<H> => {
  const module: unknown = await import(resolve(ROOT, entry));
  const handler = typeof module === 'object' && module !== null && 'handler' in module ? module.handler : undefined;
  if (!isHandler<H>(handler)) throw new Error(`${entry} does not export a handler`);
  return handler;
};
