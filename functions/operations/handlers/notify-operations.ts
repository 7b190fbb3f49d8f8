import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { notifierFromEnv, notifyOperationsBatch } from '../notify-operations';

/** Consumer of CloudWatch Alarm State Change (functions/wiring.ts eventConsumers.notifyOperations), through its SQS queue. */
export const handler = (event: SQSEvent): Promise<SQSBatchResponse> => notifyOperationsBatch(notifierFromEnv(), event);
