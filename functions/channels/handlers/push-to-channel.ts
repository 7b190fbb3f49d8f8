import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { dbFromEnv } from '../../platform/db';
import { pushBatch } from '../push';

/** A batch of a push queue (functions/wiring.ts channelSyncQueues: one per platform, the same worker). */
export const handler = (event: SQSEvent, context: Context): Promise<SQSBatchResponse> =>
  pushBatch({ db: dbFromEnv(), deadline: Date.now() + context.getRemainingTimeInMillis() }, event);
