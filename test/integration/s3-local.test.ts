import { createHash, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { crc32 } from 'node:zlib';
import {
  CopyObjectCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListBucketsCommand,
  ListObjectsCommand,
  ListObjectsV2Command,
  paginateListObjectsV2,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { startLocalS3, type LocalS3 } from '../../bin/local/s3';

/**
 * The local S3 stand-in (bin/local/s3.ts) through the real @aws-sdk/client-s3, built as the
 * product code builds it, over files in a temp dir: every object is a plain file at root/key.
 */

const BUCKET = 'stockroom-lake-test';

let parent: string;
let root: string;
let s3: LocalS3;
let client: S3Client;

const clientFor = (endpoint: string): S3Client =>
  new S3Client({ endpoint, forcePathStyle: true, region: 'local', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });

beforeAll(async () => {
  // root is a directory inside parent, so a write escaping root would show in parent.
  parent = await mkdtemp(join(tmpdir(), 'stockroom-s3-'));
  root = join(parent, 'bucket');
  s3 = await startLocalS3({ root, buckets: [BUCKET] });
  client = clientFor(s3.endpoint);
});

afterAll(async () => {
  client.destroy();
  await s3.close();
  await rm(parent, { recursive: true, force: true });
});

const put = (Key: string, Body: Uint8Array | string, extra: Partial<ConstructorParameters<typeof PutObjectCommand>[0]> = {}) =>
  client.send(new PutObjectCommand({ Bucket: BUCKET, Key, Body, ...extra }));

const get = async (Key: string): Promise<Buffer> => {
  const output = await client.send(new GetObjectCommand({ Bucket: BUCKET, Key }));
  return Buffer.from(await output.Body!.transformToByteArray());
};

const failure = async (promise: Promise<unknown>): Promise<{ name: string; status: number | undefined; message: string }> => {
  try {
    await promise;
  } catch (error) {
    const { name, message, $metadata } = error as { name: string; message: string; $metadata?: { httpStatusCode?: number } };
    return { name, status: $metadata?.httpStatusCode, message };
  }
  throw new Error('expected the request to fail');
};

const md5 = (bytes: Uint8Array): string => `"${createHash('md5').update(bytes).digest('hex')}"`;

/** Every file under a directory, relative, sorted: what is on disk. */
const filesUnder = async (directory: string): Promise<string[]> => {
  const entries = await readdir(directory, { recursive: true, withFileTypes: true });
  return entries
    .filter((entry) => entry.isFile() || entry.isSymbolicLink())
    .map((entry) => join(entry.parentPath, entry.name).slice(directory.length + 1))
    .sort();
};

const listAll = async (input: { Prefix?: string; Delimiter?: string; StartAfter?: string; MaxKeys?: number }) => {
  const keys: string[] = [];
  const prefixes: string[] = [];
  const pages: number[] = [];
  for await (const page of paginateListObjectsV2({ client }, { Bucket: BUCKET, ...input })) {
    pages.push(page.KeyCount ?? 0);
    keys.push(...(page.Contents ?? []).map((object) => object.Key!));
    prefixes.push(...(page.CommonPrefixes ?? []).map((common) => common.Prefix!));
  }
  return { keys, prefixes, pages };
};

/** A raw HTTP request to the stand-in (paths the SDK would never send, bodies built by hand). */
const raw = (method: string, path: string, headers: Record<string, string | number> = {}, body?: Buffer): Promise<{ status: number; headers: Record<string, unknown>; body: string }> =>
  new Promise((resolve, reject) => {
    const url = new URL(s3.endpoint);
    const outgoing = httpRequest({ host: url.hostname, port: url.port, method, path, headers: { ...headers, ...(body ? { 'content-length': body.length } : {}) } }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, headers: response.headers, body: Buffer.concat(chunks).toString('utf8') }));
    });
    outgoing.on('error', reject);
    outgoing.end(body);
  });

