import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { channelReconciliationRequestedDetail } from '../../events/model';
import { consumeSqs } from '../../events/sqs-consumer';
import { systemContext } from '../../platform/context';
import { dbFromEnv } from '../../platform/db';
import { reconcileChunk, RECONCILER } from '../reconcile';

/** Consumer of ChannelReconciliationRequested (functions/wiring.ts channelConsumers.reconcileChannel): one chunk of a run per message. */
export const handler = (event: SQSEvent): Promise<SQSBatchResponse> =>
  consumeSqs(event, channelReconciliationRequestedDetail, ({ detail }) =>
    reconcileChunk({ db: dbFromEnv(), ctx: systemContext({ tenantId: detail.tenant_id, actor: RECONCILER, requestId: detail.event_id }) }, detail),
  );
