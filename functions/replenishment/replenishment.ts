import { findActiveAlert, listAlerts } from '../alerts/alerts';
import type { Alert } from '../alerts/model';
import { COVER_WINDOW_DAYS } from '../alerts/rules';
import { requireSku, requireWarehouse } from '../inventory/catalog';
import { emptyLevel, type Sku } from '../inventory/model';
import { findLevel, unitsSold } from '../inventory/stock';
import type { PurchaseOrder, Supplier } from '../purchasing/model';
import { createPurchaseOrder, findSupplier } from '../purchasing/purchasing';
import { MAX_PURCHASE_ORDER_LINES } from '../purchasing/schemas';
import { forecastFrom, isStale, latestForecast } from '../forecasting/forecast';
import type { Deps } from '../platform/context';
import { notFound } from '../platform/errors';
import { claimKey, fingerprint, type Idempotency } from '../platform/idempotency';
import { mapBounded } from '../platform/pool';
import { assertInScope } from '../platform/warehouse-scope';
import { Lookups } from './lookups';
import { suggestQuantity, type DemandSource, type SkipReason } from './rules';
import type { CreateFromSuggestionsInput, SuggestionsQuery } from './schemas';

/**
 * Reorder suggestions: what to buy for each level with an open or
 * acknowledged low-stock alert, and from whom, and turning a selection of
 * them into draft purchase orders. The supplier of a SKU is the SKU's own
 * `supplier_id` (set on POST/PATCH /api/skus); rules.ts defines the quantity.
 */
export interface Suggestion {
  sku_id: string;
  warehouse_id: string;
  alert_id: string | null;
  severity: Alert['severity'] | null;
  available: number;
  incoming: number;
  reorder_point: number;
  safety_stock: number;
  reorder_quantity: number | null;
  supplier_id: string | null;
  supplier_reason: string | null;
  lead_time_days: number | null;
  units_sold: number;
  daily_demand: number;
  demand_source: DemandSource;
  lead_time_demand: number;
  suggested_quantity: number;
  basis: string;
}

/**
 * One suggestion from the level as it is now (strongly consistent read: the
 * alert's snapshot may be a moment behind), the SKU's supplier and the
 * level's sales of the last 14 days.
 */
const suggestionFor = async (
  deps: Deps,
  lookups: Lookups,
  place: { sku_id: string; warehouse_id: string },
  alert: Alert | undefined,
  now: Date,
): Promise<{ suggestion: Suggestion; sku: Sku | undefined; supplier: Supplier | undefined }> => {
  const [level, sku, sold, forecast] = await Promise.all([
    findLevel(deps, place.sku_id, place.warehouse_id),
    lookups.sku(place.sku_id),
    unitsSold(deps, place.sku_id, place.warehouse_id, now, COVER_WINDOW_DAYS),
    latestForecast(deps, place.sku_id, place.warehouse_id),
  ]);
  const current = level ?? emptyLevel(place.sku_id, place.warehouse_id);
  const supplier = sku?.supplier_id ? await lookups.supplier(sku.supplier_id) : undefined;
  const supplierReason = supplier ? null : sku?.supplier_id ? `supplier '${sku.supplier_id}' not found` : `SKU '${place.sku_id}' has no supplier_id`;
  const lead = supplier ? supplier.lead_time_days : null;
  const computed = suggestQuantity({
    available: current.available,
    incoming: current.incoming,
    reorder_point: current.reorder_point,
    safety_stock: current.safety_stock,
    reorder_quantity: current.reorder_quantity,
    units_sold: sold,
    window_days: COVER_WINDOW_DAYS,
    lead_time_days: lead,
    // A recent forecast that saw demand: its daily values from today over the lead time (none without a supplier).
    ...(forecast && forecast.class !== 'no_history' && !isStale(forecast, now)
      ? { forecast_lead_time_demand: forecastFrom(forecast, now.toISOString().slice(0, 10), lead ?? 0).reduce((sum, day) => sum + day.forecast, 0) }
      : {}),
  });
  return {
    sku,
    supplier,
    suggestion: {
      sku_id: place.sku_id,
      warehouse_id: place.warehouse_id,
      alert_id: alert?.alert_id ?? null,
      severity: alert?.severity ?? null,
      available: current.available,
      incoming: current.incoming,
      reorder_point: current.reorder_point,
      safety_stock: current.safety_stock,
      reorder_quantity: current.reorder_quantity ?? null,
      supplier_id: supplier?.supplier_id ?? null,
      supplier_reason: supplierReason,
      lead_time_days: lead,
      units_sold: sold,
      daily_demand: computed.daily_demand,
      demand_source: computed.demand_source,
      lead_time_demand: computed.lead_time_demand,
      suggested_quantity: computed.quantity,
      basis: computed.basis,
    },
  };
};

const LOOKUP_CONCURRENCY = 8;

/**
 * GET /api/replenishment/suggestions: one per open or acknowledged alert, in
 * the alert list's order (most urgent first), optionally for one warehouse
 * (filtered in the alert query) or one supplier (filtered here). Reads every
 * page of active alerts: there is at most one per SKU x warehouse.
 */