const crc32Base64 = (bytes: Buffer): string => {
  const value = Buffer.alloc(4);
  value.writeUInt32BE(crc32(bytes));
  return value.toString('base64');
};

describe('objects', () => {
  test('PutObject then GetObject returns every byte value unchanged, with the ETag (quoted MD5), length and dates S3 gives', async () => {
    const bytes = Buffer.concat([Buffer.from(Array.from({ length: 256 }, (_, index) => index)), randomBytes(64 * 1024)]);
    const written = await put('binary/all-bytes.bin', new Uint8Array(bytes));
    expect(written.ETag).toBe(md5(bytes));
    const output = await client.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'binary/all-bytes.bin' }));
    const body = Buffer.from(await output.Body!.transformToByteArray());
    expect(body.equals(bytes)).toBe(true);
    expect(output.ETag).toBe(md5(bytes));
    expect(output.ContentLength).toBe(bytes.length);
    expect(output.ContentType).toBe('application/octet-stream');
    expect(output.LastModified).toBeInstanceOf(Date);
    expect(Math.abs(output.LastModified!.getTime() - Date.now())).toBeLessThan(60_000);
  });

  test('an object is a plain file at root/key, as DuckDB reads it, and no temp file is left beside it', async () => {
    const key = 'level_days/tenant_id=t/dt=2026-01-01/rollup.parquet';
    const bytes = randomBytes(1000);
    await put(key, new Uint8Array(bytes));
    expect((await readFile(join(root, key))).equals(bytes)).toBe(true);
    expect(await readdir(join(root, 'level_days/tenant_id=t/dt=2026-01-01'))).toEqual(['rollup.parquet']);
  });

  test('a file written by other local code is an object (GetObject and ListObjectsV2 see it, with its MD5 ETag)', async () => {
    await mkdir(join(root, 'direct'), { recursive: true });
    await writeFile(join(root, 'direct/written.bin'), 'by duckdb');
    expect((await get('direct/written.bin')).toString()).toBe('by duckdb');
    const listed = await client.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: 'direct/' }));
    expect(listed.Contents?.map((object) => [object.Key, object.Size, object.ETag])).toEqual([['direct/written.bin', 9, md5(Buffer.from('by duckdb'))]]);
    // Rewritten behind the stand-in's back: the new ETag, not a remembered one.
    await writeFile(join(root, 'direct/written.bin'), 'rewritten');
    const head = await client.send(new HeadObjectCommand({ Bucket: BUCKET, Key: 'direct/written.bin' }));
    expect(head.ETag).toBe(md5(Buffer.from('rewritten')));
  });

  test('overwriting a key replaces the whole body (a shorter one leaves no tail of the longer)', async () => {
    await put('overwrite/key.txt', 'a long first body');
    await put('overwrite/key.txt', 'short');
    expect((await get('overwrite/key.txt')).toString()).toBe('short');
    expect((await readFile(join(root, 'overwrite/key.txt'))).toString()).toBe('short');
    const head = await client.send(new HeadObjectCommand({ Bucket: BUCKET, Key: 'overwrite/key.txt' }));
    expect(head.ContentLength).toBe(5);
    expect(head.ETag).toBe(md5(Buffer.from('short')));
  });

  test('a .json key is served as application/json, any other as application/octet-stream (Content-Type is not stored)', async () => {
    await put('types/marker.json', '{"a":1}', { ContentType: 'application/json' });
    await put('types/page.html', '<p>', { ContentType: 'text/html' });
    expect((await client.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'types/marker.json' }))).ContentType).toBe('application/json');
    expect((await client.send(new HeadObjectCommand({ Bucket: BUCKET, Key: 'types/page.html' }))).ContentType).toBe('application/octet-stream');
  });

  test('keys with spaces, +, %, & and non-ASCII characters round-trip as the file of that name', async () => {
    const key = 'odd names/a+b %20 & ü 😀.txt';
    await put(key, 'odd');
    expect((await get(key)).toString()).toBe('odd');
    expect((await readFile(join(root, key))).toString()).toBe('odd');
    const listed = await client.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: 'odd names/' }));
    expect(listed.Contents?.map((object) => object.Key)).toEqual([key]);
  });

  test('an empty body is an empty object', async () => {
    await put('empty/nothing', new Uint8Array(0));
    expect((await get('empty/nothing')).length).toBe(0);
    expect((await readFile(join(root, 'empty/nothing'))).length).toBe(0);
  });

  test('GetObject with a Range answers those bytes (206), as a Parquet reader reads a footer', async () => {
    const bytes = randomBytes(100);
    await put('range/file.parquet', new Uint8Array(bytes));
    const middle = await client.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'range/file.parquet', Range: 'bytes=10-19' }));
    expect(middle.$metadata.httpStatusCode).toBe(206);
    expect(middle.ContentRange).toBe('bytes 10-19/100');
    expect(Buffer.from(await middle.Body!.transformToByteArray()).equals(bytes.subarray(10, 20))).toBe(true);
    const tail = await client.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'range/file.parquet', Range: 'bytes=-8' }));
    expect(Buffer.from(await tail.Body!.transformToByteArray()).equals(bytes.subarray(92))).toBe(true);
    expect(await failure(client.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'range/file.parquet', Range: 'bytes=100-' })))).toMatchObject({ name: 'InvalidRange', status: 416 });
  });
});

