import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { DuckDBTypeId, type DuckDBType } from '@duckdb/node-api';
import { z } from 'zod';
import { DEFAULT_MAX_RESULT_ROWS, LAKE_NAMES, placeholdersOutsideWhere, scanSql, tenantPlaceholders, tenantRuleBreach } from '../../functions/platform/lake';
import { LakeInputError } from './lake';
import { closeLakeQueries, queryLakeResult, type LakeParam, type LakeResult, type LakeValue } from './lake-query';

/**
 * The local stand-in for Athena (issue 9), as DynamoDB Local stands in for DynamoDB:
 * an HTTP server speaking the part of Athena's JSON 1.1 protocol that
 * functions/platform/lake.ts uses through the real @aws-sdk/client-athena
 * (`X-Amz-Target: AmazonAthena.StartQueryExecution | GetQueryExecution | GetQueryResults`),
 * running each query on DuckDB over the local Parquet lake with queryLake.
 *
 * - Asynchronous like Athena: StartQueryExecution answers with an id at once; the query
 *   is QUEUED (at most `concurrency` run at a time), RUNNING, then SUCCEEDED or FAILED.
 *   Results stay in memory for `resultTtlMs` after the query ends, paged by
 *   GetQueryResults (MaxResults up to 1000, an opaque NextToken; the first page starts
 *   with the header row, as Athena's does for a SELECT).
 * - Parameters: ExecutionParameters are SQL literals (`'text'` with `''` for a quote,
 *   numbers, TRUE/FALSE, NULL), read back into values and bound to DuckDB; each
 *   positional `?` becomes DuckDB's `$1`, `$2`, ... (never text in the SQL). Anything
 *   but a literal is refused, though Athena would take an expression.
 * - The tenant, as Athena's injected `tenant_id` projection demands one: the first `?`
 *   of the query must be the right side of `tenant_id = ?`, and its parameter (a
 *   string) is the tenant whose directory queryLake reads; every other `tenant_id = ?`
 *   (a query reading several lake tables has one per table) must bind that same tenant.
 *   Otherwise the query FAILS with CONSTRAINT_VIOLATION, like Athena's answer to a query
 *   that names no tenant (this stand-in's rule: one tenant per query).
 * - Exactly one SELECT (queryLake refuses anything else).
 * - Column types are the ones DuckDB gave the result when it ran, named as Athena names
 *   Trino's (HUGEINT, which DuckDB's SUM of a BIGINT returns, is `bigint` as in Trino).
 * No authentication: it listens on loopback, and the SDK's signature is not checked.
 */

export const ATHENA_TARGET_PREFIX = 'AmazonAthena.';
const MAX_BODY_BYTES = 1024 * 1024;
const MAX_PAGE = 1000;

export interface LocalAthenaOptions {
  /** The lake root LocalLake writes (`<root>/movements/tenant_id=<t>/dt=.../*.parquet`). */
  lakeRoot: string;
  port?: number;
  host?: string;
  /** Workgroups that exist (the deployed stack's, LAKE_NAMES.workgroup, by default); a query in another is refused as Athena refuses an unknown workgroup. */
  workgroups?: readonly string[];
  /** How long results are kept after a query ends. */
  resultTtlMs?: number;
  /** Queries running at once; the others wait QUEUED. */
  concurrency?: number;
  /** A query stays RUNNING at least this long (tests of the 202 path; 0 in normal use). */
  minRunningMs?: number;
  /**
   * Result rows a query keeps, the rest dropped unread (Athena keeps them all, in S3; this
   * stand-in holds them in memory). One more than the reports read by default
   * (DEFAULT_MAX_RESULT_ROWS), so a report past its limit is still refused as it is in AWS.
   */
  maxResultRows?: number;
}

export interface LocalAthena {
  endpoint: string;
  /** Queries held (running or with results kept). */
  size(): number;
  close(): Promise<void>;
}

type State = 'QUEUED' | 'RUNNING' | 'SUCCEEDED' | 'FAILED';

interface AthenaColumn {
  Name: string;
  Label: string;
  Type: string;
  Precision: number;
  Scale: number;
  Nullable: 'UNKNOWN';
  CaseSensitive: boolean;
  CatalogName: string;
  SchemaName: string;
  TableName: string;
}

