import { traced } from './tracing';
import {
  AthenaClient,
  GetQueryExecutionCommand,
  GetQueryResultsCommand,
  StartQueryExecutionCommand,
  type ColumnInfo,
  type QueryExecution,
  type Row,
} from '@aws-sdk/client-athena';
import { AppError, errorMessage, errorName, notFound } from './errors';

/**
 * Report SQL over the lake, the same way in AWS and locally (issue 9): through
 * Athena's API (StartQueryExecution with ExecutionParameters, GetQueryExecution,
 * GetQueryResults). In AWS the client talks to Athena in the workgroup; locally
 * `ATHENA_ENDPOINT` points it at the stand-in (bin/local/athena.ts) that runs the
 * query on DuckDB over the local Parquet lake, as DynamoDB Local stands in for DynamoDB.
 *
 * Parameters are positional `?`. Athena takes each ExecutionParameter as SQL text
 * (an expression, not a typed value), so the platform writes them as literals
 * (`sqlLiteral`): a string is always quoted and its quotes doubled, whatever it holds.
 * Values are never put into the SQL text.
 *
 * The tenant: Athena's injected `tenant_id` projection refuses a query whose WHERE
 * has no `tenant_id = <value>`. The convention here (and the stand-in's rule): the
 * query's first placeholder is the right side of `tenant_id = ?`; every `tenant_id = ?`
 * (one per lake table a query reads) is bound to `tenantId`, and `parameters` are the
 * values of the other placeholders, in order.
 * A query id is read back only for the tenant whose literal is its first
 * ExecutionParameter, so one tenant cannot poll another's query.
 */

export const ATHENA_ENDPOINT_ENV = 'ATHENA_ENDPOINT';
export const ATHENA_WORKGROUP_ENV = 'ATHENA_WORKGROUP';
export const LAKE_DATABASE_ENV = 'LAKE_DATABASE';
/** Optional: how long a report waits for its query before answering 202 (DEFAULT_DEADLINE_MS unless set). */
export const LAKE_DEADLINE_MS_ENV = 'LAKE_DEADLINE_MS';
/** Optional: the most result rows a report reads (DEFAULT_MAX_RESULT_ROWS unless set). */
export const LAKE_MAX_RESULT_ROWS_ENV = 'LAKE_MAX_RESULT_ROWS';
/**
 * 200 GetQueryResults pages of 1,000 rows: what a report Lambda can page well within API
 * Gateway's 29 s (tens of milliseconds a page). A valuation reads every value-moving row of the
 * tenant's history up to as_of, so a large tenant meets this until valuation checkpoints exist
 * (docs/architecture.md, "Reports at scale").
 */
export const DEFAULT_MAX_RESULT_ROWS = 200_000;

/**
 * The lake's Glue database and Athena workgroup names of a stack (lib/lake.ts
 * creates them with these names; the report Lambdas get them as LAKE_DATABASE and
 * ATHENA_WORKGROUP). Derived from the stack name, so two stacks in one account
 * never share a workgroup: lower case, runs of anything but [a-z0-9] as `_`.
 */
export const lakeResourceNames = (stackName: string): { database: string; workgroup: string } => {
  const base = stackName.toLowerCase().replace(/[^a-z0-9]+/g, '_');
  return { database: `${base}_lake`, workgroup: `${base}_reports` };
};

/**
 * The names of the deployed app's lake (its stack is `Stockroom`, lib/app.ts
 * STACK_NAME): the local runtime (bin/local.ts) and the test API
 * (test/support/api.ts) give the local Athena and the report handlers the same,
 * and test/infra/lake.test.ts fails if the synthesized stack's differ.
 */
export const LAKE_NAMES = lakeResourceNames('Stockroom');

