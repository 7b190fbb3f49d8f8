import { LAKE_MAX_RESULT_ROWS_ENV } from '../../functions/platform/lake';
import { ok, setupCatalog, startTestApi, type Client, type TestApi } from '../support/api';
import { startLocalPipeline, type LocalPipeline } from '../support/pipeline';

/**
 * The lake reports end to end: stock changes and purchase receipts through the API, the
 * stream and the lake feed into the local lake, and each report through the local Athena
 * stand-in (DuckDB over the Parquet), checked against hand-computed figures and against
 * the ledger read from DynamoDB.
 *
 * Tenant A: sku-1 (list price 10.00 USD) receives 10 @ 2.00 and 10 @ 3.00 into wh-1 by two
 * purchase orders, sells 12 from wh-1 and transfers 3 to wh-2; sku-2 (no price) is restocked
 * 4 into wh-1 without a cost and never sells. Tenant B restocks its own sku-1 1000.
 */

let t: TestApi;
let a: Client;
let b: Client;
let pipeline: LocalPipeline;
const FROM = new Date(Date.now() - 86_400_000).toISOString();
const TO = new Date(Date.now() + 86_400_000).toISOString();
const AS_OF = TO;

interface Row { period: string; type: string; units_in: number; units_out: number; net: number; movements: number }
interface Movement { type: string; deltas: { on_hand: number } }

const totalMovements = (rows: Row[]): number => rows.reduce((sum, row) => sum + row.movements, 0);

const ledger = async (client: Client, skuId: string): Promise<Movement[]> => {
  const rows: Movement[] = [];
  let cursor: string | undefined;
  do {
    const page = ok(await client.get(`/api/inventory/sku/${skuId}/movements?from=${FROM}&to=${TO}&limit=100${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`));
    rows.push(...page.movements);
    cursor = page.next_cursor ?? undefined;
  } while (cursor);
  return rows;
};

const ledgerWithTimes = async (client: Client, skuId: string): Promise<Array<Movement & { created_at: string }>> => {
  const page = ok(await client.get(`/api/inventory/sku/${skuId}/movements?from=${FROM}&to=${TO}&limit=200`));
  return page.movements;
};