describe('bodies the SDK sends', () => {
  test('a Uint8Array body arrives plain with its CRC32, which the stand-in checks and echoes', async () => {
    const sent: Record<string, string>[] = [];
    const probe = clientFor(s3.endpoint);
    probe.middlewareStack.add(
      (next) => async (args) => {
        sent.push({ ...(args.request as { headers: Record<string, string> }).headers });
        return next(args);
      },
      { step: 'finalizeRequest', priority: 'low' },
    );
    const bytes = randomBytes(3000);
    const output = await probe.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'bodies/plain.bin', Body: new Uint8Array(bytes) }));
    probe.destroy();
    expect(sent[0]?.['content-encoding']).toBeUndefined();
    expect(sent[0]?.['x-amz-checksum-crc32']).toBe(crc32Base64(bytes));
    expect(output.ChecksumCRC32).toBe(crc32Base64(bytes));
    expect((await readFile(join(root, 'bodies/plain.bin'))).equals(bytes)).toBe(true);
  });

  test('a stream body arrives aws-chunked with a CRC32 trailer, and the file holds the decoded bytes only', async () => {
    const sent: Record<string, string>[] = [];
    const probe = clientFor(s3.endpoint);
    probe.middlewareStack.add(
      (next) => async (args) => {
        sent.push({ ...(args.request as { headers: Record<string, string> }).headers });
        return next(args);
      },
      { step: 'finalizeRequest', priority: 'low' },
    );
    const bytes = randomBytes(200 * 1024);
    const chunks = [bytes.subarray(0, 70_000), bytes.subarray(70_000, 150_000), bytes.subarray(150_000)];
    const output = await probe.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'bodies/streamed.bin', Body: Readable.from(chunks), ContentLength: bytes.length }));
    probe.destroy();
    expect(sent[0]?.['content-encoding']).toBe('aws-chunked');
    expect(sent[0]?.['x-amz-content-sha256']).toBe('STREAMING-UNSIGNED-PAYLOAD-TRAILER');
    expect(sent[0]?.['x-amz-trailer']).toBe('x-amz-checksum-crc32');
    expect(output.ETag).toBe(md5(bytes));
    expect((await readFile(join(root, 'bodies/streamed.bin'))).equals(bytes)).toBe(true);
  });

  test('a signed aws-chunked body (chunk-signature lines, a trailer) is decoded', async () => {
    const bytes = randomBytes(5000);
    const framed = Buffer.concat([
      Buffer.from(`1000;chunk-signature=${'a'.repeat(64)}\r\n`),
      bytes.subarray(0, 0x1000),
      Buffer.from(`\r\n${(5000 - 0x1000).toString(16)};chunk-signature=${'b'.repeat(64)}\r\n`),
      bytes.subarray(0x1000),
      Buffer.from(`\r\n0;chunk-signature=${'c'.repeat(64)}\r\nx-amz-checksum-crc32:${crc32Base64(bytes)}\r\nx-amz-trailer-signature:${'d'.repeat(64)}\r\n\r\n`),
    ]);
    const response = await raw(
      'PUT',
      `/${BUCKET}/bodies/signed-chunks.bin`,
      {
        'content-encoding': 'aws-chunked',
        'x-amz-content-sha256': 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER',
        'x-amz-decoded-content-length': 5000,
        'x-amz-trailer': 'x-amz-checksum-crc32',
      },
      framed,
    );
    expect(response.status).toBe(200);
    expect(response.headers.etag).toBe(md5(bytes));
    expect((await readFile(join(root, 'bodies/signed-chunks.bin'))).equals(bytes)).toBe(true);
  });

  test('a body that does not match its CRC32, Content-MD5 or x-amz-content-sha256 is refused (BadDigest) and nothing is written', async () => {
    const body = Buffer.from('the body');
    const wrongCrc = await raw('PUT', `/${BUCKET}/bodies/bad-crc`, { 'x-amz-checksum-crc32': crc32Base64(Buffer.from('another')) }, body);
    expect(wrongCrc.status).toBe(400);
    expect(wrongCrc.body).toContain('<Code>BadDigest</Code>');
    const wrongMd5 = await raw('PUT', `/${BUCKET}/bodies/bad-md5`, { 'content-md5': createHash('md5').update('another').digest('base64') }, body);
    expect(wrongMd5.body).toContain('<Code>BadDigest</Code>');
    const wrongSha = await raw('PUT', `/${BUCKET}/bodies/bad-sha`, { 'x-amz-content-sha256': createHash('sha256').update('another').digest('hex') }, body);
    expect(wrongSha.body).toContain('<Code>XAmzContentSHA256Mismatch</Code>');
    const truncated = await raw('PUT', `/${BUCKET}/bodies/bad-chunks`, { 'content-encoding': 'aws-chunked', 'x-amz-content-sha256': 'STREAMING-UNSIGNED-PAYLOAD-TRAILER' }, Buffer.from('10\r\nshort\r\n0\r\n\r\n'));
    expect(truncated.body).toContain('<Code>IncompleteBody</Code>');
    expect((await readdir(join(root, 'bodies'))).filter((name) => name.startsWith('bad') || name.startsWith('.'))).toEqual([]);
  });
});

