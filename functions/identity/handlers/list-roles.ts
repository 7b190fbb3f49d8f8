import { httpHandler } from '../../platform/http';
import { httpRoutes } from '../../wiring';
import { roleMatrix } from '../roles';

/** The matrix depends only on the code: no table, nothing per tenant. */
export const handler = httpHandler(httpRoutes.listRoles, async () => roleMatrix());
