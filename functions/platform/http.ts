import middy, { type MiddlewareObj } from '@middy/core';
import type {
  APIGatewayProxyEventV2,
  APIGatewayProxyEventV2WithJWTAuthorizer,
  APIGatewayProxyStructuredResultV2,
  Context,
} from 'aws-lambda';
import * as z from 'zod';
import type { ZodType } from 'zod';
import { CLAIMS, isRole, permissionsOf, type Permission } from './permissions';
import type { RequestContext, UserCaller } from './context';
import { AppError, errorBody, errorHeaders, errorMessage, unavailabilityOf, unavailable, validationFailed, type FieldIssue } from './errors';
import { fingerprint, IDEMPOTENCY_KEY_PATTERN, type Idempotency } from './idempotency';
import { ID_PATTERN } from './ids';
import { CORRELATION_ID_PATTERN, log, withLogContext } from './log';
import { inTraceSegment } from './tracing';
import { countMetric, METRIC_NAMES, publishMetrics, withCounters, type RouteClass, type Values as MetricValues } from './metrics';
import { routeNameOf, type CsvAnswer, type CsvBody, type HttpRoute, type TokenRoute, type WebhookRoute } from './routes';
import { CsvSyntaxError, parseCsv, type CsvRecord } from './csv';
import { Accepted, toCsv } from './answers';
import { columnsShown, withheldFrom } from './sensitive';
import { inTenantScope } from './tenant-guard';
import { inAuditScope, newAuditScope } from './audit-scope';
import { AUDIT_TRAIL_ENV, auditItem, auditKindOf, auditPut, writeAuditRecord, type AuditRequest } from './audit';
import { dbFromEnv, ownDbFromEnv } from './db';
import { auditTableName } from './table';
import { userStatusOf } from './user-status';

export type HttpEvent = APIGatewayProxyEventV2WithJWTAuthorizer;
/** What a route without an authorizer (a webhook route) receives: the same event, with no authorizer claims. */
export type SignedHttpEvent = APIGatewayProxyEventV2;
export type HttpResult = APIGatewayProxyStructuredResultV2;
/** Either event: what the request log and the error mapper read of both. */
type AnyHttpEvent = HttpEvent | SignedHttpEvent;

/** Time kept back from the Lambda timeout to answer cleanly after the last retry. */
const DEADLINE_MARGIN_MS = 3_000;

/** Bodies above this are refused with 413 before parsing, on every route (API Gateway itself stops at 10 MB). */
export const MAX_BODY_BYTES = 1024 * 1024;

const toIssues = (part: Part, error: z.ZodError): FieldIssue[] =>
  error.issues.map((issue) => ({
    in: part,
    path: issue.path.map(String).join('.'),
    message:
      issue.code === 'unrecognized_keys' ? `unknown field(s): ${issue.keys.join(', ')}` : issue.message,
  }));

type Part = NonNullable<FieldIssue['in']>;

const parsePart = (part: Part, schema: ZodType | undefined, value: unknown, issues: FieldIssue[]): unknown => {
  if (!schema) return undefined;
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  issues.push(...toIssues(part, parsed.error));
  return undefined;
};

const header = (event: AnyHttpEvent, name: string): string | undefined => event.headers?.[name] ?? event.headers?.[name.toLowerCase()];

const callerOf = (event: HttpEvent): UserCaller => {
  const claims = event.requestContext.authorizer?.jwt?.claims ?? {};
  const tenantId = claims[CLAIMS.tenant];
  const role = claims[CLAIMS.role];
  const subject = claims[CLAIMS.subject];
  // The JWT authorizer (API Gateway, or the local server) has verified the token; a token without
  // these claims is still not one this API can serve.
  if (typeof tenantId !== 'string' || !ID_PATTERN.test(tenantId) || !isRole(role) || typeof subject !== 'string') {
    throw new AppError('UNAUTHORIZED', 'the bearer token lacks a valid tenant, role or subject claim');
  }
  const email = claims[CLAIMS.email];
  const warehouseIds = warehouseScopeOf(claims[CLAIMS.warehouses]);
  return {
    kind: 'user',
    tenantId,
    role,
    subject,
    ...(typeof email === 'string' && email !== '' ? { email } : {}),
    ...(warehouseIds === undefined ? {} : { warehouseIds }),
  };
};

