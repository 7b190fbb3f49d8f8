import fc from 'fast-check';
import { createProduct, createSku, createWarehouse } from '../../functions/inventory/catalog';
import { getSkuInventory, listMovements, updateStock } from '../../functions/inventory/stock';
import type { RequestContext } from '../../functions/platform/context';
import type { PurchaseOrderStatus } from '../../functions/purchasing/model';
import {
  cancelPurchaseOrder,
  createPurchaseOrder,
  createSupplier,
  receivePurchaseOrder,
  submitPurchaseOrder,
} from '../../functions/purchasing/purchasing';
import { purchaseOrderListResponse, purchaseOrderResponse, supplierListResponse, supplierResponse } from '../../functions/purchasing/schemas';
import { setupCatalog, startTestApi, type Client, type TestApi } from '../support/api';
import { codeOf, contextFor, testDb } from '../support/domain';
import { allMovements, reconcile } from '../support/ledger';
import { levelQuantities } from '../support/levels';

let t: TestApi;
beforeAll(async () => {
  t = await startTestApi();
});
afterAll(() => t.close());

const supplierBody = (id: string, extra: Record<string, unknown> = {}) => ({
  supplier_id: id,
  name: `Supplier ${id}`,
  contact: { name: 'Ada Lovelace', email: 'ada@supplier.example', phone: '+44 20 7946 0000' },
  lead_time_days: 7,
  currency: 'EUR',
  ...extra,
});

/** A tenant with sku-1 and sku-2, warehouses wh-1 and wh-2, and supplier sup-1 (EUR). */
const purchasingTenant = async (role: 'admin' | 'purchaser' = 'admin'): Promise<Client> => {
  const admin = await t.client();
  await setupCatalog(admin, { warehouses: ['wh-1', 'wh-2'] });
  expect((await admin.post('/api/skus', { sku_id: 'sku-2', product_id: 'prod-1', name: 'Widget, red' })).status).toBe(201);
  expect((await admin.post('/api/suppliers', supplierBody('sup-1'))).status).toBe(201);
  return role === 'admin' ? admin : t.client({ tenantId: admin.tenantId, role });
};

const createPo = (c: Client, id: string, lines: { sku_id: string; quantity: number; unit_cost?: unknown }[], extra: Record<string, unknown> = {}) =>
  c.post('/api/purchase-orders', {
    purchase_order_id: id,
    supplier_id: 'sup-1',
    warehouse_id: 'wh-1',
    lines: lines.map((l) => ({ unit_cost: '2.50', ...l })),
    ...extra,
  });

const submittedPo = async (c: Client, id: string, lines: { sku_id: string; quantity: number; unit_cost?: unknown }[]) => {
  expect((await createPo(c, id, lines)).status).toBe(201);
  const submitted = await c.post(`/api/purchase-orders/${id}/submit`);
  expect(submitted.status).toBe(200);
  return submitted.body;
};

const receive = (c: Client, id: string, lines: { sku_id: string; quantity: unknown }[], extra: Record<string, unknown> = {}, headers?: Record<string, string>) =>
  c.post(`/api/purchase-orders/${id}/receive`, { lines, ...extra }, headers);

/** warehouse -> [on_hand, available, incoming] */
const levels = (c: Client, skuId = 'sku-1') => levelQuantities(c, skuId, ['on_hand', 'available', 'incoming']);

const reconciled = async (c: Client) => {
  expect(await reconcile(c, 'sku-1')).toEqual([]);
  expect(await reconcile(c, 'sku-2')).toEqual([]);
};

