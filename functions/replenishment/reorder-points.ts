import type { z } from 'zod';
import { putThresholds } from '../alerts/thresholds';
import { forecastFrom, isStale, latestForecast, STALE_AFTER_DAYS, warehouseForecastsPage } from '../forecasting/forecast';
import type { StoredForecast } from '../forecasting/forecast-schemas';
import { DEFAULT_SERVICE_LEVEL, reorderPoint } from '../forecasting/reorder';
import { requireSku, requireWarehouse } from '../inventory/catalog';
import { MAX_QUANTITY } from '../inventory/schemas';
import { findLevel } from '../inventory/stock';
import type { Deps } from '../platform/context';
import { AppError } from '../platform/errors';
import { mapBounded } from '../platform/pool';
import { assertInScope } from '../platform/warehouse-scope';
import { Lookups } from './lookups';
import {
  DEFAULT_REORDER_POINTS_PAGE,
  type ApplyReorderPointsInput,
  type applyReorderPointsResponse,
  type ReorderPointsQuery,
  type reorderPointRow,
  type reorderPointSkipped,
  type reorderPointsResponse,
} from './schemas';

/**
 * Reorder points and safety stock from the demand forecast (issue 10, item 5).
 *
 * For each level of a warehouse that has a stored forecast (the nightly run's, one DynamoDB
 * partition per warehouse, read a page at a time in SKU order):
 *   d       = mean daily forecast from today over max(1, ceil(L)) days (forecastFrom)
 *   sigma_d = the forecast's daily_sigma
 *   L       = the supplier's lead_time_days + the mean observed delay of its received orders
 *   sigma_L = sd of those delays (0 with fewer than 2)
 *   SS = ceil(z x sqrt(L x sigma_d^2 + d^2 x sigma_L^2)), ROP = ceil(d x L + z x sigma_LTD)
 * with z the normal quantile of the SKU's service level (0.95 unset); the arithmetic is
 * functions/forecasting/reorder.ts. A level whose SKU has no supplier (so no lead time) or whose
 * forecast saw no demand is skipped with the reason, never guessed.
 *
 * Applying (POST with dry_run false) writes the changed proposals through PUT /api/thresholds'
 * domain function, one level at a time: each is its own transaction with its `thresholds`
 * ledger row, an existing reorder_quantity kept; a level already holding the proposal is not
 * written, so applying again changes nothing. A level whose write fails (e.g. its thresholds kept
 * changing) is reported with the error and the others stand. Such a request needs no
 * Idempotency-Key, as a PUT does not: the levels' own values make a retry harmless, and a retry
 * answers what it finds (the levels applied before are no longer `changed`).
 */

type Row = z.infer<typeof reorderPointRow>;
type Skipped = z.infer<typeof reorderPointSkipped>;
type Proposal = z.infer<typeof reorderPointsResponse>;
type Applied = z.infer<typeof applyReorderPointsResponse>;

const LOOKUP_CONCURRENCY = 8;
/** Level writes in flight at once: each is a read and a transaction of two items. */
const APPLY_CONCURRENCY = 4;

const dayOf = (date: Date): string => date.toISOString().slice(0, 10);
/** Numbers in the formula text: 4 decimals at most, no trailing zeros. */
const num = (x: number): string => String(Math.round(x * 10_000) / 10_000);

const formulaOf = (r: ReturnType<typeof reorderPoint>, rounded: { rop: number; ss: number }): string => {
  const { d, L, sigma_d, sigma_L, z } = r.basis;
  return (
    `sigma_LTD = sqrt(L*sigma_d^2 + d^2*sigma_L^2) = sqrt(${num(L)}*${num(sigma_d)}^2 + ${num(d)}^2*${num(sigma_L)}^2) = ${num(r.sigma_ltd)}; ` +
    `SS = ceil(z*sigma_LTD) = ceil(${num(z)}*${num(r.sigma_ltd)}) = ceil(${num(r.basis.safety_stock)}) = ${rounded.ss}; ` +
    `ROP = ceil(d*L + SS exact) = ceil(${num(d)}*${num(L)} + ${num(r.basis.safety_stock)}) = ceil(${num(r.basis.reorder_point)}) = ${rounded.rop}`
  );
};

