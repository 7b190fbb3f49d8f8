import { LocalBus } from '../../bin/local/bus';
import { startLakeFeed, type LakeFeedOptions, type LocalLakeFeed } from '../../bin/local/lake-feed';
import { startLocalConsumers, type LocalConsumers } from '../../bin/local/queues';
import { createStreamPoller, type StreamPoller } from '../../bin/local/streams';
import { processStream } from '../../functions/events/processor';
import { createDocumentClient, type Db } from '../../functions/platform/db';
import { isTenantRecord } from './events';

/**
 * The local event pipeline as `npm start` runs it (stream poller -> processor ->
 * bus -> queued consumers), against the jest DynamoDB Local. Consumers see only
 * `tenantId`'s events (or those of each tenant listed): every test file writes to the same stream.
 * With `lake`, the lake feed runs too (bin/local/lake-feed.ts), narrowed to the same tenants.
 */
export interface LocalPipeline {
  bus: LocalBus;
  poller: StreamPoller;
  consumers: LocalConsumers;
  /** Present when started with `lake`. */
  lakeFeed?: LocalLakeFeed;
  /** Waits until the stream and the queues are idle, `rounds` times (a consumer's writes feed the stream again). */
  settle: (rounds?: number) => Promise<void>;
  stop: () => Promise<void>;
}

export const startLocalPipeline = async (tenant: string | readonly string[], options: { lake?: LakeFeedOptions; syncVisibilityTimeoutSeconds?: number } = {}): Promise<LocalPipeline> => {
  const tenantIds: readonly string[] = typeof tenant === 'string' ? [tenant] : tenant;
  const streamDb: Db = { client: createDocumentClient(), table: process.env.TABLE_NAME! };
  const bus = new LocalBus();
  const narrow = { detail: { tenant_id: [...tenantIds] } };
  // Subscribed before the stream is read, as npm start does.
  const lakeFeed = options.lake ? await startLakeFeed(bus, { ...options.lake, narrow }) : undefined;
  const poller = createStreamPoller({
    endpoint: process.env.DYNAMODB_ENDPOINT!,
    tableName: process.env.TABLE_NAME!,
    startingPosition: 'LATEST',
    retryBaseMs: 50,
    // Only these tenants' records: a processor marks what it publishes, so processing another test
    // file's records here would keep them from that file's own bus.
    process: (event) => {
      const own = event.Records.filter((r) => tenantIds.some((t) => isTenantRecord(r, t)));
      return own.length ? processStream({ db: streamDb, publisher: bus.publisher() }, { Records: own }) : Promise.resolve({ batchItemFailures: [] });
    },
  });
  await poller.start();
  const consumers = await startLocalConsumers(bus, {
    narrow,
    ...(options.syncVisibilityTimeoutSeconds === undefined ? {} : { syncVisibilityTimeoutSeconds: options.syncVisibilityTimeoutSeconds }),
  });
  return {
    bus,
    poller,
    consumers,
    ...(lakeFeed ? { lakeFeed } : {}),
    settle: async (rounds = 1) => {
      for (let round = 0; round < rounds; round++) {
        await poller.drain(60_000);
        await consumers.drain(60_000);
      }
    },
    stop: async () => {
      await consumers.stop();
      await poller.stop();
      await lakeFeed?.close();
      streamDb.client.destroy();
    },
  };
};