describe('suppliers', () => {
  test('a supplier is created with a generated ULID when no id is given, and read and listed back page by page', async () => {
    const c = await t.client();
    const { supplier_id: _id, ...withoutId } = supplierBody('x');
    const created = await c.post('/api/suppliers', withoutId);
    expect(created.status).toBe(201);
    const supplier = supplierResponse.parse(created.body);
    expect(supplier.supplier_id).toMatch(/^[0-9A-HJKMNP-TV-Z]{26}$/);
    expect(supplier).toMatchObject({ lead_time_days: 7, currency: 'EUR', version: 1, contact: { email: 'ada@supplier.example' } });
    expect((await c.get(`/api/suppliers/${supplier.supplier_id}`)).body).toEqual(created.body);
    await c.post('/api/suppliers', supplierBody('sup-2'));
    const first = supplierListResponse.parse((await c.get('/api/suppliers?limit=1')).body);
    expect(first.suppliers).toHaveLength(1);
    const second = supplierListResponse.parse((await c.get(`/api/suppliers?limit=1&cursor=${first.next_cursor}`)).body);
    expect([...first.suppliers, ...second.suppliers].map((s) => s.supplier_id).sort()).toEqual([supplier.supplier_id, 'sup-2'].sort());
    expect((await c.post('/api/suppliers', supplierBody('sup-2'))).status).toBe(409);
  });

  test('contact details are returned to admin and purchaser only; manager, clerk and viewer get the supplier without them', async () => {
    const purchaser = await t.client({ role: 'purchaser' });
    const created = await purchaser.post('/api/suppliers', supplierBody('sup-1'));
    expect(created.status).toBe(201);
    expect(created.body.contact).toEqual({ name: 'Ada Lovelace', email: 'ada@supplier.example', phone: '+44 20 7946 0000' });
    for (const role of ['admin', 'purchaser'] as const) {
      const c = await t.client({ tenantId: purchaser.tenantId, role });
      expect((await c.get('/api/suppliers/sup-1')).body.contact).toEqual(created.body.contact);
      expect((await c.get('/api/suppliers')).body.suppliers[0].contact).toEqual(created.body.contact);
    }
    for (const role of ['manager', 'clerk', 'viewer'] as const) {
      const c = await t.client({ tenantId: purchaser.tenantId, role });
      const one = await c.get('/api/suppliers/sup-1');
      expect(one.status).toBe(200);
      expect(supplierResponse.parse(one.body)).not.toHaveProperty('contact');
      expect(JSON.stringify(one.body)).not.toContain('ada@');
      expect(JSON.stringify((await c.get('/api/suppliers')).body)).not.toContain('Lovelace');
    }
    // A manager may create suppliers, but even the answer to its own POST leaves the contact out.
    const manager = await t.client({ tenantId: purchaser.tenantId, role: 'manager' });
    const byManager = await manager.post('/api/suppliers', supplierBody('sup-2'));
    expect(byManager.status).toBe(201);
    expect(byManager.body).not.toHaveProperty('contact');
    expect((await purchaser.get('/api/suppliers/sup-2')).body.contact.email).toBe('ada@supplier.example');
  });

  test('bad supplier input is 400 naming each failing field, and writes nothing', async () => {
    const c = await t.client();
    const res = await c.post('/api/suppliers', {
      supplier_id: 'has#hash',
      name: '',
      contact: { email: 'not-an-email', phone: 'call me' },
      lead_time_days: 1.5,
      currency: 'eur',
      colour: 'red',
    });
    expect(res.status).toBe(400);
    const paths = res.body.error.details.fields.map((f: { path: string }) => f.path);
    expect(paths).toEqual(expect.arrayContaining(['supplier_id', 'name', 'contact.email', 'contact.phone', 'lead_time_days', 'currency', '']));
    for (const lead of [-1, 366, '7']) expect((await c.post('/api/suppliers', supplierBody('s', { lead_time_days: lead }))).status).toBe(400);
    expect((await c.get('/api/suppliers')).body.suppliers).toEqual([]);
  });
});

