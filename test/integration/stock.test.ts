import { bulkUpdateResponse, movementsResponse, skuInventoryResponse, stockLevelResponse, transferResponse } from '../../functions/inventory/schemas';
import { setupCatalog, startTestApi, type Client, type TestApi } from '../support/api';
import { levelOf, levelsOf } from '../support/levels';

let t: TestApi;
beforeAll(async () => {
  t = await startTestApi();
});
afterAll(() => t.close());

const update = (c: Client, body: Record<string, unknown>) => c.post('/api/inventory/update', { sku_id: 'sku-1', warehouse_id: 'wh-1', ...body });
const movementsOf = async (c: Client, query = '') => (await c.get(`/api/inventory/sku/sku-1/movements${query}`)).body.movements;

describe('POST /api/inventory/update', () => {
  test('each transaction type changes the level as documented and writes one ledger row', async () => {
    const c = await t.client();
    await setupCatalog(c);
    expect((await update(c, { transaction_type: 'restock', quantity: 10, reference: 'PO-1' })).body).toMatchObject({ on_hand: 10, available: 10, version: 1 });
    expect((await update(c, { transaction_type: 'sale', quantity: 3, reference: 'order-9' })).body).toMatchObject({ on_hand: 7, version: 2 });
    expect((await update(c, { transaction_type: 'adjustment', quantity: -2, reason: 'damaged', note: 'dropped' })).body).toMatchObject({ on_hand: 5 });
    const counted = await update(c, { transaction_type: 'count', quantity: 9 });
    expect(stockLevelResponse.parse(counted.body)).toMatchObject({ on_hand: 9, reserved: 0, available: 9, incoming: 0, version: 4 });
    const moves = movementsResponse.parse((await c.get('/api/inventory/sku/sku-1/movements')).body).movements;
    // The level's first movement and a count are written from the level in hand, so they record its
    // result and version; a sale or an adjustment is a blind increment and records only its deltas.
    expect(moves.map((m) => [m.type, m.deltas.on_hand, m.resulting?.on_hand, m.version])).toEqual([
      ['count', 4, 9, 4],
      ['adjustment', -2, undefined, undefined],
      ['sale', -3, undefined, undefined],
      ['restock', 10, 10, 1],
    ]);
    expect(moves[1]).toMatchObject({ reason: 'damaged', note: 'dropped', actor: `${c.tenantId}-admin` });
    expect(moves[3]!.reference).toBe('PO-1');
  });

  test('a sale beyond available is 409 INSUFFICIENT_STOCK and writes nothing', async () => {
    const c = await t.client();
    await setupCatalog(c);
    await update(c, { transaction_type: 'restock', quantity: 2 });
    const res = await update(c, { transaction_type: 'sale', quantity: 3 });
    expect(res.status).toBe(409);
    expect(res.body.error).toMatchObject({ code: 'INSUFFICIENT_STOCK', details: { available: 2, requested: 3 } });
    expect(await levelOf(c, 'sku-1', 'wh-1')).toMatchObject({ on_hand: 2, version: 1 });
    expect(await movementsOf(c)).toHaveLength(1);
  });

  test('a sale from a never-stocked level is INSUFFICIENT_STOCK, not a 404 or 500', async () => {
    const c = await t.client();
    await setupCatalog(c);
    const res = await update(c, { transaction_type: 'sale', quantity: 1 });
    expect(res.status).toBe(409);
    expect(res.body.error.code).toBe('INSUFFICIENT_STOCK');
  });

  test('an adjustment without a reason is 400 naming reason', async () => {
    const c = await t.client();
    await setupCatalog(c);
    const res = await update(c, { transaction_type: 'adjustment', quantity: 1 });
    expect(res.status).toBe(400);
    expect(res.body.error.details.fields).toEqual([expect.objectContaining({ path: 'reason' })]);
  });

  test('compare-and-set: a stale expected_version or expected_available is 409 with the current values and writes nothing', async () => {
    const c = await t.client();
    await setupCatalog(c);
    await update(c, { transaction_type: 'restock', quantity: 5 });
    const stale = await update(c, { transaction_type: 'sale', quantity: 1, expected_version: 0 });
    expect(stale.status).toBe(409);
    expect(stale.body.error).toMatchObject({ code: 'VERSION_CONFLICT', details: { current: { version: 1, available: 5 } } });
    const staleAvailable = await update(c, { transaction_type: 'sale', quantity: 1, expected_available: 4 });
    expect(staleAvailable.status).toBe(409);
    const fresh = await update(c, { transaction_type: 'sale', quantity: 1, expected_version: 1, expected_available: 5 });
    expect(fresh.status).toBe(200);
    expect(await movementsOf(c)).toHaveLength(2);
  });

  test('unknown SKU or warehouse is 404 and creates no level', async () => {
    const c = await t.client();
    await setupCatalog(c);
    const sku = await c.post('/api/inventory/update', { sku_id: 'ghost', warehouse_id: 'wh-1', transaction_type: 'restock', quantity: 1 });
    expect(sku.status).toBe(404);
    expect(sku.body.error.details).toEqual({ sku_id: 'ghost' });
    const wh = await update(c, { warehouse_id: 'ghost', transaction_type: 'restock', quantity: 1 });
    expect(wh.status).toBe(404);
    expect(await levelsOf(c)).toEqual([]);
  });
});