/** One level's proposal, or why it has none. */
const proposalFor = async (deps: Deps, lookups: Lookups, stored: StoredForecast, today: string): Promise<{ row: Row } | { skipped: Skipped }> => {
  const place = { sku_id: stored.sku_id, warehouse_id: stored.warehouse_id };
  if (stored.class === 'no_history') {
    return { skipped: { ...place, reason: 'NO_HISTORY', message: `the forecast of ${stored.made_at} saw no demand for this level: no reorder point is proposed from it` } };
  }
  if (isStale(stored, deps.ctx.now())) {
    return { skipped: { ...place, reason: 'STALE_FORECAST', message: `the latest forecast was made ${stored.made_at}, more than ${STALE_AFTER_DAYS} days ago: no reorder point is proposed until a run forecasts this level again` } };
  }
  const [sku, level] = await Promise.all([lookups.sku(stored.sku_id), findLevel(deps, stored.sku_id, stored.warehouse_id)]);
  const supplier = sku?.supplier_id === undefined ? undefined : await lookups.supplier(sku.supplier_id);
  if (!supplier) {
    const message = !sku ? `SKU '${stored.sku_id}' not found` : sku.supplier_id ? `supplier '${sku.supplier_id}' not found` : `SKU '${stored.sku_id}' has no supplier_id: no lead time to cover`;
    return { skipped: { ...place, reason: 'NO_SUPPLIER', message } };
  }
  const lead = await lookups.leadTime(supplier);
  const serviceLevel = sku?.service_level ?? DEFAULT_SERVICE_LEVEL;
  const days = Math.max(1, Math.ceil(lead.mean_days));
  const result = reorderPoint({
    dailyForecast: forecastFrom(stored, today, days).map((day) => day.forecast),
    dailySigma: stored.daily_sigma,
    leadTime: lead,
    serviceLevel,
  });
  const current = {
    reorder_point: level?.reorder_point ?? 0,
    safety_stock: level?.safety_stock ?? 0,
    reorder_quantity: level?.reorder_quantity ?? null,
  };
  // Thresholds are bounded like PUT /api/thresholds' (no real demand comes near).
  const rop = Math.min(result.reorder_point, MAX_QUANTITY);
  const ss = Math.min(result.safety_stock, rop);
  return {
    row: {
      ...place,
      current,
      reorder_point: rop,
      safety_stock: ss,
      changed: current.reorder_point !== rop || current.safety_stock !== ss,
      service_level: serviceLevel,
      service_level_from: sku?.service_level === undefined ? 'default' : 'sku',
      class: stored.class,
      method: stored.method,
      forecast_made_at: stored.made_at,
      basis: {
        d: result.basis.d,
        days_averaged: result.basis.days_averaged,
        sigma_d: result.basis.sigma_d,
        L: result.basis.L,
        sigma_L: result.basis.sigma_L,
        z: result.z,
        lead_time_demand: result.lead_time_demand,
        sigma_ltd: result.sigma_ltd,
        safety_stock: result.basis.safety_stock,
        reorder_point: result.basis.reorder_point,
        lead_time: {
          supplier_id: lead.supplier_id,
          stated_days: lead.stated_days,
          observations: lead.observations,
          mean_delay_days: lead.mean_delay_days,
          from: lead.observations > 0 ? 'received_orders' : 'supplier',
        },
        formula: formulaOf(result, { rop, ss }),
      },
      applied: false,
      error: null,
    },
  };
};

