import type { LakeObjects } from '../platform/lake-objects';
import { closeKeys, readClosedDay, readClosedDays, type LevelBalance, type LevelDay } from '../reports/close';
import { readDemandImports } from './imports';
import { addDays, nextDay } from '../platform/days';

/**
 * Daily demand per SKU x warehouse (issue 10, scope item 1), from the lake's closed days: the
 * daily close's level_days (sales and shipments out, customer returns back) and level_balances
 * (stock at each day's end). Only closed days: the nightly forecast runs after the close, and a
 * day still open would read as a partial day of demand.
 *
 * - demand = units sold or shipped minus units returned (adjustments with reason `returned`),
 *   floored at 0: a day of more returns than sales is no demand, not negative demand.
 * - stocked_out: the level held no stock at the start of the day (the previous day's end) or at
 *   its end. Such a day's demand is censored (what was wanted could not be sold), so it must
 *   not be read as a day of low demand; forecasting leaves it out of fitting.
 * - A level's series starts on the first closed day it has a balance (the ledger first touched it)
 *   or an imported day (imports.ts), whichever is earlier, and runs without gaps to the last closed day.
 *
 * Imported history (a business's past demand, `POST /api/reports/demand-history`) fills the days
 * the ledger does not know: on a day where the level has live rows in level_days (any movement of
 * that SKU x warehouse that day), the ledger wins; otherwise the imported quantity, if any, is the
 * day's demand. An imported day is never flagged stocked_out (no stock is known for it, and the
 * quantity is the business's own record of demand). A day inside a level's series with neither
 * live rows nor an import is 0, flagged from the balances when the ledger knows the level by then;
 * before the ledger knows it, a day between imported days (or after them, for a level the ledger
 * never knows) is 0 unflagged (an export lists the days with sales), and a day after the last
 * imported one but before the ledger's first balance is flagged (the gap between the import and
 * going live is unknown demand, not none: forecasting estimates it). Only closed days are read, imported ones too: an imported day on or after
 * `closed_through` is kept, and read once the close has passed it.
 */
export interface DemandSeries {
  sku_id: string;
  warehouse_id: string;
  /** The first day of the series, YYYY-MM-DD; one value per day from it. */
  start: string;
  demand: number[];
  stocked_out: boolean[];
}

export interface ClosedDayRows {
  day: string;
  rollup: readonly LevelDay[];
  balances: readonly LevelBalance[];
}

const levelKey = (row: { sku_id: string; warehouse_id: string }): string => JSON.stringify([row.sku_id, row.warehouse_id]);

/** One imported day of demand (imports.ts ImportedDemand), as demandSeries reads it. */
export interface ImportedDay {
  date: string;
  sku_id: string;
  warehouse_id: string;
  quantity: number;
}

/**
 * The series of every level from consecutive closed days (oldest first, no gaps); `opening` is
 * every level's balance at the end of the day before the first (none: no stock before it);
 * `imported` the imported days (merged already: one per day and level); those outside the days
 * given are left out.
 */
