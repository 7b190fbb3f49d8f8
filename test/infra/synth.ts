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

/**
 * `json` and `template` are the whole app's resources: the main stack's and the nested stacks that
 * hold routes (lib/channels.ts, the order routes' lib/route-stack.ts) and the operations stack (lib/operations.ts: the alarms and the dashboard), merged, so a test finds a function, its role and its route wherever the
 * stack put them (logical ids are unique across them: each carries its construct path's hash).
 * `mainJson` is the main stack's template alone (what CloudFormation's 500-resource limit counts).
 */
const synthesize = (checks = false) => {
  const { app, stack } = buildApp({ bundling: false, nag: checks, cfnValidation: checks });
  const assembly = app.synth();
  const mainJson = Template.fromStack(stack).toJSON() as CfnTemplate;
  let resources = mainJson.Resources;
  for (const nested of [stack.channels, stack.orderRoutes, stack.operations]) {
    const nestedJson = inlined(Template.fromStack(nested).toJSON() as CfnTemplate, mainJson.Resources[logicalId(nested.nestedStackResource ?? nested)]);
    const clashes = Object.keys(nestedJson.Resources).filter((id) => id in resources);
    if (clashes.length) throw new Error(`logical ids in both the main and a nested stack: ${clashes.join(', ')}`);
    resources = { ...resources, ...nestedJson.Resources };
  }
  const json: CfnTemplate = { ...mainJson, Resources: resources };
  return { app, stack, assembly, template: Template.fromJSON(json), json, mainJson };
};

/**
 * A nested stack's template as if its resources were the parent's: each `{ Ref: <parameter> }` replaced
 * by what the parent passes for it (the nested stack resource's Parameters, e.g. the table's Ref or
 * GetAtt Arn), so the tests compare a nested function's grants with the same expressions as the main ones'.
 */
const inlined = (nested: CfnTemplate, stackResource: CfnResource | undefined): CfnTemplate => {
  const parameters = (stackResource?.Properties?.Parameters ?? {}) as Record<string, unknown>;
  const replace = (value: unknown): unknown => {
    if (Array.isArray(value)) return value.map(replace);
    if (value && typeof value === 'object') {
      const entries = Object.entries(value);
      const [only] = entries;
      if (entries.length === 1 && only && only[0] === 'Ref' && typeof only[1] === 'string' && only[1] in parameters) return parameters[only[1]];
      return Object.fromEntries(entries.map(([key, inner]) => [key, replace(inner)]));
    }
    return value;
  };
  return { ...nested, Resources: replace(nested.Resources) as CfnTemplate['Resources'] };
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
