import { inventoryRoutes } from './inventory/routes';
import { orderRoutes } from './orders/routes';
import { apiRoutes } from './api/routes';
import { purchasingRoutes } from './purchasing/routes';
import { alertRoutes } from './alerts/routes';
import { notificationRoutes } from './notifications/routes';
import { replenishmentRoutes } from './replenishment/routes';
import { reportRoutes } from './reports/routes';
import { forecastingRoutes } from './forecasting/routes';
import { channelRoutes } from './channels/routes';
import { roleRoutes, userRoutes } from './identity/routes';
import { auditRoutes } from './audit/routes';
import * as integration from './channels/integration-schemas';
import type { HttpRoute } from './platform/routes';
import { LEVEL_BALANCE_COLUMNS, LEVEL_DAY_COLUMNS, MOVEMENT_COLUMNS, ORDER_LINE_COLUMNS, type LakeColumn } from './events/lake-columns';

/**
 * The one declaration of what runs and what triggers it. The CDK stack
 * (lib/) makes one Lambda and one API route per entry, the local runtime
 * (bin/local) serves the same routes with the same handler modules, and
 * GET /api/openapi.json is generated from it. Each context declares its own
 * routes (functions/<context>/routes.ts), which its handlers take their
 * permission and schemas from, so a function's bundle holds only its own
 * context's schemas; httpRoutes lists them all, in one order. test/infra proves the stack
 * and the local runtime agree.
 */
export type { HttpMethod, HttpRoute } from './platform/routes';

const handler = (context: string, name: string): string => `functions/${context}/handlers/${name}.ts`;

export const httpRoutes = {
  ...inventoryRoutes,
  ...orderRoutes,
  ...apiRoutes,
  ...purchasingRoutes,
  ...alertRoutes,
  ...notificationRoutes,
  ...replenishmentRoutes,
  ...reportRoutes,
  ...forecastingRoutes,
  ...channelRoutes,
  ...roleRoutes,
  ...auditRoutes,
  ...userRoutes,
} as const satisfies Record<string, HttpRoute>;

export type RouteName = keyof typeof httpRoutes;

export const routeKey = (route: Pick<HttpRoute, 'method' | 'path'>): string => `${route.method} ${route.path}`;

/**
 * What answers a request no route above matches: in AWS the HTTP API's `$default` route (without
 * the JWT authorizer, so an unknown route is a 404 or 405 before any token check, as locally),
 * where API Gateway would answer `{"message":"Not Found"}` itself. Not an HttpRoute: it has no
 * method, path or permission, and is not an operation of the OpenAPI document.
 */
export const fallbackRoute = {
  entry: handler('api', 'route-not-found'),
  table: 'none',
  summary: 'Answers a request no route matches: 404 ROUTE_NOT_FOUND, or 405 METHOD_NOT_ALLOWED with Allow when another method serves the path',
} as const;

/**
 * GET /api/health: for a load balancer, an uptime monitor or an operator's curl. No token (in AWS no
 * authorizer): 200 with the version and the function's uptime when the table answers, 503 otherwise,
 * and nothing else (no tenant, no data, no configuration). Its function may only DescribeTable.
 * Not an HttpRoute: it has no permission, and the token routes' machinery (audit, tenant scope) does not apply.
 */
export const healthRoute = {
  method: 'GET',
  path: '/api/health',
  entry: handler('api', 'health'),
  summary: 'Whether the API can serve: 200 with version and uptime when the table answers, 503 otherwise; no token',
} as const;

// ---------- beyond HTTP: the stream, the event bus and schedules ----------

/** Env var naming the custom EventBridge bus (locally: the in-process bus). */
export const EVENT_BUS_ENV = 'EVENT_BUS_NAME';

/**
 * The table's stream feeds one processor that turns item changes into typed
 * domain events on the bus. Failed records are reported per item (partial
 * batch response); after `maxRetries` they go to a dead-letter queue.
 */
export const streamProcessor = {
  entry: 'functions/events/handlers/stream-processor.ts',
  batchSize: 100,
  maxRetries: 5,
} as const;