describe('POST /api/inventory/transfer', () => {
  test('a transfer moves units atomically and writes two linked ledger rows', async () => {
    const c = await t.client();
    await setupCatalog(c, { warehouses: ['wh-1', 'wh-2'] });
    await update(c, { transaction_type: 'restock', quantity: 10 });
    const res = await c.post('/api/inventory/transfer', { sku_id: 'sku-1', from_warehouse_id: 'wh-1', to_warehouse_id: 'wh-2', quantity: 4, reference: 'rebalance' });
    expect(res.status).toBe(200);
    expect(transferResponse.parse(res.body)).toMatchObject({ from: { on_hand: 6 }, to: { on_hand: 4 } });
    const moves = await movementsOf(c);
    const legs = moves.filter((m: { type: string }) => m.type.startsWith('transfer'));
    expect(legs).toHaveLength(2);
    expect(new Set(legs.map((m: { correlation_id: string }) => m.correlation_id))).toEqual(new Set([res.body.transfer_id]));
    const totals = skuInventoryResponse.parse((await c.get('/api/inventory/sku/sku-1')).body).totals;
    expect(totals.on_hand).toBe(10);
  });

  test('a transfer of more than is available moves nothing', async () => {
    const c = await t.client();
    await setupCatalog(c, { warehouses: ['wh-1', 'wh-2'] });
    await update(c, { transaction_type: 'restock', quantity: 3 });
    const res = await c.post('/api/inventory/transfer', { sku_id: 'sku-1', from_warehouse_id: 'wh-1', to_warehouse_id: 'wh-2', quantity: 4 });
    expect(res.status).toBe(409);
    expect(await levelsOf(c)).toHaveLength(1);
    expect(await movementsOf(c)).toHaveLength(1);
  });

  test('a transfer to the same warehouse is 400', async () => {
    const c = await t.client();
    await setupCatalog(c);
    const res = await c.post('/api/inventory/transfer', { sku_id: 'sku-1', from_warehouse_id: 'wh-1', to_warehouse_id: 'wh-1', quantity: 1 });
    expect(res.status).toBe(400);
    expect(res.body.error.details.fields[0].path).toBe('to_warehouse_id');
  });
});

describe('POST /api/inventory/bulk-update', () => {
  test('non-atomic: every update gets a result, applied or rejected, in request order', async () => {
    const c = await t.client();
    await setupCatalog(c, { warehouses: ['wh-1', 'wh-2'] });
    const res = await c.post('/api/inventory/bulk-update', {
      updates: [
        { sku_id: 'sku-1', warehouse_id: 'wh-1', transaction_type: 'restock', quantity: 5 },
        { sku_id: 'sku-1', warehouse_id: 'wh-1', transaction_type: 'sale', quantity: 2 },
        { sku_id: 'sku-1', warehouse_id: 'wh-2', transaction_type: 'sale', quantity: 1 },
        { sku_id: 'ghost', warehouse_id: 'wh-1', transaction_type: 'restock', quantity: 1 },
        { sku_id: 'sku-1', warehouse_id: 'wh-1', transaction_type: 'sale', quantity: 3 },
      ],
    });
    expect(res.status).toBe(200);
    const body = bulkUpdateResponse.parse(res.body);
    expect(body).toMatchObject({ atomic: false, applied: 3, rejected: 2 });
    expect(body.results.map((r) => (r.status === 'applied' ? r.level.on_hand : r.error.code))).toEqual([5, 3, 'INSUFFICIENT_STOCK', 'NOT_FOUND', 0]);
  });

  test('atomic: all updates land in one transaction', async () => {
    const c = await t.client();
    await setupCatalog(c, { warehouses: ['wh-1', 'wh-2'] });
    const res = await c.post('/api/inventory/bulk-update', {
      atomic: true,
      updates: [
        { sku_id: 'sku-1', warehouse_id: 'wh-1', transaction_type: 'restock', quantity: 5 },
        { sku_id: 'sku-1', warehouse_id: 'wh-1', transaction_type: 'sale', quantity: 5 },
        { sku_id: 'sku-1', warehouse_id: 'wh-2', transaction_type: 'restock', quantity: 7 },
      ],
    });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ atomic: true, applied: 3, rejected: 0 });
    const moves = await movementsOf(c);
    expect(moves).toHaveLength(3);
    expect(new Set(moves.map((m: { correlation_id: string }) => m.correlation_id)).size).toBe(1);
    expect((await levelOf(c, 'sku-1', 'wh-1'))!.version).toBe(2);
  });

  test('atomic: one refused update means nothing is written, and the error names its index', async () => {
    const c = await t.client();
    await setupCatalog(c, { warehouses: ['wh-1', 'wh-2'] });
    const res = await c.post('/api/inventory/bulk-update', {
      atomic: true,
      updates: [
        { sku_id: 'sku-1', warehouse_id: 'wh-1', transaction_type: 'restock', quantity: 5 },
        { sku_id: 'sku-1', warehouse_id: 'wh-2', transaction_type: 'sale', quantity: 1 },
      ],
    });
    expect(res.status).toBe(409);
    expect(res.body.error).toMatchObject({ code: 'INSUFFICIENT_STOCK', details: { index: 1 } });
    expect(await levelsOf(c)).toEqual([]);
    expect(await movementsOf(c)).toEqual([]);
  });

  test('atomic batches above the transaction limit and batches above 1,000 are 400 saying the limit', async () => {
    const c = await t.client();
    await setupCatalog(c);
    const one = { sku_id: 'sku-1', warehouse_id: 'wh-1', transaction_type: 'restock', quantity: 1 };
    const atomic = await c.post('/api/inventory/bulk-update', { atomic: true, updates: Array(50).fill(one) });
    expect(atomic.status).toBe(400);
    expect(atomic.body.error.details.fields[0].message).toMatch(/at most 49/);
    const huge = await c.post('/api/inventory/bulk-update', { updates: Array(1001).fill(one) });
    expect(huge.status).toBe(400);
    expect(huge.body.error.details.fields[0].message).toMatch(/at most 1000/);
    expect(await movementsOf(c)).toEqual([]);
  });

  test('one invalid update rejects the whole request with its path, before anything is written', async () => {
    const c = await t.client();
    await setupCatalog(c);
    const res = await c.post('/api/inventory/bulk-update', {
      updates: [
        { sku_id: 'sku-1', warehouse_id: 'wh-1', transaction_type: 'restock', quantity: 1 },
        { sku_id: 'sku-1', warehouse_id: 'wh-1', transaction_type: 'restock', quantity: 1.5 },
      ],
    });
    expect(res.status).toBe(400);
    expect(res.body.error.details.fields[0].path).toBe('updates.1.quantity');
    expect(await movementsOf(c)).toEqual([]);
  });
});

