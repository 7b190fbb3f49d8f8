import { LocalLake, type LakeMovement } from '../../bin/local/lake';
import { readDemandHistory } from '../../functions/forecasting/history';
import { demandImportKeys, readDemandImports } from '../../functions/forecasting/imports';
import { ROLES, permissionsOf } from '../../functions/identity/roles';
import { lakeObjectsFromEnv, type LakeObjects } from '../../functions/platform/lake-objects';
import { closeTenant } from '../../functions/reports/close';
import { ok, setupCatalog, startTestApi, type Client, type TestApi } from '../support/api';

/**
 * POST /api/reports/demand-history (issue 10, scope item 1): past daily demand into the lake as
 * history only, through the real path (HTTP, the local gateway, the handler, DynamoDB Local for the
 * catalogue, the S3 stand-in for the lake), read back with readDemandImports and readDemandHistory
 * (after a real close over the same lake, for the live days).
 */
let t: TestApi;
let objects: LakeObjects;
beforeAll(async () => {
  t = await startTestApi();
  // The handler's lake: the bucket and S3 stand-in startTestApi put in the environment.
  objects = lakeObjectsFromEnv();
});
afterAll(() => t.close());

const PATH = '/api/reports/demand-history';
const DAY_MS = 86_400_000;
const dayAfter = (day: string, days = 1): string => new Date(Date.parse(day) + days * DAY_MS).toISOString().slice(0, 10);
const today = (): string => new Date().toISOString().slice(0, 10);

/** A tenant with SKUs sku-1 and sku-2 and warehouses wh-1 and wh-2. */
const tenant = async (role: (typeof ROLES)[number] = 'admin'): Promise<Client> => {
  const admin = await t.client();
  await setupCatalog(admin, { warehouses: ['wh-1', 'wh-2'] });
  ok(await admin.post('/api/skus', { sku_id: 'sku-2', product_id: 'prod-1', name: 'Widget, red' }), 201);
  return role === 'admin' ? admin : t.client({ tenantId: admin.tenantId, role });
};

const row = (date: string, quantity: unknown, sku = 'sku-1', warehouse = 'wh-1') => ({ date, sku_id: sku, warehouse_id: warehouse, quantity });
const csv = (c: Client, text: string, type = 'text/csv') => c.raw(PATH, { method: 'POST', headers: { 'content-type': type }, body: text });
const importObjects = async (c: Client) => (await objects.list(demandImportKeys.tenant(c.tenantId))).map((o) => o.key);

