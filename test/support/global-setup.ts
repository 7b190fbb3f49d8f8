import { ensureTable, startDynamoLocal } from '../../bin/local/dynamodb';
import { javaProblem } from '../../bin/local/java';
import { ensureWebBuild } from '../../bin/local/web';

/**
 * One DynamoDB Local (in memory) for the whole run. Test files isolate
 * themselves by tenant id, which is exactly how production isolates tenants.
 */
export default async function globalSetup(): Promise<void> {
  const problem = javaProblem();
  if (problem) throw new Error(problem);
  // The dashboard's build, once, before any worker: the stack deploys web/dist (lib/web.ts) and the browser tests serve it.
  ensureWebBuild({ quiet: true });
  const dynamo = await startDynamoLocal();
  await ensureTable(dynamo.endpoint, 'stockroom-test');
  process.env.DYNAMODB_ENDPOINT = dynamo.endpoint;
  process.env.TABLE_NAME = 'stockroom-test';
  (globalThis as { __dynamo?: { stop: () => void } }).__dynamo = dynamo;
}