export const demandSeries = (days: readonly ClosedDayRows[], opening: readonly LevelBalance[] = [], imported: readonly ImportedDay[] = []): DemandSeries[] => {
  const series = new Map<string, DemandSeries & { lastOnHand: bigint }>();
  const openingOnHand = new Map(opening.map((balance) => [levelKey(balance), balance.on_hand]));
  const importedOn = new Map<string, Map<string, ImportedDay>>();
  const firstBalance = new Map<string, string>();
  for (const { day, balances } of days) for (const balance of balances) if (!firstBalance.has(levelKey(balance))) firstBalance.set(levelKey(balance), day);
  const lastImported = new Map<string, string>();
  for (const row of imported) {
    const key = levelKey(row);
    if ((lastImported.get(key) ?? '') < row.date) lastImported.set(key, row.date);
    const ofDay = importedOn.get(row.date) ?? new Map<string, ImportedDay>();
    ofDay.set(levelKey(row), row);
    importedOn.set(row.date, ofDay);
  }
  const start = (day: string, level: { sku_id: string; warehouse_id: string }): DemandSeries & { lastOnHand: bigint } => {
    const key = levelKey(level);
    let found = series.get(key);
    if (!found) {
      // First seen today: its stock before today is the opening balance (none if the ledger had not touched it).
      found = { sku_id: level.sku_id, warehouse_id: level.warehouse_id, start: day, demand: [], stocked_out: [], lastOnHand: openingOnHand.get(key) ?? 0n };
      series.set(key, found);
    }
    return found;
  };
  for (const { day, rollup, balances } of days) {
    const demand = new Map<string, bigint>();
    for (const row of rollup) {
      const key = levelKey(row);
      let units = demand.get(key) ?? 0n;
      if (row.type === 'sale' || row.type === 'shipment') units += row.units_out;
      units -= row.units_returned;
      demand.set(key, units);
    }
    const importedToday = importedOn.get(day) ?? new Map<string, ImportedDay>();
    const balanceOf = new Map(balances.map((balance) => [levelKey(balance), balance]));
    for (const balance of balances) start(day, balance);
    for (const row of importedToday.values()) start(day, row);
    // Every level begun so far gets today's value: live rows, else the import, else none (0).
    for (const [key, level] of series) {
      const live = demand.get(key);
      const balance = balanceOf.get(key);
      const imported = importedToday.get(key);
      if (live !== undefined || imported === undefined) {
        const units = live ?? 0n;
        level.demand.push(units > 0n ? Number(units) : 0);
        // With a balance the ledger knows the level: flagged when it held no stock. Without one, a day
        // between imported days, or after them for a level the ledger never knows, is a day the
        // business's export had no sales (0); but a day after the last imported one and before the
        // ledger first knows the level (the gap between the import and going live) is unknown, not
        // zero demand: flagged, so forecasting estimates it.
        const goesLive = firstBalance.get(key);
        level.stocked_out.push(
          balance !== undefined ? level.lastOnHand <= 0n || balance.on_hand <= 0n : goesLive !== undefined && day > (lastImported.get(key) ?? day) && day < goesLive,
        );
      } else {
        level.demand.push(imported.quantity);
        level.stocked_out.push(false);
      }
      if (balance !== undefined) level.lastOnHand = balance.on_hand;
    }
  }
  const order = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);
  return [...series.values()]
    .map(({ lastOnHand: _lastOnHand, ...level }) => level)
    .sort((a, b) => order(a.sku_id, b.sku_id) || order(a.warehouse_id, b.warehouse_id));
};


/** How many closed days are fetched at once (two GETs each). */
const CONCURRENCY = 16;

/**
 * The demand series of every level of the tenant over the closed days from `from` (YYYY-MM-DD)
 * to the last closed one, live and imported (readDemandImports) alike. Before the tenant's first
 * close no day is closed: the series are then the imported days before `today` (UTC; the clock's
 * unless given), since no ledger row can override them, and none without imports.
 */
export const readDemandHistory = async (objects: LakeObjects, tenantId: string, options: { from: string; today?: string }): Promise<DemandSeries[]> => {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(options.from) || Number.isNaN(Date.parse(options.from))) throw new RangeError(`from is not a YYYY-MM-DD day: ${options.from}`);
  const [closed, imports] = await Promise.all([readClosedDays(objects, tenantId), readDemandImports(objects, tenantId)]);
  if (!closed) {
    const through = options.today ?? new Date().toISOString().slice(0, 10);
    const wanted = imports.filter((row) => row.date >= options.from && row.date < through);
    const first = wanted.reduce<string | undefined>((min, row) => (min === undefined || row.date < min ? row.date : min), undefined);
    if (first === undefined) return [];
    const days: ClosedDayRows[] = [];
    for (let day = first; day < through; day = nextDay(day)) days.push({ day, rollup: [], balances: [] });
    return demandSeries(days, [], wanted);
  }
  // No day before the tenant's first balance (or first import) holds anything: start there, not at
  // `from` (a tenant a month old would otherwise cost two GETs for each of the 730 days).
  const firstBalance = (await objects.list(closeKeys.balancesOf(tenantId)))
    .flatMap(({ key }) => /\/dt=(\d{4}-\d{2}-\d{2})\//.exec(key)?.[1] ?? [])
    .reduce<string | undefined>((min, day) => (min === undefined || day < min ? day : min), undefined);
  const firstImport = imports.reduce<string | undefined>((min, row) => (min === undefined || row.date < min ? row.date : min), undefined);
  const firstKnown = [firstBalance, firstImport].filter((d): d is string => d !== undefined).sort()[0] ?? closed.closed_through;
  const wanted: string[] = [];
  for (let day = firstKnown > options.from ? firstKnown : options.from; day < closed.closed_through; day = nextDay(day)) wanted.push(day);
  const days: ClosedDayRows[] = new Array<ClosedDayRows>(wanted.length);
  // The stock each level started the first day with: the balances of the day before it.
  const opening = wanted.length === 0 ? [] : (await readClosedDay(objects, tenantId, addDays(wanted[0] as string, -1))).balances;
  for (let at = 0; at < wanted.length; at += CONCURRENCY) {
    const batch = wanted.slice(at, at + CONCURRENCY);
    const read = await Promise.all(batch.map((day) => readClosedDay(objects, tenantId, day)));
    read.forEach((rows, offset) => (days[at + offset] = { day: batch[offset] ?? '', ...rows }));
  }
  return demandSeries(days, opening, imports);
};
