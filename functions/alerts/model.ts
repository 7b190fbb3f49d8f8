/**
 * Low-stock alerts: at most one unresolved alert per SKU x warehouse, opened
 * when `available` falls below the reorder point, updated as it falls
 * further, resolved when stock (by default `available + incoming`) is back at
 * or above it. docs/architecture.md ("Alerts") explains the evaluation.
 */
export const ALERT_STATUSES = ['open', 'acknowledged', 'resolved'] as const;
export type AlertStatus = (typeof ALERT_STATUSES)[number];

/** Most urgent first: the list's order and the rank in its sort key. */
export const SEVERITIES = ['critical', 'high', 'normal'] as const;
export type Severity = (typeof SEVERITIES)[number];

export interface Alert {
  alert_id: string;
  sku_id: string;
  warehouse_id: string;
  status: AlertStatus;
  severity: Severity;
  /** The level's quantities and thresholds at the last evaluation. */
  on_hand: number;
  available: number;
  incoming: number;
  reorder_point: number;
  safety_stock: number;
  /** available / average daily sales (sale + shipment rows) of the last 14 days; null without sales. */
  days_of_cover: number | null;
  /** The stock level version this alert last reflects; older or repeated events are ignored. */
  level_version: number;
  opened_at: string;
  updated_at: string;
  acknowledged_at?: string;
  acknowledged_by?: string;
  resolved_at?: string;
  /** Grows with each write of the alert (optimistic concurrency between the consumer and acknowledge). */
  version: number;
}

/** The consumer's bookkeeping per SKU x warehouse (keys.alertState). */
export interface AlertState {
  sku_id: string;
  warehouse_id: string;
  /** Highest level version applied: events at or below it change nothing. */
  last_version: number;
  /** The alert not yet resolved, if any. */
  alert_id?: string;
}
