import { QueryCommand, type QueryCommandInput } from '@aws-sdk/lib-dynamodb';
import { encodeTime } from 'ulid';
import type { StockLevelChangedDetail } from '../events/model';
import { fromItem, getItem, queryPage } from '../inventory/store';
import type { Movement } from '../inventory/model';
import type { Db } from '../platform/db';
import { AppError, notFound } from '../platform/errors';
import type { RequestContext } from '../platform/http';
import { commitIdempotent, commitOptionsOf } from '../platform/idempotency';
import { newId } from '../platform/ids';
import { keys } from '../platform/keys';
import { decodeCursor, DEFAULT_PAGE_SIZE, encodeCursor } from '../platform/pagination';
import { TABLE } from '../platform/table';
import type { TransactItem } from '../platform/transactions';
import type { Alert, AlertState, AlertStatus, Severity } from './model';
import { COVER_WINDOW_DAYS, daysOfCover, decide, severityOf, severityRank, urgencyKey, type AlertAction } from './rules';

const DAY_MS = 24 * 60 * 60 * 1000;

/** Units sold (sale rows) or shipped (shipment rows) from one level in the window before `until`. */
export const unitsSold = async (db: Db, tenantId: string, skuId: string, warehouseId: string, until: Date): Promise<number> => {
  const from = until.getTime() - COVER_WINDOW_DAYS * DAY_MS;
  const range: [string, string] = [`${encodeTime(from, 10)}${'0'.repeat(16)}`, `${encodeTime(until.getTime(), 10)}${'Z'.repeat(16)}`];
  let sold = 0;
  let cursor: string | undefined;
  do {
    const page = await queryPage<Movement>(db, {
      index: 'gsi1',
      partition: keys.movementsOfSkuInWarehouseIndex(tenantId, skuId, warehouseId),
      sortBetween: range,
      cursor,
      limit: 1000,
    });
    for (const m of page.items) if (m.type === 'sale' || m.type === 'shipment') sold += -m.deltas.on_hand;
    cursor = page.next_cursor ?? undefined;
  } while (cursor);
  return sold;
};

const alertPut = (db: Db, tenantId: string, alert: Alert, previousVersion: number | undefined): TransactItem => ({
  Put: {
    TableName: db.table,
    Item: {
      ...keys.alert(tenantId, alert.alert_id),
      gsi1pk: keys.alertsIndex(tenantId, alert.status !== 'resolved'),
      gsi1sk: urgencyKey(alert.severity, alert.days_of_cover, alert.alert_id),
      entity: 'alert',
      tenant_id: tenantId,
      ...alert,
    },
    ...(previousVersion === undefined
      ? { ConditionExpression: 'attribute_not_exists(pk)' }
      : { ConditionExpression: 'version = :v', ExpressionAttributeValues: { ':v': previousVersion } }),
  },
});

const statePut = (db: Db, tenantId: string, state: AlertState, seen: number | undefined): TransactItem => ({
  Put: {
    TableName: db.table,
    Item: { ...keys.alertState(tenantId, state.sku_id, state.warehouse_id), entity: 'alert_state', tenant_id: tenantId, ...state },
    ...(seen === undefined
      ? { ConditionExpression: 'attribute_not_exists(pk)' }
      : { ConditionExpression: 'last_version = :seen', ExpressionAttributeValues: { ':seen': seen } }),
  },
});

export interface EvaluationDeps {
  db: Db;
  now?: () => Date;
}

/**
 * The alert consumer's domain function: applies one StockLevelChanged to the
 * alert of its SKU x warehouse. Duplicates and late events (version at or
 * below the last applied one) change nothing; the state item is written
 * under a condition on the version read, so two concurrent evaluations of one
 * level cannot both apply (the loser re-reads and finds itself stale).
 */
