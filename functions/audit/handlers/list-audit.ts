import { ownDbFromEnv } from '../../platform/db';
import { httpHandler } from '../../platform/http';
import { httpRoutes } from '../../wiring';
import { listAudit } from '../trail';

export const handler = httpHandler(httpRoutes.listAudit, ({ query }, ctx) => listAudit({ db: ownDbFromEnv(), ctx }, query));
