import { findSku } from '../inventory/catalog';
import type { Sku } from '../inventory/model';
import { leadTimeStats, type LeadTimeStats } from '../forecasting/reorder';
import type { Supplier } from '../purchasing/model';
import { findSupplier, listPurchaseOrders } from '../purchasing/purchasing';
import type { Deps } from '../platform/context';
import { DAY_MS } from '../platform/days';


/** A supplier's lead time as replenishment uses it: its stated days and what its received orders showed. */
export interface SupplierLeadTime extends LeadTimeStats {
  supplier_id: string;
  stated_days: number;
  /** Mean observed lead time - stated days; null without a received order. */
  mean_delay_days: number | null;
}

/**
 * Per-request read-through caches: many levels share a SKU or a supplier, and
 * a supplier's lead-time statistics read all its received purchase orders.
 */
export class Lookups {
  private readonly skus = new Map<string, Promise<Sku | undefined>>();
  private readonly suppliers = new Map<string, Promise<Supplier | undefined>>();
  private readonly leadTimes = new Map<string, Promise<SupplierLeadTime>>();
  constructor(private readonly deps: Deps) {}
  sku(id: string): Promise<Sku | undefined> {
    return Lookups.cached(this.skus, id, () => findSku(this.deps, id));
  }
  supplier(id: string): Promise<Supplier | undefined> {
    return Lookups.cached(this.suppliers, id, () => findSupplier(this.deps, id));
  }
  /** L and sigma_L of a supplier (functions/forecasting/reorder.ts leadTimeStats) from its received purchase orders. */
  leadTime(supplier: Supplier): Promise<SupplierLeadTime> {
    return Lookups.cached(this.leadTimes, supplier.supplier_id, () => supplierLeadTime(this.deps, supplier));
  }
  private static cached<T>(cache: Map<string, Promise<T>>, id: string, load: () => Promise<T>): Promise<T> {
    const hit = cache.get(id);
    if (hit) return hit;
    const loading = load();
    cache.set(id, loading);
    return loading;
  }
}

/**
 * Every received purchase order of the supplier (status `received`: a partly
 * received one has no received_at), one observation each: its lead time is
 * received_at - submitted_at in days, its delay that minus the supplier's
 * lead_time_days (negative: early). Read a page of 200 at a time from the
 * status index (the supplier is a range of it), so only this supplier's
 * received orders are read.
 */
const supplierLeadTime = async (deps: Deps, supplier: Supplier): Promise<SupplierLeadTime> => {
  const delays: number[] = [];
  let cursor: string | undefined;
  do {
    const page = await listPurchaseOrders(deps, { status: 'received', supplier_id: supplier.supplier_id, cursor, limit: 200 });
    for (const po of page.purchase_orders) {
      if (po.submitted_at === undefined || po.received_at === undefined) continue;
      // A clock that stepped back cannot make a lead time negative.
      const observed = Math.max(0, (Date.parse(po.received_at) - Date.parse(po.submitted_at)) / DAY_MS);
      delays.push(observed - supplier.lead_time_days);
    }
    cursor = page.next_cursor ?? undefined;
  } while (cursor);
  const stats = leadTimeStats(supplier.lead_time_days, delays);
  return {
    ...stats,
    supplier_id: supplier.supplier_id,
    stated_days: supplier.lead_time_days,
    mean_delay_days: delays.length ? stats.mean_days - supplier.lead_time_days : null,
  };
};