describe('purchase order lifecycle', () => {
  test('a draft changes no stock; submit makes every line incoming at once with purchase_ordered rows; submitting again changes nothing', async () => {
    const c = await purchasingTenant('purchaser');
    const created = await createPo(c, 'po-1', [{ sku_id: 'sku-1', quantity: 10, unit_cost: 2.5 }, { sku_id: 'sku-2', quantity: 4, unit_cost: '0.1234' }]);
    expect(created.status).toBe(201);
    expect(purchaseOrderResponse.parse(created.body)).toMatchObject({
      status: 'draft',
      currency: 'EUR',
      version: 1,
      receipts: 0,
      lines: [
        { sku_id: 'sku-1', quantity: 10, unit_cost: '2.50', received: 0, cancelled: 0, open: 10 },
        { sku_id: 'sku-2', quantity: 4, unit_cost: '0.1234', received: 0, cancelled: 0, open: 4 },
      ],
    });
    expect(await levels(c)).toEqual({});
    const submitted = await c.post('/api/purchase-orders/po-1/submit');
    expect(submitted.status).toBe(200);
    expect(submitted.body).toMatchObject({ status: 'submitted', version: 2, submitted_at: expect.any(String) });
    expect(await levels(c, 'sku-1')).toEqual({ 'wh-1': [0, 0, 10] });
    expect(await levels(c, 'sku-2')).toEqual({ 'wh-1': [0, 0, 4] });
    expect((await c.post('/api/purchase-orders/po-1/submit')).body).toEqual(submitted.body);
    const rows = [...(await allMovements(c, 'sku-1')), ...(await allMovements(c, 'sku-2'))];
    expect(rows).toEqual([
      expect.objectContaining({ type: 'purchase_ordered', reference: 'po-1', correlation_id: 'po-1', deltas: { on_hand: 0, reserved: 0, available: 0, incoming: 10 } }),
      expect.objectContaining({ type: 'purchase_ordered', reference: 'po-1', correlation_id: 'po-1', deltas: { on_hand: 0, reserved: 0, available: 0, incoming: 4 } }),
    ]);
    expect((await c.get('/api/purchase-orders/po-1')).body).toEqual(submitted.body);
    await reconciled(c);
  });

  test('partial deliveries put units on hand and available, take them out of incoming and record the unit cost; the last completes the order', async () => {
    const c = await purchasingTenant();
    await c.post('/api/inventory/update', { sku_id: 'sku-1', warehouse_id: 'wh-1', transaction_type: 'restock', quantity: 3 });
    await submittedPo(c, 'po-1', [{ sku_id: 'sku-1', quantity: 10, unit_cost: '2.50' }]);
    const first = await receive(c, 'po-1', [{ sku_id: 'sku-1', quantity: 4 }], { note: 'delivery note 881' });
    expect(first.status).toBe(200);
    expect(first.body).toMatchObject({ status: 'partially_received', receipts: 1, lines: [{ quantity: 10, received: 4, cancelled: 0, open: 6 }] });
    expect(await levels(c)).toEqual({ 'wh-1': [7, 7, 6] });
    const last = await receive(c, 'po-1', [{ sku_id: 'sku-1', quantity: 6 }]);
    expect(last.body).toMatchObject({ status: 'received', receipts: 2, received_at: expect.any(String), lines: [{ received: 10, open: 0 }] });
    expect(await levels(c)).toEqual({ 'wh-1': [13, 13, 0] });
    const receipts = (await allMovements(c, 'sku-1')).filter((m) => m.type === 'receipt');
    expect(receipts).toEqual([
      expect.objectContaining({ unit_cost: '2.50', currency: 'EUR', correlation_id: 'po-1', deltas: { on_hand: 6, reserved: 0, available: 6, incoming: -6 } }),
      expect.objectContaining({ unit_cost: '2.50', currency: 'EUR', note: 'delivery note 881', deltas: { on_hand: 4, reserved: 0, available: 4, incoming: -4 } }),
    ]);
    // Received in full: nothing more can arrive and nothing is left to cancel.
    expect((await receive(c, 'po-1', [{ sku_id: 'sku-1', quantity: 1 }], { allow_over_receipt: true })).status).toBe(409);
    const cancel = await c.post('/api/purchase-orders/po-1/cancel');
    expect(cancel.status).toBe(409);
    expect(cancel.body.error.code).toBe('CONFLICT');
    expect(await levels(c)).toEqual({ 'wh-1': [13, 13, 0] });
    await reconciled(c);
  });

  test('a delivery with more than is open on any line is refused whole with 409 and nothing written', async () => {
    const c = await purchasingTenant();
    const submitted = await submittedPo(c, 'po-1', [{ sku_id: 'sku-1', quantity: 5 }, { sku_id: 'sku-2', quantity: 5 }]);
    const res = await receive(c, 'po-1', [{ sku_id: 'sku-1', quantity: 2 }, { sku_id: 'sku-2', quantity: 7 }]);
    expect(res.status).toBe(409);
    expect(res.body.error).toMatchObject({ code: 'CONFLICT', details: { over_receipt: [{ sku_id: 'sku-2', requested: 7, open: 5 }] } });
    expect(res.body.error.message).toMatch(/allow_over_receipt/);
    expect(await levels(c, 'sku-1')).toEqual({ 'wh-1': [0, 0, 5] });
    expect(await levels(c, 'sku-2')).toEqual({ 'wh-1': [0, 0, 5] });
    expect((await c.get('/api/purchase-orders/po-1')).body).toEqual(submitted);
    await reconciled(c);
  });

  test('an allowed over-receipt puts the excess on hand while incoming drops only by what was open, and the ledger adds up', async () => {
    const c = await purchasingTenant();
    await submittedPo(c, 'po-1', [{ sku_id: 'sku-1', quantity: 5, unit_cost: '1.25' }, { sku_id: 'sku-2', quantity: 5 }]);
    const res = await receive(c, 'po-1', [{ sku_id: 'sku-1', quantity: 2 }, { sku_id: 'sku-2', quantity: 7 }], { allow_over_receipt: true });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      status: 'partially_received',
      lines: [
        { sku_id: 'sku-1', received: 2, open: 3 },
        { sku_id: 'sku-2', received: 7, open: 0 },
      ],
    });
    expect(await levels(c, 'sku-1')).toEqual({ 'wh-1': [2, 2, 3] });
    expect(await levels(c, 'sku-2')).toEqual({ 'wh-1': [7, 7, 0] });
    const rows = (await allMovements(c, 'sku-2')).filter((m) => m.correlation_id === 'po-1' && m.type !== 'purchase_ordered');
    expect(rows.map((m) => [m.type, m.reason, m.unit_cost, m.deltas.on_hand, m.deltas.incoming]).sort()).toEqual([
      ['receipt', undefined, '2.50', 5, -5],
      ['restock', 'over_receipt', '2.50', 2, 0],
    ]);
    // The rest of sku-1 over-delivered too completes the order.
    const rest = await receive(c, 'po-1', [{ sku_id: 'sku-1', quantity: 4 }], { allow_over_receipt: true });
    expect(rest.body).toMatchObject({ status: 'received', lines: [{ received: 6, open: 0 }, { received: 7, open: 0 }] });
    expect(await levels(c, 'sku-1')).toEqual({ 'wh-1': [6, 6, 0] });
    await reconciled(c);
  });

  test('cancelling a partly received order removes only what is still incoming, once; cancelling again changes nothing', async () => {
    const c = await purchasingTenant();
    await c.post('/api/inventory/update', { sku_id: 'sku-1', warehouse_id: 'wh-1', transaction_type: 'restock', quantity: 2 });
    await submittedPo(c, 'po-1', [{ sku_id: 'sku-1', quantity: 10 }, { sku_id: 'sku-2', quantity: 3 }]);
    await submittedPo(c, 'po-2', [{ sku_id: 'sku-1', quantity: 4 }]);
    await receive(c, 'po-1', [{ sku_id: 'sku-1', quantity: 3 }, { sku_id: 'sku-2', quantity: 3 }]);
    const cancelled = await c.post('/api/purchase-orders/po-1/cancel');
    expect(cancelled.status).toBe(200);
    expect(cancelled.body).toMatchObject({
      status: 'cancelled',
      cancelled_at: expect.any(String),
      lines: [
        { sku_id: 'sku-1', quantity: 10, received: 3, cancelled: 7, open: 0 },
        { sku_id: 'sku-2', quantity: 3, received: 3, cancelled: 0, open: 0 },
      ],
    });
    // po-2 is still incoming; the 3 received stay on hand.
    expect(await levels(c, 'sku-1')).toEqual({ 'wh-1': [5, 5, 4] });
    expect(await levels(c, 'sku-2')).toEqual({ 'wh-1': [3, 3, 0] });
    const again = await Promise.all([1, 2, 3].map(() => c.post('/api/purchase-orders/po-1/cancel')));
    for (const r of again) expect(r.body).toEqual(cancelled.body);
    const cancellations = (await allMovements(c, 'sku-1')).filter((m) => m.type === 'purchase_cancelled');
    expect(cancellations).toEqual([expect.objectContaining({ correlation_id: 'po-1', deltas: { on_hand: 0, reserved: 0, available: 0, incoming: -7 } })]);
    expect(await levels(c, 'sku-1')).toEqual({ 'wh-1': [5, 5, 4] });
    await reconciled(c);
  });

  test('a receipt for a cancelled order is 409 and writes nothing; so are receiving a draft and submitting a cancelled order', async () => {
    const c = await purchasingTenant();
    await createPo(c, 'po-draft', [{ sku_id: 'sku-1', quantity: 5 }]);
    const draftReceipt = await receive(c, 'po-draft', [{ sku_id: 'sku-1', quantity: 1 }]);
    expect(draftReceipt.status).toBe(409);
    expect(draftReceipt.body.error.details).toEqual({ purchase_order_id: 'po-draft', status: 'draft' });
    const cancelledDraft = await c.post('/api/purchase-orders/po-draft/cancel');
    expect(cancelledDraft.body).toMatchObject({ status: 'cancelled', lines: [{ cancelled: 5, open: 0 }] });
    expect((await c.post('/api/purchase-orders/po-draft/submit')).status).toBe(409);
    expect(await levels(c)).toEqual({});

    await submittedPo(c, 'po-1', [{ sku_id: 'sku-1', quantity: 5 }]);
    const cancelled = (await c.post('/api/purchase-orders/po-1/cancel')).body;
    const before = { level: await levels(c), ledger: await allMovements(c, 'sku-1') };
    for (const [i, extra] of [{}, { allow_over_receipt: true }].entries()) {
      const res = await receive(c, 'po-1', [{ sku_id: 'sku-1', quantity: 1 }], extra, { 'idempotency-key': `late-${i}` });
      expect(res.status).toBe(409);
      expect(res.body.error.details).toEqual({ purchase_order_id: 'po-1', status: 'cancelled' });
    }
    expect({ level: await levels(c), ledger: await allMovements(c, 'sku-1') }).toEqual(before);
    expect((await c.get('/api/purchase-orders/po-1')).body).toEqual(cancelled);
    await reconciled(c);
  });

  test('the same delivery sent twice (even at once) with one Idempotency-Key is received once; the key with another body is 422', async () => {
    const c = await purchasingTenant();
    await submittedPo(c, 'po-1', [{ sku_id: 'sku-1', quantity: 10 }]);
    const key = { 'idempotency-key': 'delivery-881' };
    const first = await receive(c, 'po-1', [{ sku_id: 'sku-1', quantity: 4 }], {}, key);
    expect(first.status).toBe(200);
    const retries = await Promise.all([1, 2, 3].map(() => receive(c, 'po-1', [{ sku_id: 'sku-1', quantity: 4 }], {}, key)));
    for (const r of retries) expect(r).toEqual(first);
    expect(await levels(c)).toEqual({ 'wh-1': [4, 4, 6] });
    expect((await c.get('/api/purchase-orders/po-1')).body).toMatchObject({ receipts: 1, lines: [{ received: 4 }] });
    const otherBody = await receive(c, 'po-1', [{ sku_id: 'sku-1', quantity: 5 }], {}, key);
    expect(otherBody.status).toBe(422);
    // Two different deliveries racing (different keys) both land, each exactly once.
    const both = await Promise.all(['d-1', 'd-2'].map((k) => receive(c, 'po-1', [{ sku_id: 'sku-1', quantity: 3 }], {}, { 'idempotency-key': k })));
    expect(both.map((r) => r.status)).toEqual([200, 200]);
    expect(await levels(c)).toEqual({ 'wh-1': [10, 10, 0] });
    expect((await c.get('/api/purchase-orders/po-1')).body).toMatchObject({ status: 'received', receipts: 3 });
    expect((await allMovements(c, 'sku-1')).filter((m) => m.type === 'receipt')).toHaveLength(3);
    await reconciled(c);
  });
});

