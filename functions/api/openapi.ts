import * as z from 'zod';
import type { ZodType } from 'zod';
import type { $ZodType } from 'zod/v4/core';
import { permissionToSee, withheldColumns } from '../platform/sensitive';
import { AppError, type ErrorCode } from '../platform/errors';
import { IDEMPOTENCY_KEY_PATTERN } from '../platform/idempotency';
import { isWebhookRoute, type WebhookRoute } from '../platform/routes';
import { entriesOf, healthRoute, httpRoutes, type HttpRoute } from '../wiring';

/**
 * GET /api/openapi.json, generated from the same zod schemas the handlers
 * validate with (zod's own JSON Schema output is draft 2020-12, the dialect
 * of OpenAPI 3.1). The error statuses an operation documents are derived
 * from its declaration (what the HTTP layer does to every route of its kind)
 * plus the domain statuses its `errors` list names, so they cannot drift
 * from the code; test/support/contract.ts holds every response the
 * integration tests receive to this document.
 */
type JsonSchema = Record<string, unknown>;

type Override = NonNullable<NonNullable<Parameters<typeof z.toJSONSchema>[1]>['override']>;

const jsonSchema = (schema: ZodType, io: 'input' | 'output', override?: Override): JsonSchema => {
  const { $schema: _dialect, ...rest } = z.toJSONSchema(schema, { io, unrepresentable: 'any', ...(override ? { override } : {}) });
  return rest;
};

/** What a field only some roles are shown says in its description. */
export const shownOnlyWithNote = (permission: string): string => `Only for roles with the ${permission} permission: left out of the answer (JSON or CSV) for others.`;

/**
 * A response field tagged with shownOnlyWith (functions/platform/sensitive.ts) is left out for roles without its
 * permission: the document makes it optional in its object and says who sees it.
 */
const sensitiveFields: Override = (ctx) => {
  const needs = permissionToSee(ctx.zodSchema);
  if (needs !== undefined) {
    const own = typeof ctx.jsonSchema.description === 'string' ? `${ctx.jsonSchema.description}. ` : '';
    ctx.jsonSchema.description = `${own}${shownOnlyWithNote(needs)}`;
  }
  if (ctx.zodSchema instanceof z.ZodObject && Array.isArray(ctx.jsonSchema.required)) {
    const shape: Record<string, $ZodType> = ctx.zodSchema.shape;
    ctx.jsonSchema.required = ctx.jsonSchema.required.filter((name) => {
      const field = shape[name];
      return field === undefined || permissionToSee(field) === undefined;
    });
  }
};

const requestSchema = (schema: ZodType) => jsonSchema(schema, 'input');
const responseSchema = (schema: ZodType) => jsonSchema(schema, 'output', sensitiveFields);

/**
 * What each error code means to a caller. Exhaustive on purpose: a new code
 * does not compile until it is documented here, and its status comes from
 * the AppError table itself.
 */
const errorCodes: Record<ErrorCode, string> = {
  VALIDATION_FAILED: 'A path parameter, query parameter, header or body field is invalid; each is listed in details.fields',
  MALFORMED_JSON: 'The body is not valid JSON',
  UNAUTHORIZED: 'Missing, invalid or expired bearer token (on a webhook route: a signature that does not verify)',
  FORBIDDEN: "The token role lacks the permission this route needs, or the request touches a warehouse outside the user's warehouse scope (details.warehouse_ids names them)",
  NOT_FOUND: 'An id that does not exist (or belongs to another tenant)',
  ROUTE_NOT_FOUND: 'No route has this path',
  METHOD_NOT_ALLOWED: 'The path exists, but not with this method',
  HEADERS_TOO_LARGE: 'The request headers are larger than the limit',
  MALFORMED_REQUEST: 'The request itself cannot be read (for example a malformed percent-encoding in the path)',
  INSUFFICIENT_STOCK: 'Not enough stock for the change',
  VERSION_CONFLICT: 'expected_version or expected_available is stale',
  CONFLICT: 'The state does not allow this (or the data kept changing under the request); nothing was applied',
  ALREADY_EXISTS: 'The id exists already (details shows the existing one where it helps)',
  PAYLOAD_TOO_LARGE: 'The body is larger than the limit',
  UNSUPPORTED_MEDIA_TYPE: 'The body is not sent as JSON (or as CSV, on a route that documents text/csv)',
  IDEMPOTENCY_KEY_REUSED: 'The Idempotency-Key was already used with a different request',
  REPORT_TOO_LARGE: 'The report would read more lake rows than one answer carries: narrow it (a SKU, a shorter window)',
  TIMEOUT: 'The request ran out of time; retry it with the same Idempotency-Key',
  UNAVAILABLE: 'The database is unavailable, throttled or slow; retry after Retry-After seconds with the same Idempotency-Key',
  INTERNAL: 'A bug on our side; it is logged',
};

