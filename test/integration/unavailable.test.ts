import {
  InternalServerError,
  ProvisionedThroughputExceededException,
  RequestLimitExceeded,
  ThrottlingException,
  TransactionCanceledException,
} from '@aws-sdk/client-dynamodb';
import { createServer, type Server, type Socket } from 'node:net';
import { createDocumentClient, dbFromEnv, SDK_MAX_ATTEMPTS } from '../../functions/platform/db';
import { unavailabilityOf } from '../../functions/platform/errors';
import { auditTableName } from '../../functions/platform/table';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { startLocalApi } from '../../bin/local/api-server';
import { setupCatalog, startTestApi, type Client, type TestApi } from '../support/api';

/**
 * The database unreachable, throttled, failing or slow is a 503 UNAVAILABLE with Retry-After,
 * after the SDK's own retries, and writes nothing; never a 500. Each failure is injected into
 * the very client the handlers use (dbFromEnv), by a middleware inside the SDK's retry loop, so
 * the SDK retries it exactly as it would a real one.
 */
let t: TestApi;
let c: Client;
let token: string;
beforeAll(async () => {
  t = await startTestApi();
  c = await t.client();
  token = await t.issuer.sign({ tenantId: c.tenantId, role: 'admin' });
  await setupCatalog(c);
  await c.post('/api/inventory/update', { sku_id: 'sku-1', warehouse_id: 'wh-1', transaction_type: 'restock', quantity: 10 });
});
afterAll(() => t.close());

const INJECTOR = 'test-inject-failure';

/** Makes every call the filter picks fail with `failure()` until removed; counts the attempts that reached it. */
const inject = (failure: () => Error, picks: (commandName: string, input: { TableName?: unknown }) => boolean) => {
  let attempts = 0;
  dbFromEnv().client.middlewareStack.add(
    (next, context) => async (args) => {
      if (!picks(context.commandName ?? '', args.input as { TableName?: unknown })) return next(args);
      attempts++;
      throw failure();
    },
    // The deserialize step runs inside the retry middleware (finalizeRequest): the SDK retries what this throws.
    { step: 'deserialize', name: INJECTOR, override: true },
  );
  return {
    attempts: () => attempts,
    remove: () => dbFromEnv().client.middlewareStack.remove(INJECTOR),
  };
};

/** Writes of the domain's table: the audit trail's own put (its table apart) still records the failed request. */
const isWrite = (commandName: string, input: { TableName?: unknown }): boolean =>
  /Put|Update|Delete|TransactWrite|BatchWrite/.test(commandName) && input.TableName !== auditTableName();
const everyCall = (): boolean => true;

const socketError = (code: string, message: string): Error => Object.assign(new Error(message), { code });
const metadata = (httpStatusCode: number) => ({ $metadata: { httpStatusCode } });

/** Each failure as the SDK or Node delivers it; `retried`: whether the SDK's standard retry strategy retries it. */
const failures: [string, () => Error, boolean][] = [
  ['ECONNREFUSED', () => socketError('ECONNREFUSED', 'connect ECONNREFUSED 127.0.0.1:8000'), true],
  ['ECONNRESET', () => socketError('ECONNRESET', 'read ECONNRESET'), true],
  ['socket hang up', () => socketError('ECONNRESET', 'socket hang up'), true],
  ['the SDK request timeout', () => Object.assign(new Error('@smithy/node-http-handler - [ERROR] a request has exceeded the configured 3000 ms requestTimeout.'), { name: 'TimeoutError' }), true],
  ['RequestTimeoutException', () => Object.assign(new Error('request timed out'), { name: 'RequestTimeoutException', ...metadata(400) }), true],
  ['ThrottlingException', () => new ThrottlingException({ message: 'Rate of requests exceeds the allowed throughput.', ...metadata(400) }), true],
  ['ProvisionedThroughputExceededException', () => new ProvisionedThroughputExceededException({ message: 'The level of configured provisioned throughput for the table was exceeded.', ...metadata(400) }), true],
  ['RequestLimitExceeded', () => new RequestLimitExceeded({ message: 'Throughput exceeds the current throughput limit for your account.', ...metadata(400) }), true],
  ['InternalServerError', () => new InternalServerError({ message: 'Internal server error', ...metadata(500) }), true],
];

