import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { LocalLake, type LakeMovement } from '../../bin/local/lake';
import { queryLake, readReportSql } from '../../bin/local/lake-query';
import { startLocalS3, type LocalS3 } from '../../bin/local/s3';
import { lakeObjectsFromEnv, type LakeObjects } from '../../functions/platform/lake-objects';
import { closeKeys, closeLake, closeTenant, keepsCheckpoint, readCheckpoint, readClosedDays } from '../../functions/reports/close';
import { balanceDayBefore, lakeInstant } from '../../functions/reports/reports';
import { filesUnder } from '../support/files';

/**
 * The daily close (functions/reports/close.ts) over a real local lake: LocalLake writes the
 * movements as the feed does, the close reads and writes objects through the real S3 SDK and
 * the S3 stand-in over the same directory, and DuckDB reads what it wrote as level_days.
 */

let root: string;
let s3: LocalS3;
let objects: LakeObjects;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'stockroom-close-'));
  s3 = await startLocalS3({ root, buckets: ['close-lake'] });
  objects = lakeObjectsFromEnv({ LAKE_BUCKET: 'close-lake', S3_ENDPOINT: s3.endpoint });
});

afterAll(async () => {
  await s3.close();
  await rm(root, { recursive: true, force: true });
});

const deps = { get objects() { return objects; }, now: () => new Date() };

const onHand = (n: number) => ({ on_hand: n, reserved: 0, available: n, incoming: 0 });
const movement = (overrides: Partial<LakeMovement> & Pick<LakeMovement, 'tenant_id' | 'movement_id'>): LakeMovement => ({
  sku_id: 'sku-1',
  warehouse_id: 'wh-1',
  type: 'restock',
  deltas: onHand(5),
  actor: 'user-1',
  created_at: '2024-03-10T12:00:00.000Z',
  ...overrides,
});

const store = async (rows: LakeMovement[]): Promise<void> => {
  const lake = await LocalLake.open({ root, flushEveryMs: 0 });
  lake.append(rows);
  await lake.close();
};

const ROLLUP = 'SELECT dt, sku_id, warehouse_id, type, units_in, units_out, net, movements, last_sale_at FROM level_days ORDER BY dt, sku_id, warehouse_id, type';

