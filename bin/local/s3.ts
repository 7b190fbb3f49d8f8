import { createHash, randomBytes } from 'node:crypto';
import type { Dirent } from 'node:fs';
import { lstat, mkdir, open, readdir, realpath, rename, unlink } from 'node:fs/promises';
import { createServer, type IncomingMessage, type OutgoingHttpHeaders, type Server, type ServerResponse } from 'node:http';
import { isIP, type AddressInfo } from 'node:net';
import { dirname, join, sep } from 'node:path';
import { crc32 } from 'node:zlib';

/**
 * The local stand-in for S3, as bin/local/athena.ts stands in for Athena: an HTTP server on
 * loopback speaking the part of S3's REST API that the real @aws-sdk/client-s3 sends with
 * `forcePathStyle: true` (`/<bucket>/<key>`), over plain files.
 *
 * - One bucket per root: the bucket is `root` itself and an object is the file `<root>/<key>`
 *   (key `level_days/tenant_id=t/dt=2026-01-01/rollup.parquet` is that path under root), so
 *   local code (DuckDB) reads what the SDK wrote, and the SDK lists what local code wrote.
 * - PutObject writes a temp file `.<random>.tmp` in the key's directory and renames it over
 *   the key: a reader sees the old body or the new one, never part of one; of concurrent
 *   writes of a key the last rename wins whole. Directories are made as needed.
 * - Bodies: the SDK sends a Uint8Array or string body plain, with `x-amz-checksum-crc32`; a
 *   stream body arrives `aws-chunked` (`STREAMING-UNSIGNED-PAYLOAD-TRAILER`: `<hex size>\r\n`
 *   chunks, then the checksum as a trailer). Both are read, as are signed chunks
 *   (`<hex>;chunk-signature=...`), and the body is checked as S3 checks it: Content-MD5,
 *   a hex `x-amz-content-sha256`, and the CRC32, SHA-1 and SHA-256 checksums, from a header
 *   or a trailer (CRC32C and CRC64NVME are accepted unchecked: Node has no built-in for them).
 *   A mismatch is BadDigest (XAmzContentSHA256Mismatch for the payload hash) and nothing is
 *   written. Bodies are held in memory, up to MAX_OBJECT_BYTES.
 * - Nothing is stored beside the bytes: Content-Type, Content-Encoding, `x-amz-meta-*`, tags
 *   and the like are accepted and dropped. GetObject answers `application/json` for a key
 *   ending `.json` and `application/octet-stream` for any other. The ETag is the quoted MD5
 *   of the file (kept in memory per file, keyed by inode, size and mtime, so files written
 *   by other code get theirs too); Last-Modified is the file's mtime.
 * - GetObject and HeadObject take one `Range: bytes=...` (206), as hyparquet reads a Parquet
 *   footer; no conditional requests (If-Match, If-None-Match, ...: 501, never ignored).
 *   Responses carry no checksum headers, so the SDK's response validation (which it asks for
 *   with `x-amz-checksum-mode: ENABLED`) has nothing to check and passes.
 * - ListObjectsV2: keys in UTF-8 byte order, as S3 orders them; prefix, delimiter
 *   (CommonPrefixes), start-after, max-keys (1000 by default and at most), an opaque
 *   continuation token (`fetch-owner` is accepted, no Owner answered). Files and directories whose name starts with `.` are never listed
 *   (temp files, and the local bookkeeping of bin/local/lake.ts such as `.close.json`), and
 *   such keys are refused on write; symbolic links are not followed.
 * - DeleteObject (204, also for a missing key) and DeleteObjects (Quiet too); emptied
 *   directories stay.
 * - HeadBucket answers 200. Anything else (other operations, ListObjects v1, a query
 *   parameter this stand-in does not read, virtual-hosted-style requests) is 501
 *   NotImplemented; an unknown bucket is 404 NoSuchBucket.
 * - Keys that could not be a file under root are refused with 400 InvalidArgument and touch
 *   nothing: `.`/`..` or empty segments (a leading, trailing or doubled `/`), a segment
 *   starting with `.`, control characters (NUL among them), a segment over 255 bytes, a path
 *   through a symbolic link, or a key that is a directory of another key (`a` and `a/b`
 *   cannot both be files).
 * No authentication: it listens on loopback, and the SDK's signature is not checked.
 */