const statusOf = (code: ErrorCode): number => new AppError(code, '').status;
const retriable = (code: ErrorCode): boolean => new AppError(code, '').retryAfterSeconds !== undefined;

/** The codes a status can carry, from the AppError table (so a code's status is never restated here). */
const codesByStatus: ReadonlyMap<number, readonly ErrorCode[]> = (() => {
  const map = new Map<number, ErrorCode[]>();
  for (const [code] of entriesOf(errorCodes)) {
    const status = statusOf(code);
    map.set(status, [...(map.get(status) ?? []), code]);
  }
  return map;
})();

const describeStatus: Record<number, string> = {
  400: 'Invalid input: a malformed path id, query, Idempotency-Key or body (or a body on a route that takes none); every failing field is listed in error.details.fields',
  401: 'Missing or invalid bearer token',
  403: "The token role lacks the permission this route needs, or the request touches a warehouse outside the user's warehouse scope",
  404: 'Unknown id (or one that belongs to another tenant)',
  405: 'The path exists, but not with this method; Allow lists the methods it has',
  409: 'Conflict: insufficient stock, stale expected_version/expected_available, a state that does not allow it, or already exists',
  413: 'Body larger than 1 MiB',
  415: 'Body is not JSON (nor CSV, where the request body documents text/csv)',
  422: 'Idempotency-Key already used with a different request',
  431: 'Request headers too large',
  503: 'The database is unavailable, throttled or slow, or the request ran out of time: retry after Retry-After seconds with the same Idempotency-Key',
};

const allowHeader = { Allow: { required: true, description: 'The methods this path has, comma-separated', schema: { type: 'string' } } };
const retryAfterHeader = { 'Retry-After': { required: true, description: 'Seconds to wait before retrying', schema: { type: 'integer', minimum: 0 } } };

/** Headers that come with an error status whatever the route: Retry-After where every code of the status is retriable. */
const headersOfStatus = (status: number, codes: readonly ErrorCode[] | undefined): Record<string, unknown> | undefined => {
  if (status === 405) return allowHeader;
  if (codes && codes.length > 0 && codes.every(retriable)) return retryAfterHeader;
  return undefined;
};

const errorSchemaName = (status: number): string => `Error${status}`;

/** The one error shape, its code limited to those of the status. */
const errorSchema = (codes: readonly ErrorCode[] | undefined): JsonSchema => ({
  type: 'object',
  properties: {
    error: {
      type: 'object',
      properties: {
        code: codes ? { type: 'string', enum: codes, description: codes.map((code) => `${code}: ${errorCodes[code]}`).join('. ') } : { type: 'string' },
        message: { type: 'string' },
        details: { type: 'object', description: 'What the caller needs to act on it (empty when there is nothing to add)' },
      },
      required: ['code', 'message', 'details'],
      additionalProperties: false,
    },
  },
  required: ['error'],
  additionalProperties: false,
});

const errorResponse = (status: number): JsonSchema => {
  const headers = headersOfStatus(status, codesByStatus.get(status));
  return {
    description: describeStatus[status] ?? 'Error',
    ...(headers ? { headers } : {}),
    content: { 'application/json': { schema: { $ref: `#/components/schemas/${errorSchemaName(status)}` } } },
  };
};

/**
 * Every status an operation can answer besides success: what the HTTP layer
 * does to every route of its kind, and the domain statuses the route names.
 */