describe('bad input', () => {
  test('an unknown supplier, warehouse or SKU is 404 naming it, and no order is created', async () => {
    const c = await purchasingTenant();
    const cases: [Record<string, unknown>, { sku_id: string; quantity: number }[], string][] = [
      [{ supplier_id: 'ghost' }, [{ sku_id: 'sku-1', quantity: 1 }], 'supplier'],
      [{ warehouse_id: 'ghost' }, [{ sku_id: 'sku-1', quantity: 1 }], 'warehouse'],
      [{}, [{ sku_id: 'sku-1', quantity: 1 }, { sku_id: 'ghost', quantity: 1 }], 'sku'],
    ];
    for (const [extra, lines, what] of cases) {
      const res = await createPo(c, 'po-1', lines, extra);
      expect(res.status).toBe(404);
      expect(res.body.error.details).toEqual({ [`${what}_id`]: 'ghost' });
    }
    expect((await c.get('/api/purchase-orders')).body.purchase_orders).toEqual([]);
    for (const action of ['submit', 'cancel']) expect((await c.post(`/api/purchase-orders/ghost/${action}`)).status).toBe(404);
    expect((await receive(c, 'ghost', [{ sku_id: 'sku-1', quantity: 1 }])).status).toBe(404);
    expect((await c.get('/api/purchase-orders/ghost')).status).toBe(404);
    expect((await c.get('/api/suppliers/ghost')).status).toBe(404);
    expect(await levels(c)).toEqual({});
  });

  test('negative, zero, fractional or non-numeric quantities, bad money, duplicate or foreign SKUs and too many lines are 400 and write nothing', async () => {
    const c = await purchasingTenant();
    for (const bad of [{ quantity: -1 }, { quantity: 0 }, { quantity: 1.5 }, { quantity: '2' }, { unit_cost: -1 }, { unit_cost: '1.23456' }, { unit_cost: 'ten' }]) {
      const res = await createPo(c, 'po-x', [{ sku_id: 'sku-1', quantity: 1, ...bad } as never]);
      expect({ bad, status: res.status, code: res.body.error?.code }).toEqual({ bad, status: 400, code: 'VALIDATION_FAILED' });
    }
    expect((await createPo(c, 'po-x', [{ sku_id: 'sku-1', quantity: 1 }, { sku_id: 'sku-1', quantity: 2 }])).status).toBe(400);
    const big = await createPo(c, 'po-x', Array.from({ length: 50 }, (_, i) => ({ sku_id: `s-${i}`, quantity: 1 })));
    expect(big.status).toBe(400);
    expect(big.body.error.details.fields[0].message).toMatch(/at most 49 lines/);
    expect((await createPo(c, 'po-x', [{ sku_id: 'sku-1', quantity: 1 }], { currency: 'euro' })).status).toBe(400);
    expect((await createPo(c, 'po-x', [])).status).toBe(400);
    expect((await c.get('/api/purchase-orders/po-x')).status).toBe(404);

    const submitted = await submittedPo(c, 'po-1', [{ sku_id: 'sku-1', quantity: 5 }]);
    for (const quantity of [-1, 0, 1.5, '2', null]) {
      const res = await receive(c, 'po-1', [{ sku_id: 'sku-1', quantity }]);
      expect({ quantity, status: res.status }).toEqual({ quantity, status: 400 });
    }
    expect((await receive(c, 'po-1', [{ sku_id: 'sku-1', quantity: 1 }, { sku_id: 'sku-1', quantity: 1 }])).status).toBe(400);
    const foreign = await receive(c, 'po-1', [{ sku_id: 'sku-1', quantity: 1 }, { sku_id: 'sku-2', quantity: 1 }]);
    expect(foreign.status).toBe(400);
    expect(foreign.body.error.details.fields).toEqual([{ in: 'body', path: 'lines.1.sku_id', message: expect.stringMatching(/not a line of purchase order 'po-1'/) }]);
    expect((await receive(c, 'po-1', [{ sku_id: 'sku-1', quantity: 1 }], { allow_over_receipt: 'yes' })).status).toBe(400);
    expect((await c.get('/api/purchase-orders/po-1')).body).toEqual(submitted);
    expect(await levels(c)).toEqual({ 'wh-1': [0, 0, 5] });
    expect(await levels(c, 'sku-2')).toEqual({});
    await reconciled(c);
  });
});

