import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { LocalLake, type LakeMovement } from '../../bin/local/lake';
import { startLocalS3, type LocalS3 } from '../../bin/local/s3';
import { demandSeries, readDemandHistory } from '../../functions/forecasting/history';
import { lakeObjectsFromEnv, type LakeObjects } from '../../functions/platform/lake-objects';
import { closeKeys, closeTenant, rollUpDay } from '../../functions/reports/close';

/**
 * Daily demand history (issue 10, scope item 1) from the lake's closed days: a ledger written
 * by LocalLake, closed by the daily close through the S3 stand-in, read back per level.
 */

let root: string;
let s3: LocalS3;
let objects: LakeObjects;
const deps = { get objects() { return objects; }, now: () => new Date() };

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'stockroom-demand-'));
  s3 = await startLocalS3({ root, buckets: ['demand-lake'] });
  objects = lakeObjectsFromEnv({ LAKE_BUCKET: 'demand-lake', S3_ENDPOINT: s3.endpoint });
});

afterAll(async () => {
  await s3.close();
  await rm(root, { recursive: true, force: true });
});

const onHand = (n: number) => ({ on_hand: n, reserved: 0, available: n, incoming: 0 });
let id = 0;
const row = (tenant: string, at: string, type: LakeMovement['type'], delta: number, extra: Partial<LakeMovement> = {}): LakeMovement => {
  id += 1;
  return { tenant_id: tenant, movement_id: `m${String(id).padStart(5, '0')}`, sku_id: 'sku-1', warehouse_id: 'wh-1', type, deltas: onHand(delta), actor: 'user-1', created_at: at, ...extra };
};

const store = async (rows: LakeMovement[]): Promise<void> => {
  const lake = await LocalLake.open({ root, flushEveryMs: 0 });
  lake.append(rows);
  await lake.close();
};

