import * as z from 'zod';
import { LocalAlarms, localSamplers, ALARM_SOURCE, ALARM_STATE_CHANGE } from '../../bin/local/alarms';
import { LocalBus } from '../../bin/local/bus';
import { lambdaContext } from '../../bin/local/lambda-context';
import { LocalQueue } from '../../bin/local/queues';
import { registerUser } from '../../functions/identity/users';
import { LOCAL_MODE_ENV } from '../../functions/notifications/model';
import { localSenders } from '../../functions/notifications/senders';
import { subscribe } from '../../functions/notifications/subscriptions';
import { systemUnhealthy } from '../../functions/operations/alarms';
import { notifyOperationsBatch, OPERATIONS_TENANT_ENV } from '../../functions/operations/notify-operations';
import { dbFromEnv } from '../../functions/platform/db';
import { httpHandler, type HttpEvent } from '../../functions/platform/http';
import { CLAIMS } from '../../functions/platform/permissions';
import type { TokenRoute } from '../../functions/platform/routes';
import { keys } from '../../functions/platform/keys';
import { queryAll } from '../../functions/platform/storage';
import { eventConsumers } from '../../functions/wiring';
import { newTenantId } from '../support/api';
import { contextFor, testDb } from '../support/domain';

/**
 * Issue 14 end to end, in process as npm start wires it: the same alarm declarations evaluated
 * locally (1-second periods on a clock the test moves), their state changes on the bus as
 * CloudWatch's events, the operational-alert consumer behind its queue, and the local outbox.
 * Something breaks (a message dead-lettered; a handler answering 500s): exactly one operational
 * alert per alarm that went off lands in the outbox, and one resolution when the condition clears.
 */
const PERIOD_MS = 1000;
const db = testDb();
const tenant = newTenantId();
const saved = { ops: process.env[OPERATIONS_TENANT_ENV], local: process.env[LOCAL_MODE_ENV] };

interface Outboxed { subject: string; event_type: string; alert_id: string }
const outbox = async (): Promise<Outboxed[]> =>
  queryAll(db, { partition: keys.outbox(tenant) }, (item) => z.object({ subject: z.string(), event_type: z.string(), alert_id: z.string() }).parse(item));

let bus: LocalBus;
let opsQueue: LocalQueue;
let broken: LocalQueue;
let evaluator: LocalAlarms;
let now = 0;
const advance = async (periods: number): Promise<void> => {
  const to = now + periods * PERIOD_MS;
  while (now < to) {
    now += PERIOD_MS / 4;
    evaluator.tick(now);
  }
  await evaluator.idle();
  // The bus hands events to its rules' targets on a later turn: let them reach the queue, then drain it.
  await new Promise((done) => setTimeout(done, 50));
  await opsQueue.drain(10_000);
};

beforeAll(async () => {
  process.env[OPERATIONS_TENANT_ENV] = tenant;
  process.env[LOCAL_MODE_ENV] = '1';
  await subscribe({ db, ctx: contextFor(tenant) }, { scope: { operations: true }, channel: 'email', target: 'ops@example.com', min_severity: 'normal' });
  bus = new LocalBus();
  const declared = eventConsumers.notifyOperations;
  opsQueue = new LocalQueue({ name: 'notifyOperations', ...declared.queue, visibilityTimeoutSeconds: 1, handler: (event) => notifyOperationsBatch({ db, senders: localSenders(db) }, event) });
  bus.addRule({ name: 'notifyOperations-queue', pattern: declared.pattern, targets: [(event) => void opsQueue.send(JSON.stringify(event))] });
  opsQueue.start();
  // A consumer that throws at every message, dead-lettering it after one receive.
  broken = new LocalQueue({ name: 'evaluateAlerts', maxReceives: 1, visibilityTimeoutSeconds: 1, batchSize: 1, handler: () => Promise.reject(new Error('the consumer is broken')) });
  broken.start();
  now = Math.ceil(Date.now() / PERIOD_MS) * PERIOD_MS;
  evaluator = new LocalAlarms({ bus, periodSeconds: 1, now: () => now, tickMs: 3_600_000, tableName: 'local-test', samplers: localSamplers({ consumers: { queues: { evaluateAlerts: broken }, syncQueues: {} } }) }).start();
  await advance(2);
});

afterAll(async () => {
  await evaluator.stop();
  await broken.stop();
  await opsQueue.stop();
  process.env[OPERATIONS_TENANT_ENV] = saved.ops;
  if (saved.local === undefined) delete process.env[LOCAL_MODE_ENV];
  else process.env[LOCAL_MODE_ENV] = saved.local;
});

const raisedFor = (entries: Outboxed[], alarm: string) => entries.filter((e) => e.alert_id === `ops:${alarm}:ALARM`);
const resolvedFor = (entries: Outboxed[], alarm: string) => entries.filter((e) => e.alert_id === `ops:${alarm}:OK`);

test('the first state changes (INSUFFICIENT_DATA to OK) reach the consumer and tell nobody', async () => {
  expect(bus.find({ source: [ALARM_SOURCE], 'detail-type': [ALARM_STATE_CHANGE] }).length).toBeGreaterThan(100);
  expect(await outbox()).toEqual([]);
});