describe('errors the SDK reads', () => {
  test('GetObject of a missing key throws NoSuchKey (404)', async () => {
    expect(await failure(get('missing/key'))).toMatchObject({ name: 'NoSuchKey', status: 404 });
  });

  test('HeadObject of a missing key throws NotFound (404, no body)', async () => {
    expect(await failure(client.send(new HeadObjectCommand({ Bucket: BUCKET, Key: 'missing/key' })))).toMatchObject({ name: 'NotFound', status: 404 });
  });

  test('a key that is a directory of other objects is no object (NoSuchKey)', async () => {
    await put('folder/inside', 'x');
    expect(await failure(get('folder'))).toMatchObject({ name: 'NoSuchKey' });
  });

  test('an unknown bucket throws NoSuchBucket for reads, writes and listings, and writes nothing', async () => {
    const before = await filesUnder(parent);
    expect(await failure(client.send(new GetObjectCommand({ Bucket: 'other-bucket', Key: 'k' })))).toMatchObject({ name: 'NoSuchBucket', status: 404 });
    expect(await failure(client.send(new PutObjectCommand({ Bucket: 'other-bucket', Key: 'k', Body: 'x' })))).toMatchObject({ name: 'NoSuchBucket', status: 404 });
    expect(await failure(client.send(new ListObjectsV2Command({ Bucket: 'other-bucket' })))).toMatchObject({ name: 'NoSuchBucket', status: 404 });
    expect(await filesUnder(parent)).toEqual(before);
  });

  test('HeadBucket answers 200 for the bucket', async () => {
    expect((await client.send(new HeadBucketCommand({ Bucket: BUCKET }))).$metadata.httpStatusCode).toBe(200);
  });

  test('operations it does not serve are NotImplemented (501), never half done', async () => {
    await put('copy/source', 'x');
    expect(await failure(client.send(new CopyObjectCommand({ Bucket: BUCKET, Key: 'copy/target', CopySource: `${BUCKET}/copy/source` })))).toMatchObject({ name: 'NotImplemented', status: 501 });
    expect(existsSync(join(root, 'copy/target'))).toBe(false);
    expect(await failure(client.send(new CreateMultipartUploadCommand({ Bucket: BUCKET, Key: 'multi' })))).toMatchObject({ name: 'NotImplemented', status: 501 });
    expect(await failure(client.send(new ListObjectsCommand({ Bucket: BUCKET })))).toMatchObject({ name: 'NotImplemented', status: 501 });
    expect(await failure(client.send(new ListBucketsCommand({})))).toMatchObject({ name: 'NotImplemented', status: 501 });
    // A condition is refused, not ignored: a create-only write must not overwrite.
    expect(await failure(put('copy/source', 'y', { IfNoneMatch: '*' }))).toMatchObject({ name: 'NotImplemented', status: 501 });
    expect((await get('copy/source')).toString()).toBe('x');
    const virtualHost = await raw('GET', '/k', { host: `${BUCKET}.s3.localhost.localstack.cloud` });
    expect(virtualHost.status).toBe(501);
  });
});