export const errorStatusesOf = (route: HttpRoute): number[] => {
  if (isWebhookRoute(route)) {
    // No token or role (403), no path id (404), no media type check or Idempotency-Key (415, 422): a signature that
    // does not verify (401); a verified request without the platform's delivery headers (400).
    return [...new Set([400, 401, 413, 431, 503, ...(route.errors ?? [])])].sort((a, b) => a - b);
  }
  const derived = [
    // A malformed path id, query or Idempotency-Key, a malformed body, or a body on a route that takes none.
    400,
    // Every route is behind the JWT authorizer and needs a permission.
    401,
    403,
    // An unknown (or another tenant's) id in the path.
    ...(route.params ? [404] : []),
    // The size limit applies to every route, with or without a body.
    413,
    ...(route.body ? [415] : []),
    // Every writing POST takes an Idempotency-Key.
    ...(route.method === 'POST' && route.table === 'write' ? [422] : []),
    431,
    // The database unavailable, throttled or slow, or the request out of time.
    503,
  ];
  return [...new Set([...derived, ...(route.errors ?? [])])].sort((a, b) => a - b);
};

const parameters = (route: HttpRoute): unknown[] => {
  const list: unknown[] = [];
  const add = (where: 'path' | 'query' | 'header', schema: ZodType | undefined): void => {
    if (!schema) return;
    const json = requestSchema(schema);
    const properties = z.record(z.string(), z.unknown()).catch({}).parse(json.properties);
    const required = z.array(z.string()).catch([]).parse(json.required);
    for (const [name, property] of Object.entries(properties)) {
      list.push({ name, in: where, required: where === 'path' || required.includes(name), schema: property });
    }
  };
  add('path', route.params);
  add('query', route.query);
  // A webhook route takes no Idempotency-Key: the platform names each delivery in its own headers.
  if (isWebhookRoute(route)) {
    add('header', route.headers);
    return list;
  }
  if (route.csv) {
    const lists = Object.keys(route.csv.lists);
    list.push(
      { name: 'format', in: 'query', required: false, description: 'json (the default) or csv; Accept: text/csv asks for CSV too', schema: { type: 'string', enum: ['json', 'csv'] } },
      { name: 'list', in: 'query', required: false, description: `with format=csv: which rows of the result (default ${lists[0] ?? ''})`, schema: { type: 'string', enum: lists } },
    );
  }
  if (route.method === 'POST') {
    list.push({
      name: 'Idempotency-Key',
      in: 'header',
      required: false,
      description:
        'Same key and body: nothing changes again and the first answer is returned; except that a stock change without expected_version or expected_available ' +
        '(written as a blind increment) answers with its levels read back, then and on a replay, so they show every change since. Same key, other body: 422.',
      schema: { type: 'string', pattern: IDEMPOTENCY_KEY_PATTERN.source },
    });
  }
  return list;
};

/** A CSV route's text/csv answer: its columns per list, as `x-csv-columns` (what the contract tests check the header line against). */
const csvContent = (route: HttpRoute): Record<string, unknown> =>
  route.csv
    ? {
        'text/csv': {
          schema: { type: 'string' },
          'x-csv-columns': Object.fromEntries(Object.entries(route.csv.lists).map(([name, row]) => [name, Object.keys(row.shape)])),
          // The columns left out whole for roles without the permission each names (functions/platform/sensitive.ts).
          'x-csv-withheld-columns': Object.fromEntries(Object.entries(route.csv.lists).map(([name, row]) => [name, withheldColumns(row)])),
          ...(route.csv.headers ? { 'x-csv-headers': Object.values(route.csv.headers) } : {}),
        },
      }
    : {};

/**
 * A route that also takes its body as CSV (routes.ts CsvBody): text/csv, with the columns its header
 * row must name (`x-csv-columns`) and the JSON body each data row becomes a row of.
 */
const csvBodyContent = (route: HttpRoute): Record<string, unknown> =>
  route.csvBody
    ? {
        'text/csv': {
          schema: {
            type: 'string',
            description:
              `RFC 4180 CSV: a header row naming the columns ${Object.keys(route.csvBody.columns).join(', ')} (any order, each once), then one data row per line; ` +
              `read as the JSON body {"${route.csvBody.field}": [one object per data row]}, numbers in ${Object.entries(route.csvBody.columns).filter(([, kind]) => kind === 'number').map(([name]) => name).join(', ') || 'no column'} read as JSON numbers`,
          },
          'x-csv-columns': Object.keys(route.csvBody.columns),
        },
      }
    : {};

