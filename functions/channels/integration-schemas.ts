import * as z from 'zod';
import { idSchema } from '../platform/ids';
import { CONFLICT_RULES, PLATFORMS } from './model';

/**
 * Request and response schemas of reconciliation and the channels' status (issue 11, scope item 5):
 * POST /api/integration/sync, GET /api/channels/{channel_id}/reconciliations/{reconciliation_id}
 * and GET /api/integration/status.
 */

/** How often every connection is reconciled (channelSchedules.requestReconciliations in functions/wiring.ts). */
export const RECONCILE_EVERY_SECONDS = 900;
/** SKUs one POST /api/integration/sync may name. */
export const MAX_SYNC_SKUS = 200;

export const RECONCILIATION_STATUSES = ['requested', 'running', 'done', 'failed'] as const;
export type ReconciliationStatus = (typeof RECONCILIATION_STATUSES)[number];
export const RECONCILIATION_TRIGGERS = ['api', 'schedule'] as const;

/**
 * Why a SKU's quantities differ, as far as what we recorded tells (functions/channels/reconcile.ts
 * probableCause documents the rules).
 */
export const PROBABLE_CAUSES = ['missed_push', 'push_pending', 'changed_on_channel', 'never_pushed', 'not_on_channel', 'not_mapped', 'read_failed', 'unknown'] as const;
export type ProbableCause = (typeof PROBABLE_CAUSES)[number];

export const FINDING_ACTIONS = ['pushed', 'adjusted', 'reported', 'none', 'failed'] as const;
export type FindingAction = (typeof FINDING_ACTIONS)[number];

export const syncBody = z
  .strictObject({
    platform_name: z.enum(PLATFORMS).optional().describe("Every connection of the caller's tenant on this platform"),
    channel_id: idSchema.optional().describe('One connection'),
    sku_ids: z
      .array(idSchema)
      .min(1)
      .max(MAX_SYNC_SKUS)
      .refine((ids) => new Set(ids).size === ids.length, 'must not repeat a SKU')
      .optional()
      .describe("Only these SKUs (each must exist); without it every mapped listing of the connection"),
  })
  .refine((body) => (body.platform_name === undefined) !== (body.channel_id === undefined), {
    message: 'give exactly one of platform_name and channel_id',
    path: ['channel_id'],
  })
  .describe('Exactly one of platform_name and channel_id');
export type SyncInput = z.output<typeof syncBody>;

const count = z.number().int().min(0);

export const reconciliationSummary = z.strictObject({
  checked: count.describe('SKUs whose quantity on the channel was read'),
  in_agreement: count.describe('checked SKUs where the channel shows what we publish'),
  drifted: count.describe('checked SKUs where it shows something else'),
  total_abs_difference: count.describe('the sum over drifted SKUs of |channel - ours|'),
  pushed: count.describe('drifted SKUs set to ours on the channel'),
  adjusted: count.describe("drifted SKUs whose stock here was adjusted to the channel's (channel_wins)"),
  reported: count.describe('SKUs only recorded (report_only, or not stocked on the channel)'),
  failed: count.describe('SKUs that could not be read or settled (see their findings; the next run tries again)'),
  skipped: count.describe('named SKUs without a mapping on the channel'),
});

export const reconciliationResponse = z.strictObject({
  reconciliation_id: z.string().describe('Sorts by request time: a ULID, or for a scheduled run the ULID time of its 15-minute slot and "-scheduled"'),
  channel_id: z.string(),
  platform: z.enum(PLATFORMS),
  trigger: z.enum(RECONCILIATION_TRIGGERS),
  status: z.enum(RECONCILIATION_STATUSES),
  conflict_rule: z.enum(CONFLICT_RULES).nullable().describe("The connection's rule the run applies, read when it starts (null until then)"),
  sku_ids: z.array(z.string()).nullable().describe('The SKUs named, or null for every mapped listing'),
  requested_by: z.string(),
  requested_at: z.string(),
  started_at: z.string().nullable(),
  completed_at: z.string().nullable(),
  error: z.string().nullable().describe('Why the run failed as a whole (no usable credentials, the connection removed)'),
  summary: reconciliationSummary,
});
export type ReconciliationResponse = z.output<typeof reconciliationResponse>;

