/**
 * The dashboard (issue 13) in a real Chromium against `npm start`: signing in by the fragment token, the stock
 * actions and what they show, conflicts, alerts after the consumers run, purchasing, and a viewer's page without
 * write buttons. Every page is screenshotted into .data/screenshots/ and checked with axe-core (no serious or
 * critical violations), with no console errors.
 */
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { collectErrors, launchChromium, screenshot, seriousViolations } from '../support/browser';
import { startLocalRuntime, type RunningLocal } from '../support/local-runtime';

// page.evaluate() callbacks run in the browser; these are its globals, declared here only (not the DOM library for all of test/).
declare const document: any;

jest.setTimeout(180_000);

let runtime: RunningLocal;
let browser: Browser;

const api = async (method: string, path: string, body?: unknown, token = runtime.token): Promise<{ status: number; body: any }> => {
  const response = await fetch(`${runtime.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await response.text();
  return { status: response.status, body: text ? JSON.parse(text) : undefined };
};
const ok = async (method: string, path: string, body?: unknown): Promise<any> => {
  const answer = await api(method, path, body);
  if (answer.status >= 300) throw new Error(`${method} ${path}: ${answer.status} ${JSON.stringify(answer.body)}`);
  return answer.body;
};

beforeAll(async () => {
  [runtime, browser] = await Promise.all([startLocalRuntime(), launchChromium()]);
  await ok('POST', '/api/products', { product_id: 'p-ui', name: 'Dashboard goods' });
  await ok('POST', '/api/warehouses', { warehouse_id: 'wh-east', name: 'East', latitude: 40.7, longitude: -74 });
  await ok('POST', '/api/warehouses', { warehouse_id: 'wh-west', name: 'West', latitude: 34, longitude: -118 });
  await ok('POST', '/api/suppliers', { supplier_id: 'sup-ui', name: 'UI Supply', lead_time_days: 5, currency: 'USD' });
  for (const sku of ['sku-recv', 'sku-adj', 'sku-stale', 'sku-alert', 'sku-po']) {
    await ok('POST', '/api/skus', { sku_id: sku, product_id: 'p-ui', name: `Widget ${sku}`, unit_cost: '2.50', price: '9.99', currency: 'USD', supplier_id: 'sup-ui' });
    await ok('POST', '/api/inventory/update', { sku_id: sku, warehouse_id: 'wh-east', transaction_type: 'restock', quantity: 20 });
  }
});

afterAll(async () => {
  await browser?.close();
  await runtime?.stop();
});

interface Opened {
  context: BrowserContext;
  page: Page;
  errors: string[];
}

/** A fresh tab signed in by the fragment token, at `path`. */
const open = async (path: string, token = runtime.token, viewport = { width: 1280, height: 800 }): Promise<Opened> => {
  const context = await browser.newContext({ viewport });
  const page = await context.newPage();
  const errors = collectErrors(page);
  await page.goto(`${runtime.url}${path}#token=${token}`);
  await page.getByRole('heading', { level: 1 }).first().waitFor();
  return { context, page, errors };
};

const settled = async (page: Page): Promise<void> => {
  await page.waitForLoadState('networkidle');
  await page.waitForFunction(() => !document.body.innerText.includes('Loading'), undefined, { timeout: 30_000 });
};

test('the fragment token signs in, is removed from the address bar, and the overview shows the tenant', async () => {
  const { page, context, errors } = await open('/');
  await settled(page);
  expect(page.url()).not.toContain('token=');
  await expect(page.getByRole('heading', { level: 1 }).textContent()).resolves.toBe('Overview');
  await expect(page.getByText('admin@demo.example').count()).resolves.toBe(1);
  await expect(page.locator('table').first().textContent()).resolves.toContain('East');
  expect(errors).toEqual([]);
  await context.close();
});

test('the overview charts the last 30 days\' movement, today\'s included, once the lake has it', async () => {
  const { page, context, errors } = await open('/');
  const chart = page.getByRole('img', { name: /Over the last 30 days [\d,]+ units came in/ });
  for (let i = 0; i < 20 && (await chart.count()) === 0; i++) {
    await page.waitForTimeout(1000);
    await page.reload();
    await settled(page);
  }
  await expect(chart.getAttribute('aria-label')).resolves.toMatch(/[1-9][\d,]* units came in/);
  expect(errors).toEqual([]);
  await context.close();
});

test('receiving stock shows the new level and its ledger row at once', async () => {
  const { page, context, errors } = await open('/skus/sku-recv');
  await settled(page);
  await expect(page.getByTestId('on-hand-wh-east').textContent()).resolves.toBe('20');
  await page.getByRole('button', { name: 'Receive sku-recv in wh-east' }).click();
  await page.getByLabel('Quantity').fill('7');
  await page.getByLabel('Note (optional)').fill('delivery 42');
  await page.getByRole('dialog').getByRole('button', { name: 'Receive' }).click();
  await page.getByTestId('on-hand-wh-east').filter({ hasText: '27' }).waitFor();
  const ledger = page.getByRole('table', { name: /Ledger of sku-recv/ });
  await ledger.getByText('delivery 42').waitFor();
  await expect(ledger.locator('tbody tr').first().textContent()).resolves.toContain('+7');
  const stored = await ok('GET', '/api/inventory/sku/sku-recv');
  expect(stored.levels[0].on_hand).toBe(27);
  expect(errors).toEqual([]);
  await context.close();
});

test('an adjustment without a reason is refused next to the reason field and writes nothing', async () => {
  const { page, context } = await open('/skus/sku-adj');
  await settled(page);
  await page.getByRole('button', { name: 'Adjust sku-adj in wh-east' }).click();
  await page.getByLabel('Change (negative to remove)').fill('-3');
  await page.getByRole('dialog').getByRole('button', { name: 'Adjust' }).click();
  const reason = page.getByRole('dialog').locator('.field', { has: page.getByLabel('Reason') });
  await reason.locator('.field-error').waitFor();
  await expect(reason.locator('.field-error').textContent()).resolves.toMatch(/required for an adjustment/);
  await expect(page.getByLabel('Reason').getAttribute('aria-invalid')).resolves.toBe('true');
  const stored = await ok('GET', '/api/inventory/sku/sku-adj');
  expect(stored.levels[0].on_hand).toBe(20);
  // With a reason it applies.
  await page.getByLabel('Reason').selectOption('damaged');
  await page.getByRole('dialog').getByRole('button', { name: 'Adjust' }).click();
  await page.getByTestId('on-hand-wh-east').filter({ hasText: '17' }).waitFor();
  await context.close();
});

test('a count made against a level that changed meanwhile shows the conflict and the new numbers, and writes nothing', async () => {
  const { page, context } = await open('/skus/sku-stale');
  await settled(page);
  await page.getByRole('button', { name: 'Count sku-stale in wh-east' }).click();
  // Someone else sells 5 while the dialog is open.
  await ok('POST', '/api/inventory/update', { sku_id: 'sku-stale', warehouse_id: 'wh-east', transaction_type: 'sale', quantity: 5 });
  await page.getByLabel('Counted on hand').fill('18');
  await page.getByRole('dialog').getByRole('button', { name: 'Count' }).click();
  const conflict = page.getByRole('dialog').getByRole('alert').filter({ hasText: 'changed this level meanwhile' });
  await conflict.waitFor();
  await expect(conflict.textContent()).resolves.toContain('on hand 15');
  expect((await ok('GET', '/api/inventory/sku/sku-stale')).levels[0].on_hand).toBe(15);
  await context.close();
});

test('a sale crossing the reorder point shows an alert once the consumers run', async () => {
  await ok('PUT', '/api/thresholds', { sku_id: 'sku-alert', warehouse_id: 'wh-east', reorder_point: 10, safety_stock: 2 });
  await ok('POST', '/api/inventory/update', { sku_id: 'sku-alert', warehouse_id: 'wh-east', transaction_type: 'sale', quantity: 15 });
  const { page, context, errors } = await open('/alerts');
  const row = page.getByRole('row', { name: /sku-alert/ });
  for (let i = 0; i < 30 && (await row.count()) === 0; i++) {
    await page.waitForTimeout(500);
    await page.reload();
    await page.getByRole('heading', { level: 1 }).waitFor();
  }
  await row.waitFor();
  await expect(row.textContent()).resolves.toContain('wh-east');
  expect(errors).toEqual([]);
  await context.close();
});

test('who gets told: a bad address is refused next to its field, a webhook subscription shows its secret once, and unsubscribing removes it', async () => {
  const { page, context, errors } = await open('/alerts');
  await settled(page);
  await page.getByLabel('Address, phone number or URL').fill('not-an-address');
  await page.getByRole('button', { name: 'Subscribe', exact: true }).click();
  const target = page.locator('.field', { has: page.getByLabel('Address, phone number or URL') });
  await target.locator('.field-error').waitFor();
  await page.getByLabel('Channel').selectOption('webhook');
  await page.getByLabel('Address, phone number or URL').fill('https://hooks.example.com/stock');
  await page.getByLabel('Alerts of').selectOption('sku_id');
  await page.getByLabel('SKU id').fill('sku-alert');
  await page.getByLabel('At least').selectOption('high');
  await page.getByRole('button', { name: 'Subscribe', exact: true }).click();
  await page.getByRole('status').filter({ hasText: 'signing secret' }).waitFor();
  const row = page.getByRole('row', { name: /hooks\.example\.com/ });
  await row.waitFor();
  await expect(row.textContent()).resolves.toMatch(/SKU sku-alert.*High/);
  const stored = await ok('GET', '/api/alerts/subscriptions');
  expect(stored.subscriptions.filter((s: { target: string }) => s.target === 'https://hooks.example.com/stock')).toEqual([expect.objectContaining({ channel: 'webhook', min_severity: 'high', scope: { sku_id: 'sku-alert' } })]);
  await page.getByRole('button', { name: 'Unsubscribe https://hooks.example.com/stock' }).click();
  await row.waitFor({ state: 'detached' });
  expect((await ok('GET', '/api/alerts/subscriptions')).subscriptions.some((s: { target: string }) => s.target === 'https://hooks.example.com/stock')).toBe(false);
  // The browser logs the deliberate 400 itself ("Failed to load resource"); nothing else may be logged.
  expect(errors.filter((error) => !/Failed to load resource: the server responded with a status of 400/.test(error))).toEqual([]);
  await context.close();
});

test('a reorder suggestion becomes a draft purchase order, which is submitted and received', async () => {
  await ok('PUT', '/api/thresholds', { sku_id: 'sku-po', warehouse_id: 'wh-east', reorder_point: 30, safety_stock: 5 });
  const { page, context } = await open('/purchasing');
  const pick = page.getByRole('checkbox', { name: 'Order sku-po for wh-east' });
  for (let i = 0; i < 30 && (await pick.count()) === 0; i++) {
    await page.waitForTimeout(500);
    await page.reload();
    await page.getByRole('heading', { level: 1 }).waitFor();
  }
  await pick.check();
  await page.getByRole('button', { name: /Draft purchase orders/ }).click();
  await page.getByRole('status').filter({ hasText: 'Drafted 1 purchase order' }).waitFor();
  const submit = page.getByRole('button', { name: /^Submit / }).first();
  await submit.click();
  const receive = page.getByRole('button', { name: /^Receive / }).first();
  await receive.waitFor();
  await receive.click();
  await page.getByRole('dialog').getByRole('button', { name: 'Receive' }).click();
  await page.getByText('Received', { exact: true }).first().waitFor();
  const level = (await ok('GET', '/api/inventory/sku/sku-po')).levels.find((l: { warehouse_id: string }) => l.warehouse_id === 'wh-east');
  expect(level.on_hand).toBeGreaterThan(20);
  await context.close();
});

test('the overview counts the orders waiting to ship and lists the oldest; the orders page ships one, which leaves the waiting list', async () => {
  await ok('POST', '/api/skus', { sku_id: 'sku-ord', product_id: 'p-ui', name: 'Widget sku-ord' });
  await ok('POST', '/api/inventory/update', { sku_id: 'sku-ord', warehouse_id: 'wh-east', transaction_type: 'restock', quantity: 10 });
  const allocate = (order_id: string, quantity: number) => ok('POST', '/api/orders/allocate', { order_id, lines: [{ sku_id: 'sku-ord', quantity }], ship_to: { latitude: 40.7, longitude: -74 } });
  // Ids in the reverse of their age: the overview lists the longest waiting first, not by id.
  await allocate('ord-b-older', 2);
  await allocate('ord-a-newer', 3);
  const { page, context, errors } = await open('/');
  await settled(page);
  const card = page.locator('.card').filter({ hasText: 'Orders waiting to ship' });
  await expect(card.locator('.card-value').textContent()).resolves.toBe('2');
  const longest = page.getByRole('table', { name: 'Orders waiting to ship, oldest first' });
  await expect(longest.locator('tbody tr').allInnerTexts()).resolves.toEqual([expect.stringMatching(/^ord-b-older\s+Allocated\s+2\s/), expect.stringMatching(/^ord-a-newer\s+Allocated\s+3\s/)]);

  await longest.getByRole('link', { name: 'ord-b-older' }).click();
  await page.getByRole('heading', { name: 'Order ord-b-older: Allocated' }).waitFor();
  await page.getByRole('button', { name: 'Ship the rest' }).click();
  await page.getByRole('heading', { name: 'Order ord-b-older: Shipped' }).waitFor();
  // The list (allocated, the waiting ones) is read again: only the other order is left in it.
  const list = page.getByRole('table', { name: 'Orders' });
  await list.getByRole('button', { name: 'Open order ord-b-older' }).waitFor({ state: 'detached' });
  await expect(list.getByRole('button', { name: /^Open order / }).allTextContents()).resolves.toEqual(['ord-a-newer']);
  await page.getByLabel('Show').selectOption('shipped');
  await list.getByRole('button', { name: 'Open order ord-b-older' }).waitFor();
  expect((await ok('GET', '/api/orders/status/ord-b-older')).status).toBe('shipped');

  await page.getByRole('link', { name: 'Overview' }).click();
  await settled(page);
  await expect(card.locator('.card-value').textContent()).resolves.toBe('1');
  expect(errors).toEqual([]);
  await context.close();
});

test('a viewer sees the stock but no button that would change it', async () => {
  const viewer = await ok('POST', '/api/users', { email: 'viewer@demo.example', name: 'Vera Viewer', role: 'viewer' });
  const token = await tokenOf(viewer.user_id, 'viewer');
  const { page, context, errors } = await open('/skus/sku-recv', token);
  await settled(page);
  await expect(page.getByTestId('on-hand-wh-east').count()).resolves.toBe(1);
  for (const name of ['Receive', 'Adjust', 'Count', 'Transfer']) await expect(page.getByRole('button', { name: new RegExp(`^${name} `) }).count()).resolves.toBe(0);
  await expect(page.getByRole('link', { name: 'Users' }).count()).resolves.toBe(0);
  await page.goto(`${runtime.url}/alerts`);
  await settled(page);
  await expect(page.getByRole('button', { name: /^Acknowledge/ }).count()).resolves.toBe(0);
  expect(errors).toEqual([]);
  await context.close();
});

/** A token for a user of the demo tenant, by the same CLI a developer uses (it reaches the running runtime's directory). */
const tokenOf = async (_userId: string, role: string): Promise<string> => {
  const { execFileSync } = await import('node:child_process');
  return execFileSync(process.execPath, [require.resolve('tsx/cli'), 'bin/token.ts', '--tenant', 'demo', '--email', `${role}@demo.example`], { cwd: `${__dirname}/../..`, encoding: 'utf8' }).trim();
};

const PAGES = ['/', '/inventory', '/skus/sku-recv', '/alerts', '/purchasing', '/orders', '/reports', '/channels', '/users', '/audit'];

test.each(PAGES)('page %s renders with no console errors and no serious accessibility violations, wide and narrow', async (path) => {
  for (const [label, viewport] of [['wide', { width: 1280, height: 800 }], ['narrow', { width: 420, height: 860 }]] as const) {
    const { page, context, errors } = await open(path, runtime.token, viewport);
    await settled(page);
    await screenshot(page, `${path === '/' ? 'overview' : path.slice(1).replace(/\//g, '-')}-${label}`);
    const text = await page.locator('body').innerText();
    expect(text).not.toMatch(/\bundefined\b|\bNaN\b|\[object Object\]|at .*\.tsx?:\d+/);
    expect(await seriousViolations(page)).toEqual([]);
    expect(errors).toEqual([]);
    await context.close();
  }
});
