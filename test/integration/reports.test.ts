import { ok, setupCatalog, startTestApi, type Client, type TestApi } from '../support/api';
import { startLocalPipeline, type LocalPipeline } from '../support/pipeline';

/**
 * The stock-movement report end to end: stock changes through the API, the
 * stream and the lake feed into the local lake, and the report through the
 * local Athena stand-in, against the ledger read from DynamoDB.
 */

let t: TestApi;
let a: Client;
let b: Client;
let pipeline: LocalPipeline;
const FROM = new Date(Date.now() - 86_400_000).toISOString();
const TO = new Date(Date.now() + 86_400_000).toISOString();
const report = (client: Client, query: string) => client.get(`/api/reports/stock-movement?${query}`);

interface Row { period: string; type: string; units_in: number; units_out: number; net: number; movements: number }

const totalMovements = (rows: Row[]): number => rows.reduce((sum, row) => sum + row.movements, 0);

beforeAll(async () => {
  t = await startTestApi();
  a = await t.client();
  b = await t.client();
  pipeline = await startLocalPipeline([a.tenantId, b.tenantId], { lake: { root: t.lakeRoot, compactEveryMs: 0, flushEveryMs: 200 } });
  await setupCatalog(a, { warehouses: ['wh-1', 'wh-2'] });
  await setupCatalog(b);
  for (const change of [
    { warehouse_id: 'wh-1', transaction_type: 'restock', quantity: 40 },
    { warehouse_id: 'wh-1', transaction_type: 'sale', quantity: 7 },
    { warehouse_id: 'wh-2', transaction_type: 'restock', quantity: 5 },
    { warehouse_id: 'wh-1', transaction_type: 'sale', quantity: 3 },
  ]) ok(await a.post('/api/inventory/update', { sku_id: 'sku-1', ...change }));
  ok(await b.post('/api/inventory/update', { sku_id: 'sku-1', warehouse_id: 'wh-1', transaction_type: 'restock', quantity: 1000 }));
});

afterAll(async () => {
  await pipeline.stop();
  await t.close();
});

const ledger = async (client: Client): Promise<Array<{ type: string; deltas: { on_hand: number } }>> => {
  const rows: Array<{ type: string; deltas: { on_hand: number } }> = [];
  let cursor: string | undefined;
  do {
    const page = ok(await client.get(`/api/inventory/sku/sku-1/movements?from=${FROM}&to=${TO}&limit=100${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`));
    rows.push(...page.movements);
    cursor = page.next_cursor ?? undefined;
  } while (cursor);
  return rows;
};

/** The report once the lake holds `count` movements (at most 10 s). */
const reportWhenFed = async (client: Client, count: number): Promise<{ rows: Row[]; data_as_of: string | null }> => {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const body = ok(await report(client, `from=${FROM}&to=${TO}&sku_id=sku-1`));
    if (body.state === 'succeeded' && totalMovements(body.rows) === count) return body;
    if (Date.now() > deadline) throw new Error(`the lake did not reach ${count} movements: ${JSON.stringify(body)}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
};

describe('GET /api/reports/stock-movement', () => {
  it('per type totals equal the ledger read from the table for the same window, and data_as_of is set', async () => {
    const rows = await ledger(a);
    const body = await reportWhenFed(a, rows.length);
    const byType = (list: Array<{ type: string; net: number; movements: number }>) =>
      Object.fromEntries([...new Set(list.map((r) => r.type))].sort().map((type) => [type, list.filter((r) => r.type === type).reduce((s, r) => ({ net: s.net + r.net, movements: s.movements + r.movements }), { net: 0, movements: 0 })]));
    expect(byType(body.rows)).toEqual(byType(rows.map((r) => ({ type: r.type, net: r.deltas.on_hand, movements: 1 }))));
    const sales = body.rows.filter((r) => r.type === 'sale');
    expect(sales.reduce((s, r) => s + r.units_out, 0)).toBe(10);
    expect(typeof body.data_as_of).toBe('string');
  });

  it("never shows tenant A's rows to tenant B", async () => {
    const body = await reportWhenFed(b, (await ledger(b)).length);
    expect(body.rows.every((r) => r.net <= 1000)).toBe(true);
    expect(body.rows.filter((r) => r.type === 'sale')).toEqual([]);
  });

  it('lets an analyst read it, and refuses clerks and viewers with 403', async () => {
    const analyst = await t.client({ tenantId: a.tenantId, role: 'analyst' });
    expect((await report(analyst, `from=${FROM}&to=${TO}`)).status).toBe(200);
    for (const role of ['clerk', 'viewer'] as const) {
      const client = await t.client({ tenantId: a.tenantId, role });
      expect((await report(client, `from=${FROM}&to=${TO}`)).status).toBe(403);
    }
  });

  it.each([
    ['an inverted window', `from=${TO}&to=${FROM}`, 'to'],
    ['a window over 3 years', 'from=2020-01-01&to=2023-01-02', 'to'],
    ['an unknown group_by', `from=${FROM}&to=${TO}&group_by=year`, 'group_by'],
    ['a malformed date', `from=2024-13-01&to=${TO}`, 'from'],
    ['a missing window', 'group_by=day', 'from'],
    ['an injection string in sku_id', `from=${FROM}&to=${TO}&sku_id=${encodeURIComponent("x' OR '1'='1")}`, 'sku_id'],
  ])('answers 400 naming the field for %s', async (_name, query, field) => {
    const res = await report(a, query);
    expect(res.status).toBe(400);
    expect(JSON.stringify(res.body.error.details)).toContain(`"${field}"`);
  });

  it('answers 404 for an unknown SKU', async () => {
    expect((await report(a, `from=${FROM}&to=${TO}&sku_id=no-such-sku`)).status).toBe(404);
  });

  it("answers 404 for a query id that is not the tenant's", async () => {
    expect((await a.get('/api/reports/queries/00000000-0000-0000-0000-000000000000')).status).toBe(404);
  });
});
