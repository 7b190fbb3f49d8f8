import * as z from 'zod';
import type { Thresholds } from '../inventory/stock-rules';
import type { Deps } from '../platform/context';
import type { Db } from '../platform/db';
import { keys } from '../platform/keys';
import { decodeWith, getItem, type Decoder } from '../platform/storage';
import { putItem, when, type Write } from '../platform/writes';
import type { Alert, AlertState } from './model';
import { urgencyKey } from './rules';
import { alertResponse } from './schemas';

/**
 * Alerts' own storage: the alert items (on gsi1 by urgency), the consumer's
 * state item per SKU x warehouse, and the SKU-level threshold default.
 * Private to functions/alerts: other contexts use alerts.ts.
 */

export const alertDecoder: Decoder<Alert> = decodeWith('alert', alertResponse.loose());

const alertStateDecoder: Decoder<AlertState> = decodeWith(
  'alert state',
  z.object({ sku_id: z.string(), warehouse_id: z.string(), last_version: z.number().int(), alert_id: z.string().optional() }),
);

export const findAlert = ({ db, ctx }: Deps, alertId: string): Promise<Alert | undefined> =>
  getItem(db, keys.alert(ctx.caller.tenantId, alertId), alertDecoder);

export const findAlertState = ({ db, ctx }: Deps, skuId: string, warehouseId: string): Promise<AlertState | undefined> =>
  getItem(db, keys.alertState(ctx.caller.tenantId, skuId, warehouseId), alertStateDecoder);

/** The whole alert, indexed by status and urgency: new, or still at the version it was read at. */
export const alertWrite = (db: Db, tenantId: string, alert: Alert, previousVersion: number | undefined): Write =>
  putItem(db, {
    name: 'alert',
    key: keys.alert(tenantId, alert.alert_id),
    index: keys.alertIndex(tenantId, alert.status !== 'resolved', urgencyKey(alert.severity, alert.days_of_cover, alert.alert_id)),
    entity: 'alert',
    tenantId,
    value: alert,
    when: when.newOrVersion(previousVersion),
  });

/**
 * The consumer's state, under a condition on the level version it was read
 * at (`seen`; absent for the level's first event): two evaluations of one
 * level cannot both apply.
 */
export const alertStateWrite = (db: Db, tenantId: string, state: AlertState, seen: number | undefined): Write =>
  putItem(db, {
    name: 'alert state',
    key: keys.alertState(tenantId, state.sku_id, state.warehouse_id),
    entity: 'alert_state',
    tenantId,
    value: state,
    when: seen === undefined ? when.absent() : when.equals('last_version', seen),
  });

/** A SKU's default thresholds (read by functions/inventory when it creates a level); a plain overwrite. */
export const thresholdDefaultWrite = (db: Db, tenantId: string, value: Thresholds & { sku_id: string; updated_at: string }): Write =>
  putItem(db, {
    name: 'threshold default',
    key: keys.thresholdDefault(tenantId, value.sku_id),
    entity: 'threshold_default',
    tenantId,
    value,
  });