export interface ScheduledFunction {
  entry: string;
  /** How often it runs (EventBridge rate; the local scheduler uses the same period). */
  everySeconds: number;
  table: 'none' | 'read' | 'write';
  /**
   * 'close': the lake's daily close (functions/reports/close.ts): it reads the feeds' objects
   * (movements/), writes the rollups' (level_days/) and its own (close/) in the lake bucket,
   * through S3's API only (no Athena). One run at a time.
   */
  lake?: 'close' | 'forecast-schedule';
  summary: string;
}

export const scheduledFunctions = {
  expireHolds: {
    entry: 'functions/orders/handlers/expire-holds.ts',
    everySeconds: 60,
    table: 'write',
    summary: 'Release checkout holds whose time ran out (DynamoDB TTL is too late and too vague for this)',
  },
  closeLake: {
    entry: 'functions/reports/handlers/close-lake.ts',
    // Hourly: a day is closed within the hour after midnight UTC, and a late row reaching a closed day is counted within an hour.
    everySeconds: 3600,
    table: 'none',
    lake: 'close',
    summary: 'Close the lake: roll every finished day up into level_days and roll the valuation checkpoints forward, for each tenant; days whose files changed are closed again',
  },
  requestNightlyForecasts: {
    entry: 'functions/forecasting/handlers/request-nightly-forecasts.ts',
    // Hourly, like the close: each tenant's nightly run is requested (once a day) in the hour after its close reaches today.
    everySeconds: 3600,
    table: 'write',
    lake: 'forecast-schedule',
    summary: 'Request each tenant\'s nightly forecasting run (nightly-<day>, once) as soon as the lake close has closed yesterday',
  },
} as const satisfies Record<string, ScheduledFunction>;

/**
 * Consumers of domain events, each behind its own SQS queue (retries with a
 * visibility timeout, then a dead-letter queue after `maxReceives`): in AWS an
 * EventBridge rule on the custom bus -> the queue -> the function (partial
 * batch responses); locally bin/local/queues.ts does the same in process.
 * The handler takes an `SQSEvent` whose bodies are the EventBridge events.
 */
export interface EventConsumer {
  entry: string;
  summary: string;
  /** EventBridge event pattern (source, detail-type) of the rule feeding the queue. */
  pattern: { source: readonly string[]; 'detail-type': readonly string[] };
  queue: {
    /** Deliveries of a message before it goes to the dead-letter queue. */
    maxReceives: number;
    /** How long a received message stays hidden; the function's timeout is a sixth of it (AWS's advice). */
    visibilityTimeoutSeconds: number;
    batchSize: number;
  };
  table: 'read' | 'write';
  /**
   * What it does in the lake bucket (through S3's API): 'forecast-plan' reads the close's days
   * (and imported history) and writes a run's chunks under forecast/; 'forecast-chunk' reads them.
   */
  lake?: 'forecast-plan' | 'forecast-chunk';
  /** Lambda memory in MB, when the default is not enough (memory also buys CPU). */
  memorySize?: number;
  /**
   * 'default': the rule is on the account's default event bus, where AWS services put their events
   * (CloudWatch's alarm state changes), not on the custom bus. Locally there is one bus for both.
   */
  bus?: 'default';
}