describe('the daily close', () => {
  it('rolls up each day before today once per movement, per SKU, warehouse and type, into one object per tenant-day, and a second run closes nothing', async () => {
    const sale = movement({ tenant_id: 'ct-a', movement_id: 'm02', type: 'sale', deltas: onHand(-3), created_at: '2024-03-10T09:00:00.000Z' });
    await store([
      movement({ tenant_id: 'ct-a', movement_id: 'm01', type: 'restock', deltas: onHand(10), created_at: '2024-03-10T08:00:00.000Z' }),
      sale,
      movement({ tenant_id: 'ct-a', movement_id: 'm03', type: 'sale', deltas: onHand(-2), created_at: '2024-03-10T17:30:00.000Z' }),
      movement({ tenant_id: 'ct-a', movement_id: 'm04', type: 'allocation', deltas: { on_hand: 0, reserved: 4, available: -4, incoming: 0 }, created_at: '2024-03-10T18:00:00.000Z' }),
      movement({ tenant_id: 'ct-a', movement_id: 'm05', type: 'adjustment', deltas: onHand(-1), created_at: '2024-03-11T00:00:00.000Z' }),
      movement({ tenant_id: 'ct-a', movement_id: 'm06', type: 'sale', deltas: onHand(-1), created_at: '2024-03-12T10:00:00.000Z' }),
      movement({ tenant_id: 'ct-b', movement_id: 'm07', type: 'sale', deltas: onHand(-50), created_at: '2024-03-10T08:00:00.000Z' }),
    ]);
    // The sale again, from another writer, as Firehose may deliver it twice: counted once.
    await store([sale]);

    const first = await closeTenant(deps, 'ct-a', { today: '2024-03-12' });
    expect(first).toMatchObject({ closed: ['2024-03-10', '2024-03-11'], checkpoints: ['2024-03-10', '2024-03-11'], closed_through: '2024-03-12', rows_read: 6 });
    expect(await queryLake(root, ROLLUP, { tenant_id: 'ct-a' })).toEqual([
      { dt: '2024-03-10', sku_id: 'sku-1', warehouse_id: 'wh-1', type: 'allocation', units_in: 0, units_out: 0, net: 0, movements: 1, last_sale_at: null },
      { dt: '2024-03-10', sku_id: 'sku-1', warehouse_id: 'wh-1', type: 'restock', units_in: 10, units_out: 0, net: 10, movements: 1, last_sale_at: null },
      { dt: '2024-03-10', sku_id: 'sku-1', warehouse_id: 'wh-1', type: 'sale', units_in: 0, units_out: 5, net: -5, movements: 2, last_sale_at: '2024-03-10T17:30:00.000Z' },
      { dt: '2024-03-11', sku_id: 'sku-1', warehouse_id: 'wh-1', type: 'adjustment', units_in: 0, units_out: 1, net: -1, movements: 1, last_sale_at: null },
    ]);
    // Another tenant is closed only when asked, and never shows in A's rollup.
    expect(await queryLake(root, ROLLUP, { tenant_id: 'ct-b' })).toEqual([]);
    expect(await filesUnder(join(root, 'level_days'))).toEqual(['tenant_id=ct-a/dt=2024-03-10/rollup.parquet', 'tenant_id=ct-a/dt=2024-03-11/rollup.parquet']);
    expect(await readClosedDays(objects, 'ct-a')).toEqual({
      version: 1,
      closed_through: '2024-03-12',
      newest_closed_at: '2024-03-11T00:00:00.000Z',
      // 2024-03-10 is a Sunday: kept; 2024-03-11 is the last closed day.
      checkpoints: ['2024-03-10', '2024-03-11'],
      state_version: 2,
      retired: [],
    });
    expect(await closeTenant(deps, 'ct-a', { today: '2024-03-12' })).toMatchObject({ closed: [], checkpoints: [], rows_read: 0 });
  });

  it('closes a day again when movements reach it after its close (a late delivery, then compaction), and rebuilds the checkpoints from the one before it', async () => {
    await store([movement({ tenant_id: 'ct-late', movement_id: 'm01', type: 'receipt', deltas: onHand(10), unit_cost: '2.00', currency: 'USD', created_at: '2024-03-10T08:00:00.000Z' })]);
    expect((await closeTenant(deps, 'ct-late', { today: '2024-03-13' })).closed).toEqual(['2024-03-10']);
    // Late: a receipt delivered after the close, into the closed Monday.
    await store([movement({ tenant_id: 'ct-late', movement_id: 'm02', type: 'receipt', deltas: onHand(5), unit_cost: '4.00', currency: 'USD', created_at: '2024-03-11T23:59:59.999Z' })]);
    const lake = await LocalLake.open({ root, flushEveryMs: 0 });
    await lake.compact('ct-late', '2024-03-11');
    await lake.close();
    const again = await closeTenant(deps, 'ct-late', { today: '2024-03-13' });
    // The Sunday checkpoint (2024-03-10) is kept; the Monday is rolled up, and valued from it into the last closed day's.
    expect(again).toMatchObject({ closed: ['2024-03-11'], checkpoints: ['2024-03-12'] });
    expect(await queryLake(root, 'SELECT dt, units_in, movements FROM level_days ORDER BY dt', { tenant_id: 'ct-late' })).toEqual([
      { dt: '2024-03-10', units_in: 10, movements: 1 },
      { dt: '2024-03-11', units_in: 5, movements: 1 },
    ]);
    const checkpoint = await readCheckpoint(objects, 'ct-late', 'fifo', '2024-03-12');
    expect(checkpoint?.state.levels).toEqual([
      expect.objectContaining({ sku_id: 'sku-1', warehouse_id: 'wh-1', layers: '10@2000000 5@4000000' }),
    ]);
  });

  it('keeps checkpoints for Sundays, month ends and the last closed day only, and deletes a replaced one a run later', async () => {
    const rows = Array.from({ length: 40 }, (_, i) =>
      movement({ tenant_id: 'ct-keep', movement_id: `m${String(i).padStart(3, '0')}`, type: 'receipt', deltas: onHand(1), unit_cost: '1.00', currency: 'EUR', created_at: new Date(Date.parse('2024-01-20T10:00:00.000Z') + i * 86_400_000).toISOString() }),
    );
    await store(rows);
    await closeTenant(deps, 'ct-keep', { today: '2024-02-20' });
    const closed = await readClosedDays(objects, 'ct-keep');
    expect(closed?.checkpoints).toEqual(['2024-01-21', '2024-01-28', '2024-01-31', '2024-02-04', '2024-02-11', '2024-02-18', '2024-02-19']);
    expect(closed?.checkpoints.every((day) => keepsCheckpoint(day) || day === '2024-02-19')).toBe(true);

    await closeTenant(deps, 'ct-keep', { today: '2024-02-21' });
    expect((await readClosedDays(objects, 'ct-keep'))?.retired).toEqual(['2024-02-19']);
    // Still there for a report that read the previous closed.json, until the next run.
    expect(await readCheckpoint(objects, 'ct-keep', 'fifo', '2024-02-19')).toBeDefined();
    await closeTenant(deps, 'ct-keep', { today: '2024-02-22' });
    expect(await readCheckpoint(objects, 'ct-keep', 'fifo', '2024-02-19')).toBeUndefined();
    expect(await readCheckpoint(objects, 'ct-keep', 'weighted_average', '2024-02-19')).toBeUndefined();
    expect((await readCheckpoint(objects, 'ct-keep', 'fifo', '2024-02-21'))?.state.levels[0]).toMatchObject({ layers: '33@1000000' });
  });

  it('finishes a close that died before writing closed.json: the next run closes the same days again from what the lake holds', async () => {
    await store([
      movement({ tenant_id: 'ct-crash', movement_id: 'm01', type: 'restock', deltas: onHand(7), created_at: '2024-03-10T08:00:00.000Z' }),
      movement({ tenant_id: 'ct-crash', movement_id: 'm02', type: 'sale', deltas: onHand(-2), created_at: '2024-03-11T08:00:00.000Z' }),
    ]);
    await closeTenant(deps, 'ct-crash', { today: '2024-03-12' });
    const before = await queryLake(root, ROLLUP, { tenant_id: 'ct-crash' });
    // As if the run had died after its rollups and manifest, before closed.json.
    await objects.delete([closeKeys.closed('ct-crash')]);
    const again = await closeTenant(deps, 'ct-crash', { today: '2024-03-12' });
    expect(again.checkpoints).toEqual(['2024-03-10', '2024-03-11']);
    expect(await queryLake(root, ROLLUP, { tenant_id: 'ct-crash' })).toEqual(before);
    expect((await readClosedDays(objects, 'ct-crash'))?.closed_through).toBe('2024-03-12');
  });

  it('takes a closed.json or a checkpoint it cannot read (another version wrote it, or it is damaged) as none: reports read every day raw, and the next close starts over and rewrites them', async () => {
    await store([
      movement({ tenant_id: 'ct-format', movement_id: 'm01', type: 'receipt', deltas: onHand(4), unit_cost: '1.50', currency: 'USD', created_at: '2024-03-09T08:00:00.000Z' }),
      movement({ tenant_id: 'ct-format', movement_id: 'm02', type: 'sale', deltas: onHand(-1), created_at: '2024-03-10T08:00:00.000Z' }),
    ]);
    await closeTenant(deps, 'ct-format', { today: '2024-03-11' });
    await objects.put(closeKeys.closed('ct-format'), Buffer.from('{"version":1,"closed_through":"someday"}'), 'application/json');
    expect(await readClosedDays(objects, 'ct-format')).toBeUndefined();
    const rerun = await closeTenant(deps, 'ct-format', { today: '2024-03-11' });
    // 2024-03-10 is a Sunday and the last closed day: the one checkpoint.
    expect(rerun.checkpoints).toEqual(['2024-03-10']);
    expect((await readClosedDays(objects, 'ct-format'))?.closed_through).toBe('2024-03-11');

    // A damaged checkpoint where the next close would resume: it replays from the first day instead.
    await objects.put(closeKeys.checkpoint('ct-format', 'fifo', '2024-03-10'), Buffer.from('not gzip'), 'application/gzip');
    await store([movement({ tenant_id: 'ct-format', movement_id: 'm03', type: 'sale', deltas: onHand(-1), created_at: '2024-03-11T08:00:00.000Z' })]);
    const next = await closeTenant(deps, 'ct-format', { today: '2024-03-12' });
    expect(next).toMatchObject({ closed: ['2024-03-11'], checkpoints: ['2024-03-10', '2024-03-11'], rows_read: 3 });
    expect((await readCheckpoint(objects, 'ct-format', 'fifo', '2024-03-11'))?.state.levels[0]).toMatchObject({ layers: '2@1500000' });
  });

  it('closes every tenant the lake holds movements of, and leaves a tenant with only today alone', async () => {
    await store([
      movement({ tenant_id: 'ct-all-1', movement_id: 'm01', created_at: '2024-05-01T08:00:00.000Z' }),
      movement({ tenant_id: 'ct-all-2', movement_id: 'm01', created_at: '2024-05-02T08:00:00.000Z' }),
    ]);
    const results = await closeLake(deps, { today: '2024-05-02' });
    const byTenant = new Map(results.map((r) => [r.tenant_id, r]));
    expect(byTenant.get('ct-all-1')?.closed).toEqual(['2024-05-01']);
    expect(byTenant.get('ct-all-2')?.closed).toEqual([]);
    expect(await readClosedDays(objects, 'ct-all-2')).toBeUndefined();
  });
});

