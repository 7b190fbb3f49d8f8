import { dbFromEnv } from '../../platform/db';
import { httpHandler } from '../../platform/http';
import { httpRoutes } from '../../wiring';
import { getReconciliation } from '../reconcile';

export const handler = httpHandler(httpRoutes.getReconciliation, ({ params, query }, ctx) => getReconciliation({ db: dbFromEnv(), ctx }, params.channel_id, params.reconciliation_id, query));
