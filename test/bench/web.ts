/**
 * `npm run bench -- web` (issue 13): what the dashboard costs a reader.
 *   - JavaScript shipped on first load, gzipped (goal under 200 KB): the scripts index.html loads, as built.
 *   - The inventory grid with 10,000 levels (2,500 SKUs x 4 warehouses, seeded through the API of a real
 *     `npm start`) in headless Chromium: the time from "Load all" to every row in the grid (API pages included),
 *     then the grid's own render of those rows against a baseline in the same browser and run: the same rows as a
 *     plain table, every row in the DOM (what a grid without windowing would do).
 *   - First contentful paint of a local load of `/`, from the browser's own paint timing (median of 5 loads).
 *
 *   npm run bench -- web              full run (10,000 levels)
 *   npm run bench -- web --quick      smoke run (1,000 levels)
 *   npm run bench -- web --levels 4000
 *
 * A measurement, not a test. Results also go to .data/bench/web.json.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { ensureWebBuild, WEB_DIST } from '../../bin/local/web';
import { launchChromium } from '../support/browser';
import { startLocalRuntime } from '../support/local-runtime';
import { inBatches, intOption, log, machineInfo, median, ROOT, round2, runMain, writeJson } from './common';

// page.evaluate() callbacks run in the browser; these are its globals, declared here only (not the DOM library for all of test/).
declare const document: any;
declare const requestAnimationFrame: any;

const OUT_FILE = resolve(ROOT, '.data/bench/web.json');
const GOAL_KB = 200;
const WAREHOUSES = 4;

const { values } = parseArgs({ options: { quick: { type: 'boolean', default: false }, levels: { type: 'string' } } });
const levels = intOption('levels', values.levels, values.quick ? 1_000 : 10_000, WAREHOUSES);
const skus = Math.ceil(levels / WAREHOUSES);

/** The scripts index.html loads, and their gzipped bytes (level 9, as CloudFront's and most servers' compression is at least this good... or close). */
const firstLoadScripts = (): { files: string[]; gzipped: number; raw: number } => {
  const html = readFileSync(join(WEB_DIST, 'index.html'), 'utf8');
  const files = [...html.matchAll(/<(?:script[^>]+src|link[^>]+rel="modulepreload"[^>]+href)="\/([^"]+\.js)"/g)].map((m) => m[1] as string);
  const bytes = files.map((file) => readFileSync(join(WEB_DIST, file)));
  return { files, raw: bytes.reduce((s, b) => s + b.length, 0), gzipped: bytes.reduce((s, b) => s + gzipSync(b, { level: 9 }).length, 0) };
};

