import { App, Validations, type Environment } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { z } from 'zod';
import { REPO_ROOT } from './api';
import { InventoryStack } from './inventory-stack';

export const STACK_NAME = 'Stockroom';
/** cdk.json context key: the region used when the environment names none. */
export const DEFAULT_REGION_CONTEXT = 'stockroom:defaultRegion';

export interface BuildAppOptions {
  /** Bundle the functions with esbuild (default true). Tests turn it off for speed: assets then point at the sources. */
  bundling?: boolean;
  /** Apply the cdk-nag AwsSolutions checks (default true). */
  nag?: boolean;
  /** Account and region; the region defaults to the `stockroom:defaultRegion` context. */
  env?: Environment;
  outdir?: string;
  /**
   * CDK's built-in CloudFormation schema validation at synthesis (default
   * true, as in `cdk synth`). It costs ~5 s per synthesis, so most tests turn it off.
   */
  cfnValidation?: boolean;
}

/** The part of cdk.json read here: its context. */
const cdkJson = z.object({ context: z.record(z.string(), z.unknown()).optional() });

/**
 * cdk.json's context (the feature flags), so an App built here, in a test,
 * behaves exactly as the one the CDK CLI synthesizes. Under the CLI the same
 * values arrive again from cdk.json and win; they are identical.
 */
const cdkJsonContext = (): Record<string, unknown> =>
  cdkJson.parse(JSON.parse(readFileSync(resolve(REPO_ROOT, 'cdk.json'), 'utf8'))).context ?? {};

/** The CDK app, shared by bin/app.ts and test/infra. */
export const buildApp = (options: BuildAppOptions = {}): { app: App; stack: InventoryStack } => {
  const context: Record<string, unknown> = { ...cdkJsonContext() };
  if (options.bundling === false) context['aws:cdk:bundling-stacks'] = [];
  const app = new App({
    context,
    builtinCloudFormationValidation: options.cfnValidation ?? true,
    ...(options.outdir ? { outdir: options.outdir } : {}),
  });
  // TableV2 with a customer-managed key needs a concrete region; without one
  // (offline synth, tests) the region comes from cdk.json, the account stays unresolved.
  const contextRegion: unknown = app.node.tryGetContext(DEFAULT_REGION_CONTEXT);
  if (contextRegion !== undefined && typeof contextRegion !== 'string') throw new Error(`The "${DEFAULT_REGION_CONTEXT}" context must be a region name, got ${JSON.stringify(contextRegion)}`);
  const region = options.env?.region ?? contextRegion;
  if (!region) throw new Error(`No region: set CDK_DEFAULT_REGION (an AWS profile does) or the "${DEFAULT_REGION_CONTEXT}" context`);
  const stack = new InventoryStack(app, STACK_NAME, {
    description: 'Stockroom: serverless multi-tenant inventory (HTTP API, Lambda, DynamoDB, Cognito, EventBridge)',
    env: { ...options.env, region },
  });
  // cdk-nag 3 is a CDK policy-validation plugin: an unacknowledged error fails `cdk synth`.
  if (options.nag ?? true) Validations.of(app).addPlugins(new AwsSolutionsChecks(app, { verbose: true }));
  return { app, stack };
};
