import { DescribeTableCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { errorMessage } from '../platform/errors';
import { log } from '../platform/log';

/** The deployed version (lib/ sets it from package.json; the local runtime too). */
export const VERSION_ENV = 'STOCKROOM_VERSION';

/** How long the table may take to answer before the API is called unhealthy: a monitor's probe must not hang. */
export const HEALTH_TIMEOUT_MS = 2_000;

export type Health = { healthy: true; version: string; uptime_seconds: number } | { healthy: false };

/**
 * Is the table there and serving (DescribeTable: ACTIVE or UPDATING)? The answer says only that, the
 * version and how long this process has run: a probe anyone may send learns nothing else.
 */
export const checkHealth = async (client: Pick<DynamoDBClient, 'send'>, table: string, uptimeSeconds: number = process.uptime()): Promise<Health> => {
  const abort = new AbortController();
  const timer = setTimeout(() => abort.abort(), HEALTH_TIMEOUT_MS);
  try {
    const { Table } = await client.send(new DescribeTableCommand({ TableName: table }), { abortSignal: abort.signal });
    if (Table?.TableStatus !== 'ACTIVE' && Table?.TableStatus !== 'UPDATING') {
      log.warn('health: the table is not serving', { table_status: Table?.TableStatus });
      return { healthy: false };
    }
    return { healthy: true, version: process.env[VERSION_ENV] ?? 'unknown', uptime_seconds: Math.floor(uptimeSeconds) };
  } catch (error) {
    log.warn('health: the table did not answer', { error: errorMessage(error) });
    return { healthy: false };
  } finally {
    clearTimeout(timer);
  }
};
