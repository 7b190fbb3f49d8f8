/**
 * Order allocation benchmark (issue 3, "Benchmark"), on one DynamoDB Local in one run:
 *
 * 1. A 3-line order through the real handler path (POST /api/orders/allocate,
 *    invoked in-process) against one raw TransactWriteItems doing the same
 *    writes: per leg a versioned stock-level put and an `allocation` ledger
 *    row, plus the order record. Every client owns its own 3 SKUs (stocked
 *    amply in 3 warehouses), so neither path meets contention and the raw
 *    path can track the versions it wrote.
 * 2. The flash sale: 200 orders of 1-3 units fired at once at one SKU stocked
 *    40 + 35 + 25, through the handler. Its OVERSELL COUNT must be 0, and the
 *    levels and the ledger must reconcile afterwards.
 *
 *   npx tsx test/bench/allocation.ts                   full run (2-3 min on 2 busy shared cores)
 *   npx tsx test/bench/allocation.ts --quick           smoke run, e.g. for CI: 8 clients, a 60-order flash sale
 *                                                      (~1 min on 2 busy cores, most of it DynamoDB Local's start and the stocking)
 *   npx tsx test/bench/allocation.ts --ops 1000 --concurrency 32 --rounds 5 --warmup 500 --flash-runs 5 --flash-orders 400
 *   (npm run bench runs this after stock-update: test/bench/run.ts)
 *
 * During the flash sale the SDK may warn "socket usage at capacity=50": every
 * order shares this one process's connection pool, as no Lambda would. Expected.
 *
 * Throughput and latency are measurements: a slow run is reported, never an
 * exit code. An oversell, a partial allocation or books that do not
 * reconcile are bugs: they set exit code 1. Results go to .data/bench/allocation.json.
 */
// Lets tsx's require() load the ESM-only @middy packages, as `npm start` does (first, as it asks).
import '../../bin/local/esm-only-packages';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { ensureTable, startDynamoLocal, type LocalDynamo } from '../../bin/local/dynamodb';
import { javaProblem } from '../../bin/local/java';
import type { Movement, StockLevel } from '../../functions/inventory/model';
import type { AllocationLeg, Order } from '../../functions/orders/model';
import type { RequestContext } from '../../functions/platform/context';
import type { HttpResult } from '../../functions/platform/http';
import {
  compareRounds,
  countCalls,
  fmtRound,
  httpEvent,
  inBatches,
  intOption,
  lambdaContext,
  log,
  machineInfo,
  median,
  percentile,
  Pool,
  ROOT,
  round2,
  row,
  runMain,
  runRound,
  settle,
  writeJson,
  type CallCounter,
  type Round,
  registerBenchUser,
} from './common';

// Before any handler module loads (they are imported dynamically below): one log line per
// request would cost more than the work being measured.
process.env.LOG_LEVEL = 'silent';

const TABLE = 'stockroom-bench-allocation';
const TENANT = 'bench-alloc';
const ROUTE_KEY = 'POST /api/orders/allocate';
const OUT_FILE = resolve(ROOT, '.data/bench/allocation.json');
const LINES_PER_ORDER = 3;
/** On a line north of the customer: wh-0 is nearest, so a fillable order goes there whole. */
const WAREHOUSES = [
  { warehouse_id: 'wh-0', latitude: 40, longitude: -74 },
  { warehouse_id: 'wh-1', latitude: 41, longitude: -74 },
  { warehouse_id: 'wh-2', latitude: 42, longitude: -74 },
];
const SHIP_TO = { latitude: 40, longitude: -75 };
/** The issue's flash sale: one SKU, 40 + 35 + 25 units. */
const FLASH_STOCK = [40, 35, 25];
const FLASH_UNITS = FLASH_STOCK.reduce((a, b) => a + b, 0);
/** What lambdaContext gives each invocation (getRemainingTimeInMillis), as deployed: lib/api.ts sets 29 s. */
const DEADLINE_MS = 29_000;

// ---------- options ----------

interface Options {
  ops: number;
  concurrency: number;
  rounds: number;
  warmup: number;
  flashRuns: number;
  flashOrders: number;
  quick: boolean;
}

