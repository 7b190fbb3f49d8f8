import type { ZodType } from 'zod';
import type { Permission } from './permissions';

/**
 * The shape of one HTTP route in the wiring (functions/wiring.ts lists them):
 * what the HTTP layer needs to serve it, and what CDK, the local gateway and
 * OpenAPI read.
 */
export type HttpMethod = 'GET' | 'POST' | 'PATCH' | 'PUT' | 'DELETE';

export interface HttpRoute {
  method: HttpMethod;
  /** API Gateway syntax: `{name}` is a path parameter. */
  path: string;
  /** Module under the repo root exporting `handler`. */
  entry: string;
  permission: Permission;
  /** What the function may do to the table: least privilege in AWS. */
  table: 'none' | 'read' | 'write';
  summary: string;
  params?: ZodType;
  query?: ZodType;
  body?: ZodType;
  response: ZodType;
  /** Success status; 200 unless said. */
  status?: number;
  /**
   * The route's own domain statuses besides success (e.g. 409). What the HTTP
   * layer answers on any route (400, 401, 403, 413, 431, 503, 404 with a path id,
   * 415 with a body, 422 on a writing POST) is derived in functions/api/openapi.ts.
   */
  errors?: number[];
}

