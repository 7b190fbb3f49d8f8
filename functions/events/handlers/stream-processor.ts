import { traced } from '../../platform/tracing';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import type { DynamoDBBatchResponse, DynamoDBStreamEvent } from 'aws-lambda';
import { dbFromEnv } from '../../platform/db';
import { eventBridgePublisher, eventBusName } from '../eventbridge';
import { processStream, type StreamDeps } from '../processor';

/**
 * The table stream's Lambda (functions/wiring.ts `streamProcessor`): item
 * changes -> domain events on the EventBridge bus, with a partial batch
 * response (the event source mapping has ReportBatchItemFailures on).
 * Locally bin/local/streams.ts calls `processStream` with the in-process bus.
 */
let deps: StreamDeps | undefined;

export const handler = async (event: DynamoDBStreamEvent): Promise<DynamoDBBatchResponse> => {
  deps ??= { db: dbFromEnv(), publisher: eventBridgePublisher(traced(new EventBridgeClient({ maxAttempts: 3 })), eventBusName()) };
  const { batchItemFailures } = await processStream(deps, event);
  return { batchItemFailures };
};