describe('deleting', () => {
  test('DeleteObject removes the file, and deleting a missing key succeeds too (204)', async () => {
    await put('delete/one', 'x');
    const deleted = await client.send(new DeleteObjectCommand({ Bucket: BUCKET, Key: 'delete/one' }));
    expect(deleted.$metadata.httpStatusCode).toBe(204);
    expect(existsSync(join(root, 'delete/one'))).toBe(false);
    expect((await client.send(new DeleteObjectCommand({ Bucket: BUCKET, Key: 'delete/one' }))).$metadata.httpStatusCode).toBe(204);
    expect(await failure(get('delete/one'))).toMatchObject({ name: 'NoSuchKey' });
  });

  test('DeleteObjects removes every listed key (XML-escaped ones too) and reports each, missing ones included, as Deleted', async () => {
    const keys = ['delete/many/a&b', 'delete/many/<c>', "delete/many/'d\"", 'delete/many/e'];
    for (const key of keys) await put(key, key);
    await put('delete/many/kept', 'kept');
    const output = await client.send(new DeleteObjectsCommand({ Bucket: BUCKET, Delete: { Objects: [...keys, 'delete/many/never-there'].map((Key) => ({ Key })) } }));
    expect(output.Errors ?? []).toEqual([]);
    expect((output.Deleted ?? []).map((deleted) => deleted.Key)).toEqual([...keys, 'delete/many/never-there']);
    expect(await readdir(join(root, 'delete/many'))).toEqual(['kept']);
  });

  test('DeleteObjects in Quiet mode answers only errors, and a key it cannot hold is an error entry, not a failed request', async () => {
    await put('delete/quiet/a', 'x');
    const output = await client.send(new DeleteObjectsCommand({ Bucket: BUCKET, Delete: { Quiet: true, Objects: [{ Key: 'delete/quiet/a' }, { Key: '../outside' }] } }));
    expect(output.Deleted ?? []).toEqual([]);
    expect(output.Errors?.map((error) => [error.Key, error.Code])).toEqual([['../outside', 'InvalidArgument']]);
    expect(existsSync(join(root, 'delete/quiet/a'))).toBe(false);
  });
});