const readOptions = (): Options => {
  const { values } = parseArgs({
    options: {
      quick: { type: 'boolean', default: false },
      ops: { type: 'string' },
      concurrency: { type: 'string' },
      rounds: { type: 'string' },
      warmup: { type: 'string' },
      'flash-runs': { type: 'string' },
      'flash-orders': { type: 'string' },
    },
  });
  // --quick keeps every phase but shrinks it (fewer SKU sets to stock, a 60-order flash sale
  // that still wants more than the 100 units), so CI exercises the same code.
  const defaults = values.quick
    ? { ops: 60, rounds: 1, warmup: 30, concurrency: 8, flashRuns: 1, flashOrders: 60 }
    : { ops: 300, rounds: 3, warmup: 150, concurrency: 16, flashRuns: 2, flashOrders: 200 };
  return {
    quick: values.quick ?? false,
    ops: intOption('ops', values.ops, defaults.ops, 1),
    concurrency: intOption('concurrency', values.concurrency, defaults.concurrency, 1),
    rounds: intOption('rounds', values.rounds, defaults.rounds, 1),
    warmup: intOption('warmup', values.warmup, defaults.warmup, 0),
    flashRuns: intOption('flash-runs', values['flash-runs'], defaults.flashRuns, 0),
    flashOrders: intOption('flash-orders', values['flash-orders'], defaults.flashOrders, 1),
  };
};

// ---------- item shapes ----------

/** Attribute paths and value types of a stored item: what "the same item shapes" means, checked. */
const shapeOf = (value: unknown, path = ''): string[] => {
  if (Array.isArray(value)) return [...new Set([`${path}:array`, ...value.flatMap((v) => shapeOf(v, `${path}[]`))])];
  if (value !== null && typeof value === 'object') {
    return Object.entries(value as Record<string, unknown>).flatMap(([k, v]) => shapeOf(v, path ? `${path}.${k}` : k));
  }
  return [`${path}:${value === null ? 'null' : typeof value}`];
};

const shapeDiff = (a: Record<string, unknown> | undefined, b: Record<string, unknown> | undefined): string[] => {
  if (!a || !b) return ['item missing'];
  const sa = new Set(shapeOf(a));
  const sb = new Set(shapeOf(b));
  return [...[...sa].filter((s) => !sb.has(s)).map((s) => `handler only ${s}`), ...[...sb].filter((s) => !sa.has(s)).map((s) => `raw only ${s}`)];
};

// ---------- the run ----------

interface SkuSet {
  skus: string[];
  /** The SKUs' levels in wh-0: the raw path increments them without reading, as the handler does. */
  levels: StockLevel[];
}

interface FlashRun {
  tenant: string;
  orders: number;
  units_wanted: number;
  /** Until the last response (a timed-out order answers at the deadline). */
  wall_seconds: number;
  /** Orders answered per second of wall time. */
  orders_per_second: number;
  /** Until the last DynamoDB request of the sale, timed-out handlers' leftover work included. */
  settle_seconds: number;
  /** Orders committed per second until settled: the sale's real allocation rate. */
  commits_per_second: number;
  p50_ms: number;
  p99_ms: number;
  /** Responses. */
  accepted: number;
  refused_insufficient: number;
  refused_conflict: number;
  timed_out: number;
  other_errors: number;
  /** What the caller was told: units in the 201 responses. */
  units_confirmed: number;
  /** What the books hold once everything settled: units in the order records (timed-out orders that committed late included). */
  units_allocated: number;
  orders_committed: number;
  timed_out_but_committed: number;
  partial_allocations: number;
  oversell: number;
  transact_attempts: number;
  dynamo_calls_per_order: number;
  final: { on_hand: number; reserved: number; available: number; levels: Pick<StockLevel, 'warehouse_id' | 'on_hand' | 'reserved' | 'available' | 'version'>[] };
  reconcile_problems: string[];
}

