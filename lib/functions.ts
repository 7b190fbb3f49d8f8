import { CfnElement, Duration, Names, Stack, Validations } from 'aws-cdk-lib';
import type { TableV2 } from 'aws-cdk-lib/aws-dynamodb';
import type * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction, OutputFormat, type ICommandHooks } from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { TABLE_NAME_ENV } from '../functions/platform/table';
import { POWERTOOLS_ENVIRONMENT } from '../functions/platform/metrics';

/** The repository root: handler entries in functions/wiring.ts are relative to it. */
export const REPO_ROOT = resolve(__dirname, '..');

/** The folder, next to the bundle, that a context's SQL files are copied to (functions/reports/reports.ts reads `join(__dirname, 'sql', <name>.sql)`). */
export const BUNDLED_SQL_DIR = 'sql';

/**
 * The context folder of a handler entry (`functions/<context>/handlers/x.ts` ->
 * `functions/<context>`, repo-relative, `/`-separated): where its `sql/` lives.
 */
export const contextDirOf = (entry: string): string => {
  const parts = entry.split(/[\\/]/);
  const handlers = parts.lastIndexOf('handlers');
  return (handlers > 0 ? parts.slice(0, handlers) : parts.slice(0, -1)).join('/');
};

/**
 * Bundling hooks that copy the entry's context `sql/` folder next to the bundle
 * (`<asset>/sql/*.sql`), for a context that has one; undefined otherwise. The copy
 * is Node's fs.cpSync run by `node -e`, so it works wherever the bundling runs
 * (Linux, macOS, Windows, or the Docker bundling image), with no `cp` or `xcopy`.
 */
export const sqlBundlingHooks = (entry: string): ICommandHooks | undefined => {
  const contextDir = contextDirOf(entry);
  if (!existsSync(resolve(REPO_ROOT, contextDir, BUNDLED_SQL_DIR))) return undefined;
  return {
    beforeBundling: () => [],
    beforeInstall: () => [],
    afterBundling: (inputDir: string, outputDir: string): string[] => [
      `node -e "require('node:fs').cpSync(process.argv[1], process.argv[2], { recursive: true })" "${inputDir}/${contextDir}/${BUNDLED_SQL_DIR}" "${outputDir}/${BUNDLED_SQL_DIR}"`,
    ],
  };
};

/** What a function may do to the table (functions/wiring.ts `table`); 'custom' grants are added by the caller. */
export type TableAccess = 'none' | 'read' | 'write' | 'custom';

export interface StockroomFunctionProps {
  /** Module under the repo root exporting `handler`. */
  entry: string;
  description: string;
  table: TableV2;
  access: TableAccess;
  timeout: Duration;
  environment?: Record<string, string>;
  /** Retries of a failed asynchronous invocation (schedules); Lambda's default (2) when unset. */
  retryAttempts?: number;
  /** MB; 512 when unset. Lambda gives CPU in proportion: 1769 MB is one full vCPU. */
  memorySize?: number;
  /** The execution role, when it is shared with functions of exactly the same grants (lib/api.ts); its own otherwise. */
  role?: iam.IRole;
  /** Concurrent runs at most (reserved from the account's pool); unreserved when unset. */
  reservedConcurrentExecutions?: number;
}

/**
 * One Lambda as every function of this app is built: Node 22 on arm64, its
 * own log group with retention, active tracing, source maps, TABLE_NAME set,
 * bundled by esbuild with the AWS SDK included, and the table grant its
 * `access` says. Inside a construct named `id` (`<id>/Function`, `<id>/Logs`).
 */
