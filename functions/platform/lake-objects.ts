import { traced } from './tracing';
import { DeleteObjectsCommand, GetObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { errorName } from './errors';

/**
 * The lake's objects through S3's API (issue 9, the daily close): what the close reads
 * (a day's movement files) and writes (level_days rollups, valuation checkpoints, its
 * own bookkeeping), and the small objects reports read before they query. In AWS the
 * lake bucket; locally the S3 stand-in (bin/local/s3.ts) over .data/lake/, whose objects
 * are the very files DuckDB reads, so both run this code.
 */
export const LAKE_BUCKET_ENV = 'LAKE_BUCKET';
/** Set locally only: the S3 stand-in's URL (path-style addressing). */
export const S3_ENDPOINT_ENV = 'S3_ENDPOINT';

/**
 * Where demand-history imports live in the lake bucket (issue 10; functions/forecasting/imports.ts
 * `demandImportKeys`): one Parquet object per accepted import, `demand_imports/tenant_id=<t>/<import_id>.parquet`.
 * Declared once here: lib/ grants the import route PutObject under it and nothing else of the lake.
 * Not a table's location (no Glue table, no DuckDB view), so no report's query reads it.
 */
export const DEMAND_IMPORTS_PREFIX = 'demand_imports/';

export interface LakeObject {
  key: string;
  size: number;
  etag: string;
}

export interface LakeObjects {
  /** Every object under the prefix, in key order (paged through ListObjectsV2). */
  list(prefix: string): Promise<LakeObject[]>;
  /** The prefixes one level below `prefix` (ListObjectsV2 with a `/` delimiter), e.g. the tenants of `movements/`. */
  folders(prefix: string): Promise<string[]>;
  /** The object's bytes; undefined when there is none. */
  get(key: string): Promise<Uint8Array | undefined>;
  /** Writes (or replaces) the object whole: S3 never shows a reader half of it. */
  put(key: string, body: Uint8Array, contentType: string): Promise<void>;
  delete(keys: readonly string[]): Promise<void>;
}

/** At most this many keys in one DeleteObjects call (S3's limit). */
const DELETE_BATCH = 1000;

export const s3LakeObjects = (client: S3Client, bucket: string): LakeObjects => ({
  async list(prefix) {
    const found: LakeObject[] = [];
    let token: string | undefined;
    do {
      const page = await client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }));
      for (const item of page.Contents ?? []) {
        if (item.Key !== undefined) found.push({ key: item.Key, size: item.Size ?? 0, etag: item.ETag ?? '' });
      }
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token !== undefined);
    return found;
  },
  async folders(prefix) {
    const found: string[] = [];
    let token: string | undefined;
    do {
      const page = await client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, Delimiter: '/', ContinuationToken: token }));
      for (const item of page.CommonPrefixes ?? []) if (item.Prefix !== undefined) found.push(item.Prefix);
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token !== undefined);
    return found;
  },
  async get(key) {
    try {
      const answer = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
      return answer.Body ? await answer.Body.transformToByteArray() : new Uint8Array();
    } catch (error) {
      if (errorName(error) === 'NoSuchKey') return undefined;
      throw error;
    }
  },
  async put(key, body, contentType) {
    await client.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body, ContentType: contentType }));
  },
  async delete(keys) {
    for (let at = 0; at < keys.length; at += DELETE_BATCH) {
      const batch = keys.slice(at, at + DELETE_BATCH);
      const answer = await client.send(new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: batch.map((Key) => ({ Key })), Quiet: true } }));
      const failed = answer.Errors ?? [];
      if (failed.length > 0) throw new Error(`S3 did not delete ${failed.length} objects, the first ${failed[0]?.Key ?? '?'}: ${failed[0]?.Code ?? ''}`);
    }
  },
});

const cached = new Map<string, LakeObjects>();

/** The lake bucket's objects, one client per bucket and endpoint for the process (Lambda reuses it across invocations). */
export const lakeObjectsFromEnv = (env: NodeJS.ProcessEnv = process.env): LakeObjects => {
  const bucket = env[LAKE_BUCKET_ENV];
  if (!bucket) throw new Error(`${LAKE_BUCKET_ENV} is not set`);
  const endpoint = env[S3_ENDPOINT_ENV];
  const id = `${bucket} ${endpoint ?? ''}`;
  const found = cached.get(id);
  if (found) return found;
  const client = traced(new S3Client(
    endpoint
      ? { endpoint, forcePathStyle: true, region: env.AWS_REGION ?? 'local', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } }
      : {},
  ));
  const objects = s3LakeObjects(client, bucket);
  cached.set(id, objects);
  return objects;
};
