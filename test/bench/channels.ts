/**
 * `npm run bench -- channels`: channel sync under a steady stream of stock changes (issue 11, "Benchmark").
 *
 *   npm run bench -- channels              50 changes a second across 200 SKUs for 60 s (about 2 minutes)
 *   npm run bench -- channels --quick      the same rate for 15 s
 *   npm run bench -- channels --rate 20 --skus 100 --seconds 30
 *
 * The whole local push path runs in this process as `npm start` runs it: DynamoDB Local with its stream ->
 * the stream poller -> the in-process bus -> the router consumer -> the platforms' local FIFO queues -> the
 * push workers -> the Shopify Admin fake (a Standard plan's bucket: 1,000 points, 100 restored a second) and
 * the SP-API fake (patch: 5 a second, burst 5) over real HTTP. One tenant, one warehouse, one connection to
 * each, every SKU mapped. Changes are sales and restocks through the inventory context's updateStock, spread
 * evenly over the SKUs at random.
 *
 * Reported per channel:
 * - sync lag: for each change, from its commit until the channel first shows a quantity at least as new as it
 *   (the quantity of that change or of a later one of the same SKU): p50, p99, max, and changes never shown;
 * - requests per change (platform calls that succeeded / stock changes), and the quantity updates they made;
 * - the most the fake saw spent in any second, against its limit (Amazon: requests; Shopify: query-cost
 *   points, since one set carries many SKUs), and its 429s or THROTTLEDs;
 * - whether every SKU ends showing our quantity.
 * A measurement, not a test: nothing here fails the run. Results also go to .data/bench/channels.json.
 */
import '../../bin/local/esm-only-packages';
import type { IncomingMessage } from 'node:http';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { ensureTable, startDynamoLocal, type LocalDynamo } from '../../bin/local/dynamodb';
import type { RequestContext } from '../../functions/platform/context';
import { locationGid, READ_COST, SET_COST, ShopifyAdminFake } from '../fakes/shopify-admin';
import type { Reply } from '../fakes/server';
import { SpApiFake } from '../fakes/sp-api';
import { intOption, log, machineInfo, ROOT, round2, runMain, writeJson } from './common';

process.env.LOG_LEVEL = 'silent';
process.env.LOCAL_MODE = '1';
process.env.CHANNEL_SECRETS = 'memory';

const TABLE = 'stockroom-bench-channels';
const TENANT = 'bench-channels';
const OUT_FILE = resolve(ROOT, '.data/bench/channels.json');
const SELLER = 'A1BENCHSELLER';
const SHOP_TOKEN = 'shpat_bench';
const LWA = { clientId: 'amzn1.application-oa2-client.bench', clientSecret: 'bench-secret', refreshToken: 'Atzr|bench' };

/** The SP-API fake, noting when each listing's quantity changed (the Shopify fake keeps its own timeline). */
class TimedSpApi extends SpApiFake {
  readonly timeline: { key: string; quantity: number; at: number }[] = [];
  protected override handleRequest(req: IncomingMessage, body: string, url: URL): Reply {
    const key = /\/items\/([^/]+)\/([^/?]+)/.exec(url.pathname);
    const id = key ? `${decodeURIComponent(key[1] ?? '')}/${decodeURIComponent(key[2] ?? '')}` : '';
    const before = this.listings.get(id)?.quantity;
    const reply = super.handleRequest(req, body, url);
    const after = this.listings.get(id)?.quantity;
    if (req.method === 'PATCH' && after !== before && typeof after === 'number') this.timeline.push({ key: id, quantity: after, at: Date.now() });
    return reply;
  }
}

interface Change {
  sku: string;
  quantity: number;
  at: number;
}