/** A webhook route's own 401 (the shared one speaks of bearer tokens), and how its signature is made. */
const webhookOperation = (route: WebhookRoute): JsonSchema => ({
  security: [],
  'x-signature': {
    header: 'X-Shopify-Hmac-Sha256',
    algorithm: 'HMAC-SHA256 of the raw body bytes, base64',
    key: "the webhook_secret of the shop's connection (X-Shopify-Shop-Domain)",
  },
  description: `${route.summary}. No bearer token: the request is verified by its signature before anything is read or written.`,
});

export const buildOpenApi = (): JsonSchema => {
  const paths: Record<string, Record<string, unknown>> = {};
  const usedStatuses = new Set<number>([404, 405, 431]);
  for (const [operationId, declared] of entriesOf(httpRoutes)) {
    const route: HttpRoute = declared;
    const status = String(route.status ?? 200);
    const errors = errorStatusesOf(route);
    for (const error of errors) usedStatuses.add(error);
    const operations = (paths[route.path] ??= {});
    const signed = isWebhookRoute(route);
    operations[route.method.toLowerCase()] = {
      operationId,
      summary: route.summary,
      ...(signed ? webhookOperation(route) : { 'x-required-permission': route.permission }),
      parameters: parameters(route),
      ...(route.body ? { requestBody: { required: true, content: { 'application/json': { schema: requestSchema(route.body) }, ...csvBodyContent(route) } } } : {}),
      responses: {
        [status]: { description: 'Success', content: { 'application/json': { schema: responseSchema(route.response) }, ...csvContent(route) } },
        ...(route.accepted
          ? {
              '202': {
                description: 'Still running: poll the Location (GET /api/reports/queries/{query_id}) for the result',
                headers: { Location: { required: true, schema: { type: 'string' } } },
                content: { 'application/json': { schema: responseSchema(route.accepted) } },
              },
            }
          : {}),
        ...Object.fromEntries(errors.map((code) => [String(code), errorResponse(code)])),
        ...(signed ? { '401': { ...errorResponse(401), description: 'The signature is missing or does not verify, or the shop is connected to no channel (the answer does not say which); nothing was written' } } : {}),
      },
    };
  }
  usedStatuses.add(503);
  paths[healthRoute.path] = {
    [healthRoute.method.toLowerCase()]: {
      operationId: 'health',
      summary: healthRoute.summary,
      description: 'No bearer token: anyone may ask. The answer says only whether the API can serve, its version and how long the answering process has run.',
      security: [],
      responses: {
        '200': {
          description: 'The table answers',
          content: {
            'application/json': {
              schema: {
                type: 'object',
                additionalProperties: false,
                required: ['status', 'version', 'uptime_seconds'],
                properties: { status: { const: 'ok' }, version: { type: 'string' }, uptime_seconds: { type: 'integer', minimum: 0 } },
              },
            },
          },
        },
        '503': errorResponse(503),
      },
    },
  };
  return {
    openapi: '3.1.0',
    info: {
      title: 'Stockroom inventory API',
      version: '0.1.0',
      description:
        'Multi-tenant inventory: stock per SKU and warehouse, with an audit ledger. Quantities are integers; money is a decimal string. ' +
        'Every error is {"error": {"code", "message", "details"}}. A path no route has answers components/responses/RouteNotFound; ' +
        'a path that exists with another method answers components/responses/MethodNotAllowed; ' +
        'headers over the limit answer components/responses/HeadersTooLarge on any path.',
    },
    servers: [{ url: '/' }],
    security: [{ bearerAuth: [] }],
    components: {
      securitySchemes: { bearerAuth: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } },
      schemas: {
        Error: errorSchema(undefined),
        ...Object.fromEntries([...usedStatuses].sort((a, b) => a - b).map((s) => [errorSchemaName(s), errorSchema(codesByStatus.get(s))])),
      },
      responses: {
        RouteNotFound: errorResponse(404),
        MethodNotAllowed: errorResponse(405),
        // The gateway reads the headers before it knows the route.
        HeadersTooLarge: errorResponse(431),
      },
    },
    paths,
  };
};
