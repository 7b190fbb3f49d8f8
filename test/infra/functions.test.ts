import { App, Duration, Stack } from 'aws-cdk-lib';
import { AttributeType, TableV2 } from 'aws-cdk-lib/aws-dynamodb';
import { AssetManifestArtifact } from 'aws-cdk-lib/cx-api';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { TABLE_NAME_ENV } from '../../functions/platform/table';
import { allEventConsumers, allScheduledFunctions, channelSyncQueues, fallbackRoute, healthRoute, httpRoutes, scheduledFunctions, streamProcessor } from '../../functions/wiring';
import type { IConstruct } from 'constructs';
import { REPO_ROOT } from '../../lib/api';
import { BUNDLED_SQL_DIR, contextDirOf, sqlBundlingHooks, stockroomFunction } from '../../lib/functions';
import { logicalId, resourcesOfType, synthesized } from './synth';

/**
 * The Lambda functions: one per route, the `$default` route's, one stream
 * processor and one per scheduled function of functions/wiring.ts, all
 * configured alike.
 */
describe('Lambda functions', () => {
  const { json, stack, assembly } = synthesized();
  const functions = resourcesOfType(json, 'AWS::Lambda::Function');
  const tableId = logicalId(stack.data.table);
  const routeFunctionIds = new Set([...Object.values(stack.api.functions), stack.api.fallback].map(logicalId));

  test('there is one function per declared route, the fallback route, the health route, the stream processor, the audit exporter, one per scheduled function, consumer and sync queue (the channels\' nested stack\'s too), and no other (no hidden helper Lambdas)', () => {
    expect(functions).toHaveLength(
      Object.keys(httpRoutes).length + 1 + 1 + 1 + 1 + Object.keys(allScheduledFunctions).length + Object.keys(allEventConsumers).length + Object.keys(channelSyncQueues).length,
    );
    expect(Object.keys(stack.api.functions).sort()).toEqual(Object.keys(httpRoutes).sort());
    expect(Object.keys(stack.schedules.functions).sort()).toEqual(Object.keys(scheduledFunctions).sort());
    const declared = [
      ...Object.values(stack.api.functions),
      stack.api.fallback,
      stack.api.health,
      stack.events.processor,
      stack.audit.exporter,
      ...Object.values(stack.schedules.functions),
      ...Object.values(stack.consumers.consumers).map((c) => c.function),
      ...Object.values(stack.channels.schedules.functions),
      ...Object.values<{ function: IConstruct }>(stack.channels.consumers.consumers).map((c) => c.function),
      ...Object.values<{ function: IConstruct }>(stack.channels.syncQueues).map((q) => q.function),
    ].map(logicalId);
    expect(declared.sort()).toEqual(functions.map(([id]) => id).sort());
  });

  test.each(functions)('%s runs nodejs22.x on arm64 with TABLE_NAME set to the table', (_id, fn) => {
    expect(fn.Properties?.Runtime).toBe('nodejs22.x');
    expect(fn.Properties?.Architectures).toEqual(['arm64']);
    const variables = (fn.Properties?.Environment as { Variables: Record<string, unknown> }).Variables;
    expect(variables[TABLE_NAME_ENV]).toEqual({ Ref: tableId });
  });

  test.each(functions)('%s has source-mapped stack traces, active tracing, bounded memory and timeout', (id, fn) => {
    const props = fn.Properties ?? {};
    expect((props.Environment as { Variables: Record<string, unknown> }).Variables.NODE_OPTIONS).toContain('--enable-source-maps');
    expect(props.TracingConfig).toEqual({ Mode: 'Active' });
    expect(props.MemorySize).toBeGreaterThanOrEqual(256);
    // API Gateway gives up on an integration after 30 s; the others have a bound of their own (below).
    if (routeFunctionIds.has(id)) expect(props.Timeout).toBeLessThan(30);
    else expect(props.Timeout).toBeLessThanOrEqual(900);
    expect(props.Handler).toBe('index.handler');
  });

  test('a scheduled function times out before its next run is due, and is not retried (the next tick is the retry)', () => {
    for (const [name, scheduled] of Object.entries(scheduledFunctions)) {
      const fn = stack.schedules.functions[name as keyof typeof scheduledFunctions];
      expect(json.Resources[logicalId(fn)]?.Properties?.Timeout).toBeLessThan(scheduled.everySeconds);
      const configs = resourcesOfType(json, 'AWS::Lambda::EventInvokeConfig').filter(([, c]) => JSON.stringify(c.Properties?.FunctionName).includes(`"${logicalId(fn)}"`));
      expect(configs.map(([, c]) => c.Properties?.MaximumRetryAttempts)).toEqual([0]);
    }
  });

  test.each(functions)("%s runs with Powertools' environment: service, metrics namespace, log level, tracing on, no response or error bodies in traces", (_id, fn) => {
    const variables = (fn.Properties?.Environment as { Variables: Record<string, unknown> }).Variables;
    expect(variables).toMatchObject({
      POWERTOOLS_SERVICE_NAME: 'stockroom',
      POWERTOOLS_METRICS_NAMESPACE: 'Stockroom',
      LOG_LEVEL: 'INFO',
      POWERTOOLS_TRACE_ENABLED: 'true',
      POWERTOOLS_TRACER_CAPTURE_RESPONSE: 'false',
      POWERTOOLS_TRACER_CAPTURE_ERROR: 'false',
    });
  });

  test.each(functions)('%s logs to its own log group with a retention period', (_id, fn) => {
    const group = (fn.Properties?.LoggingConfig as { LogGroup: { Ref: string } }).LogGroup.Ref;
    expect(json.Resources[group]?.Type).toBe('AWS::Logs::LogGroup');
    expect(json.Resources[group]?.Properties?.RetentionInDays).toEqual(expect.any(Number));
  });

  test('every entry ships a code asset of its own, staged in the cloud assembly from an entry that exists (functions of one entry share it)', () => {
    const manifests = assembly.artifacts.filter((artifact) => artifact instanceof AssetManifestArtifact);
    const files = Object.assign({}, ...manifests.map((manifest) => manifest.contents.files ?? {})) as Record<string, unknown>;
    const keys = functions.map(([, fn]) => (fn.Properties?.Code as { S3Key: string }).S3Key);
    // The two push workers (channelSyncQueues) run one entry: every other function has its own.
    const entries = new Set([...Object.values(httpRoutes), fallbackRoute, healthRoute, streamProcessor, ...Object.values(allScheduledFunctions), ...Object.values(allEventConsumers), ...Object.values(channelSyncQueues)].map((f) => f.entry));
    // The audit trail's exporter (lib/audit.ts): its entry is the stack's, not the wiring's.
    entries.add('functions/audit/handlers/export-audit.ts');
    expect(new Set(keys).size).toBe(entries.size);
    for (const key of keys) expect(files[key.replace(/\.zip$/, '')]).toBeDefined();
    for (const { entry } of [...Object.values(httpRoutes), fallbackRoute, healthRoute, streamProcessor, ...Object.values(scheduledFunctions)])
      expect({ entry, exists: existsSync(resolve(REPO_ROOT, entry)) }).toEqual({ entry, exists: true });
  });
});

