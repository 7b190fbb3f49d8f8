/**
 * `npm run bench -- load` (issue 15, item 2): the whole local runtime (`npm start`, in a child, in
 * memory) driven over HTTP by autocannon with a realistic mix: 70% reads (a SKU's stock 45%, the level
 * list 15%, a SKU 10%), 20% stock updates (sales and restocks of one unit), 8% order allocations (a
 * new order each), 2% purchasing (a draft purchase order). One autocannon instance per route, each at
 * its share of the total rate, all at once, so each route has its own latency figures.
 *
 * After a warm-up (each handler's first request is a cold start; not counted), steps: the total rate goes up (40, 80, 115, 160, 220, 300, 400 ... requests a second) until a
 * route's p99 passes 200 ms or requests fail. Reported: per step and route the rate, p50, p99 and
 * errors; per route the highest rate it held with p99 under 200 ms; the verdict on the product's stated
 * average of 115 requests a second, and the headroom (the highest total rate every route held / 115).
 * Then a soak at half that rate: the runtime's memory (RSS of its Node process and of DynamoDB
 * Local's JVM) and open file descriptors at the start, every 10 s and at the end, and the errors.
 *
 *   npm run bench -- load                   steps of 20 s, a 10-minute soak
 *   npm run bench -- load --quick           steps of 8 s, a 30-second soak
 *   npm run bench -- load --step-seconds 30 --soak-seconds 1200
 *
 * A measurement, not a test. Results also go to .data/bench/load.json.
 */
import autocannon from 'autocannon';
import { readdirSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { startLocalRuntime, type RunningLocal } from '../support/local-runtime';
import { intOption, log, machineInfo, ROOT, round2, row, runMain, writeJson } from './common';

const OUT_FILE = resolve(ROOT, '.data/bench/load.json');
const P99_GOAL_MS = 200;
const STATED_AVERAGE = 115;
const RATES = [40, 80, 115, 160, 220, 300, 400, 550, 750, 1000];
const SKUS = 50;
const WAREHOUSES = ['wh-a', 'wh-b'];

const { values } = parseArgs({ options: { quick: { type: 'boolean', default: false }, 'step-seconds': { type: 'string' }, 'soak-seconds': { type: 'string' } } });
const stepSeconds = intOption('step-seconds', values['step-seconds'], values.quick ? 8 : 20, 2);
const soakSeconds = intOption('soak-seconds', values['soak-seconds'], values.quick ? 30 : 600, 10);

const skuOf = (i: number): string => `load-sku-${i % SKUS}`;
const pick = <T>(items: readonly T[]): T => items[Math.floor(Math.random() * items.length)] as T;
let sequence = 0;

/** One route of the mix: its share of the total rate and the request it sends (built anew for each request). */
interface MixRoute {
  name: string;
  share: number;
  method: 'GET' | 'POST';
  path: () => string;
  body?: () => unknown;
}

const MIX: readonly MixRoute[] = [
  { name: 'getSkuInventory', share: 0.45, method: 'GET', path: () => `/api/inventory/sku/${skuOf(Math.floor(Math.random() * SKUS))}` },
  { name: 'listLevels', share: 0.15, method: 'GET', path: () => '/api/inventory/levels?limit=50' },
  { name: 'getSku', share: 0.1, method: 'GET', path: () => `/api/skus/${skuOf(Math.floor(Math.random() * SKUS))}` },
  {
    name: 'updateStock',
    share: 0.2,
    method: 'POST',
    path: () => '/api/inventory/update',
    body: () => ({ sku_id: skuOf(Math.floor(Math.random() * SKUS)), warehouse_id: pick(WAREHOUSES), transaction_type: pick(['sale', 'restock']), quantity: 1 }),
  },
  {
    name: 'allocateOrder',
    share: 0.08,
    method: 'POST',
    path: () => '/api/orders/allocate',
    body: () => ({ order_id: `load-${process.pid}-${(sequence += 1)}`, lines: [{ sku_id: skuOf(Math.floor(Math.random() * SKUS)), quantity: 1 }], ship_to: { latitude: 40, longitude: -74 } }),
  },
  {
    name: 'createPurchaseOrder',
    share: 0.02,
    method: 'POST',
    path: () => '/api/purchase-orders',
    body: () => ({ supplier_id: 'load-supplier', warehouse_id: pick(WAREHOUSES), lines: [{ sku_id: skuOf(Math.floor(Math.random() * SKUS)), quantity: 10, unit_cost: '2.50' }] }),
  },
];

interface RouteResult {
  route: string;
  rate: number;
  requests: number;
  p50: number;
  p99: number;
  errors: number;
}

/** One route at `rate` requests a second for `seconds`, through its own autocannon instance. */
const drive = async (runtime: RunningLocal, route: MixRoute, rate: number, seconds: number): Promise<RouteResult> => {
  // autocannon paces whole requests a second: a route's share rounds to at least one.
  const perSecond = Math.max(1, Math.round(rate));
  const headers = { authorization: `Bearer ${runtime.token}`, 'content-type': 'application/json' };
  const result = await autocannon({
    url: runtime.url,
    // Enough connections that the rate, not the connections, sets the pace (a request taking up to 1 s).
    connections: Math.max(2, Math.ceil(perSecond / 4)),
    overallRate: perSecond,
    duration: seconds,
    requests: [
      {
        method: route.method,
        setupRequest: (request) => ({ ...request, path: route.path(), headers, ...(route.body ? { body: JSON.stringify(route.body()) } : {}) }),
      },
    ],
  });
  return {
    route: route.name,
    rate: perSecond,
    requests: result.requests.total,
    p50: result.latency.p50,
    p99: result.latency.p99,
    errors: result.errors + result.timeouts + result.non2xx,
  };
};

/** The processes of the runtime: its Node process(es) and DynamoDB Local's JVM, from /proc (Linux). */
const processTree = (root: number): number[] => {
  const children = new Map<number, number[]>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const parent = Number(/PPid:\s+(\d+)/.exec(readFileSync(`/proc/${entry}/status`, 'utf8'))?.[1]);
      children.set(parent, [...(children.get(parent) ?? []), Number(entry)]);
    } catch {
      // gone meanwhile
    }
  }
  const all: number[] = [];
  const visit = (pid: number): void => {
    all.push(pid);
    for (const child of children.get(pid) ?? []) visit(child);
  };
  visit(root);
  return all;
};