/**
 * The warehouse scope a token names (CLAIMS.warehouses, comma-separated ids): absent or empty, every warehouse.
 * A claim that is not a list of ids is a token this API cannot serve: refusing it is safer than reading it as "all".
 */
const warehouseScopeOf = (claim: unknown): readonly string[] | undefined => {
  if (claim === undefined || claim === '') return undefined;
  const ids = typeof claim === 'string' ? claim.split(',').map((id) => id.trim()) : [];
  if (ids.length === 0 || !ids.every((id) => ID_PATTERN.test(id))) {
    throw new AppError('UNAUTHORIZED', 'the bearer token names its warehouse scope in a form this API cannot read');
  }
  return ids;
};

/**
 * The caller as the user directory has them now (functions/platform/user-status.ts): a token of a user who
 * is unknown (deleted, or never created) or disabled is refused as a token (401), not as a permission (403);
 * otherwise the record's role, warehouse scope and e-mail replace what the token says, so a demotion or a
 * scope change applies within the status cache's TTL, whatever the token still claims.
 */
/** A user id as tokens carry it: Cognito's sub (a UUID), or a local id; at most 128 characters, no spaces. */
const SUBJECT_PATTERN = /^\S{1,128}$/;

const directoryCallerOf = async (token: UserCaller): Promise<UserCaller> => {
  // The subject is the record's sort key: one no key can hold is no user's (DynamoDB would refuse the read, a 500).
  if (!SUBJECT_PATTERN.test(token.subject)) throw new AppError('UNAUTHORIZED', 'the bearer token names its subject in a form this API cannot read');
  const status = await userStatusOf(dbFromEnv(), token.tenantId, token.subject);
  if (status === undefined || status.disabled) {
    throw new AppError('UNAUTHORIZED', "this user's access was revoked: the token's user is disabled or no longer exists");
  }
  return {
    kind: 'user',
    tenantId: token.tenantId,
    subject: token.subject,
    role: status.role,
    email: status.email,
    ...(status.warehouseIds === undefined ? {} : { warehouseIds: status.warehouseIds }),
  };
};

/** The body's bytes (empty when there is none); too large a body is refused whatever the route (a GET's counts too). */
const bodyBytes = (event: AnyHttpEvent): Buffer => {
  if (event.body === undefined || event.body === null || event.body === '') return Buffer.alloc(0);
  const bytes = event.isBase64Encoded ? Buffer.from(event.body, 'base64') : Buffer.from(event.body, 'utf8');
  if (bytes.length > MAX_BODY_BYTES) {
    throw new AppError('PAYLOAD_TOO_LARGE', `the body exceeds ${MAX_BODY_BYTES} bytes`, { max_bytes: MAX_BODY_BYTES });
  }
  return bytes;
};

/** The body's text, undefined when there is none. */
const bodyText = (event: HttpEvent): string | undefined => {
  const bytes = bodyBytes(event);
  return bytes.length === 0 ? undefined : bytes.toString('utf8');
};

const NO_BODY: FieldIssue = { in: 'body', path: '', message: 'this route takes no body: send the request without one' };

const JSON_TYPE = /^application\/([a-z.+-]*\+)?json\b/i;
const CSV_TYPE = /^text\/csv\b/i;

const readJsonBody = (raw: string): unknown => {
  try {
    return JSON.parse(raw);
  } catch (error) {
    throw new AppError('MALFORMED_JSON', `the body is not valid JSON: ${errorMessage(error)}`);
  }
};

