import type { Quantities, StockLevel } from '../../functions/inventory/model';
import type { Client } from './api';

/** Stock levels read through the API (GET /api/inventory/sku/{sku_id}), as the caller's tenant sees them. */

/** Every level of a SKU, one per warehouse it was ever stocked in. */
export const levelsOf = async (c: Client, skuId = 'sku-1'): Promise<StockLevel[]> => (await c.get(`/api/inventory/sku/${skuId}`)).body.levels;

/** The level of one SKU x warehouse; undefined while it was never stocked. */
export const levelOf = async (c: Client, skuId: string, warehouseId: string): Promise<StockLevel | undefined> =>
  (await levelsOf(c, skuId)).find((l) => l.warehouse_id === warehouseId);

/** warehouse_id -> the given quantities of its level, in the given order (e.g. `{ 'wh-1': [on_hand, available] }`). */
export const levelQuantities = async (c: Client, skuId: string, fields: readonly (keyof Quantities)[]): Promise<Record<string, number[]>> =>
  Object.fromEntries((await levelsOf(c, skuId)).map((l) => [l.warehouse_id, fields.map((f) => l[f])]));