export type LakeParam = string | number | bigint | boolean | null;
/** A decoded cell: varchar string, integer/tinyint/smallint number, bigint bigint, double/real number, decimal exact string, date `YYYY-MM-DD`, timestamp ISO instant (UTC), boolean, null. */
export type LakeValue = string | number | bigint | boolean | null;
export type LakeRecord = Record<string, LakeValue>;

export interface LakeColumn {
  name: string;
  /** Athena's type name: varchar, bigint, integer, double, decimal, date, timestamp, boolean, ... */
  type: string;
  precision?: number;
  scale?: number;
}

export interface LakePolling {
  /** The first wait between GetQueryExecution calls; each next one is `factor` times longer, up to `maxMs`. */
  firstMs: number;
  maxMs: number;
  factor: number;
}

/** What a lake query needs; passed in, never imported, so tests choose it. */
export interface Lake {
  client: AthenaClient;
  workgroup: string;
  database: string;
  /** How long runLakeQuery waits for a query before answering `running` (a later step answers 202). */
  deadlineMs: number;
  polling: LakePolling;
  /** GetQueryResults page size (Athena allows at most 1000). */
  pageSize: number;
  /** Past this many result rows a query is refused (REPORT_TOO_LARGE) rather than paged until the function times out; unlimited unless set. */
  maxResultRows?: number;
}

export type LakeQueryResult =
  | { state: 'succeeded'; query_id: string; columns: LakeColumn[]; rows: LakeRecord[] }
  | { state: 'running'; query_id: string };

export type LakeFailure = 'FAILED' | 'CANCELLED' | 'REJECTED' | 'UNDECODABLE';

/**
 * A lake query that did not produce rows: Athena failed or cancelled it, refused to start it
 * (REJECTED: InvalidRequestException), or its results could not be decoded. The reason and
 * Athena's error category stay on the error for logs; the API answer says only which query.
 */
export class LakeQueryError extends AppError {
  constructor(
    readonly state: LakeFailure,
    readonly reason: string,
    readonly queryId: string | undefined,
    /** Athena's ErrorCategory: 1 system, 2 user, 3 other. */
    readonly category?: number,
    readonly errorType?: number,
  ) {
    super('INTERNAL', queryId === undefined ? `the lake query was ${state.toLowerCase()}` : `lake query ${queryId} ${state.toLowerCase()}`, queryId === undefined ? {} : { query_id: queryId });
    this.name = 'LakeQueryError';
  }
}

/**
 * Polls at 40, 92, 160, 247, 362, 510, 703 ms... after the start: a query is seen done at most
 * ~30 % after it finishes (the first answers Athena gives are hundreds of milliseconds), and a
 * long one costs at most one GetQueryExecution a second.
 */
export const DEFAULT_POLLING: LakePolling = { firstMs: 40, maxMs: 1_000, factor: 1.3 };
/** Small reports answer within this; longer ones become a 202 and a query id. */
export const DEFAULT_DEADLINE_MS = 5_000;
export const MAX_PAGE_SIZE = 1_000;

const requiredEnv = (env: NodeJS.ProcessEnv, name: string): string => {
  const value = env[name];
  if (!value) throw new Error(`${name} is not set`);
  return value;
};

export const createAthenaClient = (endpoint: string | undefined): AthenaClient =>
  traced(new AthenaClient(
    endpoint
      ? {
          endpoint,
          region: process.env.AWS_REGION ?? 'local',
          // The stand-in accepts any credentials; these keep the SDK from searching for real ones.
          credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
          maxAttempts: 3,
        }
      : { maxAttempts: 3 },
  ));

let cached: { key: string; lake: Lake } | undefined;

/**
 * The lake of this process: workgroup and database from the environment, the local stand-in when
 * ATHENA_ENDPOINT is set. One client per configuration, kept across invocations as the SDK advises.
 */