describe('SQL files next to the bundle', () => {
  test('an entry of a context with a sql/ folder gets a hook copying it to <asset>/sql; an entry of a context without one gets none', () => {
    expect(contextDirOf(httpRoutes.stockMovementReport.entry)).toBe('functions/reports');
    const hooks = sqlBundlingHooks(httpRoutes.stockMovementReport.entry);
    expect(hooks?.afterBundling('/in', '/out')).toEqual([
      `node -e "require('node:fs').cpSync(process.argv[1], process.argv[2], { recursive: true })" "/in/functions/reports/${BUNDLED_SQL_DIR}" "/out/${BUNDLED_SQL_DIR}"`,
    ]);
    expect(sqlBundlingHooks(httpRoutes.createProduct.entry)).toBeUndefined();
    expect(sqlBundlingHooks(streamProcessor.entry)).toBeUndefined();
  });

  test('bundled for real, a report function\'s asset holds index.js and every functions/reports/sql file, byte for byte, under sql/', () => {
    const outdir = mkdtempSync(join(tmpdir(), 'stockroom-bundle-'));
    try {
      const app = new App({ outdir });
      const stack = new Stack(app, 'SqlBundle', { env: { region: 'eu-west-1', account: '111111111111' } });
      const table = new TableV2(stack, 'Table', { partitionKey: { name: 'pk', type: AttributeType.STRING } });
      stockroomFunction(stack, 'Report', { entry: httpRoutes.stockMovementReport.entry, description: 'bundling test', table, access: 'read', timeout: Duration.seconds(10) });
      app.synth();
      const assets = readdirSync(outdir).filter((name) => name.startsWith('asset.'));
      expect(assets).toHaveLength(1);
      const asset = join(outdir, assets[0] ?? '');
      expect(existsSync(join(asset, 'index.js'))).toBe(true);
      const sources = readdirSync(resolve(REPO_ROOT, 'functions/reports/sql')).filter((name) => name.endsWith('.sql'));
      expect(sources.length).toBeGreaterThan(0);
      expect(readdirSync(join(asset, BUNDLED_SQL_DIR)).sort()).toEqual(sources.sort());
      for (const name of sources) expect(readFileSync(join(asset, BUNDLED_SQL_DIR, name), 'utf8')).toBe(readFileSync(resolve(REPO_ROOT, 'functions/reports/sql', name), 'utf8'));
    } finally {
      rmSync(outdir, { recursive: true, force: true });
    }
  }, 60_000);
});
