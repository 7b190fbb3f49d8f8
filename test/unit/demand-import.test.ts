import { demandSeries, type ClosedDayRows } from '../../functions/forecasting/history';
import { checkRow, isCalendarDay, judgeRows } from '../../functions/forecasting/imports';
import type { LevelBalance, LevelDay } from '../../functions/reports/close';

/** The pure parts of the demand-history import: each row's checks, the judging of a call, and how demandSeries merges imported days. */
const TODAY = '2026-03-10';
const valid = { date: '2026-03-01', sku_id: 'sku-1', warehouse_id: 'wh-1', quantity: 4 };

describe('checkRow', () => {
  test.each([
    ['not an object', 'INVALID_ROW', 7],
    ['an array', 'INVALID_ROW', [valid]],
    ['null', 'INVALID_ROW', null],
    ['an unknown field', 'INVALID_ROW', { ...valid, price: 1 }],
    ['no date', 'INVALID_DATE', { ...valid, date: undefined }],
    ['a date as a number', 'INVALID_DATE', { ...valid, date: 20260301 }],
    ['2026-02-30', 'INVALID_DATE', { ...valid, date: '2026-02-30' }],
    ['2026-13-01', 'INVALID_DATE', { ...valid, date: '2026-13-01' }],
    ['a date-time', 'INVALID_DATE', { ...valid, date: '2026-03-01T00:00:00Z' }],
    ['tomorrow', 'FUTURE_DATE', { ...valid, date: '2026-03-11' }],
    ['1999-12-31', 'DATE_TOO_OLD', { ...valid, date: '1999-12-31' }],
    ['a SKU id with a key separator', 'INVALID_SKU_ID', { ...valid, sku_id: 'a#b' }],
    ['no warehouse', 'INVALID_WAREHOUSE_ID', { ...valid, warehouse_id: undefined }],
    ['a string quantity', 'INVALID_QUANTITY', { ...valid, quantity: '4' }],
    ['a null quantity', 'INVALID_QUANTITY', { ...valid, quantity: null }],
    ['a negative quantity', 'NEGATIVE_QUANTITY', { ...valid, quantity: -1 }],
    ['a fractional quantity', 'FRACTIONAL_QUANTITY', { ...valid, quantity: 1.5 }],
    ['a quantity over 1e9', 'QUANTITY_TOO_LARGE', { ...valid, quantity: 1e9 + 1 }],
    ['an infinite quantity (1e400 in JSON)', 'QUANTITY_TOO_LARGE', { ...valid, quantity: Infinity }],
  ])('%s is refused as %s', (_what, code, row) => {
    expect(checkRow(row, TODAY)).toEqual({ refused: { code, message: expect.any(String) } });
  });

  test('today, 2000-01-01, 0 and 1e9 are accepted; -0 is 0', () => {
    for (const row of [{ ...valid, date: TODAY }, { ...valid, date: '2000-01-01' }, { ...valid, quantity: 0 }, { ...valid, quantity: 1e9 }]) expect(checkRow(row, TODAY)).toEqual({ ok: row });
    expect(checkRow({ ...valid, quantity: -0 }, TODAY)).toEqual({ ok: { ...valid, quantity: 0 } });
  });

  test('isCalendarDay knows leap years', () => {
    expect(['2024-02-29', '2000-02-29', '2026-12-31'].map(isCalendarDay)).toEqual([true, true, true]);
    expect(['2026-02-29', '1900-02-29', '2026-04-31', '2026-1-01', ''].map(isCalendarDay)).toEqual([false, false, false, false, false]);
  });
});

describe('judgeRows', () => {
  const catalogue = { skuIds: new Set(['sku-1', 'sku-2']), warehouseIds: new Set(['wh-1']) };
  test('refuses unknown ids and later duplicates, with 1-based rows and the ids as sent, and keeps the rest in order', async () => {
    const rows = [
      valid,
      { ...valid, sku_id: 'nope' },
      { ...valid, warehouse_id: 'wh-9' },
      { ...valid, quantity: 9 },
      { ...valid, date: '2026-03-02', quantity: -1 },
      { ...valid, date: '2026-03-02' },
      { ...valid, sku_id: 'sku-2', quantity: 0 },
      { date: 5, sku_id: 6 },
    ];
    const { accepted, refused } = await judgeRows(rows, TODAY, () => catalogue);
    expect(accepted).toEqual([valid, { ...valid, sku_id: 'sku-2', quantity: 0 }]);
    expect(refused.map((r) => [r.row, r.code])).toEqual([
      [2, 'UNKNOWN_SKU'],
      [3, 'UNKNOWN_WAREHOUSE'],
      [4, 'DUPLICATE_ROW'],
      [5, 'NEGATIVE_QUANTITY'],
      // Row 5 named the day first, though it was refused itself: the call says two things of one day.
      [6, 'DUPLICATE_ROW'],
      [8, 'INVALID_DATE'],
    ]);
    expect(refused[2]).toEqual({ row: 4, date: '2026-03-01', sku_id: 'sku-1', warehouse_id: 'wh-1', code: 'DUPLICATE_ROW', message: expect.stringContaining('row 1') });
    expect(refused[5]).toMatchObject({ row: 8, date: null, sku_id: null, warehouse_id: null });
  });
});

