/**
 * `npm run bench`: stock-update throughput and latency through the real
 * handler path, against the same writes as one raw TransactWriteItems, on
 * one DynamoDB Local in one run (issue 2, "Benchmark").
 *
 *   npm run bench                      full run (~2-3 min on 2 shared cores)
 *   npm run bench -- --quick           smoke run (~15-20 s on a quiet machine), e.g. for CI
 *   npm run bench -- --ops 3000 --concurrency 32 --rounds 5 --warmup 2000 --contended-ops 800
 *
 * A measurement, not a test: a missed goal is reported, never an exit code.
 * Results also go to .data/bench/stock-update.json.
 */
// Lets tsx's require() load the ESM-only @middy packages, as `npm start` does (first, as it asks).
import '../../bin/local/esm-only-packages';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { ensureTable, startDynamoLocal, type LocalDynamo } from '../../bin/local/dynamodb';
import { javaProblem } from '../../bin/local/java';
import type { Movement, StockLevel } from '../../functions/inventory/model';
import type { StockChange } from '../../functions/inventory/schemas';
import type { RequestContext } from '../../functions/platform/context';
import type { HttpEvent, HttpResult } from '../../functions/platform/http';
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
  Pool,
  registerBenchUser,
  ROOT,
  round2,
  row,
  runMain,
  runRound,
  writeJson,
  type Round,
} from './common';

// Before any handler module loads (they are imported dynamically below): one log line per
// request would cost more than the work being measured.
process.env.LOG_LEVEL = 'silent';

const TABLE = 'stockroom-bench';
const TENANT = 'bench';
const ROUTE_KEY = 'POST /api/inventory/update';
const OUT_FILE = resolve(ROOT, '.data/bench/stock-update.json');

// ---------- options ----------

interface Options {
  ops: number;
  concurrency: number;
  rounds: number;
  warmup: number;
  contendedOps: number;
  /** SKUs x 2 warehouses = levels; at least 2 levels per client so clients never share one. */
  skus: number;
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
      'contended-ops': { type: 'string' },
    },
  });
  // --quick keeps every phase but shrinks it, so CI exercises the same code in a few seconds.
  const defaults = values.quick
    ? { ops: 200, rounds: 1, warmup: 100, contendedOps: 32, skus: 16 }
    : { ops: 2000, rounds: 3, warmup: 1500, contendedOps: 300, skus: 64 };
  const concurrency = intOption('concurrency', values.concurrency, 16, 1);
  return {
    quick: values.quick ?? false,
    ops: intOption('ops', values.ops, defaults.ops, 1),
    concurrency,
    skus: Math.max(defaults.skus, concurrency),
    rounds: intOption('rounds', values.rounds, defaults.rounds, 1),
    warmup: intOption('warmup', values.warmup, defaults.warmup, 0),
    contendedOps: intOption('contended-ops', values['contended-ops'], defaults.contendedOps, 0),
  };
};

// ---------- the API Gateway side, as bin/local/api-server.ts builds it (test/bench/common.ts) ----------

const updateEvent = (body: StockChange): HttpEvent => httpEvent(ROUTE_KEY, TENANT, body);

// ---------- the run ----------