type Cell = string | undefined;

interface Query {
  id: string;
  sql: string;
  parameters: string[];
  workgroup: string;
  database: string | undefined;
  state: State;
  reason?: string;
  submitted: number;
  started?: number;
  completed?: number;
  columns?: AthenaColumn[];
  rows?: Cell[][];
}

class InvalidRequest extends Error {}

// ---- parameters ----

const STRING_LITERAL = /^'((?:[^']|'')*)'$/s;
const NUMBER_LITERAL = /^-?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$/;

/** One ExecutionParameter (a SQL literal) as the value DuckDB binds. */
export const parseLiteral = (text: string): LakeParam => {
  const trimmed = text.trim();
  const string = STRING_LITERAL.exec(trimmed);
  if (string) return (string[1] ?? '').replaceAll("''", "'");
  if (/^null$/i.test(trimmed)) return null;
  if (/^true$/i.test(trimmed)) return true;
  if (/^false$/i.test(trimmed)) return false;
  if (NUMBER_LITERAL.test(trimmed)) {
    const number = Number(trimmed);
    if (Number.isFinite(number) && (!/^-?\d+$/.test(trimmed) || Number.isSafeInteger(number))) return number;
  }
  throw new InvalidRequest(`ExecutionParameters: ${JSON.stringify(text)} is not a SQL literal this stand-in binds (a quoted string, a number within 2^53, TRUE, FALSE or NULL)`);
};

/** The query with each `?` as DuckDB's `$n`, and the tenant its first parameter names; a string when the query breaks a rule (its failure reason). */
export const translate = (sql: string, parameters: readonly LakeParam[]): { sql: string; tenantId: string } | string => {
  const breach = tenantRuleBreach(sql);
  if (breach) return `CONSTRAINT_VIOLATION: ${breach} (Athena's injected tenant_id projection needs one tenant)`;
  // One SELECT (a WITH leading to one): checked on the text, comments and strings masked, before anything runs.
  const { code } = scanSql(sql);
  if (!/^\s*(?:SELECT|WITH)\b/i.test(code) || /;(?=[\s;]*\S)/.test(code)) return 'INVALID_QUERY: a query is exactly one SELECT statement';
  const outside = placeholdersOutsideWhere(sql);
  if (outside.length > 0) return `INVALID_QUERY: execution parameters (?) may only stand in a WHERE clause, as in Athena; one is at offset ${outside[0]}`;
  const { placeholders } = scanSql(sql);
  if (placeholders.length !== parameters.length) return `INVALID_QUERY: the query has ${placeholders.length} parameters, ${parameters.length} were given`;
  const tenantId = parameters[0];
  if (typeof tenantId !== 'string') return 'CONSTRAINT_VIOLATION: the tenant parameter must be a string literal';
  // One tenant per query: every tenant predicate (one per lake table read) names the same one.
  if (tenantPlaceholders(sql).some((index) => parameters[index] !== tenantId)) return 'CONSTRAINT_VIOLATION: every tenant_id = ? of a query must bind the same tenant';
  let text = '';
  let from = 0;
  placeholders.forEach((at, index) => {
    text += `${sql.slice(from, at)}$${index + 1}`;
    from = at + 1;
  });
  return { sql: text + sql.slice(from), tenantId };
};

// ---- types and cells ----

const athenaType = (type: DuckDBType): Pick<AthenaColumn, 'Type' | 'Precision' | 'Scale' | 'CaseSensitive'> | undefined => {
  const plain = (name: string, precision: number) => ({ Type: name, Precision: precision, Scale: 0, CaseSensitive: false });
  switch (type.typeId) {
    case DuckDBTypeId.VARCHAR:
      return { Type: 'varchar', Precision: 2_147_483_647, Scale: 0, CaseSensitive: true };
    case DuckDBTypeId.BOOLEAN:
      return plain('boolean', 0);
    case DuckDBTypeId.TINYINT:
      return plain('tinyint', 3);
    case DuckDBTypeId.SMALLINT:
    case DuckDBTypeId.UTINYINT:
      return plain('smallint', 5);
    case DuckDBTypeId.INTEGER:
    case DuckDBTypeId.USMALLINT:
      return plain('integer', 10);
    case DuckDBTypeId.BIGINT:
    case DuckDBTypeId.UINTEGER:
    case DuckDBTypeId.HUGEINT:
      return plain('bigint', 19);
    case DuckDBTypeId.FLOAT:
      return plain('real', 7);
    case DuckDBTypeId.DOUBLE:
      return plain('double', 17);
    case DuckDBTypeId.DECIMAL:
      return { Type: 'decimal', Precision: type.width, Scale: type.scale, CaseSensitive: false };
    case DuckDBTypeId.DATE:
      return plain('date', 0);
    case DuckDBTypeId.TIMESTAMP:
    case DuckDBTypeId.TIMESTAMP_MS:
      return plain('timestamp', 3);
    default:
      return undefined;
  }
};

