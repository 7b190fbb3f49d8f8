import { Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { DynamoEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import type { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import { Construct } from 'constructs';
import { AUDIT_EXPORT_PREFIX, AUDIT_RETENTION_DAYS_ENV } from '../functions/audit/export';
import { TENANT_LEADING_KEYS } from '../functions/platform/keys';
import { LAKE_BUCKET_ENV } from '../functions/platform/lake-objects';
import { AUDIT_TABLE, AUDIT_TABLE_NAME_ENV } from '../functions/platform/table';
import type { TableV2 } from 'aws-cdk-lib/aws-dynamodb';
import { stockroomFunction } from './functions';
import { cfnBucketOf, lakeKeyThroughS3, type InventoryLake } from './lake';

/** How long each exported audit object is locked (GOVERNANCE mode): seven years. */
export const AUDIT_RETENTION_DAYS = 7 * 365;

/** The only DynamoDB action a route function may use on the audit table: records are added, never changed or removed. */
export const AUDIT_WRITE_ACTIONS = ['dynamodb:PutItem'];
/** What the trail's reader (GET /api/audit) may do on it. */
export const AUDIT_READ_ACTIONS = ['dynamodb:Query'];

export interface InventoryAuditProps {
  /** The single table: the exporter's Lambda wrapper wants one (it is granted nothing on it). */
  table: TableV2;
  lake: InventoryLake;
}

/**
 * The audit trail (issue 12): its own table (functions/platform/table.ts AUDIT_TABLE), which the
 * HTTP functions may only PutItem into and the audit reader only Query (grantWrite/grantRead below:
 * no function holds UpdateItem, DeleteItem or BatchWriteItem on it; test/infra/audit.test.ts proves
 * it), and the exporter: the table's stream -> Object Lock'ed JSON Lines under audit/ in the lake
 * bucket (functions/audit/export.ts), retention set per object so the lake's other objects are
 * unaffected.
 */
export class InventoryAudit extends Construct {
  readonly table: dynamodb.TableV2;
  readonly exporter: NodejsFunction;

  constructor(scope: Construct, id: string, props: InventoryAuditProps) {
    super(scope, id);
    const S = dynamodb.AttributeType.STRING;
    this.table = new dynamodb.TableV2(this, 'Table', {
      partitionKey: { name: AUDIT_TABLE.partitionKey, type: S },
      sortKey: { name: AUDIT_TABLE.sortKey, type: S },
      billing: dynamodb.Billing.onDemand(),
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      deletionProtection: true,
      // Only inserts happen: the new image is the record.
      dynamoStream: dynamodb.StreamViewType.NEW_IMAGE,
      removalPolicy: RemovalPolicy.RETAIN,
    });

    this.exporter = stockroomFunction(this, 'exportAudit', {
      entry: 'functions/audit/handlers/export-audit.ts',
      description: 'Copies the audit trail from its table\'s stream to the lake bucket under audit/, each object locked (S3 Object Lock, GOVERNANCE mode)',
      table: props.table,
      access: 'none',
      timeout: Duration.seconds(60),
      environment: { [LAKE_BUCKET_ENV]: props.lake.bucket.bucketName, [AUDIT_RETENTION_DAYS_ENV]: String(AUDIT_RETENTION_DAYS) },
    });
    this.exporter.addEventSource(
      new DynamoEventSource(this.table, { startingPosition: lambda.StartingPosition.TRIM_HORIZON, batchSize: 100, retryAttempts: 10, bisectBatchOnError: true }),
    );
    const stack = Stack.of(this);
    this.exporter.addToRolePolicy(
      new iam.PolicyStatement({ sid: 'ExportAuditLocked', actions: ['s3:PutObject', 's3:PutObjectRetention'], resources: [props.lake.bucket.arnForObjects(`${AUDIT_EXPORT_PREFIX}*`)] }),
    );
    this.exporter.addToRolePolicy(lakeKeyThroughS3(props.lake, stack, ['kms:GenerateDataKey']));
    Validations.of(this.exporter).acknowledge({
      id: `AwsSolutions-IAM5[Resource::<${stack.getLogicalId(cfnBucketOf(props.lake.bucket))}.Arn>/${AUDIT_EXPORT_PREFIX}*]`,
      reason: `The exporter writes one object per tenant, day and stream batch under ${AUDIT_EXPORT_PREFIX}tenant_id=<t>/dt=<day>/, named by its content: PutObject (with its retention) under that prefix only.`,
    });
  }

  /** PutItem on the trail and its name in the environment: what every token route's function gets. */
  grantWrite(fn: NodejsFunction): void {
    fn.addEnvironment(AUDIT_TABLE_NAME_ENV, this.table.tableName);
    // Routes share roles (lib/api.ts): one statement per role, or the copies added from the nested stack's functions overflow into a managed policy.
    const role = fn.role;
    if (!role || this.writers.has(role)) return;
    this.writers.add(role);
    role.addToPrincipalPolicy(new iam.PolicyStatement({ sid: 'AddAuditRecords', actions: AUDIT_WRITE_ACTIONS, resources: [this.table.tableArn] }));
  }

  private readonly writers = new Set<iam.IRole>();

  /**
   * PutItem on the trail for a tenant session (lib/tenant-access.ts), only under its own tenant's keys: a request whose
   * change is one transaction carries its record in it (functions/platform/audit-scope.ts), and that transaction is sent
   * with the tenant's credentials. Still no UpdateItem or DeleteItem.
   */
  grantTenantRecords(role: iam.IRole): void {
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'AddOwnTenantsAuditRecords',
        actions: AUDIT_WRITE_ACTIONS,
        resources: [this.table.tableArn],
        conditions: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': [TENANT_LEADING_KEYS] }, Null: { 'dynamodb:LeadingKeys': 'false' } },
      }),
    );
  }

  /** Query on the trail: the audit reader's. */
  grantRead(fn: NodejsFunction): void {
    fn.addToRolePolicy(new iam.PolicyStatement({ sid: 'ReadAuditRecords', actions: AUDIT_READ_ACTIONS, resources: [this.table.tableArn] }));
  }
}
