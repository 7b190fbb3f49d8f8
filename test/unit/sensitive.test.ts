import { registerUser } from '../../functions/identity/users';
import { dbFromEnv } from '../../functions/platform/db';
import type { Context } from 'aws-lambda';
import { z, type ZodType } from 'zod';
import type { $ZodType } from 'zod/v4/core';
import { lambdaContext } from '../../bin/local/lambda-context';
import { httpHandler, type HttpEvent, type HttpResult } from '../../functions/platform/http';
import { CLAIMS, type Permission, type Role } from '../../functions/platform/permissions';
import { isWebhookRoute, type HttpRoute, type TokenRoute } from '../../functions/platform/routes';
import { columnsShown, permissionsShownIn, permissionsToSeeAll, permissionToSee, shownOnlyWith, withheldFrom } from '../../functions/platform/sensitive';
import { reportDone, valuationDone, salesTrendsDone } from '../../functions/reports/schemas';
import { entriesOf, httpRoutes } from '../../functions/wiring';

/**
 * Sensitive response fields (issue 12 part 6) below the HTTP API: the tagging, the stripping, and the HTTP step
 * for answers no role reaches over HTTP today (every role that reads reports may see money, so a report without
 * its money is shown here, through httpHandler itself, for a route copy a clerk may call).
 */

const valuation = {
  report: 'valuation',
  query_id: 'q-1',
  as_of: '2027-01-01T00:00:00.000Z',
  method: 'fifo',
  lines: [
    { sku_id: 'sku-1', warehouse_id: 'wh-1', quantity: 8, unit_cost: '2.75', value: '22.00', currency: 'USD' },
    { sku_id: 'sku-2', warehouse_id: 'wh-1', quantity: 4, unit_cost: null, value: '0', currency: null },
  ],
  totals: [{ currency: 'USD', quantity: 8, value: '22.00' }],
  warnings: [{ kind: 'no_cost', movement_id: 'm-1', sku_id: 'sku-2', warehouse_id: 'wh-1', type: 'restock', quantity: 4, value: '0', unit_cost: '0', currency: 'USD', message: 'no cost' }],
  data_as_of: '2026-12-01T00:00:00.000Z',
};

const salesTrends = {
  report: 'sales-trends',
  query_id: 'q-2',
  from: '2026-11-01T00:00:00.000Z',
  to: '2026-12-01T00:00:00.000Z',
  granularity: 'week',
  dead_days: 90,
  periods: [{ period: '2026-11-02', currency: 'USD', units: 3, revenue: '30.00', moving_average_units: '3.00', change_units: null, change_percent: null }],
  top_movers: [{ sku_id: 'sku-1', units: 3, revenue: '30.00', currency: 'USD', on_hand: 8 }],
  slow_movers: [],
  dead_stock: [],
  data_as_of: '2026-12-01T00:00:00.000Z',
};

const nobody = (): boolean => false;
const everyone = (): boolean => true;

test('the fixtures are real answers of their schemas', () => {
  expect(valuationDone.safeParse(valuation).success).toBe(true);
  expect(salesTrendsDone.safeParse(salesTrends).success).toBe(true);
});

test('a caller without costs:read gets the valuation without any unit cost or value, everything else as it was', () => {
  expect(withheldFrom(valuationDone, valuation, nobody)).toEqual({
    ...valuation,
    lines: [
      { sku_id: 'sku-1', warehouse_id: 'wh-1', quantity: 8, currency: 'USD' },
      { sku_id: 'sku-2', warehouse_id: 'wh-1', quantity: 4, currency: null },
    ],
    totals: [{ currency: 'USD', quantity: 8 }],
    warnings: [{ kind: 'no_cost', movement_id: 'm-1', sku_id: 'sku-2', warehouse_id: 'wh-1', type: 'restock', quantity: 4, currency: 'USD', message: 'no cost' }],
  });
  // What is left is still an answer of the document (the fields it leaves out are optional there).
  expect(permissionsShownIn(valuationDone, withheldFrom(valuationDone, valuation, nobody))).toEqual(new Set());
});

test('a report answered through the union of reports (GET /api/reports/queries/{query_id}) loses its money by its own kind', () => {
  const stripped = withheldFrom(reportDone, salesTrends, nobody);
  expect(stripped).toEqual({
    ...salesTrends,
    periods: [{ period: '2026-11-02', currency: 'USD', units: 3, moving_average_units: '3.00', change_units: null, change_percent: null }],
    top_movers: [{ sku_id: 'sku-1', units: 3, currency: 'USD', on_hand: 8 }],
  });
  expect(withheldFrom(reportDone, valuation, nobody)).toEqual(withheldFrom(valuationDone, valuation, nobody));
});

