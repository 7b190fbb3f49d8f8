import { dbFromEnv } from '../../functions/platform/db';
import { registerUser } from '../../functions/identity/users';
import { PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import type { Context } from 'aws-lambda';
import { z } from 'zod';
import { auditKindOf, AuditRecordExists, storedAuditRecordSchema, writeAuditRecord } from '../../functions/platform/audit';
import { createDocumentClient } from '../../functions/platform/db';
import { httpHandler, type HttpEvent } from '../../functions/platform/http';
import { keys } from '../../functions/platform/keys';
import { nameRoutes, type TokenRoute } from '../../functions/platform/routes';
import { AUDIT_TABLE_NAME_ENV, auditTableName } from '../../functions/platform/table';
import { httpRoutes, routeKey } from '../../functions/wiring';
import { lambdaContext } from '../../bin/local/lambda-context';
import { newTenantId, ok, setupCatalog, startTestApi, type Client, type TestApi } from '../support/api';
import { newShopDomain } from '../support/shops';

/**
 * The audit trail (issue 12, part 4), end to end through the local API: every mutating route writes
 * exactly one record per call (success, refusal and failure alike) before it answers, a replay is
 * recorded as one, sensitive reads are recorded, GET /api/audit filters, pages and exports, and
 * nothing can change a record. The routes come from the wiring: a mutating route without a case
 * below fails the first test.
 */

let t: TestApi;
beforeAll(async () => {
  t = await startTestApi();
});
afterAll(() => t.close());

const db = createDocumentClient();

/** Every record of a tenant as stored (today's and yesterday's partitions: a test may straddle midnight UTC), newest first. */
const storedRecordsOf = async (tenantId: string): Promise<any[]> => {
  const now = Date.now();
  const days = [new Date(now).toISOString().slice(0, 10), new Date(now - 86_400_000).toISOString().slice(0, 10)];
  const all: any[] = [];
  for (const day of [...new Set(days)]) {
    let start: Record<string, unknown> | undefined;
    do {
      const out = await db.send(
        new QueryCommand({ TableName: auditTableName(), KeyConditionExpression: 'pk = :pk', ExpressionAttributeValues: { ':pk': keys.auditDay(tenantId, day) }, ExclusiveStartKey: start, ScanIndexForward: false }),
      );
      all.push(...(out.Items ?? []));
      start = out.LastEvaluatedKey;
    } while (start);
  }
  return all;
};

/** The same, decoded as the trail reads them (the nested parts are stored as JSON text), storage attributes kept. */
const recordsOf = async (tenantId: string): Promise<any[]> => (await storedRecordsOf(tenantId)).map((item) => ({ ...item, ...storedAuditRecordSchema.parse(item) }));

const recordsBy = async (tenantId: string, subject: string): Promise<any[]> => (await recordsOf(tenantId)).filter((r) => r.actor_subject === subject);

/** The routes the trail records as changes, by the wiring alone. */
const mutating = Object.entries(httpRoutes).flatMap(([name, route]) => ('auth' in route && route.auth === 'webhook' ? [] : auditKindOf(route as TokenRoute, { role: 'admin' }) === 'change' ? [name] : []));

const shipTo = { latitude: 40, longitude: -74 };
const ids = { product_id: 'prod-1', sku_id: 'sku-1', warehouse_id: 'wh-1', to_warehouse_id: 'wh-2', supplier_id: 'sup-1', purchase_order_id: 'po-1', order_id: 'order-1', channel_id: 'chan-1' };

interface Sample {
  method: string;
  path: string;
  body?: unknown;
  /** Ids the record must name among its targets. */
  targets: string[];
}

/**
 * One request per mutating route (a table of our own: test/support/route-requests.ts, if the roles work
 * extracts auth-and-tenancy's, can replace it). Samples run in this order on one prepared tenant; each
 * may succeed or be refused: the record must say which, whichever it is.
 */
const samples = (): Record<string, Sample> => ({
  createProduct: { method: 'POST', path: '/api/products', body: { product_id: 'prod-2', name: 'Gadget' }, targets: ['prod-2'] },
  createSku: { method: 'POST', path: '/api/skus', body: { sku_id: 'sku-2', product_id: 'prod-2', name: 'Gadget, red' }, targets: ['sku-2', 'prod-2'] },
  patchSku: { method: 'PATCH', path: `/api/skus/${ids.sku_id}`, body: { name: 'Widget, green' }, targets: [ids.sku_id] },
  createWarehouse: { method: 'POST', path: '/api/warehouses', body: { warehouse_id: 'wh-3', name: 'Third', latitude: 1, longitude: 1 }, targets: ['wh-3'] },
  patchWarehouse: { method: 'PATCH', path: '/api/warehouses/wh-3', body: { active: false }, targets: ['wh-3'] },
  updateStock: { method: 'POST', path: '/api/inventory/update', body: { sku_id: ids.sku_id, warehouse_id: ids.warehouse_id, transaction_type: 'sale', quantity: 1 }, targets: [ids.sku_id, ids.warehouse_id] },
  setSubLevels: { method: 'POST', path: '/api/inventory/sub-levels', body: { sku_id: ids.sku_id, warehouse_id: ids.warehouse_id, count: 3 }, targets: [ids.sku_id, ids.warehouse_id] },
  transferStock: { method: 'POST', path: '/api/inventory/transfer', body: { sku_id: ids.sku_id, from_warehouse_id: ids.warehouse_id, to_warehouse_id: ids.to_warehouse_id, quantity: 1 }, targets: [ids.sku_id, ids.warehouse_id, ids.to_warehouse_id] },
  bulkUpdateStock: { method: 'POST', path: '/api/inventory/bulk-update', body: { atomic: false, updates: [{ sku_id: ids.sku_id, warehouse_id: ids.warehouse_id, transaction_type: 'restock', quantity: 2 }] }, targets: [ids.sku_id, ids.warehouse_id] },
  allocateOrder: { method: 'POST', path: '/api/orders/allocate', body: { order_id: 'order-2', lines: [{ sku_id: ids.sku_id, quantity: 1 }], ship_to: shipTo, hold_seconds: 600 }, targets: ['order-2', ids.sku_id] },
  confirmOrder: { method: 'POST', path: '/api/orders/order-2/confirm', targets: ['order-2'] },
  shipOrder: { method: 'POST', path: '/api/orders/order-2/ship', body: { lines: [{ sku_id: ids.sku_id, quantity: 1 }] }, targets: ['order-2', ids.sku_id] },
  cancelOrder: { method: 'POST', path: `/api/orders/${ids.order_id}/cancel`, targets: [ids.order_id] },
  createSupplier: { method: 'POST', path: '/api/suppliers', body: { supplier_id: 'sup-2', name: 'Other Supply', lead_time_days: 3, currency: 'USD' }, targets: ['sup-2'] },
  createPurchaseOrder: { method: 'POST', path: '/api/purchase-orders', body: { purchase_order_id: 'po-2', supplier_id: ids.supplier_id, warehouse_id: ids.warehouse_id, lines: [{ sku_id: ids.sku_id, quantity: 3, unit_cost: '1.00' }] }, targets: ['po-2', ids.supplier_id, ids.warehouse_id, ids.sku_id] },
  submitPurchaseOrder: { method: 'POST', path: '/api/purchase-orders/po-2/submit', targets: ['po-2'] },
  receivePurchaseOrder: { method: 'POST', path: '/api/purchase-orders/po-2/receive', body: { lines: [{ sku_id: ids.sku_id, quantity: 1 }] }, targets: ['po-2', ids.sku_id] },
  cancelPurchaseOrder: { method: 'POST', path: '/api/purchase-orders/po-2/cancel', targets: ['po-2'] },
  putThresholds: { method: 'PUT', path: '/api/thresholds', body: { sku_id: ids.sku_id, warehouse_id: ids.warehouse_id, reorder_point: 5, safety_stock: 1 }, targets: [ids.sku_id, ids.warehouse_id] },
  acknowledgeAlert: { method: 'POST', path: '/api/alerts/alert-unknown/acknowledge', targets: ['alert-unknown'] },
  subscribeAlerts: { method: 'POST', path: '/api/alerts/subscribe', body: { scope: { sku_id: ids.sku_id }, channel: 'email', target: 'ops@example.com' }, targets: [ids.sku_id] },
  deleteAlertSubscription: { method: 'DELETE', path: '/api/alerts/subscriptions/sub-unknown', targets: ['sub-unknown'] },
  createPurchaseOrdersFromSuggestions: { method: 'POST', path: '/api/replenishment/suggestions/purchase-orders', body: { suggestions: [{ sku_id: ids.sku_id, warehouse_id: ids.warehouse_id, quantity: 5 }] }, targets: [ids.sku_id, ids.warehouse_id] },
  applyReorderPoints: { method: 'POST', path: '/api/replenishment/reorder-points', body: { warehouse_id: ids.warehouse_id, sku_ids: [ids.sku_id] }, targets: [ids.warehouse_id, ids.sku_id] },
  importDemandHistory: { method: 'POST', path: '/api/reports/demand-history', body: { rows: [{ date: '2025-01-02', sku_id: ids.sku_id, warehouse_id: ids.warehouse_id, quantity: 1 }] }, targets: [ids.sku_id, ids.warehouse_id] },
  requestForecastRun: { method: 'POST', path: '/api/reports/demand-forecast/run', targets: [] },
  createChannel: {
    method: 'POST',
    path: '/api/channels',
    body: { channel_id: ids.channel_id, platform: 'shopify', warehouse_ids: [ids.warehouse_id], credentials: { shop_domain: newShopDomain('audit'), access_token: 'shpat_audit', webhook_secret: 'whsec_audit' } },
    targets: [ids.channel_id, ids.warehouse_id],
  },
  patchChannel: { method: 'PATCH', path: `/api/channels/${ids.channel_id}`, body: { buffer: 2 }, targets: [ids.channel_id] },
  putListing: { method: 'PUT', path: `/api/channels/${ids.channel_id}/listings/${ids.sku_id}`, body: { inventory_item_id: 'gid://shopify/InventoryItem/1', location_id: 'gid://shopify/Location/1' }, targets: [ids.channel_id, ids.sku_id] },
  discoverListings: { method: 'POST', path: `/api/channels/${ids.channel_id}/listings/discover`, body: { sku_ids: ['sku-unknown'] }, targets: [ids.channel_id, 'sku-unknown'] },
  requestSync: { method: 'POST', path: '/api/integration/sync', body: { channel_id: ids.channel_id }, targets: [ids.channel_id] },
  deleteChannel: { method: 'DELETE', path: `/api/channels/${ids.channel_id}`, targets: [ids.channel_id] },
  createUser: { method: 'POST', path: '/api/users', body: { email: 'new-clerk@audit.example', name: 'New clerk', role: 'clerk', warehouse_ids: [ids.warehouse_id] }, targets: [ids.warehouse_id] },
  patchUser: { method: 'PATCH', path: `/api/users/${STAFF}`, body: { name: 'Renamed', role: 'viewer' }, targets: [STAFF] },
  deleteUser: { method: 'DELETE', path: `/api/users/${STAFF}`, targets: [STAFF] },
});

const send = (client: Client, sample: Pick<Sample, 'method' | 'path' | 'body'>, headers: Record<string, string> = {}) => {
  if (sample.method === 'GET') return client.get(sample.path, headers);
  if (sample.method === 'DELETE') return client.delete(sample.path, headers);
  if (sample.method === 'PATCH') return client.patch(sample.path, sample.body, headers);
  if (sample.method === 'PUT') return client.put(sample.path, sample.body, headers);
  return client.post(sample.path, sample.body, headers);
};

/** The one record of a subject's one call, held to what the call answered. */
const expectOneRecord = async (tenantId: string, subject: string, expected: { action: string; status: number; role: string; email?: string; targets?: string[]; code?: string }) => {
  const records = await recordsBy(tenantId, subject);
  expect(records).toHaveLength(1);
  const [record] = records;
  expect(record).toMatchObject({
    action: expected.action,
    status: expected.status,
    role: expected.role,
    result: expected.status >= 500 ? 'failed' : expected.status >= 400 ? 'refused' : 'success',
    ...(expected.email ? { actor_email: expected.email } : {}),
    ...(expected.code ? { error_code: expected.code } : {}),
    source_ip: expect.any(String),
  });
  if (expected.status >= 400) expect(record.error_message).toEqual(expect.any(String));
  for (const id of expected.targets ?? []) expect(record.target_ids).toContain(id);
  return record;
};

/** A clerk of the tenant that the user routes' samples change and remove (prepare registers them). */
const STAFF = 'staff-1';

const prepare = async (client: Client): Promise<void> => {
  await t.client({ tenantId: client.tenantId, role: 'clerk', subject: STAFF, email: 'staff-1@audit.example' });
  await setupCatalog(client, { skuId: ids.sku_id, warehouses: [ids.warehouse_id, ids.to_warehouse_id] });
  ok(await client.post('/api/inventory/update', { sku_id: ids.sku_id, warehouse_id: ids.warehouse_id, transaction_type: 'restock', quantity: 20 }));
  ok(await client.post('/api/suppliers', { supplier_id: ids.supplier_id, name: 'Supply Co', contact: { email: 'buyer@supply.example' }, lead_time_days: 7, currency: 'USD' }), 201);
  ok(await client.patch(`/api/skus/${ids.sku_id}`, { supplier_id: ids.supplier_id, unit_cost: '2.50', currency: 'USD' }));
  ok(await client.post('/api/orders/allocate', { order_id: ids.order_id, lines: [{ sku_id: ids.sku_id, quantity: 1 }], ship_to: shipTo }), 201);
};

test('every mutating route of the wiring has a case here, and the wiring alone decides what is a change', () => {
  expect(Object.keys(samples()).sort()).toEqual([...mutating].sort());
  // A read-only POST (the order plan's dry run) is no change; every route whose table access is 'write' is one.
  expect(mutating).not.toContain('planOrder');
  for (const [name, route] of Object.entries(httpRoutes)) {
    if ('auth' in route && route.auth === 'webhook') continue;
    if (route.table === 'write') expect({ name, kind: auditKindOf(route as TokenRoute, { role: 'viewer' }) }).toEqual({ name, kind: 'change' });
  }
});

describe('one record per call of every mutating route', () => {
  const tenantId = newTenantId();
  let admin: Client;
  beforeAll(async () => {
    admin = await t.client({ tenantId, subject: 'setup', email: 'setup@example.com' });
    await prepare(admin);
  });

  test.each(Object.keys(samples()))('%s: the call writes exactly one record with its actor, action, targets and outcome', async (name) => {
    const sample = samples()[name]!;
    const subject = `admin-${name}`;
    const client = await t.client({ tenantId, subject, email: `${name.toLowerCase()}@example.com` });
    const res = await send(client, sample);
    await expectOneRecord(tenantId, subject, {
      action: name,
      status: res.status,
      role: 'admin',
      email: `${name.toLowerCase()}@example.com`,
      targets: sample.targets,
      ...(res.status >= 400 ? { code: res.body.error.code } : {}),
    });
  });

  test.each(Object.keys(samples()))('%s: a role lacking the permission is refused (403) and the refusal is recorded with its reason', async (name) => {
    const sample = samples()[name]!;
    const subject = `viewer-${name}`;
    const res = await send(await t.client({ tenantId, role: 'viewer', subject }), sample);
    expect(res.status).toBe(403);
    const record = await expectOneRecord(tenantId, subject, { action: name, status: 403, role: 'viewer', code: 'FORBIDDEN', targets: sample.targets });
    expect(record.changes).toEqual([]);
    expect(record.ledger_ids).toEqual([]);
  });

  test.each(Object.keys(samples()))('%s: bad input is refused (400) and recorded', async (name) => {
    const sample = samples()[name]!;
    const subject = `bad-${name}`;
    const client = await t.client({ tenantId, subject });
    const route = httpRoutes[name as keyof typeof httpRoutes];
    // A route with a body gets broken JSON; one without gets a body it does not take.
    const res = await client.raw(sample.path, { method: sample.method, headers: { 'content-type': 'application/json' }, body: 'body' in route && route.body ? '{"broken' : '{}' });
    expect(res.status).toBe(400);
    await expectOneRecord(tenantId, subject, { action: name, status: 400, role: 'admin', code: res.body.error.code });
  });

  test('an unknown id is refused (404) and recorded naming it', async () => {
    const client = await t.client({ tenantId, subject: 'not-found' });
    const res = await client.patch('/api/skus/sku-nowhere', { name: 'x' });
    expect(res.status).toBe(404);
    await expectOneRecord(tenantId, 'not-found', { action: 'patchSku', status: 404, role: 'admin', code: res.body.error.code, targets: ['sku-nowhere'] });
  });

  test('a call that fails on our side (500: a stored item the code cannot read) is recorded as failed', async () => {
    // A SKU item without the fields the decoder needs: a bug or a bad migration, never the caller's fault.
    await db.send(new PutCommand({ TableName: process.env.TABLE_NAME!, Item: { ...keys.sku(tenantId, 'sku-broken'), entity: 'sku', tenant_id: tenantId } }));
    const client = await t.client({ tenantId, subject: 'failing' });
    // The served document lists no 500 (none is meant to happen): the contract check's error carries the answer.
    const res = await client.patch('/api/skus/sku-broken', { name: 'x' }).catch((error: { response?: any }) => error.response);
    expect(res.status).toBe(500);
    await expectOneRecord(tenantId, 'failing', { action: 'patchSku', status: 500, role: 'admin', code: 'INTERNAL', targets: ['sku-broken'] });
  });
});

describe('what a record says changed', () => {
  const tenantId = newTenantId();
  let admin: Client;
  beforeAll(async () => {
    admin = await t.client({ tenantId, subject: 'setup' });
    await setupCatalog(admin, { skuId: 'sku-1', warehouses: ['wh-1'] });
  });

  test('a changed entity is recorded with the changed fields before and after, in the change\'s own transaction', async () => {
    const client = await t.client({ tenantId, subject: 'renamer' });
    ok(await client.patch('/api/skus/sku-1', { name: 'Widget, green' }));
    const [record] = await recordsBy(tenantId, 'renamer');
    const change = record.changes.find((c: any) => c.key === 'SKU/sku-1');
    expect(change).toMatchObject({ op: 'update', before: { name: 'Widget, blue' }, after: { name: 'Widget, green' } });
  });

  test('a stock change is recorded with its ledger row id, written in the same transaction as the change', async () => {
    const client = await t.client({ tenantId, subject: 'stocker' });
    ok(await client.post('/api/inventory/update', { sku_id: 'sku-1', warehouse_id: 'wh-1', transaction_type: 'restock', quantity: 4 }));
    const [record] = await recordsBy(tenantId, 'stocker');
    const movements = ok(await admin.get('/api/inventory/sku/sku-1/movements')).movements;
    const newest = movements.find((m: any) => m.quantity === 4 || m.change === 4 || m.quantity_change === 4) ?? movements[0];
    expect(record.ledger_ids).toEqual([newest.movement_id]);
    expect(record.written).toBe('transaction');
  });

  test('a request split into parts (a non-atomic bulk) is recorded once, after its parts, with every ledger row', async () => {
    const client = await t.client({ tenantId, subject: 'bulker' });
    const updates = [1, 2, 3].map((quantity) => ({ sku_id: 'sku-1', warehouse_id: 'wh-1', transaction_type: 'restock', quantity }));
    ok(await client.post('/api/inventory/bulk-update', { atomic: false, updates }));
    const records = await recordsBy(tenantId, 'bulker');
    expect(records).toHaveLength(1);
    expect(records[0]).toMatchObject({ written: 'after', action: 'bulkUpdateStock', status: 200 });
    expect(records[0].ledger_ids).toHaveLength(3);
  });

  test('a replayed idempotent request is recorded as a replay, not as a second change', async () => {
    const client = await t.client({ tenantId, subject: 'retrier' });
    const body = { sku_id: 'sku-1', warehouse_id: 'wh-1', transaction_type: 'sale', quantity: 1 };
    const first = ok(await client.post('/api/inventory/update', body, { 'idempotency-key': 'retry-1' }));
    const again = ok(await client.post('/api/inventory/update', body, { 'idempotency-key': 'retry-1' }));
    expect(again).toEqual(first);
    const records = (await recordsBy(tenantId, 'retrier')).sort((a, b) => a.at.localeCompare(b.at));
    expect(records).toHaveLength(2);
    expect(records[0]).toMatchObject({ replay: false, idempotency_key: 'retry-1', result: 'success' });
    expect(records[0].ledger_ids).toHaveLength(1);
    expect(records[1]).toMatchObject({ replay: true, idempotency_key: 'retry-1', result: 'success', ledger_ids: [], changes: [] });
  });

  test('if the record cannot be written the caller gets 503, and the retry with the same key is recorded as the replay', async () => {
    const client = await t.client({ tenantId, subject: 'unlucky' });
    const body = { atomic: false, updates: [{ sku_id: 'sku-1', warehouse_id: 'wh-1', transaction_type: 'restock', quantity: 7 }] };
    const table = process.env[AUDIT_TABLE_NAME_ENV];
    process.env[AUDIT_TABLE_NAME_ENV] = 'no-such-audit-table';
    let failed;
    try {
      failed = await client.post('/api/inventory/bulk-update', body, { 'idempotency-key': 'unlucky-1' });
    } finally {
      if (table === undefined) delete process.env[AUDIT_TABLE_NAME_ENV];
      else process.env[AUDIT_TABLE_NAME_ENV] = table;
    }
    expect(failed.status).toBe(503);
    expect(await recordsBy(tenantId, 'unlucky')).toEqual([]);
    ok(await client.post('/api/inventory/bulk-update', body, { 'idempotency-key': 'unlucky-1' }));
    const records = await recordsBy(tenantId, 'unlucky');
    expect(records).toHaveLength(1);
    expect(records[0]).toMatchObject({ replay: true, idempotency_key: 'unlucky-1' });
  });

  test('where the change is one transaction and the record cannot be written, nothing changes', async () => {
    const client = await t.client({ tenantId, subject: 'atomic-unlucky' });
    const before = ok(await admin.get('/api/inventory/sku/sku-1'));
    const table = process.env[AUDIT_TABLE_NAME_ENV];
    process.env[AUDIT_TABLE_NAME_ENV] = 'no-such-audit-table';
    let failed;
    try {
      failed = await client.post('/api/inventory/update', { sku_id: 'sku-1', warehouse_id: 'wh-1', transaction_type: 'restock', quantity: 9 });
    } finally {
      if (table === undefined) delete process.env[AUDIT_TABLE_NAME_ENV];
      else process.env[AUDIT_TABLE_NAME_ENV] = table;
    }
    expect(failed.status).toBe(503);
    expect(failed.body.error.code).toBe('UNAVAILABLE');
    expect(ok(await admin.get('/api/inventory/sku/sku-1'))).toEqual(before);
  });
});

describe('sensitive reads', () => {
  const tenantId = newTenantId();
  beforeAll(async () => {
    const admin = await t.client({ tenantId, subject: 'setup' });
    ok(await admin.post('/api/suppliers', { supplier_id: 'sup-1', name: 'Supply Co', contact: { email: 'buyer@supply.example' }, lead_time_days: 7, currency: 'USD' }), 201);
  });

  test('reading supplier contacts is recorded for a caller who sees them, not for one who does not', async () => {
    ok(await (await t.client({ tenantId, role: 'purchaser', subject: 'buyer' })).get('/api/suppliers/sup-1'));
    ok(await (await t.client({ tenantId, role: 'purchaser', subject: 'buyer-list' })).get('/api/suppliers'));
    ok(await (await t.client({ tenantId, role: 'viewer', subject: 'looker' })).get('/api/suppliers/sup-1'));
    await expectOneRecord(tenantId, 'buyer', { action: 'getSupplier', status: 200, role: 'purchaser', targets: ['sup-1'] });
    await expectOneRecord(tenantId, 'buyer-list', { action: 'listSuppliers', status: 200, role: 'purchaser' });
    expect(await recordsBy(tenantId, 'looker')).toEqual([]);
  });

  test('reading the audit trail is itself recorded', async () => {
    ok(await (await t.client({ tenantId, subject: 'auditor' })).get('/api/audit?target_id=sup-1'));
    // The ids a read names in its query are its targets.
    await expectOneRecord(tenantId, 'auditor', { action: 'listAudit', status: 200, role: 'admin', targets: ['sup-1'] });
  });
});

describe('GET /api/audit', () => {
  const tenantId = newTenantId();
  let admin: Client;
  beforeAll(async () => {
    admin = await t.client({ tenantId, subject: 'setup', email: 'setup@example.com' });
    await setupCatalog(admin, { skuId: 'sku-1', warehouses: ['wh-1', 'wh-2'] });
    const clerk = await t.client({ tenantId, role: 'clerk', subject: 'clerk-1', email: 'clerk@example.com' });
    for (const warehouse_id of ['wh-1', 'wh-2']) ok(await clerk.post('/api/inventory/update', { sku_id: 'sku-1', warehouse_id, transaction_type: 'restock', quantity: 3 }));
    expect((await clerk.post('/api/products', { product_id: 'p-x', name: 'x' })).status).toBe(403);
  });

  const list = async (query: string) => ok(await admin.get(`/api/audit${query}`)).records;

  test('answers the tenant\'s records newest first', async () => {
    const records = await list('?limit=200');
    const times = records.map((r: any) => r.at);
    expect(times).toEqual([...times].sort().reverse());
    // The setup's own records: products, SKUs, warehouses, stock and the refusal.
    expect(records.map((r: any) => r.action)).toEqual(expect.arrayContaining(['createProduct', 'createSku', 'createWarehouse', 'updateStock']));
  });

  test('filters by actor (subject or e-mail), action, target id and outcome', async () => {
    const bySubject = await list('?actor=clerk-1');
    expect(bySubject).toHaveLength(3);
    expect(await list('?actor=clerk@example.com')).toEqual(bySubject);
    const updates = await list('?action=updateStock');
    expect(updates.map((r: any) => r.actor_subject)).toEqual(['clerk-1', 'clerk-1']);
    const wh2 = await list('?target_id=wh-2');
    expect(wh2.map((r: any) => r.action).sort()).toEqual(['createWarehouse', 'updateStock']);
    const refused = await list('?outcome=refused');
    expect(refused.map((r: any) => [r.action, r.status])).toEqual([['createProduct', 403]]);
    expect(await list('?outcome=403')).toEqual(refused);
    expect((await list('?outcome=success&actor=clerk-1')).map((r: any) => r.action)).toEqual(['updateStock', 'updateStock']);
    expect(await list('?outcome=failed&actor=clerk-1')).toEqual([]);
  });

  test('filters by time: from and to', async () => {
    const all = await list('?actor=clerk-1');
    const oldest = all[all.length - 1].at;
    const newest = all[0].at;
    expect(await list(`?actor=clerk-1&from=${encodeURIComponent(newest)}`)).toEqual([all[0]]);
    expect(await list(`?actor=clerk-1&to=${encodeURIComponent(oldest)}`)).toEqual([all[all.length - 1]]);
    expect(await list(`?actor=clerk-1&to=2020-01-02&from=2020-01-01`)).toEqual([]);
  });

  test('pages with cursors: every record once, in order', async () => {
    const all = await list('?limit=200&action=createWarehouse');
    expect(all.length).toBe(2);
    const everything = await list('?limit=200');
    const seen: any[] = [];
    let cursor: string | null = null;
    do {
      const page: any = ok(await admin.get(`/api/audit?limit=2${cursor ? `&cursor=${cursor}` : ''}`));
      expect(page.records.length).toBeLessThanOrEqual(2);
      seen.push(...page.records);
      cursor = page.next_cursor;
    } while (cursor);
    // The paging reads are recorded too (listAudit), after `everything` was read: compare what existed then.
    expect(seen.filter((r) => r.action !== 'listAudit')).toEqual(everything.filter((r: any) => r.action !== 'listAudit'));
  });

  test('a tampered cursor, or one of another query, is 400', async () => {
    const page = ok(await admin.get('/api/audit?limit=1'));
    expect(page.next_cursor).toEqual(expect.any(String));
    const tampered = Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(page.next_cursor, 'base64url').toString()), d: '1999-01-01' })).toString('base64url');
    expect((await admin.get(`/api/audit?limit=1&cursor=${tampered}`)).status).toBe(400);
    expect((await admin.get('/api/audit?limit=1&cursor=not-a-cursor')).status).toBe(400);
    expect((await admin.get(`/api/audit?limit=1&action=updateStock&cursor=${page.next_cursor}`)).status).toBe(400);
  });

  test('dates that are not dates, reversed or too far apart are 400', async () => {
    for (const query of ['from=2026-02-30', 'to=yesterday', 'from=2026-03-01&to=2026-02-01', 'from=2020-01-01&to=2026-01-01', 'outcome=maybe', 'limit=0']) {
      const res = await admin.get(`/api/audit?${query}`);
      expect({ query, status: res.status }).toEqual({ query, status: 400 });
    }
  });

  test('answers CSV with format=csv: a header row, then one row per record', async () => {
    const res = await admin.get('/api/audit?format=csv&actor=clerk-1');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/csv/);
    const lines = String(res.body).trim().split('\r\n');
    expect(lines[0]!.split(',').slice(0, 6)).toEqual(['at', 'request_id', 'actor_subject', 'actor_email', 'role', 'action']);
    expect(lines).toHaveLength(4);
    expect(lines.slice(1).every((line) => line.includes('clerk-1'))).toBe(true);
  });

  test('is for admins only (audit:read)', async () => {
    for (const role of ['manager', 'clerk', 'viewer', 'purchaser', 'analyst', 'integration'] as const) {
      expect({ role, status: (await (await t.client({ tenantId, role })).get('/api/audit')).status }).toEqual({ role, status: 403 });
    }
  });

  test('shows no other tenant\'s records', async () => {
    const other = await t.client();
    expect(ok(await other.get('/api/audit?actor=clerk-1')).records).toEqual([]);
  });
});

