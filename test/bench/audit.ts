/**
 * `npm run bench -- audit`: what the audit trail (issue 12) costs on the two hottest write paths,
 * the stock update and the order allocation, through their real handlers with the trail's step
 * and without it (STOCKROOM_AUDIT_TRAIL=off, a switch only this benchmark sets), in the same run
 * against one DynamoDB Local. Rounds alternate the two (the order swapped every round, so drift
 * cancels within a pair); the judged figures are the medians of the per-round throughput ratio
 * (audited / not audited; goal >= 0.9) and of the p99 added.
 *
 *   npm run bench -- audit                 full run
 *   npm run bench -- audit --quick         smoke run
 *   npm run bench -- --only audit --ops 2000 --concurrency 16 --rounds 5
 *   npx tsx test/bench/audit.ts --same-table   records in the domain table (a diagnosis, see options.sameTable)
 *
 * Both paths write the record in the change's own transaction (one more item in it), so the cost
 * is the item's bytes and the step's bookkeeping, not a round trip. A measurement, not a test.
 * Results also go to .data/bench/audit.json.
 */
// Lets tsx's require() load the ESM-only @middy packages, as `npm start` does (first, as it asks).
import '../../bin/local/esm-only-packages';
import type { Context } from 'aws-lambda';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { ensureTable, startDynamoLocal, type LocalDynamo } from '../../bin/local/dynamodb';
import { javaProblem } from '../../bin/local/java';
import type { HttpEvent, HttpResult } from '../../functions/platform/http';
import { countCalls, fmtRound, httpEvent, registerBenchUser, inBatches, intOption, lambdaContext, log, machineInfo, median, ROOT, round2, row, runMain, runRound, summarize, writeJson, type Round } from './common';

process.env.LOG_LEVEL = 'silent';

const TABLE = 'stockroom-bench-audit';
const TENANT = 'bench';
const OUT_FILE = resolve(ROOT, '.data/bench/audit.json');
const GOAL_RATIO = 0.9;
const SKUS = 64;
const WAREHOUSES = ['wh-1', 'wh-2'];

type Handler = (event: HttpEvent, context: Context) => Promise<HttpResult>;

const { values } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    ops: { type: 'string' },
    concurrency: { type: 'string' },
    rounds: { type: 'string' },
    warmup: { type: 'string' },
    'same-table': { type: 'boolean', default: false },
  },
});
const quick = values.quick ?? false;
const options = {
  ops: intOption('ops', values.ops, quick ? 300 : 2000, 1),
  concurrency: intOption('concurrency', values.concurrency, 16, 1),
  rounds: intOption('rounds', values.rounds, quick ? 2 : 5, 1),
  warmup: intOption('warmup', values.warmup, quick ? 200 : 1000, 0),
  /**
   * Records in the domain table instead of their own (a diagnosis, never the product's layout): DynamoDB Local
   * serializes transactions that span tables far more than DynamoDB does, and this shows how much of the cost is that.
   */
  sameTable: values['same-table'] ?? false,
};

/**
 * A fresh instance of a handler module, built with the trail's step on or off: the step reads its
 * switch once, when httpHandler builds the handler (functions/platform/http.ts auditStep).
 */
const loadHandler = (entry: string, audited: boolean): Handler => {
  process.env.STOCKROOM_AUDIT_TRAIL = audited ? 'on' : 'off';
  const path = require.resolve(resolve(ROOT, entry));
  delete require.cache[path];
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- a second instance of one module needs the CommonJS cache
  const loaded = require(path) as { handler: Handler };
  delete process.env.STOCKROOM_AUDIT_TRAIL;
  return loaded.handler;
};

/**
 * Warm both sides up, then `rounds` rounds of each, the order swapped every round (a machine that speeds up or
 * slows down within the run favours neither): the rounds of each side and the per-round throughput ratios on/off.
 */
const alternatingRounds = async (label: [string, string], op: (on: boolean) => () => Promise<boolean>, calls: Parameters<typeof runRound>[3], name: string) => {
  log(`${name}: warming up both sides (${options.warmup} ops each)`);
  await runRound(options.warmup, options.concurrency, op(false), calls);
  await runRound(options.warmup, options.concurrency, op(true), calls);
  const on: Round[] = [];
  const off: Round[] = [];
  for (let r = 1; r <= options.rounds; r++) {
    for (const side of r % 2 ? [false, true] : [true, false]) (side ? on : off).push(await runRound(options.ops, options.concurrency, op(side), calls));
    log(`${name} round ${r}/${options.rounds}: ${label[0]} ${fmtRound(on.at(-1) as Round)} | ${label[1]} ${fmtRound(off.at(-1) as Round)}`);
  }
  const ratios = on.map((round, i) => round2(round.throughput / (off[i] as Round).throughput));
  const p99Added = on.map((round, i) => round2(round.p99_ms - (off[i] as Round).p99_ms));
  return { on, off, ratios, ratio: round2(median(ratios)), p99Added };
};

