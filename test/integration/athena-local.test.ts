import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetQueryExecutionCommand, GetQueryResultsCommand, StartQueryExecutionCommand, type AthenaClient } from '@aws-sdk/client-athena';
import { startLocalAthena, type LocalAthena } from '../../bin/local/athena';
import { LocalLake, type LakeMovement } from '../../bin/local/lake';
import { readReportSql } from '../../bin/local/lake-query';
import { createAthenaClient, getLakeQuery, LakeQueryError, runLakeQuery, tenantPlaceholders, toPositional, type Lake, type LakeQueryResult } from '../../functions/platform/lake';

/**
 * Lake queries through the real @aws-sdk/client-athena against the local Athena
 * stand-in (bin/local/athena.ts), over real Parquet written by LocalLake in a temp dir.
 */

const WORKGROUP = 'stockroom-test';
const A = 'tenant-a';
const B = 'tenant-b';
const PAGED = 'tenant-paged';

let root: string;
let athena: LocalAthena;
let slowAthena: LocalAthena;
let lake: Lake;

const lakeOn = (endpoint: string, overrides: Partial<Lake> = {}): Lake => ({
  client: createAthenaClient(endpoint),
  workgroup: WORKGROUP,
  database: 'stockroom_lake',
  deadlineMs: 20_000,
  polling: { firstMs: 5, maxMs: 50, factor: 2 },
  pageSize: 1000,
  ...overrides,
});

let sequence = 0;
const movement = (overrides: Partial<LakeMovement> & Pick<LakeMovement, 'tenant_id' | 'type' | 'created_at'>): LakeMovement => {
  sequence += 1;
  return {
    movement_id: `01J0000000000000000000${String(sequence).padStart(4, '0')}`,
    sku_id: 'sku-1',
    warehouse_id: 'wh-1',
    deltas: { on_hand: 0, reserved: 0, available: 0, incoming: 0 },
    actor: 'user-1',
    ...overrides,
  };
};
const units = (onHand: number) => ({ on_hand: onHand, reserved: 0, available: onHand, incoming: 0 });

const succeeded = (result: LakeQueryResult) => {
  if (result.state !== 'succeeded') throw new Error(`expected a finished query, got ${JSON.stringify(result)}`);
  return result;
};

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'stockroom-athena-'));
  const writer = await LocalLake.open({ root, flushEveryMs: 0 });
  writer.append([
    movement({ tenant_id: A, type: 'receipt', created_at: '2024-03-02T08:00:00.000Z', deltas: units(10), resulting: units(10), version: 1, unit_cost: '12.34', currency: 'EUR', note: 'first' }),
    movement({ tenant_id: A, type: 'receipt', created_at: '2024-03-20T08:00:00.000Z', deltas: units(5), unit_cost: '0.5', currency: 'EUR' }),
    movement({ tenant_id: A, type: 'sale', created_at: '2024-03-21T09:30:00.250Z', deltas: units(-3) }),
    movement({ tenant_id: A, type: 'sale', created_at: '2024-04-02T10:00:00.000Z', deltas: units(-4) }),
    movement({ tenant_id: A, type: 'sale', sku_id: 'sku-2', created_at: '2024-04-03T10:00:00.000Z', deltas: units(-1) }),
    // Outside the window: must not count.
    movement({ tenant_id: A, type: 'sale', created_at: '2024-05-01T00:00:00.000Z', deltas: units(-100) }),
    // Tenant B, same window, SKUs and types: must never show for A.
    movement({ tenant_id: B, type: 'receipt', created_at: '2024-03-02T08:00:00.000Z', deltas: units(1000) }),
    movement({ tenant_id: B, type: 'sale', created_at: '2024-04-02T08:00:00.000Z', deltas: units(-999) }),
    ...Array.from({ length: 25 }, (_, index) =>
      movement({ tenant_id: PAGED, type: 'restock', created_at: `2024-06-${String(1 + (index % 28)).padStart(2, '0')}T00:00:00.000Z`, deltas: units(index + 1) }),
    ),
  ]);
  writer.appendRecords('orders', [
    { tenant_id: A, record_id: 'o-1:v1:0:wh-1', order_id: 'o-1', line_index: 0, sku_id: 'sku-1', warehouse_id: 'wh-1', outcome: 'allocated', quantity: 3, line_quantity: 3, reason: null, order_status: 'allocated', order_version: 1, correlation_id: 'o-1', created_at: '2024-03-05T00:00:00.000Z' },
    { tenant_id: B, record_id: 'o-9:v1:0:wh-1', order_id: 'o-9', line_index: 0, sku_id: 'sku-1', warehouse_id: 'wh-1', outcome: 'held', quantity: 7, line_quantity: 7, reason: null, order_status: 'held', order_version: 1, correlation_id: 'o-9', created_at: '2024-03-05T00:00:00.000Z' },
  ]);
  await writer.close();
  athena = await startLocalAthena({ lakeRoot: root, workgroups: [WORKGROUP] });
  slowAthena = await startLocalAthena({ lakeRoot: root, workgroups: [WORKGROUP], minRunningMs: 1_500, resultTtlMs: 60_000 });
  lake = lakeOn(athena.endpoint);
});