const ISO_INSTANT = /^(\d{4}-\d{2}-\d{2})T(\d{2}:\d{2}:\d{2}\.\d{3})Z$/;

/** A value as Athena writes it in VarCharValue; undefined is NULL (a Datum without VarCharValue). */
const cell = (value: LakeValue, column: AthenaColumn): Cell => {
  if (value === null) return undefined;
  if (column.Type === 'timestamp' && typeof value === 'string') {
    const match = ISO_INSTANT.exec(value);
    return match ? `${match[1]} ${match[2]}` : value;
  }
  return String(value);
};

/** The result's columns as Athena describes them, from the types DuckDB gave them; a failure reason when one cannot be. */
const athenaColumns = (columns: LakeResult['columns']): AthenaColumn[] | string => {
  const described: AthenaColumn[] = [];
  const seen = new Set<string>();
  for (const [index, { name: given, type }] of columns.entries()) {
    const name = given || `_col${index}`;
    if (seen.has(name)) return `INVALID_QUERY: column name ${JSON.stringify(name)} appears twice`;
    seen.add(name);
    const athena = athenaType(type);
    if (!athena) return `NOT_SUPPORTED: column ${JSON.stringify(name)} has type ${type.toString()}, which this stand-in does not return`;
    described.push({ Name: name, Label: name, ...athena, Nullable: 'UNKNOWN', CatalogName: 'hive', SchemaName: '', TableName: '' });
  }
  return described;
};

// ---- protocol shapes ----

const startInput = z.object({
  QueryString: z.string().min(1).max(262_144),
  ClientRequestToken: z.string().min(32).max(128).optional(),
  QueryExecutionContext: z.object({ Database: z.string().optional(), Catalog: z.string().optional() }).optional(),
  WorkGroup: z.string().optional(),
  ExecutionParameters: z.array(z.string().min(1).max(1024)).optional(),
});
const executionInput = z.object({ QueryExecutionId: z.string().min(1).max(128) });
const resultsInput = z.object({
  QueryExecutionId: z.string().min(1).max(128),
  NextToken: z.string().max(1024).optional(),
  MaxResults: z.number().int().min(1).max(MAX_PAGE).optional(),
});
const pageToken = z.object({ q: z.string(), o: z.number().int().min(0) });

const seconds = (ms: number | undefined): number | undefined => (ms === undefined ? undefined : ms / 1000);

// ---- the server ----

