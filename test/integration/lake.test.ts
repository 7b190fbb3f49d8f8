import { copyFile, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { LakeInputError, LocalLake, partitionDir, type LakeMovement } from '../../bin/local/lake';
import { queryLake, readReportSql } from '../../bin/local/lake-query';
import { lakeInstant } from '../../functions/reports/reports';
import { filesUnder } from '../support/files';

/** The local lake (issue 9): real DuckDB writing and reading real Parquet in a temp dir. */

let root: string;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'stockroom-lake-'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

const movement = (overrides: Partial<LakeMovement> & Pick<LakeMovement, 'tenant_id' | 'movement_id'>): LakeMovement => ({
  sku_id: 'sku-1',
  warehouse_id: 'wh-1',
  type: 'restock',
  deltas: { on_hand: 5, reserved: 0, available: 5, incoming: 0 },
  actor: 'user-1',
  created_at: '2024-03-10T12:00:00.000Z',
  ...overrides,
});

const ALL = 'SELECT * FROM movements ORDER BY movement_id';

describe('appending and reading back', () => {
  it('reads after a flush exactly what was appended, nulls and an exact decimal cost included', async () => {
    const lake = await LocalLake.open({ root, flushEveryMs: 0 });
    const full = movement({
      tenant_id: 'rt-a',
      movement_id: '01HZZZZZZZZZZZZZZZZZZZZZZ1',
      type: 'receipt',
      deltas: { on_hand: 1_000_000_000, reserved: -3, available: 999_999_997, incoming: -1_000_000_000 },
      resulting: { on_hand: 3_000_000_000, reserved: 0, available: 3_000_000_000, incoming: 0 },
      version: 7,
      unit_cost: '123456789012345.6789',
      currency: 'EUR',
      reason: 'po receipt',
      reference: 'PO-1',
      note: 'it\'s "quoted"; DROP TABLE movements; -- ünïcode',
      correlation_id: 'corr-1',
      created_at: '2024-03-10T23:59:59.999Z',
    });
    const bare = movement({ tenant_id: 'rt-a', movement_id: '01HZZZZZZZZZZZZZZZZZZZZZZ2', type: 'allocation', deltas: { on_hand: 0, reserved: 2, available: -2, incoming: 0 } });
    lake.append([full, bare, movement({ tenant_id: 'rt-b', movement_id: '01HZZZZZZZZZZZZZZZZZZZZZZ3', unit_cost: '0.5', currency: 'USD' })]);
    expect(lake.pending()).toBe(3);
    expect(await queryLake(root, ALL, { tenant_id: 'rt-a' })).toEqual([]);
    await lake.flush();
    expect(lake.pending()).toBe(0);

    expect(await queryLake(root, ALL, { tenant_id: 'rt-a' })).toEqual([
      {
        tenant_id: 'rt-a',
        dt: '2024-03-10',
        movement_id: full.movement_id,
        sku_id: 'sku-1',
        warehouse_id: 'wh-1',
        type: 'receipt',
        delta_on_hand: 1_000_000_000,
        delta_reserved: -3,
        delta_available: 999_999_997,
        delta_incoming: -1_000_000_000,
        resulting_on_hand: 3_000_000_000,
        resulting_reserved: 0,
        resulting_available: 3_000_000_000,
        resulting_incoming: 0,
        version: 7,
        unit_cost: '123456789012345.6789',
        currency: 'EUR',
        reason: 'po receipt',
        reference: 'PO-1',
        note: full.note,
        correlation_id: 'corr-1',
        actor: 'user-1',
        created_at: '2024-03-10T23:59:59.999Z',
      },
      {
        tenant_id: 'rt-a',
        dt: '2024-03-10',
        movement_id: bare.movement_id,
        sku_id: 'sku-1',
        warehouse_id: 'wh-1',
        type: 'allocation',
        delta_on_hand: 0,
        delta_reserved: 2,
        delta_available: -2,
        delta_incoming: 0,
        resulting_on_hand: null,
        resulting_reserved: null,
        resulting_available: null,
        resulting_incoming: null,
        version: null,
        unit_cost: null,
        currency: null,
        reason: null,
        reference: null,
        note: null,
        correlation_id: null,
        actor: 'user-1',
        created_at: '2024-03-10T12:00:00.000Z',
      },
    ]);
    const [costB] = await queryLake(root, 'SELECT unit_cost, typeof(unit_cost) AS t FROM movements', { tenant_id: 'rt-b' });
    expect(costB).toEqual({ unit_cost: '0.5000', t: 'DECIMAL(19,4)' });
    await lake.close();
  });

  it('lays files out as movements/tenant_id=<t>/dt=YYYY-MM-DD/<ulid>.parquet, by the UTC day of created_at, with no temp files left', async () => {
    const dir = await mkdtemp(join(root, 'layout-'));
    const lake = await LocalLake.open({ root: dir, flushEveryMs: 0 });
    lake.append([
      movement({ tenant_id: 'lay-a', movement_id: 'm1', created_at: '2024-01-31T23:59:59.999Z' }),
      movement({ tenant_id: 'lay-a', movement_id: 'm2', created_at: '2024-02-01T00:00:00.000Z' }),
      movement({ tenant_id: 'lay.b_2-x', movement_id: 'm3', created_at: '2024-02-01T00:00:00Z' }),
    ]);
    await lake.close();
    const files = await filesUnder(dir);
    expect(files).toHaveLength(3);
    for (const file of files) expect(file).toMatch(/^movements\/tenant_id=[A-Za-z0-9_.-]+\/dt=\d{4}-\d{2}-\d{2}\/[0-9A-HJKMNP-TV-Z]{26}\.parquet$/);
    expect(files.map((file) => file.split('/').slice(1, 3).join('/')).sort()).toEqual([
      'tenant_id=lay-a/dt=2024-01-31',
      'tenant_id=lay-a/dt=2024-02-01',
      'tenant_id=lay.b_2-x/dt=2024-02-01',
    ]);
  });

  it('flushes on its own within flushEveryMs, and on close()', async () => {
    const dir = await mkdtemp(join(root, 'timer-'));
    const lake = await LocalLake.open({ root: dir, flushEveryMs: 100 });
    lake.append([movement({ tenant_id: 'tm', movement_id: 'm1' })]);
    const deadline = Date.now() + 3000;
    while ((await queryLake(dir, ALL, { tenant_id: 'tm' })).length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    expect(await queryLake(dir, ALL, { tenant_id: 'tm' })).toHaveLength(1);
    lake.append([movement({ tenant_id: 'tm', movement_id: 'm2' })]);
    await lake.close();
    expect((await queryLake(dir, ALL, { tenant_id: 'tm' })).map((row) => row.movement_id)).toEqual(['m1', 'm2']);
    expect(() => lake.append([movement({ tenant_id: 'tm', movement_id: 'm3' })])).toThrow('closed');
  });

  it('refuses a whole append when one row cannot be stored exactly', async () => {
    const lake = await LocalLake.open({ root, flushEveryMs: 0 });
    const good = movement({ tenant_id: 'rf', movement_id: 'ok' });
    for (const bad of [
      movement({ tenant_id: 'rf', movement_id: 'x', unit_cost: '1.23456' }),
      movement({ tenant_id: 'rf', movement_id: 'x', unit_cost: '-1' }),
      movement({ tenant_id: 'rf', movement_id: 'x', created_at: '2024-03-10 12:00:00' }),
      movement({ tenant_id: 'rf', movement_id: 'x', deltas: { on_hand: 1.5, reserved: 0, available: 0, incoming: 0 } }),
      movement({ tenant_id: 'rf', movement_id: '' }),
    ]) {
      expect(() => lake.append([good, bad])).toThrow(LakeInputError);
    }
    expect(lake.pending()).toBe(0);
    await lake.close();
  });
});

describe('the orders table', () => {
  const orderLine = (tenant: string, recordId: string, over: Record<string, unknown> = {}): Record<string, unknown> => ({
    tenant_id: tenant,
    record_id: recordId,
    order_id: 'o-1',
    line_index: 0,
    sku_id: 'sku-1',
    warehouse_id: 'wh-1',
    outcome: 'allocated',
    quantity: 2,
    line_quantity: 2,
    reason: null,
    order_status: 'allocated',
    order_version: 1,
    correlation_id: 'o-1',
    created_at: '2024-06-01T10:00:00.000Z',
    ...over,
  });

  it('stores flat order lines under orders/tenant_id=<t>/dt=<day>/, read through a view of that tenant only; a tenant without orders reads an empty table', async () => {
    const dir = await mkdtemp(join(root, 'orders-'));
    const lake = await LocalLake.open({ root: dir, flushEveryMs: 0 });
    lake.appendRecords('orders', [orderLine('oa', 'o-1:v1:0:wh-1'), orderLine('ob', 'o-1:v1:0:wh-1', { outcome: 'held', order_status: 'held' })]);
    expect(() => lake.appendRecords('orders', [orderLine('oa', 'x', { quantity: 1.5 })])).toThrow(LakeInputError);
    expect(() => lake.appendRecords('orders', [orderLine('oa', 'x', { outcome: null })])).toThrow(LakeInputError);
    await lake.close();
    expect((await readdir(partitionDir(dir, 'oa', '2024-06-01', 'orders'))).filter((n) => n.endsWith('.parquet'))).toHaveLength(1);
    const a = await queryLake(dir, 'SELECT tenant_id, dt, record_id, outcome, quantity, reason, created_at FROM orders', { tenant_id: 'oa' });
    expect(a).toEqual([{ tenant_id: 'oa', dt: '2024-06-01', record_id: 'o-1:v1:0:wh-1', outcome: 'allocated', quantity: 2, reason: null, created_at: '2024-06-01T10:00:00.000Z' }]);
    // Whatever the WHERE says, the view holds the caller's tenant only.
    expect(await queryLake(dir, "SELECT count(*) AS n FROM orders WHERE tenant_id = 'ob' OR true", { tenant_id: 'oa' })).toEqual([{ n: 1 }]);
    expect(await queryLake(dir, 'SELECT count(*) AS n FROM orders', { tenant_id: 'nobody' })).toEqual([{ n: 0 }]);
    expect(await queryLake(dir, 'SELECT count(*) AS n FROM movements', { tenant_id: 'oa' })).toEqual([{ n: 0 }]);
  });
});

describe('compaction', () => {
  it('merges a partition into one file, and readers during it see every row exactly once', async () => {
    const dir = await mkdtemp(join(root, 'compact-'));
    const lake = await LocalLake.open({ root: dir, flushEveryMs: 0 });
    const ids: string[] = [];
    for (let file = 0; file < 6; file += 1) {
      const rows = Array.from({ length: 50 }, (_, i) => movement({ tenant_id: 'cp', movement_id: `m-${file}-${String(i).padStart(2, '0')}`, created_at: `2024-05-05T10:${String(file).padStart(2, '0')}:${String(i).padStart(2, '0')}.000Z` }));
      ids.push(...rows.map((row) => row.movement_id));
      lake.append(rows);
      await lake.flush();
    }
    const partition = partitionDir(dir, 'cp', '2024-05-05');
    expect(await readdir(partition)).toHaveLength(6);

    const COUNT = 'SELECT count(*) AS n, count(DISTINCT movement_id) AS distinct_ids FROM movements';
    let compacted = false;
    const seen: Array<{ n: unknown; distinct_ids: unknown }> = [];
    const readers = (async () => {
      while (!compacted) {
        const [row] = await queryLake(dir, COUNT, { tenant_id: 'cp' });
        seen.push(row as { n: unknown; distinct_ids: unknown });
      }
    })();
    const result = await lake.compact('cp', '2024-05-05');
    compacted = true;
    await readers;
    expect(result).toMatchObject({ files: 6, rows: 300 });
    expect(seen.length).toBeGreaterThan(0);
    for (const row of seen) expect(row).toEqual({ n: 300, distinct_ids: 300 });

    expect(await readdir(partition)).toEqual([result.merged]);
    expect((await queryLake(dir, 'SELECT movement_id FROM movements ORDER BY movement_id', { tenant_id: 'cp' })).map((row) => row.movement_id)).toEqual([...ids].sort());
    expect(await lake.compact('cp', '2024-05-05')).toEqual({ files: 1, rows: 300 });
    await lake.close();
  });

  it('finishes a compaction that died between the rename and the unlinks, and removes stray temp files', async () => {
    const dir = await mkdtemp(join(root, 'crash-'));
    const aside = await mkdtemp(join(root, 'aside-'));
    const lake = await LocalLake.open({ root: dir, flushEveryMs: 0 });
    for (let file = 0; file < 2; file += 1) {
      lake.append([movement({ tenant_id: 'cr', movement_id: `m${file}` })]);
      await lake.flush();
    }
    const partition = partitionDir(dir, 'cr', '2024-03-10');
    const small = await readdir(partition);
    for (const name of small) await copyFile(join(partition, name), join(aside, name));
    const { merged } = await lake.compact('cr', '2024-03-10');
    await lake.close();
    const id = (merged as string).replace('.parquet', '');
    // The state a crash right after the rename leaves: the merged file, the small ones, and the manifest.
    for (const name of small) await copyFile(join(aside, name), join(partition, name));
    await writeFile(join(partition, `.compact-${id}.json`), JSON.stringify({ merged, temp: `.${id}.parquet.tmp`, replaces: small }));
    await writeFile(join(partition, '.01J00000000000000000000000.parquet.tmp'), 'half a file');
    expect(await queryLake(dir, ALL, { tenant_id: 'cr' })).toHaveLength(4);

    const reopened = await LocalLake.open({ root: dir, flushEveryMs: 0 });
    expect(await readdir(partition)).toEqual([merged]);
    expect((await queryLake(dir, ALL, { tenant_id: 'cr' })).map((row) => row.movement_id)).toEqual(['m0', 'm1']);
    await reopened.close();
  });
});

describe('bad tenant ids, dates and injection', () => {
  const BAD_TENANTS = ['a/b', '..', '../x', 'a\\b', "a'b", 'a"b', "a' OR '1'='1", '', '-a', 'x'.repeat(65), 'tenant_id=x'];

  it('refuses a tenant id that is not an id, in every path-building call, and writes nothing', async () => {
    const dir = await mkdtemp(join(root, 'bad-'));
    const lake = await LocalLake.open({ root: dir, flushEveryMs: 0 });
    for (const tenant of BAD_TENANTS) {
      expect(() => lake.append([movement({ tenant_id: tenant, movement_id: 'm' })])).toThrow(LakeInputError);
      expect(() => lake.compact(tenant, '2024-03-10')).toThrow(LakeInputError);
      await expect(queryLake(dir, ALL, { tenant_id: tenant })).rejects.toThrow(LakeInputError);
    }
    await expect(queryLake(dir, ALL, {})).rejects.toThrow(LakeInputError);
    for (const dt of ['2024-02-30', '2024-3-01', '../..', '2024-03-10/x', '']) expect(() => lake.compact('ok', dt)).toThrow(LakeInputError);
    await lake.close();
    expect(await filesUnder(dir)).toEqual([]);
  });

  it('binds injection attempts as values and refuses anything but one SELECT over the tenant', async () => {
    const lake = await LocalLake.open({ root, flushEveryMs: 0 });
    lake.append([movement({ tenant_id: 'inj-a', movement_id: 'a1' }), movement({ tenant_id: 'inj-b', movement_id: 'b1' })]);
    await lake.close();
    const sql = await readReportSql('stock-movement');
    const window: Record<string, string | null> = { tenant_id: 'inj-a', from: '2024-03-01 00:00:00.000', to: '2024-04-01 00:00:00.000', grain: 'month', sku_id: null, warehouse_id: null, type: null, closed_through: '1970-01-01', balance_day: '1969-12-31' };
    const periodRows = async (params: Record<string, string | null>) => (await queryLake(root, sql, params)).filter((r) => r.row_kind === 'period');
    expect(await periodRows(window)).toHaveLength(1);
    for (const attempt of ["x' OR '1'='1", "sku-1' OR tenant_id <> 'inj-a", "sku-1'; DROP TABLE movements; --"]) {
      expect(await periodRows({ ...window, sku_id: attempt })).toEqual([]);
    }
    await expect(queryLake(root, sql, { ...window, tenant_id: "inj-a' OR '1'='1" })).rejects.toThrow(LakeInputError);
    // Another tenant's rows are out of reach whatever the SQL says.
    expect(await queryLake(root, "SELECT * FROM movements WHERE tenant_id <> 'inj-a' OR 1 = 1", { tenant_id: 'inj-a' })).toHaveLength(1);
    await expect(queryLake(root, `SELECT * FROM read_parquet('${root}/movements/tenant_id=inj-b/*/*.parquet')`, { tenant_id: 'inj-a' })).rejects.toThrow(/Permission|disabled/);
    await expect(queryLake(root, "SELECT * FROM read_csv('/etc/passwd')", { tenant_id: 'inj-a' })).rejects.toThrow(/Permission|disabled/);
    await expect(queryLake(root, 'SELECT 1; SELECT 2', { tenant_id: 'inj-a' })).rejects.toThrow(LakeInputError);
    await expect(queryLake(root, `COPY (SELECT 1) TO '${root}/movements/tenant_id=inj-a/x.csv'`, { tenant_id: 'inj-a' })).rejects.toThrow(LakeInputError);
    await expect(queryLake(root, 'SET enable_external_access = true', { tenant_id: 'inj-a' })).rejects.toThrow(LakeInputError);
    await expect(queryLake(root, sql, { tenant_id: 'inj-a' })).rejects.toThrow(/has no value/);
    await expect(readReportSql('../../package')).rejects.toThrow(LakeInputError);
  });
});

describe('the stock-movement report', () => {
  const DAY = 86_400_000;
  const START = Date.parse('2024-01-01T00:00:00.000Z');
  const TYPES = ['sale', 'restock', 'adjustment', 'allocation', 'transfer_in'] as const;
  const day = (ms: number): string => new Date(ms).toISOString().slice(0, 10);
  const period = (ms: number, grain: string): string => {
    const date = new Date(ms);
    if (grain === 'month') return `${day(ms).slice(0, 7)}-01`;
    if (grain === 'week') return day(Date.UTC(date.getUTCFullYear(), date.getUTCMonth(), date.getUTCDate()) - ((date.getUTCDay() + 6) % 7) * DAY);
    return day(ms);
  };

  const row = fc.record({
    tenant: fc.constantFrom('A', 'B'),
    at: fc.integer({ min: 0, max: 90 * DAY - 1 }),
    type: fc.constantFrom(...TYPES),
    sku: fc.constantFrom('s1', 's2'),
    onHand: fc.integer({ min: -1000, max: 1000 }),
  });

  it('for tenant A counts only A rows, and its totals equal the sums of the appended rows (property)', async () => {
    const dir = await mkdtemp(join(root, 'report-'));
    const sql = await readReportSql('stock-movement');
    let run = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.array(row, { minLength: 1, maxLength: 120 }),
        fc.constantFrom('day', 'week', 'month'),
        fc.integer({ min: -DAY, max: 90 * DAY }),
        fc.integer({ min: 0, max: 100 * DAY }),
        fc.option(fc.constantFrom('s1', 's2'), { nil: null }),
        async (rows, grain, fromOffset, length, sku) => {
          run += 1;
          const tenants = { A: `pa-${run}`, B: `pb-${run}` };
          const movements = rows.map((r, i) =>
            movement({
              tenant_id: tenants[r.tenant as 'A' | 'B'],
              movement_id: `m${String(i).padStart(4, '0')}`,
              type: r.type,
              sku_id: r.sku,
              deltas: { on_hand: r.onHand, reserved: 0, available: r.onHand, incoming: 0 },
              created_at: new Date(START + r.at).toISOString(),
            }),
          );
          const lake = await LocalLake.open({ root: dir, flushEveryMs: 0 });
          // Two flushes: a partition may hold several files, as it does between compactions.
          lake.append(movements.slice(0, Math.ceil(movements.length / 2)));
          await lake.flush();
          lake.append(movements.slice(Math.ceil(movements.length / 2)));
          await lake.close();

          const from = START + fromOffset;
          const to = from + length;
          const expected = new Map<string, { period: string; type: string; units_in: number; units_out: number; net: number; movements: number }>();
          rows.forEach((r) => {
            const at = START + r.at;
            if (r.tenant !== 'A' || at < from || at >= to || (sku !== null && r.sku !== sku)) return;
            const key = `${period(at, grain)}|${r.type}`;
            const entry = expected.get(key) ?? { period: period(at, grain), type: r.type, units_in: 0, units_out: 0, net: 0, movements: 0 };
            entry.units_in += Math.max(r.onHand, 0);
            entry.units_out += Math.max(-r.onHand, 0);
            entry.net += r.onHand;
            entry.movements += 1;
            expected.set(key, entry);
          });
          const want = [...expected.values()].sort((a, b) => (a.period === b.period ? (a.type < b.type ? -1 : 1) : a.period < b.period ? -1 : 1));
          const got = await queryLake(dir, sql, {
            tenant_id: tenants.A,
            from: lakeInstant(from),
            to: lakeInstant(to),
            grain,
            sku_id: sku,
            warehouse_id: null,
            type: null,
            closed_through: '1970-01-01',
            balance_day: '1969-12-31',
          });
          const periods = got
            .filter((r) => r.row_kind === 'period')
            .map((r) => ({ period: r.period, type: r.type, units_in: Number(r.units_in), units_out: Number(r.units_out), net: Number(r.net), movements: Number(r.movements) }));
          expect(periods).toEqual(want);
          // The summary: on_hand before each bound (every type), and the newest A row whatever the filters.
          const ofA = rows.filter((r) => r.tenant === 'A');
          const onHandBefore = (bound: number) => ofA.filter((r) => START + r.at < bound && (sku === null || r.sku === sku)).reduce((sum, r) => sum + r.onHand, 0);
          const newest = ofA.length ? new Date(START + Math.max(...ofA.map((r) => r.at))).toISOString() : null;
          const summary = got.filter((r) => r.row_kind === 'summary').map((r) => ({ opening: Number(r.opening_on_hand), closing: Number(r.closing_on_hand), data_as_of: r.data_as_of }));
          expect(summary).toEqual([{ opening: onHandBefore(from), closing: onHandBefore(to), data_as_of: newest }]);
        },
      ),
      { numRuns: 25 },
    );
  });
});