export const listSuggestions = async (deps: Deps, query: SuggestionsQuery): Promise<{ suggestions: Suggestion[] }> => {
  // A scoped user's suggestions are their warehouses' alerts' (listAlerts keeps only those).
  if (query.warehouse_id) assertInScope(deps.ctx, [query.warehouse_id], 'reading its suggestions');
  if (query.warehouse_id) await requireWarehouse(deps, query.warehouse_id);
  if (query.supplier_id && !(await findSupplier(deps, query.supplier_id))) throw notFound('supplier', query.supplier_id);
  const alerts: Alert[] = [];
  let cursor: string | undefined;
  do {
    const page = await listAlerts(deps, { warehouse_id: query.warehouse_id, cursor, limit: 200 });
    alerts.push(...page.alerts);
    cursor = page.next_cursor ?? undefined;
  } while (cursor);
  const lookups = new Lookups(deps);
  const now = deps.ctx.now();
  const all = await mapBounded(alerts, LOOKUP_CONCURRENCY, async (alert) => (await suggestionFor(deps, lookups, alert, alert, now)).suggestion);
  return { suggestions: query.supplier_id ? all.filter((s) => s.supplier_id === query.supplier_id) : all };
};

export interface SkippedSuggestion {
  sku_id: string;
  warehouse_id: string;
  reason: SkipReason;
  message: string;
}

/**
 * The child key of one purchase order of a request: it names the group
 * (supplier, warehouse, chunk), not its lines, so a retry with the same
 * Idempotency-Key replays the order created the first time even if the
 * suggested quantities moved in between.
 */
const groupIdempotency = (parent: Idempotency | undefined, group: { supplier_id: string; warehouse_id: string; chunk: number }): Idempotency | undefined =>
  parent && { key: `${parent.key}:${group.supplier_id}:${group.warehouse_id}:${group.chunk}`, fingerprint: fingerprint(parent.fingerprint, group) };

/**
 * POST /api/replenishment/suggestions/purchase-orders: the selected levels
 * become draft purchase orders, one per supplier x destination warehouse (a
 * group over 49 lines is split), each line at the SKU's unit_cost in the
 * supplier's currency and the given quantity or else the suggested one.
 * Every SKU and warehouse must exist (404 before anything is written). A
 * level that cannot be ordered (no supplier, no unit cost, a unit cost in
 * another currency than the supplier's, nothing to order) is reported in
 * `skipped` with the reason. Each order is created by the purchasing
 * domain (createPurchaseOrder) with its own idempotency record under the
 * request's key, claimed first, as non-atomic bulk updates do.
 */
export const createFromSuggestions = async (
  deps: Deps,
  input: CreateFromSuggestionsInput,
): Promise<{ purchase_orders: PurchaseOrder[]; skipped: SkippedSuggestion[] }> => {
  const { ctx } = deps;
  // Whole or not at all for a scoped user: ordering into another warehouse is refused before anything is written.
  assertInScope(ctx, input.suggestions.map((s) => s.warehouse_id), 'ordering stock into it');
  for (const id of new Set(input.suggestions.map((s) => s.sku_id))) await requireSku(deps, id);
  for (const id of new Set(input.suggestions.map((s) => s.warehouse_id))) await requireWarehouse(deps, id);
  if (ctx.idempotency) await claimKey(deps, ctx.idempotency);
  const lookups = new Lookups(deps);
  const now = ctx.now();
  const decided = await mapBounded(input.suggestions, LOOKUP_CONCURRENCY, async (selected) => {
    const alert = await findActiveAlert(deps, selected.sku_id, selected.warehouse_id);
    return { selected, ...(await suggestionFor(deps, lookups, selected, alert, now)) };
  });
  const skipped: SkippedSuggestion[] = [];
  const groups = new Map<string, { supplier_id: string; warehouse_id: string; lines: { sku_id: string; quantity: number; unit_cost: string }[] }>();
  for (const { selected, suggestion, sku, supplier } of decided) {
    const place = { sku_id: selected.sku_id, warehouse_id: selected.warehouse_id };
    const quantity = selected.quantity ?? suggestion.suggested_quantity;
    if (!supplier) {
      skipped.push({ ...place, reason: 'NO_SUPPLIER', message: suggestion.supplier_reason ?? 'no supplier' });
    } else if (sku?.unit_cost === undefined) {
      skipped.push({ ...place, reason: 'NO_UNIT_COST', message: `SKU '${place.sku_id}' has no unit_cost to order at` });
    } else if (sku.currency !== supplier.currency) {
      skipped.push({
        ...place,
        reason: 'CURRENCY_MISMATCH',
        message: `SKU '${place.sku_id}' costs ${sku.unit_cost} ${sku.currency ?? ''} but supplier '${supplier.supplier_id}' invoices in ${supplier.currency}`,
      });
    } else if (quantity <= 0) {
      skipped.push({ ...place, reason: 'NOTHING_TO_ORDER', message: `the suggested quantity is 0 (${suggestion.basis})` });
    } else {
      const key = `${supplier.supplier_id} ${place.warehouse_id}`;
      const group = groups.get(key) ?? { supplier_id: supplier.supplier_id, warehouse_id: place.warehouse_id, lines: [] };
      group.lines.push({ sku_id: place.sku_id, quantity, unit_cost: sku.unit_cost });
      groups.set(key, group);
    }
  }
  const purchase_orders: PurchaseOrder[] = [];
  for (const group of groups.values()) {
    for (let chunk = 0; chunk * MAX_PURCHASE_ORDER_LINES < group.lines.length; chunk++) {
      const lines = group.lines.slice(chunk * MAX_PURCHASE_ORDER_LINES, (chunk + 1) * MAX_PURCHASE_ORDER_LINES);
      const idempotency = groupIdempotency(ctx.idempotency, { supplier_id: group.supplier_id, warehouse_id: group.warehouse_id, chunk });
      purchase_orders.push(await createPurchaseOrder(deps, { supplier_id: group.supplier_id, warehouse_id: group.warehouse_id, lines }, idempotency));
    }
  }
  return { purchase_orders, skipped };
};