afterAll(async () => {
  lake.client.destroy();
  await athena.close();
  await slowAthena.close();
  await rm(root, { recursive: true, force: true });
});

interface Filters {
  from: string;
  to: string;
  grain: string;
  sku_id: string | null;
  warehouse_id: string | null;
  type: string | null;
  closed_through: string;
  balance_day: string;
}
// Bounds as the reports bind them (reports.ts lakeInstant): a form Trino and DuckDB both cast to TIMESTAMP. No day closed: every row raw.
const WINDOW: Filters = { from: '2024-03-01 00:00:00.000', to: '2024-05-01 00:00:00.000', grain: 'month', sku_id: null, warehouse_id: null, type: null, closed_through: '1970-01-01', balance_day: '1969-12-31' };

const stockMovement = async (tenantId: string, filters: Partial<Filters> = {}, on: Lake = lake): Promise<LakeQueryResult> => {
  const positional = toPositional(await readReportSql('stock-movement'), { ...WINDOW, ...filters });
  return runLakeQuery(on, { sql: positional.sql, parameters: positional.parameters, tenantId });
};

/** The report's period rows, without its summary row. */
const periodRows = (result: LakeQueryResult) =>
  succeeded(result).rows.flatMap(({ row_kind, period, type, units_in, units_out, net, movements }) => (row_kind === 'period' ? [{ period, type, units_in, units_out, net, movements }] : []));

test('the orders table is queried like movements: the tenant\'s own rows, typed as Athena types them', async () => {
  const sql = 'SELECT order_id, outcome, quantity, dt FROM orders WHERE tenant_id = ? ORDER BY order_id';
  const a = succeeded(await runLakeQuery(lake, { sql, parameters: [], tenantId: A }));
  expect(a.rows).toEqual([{ order_id: 'o-1', outcome: 'allocated', quantity: 3n, dt: '2024-03-05' }]);
  expect(a.columns.map((c) => [c.name, c.type])).toEqual([
    ['order_id', 'varchar'],
    ['outcome', 'varchar'],
    ['quantity', 'bigint'],
    ['dt', 'date'],
  ]);
  const nobody = succeeded(await runLakeQuery(lake, { sql, parameters: [], tenantId: PAGED }));
  expect(nobody.rows).toEqual([]);
});