test('a caller who may see everything gets the very value back, and a value that holds no tagged field shows nothing', () => {
  expect(withheldFrom(valuationDone, valuation, everyone)).toBe(valuation);
  expect(permissionsShownIn(valuationDone, valuation)).toEqual(new Set(['costs:read']));
  expect(permissionsShownIn(valuationDone, { ...valuation, lines: [], totals: [], warnings: [] })).toEqual(new Set());
});

test('only the permission a field names decides: a caller with costs:read but not suppliers:contact keeps the money', () => {
  const schema = z.strictObject({
    name: z.string(),
    cost: shownOnlyWith('costs:read', z.string()),
    contact: shownOnlyWith('suppliers:contact', z.strictObject({ email: z.string() }).optional()),
    nested: z.array(z.strictObject({ price: shownOnlyWith('costs:read', z.string().nullable()) })),
  });
  const value = { name: 'x', cost: '1', contact: { email: 'a@b.example' }, nested: [{ price: '2' }, { price: null }] };
  const may = (permission: Permission): boolean => permission === 'costs:read';
  expect(withheldFrom(schema, value, may)).toEqual({ name: 'x', cost: '1', nested: [{ price: '2' }, { price: null }] });
  expect(withheldFrom(schema, value, nobody)).toEqual({ name: 'x', nested: [{}, {}] });
  expect([...permissionsToSeeAll(schema)].sort()).toEqual(['costs:read', 'suppliers:contact']);
});

test('tagging copies the schema: the same schema used elsewhere untagged stays visible to everyone', () => {
  const money = z.string();
  const tagged = shownOnlyWith('costs:read', money);
  expect(permissionToSee(tagged)).toBe('costs:read');
  expect(permissionToSee(money)).toBeUndefined();
  expect(permissionToSee(tagged.optional())).toBe('costs:read');
});

test("a CSV list's columns a caller may see: the row's keys in order, without the tagged ones it may not", () => {
  const row = valuationDone.shape.lines.element;
  expect(columnsShown(row, everyone)).toEqual(['sku_id', 'warehouse_id', 'quantity', 'unit_cost', 'value', 'currency']);
  expect(columnsShown(row, nobody)).toEqual(['sku_id', 'warehouse_id', 'quantity', 'currency']);
});

/** Every field of a schema, by its path, with its schema (looking into objects, arrays, wrappers and unions). */
const fieldsOf = (schema: $ZodType, at = ''): { path: string; schema: $ZodType }[] => {
  if (schema instanceof z.ZodOptional || schema instanceof z.ZodNullable || schema instanceof z.ZodDefault || schema instanceof z.ZodReadonly) {
    return fieldsOf(schema.unwrap(), at);
  }
  if (schema instanceof z.ZodArray) return fieldsOf(schema.element, `${at}[]`);
  if (schema instanceof z.ZodUnion) return schema.options.flatMap((option: $ZodType) => fieldsOf(option, at));
  if (schema instanceof z.ZodPipe) return fieldsOf(schema.out, at);
  if (schema instanceof z.ZodObject) {
    return Object.entries<$ZodType>(schema.shape).flatMap(([name, field]) => [{ path: `${at}.${name}`, schema: field }, ...fieldsOf(field, `${at}.${name}`)]);
  }
  return [];
};

/** Money and contact fields by name: what a response must not show every role. */
const SENSITIVE_NAME = /(^|_)(cost|costs|price|revenue|amount|value|contact)$/;
/**
 * Fields whose names look like money or contacts but are neither, each with why. A new field of such a name must be
 * tagged (functions/platform/sensitive.ts shownOnlyWith) or added here with its reason.
 */
const NOT_SENSITIVE: Record<string, string> = {};

test('every response field named like money or a contact is tagged with the permission that shows it', () => {
  const untagged: string[] = [];
  const checked = new Set<string>();
  for (const [name, declared] of entriesOf(httpRoutes)) {
    const route: HttpRoute = declared;
    const schemas: ZodType[] = [route.response, ...(!isWebhookRoute(route) && route.accepted ? [route.accepted] : [])];
    for (const schema of schemas) {
      for (const field of fieldsOf(schema)) {
        const leaf = field.path.split('.').pop() ?? '';
        if (!SENSITIVE_NAME.test(leaf) || `${name}${field.path}` in NOT_SENSITIVE) continue;
        checked.add(`${name}${field.path}`);
        if (permissionToSee(field.schema) === undefined) untagged.push(`${name}${field.path}`);
      }
    }
  }
  expect([...new Set(untagged)]).toEqual([]);
  // The names above do pick the money and contacts out (the SKU's, the purchase order lines', the reports').
  expect([...checked]).toEqual(expect.arrayContaining(['getSku.unit_cost', 'getSku.price', 'getPurchaseOrder.lines[].unit_cost', 'getSupplier.contact', 'valuationReport.totals[].value', 'getReportQuery.periods[].revenue']));
});