describe('records cannot be changed', () => {

  test('a second write of a record under the same key is refused by its condition, and the record stays as written', async () => {
    const tenantId = newTenantId();
    const client = await t.client({ tenantId, subject: 'original' });
    await setupCatalog(client);
    const [record] = (await storedRecordsOf(tenantId)).filter((r) => r.actor_subject === 'original' && r.action === 'createProduct');
    const forged = { ...record, actor_subject: 'someone-else', status: 200 };
    await expect(writeAuditRecord(db, auditTableName(), forged)).rejects.toBeInstanceOf(AuditRecordExists);
    await expect(
      db.send(new PutCommand({ TableName: auditTableName(), Item: forged, ConditionExpression: 'attribute_not_exists(pk)' })),
    ).rejects.toMatchObject({ name: 'ConditionalCheckFailedException' });
    const [still] = (await storedRecordsOf(tenantId)).filter((r) => r.actor_subject === 'original' && r.action === 'createProduct');
    expect(still).toEqual(record);
    // The SDK resending the very same record (its answer lost) is no second record and no error.
    await expect(writeAuditRecord(db, auditTableName(), record)).resolves.toBeUndefined();
    expect((await recordsBy(tenantId, 'original')).filter((r) => r.action === 'createProduct')).toHaveLength(1);
  });

  test('no route reaches the trail but to add to it: calling every mutating route leaves every earlier record as it was', async () => {
    const tenantId = newTenantId();
    const admin = await t.client({ tenantId, subject: 'everything' });
    await prepare(admin);
    const before = await recordsOf(tenantId);
    for (const sample of Object.values(samples())) await send(admin, sample);
    const after = await recordsOf(tenantId);
    const byKey = new Map(after.map((r) => [r.sk, r]));
    for (const record of before) expect(byKey.get(record.sk)).toEqual(record);
    // No route of the wiring is the trail's but its reader.
    expect(Object.entries(httpRoutes).filter(([, route]) => route.path.startsWith('/api/audit')).map(([name, route]) => [name, route.method])).toEqual([['listAudit', 'GET']]);
  });
});

