import { Stack, type CfnElement } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import type { IConstruct } from 'constructs';
import { buildApp } from '../../lib/app';

/**
 * The app as bin/app.ts builds it (cdk.json's feature flags), but with
 * esbuild bundling, CDK's built-in CloudFormation schema validation and
 * cdk-nag skipped, so a test file synthesizes in about a second and a
 * template regression fails the test about it rather than the whole
 * synthesis. `npm run synth` does all three for real; nag.test.ts
 * synthesizes with the checks on. Built once per test file.
 */
let cached: ReturnType<typeof synthesize> | undefined;

const synthesize = (checks = false) => {
  const { app, stack } = buildApp({ bundling: false, nag: checks, cfnValidation: checks });
  const assembly = app.synth();
  const template = Template.fromStack(stack);
  return { app, stack, assembly, template, json: template.toJSON() as CfnTemplate };
};

export const synthesized = (): ReturnType<typeof synthesize> => (cached ??= synthesize());

/** A fresh synthesis with the checks `cdk synth` runs (cdk-nag, CloudFormation schema validation), bundling aside. */
export const synthesizedWithAllChecks = (): ReturnType<typeof synthesize> => synthesize(true);

export interface CfnResource {
  Type: string;
  Properties?: Record<string, unknown>;
  DeletionPolicy?: string;
}
export interface CfnTemplate {
  Resources: Record<string, CfnResource>;
  Outputs?: Record<string, { Value: unknown }>;
}

/** A function's execution role (every function here has one: CDK makes it unless given). */
export const roleOf = (fn: { role?: IConstruct }): IConstruct => {
  if (!fn.role) throw new Error('the function has no role');
  return fn.role;
};

export const logicalId = (construct: IConstruct): string => {
  const element = (construct.node.defaultChild ?? construct) as CfnElement;
  return Stack.of(construct).getLogicalId(element);
};

export const resourcesOfType = (json: CfnTemplate, type: string): [string, CfnResource][] =>
  Object.entries(json.Resources).filter(([, resource]) => resource.Type === type);
