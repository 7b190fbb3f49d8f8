import { marshall } from '@aws-sdk/util-dynamodb';
import type { DynamoDBRecord, SQSRecord } from 'aws-lambda';
import type { StockLevelChangedDetail } from '../../functions/events/model';

/** A table item as plain JavaScript (marshalled into stream images by `streamRecord`). */
export type Item = Record<string, unknown>;

let sequence = 100;

/**
 * A DynamoDB stream record as Lambda delivers it (NEW_AND_OLD_IMAGES), built
 * from plain items: keys from the new item (else the old one), a fresh
 * sequence number each call; `extra` overrides fields of `dynamodb`.
 */
export const streamRecord = (eventName: string, newItem?: Item, oldItem?: Item, extra: Partial<DynamoDBRecord['dynamodb']> = {}): DynamoDBRecord => {
  const key = (newItem ?? oldItem)!;
  sequence += 1;
  return {
    eventID: `id-${sequence}`,
    eventName: eventName as DynamoDBRecord['eventName'],
    eventSource: 'aws:dynamodb',
    eventSourceARN: 'arn:aws:dynamodb:local:000000000000:table/t/stream/x',
    dynamodb: {
      ApproximateCreationDateTime: 1_800_000_000,
      Keys: marshall({ pk: key.pk, sk: key.sk }) as never,
      ...(newItem ? { NewImage: marshall(newItem, { removeUndefinedValues: true }) as never } : {}),
      ...(oldItem ? { OldImage: marshall(oldItem, { removeUndefinedValues: true }) as never } : {}),
      SequenceNumber: String(sequence).padStart(21, '0'),
      StreamViewType: 'NEW_AND_OLD_IMAGES',
      ...extra,
    },
  };
};

/** Whether a stream record is of an item of the tenant (its partition key starts `T#<tenant>#`). */
export const isTenantRecord = (record: DynamoDBRecord, tenantId: string): boolean => record.dynamodb?.Keys?.pk?.S?.startsWith(`T#${tenantId}#`) ?? false;

/**
 * A StockLevelChanged detail as the stream processor publishes it: sku-1 x
 * wh-1 now holding `available` units (none reserved or incoming), a new
 * level (`before: null`), reorder point 10, safety stock 2, unless `over` says
 * otherwise. The event id names the SKU, warehouse and version.
 */
export const stockLevelChanged = (
  tenantId: string,
  version: number,
  available: number,
  over: Partial<StockLevelChangedDetail> = {},
): StockLevelChangedDetail => {
  const sku_id = over.sku_id ?? 'sku-1';
  const warehouse_id = over.warehouse_id ?? 'wh-1';
  return {
    event_id: `StockLevelChanged:T#${tenantId}#STOCK#${sku_id}:${warehouse_id}:v${version}`,
    schema_version: 1,
    tenant_id: tenantId,
    occurred_at: new Date().toISOString(),
    sku_id,
    warehouse_id,
    before: null,
    after: { on_hand: available, reserved: 0, available, incoming: 0 },
    version,
    reorder_point: 10,
    safety_stock: 2,
    ...over,
  };
};

/** An SQS record as Lambda's SQS event source delivers it: this body (a string as it is, anything else as JSON) under this id. */
export const sqsRecord = (messageId: string, body: unknown): SQSRecord => ({
  messageId,
  receiptHandle: 'r',
  body: typeof body === 'string' ? body : JSON.stringify(body),
  attributes: {} as never,
  messageAttributes: {},
  md5OfBody: '',
  eventSource: 'aws:sqs',
  eventSourceARN: 'arn:aws:sqs:local:0:q',
  awsRegion: 'local',
});