export interface LocalS3Options {
  /** The directory the bucket is (made if missing). */
  root: string;
  /** The bucket's name: exactly one, as one root holds one bucket (start one stand-in per bucket). */
  buckets: readonly string[];
  port?: number;
}

export interface LocalS3 {
  endpoint: string;
  close(): Promise<void>;
}

/** The lake bucket's name under `npm start` and in the tests (in AWS the stack names it and passes it as LAKE_BUCKET). */
export const LOCAL_LAKE_BUCKET = 'stockroom-lake';

const S3_XML_NAMESPACE = 'http://s3.amazonaws.com/doc/2006-03-01/';
const MAX_OBJECT_BYTES = 512 * 1024 * 1024;
const MAX_DELETE_BODY_BYTES = 4 * 1024 * 1024;
const MAX_KEY_BYTES = 1024;
const MAX_SEGMENT_BYTES = 255;
const MAX_PAGE = 1000;
const MAX_DELETE_KEYS = 1000;
const MAX_KNOWN_ETAGS = 100_000;
const BUCKET_NAME = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;
const HEX_SHA256 = /^[0-9a-f]{64}$/;
const CONDITIONAL_HEADERS = ['if-match', 'if-none-match', 'if-modified-since', 'if-unmodified-since'];
const OBJECT_PARAMETERS = new Set(['x-id']);
const LIST_PARAMETERS = new Set(['x-id', 'list-type', 'prefix', 'delimiter', 'max-keys', 'continuation-token', 'start-after', 'fetch-owner']);

class S3Error extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details: Record<string, string> = {},
  ) {
    super(message);
  }
}

const notImplemented = (what: string): S3Error => new S3Error(501, 'NotImplemented', `${what} is not implemented by the local S3 stand-in`);

// ---- XML ----

