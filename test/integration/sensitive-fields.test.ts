import { ok, setupCatalog, startTestApi, type Client, type TestApi } from '../support/api';
import { startLocalPipeline, type LocalPipeline } from '../support/pipeline';

/**
 * Money in the lake reports (issue 12 part 6), end to end: receipts with a cost and a sale through the API, the
 * lake feed, and the reports through the local Athena. The valuation and sales trends stay reports:read routes
 * whose money fields need costs:read (functions/platform/sensitive.ts): every role that reads reports today holds
 * it (admin, manager, analyst), so each gets the money, in JSON and in CSV; a role without reports:read never
 * reaches them. The answer without its money, for a caller without costs:read, is test/unit/sensitive.test.ts's
 * (through httpHandler); the routes outside the lake are test/integration/role-matrix.test.ts's, for every role.
 */

let t: TestApi;
let admin: Client;
let pipeline: LocalPipeline;
const FROM = new Date(Date.now() - 86_400_000).toISOString();
const TO = new Date(Date.now() + 86_400_000).toISOString();

const readersOfReports = ['admin', 'manager', 'analyst'] as const;
const clients = new Map<string, Client>();

beforeAll(async () => {
  t = await startTestApi();
  admin = await t.client();
  pipeline = await startLocalPipeline(admin.tenantId, { lake: { root: t.lakeRoot, compactEveryMs: 0, flushEveryMs: 200 } });
  await setupCatalog(admin);
  ok(await admin.patch('/api/skus/sku-1', { price: '10', currency: 'USD' }));
  ok(await admin.post('/api/suppliers', { supplier_id: 'sup-1', name: 'Supplier', lead_time_days: 7, currency: 'USD' }), 201);
  ok(await admin.post('/api/purchase-orders', { purchase_order_id: 'po-1', supplier_id: 'sup-1', warehouse_id: 'wh-1', lines: [{ sku_id: 'sku-1', quantity: 10, unit_cost: '2.00' }] }), 201);
  ok(await admin.post('/api/purchase-orders/po-1/submit'));
  ok(await admin.post('/api/purchase-orders/po-1/receive', { lines: [{ sku_id: 'sku-1', quantity: 10 }] }));
  ok(await admin.post('/api/inventory/update', { sku_id: 'sku-1', warehouse_id: 'wh-1', transaction_type: 'sale', quantity: 4 }));
  // The lake holds every ledger row (the submit's purchase_ordered, the receipt, the sale) within 10 s, the lake's promise.
  const ledgerRows: number = ok(await admin.get('/api/inventory/sku/sku-1/movements?limit=100')).movements.length;
  expect(ledgerRows).toBe(3);
  const deadline = Date.now() + 10_000;
  for (;;) {
    const body = ok(await admin.get(`/api/reports/stock-movement?from=${FROM}&to=${TO}`));
    if (body.rows.reduce((sum: number, row: { movements: number }) => sum + row.movements, 0) === ledgerRows) break;
    if (Date.now() > deadline) throw new Error(`the lake did not reach ${ledgerRows} movements: ${JSON.stringify(body)}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  for (const role of readersOfReports) clients.set(role, role === 'admin' ? admin : await t.client({ tenantId: admin.tenantId, role }));
}, 120_000);

afterAll(async () => {
  await pipeline.stop();
  await t.close();
});

test.each(readersOfReports)('%s, who holds costs:read, gets the valuation with its unit costs and values, in JSON and CSV', async (role) => {
  const client = clients.get(role)!;
  const body = ok(await client.get(`/api/reports/valuation?as_of=${TO}&sku_id=sku-1`));
  expect(body.lines).toEqual([{ sku_id: 'sku-1', warehouse_id: 'wh-1', quantity: 6, unit_cost: '2.00', value: '12.00', currency: 'USD' }]);
  expect(body.totals).toEqual([{ currency: 'USD', quantity: 6, value: '12.00' }]);
  const csv = await client.get(`/api/reports/valuation?as_of=${TO}&sku_id=sku-1&format=csv`);
  expect(csv.status).toBe(200);
  expect(String(csv.body).split('\r\n').slice(0, 2)).toEqual(['sku_id,warehouse_id,quantity,unit_cost,value,currency', 'sku-1,wh-1,6,2.00,12.00,USD']);
});

test.each(readersOfReports)('%s gets the sales trends with their revenue', async (role) => {
  const client = clients.get(role)!;
  const body = ok(await client.get(`/api/reports/sales-trends?from=${FROM}&to=${TO}&sku_id=sku-1&granularity=day`));
  expect(body.top_movers).toEqual([expect.objectContaining({ sku_id: 'sku-1', units: 4, revenue: '40.00', currency: 'USD' })]);
  // The report answered again by its query id (the union of reports) keeps its money too.
  const again = ok(await client.get(`/api/reports/queries/${body.query_id}`));
  expect(again.top_movers).toEqual(body.top_movers);
  const csv = await client.get(`/api/reports/sales-trends?from=${FROM}&to=${TO}&sku_id=sku-1&granularity=day&format=csv&list=top_movers`);
  expect(String(csv.body).split('\r\n')[0]).toBe('sku_id,units,revenue,currency,on_hand');
});

test('roles without reports:read never reach the money in reports (403 naming the permission)', async () => {
  for (const role of ['purchaser', 'clerk', 'viewer', 'integration'] as const) {
    const client = await t.client({ tenantId: admin.tenantId, role });
    const res = await client.get(`/api/reports/valuation?as_of=${TO}&sku_id=sku-1`);
    expect({ role, status: res.status, permission: res.body.error?.details?.permission }).toEqual({ role, status: 403, permission: 'reports:read' });
  }
});