const main = async (): Promise<void> => {
  const options = readOptions();
  const problem = javaProblem();
  if (problem) throw new Error(problem);
  const startedAt = performance.now();
  const phases: Record<string, number> = {};
  let phaseStart = startedAt;
  const phase = (name: string): void => {
    const now = performance.now();
    phases[name] = round2((now - phaseStart) / 1000);
    phaseStart = now;
  };

  let dynamo: LocalDynamo | undefined;
  const clients: DynamoDBDocumentClient[] = [];
  try {
    dynamo = await startDynamoLocal();
    await ensureTable(dynamo.endpoint, TABLE);
    log(`DynamoDB Local answering at ${dynamo.endpoint}`);
    process.env.DYNAMODB_ENDPOINT = dynamo.endpoint;
    process.env.TABLE_NAME = TABLE;

    // Dynamic imports: the handler's modules must see the environment set above.
    const [{ handler }, { createDocumentClient, dbFromEnv }, catalog, stock, store, { keys }, { distanceKm }, lib, { monotonicFactory }, storage, orderStore] =
      await Promise.all([
        import('../../functions/orders/handlers/allocate-order'),
        import('../../functions/platform/db'),
        import('../../functions/inventory/catalog'),
        import('../../functions/inventory/stock'),
        import('../../functions/inventory/store'),
        import('../../functions/platform/keys'),
        import('../../functions/orders/planner'),
        import('@aws-sdk/lib-dynamodb'),
        import('ulid'),
        import('../../functions/platform/storage'),
        import('../../functions/orders/store'),
      ]);
    const { GetCommand, QueryCommand, TransactWriteCommand } = lib;

    // The handler path uses the process-wide client it builds itself; the raw path gets its
    // own client with the same configuration, so neither shares sockets with the other.
    const appDb = dbFromEnv();
    const rawDb = { client: createDocumentClient(dynamo.endpoint), table: TABLE };
    clients.push(appDb.client, rawDb.client);
    const appCalls = countCalls(appDb.client);
    const rawCalls = countCalls(rawDb.client);
    phase('start_dynamodb_local');

    // ----- setup through the domain functions, as bin/local/seed.ts does -----
    const depsFor = (tenantId: string) => {
      const ctx: RequestContext = { caller: { kind: 'user', tenantId, role: 'admin', subject: 'bench' }, requestId: 'bench', now: () => new Date() };
      return { db: appDb, ctx };
    };
    const setUpTenant = async (tenantId: string, skuIds: string[], stockOf: (warehouseIndex: number) => number): Promise<StockLevel[][]> => {
      const deps = depsFor(tenantId);
      await registerBenchUser(appDb, tenantId);
      await catalog.createProduct(deps, { product_id: 'bench-product', name: 'Bench product' });
      for (const w of WAREHOUSES) await catalog.createWarehouse(deps, { ...w, name: `Bench ${w.warehouse_id}`, priority: 10, active: true });
      await inBatches(skuIds, 16, (sku_id) =>
        catalog.createSku(deps, { sku_id, product_id: 'bench-product', name: `Bench ${sku_id}`, unit_cost: '4.20', price: '9.99', currency: 'USD' }),
      );
      // One atomic bulk update per SKU stocks its three levels before anything is measured.
      return inBatches(skuIds, 16, async (sku_id) => {
        const result = await stock.bulkUpdate(deps, {
          atomic: true,
          updates: WAREHOUSES.map((w, i) => ({ sku_id, warehouse_id: w.warehouse_id, transaction_type: 'restock' as const, quantity: stockOf(i), reference: 'bench-opening' })),
        });
        return result.results.map((r) => {
          if (r.status !== 'applied') throw new Error(`opening stock of ${sku_id} refused: ${r.error.message}`);
          return r.level;
        });
      });
    };

    const c = options.concurrency;
    // Each client of each path owns one set of 3 SKUs: the levels it touches are its own.
    const setCount = 2 * c;
    const skuIds = Array.from({ length: setCount * LINES_PER_ORDER }, (_, i) => `bench-sku-${String(i).padStart(4, '0')}`);
    // Ample: more units than any run can reserve, so no order is ever short.
    const levelsBySku = await setUpTenant(TENANT, skuIds, () => 1_000_000_000);
    const sets: SkuSet[] = Array.from({ length: setCount }, (_, s) => {
      const skus = skuIds.slice(s * LINES_PER_ORDER, (s + 1) * LINES_PER_ORDER);
      const levels = levelsBySku.slice(s * LINES_PER_ORDER, (s + 1) * LINES_PER_ORDER).map((ls) => ls.find((l) => l.warehouse_id === 'wh-0') as StockLevel);
      return { skus, levels };
    });
    const rawPool = new Pool(sets.slice(0, c));
    const appPool = new Pool(sets.slice(c));
    log(`${skuIds.length * WAREHOUSES.length} levels stocked (${setCount} sets of ${LINES_PER_ORDER} SKUs x ${WAREHOUSES.length} warehouses)`);
    phase('setup');

    // ----- the two paths: the same 3-line order, the same item shapes -----
    const movementId = monotonicFactory();
    let orderSeq = 0;
    const nextOrderId = (prefix: string): string => `${prefix}-${(orderSeq++).toString(36)}`;
    const nearest = WAREHOUSES[0] as (typeof WAREHOUSES)[number];
    const distance = distanceKm(SHIP_TO, nearest);

    let lastRawOrderId = '';
    /** What the handler writes for an order filled whole from wh-0; no read, no plan, no validation. */
    const rawOp = (): Promise<boolean> =>
      rawPool.with(async (i) => {
        const set = rawPool.items[i] as SkuSet;
        const order_id = nextOrderId('raw');
        lastRawOrderId = order_id;
        const at = new Date();
        const now = at.toISOString();
        // Field for field what reservationWrites builds (functions/inventory/stock.ts): no read, no version.
        const movements: Movement[] = set.levels.map((level) => ({
          movement_id: movementId(at.getTime()),
          sku_id: level.sku_id,
          warehouse_id: level.warehouse_id,
          type: 'allocation',
          deltas: { on_hand: 0, reserved: 1, available: -1, incoming: 0 },
          reference: order_id,
          correlation_id: order_id,
          actor: 'bench-user',
          created_at: now,
        }));
        const allocations: AllocationLeg[] = set.skus.map((sku_id) => ({
          sku_id,
          warehouse_id: nearest.warehouse_id,
          quantity: 1,
          shipped: 0,
          released: 0,
          distance_km: distance,
        }));
        const order: Order = {
          order_id,
          status: 'allocated',
          lines: set.skus.map((sku_id) => ({ sku_id, quantity: 1 })),
          allocations,
          shipments: 1,
          strategy: 'fewest_shipments',
          ship_to: SHIP_TO,
          created_at: now,
          updated_at: now,
          version: 1,
        };
        try {
          await rawDb.client.send(
            new TransactWriteCommand({
              TransactItems: [
                ...movements.flatMap((m) => [
                  store.levelIncrement(rawDb, TENANT, m, { deltas: m.deltas, guards: [{ attribute: 'available', atLeast: 1 }] }, m.movement_id, now, () => undefined).item,
                  store.movementPut(rawDb, TENANT, m).item,
                ]),
                // functions/orders/orders.ts orderPut for a new, non-held order (it is not exported).
                {
                  Put: {
                    TableName: rawDb.table,
                    Item: { ...keys.order(TENANT, order_id), entity: 'order', tenant_id: TENANT, ...order },
                    ConditionExpression: 'attribute_not_exists(pk)',
                  },
                },
              ],
            }),
          );
          return true;
        } catch {
          return false;
        }
      });

    const invoke = async (tenant: string, body: unknown): Promise<HttpResult> => {
      const event = httpEvent(ROUTE_KEY, tenant, body);
      return handler(event, lambdaContext('allocate-order', event.requestContext.requestId));
    };

    /** The real path: middy, auth claims, JSON and zod, the idempotency check read, the snapshot reads, the planner, the transaction, the response. */
    let lastAppOrder: Order | undefined;
    const appOp = (): Promise<boolean> =>
      appPool.with(async (i) => {
        const set = appPool.items[i] as SkuSet;
        const result = await invoke(TENANT, {
          order_id: nextOrderId('app'),
          lines: set.skus.map((sku_id) => ({ sku_id, quantity: 1 })),
          ship_to: SHIP_TO,
        });
        if (result.statusCode !== 201) return false;
        lastAppOrder = JSON.parse(result.body ?? '') as Order;
        return true;
      });

    // ----- warm-up (JIT, sockets, DynamoDB Local's JVM), then alternating rounds -----
    if (options.warmup > 0) {
      log(`warming up: ${options.warmup} ops of each path...`);
      const w1 = await runRound(options.warmup, c, rawOp, rawCalls);
      const w2 = await runRound(options.warmup, c, appOp, appCalls);
      if (w1.errors || w2.errors) log(`warm-up errors: raw ${w1.errors}, handler ${w2.errors}`);
    } else {
      await appOp();
      await rawOp();
    }

    // The raw path must write what the handler writes: compare the stored items' attribute paths and types.
    const sample = lastAppOrder;
    if (!sample || sample.shipments !== 1 || sample.allocations.some((a) => a.warehouse_id !== nearest.warehouse_id)) {
      log(`WARNING: the handler did not allocate wh-0 whole (${JSON.stringify(sample?.allocations)}): the raw path writes something else`);
    }
    const rawSample = rawPool.items[0] as SkuSet;
    const getRawItem = async (key: { pk: string; sk: string }) =>
      (await rawDb.client.send(new GetCommand({ TableName: TABLE, Key: key, ConsistentRead: true }))).Item;
    const newestMovement = async (sku: string) =>
      (
        await rawDb.client.send(
          new QueryCommand({
            TableName: TABLE,
            KeyConditionExpression: 'pk = :pk',
            ExpressionAttributeValues: { ':pk': keys.movementsOfSku(TENANT, sku) },
            ScanIndexForward: false,
            Limit: 1,
          }),
        )
      ).Items?.[0];
    const appSku = sample?.allocations[0]?.sku_id ?? '';
    const rawSku = rawSample.skus[0] as string;
    const shapes = {
      level: shapeDiff(await getRawItem(keys.stockLevel(TENANT, appSku, 'wh-0')), await getRawItem(keys.stockLevel(TENANT, rawSku, 'wh-0'))),
      movement: shapeDiff(await newestMovement(appSku), await newestMovement(rawSku)),
      order: shapeDiff(await getRawItem(keys.order(TENANT, sample?.order_id ?? '')), await getRawItem(keys.order(TENANT, lastRawOrderId))),
    };
    const shapesMatch = Object.values(shapes).every((d) => d.length === 0);
    log(shapesMatch ? 'item shapes: handler and raw write the same attributes (level, movement, order)' : `WARNING: item shapes differ: ${JSON.stringify(shapes)}`);
    phase('warmup');

    const raw: Round[] = [];
    const app: Round[] = [];
    const rawSerial: Round[] = [];
    const appSerial: Round[] = [];
    const appByCommand0 = { ...appCalls.byCommand };
    // At saturation latency is mostly queueing (Little's law); one client per path shows the
    // latency the handler itself adds (its extra round trips, validation, middy).
    const serialOps = Math.max(20, Math.ceil(options.ops / 4));
    for (let r = 1; r <= options.rounds; r++) {
      // Alternating, so drift (JVM, GC, the other tenants of these cores) hits both paths alike.
      raw.push(await runRound(options.ops, c, rawOp, rawCalls));
      app.push(await runRound(options.ops, c, appOp, appCalls));
      rawSerial.push(await runRound(serialOps, 1, rawOp, rawCalls));
      appSerial.push(await runRound(serialOps, 1, appOp, appCalls));
      log(`round ${r}/${options.rounds}: raw ${fmtRound(raw.at(-1) as Round)} | handler ${fmtRound(app.at(-1) as Round)}`);
      log(`  1 client: raw ${fmtRound(rawSerial.at(-1) as Round)} | handler ${fmtRound(appSerial.at(-1) as Round)}`);
    }
    const appOps = options.rounds * (options.ops + serialOps);
    const handlerCallsPerOp = Object.fromEntries(
      Object.entries(appCalls.byCommand).map(([name, n]) => [name, round2((n - (appByCommand0[name] ?? 0)) / appOps)]),
    );
    phase('rounds');

    // ----- the flash sale, through the handler, on fresh tenants -----
    const flashRun = async (run: number): Promise<FlashRun> => {
      const tenant = `flash-${run}`;
      const sku = 'flash-sku';
      await setUpTenant(tenant, [sku], (w) => FLASH_STOCK[w] as number);
      const wants = Array.from({ length: options.flashOrders }, (_, i) => 1 + (i % 3));
      const calls0: CallCounter = { ...appCalls, byCommand: { ...appCalls.byCommand } };
      const latencies = new Float64Array(wants.length);
      const t0 = performance.now();
      // All at once: every order is in flight before the first answer comes back. Each
      // invocation has the deployed 29 s (lib/api.ts; API Gateway's own limit is 30 s).
      const results = await Promise.all(
        wants.map(async (quantity, i) => {
          const order_id = `flash-${i}`;
          const started = performance.now();
          const result = await invoke(tenant, { order_id, lines: [{ sku_id: sku, quantity }], ship_to: SHIP_TO });
          const ms = performance.now() - started;
          latencies[i] = ms;
          return { order_id, quantity, ms, status: result.statusCode ?? 0, body: JSON.parse(result.body ?? 'null') as Order & { error?: { code: string } } };
        }),
      );
      const seconds = (performance.now() - t0) / 1000;
      // A handler cut off by its deadline answers 500 but its promise runs on in this process
      // (in Lambda the sandbox would be frozen; a transaction already sent may still commit):
      // the books are read once the last of that work has ended.
      const settleSeconds = seconds + (await settle(appCalls));
      latencies.sort();
      const accepted = results.filter((r) => r.status === 201);
      const refusedCode = (code: string) => results.filter((r) => r.status === 409 && r.body.error?.code === code).length;
      // middy's timeout answers at the deadline (503 TIMEOUT, or 500 INTERNAL where the error
      // mapper does not know TimeoutError); any other 5xx is an error.
      const timedOut = results.filter(
        (r) => (r.status === 503 && r.body.error?.code === 'TIMEOUT') || (r.status >= 500 && r.ms >= DEADLINE_MS - 1000),
      );
      const unitsOf = (o: Pick<Order, 'allocations'>) => o.allocations.reduce((s, a) => s + a.quantity, 0);
      const unitsConfirmed = accepted.reduce((s, r) => s + unitsOf(r.body), 0);

      // The books afterwards: levels, ledger and order records, read strongly.
      const levels: StockLevel[] = await store.getLevelsOfSku(appDb, tenant, sku);
      const movements: Movement[] = await storage.queryAll(appDb, { partition: keys.movementsOfSku(tenant, sku) }, store.decodeMovement);
      const orders: Order[] = await storage.queryAll(appDb, { partition: keys.orders(tenant) }, orderStore.decodeOrder);
      const unitsAllocated = orders.reduce((s, o) => s + unitsOf(o), 0);
      const sum = (f: 'on_hand' | 'reserved' | 'available') => levels.reduce((s, l) => s + l[f], 0);
      const problems: string[] = [];
      if (sum('reserved') !== unitsAllocated) problems.push(`reserved ${sum('reserved')} != units in order records ${unitsAllocated}`);
      if (sum('available') !== FLASH_UNITS - unitsAllocated) problems.push(`available ${sum('available')} != ${FLASH_UNITS} - ${unitsAllocated}`);
      if (sum('on_hand') !== FLASH_UNITS) problems.push(`on_hand ${sum('on_hand')} != ${FLASH_UNITS}`);
      for (const l of levels) {
        if (l.on_hand < 0 || l.reserved < 0 || l.available < 0) problems.push(`${l.warehouse_id}: negative quantity`);
        if (l.available !== l.on_hand - l.reserved) problems.push(`${l.warehouse_id}: available != on_hand - reserved`);
        const rows = movements.filter((m) => m.warehouse_id === l.warehouse_id);
        for (const f of ['on_hand', 'reserved', 'available'] as const) {
          const ledger = rows.reduce((s, m) => s + m.deltas[f], 0);
          if (ledger !== l[f]) problems.push(`${l.warehouse_id}.${f}: level ${l[f]} != ledger ${ledger}`);
        }
        // One movement per level version (reservation rows carry no version of their own).
        if (rows.length !== l.version) problems.push(`${l.warehouse_id}: ${rows.length} ledger rows for level version ${l.version}`);
      }
      const ledgerAllocated = movements.filter((m) => m.type === 'allocation').reduce((s, m) => s + m.deltas.reserved, 0);
      if (ledgerAllocated !== unitsAllocated) problems.push(`ledger allocations ${ledgerAllocated} != units in order records ${unitsAllocated}`);
      // Every answer agrees with the books: a 201's order is stored as returned, a 409 left nothing.
      const stored = new Map(orders.map((o) => [o.order_id, o]));
      for (const r of accepted) if (unitsOf(stored.get(r.order_id) ?? { allocations: [] }) !== unitsOf(r.body)) problems.push(`${r.order_id}: 201 but stored differently`);
      for (const r of results) if (r.status === 409 && stored.has(r.order_id)) problems.push(`${r.order_id}: 409 but an order record exists`);
      const partial = orders.filter((o) => unitsOf(o) !== o.lines.reduce((s, l) => s + l.quantity, 0)).length;

      const transactsOf = (by: Record<string, number>) => Object.entries(by).reduce((n, [name, k]) => (name.startsWith('TransactWrite') ? n + k : n), 0);
      return {
        tenant,
        orders: wants.length,
        units_wanted: wants.reduce((a, b) => a + b, 0),
        wall_seconds: round2(seconds),
        orders_per_second: round2(wants.length / seconds),
        settle_seconds: round2(settleSeconds),
        commits_per_second: round2(orders.length / settleSeconds),
        p50_ms: round2(percentile(latencies, 50)),
        p99_ms: round2(percentile(latencies, 99)),
        accepted: accepted.length,
        refused_insufficient: refusedCode('INSUFFICIENT_STOCK'),
        refused_conflict: refusedCode('CONFLICT'),
        timed_out: timedOut.length,
        other_errors: results.length - accepted.length - refusedCode('INSUFFICIENT_STOCK') - refusedCode('CONFLICT') - timedOut.length,
        units_confirmed: unitsConfirmed,
        units_allocated: unitsAllocated,
        orders_committed: orders.length,
        timed_out_but_committed: timedOut.filter((r) => stored.has(r.order_id)).length,
        partial_allocations: partial,
        oversell: Math.max(0, unitsAllocated - FLASH_UNITS, unitsConfirmed - FLASH_UNITS, sum('reserved') - FLASH_UNITS, ledgerAllocated - FLASH_UNITS, -Math.min(0, ...levels.map((l) => l.available))),
        transact_attempts: transactsOf(appCalls.byCommand) - transactsOf(calls0.byCommand),
        dynamo_calls_per_order: round2((appCalls.count - calls0.count) / wants.length),
        final: {
          on_hand: sum('on_hand'),
          reserved: sum('reserved'),
          available: sum('available'),
          levels: levels.map(({ warehouse_id, on_hand, reserved, available, version }) => ({ warehouse_id, on_hand, reserved, available, version })),
        },
        reconcile_problems: problems,
      };
    };
    const flash: FlashRun[] = [];
    for (let run = 1; run <= options.flashRuns; run++) {
      log(`flash sale ${run}/${options.flashRuns}: ${options.flashOrders} orders of 1-3 units at once on ${FLASH_STOCK.join(' + ')} units...`);
      const f = await flashRun(run);
      flash.push(f);
      log(
        `  ${f.wall_seconds} s (settled ${f.settle_seconds} s), ${f.orders_per_second} orders/s, accepted ${f.accepted}, ` +
          `refused ${f.refused_insufficient + f.refused_conflict}, timed out ${f.timed_out}, ${f.units_allocated} units, OVERSELL ${f.oversell}` +
          `${f.reconcile_problems.length ? `, PROBLEMS: ${f.reconcile_problems.join('; ')}` : ''}`,
      );
    }
    phase('flash_sale');

    const bugs = report(options, { raw, app, rawSerial, appSerial }, { handlerCallsPerOp, shapes, shapesMatch }, flash, phases, (performance.now() - startedAt) / 1000);
    if (bugs) process.exitCode = 1;
  } finally {
    for (const client of clients) client.destroy();
    dynamo?.stop();
  }
};