export const eventConsumers = {
  evaluateAlerts: {
    entry: 'functions/alerts/handlers/evaluate-alerts.ts',
    summary: 'Open, update and resolve low-stock alerts from StockLevelChanged',
    pattern: { source: ['stockroom'], 'detail-type': ['StockLevelChanged'] },
    queue: { maxReceives: 5, visibilityTimeoutSeconds: 180, batchSize: 10 },
    table: 'write',
  },
  notifyAlerts: {
    entry: 'functions/notifications/handlers/notify-alerts.ts',
    summary: 'Notify alert subscribers (email, SMS, webhook), once per subscription, alert and throttle window, most urgent first',
    pattern: { source: ['stockroom'], 'detail-type': ['AlertOpened', 'AlertUpdated'] },
    queue: { maxReceives: 5, visibilityTimeoutSeconds: 180, batchSize: 10 },
    table: 'write',
  },
  planForecast: {
    entry: 'functions/forecasting/handlers/plan-forecast.ts',
    summary: 'Plan a forecasting run: read the tenant\'s demand history once and split it into chunks of series, one worker each',
    pattern: { source: ['stockroom'], 'detail-type': ['ForecastRunRequested'] },
    // One run per message; reading two years of closed days may take minutes (the function's timeout is a sixth: 15 min).
    queue: { maxReceives: 3, visibilityTimeoutSeconds: 5400, batchSize: 1 },
    table: 'write',
    lake: 'forecast-plan',
    // It holds every series of the tenant at once: 100k levels x 730 days measured ~1.4 GB of heap, and a full
    // vCPU (1769 MB) decodes the days' Parquet faster.
    memorySize: 3008,
  },
  forecastChunk: {
    entry: 'functions/forecasting/handlers/forecast-chunk.ts',
    summary: 'Forecast one chunk of a run\'s series (fit, backtest, choose a method per level), store each level\'s forecast and count the chunk into its run',
    pattern: { source: ['stockroom'], 'detail-type': ['ForecastChunkReady'] },
    // One chunk (500 series, a few seconds of fitting) per invocation, so chunks spread over concurrent workers.
    queue: { maxReceives: 5, visibilityTimeoutSeconds: 900, batchSize: 1 },
    table: 'write',
    lake: 'forecast-chunk',
  },
  // --- issue 14: operational alerts ---
  notifyOperations: {
    entry: 'functions/operations/handlers/notify-operations.ts',
    summary: "Tell the operations tenant's admins subscribed to operational alerts (scope operations) when one of the system's alarms goes off and when it clears, throttled like stock alerts",
    pattern: { source: ['aws.cloudwatch'], 'detail-type': ['CloudWatch Alarm State Change'] },
    bus: 'default',
    queue: { maxReceives: 5, visibilityTimeoutSeconds: 180, batchSize: 10 },
    table: 'write',
  },
} as const satisfies Record<string, EventConsumer>;

/**
 * Sales channels (issue 11, functions/channels/): their consumers, schedules and sync queues are
 * declared apart from the rest because lib/ builds them in a nested stack of their own (lib/channels.ts;
 * CloudFormation allows 500 resources a stack), while the local runtime runs them with the others.
 * A channel function that calls a platform with a connection's credentials says `channelSecrets: 'read'`
 * (GetSecretValue on the stack's channel secrets, nothing more).
 */
export interface ChannelConsumer extends EventConsumer {
  channelSecrets?: 'read';
  /** The sync queues (channelSyncQueues) it sends to: their URLs in its environment (functions/platform/queues.ts queueUrlEnv), SendMessage on them. */
  sendsTo?: readonly SyncQueueName[];
}

/**
 * FIFO queues a function (not a bus rule) feeds, each drained by its worker: in AWS an SQS FIFO
 * queue (redrive to a FIFO dead-letter queue after `maxReceives`, alarmed) -> the function with
 * partial batch responses; locally bin/local/queues.ts's FIFO stand-in. A message group is
 * delivered in order, one batch in flight at a time; groups run in parallel up to `maxConcurrency`.
 */
export interface SyncQueue {
  entry: string;
  summary: string;
  queue: { maxReceives: number; visibilityTimeoutSeconds: number; batchSize: number };
  /** Batches in flight at once, across groups (the event source's maximum concurrency; at least 2 in AWS). */
  maxConcurrency: number;
  table: 'write';
  channelSecrets: 'read';
}

