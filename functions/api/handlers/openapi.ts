import { httpHandler } from '../../platform/http';
import { apiRoutes } from '../routes';
import { buildOpenApi } from '../openapi';

/** Built once per container: the document depends only on the code. */
let document: ReturnType<typeof buildOpenApi> | undefined;

export const handler = httpHandler(apiRoutes.openApi, async () => (document ??= buildOpenApi()));