describe('importing', () => {
  test('JSON rows are imported into one Parquet object per import, named by a time-sortable import_id, and read back merged', async () => {
    const c = await tenant();
    const rows = [row('2025-01-02', 3), row('2025-01-01', 0), row('2025-01-01', 7, 'sku-2', 'wh-2')];
    const res = await c.post(PATH, { rows });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ import_id: expect.stringMatching(/^[0-9A-HJKMNP-TV-Z]{26}$/), imported_at: expect.any(String), received: 3, imported: 3, refused: [] });
    expect(await importObjects(c)).toEqual([`demand_imports/tenant_id=${c.tenantId}/${res.body.import_id}.parquet`]);
    expect(await readDemandImports(objects, c.tenantId)).toEqual([
      { ...row('2025-01-01', 0), import_id: res.body.import_id },
      { ...row('2025-01-02', 3), import_id: res.body.import_id },
      { ...row('2025-01-01', 7, 'sku-2', 'wh-2'), import_id: res.body.import_id },
    ]);
  });

  test('CSV with a header row in any order, RFC 4180 quoting, CRLF and a BOM imports the same; refusals name the data row', async () => {
    const c = await tenant();
    const body = '\ufeffquantity,warehouse_id,"sku_id",date\r\n4,wh-1,sku-1,2025-02-01\r\n"12","wh-2","sku-2",2025-02-01\r\n5,wh-1,nope,2025-02-02\r\n';
    const res = await csv(c, body, 'text/csv; charset=utf-8');
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ received: 3, imported: 2, refused: [{ row: 3, date: '2025-02-02', sku_id: 'nope', warehouse_id: 'wh-1', code: 'UNKNOWN_SKU' }] });
    expect((await readDemandImports(objects, c.tenantId)).map((d) => [d.sku_id, d.warehouse_id, d.date, d.quantity])).toEqual([
      ['sku-1', 'wh-1', '2025-02-01', 4],
      ['sku-2', 'wh-2', '2025-02-01', 12],
    ]);
  });

  test('every refusal reason, each row on its own, the rest imported; another tenant\'s SKU is unknown here', async () => {
    const c = await tenant();
    const other = await tenant();
    ok(await other.post('/api/skus', { sku_id: 'sku-theirs', product_id: 'prod-1', name: 'Theirs' }), 201);
    const tomorrow = dayAfter(today());
    const rows = [
      row('2025-03-01', 5),
      'not a row',
      { ...row('2025-03-01', 1), price: 2 },
      row('2026-02-30', 1),
      row('03/01/2025', 1),
      row(tomorrow, 1),
      row('1999-12-31', 1),
      row('2025-03-02', 1, 'a#b'),
      row('2025-03-02', 1, 'sku-1', 42 as unknown as string),
      row('2025-03-03', '5'),
      row('2025-03-03', null),
      row('2025-03-04', -1),
      row('2025-03-05', 2.5),
      row('2025-03-06', 1e12),
      row('2025-03-07', 1, 'sku-theirs'),
      row('2025-03-07', 1, 'sku-1', 'wh-9'),
      row('2025-03-01', 9),
      row(today(), 2),
    ];
    const res = await c.post(PATH, { rows });
    expect(res.status).toBe(200);
    expect(res.body.received).toBe(rows.length);
    expect(res.body.imported).toBe(2);
    expect(res.body.refused.map((r: { row: number; code: string }) => [r.row, r.code])).toEqual([
      [2, 'INVALID_ROW'],
      [3, 'INVALID_ROW'],
      [4, 'INVALID_DATE'],
      [5, 'INVALID_DATE'],
      [6, 'FUTURE_DATE'],
      [7, 'DATE_TOO_OLD'],
      [8, 'INVALID_SKU_ID'],
      [9, 'INVALID_WAREHOUSE_ID'],
      [10, 'INVALID_QUANTITY'],
      [11, 'INVALID_QUANTITY'],
      [12, 'NEGATIVE_QUANTITY'],
      [13, 'FRACTIONAL_QUANTITY'],
      [14, 'QUANTITY_TOO_LARGE'],
      [15, 'UNKNOWN_SKU'],
      [16, 'UNKNOWN_WAREHOUSE'],
      [17, 'DUPLICATE_ROW'],
    ]);
    expect(res.body.refused[7]).toEqual({ row: 9, date: '2025-03-02', sku_id: 'sku-1', warehouse_id: null, code: 'INVALID_WAREHOUSE_ID', message: expect.any(String) });
    expect((await readDemandImports(objects, c.tenantId)).map((d) => [d.date, d.quantity])).toEqual([['2025-03-01', 5], [today(), 2]]);
    // The other tenant's lake is untouched.
    expect(await importObjects(other)).toEqual([]);
  });

  test('a quantity beyond double precision (1e400) is refused as too large, not a 500', async () => {
    const c = await tenant();
    const res = await c.raw(PATH, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"rows":[{"date":"2025-01-01","sku_id":"sku-1","warehouse_id":"wh-1","quantity":1e400}]}' });
    expect(res.status).toBe(200);
    expect(res.body.refused.map((r: { code: string }) => r.code)).toEqual(['QUANTITY_TOO_LARGE']);
  });

  test('CSV numbers are read as JSON numbers: text, fractions, negatives and empty cells are refused per row', async () => {
    const c = await tenant();
    const res = await csv(c, 'date,sku_id,warehouse_id,quantity\n2025-01-01,sku-1,wh-1,abc\n2025-01-02,sku-1,wh-1,1.5\n2025-01-03,sku-1,wh-1,-2\n2025-01-04,sku-1,wh-1,\n2025-01-05,sku-1,wh-1, 3\n2025-01-06,sku-1,wh-1,2e3\n');
    expect(res.status).toBe(200);
    expect(res.body.refused.map((r: { row: number; code: string }) => [r.row, r.code])).toEqual([
      [1, 'INVALID_QUANTITY'],
      [2, 'FRACTIONAL_QUANTITY'],
      [3, 'NEGATIVE_QUANTITY'],
      [4, 'INVALID_QUANTITY'],
      [5, 'INVALID_QUANTITY'],
    ]);
    expect((await readDemandImports(objects, c.tenantId)).map((d) => d.quantity)).toEqual([2000]);
  });

  test('when no row is valid nothing is written and import_id is null', async () => {
    const c = await tenant();
    const res = await c.post(PATH, { rows: [row('2025-01-01', -1), row('2025-01-01', 1, 'ghost')] });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ import_id: null, imported_at: null, received: 2, imported: 0 });
    expect((await c.post(PATH, { rows: [] })).body).toEqual({ import_id: null, imported_at: null, received: 0, imported: 0, refused: [] });
    expect(await importObjects(c)).toEqual([]);
  });
});

