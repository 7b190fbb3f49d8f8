import { traced } from '../platform/tracing';
import { createHash } from 'node:crypto';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { storedAuditRecordSchema } from '../platform/audit';
import { LAKE_BUCKET_ENV, S3_ENDPOINT_ENV } from '../platform/lake-objects';

/**
 * The audit trail's long-retention copy (issue 12): the audit table's stream (new images only: a
 * record is only ever inserted) -> JSON Lines objects in the lake bucket under AUDIT_EXPORT_PREFIX,
 * one object per tenant and UTC day of a stream batch, each put with S3 Object Lock in GOVERNANCE
 * mode and its own retain-until date. Retention is set per object, never as the bucket's default,
 * so the lake's other objects are unaffected. A batch delivered again writes the same key again: a
 * new version beside the locked one, which nobody without s3:BypassGovernanceRetention can remove.
 */
export const AUDIT_EXPORT_PREFIX = 'audit/';
/** Days each exported object is locked for; set by the stack (lib/audit.ts), 7 years unless said. */
export const AUDIT_RETENTION_DAYS_ENV = 'AUDIT_RETENTION_DAYS';
const DEFAULT_RETENTION_DAYS = 7 * 365;

export interface StreamRecordImage {
  eventName?: string;
  dynamodb?: { NewImage?: Record<string, unknown> };
}

export interface AuditExportObject {
  key: string;
  body: string;
}

const exportedLine = (item: Record<string, unknown>): Record<string, unknown> => {
  const record = storedAuditRecordSchema.safeParse(item);
  return record.success ? { pk: item.pk, sk: item.sk, tenant_id: item.tenant_id, ...record.data } : item;
};

/** The objects one stream batch becomes: the inserted records, grouped by tenant and day, in time order. */
export const exportObjectsOf = (records: readonly StreamRecordImage[]): AuditExportObject[] => {
  const groups = new Map<string, Record<string, unknown>[]>();
  for (const record of records) {
    const image = record.dynamodb?.NewImage;
    if (record.eventName !== 'INSERT' || !image) continue;
    // Stream images are DynamoDB JSON; the cast is the stream's documented shape.
    const item = unmarshall(image as Record<string, AttributeValue>);
    const tenant = typeof item.tenant_id === 'string' ? item.tenant_id : undefined;
    const at = typeof item.at === 'string' ? item.at : undefined;
    if (tenant === undefined || at === undefined) continue;
    const group = `${AUDIT_EXPORT_PREFIX}tenant_id=${tenant}/dt=${at.slice(0, 10)}/`;
    groups.set(group, [...(groups.get(group) ?? []), item]);
  }
  return [...groups].map(([prefix, items]) => {
    const sorted = items.sort((a, b) => String(a.sk).localeCompare(String(b.sk)));
    // A line is the record as the audit API answers it (its nested parts read back from their JSON text), beside its
    // storage key; an item that does not decode is exported as stored rather than lost.
    const body = sorted.map((item) => JSON.stringify(exportedLine(item))).join('\n') + '\n';
    // Named by content: a batch delivered again lands on the same key.
    const digest = createHash('sha256').update(body).digest('hex').slice(0, 16);
    return { key: `${prefix}${String(sorted[0]?.at).replace(/[:.]/g, '-')}-${digest}.jsonl`, body };
  });
};

export const retainUntil = (now: Date, env: NodeJS.ProcessEnv = process.env): Date => {
  const days = Number(env[AUDIT_RETENTION_DAYS_ENV] ?? DEFAULT_RETENTION_DAYS);
  return new Date(now.getTime() + (Number.isFinite(days) && days > 0 ? days : DEFAULT_RETENTION_DAYS) * 86_400_000);
};

let client: S3Client | undefined;
const s3 = (): S3Client => {
  const endpoint = process.env[S3_ENDPOINT_ENV];
  client ??= traced(new S3Client(
    endpoint ? { endpoint, forcePathStyle: true, region: process.env.AWS_REGION ?? 'local', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } } : {},
  ));
  return client;
};

/** Puts a batch's objects, each locked in GOVERNANCE mode until its retain-until date. A failure fails the batch (the stream retries it). */
export const exportAuditRecords = async (records: readonly StreamRecordImage[], now = new Date()): Promise<number> => {
  const bucket = process.env[LAKE_BUCKET_ENV];
  if (!bucket) throw new Error(`${LAKE_BUCKET_ENV} is not set`);
  const objects = exportObjectsOf(records);
  for (const object of objects) {
    await s3().send(
      new PutObjectCommand({
        Bucket: bucket,
        Key: object.key,
        Body: object.body,
        ContentType: 'application/x-ndjson',
        ObjectLockMode: 'GOVERNANCE',
        ObjectLockRetainUntilDate: retainUntil(now),
        // Object Lock puts must carry a checksum.
        ChecksumAlgorithm: 'SHA256',
      }),
    );
  }
  return objects.length;
};
