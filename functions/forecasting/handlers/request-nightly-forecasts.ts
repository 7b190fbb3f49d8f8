import { systemContext } from '../../platform/context';
import { dbFromEnv } from '../../platform/db';
import { lakeObjectsFromEnv } from '../../platform/lake-objects';
import { log } from '../../platform/log';
import { requestNightlyRuns } from '../run';

/** Scheduled (functions/wiring.ts scheduledFunctions.requestNightlyForecasts): each tenant's nightly run, once its lake has closed yesterday. */
export const handler = async (): Promise<{ tenants: number; requested: number }> => {
  const now = new Date();
  const db = dbFromEnv();
  const outcome = await requestNightlyRuns(lakeObjectsFromEnv(), (tenantId) => ({ db, ctx: systemContext({ tenantId, actor: 'system:forecaster', requestId: `nightly-${now.toISOString()}` }) }), now);
  if (outcome.requested.length) log.info('nightly forecasts requested', { tenants: outcome.requested });
  return { tenants: outcome.tenants, requested: outcome.requested.length };
};