const main = async (): Promise<void> => {
  ensureWebBuild({ quiet: true });
  const shipped = firstLoadScripts();
  const allJs = readdirSync(join(WEB_DIST, 'assets')).filter((f) => f.endsWith('.js'));
  log(`first load: ${shipped.files.join(', ')} = ${(shipped.gzipped / 1024).toFixed(1)} KB gzipped (${allJs.length} script file(s) in the build)`);

  const runtime = await startLocalRuntime();
  const browser = await launchChromium();
  try {
    const call = async (method: string, path: string, body: unknown): Promise<void> => {
      const response = await fetch(`${runtime.url}${path}`, { method, headers: { authorization: `Bearer ${runtime.token}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
      if (response.status >= 300) throw new Error(`${method} ${path}: ${response.status} ${await response.text()}`);
    };
    log(`seeding ${skus} SKUs x ${WAREHOUSES} warehouses = ${skus * WAREHOUSES} levels through the API`);
    await call('POST', '/api/products', { product_id: 'bench', name: 'Bench' });
    const warehouses = Array.from({ length: WAREHOUSES }, (_, i) => `wh-${i}`);
    for (const [i, id] of warehouses.entries()) await call('POST', '/api/warehouses', { warehouse_id: id, name: `Warehouse ${i}`, latitude: 40 + i, longitude: -74 - i });
    const skuIds = Array.from({ length: skus }, (_, i) => `sku-${String(i).padStart(5, '0')}`);
    await inBatches(skuIds, 16, (id) => call('POST', '/api/skus', { sku_id: id, product_id: 'bench', name: `Bench item ${id}` }));
    const updates = skuIds.flatMap((sku_id, i) => warehouses.map((warehouse_id) => ({ sku_id, warehouse_id, transaction_type: 'restock', quantity: 1 + (i % 50) })));
    const batches = Array.from({ length: Math.ceil(updates.length / 100) }, (_, i) => updates.slice(i * 100, i * 100 + 100));
    await inBatches(batches, 4, (batch) => call('POST', '/api/inventory/bulk-update', { atomic: false, updates: batch }));
    log('seeded');

    // ----- first contentful paint of `/` (median of 5 fresh loads) -----
    const paints: number[] = [];
    for (let i = 0; i < 5; i++) {
      const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
      const page = await context.newPage();
      await page.goto(`${runtime.url}/#token=${runtime.token}`, { waitUntil: 'load' });
      await page.getByRole('heading', { level: 1 }).first().waitFor();
      paints.push(await page.evaluate(() => performance.getEntriesByName('first-contentful-paint')[0]?.startTime ?? Number.NaN));
      await context.close();
    }

    // ----- the grid: load all, then the render of all rows, against a plain table of the same rows -----
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    const page = await context.newPage();
    await page.goto(`${runtime.url}/inventory#token=${runtime.token}`);
    await page.getByRole('button', { name: 'Load all' }).waitFor({ timeout: 60_000 });
    const t0 = Date.now();
    await page.getByRole('button', { name: 'Load all' }).click();
    const total = skus * WAREHOUSES;
    await page.waitForFunction((n) => document.querySelector('table.grid')?.getAttribute('aria-rowcount') === String(n + 1), total, { timeout: 600_000 });
    const loadAllMs = Date.now() - t0;
    // The grid's own render: scroll to the end and wait for the last row to be painted (two frames).
    const scrollMs = await page.evaluate(async () => {
      const box = document.querySelector(".grid-box");
      const started = performance.now();
      box.scrollTop = box.scrollHeight;
      await new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(done)));
      return performance.now() - started;
    });
    const rows = await page.evaluate(() => document.querySelectorAll('table.grid tbody tr').length);
    // Baseline, same page, same rows: every row in the DOM as a plain table, laid out.
    const plainMs = await page.evaluate((n) => {
      const started = performance.now();
      const table = document.createElement('table');
      const body = document.createElement('tbody');
      for (let i = 0; i < n; i++) {
        const tr = document.createElement('tr');
        for (let c = 0; c < 9; c++) {
          const td = document.createElement('td');
          td.textContent = c === 0 ? `sku-${i}` : String(i % 97);
          tr.appendChild(td);
        }
        body.appendChild(tr);
      }
      table.appendChild(body);
      document.body.appendChild(table);
      void table.offsetHeight;
      const ms = performance.now() - started;
      table.remove();
      return ms;
    }, total);
    // The grid's redraw of another window of the same rows: a jump to the middle (what it renders when the reader scrolls).
    const gridMs = await page.evaluate(async () => {
      const box = document.querySelector(".grid-box");
      box.scrollTop = 0;
      await new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(done)));
      const started = performance.now();
      box.scrollTop = Math.floor(box.scrollHeight / 2);
      await new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(done)));
      void box.offsetHeight;
      return performance.now() - started;
    });
    await context.close();

    const results = {
      first_load_js: { files: shipped.files, raw_bytes: shipped.raw, gzipped_bytes: shipped.gzipped, gzipped_kb: round2(shipped.gzipped / 1024), goal_kb: GOAL_KB, met: shipped.gzipped / 1024 < GOAL_KB },
      first_contentful_paint_ms: { median: round2(median(paints)), runs: paints.map(round2) },
      grid: {
        levels: total,
        load_all_ms: loadAllMs,
        rows_in_dom: rows,
        jump_to_end_ms: round2(scrollMs),
        jump_to_middle_ms: round2(gridMs),
        plain_table_all_rows_ms: round2(plainMs),
        plain_over_grid: round2(plainMs / Math.max(gridMs, 0.1)),
      },
    };
    process.stdout.write(
      [
        `dashboard (web/dist, Preact + uPlot, built by Vite), against npm start in headless Chromium`,
        `first-load JavaScript: ${results.first_load_js.gzipped_kb} KB gzipped (${(shipped.raw / 1024).toFixed(1)} KB raw)   goal < ${GOAL_KB} KB   ${results.first_load_js.met ? 'MET' : 'MISSED'}`,
        `first contentful paint of /: ${results.first_contentful_paint_ms.median} ms (median of 5: ${results.first_contentful_paint_ms.runs.join(', ')})`,
        `inventory grid, ${total} levels: "Load all" to every row ${loadAllMs} ms (${Math.ceil(skus / 200)} API pages of 200 SKUs); ${rows} rows in the DOM at a time`,
        `  jump to the end ${results.grid.jump_to_end_ms} ms, to the middle ${results.grid.jump_to_middle_ms} ms; baseline in the same page: all ${total} rows as a plain table ${results.grid.plain_table_all_rows_ms} ms (${results.grid.plain_over_grid}x the grid's jump)`,
        '',
      ].join('\n'),
    );
    writeJson(OUT_FILE, { levels: total, machine: machineInfo(), results });
  } finally {
    await browser.close();
    await runtime.stop();
  }
};

runMain(main);