const main = async (): Promise<void> => {
  const problem = javaProblem();
  if (problem) throw new Error(problem);
  let dynamo: LocalDynamo | undefined;
  try {
    dynamo = await startDynamoLocal();
    await ensureTable(dynamo.endpoint, TABLE);
    process.env.DYNAMODB_ENDPOINT = dynamo.endpoint;
    process.env.TABLE_NAME = TABLE;
    if (options.sameTable) process.env.AUDIT_TABLE_NAME = TABLE;
    const { dbFromEnv } = await import('../../functions/platform/db');
    const calls = countCalls(dbFromEnv().client);

    const paths = {
      updateStock: { entry: 'functions/inventory/handlers/update-stock.ts', routeKey: 'POST /api/inventory/update' },
      allocateOrder: { entry: 'functions/orders/handlers/allocate-order.ts', routeKey: 'POST /api/orders/allocate' },
    };
    const handlers = {
      updateStock: { on: loadHandler(paths.updateStock.entry, true), off: loadHandler(paths.updateStock.entry, false) },
      allocateOrder: { on: loadHandler(paths.allocateOrder.entry, true), off: loadHandler(paths.allocateOrder.entry, false) },
    };
    const setup = {
      product: loadHandler('functions/inventory/handlers/create-product.ts', false),
      sku: loadHandler('functions/inventory/handlers/create-sku.ts', false),
      warehouse: loadHandler('functions/inventory/handlers/create-warehouse.ts', false),
    };
    let n = 0;
    const call = async (handler: Handler, routeKey: string, body: unknown): Promise<HttpResult> => {
      const event = httpEvent(routeKey, TENANT, body);
      return handler(event, lambdaContext('bench', `${event.requestContext.requestId}-${n++}`));
    };
    const expectOk = (result: HttpResult, what: string): void => {
      if ((result.statusCode ?? 0) >= 300) throw new Error(`${what}: ${result.statusCode} ${result.body ?? ''}`);
    };

    // The bench's caller is a user of the directory (the HTTP layer refuses a token of nobody).
    await registerBenchUser((await import('../../functions/platform/db')).dbFromEnv(), TENANT);
    log('seeding: one product, 64 SKUs in 2 warehouses, plenty of stock');
    expectOk(await call(setup.product, 'POST /api/products', { product_id: 'p-1', name: 'Bench' }), 'product');
    for (const [i, id] of WAREHOUSES.entries()) expectOk(await call(setup.warehouse, 'POST /api/warehouses', { warehouse_id: id, name: id, latitude: 40 + i, longitude: -74 - i }), 'warehouse');
    const skus = Array.from({ length: SKUS }, (_, i) => `sku-${i}`);
    await inBatches(skus, 8, async (sku) => expectOk(await call(setup.sku, 'POST /api/skus', { sku_id: sku, product_id: 'p-1', name: sku }), 'sku'));
    await inBatches(
      skus.flatMap((sku) => WAREHOUSES.map((warehouse_id) => ({ sku_id: sku, warehouse_id }))),
      8,
      async (level) => expectOk(await call(handlers.updateStock.off, paths.updateStock.routeKey, { ...level, transaction_type: 'restock', quantity: 900_000 }), 'restock'),
    );

    let next = 0;
    // Restocks and sales alternate, so no level runs out however long the run.
    const stockOp = (handler: Handler) => async (): Promise<boolean> => {
      const i = next++;
      const body = { sku_id: skus[i % SKUS], warehouse_id: WAREHOUSES[(i >> 6) % 2], transaction_type: i % 2 ? 'sale' : 'restock', quantity: 1 };
      return ((await call(handler, paths.updateStock.routeKey, body)).statusCode ?? 500) < 300;
    };
    const allocateOp = (handler: Handler) => async (): Promise<boolean> => {
      const i = next++;
      const body = { order_id: `o-${i}-${handler === handlers.allocateOrder.on ? 'a' : 'n'}`, lines: [{ sku_id: skus[i % SKUS], quantity: 1 }], ship_to: { latitude: 40, longitude: -74 } };
      return ((await call(handler, paths.allocateOrder.routeKey, body)).statusCode ?? 500) < 300;
    };

    const results: Record<string, unknown> = {};
    const lines: string[] = [];

    // ----- the floor: what DynamoDB Local charges for one more item in a transaction, with no handler at all -----
    // A stock update's own two writes (the level's increment, the ledger row) as one raw TransactWriteItems, and the same
    // with the audit record the trail adds to it (built by the trail's own functions, as the handler's would be): the
    // ratio the trail cannot beat here while the record rides in the change's transaction, as the issue asks.
    const [{ TransactWriteCommand }, store, { auditItem, auditPut }, { auditTableName }, { monotonicFactory }, { httpRoutes }] = await Promise.all([
      import('@aws-sdk/lib-dynamodb'),
      import('../../functions/inventory/store'),
      import('../../functions/platform/audit'),
      import('../../functions/platform/table'),
      import('ulid'),
      import('../../functions/wiring'),
    ]);
    const appDb = dbFromEnv();
    const movementId = monotonicFactory();
    const caller = { kind: 'user' as const, tenantId: TENANT, role: 'admin' as const, subject: 'bench-user', email: 'bench@bench.invalid' };
    const rawStockWrites = (i: number) => {
      const target = { sku_id: skus[i % SKUS] as string, warehouse_id: WAREHOUSES[(i >> 6) % 2] as string };
      const at = new Date().toISOString();
      const id = movementId();
      const deltas = { on_hand: 1, reserved: 0, available: 1, incoming: 0 };
      return {
        target,
        at,
        id,
        writes: [
          store.levelIncrement(appDb, TENANT, target, { deltas, guards: [] }, id, at, () => undefined),
          store.movementPut(appDb, TENANT, { movement_id: id, ...target, type: 'restock', deltas, actor: 'bench-user', created_at: at }),
        ],
      };
    };
    const rawOp = (withRecord: boolean) => async (): Promise<boolean> => {
      const i = next++;
      const { target, at, id, writes } = rawStockWrites(i);
      const record = withRecord
        ? [{ Put: auditPut(auditTableName(), auditItem(
            { route: httpRoutes.updateStock, action: 'updateStock', caller, at, requestId: `raw-${i}`, path: '/api/inventory/update', pathParameters: {}, body: { ...target, transaction_type: 'restock', quantity: 1 }, sourceIp: '127.0.0.1', userAgent: 'bench' },
            { status: 200 },
            { changes: [{ key: `STOCK#${target.sku_id}/${target.warehouse_id}`, op: 'update', after: { updated_at: at, last_movement_id: id }, added: { on_hand: 1, reserved: 0, available: 1, incoming: 0, version: 1 } }], ledgerIds: [id], truncated: 0, replayed: false },
            'transaction',
          )) }]
        : [];
      try {
        await appDb.client.send(new TransactWriteCommand({ TransactItems: [...writes.map((w) => w.item), ...record] }));
        return true;
      } catch {
        return false;
      }
    };
    {
      const { on: withRecord, off: without, ratios, ratio } = await alternatingRounds(['with the record', 'without'], rawOp, calls, 'floor');
      results.floor = { with_record: summarize(withRecord), without_record: summarize(without), ratios, ratio };
      lines.push(
        `floor: a stock update's two writes as one raw transaction, with the audit record as a third item / without it: ${ratio.toFixed(2)}   per round: ${ratios.join(', ')}`,
        '       (DynamoDB Local, not the handler: the best the audited handler can reach here while the record rides in the transaction)',
        '',
      );
    }
    for (const [name, op] of [['updateStock', stockOp], ['allocateOrder', allocateOp]] as const) {
      const { on, off } = handlers[name];
      const { on: audited, off: plain, ratios, ratio, p99Added } = await alternatingRounds(['audited', 'not audited'], (audit) => op(audit ? on : off), calls, name);
      results[name] = { audited: summarize(audited), not_audited: summarize(plain), ratios, ratio, p99_added_ms: round2(median(p99Added)) };
      const a = summarize(audited);
      const p = summarize(plain);
      lines.push(
        row(['', 'ops/s', 'p50 ms', 'p99 ms', 'errors', 'dynamo calls/op']),
        row([`${name} audited`, a.throughput, a.p50_ms, a.p99_ms, a.errors, a.dynamo_calls_per_op]),
        row([`${name} not audited`, p.throughput, p.p50_ms, p.p99_ms, p.errors, p.dynamo_calls_per_op]),
        `${name}: audited/not audited throughput ${ratio.toFixed(2)}   goal >= ${GOAL_RATIO}   ${ratio >= GOAL_RATIO ? 'MET' : 'MISSED'}   per round: ${ratios.join(', ')}`,
        `${name}: p99 added by the audit trail ${round2(median(p99Added))} ms (median of per-round differences: ${p99Added.join(', ')})`,
        '',
      );
    }
    process.stdout.write(
      [
        `audit trail cost: the handler paths with the trail's step and without it (DynamoDB Local, in memory, ${options.concurrency} clients, ${options.ops} ops a round)`,
        options.sameTable ? '(--same-table: records in the domain table, to measure what DynamoDB Local charges for a transaction spanning two tables)' : '',
        ...lines,
      ].join('\n') + '\n',
    );
    writeJson(OUT_FILE, { options, machine: machineInfo(), results });
  } finally {
    dynamo?.stop();
  }
};

runMain(main);
