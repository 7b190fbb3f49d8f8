import { ensureTable, startDynamoLocal } from '../../bin/local/dynamodb';
import { javaProblem } from '../../bin/local/java';

/**
 * One DynamoDB Local (in memory) for the whole run. Test files isolate
 * themselves by tenant id, which is exactly how production isolates tenants.
 */
export default async function globalSetup(): Promise<void> {
  const problem = javaProblem();
  if (problem) throw new Error(problem);
  const dynamo = await startDynamoLocal();
  await ensureTable(dynamo.endpoint, 'stockroom-test');
  process.env.DYNAMODB_ENDPOINT = dynamo.endpoint;
  process.env.TABLE_NAME = 'stockroom-test';
  (globalThis as { __dynamo?: { stop: () => void } }).__dynamo = dynamo;
}