describe('what the body may be', () => {
  let c: Client;
  beforeAll(async () => {
    c = await tenant();
  });
  afterEach(async () => {
    expect(await importObjects(c)).toEqual([]);
  });

  const rowsOf = (n: number) => Array.from({ length: n }, (_, i) => ({ date: dayAfter('2001-01-01', i % 9000), sku_id: 's', warehouse_id: 'w', quantity: 1 }));

  test('10,001 JSON rows are a 413; so are 10,001 CSV data rows', async () => {
    const json = await c.post(PATH, { rows: rowsOf(10_001) });
    expect(json.status).toBe(413);
    expect(json.body.error).toMatchObject({ code: 'PAYLOAD_TOO_LARGE', details: { max_rows: 10_000 } });
    const text = ['date,sku_id,warehouse_id,quantity', ...rowsOf(10_001).map((r) => `${r.date},s,w,1`)].join('\n');
    expect((await csv(c, text)).status).toBe(413);
  });

  test('10,000 rows are taken (all refused here: unknown ids), and a body over 1 MiB is a 413', async () => {
    const res = await c.post(PATH, { rows: rowsOf(10_000) });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ received: 10_000, imported: 0 });
    const big = await c.post(PATH, { rows: [{ ...row('2025-01-01', 1), sku_id: 'x'.repeat(1024 * 1024) }] });
    expect(big.status).toBe(413);
  });

  test.each([
    ['an array', [row('2025-01-01', 1)]],
    ['rows not an array', { rows: { date: '2025-01-01' } }],
    ['no rows', {}],
    ['a field besides rows', { rows: [], note: 'x' }],
    ['null', null],
  ])('%s is a 400 in the error shape', async (_what, body) => {
    const res = await c.raw(PATH, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    expect(res.status).toBe(400);
    expect(res.body.error).toMatchObject({ code: 'VALIDATION_FAILED', details: { fields: [expect.objectContaining({ in: 'body' })] } });
  });

  test.each([
    ['a header row without quantity', 'date,sku_id,warehouse_id\n2025-01-01,sku-1,wh-1\n', /lacks the column\(s\) quantity/],
    ['an unknown column', 'date,sku_id,warehouse_id,quantity,price\n2025-01-01,sku-1,wh-1,1,2\n', /unknown column/],
    ['a column twice', 'date,sku_id,warehouse_id,quantity,date\n', /more than once/],
    ['a row with a field missing', 'date,sku_id,warehouse_id,quantity\n2025-01-01,sku-1,wh-1,1\n2025-01-02,sku-1,wh-1\n', /line 3 has 3 field/],
    ['a quote never closed', 'date,sku_id,warehouse_id,quantity\n2025-01-01,"sku-1,wh-1,1\n', /line 2: a quoted field/],
    ['no header at all', '\r\n', /no header row/],
  ])('CSV with %s is a 400 saying so', async (_what, text, message) => {
    const res = await csv(c, text);
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('VALIDATION_FAILED');
    expect(res.body.error.details.fields[0].message).toMatch(message);
  });

  test('malformed JSON is a 400 MALFORMED_JSON; another media type is a 415 naming both', async () => {
    expect((await c.raw(PATH, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"rows": [' })).body.error.code).toBe('MALFORMED_JSON');
    const res = await csv(c, 'date,sku_id,warehouse_id,quantity\n', 'text/plain');
    expect(res.status).toBe(415);
    expect(res.body.error.message).toMatch(/text\/csv/);
  });

  test('another JSON route still refuses CSV with a 415', async () => {
    const res = await c.raw('/api/inventory/update', { method: 'POST', headers: { 'content-type': 'text/csv' }, body: 'sku_id\nsku-1\n' });
    expect(res.status).toBe(415);
  });
});

describe('merging', () => {
  test('importing the same rows twice does not double them; a later import replaces an earlier one, row by row', async () => {
    const c = await tenant();
    const first = ok(await c.post(PATH, { rows: [row('2025-01-01', 3), row('2025-01-02', 4)] }));
    const again = ok(await c.post(PATH, { rows: [row('2025-01-01', 3), row('2025-01-02', 4)] }));
    expect(again.import_id > first.import_id).toBe(true);
    const series = async () => (await readDemandHistory(objects, c.tenantId, { from: '2024-12-30', today: '2025-01-04' })).map((s) => [s.warehouse_id, s.start, s.demand, s.stocked_out]);
    expect(await series()).toEqual([['wh-1', '2025-01-01', [3, 4, 0], [false, false, false]]]);
    const later = ok(await c.post(PATH, { rows: [row('2025-01-02', 10), row('2025-01-03', 1)] }));
    expect(await readDemandImports(objects, c.tenantId)).toEqual([
      { ...row('2025-01-01', 3), import_id: again.import_id },
      { ...row('2025-01-02', 10), import_id: later.import_id },
      { ...row('2025-01-03', 1), import_id: later.import_id },
    ]);
    expect(await series()).toEqual([['wh-1', '2025-01-01', [3, 10, 1], [false, false, false]]]);
    expect(await importObjects(c)).toHaveLength(3);
  });

  test('after a close, closed live days win over imports; imported days fill the rest, and only closed days are read', async () => {
    const c = await tenant();
    const tenantId = c.tenantId;
    let n = 0;
    const movement = (at: string, type: LakeMovement['type'], delta: number, extra: Partial<LakeMovement> = {}): LakeMovement => {
      n += 1;
      return {
        tenant_id: tenantId, movement_id: `m${String(n).padStart(4, '0')}`, sku_id: 'sku-1', warehouse_id: 'wh-1', type,
        deltas: { on_hand: delta, reserved: 0, available: delta, incoming: 0 }, actor: 'user-1', created_at: at, ...extra,
      };
    };
    const lake = await LocalLake.open({ root: t.lakeRoot, flushEveryMs: 0 });
    lake.append([
      movement('2024-03-10T08:00:00.000Z', 'receipt', 10, { unit_cost: '1.00', currency: 'USD' }),
      movement('2024-03-11T09:00:00.000Z', 'sale', -3),
      movement('2024-03-13T09:00:00.000Z', 'sale', -1),
    ]);
    await lake.close();
    ok(
      await c.post(PATH, {
        rows: [
          row('2024-03-08', 2), row('2024-03-09', 5), row('2024-03-10', 6), row('2024-03-11', 30), row('2024-03-12', 4),
          // On the close's last day, and after it (not closed yet: kept, not read).
          row('2024-03-14', 8), row('2024-03-15', 9),
          // A level the ledger never touched.
          row('2024-03-12', 1, 'sku-2', 'wh-2'),
        ],
      }),
    );
    await closeTenant({ objects, now: () => new Date('2024-03-15T12:00:00Z') }, tenantId, { today: '2024-03-15' });
    expect(await readDemandHistory(objects, tenantId, { from: '2024-03-01' })).toEqual([
      // 03-08, 03-09 imported; 03-10 the receipt is a live row: 0, flagged (no stock before it); 03-11 live 3; 03-12 imported 4 (no rows);
      // 03-13 live 1; 03-14 imported 8 (closed_through is 03-15).
      { sku_id: 'sku-1', warehouse_id: 'wh-1', start: '2024-03-08', demand: [2, 5, 0, 3, 4, 1, 8], stocked_out: [false, false, true, false, false, false, false] },
      { sku_id: 'sku-2', warehouse_id: 'wh-2', start: '2024-03-12', demand: [1, 0, 0], stocked_out: [false, false, false] },
    ]);
    // The imports reader gives every day, the unclosed one too.
    expect((await readDemandImports(objects, tenantId)).filter((d) => d.sku_id === 'sku-1').map((d) => d.date).at(-1)).toBe('2024-03-15');
  });
});

describe('history only', () => {
  test('an import changes no stock level and no ledger row', async () => {
    const c = await tenant();
    ok(await c.post('/api/inventory/update', { sku_id: 'sku-1', warehouse_id: 'wh-1', transaction_type: 'restock', quantity: 10 }));
    const snapshot = async () => ({ levels: ok(await c.get('/api/inventory/sku/sku-1')), ledger: ok(await c.get('/api/inventory/sku/sku-1/movements')) });
    const before = await snapshot();
    ok(await c.post(PATH, { rows: [row('2025-01-01', 5), row('2025-01-02', 7, 'sku-1', 'wh-2')] }));
    ok(await csv(c, 'date,sku_id,warehouse_id,quantity\n2025-01-03,sku-1,wh-1,2\n'));
    expect(await snapshot()).toEqual(before);
  });
});

describe('who may import', () => {
  const allowed = ROLES.filter((role) => permissionsOf[role].includes('forecast:write'));
  test('admins and managers hold forecast:write, no one else', () => {
    expect([...allowed].sort()).toEqual(['admin', 'manager']);
  });

  test.each(ROLES.filter((role) => !allowed.includes(role)))('%s gets a 403 and nothing is written', async (role) => {
    const c = await tenant(role);
    const res = await c.post(PATH, { rows: [row('2025-01-01', 1)] });
    expect(res.status).toBe(403);
    expect(res.body.error.code).toBe('FORBIDDEN');
    expect(await importObjects(c)).toEqual([]);
  });

  test('a manager imports', async () => {
    const c = await tenant('manager');
    expect((await c.post(PATH, { rows: [row('2025-01-01', 1)] })).body.imported).toBe(1);
  });
});
