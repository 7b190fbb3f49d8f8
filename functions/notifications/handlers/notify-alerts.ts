import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { dbFromEnv } from '../../platform/db';
import { notifyBatch } from '../notify';
import { sendersFromEnv } from '../senders';

/** Consumer of AlertOpened/AlertUpdated (functions/wiring.ts eventConsumers.notifyAlerts), through its SQS queue: one system context per message. */
export const handler = (event: SQSEvent): Promise<SQSBatchResponse> => notifyBatch({ db: dbFromEnv(), senders: sendersFromEnv(dbFromEnv()) }, event);
