import * as z from 'zod';
import type { Deps } from '../platform/context';
import type { Db } from '../platform/db';
import { keys } from '../platform/keys';
import { decodeWith, getItem, queryAll, queryPage, type Decoder, type Page } from '../platform/storage';
import { putItem, updateItem, when, type Write } from '../platform/writes';
import { DEMAND_CLASSES, FORECAST_METHODS, RUN_STATUSES, storedForecast, type RunStatus, type StoredForecast } from './forecast-schemas';

/**
 * Forecasting's own storage: one item per forecasting run (its state and running counters), one
 * per chunk of a run's series (whose insert fans out to a worker through the stream), and the
 * latest forecast per SKU x warehouse. Private to functions/forecasting.
 */

/** A run as stored: flat counters (DynamoDB's ADD needs no read, and no parent map to exist). */
export const storedRun = z.object({
  run_id: z.string(),
  status: z.enum(RUN_STATUSES),
  trigger: z.enum(['api', 'schedule']),
  requested_by: z.string(),
  requested_at: z.string(),
  updated_at: z.string(),
  started_at: z.string().optional(),
  completed_at: z.string().optional(),
  history_from: z.string().optional(),
  history_to: z.string().optional(),
  chunks_total: z.number().int().optional(),
  chunks_done: z.number().int().default(0),
  series_total: z.number().int().optional(),
  series_done: z.number().int().default(0),
  backtested: z.number().int().default(0),
  beat_baseline: z.number().int().default(0),
  mase_sum: z.number().default(0),
  baseline_mase_sum: z.number().default(0),
  ...Object.fromEntries(DEMAND_CLASSES.map((c) => [`class_${c}`, z.number().int().default(0)])),
  ...Object.fromEntries(FORECAST_METHODS.map((m) => [`method_${m}`, z.number().int().default(0)])),
  version: z.number().int(),
});
export type StoredRun = z.infer<typeof storedRun> & Record<string, unknown>;

const runDecoder: Decoder<StoredRun> = decodeWith('forecast run', storedRun.loose());

export const chunkItem = z.object({
  run_id: z.string(),
  chunk: z.number().int().min(0),
  /** The lake object holding the chunk's series. */
  key: z.string(),
  series: z.number().int().min(0),
  status: z.enum(['pending', 'done']),
  version: z.number().int(),
  updated_at: z.string(),
});
export type ChunkItem = z.infer<typeof chunkItem>;

const forecastDecoder: Decoder<StoredForecast> = decodeWith('forecast', storedForecast.extend({ params: storedForecast.shape.params.default({}) }).loose());


export const findRun = ({ db, ctx }: Deps, runId: string): Promise<StoredRun | undefined> => getItem(db, keys.forecastRun(ctx.caller.tenantId, runId), runDecoder);

export const runCreate = (db: Db, tenantId: string, run: StoredRun): Write =>
  putItem(db, { name: 'forecast run', key: keys.forecastRun(tenantId, run.run_id), entity: 'forecast_run', tenantId, value: run, when: when.absent() });

/** A run's move from one status to the next, with whatever the move records; only from `from`. */
export const runTransition = (db: Db, tenantId: string, runId: string, from: readonly RunStatus[], set: Record<string, unknown>): Write =>
  updateItem(db, { name: 'forecast run status', key: keys.forecastRun(tenantId, runId), set, when: when.statusIn([...from]) });

/** A chunk done: counts it and its series into the run, once (the chunk's own move from pending to done goes in the same transaction). */
export const runCounts = (db: Db, tenantId: string, runId: string, add: Record<string, number>): Write =>
  updateItem(db, { name: 'forecast run counts', key: keys.forecastRun(tenantId, runId), add, when: when.statusIn(['running']) });

const chunkDecoder: Decoder<ChunkItem> = decodeWith('forecast chunk', chunkItem.loose());

export const findChunk = ({ db, ctx }: Deps, runId: string, chunk: number): Promise<ChunkItem | undefined> =>
  getItem(db, keys.forecastChunk(ctx.caller.tenantId, runId, chunk), chunkDecoder);

export const chunkCreate = (db: Db, tenantId: string, chunk: ChunkItem): Write =>
  putItem(db, { name: 'forecast chunk', key: keys.forecastChunk(tenantId, chunk.run_id, chunk.chunk), entity: 'forecast_chunk', tenantId, value: chunk, when: when.absent() });

export const chunkDone = (db: Db, tenantId: string, runId: string, chunk: number, at: string): Write =>
  updateItem(db, { name: 'forecast chunk done', key: keys.forecastChunk(tenantId, runId, chunk), set: { status: 'done', done_at: at }, when: when.statusIn(['pending']) });

/**
 * A level's forecast, unless a run requested later has already stored one: two runs may overlap
 * (a POST /run during the nightly one), and the older run's late chunk must not win.
 */
export const forecastWrite = (db: Db, tenantId: string, forecast: StoredForecast): Write =>
  putItem(db, {
    name: 'forecast',
    key: keys.forecast(tenantId, forecast.sku_id, forecast.warehouse_id),
    entity: 'forecast',
    tenantId,
    // made_at as epoch ms beside the ISO text: conditions compare numbers. A method without
    // parameters has params {}, which the platform's writes leave out (an empty map): decoded back as {}.
    value: { ...forecast, made_at_ms: Date.parse(forecast.made_at) },
    when: when.or(when.absent(), when.atMost('made_at_ms', Date.parse(forecast.made_at))),
  });

export const findForecast = ({ db, ctx }: Deps, skuId: string, warehouseId: string): Promise<StoredForecast | undefined> =>
  getItem(db, keys.forecast(ctx.caller.tenantId, skuId, warehouseId), forecastDecoder);

/** Every stored forecast of one warehouse's levels (one partition). */
export const forecastsOfWarehouse = ({ db, ctx }: Deps, warehouseId: string): Promise<StoredForecast[]> =>
  queryAll(db, { partition: keys.forecastsOfWarehouse(ctx.caller.tenantId, warehouseId) }, forecastDecoder);

/** One page of a warehouse's stored forecasts, by SKU id (GET /api/replenishment/reorder-points reads a warehouse a page at a time). */
export const forecastsOfWarehousePage = ({ db, ctx }: Deps, warehouseId: string, page: { cursor?: string; limit: number }): Promise<Page<StoredForecast>> =>
  queryPage(db, { partition: keys.forecastsOfWarehouse(ctx.caller.tenantId, warehouseId), cursor: page.cursor, limit: page.limit, maxReads: 4 }, forecastDecoder);