/** The forecasts a request covers: one page of the warehouse's, or the named SKUs' (those without one reported). */
const forecastsFor = async (
  deps: Deps,
  request: { warehouse_id: string; sku_ids?: string[]; cursor?: string; limit?: number },
): Promise<{ forecasts: StoredForecast[]; unforecast: Skipped[]; next_cursor: string | null }> => {
  await requireWarehouse(deps, request.warehouse_id);
  if (request.sku_ids === undefined) {
    const page = await warehouseForecastsPage(deps, request.warehouse_id, { cursor: request.cursor, limit: request.limit ?? DEFAULT_REORDER_POINTS_PAGE });
    return { forecasts: page.items, unforecast: [], next_cursor: page.next_cursor };
  }
  const skuIds = request.sku_ids;
  await mapBounded(skuIds, LOOKUP_CONCURRENCY, (id) => requireSku(deps, id));
  const found = await mapBounded(skuIds, LOOKUP_CONCURRENCY, (id) => latestForecast(deps, id, request.warehouse_id));
  const forecasts = found.filter((f): f is StoredForecast => f !== undefined);
  const unforecast = skuIds
    .filter((_, i) => found[i] === undefined)
    .map((sku_id): Skipped => ({
      sku_id,
      warehouse_id: request.warehouse_id,
      reason: 'NO_FORECAST',
      message: 'no forecasting run has stored a forecast for this level yet (no history, or no run since its first movement)',
    }));
  return { forecasts, unforecast, next_cursor: null };
};

const propose = async (deps: Deps, request: { warehouse_id: string; sku_ids?: string[]; cursor?: string; limit?: number }): Promise<Proposal> => {
  // A scoped user proposes (and applies) reorder points for their own warehouses only.
  assertInScope(deps.ctx, [request.warehouse_id], 'proposing reorder points for its levels');
  const today = dayOf(deps.ctx.now());
  const { forecasts, unforecast, next_cursor } = await forecastsFor(deps, request);
  const lookups = new Lookups(deps);
  const outcomes = await mapBounded(forecasts, LOOKUP_CONCURRENCY, (stored) => proposalFor(deps, lookups, stored, today));
  const levels: Row[] = [];
  const skipped: Skipped[] = [];
  for (const outcome of outcomes) {
    if ('row' in outcome) levels.push(outcome.row);
    else skipped.push(outcome.skipped);
  }
  return { warehouse_id: request.warehouse_id, today, levels, skipped: [...skipped, ...unforecast], next_cursor };
};

/**
 * GET /api/replenishment/reorder-points?warehouse_id=&cursor=&limit=: one page (default 100, at
 * most 200 levels) of the warehouse's forecast levels in SKU id order, each proposed or skipped.
 */
export const proposeReorderPoints = (deps: Deps, query: ReorderPointsQuery): Promise<Proposal> => propose(deps, query);

/** The level's thresholds as PUT /api/thresholds takes them: the proposal, the reorder_quantity it has kept. */
const thresholdsOf = (row: Row) => ({
  sku_id: row.sku_id,
  warehouse_id: row.warehouse_id,
  reorder_point: row.reorder_point,
  safety_stock: row.safety_stock,
  ...(row.current.reorder_quantity === null ? {} : { reorder_quantity: row.current.reorder_quantity }),
});

/**
 * POST /api/replenishment/reorder-points: the same proposals for the named SKUs (or one page),
 * and with dry_run false the changed ones written to the levels' thresholds.
 */
export const applyReorderPoints = async (deps: Deps, input: ApplyReorderPointsInput): Promise<Applied> => {
  const proposal = await propose(deps, input);
  // Each level's write is its own request to the thresholds domain: the request's Idempotency-Key
  // (if any) belongs to the whole and must not make a second level replay the first one's answer.
  const { idempotency: _, ...ctx } = deps.ctx;
  const perLevel: Deps = { db: deps.db, ctx };
  const levels = input.dry_run
    ? proposal.levels
    : await mapBounded(proposal.levels, APPLY_CONCURRENCY, async (row): Promise<Row> => {
        if (!row.changed) return row;
        try {
          await putThresholds(perLevel, thresholdsOf(row));
          return { ...row, applied: true };
        } catch (error) {
          if (!(error instanceof AppError)) throw error;
          return { ...row, error: { code: error.code, message: error.message } };
        }
      });
  return {
    ...proposal,
    levels,
    dry_run: input.dry_run,
    summary: {
      proposed: levels.length,
      changed: levels.filter((l) => l.changed).length,
      applied: levels.filter((l) => l.applied).length,
      failed: levels.filter((l) => l.error !== null).length,
      skipped: proposal.skipped.length,
    },
  };
};