/** The status of a query once it has ended, polled through the SDK. */
const settled = async (QueryExecutionId: string) => {
  for (let attempt = 0; attempt < 500; attempt += 1) {
    const status = (await lake.client.send(new GetQueryExecutionCommand({ QueryExecutionId }))).QueryExecution?.Status;
    if (status?.State !== 'QUEUED' && status?.State !== 'RUNNING') return status;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error(`query ${QueryExecutionId} did not end`);
};

/** Every command the client sends, by name with its input, through an SDK middleware. */
const recordSends = (client: AthenaClient): { sent: { command: string; input: Record<string, unknown> }[]; restore: () => void } => {
  const sent: { command: string; input: Record<string, unknown> }[] = [];
  const name = `record-${Math.random()}`;
  client.middlewareStack.add(
    (next, context) => async (args) => {
      sent.push({ command: String(context.commandName), input: args.input as Record<string, unknown> });
      return next(args);
    },
    { step: 'initialize', name },
  );
  return { sent, restore: () => client.middlewareStack.remove(name) };
};

describe('the stock-movement report through the Athena API', () => {
  it("returns tenant A's per-month totals by type, exactly, and none of tenant B's rows", async () => {
    const result = succeeded(await stockMovement(A));
    expect(result.columns.map((column) => [column.name, column.type])).toEqual([
      ['row_kind', 'varchar'],
      ['period', 'date'],
      ['type', 'varchar'],
      ['units_in', 'bigint'],
      ['units_out', 'bigint'],
      ['net', 'bigint'],
      ['movements', 'bigint'],
      ['opening_on_hand', 'bigint'],
      ['closing_on_hand', 'bigint'],
      ['data_as_of', 'timestamp'],
    ]);
    expect(periodRows(result)).toEqual([
      { period: '2024-03-01', type: 'receipt', units_in: 15n, units_out: 0n, net: 15n, movements: 2n },
      { period: '2024-03-01', type: 'sale', units_in: 0n, units_out: 3n, net: -3n, movements: 1n },
      { period: '2024-04-01', type: 'sale', units_in: 0n, units_out: 5n, net: -5n, movements: 2n },
    ]);
    expect(periodRows(await stockMovement(B))).toEqual([
      { period: '2024-03-01', type: 'receipt', units_in: 1000n, units_out: 0n, net: 1000n, movements: 1n },
      { period: '2024-04-01', type: 'sale', units_in: 0n, units_out: 999n, net: -999n, movements: 1n },
    ]);
    expect(periodRows(await stockMovement('tenant-without-rows'))).toEqual([]);
  });

  it('applies the optional filters as bound values', async () => {
    expect(periodRows(await stockMovement(A, { sku_id: 'sku-2' }))).toEqual([
      { period: '2024-04-01', type: 'sale', units_in: 0n, units_out: 1n, net: -1n, movements: 1n },
    ]);
    expect(periodRows(await stockMovement(A, { type: 'receipt', grain: 'day' })).map((row) => [row.period, row.units_in])).toEqual([
      ['2024-03-02', 10n],
      ['2024-03-20', 5n],
    ]);
  });

  it('sends the values as ExecutionParameters literals, the tenant first, and none of them inside the SQL text', async () => {
    const { sent, restore } = recordSends(lake.client);
    try {
      succeeded(await stockMovement(A, { sku_id: 'sku-2' }));
    } finally {
      restore();
    }
    const starts = sent.filter((each) => each.command === 'StartQueryExecutionCommand');
    expect(starts).toHaveLength(1);
    const input = starts[0]?.input;
    expect(input).toMatchObject({ WorkGroup: WORKGROUP, QueryExecutionContext: { Database: 'stockroom_lake' } });
    const parameters: string[] = input?.ExecutionParameters as string[];
    expect(parameters[0]).toBe(`'${A}'`);
    // The tenant again at each later tenant predicate (one per lake table read), and nowhere else.
    const tenantAt = tenantPlaceholders(String(input?.QueryString));
    expect(tenantAt.length).toBeGreaterThan(1);
    expect(parameters.filter((_, index) => tenantAt.includes(index))).toEqual(tenantAt.map(() => `'${A}'`));
    expect(new Set(parameters.filter((_, index) => !tenantAt.includes(index)))).toEqual(new Set([`'${WINDOW.from}'`, `'${WINDOW.to}'`, "'sku-2'", 'NULL', "'month'", `'${WINDOW.closed_through}'`, `'${WINDOW.balance_day}'`]));
    expect(input?.QueryString).not.toMatch(/sku-2|tenant-a|2024-0/);
    expect(input?.QueryString).toMatch(/WHERE tenant_id = \?/);
  });
});

describe('result size', () => {
  it('keeps at most maxResultRows rows of a result, streamed out of DuckDB, so a huge query cannot exhaust memory', async () => {
    const small = await startLocalAthena({ lakeRoot: root, workgroups: [WORKGROUP], maxResultRows: 2 });
    const client = lakeOn(small.endpoint);
    try {
      const sql = 'SELECT movement_id FROM movements WHERE tenant_id = ? ORDER BY movement_id';
      const all = succeeded(await runLakeQuery(lake, { sql, parameters: [], tenantId: A })).rows;
      expect(all.length).toBeGreaterThan(2);
      expect(succeeded(await runLakeQuery(client, { sql, parameters: [], tenantId: A })).rows).toEqual(all.slice(0, 2));
    } finally {
      client.client.destroy();
      await small.close();
    }
  });
});

describe('parameters outside WHERE', () => {
  it('fails a query with a ? outside its WHERE clauses, as Athena refuses it', async () => {
    const error = await runLakeQuery(lake, { sql: 'SELECT movement_id FROM movements WHERE tenant_id = ? LIMIT ?', parameters: [1], tenantId: A }).catch((thrown: unknown) => thrown);
    expect(error).toBeInstanceOf(LakeQueryError);
    expect(error).toMatchObject({ reason: expect.stringMatching(/only stand in a WHERE clause/) });
  });
});

describe('types', () => {
  it('decodes decimal as an exact string, date, timestamp, bigint, integer, double, boolean and null by the result metadata', async () => {
    const result = succeeded(
      await runLakeQuery(lake, {
        sql:
          'WITH mine AS (SELECT * FROM movements WHERE tenant_id = ?) ' +
          // Literals, not parameters: Athena takes parameters only in WHERE (the stand-in refuses others).
          'SELECT unit_cost, dt, created_at, delta_on_hand, resulting_on_hand, note, CAST(7 AS INTEGER) AS small, CAST(0.25 AS DOUBLE) AS ratio, TRUE AS flag, ' +
          "CAST('123456789012345.6789' AS DECIMAL(19,4)) AS exact, CAST(9007199254740993 AS BIGINT) AS huge FROM mine ORDER BY movement_id LIMIT 2",
        parameters: [],
        tenantId: A,
      }),
    );
    expect(result.columns).toEqual([
      { name: 'unit_cost', type: 'decimal', precision: 19, scale: 4 },
      { name: 'dt', type: 'date', precision: 0, scale: 0 },
      { name: 'created_at', type: 'timestamp', precision: 3, scale: 0 },
      { name: 'delta_on_hand', type: 'bigint', precision: 19, scale: 0 },
      { name: 'resulting_on_hand', type: 'bigint', precision: 19, scale: 0 },
      { name: 'note', type: 'varchar', precision: 2_147_483_647, scale: 0 },
      { name: 'small', type: 'integer', precision: 10, scale: 0 },
      { name: 'ratio', type: 'double', precision: 17, scale: 0 },
      { name: 'flag', type: 'boolean', precision: 0, scale: 0 },
      { name: 'exact', type: 'decimal', precision: 19, scale: 4 },
      { name: 'huge', type: 'bigint', precision: 19, scale: 0 },
    ]);
    expect(result.rows).toEqual([
      {
        unit_cost: '12.3400',
        dt: '2024-03-02',
        created_at: '2024-03-02T08:00:00.000Z',
        delta_on_hand: 10n,
        resulting_on_hand: 10n,
        note: 'first',
        small: 7,
        ratio: 0.25,
        flag: true,
        exact: '123456789012345.6789',
        huge: 9_007_199_254_740_993n,
      },
      {
        unit_cost: '0.5000',
        dt: '2024-03-20',
        created_at: '2024-03-20T08:00:00.000Z',
        delta_on_hand: 5n,
        resulting_on_hand: null,
        note: null,
        small: 7,
        ratio: 0.25,
        flag: true,
        exact: '123456789012345.6789',
        huge: 9_007_199_254_740_993n,
      },
    ]);
  });

  it('answers the header row first on the wire, and a NULL as a Datum without VarCharValue, as Athena does', async () => {
    const client = lake.client;
    const { QueryExecutionId } = await client.send(
      new StartQueryExecutionCommand({ QueryString: 'SELECT note, movement_id FROM movements WHERE tenant_id = ? ORDER BY movement_id LIMIT 2 OFFSET 1', ExecutionParameters: [`'${A}'`], WorkGroup: WORKGROUP }),
    );
    if (!QueryExecutionId) throw new Error('no query id');
    succeeded(await getLakeQuery(lake, { queryId: QueryExecutionId, tenantId: A, deadlineMs: 10_000 }));
    const page = await client.send(new GetQueryResultsCommand({ QueryExecutionId }));
    expect(page.ResultSet?.Rows?.[0]).toEqual({ Data: [{ VarCharValue: 'note' }, { VarCharValue: 'movement_id' }] });
    expect(page.ResultSet?.Rows?.[1]?.Data?.[0]).toEqual({});
    expect(page.ResultSet?.Rows).toHaveLength(3);
    expect(page.NextToken).toBeUndefined();
  });
});

describe('paging', () => {
  it('reads every row, in order, over pages of MaxResults with NextToken', async () => {
    const small = lakeOn(athena.endpoint, { pageSize: 7 });
    const { sent, restore } = recordSends(small.client);
    let result: LakeQueryResult;
    try {
      result = await runLakeQuery(small, { sql: 'SELECT delta_on_hand FROM movements WHERE tenant_id = ? ORDER BY delta_on_hand', parameters: [], tenantId: PAGED });
    } finally {
      restore();
      small.client.destroy();
    }
    expect(succeeded(result).rows.map((row) => row.delta_on_hand)).toEqual(Array.from({ length: 25 }, (_, index) => BigInt(index + 1)));
    // 25 rows and the header row, 7 a page: 4 pages.
    const pages = sent.filter((each) => each.command === 'GetQueryResultsCommand').map((each) => each.input);
    expect(pages).toHaveLength(4);
    expect(pages.map((page) => page.MaxResults)).toEqual([7, 7, 7, 7]);
    expect(pages.map((page) => typeof page.NextToken)).toEqual(['undefined', 'string', 'string', 'string']);
  });

  it("refuses a NextToken of another query", async () => {
    const started = async (): Promise<string> => {
      const { QueryExecutionId } = await lake.client.send(
        new StartQueryExecutionCommand({ QueryString: 'SELECT movement_id FROM movements WHERE tenant_id = ?', ExecutionParameters: [`'${PAGED}'`], WorkGroup: WORKGROUP }),
      );
      if (!QueryExecutionId) throw new Error('no query id');
      succeeded(await getLakeQuery(lake, { queryId: QueryExecutionId, tenantId: PAGED, deadlineMs: 10_000 }));
      return QueryExecutionId;
    };
    const [first, second] = [await started(), await started()];
    const page = await lake.client.send(new GetQueryResultsCommand({ QueryExecutionId: first, MaxResults: 5 }));
    expect(page.NextToken).toEqual(expect.any(String));
    await expect(lake.client.send(new GetQueryResultsCommand({ QueryExecutionId: second, MaxResults: 5, NextToken: page.NextToken }))).rejects.toMatchObject({
      name: 'InvalidRequestException',
    });
  });
});

describe('injection and tenancy', () => {
  it('binds an injection attempt in a filter as a value: it matches nothing and reaches no other tenant', async () => {
    for (const attempt of ["x' OR '1'='1", "sku-1' OR tenant_id <> 'tenant-a", "sku-1'; DROP TABLE movements; --", "'); SELECT * FROM movements --", '?', '$1']) {
      expect(periodRows(await stockMovement(A, { sku_id: attempt }))).toEqual([]);
    }
    // Still there, and still A's alone.
    expect(periodRows(await stockMovement(A))).toHaveLength(3);
  });

  it('fails a query whose tenant parameter is not a tenant id, and reads no rows', async () => {
    const error = await stockMovement("tenant-a' OR '1'='1").catch((thrown: unknown) => thrown);
    expect(error).toBeInstanceOf(LakeQueryError);
    expect(error).toMatchObject({ state: 'FAILED', reason: expect.stringMatching(/invalid tenant id/) });
  });

  it('keeps a query to its tenant whatever its WHERE says', async () => {
    const result = succeeded(await runLakeQuery(lake, { sql: 'SELECT DISTINCT tenant_id FROM movements WHERE tenant_id = ? OR 1 = 1', parameters: [], tenantId: A }));
    expect(result.rows).toEqual([{ tenant_id: A }]);
  });

  it('fails, at the stand-in, a query that does not bind its tenant first, as the injected projection does', async () => {
    for (const [sql, parameters] of [
      ['SELECT COUNT(*) AS n FROM movements', []],
      ["SELECT COUNT(*) AS n FROM movements WHERE tenant_id = 'tenant-a'", []],
      ['SELECT COUNT(*) AS n FROM movements WHERE sku_id = ? AND tenant_id = ?', ["'sku-1'", `'${A}'`]],
    ] as const) {
      const { QueryExecutionId } = await lake.client.send(new StartQueryExecutionCommand({ QueryString: sql, ExecutionParameters: [...parameters], WorkGroup: WORKGROUP }));
      if (!QueryExecutionId) throw new Error('no query id');
      const status = await settled(QueryExecutionId);
      expect(status?.State).toBe('FAILED');
      expect(status?.StateChangeReason).toMatch(/^CONSTRAINT_VIOLATION/);
    }
  });

  it('binds every tenant predicate of a query reading two lake tables to the caller, whatever the caller passes', async () => {
    const sql = 'SELECT m.n AS movements, o.n AS orders FROM (SELECT COUNT(*) AS n FROM movements WHERE tenant_id = ?) m CROSS JOIN (SELECT COUNT(*) AS n FROM orders WHERE tenant_id = ? AND sku_id = ?) o';
    const result = succeeded(await runLakeQuery(lake, { sql, parameters: ['sku-1'], tenantId: A }));
    expect(result.rows).toEqual([{ movements: 6n, orders: 1n }]);
    // The caller's values fill only the other placeholders: too many of them is refused before sending.
    await expect(runLakeQuery(lake, { sql, parameters: [B, 'sku-1'], tenantId: A })).rejects.toThrow(/besides the tenant/);
  });

  it('fails, at the stand-in, a query whose tenant predicates bind different tenants', async () => {
    const sql = 'SELECT m.n AS movements, o.n AS orders FROM (SELECT COUNT(*) AS n FROM movements WHERE tenant_id = ?) m CROSS JOIN (SELECT COUNT(*) AS n FROM orders WHERE tenant_id = ?) o';
    const { QueryExecutionId } = await lake.client.send(new StartQueryExecutionCommand({ QueryString: sql, ExecutionParameters: [`'${A}'`, `'${B}'`], WorkGroup: WORKGROUP }));
    if (!QueryExecutionId) throw new Error('no query id');
    const status = await settled(QueryExecutionId);
    expect(status?.State).toBe('FAILED');
    expect(status?.StateChangeReason).toMatch(/^CONSTRAINT_VIOLATION: every tenant_id = \? of a query must bind the same tenant/);
  });

  it('refuses, before sending, a query whose first placeholder is not the tenant', async () => {
    await expect(runLakeQuery(lake, { sql: 'SELECT 1 AS one FROM movements WHERE sku_id = ? AND tenant_id = ?', parameters: ['sku-1'], tenantId: A })).rejects.toThrow(/first parameter/);
  });

  it("does not show one tenant's query to another", async () => {
    const { QueryExecutionId } = await lake.client.send(
      new StartQueryExecutionCommand({ QueryString: 'SELECT movement_id FROM movements WHERE tenant_id = ?', ExecutionParameters: [`'${A}'`], WorkGroup: WORKGROUP }),
    );
    if (!QueryExecutionId) throw new Error('no query id');
    succeeded(await getLakeQuery(lake, { queryId: QueryExecutionId, tenantId: A, deadlineMs: 10_000 }));
    await expect(getLakeQuery(lake, { queryId: QueryExecutionId, tenantId: B })).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await expect(getLakeQuery(lake, { queryId: 'no-such-query', tenantId: A })).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });

  it('refuses an ExecutionParameter that is not a literal with InvalidRequestException, and starts nothing', async () => {
    const before = athena.size();
    await expect(
      lake.client.send(new StartQueryExecutionCommand({ QueryString: 'SELECT 1 AS one FROM movements WHERE tenant_id = ?', ExecutionParameters: ["'tenant-a' OR 1 = 1"], WorkGroup: WORKGROUP })),
    ).rejects.toMatchObject({ name: 'InvalidRequestException' });
    expect(athena.size()).toBe(before);
  });
});

describe('failures', () => {
  it('turns a failing SQL into a LakeQueryError with its query id and reason', async () => {
    const error = await runLakeQuery(lake, { sql: 'SELECT no_such_column FROM movements WHERE tenant_id = ?', parameters: [], tenantId: A }).catch((thrown: unknown) => thrown);
    expect(error).toBeInstanceOf(LakeQueryError);
    expect(error).toMatchObject({ state: 'FAILED', code: 'INTERNAL', category: 2, queryId: expect.any(String), reason: expect.stringMatching(/no_such_column/) });
  });

  it('fails anything but one SELECT', async () => {
    for (const sql of ['DELETE FROM movements WHERE tenant_id = ?', 'SELECT 1 AS one FROM movements WHERE tenant_id = ?; SELECT 2 AS two']) {
      await expect(runLakeQuery(lake, { sql, parameters: [], tenantId: A })).rejects.toMatchObject({ state: 'FAILED', reason: expect.stringMatching(/INVALID_QUERY/) });
    }
  });

  it('turns a refused start (unknown workgroup) into a REJECTED LakeQueryError', async () => {
    const other = lakeOn(athena.endpoint, { workgroup: 'no-such-workgroup' });
    try {
      await expect(runLakeQuery(other, { sql: 'SELECT 1 AS one FROM movements WHERE tenant_id = ?', parameters: [], tenantId: A })).rejects.toMatchObject({ state: 'REJECTED' });
    } finally {
      other.client.destroy();
    }
  });
});

describe('past the deadline', () => {
  it('answers running with the query id, and a later poll returns its rows', async () => {
    const slow = lakeOn(slowAthena.endpoint, { deadlineMs: 100 });
    try {
      const first = await stockMovement(A, {}, slow);
      expect(first).toEqual({ state: 'running', query_id: expect.any(String) });
      expect(await getLakeQuery(slow, { queryId: first.query_id, tenantId: A })).toEqual({ state: 'running', query_id: first.query_id });
      const later = succeeded(await getLakeQuery(slow, { queryId: first.query_id, tenantId: A, deadlineMs: 10_000 }));
      expect(later.query_id).toBe(first.query_id);
      expect(later.rows).toEqual(succeeded(await stockMovement(A)).rows);
    } finally {
      slow.client.destroy();
    }
  });

  it('forgets a query after the result TTL', async () => {
    // Long enough that a loaded machine still reads the results between the query's end and their expiry.
    const brief = await startLocalAthena({ lakeRoot: root, workgroups: [WORKGROUP], resultTtlMs: 1_000 });
    const on = lakeOn(brief.endpoint);
    try {
      const result = succeeded(await runLakeQuery(on, { sql: 'SELECT movement_id FROM movements WHERE tenant_id = ?', parameters: [], tenantId: A }));
      await new Promise((resolve) => setTimeout(resolve, 1_300));
      await expect(getLakeQuery(on, { queryId: result.query_id, tenantId: A })).rejects.toMatchObject({ code: 'NOT_FOUND' });
      expect(brief.size()).toBe(0);
    } finally {
      on.client.destroy();
      await brief.close();
    }
  });
});
