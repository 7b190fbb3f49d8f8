import { httpHandler } from '../../platform/http';
import { roleRoutes } from '../routes';
import { roleMatrix } from '../roles';

/** The matrix depends only on the code: no table, nothing per tenant. */
export const handler = httpHandler(roleRoutes.listRoles, async () => roleMatrix());