export const startLocalAthena = async (options: LocalAthenaOptions): Promise<LocalAthena> => {
  const workgroups = new Set(options.workgroups ?? [LAKE_NAMES.workgroup]);
  const ttl = options.resultTtlMs ?? 60 * 60 * 1000;
  const concurrency = options.concurrency ?? 4;
  const minRunningMs = options.minRunningMs ?? 0;
  const queries = new Map<string, Query>();
  const byToken = new Map<string, string>();
  const waiting: Query[] = [];
  let running = 0;
  let closed = false;

  const sweep = (): void => {
    const now = Date.now();
    for (const [id, query] of queries) {
      if (query.completed !== undefined && query.completed + ttl <= now) queries.delete(id);
    }
    for (const [token, id] of byToken) if (!queries.has(id)) byToken.delete(token);
  };
  const sweeper = setInterval(sweep, Math.max(1_000, Math.min(ttl, 60_000)));
  sweeper.unref();

  const execute = async (query: Query): Promise<void> => {
    query.state = 'RUNNING';
    query.started = Date.now();
    const done = new Promise((resolve) => setTimeout(resolve, minRunningMs));
    try {
      const values = query.parameters.map(parseLiteral);
      const translated = translate(query.sql, values);
      if (typeof translated === 'string') throw new Error(translated);
      const bound: Record<string, LakeParam> = { tenant_id: translated.tenantId };
      values.forEach((value, index) => {
        bound[String(index + 1)] = value;
      });
      const result = await queryLakeResult(options.lakeRoot, translated.sql, bound, { maxRows: options.maxResultRows ?? DEFAULT_MAX_RESULT_ROWS + 1 });
      const columns = athenaColumns(result.columns);
      if (typeof columns === 'string') throw new Error(columns);
      await done;
      query.columns = columns;
      query.rows = result.rows.map((row) => columns.map((column) => cell(row[column.Name] ?? null, column)));
      query.state = 'SUCCEEDED';
    } catch (error) {
      await done;
      const message = error instanceof LakeInputError ? `INVALID_QUERY: ${error.message}` : error instanceof Error ? error.message : String(error);
      query.state = 'FAILED';
      query.reason = /^[A-Z_]+: /.test(message) ? message : `GENERIC_USER_ERROR: ${message}`;
    } finally {
      query.completed = Date.now();
    }
  };

  const pump = (): void => {
    while (!closed && running < concurrency) {
      const next = waiting.shift();
      if (!next) return;
      running += 1;
      void execute(next).finally(() => {
        running -= 1;
        pump();
      });
    }
  };

  const find = (id: string): Query => {
    const query = queries.get(id);
    if (!query) throw new InvalidRequest(`QueryExecution ${id} was not found`);
    return query;
  };

  const operations: Record<string, (body: unknown) => unknown> = {
    StartQueryExecution: (body) => {
      const input = parse(startInput, body);
      const workgroup = input.WorkGroup ?? 'primary';
      if (!workgroups.has(workgroup)) throw new InvalidRequest(`WorkGroup ${workgroup} is not found.`);
      if (input.ClientRequestToken) {
        const earlier = byToken.get(input.ClientRequestToken);
        if (earlier && queries.has(earlier)) return { QueryExecutionId: earlier };
      }
      const parameters = input.ExecutionParameters ?? [];
      // A parameter that is no literal is the request's fault, refused before the query exists.
      parameters.forEach(parseLiteral);
      const query: Query = {
        id: randomUUID(),
        sql: input.QueryString,
        parameters,
        workgroup,
        database: input.QueryExecutionContext?.Database,
        state: 'QUEUED',
        submitted: Date.now(),
      };
      queries.set(query.id, query);
      if (input.ClientRequestToken) byToken.set(input.ClientRequestToken, query.id);
      waiting.push(query);
      setImmediate(pump);
      return { QueryExecutionId: query.id };
    },
    GetQueryExecution: (body) => {
      const query = find(parse(executionInput, body).QueryExecutionId);
      const failed = query.state === 'FAILED';
      return {
        QueryExecution: {
          QueryExecutionId: query.id,
          Query: query.sql,
          StatementType: 'DML',
          QueryExecutionContext: { Catalog: 'AwsDataCatalog', ...(query.database ? { Database: query.database } : {}) },
          Status: {
            State: query.state,
            SubmissionDateTime: seconds(query.submitted),
            ...(query.completed === undefined ? {} : { CompletionDateTime: seconds(query.completed) }),
            ...(failed ? { StateChangeReason: query.reason, AthenaError: { ErrorCategory: 2, ErrorType: 1000, Retryable: false, ErrorMessage: query.reason } } : {}),
          },
          Statistics: {
            DataScannedInBytes: 0,
            ...(query.started === undefined ? {} : { QueryQueueTimeInMillis: query.started - query.submitted }),
            ...(query.completed === undefined || query.started === undefined
              ? {}
              : { EngineExecutionTimeInMillis: query.completed - query.started, TotalExecutionTimeInMillis: query.completed - query.submitted }),
          },
          WorkGroup: query.workgroup,
          ExecutionParameters: query.parameters,
        },
      };
    },
    GetQueryResults: (body) => {
      const input = parse(resultsInput, body);
      const query = find(input.QueryExecutionId);
      if (query.state === 'FAILED') throw new InvalidRequest(query.reason ?? 'the query failed');
      if (query.state !== 'SUCCEEDED' || !query.columns || !query.rows) throw new InvalidRequest(`Query has not yet finished. Current state: ${query.state}`);
      let offset = 0;
      if (input.NextToken !== undefined) {
        let token: z.output<typeof pageToken> | undefined;
        try {
          token = pageToken.parse(JSON.parse(Buffer.from(input.NextToken, 'base64url').toString('utf8')));
        } catch {
          token = undefined;
        }
        if (token?.q !== query.id) throw new InvalidRequest('NextToken is not valid for this query');
        offset = token.o;
      }
      const size = input.MaxResults ?? MAX_PAGE;
      const columns = query.columns;
      // Row 0 is the header (the column names), then the data rows: offsets count both.
      const all = query.rows.length + 1;
      const end = Math.min(all, offset + size);
      const rows: { Data: { VarCharValue?: string }[] }[] = [];
      for (let index = offset; index < end; index += 1) {
        const source = index === 0 ? columns.map((column): Cell => column.Name) : (query.rows[index - 1] ?? []);
        rows.push({ Data: source.map((value) => (value === undefined ? {} : { VarCharValue: value })) });
      }
      return {
        UpdateCount: 0,
        ResultSet: { Rows: rows, ResultSetMetadata: { ColumnInfo: columns } },
        ...(end < all ? { NextToken: Buffer.from(JSON.stringify({ q: query.id, o: end })).toString('base64url') } : {}),
      };
    },
  };

  const server: Server = createServer((request, response) => {
    void handle(request, response);
  });

  const handle = async (request: IncomingMessage, response: ServerResponse): Promise<void> => {
    const requestId = randomUUID();
    const send = (status: number, body: unknown): void => {
      const text = JSON.stringify(body);
      response.writeHead(status, { 'content-type': 'application/x-amz-json-1.1', 'content-length': Buffer.byteLength(text), 'x-amzn-requestid': requestId });
      response.end(text);
    };
    try {
      sweep();
      const target = request.headers['x-amz-target'];
      const operation = typeof target === 'string' && target.startsWith(ATHENA_TARGET_PREFIX) ? operations[target.slice(ATHENA_TARGET_PREFIX.length)] : undefined;
      if (request.method !== 'POST' || !operation) {
        request.resume();
        send(400, { __type: 'UnknownOperationException', message: `unknown operation ${String(target)}` });
        return;
      }
      const body = await readBody(request);
      send(200, operation(body));
    } catch (error) {
      if (error instanceof InvalidRequest) send(400, { __type: 'InvalidRequestException', Message: error.message, AthenaErrorCode: 'INVALID_INPUT' });
      else send(500, { __type: 'InternalServerException', Message: error instanceof Error ? error.message : String(error) });
    }
  };

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => resolve());
  });
  const address = server.address() as AddressInfo;
  return {
    endpoint: `http://${address.address}:${address.port}`,
    size: () => queries.size,
    close: async () => {
      closed = true;
      clearInterval(sweeper);
      const closing = new Promise<void>((resolve) => server.close(() => resolve()));
      // The SDK keeps its sockets alive; close() alone would wait for them.
      server.closeAllConnections();
      await closing;
      // Its DuckDB instances (and their caches) go with it: the next stand-in on this lake starts cold.
      await closeLakeQueries(options.lakeRoot);
    },
  };
};

const parse = <T extends z.ZodType>(schema: T, body: unknown): z.output<T> => {
  const parsed = schema.safeParse(body);
  if (!parsed.success) throw new InvalidRequest(parsed.error.issues.map((issue) => `${issue.path.join('.') || 'body'}: ${issue.message}`).join('; '));
  return parsed.data;
};

const readBody = async (request: IncomingMessage): Promise<unknown> => {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request) {
    const buffer = Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk));
    size += buffer.length;
    if (size > MAX_BODY_BYTES) throw new InvalidRequest('the request body is over 1 MiB');
    chunks.push(buffer);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  if (text.trim() === '') return {};
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new InvalidRequest('the request body is not JSON');
  }
};
