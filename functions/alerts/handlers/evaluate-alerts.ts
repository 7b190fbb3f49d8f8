import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import type { StockLevelChangedDetail } from '../../events/model';
import { dbFromEnv } from '../../platform/db';
import { evaluateLevelChange } from '../alerts';
import { consumeSqs } from '../../events/sqs-consumer';

/** Consumer of StockLevelChanged (functions/wiring.ts eventConsumers.evaluateAlerts), through its SQS queue. */
export const handler = (event: SQSEvent): Promise<SQSBatchResponse> =>
  consumeSqs<StockLevelChangedDetail>(event, (e) => evaluateLevelChange({ db: dbFromEnv() }, e.detail));