/** A JSON number literal, the only CSV text a 'number' column turns into a number. */
const JSON_NUMBER = /^-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?$/;

/**
 * A CSV body as the JSON body it stands for (routes.ts CsvBody). A header row that lacks a
 * column, names one twice or names one the route does not take, a data row with another
 * number of fields than the header, and broken quoting are 400s naming the line.
 */
const readCsvBody = (raw: string, spec: CsvBody): unknown => {
  const refuse = (message: string): never => {
    throw validationFailed([{ in: 'body', path: '', message }]);
  };
  const parsed = ((): CsvRecord[] => {
    try {
      return parseCsv(raw);
    } catch (error) {
      if (error instanceof CsvSyntaxError) return refuse(`the body is not valid CSV: ${error.message}`);
      throw error;
    }
  })();
  const [header, ...data] = parsed;
  const wanted = Object.keys(spec.columns);
  if (!header) return refuse(`the CSV body has no header row: it must name the columns ${wanted.join(', ')}`);
  const names = header.fields.map((name) => name.trim());
  const missing = wanted.filter((name) => !names.includes(name));
  const unknown = names.filter((name) => !wanted.includes(name));
  const twice = names.filter((name, at) => names.indexOf(name) !== at);
  if (missing.length > 0) refuse(`the CSV header row lacks the column(s) ${missing.join(', ')} (it must name ${wanted.join(', ')}, in any order)`);
  if (unknown.length > 0) refuse(`the CSV header row names unknown column(s) ${unknown.map((name) => JSON.stringify(name)).join(', ')} (the columns are ${wanted.join(', ')})`);
  if (twice.length > 0) refuse(`the CSV header row names ${twice.join(', ')} more than once`);
  const rows = data.map((record) => {
    if (record.fields.length !== names.length) {
      refuse(`line ${record.line} has ${record.fields.length} field(s) where the header has ${names.length}`);
    }
    return Object.fromEntries(
      names.map((name, at) => {
        const text = record.fields[at] ?? '';
        return [name, spec.columns[name] === 'number' && JSON_NUMBER.test(text) ? Number(text) : text];
      }),
    );
  });
  return { [spec.field]: rows };
};

/** The body as the route reads it: JSON, or CSV on a route that declares csvBody; another media type is 415. */
const readBody = (event: HttpEvent, raw: string | undefined, route: TokenRoute): unknown => {
  if (raw === undefined) return undefined;
  const type = (header(event, 'content-type') ?? '').trim();
  if (JSON_TYPE.test(type)) return readJsonBody(raw);
  if (route.csvBody && CSV_TYPE.test(type)) return readCsvBody(raw, route.csvBody);
  throw new AppError(
    'UNSUPPORTED_MEDIA_TYPE',
    route.csvBody
      ? 'send the body as JSON with "Content-Type: application/json" or as CSV with "Content-Type: text/csv"'
      : 'send the body as JSON with "Content-Type: application/json"',
  );
};

const idempotencyOf = (event: HttpEvent, body: unknown): Idempotency | undefined => {
  const key = header(event, 'idempotency-key');
  if (key === undefined) return undefined;
  if (!IDEMPOTENCY_KEY_PATTERN.test(key)) {
    throw validationFailed([
      { in: 'header', path: 'Idempotency-Key', message: 'must be 1-128 characters of letters, digits, "_", "-", "." or ":"' },
    ]);
  }
  // The path parameters are part of the request: one key reused on another order is another request.
  return { key, fingerprint: fingerprint(event.routeKey, { path: event.pathParameters ?? {}, body }) };
};

const json = (statusCode: number, body: unknown, headers: Record<string, string> = {}): HttpResult => ({
  statusCode,
  headers: { 'content-type': 'application/json', ...headers },
  body: JSON.stringify(body),
});

