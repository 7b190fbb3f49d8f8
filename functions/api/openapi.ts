import { z, type ZodType } from 'zod';
import { errorResponse } from '../inventory/schemas';
import { entriesOf, httpRoutes, type HttpRoute } from '../wiring';

/**
 * GET /api/openapi.json, generated from the same zod schemas the handlers
 * validate with (zod's own JSON Schema output is draft 2020-12, the dialect
 * of OpenAPI 3.1).
 */
type JsonSchema = Record<string, unknown>;

const jsonSchema = (schema: ZodType, io: 'input' | 'output') => {
  const { $schema: _dialect, ...rest } = z.toJSONSchema(schema, { io, unrepresentable: 'any' });
  return rest;
};
const requestSchema = (schema: ZodType) => jsonSchema(schema, 'input');
const responseSchema = (schema: ZodType) => jsonSchema(schema, 'output');

const describeError: Record<number, string> = {
  400: 'Invalid input: every failing field is listed in error.details.fields',
  401: 'Missing or invalid bearer token',
  403: 'The token role lacks the permission this route needs',
  404: 'Unknown id (or one that belongs to another tenant)',
  409: 'Conflict: insufficient stock, stale expected_version/expected_available, or already exists',
  413: 'Body larger than 1 MiB',
  415: 'Body is not JSON',
  422: 'Idempotency-Key already used with a different request',
};

const parameters = (route: HttpRoute): unknown[] => {
  const list: unknown[] = [];
  const add = (where: 'path' | 'query', schema: ZodType | undefined): void => {
    if (!schema) return;
    const json = requestSchema(schema);
    for (const [name, property] of Object.entries(json.properties ?? {})) {
      list.push({ name, in: where, required: where === 'path' || (json.required ?? []).includes(name), schema: property });
    }
  };
  add('path', route.params);
  add('query', route.query);
  if (route.method === 'POST') {
    list.push({
      name: 'Idempotency-Key',
      in: 'header',
      required: false,
      description: 'Same key and body: the first response is returned and nothing changes. Same key, other body: 422.',
      schema: { type: 'string', pattern: '^[A-Za-z0-9_.:-]{1,128}$' },
    });
  }
  return list;
};

export const buildOpenApi = (): JsonSchema => {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const [operationId, declared] of entriesOf(httpRoutes)) {
    const route: HttpRoute = declared;
    const status = String(route.status ?? 200);
    const errors = [401, 403, ...(route.body ? [413, 415] : []), ...(route.errors ?? [])];
    const operations = (paths[route.path] ??= {});
    operations[route.method.toLowerCase()] = {
      operationId,
      summary: route.summary,
      'x-required-permission': route.permission,
      parameters: parameters(route),
      ...(route.body
        ? { requestBody: { required: true, content: { 'application/json': { schema: requestSchema(route.body) } } } }
        : {}),
      responses: {
        [status]: { description: 'Success', content: { 'application/json': { schema: responseSchema(route.response) } } },
        ...Object.fromEntries(
          [...new Set(errors)].sort().map((code) => [
            String(code),
            { description: describeError[code] ?? 'Error', content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } } },
          ]),
        ),
      },
    };
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'Stockroom inventory API',
      version: '0.1.0',
      description: 'Multi-tenant inventory: stock per SKU and warehouse, with an audit ledger. Quantities are integers; money is a decimal string.',
    },
    servers: [{ url: '/' }],
    security: [{ bearerAuth: [] }],
    components: {
      securitySchemes: { bearerAuth: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } },
      schemas: { Error: responseSchema(errorResponse) },
    },
    paths,
  };
};