describe('reading stock', () => {
  test('GET inventory shows one level per warehouse, totals and last_updated', async () => {
    const c = await t.client();
    await setupCatalog(c, { warehouses: ['wh-1', 'wh-2'] });
    await update(c, { transaction_type: 'restock', quantity: 4 });
    const last = await update(c, { warehouse_id: 'wh-2', transaction_type: 'restock', quantity: 6 });
    const inv = skuInventoryResponse.parse((await c.get('/api/inventory/sku/sku-1')).body);
    expect(inv.levels.map((l) => [l.warehouse_id, l.on_hand])).toEqual([['wh-1', 4], ['wh-2', 6]]);
    expect(inv.totals).toEqual({ on_hand: 10, reserved: 0, available: 10, incoming: 0 });
    expect(inv.last_updated).toBe(last.body.updated_at);
  });

  test('GET inventory of an unknown SKU is 404', async () => {
    const c = await t.client();
    expect((await c.get('/api/inventory/sku/ghost')).status).toBe(404);
  });

  test('movements filter by warehouse and time range and page newest first', async () => {
    const c = await t.client();
    await setupCatalog(c, { warehouses: ['wh-1', 'wh-2'] });
    for (let i = 0; i < 5; i++) await update(c, { transaction_type: 'restock', quantity: 1 + i });
    await update(c, { warehouse_id: 'wh-2', transaction_type: 'restock', quantity: 100 });
    const onlyWh2 = await movementsOf(c, '?warehouse_id=wh-2');
    expect(onlyWh2.map((m: { deltas: { on_hand: number } }) => m.deltas.on_hand)).toEqual([100]);

    const pages: number[][] = [];
    let cursor: string | null = null;
    do {
      const res: { body: { movements: { deltas: { on_hand: number } }[]; next_cursor: string | null } } = await c.get(
        `/api/inventory/sku/sku-1/movements?warehouse_id=wh-1&limit=2${cursor ? `&cursor=${cursor}` : ''}`,
      );
      pages.push(res.body.movements.map((m) => m.deltas.on_hand));
      cursor = res.body.next_cursor;
    } while (cursor);
    expect(pages.flat()).toEqual([5, 4, 3, 2, 1]);

    const future = await movementsOf(c, '?from=2999-01-01T00:00:00Z');
    expect(future).toEqual([]);
    const past = await movementsOf(c, '?to=2000-01-01T00:00:00Z');
    expect(past).toEqual([]);
    const all = await movementsOf(c, `?from=2000-01-01T00:00:00Z&to=2999-01-01T00:00:00Z`);
    expect(all).toHaveLength(6);
  });

  test('a movements cursor from another SKU is refused with 400', async () => {
    const c = await t.client();
    await setupCatalog(c);
    await c.post('/api/skus', { sku_id: 'sku-2', product_id: 'prod-1', name: 'Other' });
    for (let i = 0; i < 3; i++) await c.post('/api/inventory/update', { sku_id: 'sku-2', warehouse_id: 'wh-1', transaction_type: 'restock', quantity: 1 });
    const page = await c.get('/api/inventory/sku/sku-2/movements?limit=1');
    const res = await c.get(`/api/inventory/sku/sku-1/movements?cursor=${page.body.next_cursor}`);
    expect(res.status).toBe(400);
  });
});
