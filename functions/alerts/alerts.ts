import type { StockLevelChangedDetail } from '../events/model';
import { unitsSold } from '../inventory/stock';
import type { Deps } from '../platform/context';
import { AppError, orNotFound } from '../platform/errors';
import { commitIdempotent } from '../platform/idempotency';
import { newId } from '../platform/ids';
import { keys } from '../platform/keys';
import { queryPage } from '../platform/storage';
import { transition } from '../platform/transition';
import { assertInScope, scopeFilter, SCOPED_LIST_READS } from '../platform/warehouse-scope';
import { when, type Condition } from '../platform/writes';
import type { Alert, AlertState, AlertStatus, Severity } from './model';
import { COVER_WINDOW_DAYS, daysOfCover, decide, severityOf, urgencyRange, type AlertAction } from './rules';
import { alertDecoder, alertStateWrite, alertWrite, findAlert, findAlertState } from './store';

export { findAlert };

/** The open or acknowledged alert of a level, if any (through the consumer's state item). */
export const findActiveAlert = async (deps: Deps, skuId: string, warehouseId: string): Promise<Alert | undefined> => {
  const state = await findAlertState(deps, skuId, warehouseId);
  return state?.alert_id ? findAlert(deps, state.alert_id) : undefined;
};

/**
 * The alert consumer's domain function: applies one StockLevelChanged to the
 * alert of its SKU x warehouse. Duplicates and late events (version at or
 * below the last applied one) change nothing; the state item is written
 * under a condition on the version read, so two concurrent evaluations of one
 * level cannot both apply (the loser re-reads and finds itself stale).
 */
export const evaluateLevelChange = async (deps: Deps, detail: StockLevelChangedDetail): Promise<AlertAction> => {
  const { db, ctx } = deps;
  const tenantId = ctx.caller.tenantId;
  if (detail.tenant_id !== tenantId) throw new Error(`an event of tenant '${detail.tenant_id}' evaluated for tenant '${tenantId}'`);
  return commitIdempotent(deps, async () => {
    const state = await findAlertState(deps, detail.sku_id, detail.warehouse_id);
    const current = state?.alert_id ? await findAlert(deps, state.alert_id) : undefined;
    const level = {
      version: detail.version,
      available: detail.after.available,
      incoming: detail.after.incoming,
      reorder_point: detail.reorder_point,
      safety_stock: detail.safety_stock,
    };
    const action = decide(state && { last_version: state.last_version, alert_status: current?.status }, level);
    const base: AlertState = { sku_id: detail.sku_id, warehouse_id: detail.warehouse_id, last_version: detail.version };
    if (action === 'ignore') return { writes: [], result: action };
    if (action === 'record') return { writes: [alertStateWrite(db, tenantId, base, state?.last_version)], result: action };
    const at = ctx.now().toISOString();
    const occurred = new Date(Date.parse(detail.occurred_at) || ctx.now().getTime());
    const sold = await unitsSold(deps, detail.sku_id, detail.warehouse_id, occurred, COVER_WINDOW_DAYS);
    const measured = {
      severity: severityOf(level),
      on_hand: detail.after.on_hand,
      available: detail.after.available,
      incoming: detail.after.incoming,
      reorder_point: detail.reorder_point,
      safety_stock: detail.safety_stock,
      days_of_cover: daysOfCover(detail.after.available, sold),
      level_version: detail.version,
      updated_at: at,
    };
    if (action === 'open') {
      const alert: Alert = { alert_id: newId(), sku_id: detail.sku_id, warehouse_id: detail.warehouse_id, status: 'open', ...measured, opened_at: at, version: 1 };
      return {
        writes: [alertStateWrite(db, tenantId, { ...base, alert_id: alert.alert_id }, state?.last_version), alertWrite(db, tenantId, alert, undefined)],
        result: action,
      };
    }
    // decide() updates or resolves only the unresolved alert it was given the status of.
    if (!current) throw new Error(`'${action}' decided without an unresolved alert of ${detail.sku_id} x ${detail.warehouse_id}`);
    const next: Alert =
      action === 'resolve'
        ? { ...current, ...measured, status: 'resolved', resolved_at: at, version: current.version + 1 }
        : { ...current, ...measured, version: current.version + 1 };
    const nextState = action === 'resolve' ? base : { ...base, alert_id: current.alert_id };
    return {
      writes: [alertStateWrite(db, tenantId, nextState, state?.last_version), alertWrite(db, tenantId, next, current.version)],
      result: action,
    };
  });
};

// ---------- the API ----------

export interface AlertQuery {
  status?: AlertStatus;
  severity?: Severity;
  warehouse_id?: string;
  cursor?: string;
  limit?: number;
}

export interface AlertPage {
  alerts: Alert[];
  next_cursor: string | null;
}

/**
 * GET /api/alerts: most urgent first (gsi1 sort key: severity rank, days of
 * cover, nulls last). Without a status: the active ones (open and
 * acknowledged). Severity narrows the sort-key range; status within the
 * active partition and warehouse are filters, so a page may hold fewer than
 * `limit` alerts while `next_cursor` says there are more.
 */
export const listAlerts = async ({ db, ctx }: Deps, query: AlertQuery): Promise<AlertPage> => {
  const filters: Condition[] = [];
  if (query.status === 'open' || query.status === 'acknowledged') filters.push(when.equals('status', query.status));
  if (query.warehouse_id) filters.push(when.equals('warehouse_id', query.warehouse_id));
  // A scoped user sees only their warehouses' alerts; naming another warehouse is 403.
  if (query.warehouse_id) assertInScope(ctx, [query.warehouse_id], 'reading its alerts');
  const scoped = scopeFilter(ctx);
  if (scoped) filters.push(scoped);
  const page = await queryPage(
    db,
    {
      index: 'gsi1',
      partition: keys.alertsIndex(ctx.caller.tenantId, query.status !== 'resolved'),
      ...(query.severity ? { sort: { between: urgencyRange(query.severity) } } : {}),
      ...(filters.length ? { filter: when.and(...filters) } : {}),
      cursor: query.cursor,
      limit: query.limit,
      maxReads: scoped ? SCOPED_LIST_READS : 1,
    },
    alertDecoder,
  );
  return { alerts: page.items, next_cursor: page.next_cursor };
};

/** POST /api/alerts/{alert_id}/acknowledge: open -> acknowledged; again is a no-op; a resolved alert is 409. */
export const acknowledgeAlert = (deps: Deps, alertId: string): Promise<Alert> => {
  const { db, ctx } = deps;
  return transition<AlertStatus, Alert>(deps, {
    load: async () => {
      const alert = await orNotFound('alert', alertId, findAlert(deps, alertId));
      assertInScope(ctx, [alert.warehouse_id], 'acknowledging its alert');
      return alert;
    },
    from: ['open'],
    done: ['acknowledged'],
    refuse: (alert) =>
      new AppError('CONFLICT', `alert '${alertId}' is resolved; there is nothing to acknowledge`, { alert_id: alertId, status: alert.status }),
    apply: (alert, now) => ({
      next: { ...alert, status: 'acknowledged', acknowledged_at: now.toISOString(), acknowledged_by: ctx.caller.subject },
      writes: [],
    }),
    persist: (next, previousVersion) => alertWrite(db, ctx.caller.tenantId, next, previousVersion),
  });
};