/** Per change: ms until the channel showed its quantity or a later change's; `never` counts those it never did. */
const lagsOf = (changes: Change[], shown: { sku: string; quantity: number; at: number }[]): { lags: number[]; never: number } => {
  const bySku = new Map<string, { changes: Change[]; shown: { quantity: number; at: number }[] }>();
  for (const c of changes) {
    const entry = bySku.get(c.sku) ?? { changes: [], shown: [] };
    entry.changes.push(c);
    bySku.set(c.sku, entry);
  }
  for (const s of shown) bySku.get(s.sku)?.shown.push(s);
  const lags: number[] = [];
  let never = 0;
  for (const { changes: cs, shown: ss } of bySku.values()) {
    ss.sort((a, b) => a.at - b.at);
    /** What the channel showed at `at` (undefined before its first push in the run). */
    const showing = (at: number): number | undefined => [...ss].reverse().find((s) => s.at <= at)?.quantity;
    for (const [i, change] of cs.entries()) {
      // Change i is shown at the first moment from its commit on when the channel shows its quantity or that of a
      // later change already made: a push landing, or a later change bringing ours back to what the channel shows.
      const later = cs.slice(i);
      const moments = [change.at, ...ss.filter((s) => s.at >= change.at).map((s) => s.at), ...later.map((c) => c.at)].sort((a, b) => a - b);
      const at = moments.find((m) => {
        const shownThen = showing(m);
        return shownThen !== undefined && later.some((c) => c.at <= m && c.quantity === shownThen);
      });
      if (at === undefined) never += 1;
      else lags.push(at - change.at);
    }
  }
  return { lags: lags.sort((a, b) => a - b), never };
};

const pct = (sorted: number[], p: number): number => (sorted.length ? (sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0) : 0);

/** The most `cost` spent within any 1-second window (requests for Amazon, query-cost points for Shopify). */
const peakPerSecond = (spent: { at: number; cost: number }[]): number => {
  const sorted = [...spent].sort((a, b) => a.at - b.at);
  let peak = 0;
  let sum = 0;
  for (let i = 0, j = 0; i < sorted.length; i++) {
    sum += sorted[i]?.cost ?? 0;
    while ((sorted[i]?.at ?? 0) - (sorted[j]?.at ?? 0) >= 1000) sum -= sorted[j++]?.cost ?? 0;
    peak = Math.max(peak, sum);
  }
  return peak;
};

