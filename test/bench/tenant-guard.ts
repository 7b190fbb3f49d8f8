/**
 * `npm run bench -- tenant-guard`: what the tenant guard (functions/platform/tenant-guard.ts) costs on
 * the stock-update handler path. The same handler, the same client, in alternating rounds with the
 * guard's middleware on the client and taken off it; and, apart from any I/O, the CPU of one check
 * of the update's TransactWriteItems input. Results in .data/bench/tenant-guard.json.
 *
 *   npm run bench -- tenant-guard [--quick] [--ops N] [--rounds N] [--concurrency N] [--warmup N]
 */
// Lets tsx's require() load the ESM-only @middy packages, as `npm start` does (first, as it asks).
import '../../bin/local/esm-only-packages';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { ensureTable, startDynamoLocal, type LocalDynamo } from '../../bin/local/dynamodb';
import { javaProblem } from '../../bin/local/java';
import type { StockLevel } from '../../functions/inventory/model';
import type { RequestContext } from '../../functions/platform/context';
import { countCalls, fmtRound, httpEvent, registerBenchUser, inBatches, intOption, lambdaContext, log, machineInfo, median, Pool, ROOT, round2, row, runMain, runRound, summarize, writeJson, type Round } from './common';

process.env.LOG_LEVEL = 'silent';

const TABLE = 'stockroom-bench';
const TENANT = 'bench';
const OUT_FILE = resolve(ROOT, '.data/bench/tenant-guard.json');

