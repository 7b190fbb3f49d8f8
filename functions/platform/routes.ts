import type { ZodObject, ZodType } from 'zod';
import type { Permission, SIGNED_BY_PLATFORM } from './permissions';

/** Names the user pool to a function that manages it (`userPool: 'manage'`); absent, the table is the whole user directory. */
export const USER_POOL_ID_ENV = 'USER_POOL_ID';

export type HttpMethod = 'GET' | 'POST' | 'PATCH' | 'PUT' | 'DELETE';

interface RouteCommon {
  method: HttpMethod;
  /** API Gateway syntax: `{name}` is a path parameter. */
  path: string;
  /** Module under the repo root exporting `handler`. */
  entry: string;
  /** What the function may do to the table: least privilege in AWS. */
  table: 'none' | 'read' | 'write';
  /**
   * 'write': the function stores and removes sales channel credentials (functions/platform/secrets.ts):
   * in AWS exactly secretsmanager:CreateSecret, PutSecretValue and DeleteSecret on the stack's
   * channel secrets, never GetSecretValue, so the API cannot read a credential back.
   * 'read': the function uses a connection's credentials (listing discovery calls the platform with
   * them; the Shopify webhook verifies its signature with one): exactly secretsmanager:GetSecretValue
   * there, and it never answers or logs a credential.
   */
  channelSecrets?: 'write' | 'read';
  /**
   * 'manage': the function drives the Cognito user pool (functions/identity/cognito.ts): in AWS exactly
   * cognito-idp AdminCreateUser, AdminUpdateUserAttributes, AdminDisableUser, AdminEnableUser,
   * AdminUserGlobalSignOut and AdminDeleteUser on the stack's pool, and its id in USER_POOL_ID_ENV.
   */
  userPool?: 'manage';
  summary: string;
  body?: ZodType;
  response: ZodType;
  /** Success status; 200 unless said. */
  status?: number;
  /**
   * The route's own domain statuses besides success (e.g. 409). What the HTTP
   * layer answers on any route of its kind (a token route: 400, 401, 403, 413, 431, 503, 404 with a path id,
   * 415 with a body, 422 on a writing POST; a webhook route: 400, 401, 413, 431, 503) is derived in functions/api/openapi.ts.
   */
  errors?: number[];
}

/** A route people call: behind the JWT authorizer, for a role that holds `permission`. */
export interface TokenRoute extends RouteCommon {
  /** How a request is authenticated: a bearer token (the default). */
  auth?: 'token';
  permission: Permission;
  /**
   * 'query': the function queries the lake through Athena (it gets the lake's grants and names; none else does).
   * 'import': the function writes demand-history imports into the lake bucket, S3 PutObject under
   * DEMAND_IMPORTS_PREFIX (functions/platform/lake-objects.ts) and nothing else of the lake.
   */
  lake?: 'query' | 'import';
  params?: ZodType;
  query?: ZodType;
  /** The body may also be sent as CSV (`Content-Type: text/csv`); see CsvBody. Without it a body is JSON only (415 otherwise). */
  csvBody?: CsvBody;
  /**
   * A route whose work may outlast the request (a report's lake query): a domain result
   * wrapped in `Accepted` (functions/platform/answers.ts) answers 202 with this body.
   */
  accepted?: ZodType;
  /** The route also answers CSV (see CsvAnswer). */
  csv?: CsvAnswer;
  /**
   * Reads the audit trail records besides changes (functions/platform/audit.ts auditOf): 'read', every call
   * (users, the trail itself); `{ readWith }`, the calls of a caller holding that permission (supplier
   * contacts, recorded for those who see them). A route that writes is recorded without saying so.
   */
  audit?: 'read' | { readWith: Permission };
}

/**
 * A route a platform calls (a Shopify webhook): no token (in AWS no authorizer; locally no token
 * check), so anyone can reach it, and the request is verified by its signature over the exact
 * body bytes before anything is read or written. The HTTP layer (http.ts webhookHandler) hands
 * the function the raw body and the headers; the function verifies, and acts as the system for the
 * tenant the signature names. It takes no path or query parameters, no Idempotency-Key (a platform
 * names each delivery itself) and never answers CSV.
 */
export interface WebhookRoute extends RouteCommon {
  auth: 'webhook';
  permission: typeof SIGNED_BY_PLATFORM;
  /** The headers the platform sends (the signature among them), documented in OpenAPI; the function reads them itself. */
  headers: ZodObject;
  /** What the signed body is (documented in OpenAPI): read only after the signature verified. */
  body: ZodType;
  lake?: never;
  params?: never;
  query?: never;
  csvBody?: never;
  accepted?: never;
  csv?: never;
}

/**
 * The shape of one HTTP route in the wiring (functions/wiring.ts lists them):
 * what the HTTP layer needs to serve it, and what CDK, the local gateway and
 * OpenAPI read.
 */
export type HttpRoute = TokenRoute | WebhookRoute;

/** Is this a route a platform calls, verified by its signature instead of a token? */
export const isWebhookRoute = (route: HttpRoute): route is WebhookRoute => route.auth === 'webhook';

/**
 * Rows a route also answers as CSV, asked for with `format=csv` or `Accept: text/csv`:
 * one of the lists of its result (the first named that the result has, unless `list=<name>` picks another;
 * a name is the list's path in the result, e.g. `stock_outs.levels`),
 * one column per key of that list's row schema, in order. CSV has no place for the rest
 * of the result, so `headers` copies top-level fields of it (e.g. data_as_of) into
 * response headers of the given names.
 */
export interface CsvAnswer {
  lists: Record<string, ZodObject>;
  headers?: Record<string, string>;
}

/**
 * A route whose body may come as CSV (`Content-Type: text/csv`, RFC 4180, functions/platform/csv.ts)
 * as well as JSON: a header row naming `columns` (any order, each once, no others), then one data row
 * per line. The HTTP layer turns it into the JSON body `{ [field]: [{ column: value, ... }] }` and
 * validates that with the route's `body` schema, so both media types reach the domain alike.
 * A column of kind 'number' holding a JSON number literal (`12`, `-3`, `1.5`, `2e3`) becomes
 * that number; any other text stays a string, as a JSON client's string would.
 */
export interface CsvBody {
  field: string;
  columns: Readonly<Record<string, 'string' | 'number'>>;
}

const routeNames = new WeakMap<HttpRoute, string>();

/**
 * Names routes (declareRoutes calls this for each context's; a test may for its own): the HTTP
 * layer knows a route by its declaration, and the audit trail records it by its name.
 */
export const nameRoutes = (routes: Readonly<Record<string, HttpRoute>>): void => {
  for (const [name, route] of Object.entries(routes)) routeNames.set(route, name);
};

/**
 * Declares one context's routes (functions/<context>/routes.ts) and names them: a handler's bundle loads
 * only its own context's routes module, never the wiring, so the names are given here, where the routes are.
 * functions/wiring.ts lists every context's routes, under the same names, as httpRoutes.
 */
export const declareRoutes = <T extends Readonly<Record<string, HttpRoute>>>(routes: T): T => {
  nameRoutes(routes);
  return routes;
};

/** A route's handler module, repo-relative, as its `entry` names it: `functions/<context>/handlers/<name>.ts`. */
export const handlerEntry = (context: string, name: string): string => `functions/${context}/handlers/${name}.ts`;

/** The route's name in the wiring; its method and path for a route that was never named (a test's own route). */
export const routeNameOf = (route: HttpRoute): string => routeNames.get(route) ?? `${route.method} ${route.path}`;