const main = async (): Promise<void> => {
  const { values } = parseArgs({ options: { quick: { type: 'boolean', default: false }, rate: { type: 'string' }, skus: { type: 'string' }, seconds: { type: 'string' } } });
  const rate = intOption('rate', values.rate, 50, 1);
  const skuCount = intOption('skus', values.skus, 200, 1);
  const seconds = intOption('seconds', values.seconds, values.quick ? 15 : 60, 1);

  let dynamo: LocalDynamo | undefined;
  const shopify = await ShopifyAdminFake.start(SHOP_TOKEN);
  shopify.throttle({ maximumAvailable: 1000, restoreRate: 100, currentlyAvailable: 1000 });
  const amazon = new TimedSpApi(LWA);
  await amazon.server.start();
  try {
    dynamo = await startDynamoLocal();
    await ensureTable(dynamo.endpoint, TABLE);
    process.env.DYNAMODB_ENDPOINT = dynamo.endpoint;
    process.env.TABLE_NAME = TABLE;
    const [{ dbFromEnv }, catalog, stock, connections, listings, { LocalBus }, { startLocalConsumers }, { createStreamPoller }, { processStream }] = await Promise.all([
      import('../../functions/platform/db'),
      import('../../functions/inventory/catalog'),
      import('../../functions/inventory/stock'),
      import('../../functions/channels/connections'),
      import('../../functions/channels/listings'),
      import('../../bin/local/bus'),
      import('../../bin/local/queues'),
      import('../../bin/local/streams'),
      import('../../functions/events/processor'),
    ]);
    const db = dbFromEnv();
    const ctx: RequestContext = { caller: { kind: 'user', tenantId: TENANT, role: 'admin', subject: 'bench' }, requestId: 'bench', now: () => new Date() };
    const deps = { db, ctx };
    await catalog.createProduct(deps, { product_id: 'p', name: 'Bench product' });
    await catalog.createWarehouse(deps, { warehouse_id: 'wh-1', name: 'Main', latitude: 40, longitude: -74, priority: 10, active: true });
    await connections.createChannel({ ...deps, local: true }, { platform: 'shopify', channel_id: 'shop', warehouse_ids: ['wh-1'], buffer: 0, conflict_rule: 'ours_wins', api_base_url: shopify.url, credentials: { shop_domain: 'bench.myshopify.com', access_token: SHOP_TOKEN, webhook_secret: 'whsec', api_version: '2026-04' } });
    await connections.createChannel({ ...deps, local: true }, { platform: 'amazon', channel_id: 'amz', warehouse_ids: ['wh-1'], buffer: 0, conflict_rule: 'ours_wins', api_base_url: amazon.url, credentials: { seller_id: SELLER, marketplace_ids: ['ATVPDKIKX0DER'], lwa_client_id: LWA.clientId, lwa_client_secret: LWA.clientSecret, refresh_token: LWA.refreshToken } });
    const skus = Array.from({ length: skuCount }, (_, i) => `sku-${String(i).padStart(4, '0')}`);
    const items = new Map<string, string>();
    const itemOf = new Map<string, string>();
    for (const sku of skus) {
      await catalog.createSku(deps, { sku_id: sku, product_id: 'p', name: sku });
      const variant = shopify.addVariant(sku, { '1': 0 });
      items.set(`${variant.inventoryItemId}|${locationGid('1')}`, sku);
      itemOf.set(sku, variant.inventoryItemId);
      await listings.putListing(deps, 'shop', sku, { inventory_item_id: variant.inventoryItemId, location_id: locationGid('1') });
      await listings.putListing(deps, 'amz', sku, { product_type: 'PRODUCT' });
      amazon.setQuantity(SELLER, sku, 0);
    }
    log(`set up ${skuCount} SKUs on both fakes`);

    const bus = new LocalBus();
    const consumers = await startLocalConsumers(bus);
    const poller = createStreamPoller({ endpoint: dynamo.endpoint, tableName: TABLE, startingPosition: 'LATEST', process: (event) => processStream({ db, publisher: bus.publisher() }, event) });
    await poller.start();

    // Every SKU starts with 1,000 on hand; changes then move it by 1-3 units.
    const changes: Change[] = [];
    const apply = async (sku: string, type: 'sale' | 'restock', quantity: number, record: boolean) => {
      const level = await stock.updateStock(deps, { sku_id: sku, warehouse_id: 'wh-1', transaction_type: type, quantity });
      if (record) changes.push({ sku, quantity: level.available, at: Date.now() });
    };
    for (let i = 0; i < skus.length; i += 20) await Promise.all(skus.slice(i, i + 20).map((sku) => apply(sku, 'restock', 1000, false)));
    log('initial stock set; waiting for it to reach the channels');
    const settleUntil = Date.now() + 180_000;
    const shopQty = (sku: string) => shopify.getQuantity(itemOf.get(sku) ?? '', locationGid('1'));
    while (Date.now() < settleUntil && skus.some((sku) => shopQty(sku) !== 1000 || amazon.getQuantity(SELLER, sku) !== 1000)) {
      await new Promise((r) => setTimeout(r, 500));
    }
    const shopifyStart = shopify.timeline.length;
    const amazonStart = amazon.timeline.length;
    const since = Date.now();

    log(`driving ${rate} changes a second across ${skuCount} SKUs for ${seconds} s`);
    let random = 42;
    const next = () => (random = (random * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    const inFlight = new Set<Promise<void>>();
    const started = Date.now();
    for (let n = 0; n < rate * seconds; n++) {
      const due = started + (n * 1000) / rate;
      const wait = due - Date.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      const sku = skus[Math.floor(next() * skus.length)] ?? 'sku-0000';
      const type = next() < 0.7 ? 'sale' : 'restock';
      const p: Promise<void> = apply(sku, type, 1 + Math.floor(next() * 3), true).finally(() => inFlight.delete(p));
      inFlight.add(p);
    }
    await Promise.all(inFlight);
    const drivenSeconds = (Date.now() - started) / 1000;
    log(`drove ${changes.length} changes in ${round2(drivenSeconds)} s; waiting for the channels to catch up`);
    const final = new Map<string, number>();
    for (const sku of skus) final.set(sku, (await stock.findLevel(deps, sku, 'wh-1'))?.available ?? 0);
    const caughtUntil = Date.now() + 300_000;
    const behind = () => skus.filter((sku) => shopQty(sku) !== final.get(sku) || amazon.getQuantity(SELLER, sku) !== final.get(sku));
    while (Date.now() < caughtUntil && behind().length > 0) await new Promise((r) => setTimeout(r, 500));
    const catchUpSeconds = (Date.now() - started) / 1000 - drivenSeconds;
    await consumers.stop();
    await poller.stop();

    const report = (
      name: string,
      timeline: { key: string; quantity: number; at: number }[],
      skuOf: (key: string) => string,
      requests: { at: number; status: number; cost: number }[],
      limit: { perSecond: number; burst: number; unit: string },
      refusals: number,
    ) => {
      // What each SKU showed before the run (1,000 everywhere), so a change back to it needs no push.
      const shown = [...skus.map((sku) => ({ sku, quantity: 1000, at: since - 1 })), ...timeline.map((t) => ({ sku: skuOf(t.key), quantity: t.quantity, at: t.at }))];
      const { lags, never } = lagsOf(changes, shown);
      const ok = requests.filter((r) => r.status === 200);
      return {
        channel: name,
        changes: changes.length,
        quantity_updates: timeline.length,
        updates_per_change: round2(timeline.length / Math.max(1, changes.length)),
        requests: ok.length,
        requests_per_change: round2(ok.length / Math.max(1, changes.length)),
        sync_lag_ms: { p50: pct(lags, 50), p99: pct(lags, 99), max: lags.at(-1) ?? 0 },
        changes_never_shown: never,
        peak_per_second: peakPerSecond(ok),
        limit,
        refusals_for_rate: refusals,
      };
    };
    // The fake's own costs: a set is 10 points whatever its quantities, a read 2 (test/fakes/shopify-admin.ts).
    const shopRequests = [
      ...shopify.server.requests('inventorySetQuantities', since).map((r) => ({ ...r, cost: SET_COST })),
      ...shopify.server.requests('inventoryItem', since).map((r) => ({ ...r, cost: READ_COST })),
    ];
    const shopThrottled = shopRequests.length - shopRequests.filter((r) => r.status === 200).length;
    const amazonPatches = amazon.server.requests('patchListingsItem', since).map((r) => ({ ...r, cost: 1 }));
    const results = {
      machine: machineInfo(),
      options: { rate, skus: skuCount, seconds },
      driven_changes_per_second: round2(changes.length / drivenSeconds),
      catch_up_seconds_after_last_change: round2(catchUpSeconds),
      skus_behind_at_end: behind().length,
      channels: [
        report('shopify', shopify.timeline.slice(shopifyStart), (key) => items.get(key) ?? key, shopRequests, { perSecond: 100, burst: 1000, unit: 'query-cost points (a set 10, a read 2): 100 restored a second, 1,000 at most' }, shopThrottled),
        report('amazon', amazon.timeline.slice(amazonStart), (key) => key.split('/')[1] ?? key, amazonPatches, { perSecond: 5, burst: 5, unit: 'patchListingsItem requests' }, amazonPatches.filter((r) => r.status === 429).length),
      ],
    };
    for (const c of results.channels) {
      log(
        `${c.channel}: ${c.changes} changes -> ${c.requests} requests (${c.requests_per_change} a change) making ${c.quantity_updates} quantity updates (${c.updates_per_change} a change); sync lag p50 ${c.sync_lag_ms.p50} ms, p99 ${c.sync_lag_ms.p99} ms, max ${c.sync_lag_ms.max} ms; never shown ${c.changes_never_shown}; peak ${c.peak_per_second} ${c.channel === 'shopify' ? 'points' : 'requests'} in a second (limit ${c.limit.perSecond}/s, burst ${c.limit.burst}); refused for rate ${c.refusals_for_rate}`,
      );
    }
    log(`caught up ${results.catch_up_seconds_after_last_change} s after the last change; SKUs behind at the end: ${results.skus_behind_at_end}`);
    writeJson(OUT_FILE, results);
    process.stdout.write(`${JSON.stringify(results, null, 2)}\n`);
  } finally {
    await shopify.stop();
    await amazon.stop();
    await dynamo?.stop();
  }
};

runMain(main);