describe('stock movement over closed days', () => {
  const DAY = 86_400_000;
  const START = Date.parse('2024-01-01T00:00:00.000Z');
  const TYPES = ['sale', 'restock', 'adjustment', 'allocation', 'transfer_in'] as const;
  const day = (ms: number): string => new Date(ms).toISOString().slice(0, 10);

  it('answers the same whether or not days are closed into level_days, for ledgers with rows stored twice, rows reaching closed days late, and bounds at midnights or inside days (property)', async () => {
    const sql = await readReportSql('stock-movement');
    const SPAN = 12;
    const ledgerRow = fc.record({
      at: fc.integer({ min: 0, max: SPAN * DAY - 1 }),
      type: fc.constantFrom(...TYPES),
      sku: fc.constantFrom('s1', 's2'),
      warehouse: fc.constantFrom('w1', 'w2'),
      onHand: fc.integer({ min: -1000, max: 1000 }),
      twice: fc.boolean(),
      late: fc.boolean(),
    });
    // A bound: a midnight, or any instant inside a day.
    const bound = fc.oneof(
      fc.integer({ min: -1, max: SPAN + 1 }).map((days) => days * DAY),
      fc.integer({ min: -DAY, max: (SPAN + 1) * DAY }),
    );
    let run = 0;
    let closedSome = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.array(ledgerRow, { minLength: 1, maxLength: 80 }),
        fc.constantFrom('day', 'week', 'month'),
        bound,
        bound,
        fc.option(fc.constantFrom('s1', 's2'), { nil: null }),
        fc.option(fc.constantFrom('w1', 'w2'), { nil: null }),
        fc.option(fc.constantFrom(...TYPES), { nil: null }),
        fc.integer({ min: 0, max: SPAN + 1 }),
        async (rows, grain, a, b, sku, warehouse, type, closedDays) => {
          run += 1;
          const tenant = `pc-${run}`;
          const movements = rows.map((r, i) =>
            movement({
              tenant_id: tenant,
              movement_id: `m${String(i).padStart(4, '0')}`,
              type: r.type,
              sku_id: r.sku,
              warehouse_id: r.warehouse,
              deltas: onHand(r.onHand),
              created_at: new Date(START + r.at).toISOString(),
            }),
          );
          const [from, to] = a <= b ? [START + a, START + b + 1] : [START + b, START + a];
          const params = { tenant_id: tenant, from: lakeInstant(from), to: lakeInstant(to), grain, sku_id: sku, warehouse_id: warehouse, type };
          const today = day(START + closedDays * DAY);

          await store(movements.filter((_, i) => !rows[i]?.late));
          // Rows stored twice, as Firehose may.
          await store(movements.filter((_, i) => rows[i]?.twice && !rows[i]?.late));
          await closeTenant(deps, tenant, { today });
          // Rows reaching days already closed; then the close runs again.
          await store(movements.filter((_, i) => rows[i]?.late));
          await closeTenant(deps, tenant, { today });
          const closed = await readClosedDays(objects, tenant);
          if (closed !== undefined && closed.closed_through > day(START)) closedSome += 1;
          const closedThrough = closed?.closed_through ?? '1970-01-01';
          const answer = await queryLake(root, sql, { ...params, closed_through: closedThrough, balance_day: balanceDayBefore(day(from), closedThrough) });
          // The SQL's data_as_of is the newest raw row; the report takes the later of it and the close's newest (reports.ts dataAsOfOf).
          const newest = [answer.find((r) => r.row_kind === 'summary')?.data_as_of, closed?.newest_closed_at].filter((v): v is string => typeof v === 'string').sort().at(-1) ?? null;
          const asReported = answer.map((r) => (r.row_kind === 'summary' ? { ...r, data_as_of: newest } : r));
          expect(asReported).toEqual(await queryLake(root, sql, { ...params, closed_through: '1970-01-01', balance_day: '1969-12-31' }));
        },
      ),
      { numRuns: 40 },
    );
    // Not vacuous: most runs read closed days from level_days.
    expect(closedSome).toBeGreaterThan(20);
  });
});