describe('GET /api/purchase-orders', () => {
  test('filters by status, by supplier and by both, and pages with next_cursor', async () => {
    const c = await purchasingTenant();
    await c.post('/api/suppliers', supplierBody('sup-2', { currency: 'USD' }));
    await c.post('/api/suppliers', supplierBody('sup-10'));
    const line = [{ sku_id: 'sku-1', quantity: 1 }];
    await createPo(c, 'po-1', line);
    await submittedPo(c, 'po-2', line);
    await createPo(c, 'po-3', line, { supplier_id: 'sup-2' });
    await submittedPo(c, 'po-4', line);
    await c.post('/api/purchase-orders/po-4/cancel');
    await createPo(c, 'po-5', line, { supplier_id: 'sup-10' });
    for (let i = 6; i <= 9; i++) await createPo(c, `po-${i}`, line, { supplier_id: 'sup-2' });
    const ids = async (query: string, limit?: number): Promise<string[]> => {
      const all: string[] = [];
      let cursor: string | null = null;
      do {
        const res = await c.get(`/api/purchase-orders?${query}${limit ? `&limit=${limit}` : ''}${cursor ? `&cursor=${cursor}` : ''}`);
        expect(res.status).toBe(200);
        const page = purchaseOrderListResponse.parse(res.body);
        if (limit) expect(page.purchase_orders.length).toBeLessThanOrEqual(limit);
        all.push(...page.purchase_orders.map((p) => p.purchase_order_id));
        cursor = page.next_cursor;
      } while (cursor);
      return all.sort();
    };
    expect(await ids('')).toEqual(['po-1', 'po-2', 'po-3', 'po-4', 'po-5', 'po-6', 'po-7', 'po-8', 'po-9']);
    expect(await ids('', 2)).toHaveLength(9);
    expect(await ids('status=draft')).toEqual(['po-1', 'po-3', 'po-5', 'po-6', 'po-7', 'po-8', 'po-9']);
    expect(await ids('status=submitted')).toEqual(['po-2']);
    expect(await ids('status=cancelled')).toEqual(['po-4']);
    expect(await ids('status=draft&supplier_id=sup-1')).toEqual(['po-1']);
    expect(await ids('status=draft&supplier_id=sup-2', 2)).toEqual(['po-3', 'po-6', 'po-7', 'po-8', 'po-9']);
    expect(await ids('supplier_id=sup-1')).toEqual(['po-1', 'po-2', 'po-4']);
    expect(await ids('supplier_id=sup-2', 2)).toEqual(['po-3', 'po-6', 'po-7', 'po-8', 'po-9']);
    expect(await ids('supplier_id=sup-1', 1)).toEqual(['po-1', 'po-2', 'po-4']);
    expect(await ids('supplier_id=nobody')).toEqual([]);
    expect((await c.get('/api/purchase-orders?status=open')).status).toBe(400);
    expect((await c.get('/api/purchase-orders?cursor=bm9wZQ')).status).toBe(400);
    // A cursor of one list is not a cursor of another.
    const draftPage = await c.get('/api/purchase-orders?status=draft&limit=1');
    expect((await c.get(`/api/purchase-orders?status=submitted&cursor=${draftPage.body.next_cursor}`)).status).toBe(400);
    expect((await c.get('/api/purchase-orders/po-3')).body.currency).toBe('USD');
  });
});

