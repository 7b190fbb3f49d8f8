import { Validations, type PolicyViolation } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import type { IConstruct } from 'constructs';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildApp } from '../../lib/app';
import { synthesizedWithAllChecks } from './synth';

/**
 * cdk-nag (v3: a CDK policy-validation plugin, acknowledgements through
 * `Validations.of(construct).acknowledge`). The app must pass the
 * AwsSolutions pack, and every acknowledged finding must carry a real
 * reason and still be needed.
 */
interface Acknowledgement {
  path: string;
  id: string;
  reason: string;
}

const acknowledgements = (root: IConstruct): Acknowledgement[] =>
  root.node.findAll().flatMap((construct) =>
    construct.node.metadata
      .filter((entry) => entry.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY)
      .flatMap((entry) =>
        Object.entries(entry.data as Record<string, string>).map(([id, reason]) => ({
          path: construct.node.path,
          id: id.replace(/^annotation::/i, ''),
          reason,
        })),
      ),
  );

const describeViolations = (violations: readonly PolicyViolation[]) =>
  violations.flatMap((v) => v.violatingResources.map((r) => `${v.severity} ${v.ruleName} at ${r.constructPath}`));

describe('cdk-nag AwsSolutions checks', () => {
  // Synthesized inside the tests: an unacknowledged error makes app.synth() throw with the full report.
  let checked: ReturnType<typeof synthesizedWithAllChecks> | undefined;
  const synthesized = () => (checked ??= synthesizedWithAllChecks());

  test('synthesizing the app with AwsSolutionsChecks (and CloudFormation schema validation) leaves no unacknowledged error or warning', () => {
    expect(synthesized).not.toThrow();
    const { app, assembly } = synthesized();
    // app.synth() ran the plugin (errors throw there); ask the pack directly too, for warnings.
    const report = new AwsSolutionsChecks(app, { verbose: true }).validateScope(app);
    expect(describeViolations(report.violations)).toEqual([]);
    const written = JSON.parse(readFileSync(join(assembly.directory, 'validation-report.json'), 'utf8')) as {
      pluginReports: { pluginName?: string; violations?: { severity: string }[] }[];
    };
    const open = written.pluginReports.flatMap((r) => (r.violations ?? []).filter((v) => v.severity !== 'info').map((v) => ({ plugin: r.pluginName, ...v })));
    expect(open).toEqual([]);
  });

  test('every acknowledged finding names an AwsSolutions rule and gives a specific reason (over 20 characters)', () => {
    const acks = acknowledgements(synthesized().app);
    expect(acks.length).toBeGreaterThan(0);
    for (const ack of acks) {
      expect(ack.id).toMatch(/^AwsSolutions-[A-Z]+\d+(\[.+\])?$/);
      expect(ack.reason.trim().length).toBeGreaterThan(20);
    }
  });

  test('no acknowledgement is stale or broad: each matches a finding on the construct it is attached to', () => {
    // The same app with acknowledgements switched off shows what they hide.
    const acknowledge = jest.spyOn(Validations.prototype, 'acknowledge').mockImplementation(() => undefined);
    let raw: ReturnType<typeof buildApp>['app'];
    try {
      raw = buildApp({ bundling: false, nag: false, cfnValidation: false }).app;
    } finally {
      acknowledge.mockRestore();
    }
    raw.synth();
    const findings = new AwsSolutionsChecks(raw).validateScope(raw).violations;
    for (const ack of acknowledgements(synthesized().app)) {
      const matching = findings
        .filter((f) => f.ruleName === ack.id)
        .flatMap((f) => f.violatingResources.map((r) => r.constructPath ?? ''))
        .filter((path) => path === ack.path || path.startsWith(`${ack.path}/`));
      expect({ ack: `${ack.id} at ${ack.path}`, matches: matching.length > 0 }).toEqual({ ack: `${ack.id} at ${ack.path}`, matches: true });
    }
  });
});
