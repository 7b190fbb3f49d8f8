import * as z from 'zod';
import { declareRoutes, handlerEntry, type HttpRoute } from '../platform/routes';

/**
 * The HTTP routes of this context, as functions/wiring.ts lists them in httpRoutes (same names, same
 * declarations): each handler of the context imports its own route from here, so its bundle holds this
 * context's schemas and not every context's. declareRoutes names them for the audit trail.
 */
export const apiRoutes = declareRoutes({
  openApi: {
    method: 'GET', path: '/api/openapi.json', entry: handlerEntry('api', 'openapi'),
    permission: 'api:read', table: 'none', summary: 'This API as an OpenAPI 3.1 document',
    response: z.record(z.string(), z.unknown()).describe('OpenAPI 3.1 document'),
  },
} as const satisfies Record<string, HttpRoute>);
