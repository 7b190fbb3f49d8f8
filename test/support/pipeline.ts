import { LocalBus } from '../../bin/local/bus';
import { startLocalConsumers, type LocalConsumers } from '../../bin/local/queues';
import { createStreamPoller, type StreamPoller } from '../../bin/local/streams';
import { processStream } from '../../functions/events/processor';
import { createDocumentClient, type Db } from '../../functions/platform/db';
import { isTenantRecord } from './events';

/**
 * The local event pipeline as `npm start` runs it (stream poller -> processor ->
 * bus -> queued consumers), against the jest DynamoDB Local. Consumers see only
 * `tenantId`'s events: every test file writes to the same stream.
 */
export interface LocalPipeline {
  poller: StreamPoller;
  consumers: LocalConsumers;
  /** Waits until the stream and the queues are idle, `rounds` times (a consumer's writes feed the stream again). */
  settle: (rounds?: number) => Promise<void>;
  stop: () => Promise<void>;
}

export const startLocalPipeline = async (tenantId: string): Promise<LocalPipeline> => {
  const streamDb: Db = { client: createDocumentClient(), table: process.env.TABLE_NAME! };
  const bus = new LocalBus();
  const poller = createStreamPoller({
    endpoint: process.env.DYNAMODB_ENDPOINT!,
    tableName: process.env.TABLE_NAME!,
    startingPosition: 'LATEST',
    retryBaseMs: 50,
    // Only this tenant's records: a processor marks what it publishes, so processing another test
    // file's records here would keep them from that file's own bus.
    process: (event) => {
      const own = event.Records.filter((r) => isTenantRecord(r, tenantId));
      return own.length ? processStream({ db: streamDb, publisher: bus.publisher() }, { Records: own }) : Promise.resolve({ batchItemFailures: [] });
    },
  });
  await poller.start();
  const consumers = await startLocalConsumers(bus, { narrow: { detail: { tenant_id: [tenantId] } } });
  return {
    poller,
    consumers,
    settle: async (rounds = 1) => {
      for (let round = 0; round < rounds; round++) {
        await poller.drain(60_000);
        await consumers.drain(60_000);
      }
    },
    stop: async () => {
      await consumers.stop();
      await poller.stop();
      streamDb.client.destroy();
    },
  };
};