test("another tenant can neither see nor change tenant A's suppliers and purchase orders", async () => {
  const a = await purchasingTenant();
  await submittedPo(a, 'po-a', [{ sku_id: 'sku-1', quantity: 5 }]);
  await createPo(a, 'po-a2', [{ sku_id: 'sku-1', quantity: 1 }]);
  const stateOfA = async () => ({
    pos: (await a.get('/api/purchase-orders')).body,
    suppliers: (await a.get('/api/suppliers')).body,
    levels: await levels(a),
  });
  const before = await stateOfA();
  const b = await t.client();
  expect((await b.get('/api/purchase-orders/po-a')).status).toBe(404);
  expect((await b.get('/api/suppliers/sup-1')).status).toBe(404);
  for (const action of ['submit', 'cancel']) expect((await b.post(`/api/purchase-orders/po-a/${action}`)).status).toBe(404);
  expect((await receive(b, 'po-a', [{ sku_id: 'sku-1', quantity: 1 }])).status).toBe(404);
  expect((await createPo(b, 'po-b', [{ sku_id: 'sku-1', quantity: 1 }])).status).toBe(404);
  expect((await b.get('/api/purchase-orders')).body.purchase_orders).toEqual([]);
  expect((await b.get('/api/purchase-orders?status=submitted')).body.purchase_orders).toEqual([]);
  expect((await b.get('/api/purchase-orders?supplier_id=sup-1')).body.purchase_orders).toEqual([]);
  expect((await b.get('/api/suppliers')).body.suppliers).toEqual([]);
  // A's cursors are refused, not followed.
  for (const query of ['', 'status=draft&', 'supplier_id=sup-1&']) {
    const cursor = (await a.get(`/api/purchase-orders?${query}limit=1`)).body.next_cursor;
    expect(cursor).toEqual(expect.any(String));
    expect((await b.get(`/api/purchase-orders?${query}cursor=${cursor}`)).status).toBe(400);
  }
  expect(await stateOfA()).toEqual(before);
});