export const syncResponse = z.strictObject({
  reconciliations: z.array(reconciliationResponse).describe('One run per connection, each to follow at GET /api/channels/{channel_id}/reconciliations/{reconciliation_id}'),
});

export const finding = z.strictObject({
  sku_id: z.string(),
  ours: z.number().int().describe('What we publish to the channel: available over its warehouses, less the buffer, floored at 0'),
  channel: z.number().int().nullable().describe('What the channel showed; null when it could not be read or does not stock the listing'),
  difference: z.number().int().nullable().describe('channel - ours; null when the channel showed nothing'),
  probable_cause: z.enum(PROBABLE_CAUSES),
  action: z.enum(FINDING_ACTIONS).describe("pushed: ours set on the channel; adjusted: our stock set to the channel's with a channel_reconciliation ledger row; reported: recorded only; none: nothing to do; failed: see detail"),
  detail: z.string(),
  recorded_at: z.string(),
});
export type Finding = z.output<typeof finding>;

export const reconciliationParams = z.strictObject({ channel_id: idSchema, reconciliation_id: idSchema });
export const reconciliationQuery = z.strictObject({ cursor: z.string().max(2048).optional(), limit: z.coerce.number().int().min(1).max(200).optional() });

export const reconciliationWithFindings = reconciliationResponse.extend({
  findings: z.array(finding).describe('A page of the SKUs that differed or could not be checked, by SKU id (SKUs in agreement are only counted)'),
  next_cursor: z.string().nullable(),
});

// ---------------------------------------------------------------------------------------------
// GET /api/integration/status

const lastReconciliation = z.strictObject({
  reconciliation_id: z.string(),
  status: z.enum(RECONCILIATION_STATUSES),
  trigger: z.enum(RECONCILIATION_TRIGGERS),
  requested_at: z.string(),
  completed_at: z.string().nullable(),
  drifted: count.describe('SKUs that differed'),
  total_abs_difference: count,
  summary: reconciliationSummary,
});

export const channelStatus = z.strictObject({
  channel_id: z.string(),
  platform: z.enum(PLATFORMS),
  conflict_rule: z.enum(CONFLICT_RULES),
  last_push_at: z.string().nullable().describe('When a push last landed on the channel'),
  sync_lag_ms: z.number().nullable().describe('Of the last push: from the stock change to the channel showing it'),
  pushes: z.strictObject({
    pushed: count,
    unchanged: count.describe('pushes skipped because the channel already showed the quantity'),
    failed: count.describe('failed push attempts (counted per attempt)'),
    last_error: z.string().nullable(),
    last_error_at: z.string().nullable(),
  }),
  queue_depth: z
    .strictObject({
      listings_awaiting_push: count,
      truncated: z.boolean().describe('true when the count stopped at the read limit: there are at least this many'),
      sku_ids: z.array(z.string()).describe('the first few of them'),
    })
    .describe(
      "No per-tenant depth of the shared sync queue exists (SQS counts a queue, not a tenant's part of it): this counts the connection's listings whose last push failed, which wait for the push's retry or the next reconciliation",
    ),
  failed_inbound_orders: z.strictObject({
    count,
    truncated: z.boolean().describe('true when the count stopped at the read limit'),
    latest: z.array(
      z.strictObject({ external_id: z.string(), order_id: z.string(), error_code: z.string().nullable(), reason: z.string().nullable(), updated_at: z.string() }),
    ),
  }),
  order_poll: z.record(z.string(), z.unknown()).nullable().describe("Amazon: the order poll's checkpoint as the poller records it; null when there is none"),
  last_reconciliation: lastReconciliation.nullable().describe('The newest finished run (done or failed)'),
  reconciliation_in_progress: z
    .strictObject({ reconciliation_id: z.string(), status: z.enum(RECONCILIATION_STATUSES), requested_at: z.string() })
    .nullable()
    .describe('A newer run still requested or running'),
});
export type ChannelStatus = z.output<typeof channelStatus>;

export const integrationStatusResponse = z.strictObject({
  as_of: z.string(),
  channels: z.array(channelStatus),
});