export const lakeFromEnv = (env: NodeJS.ProcessEnv = process.env): Lake => {
  const endpoint = env[ATHENA_ENDPOINT_ENV];
  const workgroup = requiredEnv(env, ATHENA_WORKGROUP_ENV);
  const database = requiredEnv(env, LAKE_DATABASE_ENV);
  const configured = env[LAKE_DEADLINE_MS_ENV];
  const deadline = configured === undefined || configured.trim() === '' ? DEFAULT_DEADLINE_MS : Number(configured);
  const maxRows = env[LAKE_MAX_RESULT_ROWS_ENV];
  const maxResultRows = maxRows === undefined || maxRows.trim() === '' || !Number.isSafeInteger(Number(maxRows)) ? DEFAULT_MAX_RESULT_ROWS : Number(maxRows);
  const key = JSON.stringify([endpoint, workgroup, database, deadline, maxResultRows]);
  if (cached?.key !== key) {
    cached = {
      key,
      lake: {
        client: createAthenaClient(endpoint),
        workgroup,
        database,
        deadlineMs: Number.isFinite(deadline) && deadline >= 0 ? deadline : DEFAULT_DEADLINE_MS,
        polling: DEFAULT_POLLING,
        pageSize: MAX_PAGE_SIZE,
        maxResultRows,
      },
    };
  }
  return cached.lake;
};

/**
 * One value as the SQL literal Athena's ExecutionParameters expect: strings quoted with
 * every `'` doubled (the only escape in Trino's and DuckDB's string literals), integers
 * and finite numbers as written, booleans TRUE/FALSE, null NULL. A string can never end
 * its literal early, so a value is never read as SQL.
 */
export const sqlLiteral = (value: LakeParam): string => {
  if (value === null) return 'NULL';
  if (typeof value === 'boolean') return value ? 'TRUE' : 'FALSE';
  if (typeof value === 'bigint') return value.toString();
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new TypeError(`a lake parameter must be a finite number, not ${value}`);
    if (Number.isInteger(value) && !Number.isSafeInteger(value)) throw new TypeError(`an integer lake parameter past 2^53 must be a bigint: ${value}`);
    // Integers, decimals (0.25) and doubles (1e-7, 1.5e+21): all literals in both dialects.
    return Object.is(value, -0) ? '0' : String(value);
  }
  if (value.includes('\u0000')) throw new TypeError('a lake parameter may not contain NUL');
  return `'${value.replaceAll("'", "''")}'`;
};

// ---- SQL text: placeholders outside literals and comments ----

interface Scanned {
  /** Offsets of each `?` placeholder. */
  placeholders: number[];
  /** `$name` references: offset, length, name. */
  named: { at: number; length: number; name: string }[];
  /** The text with comments blanked and string contents masked, same length: what the tenant rule reads. */
  code: string;
}

const IDENTIFIER_START = /[A-Za-z_]/;
const IDENTIFIER_PART = /[A-Za-z0-9_]/;

/**
 * Finds `?` and `$name` outside string literals, quoted identifiers and comments.
 * Dollar-quoted strings (DuckDB only) are refused: a report's SQL runs in both engines.
 */