/** What a CSV route was asked for: `format` and `list` from the query (read here, not by the route's schema), or `Accept: text/csv`. */
interface CsvRequest {
  /** The list asked for by name; undefined: the first of the route's lists the result has. */
  list: string | undefined;
}

const CSV_PARAMS = ['format', 'list'];

const csvRequestOf = (event: HttpEvent, csv: CsvAnswer, issues: FieldIssue[]): CsvRequest | undefined => {
  const query = event.queryStringParameters ?? {};
  const names = Object.keys(csv.lists);
  const format = query.format;
  if (format !== undefined && format !== 'json' && format !== 'csv') {
    issues.push({ in: 'query', path: 'format', message: "must be 'json' or 'csv'" });
    return undefined;
  }
  const list = query.list;
  if (list !== undefined && !names.includes(list)) {
    issues.push({ in: 'query', path: 'list', message: `must be one of ${names.map((name) => `'${name}'`).join(', ')}` });
    return undefined;
  }
  const accept = (header(event, 'accept') ?? '').toLowerCase();
  const wantsCsv = format === 'csv' || (format === undefined && accept.includes('text/csv') && !accept.includes('application/json'));
  if (!wantsCsv) {
    if (list !== undefined) issues.push({ in: 'query', path: 'list', message: 'picks the rows of a CSV answer: send it with format=csv' });
    return undefined;
  }
  return { list };
};

/** The query the route's own schema reads: without the CSV parameters when the HTTP layer reads them. */
const routeQuery = (event: HttpEvent, csv: CsvAnswer | undefined): Record<string, string | undefined> => {
  const query = event.queryStringParameters ?? {};
  return csv ? Object.fromEntries(Object.entries(query).filter(([name]) => !CSV_PARAMS.includes(name))) : query;
};

const resultFields = z.record(z.string(), z.unknown());
const resultRows = z.array(z.record(z.string(), z.unknown()));

const csvResult = (csv: CsvAnswer, request: CsvRequest, result: unknown, may: MayShow): HttpResult => {
  const fields = resultFields.safeParse(result);
  if (!fields.success) throw new AppError('INTERNAL', 'the result is no object to answer as CSV');
  // A list's name is its path in the result: `rows`, or `stock_outs.levels` for a list inside an object.
  const at = (path: string): unknown => path.split('.').reduce<unknown>((value, key) => resultFields.safeParse(value).data?.[key], fields.data);
  const name = request.list ?? Object.keys(csv.lists).find((each) => Array.isArray(at(each)));
  const row = name === undefined ? undefined : csv.lists[name];
  const rows = resultRows.safeParse(name === undefined ? undefined : at(name));
  if (name === undefined || row === undefined || !rows.success) {
    throw validationFailed([{ in: 'query', path: 'list', message: `this answer has no list ${JSON.stringify(name ?? '')} to give as CSV` }]);
  }
  const headers: Record<string, string> = { 'content-type': 'text/csv; charset=utf-8' };
  for (const [field, header] of Object.entries(csv.headers ?? {})) {
    const value = fields.data[field];
    if (typeof value === 'string' || typeof value === 'number') headers[header] = String(value);
  }
  // The columns a caller may not see are left out whole, not sent empty (functions/platform/sensitive.ts).
  return { statusCode: 200, headers, body: toCsv(columnsShown(row, may), rows.data) };
};

/** May the caller be shown fields that need this permission (functions/platform/sensitive.ts)? */
type MayShow = (permission: Permission) => boolean;

const errorResult = (error: AppError): HttpResult => json(error.status, errorBody(error), errorHeaders(error));

/**
 * What middy answers just before Lambda would kill the invocation. A write may still land, so
 * the caller is told to retry with the same Idempotency-Key rather than assume either outcome.
 */
const lambdaDeadline = (): never => {
  throw new AppError('TIMEOUT', 'the request ran out of time; retry it with the same Idempotency-Key');
};

