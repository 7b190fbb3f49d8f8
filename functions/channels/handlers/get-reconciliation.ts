import { dbFromEnv } from '../../platform/db';
import { httpHandler } from '../../platform/http';
import { channelRoutes } from '../routes';
import { getReconciliation } from '../reconcile';

export const handler = httpHandler(channelRoutes.getReconciliation, ({ params, query }, ctx) => getReconciliation({ db: dbFromEnv(), ctx }, params.channel_id, params.reconciliation_id, query));
