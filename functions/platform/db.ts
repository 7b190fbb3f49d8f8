import { traced } from './tracing';
import { DynamoDBClient, type DynamoDBClientConfig } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { fromTemporaryCredentials } from '@aws-sdk/credential-providers';
import { tableName } from './table';
import { currentTenant, installTenantGuard } from './tenant-guard';

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

/** What a client may be given to sign with instead of the environment's credentials. */
type Credentials = NonNullable<DynamoDBClientConfig['credentials']>;

export const createDocumentClient = (
  endpoint = process.env[DYNAMODB_ENDPOINT_ENV],
  timeouts: DbTimeouts = endpoint ? LOCAL_TIMEOUTS : AWS_TIMEOUTS,
  /** In AWS, credentials other than the function's own (a tenant's session, see tenantDb); locally DynamoDB Local takes any. */
  credentials?: Credentials,
): DynamoDBDocumentClient => {
  const requestHandler = {
    connectionTimeout: timeouts.connectionMs,
    requestTimeout: timeouts.requestMs,
    // Without this the SDK only logs a breached request timeout and keeps waiting.
    throwOnRequestTimeout: true,
  };
  const client = traced(new DynamoDBClient(
    endpoint
      ? {
          endpoint,
          region: process.env.AWS_REGION ?? 'local',
          // DynamoDB Local accepts any credentials; these keep the SDK from searching for real ones.
          credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
          maxAttempts: SDK_MAX_ATTEMPTS,
          requestHandler,
        }
      : { maxAttempts: SDK_MAX_ATTEMPTS, requestHandler, ...(credentials ? { credentials } : {}) },
  ));
  // Every client gets the tenant guard: it checks nothing outside a tenant scope (tenant-guard.ts).
  installTenantGuard(client);
  return DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
};

let cached: Db | undefined;

/**
 * The role an HTTP function reaches the table through in AWS (lib/tenant-access.ts): assumed per
 * tenant with the session tag TENANT_SESSION_TAG, its policy allows only that tenant's keys
 * (`dynamodb:LeadingKeys`). Unset locally and for the system's functions, which use their own role.
 */
export const TENANT_TABLE_ROLE_ENV = 'TENANT_TABLE_ROLE_ARN';
/** The session tag the tenant role's policy reads the tenant from (`aws:PrincipalTag/tenant_id`). */
export const TENANT_SESSION_TAG = 'tenant_id';
/**
 * Tenants' clients kept per container, least recently used dropped first. A container serves one
 * request at a time and few tenants in its life; the bound keeps a busy one's memory and open
 * connections flat.
 */
export const TENANT_CLIENTS_MAX = 32;

const tenantClients = new Map<string, Db>();

/** The credentials of the tenant's session of the tenant role: STS AssumeRole with the tenant's session tag, refreshed by the SDK before they expire. */
export const tenantCredentials = (roleArn: string, tenantId: string): Credentials =>
  fromTemporaryCredentials({
    params: {
      RoleArn: roleArn,
      // Names the tenant in CloudTrail; tenant ids are ids (ids.ts), within STS's [\w+=,.@-]{2,64}.
      RoleSessionName: `tenant-${tenantId}`.slice(0, 64),
      Tags: [{ Key: TENANT_SESSION_TAG, Value: tenantId }],
    },
  });

/**
 * The Db of one tenant's session (cached per container): what a request's work reaches the table
 * with in AWS, so a key outside the tenant is refused by IAM itself, whatever the code built.
 */
export const tenantDb = (roleArn: string, tenantId: string): Db => {
  const found = tenantClients.get(tenantId);
  if (found) {
    // Most recently used last: Map keeps insertion order.
    tenantClients.delete(tenantId);
    tenantClients.set(tenantId, found);
    return found;
  }
  const db: Db = { client: createDocumentClient(undefined, AWS_TIMEOUTS, tenantCredentials(roleArn, tenantId)), table: tableName() };
  tenantClients.set(tenantId, db);
  if (tenantClients.size > TENANT_CLIENTS_MAX) {
    const [oldest] = tenantClients.keys();
    if (oldest !== undefined) {
      tenantClients.get(oldest)?.client.destroy();
      tenantClients.delete(oldest);
    }
  }
  return db;
};

/** How many tenants' clients this container holds (for the tests of the bound). */
export const tenantClientCount = (): number => tenantClients.size;

/**
 * The handler-wide Db, built once per Lambda container (or local process) from the environment.
 * Inside a request's tenant scope in AWS (TENANT_TABLE_ROLE_ARN set), the tenant's session instead.
 */
export const dbFromEnv = (): Db => {
  const tenantId = currentTenant();
  const roleArn = process.env[TENANT_TABLE_ROLE_ENV];
  if (tenantId !== undefined && roleArn) return tenantDb(roleArn, tenantId);
  return ownDbFromEnv();
};

/**
 * The function's own Db, whatever the scope: for what its own role is granted and no tenant session is, the audit
 * trail's reader (lib/audit.ts grantRead) and the audit step's record. The local guard still checks its keys in a scope.
 */
export const ownDbFromEnv = (): Db => {
  cached ??= { client: createDocumentClient(), table: tableName() };
  return cached;
};