export const scanSql = (sql: string): Scanned => {
  const placeholders: number[] = [];
  const named: Scanned['named'] = [];
  const code = sql.split('');
  const blank = (from: number, to: number, fill: string): void => {
    for (let index = from; index < to; index += 1) if (code[index] !== '\n') code[index] = fill;
  };
  let index = 0;
  while (index < sql.length) {
    const char = sql[index];
    const next = sql[index + 1];
    if (char === '-' && next === '-') {
      const end = sql.indexOf('\n', index);
      const stop = end === -1 ? sql.length : end;
      blank(index, stop, ' ');
      index = stop;
    } else if (char === '/' && next === '*') {
      const end = sql.indexOf('*/', index + 2);
      if (end === -1) throw new TypeError('unterminated /* comment in lake SQL');
      blank(index, end + 2, ' ');
      index = end + 2;
    } else if (char === "'" || char === '"') {
      let at = index + 1;
      for (;;) {
        const end = sql.indexOf(char, at);
        if (end === -1) throw new TypeError(`unterminated ${char === "'" ? 'string literal' : 'quoted identifier'} in lake SQL`);
        if (sql[end + 1] === char) at = end + 2;
        else {
          if (char === "'") blank(index + 1, end, 'x');
          index = end + 1;
          break;
        }
      }
    } else if (char === '?') {
      placeholders.push(index);
      index += 1;
    } else if (char === '$') {
      let end = index + 1;
      if (end < sql.length && IDENTIFIER_START.test(sql[end] ?? '')) {
        while (end < sql.length && IDENTIFIER_PART.test(sql[end] ?? '')) end += 1;
      }
      if (end === index + 1 || sql[end] === '$') throw new TypeError('dollar-quoted strings and bare $ are not portable lake SQL');
      named.push({ at: index, length: end - index, name: sql.slice(index + 1, end) });
      index = end;
    } else {
      index += 1;
    }
  }
  return { placeholders, named, code: code.join('') };
};

const CLAUSE_OR_PLACEHOLDER = /\(|\)|\?|\b(?:SELECT|FROM|WHERE|GROUP\s+BY|HAVING|ORDER\s+BY|JOIN|ON|LIMIT|OFFSET|UNION|VALUES|OVER|PARTITION\s+BY|QUALIFY|WINDOW)\b/gi;

/**
 * The offsets of the `?` placeholders that do not stand in a WHERE clause. Athena takes
 * execution parameters only there ("SELECT ? FROM table is not supported"); DuckDB takes
 * them anywhere, so the local stand-in refuses these to keep the two alike. A placeholder
 * belongs to the clause last opened at its parenthesis depth, or, inside parentheses that
 * opened none, to the enclosing one's.
 */
export const placeholdersOutsideWhere = (sql: string): number[] => {
  const { code } = scanSql(sql);
  const clauses: (string | undefined)[] = [undefined];
  const outside: number[] = [];
  for (const match of code.matchAll(CLAUSE_OR_PLACEHOLDER)) {
    const token = match[0].toUpperCase().replace(/\s+/g, ' ');
    if (token === '(') clauses.push(undefined);
    else if (token === ')') {
      if (clauses.length > 1) clauses.pop();
    } else if (token === '?') {
      const clause = [...clauses].reverse().find((each) => each !== undefined);
      if (clause !== 'WHERE') outside.push(match.index);
    } else clauses[clauses.length - 1] = token;
  }
  return outside;
};

