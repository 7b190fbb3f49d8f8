import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { stockLevelChangedDetail } from '../../events/model';
import { consumeSqs } from '../../events/sqs-consumer';
import { systemContext } from '../../platform/context';
import { dbFromEnv } from '../../platform/db';
import { queueSenderFromEnv } from '../../platform/queues';
import { PUSH_QUEUES, routeStockChange } from '../push';

/** Consumer of StockLevelChanged (functions/wiring.ts channelConsumers.routeStockChanges): each change to the push queue of every connection selling it. */
export const handler = (event: SQSEvent): Promise<SQSBatchResponse> =>
  consumeSqs(event, stockLevelChangedDetail, ({ detail }) =>
    routeStockChange({ db: dbFromEnv(), ctx: systemContext({ tenantId: detail.tenant_id, actor: 'system:channel-router', requestId: detail.event_id }) }, detail, {
      shopify: queueSenderFromEnv(PUSH_QUEUES.shopify),
      amazon: queueSenderFromEnv(PUSH_QUEUES.amazon),
    }),
  );