const escapeXml = (text: string): string =>
  text.replace(/[&<>"'\r]/g, (char) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;', '\r': '&#13;' })[char] ?? char);

const ENTITY = /&(?:(amp|lt|gt|quot|apos)|#(\d+)|#x([0-9a-fA-F]+));/g;
const NAMED_ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };

const unescapeXml = (text: string): string =>
  text.replace(ENTITY, (whole, name: string | undefined, decimal: string | undefined, hex: string | undefined) => {
    if (name) return NAMED_ENTITIES[name] ?? whole;
    const code = decimal !== undefined ? Number.parseInt(decimal, 10) : Number.parseInt(hex ?? '', 16);
    return code <= 0x10ffff ? String.fromCodePoint(code) : whole;
  });

const element = (name: string, value: string | number | boolean): string => `<${name}>${escapeXml(String(value))}</${name}>`;
const xmlDocument = (body: string): string => `<?xml version="1.0" encoding="UTF-8"?>\n${body}`;

// ---- keys ----

/** Why a key cannot be an object here, or undefined when it can. */
const keyProblem = (key: string): string | undefined => {
  if (Buffer.byteLength(key) > MAX_KEY_BYTES) return `a key is at most ${MAX_KEY_BYTES} bytes`;
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(key)) return 'control characters (NUL among them) are refused in a key';
  for (const segment of key.split('/')) {
    if (segment === '') return 'a key has no empty path segment (a leading, trailing or doubled /): objects are files here';
    if (segment === '.' || segment === '..') return 'the path segments . and .. are refused in a key';
    if (segment.startsWith('.')) return 'a path segment starting with . is refused: such names are local bookkeeping (temp files), never objects';
    if (Buffer.byteLength(segment) > MAX_SEGMENT_BYTES) return `a path segment of a key is at most ${MAX_SEGMENT_BYTES} bytes (a file name)`;
  }
  return undefined;
};

const compareKeys = (left: Buffer, right: Buffer): number => Buffer.compare(left, right);

// Duck-typed, not instanceof Error: fs errors come from another realm under jest.
const errorCode = (error: unknown): string | undefined =>
  typeof error === 'object' && error !== null && 'code' in error && typeof error.code === 'string' ? error.code : undefined;
const isAbsent = (error: unknown): boolean => ['ENOENT', 'ENOTDIR'].includes(errorCode(error) ?? '');

// ---- bodies ----

const readAll = (request: IncomingMessage, limit: number): Promise<Buffer> =>
  new Promise((resolve, reject) => {
    const tooLarge = (): S3Error => new S3Error(400, 'EntityTooLarge', `Your proposed upload exceeds the maximum allowed size of this stand-in (${limit} bytes)`);
    if (Number(request.headers['content-length'] ?? 0) > limit) {
      // Unread: the answer closes the connection (see send).
      reject(tooLarge());
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    let failed = false;
    // Events, not for await: leaving a for await destroys the request, and its socket with it, before the error is answered.
    request.on('data', (chunk: Buffer) => {
      if (failed) return;
      size += chunk.length;
      if (size > limit) {
        failed = true;
        reject(tooLarge());
        return;
      }
      chunks.push(chunk);
    });
    request.once('end', () => {
      if (!failed) resolve(Buffer.concat(chunks));
    });
    request.once('error', reject);
    request.once('close', () => {
      if (!request.complete) reject(new S3Error(400, 'IncompleteBody', 'The request body ended early'));
    });
  });

const incomplete = (why: string): S3Error => new S3Error(400, 'IncompleteBody', `The aws-chunked body is malformed: ${why}`);

/** An aws-chunked body (`<hex size>[;chunk-signature=...]\r\n<bytes>\r\n` ..., `0...\r\n`, trailer lines, `\r\n`): its bytes and trailers. */
const decodeAwsChunked = (raw: Buffer): { body: Buffer; trailers: Map<string, string> } => {
  const parts: Buffer[] = [];
  let at = 0;
  for (;;) {
    const end = raw.indexOf('\r\n', at);
    if (end < 0) throw incomplete('a chunk header has no line end');
    const header = /^([0-9a-fA-F]{1,16})(?:;.*)?$/.exec(raw.toString('latin1', at, end));
    if (!header) throw incomplete('a chunk header is not <hex size>[;chunk-signature=...]');
    const size = Number.parseInt(header[1] ?? '', 16);
    at = end + 2;
    if (size === 0) break;
    if (at + size + 2 > raw.length || raw[at + size] !== 0x0d || raw[at + size + 1] !== 0x0a) throw incomplete('a chunk is shorter than its size or not followed by a line end');
    parts.push(raw.subarray(at, at + size));
    at += size + 2;
  }
  const trailers = new Map<string, string>();
  while (at < raw.length) {
    const found = raw.indexOf('\r\n', at);
    const end = found < 0 ? raw.length : found;
    const line = raw.toString('latin1', at, end);
    at = end + 2;
    if (line === '') break;
    const colon = line.indexOf(':');
    if (colon <= 0) throw incomplete(`trailer line ${JSON.stringify(line)} is not name:value`);
    trailers.set(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim());
  }
  return { body: Buffer.concat(parts), trailers };
};

const header = (request: IncomingMessage, name: string): string | undefined => {
  const value = request.headers[name];
  return Array.isArray(value) ? value.join(',') : value;
};

const CHECKSUMS: Record<string, ((body: Buffer) => string) | undefined> = {
  crc32: (body) => {
    const value = Buffer.alloc(4);
    value.writeUInt32BE(crc32(body));
    return value.toString('base64');
  },
  sha1: (body) => createHash('sha1').update(body).digest('base64'),
  sha256: (body) => createHash('sha256').update(body).digest('base64'),
  // Accepted, not checked (no built-in in Node).
  crc32c: undefined,
  crc64nvme: undefined,
};

/** The request's body as the object's bytes (aws-chunked decoded) once every checksum it carries holds; the checksum headers to echo. */
const readPayload = async (request: IncomingMessage, limit: number): Promise<{ body: Buffer; checksums: Record<string, string> }> => {
  const raw = await readAll(request, limit);
  const payloadHash = header(request, 'x-amz-content-sha256');
  const chunked = (payloadHash?.startsWith('STREAMING-') ?? false) || (header(request, 'content-encoding') ?? '').split(',').some((coding) => coding.trim() === 'aws-chunked');
  let body = raw;
  let trailers = new Map<string, string>();
  if (chunked) {
    ({ body, trailers } = decodeAwsChunked(raw));
    const decodedLength = header(request, 'x-amz-decoded-content-length');
    if (decodedLength !== undefined && Number(decodedLength) !== body.length) {
      throw new S3Error(400, 'IncompleteBody', `The body has ${body.length} bytes, x-amz-decoded-content-length says ${decodedLength}`);
    }
    for (const name of (header(request, 'x-amz-trailer') ?? '').split(',').map((item) => item.trim().toLowerCase())) {
      if (name && !trailers.has(name)) throw new S3Error(400, 'InvalidRequest', `The trailer ${name} that x-amz-trailer announces is missing`);
    }
  } else if (payloadHash !== undefined && HEX_SHA256.test(payloadHash) && createHash('sha256').update(body).digest('hex') !== payloadHash) {
    throw new S3Error(400, 'XAmzContentSHA256Mismatch', "The provided 'x-amz-content-sha256' header does not match what was computed.");
  }
  const md5 = header(request, 'content-md5');
  if (md5 !== undefined && createHash('md5').update(body).digest('base64') !== md5) {
    throw new S3Error(400, 'BadDigest', 'The Content-MD5 you specified did not match what we received.');
  }
  const checksums: Record<string, string> = {};
  for (const [algorithm, compute] of Object.entries(CHECKSUMS)) {
    const name = `x-amz-checksum-${algorithm}`;
    const given = header(request, name) ?? trailers.get(name);
    if (given === undefined) continue;
    if (compute && compute(body) !== given) throw new S3Error(400, 'BadDigest', `The ${algorithm.toUpperCase()} you specified did not match the calculated checksum.`);
    checksums[name] = given;
  }
  return { body, checksums };
};

// ---- listing ----

interface ListToken {
  /** The last key or common prefix a page returned. */
  k: string;
  /** Whether it was a common prefix (every key under it was answered by it). */
  p: boolean;
}

const encodeToken = (token: ListToken): string => Buffer.from(JSON.stringify(token)).toString('base64url');

const decodeToken = (text: string): ListToken => {
  try {
    const token = JSON.parse(Buffer.from(text, 'base64url').toString('utf8')) as unknown;
    if (typeof token === 'object' && token !== null && 'k' in token && 'p' in token && typeof token.k === 'string' && typeof token.p === 'boolean') return { k: token.k, p: token.p };
  } catch {
    // refused below
  }
  throw new S3Error(400, 'InvalidArgument', 'The continuation token provided is incorrect', { ArgumentName: 'continuation-token' });
};

const parseMaxKeys = (text: string | null): number => {
  if (text === null) return MAX_PAGE;
  if (!/^\d{1,10}$/.test(text)) throw new S3Error(400, 'InvalidArgument', 'Provided max-keys not an integer or within integer range', { ArgumentName: 'max-keys', ArgumentValue: text });
  return Math.min(Number(text), MAX_PAGE);
};

type Item = { key: string } | { prefix: string };

// ---- the server ----

interface KnownFile {
  ino: bigint;
  size: bigint;
  mtimeNs: bigint;
  ctimeNs: bigint;
  etag: string;
}

interface FileFacts {
  size: number;
  modified: Date;
  etag: string;
}

export const startLocalS3 = async (options: LocalS3Options): Promise<LocalS3> => {
  if (options.buckets.length !== 1) throw new Error(`startLocalS3: one bucket per root (the bucket is the root directory), ${options.buckets.length} given; start one stand-in per bucket`);
  const bucket = options.buckets[0] ?? '';
  if (!BUCKET_NAME.test(bucket) || bucket.includes('..')) throw new Error(`startLocalS3: ${JSON.stringify(bucket)} is not a valid S3 bucket name`);
  await mkdir(options.root, { recursive: true });
  const root = await realpath(options.root);
  const etags = new Map<string, KnownFile>();

  const remember = (path: string, known: KnownFile): void => {
    if (etags.size >= MAX_KNOWN_ETAGS) etags.clear();
    etags.set(path, known);
  };

  const within = (path: string): boolean => path === root || path.startsWith(root + sep);

  /** The file of a key (refused unless it can be one under root). */
  const fileOf = (key: string): string => {
    const problem = keyProblem(key);
    if (problem) throw new S3Error(400, 'InvalidArgument', problem, { Key: key });
    const path = join(root, ...key.split('/'));
    if (!within(path)) throw new S3Error(400, 'InvalidArgument', 'the key resolves outside the bucket', { Key: key });
    return path;
  };

  /** Whether the directory is a real one under root (no symbolic link on the way); false when it is missing. */
  const directoryWithin = async (path: string): Promise<boolean> => {
    try {
      return within(await realpath(path));
    } catch (error) {
      if (isAbsent(error)) return false;
      throw error;
    }
  };

  /** Makes the key's directories one at a time, never through a symbolic link or over a file. */
  const ensureDirectories = async (key: string, segments: readonly string[]): Promise<string> => {
    let path = root;
    for (const segment of segments) {
      path = join(path, segment);
      try {
        await mkdir(path);
      } catch (error) {
        if (errorCode(error) !== 'EEXIST') throw error;
        const found = await lstat(path);
        if (found.isSymbolicLink()) throw new S3Error(400, 'InvalidArgument', 'the key passes through a symbolic link, which this stand-in does not follow', { Key: key });
        if (!found.isDirectory()) throw new S3Error(400, 'InvalidArgument', `the key is under the object ${JSON.stringify(path.slice(root.length + 1).split(sep).join('/'))}: objects are files here, and a file is no directory`, { Key: key });
      }
    }
    return path;
  };

  /** The file's bytes (when asked) and facts, read through one handle so they agree; undefined when there is no such object. */
  const readObject = async (path: string, withBody: boolean): Promise<(FileFacts & { body?: Buffer }) | undefined> => {
    if (!(await directoryWithin(dirname(path)))) return undefined;
    let handle;
    try {
      handle = await open(path, 'r');
    } catch (error) {
      if (isAbsent(error) || errorCode(error) === 'EISDIR' || errorCode(error) === 'ELOOP') return undefined;
      throw error;
    }
    try {
      const stats = await handle.stat({ bigint: true });
      if (!stats.isFile()) return undefined;
      const known = etags.get(path);
      const current = known && known.ino === stats.ino && known.size === stats.size && known.mtimeNs === stats.mtimeNs && known.ctimeNs === stats.ctimeNs ? known : undefined;
      let body: Buffer | undefined;
      if (withBody || !current) body = await handle.readFile();
      const etag = current?.etag ?? `"${createHash('md5').update(body ?? Buffer.alloc(0)).digest('hex')}"`;
      if (!current) remember(path, { ino: stats.ino, size: stats.size, mtimeNs: stats.mtimeNs, ctimeNs: stats.ctimeNs, etag });
      return { size: Number(stats.size), modified: new Date(Number(stats.mtimeNs / 1_000_000n)), etag, ...(withBody ? { body } : {}) };
    } finally {
      await handle.close();
    }
  };

  /** Every listable key starting with prefix, in UTF-8 byte order. */
  const keysUnder = async (prefix: string): Promise<string[]> => {
    const directory = prefix.slice(0, prefix.lastIndexOf('/') + 1);
    // A prefix through a name no object can have (.., a dot name, an empty segment) matches nothing.
    if (directory !== '' && keyProblem(directory.slice(0, -1)) !== undefined) return [];
    const start = directory === '' ? root : join(root, ...directory.slice(0, -1).split('/'));
    if (!(await directoryWithin(start))) return [];
    const keys: string[] = [];
    const walk = async (path: string, keyPrefix: string): Promise<void> => {
      let entries: Dirent[];
      try {
        entries = await readdir(path, { withFileTypes: true });
      } catch (error) {
        if (isAbsent(error)) return;
        throw error;
      }
      for (const entry of entries) {
        if (entry.name.startsWith('.')) continue;
        const key = keyPrefix + entry.name;
        if (entry.isDirectory()) {
          const below = `${key}/`;
          if (below.startsWith(prefix) || prefix.startsWith(below)) await walk(join(path, entry.name), below);
        } else if (entry.isFile() && key.startsWith(prefix) && keyProblem(key) === undefined) {
          keys.push(key);
        }
      }
    };
    await walk(start, directory);
    const sorted = keys.map((key) => ({ key, bytes: Buffer.from(key) }));
    sorted.sort((left, right) => compareKeys(left.bytes, right.bytes));
    return sorted.map(({ key }) => key);
  };

  const listObjects = async (query: URLSearchParams): Promise<string> => {
    const prefix = query.get('prefix') ?? '';
    const delimiter = query.get('delimiter') ?? '';
    const maxKeys = parseMaxKeys(query.get('max-keys'));
    const startAfter = query.get('start-after') ?? '';
    const continuation = query.get('continuation-token');
    const token = continuation === null ? undefined : decodeToken(continuation);
    const startBytes = Buffer.from(startAfter);
    const tokenBytes = token ? Buffer.from(token.k) : undefined;
    const items: Item[] = [];
    let truncated = false;
    let lastPrefix: string | undefined;
    for (const key of await keysUnder(prefix)) {
      const bytes = Buffer.from(key);
      if (startAfter !== '' && compareKeys(bytes, startBytes) <= 0) continue;
      if (token && tokenBytes && (compareKeys(bytes, tokenBytes) <= 0 || (token.p && key.startsWith(token.k)))) continue;
      let item: Item = { key };
      if (delimiter !== '') {
        const at = key.indexOf(delimiter, prefix.length);
        if (at >= 0) {
          const common = key.slice(0, at + delimiter.length);
          if (common === lastPrefix) continue;
          lastPrefix = common;
          item = { prefix: common };
        }
      }
      if (items.length === maxKeys) {
        truncated = maxKeys > 0;
        break;
      }
      items.push(item);
    }
    const contents: string[] = [];
    const prefixes: string[] = [];
    let counted = 0;
    for (const item of items) {
      if ('prefix' in item) {
        prefixes.push(`<CommonPrefixes>${element('Prefix', item.prefix)}</CommonPrefixes>`);
        counted += 1;
        continue;
      }
      // A file deleted since the walk is left out.
      const facts = await readObject(join(root, ...item.key.split('/')), false);
      if (!facts) continue;
      counted += 1;
      contents.push(
        `<Contents>${element('Key', item.key)}${element('LastModified', facts.modified.toISOString())}${element('ETag', facts.etag)}${element('Size', facts.size)}${element('StorageClass', 'STANDARD')}</Contents>`,
      );
    }
    const last = items.at(-1);
    const next = truncated && last ? encodeToken('prefix' in last ? { k: last.prefix, p: true } : { k: last.key, p: false }) : undefined;
    return xmlDocument(
      `<ListBucketResult xmlns="${S3_XML_NAMESPACE}">` +
        element('Name', bucket) +
        element('Prefix', prefix) +
        (continuation === null ? '' : element('ContinuationToken', continuation)) +
        (next === undefined ? '' : element('NextContinuationToken', next)) +
        (startAfter === '' ? '' : element('StartAfter', startAfter)) +
        element('KeyCount', counted) +
        element('MaxKeys', maxKeys) +
        (delimiter === '' ? '' : element('Delimiter', delimiter)) +
        element('IsTruncated', truncated) +
        contents.join('') +
        prefixes.join('') +
        '</ListBucketResult>',
    );
  };

  const deleteObject = async (key: string): Promise<void> => {
    const path = fileOf(key);
    if (!(await directoryWithin(dirname(path)))) return;
    try {
      await unlink(path);
    } catch (error) {
      // Missing, or a directory (no object): deleting it is done already.
      if (!isAbsent(error) && errorCode(error) !== 'EISDIR' && errorCode(error) !== 'EPERM') throw error;
    }
    etags.delete(path);
  };

  const deleteObjects = async (request: IncomingMessage): Promise<string> => {
    const { body } = await readPayload(request, MAX_DELETE_BODY_BYTES);
    const text = body.toString('utf8');
    if (!/^\s*(?:<\?xml[^>]*\?>\s*)?<Delete[\s>]/.test(text) || !/<\/Delete>\s*$/.test(text)) throw new S3Error(400, 'MalformedXML', 'The XML you provided was not well-formed or did not validate against our published schema');
    const objects = [...text.matchAll(/<Object>([\s\S]*?)<\/Object>/g)].map((match) => match[1] ?? '');
    if (objects.length === 0 || objects.length > MAX_DELETE_KEYS) throw new S3Error(400, 'MalformedXML', `A Delete names 1 to ${MAX_DELETE_KEYS} objects; this one names ${objects.length}`);
    const quiet = /<Quiet>\s*true\s*<\/Quiet>/i.test(text);
    const results: string[] = [];
    for (const object of objects) {
      const found = /<Key>([\s\S]*?)<\/Key>/.exec(object);
      if (!found) throw new S3Error(400, 'MalformedXML', 'An Object of the Delete has no Key');
      const key = unescapeXml(found[1] ?? '');
      try {
        if (/<VersionId>/.test(object)) throw notImplemented('Deleting an object version');
        await deleteObject(key);
        if (!quiet) results.push(`<Deleted>${element('Key', key)}</Deleted>`);
      } catch (error) {
        if (!(error instanceof S3Error)) throw error;
        results.push(`<Error>${element('Key', key)}${element('Code', error.code)}${element('Message', error.message)}</Error>`);
      }
    }
    return xmlDocument(`<DeleteResult xmlns="${S3_XML_NAMESPACE}">${results.join('')}</DeleteResult>`);
  };

  const putObject = async (request: IncomingMessage, key: string): Promise<OutgoingHttpHeaders> => {
    const path = fileOf(key);
    const { body, checksums } = await readPayload(request, MAX_OBJECT_BYTES);
    const segments = key.split('/');
    const directory = await ensureDirectories(key, segments.slice(0, -1));
    const temp = join(directory, `.${randomBytes(12).toString('hex')}.tmp`);
    const etag = `"${createHash('md5').update(body).digest('hex')}"`;
    let renamed = false;
    const handle = await open(temp, 'wx');
    try {
      await handle.writeFile(body);
      try {
        await rename(temp, path);
      } catch (error) {
        const code = errorCode(error);
        if (code === 'EISDIR' || code === 'ENOTEMPTY' || code === 'EEXIST') {
          throw new S3Error(400, 'InvalidArgument', 'the key is the directory of other objects: objects are files here, and a directory is no file', { Key: key });
        }
        throw error;
      }
      renamed = true;
      // The handle's file is the one renamed (whatever a concurrent write renamed since): its facts, after the rename changed its ctime.
      const stats = await handle.stat({ bigint: true });
      remember(path, { ino: stats.ino, size: stats.size, mtimeNs: stats.mtimeNs, ctimeNs: stats.ctimeNs, etag });
    } finally {
      await handle.close();
      if (!renamed) await unlink(temp).catch(() => undefined);
    }
    return { etag, ...checksums };
  };

  const server: Server = createServer((request, response) => {
    void handle(request, response);
  });

  const handle = async (request: IncomingMessage, response: ServerResponse): Promise<void> => {
    const requestId = randomBytes(8).toString('hex').toUpperCase();
    const head = request.method === 'HEAD';
    const hasBody = (request.headers['content-length'] !== undefined && request.headers['content-length'] !== '0') || request.headers['transfer-encoding'] !== undefined;
    const common = { 'x-amz-request-id': requestId, 'x-amz-id-2': requestId };
    const send = (status: number, headers: OutgoingHttpHeaders, body?: Buffer | string): void => {
      // A request whose body was not read (refused early) ends its connection, so no stray bytes start the next request.
      const close = request.complete || !hasBody ? {} : { connection: 'close' };
      response.writeHead(status, { ...common, ...close, ...headers, ...(body === undefined ? {} : { 'content-length': Buffer.byteLength(body) }) });
      response.end(head ? undefined : body);
    };
    const sendXml = (status: number, xml: string): void => send(status, { 'content-type': 'application/xml' }, xml);
    try {
      const url = request.url ?? '/';
      const mark = url.indexOf('?');
      const rawPath = mark < 0 ? url : url.slice(0, mark);
      const query = new URLSearchParams(mark < 0 ? '' : url.slice(mark + 1));
      const host = (header(request, 'host') ?? '').replace(/:\d+$/, '').replace(/^\[(.*)\]$/, '$1');
      if (host !== '' && host !== 'localhost' && isIP(host) === 0) throw notImplemented(`A request to host ${host} (virtual-hosted style)`);
      const slash = rawPath.indexOf('/', 1);
      let requestBucket: string;
      let key: string;
      try {
        requestBucket = decodeURIComponent(rawPath.slice(1, slash < 0 ? undefined : slash));
        key = slash < 0 ? '' : decodeURIComponent(rawPath.slice(slash + 1));
      } catch {
        throw new S3Error(400, 'InvalidURI', 'Couldn\'t parse the specified URI.');
      }
      if (requestBucket === '') throw notImplemented('ListBuckets');
      if (requestBucket !== bucket) throw new S3Error(404, 'NoSuchBucket', 'The specified bucket does not exist', { BucketName: requestBucket });
      const conditional = CONDITIONAL_HEADERS.find((name) => request.headers[name] !== undefined);
      if (conditional) throw notImplemented(`The conditional header ${conditional}`);
      const method = request.method ?? '';

      if (key === '') {
        if (method === 'GET' && query.get('list-type') === '2') {
          const other = [...query.keys()].find((name) => !LIST_PARAMETERS.has(name));
          if (other) throw notImplemented(`The ListObjectsV2 parameter ${other}`);
          request.resume();
          sendXml(200, await listObjects(query));
          return;
        }
        if (method === 'POST' && query.has('delete')) {
          sendXml(200, await deleteObjects(request));
          return;
        }
        if (method === 'HEAD' && [...query.keys()].every((name) => name === 'x-id')) {
          request.resume();
          send(200, { 'x-amz-bucket-region': 'local' });
          return;
        }
        throw notImplemented(`${method} on a bucket${[...query.keys()].length > 0 ? ` with ${[...query.keys()].join(', ')}` : ''}`);
      }

      const other = [...query.keys()].find((name) => !OBJECT_PARAMETERS.has(name));
      if (other) throw notImplemented(`${method} of an object with the parameter ${other}`);
      if (method === 'PUT') {
        if (request.headers['x-amz-copy-source'] !== undefined) throw notImplemented('CopyObject');
        send(200, await putObject(request, key));
        return;
      }
      if (method === 'DELETE') {
        request.resume();
        await deleteObject(key);
        send(204, {});
        return;
      }
      if (method === 'GET' || method === 'HEAD') {
        request.resume();
        const object = await readObject(fileOf(key), !head);
        if (!object) throw new S3Error(404, 'NoSuchKey', 'The specified key does not exist.', { Key: key });
        const headers: OutgoingHttpHeaders = {
          'content-type': key.endsWith('.json') ? 'application/json' : 'application/octet-stream',
          etag: object.etag,
          'last-modified': object.modified.toUTCString(),
          'accept-ranges': 'bytes',
        };
        const range = byteRange(header(request, 'range'), object.size);
        const body = object.body ?? Buffer.alloc(0);
        if (range) {
          response.writeHead(206, { ...common, ...headers, 'content-range': `bytes ${range.start}-${range.end}/${object.size}`, 'content-length': range.end - range.start + 1 });
          response.end(head ? undefined : body.subarray(range.start, range.end + 1));
        } else {
          response.writeHead(200, { ...common, ...headers, 'content-length': object.size });
          response.end(head ? undefined : body);
        }
        return;
      }
      throw notImplemented(`${method} of an object`);
    } catch (error) {
      const failure = error instanceof S3Error ? error : new S3Error(500, 'InternalError', error instanceof Error ? error.message : String(error));
      if (response.headersSent) {
        response.destroy();
        return;
      }
      const details = Object.entries(failure.details)
        .map(([name, value]) => element(name, value))
        .join('');
      sendXml(failure.status, xmlDocument(`<Error>${element('Code', failure.code)}${element('Message', failure.message)}${details}${element('RequestId', requestId)}${element('HostId', requestId)}</Error>`));
    }
  };

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
  });
  const address = server.address() as AddressInfo;
  return {
    endpoint: `http://${address.address}:${address.port}`,
    close: async () => {
      const closing = new Promise<void>((resolve) => server.close(() => resolve()));
      // The SDK keeps its sockets alive; close() alone would wait for them.
      server.closeAllConnections();
      await closing;
    },
  };
};

/** One `bytes=` range of an object of `size` bytes (inclusive ends), undefined for none; S3 refuses a range past the end. */
const byteRange = (text: string | undefined, size: number): { start: number; end: number } | undefined => {
  if (text === undefined) return undefined;
  const match = /^bytes=(\d*)-(\d*)$/.exec(text.trim());
  if (!match || (match[1] === '' && match[2] === '')) {
    if (text.includes(',')) throw notImplemented('A request for several byte ranges');
    // S3 ignores a Range it cannot read and answers the whole object.
    return undefined;
  }
  const first = match[1] ?? '';
  const second = match[2] ?? '';
  let start: number;
  let end: number;
  if (first === '') {
    start = Math.max(0, size - Number(second));
    end = size - 1;
  } else {
    start = Number(first);
    end = second === '' ? size - 1 : Math.min(Number(second), size - 1);
    if (second !== '' && Number(second) < start) return undefined;
  }
  if (start >= size || (first === '' && Number(second) === 0)) {
    throw new S3Error(416, 'InvalidRange', 'The requested range is not satisfiable', { ActualObjectSize: String(size), RangeRequested: text });
  }
  return { start, end };
};