/** Waits (at most 10 s, the lake's promise) until the lake holds `count` movements of the tenant's window. */
const untilFed = async (client: Client, count: number): Promise<void> => {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const body = ok(await client.get(`/api/reports/stock-movement?from=${FROM}&to=${TO}`));
    if (totalMovements(body.rows) === count) return;
    if (Date.now() > deadline) throw new Error(`the lake did not reach ${count} movements in 10 s: ${JSON.stringify(body)}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
};

beforeAll(async () => {
  t = await startTestApi();
  a = await t.client();
  b = await t.client();
  pipeline = await startLocalPipeline([a.tenantId, b.tenantId], { lake: { root: t.lakeRoot, compactEveryMs: 0, flushEveryMs: 200 } });
  await setupCatalog(a, { warehouses: ['wh-1', 'wh-2'] });
  ok(await a.patch('/api/skus/sku-1', { price: '10', currency: 'USD' }));
  ok(await a.post('/api/skus', { sku_id: 'sku-2', product_id: 'prod-1', name: 'Widget, red' }), 201);
  ok(await a.post('/api/suppliers', { supplier_id: 'sup-1', name: 'Supplier', contact: { email: 'a@supplier.example' }, lead_time_days: 7, currency: 'USD' }), 201);
  for (const [id, cost] of [['po-1', '2.00'], ['po-2', '3.00']] as const) {
    ok(await a.post('/api/purchase-orders', { purchase_order_id: id, supplier_id: 'sup-1', warehouse_id: 'wh-1', lines: [{ sku_id: 'sku-1', quantity: 10, unit_cost: cost }] }), 201);
    ok(await a.post(`/api/purchase-orders/${id}/submit`));
    ok(await a.post(`/api/purchase-orders/${id}/receive`, { lines: [{ sku_id: 'sku-1', quantity: 10 }] }));
  }
  ok(await a.post('/api/inventory/update', { sku_id: 'sku-1', warehouse_id: 'wh-1', transaction_type: 'sale', quantity: 12 }));
  ok(await a.post('/api/inventory/transfer', { sku_id: 'sku-1', from_warehouse_id: 'wh-1', to_warehouse_id: 'wh-2', quantity: 3 }));
  ok(await a.post('/api/inventory/update', { sku_id: 'sku-2', warehouse_id: 'wh-1', transaction_type: 'restock', quantity: 4 }));
  await setupCatalog(b);
  ok(await b.post('/api/inventory/update', { sku_id: 'sku-1', warehouse_id: 'wh-1', transaction_type: 'restock', quantity: 1000 }));
  await untilFed(a, (await ledger(a, 'sku-1')).length + (await ledger(a, 'sku-2')).length);
  await untilFed(b, (await ledger(b, 'sku-1')).length);
});

afterAll(async () => {
  await pipeline.stop();
  await t.close();
});

const byType = (list: Array<{ type: string; net: number; movements: number }>) =>
  Object.fromEntries(
    [...new Set(list.map((r) => r.type))]
      .sort()
      .map((type) => [type, list.filter((r) => r.type === type).reduce((s, r) => ({ net: s.net + r.net, movements: s.movements + r.movements }), { net: 0, movements: 0 })]),
  );

describe('GET /api/reports/stock-movement', () => {
  it('per type totals equal the ledger read from the table for the same window, and data_as_of is set', async () => {
    const rows = await ledger(a, 'sku-1');
    const body = ok(await a.get(`/api/reports/stock-movement?from=${FROM}&to=${TO}&sku_id=sku-1`));
    expect(byType(body.rows)).toEqual(byType(rows.map((r) => ({ type: r.type, net: r.deltas.on_hand, movements: 1 }))));
    const sales = body.rows.filter((r: Row) => r.type === 'sale');
    expect(sales.reduce((s: number, r: Row) => s + r.units_out, 0)).toBe(12);
    expect(Date.parse(body.data_as_of)).toBeGreaterThan(Date.parse(FROM));
  });

  it('gives the opening and closing on_hand of the window, whatever the type filter', async () => {
    const whole = ok(await a.get(`/api/reports/stock-movement?from=${FROM}&to=${TO}&sku_id=sku-1`));
    expect([whole.opening_on_hand, whole.closing_on_hand]).toEqual([0, 8]);
    const sales = ok(await a.get(`/api/reports/stock-movement?from=${FROM}&to=${TO}&sku_id=sku-1&type=sale`));
    expect(sales.rows.map((r: Row) => r.type)).toEqual(['sale']);
    expect([sales.opening_on_hand, sales.closing_on_hand]).toEqual([0, 8]);
    const wh2 = ok(await a.get(`/api/reports/stock-movement?from=${FROM}&to=${TO}&sku_id=sku-1&warehouse_id=wh-2`));
    expect([wh2.opening_on_hand, wh2.closing_on_hand]).toEqual([0, 3]);
    const after = ok(await a.get(`/api/reports/stock-movement?from=${TO}&to=${new Date(Date.parse(TO) + 86_400_000).toISOString()}`));
    expect({ rows: after.rows, opening: after.opening_on_hand, closing: after.closing_on_hand }).toEqual({ rows: [], opening: 12, closing: 12 });
  });

  it("never shows tenant A's rows to tenant B", async () => {
    const body = ok(await b.get(`/api/reports/stock-movement?from=${FROM}&to=${TO}`));
    expect(byType(body.rows)).toEqual({ restock: { net: 1000, movements: 1 } });
    expect(body.closing_on_hand).toBe(1000);
  });

  it('lets an analyst read it, and refuses clerks and viewers with 403', async () => {
    const analyst = await t.client({ tenantId: a.tenantId, role: 'analyst' });
    expect((await analyst.get(`/api/reports/stock-movement?from=${FROM}&to=${TO}`)).status).toBe(200);
    for (const role of ['clerk', 'viewer'] as const) {
      const client = await t.client({ tenantId: a.tenantId, role });
      expect((await client.get(`/api/reports/stock-movement?from=${FROM}&to=${TO}`)).status).toBe(403);
    }
  });
});

describe('GET /api/reports/sales-trends', () => {
  it('gives units and list-price revenue per period, movers and dead stock, by hand', async () => {
    const body = ok(await a.get(`/api/reports/sales-trends?from=${FROM}&to=${TO}&granularity=day`));
    const today = new Date().toISOString().slice(0, 10);
    const sold = body.periods.filter((p: { units: number }) => p.units > 0);
    expect(sold).toEqual([{ period: today, currency: 'USD', units: 12, revenue: '120.00', moving_average_units: expect.any(String), change_units: expect.any(Number), change_percent: null }]);
    // One series (USD), every day of the window: FROM's day, today, and TO's day.
    expect(body.periods.map((p: { period: string }) => p.period)).toEqual([FROM.slice(0, 10), today, TO.slice(0, 10)]);
    expect(body.periods.map((p: { moving_average_units: string }) => p.moving_average_units)).toEqual(['0.00', '6.00', '4.00']);
    expect(body.periods.map((p: { change_units: number | null }) => p.change_units)).toEqual([null, 12, -12]);
    expect(body.periods[2].change_percent).toBe('-100.0');
    expect(body.top_movers).toEqual([{ sku_id: 'sku-1', units: 12, revenue: '120.00', currency: 'USD', on_hand: 8 }]);
    expect(body.slow_movers.map((m: { sku_id: string; units: number }) => [m.sku_id, m.units])).toEqual([['sku-2', 0], ['sku-1', 12]]);
    expect(body.dead_stock).toEqual([
      { sku_id: 'sku-1', warehouse_id: 'wh-2', on_hand: 3, last_sale_at: null },
      { sku_id: 'sku-2', warehouse_id: 'wh-1', on_hand: 4, last_sale_at: null },
    ]);
    expect(body.dead_days).toBe(90);
  });

  it('does not count a level as dead when it sold within dead_days', async () => {
    const body = ok(await a.get(`/api/reports/sales-trends?from=${FROM}&to=${TO}&warehouse_id=wh-1&dead_days=1`));
    expect(body.dead_stock.map((d: { sku_id: string }) => d.sku_id)).toEqual(['sku-2']);
  });

  it("shows tenant B only its own sales: none", async () => {
    const body = ok(await b.get(`/api/reports/sales-trends?from=${FROM}&to=${TO}`));
    expect(body.top_movers).toEqual([]);
    expect(body.periods.every((p: { units: number }) => p.units === 0)).toBe(true);
    expect(body.dead_stock).toEqual([{ sku_id: 'sku-1', warehouse_id: 'wh-1', on_hand: 1000, last_sale_at: null }]);
  });
});

describe('GET /api/reports/valuation', () => {
  it('values FIFO from the receipt layers: the newest units remain, and the transfer carries their cost', async () => {
    const body = ok(await a.get(`/api/reports/valuation?as_of=${AS_OF}&sku_id=sku-1`));
    expect(body.lines).toEqual([
      { sku_id: 'sku-1', warehouse_id: 'wh-1', quantity: 5, unit_cost: '3.00', value: '15.00', currency: 'USD' },
      { sku_id: 'sku-1', warehouse_id: 'wh-2', quantity: 3, unit_cost: '3.00', value: '9.00', currency: 'USD' },
    ]);
    expect(body.totals).toEqual([{ currency: 'USD', quantity: 8, value: '24.00' }]);
    expect(body.warnings).toEqual([]);
  });

  it('values by weighted average at the running average of the receipts', async () => {
    const body = ok(await a.get(`/api/reports/valuation?as_of=${AS_OF}&method=weighted_average&sku_id=sku-1`));
    expect(body.lines.map((l: { warehouse_id: string; value: string; unit_cost: string }) => [l.warehouse_id, l.unit_cost, l.value])).toEqual([
      ['wh-1', '2.50', '12.50'],
      ['wh-2', '2.50', '7.50'],
    ]);
    expect(body.totals).toEqual([{ currency: 'USD', quantity: 8, value: '20.00' }]);
  });

  it('filters by warehouse after valuing every warehouse, and warns of units that came in without a cost', async () => {
    const body = ok(await a.get(`/api/reports/valuation?as_of=${AS_OF}&warehouse_id=wh-2`));
    expect(body.lines).toEqual([{ sku_id: 'sku-1', warehouse_id: 'wh-2', quantity: 3, unit_cost: '3.00', value: '9.00', currency: 'USD' }]);
    const all = ok(await a.get(`/api/reports/valuation?as_of=${AS_OF}`));
    expect(all.warnings.map((w: { kind: string; sku_id: string }) => [w.kind, w.sku_id])).toEqual([['no_cost', 'sku-2']]);
  });

  it('values the stock as it stood at as_of: just before the sale, 20 units at their receipt costs; before any receipt, nothing', async () => {
    const movements = await ledgerWithTimes(a, 'sku-1');
    const sale = movements.find((m) => m.type === 'sale');
    if (!sale) throw new Error('no sale in the ledger');
    const justBefore = new Date(Date.parse(sale.created_at) - 1).toISOString();
    const before = ok(await a.get(`/api/reports/valuation?as_of=${justBefore}&sku_id=sku-1`));
    expect(before.lines).toEqual([{ sku_id: 'sku-1', warehouse_id: 'wh-1', quantity: 20, unit_cost: '2.50', value: '50.00', currency: 'USD' }]);
    const atTheSale = ok(await a.get(`/api/reports/valuation?as_of=${sale.created_at}&sku_id=sku-1`));
    expect(atTheSale.lines).toEqual([{ sku_id: 'sku-1', warehouse_id: 'wh-1', quantity: 8, unit_cost: '3.00', value: '24.00', currency: 'USD' }]);
    expect(ok(await a.get(`/api/reports/valuation?as_of=${FROM}&sku_id=sku-1`)).lines).toEqual([]);
  });

  it('reads a bare as_of date as the end of that day (UTC)', async () => {
    const today = new Date().toISOString().slice(0, 10);
    const body = ok(await a.get(`/api/reports/valuation?as_of=${today}&sku_id=sku-1`));
    expect(body.as_of).toBe(`${today}T23:59:59.999Z`);
    expect(body.totals).toEqual([{ currency: 'USD', quantity: 8, value: '24.00' }]);
  });

  it('values a pool emptied by a run of sales at the average of its last units: a restock without a cost after it comes in at 3.00', async () => {
    // A level of its own: 10 @ 1.00 and 10 @ 3.00, two sales of 10, then 1 unit restocked without a cost.
    ok(await a.post('/api/purchase-orders', { purchase_order_id: 'po-3', supplier_id: 'sup-1', warehouse_id: 'wh-2', lines: [{ sku_id: 'sku-2', quantity: 10, unit_cost: '1.00' }] }), 201);
    ok(await a.post('/api/purchase-orders', { purchase_order_id: 'po-4', supplier_id: 'sup-1', warehouse_id: 'wh-2', lines: [{ sku_id: 'sku-2', quantity: 10, unit_cost: '3.00' }] }), 201);
    for (const id of ['po-3', 'po-4']) {
      ok(await a.post(`/api/purchase-orders/${id}/submit`));
      ok(await a.post(`/api/purchase-orders/${id}/receive`, { lines: [{ sku_id: 'sku-2', quantity: 10 }] }));
    }
    for (let sale = 0; sale < 2; sale += 1) ok(await a.post('/api/inventory/update', { sku_id: 'sku-2', warehouse_id: 'wh-2', transaction_type: 'sale', quantity: 10 }));
    ok(await a.post('/api/inventory/update', { sku_id: 'sku-2', warehouse_id: 'wh-2', transaction_type: 'restock', quantity: 1 }));
    const count = (await ledger(a, 'sku-1')).length + (await ledger(a, 'sku-2')).length;
    await untilFed(a, count);
    const body = ok(await a.get(`/api/reports/valuation?as_of=${AS_OF}&sku_id=sku-2&warehouse_id=wh-2`));
    expect(body.lines).toEqual([{ sku_id: 'sku-2', warehouse_id: 'wh-2', quantity: 1, unit_cost: '3.00', value: '3.00', currency: 'USD' }]);
  });

  it("values only tenant B's own stock for tenant B", async () => {
    const body = ok(await b.get(`/api/reports/valuation?as_of=${AS_OF}`));
    expect(body.lines.map((l: { sku_id: string; quantity: number }) => [l.sku_id, l.quantity])).toEqual([['sku-1', 1000]]);
  });
});

describe('a report too large to answer', () => {
  afterEach(() => {
    delete process.env[LAKE_MAX_RESULT_ROWS_ENV];
  });

  it('answers 422 REPORT_TOO_LARGE, not a timeout, when the lake would return more rows than one answer carries', async () => {
    process.env[LAKE_MAX_RESULT_ROWS_ENV] = '3';
    const res = await a.get(`/api/reports/valuation?as_of=${AS_OF}`);
    expect(res.status).toBe(422);
    expect(res.body.error).toMatchObject({ code: 'REPORT_TOO_LARGE', details: { max_rows: 3 } });
    delete process.env[LAKE_MAX_RESULT_ROWS_ENV];
    expect((await a.get(`/api/reports/valuation?as_of=${AS_OF}`)).status).toBe(200);
  });
});

describe('CSV', () => {
  it('answers format=csv with the same rows as the JSON, one line each, and data_as_of in a header', async () => {
    const query = `from=${FROM}&to=${TO}&sku_id=sku-1`;
    const json = ok(await a.get(`/api/reports/stock-movement?${query}`));
    const res = await a.raw(`/api/reports/stock-movement?${query}&format=csv`, {});
    expect(res.status).toBe(200);
    const lines = String(res.body).trimEnd().split('\r\n');
    expect(lines[0]).toBe('period,type,units_in,units_out,net,movements');
    expect(lines.slice(1)).toEqual(json.rows.map((r: Row) => [r.period, r.type, r.units_in, r.units_out, r.net, r.movements].join(',')));
    expect(res.headers.get('x-data-as-of')).toBe(json.data_as_of);
  });

  it('answers Accept: text/csv as CSV too, and list= picks another list', async () => {
    const res = await a.get(`/api/reports/sales-trends?from=${FROM}&to=${TO}&list=dead_stock&format=csv`);
    expect(String(res.body).split('\r\n').slice(0, 3)).toEqual(['sku_id,warehouse_id,on_hand,last_sale_at', 'sku-1,wh-2,3,', 'sku-2,wh-1,4,']);
    const accepted = await a.get(`/api/reports/valuation?as_of=${AS_OF}&sku_id=sku-1`, { accept: 'text/csv' });
    expect(String(accepted.body).split('\r\n')[0]).toBe('sku_id,warehouse_id,quantity,unit_cost,value,currency');
  });

  it.each([
    ['an unknown format', 'format=xml', 'format'],
    ['an unknown list', 'format=csv&list=secrets', 'list'],
    ['a list without format=csv', 'list=rows', 'list'],
  ])('answers 400 naming the field for %s', async (_name, extra, field) => {
    const res = await a.get(`/api/reports/stock-movement?from=${FROM}&to=${TO}&${extra}`);
    expect(res.status).toBe(400);
    expect(res.body.error.details.fields.map((f: { path: string }) => f.path)).toEqual([field]);
  });
});

describe('query ids', () => {
  it('answers a finished query again through GET /api/reports/queries/{query_id}, the same body', async () => {
    const body = ok(await a.get(`/api/reports/valuation?as_of=${AS_OF}&sku_id=sku-1`));
    expect(ok(await a.get(`/api/reports/queries/${body.query_id}`))).toEqual(body);
  });

  it("does not find another tenant's query, a tampered id, or garbage", async () => {
    const body = ok(await a.get(`/api/reports/stock-movement?from=${FROM}&to=${TO}&sku_id=sku-1`));
    expect((await b.get(`/api/reports/queries/${body.query_id}`)).status).toBe(404);
    const decoded = JSON.parse(Buffer.from(body.query_id, 'base64url').toString('utf8'));
    const tampered = Buffer.from(JSON.stringify({ ...decoded, q: { ...decoded.q, sku_id: 'sku-2' } })).toString('base64url');
    expect((await a.get(`/api/reports/queries/${tampered}`)).status).toBe(404);
    const otherReport = Buffer.from(JSON.stringify({ ...decoded, r: 'valuation' })).toString('base64url');
    expect((await a.get(`/api/reports/queries/${otherReport}`)).status).toBe(404);
    expect((await a.get('/api/reports/queries/00000000-0000-0000-0000-000000000000')).status).toBe(404);
  });
});

describe('bad input', () => {
  it.each([
    ['stock-movement', 'an inverted window', `from=${TO}&to=${FROM}`, 'to'],
    ['stock-movement', 'a window over 3 years', 'from=2020-01-01&to=2023-01-02', 'to'],
    ['stock-movement', 'an unknown group_by', `from=${FROM}&to=${TO}&group_by=year`, 'group_by'],
    ['stock-movement', 'a malformed date', `from=2024-13-01&to=${TO}`, 'from'],
    ['stock-movement', 'a missing window', 'group_by=day', 'from'],
    ['stock-movement', 'an unbounded window', `from=${FROM}`, 'to'],
    ['stock-movement', 'an injection string in sku_id', `from=${FROM}&to=${TO}&sku_id=${encodeURIComponent("x' OR '1'='1")}`, 'sku_id'],
    ['stock-movement', 'an injection string in type', `from=${FROM}&to=${TO}&type=${encodeURIComponent("sale' OR 1=1 --")}`, 'type'],
    ['sales-trends', 'an unknown granularity', `from=${FROM}&to=${TO}&granularity=hour`, 'granularity'],
    ['sales-trends', 'a negative dead_days', `from=${FROM}&to=${TO}&dead_days=-1`, 'dead_days'],
    ['sales-trends', 'a fractional dead_days', `from=${FROM}&to=${TO}&dead_days=1.5`, 'dead_days'],
    ['sales-trends', 'a huge dead_days', `from=${FROM}&to=${TO}&dead_days=1e300`, 'dead_days'],
    ['sales-trends', 'a date before 1970', `from=1969-12-31&to=${TO}`, 'from'],
    ['valuation', 'a missing as_of', 'method=fifo', 'as_of'],
    ['valuation', 'an as_of past 9999 in UTC', `as_of=${encodeURIComponent('9999-12-31T23:30:00-01:00')}`, 'as_of'],
    ['stock-movement', 'a bound past 9999 in UTC', `from=9999-06-01&to=${encodeURIComponent('9999-12-31T23:00:00-02:00')}`, 'to'],
    ['valuation', 'an unknown method', `as_of=${AS_OF}&method=lifo`, 'method'],
    ['valuation', 'an injection string in warehouse_id', `as_of=${AS_OF}&warehouse_id=${encodeURIComponent("wh-1'; DROP TABLE movements; --")}`, 'warehouse_id'],
  ])('%s answers 400 naming the field for %s', async (report, _name, query, field) => {
    const res = await a.get(`/api/reports/${report}?${query}`);
    expect(res.status).toBe(400);
    expect(res.body.error.details.fields.map((f: { path: string }) => f.path)).toContain(field);
  });

  it.each([
    ['stock-movement', `from=${FROM}&to=${TO}&sku_id=no-such-sku`],
    ['sales-trends', `from=${FROM}&to=${TO}&warehouse_id=no-such-warehouse`],
    ['valuation', `as_of=${AS_OF}&sku_id=no-such-sku`],
  ])('%s answers 404 for an unknown SKU or warehouse', async (report, query) => {
    expect((await a.get(`/api/reports/${report}?${query}`)).status).toBe(404);
  });

  it("answers 404 for tenant A's SKU asked by tenant B when B has no such SKU", async () => {
    expect((await b.get(`/api/reports/valuation?as_of=${AS_OF}&sku_id=sku-2`)).status).toBe(404);
  });
});