test('a dead-lettered message raises one operational alert for its queue, and one resolution once the queue is emptied', async () => {
  const alarm = 'Stockroom-deadLetters-evaluateAlerts';
  broken.send(JSON.stringify({ source: 'stockroom', 'detail-type': 'StockLevelChanged', detail: {} }));
  await broken.drain(5_000);
  expect(broken.deadLetters).toHaveLength(1);
  await advance(2);
  await advance(3);
  let entries = await outbox();
  expect(raisedFor(entries, alarm)).toHaveLength(1);
  expect(raisedFor(entries, alarm)[0]).toMatchObject({ event_type: 'OperationalAlertRaised', subject: `[Stockroom] ALARM: ${alarm}` });
  expect(resolvedFor(entries, alarm)).toEqual([]);
  // What went off: the queue's dead letters, its consumer's errors (Lambda Errors, a warning) and, the DLQ alarm being critical, the composite.
  expect(entries.filter((e) => e.event_type === 'OperationalAlertRaised').map((e) => e.alert_id).sort()).toEqual(
    [`ops:${alarm}:ALARM`, 'ops:Stockroom-lambdaErrors-evaluateAlerts:ALARM', `ops:Stockroom-${systemUnhealthy.key}:ALARM`].sort(),
  );
  broken.deadLetters.splice(0);
  await advance(3);
  entries = await outbox();
  expect(raisedFor(entries, alarm)).toHaveLength(1);
  expect(resolvedFor(entries, alarm)).toHaveLength(1);
  expect(resolvedFor(entries, alarm)[0]).toMatchObject({ event_type: 'OperationalAlertResolved', subject: `[Stockroom] resolved: ${alarm}` });
  expect(resolvedFor(entries, `Stockroom-${systemUnhealthy.key}`)).toHaveLength(1);
});

test('a handler answering 500s raises one operational alert for the 5xx rate of its route class, resolved when the 500s stop; the composite goes off again but its notice is throttled within the hour', async () => {
  const alarm = 'Stockroom-apiServerErrors-write';
  const composite = `Stockroom-${systemUnhealthy.key}`;
  await registerUser(dbFromEnv(), tenant, { userId: 'u-ops', email: 'u-ops@users.test', role: 'admin' });
  // A route whose function has a bug: every call is a 500 INTERNAL (the HTTP layer's answer to an unexpected error).
  const route: TokenRoute = { method: 'POST', path: '/api/test-broken', entry: 'functions/none.ts', permission: 'inventory:write', table: 'write', summary: 'a broken route', response: z.object({}) };
  const brokenHandler = httpHandler(route, async () => {
    throw new Error('a bug');
  });
  const request = (i: number): HttpEvent => ({
    version: '2.0',
    routeKey: 'POST /api/test-broken',
    rawPath: '/api/test-broken',
    rawQueryString: '',
    headers: { host: 'localhost' },
    isBase64Encoded: false,
    requestContext: {
      accountId: '000000000000', apiId: 'local', domainName: 'localhost', domainPrefix: 'localhost',
      http: { method: 'POST', path: '/api/test-broken', protocol: 'HTTP/1.1', sourceIp: '127.0.0.1', userAgent: 'test' },
      requestId: `r-${i}`, routeKey: 'POST /api/test-broken', stage: '$default', time: new Date().toISOString(), timeEpoch: Date.now(),
      authorizer: { principalId: '', integrationLatency: 0, jwt: { scopes: [], claims: { [CLAIMS.tenant]: tenant, [CLAIMS.role]: 'admin', [CLAIMS.subject]: 'u-ops' } } },
    },
  });
  let statuses: number[] = [];
  // 20 requests a period for 4 periods, every one a 500.
  for (let period = 0; period < 4; period += 1) {
    const answers = await Promise.all(Array.from({ length: 20 }, (_, i) => brokenHandler(request(period * 20 + i), lambdaContext('test-broken', `r-${period}-${i}`))));
    statuses = [...statuses, ...answers.map((a) => a.statusCode ?? 0)];
    await advance(1);
  }
  expect(new Set(statuses)).toEqual(new Set([500]));
  expect(evaluator.state(alarm)).toBe('ALARM');
  expect(evaluator.state(composite)).toBe('ALARM');
  let entries = await outbox();
  expect(raisedFor(entries, alarm)).toHaveLength(1);
  // The composite told its subscriber at the dead letters, within this throttle window: not again.
  expect(raisedFor(entries, composite)).toHaveLength(1);
  await advance(8);
  expect(evaluator.state(alarm)).toBe('OK');
  entries = await outbox();
  expect(raisedFor(entries, alarm)).toHaveLength(1);
  expect(resolvedFor(entries, alarm)).toHaveLength(1);
  expect(resolvedFor(entries, composite)).toHaveLength(1);
  expect(evaluator.state(composite)).toBe('OK');
  // Reads were fine throughout: nobody heard of them.
  expect(raisedFor(entries, 'Stockroom-apiServerErrors-read')).toEqual([]);
});