interface Footprint {
  at_s: number;
  node_rss_mb: number;
  java_rss_mb: number;
  open_fds: number;
}
const footprint = (root: number, startedAt: number): Footprint => {
  let node = 0;
  let java = 0;
  let fds = 0;
  for (const pid of processTree(root)) {
    try {
      const status = readFileSync(`/proc/${pid}/status`, 'utf8');
      const rss = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0) / 1024;
      const name = /Name:\s+(\S+)/.exec(status)?.[1] ?? '';
      if (name === 'java') java += rss;
      else {
        node += rss;
        fds += readdirSync(`/proc/${pid}/fd`).length;
      }
    } catch {
      // gone meanwhile
    }
  }
  return { at_s: Math.round((Date.now() - startedAt) / 1000), node_rss_mb: round2(node), java_rss_mb: round2(java), open_fds: fds };
};

const call = async (runtime: RunningLocal, method: string, path: string, body: unknown): Promise<void> => {
  const response = await fetch(`${runtime.url}${path}`, { method, headers: { authorization: `Bearer ${runtime.token}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
  if (response.status >= 300) throw new Error(`${method} ${path}: ${response.status} ${await response.text()}`);
};

const seed = async (runtime: RunningLocal): Promise<void> => {
  await call(runtime, 'POST', '/api/products', { product_id: 'load-product', name: 'Load' });
  for (const [i, warehouse] of WAREHOUSES.entries()) await call(runtime, 'POST', '/api/warehouses', { warehouse_id: warehouse, name: warehouse, latitude: 40 + i, longitude: -74 - i });
  await call(runtime, 'POST', '/api/suppliers', { supplier_id: 'load-supplier', name: 'Load supplies', lead_time_days: 5, currency: 'USD' });
  for (let i = 0; i < SKUS; i += 1) {
    await call(runtime, 'POST', '/api/skus', { sku_id: skuOf(i), product_id: 'load-product', name: `Load ${i}` });
    // Plenty of stock: a sale or an allocation is never refused for want of it during the run.
    for (const warehouse of WAREHOUSES) await call(runtime, 'POST', '/api/inventory/update', { sku_id: skuOf(i), warehouse_id: warehouse, transaction_type: 'restock', quantity: 1_000_000 });
  }
};

const main = async (): Promise<void> => {
  const runtime = await startLocalRuntime({ timeoutMs: 180_000 });
  try {
    log(`seeding ${SKUS} SKUs x ${WAREHOUSES.length} warehouses through the API`);
    await seed(runtime);
    // Warm up first, not counted: each route's handler module loads on its first request (a cold start), and DynamoDB Local's JIT warms.
    const warmSeconds = Math.max(10, stepSeconds);
    log(`warm-up: 40 requests a second for ${warmSeconds} s (not counted)`);
    await Promise.all(MIX.map((route) => drive(runtime, route, 40 * route.share, warmSeconds)));
    const steps: { rate: number; routes: RouteResult[] }[] = [];
    for (const rate of RATES) {
      log(`step: ${rate} requests a second for ${stepSeconds} s`);
      const routes = await Promise.all(MIX.map((route) => drive(runtime, route, rate * route.share, stepSeconds)));
      steps.push({ rate, routes });
      for (const r of routes) log(`  ${r.route}: ${r.requests} requests, p50 ${r.p50} ms, p99 ${r.p99} ms, errors ${r.errors}`);
      if (routes.some((r) => r.p99 > P99_GOAL_MS || r.errors > 0)) break;
    }
    const held = (step: { routes: RouteResult[] }): boolean => step.routes.every((r) => r.p99 <= P99_GOAL_MS && r.errors === 0);
    const heldSteps = steps.filter(held);
    const highestHeld = heldSteps.at(-1)?.rate ?? 0;
    const statedStep = steps.find((s) => s.rate === STATED_AVERAGE);
    const perRoute = MIX.map((route) => {
      const ok = steps.flatMap((s) => s.routes.filter((r) => r.route === route.name && r.p99 <= P99_GOAL_MS && r.errors === 0));
      return { route: route.name, share: route.share, highest_rate_held: ok.at(-1)?.rate ?? 0 };
    });

    const soakRate = Math.max(highestHeld, STATED_AVERAGE) / 2;
    log(`soak: ${soakRate} requests a second for ${soakSeconds} s`);
    const startedAt = Date.now();
    const samples: Footprint[] = [footprint(runtime.pid, startedAt)];
    const sampler = setInterval(() => samples.push(footprint(runtime.pid, startedAt)), 10_000);
    const soak = await Promise.all(MIX.map((route) => drive(runtime, route, soakRate * route.share, soakSeconds)));
    clearInterval(sampler);
    // Idle a moment, so what is left open is what stays open.
    await new Promise((done) => setTimeout(done, 3_000));
    samples.push(footprint(runtime.pid, startedAt));

    console.log(`\nload: npm start (in memory) over HTTP, autocannon per route, steps of ${stepSeconds} s; p99 goal ${P99_GOAL_MS} ms\n`);
    console.log(row(['step req/s', ...MIX.map((r) => `${r.name} p50/p99 ms (errors)`)]));
    for (const step of steps) console.log(row([step.rate, ...step.routes.map((r) => `${r.p50}/${r.p99} (${r.errors})`)]));
    console.log('');
    for (const r of perRoute) console.log(`${r.route} (${Math.round(r.share * 100)}%): highest rate held with p99 under ${P99_GOAL_MS} ms and no errors: ${r.highest_rate_held} req/s`);
    const statedHeld = statedStep !== undefined && held(statedStep);
    console.log(
      `\n${STATED_AVERAGE} req/s with p99 under ${P99_GOAL_MS} ms on every route: ${statedHeld ? 'HELD' : 'NOT HELD'}; highest total rate held ${highestHeld} req/s, headroom ${round2(highestHeld / STATED_AVERAGE)}x`,
    );
    const first = samples[0]!;
    const last = samples.at(-1)!;
    const soakErrors = soak.reduce((s, r) => s + r.errors, 0);
    console.log(
      `soak at ${soakRate} req/s for ${soakSeconds} s: ${soak.reduce((s, r) => s + r.requests, 0)} requests, ${soakErrors} errors; ` +
        `node RSS ${first.node_rss_mb} -> ${last.node_rss_mb} MB (max ${Math.max(...samples.map((s) => s.node_rss_mb))}), ` +
        `DynamoDB Local RSS ${first.java_rss_mb} -> ${last.java_rss_mb} MB, open fds ${first.open_fds} -> ${last.open_fds}`,
    );
    writeJson(OUT_FILE, { machine: machineInfo(), stepSeconds, soakSeconds, steps, perRoute, highestHeld, statedHeld, soak: { rate: soakRate, routes: soak, samples } });
  } finally {
    await runtime.stop();
  }
};

runMain(main);
