/**
 * The reorder arithmetic as pure functions.
 *
 * suggested_quantity (an integer, never negative):
 * - the level's `reorder_quantity` when one is set (a fixed lot size);
 * - otherwise max(0, ceil(daily_demand x lead_time_days + safety_stock + (reorder_point - available)) - incoming),
 *   where daily_demand = units sold or shipped from the level in the last 14 days / 14
 *   and lead_time_days is the supplier's (0 without a supplier). That is: enough to
 *   cover the demand while the order is on its way, refill the safety stock and
 *   close the gap below the reorder point, minus what open purchase orders bring.
 */
export const SKIP_REASONS = ['NO_SUPPLIER', 'NO_UNIT_COST', 'CURRENCY_MISMATCH', 'NOTHING_TO_ORDER'] as const;
export type SkipReason = (typeof SKIP_REASONS)[number];

export interface SuggestionInput {
  available: number;
  incoming: number;
  reorder_point: number;
  safety_stock: number;
  reorder_quantity?: number;
  units_sold: number;
  window_days: number;
  /** null without a supplier: counted as 0 days. */
  lead_time_days: number | null;
}

export const suggestQuantity = (input: SuggestionInput): { quantity: number; basis: string; daily_demand: number } => {
  const daily = input.units_sold / input.window_days;
  const daily_demand = Math.round(daily * 100) / 100;
  if (input.reorder_quantity !== undefined) {
    return { quantity: input.reorder_quantity, daily_demand, basis: `reorder_quantity ${input.reorder_quantity} set on the level` };
  }
  const lead = input.lead_time_days ?? 0;
  // Guard against floating noise (e.g. 7 x 10/14 = 5.000000000000001) before rounding up.
  const raw = Math.round((daily * lead + input.safety_stock + (input.reorder_point - input.available)) * 1e9) / 1e9;
  const quantity = Math.max(0, Math.ceil(raw) - input.incoming);
  const leadText = input.lead_time_days === null ? '0 (no supplier)' : String(lead);
  return {
    quantity,
    daily_demand,
    basis:
      `max(0, ceil(daily_demand ${input.units_sold}/${input.window_days} x lead_time_days ${leadText} + safety_stock ${input.safety_stock}` +
      ` + (reorder_point ${input.reorder_point} - available ${input.available})) - incoming ${input.incoming}) = ${quantity}`,
  };
};
