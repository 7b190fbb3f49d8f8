import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { tableName } from './table';
import { installTenantGuard } from './tenant-guard';

/** What domain functions need to reach storage; passed in, never imported, so tests choose it. */
export interface Db {
  client: DynamoDBDocumentClient;
  table: string;
}

export const DYNAMODB_ENDPOINT_ENV = 'DYNAMODB_ENDPOINT';

/** How long one DynamoDB call may take before the SDK gives up on it (and, within maxAttempts, retries it). */
export interface DbTimeouts {
  /** Opening the TCP (and TLS) connection. */
  connectionMs: number;
  /** The whole request and response, once connected. */
  requestMs: number;
}

/**
 * In AWS a DynamoDB call answers in milliseconds; one that has not connected in a second or
 * answered in three is stuck, and a fresh attempt on another connection is the better bet. Three
 * attempts of that fit well inside the 29 s Lambda timeout, so a caller gets a 503 UNAVAILABLE,
 * not a Lambda timeout. Without these the SDK waits forever on a black-holed connection.
 */
export const AWS_TIMEOUTS: DbTimeouts = { connectionMs: 1_000, requestMs: 3_000 };

/**
 * DynamoDB Local is one JVM on a laptop or CI runner shared with the tests; under the benchmark's
 * load its transactions queue for seconds, and timing them out early would only add retries. And
 * locally one process serves every request, so hundreds of calls can wait for one of the SDK
 * agent's sockets, a wait the connection timeout counts (200 concurrent sales on a loaded machine
 * answered 503 with 2 s); a Lambda sends one request's calls at a time.
 */
export const LOCAL_TIMEOUTS: DbTimeouts = { connectionMs: 15_000, requestMs: 20_000 };

/** The SDK's own attempts per call (standard mode: throttling and transient errors, with backoff). */
export const SDK_MAX_ATTEMPTS = 3;

export const createDocumentClient = (
  endpoint = process.env[DYNAMODB_ENDPOINT_ENV],
  timeouts: DbTimeouts = endpoint ? LOCAL_TIMEOUTS : AWS_TIMEOUTS,
): DynamoDBDocumentClient => {
  const requestHandler = {
    connectionTimeout: timeouts.connectionMs,
    requestTimeout: timeouts.requestMs,
    // Without this the SDK only logs a breached request timeout and keeps waiting.
    throwOnRequestTimeout: true,
  };
  const client = new DynamoDBClient(
    endpoint
      ? {
          endpoint,
          region: process.env.AWS_REGION ?? 'local',
          // DynamoDB Local accepts any credentials; these keep the SDK from searching for real ones.
          credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
          maxAttempts: SDK_MAX_ATTEMPTS,
          requestHandler,
        }
      : { maxAttempts: SDK_MAX_ATTEMPTS, requestHandler },
  );
  // Every client gets the tenant guard: it checks nothing outside a tenant scope (tenant-guard.ts).
  installTenantGuard(client);
  return DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
};

let cached: Db | undefined;

/** The handler-wide Db, built once per Lambda container (or local process) from the environment. */
export const dbFromEnv = (): Db => {
  cached ??= { client: createDocumentClient(), table: tableName() };
  return cached;
};
