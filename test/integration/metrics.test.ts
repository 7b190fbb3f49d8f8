import { onMetricLine, type EmfLine } from '../../functions/platform/metrics';
import { setupCatalog, startTestApi, type TestApi } from '../support/api';

/** Issue 14: what a request publishes as CloudWatch embedded metric format, as the local evaluator and CloudWatch read it. */
let t: TestApi;
const heard: EmfLine[] = [];
let stop: () => void;
beforeAll(async () => {
  t = await startTestApi();
  stop = onMetricLine((line) => void heard.push(line));
});
afterAll(async () => {
  stop();
  await t.close();
});

const dimensionsOf = (line: EmfLine): string[][] => line._aws.CloudWatchMetrics.flatMap((m) => m.Dimensions);
const namesOf = (line: EmfLine): string[] => line._aws.CloudWatchMetrics.flatMap((m) => m.Metrics.map((metric) => metric.Name));
/** The lines published while `work` ran. */
const during = async (work: () => Promise<unknown>): Promise<EmfLine[]> => {
  const from = heard.length;
  await work();
  return heard.slice(from);
};

test('a request publishes requests, latency, 4xx and 5xx per route class and per route, and its counters for the whole service', async () => {
  const c = await t.client();
  const { skuId, warehouseIds } = await setupCatalog(c);
  const lines = await during(() => c.post('/api/inventory/update', { sku_id: skuId, warehouse_id: warehouseIds[0], transaction_type: 'restock', quantity: 5 }));
  const perRoute = lines.find((line) => line.route === 'updateStock');
  expect(perRoute).toMatchObject({ service: 'stockroom', route_class: 'write', Requests: 1, ClientErrors: 0, ServerErrors: 0, StockUpdates: 1 });
  expect(dimensionsOf(perRoute!)).toEqual([['service', 'route_class'], ['service', 'route']]);
  expect(perRoute!._aws.CloudWatchMetrics[0]!.Namespace).toBe('Stockroom');
  expect(perRoute!.Latency).toEqual(expect.any(Number));
  expect(perRoute!.Latency as number).toBeGreaterThan(0);
  const service = lines.find((line) => dimensionsOf(line).length === 1 && dimensionsOf(line)[0]!.join() === 'service' && namesOf(line).includes('Requests'));
  expect(service).toMatchObject({ Requests: 1, StockUpdates: 1 });
});

test('a refused sale counts a 4xx and an insufficient-stock refusal; a replay with the same Idempotency-Key counts a replay', async () => {
  const c = await t.client();
  const { skuId, warehouseIds } = await setupCatalog(c);
  const refused = await during(() => c.post('/api/inventory/update', { sku_id: skuId, warehouse_id: warehouseIds[0], transaction_type: 'sale', quantity: 1_000 }));
  expect(refused.find((line) => line.route === 'updateStock')).toMatchObject({ ClientErrors: 1, ServerErrors: 0, InsufficientStockRefusals: 1 });
  const restock = { sku_id: skuId, warehouse_id: warehouseIds[0], transaction_type: 'restock', quantity: 2 };
  await c.post('/api/inventory/update', restock, { 'idempotency-key': 'metrics-k-1' });
  const replayed = await during(() => c.post('/api/inventory/update', restock, { 'idempotency-key': 'metrics-k-1' }));
  expect(replayed.find((line) => line.route === 'updateStock')).toMatchObject({ IdempotentReplays: 1, Requests: 1 });
});

test('a read is of the read route class', async () => {
  const c = await t.client();
  const lines = await during(() => c.get('/api/warehouses'));
  expect(lines.find((line) => line.route === 'listWarehouses')).toMatchObject({ route_class: 'read', Requests: 1 });
});
