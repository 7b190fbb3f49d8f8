import type { Movement, StockLevel } from '../../functions/inventory/model';
import type { Client } from './api';
import { levelsOf } from './levels';

/** Every ledger row of a SKU, all pages. */
export const allMovements = async (c: Client, skuId: string): Promise<Movement[]> => {
  const all: Movement[] = [];
  let cursor: string | null = null;
  do {
    const page: { body: { movements: Movement[]; next_cursor: string | null } } = await c.get(
      `/api/inventory/sku/${skuId}/movements?limit=200${cursor ? `&cursor=${cursor}` : ''}`,
    );
    all.push(...page.body.movements);
    cursor = page.body.next_cursor;
  } while (cursor);
  return all;
};

/**
 * The ledger adds up: for every level, on_hand/reserved/available/incoming
 * equal the sums of its movements' deltas, there is one movement per level
 * version (the versions movements carry are distinct and in range), and the
 * movement carrying the level's version has the level's quantities. Returns the problems found (none = reconciled).
 */
export const reconcile = async (c: Client, skuId: string, options: { everSplit?: readonly string[] } = {}): Promise<string[]> => {
  const levels: StockLevel[] = await levelsOf(c, skuId);
  const movements = await allMovements(c, skuId);
  const problems: string[] = [];
  for (const level of levels) {
    const rows = movements.filter((m) => m.warehouse_id === level.warehouse_id);
    const sum = (field: 'on_hand' | 'reserved' | 'available' | 'incoming') => rows.reduce((s, m) => s + m.deltas[field], 0);
    for (const field of ['on_hand', 'reserved', 'available', 'incoming'] as const) {
      if (sum(field) !== level[field]) problems.push(`${level.warehouse_id}.${field}: level ${level[field]} != ledger ${sum(field)}`);
    }
    if (level.available !== level.on_hand - level.reserved) problems.push(`${level.warehouse_id}: available != on_hand - reserved`);
    if (level.on_hand < 0 || level.available < 0 || level.reserved < 0) problems.push(`${level.warehouse_id}: negative quantity`);
    // Rows written by reading the level carry its version and result; increment rows (written
    // without a read) carry neither, but every row still bumps the version exactly once.
    // A level ever split into sub-levels (options.everSplit) grows its version by at least one per
    // row: a change spread over several parts, a rebalance and a split count more (sub-levels.ts).
    const versionsMatch = options.everSplit?.includes(level.warehouse_id) ? rows.length <= level.version : rows.length === level.version;
    if (!versionsMatch) problems.push(`${level.warehouse_id}: ${rows.length} movements for level version ${level.version}`);
    const versions = rows.flatMap((m) => (m.version === undefined ? [] : [m.version]));
    if (new Set(versions).size !== versions.length || versions.some((v) => v < 1 || v > level.version)) {
      problems.push(`${level.warehouse_id}: movement versions ${versions.join(',')} for level version ${level.version}`);
    }
    for (const m of rows) {
      if (m.version !== undefined && m.resulting === undefined) problems.push(`${m.movement_id}: a version without a result`);
    }
    const newest = rows.find((m) => m.version === level.version);
    if (newest?.resulting && newest.resulting.on_hand !== level.on_hand) problems.push(`${level.warehouse_id}: newest movement result differs`);
  }
  const orphan = movements.filter((m) => !levels.some((l) => l.warehouse_id === m.warehouse_id));
  if (orphan.length) problems.push(`${orphan.length} movements without a level`);
  return problems;
};