export const channelSyncQueues = {
  pushShopify: {
    entry: handler('channels', 'push-to-channel'),
    summary: 'Push the latest publishable quantity of each changed SKU to its Shopify connection (inventorySetQuantities, compare-and-swap, paced by the shop\'s cost bucket)',
    // A failed group is delivered again after the visibility timeout (60 s), ten times (10 minutes of outage) before the
    // dead-letter queue; reconciliation pushes the latest state after that anyway.
    queue: { maxReceives: 10, visibilityTimeoutSeconds: 60, batchSize: 10 },
    maxConcurrency: 4,
    table: 'write',
    channelSecrets: 'read',
  },
  pushAmazon: {
    entry: handler('channels', 'push-to-channel'),
    summary: 'Push the latest publishable quantity of each changed SKU to its Amazon connection (Listings Items merge patch of fulfillment_availability, paced to 5 requests a second)',
    queue: { maxReceives: 10, visibilityTimeoutSeconds: 60, batchSize: 10 },
    // The seller's 5 requests a second are shared by every worker through the pacer: two are enough to keep it busy.
    maxConcurrency: 2,
    table: 'write',
    channelSecrets: 'read',
  },
} as const satisfies Record<string, SyncQueue>;
export type SyncQueueName = keyof typeof channelSyncQueues;

export const channelConsumers = {
  // --- issue 11: push (router) ---
  routeStockChanges: {
    entry: handler('channels', 'route-stock-changes'),
    summary: 'Route each StockLevelChanged to the push queue of every channel connection selling from its warehouse, one message group per connection and SKU',
    pattern: { source: ['stockroom'], 'detail-type': ['StockLevelChanged'] },
    queue: { maxReceives: 5, visibilityTimeoutSeconds: 60, batchSize: 10 },
    table: 'read',
    sendsTo: ['pushShopify', 'pushAmazon'],
  },
  // --- issue 11: reconciliation consumer ---
  reconcileChannel: {
    entry: 'functions/channels/handlers/reconcile-channel.ts',
    summary: "Reconcile one chunk of a run (up to 100 SKUs): read the channel's quantities, compare with what we publish, push ours, adjust ours (channel_wins) or report, record the findings, and move the run to its next chunk",
    pattern: { source: ['stockroom'], 'detail-type': ['ChannelReconciliationRequested'] },
    // One chunk per message; the platform's pacing may take a few minutes (the function's timeout is a sixth: 300 s).
    queue: { maxReceives: 3, visibilityTimeoutSeconds: 1800, batchSize: 1 },
    table: 'write',
    channelSecrets: 'read',
  },
} as const satisfies Record<string, ChannelConsumer>;

export interface ChannelSchedule extends ScheduledFunction {
  channelSecrets?: 'read';
}

export const channelSchedules = {
  // --- issue 11: amazon order poll ---
  pollAmazonOrders: {
    entry: handler('channels', 'poll-amazon-orders'),
    // Every 5 minutes: Amazon refills searchOrders' bucket at 0.0056 requests a second, 1.68 per 5 minutes, so
    // each run can read the page that is usually all there is while the surplus builds toward the burst of 20
    // for a backlog (the poll keeps the bucket itself and stops when it is empty). Oftener would mostly find it empty.
    everySeconds: 300,
    table: 'write',
    channelSecrets: 'read',
    summary: "Poll every Amazon connection's merchant-fulfilled orders updated since its checkpoint (searchOrders, paced to its rate limit): allocate new orders, cancel cancelled ones, advance the checkpoint only after each page is applied",
  },
  // --- issue 11: reconciliation schedule ---
  requestReconciliations: {
    entry: 'functions/channels/handlers/request-reconciliations.ts',
    // Every connection's reconciliation, each 15 minutes: one rule fanning out over the connection index.
    everySeconds: integration.RECONCILE_EVERY_SECONDS,
    table: 'write',
    summary: 'Request a reconciliation of every sales channel connection (of every tenant), once per 15-minute slot',
  },
} as const satisfies Record<string, ChannelSchedule>;

/** Every event consumer the local runtime runs: the main stack's and the channels'. */
export const allEventConsumers: Record<string, ChannelConsumer> = { ...eventConsumers, ...channelConsumers };
/** Every schedule the local runtime runs: the main stack's and the channels'. */
export const allScheduledFunctions: Record<string, ChannelSchedule> = { ...scheduledFunctions, ...channelSchedules };

