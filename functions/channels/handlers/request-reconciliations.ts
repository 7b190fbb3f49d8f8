import { dbFromEnv } from '../../platform/db';
import { log } from '../../platform/log';
import { requestScheduledReconciliations } from '../reconcile';

/** Scheduled (functions/wiring.ts channelSchedules.requestReconciliations): a reconciliation of every connection, once per 15-minute slot. */
export const handler = async (): Promise<{ connections: number; requested: number }> => {
  const outcome = await requestScheduledReconciliations(dbFromEnv(), new Date());
  if (outcome.requested) log.info('channel reconciliations requested', outcome);
  return outcome;
};
