import * as z from 'zod';
import type { Deps } from '../platform/context';
import type { Db } from '../platform/db';
import { keys } from '../platform/keys';
import { decodeWith, getItem, queryPage, type Page } from '../platform/storage';
import { TABLE } from '../platform/table';
import { putItem, updateItem, when, type Condition, type Write } from '../platform/writes';
import { finding, RECONCILIATION_STATUSES, RECONCILIATION_TRIGGERS, type Finding, type ReconciliationStatus } from './integration-schemas';
import { CONFLICT_RULES, PLATFORMS } from './model';

/**
 * Reconciliation's own storage (private to functions/channels): one item per run under the
 * connection (keys.channelRecords(t, c, 'RECONCILE'), sort key the run's id, which sorts by request
 * time, so a newest-first query finds the latest), and one item per SKU that differed or could
 * not be checked, in a partition of the run's own (keys.channelRecords(t, c, 'RECONCILE#<id>'),
 * sort key the SKU): a run over a large catalogue has more findings than one 400 KB item holds.
 * Both expire after RECONCILIATION_TTL_DAYS (DynamoDB TTL): a connection is reconciled every 15 minutes.
 */
export const RECONCILIATION_TTL_DAYS = 30;

/** The counters a run adds up over its chunks (flat, so DynamoDB's ADD needs no read and no parent map). */
export const COUNTERS = ['checked', 'in_agreement', 'drifted', 'total_abs_difference', 'pushed', 'adjusted', 'reported', 'failed', 'skipped'] as const;
export type Counter = (typeof COUNTERS)[number];
export type Counts = Record<Counter, number>;

export const storedReconciliation = z.object({
  reconciliation_id: z.string(),
  channel_id: z.string(),
  platform: z.enum(PLATFORMS),
  trigger: z.enum(RECONCILIATION_TRIGGERS),
  status: z.enum(RECONCILIATION_STATUSES),
  /** The connection's rule, fixed when the run starts so that every chunk applies the same one. */
  conflict_rule: z.enum(CONFLICT_RULES).optional(),
  sku_ids: z.array(z.string()).optional(),
  /** The chunk being worked on: each chunk's end moves it on (or completes the run), once. */
  chunk: z.number().int().min(0),
  /** Where the next chunk's page of listings starts (every-listing runs). */
  cursor: z.string().optional(),
  /** A scheduled run's 15-minute slot (ISO instant of its start). */
  slot: z.string().optional(),
  requested_by: z.string(),
  requested_at: z.string(),
  started_at: z.string().optional(),
  completed_at: z.string().optional(),
  error: z.string().optional(),
  checked: z.number().int().default(0),
  in_agreement: z.number().int().default(0),
  drifted: z.number().int().default(0),
  total_abs_difference: z.number().int().default(0),
  pushed: z.number().int().default(0),
  adjusted: z.number().int().default(0),
  reported: z.number().int().default(0),
  failed: z.number().int().default(0),
  skipped: z.number().int().default(0),
  updated_at: z.string(),
  version: z.number().int(),
});
export type StoredReconciliation = z.output<typeof storedReconciliation>;
const decodeReconciliation = decodeWith('channel reconciliation', storedReconciliation.loose());
const decodeFinding = decodeWith('reconciliation finding', finding.loose());

const runsPartition = (tenantId: string, channelId: string): string => keys.channelRecords(tenantId, channelId, 'RECONCILE');
const runKey = (tenantId: string, channelId: string, reconciliationId: string) => ({ pk: runsPartition(tenantId, channelId), sk: reconciliationId });
const findingsPartition = (tenantId: string, channelId: string, reconciliationId: string): string => keys.channelRecords(tenantId, channelId, `RECONCILE#${reconciliationId}`);

export const expiresAt = (now: Date): number => Math.floor(now.getTime() / 1000) + RECONCILIATION_TTL_DAYS * 86_400;

/** A new run; a run of that id already there (a schedule's slot fired twice) is left as it is. */
export const reconciliationCreate = (db: Db, tenantId: string, run: StoredReconciliation, now: Date): Write =>
  putItem(db, {
    name: 'channel reconciliation',
    key: runKey(tenantId, run.channel_id, run.reconciliation_id),
    entity: 'channel_reconciliation',
    tenantId,
    value: { ...run, [TABLE.ttlAttribute]: expiresAt(now) },
    when: when.absent(),
  });

export const findReconciliation = ({ db, ctx }: Deps, channelId: string, reconciliationId: string): Promise<StoredReconciliation | undefined> =>
  getItem(db, runKey(ctx.caller.tenantId, channelId, reconciliationId), decodeReconciliation);

/** The connection's runs, newest first. */
export const recentReconciliations = ({ db, ctx }: Deps, channelId: string, limit: number): Promise<Page<StoredReconciliation>> =>
  queryPage(db, { partition: runsPartition(ctx.caller.tenantId, channelId), newestFirst: true, limit }, decodeReconciliation);

/**
 * A run's move, with what it records, only from `from` (and, for a chunk's end, only while the
 * run is still at that chunk: a second delivery of the same chunk counts nothing). `add` counts
 * into the run; every move bumps `version`, which the stream's event ids are made of.
 */
export const reconciliationTransition = (
  db: Db,
  tenantId: string,
  ref: { channel_id: string; reconciliation_id: string },
  move: {
    from: readonly ReconciliationStatus[];
    atChunk?: number;
    /** Epoch ms: only if no delivery holds the chunk's lease (`lease_until`) past it. */
    leaseFreeAt?: number;
    set: Record<string, unknown>;
    add?: Partial<Counts>;
    remove?: string[];
  },
): Write => {
  const guards: Condition[] = [
    when.statusIn([...move.from]),
    ...(move.atChunk === undefined ? [] : [when.equals('chunk', move.atChunk)]),
    ...(move.leaseFreeAt === undefined ? [] : [when.or(when.missing('lease_until'), when.below('lease_until', move.leaseFreeAt))]),
  ];
  return updateItem(db, {
    name: 'channel reconciliation status',
    key: runKey(tenantId, ref.channel_id, ref.reconciliation_id),
    set: move.set,
    add: { ...move.add, version: 1 },
    ...(move.remove?.length ? { remove: move.remove } : {}),
    when: guards.length === 1 && guards[0] ? guards[0] : when.and(...guards),
  });
};

/** One SKU's finding, written whole (a second delivery of the chunk writes the same SKU again). */
export const findingPut = (db: Db, tenantId: string, ref: { channel_id: string; reconciliation_id: string }, item: Finding, now: Date): Write =>
  putItem(db, {
    name: 'reconciliation finding',
    key: { pk: findingsPartition(tenantId, ref.channel_id, ref.reconciliation_id), sk: item.sku_id },
    entity: 'channel_reconciliation_finding',
    tenantId,
    value: { ...item, [TABLE.ttlAttribute]: expiresAt(now) },
  });

export const findingsPage = ({ db, ctx }: Deps, channelId: string, reconciliationId: string, page: { cursor?: string; limit?: number }): Promise<Page<Finding>> =>
  queryPage(db, { partition: findingsPartition(ctx.caller.tenantId, channelId, reconciliationId), cursor: page.cursor, limit: page.limit ?? 100 }, decodeFinding);