/**
 * Domain events that leave for the lake (issue 9): each entry's pattern picks,
 * on the custom bus, the events whose `detail` is one row of a lake table,
 * stored as Parquet under `<table>/tenant_id=<t>/dt=YYYY-MM-DD/`, `dt` being the
 * UTC date of `partitionTime`. In AWS a rule with this pattern delivers the
 * detail to Kinesis Data Firehose (Parquet conversion, dynamic partitioning);
 * locally bin/local/lake-feed.ts subscribes a bus rule with the same pattern and
 * writes the same layout with DuckDB. Delivery is at least once either way:
 * readers dedupe on the row's id.
 */
export interface LakeFeedSpec {
  summary: string;
  pattern: { source: readonly string[]; 'detail-type': readonly string[] };
  /** The lake table: its top-level folder, and the Glue table's name. */
  table: string;
  /** The table's file columns, in order (functions/events/lake-columns.ts): the detail's fields of the same names are the row. */
  columns: readonly LakeColumn[];
  /** The detail field identifying a row (what readers dedupe on). */
  rowId: string;
  /** The detail field (an ISO instant) whose UTC date is the `dt` partition. */
  partitionTime: string;
}

export const lakeFeeds = {
  movements: {
    summary: 'Every ledger row, flat (functions/events/model.ts movementRecordedDetail), into the movements table of the lake',
    pattern: { source: ['stockroom'], 'detail-type': ['MovementRecorded'] },
    table: 'movements',
    columns: MOVEMENT_COLUMNS,
    rowId: 'movement_id',
    partitionTime: 'created_at',
  },
  orders: {
    summary: 'Every order line outcome (held, allocated, shipped, released), flat (functions/events/model.ts orderLineRecordedDetail), into the orders table of the lake',
    pattern: { source: ['stockroom'], 'detail-type': ['OrderLineRecorded'] },
    table: 'orders',
    columns: ORDER_LINE_COLUMNS,
    rowId: 'record_id',
    partitionTime: 'created_at',
  },
} as const satisfies Record<string, LakeFeedSpec>;

export type LakeFeedName = keyof typeof lakeFeeds;

/**
 * Lake tables no event feeds: the daily close (scheduledFunctions.closeLake) writes them from
 * the feeds' files. Reports read them through Athena like the feeds' tables (a Glue table each
 * in AWS, a view each locally), partitioned the same way.
 */
export interface LakeRollupSpec {
  summary: string;
  table: string;
  columns: readonly LakeColumn[];
}

export const lakeRollups = {
  levelDays: {
    summary: 'The ledger rolled up per closed day, SKU, warehouse and movement type (functions/events/lake-columns.ts LEVEL_DAY_COLUMNS)',
    table: 'level_days',
    columns: LEVEL_DAY_COLUMNS,
  },
  levelBalances: {
    summary: 'Every level\'s on_hand and last sale at the end of each closed day (functions/events/lake-columns.ts LEVEL_BALANCE_COLUMNS)',
    table: 'level_balances',
    columns: LEVEL_BALANCE_COLUMNS,
  },
} as const satisfies Record<string, LakeRollupSpec>;

/** Every table of the lake a report may read: the feeds' and the rollups', with their file columns. */
export const lakeTables: readonly { table: string; columns: readonly LakeColumn[] }[] = [
  ...Object.values(lakeFeeds).map((feed) => ({ table: feed.table, columns: feed.columns })),
  ...Object.values(lakeRollups).map((rollup) => ({ table: rollup.table, columns: rollup.columns })),
];
/** The lake's tables, by name. */
export type LakeTable = (typeof lakeFeeds)[LakeFeedName]['table'];

/**
 * The entries of one of the records above (httpRoutes, eventConsumers,
 * scheduledFunctions), keys typed as its names: what lib/ and bin/local
 * iterate to build one resource per entry.
 */
export const entriesOf = <K extends string, V>(record: Record<K, V>): [K, V][] =>
  // The one cast: Object.entries types every key as string (an object may carry more keys than its type names); these records are declared literals, so their keys are exactly K.
  Object.entries(record) as [K, V][];