export const evaluateLevelChange = (deps: EvaluationDeps, detail: StockLevelChangedDetail): Promise<AlertAction> => {
  const { db } = deps;
  const now = deps.now ?? (() => new Date());
  const tenantId = detail.tenant_id;
  return commitIdempotent(db, { tenantId, now }, async () => {
    const state = await getItem<AlertState>(db, keys.alertState(tenantId, detail.sku_id, detail.warehouse_id));
    const current = state?.alert_id ? await getItem<Alert>(db, keys.alert(tenantId, state.alert_id)) : undefined;
    const level = {
      version: detail.version,
      available: detail.after.available,
      incoming: detail.after.incoming,
      reorder_point: detail.reorder_point,
      safety_stock: detail.safety_stock,
    };
    const action = decide(state && { last_version: state.last_version, alert_status: current?.status }, level);
    const base: AlertState = { sku_id: detail.sku_id, warehouse_id: detail.warehouse_id, last_version: detail.version };
    if (action === 'ignore') return { items: [], result: action };
    if (action === 'record') {
      return { items: [statePut(db, tenantId, base, state?.last_version)], result: action };
    }
    const at = now().toISOString();
    const occurred = new Date(Date.parse(detail.occurred_at) || Date.now());
    const sold = await unitsSold(db, tenantId, detail.sku_id, detail.warehouse_id, occurred);
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
        items: [statePut(db, tenantId, { ...base, alert_id: alert.alert_id }, state?.last_version), alertPut(db, tenantId, alert, undefined)],
        result: action,
      };
    }
    const previous = current as Alert;
    const next: Alert =
      action === 'resolve'
        ? { ...previous, ...measured, status: 'resolved', resolved_at: at, version: previous.version + 1 }
        : { ...previous, ...measured, version: previous.version + 1 };
    const nextState = action === 'resolve' ? base : { ...base, alert_id: previous.alert_id };
    return {
      items: [statePut(db, tenantId, nextState, state?.last_version), alertPut(db, tenantId, next, previous.version)],
      result: action,
    };
  });
};

// ---------- the API ----------

export interface AlertDeps {
  db: Db;
  ctx: RequestContext;
}

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
export const listAlerts = async ({ db, ctx }: AlertDeps, query: AlertQuery): Promise<AlertPage> => {
  const partition = keys.alertsIndex(ctx.caller.tenantId, query.status !== 'resolved');
  const names: Record<string, string> = { '#pk': TABLE.gsi1.partitionKey };
  const values: Record<string, unknown> = { ':pk': partition };
  let condition = '#pk = :pk';
  if (query.severity) {
    const rank = severityRank(query.severity);
    names['#sk'] = TABLE.gsi1.sortKey;
    values[':lo'] = `${rank}#`;
    values[':hi'] = `${rank}#~~`;
    condition += ' AND #sk BETWEEN :lo AND :hi';
  }
  const filters: string[] = [];
  if (query.status === 'open' || query.status === 'acknowledged') {
    names['#status'] = 'status';
    values[':status'] = query.status;
    filters.push('#status = :status');
  }
  if (query.warehouse_id) {
    names['#wh'] = 'warehouse_id';
    values[':wh'] = query.warehouse_id;
    filters.push('#wh = :wh');
  }
  const input: QueryCommandInput = {
    TableName: db.table,
    IndexName: TABLE.gsi1.name,
    KeyConditionExpression: condition,
    ...(filters.length ? { FilterExpression: filters.join(' AND ') } : {}),
    ExpressionAttributeNames: names,
    ExpressionAttributeValues: values,
    Limit: query.limit ?? DEFAULT_PAGE_SIZE,
    ExclusiveStartKey: decodeCursor(query.cursor, { attribute: TABLE.gsi1.partitionKey, value: partition }),
  };
  const out = await db.client.send(new QueryCommand(input));
  return { alerts: (out.Items ?? []).map((item) => fromItem<Alert>(item)), next_cursor: encodeCursor(out.LastEvaluatedKey) };
};

/** POST /api/alerts/{alert_id}/acknowledge: open -> acknowledged; again is a no-op; a resolved alert is 409. */
export const acknowledgeAlert = ({ db, ctx }: AlertDeps, alertId: string): Promise<Alert> => {
  const tenantId = ctx.caller.tenantId;
  return commitIdempotent(db, commitOptionsOf(ctx), async () => {
    const alert = await getItem<Alert>(db, keys.alert(tenantId, alertId));
    if (!alert) throw notFound('alert', alertId);
    if (alert.status === 'resolved') {
      throw new AppError('CONFLICT', `alert '${alertId}' is resolved; there is nothing to acknowledge`, { alert_id: alertId, status: alert.status });
    }
    if (alert.status === 'acknowledged') return { items: [], result: alert };
    const at = ctx.now().toISOString();
    const next: Alert = { ...alert, status: 'acknowledged', acknowledged_at: at, acknowledged_by: ctx.caller.subject, version: alert.version + 1 };
    return {
      items: [
        {
          Update: {
            TableName: db.table,
            Key: keys.alert(tenantId, alertId),
            UpdateExpression: 'SET #status = :ack, acknowledged_at = :at, acknowledged_by = :by, version = :next',
            ConditionExpression: 'version = :v',
            ExpressionAttributeNames: { '#status': 'status' },
            ExpressionAttributeValues: { ':ack': 'acknowledged', ':at': at, ':by': ctx.caller.subject, ':next': next.version, ':v': alert.version },
          },
        },
      ],
      result: next,
    };
  });
};
