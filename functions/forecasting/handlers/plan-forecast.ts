import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { forecastRunRequestedDetail } from '../../events/model';
import { consumeSqs } from '../../events/sqs-consumer';
import { systemContext } from '../../platform/context';
import { dbFromEnv } from '../../platform/db';
import { lakeObjectsFromEnv } from '../../platform/lake-objects';
import { planRun } from '../run';

/** Consumer of ForecastRunRequested (functions/wiring.ts eventConsumers.planForecast): reads the history once and fans the run out in chunks. */
export const handler = (event: SQSEvent): Promise<SQSBatchResponse> =>
  consumeSqs(event, forecastRunRequestedDetail, ({ detail }) =>
    planRun(
      { db: dbFromEnv(), objects: lakeObjectsFromEnv(), ctx: systemContext({ tenantId: detail.tenant_id, actor: 'system:forecaster', requestId: detail.event_id }) },
      detail.run_id,
    ),
  );