const main = async (): Promise<void> => {
  const options = readOptions();
  const problem = javaProblem();
  if (problem) throw new Error(problem);
  const startedAt = performance.now();

  let dynamo: LocalDynamo | undefined;
  const clients: DynamoDBDocumentClient[] = [];
  try {
    dynamo = await startDynamoLocal();
    await ensureTable(dynamo.endpoint, TABLE);
    log(`DynamoDB Local answering at ${dynamo.endpoint}`);
    process.env.DYNAMODB_ENDPOINT = dynamo.endpoint;
    process.env.TABLE_NAME = TABLE;

    // Dynamic imports: the handler's modules must see the environment set above.
    const [{ handler }, { createDocumentClient, dbFromEnv }, catalog, stock, store, { TransactWriteCommand }, { monotonicFactory }] =
      await Promise.all([
        import('../../functions/inventory/handlers/update-stock'),
        import('../../functions/platform/db'),
        import('../../functions/inventory/catalog'),
        import('../../functions/inventory/stock'),
        import('../../functions/inventory/store'),
        import('@aws-sdk/lib-dynamodb'),
        import('ulid'),
      ]);

    // The handler path uses the process-wide client it builds itself; the raw path gets its
    // own client with the same configuration, so neither shares sockets with the other.
    const appDb = dbFromEnv();
    const rawDb = { client: createDocumentClient(dynamo.endpoint), table: TABLE };
    clients.push(appDb.client, rawDb.client);
    const appCalls = countCalls(appDb.client);
    const rawCalls = countCalls(rawDb.client);

    // ----- setup through the domain functions, as bin/local/seed.ts does -----
    const ctx: RequestContext = { caller: { kind: 'user', tenantId: TENANT, role: 'admin', subject: 'bench' }, requestId: 'bench', now: () => new Date() };
    const deps = { db: appDb, ctx };
    await registerBenchUser(appDb, TENANT);
    const warehouses = ['wh-0', 'wh-1'];
    const skuIds = Array.from({ length: options.skus }, (_, i) => `bench-sku-${String(i).padStart(3, '0')}`);
    await catalog.createProduct(deps, { product_id: 'bench-product', name: 'Bench product' });
    for (const [i, warehouse_id] of warehouses.entries()) {
      await catalog.createWarehouse(deps, { warehouse_id, name: `Bench ${warehouse_id}`, latitude: 40 + i, longitude: -74, priority: 10, active: true });
    }
    await inBatches(skuIds, 16, (sku_id) =>
      catalog.createSku(deps, { sku_id, product_id: 'bench-product', name: `Bench ${sku_id}`, unit_cost: '4.20', price: '9.99', currency: 'USD' }),
    );
    // Every level exists (version >= 1) before measuring, so both paths do the steady-state write:
    // `version = :v`, never the first-movement `attribute_not_exists` put.
    const pairs = skuIds.flatMap((sku_id) => warehouses.map((warehouse_id) => ({ sku_id, warehouse_id })));
    const levels = await inBatches(pairs, 16, (p) =>
      stock.updateStock(deps, { ...p, transaction_type: 'restock', quantity: 1000, reference: 'bench-opening' }),
    );
    const pool = new Pool(levels);
    log(`${levels.length} levels stocked (${skuIds.length} SKUs x ${warehouses.length} warehouses)`);

    // ----- the two paths: the same restock of one unit, the same item shapes -----
    const movementId = monotonicFactory();
    const reference = 'bench-restock';

    /** What the handler writes, built from the level this client last saw; no read, no validation. */
    const rawOp = (): Promise<boolean> =>
      pool.with(async (i) => {
        const before = pool.items[i] as StockLevel;
        const at = new Date();
        const after: StockLevel = {
          ...before,
          on_hand: before.on_hand + 1,
          available: before.available + 1,
          version: before.version + 1,
          updated_at: at.toISOString(),
        };
        const movement: Movement = {
          movement_id: movementId(at.getTime()),
          sku_id: after.sku_id,
          warehouse_id: after.warehouse_id,
          type: 'restock',
          deltas: { on_hand: 1, reserved: 0, available: 1, incoming: 0 },
          resulting: { on_hand: after.on_hand, reserved: after.reserved, available: after.available, incoming: after.incoming },
          version: after.version,
          reference,
          actor: 'bench-user',
          created_at: after.updated_at as string,
        };
        try {
          await rawDb.client.send(
            new TransactWriteCommand({
              TransactItems: [store.levelPut(rawDb, TENANT, before, after).item, store.movementPut(rawDb, TENANT, movement).item],
            }),
          );
          pool.items[i] = after;
          return true;
        } catch {
          return false;
        }
      });

    const invoke = async (body: StockChange): Promise<HttpResult> => {
      const event = updateEvent(body);
      return handler(event, lambdaContext('update-stock', event.requestContext.requestId));
    };

    /** The real path: middy, auth claims, JSON and zod, the domain read, the transaction, the response. */
    const handlerOp = (): Promise<boolean> =>
      pool.with(async (i) => {
        const { sku_id, warehouse_id } = pool.items[i] as StockLevel;
        const result = await invoke({ sku_id, warehouse_id, transaction_type: 'restock', quantity: 1, reference });
        if (result.statusCode !== 200) return false;
        // The raw path writes from this level next; the version must be the stored one.
        pool.items[i] = JSON.parse(result.body ?? '') as StockLevel;
        return true;
      });

    // ----- warm-up (JIT, sockets, DynamoDB Local's JVM), then alternating rounds -----
    const c = options.concurrency;
    if (options.warmup > 0) {
      log(`warming up: ${options.warmup} ops of each path...`);
      await runRound(options.warmup, c, rawOp, rawCalls);
      await runRound(options.warmup, c, handlerOp, appCalls);
    }
    const raw: Round[] = [];
    const app: Round[] = [];
    const rawSerial: Round[] = [];
    const appSerial: Round[] = [];
    // At saturation latency is mostly queueing (Little's law: p50 ~ clients / throughput), so a
    // small throughput gap shows up as tens of ms at p99. One client per path shows the latency
    // the handler itself adds (its read round trip, validation, middy), which is what users feel.
    const serialOps = Math.max(20, Math.ceil(options.ops / 4));
    for (let r = 1; r <= options.rounds; r++) {
      // Alternating, so drift (JVM, GC, the other tenant of these cores) hits both paths alike.
      raw.push(await runRound(options.ops, c, rawOp, rawCalls));
      app.push(await runRound(options.ops, c, handlerOp, appCalls));
      rawSerial.push(await runRound(serialOps, 1, rawOp, rawCalls));
      appSerial.push(await runRound(serialOps, 1, handlerOp, appCalls));
      log(`round ${r}/${options.rounds}: raw ${fmtRound(raw.at(-1) as Round)} | handler ${fmtRound(app.at(-1) as Round)}`);
      log(`  1 client: raw ${fmtRound(rawSerial.at(-1) as Round)} | handler ${fmtRound(appSerial.at(-1) as Round)}`);
    }

    // ----- contended: every client sells one unit of the same level -----
    let contended: Contended | undefined;
    if (options.contendedOps > 0) {
      log(`contended: ${options.contendedOps} one-unit sales on one level, ${c} clients...`);
      const hot = { sku_id: skuIds[0] as string, warehouse_id: 'wh-0' };
      const stocked = await stock.updateStock(deps, { ...hot, transaction_type: 'restock', quantity: 1_000_000, reference: 'bench-hot' });
      let conflicts = 0;
      const transactsBefore = appCalls.byCommand.TransactWriteItemsCommand ?? 0;
      const round = await runRound(
        options.contendedOps,
        c,
        async () => {
          const result = await invoke({ ...hot, transaction_type: 'sale', quantity: 1, reference: 'bench-sale' });
          if (result.statusCode === 409) conflicts++;
          return result.statusCode === 200;
        },
        appCalls,
      );
      // Each attempt is one TransactWriteItems (a sale is a blind increment, its level read back once
      // after the commit); attempts beyond one per op are retries.
      const attempts = (appCalls.byCommand.TransactWriteItemsCommand ?? 0) - transactsBefore;
      const final = await store.getLevel(appDb, TENANT, hot.sku_id, hot.warehouse_id);
      const sold = options.contendedOps - round.errors;
      contended = {
        ...round,
        retries: Math.round(attempts - options.contendedOps),
        conflicts_409: conflicts,
        on_hand_ok: final?.on_hand === stocked.on_hand - sold && final.version === stocked.version + sold,
      };
    }

    report(options, { raw, app, rawSerial, appSerial }, contended, (performance.now() - startedAt) / 1000);
  } finally {
    for (const client of clients) client.destroy();
    dynamo?.stop();
  }
};