describe('demand history from the closed days', () => {
  it('is sales and shipments less customer returns per day, floored at 0, each movement once, with stock-out days flagged, and only closed days', async () => {
    const t = 'dh-a';
    const sale = row(t, '2024-03-11T10:00:00.000Z', 'sale', -3);
    await store([
      row(t, '2024-03-10T08:00:00.000Z', 'receipt', 5, { unit_cost: '1.00', currency: 'USD' }),
      row(t, '2024-03-10T12:00:00.000Z', 'sale', -2),
      sale,
      row(t, '2024-03-11T11:00:00.000Z', 'shipment', -2),
      // A customer return nets out; a found unit does not.
      row(t, '2024-03-11T15:00:00.000Z', 'adjustment', 1, { reason: 'returned' }),
      row(t, '2024-03-11T16:00:00.000Z', 'adjustment', 1, { reason: 'found' }),
      // 03-12: more returned than sold: no demand, not negative demand.
      row(t, '2024-03-12T09:00:00.000Z', 'sale', -1),
      row(t, '2024-03-12T10:00:00.000Z', 'adjustment', 2, { reason: 'returned' }),
      // 03-13: sold out (0 at the day's end); 03-14 starts with none: both censored.
      row(t, '2024-03-13T09:00:00.000Z', 'sale', -3),
      row(t, '2024-03-15T09:00:00.000Z', 'restock', 4),
      // Another level, first touched on 03-12.
      row(t, '2024-03-12T09:00:00.000Z', 'receipt', 9, { warehouse_id: 'wh-2', unit_cost: '1.00', currency: 'USD' }),
      row(t, '2024-03-13T09:00:00.000Z', 'sale', -4, { warehouse_id: 'wh-2' }),
      // Today: not closed, not in the history.
      row(t, '2024-03-16T09:00:00.000Z', 'sale', -1),
    ]);
    // The 03-11 sale again, as Firehose may store it twice: counted once.
    await store([sale]);
    await closeTenant(deps, t, { today: '2024-03-16' });

    expect(await readDemandHistory(objects, t, { from: '2024-03-01' })).toEqual([
      {
        sku_id: 'sku-1',
        warehouse_id: 'wh-1',
        start: '2024-03-10',
        // on hand at the days' ends: 3, 0 (3 - 3 - 2 + 1 + 1), 1, -2, -2, 2: the first day starts with none, and each later day starts or ends with none
        demand: [2, 4, 0, 3, 0, 0],
        stocked_out: [true, true, true, true, true, true],
      },
      { sku_id: 'sku-1', warehouse_id: 'wh-2', start: '2024-03-12', demand: [0, 4, 0, 0], stocked_out: [true, false, false, false] },
    ]);
    // From a later day: the series start there, each level with the stock the day before left it (wh-2 held 5).
    const later = await readDemandHistory(objects, t, { from: '2024-03-14' });
    expect(later.map((s) => [s.warehouse_id, s.start, s.demand, s.stocked_out])).toEqual([
      ['wh-1', '2024-03-14', [0, 0], [true, true]],
      ['wh-2', '2024-03-14', [0, 0], [false, false]],
    ]);
  });

  it('reads nothing before the tenant\'s first day: two years back costs the days it has, not 730 of them, and gives the same series', async () => {
    const t = 'dh-reads';
    await store([row(t, '2024-03-10T08:00:00.000Z', 'receipt', 5, { unit_cost: '1.00', currency: 'USD' }), row(t, '2024-03-11T10:00:00.000Z', 'sale', -2)]);
    await closeTenant(deps, t, { today: '2024-03-13' });
    const gets: string[] = [];
    const counted: LakeObjects = { ...objects, get: (key) => (gets.push(key), objects.get(key)), list: (prefix) => objects.list(prefix), folders: (prefix) => objects.folders(prefix) };
    const twoYears = await readDemandHistory(counted, t, { from: '2022-03-13' });
    expect(twoYears).toEqual(await readDemandHistory(objects, t, { from: '2024-03-01' }));
    expect(twoYears).toEqual([{ sku_id: 'sku-1', warehouse_id: 'wh-1', start: '2024-03-10', demand: [0, 2, 0], stocked_out: [true, false, false] }]);
    // closed.json, then two objects (rollup and balances) for the day before the first (its opening balances) and for each of the 3 closed days.
    expect(gets.length).toBe(1 + 2 + 2 * 3);
  });

  it('is empty before the tenant\'s first close, and refuses a from that is not a day', async () => {
    await store([row('dh-none', '2024-03-10T08:00:00.000Z', 'sale', -1)]);
    expect(await readDemandHistory(objects, 'dh-none', { from: '2024-03-01' })).toEqual([]);
    await expect(readDemandHistory(objects, 'dh-none', { from: '2024-3-1' })).rejects.toThrow(RangeError);
    expect(await objects.get(closeKeys.closed('dh-none'))).toBeUndefined();
  });
});

describe('demandSeries (pure)', () => {
  it('sums, for any day of rows, what the naive per-row count gives: sales and shipments out less returns in, floored at 0 (property)', () => {
    const movement = fc.record({
      type: fc.constantFrom('sale', 'shipment', 'adjustment', 'restock', 'allocation'),
      delta: fc.integer({ min: -20, max: 20 }),
      returned: fc.boolean(),
    });
    fc.assert(
      fc.property(fc.array(movement, { maxLength: 40 }), (moves) => {
        const rows = moves.map((m, i) => ({
          movement_id: `m${i}`,
          sku_id: 's',
          warehouse_id: 'w',
          type: m.type,
          delta_on_hand: BigInt(m.delta),
          unit_cost: null,
          currency: null,
          correlation_id: null,
          reason: m.type === 'adjustment' && m.returned ? 'returned' : null,
          created_at: '2024-03-10T08:00:00.000Z',
        }));
        const net = moves.reduce((sum, m) => sum + m.delta, 0);
        const [level] = demandSeries([{ day: '2024-03-10', rollup: rollUpDay(rows), balances: [{ sku_id: 's', warehouse_id: 'w', on_hand: BigInt(net), last_sale_at: null }] }]);
        const sold = moves.filter((m) => (m.type === 'sale' || m.type === 'shipment') && m.delta < 0).reduce((sum, m) => sum - m.delta, 0);
        const back = moves.filter((m) => m.type === 'adjustment' && m.returned && m.delta > 0).reduce((sum, m) => sum + m.delta, 0);
        expect(level?.demand).toEqual([Math.max(0, sold - back)]);
        expect(level?.stocked_out).toEqual([true]); // the level's first day starts with no stock
      }),
      { numRuns: 100 },
    );
  });
});
