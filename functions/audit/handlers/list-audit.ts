import { ownDbFromEnv } from '../../platform/db';
import { httpHandler } from '../../platform/http';
import { auditRoutes } from '../routes';
import { listAudit } from '../trail';

export const handler = httpHandler(auditRoutes.listAudit, ({ query }, ctx) => listAudit({ db: ownDbFromEnv(), ctx }, query));