/** The SDK's attempts at the failing call, for the log (it retries before giving up). */
const sdkAttempts = (error: unknown): number | undefined => {
  const parsed = z.object({ $metadata: z.object({ attempts: z.number() }) }).safeParse(error);
  return parsed.success ? parsed.data.$metadata.attempts : undefined;
};

const fieldIssues = z.object({ fields: z.array(z.object({ in: z.string().optional(), path: z.string(), message: z.string() }).loose()) }).loose();

/**
 * Domain code names failing fields by path only; here they get the request part they came from:
 * the body, unless a schema of another part already said so.
 */
const inRequestParts = (error: AppError): AppError => {
  if (error.code !== 'VALIDATION_FAILED') return error;
  const details = fieldIssues.safeParse(error.details);
  if (!details.success) return error;
  const fields = details.data.fields.map((issue) => ({ ...issue, in: issue.in ?? 'body' }));
  return new AppError(error.code, error.message, { ...details.data, fields });
};

/** Maps every thrown error to the one error shape; only unexpected errors become 500, and they are logged. */
const errorMapper = <E extends AnyHttpEvent>(): MiddlewareObj<E, HttpResult> => ({
  onError: (request) => {
    const error = request.error;
    if (error instanceof AppError) {
      if (error.code === 'INSUFFICIENT_STOCK') countMetric(METRIC_NAMES.insufficientStock);
      if (error.code === 'TIMEOUT') log.warn('request timed out', { route: request.event.routeKey, request_id: request.context.awsRequestId });
      request.response = errorResult(inRequestParts(error));
      return;
    }
    // The database unreachable, throttled, failing or slow, once the SDK's own retries ran out:
    // the caller's request was fine and may be repeated, so it is a 503, never a 500.
    const unavailability = unavailabilityOf(error);
    if (unavailability !== undefined) {
      log.warn('database unavailable', {
        route: request.event.routeKey,
        request_id: request.context.awsRequestId,
        reason: unavailability,
        sdk_attempts: sdkAttempts(error),
        error: errorMessage(error),
      });
      request.response = errorResult(unavailable());
      return;
    }
    log.error('unhandled error', {
      route: request.event.routeKey,
      request_id: request.context.awsRequestId,
      error: error instanceof Error ? { name: error.name, message: error.message, stack: error.stack } : String(error),
    });
    request.response = errorResult(new AppError('INTERNAL', 'something went wrong on our side; it is logged'));
  },
});

/** The tenant claim of a token route's event; a webhook route's event has no authorizer (its function logs the tenant it verified). */
const tenantClaimOf = (event: AnyHttpEvent): unknown => ('authorizer' in event.requestContext ? event.requestContext.authorizer?.jwt?.claims?.[CLAIMS.tenant] : undefined);

/** What a route's latency is promised against (functions/platform/metrics.ts RouteClass). */
const routeClassOf = (route: HttpRoute): RouteClass => (route.lake === 'query' ? 'report' : route.method === 'GET' ? 'read' : 'write');

/** The caller's correlation id (`X-Correlation-Id`) when it is one this API keeps, else the request's own id. */
const correlationIdOf = (event: AnyHttpEvent, requestId: string): string => {
  const asked = header(event, 'x-correlation-id');
  return asked !== undefined && CORRELATION_ID_PATTERN.test(asked) ? asked : requestId;
};

/**
 * Around everything a route does: the request's log context (its correlation id, request id, tenant
 * and route on every line it logs, and stamped on every item it writes), one request log line, and
 * one set of metrics (requests, latency, 4xx, 5xx per route class and per route, and the counters the
 * work added). The answer names the correlation id (`X-Correlation-Id`), so a caller can find the lines.
 */