test('viewers and clerks get 403 on every purchasing write and nothing is written; a purchaser may write', async () => {
  const admin = await purchasingTenant();
  await submittedPo(admin, 'po-1', [{ sku_id: 'sku-1', quantity: 5 }]);
  const before = { pos: (await admin.get('/api/purchase-orders')).body, suppliers: (await admin.get('/api/suppliers')).body, levels: await levels(admin) };
  const writes: [string, unknown][] = [
    ['/api/suppliers', supplierBody('sup-9')],
    ['/api/purchase-orders', { purchase_order_id: 'po-9', supplier_id: 'sup-1', warehouse_id: 'wh-1', lines: [{ sku_id: 'sku-1', quantity: 1, unit_cost: 1 }] }],
    ['/api/purchase-orders/po-1/submit', undefined],
    ['/api/purchase-orders/po-1/receive', { lines: [{ sku_id: 'sku-1', quantity: 1 }] }],
    ['/api/purchase-orders/po-1/cancel', undefined],
  ];
  for (const role of ['viewer', 'clerk'] as const) {
    const c = await t.client({ tenantId: admin.tenantId, role });
    for (const [path, body] of writes) expect({ role, path, status: (await c.post(path, body)).status }).toEqual({ role, path, status: 403 });
    expect((await c.get('/api/purchase-orders/po-1')).status).toBe(200);
  }
  expect({ pos: (await admin.get('/api/purchase-orders')).body, suppliers: (await admin.get('/api/suppliers')).body, levels: await levels(admin) }).toEqual(before);
  const purchaser = await t.client({ tenantId: admin.tenantId, role: 'purchaser' });
  expect((await receive(purchaser, 'po-1', [{ sku_id: 'sku-1', quantity: 5 }])).body.status).toBe('received');
  await reconciled(admin);
});

// ---------- property: incoming is the sum of what is still open on submitted orders ----------

/**
 * Model-based: random sequences of create, submit, receive (sometimes over,
 * sometimes allowed) and cancel across a few purchase orders on one SKU x
 * warehouse run against the domain functions on DynamoDB Local and a small
 * model. After every step `incoming` equals the open quantities of the
 * submitted and partially received orders, on_hand equals the opening stock
 * plus everything received, and every refusal is the one the model expects.
 * At the end the ledger's deltas sum to the level.
 */
const db = testDb();
const PO_IDS = ['po-1', 'po-2', 'po-3'];
const OPENING = 5;

interface ModelPo { status: PurchaseOrderStatus; quantity: number; received: number; cancelled: number }
interface PoModel { pos: Record<string, ModelPo>; receivedTotal: number }

const openQ = (po: ModelPo) => Math.max(0, po.quantity - po.received - po.cancelled);

const checkLevel = async (m: PoModel, ctx: RequestContext) => {
  const level = (await getSkuInventory({ db, ctx }, 'sku-1')).levels.find((l) => l.warehouse_id === 'wh-1')!;
  const incoming = Object.values(m.pos).filter((p) => p.status === 'submitted' || p.status === 'partially_received').reduce((s, p) => s + openQ(p), 0);
  expect({ incoming: level.incoming, on_hand: level.on_hand, available: level.available }).toEqual({
    incoming,
    on_hand: OPENING + m.receivedTotal,
    available: OPENING + m.receivedTotal,
  });
};

class CreatePo implements fc.AsyncCommand<PoModel, RequestContext> {
  constructor(readonly id: string, readonly quantity: number) {}
  check = () => true;
  async run(m: PoModel, ctx: RequestContext) {
    const code = await codeOf(createPurchaseOrder({ db, ctx }, { purchase_order_id: this.id, supplier_id: 'sup-1', warehouse_id: 'wh-1', lines: [{ sku_id: 'sku-1', quantity: this.quantity, unit_cost: '1.5' }] }));
    if (m.pos[this.id]) expect(code).toBe('ALREADY_EXISTS');
    else {
      expect(code).toBeUndefined();
      m.pos[this.id] = { status: 'draft', quantity: this.quantity, received: 0, cancelled: 0 };
    }
    await checkLevel(m, ctx);
  }
  toString = () => `create(${this.id}, ${this.quantity})`;
}