describe('demandSeries with imported days', () => {
  const balance = (warehouse: string, onHand: number): LevelBalance => ({ sku_id: 'sku-1', warehouse_id: warehouse, on_hand: BigInt(onHand), last_sale_at: null });
  const sale = (warehouse: string, units: number, type = 'sale'): LevelDay => ({
    sku_id: 'sku-1', warehouse_id: warehouse, type, units_in: 0n, units_out: BigInt(units), net: BigInt(-units), movements: 1n, last_sale_at: null, units_returned: 0n,
  });
  const day = (date: string, rollup: LevelDay[] = [], balances: LevelBalance[] = []): ClosedDayRows => ({ day: date, rollup, balances });
  const imported = (date: string, quantity: number, warehouse = 'wh-1') => ({ date, sku_id: 'sku-1', warehouse_id: warehouse, quantity });

  test('a level known only from imports: its series starts at its first imported day, without gaps, never flagged', () => {
    const days = ['2026-03-01', '2026-03-02', '2026-03-03', '2026-03-04'].map((d) => day(d));
    expect(demandSeries(days, [], [imported('2026-03-02', 5), imported('2026-03-04', 1), imported('2026-02-01', 9), imported('2026-03-05', 9)])).toEqual([
      { sku_id: 'sku-1', warehouse_id: 'wh-1', start: '2026-03-02', demand: [5, 0, 1], stocked_out: [false, false, false] },
    ]);
  });

  test('live rows win over an import of the same day; an import fills a day with a balance but no rows, unflagged', () => {
    const days = [
      day('2026-03-01'),
      day('2026-03-02', [sale('wh-1', 2, 'restock')], [balance('wh-1', 10)]),
      day('2026-03-03', [sale('wh-1', 3)], [balance('wh-1', 7)]),
      day('2026-03-04', [], [balance('wh-1', 0)]),
      day('2026-03-05', [], [balance('wh-1', 0)]),
    ];
    const series = demandSeries(days, [], [imported('2026-03-01', 4), imported('2026-03-02', 8), imported('2026-03-03', 30), imported('2026-03-04', 6)]);
    // 03-01: imported only; 03-02: a restock is a live row (the ledger knows the day), so 0, and flagged (no stock before it);
    // 03-03: live sale; 03-04: no rows, the import's 6, unflagged; 03-05: nothing, 0, flagged from the balance.
    expect(series).toEqual([{ sku_id: 'sku-1', warehouse_id: 'wh-1', start: '2026-03-01', demand: [4, 0, 3, 6, 0], stocked_out: [false, true, false, false, true] }]);
  });

  test('the gap between the last imported day and the ledger first knowing the level is flagged (unknown demand, not none), not the gaps between imported days', () => {
    const days = [
      day('2026-03-01'),
      day('2026-03-02'),
      day('2026-03-03'),
      day('2026-03-04'),
      day('2026-03-05', [sale('wh-1', 10, 'restock')], [balance('wh-1', 10)]),
      day('2026-03-06', [sale('wh-1', 2)], [balance('wh-1', 8)]),
    ];
    const series = demandSeries(days, [], [imported('2026-03-01', 4), imported('2026-03-03', 5)]);
    // 03-02: between imported days (an export lists days with sales): 0, unflagged. 03-04: after the last import, before
    // the ledger: unknown, flagged. 03-05: the ledger's first day, no stock before it: flagged. 03-06: a live sale.
    expect(series).toEqual([{ sku_id: 'sku-1', warehouse_id: 'wh-1', start: '2026-03-01', demand: [4, 0, 5, 0, 0, 2], stocked_out: [false, false, false, true, true, false] }]);
  });

  test('without imports it is what it was', () => {
    const days = [day('2026-03-01', [sale('wh-1', 1)], [balance('wh-1', 5)]), day('2026-03-02', [], [balance('wh-1', 5)])];
    expect(demandSeries(days, [balance('wh-1', 6)])).toEqual([{ sku_id: 'sku-1', warehouse_id: 'wh-1', start: '2026-03-01', demand: [1, 0], stocked_out: [false, false] }]);
  });
});
