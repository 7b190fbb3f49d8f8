import { AssetManifestArtifact } from 'aws-cdk-lib/cx-api';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { TABLE_NAME_ENV } from '../../functions/platform/table';
import { eventConsumers, fallbackRoute, httpRoutes, scheduledFunctions, streamProcessor } from '../../functions/wiring';
import { REPO_ROOT } from '../../lib/api';
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

  test('there is one function per declared route, the fallback route, the stream processor, one per scheduled function, and no other (no hidden helper Lambdas)', () => {
    expect(functions).toHaveLength(Object.keys(httpRoutes).length + 1 + 1 + Object.keys(scheduledFunctions).length + Object.keys(eventConsumers).length);
    expect(Object.keys(stack.api.functions).sort()).toEqual(Object.keys(httpRoutes).sort());
    expect(Object.keys(stack.schedules.functions).sort()).toEqual(Object.keys(scheduledFunctions).sort());
    const declared = [
      ...Object.values(stack.api.functions),
      stack.api.fallback,
      stack.events.processor,
      ...Object.values(stack.schedules.functions),
      ...Object.values(stack.consumers.consumers).map((c) => c.function),
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

  test.each(functions)('%s logs to its own log group with a retention period', (_id, fn) => {
    const group = (fn.Properties?.LoggingConfig as { LogGroup: { Ref: string } }).LogGroup.Ref;
    expect(json.Resources[group]?.Type).toBe('AWS::Logs::LogGroup');
    expect(json.Resources[group]?.Properties?.RetentionInDays).toEqual(expect.any(Number));
  });

  test('every function ships a code asset of its own, staged in the cloud assembly from an entry that exists', () => {
    const manifests = assembly.artifacts.filter((artifact) => artifact instanceof AssetManifestArtifact);
    const files = Object.assign({}, ...manifests.map((manifest) => manifest.contents.files ?? {})) as Record<string, unknown>;
    const keys = functions.map(([, fn]) => (fn.Properties?.Code as { S3Key: string }).S3Key);
    expect(new Set(keys).size).toBe(functions.length);
    for (const key of keys) expect(files[key.replace(/\.zip$/, '')]).toBeDefined();
    for (const { entry } of [...Object.values(httpRoutes), fallbackRoute, streamProcessor, ...Object.values(scheduledFunctions)])
      expect({ entry, exists: existsSync(resolve(REPO_ROOT, entry)) }).toEqual({ entry, exists: true });
  });
});