const TENANT_PREDICATE = /(?:^|[^A-Za-z0-9_."])(?:[A-Za-z_][A-Za-z0-9_]*\.)?(?:tenant_id|"tenant_id")\s*=\s*$/i;

/**
 * Which of the text's `?` placeholders (by position, 0 first) are tenant predicates: the right
 * side of `tenant_id = ?`. A query reading several lake tables names its tenant once per table
 * (Athena's injected projection is per table); runLakeQuery binds every one of them to the
 * caller's tenant, never to a caller-supplied value.
 */
export const tenantPlaceholders = (sql: string): number[] => {
  const { placeholders, code } = scanSql(sql);
  const found: number[] = [];
  placeholders.forEach((at, index) => {
    if (TENANT_PREDICATE.test(code.slice(0, at))) found.push(index);
  });
  return found;
};

/** Why the text breaks the tenant convention (its first placeholder is `tenant_id = ?`), or undefined when it keeps it. */
export const tenantRuleBreach = (sql: string): string | undefined => {
  let scanned: Scanned;
  try {
    scanned = scanSql(sql);
  } catch (error) {
    return errorMessage(error);
  }
  if (scanned.named.length > 0) return 'lake SQL takes positional ? parameters, not $name';
  const first = scanned.placeholders[0];
  if (first === undefined) return 'lake SQL must bind its tenant: tenant_id = ? as its first parameter';
  if (!TENANT_PREDICATE.test(scanned.code.slice(0, first))) return 'the first parameter of lake SQL must be the tenant: tenant_id = ?';
  return undefined;
};

/**
 * A report's SQL file (`$name` parameters, as queryLake runs them) in Athena's positional
 * form: every `$name` becomes `?` and its value is repeated in order of appearance. The
 * first reference must be `$tenant_id`; `$tenant_id` may appear again (one predicate per
 * lake table read), each time as `tenant_id = $tenant_id` and nowhere else, and no other
 * parameter may stand there. Every tenant placeholder is bound from runLakeQuery's
 * `tenantId`, so none is in the returned parameters.
 */
export const toPositional = (sql: string, values: Readonly<Record<string, LakeParam>>): { sql: string; parameters: LakeParam[] } => {
  const { named, placeholders, code } = scanSql(sql);
  if (placeholders.length > 0) throw new TypeError('lake SQL mixes ? and $name parameters');
  if (named[0]?.name !== 'tenant_id') throw new TypeError('the first parameter of lake SQL must be $tenant_id');
  let text = '';
  let from = 0;
  const parameters: LakeParam[] = [];
  for (const reference of named) {
    text += `${sql.slice(from, reference.at)}?`;
    from = reference.at + reference.length;
    const predicate = TENANT_PREDICATE.test(code.slice(0, reference.at));
    if (reference.name === 'tenant_id') {
      if (!predicate) throw new TypeError('lake SQL names $tenant_id only in tenant predicates: tenant_id = $tenant_id');
      continue;
    }
    if (predicate) throw new TypeError(`lake SQL binds only $tenant_id in a tenant predicate, not $${reference.name}`);
    const value = values[reference.name];
    if (value === undefined) throw new TypeError(`lake parameter $${reference.name} has no value`);
    parameters.push(value);
  }
  return { sql: text + sql.slice(from), parameters };
};

/**
 * The ExecutionParameters of a query: the tenant's literal at every tenant placeholder
 * (the first among them), the caller's values at the others, in order. A count that does
 * not match the text's placeholders is a TypeError.
 */
export const executionParameters = (sql: string, tenantId: string, parameters: readonly LakeParam[]): string[] => {
  const { placeholders } = scanSql(sql);
  const tenant = new Set(tenantPlaceholders(sql));
  if (placeholders.length - tenant.size !== parameters.length) {
    throw new TypeError(`lake SQL has ${placeholders.length - tenant.size} parameters besides the tenant's, ${parameters.length} were given`);
  }
  const tenantLiteral = sqlLiteral(tenantId);
  let next = 0;
  return placeholders.map((_, index) => {
    if (tenant.has(index)) return tenantLiteral;
    const value = parameters[next];
    next += 1;
    return sqlLiteral(value ?? null);
  });
};

// ---- running ----

export interface LakeQueryInput {
  /** One SELECT whose first placeholder is `tenant_id = ?`. */
  sql: string;
  /** The values of the placeholders that are not tenant predicates, in order. */
  parameters: readonly LakeParam[];
  tenantId: string;
  /** Overrides lake.deadlineMs. */
  deadlineMs?: number;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

const rejected = (error: unknown, queryId: string | undefined): never => {
  if (errorName(error) === 'InvalidRequestException') throw new LakeQueryError('REJECTED', errorMessage(error), queryId);
  throw error;
};

/** Starts the query in the workgroup and waits for it until the deadline: its rows, or `running` and its id. */
export const runLakeQuery = async (lake: Lake, input: LakeQueryInput): Promise<LakeQueryResult> => {
  const breach = tenantRuleBreach(input.sql);
  if (breach) throw new TypeError(breach);
  const parameters = executionParameters(input.sql, input.tenantId, input.parameters);
  const started = await lake.client
    .send(
      new StartQueryExecutionCommand({
        QueryString: input.sql,
        ExecutionParameters: parameters,
        WorkGroup: lake.workgroup,
        QueryExecutionContext: { Database: lake.database },
      }),
    )
    .catch((error: unknown) => rejected(error, undefined));
  const queryId = started.QueryExecutionId;
  if (!queryId) throw new LakeQueryError('REJECTED', 'StartQueryExecution returned no query id', undefined);
  return waitFor(lake, queryId, Date.now() + (input.deadlineMs ?? lake.deadlineMs));
};

/**
 * A query started earlier, read again (GET /api/reports/queries/{id}): its rows, or `running`.
 * A query of another tenant, or of another workgroup, is not found; so is one whose text or
 * parameters are not `expect`'s, when given (the caller rebuilt them from what the id claims).
 */
export const getLakeQuery = async (
  lake: Lake,
  input: { queryId: string; tenantId: string; deadlineMs?: number; expect?: { sql: string; parameters: readonly LakeParam[] } },
): Promise<LakeQueryResult> => {
  if (input.expect) {
    const found = await execution(lake, input.queryId, input.tenantId);
    const expected = executionParameters(input.expect.sql, input.tenantId, input.expect.parameters);
    const parameters = found.ExecutionParameters ?? [];
    if (!sameSql(found.Query ?? '', input.expect.sql) || parameters.length !== expected.length || parameters.some((value, index) => value !== expected[index])) {
      throw notFound('query', input.queryId);
    }
  }
  return waitFor(lake, input.queryId, Date.now() + (input.deadlineMs ?? 0), input.tenantId);
};

/** The same query text, whitespace aside (Athena may hand back the text it ran trimmed or re-spaced). */
const sameSql = (a: string, b: string): boolean => a.replace(/\s+/g, ' ').trim() === b.replace(/\s+/g, ' ').trim();

const execution = async (lake: Lake, queryId: string, tenantId?: string): Promise<QueryExecution> => {
  const answer = await lake.client.send(new GetQueryExecutionCommand({ QueryExecutionId: queryId })).catch((error: unknown) => {
    if (errorName(error) === 'InvalidRequestException') throw notFound('query', queryId);
    throw error;
  });
  const found = answer.QueryExecution;
  if (!found) throw notFound('query', queryId);
  if (tenantId !== undefined && (found.WorkGroup !== lake.workgroup || found.ExecutionParameters?.[0] !== sqlLiteral(tenantId))) throw notFound('query', queryId);
  return found;
};

const waitFor = async (lake: Lake, queryId: string, deadline: number, tenantId?: string): Promise<LakeQueryResult> => {
  let wait = lake.polling.firstMs;
  for (;;) {
    const found = await execution(lake, queryId, tenantId);
    const state = found.Status?.State;
    if (state === 'SUCCEEDED') return { state: 'succeeded', query_id: queryId, ...(await readResults(lake, queryId)) };
    if (state === 'FAILED' || state === 'CANCELLED') {
      const status = found.Status;
      throw new LakeQueryError(state, status?.AthenaError?.ErrorMessage ?? status?.StateChangeReason ?? state, queryId, status?.AthenaError?.ErrorCategory, status?.AthenaError?.ErrorType);
    }
    const left = deadline - Date.now();
    if (left <= 0) return { state: 'running', query_id: queryId };
    await sleep(Math.min(wait, left));
    wait = Math.min(wait * lake.polling.factor, lake.polling.maxMs);
  }
};

const readResults = async (lake: Lake, queryId: string): Promise<{ columns: LakeColumn[]; rows: LakeRecord[] }> => {
  let columns: LakeColumn[] | undefined;
  const rows: LakeRecord[] = [];
  let nextToken: string | undefined;
  let first = true;
  do {
    const page = await lake.client
      .send(new GetQueryResultsCommand({ QueryExecutionId: queryId, MaxResults: lake.pageSize, ...(nextToken ? { NextToken: nextToken } : {}) }))
      .catch((error: unknown) => rejected(error, queryId));
    columns ??= decodeColumns(page.ResultSet?.ResultSetMetadata?.ColumnInfo ?? [], queryId);
    const data = page.ResultSet?.Rows ?? [];
    // For a SELECT, Athena's first row is the header: the column names.
    for (const row of first ? data.slice(1) : data) rows.push(decodeRow(row, columns, queryId));
    if (lake.maxResultRows !== undefined && rows.length > lake.maxResultRows) {
      throw new AppError('REPORT_TOO_LARGE', `the report reads more than ${lake.maxResultRows} lake rows; narrow it (a SKU, a shorter window)`, { max_rows: lake.maxResultRows });
    }
    first = false;
    nextToken = page.NextToken;
  } while (nextToken);
  return { columns, rows };
};

const decodeColumns = (info: ColumnInfo[], queryId: string): LakeColumn[] => {
  const seen = new Set<string>();
  return info.map((column) => {
    const name = column.Name ?? '';
    if (seen.has(name)) throw new LakeQueryError('UNDECODABLE', `duplicate column name ${JSON.stringify(name)}`, queryId);
    seen.add(name);
    return { name, type: (column.Type ?? '').toLowerCase(), ...(column.Precision === undefined ? {} : { precision: column.Precision }), ...(column.Scale === undefined ? {} : { scale: column.Scale }) };
  });
};

const decodeRow = (row: Row, columns: LakeColumn[], queryId: string): LakeRecord => {
  const data = row.Data ?? [];
  if (data.length !== columns.length) throw new LakeQueryError('UNDECODABLE', `a row has ${data.length} cells for ${columns.length} columns`, queryId);
  const record: LakeRecord = {};
  columns.forEach((column, index) => {
    record[column.name] = decodeValue(data[index]?.VarCharValue, column, queryId);
  });
  return record;
};

const INTEGER = /^-?\d+$/;
const DECIMAL = /^-?\d+(\.\d+)?$/;
const DATE = /^\d{4}-\d{2}-\d{2}$/;
const TIMESTAMP = /^(\d{4}-\d{2}-\d{2})[ T](\d{2}:\d{2}:\d{2})(?:\.(\d+))?(?: UTC|Z)?$/;

/** One cell by its column's Athena type; a missing VarCharValue is NULL. */
export const decodeValue = (text: string | undefined, column: LakeColumn, queryId?: string): LakeValue => {
  if (text === undefined) return null;
  const bad = (): never => {
    throw new LakeQueryError('UNDECODABLE', `column ${column.name} (${column.type}): cannot read ${JSON.stringify(text)}`, queryId);
  };
  const type = column.type.replace(/\(\d+(?:,\s*\d+)?\)/g, '').replace(/\s+/g, ' ').trim();
  switch (type) {
    case 'varchar':
    case 'char':
    case 'string':
      return text;
    case 'tinyint':
    case 'smallint':
    case 'integer':
    case 'int':
      return INTEGER.test(text) ? Number(text) : bad();
    case 'bigint':
      return INTEGER.test(text) ? BigInt(text) : bad();
    case 'double':
    case 'real':
    case 'float': {
      const number = Number(text);
      return text === 'NaN' || (text.trim() !== '' && !Number.isNaN(number)) ? number : bad();
    }
    case 'decimal':
      return DECIMAL.test(text) ? text : bad();
    case 'date':
      return DATE.test(text) ? text : bad();
    case 'timestamp':
    case 'timestamp with time zone': {
      const match = TIMESTAMP.exec(text);
      if (!match) return bad();
      const instant = `${match[1]}T${match[2]}.${(match[3] ?? '').padEnd(3, '0').slice(0, 3)}Z`;
      return Number.isNaN(Date.parse(instant)) ? bad() : instant;
    }
    case 'boolean':
      return text === 'true' ? true : text === 'false' ? false : bad();
    default:
      return bad();
  }
};