const main = async (): Promise<void> => {
  const { values } = parseArgs({
    options: { quick: { type: 'boolean', default: false }, ops: { type: 'string' }, concurrency: { type: 'string' }, rounds: { type: 'string' }, warmup: { type: 'string' } },
  });
  const defaults = values.quick ? { ops: 200, rounds: 2, warmup: 100 } : { ops: 2000, rounds: 4, warmup: 1000 };
  const ops = intOption('ops', values.ops, defaults.ops, 1);
  const rounds = intOption('rounds', values.rounds, defaults.rounds, 1);
  const warmup = intOption('warmup', values.warmup, defaults.warmup, 0);
  const concurrency = intOption('concurrency', values.concurrency, 16, 1);
  const problem = javaProblem();
  if (problem) throw new Error(problem);

  let dynamo: LocalDynamo | undefined;
  try {
    dynamo = await startDynamoLocal();
    await ensureTable(dynamo.endpoint, TABLE);
    process.env.DYNAMODB_ENDPOINT = dynamo.endpoint;
    process.env.TABLE_NAME = TABLE;
    const [{ handler }, { dbFromEnv }, guard, catalog, stock, { keys }] = await Promise.all([
      import('../../functions/inventory/handlers/update-stock'),
      import('../../functions/platform/db'),
      import('../../functions/platform/tenant-guard'),
      import('../../functions/inventory/catalog'),
      import('../../functions/inventory/stock'),
      import('../../functions/platform/keys'),
    ]);
    const db = dbFromEnv();
    const calls = countCalls(db.client);

    const ctx: RequestContext = { caller: { kind: 'user', tenantId: TENANT, role: 'admin', subject: 'bench' }, requestId: 'bench', now: () => new Date() };
    const deps = { db, ctx };
    await registerBenchUser(db, TENANT);
    const skus = Array.from({ length: Math.max(32, concurrency) }, (_, i) => `bench-sku-${i}`);
    await catalog.createProduct(deps, { product_id: 'p', name: 'Bench product' });
    await catalog.createWarehouse(deps, { warehouse_id: 'wh-0', name: 'Bench wh-0', latitude: 40, longitude: -74, priority: 10, active: true });
    await inBatches(skus, 16, (sku_id) => catalog.createSku(deps, { sku_id, product_id: 'p', name: sku_id, unit_cost: '4.20', price: '9.99', currency: 'USD' }));
    const levels = await inBatches(skus, 16, (sku_id) => stock.updateStock(deps, { sku_id, warehouse_id: 'wh-0', transaction_type: 'restock', quantity: 1000, reference: 'bench-opening' }));
    const pool = new Pool<StockLevel>(levels);

    const op = (): Promise<boolean> =>
      pool.with(async (i) => {
        const { sku_id, warehouse_id } = pool.items[i] as StockLevel;
        const event = httpEvent('POST /api/inventory/update', TENANT, { sku_id, warehouse_id, transaction_type: 'restock', quantity: 1, reference: 'bench' });
        const result = await handler(event, lambdaContext('update-stock', event.requestContext.requestId));
        return result.statusCode === 200;
      });
    const guardOff = (): void => void db.client.middlewareStack.remove(guard.TENANT_GUARD_MIDDLEWARE);
    const guardOn = (): void => guard.installTenantGuard(db.client);

    if (warmup > 0) {
      log(`warming up: ${warmup} ops each way...`);
      guardOff();
      await runRound(warmup, concurrency, op, calls);
      guardOn();
      await runRound(warmup, concurrency, op, calls);
    }
    const on: Round[] = [];
    const off: Round[] = [];
    for (let r = 1; r <= rounds; r++) {
      // Alternating, the order swapped each round, so drift and the other tenants of these cores hit both alike.
      const order = r % 2 ? (['off', 'on'] as const) : (['on', 'off'] as const);
      for (const which of order) {
        if (which === 'off') guardOff();
        else guardOn();
        (which === 'on' ? on : off).push(await runRound(ops, concurrency, op, calls));
      }
      log(`round ${r}/${rounds}: guard off ${fmtRound(off.at(-1) as Round)} | on ${fmtRound(on.at(-1) as Round)}`);
    }
    guardOn();

    // The check alone, on the update's own transaction (a level put and a ledger put), no I/O.
    const level = keys.stockLevel(TENANT, 'bench-sku-0', 'wh-0');
    const movement = keys.movement(TENANT, 'bench-sku-0', '01J0000000000000000000000A');
    const input = {
      TransactItems: [
        { Put: { TableName: TABLE, Item: { pk: { S: level.pk }, sk: { S: level.sk } }, ConditionExpression: '#v = :v' } },
        { Put: { TableName: TABLE, Item: { pk: { S: movement.pk }, sk: { S: movement.sk } } } },
      ],
    };
    const checks = 200_000;
    const t0 = performance.now();
    for (let i = 0; i < checks; i++) if (guard.tenantRefusal(TENANT, 'TransactWriteItems', input) !== undefined) throw new Error('the bench input was refused');
    const checkUs = ((performance.now() - t0) * 1000) / checks;

    const ratios = on.map((r, i) => round2(r.throughput / (off[i] as Round).throughput));
    const p99Adds = on.map((r, i) => round2(r.p99_ms - (off[i] as Round).p99_ms));
    const sOn = summarize(on);
    const sOff = summarize(off);
    const machine = machineInfo();
    process.stdout.write(
      [
        '',
        'tenant guard: the stock-update handler path with the guard on and off (DynamoDB Local, in memory)',
        `machine: node ${machine.node}, ${machine.cpus} CPUs (${machine.cpu_model}), load ${machine.load_average_1m}`,
        `workload: restock 1 unit on ${skus.length} levels, ${ops} ops per round, ${rounds} round(s) alternating, ${concurrency} clients; median of rounds`,
        '',
        row(['guard', 'ops/s', 'p50 ms', 'p99 ms', 'errors', 'cpu ms/op', 'calls/op']),
        row(['off', sOff.throughput, sOff.p50_ms, sOff.p99_ms, sOff.errors, sOff.node_cpu_ms_per_op, sOff.dynamo_calls_per_op]),
        row(['on', sOn.throughput, sOn.p50_ms, sOn.p99_ms, sOn.errors, sOn.node_cpu_ms_per_op, sOn.dynamo_calls_per_op]),
        '',
        `on/off throughput   ${round2(median(ratios)).toFixed(2)}   per round: ${ratios.join(', ')}`,
        `p99 added           ${round2(median(p99Adds)).toFixed(2)} ms   per round: ${p99Adds.join(', ')}`,
        `one check of the update's transaction: ${checkUs.toFixed(2)} us of CPU (${checks} checks)`,
        '',
      ].join('\n'),
    );
    writeJson(OUT_FILE, { at: new Date().toISOString(), machine, ops, rounds, concurrency, on: sOn, off: sOff, ratios, p99Adds, check_us: round2(checkUs) });
  } finally {
    dynamo?.stop();
  }
};

runMain(main);
