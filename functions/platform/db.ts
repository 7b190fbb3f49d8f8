import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { tableName } from './table';

/** What domain functions need to reach storage; passed in, never imported, so tests choose it. */
export interface Db {
  client: DynamoDBDocumentClient;
  table: string;
}

export const DYNAMODB_ENDPOINT_ENV = 'DYNAMODB_ENDPOINT';

export const createDocumentClient = (endpoint = process.env[DYNAMODB_ENDPOINT_ENV]): DynamoDBDocumentClient => {
  const client = new DynamoDBClient(
    endpoint
      ? {
          endpoint,
          region: process.env.AWS_REGION ?? 'local',
          // DynamoDB Local accepts any credentials; these keep the SDK from searching for real ones.
          credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
          maxAttempts: 3,
        }
      : { maxAttempts: 3 },
  );
  return DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
};

let cached: Db | undefined;

/** The handler-wide Db, built once per Lambda container (or local process) from the environment. */
export const dbFromEnv = (): Db => {
  cached ??= { client: createDocumentClient(), table: tableName() };
  return cached;
};