const call = async (method: string, path: string, body?: unknown, headers: Record<string, string> = {}) => {
  const res = await fetch(`${t.api.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, retryAfter: res.headers.get('retry-after'), body: (await res.json()) as { error?: { code: string; message: string; details: unknown } } };
};

const snapshot = async () => ({
  level: (await c.get('/api/inventory/sku/sku-1')).body,
  movements: (await c.get('/api/inventory/sku/sku-1/movements')).body.movements.length,
  orders: (await c.get('/api/orders/status/o-unavailable')).status,
  products: (await c.get('/api/products/prod-unavailable')).status,
});

const expectUnavailable = (res: Awaited<ReturnType<typeof call>>): void => {
  expect({ status: res.status, code: res.body.error?.code }).toEqual({ status: 503, code: 'UNAVAILABLE' });
  expect(Number(res.retryAfter)).toBeGreaterThan(0);
  expect(res.body.error?.message).toMatch(/same Idempotency-Key/);
  expect(res.body.error?.details).toEqual({ retry_after_seconds: Number(res.retryAfter) });
};

const sale = { sku_id: 'sku-1', warehouse_id: 'wh-1', transaction_type: 'sale', quantity: 1 };

// The SDK's retry quota (a token bucket per client, 5 tokens a retry, 10 after a timeout, 500 in all)
// is shared by every injected failure in this file: these run first, and the file stays well inside it.
describe.each(failures)('%s from DynamoDB', (name, failure, retried) => {
  test('fails a stock change with 503 UNAVAILABLE and Retry-After after the SDK retried it, writing nothing', async () => {
    const before = await snapshot();
    const injected = inject(failure, isWrite);
    try {
      expectUnavailable(await call('POST', '/api/inventory/update', sale, { 'idempotency-key': `k-${name.replace(/\W/g, '-')}` }));
      expect(injected.attempts()).toBe(retried ? SDK_MAX_ATTEMPTS : 1);
    } finally {
      injected.remove();
    }
    expect(await snapshot()).toEqual(before);
  });

  test('fails a read with 503 UNAVAILABLE', async () => {
    const injected = inject(failure, everyCall);
    try {
      expectUnavailable(await call('GET', '/api/inventory/sku/sku-1'));
    } finally {
      injected.remove();
    }
  });
});

test.each(failures.filter(([name]) => name === 'ECONNRESET' || name === 'ThrottlingException'))(
  '%s fails an allocation and a create with 503 UNAVAILABLE, writing nothing',
  async (_name, failure) => {
    const before = await snapshot();
    const injected = inject(failure, isWrite);
    try {
      expectUnavailable(await call('POST', '/api/orders/allocate', { order_id: 'o-unavailable', lines: [{ sku_id: 'sku-1', quantity: 1 }], ship_to: { latitude: 40, longitude: -74 } }));
      expectUnavailable(await call('POST', '/api/products', { product_id: 'prod-unavailable', name: 'Never stored' }));
    } finally {
      injected.remove();
    }
    expect(await snapshot()).toEqual(before);
  },
);

test('the request refused with 503, repeated with the same Idempotency-Key once the database is back, applies exactly once', async () => {
  const before = (await c.get('/api/inventory/sku/sku-1')).body.levels[0].on_hand;
  const injected = inject(() => new ThrottlingException({ message: 'Rate exceeded', ...metadata(400) }), isWrite);
  try {
    expectUnavailable(await call('POST', '/api/inventory/update', sale, { 'idempotency-key': 'retry-me' }));
  } finally {
    injected.remove();
  }
  expect((await call('POST', '/api/inventory/update', sale, { 'idempotency-key': 'retry-me' })).status).toBe(200);
  expect((await call('POST', '/api/inventory/update', sale, { 'idempotency-key': 'retry-me' })).status).toBe(200);
  expect((await c.get('/api/inventory/sku/sku-1')).body.levels[0].on_hand).toBe(before - 1);
});

test('a sale whose write landed but whose read-back failed is 503; its retry with the same Idempotency-Key answers the level and sells nothing more', async () => {
  const before = (await c.get('/api/inventory/sku/sku-1')).body.levels[0].on_hand;
  // Fails only the reads after the transaction went out: the change is committed, its answer is not.
  let transactionSent = false;
  const injected = inject(
    () => new ThrottlingException({ message: 'Rate exceeded', ...metadata(400) }),
    (commandName) => {
      if (commandName === 'TransactWriteItemsCommand') transactionSent = true;
      return transactionSent && commandName === 'GetItemCommand';
    },
  );
  try {
    expectUnavailable(await call('POST', '/api/inventory/update', sale, { 'idempotency-key': 'read-back-lost' }));
  } finally {
    injected.remove();
  }
  expect((await c.get('/api/inventory/sku/sku-1')).body.levels[0].on_hand).toBe(before - 1);
  const retried = await call('POST', '/api/inventory/update', sale, { 'idempotency-key': 'read-back-lost' });
  expect(retried.status).toBe(200);
  expect(retried.body).toMatchObject({ sku_id: 'sku-1', on_hand: before - 1 });
  expect((await c.get('/api/inventory/sku/sku-1')).body.levels[0].on_hand).toBe(before - 1);
});

// functions/platform/transactions.ts rethrows a throttled-only cancellation instead of re-planning it.
test('a transaction DynamoDB cancelled only for throttling is a 503 UNAVAILABLE, not a conflict, and writes nothing', async () => {
  const before = await snapshot();
  const throttled = () =>
    new TransactionCanceledException({
      message: 'Transaction cancelled, please refer cancellation reasons for specific reasons [ThrottlingError, None]',
      ...metadata(400),
      CancellationReasons: [{ Code: 'ThrottlingError', Message: 'Throughput exceeds the current capacity of your table or index.' }, { Code: 'None' }],
    });
  const injected = inject(throttled, (name) => name.startsWith('TransactWrite'));
  try {
    expectUnavailable(await call('POST', '/api/orders/allocate', { order_id: 'o-unavailable', lines: [{ sku_id: 'sku-1', quantity: 1 }], ship_to: { latitude: 40, longitude: -74 } }));
  } finally {
    injected.remove();
  }
  expect(await snapshot()).toEqual(before);
});

test('an unexpected error is still a 500 INTERNAL (only the database being away is a 503)', async () => {
  const injected = inject(() => new TypeError('a bug'), everyCall);
  try {
    const res = await call('GET', '/api/inventory/sku/sku-1');
    expect({ status: res.status, code: res.body.error?.code, retryAfter: res.retryAfter }).toEqual({ status: 500, code: 'INTERNAL', retryAfter: null });
    expect(res.body.error?.details).toEqual({});
  } finally {
    injected.remove();
  }
});

test('a database too slow for the Lambda deadline is a 503 TIMEOUT with Retry-After, in the error shape', async () => {
  // 3.5 s of Lambda time: the handler keeps 3 s back, and middy answers just before the end.
  const shortLived = await startLocalApi({ issuer: t.issuer, functionTimeoutMs: 3_500 });
  let release: () => void = () => undefined;
  const held = new Promise<void>((done) => (release = done));
  dbFromEnv().client.middlewareStack.add(
    (next) => async (args) => {
      await held;
      return next(args);
    },
    { step: 'deserialize', name: INJECTOR, override: true },
  );
  try {
    const res = await fetch(`${shortLived.url}/api/inventory/sku/sku-1`, { headers: { authorization: `Bearer ${token}` } });
    const body = (await res.json()) as { error: { code: string; message: string; details: unknown } };
    expect({ status: res.status, code: body.error.code, retryAfter: res.headers.get('retry-after') }).toEqual({ status: 503, code: 'TIMEOUT', retryAfter: '1' });
    expect(body.error.message).toMatch(/same Idempotency-Key/);
    expect(body.error.details).toEqual({ retry_after_seconds: 1 });
  } finally {
    dbFromEnv().client.middlewareStack.remove(INJECTOR);
    release();
    await shortLived.close();
  }
});

test.each<[string, unknown, string | undefined]>([
  ['Node\'s AggregateError of refused addresses (happy eyeballs)', new AggregateError([socketError('ECONNREFUSED', 'connect ECONNREFUSED ::1:8000')], ''), 'ECONNREFUSED'],
  ['a 503 with an unknown name', Object.assign(new Error('Service Unavailable'), { name: 'Unknown', $metadata: { httpStatusCode: 503 } }), 'HTTP 503'],
  ['a failed condition', Object.assign(new Error('The conditional request failed'), { name: 'ConditionalCheckFailedException', $metadata: { httpStatusCode: 400 } }), undefined],
  ['a ValidationException (a bug or bad input, not an outage)', Object.assign(new Error('bad key'), { name: 'ValidationException', $metadata: { httpStatusCode: 400 } }), undefined],
  [
    'a cancellation with a failed condition beside the throttling',
    new TransactionCanceledException({ message: 'cancelled', ...metadata(400), CancellationReasons: [{ Code: 'ConditionalCheckFailed' }, { Code: 'ThrottlingError' }] }),
    undefined,
  ],
  ['a plain bug', new TypeError('x is undefined'), undefined],
])('unavailabilityOf: %s', (_name, error, expected) => {
  expect(unavailabilityOf(error)).toBe(expected);
});

describe('the client timeouts are real', () => {
  let blackHole: Server;
  const sockets: Socket[] = [];
  beforeAll(async () => {
    // Accepts connections and never answers: a database that hangs.
    blackHole = createServer((socket) => void sockets.push(socket));
    await new Promise<void>((done) => blackHole.listen(0, '127.0.0.1', done));
  });
  afterAll(async () => {
    for (const socket of sockets) socket.destroy();
    await new Promise((done) => blackHole.close(done));
  });

  test('a database that accepts and never answers fails the call with a TimeoutError, which counts as unavailable', async () => {
    const address = blackHole.address();
    if (address === null || typeof address === 'string') throw new Error('no port');
    const client = createDocumentClient(`http://127.0.0.1:${address.port}`, { connectionMs: 200, requestMs: 300 });
    const started = Date.now();
    const error: unknown = await client.send(new GetCommand({ TableName: 'any', Key: { pk: 'a', sk: 'b' } })).then(
      () => undefined,
      (thrown: unknown) => thrown,
    );
    expect(unavailabilityOf(error)).toBe('TimeoutError');
    // Three attempts of 300 ms and the SDK's backoff, not forever.
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(sockets.length).toBe(SDK_MAX_ATTEMPTS);
    client.destroy();
  });
});