describe('listing', () => {
  beforeAll(async () => {
    for (const key of ['list/a/1', 'list/a/2', 'list/a/deep/3', 'list/b/1', 'list/b-1', 'list/c', 'listing-not-under-prefix']) await put(key, key);
    // Local bookkeeping and temp files: never objects.
    await writeFile(join(root, 'list/a/.0123abcd.tmp'), 'half written');
    await writeFile(join(root, 'list/.close.json'), '{}');
    await mkdir(join(root, 'list/.hidden'), { recursive: true });
    await writeFile(join(root, 'list/.hidden/file'), 'hidden');
  });

  test('ListObjectsV2 with a prefix lists exactly the keys under it, in UTF-8 byte order, with S3 fields the SDK parses', async () => {
    const output = await client.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: 'list/' }));
    // '-' (0x2d) sorts before '/' (0x2f): list/b-1 comes before list/b/1, as in S3 (a directory walk would put it after).
    expect(output.Contents?.map((object) => object.Key)).toEqual(['list/a/1', 'list/a/2', 'list/a/deep/3', 'list/b-1', 'list/b/1', 'list/c']);
    expect(output).toMatchObject({ Name: BUCKET, Prefix: 'list/', KeyCount: 6, MaxKeys: 1000, IsTruncated: false });
    expect(output.NextContinuationToken).toBeUndefined();
    const first = output.Contents![0]!;
    expect(first).toMatchObject({ Key: 'list/a/1', Size: 8, ETag: md5(Buffer.from('list/a/1')), StorageClass: 'STANDARD' });
    expect(first.LastModified).toBeInstanceOf(Date);
    // A prefix that is not a whole path segment.
    const partial = await client.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: 'list/b' }));
    expect(partial.Contents?.map((object) => object.Key)).toEqual(['list/b-1', 'list/b/1']);
    expect((await client.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: 'list/none/' }))).KeyCount).toBe(0);
  });

  test('temp files and dot files or directories are never listed', async () => {
    const { keys } = await listAll({});
    expect(keys.filter((key) => key.split('/').some((segment) => segment.startsWith('.')))).toEqual([]);
    expect(keys).toContain('list/a/1');
    expect(keys).toContain('listing-not-under-prefix');
  });

  test('a listing with a delimiter answers the keys at that level and CommonPrefixes for the levels below', async () => {
    const output = await client.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: 'list/', Delimiter: '/' }));
    expect(output.Contents?.map((object) => object.Key)).toEqual(['list/b-1', 'list/c']);
    expect(output.CommonPrefixes?.map((common) => common.Prefix)).toEqual(['list/a/', 'list/b/']);
    expect(output.Delimiter).toBe('/');
    expect(output.KeyCount).toBe(4);
    const top = await client.send(new ListObjectsV2Command({ Bucket: BUCKET, Delimiter: '/' }));
    expect(top.CommonPrefixes?.map((common) => common.Prefix)).toContain('list/');
    expect(top.CommonPrefixes?.map((common) => common.Prefix)).not.toContain('list/.hidden/');
  });

  test('paging with a delimiter answers each CommonPrefix once, across pages', async () => {
    const { keys, prefixes, pages } = await listAll({ Prefix: 'list/', Delimiter: '/', MaxKeys: 1 });
    expect(pages).toEqual([1, 1, 1, 1]);
    expect(prefixes).toEqual(['list/a/', 'list/b/']);
    expect(keys).toEqual(['list/b-1', 'list/c']);
  });

  test('StartAfter lists the keys after it only', async () => {
    const output = await client.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: 'list/', StartAfter: 'list/a/deep/3' }));
    expect(output.Contents?.map((object) => object.Key)).toEqual(['list/b-1', 'list/b/1', 'list/c']);
  });

  test('keys are ordered by UTF-8 bytes, not by JavaScript (UTF-16) string order', async () => {
    // U+FF61 is EF BD A1 in UTF-8, U+1F600 is F0 9F 98 80: S3 puts U+FF61 first, JavaScript's < puts U+1F600 first.
    await put('order/\u{1F600}', 'x');
    await put('order/\uFF61', 'x');
    const output = await client.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: 'order/' }));
    expect(output.Contents?.map((object) => object.Key)).toEqual(['order/\uFF61', 'order/\u{1F600}']);
  });

  test('paginateListObjectsV2 walks 1,005 keys in pages of 1000 and 5, each key once and in order; MaxKeys over 1000 is 1000', async () => {
    const keys = Array.from({ length: 1005 }, (_, index) => `paged/key-${String(index).padStart(5, '0')}`);
    for (let at = 0; at < keys.length; at += 50) await Promise.all(keys.slice(at, at + 50).map((key) => put(key, key)));
    const listed = await listAll({ Prefix: 'paged/' });
    expect(listed.pages).toEqual([1000, 5]);
    expect(listed.keys).toEqual(keys);
    const first = await client.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: 'paged/', MaxKeys: 5000 }));
    expect(first).toMatchObject({ KeyCount: 1000, MaxKeys: 1000, IsTruncated: true });
    expect(typeof first.NextContinuationToken).toBe('string');
    const second = await client.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: 'paged/', ContinuationToken: first.NextContinuationToken }));
    expect(second).toMatchObject({ KeyCount: 5, IsTruncated: false, ContinuationToken: first.NextContinuationToken });
    expect(second.Contents?.map((object) => object.Key)).toEqual(keys.slice(1000));
    expect(await failure(client.send(new ListObjectsV2Command({ Bucket: BUCKET, ContinuationToken: 'not-a-token' })))).toMatchObject({ name: 'InvalidArgument', status: 400 });
  });
});

