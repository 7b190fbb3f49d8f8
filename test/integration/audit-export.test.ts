import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { marshall } from '@aws-sdk/util-dynamodb';
import { AUDIT_EXPORT_PREFIX, exportAuditRecords, exportObjectsOf, retainUntil, type StreamRecordImage } from '../../functions/audit/export';
import { LAKE_BUCKET_ENV, S3_ENDPOINT_ENV } from '../../functions/platform/lake-objects';
import { LOCAL_LAKE_BUCKET, startLocalS3 } from '../../bin/local/s3';

/**
 * The trail's export (functions/audit/export.ts): the audit table's stream images become JSON Lines
 * objects under audit/, one per tenant and day of a batch, put with Object Lock (GOVERNANCE) against
 * the local S3 stand-in, which stores the objects (it does not enforce locks: S3 does, test/infra
 * proves the bucket has Object Lock enabled).
 */
const inserted = (item: Record<string, unknown>): StreamRecordImage => ({ eventName: 'INSERT', dynamodb: { NewImage: marshall(item) } });
const record = (tenant: string, at: string, requestId: string) => ({ pk: `T#${tenant}#AUDIT#${at.slice(0, 10)}`, sk: `${at}#${requestId}`, tenant_id: tenant, at, request_id: requestId, action: 'updateStock' });

test('a batch becomes one object per tenant and day, records in time order, named by its content', () => {
  const batch = [
    inserted(record('t-a', '2026-12-01T10:00:02.000Z', 'r2')),
    inserted(record('t-a', '2026-12-01T10:00:01.000Z', 'r1')),
    inserted(record('t-b', '2026-12-01T10:00:01.000Z', 'r3')),
    inserted(record('t-a', '2026-12-02T00:00:00.000Z', 'r4')),
    { eventName: 'MODIFY', dynamodb: { NewImage: marshall(record('t-a', '2026-12-01T11:00:00.000Z', 'r5')) } },
  ];
  const objects = exportObjectsOf(batch);
  expect(objects.map((o) => o.key.split('/').slice(0, 3).join('/'))).toEqual([
    `${AUDIT_EXPORT_PREFIX}tenant_id=t-a/dt=2026-12-01`,
    `${AUDIT_EXPORT_PREFIX}tenant_id=t-b/dt=2026-12-01`,
    `${AUDIT_EXPORT_PREFIX}tenant_id=t-a/dt=2026-12-02`,
  ]);
  expect(objects[0]!.body.trim().split('\n').map((line) => JSON.parse(line).request_id)).toEqual(['r1', 'r2']);
  // Only inserts are exported (nothing else happens to a record; anything else is not one).
  expect(objects.flatMap((o) => o.body.trim().split('\n')).map((line) => JSON.parse(line).request_id)).not.toContain('r5');
  expect(exportObjectsOf(batch).map((o) => o.key)).toEqual(objects.map((o) => o.key));
});

test('each object is locked until its retain-until date: seven years unless the stack says otherwise', () => {
  const now = new Date('2026-12-01T00:00:00Z');
  expect(retainUntil(now, {}).getTime() - now.getTime()).toBe(7 * 365 * 86_400_000);
  expect(retainUntil(now, { AUDIT_RETENTION_DAYS: '30' }).getTime() - now.getTime()).toBe(30 * 86_400_000);
});

test('the exporter puts the objects into the lake bucket (the local S3 stand-in)', async () => {
  const root = await mkdtemp(join(tmpdir(), 'stockroom-audit-export-'));
  const s3 = await startLocalS3({ root, buckets: [LOCAL_LAKE_BUCKET] });
  process.env[LAKE_BUCKET_ENV] = LOCAL_LAKE_BUCKET;
  process.env[S3_ENDPOINT_ENV] = s3.endpoint;
  try {
    const batch = [inserted(record('t-x', '2026-12-01T10:00:01.000Z', 'r1'))];
    expect(await exportAuditRecords(batch)).toBe(1);
    const [object] = exportObjectsOf(batch);
    // The stand-in's bucket is its root directory: an object is the file <root>/<key>.
    const stored = await readFile(join(root, object!.key), 'utf8');
    expect(stored).toBe(object!.body);
  } finally {
    await s3.close();
    await rm(root, { recursive: true, force: true });
  }
});
