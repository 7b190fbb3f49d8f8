import * as z from 'zod';
import type { Deps } from '../platform/context';
import { keys } from '../platform/keys';
import { decodeWith, queryAll } from '../platform/storage';
import { ConditionFailed, putItem, when, writeOne } from '../platform/writes';

/**
 * What a channel says it has of a SKU (keys.channelRecords 'REPORTED', one item per SKU): the
 * quantity the platform reported last, when it says it was so, and how we learned it. Only a record
 * of the channel's view: nothing here changes stock. Reconciliation reads it to explain a drift
 * between what we pushed and what the channel shows.
 */
export const REPORT_SOURCES = ['webhook'] as const;

export const reportedQuantity = z
  .object({
    sku_id: z.string(),
    quantity: z.number().int(),
    /** The platform's own time of the quantity (UTC ISO), not when it reached us: an older report never replaces a newer one. */
    reported_at: z.string(),
    source: z.enum(REPORT_SOURCES),
  })
  .loose();
export type ReportedQuantity = z.output<typeof reportedQuantity>;
const decodeReported = decodeWith('reported quantity', reportedQuantity);

/** A report as the inbound path has it: the platform's time as a Date (stored as UTC ISO, whatever offset the platform wrote). */
export interface QuantityReport {
  sku_id: string;
  quantity: number;
  reported_at: Date;
  source: (typeof REPORT_SOURCES)[number];
}

const partitionOf = (deps: Deps, channelId: string): string => keys.channelRecords(deps.ctx.caller.tenantId, channelId, 'REPORTED');

/**
 * Records a reported quantity unless a report at least as recent is stored (the platform may deliver
 * its updates out of order, and a retried one again): true when it was written.
 */
export const recordReportedQuantity = async (deps: Deps, channelId: string, report: QuantityReport): Promise<boolean> => {
  const reportedAt = report.reported_at.toISOString();
  const value: ReportedQuantity = { sku_id: report.sku_id, quantity: report.quantity, reported_at: reportedAt, source: report.source };
  try {
    await writeOne(
      deps.db,
      putItem(deps.db, {
        name: 'reported quantity',
        key: { pk: partitionOf(deps, channelId), sk: report.sku_id },
        entity: 'channel-reported',
        tenantId: deps.ctx.caller.tenantId,
        value,
        // Every reported_at is written by toISOString, so the string order is the time order.
        when: when.or(when.absent(), when.below('reported_at', reportedAt)),
      }),
    );
    return true;
  } catch (error) {
    if (error instanceof ConditionFailed) return false;
    throw error;
  }
};

/** Every quantity the channel reported, one per SKU (for reconciliation, which explains drift with them). */
export const readReportedQuantities = (deps: Deps, channelId: string): Promise<ReportedQuantity[]> =>
  queryAll(deps.db, { partition: partitionOf(deps, channelId) }, decodeReported);
