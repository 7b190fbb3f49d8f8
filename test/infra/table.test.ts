import { Match } from 'aws-cdk-lib/assertions';
import { TABLE } from '../../functions/platform/table';
import { logicalId, resourcesOfType, synthesized } from './synth';

/**
 * The one table in AWS. Its keys, index and TTL come from the same
 * declaration (functions/platform/table.ts) that bin/local/dynamodb.ts uses
 * for DynamoDB Local, so these tests pin the template to that declaration.
 */
describe('DynamoDB table', () => {
  const { template, json, stack } = synthesized();
  // The audit trail's table (lib/audit.ts) is apart, held to test/infra/audit.test.ts.
  const tables = resourcesOfType(json, 'AWS::DynamoDB::GlobalTable').filter(([id]) => id !== logicalId(stack.audit.table));
  const properties = tables[0]?.[1].Properties ?? {};
  const keyId = logicalId(stack.data.key);

  test('there is exactly one domain table (the audit trail\'s aside), and it survives stack deletion and replacement', () => {
    expect(tables).toHaveLength(1);
    template.hasResource('AWS::DynamoDB::GlobalTable', { DeletionPolicy: 'Retain', UpdateReplacePolicy: 'Retain' });
  });

  test('bills on demand (PAY_PER_REQUEST), with no provisioned capacity to run out of', () => {
    expect(properties.BillingMode).toBe('PAY_PER_REQUEST');
    expect(properties.WriteProvisionedThroughputSettings).toBeUndefined();
  });

  test('has point-in-time recovery and deletion protection on its replica', () => {
    template.hasResourceProperties('AWS::DynamoDB::GlobalTable', {
      Replicas: [
        Match.objectLike({
          PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
          DeletionProtectionEnabled: true,
        }),
      ],
    });
  });

  test('is encrypted with the stack\'s customer-managed KMS key, which rotates', () => {
    template.hasResourceProperties('AWS::DynamoDB::GlobalTable', {
      SSESpecification: { SSEEnabled: true, SSEType: 'KMS' },
      Replicas: [Match.objectLike({ SSESpecification: { KMSMasterKeyId: { 'Fn::GetAtt': [keyId, 'Arn'] } } })],
    });
    template.hasResourceProperties('AWS::KMS::Key', { EnableKeyRotation: true });
    template.hasResource('AWS::KMS::Key', { DeletionPolicy: 'Retain' });
  });

  test('streams NEW_AND_OLD_IMAGES, so stream consumers see both sides of every change', () => {
    expect(properties.StreamSpecification).toEqual({ StreamViewType: 'NEW_AND_OLD_IMAGES' });
  });

  test('expires items on TABLE.ttlAttribute, the attribute the code writes', () => {
    expect(properties.TimeToLiveSpecification).toEqual({ AttributeName: TABLE.ttlAttribute, Enabled: true });
  });

  test('key schema, attribute types and gsi1 equal the shared TABLE declaration (no drift from DynamoDB Local)', () => {
    const { partitionKey, sortKey, gsi1 } = TABLE;
    expect(properties.KeySchema).toEqual([
      { AttributeName: partitionKey, KeyType: 'HASH' },
      { AttributeName: sortKey, KeyType: 'RANGE' },
    ]);
    expect(properties.GlobalSecondaryIndexes).toEqual([
      {
        IndexName: gsi1.name,
        KeySchema: [
          { AttributeName: gsi1.partitionKey, KeyType: 'HASH' },
          { AttributeName: gsi1.sortKey, KeyType: 'RANGE' },
        ],
        Projection: { ProjectionType: 'ALL' },
      },
    ]);
    // The same attribute definitions bin/local/dynamodb.ts gives DynamoDB Local: every key attribute a string.
    expect(properties.AttributeDefinitions).toEqual(
      expect.arrayContaining([partitionKey, sortKey, gsi1.partitionKey, gsi1.sortKey].map((name) => ({ AttributeName: name, AttributeType: 'S' }))),
    );
    expect(properties.AttributeDefinitions).toHaveLength(4);
  });
});
