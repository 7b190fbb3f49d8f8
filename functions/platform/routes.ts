import type { ZodObject, ZodType } from 'zod';
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
  /**
   * 'query': the function queries the lake through Athena (it gets the lake's grants and names; none else does).
   * 'import': the function writes demand-history imports into the lake bucket, S3 PutObject under
   * DEMAND_IMPORTS_PREFIX (functions/platform/lake-objects.ts) and nothing else of the lake.
   */
  lake?: 'query' | 'import';
  /**
   * 'write': the function stores and removes sales channel credentials (functions/platform/secrets.ts):
   * in AWS exactly secretsmanager:CreateSecret, PutSecretValue and DeleteSecret on the stack's
   * channel secrets, never GetSecretValue, so the API cannot read a credential back.
   * 'read': the function uses a connection's credentials to call the platform (listing discovery):
   * exactly secretsmanager:GetSecretValue there, and it never answers or logs a credential.
   */
  channelSecrets?: 'write' | 'read';
  summary: string;
  params?: ZodType;
  query?: ZodType;
  body?: ZodType;
  /** The body may also be sent as CSV (`Content-Type: text/csv`); see CsvBody. Without it a body is JSON only (415 otherwise). */
  csvBody?: CsvBody;
  response: ZodType;
  /** Success status; 200 unless said. */
  status?: number;
  /**
   * A route whose work may outlast the request (a report's lake query): a domain result
   * wrapped in `Accepted` (functions/platform/answers.ts) answers 202 with this body.
   */
  accepted?: ZodType;
  /** The route also answers CSV (see CsvAnswer). */
  csv?: CsvAnswer;
  /**
   * The route's own domain statuses besides success (e.g. 409). What the HTTP
   * layer answers on any route (400, 401, 403, 413, 431, 503, 404 with a path id,
   * 415 with a body, 422 on a writing POST) is derived in functions/api/openapi.ts.
   */
  errors?: number[];
}


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