class SubmitPo implements fc.AsyncCommand<PoModel, RequestContext> {
  constructor(readonly id: string) {}
  check = (m: Readonly<PoModel>) => m.pos[this.id] !== undefined;
  async run(m: PoModel, ctx: RequestContext) {
    const po = m.pos[this.id]!;
    const code = await codeOf(submitPurchaseOrder({ db, ctx }, this.id));
    if (po.status === 'cancelled') expect(code).toBe('CONFLICT');
    else {
      expect(code).toBeUndefined();
      if (po.status === 'draft') po.status = 'submitted';
    }
    await checkLevel(m, ctx);
  }
  toString = () => `submit(${this.id})`;
}

class ReceivePo implements fc.AsyncCommand<PoModel, RequestContext> {
  constructor(readonly id: string, readonly quantity: number, readonly allowOver: boolean) {}
  check = (m: Readonly<PoModel>) => m.pos[this.id] !== undefined;
  async run(m: PoModel, ctx: RequestContext) {
    const po = m.pos[this.id]!;
    const code = await codeOf(receivePurchaseOrder({ db, ctx }, this.id, { lines: [{ sku_id: 'sku-1', quantity: this.quantity }], allow_over_receipt: this.allowOver }));
    const receivable = po.status === 'submitted' || po.status === 'partially_received';
    if (!receivable || (this.quantity > openQ(po) && !this.allowOver)) expect(code).toBe('CONFLICT');
    else {
      expect(code).toBeUndefined();
      po.received += this.quantity;
      m.receivedTotal += this.quantity;
      po.status = openQ(po) === 0 ? 'received' : 'partially_received';
    }
    await checkLevel(m, ctx);
  }
  toString = () => `receive(${this.id}, ${this.quantity}${this.allowOver ? ', allow_over' : ''})`;
}

class CancelPo implements fc.AsyncCommand<PoModel, RequestContext> {
  constructor(readonly id: string) {}
  check = (m: Readonly<PoModel>) => m.pos[this.id] !== undefined;
  async run(m: PoModel, ctx: RequestContext) {
    const po = m.pos[this.id]!;
    const code = await codeOf(cancelPurchaseOrder({ db, ctx }, this.id));
    if (po.status === 'received') expect(code).toBe('CONFLICT');
    else {
      expect(code).toBeUndefined();
      if (po.status !== 'cancelled') {
        po.cancelled += openQ(po);
        po.status = 'cancelled';
      }
    }
    await checkLevel(m, ctx);
  }
  toString = () => `cancel(${this.id})`;
}

const poId = fc.constantFrom(...PO_IDS);
const receiveCmd = fc.tuple(poId, fc.integer({ min: 1, max: 6 }), fc.boolean()).map(([id, q, over]) => new ReceivePo(id, q, over));
// Creates, submits and receives are listed more than once: orders must exist and be submitted before the rest means much.
const poCommands = [
  fc.tuple(poId, fc.integer({ min: 1, max: 12 })).map(([id, q]) => new CreatePo(id, q)),
  fc.tuple(poId, fc.integer({ min: 1, max: 12 })).map(([id, q]) => new CreatePo(id, q)),
  poId.map((id) => new SubmitPo(id)),
  poId.map((id) => new SubmitPo(id)),
  receiveCmd,
  receiveCmd,
  receiveCmd,
  poId.map((id) => new CancelPo(id)),
];

test('property: for any sequence of create, submit, receive and cancel, incoming is the sum of open quantities on submitted orders and on_hand the opening stock plus receipts', async () => {
  await fc.assert(
    fc.asyncProperty(fc.commands(poCommands, { maxCommands: 40, size: 'max' }), async (cmds) => {
      const ctx = contextFor();
      const deps = { db, ctx };
      await createProduct(deps, { product_id: 'p', name: 'P' });
      await createSku(deps, { sku_id: 'sku-1', product_id: 'p', name: 'S' });
      await createWarehouse(deps, { warehouse_id: 'wh-1', name: 'W', latitude: 40, longitude: -74, priority: 100, active: true });
      await createSupplier(deps, { supplier_id: 'sup-1', name: 'Sup', lead_time_days: 3, currency: 'USD' });
      await updateStock(deps, { sku_id: 'sku-1', warehouse_id: 'wh-1', transaction_type: 'restock', quantity: OPENING });
      const model: PoModel = { pos: {}, receivedTotal: 0 };
      await fc.asyncModelRun(() => ({ model, real: ctx }), cmds);
      // The ledger adds up: the level is the sum of its rows' deltas, versions 1..n.
      const level = (await getSkuInventory(deps, 'sku-1')).levels[0]!;
      const rows = (await listMovements(deps, 'sku-1', { limit: 200 })).movements;
      expect(rows.map((r) => r.version ?? 0).sort((x, y) => x - y)).toEqual(rows.map((_, i) => i + 1));
      expect(rows.length).toBe(level.version);
      for (const field of ['on_hand', 'available', 'incoming', 'reserved'] as const) {
        expect({ field, ledger: rows.reduce((s, r) => s + r.deltas[field], 0) }).toEqual({ field, ledger: level[field] });
      }
    }),
    { numRuns: 40 },
  );
}, 240_000);