describe('keys that are no file under root', () => {
  test('path traversal (../x, a/../../x, encoded ..) is refused with InvalidArgument and nothing is written outside root', async () => {
    const before = await filesUnder(parent);
    for (const key of ['../x', 'a/../../x', '../bucket-sibling/x', '..']) {
      expect(await failure(put(key, 'escaped'))).toMatchObject({ name: 'InvalidArgument', status: 400 });
      expect(await failure(get(key))).toMatchObject({ name: 'InvalidArgument', status: 400 });
    }
    for (const path of [`/${BUCKET}/../x`, `/${BUCKET}/%2E%2E/x`, `/${BUCKET}/..%2Fx`, `/${BUCKET}/a/%2e%2e/%2e%2e/x`]) {
      const response = await raw('PUT', path, {}, Buffer.from('escaped'));
      expect(response.status).toBe(400);
      expect(response.body).toContain('<Code>InvalidArgument</Code>');
    }
    expect(await filesUnder(parent)).toEqual(before);
    expect(existsSync(join(parent, 'x'))).toBe(false);
  });

  test('NUL and other control characters, empty segments and dot names are refused (400), writing nothing', async () => {
    const before = await filesUnder(root);
    for (const key of ['nul/a\u0000b', 'ctl/a\u0001b', '/leading', 'trailing/', 'double//slash', 'dot/./x', 'dot/.hidden', '.tmp']) {
      expect(await failure(put(key, 'x'))).toMatchObject({ name: 'InvalidArgument', status: 400 });
    }
    const nul = await raw('PUT', `/${BUCKET}/nul%00x`, {}, Buffer.from('x'));
    expect(nul.status).toBe(400);
    expect(await filesUnder(root)).toEqual(before);
  });

  test('a key through a symbolic link out of root is refused, reading and writing nothing outside root', async () => {
    const outside = join(parent, 'outside');
    await mkdir(outside, { recursive: true });
    await writeFile(join(outside, 'secret'), 'secret');
    await symlink(outside, join(root, 'link'));
    expect(await failure(put('link/planted', 'x'))).toMatchObject({ name: 'InvalidArgument', status: 400 });
    expect(await failure(get('link/secret'))).toMatchObject({ name: 'NoSuchKey' });
    await client.send(new DeleteObjectCommand({ Bucket: BUCKET, Key: 'link/secret' }));
    expect(await readdir(outside)).toEqual(['secret']);
    expect((await client.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: 'link/' }))).KeyCount).toBe(0);
    await rm(join(root, 'link'));
  });

  test('a key under another object, or one that is the directory of others, is refused (objects are files here)', async () => {
    await put('conflict/file', 'x');
    await put('conflict/dir/child', 'y');
    expect(await failure(put('conflict/file/below', 'z'))).toMatchObject({ name: 'InvalidArgument', status: 400 });
    expect(await failure(put('conflict/dir', 'z'))).toMatchObject({ name: 'InvalidArgument', status: 400 });
    expect((await get('conflict/file')).toString()).toBe('x');
    expect((await readdir(join(root, 'conflict'))).sort()).toEqual(['dir', 'file']);
    expect(await readdir(join(root, 'conflict/dir'))).toEqual(['child']);
  });
});