// ---------- output ----------

/** Lines framed in #, so the one figure that must be 0 cannot be missed. */
const banner = (texts: string[]): string[] => {
  const width = Math.max(...texts.map((t) => t.length));
  const rule = `  ${'#'.repeat(width + 8)}`;
  return [rule, ...texts.map((t) => `  ##  ${t.padEnd(width)}  ##`), rule];
};

/** The handler's allocation throughput against raw TransactWriteItems of the same writes, same run (issue 8). */
const THROUGHPUT_GOAL = 0.9;

/** Prints the report and writes the JSON; returns true when the flash sale found a correctness bug. */
const report = (
  options: Options,
  rounds: { raw: Round[]; app: Round[]; rawSerial: Round[]; appSerial: Round[] },
  extra: { handlerCallsPerOp: Record<string, number>; shapes: Record<string, string[]>; shapesMatch: boolean },
  flash: FlashRun[],
  phases: Record<string, number>,
  seconds: number,
): boolean => {
  // The ratio is taken per round (a raw and a handler run back to back) and the median of those reported.
  const { raw, app, rawSerial, appSerial, serialP50Added, serialP99Added, ratios, p99Adds, ratio, p99Added } = compareRounds(rounds);
  const machine = machineInfo();

  const oversell = flash.length ? Math.max(...flash.map((f) => f.oversell)) : 0;
  // Timeouts and give-ups are slowness (reported above); an oversell, a partial order or books that disagree are bugs.
  const flashBugs = flash.filter((f) => f.oversell > 0 || f.partial_allocations > 0 || f.other_errors > 0 || f.reconcile_problems.length > 0);
  const lines = [
    '',
    `order allocation: handler path vs raw TransactWriteItems (DynamoDB Local, in memory)`,
    `machine: node ${machine.node}, ${machine.cpus} CPUs (${machine.cpu_model}), load ${machine.load_average_1m}`,
    `workload: ${LINES_PER_ORDER}-line order (1 unit of each of the client's own ${LINES_PER_ORDER} SKUs, filled whole from the nearest of ${WAREHOUSES.length} warehouses: ` +
      `${2 * LINES_PER_ORDER + 1} items per transaction), ${raw.ops} ops per round, ${options.rounds} round(s) alternating, ${options.concurrency} concurrent clients, ` +
      `${options.warmup} warm-up ops per path discarded; median of rounds`,
    `item shapes (level, movement, order): ${extra.shapesMatch ? 'identical' : `DIFFER ${JSON.stringify(extra.shapes)}`}`,
    '',
    row(['path', 'ops', 'ops/s', 'p50 ms', 'p99 ms', 'errors', 'cpu ms/op', 'calls/op']),
    ...[['raw', raw] as const, ['handler', app] as const].map(([name, s]) =>
      row([name, s.ops * options.rounds, s.throughput, s.p50_ms, s.p99_ms, s.errors, s.node_cpu_ms_per_op, s.dynamo_calls_per_op]),
    ),
    `handler calls per order: ${Object.entries(extra.handlerCallsPerOp).map(([name, n]) => `${name.replace(/Command$/, '')} ${n}`).join(', ')}`,
    '',
    `handler/raw throughput  ${ratio.toFixed(2).padStart(6)}     goal >= ${THROUGHPUT_GOAL}   ${ratio >= THROUGHPUT_GOAL ? 'PASS' : 'MISS'}   per round: ${ratios.join(', ')}`,
    `p99 added               ${p99Added.toFixed(2).padStart(6)} ms  per round: ${p99Adds.join(', ')}`,
    '',
    `unloaded latency (1 client, ${rawSerial.ops} ops per round, same rounds; no queueing):`,
    row(['path', 'ops/s', 'p50 ms', 'p99 ms', 'errors']),
    ...[['raw', rawSerial] as const, ['handler', appSerial] as const].map(([name, s]) => row([name, s.throughput, s.p50_ms, s.p99_ms, s.errors])),
    `p50 added at 1 client   ${serialP50Added.toFixed(2).padStart(6)} ms`,
    `p99 added at 1 client   ${serialP99Added.toFixed(2).padStart(6)} ms`,
  ];
  if (flash.length) {
    const first = flash[0] as FlashRun;
    const med = (f: (r: FlashRun) => number) => round2(median(flash.map(f)));
    lines.push(
      '',
      `flash sale (handler): ${first.orders} orders of 1-3 units (${first.units_wanted} wanted) fired at once at ONE SKU stocked ${FLASH_STOCK.join(' + ')} = ${FLASH_UNITS}, ` +
        `one ship_to (wh-0 nearest); ${flash.length} run(s), each on a fresh tenant; ${DEADLINE_MS / 1000} s per invocation as deployed`,
      row(['run', 'wall s', 'settled s', 'orders/s', 'p50 ms', 'p99 ms', 'accepted', 'short 409', 'gave up', 'timed out', 'units', 'tx sent', 'OVERSELL', 'reconciles']),
      ...flash.map((f, i) =>
        row([
          i + 1,
          f.wall_seconds,
          f.settle_seconds,
          f.orders_per_second,
          f.p50_ms,
          f.p99_ms,
          f.accepted,
          f.refused_insufficient,
          f.refused_conflict,
          f.timed_out,
          f.units_allocated,
          f.transact_attempts,
          f.oversell,
          flashBugs.includes(f) ? 'NO' : 'yes',
        ]),
      ),
      ...(flash.length > 1
        ? [
            row([
              'median',
              med((f) => f.wall_seconds),
              med((f) => f.settle_seconds),
              med((f) => f.orders_per_second),
              med((f) => f.p50_ms),
              med((f) => f.p99_ms),
              med((f) => f.accepted),
              med((f) => f.refused_insufficient),
              med((f) => f.refused_conflict),
              med((f) => f.timed_out),
              med((f) => f.units_allocated),
              med((f) => f.transact_attempts),
              `max ${oversell}`,
              '',
            ]),
          ]
        : []),
      `  final levels: ${flash.map((f) => `on_hand ${f.final.on_hand} reserved ${f.final.reserved} available ${f.final.available}`).join(' | ')}`,
      `  units = in the order records once settled (${flash.map((f) => f.units_confirmed).join(', ')} confirmed by a 201; ` +
        `${flash.map((f) => f.timed_out_but_committed).join(', ')} timed-out order(s) committed anyway); "gave up" = 409 CONFLICT after the handler's bounded retries;`,
      `  "timed out" = 5xx at the ${DEADLINE_MS / 1000} s deadline; "tx sent" = every TransactWriteItems attempt (${flash.map((f) => f.dynamo_calls_per_order).join(', ')} DynamoDB calls per order);`,
      `  orders committed per second until settled: ${flash.map((f) => f.commits_per_second).join(', ')}`,
      '',
      ...banner([
        `OVERSELL COUNT: ${oversell}  (max over ${flash.length} run(s); must be 0)  ${oversell === 0 ? 'OK' : 'BUG'}`,
        `books reconcile (levels = ledger = orders = answers): ${flashBugs.length === 0 ? 'yes' : 'NO'}`,
      ]),
    );
    for (const f of flashBugs) lines.push(`  ${f.tenant}: ${[...f.reconcile_problems, `partial ${f.partial_allocations}`, `other errors ${f.other_errors}`].join('; ')}`);
  }
  lines.push(
    '',
    `run time ${seconds.toFixed(1)} s (${Object.entries(phases).map(([name, s]) => `${name} ${s.toFixed(1)}`).join(', ')}); results in ${OUT_FILE}`,
    '',
  );
  process.stdout.write(lines.join('\n'));

  writeJson(OUT_FILE, {
    at: new Date().toISOString(),
    machine,
    options,
    raw,
    handler: { ...app, calls_per_op: extra.handlerCallsPerOp },
    item_shapes: { identical: extra.shapesMatch, differences: extra.shapes },
    unloaded: { raw: rawSerial, handler: appSerial, p50_added_ms: serialP50Added, p99_added_ms: serialP99Added },
    ratio: { throughput: ratio, p99_added_ms: p99Added, per_round: { throughput: ratios, p99_added_ms: p99Adds } },
    goals: { throughput_ratio: { goal: THROUGHPUT_GOAL, pass: ratio >= THROUGHPUT_GOAL } },
    flash_sale: {
      stock: FLASH_STOCK,
      oversell_count: oversell,
      reconciled: flashBugs.length === 0,
      median: flash.length
        ? {
            wall_seconds: round2(median(flash.map((f) => f.wall_seconds))),
            orders_per_second: round2(median(flash.map((f) => f.orders_per_second))),
            units_allocated: median(flash.map((f) => f.units_allocated)),
          }
        : null,
      runs: flash,
    },
    phases_seconds: phases,
    run_seconds: round2(seconds),
  });
  return flashBugs.length > 0;
};

runMain(main);