export const stockroomFunction = (parent: Construct, id: string, props: StockroomFunctionProps): NodejsFunction => {
  const scope = new Construct(parent, id);
  const commandHooks = sqlBundlingHooks(props.entry);
  const logGroup = new logs.LogGroup(scope, 'Logs', { retention: logs.RetentionDays.ONE_MONTH });
  const fn = new NodejsFunction(scope, 'Function', {
    description: props.description.slice(0, 256),
    entry: resolve(REPO_ROOT, props.entry),
    handler: 'handler',
    projectRoot: REPO_ROOT,
    depsLockFilePath: resolve(REPO_ROOT, 'package-lock.json'),
    runtime: lambda.Runtime.NODEJS_22_X,
    architecture: lambda.Architecture.ARM_64,
    memorySize: props.memorySize ?? 512,
    timeout: props.timeout,
    ...(props.reservedConcurrentExecutions === undefined ? {} : { reservedConcurrentExecutions: props.reservedConcurrentExecutions }),
    ...(props.role ? { role: props.role } : {}),
    tracing: lambda.Tracing.ACTIVE,
    logGroup,
    ...(props.retryAttempts === undefined ? {} : { retryAttempts: props.retryAttempts }),
    environment: {
      [TABLE_NAME_ENV]: props.table.tableName,
      NODE_OPTIONS: '--enable-source-maps',
      // Powertools' service, metrics namespace, log level and tracer settings (functions/platform/metrics.ts).
      ...POWERTOOLS_ENVIRONMENT,
      ...props.environment,
    },
    bundling: {
      minify: true,
      sourceMap: true,
      sourcesContent: false,
      target: 'node22',
      format: OutputFormat.CJS,
      // Prefer packages' ES module builds: they tree-shake (zod alone shrinks by a third).
      mainFields: ['module', 'main'],
      // Bundle the AWS SDK too: production runs exactly the SDK version the tests ran against.
      externalModules: [],
      // A context's SQL files (functions/reports/sql) are read at run time, next to the bundle.
      ...(commandHooks ? { commandHooks } : {}),
    },
  });

  if (props.access === 'read') props.table.grantReadData(fn);
  if (props.access === 'write') props.table.grantReadWriteData(fn);

  acknowledgeFunctionFindings(fn, props.access, props.table);
  return fn;
};

/**
 * cdk-nag findings accepted for every function, each for the reason given,
 * acknowledged on this function only and, for IAM, finding by finding (the
 * exact managed policy, action or resource).
 */
const acknowledgeFunctionFindings = (fn: NodejsFunction, access: TableAccess, table: TableV2): void => {
  Validations.of(fn).acknowledge({
    id: 'AwsSolutions-L1',
    reason:
      'Node.js 22 is pinned on purpose: the local runtime, the tests and the benchmark run on Node 22 (the `node` devDependency), so Lambda runs the same major version; moving to a newer runtime is a deliberate, tested upgrade.',
  });
  if (!fn.role) return;
  const role = Validations.of(fn.role);
  role.acknowledge(
    {
      id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
      reason:
        "AWSLambdaBasicExecutionRole only allows creating and writing CloudWatch log streams (logs:CreateLogGroup/CreateLogStream/PutLogEvents); it is the AWS-maintained minimum every Lambda needs to log.",
    },
    {
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason:
        'Active X-Ray tracing: xray:PutTraceSegments and xray:PutTelemetryRecords support no resource-level permissions, so AWS requires Resource "*" for them (and only them).',
    },
  );
  if (access === 'read' || access === 'write') {
    const tableArn = tableArnAsNagNamesIt(fn, table);
    role.acknowledge({
      id: `AwsSolutions-IAM5[Resource::${tableArn}/index/*]`,
      reason:
        'The grant covers the secondary indexes of this one table (`<table arn>/index/*`): gsi1 serves the per-parent and per-warehouse listings, and index ARNs exist only under the table ARN.',
    });
  }
  if (access === 'write' || access === 'custom') acknowledgeKeyWrite(fn);
};

/**
 * The table's ARN as cdk-nag prints it in the function's policy: a GetAtt of the table in its own
 * stack; in a nested stack (lib/channels.ts) the parameter CDK passes the ARN in by, which it names
 * `referenceto<the table resource's unique id>Arn`.
 */
export const tableArnAsNagNamesIt = (scope: Construct, table: TableV2): string => {
  const element = cfnElementOf(table);
  return Stack.of(scope) === Stack.of(table) ? `<${Stack.of(table).getLogicalId(element)}.Arn>` : `<referenceto${Names.nodeUniqueId(element.node)}Arn>`;
};

/** The CloudFormation resource behind an L2 construct (cdk-nag names resources by its logical id). */
const cfnElementOf = (construct: Construct): CfnElement => {
  const element = construct.node.defaultChild;
  if (!CfnElement.isCfnElement(element)) throw new Error(`${construct.node.path} has no CloudFormation resource of its own`);
  return element;
};

/** The KMS wildcards any writer of the CMK-encrypted table needs (a 'custom' function grants them itself). */
const acknowledgeKeyWrite = (fn: NodejsFunction): void => {
  if (!fn.role) return;
  Validations.of(fn.role).acknowledge(
    {
      id: 'AwsSolutions-IAM5[Action::kms:GenerateDataKey*]',
      reason:
        'Writing to a table encrypted with a customer-managed key needs kms:GenerateDataKey (and its WithoutPlaintext variant); the wildcard spans only those variants, on that one key.',
    },
    {
      id: 'AwsSolutions-IAM5[Action::kms:ReEncrypt*]',
      reason:
        'DynamoDB re-encrypts data keys when the table key rotates; kms:ReEncrypt* spans only ReEncryptFrom/ReEncryptTo, on that one key.',
    },
  );
};