describe('concurrency', () => {
  test('concurrent PutObjects of one key leave one complete body, and readers meanwhile only ever see complete bodies', async () => {
    const key = 'concurrent/key.bin';
    const size = 256 * 1024;
    const rounds = 8;
    const writers = 8;
    await put(key, new Uint8Array(Buffer.alloc(size, 0xff)));
    const uniform = (bytes: Buffer): boolean => bytes.length === size && bytes.every((byte) => byte === bytes[0]);
    let writing = true;
    const reads: boolean[] = [];
    // Readers through the SDK and straight from the file (as DuckDB reads), all the while the writes run.
    const readers = Array.from({ length: 3 }, async () => {
      while (writing) {
        reads.push(uniform(await get(key)));
        reads.push(uniform(await readFile(join(root, key))));
      }
    });
    const bodies: Buffer[] = [];
    for (let round = 0; round < rounds; round += 1) {
      const wave = Array.from({ length: writers }, (_, index) => Buffer.alloc(size, round * writers + index + 1));
      bodies.push(...wave);
      await Promise.all(wave.map((body) => put(key, new Uint8Array(body))));
    }
    writing = false;
    await Promise.all(readers);
    expect(reads.length).toBeGreaterThan(rounds * 2);
    expect(reads.filter((complete) => !complete)).toEqual([]);
    const final = await readFile(join(root, key));
    expect(uniform(final)).toBe(true);
    expect(bodies.some((body) => body.equals(final))).toBe(true);
    expect((await client.send(new HeadObjectCommand({ Bucket: BUCKET, Key: key }))).ETag).toBe(md5(final));
    // No temp file of any writer is left.
    expect(await readdir(join(root, 'concurrent'))).toEqual(['key.bin']);
  });
});

describe('the server', () => {
  test('startLocalS3 takes exactly one valid bucket name (one bucket per root)', async () => {
    await expect(startLocalS3({ root: join(parent, 'none'), buckets: [] })).rejects.toThrow(/one bucket per root/);
    await expect(startLocalS3({ root: join(parent, 'two'), buckets: ['one-bucket', 'two-bucket'] })).rejects.toThrow(/one bucket per root/);
    await expect(startLocalS3({ root: join(parent, 'bad'), buckets: ['Not_A_Bucket'] })).rejects.toThrow(/not a valid S3 bucket name/);
  });

  test('it listens on 127.0.0.1 and close() stops it', async () => {
    const other = await startLocalS3({ root: join(parent, 'closing'), buckets: ['closing-bucket'] });
    expect(other.endpoint).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const otherClient = clientFor(other.endpoint);
    await otherClient.send(new PutObjectCommand({ Bucket: 'closing-bucket', Key: 'k', Body: 'x' }));
    await other.close();
    await expect(fetch(`${other.endpoint}/closing-bucket/k`)).rejects.toThrow();
    otherClient.destroy();
  });
});
