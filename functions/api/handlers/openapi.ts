import { httpHandler } from '../../platform/http';
import { httpRoutes } from '../../wiring';
import { buildOpenApi } from '../openapi';

/** Built once per container: the document depends only on the code. */
let document: ReturnType<typeof buildOpenApi> | undefined;

export const handler = httpHandler(httpRoutes.openApi, async () => (document ??= buildOpenApi()));
