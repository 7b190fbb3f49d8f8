/**
 * What a function's bundle may hold (issue 14, cold start): a handler takes its route from its own
 * context's routes module, never the wiring, so its bundle carries its context's schemas and not every
 * context's; and no bundle carries zod's locales beyond English. Bundled here as lib/functions.ts bundles
 * a function (test/bench/coldstart.ts measures what that is worth).
 */
import { build } from 'esbuild';
import { readdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { httpRoutes } from '../../functions/wiring';
import { routeNameOf, type HttpRoute } from '../../functions/platform/routes';
import { AWS_TIMEOUTS, createDocumentClient } from '../../functions/platform/db';
import { inventoryRoutes } from '../../functions/inventory/routes';
import { orderRoutes } from '../../functions/orders/routes';
import { apiRoutes } from '../../functions/api/routes';
import { purchasingRoutes } from '../../functions/purchasing/routes';
import { alertRoutes } from '../../functions/alerts/routes';
import { notificationRoutes } from '../../functions/notifications/routes';
import { replenishmentRoutes } from '../../functions/replenishment/routes';
import { reportRoutes } from '../../functions/reports/routes';
import { forecastingRoutes } from '../../functions/forecasting/routes';
import { channelRoutes } from '../../functions/channels/routes';
import { roleRoutes, userRoutes } from '../../functions/identity/routes';
import { auditRoutes } from '../../functions/audit/routes';

const ROOT = resolve(__dirname, '../..');

const contextRoutes: Record<string, Readonly<Record<string, HttpRoute>>> = {
  inventoryRoutes, orderRoutes, apiRoutes, purchasingRoutes, alertRoutes, notificationRoutes, replenishmentRoutes,
  reportRoutes, forecastingRoutes, channelRoutes, roleRoutes, auditRoutes, userRoutes,
};

/** The repo-relative source files in the bundle of one entry, bundled as lib/functions.ts does. */
const bundledInputs = async (entry: string): Promise<string[]> => {
  const result = await build({
    absWorkingDir: ROOT, entryPoints: [entry], bundle: true, platform: 'node', target: 'node22', format: 'cjs', minify: true,
    mainFields: ['module', 'main'], external: [], write: false, metafile: true, outfile: 'out/index.js', logLevel: 'silent',
  });
  // What the output holds (a module tree-shaken away is still an input, with no bytes in the output). Paths are
  // relative to ROOT; node_modules may be a link elsewhere, so packages are matched by their own path.
  const [output] = Object.values(result.metafile.outputs);
  return Object.entries(output?.inputs ?? {}).filter(([, input]) => input.bytesInOutput > 0).map(([file]) => file);
};

describe('the wiring is every context\'s routes, under the same names', () => {
  test('httpRoutes holds each context\'s routes, the same declarations, no name declared twice', () => {
    const declared = Object.values(contextRoutes).flatMap((routes) => Object.entries(routes));
    expect(declared.length).toBe(Object.keys(httpRoutes).length);
    for (const [name, route] of declared) expect((httpRoutes as Record<string, HttpRoute>)[name]).toBe(route);
  });

  test('every route knows its name from its context\'s module alone (the audit trail records it)', () => {
    for (const routes of Object.values(contextRoutes)) for (const [name, route] of Object.entries(routes)) expect(routeNameOf(route)).toBe(name);
  });

  test('a context declares routes of its own handlers only', () => {
    for (const routes of Object.values(contextRoutes)) {
      const contexts = new Set(Object.values(routes).map((route) => route.entry.split('/')[1]));
      expect(contexts.size).toBe(1);
    }
  });
});

describe('a handler\'s bundle', () => {
  // One HTTP handler of each context (the first route each context declares), and every other handler module.
  const httpEntries = Object.values(contextRoutes).map((routes) => (Object.values(routes)[0] as HttpRoute).entry);
  const openApi = apiRoutes.openApi.entry;

  test.each(httpEntries.filter((entry) => entry !== openApi))('%s holds its own context\'s routes only, not the wiring', async (entry) => {
    const context = entry.split('/')[1];
    const inputs = await bundledInputs(entry);
    expect(inputs).toContain(`functions/${context}/routes.ts`);
    expect(inputs).not.toContain('functions/wiring.ts');
    expect(inputs.filter((file) => /^functions\/(?!platform\/)[^/]+\/routes\.ts$/.test(file) && file !== `functions/${context}/routes.ts`)).toEqual([]);
  });

  const handlers = readdirSync(resolve(ROOT, 'functions'), { withFileTypes: true })
    .filter((d) => d.isDirectory())
    .flatMap((d) => {
      try {
        return readdirSync(resolve(ROOT, 'functions', d.name, 'handlers')).map((f) => `functions/${d.name}/handlers/${f}`);
      } catch {
        return [];
      }
    });

  test('no handler module imports the wiring (ESLint refuses it too)', async () => {
    const { readFileSync } = await import('node:fs');
    const importing = handlers.filter((file) => /from '\.\.\/\.\.\/wiring'/.test(readFileSync(resolve(ROOT, file), 'utf8')));
    expect(importing).toEqual([]);
  });

  test.each(['functions/inventory/handlers/update-stock.ts', 'functions/events/handlers/stream-processor.ts'])('%s holds zod\'s English locale only', async (entry) => {
    const locales = (await bundledInputs(entry)).filter((file) => /zod\/v4\/locales\//.test(file)).map((file) => file.replace(/.*zod\/v4\/locales\//, ''));
    expect(locales).toEqual(['en.js']);
  });
});

describe('SDK clients', () => {
  test('keep their HTTPS connections alive between calls (the SDK\'s default agent; our request handler options keep it)', async () => {
    // '' is no endpoint: the AWS configuration, not DynamoDB Local's.
    const client = createDocumentClient('', AWS_TIMEOUTS, { accessKeyId: 'test', secretAccessKey: 'test' });
    try {
      const handler = client.config.requestHandler as unknown as { configProvider: Promise<{ httpsAgent?: { keepAlive?: boolean } }> };
      expect((await handler.configProvider).httpsAgent?.keepAlive).toBe(true);
    } finally {
      client.destroy();
    }
  });
});
