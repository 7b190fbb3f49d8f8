import { Validations } from 'aws-cdk-lib';
import type { TableV2 } from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import type { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import { Construct } from 'constructs';
import { TENANT_SESSION_TAG, TENANT_TABLE_ROLE_ENV } from '../functions/platform/db';
import { SYSTEM_PARTITIONS_OF_REQUESTS, TENANT_LEADING_KEYS } from '../functions/platform/keys';
import { tableArnAsNagNamesIt } from './functions';

/** The table access a tenant's session may have: a route's `table` field (functions/wiring.ts) that reaches the table. */
export type TenantAccess = 'read' | 'write';

/**
 * What a tenant's session may do to the table, by the route's access. No Scan (it reads every
 * tenant), no PartiQL (its keys are not what LeadingKeys sees), no stream or table management:
 * exactly what the tenant guard (functions/platform/tenant-guard.ts) lets a request send.
 * TransactGetItems and TransactWriteItems need no action of their own: IAM checks each item's.
 */
export const TENANT_TABLE_ACTIONS: Record<TenantAccess, readonly string[]> = {
  read: ['dynamodb:GetItem', 'dynamodb:BatchGetItem', 'dynamodb:Query', 'dynamodb:ConditionCheckItem'],
  write: [
    'dynamodb:GetItem',
    'dynamodb:BatchGetItem',
    'dynamodb:Query',
    'dynamodb:ConditionCheckItem',
    'dynamodb:PutItem',
    'dynamodb:UpdateItem',
    'dynamodb:DeleteItem',
    'dynamodb:BatchWriteItem',
  ],
};

/** The table key's actions a session needs to read (decrypt) or also write (encrypt new data keys) the CMK-encrypted table. */
const TABLE_KEY_ACTIONS: Record<TenantAccess, readonly string[]> = {
  read: ['kms:Decrypt', 'kms:DescribeKey'],
  write: ['kms:Decrypt', 'kms:DescribeKey', 'kms:Encrypt', 'kms:GenerateDataKey*', 'kms:ReEncrypt*'],
};

export interface TenantTableAccessProps {
  table: TableV2;
  /** The execution roles of the HTTP functions of this stack, by the table access of their routes. */
  trusted: Record<TenantAccess, readonly iam.IRole[]>;
}

/**
 * Token vending (issue 12, item 5): the roles the HTTP functions reach the table through, one per
 * access level, in one stack. A function assumes its level's role per tenant, tagging the session
 * with `tenant_id` (functions/platform/db.ts tenantDb); the role's policy allows the table and its
 * index only where every key the call names starts with `T#<that tag>#`
 * (`ForAllValues:StringLike dynamodb:LeadingKeys`, keys.ts TENANT_LEADING_KEYS), so a bug in key
 * building cannot reach another tenant's items in AWS, whatever the code sends. The write role also
 * reaches the system partitions a request legitimately touches (keys.ts SYSTEM_PARTITIONS_OF_REQUESTS:
 * the shop registrations), with their actions only. Only the roles named in `trusted` may assume
 * them, and only with a tenant tag: the system's functions (stream processor, schedules, consumers)
 * keep their own roles and are trusted by neither.
 */
export class TenantTableAccess extends Construct {
  readonly roles: Partial<Record<TenantAccess, iam.Role>> = {};

  constructor(scope: Construct, id: string, props: TenantTableAccessProps) {
    super(scope, id);
    for (const access of ['read', 'write'] as const) {
      const trusted = props.trusted[access];
      if (trusted.length === 0) continue;
      this.roles[access] = this.tenantRole(access, trusted, props.table);
    }
  }

  private tenantRole(access: TenantAccess, trusted: readonly iam.IRole[], table: TableV2): iam.Role {
    const tableResources = [table.tableArn, `${table.tableArn}/index/*`];
    const statements = [
      new iam.PolicyStatement({
        sid: 'TenantItemsOnly',
        actions: [...TENANT_TABLE_ACTIONS[access]],
        resources: tableResources,
        conditions: {
          // Every key the call names is the session's tenant's; and a call must name one (ForAllValues alone passes an empty set).
          'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': [TENANT_LEADING_KEYS] },
          Null: { 'dynamodb:LeadingKeys': 'false' },
        },
      }),
      ...(access === 'write'
        ? SYSTEM_PARTITIONS_OF_REQUESTS.map(
            (system) =>
              new iam.PolicyStatement({
                sid: `SystemPartition${system.name.replace(/(^|\s)(\w)/g, (_m, _s: string, c: string) => c.toUpperCase())}`,
                actions: [...system.actions],
                resources: [table.tableArn],
                conditions: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': [system.leadingKeys] }, Null: { 'dynamodb:LeadingKeys': 'false' } },
              }),
          )
        : []),
      ...(table.encryptionKey ? [new iam.PolicyStatement({ sid: 'TableKey', actions: [...TABLE_KEY_ACTIONS[access]], resources: [table.encryptionKey.keyArn] })] : []),
    ];
    const principal = new iam.PrincipalWithConditions(new iam.CompositePrincipal(...trusted.map((role) => new iam.ArnPrincipal(role.roleArn))), {
      // A session of this role is always a tenant's: the tag is required, and it is the only tag.
      StringLike: { [`aws:RequestTag/${TENANT_SESSION_TAG}`]: '?*' },
      'ForAllValues:StringEquals': { 'aws:TagKeys': [TENANT_SESSION_TAG] },
    }).withSessionTags();
    const role = new iam.Role(this, access === 'read' ? 'Read' : 'Write', {
      assumedBy: principal,
      description: `A tenant's session of the HTTP functions (table: ${access}): only keys under T#<the session's tenant_id tag>#`,
      // Inline: one resource per role, not two (the stacks stay under CloudFormation's 500).
      inlinePolicies: { TenantTable: new iam.PolicyDocument({ statements }) },
    });
    acknowledgeTenantRoleFindings(role, access, table);
    return role;
  }

  /** Lets a function assume its level's role, and tells it which (TENANT_TABLE_ROLE_ARN). */
  useFrom(fn: NodejsFunction, access: TenantAccess): void {
    const role = this.roles[access];
    if (!role) throw new Error(`${fn.node.path}: no tenant role for table access '${access}' (its role is not among the trusted)`);
    fn.addEnvironment(TENANT_TABLE_ROLE_ENV, role.roleArn);
    // The identity side of the trust (the trust policy names the function's role; this lets it ask).
    fn.addToRolePolicy(new iam.PolicyStatement({ sid: `AssumeTenantTable${access === 'read' ? 'Read' : 'Write'}`, actions: ['sts:AssumeRole', 'sts:TagSession'], resources: [role.roleArn] }));
  }
}

const acknowledgeTenantRoleFindings = (role: iam.Role, access: TenantAccess, table: TableV2): void => {
  const tableArn = tableArnAsNagNamesIt(role, table);
  const findings = [
    {
      id: `AwsSolutions-IAM5[Resource::${tableArn}/index/*]`,
      reason: "The secondary indexes of this one table (gsi1 serves the per-parent and per-warehouse listings), under the same LeadingKeys condition: a query of the index reads the session's tenant's partitions only.",
    },
  ];
  if (access === 'write') {
    findings.push(
      { id: 'AwsSolutions-IAM5[Action::kms:GenerateDataKey*]', reason: 'Writing to a table encrypted with a customer-managed key needs kms:GenerateDataKey (and its WithoutPlaintext variant); the wildcard spans only those variants, on that one key.' },
      { id: 'AwsSolutions-IAM5[Action::kms:ReEncrypt*]', reason: 'DynamoDB re-encrypts data keys when the table key rotates; kms:ReEncrypt* spans only ReEncryptFrom/ReEncryptTo, on that one key.' },
    );
  }
  Validations.of(role).acknowledge(...findings);
};