// ---------- output ----------

const GOALS = { throughputRatio: 0.8, p99AddedMs: 5, contendedRatio: 0.8 } as const;

type Contended = Round & { retries: number; conflicts_409: number; on_hand_ok: boolean };

/** One hot level against many cold ones, both through the handler in the same run. */
const contendedRatio = (contended: Contended, uncontended: { throughput: number }): number => (uncontended.throughput > 0 ? contended.throughput / uncontended.throughput : 0);

const report = (
  options: Options,
  rounds: { raw: Round[]; app: Round[]; rawSerial: Round[]; appSerial: Round[] },
  contended: Contended | undefined,
  seconds: number,
): void => {
  // The ratio is taken per round (a raw and a handler run back to back) and the median of those is judged.
  const { raw, app, rawSerial, appSerial, serialP99Added, ratios, p99Adds, ratio, p99Added } = compareRounds(rounds);
  const machine = machineInfo();
  const verdict = (ok: boolean): string => (ok ? 'PASS' : 'MISS');
  const lines = [
    '',
    `stock update: handler path vs raw TransactWriteItems (DynamoDB Local, in memory)`,
    `machine: node ${machine.node}, ${machine.cpus} CPUs (${machine.cpu_model}), load ${machine.load_average_1m}`,
    `workload: restock 1 unit on ${options.skus * 2} levels, ${raw.ops} ops per round, ${options.rounds} round(s) alternating, ${options.concurrency} concurrent clients, ` +
      `${options.warmup} warm-up ops per path discarded; median of rounds`,
    '',
    row(['path', 'ops', 'ops/s', 'p50 ms', 'p99 ms', 'errors', 'cpu ms/op', 'calls/op']),
    ...[['raw', raw] as const, ['handler', app] as const].map(([name, s]) =>
      row([name, s.ops * options.rounds, s.throughput, s.p50_ms, s.p99_ms, s.errors, s.node_cpu_ms_per_op, s.dynamo_calls_per_op]),
    ),
    '',
    `handler/raw throughput  ${ratio.toFixed(2).padStart(6)}     goal >= ${GOALS.throughputRatio}   ${verdict(ratio >= GOALS.throughputRatio)}   per round: ${ratios.join(', ')}`,
    `p99 added               ${p99Added.toFixed(2).padStart(6)} ms  goal < ${GOALS.p99AddedMs} ms    ${verdict(p99Added < GOALS.p99AddedMs)}   per round: ${p99Adds.join(', ')}`,
    '',
    `unloaded latency (1 client, ${rawSerial.ops} ops per round, same rounds; no queueing):`,
    row(['path', 'ops/s', 'p50 ms', 'p99 ms', 'errors']),
    ...[['raw', rawSerial] as const, ['handler', appSerial] as const].map(([name, s]) =>
      row([name, s.throughput, s.p50_ms, s.p99_ms, s.errors]),
    ),
    `p99 added at 1 client   ${serialP99Added.toFixed(2).padStart(6)} ms  goal < ${GOALS.p99AddedMs} ms    ${verdict(serialP99Added < GOALS.p99AddedMs)}`,
  ];
  if (contended) {
    lines.push(
      '',
      `contended (handler only): ${contended.ops} one-unit sales on ONE level, ${options.concurrency} clients`,
      row(['', 'ops/s', 'p50 ms', 'p99 ms', 'retries', '409s', 'ledger ok']),
      row(['handler', contended.throughput, contended.p50_ms, contended.p99_ms, contended.retries, contended.conflicts_409, contended.on_hand_ok ? 'yes' : 'NO']),
      `contended/uncontended handler throughput ${contendedRatio(contended, app).toFixed(2).padStart(6)}   goal >= ${GOALS.contendedRatio}, none given up   ` +
        verdict(contendedRatio(contended, app) >= GOALS.contendedRatio && contended.conflicts_409 === 0 && contended.errors === 0),
    );
  }
  lines.push('', `run time ${seconds.toFixed(1)} s; results in ${OUT_FILE}`, '');
  process.stdout.write(lines.join('\n'));

  writeJson(OUT_FILE, {
    at: new Date().toISOString(),
    machine,
    options,
    raw,
    handler: app,
    unloaded: { raw: rawSerial, handler: appSerial, p99_added_ms: serialP99Added },
    ratio: { throughput: ratio, p99_added_ms: p99Added, per_round: { throughput: ratios, p99_added_ms: p99Adds } },
    goals: {
      throughput_ratio: { goal: GOALS.throughputRatio, pass: ratio >= GOALS.throughputRatio },
      p99_added_ms: { goal: GOALS.p99AddedMs, pass: p99Added < GOALS.p99AddedMs },
    },
    contended: contended ? { ...contended, ratio_to_uncontended: contendedRatio(contended, app) } : null,
    run_seconds: round2(seconds),
  });
};

runMain(main);