describe('a route added to the wiring', () => {
  const event = (route: TokenRoute, tenantId: string, body: unknown): HttpEvent => {
    const now = new Date();
    return {
      version: '2.0',
      routeKey: routeKey(route),
      rawPath: route.path,
      rawQueryString: '',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
      isBase64Encoded: false,
      requestContext: {
        accountId: '000000000000',
        apiId: 'local',
        authorizer: { principalId: '', integrationLatency: 0, jwt: { claims: { 'custom:tenant_id': tenantId, 'custom:role': 'manager', sub: 'newcomer' }, scopes: [] } },
        domainName: 'localhost',
        domainPrefix: 'localhost',
        http: { method: route.method, path: route.path, protocol: 'HTTP/1.1', sourceIp: '10.0.0.1', userAgent: 'test' },
        requestId: 'r',
        routeKey: routeKey(route),
        stage: '$default',
        time: now.toISOString(),
        timeEpoch: now.getTime(),
      },
    };
  };

  test('is audited without a code change: a writing route records its calls by its name', async () => {
    const brandNew = {
      method: 'POST', path: '/api/gizmos', entry: 'functions/none.ts', permission: 'catalog:write', table: 'write', summary: 'A route nobody told the trail about',
      body: z.object({ gizmo_id: z.string() }), response: z.object({ ok: z.boolean() }), status: 201,
    } as const satisfies TokenRoute;
    nameRoutes({ createGizmo: brandNew });
    const handler = httpHandler(brandNew, async () => ({ ok: true }));
    const tenantId = newTenantId();
    const context: Context = lambdaContext('createGizmo', `req-${tenantId}`);
    // The token's user is one of the directory's (the HTTP layer refuses anyone else with 401).
    await registerUser(dbFromEnv(), tenantId, { userId: 'newcomer', email: 'newcomer@users.test', role: 'manager' });
    const result = await handler(event(brandNew, tenantId, { gizmo_id: 'g-1' }), context);
    expect(result.statusCode).toBe(201);
    const records = await recordsOf(tenantId);
    expect(records).toHaveLength(1);
    expect(records[0]).toMatchObject({ action: 'createGizmo', actor_subject: 'newcomer', role: 'manager', status: 201, target_ids: ['g-1'], source_ip: '10.0.0.1', user_agent: 'test' });
  });
});
