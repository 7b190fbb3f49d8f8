import { lakeObjectsFromEnv } from '../../platform/lake-objects';
import { log } from '../../platform/log';
import { closeLake, type TenantClose } from '../close';

/** Scheduled (functions/wiring.ts scheduledFunctions.closeLake): closes every finished day of every tenant's lake. */
export const handler = async (): Promise<{ tenants: number; days_closed: number; checkpoints: number }> => {
  const closes: TenantClose[] = await closeLake({ objects: lakeObjectsFromEnv(), now: () => new Date() });
  const outcome = { tenants: closes.length, days_closed: closes.reduce((n, c) => n + c.closed.length, 0), checkpoints: closes.reduce((n, c) => n + c.checkpoints.length, 0) };
  if (outcome.days_closed || outcome.checkpoints) log.info('lake closed', outcome);
  return outcome;
};
