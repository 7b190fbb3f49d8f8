import type { AlertStatus, Severity } from './model';
import { SEVERITIES } from './model';

/**
 * The alert arithmetic as pure functions (unit-tested): severity, days of
 * cover, when a level is breached and when it has recovered, and what an
 * event does to the alert of its level.
 */

/**
 * What must be back at or above the reorder point for an alert to resolve:
 * `available_plus_incoming` (default: stock on open purchase orders counts,
 * so raising a PO quietens the alert) or `available` (only stock on the shelf).
 * A module constant for now; per-tenant settings can replace it.
 */
export type ResolveBasis = 'available' | 'available_plus_incoming';
export const RESOLVE_BASIS: ResolveBasis = 'available_plus_incoming';

/** How far back sales are averaged for days of cover. */
export const COVER_WINDOW_DAYS = 14;

export interface LevelSnapshot {
  available: number;
  incoming: number;
  reorder_point: number;
  safety_stock: number;
}

/** Below the reorder point (a reorder point of 0 means "no alerting"). */
export const isBreached = (level: LevelSnapshot): boolean => level.reorder_point > 0 && level.available < level.reorder_point;

export const isRecovered = (level: LevelSnapshot, basis: ResolveBasis = RESOLVE_BASIS): boolean =>
  level.reorder_point <= 0 || (basis === 'available' ? level.available : level.available + level.incoming) >= level.reorder_point;

/** `critical` at or below safety stock or zero, `high` at or below halfway between safety stock and reorder point, else `normal`. */
export const severityOf = (level: LevelSnapshot): Severity => {
  if (level.available <= 0 || level.available <= level.safety_stock) return 'critical';
  if (level.available <= (level.safety_stock + level.reorder_point) / 2) return 'high';
  return 'normal';
};

/** available / (units sold in the window / window days), one decimal; null when nothing sold in the window. */
export const daysOfCover = (available: number, unitsSold: number, windowDays = COVER_WINDOW_DAYS): number | null => {
  if (unitsSold <= 0) return null;
  const perDay = unitsSold / windowDays;
  return Math.round((Math.max(available, 0) / perDay) * 10) / 10;
};

export const severityRank = (severity: Severity): number => SEVERITIES.indexOf(severity);

/** Largest cover the sort key encodes exactly (longer is clamped: it sorts last among numbers anyway). */
const MAX_COVER_TENTHS = 10 ** 11 - 1;

/** gsi1 sort key of an alert: severity rank, then days of cover ascending with null last, then the id. */
export const urgencyKey = (severity: Severity, cover: number | null, alertId: string): string => {
  const coverPart = cover === null ? '~' : String(Math.min(Math.round(cover * 10), MAX_COVER_TENTHS)).padStart(11, '0');
  return `${severityRank(severity)}#${coverPart}#${alertId}`;
};

/** The gsi1 sort-key range of one severity's alerts (urgencyKey: the rank, then '#'; every later part sorts below '~~'). */
export const urgencyRange = (severity: Severity): [string, string] => [`${severityRank(severity)}#`, `${severityRank(severity)}#~~`];

export type AlertAction = 'ignore' | 'record' | 'open' | 'update' | 'resolve';

/**
 * What one StockLevelChanged does, given the highest level version applied so
 * far and the status of the level's unresolved alert (if any):
 * - an event at or below the applied version is a duplicate or arrived late: ignore;
 * - no unresolved alert: open one if breached and not already recovered (with the
 *   default basis, stock on open purchase orders that covers the gap opens nothing:
 *   the alert would resolve at the next event and flap), else only record the version;
 * - an unresolved alert: resolve it once recovered, else update it.
 */
export const decide = (
  applied: { last_version: number; alert_status?: AlertStatus } | undefined,
  event: { version: number } & LevelSnapshot,
  basis: ResolveBasis = RESOLVE_BASIS,
): AlertAction => {
  if (applied && event.version <= applied.last_version) return 'ignore';
  const unresolved = applied?.alert_status === 'open' || applied?.alert_status === 'acknowledged';
  if (!unresolved) return isBreached(event) && !isRecovered(event, basis) ? 'open' : 'record';
  return isRecovered(event, basis) ? 'resolve' : 'update';
};