const observed = <E extends AnyHttpEvent>(route: HttpRoute, inner: (event: E, context: Context) => Promise<HttpResult>) => {
  const name = routeNameOf(route);
  const routeClass = routeClassOf(route);
  return async (event: E, context: Context): Promise<HttpResult> => {
    const started = performance.now();
    const correlationId = correlationIdOf(event, context.awsRequestId);
    const tenant = tenantClaimOf(event);
    const fields = { correlation_id: correlationId, request_id: context.awsRequestId, route: name, ...(typeof tenant === 'string' ? { tenant_id: tenant } : {}) };
    const counted: MetricValues = {};
    const response = await withLogContext(fields, () => withCounters(counted, () => inTraceSegment(name, fields, () => inner(event, context))));
    const status = response.statusCode ?? 200;
    const latency = Math.round((performance.now() - started) * 100) / 100;
    log.info('request', { ...fields, method: event.requestContext.http.method, path: event.rawPath, status, duration_ms: latency });
    publishMetrics(
      { ...counted, Requests: 1, Latency: latency, ClientErrors: status >= 400 && status < 500 ? 1 : 0, ServerErrors: status >= 500 ? 1 : 0 },
      [{}, { route_class: routeClass }, { route: name }],
    );
    return { ...response, headers: { ...response.headers, 'x-correlation-id': correlationId } };
  };
};

type Parsed<S> = S extends ZodType ? z.output<S> : undefined;

export interface RouteInput<R extends TokenRoute> {
  body: Parsed<R['body']>;
  query: Parsed<R['query']>;
  params: Parsed<R['params']>;
}

/**
 * The shape of every HTTP handler: authenticate, authorize, parse and
 * validate with the route's declared schemas (functions/wiring.ts), call one
 * domain function, map the result. Failures of body, query and path are
 * reported together, and nothing is written before all of them pass.
 */
export const httpHandler = <R extends TokenRoute, Result>(
  route: R,
  run: (input: RouteInput<R>, ctx: RequestContext) => Promise<Result>,
) =>
  observed(route, auditStep(route, middy<HttpEvent, HttpResult>({ timeoutEarlyResponse: lambdaDeadline })
    .use(errorMapper<HttpEvent>())
    .handler(async (event, context) => {
      const claimed = callerOf(event);
      // The user directory's word on the caller, read as the caller's tenant (in AWS through its session: a route's own role has no table grant).
      const caller = await inTenantScope(claimed.tenantId, () => directoryCallerOf(claimed));
      noteForAudit(event, { caller });
      if (!permissionsOf[caller.role].includes(route.permission)) {
        throw new AppError('FORBIDDEN', `role '${caller.role}' may not do this (needs '${route.permission}')`, { role: caller.role, permission: route.permission });
      }
      const text = bodyText(event);
      const issues: FieldIssue[] = route.body || text === undefined ? [] : [NO_BODY];
      const csvRequest = route.csv ? csvRequestOf(event, route.csv, issues) : undefined;
      const rawBody = route.body ? readBody(event, text, route) : undefined;
      noteForAudit(event, { body: rawBody });
      // Each part was parsed by the route's own schema, so it has that schema's output type; TypeScript
      // cannot follow a schema chosen by the generic route to its output, hence the one cast.
      const input = {
        params: parsePart('path', route.params, event.pathParameters ?? {}, issues),
        query: parsePart('query', route.query, routeQuery(event, route.csv), issues),
        body: parsePart('body', route.body, rawBody, issues),
      } as RouteInput<R>;
      if (issues.length > 0) throw validationFailed(issues);
      const ctx: RequestContext = {
        caller,
        requestId: context.awsRequestId,
        idempotency: event.requestContext.http.method === 'POST' ? idempotencyOf(event, rawBody) : undefined,
        now: () => new Date(),
        deadline: Date.now() + context.getRemainingTimeInMillis() - DEADLINE_MARGIN_MS,
      };
      noteForAudit(event, { caller, idempotencyKey: ctx.idempotency?.key });
      // The route's work runs as the caller's tenant: the DynamoDB client refuses any key outside it (tenant-guard.ts).
      const result = await inTenantScope(caller.tenantId, () => run(input, ctx));
      // Fields the caller's role may not see (money, supplier contacts: tagged in the response schemas) leave here, whatever the domain returned.
      const may: MayShow = (permission) => permissionsOf[caller.role].includes(permission);
      if (result instanceof Accepted) {
        // A CSV request polls for CSV: the Location keeps what it asked for.
        const asked = csvRequest ? `?format=csv${csvRequest.list === undefined ? '' : `&list=${encodeURIComponent(csvRequest.list)}`}` : '';
        const body = route.accepted ? withheldFrom(route.accepted, result.body, may) : result.body;
        return json(202, body, result.location === undefined ? {} : { location: `${result.location}${asked}` });
      }
      const shown = withheldFrom(route.response, result, may);
      if (route.csv && csvRequest) return csvResult(route.csv, csvRequest, shown, may);
      return json(route.status ?? 200, shown);
    })));

