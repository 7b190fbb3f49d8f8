import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { stockLevelChangedDetail } from '../../events/model';
import { consumeSqs } from '../../events/sqs-consumer';
import { systemContext } from '../../platform/context';
import { dbFromEnv } from '../../platform/db';
import { evaluateLevelChange } from '../alerts';

/** Consumer of StockLevelChanged (functions/wiring.ts eventConsumers.evaluateAlerts), through its SQS queue: one system context per message. */
export const handler = (event: SQSEvent): Promise<SQSBatchResponse> =>
  consumeSqs(event, stockLevelChangedDetail, ({ detail }) =>
    evaluateLevelChange(
      { db: dbFromEnv(), ctx: systemContext({ tenantId: detail.tenant_id, actor: 'system:alert-evaluator', requestId: detail.event_id }) },
      detail,
    ),
  );
