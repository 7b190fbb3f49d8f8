/**
 * The reorder arithmetic as pure functions.
 *
 * suggested_quantity (an integer, never negative):
 * - the level's `reorder_quantity` when one is set (a fixed lot size);
 * - otherwise max(0, ceil(lead_time_demand + safety_stock + (reorder_point - available)) - incoming),
 *   where lead_time_demand is the demand while the order is on its way over the supplier's
 *   lead_time_days (0 without a supplier): the sum of the level's daily demand forecast from
 *   today over those days where a forecast exists (`forecast_lead_time_demand`, demand_source
 *   'forecast'), else daily_demand x lead_time_days with daily_demand = units sold or shipped
 *   from the level in the last 14 days / 14 (demand_source 'recent_sales'). That is: enough to
 *   cover the demand while the order is on its way, refill the safety stock and close the gap
 *   below the reorder point, minus what open purchase orders bring.
 */
export const DEMAND_SOURCES = ['forecast', 'recent_sales'] as const;
export type DemandSource = (typeof DEMAND_SOURCES)[number];

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
  /** The forecast's demand over the lead time (sum of its daily values from today); absent: no usable forecast, the 14-day average is used. */
  forecast_lead_time_demand?: number;
}

export interface SuggestedQuantity {
  quantity: number;
  basis: string;
  daily_demand: number;
  demand_source: DemandSource;
  /** Demand over the lead time the quantity covers, rounded to two decimals for display. */
  lead_time_demand: number;
}

export const suggestQuantity = (input: SuggestionInput): SuggestedQuantity => {
  const daily = input.units_sold / input.window_days;
  const daily_demand = Math.round(daily * 100) / 100;
  const lead = input.lead_time_days ?? 0;
  const fromForecast = input.forecast_lead_time_demand !== undefined;
  const demand_source: DemandSource = fromForecast ? 'forecast' : 'recent_sales';
  const leadTimeDemand = input.forecast_lead_time_demand ?? daily * lead;
  const lead_time_demand = Math.round(leadTimeDemand * 100) / 100;
  if (input.reorder_quantity !== undefined) {
    return { quantity: input.reorder_quantity, daily_demand, demand_source, lead_time_demand, basis: `reorder_quantity ${input.reorder_quantity} set on the level` };
  }
  // Guard against floating noise (e.g. 7 x 10/14 = 5.000000000000001) before rounding up.
  const raw = Math.round((leadTimeDemand + input.safety_stock + (input.reorder_point - input.available)) * 1e9) / 1e9;
  const quantity = Math.max(0, Math.ceil(raw) - input.incoming);
  const leadText = input.lead_time_days === null ? '0 (no supplier)' : String(lead);
  const demandText = fromForecast
    ? `forecast demand over lead_time_days ${leadText} ${Math.round(leadTimeDemand * 1e4) / 1e4}`
    : `daily_demand ${input.units_sold}/${input.window_days} (recent sales) x lead_time_days ${leadText}`;
  return {
    quantity,
    daily_demand,
    demand_source,
    lead_time_demand,
    basis:
      `max(0, ceil(${demandText} + safety_stock ${input.safety_stock}` +
      ` + (reorder_point ${input.reorder_point} - available ${input.available})) - incoming ${input.incoming}) = ${quantity}`,
  };
};