// ---------- the audit trail's step (issue 12): one record per audited request, durable before the answer ----------

/** What the handler learnt of a request for its audit record: the body as JSON, the caller as finally known, the Idempotency-Key. */
interface AuditNotes {
  body?: unknown;
  caller?: UserCaller;
  idempotencyKey?: string;
}
const auditNotes = new WeakMap<HttpEvent, AuditNotes>();
const noteForAudit = (event: HttpEvent, notes: AuditNotes): void => {
  auditNotes.set(event, { ...auditNotes.get(event), ...notes });
};

/** The body as JSON for a request refused before its body was read (a 403): only its ids are wanted, so anything unreadable is none. */
const jsonBodyOf = (event: HttpEvent): unknown => {
  try {
    const text = bodyText(event);
    return text === undefined ? undefined : JSON.parse(text);
  } catch {
    return undefined;
  }
};

const errorOfBody = z.object({ error: z.object({ code: z.string(), message: z.string() }) });
/** The code and message of an error answer (the one error shape: JSON). */
const errorOf = (body: string | undefined): { code: string; message: string } | undefined => {
  try {
    return errorOfBody.safeParse(JSON.parse(body ?? 'null')).data?.error;
  } catch {
    return undefined;
  }
};

/**
 * Around the whole handler (its answer, error mapping included, is what gets recorded): opens the
 * request's audit scope (functions/platform/audit-scope.ts), lets the request's one transaction
 * carry the record where it is one (transactions.ts), and otherwise puts the record itself and
 * only then answers. If that put fails the caller gets 503 (retry with the same Idempotency-Key:
 * the retry is recorded as a replay), never an unrecorded success. A request without a valid token
 * (401) is not recorded. A route of no audit kind records only refusals of authority (403).
 * The benchmark alone turns the step off (AUDIT_TRAIL_ENV), read once here.
 */
