import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { forecastChunkReadyDetail } from '../../events/model';
import { consumeSqs } from '../../events/sqs-consumer';
import { systemContext } from '../../platform/context';
import { dbFromEnv } from '../../platform/db';
import { lakeObjectsFromEnv } from '../../platform/lake-objects';
import { runChunk } from '../run';

/** Consumer of ForecastChunkReady (functions/wiring.ts eventConsumers.forecastChunk): forecasts one chunk of a run's series. */
export const handler = (event: SQSEvent): Promise<SQSBatchResponse> =>
  consumeSqs(event, forecastChunkReadyDetail, ({ detail }) =>
    runChunk(
      { db: dbFromEnv(), objects: lakeObjectsFromEnv(), ctx: systemContext({ tenantId: detail.tenant_id, actor: 'system:forecaster', requestId: detail.event_id }) },
      detail,
    ),
  );
