import { dbFromEnv } from '../../platform/db';
import { log } from '../../platform/log';
import { expireHolds } from '../orders';

/** Scheduled (functions/wiring.ts scheduledFunctions.expireHolds): releases every hold past its expiry. */
export const handler = async (): Promise<{ released: number; failed: number }> => {
  const outcome = await expireHolds(dbFromEnv());
  if (outcome.released || outcome.failed) log.info('expired holds released', outcome);
  return outcome;
};