const auditStep = (route: TokenRoute, inner: (event: HttpEvent, context: Context) => Promise<HttpResult>) => {
  if (process.env[AUDIT_TRAIL_ENV] === 'off') return inner;
  return async (event: HttpEvent, context: Context): Promise<HttpResult> => {
    let claimed: UserCaller;
    try {
      claimed = callerOf(event);
    } catch {
      return inner(event, context);
    }
    const at = new Date().toISOString();
    const scope = newAuditScope(auditKindOf(route, claimed) === 'change');
    const request = (): AuditRequest => {
      const notes = auditNotes.get(event) ?? {};
      return {
        route,
        action: routeNameOf(route),
        caller: notes.caller ?? claimed,
        at,
        requestId: context.awsRequestId,
        path: event.rawPath ?? event.requestContext.http.path,
        // The ids a read names in its query (warehouse_id, sku_id, ...) are its targets too.
        pathParameters: { ...Object.fromEntries(Object.entries(event.queryStringParameters ?? {}).filter(([name]) => name.endsWith('_id'))), ...event.pathParameters },
        body: notes.body ?? jsonBodyOf(event),
        idempotencyKey: notes.idempotencyKey,
        sourceIp: event.requestContext.http.sourceIp,
        userAgent: event.requestContext.http.userAgent,
      };
    };
    if (scope.collects) {
      scope.transactionItem = (changes, ledgerIds) =>
        auditPut(auditTableName(), auditItem(request(), { status: route.status ?? 200 }, { ...scope, changes: [...scope.changes, ...changes], ledgerIds: [...scope.ledgerIds, ...ledgerIds] }, 'transaction'));
    }
    const response = await inAuditScope(scope, () => inner(event, context));
    // The answer is decided: work the request left running (after an early timeout answer) no longer carries the record.
    delete scope.transactionItem;
    const status = response.statusCode ?? 200;
    // A token that does not (or no longer) authenticates anyone is not recorded: nobody is known to have asked.
    if (status === 401) return response;
    const who = request();
    if (auditKindOf(route, who.caller) === undefined && status !== 403) return response;
    if (scope.recordedInTransaction) {
      if (scope.writesAfterRecord > 0 || status !== (route.status ?? 200)) {
        log.warn('audit record written in the transaction, but the request went on', { route: event.routeKey, request_id: context.awsRequestId, status, writes_after: scope.writesAfterRecord });
      }
      return response;
    }
    const error = status >= 400 ? errorOf(response.body) : undefined;
    try {
      const item = auditItem(who, { status, errorCode: error?.code, errorMessage: error?.message }, scope, 'after');
      await writeAuditRecord(ownDbFromEnv().client, auditTableName(), item);
    } catch (failure) {
      log.error('audit record not written', { route: event.routeKey, request_id: context.awsRequestId, status, error: errorMessage(failure) });
      // A failure answered already (the database down, say) keeps its own answer; anything else becomes one.
      if (status >= 500) return response;
      return errorResult(new AppError('UNAVAILABLE', 'the request could not be recorded in the audit trail; retry it with the same Idempotency-Key'));
    }
    return response;
  };
};

/**
 * What a webhook route's function gets (routes.ts WebhookRoute): the body's exact bytes (the signature
 * is over them, so nothing here parses or re-encodes them), the headers with lower-cased names, and the
 * request's id, clock and deadline. No caller: the function learns the tenant from the signature and
 * builds its own system context for it.
 */
export interface WebhookRequest {
  rawBody: Buffer;
  headers: Readonly<Record<string, string>>;
  requestId: string;
  now: () => Date;
  /** Epoch ms after which retries stop, as RequestContext.deadline. */
  deadline: number;
}

/** The headers as a webhook function reads them: names lower-cased (HTTP names are case-insensitive; API Gateway passes them lower-cased already). */
const lowerCasedHeaders = (event: AnyHttpEvent): Record<string, string> =>
  Object.fromEntries(Object.entries(event.headers ?? {}).flatMap(([name, value]) => (value === undefined ? [] : [[name.toLowerCase(), value]])));

/**
 * The shape of every webhook handler: the same request log, error shape, size limit and deadline as
 * httpHandler, but no token and no schemas: `run` verifies the signature over the raw body and reads
 * the rest itself (a 401 before anything is parsed or written), and its result is answered with the
 * route's status.
 */
export const webhookHandler = <R extends WebhookRoute, Result>(route: R, run: (request: WebhookRequest) => Promise<Result>) =>
  observed<SignedHttpEvent>(route, middy<SignedHttpEvent, HttpResult>({ timeoutEarlyResponse: lambdaDeadline })
    .use(errorMapper<SignedHttpEvent>())
    .handler(async (event, context) => {
      const result = await run({
        rawBody: bodyBytes(event),
        headers: lowerCasedHeaders(event),
        requestId: context.awsRequestId,
        now: () => new Date(),
        deadline: Date.now() + context.getRemainingTimeInMillis() - DEADLINE_MARGIN_MS,
      });
      return json(route.status ?? 200, result);
    }));