test('the routes whose answers carry fields not every role may see, and what those fields need', () => {
  const carrying = Object.fromEntries(
    entriesOf(httpRoutes).flatMap(([name, declared]) => {
      const route: HttpRoute = declared;
      const needs = [...permissionsToSeeAll(route.response)].sort();
      return needs.length > 0 ? [[name, needs]] : [];
    }),
  );
  const costs = ['costs:read'];
  expect(carrying).toEqual({
    createSku: costs, getSku: costs, patchSku: costs, listSkus: costs, listMovements: costs,
    createSupplier: ['suppliers:contact'], listSuppliers: ['suppliers:contact'], getSupplier: ['suppliers:contact'],
    createPurchaseOrder: costs, listPurchaseOrders: costs, getPurchaseOrder: costs, submitPurchaseOrder: costs, receivePurchaseOrder: costs, cancelPurchaseOrder: costs,
    createPurchaseOrdersFromSuggestions: costs,
    salesTrendsReport: costs, valuationReport: costs, getReportQuery: costs,
  });
});

describe('the HTTP step, for a report a clerk could read', () => {
  // The valuation route as it is, but for a permission a clerk holds: no role reads reports without costs:read today.
  const route: TokenRoute = { ...httpRoutes.valuationReport, permission: 'inventory:read' };
  const handler = httpHandler(route, async () => valuation);
  // The tokens' users are the directory's (the HTTP layer refuses anyone else with 401).
  beforeAll(async () => {
    for (const role of ['clerk', 'analyst', 'admin'] as const) await registerUser(dbFromEnv(), 't-1', { userId: `t-1-${role}`, email: `t-1-${role}@users.test`, role });
  });

  const call = (role: Role, query: Record<string, string> = {}): Promise<HttpResult> => {
    const event = {
      version: '2.0',
      routeKey: 'GET /api/reports/valuation',
      rawPath: '/api/reports/valuation',
      rawQueryString: new URLSearchParams({ as_of: '2027-01-01', ...query }).toString(),
      headers: {},
      queryStringParameters: { as_of: '2027-01-01', ...query },
      isBase64Encoded: false,
      requestContext: {
        accountId: '000000000000', apiId: 'local', domainName: 'localhost', domainPrefix: 'localhost',
        http: { method: 'GET', path: '/api/reports/valuation', protocol: 'HTTP/1.1', sourceIp: '127.0.0.1', userAgent: 'jest' },
        requestId: 'r-1', routeKey: 'GET /api/reports/valuation', stage: '$default', time: new Date().toISOString(), timeEpoch: Date.now(),
        authorizer: { principalId: '', integrationLatency: 0, jwt: { claims: { [CLAIMS.tenant]: 't-1', [CLAIMS.role]: role, [CLAIMS.subject]: `t-1-${role}` }, scopes: [] } },
      },
    } satisfies HttpEvent;
    const context: Context = lambdaContext('valuation', 'r-1');
    return handler(event, context);
  };

  test('JSON: a clerk gets the valuation without its money, an analyst with it', async () => {
    const clerk = await call('clerk');
    expect(clerk.statusCode).toBe(200);
    expect(JSON.parse(String(clerk.body))).toEqual(withheldFrom(valuationDone, valuation, nobody));
    expect(JSON.parse(String(clerk.body)).lines[0]).not.toHaveProperty('value');
    const analyst = await call('analyst');
    expect(JSON.parse(String(analyst.body))).toEqual(valuation);
  });

  test('CSV: a clerk gets the lines and totals without the unit_cost and value columns, an admin with them', async () => {
    const clerk = await call('clerk', { format: 'csv' });
    expect(clerk.statusCode).toBe(200);
    expect(String(clerk.body).split('\r\n')).toEqual(['sku_id,warehouse_id,quantity,currency', 'sku-1,wh-1,8,USD', 'sku-2,wh-1,4,', '']);
    const totals = await call('clerk', { format: 'csv', list: 'totals' });
    expect(String(totals.body)).toBe('currency,quantity\r\nUSD,8\r\n');
    const admin = await call('admin', { format: 'csv' });
    expect(String(admin.body).split('\r\n')[0]).toBe('sku_id,warehouse_id,quantity,unit_cost,value,currency');
    expect(String(admin.body)).toContain('sku-1,wh-1,8,2.75,22.00,USD');
  });
});
