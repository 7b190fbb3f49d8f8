import { alarmInstances } from '../../functions/operations/alarm-resources';
import { alarms, parseAlarmName, REPORT_DEADLINE_MS, systemUnhealthy } from '../../functions/operations/alarms';
import { alarmStateChangeDetail, operationalEventOf } from '../../functions/operations/notify-operations';
import { DEFAULT_DEADLINE_MS } from '../../functions/platform/lake';
import { publishMetrics } from '../../functions/platform/metrics';
import { ALARM_SOURCE, ALARM_STATE_CHANGE, LocalAlarms, localSamplers, statistic } from '../../bin/local/alarms';
import { LocalBus, type BusEvent } from '../../bin/local/bus';
import { LocalQueue } from '../../bin/local/queues';

/**
 * The local evaluator (bin/local/alarms.ts) over the one declaration of alarms: with 1-second
 * periods (--alarm-period-seconds 1) on a clock the test moves, a burst of 5xx moves the 5xx alarm
 * of its route class to ALARM exactly once and back to OK when the burst stops; a dead-lettered
 * message does the same for its queue's DLQ alarm; each change is one bus event of CloudWatch's
 * shape, which the operational-alert consumer reads (its own schema) as one raised and one resolved alert.
 */
const PERIOD_MS = 1000;
const PREFIX = 'Stockroom';

const setup = (options: { samplers?: ConstructorParameters<typeof LocalAlarms>[0]['samplers'] } = {}) => {
  const bus = new LocalBus();
  let now = Math.ceil(Date.now() / PERIOD_MS) * PERIOD_MS;
  const evaluator = new LocalAlarms({ bus, periodSeconds: PERIOD_MS / 1000, now: () => now, tickMs: 3_600_000, tableName: 'local-test', ...options }).start();
  /** Moves the clock to `to`, sampling every quarter period as npm start does, and evaluates each period that ends. */
  const advance = (to: number, during?: (at: number) => void) => {
    while (now < to) {
      now += PERIOD_MS / 4;
      during?.(now);
      evaluator.tick(now);
    }
  };
  const eventsOf = (alarmName: string): BusEvent[] => bus.find({ source: [ALARM_SOURCE], 'detail-type': [ALARM_STATE_CHANGE], detail: { alarmName: [alarmName] } });
  return { bus, evaluator, advance, eventsOf, start: now, at: () => now };
};

const expectCloudWatchShape = (event: BusEvent, alarmName: string): void => {
  expect(event).toMatchObject({
    version: '0',
    source: 'aws.cloudwatch',
    'detail-type': 'CloudWatch Alarm State Change',
    account: '000000000000',
    region: 'local',
    resources: [`arn:aws:cloudwatch:local:000000000000:alarm:${alarmName}`],
  });
  expect(event.time).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
  const detail = event.detail as Record<string, any>;
  expect(detail.alarmName).toBe(alarmName);
  for (const state of [detail.state, detail.previousState]) {
    expect(state).toEqual(expect.objectContaining({ value: expect.stringMatching(/^(OK|ALARM|INSUFFICIENT_DATA)$/), reason: expect.any(String), timestamp: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+0000$/) }));
  }
  expect(detail.configuration.description).toEqual(expect.any(String));
  expect(alarmStateChangeDetail.safeParse(detail).success).toBe(true);
};

afterEach(() => jest.restoreAllMocks());

describe('the declaration', () => {
  test('a report is held to its deadline plus a second, the deadline being the lake\'s', () => {
    expect(REPORT_DEADLINE_MS).toBe(DEFAULT_DEADLINE_MS);
    expect(alarms.reportLatency.threshold).toBe(DEFAULT_DEADLINE_MS + 1000);
    expect(alarms.readLatency.threshold).toBe(200);
    expect(alarms.writeLatency.threshold).toBe(200);
  });

  test('every alarm name leads back to its declaration and resource', () => {
    for (const instance of alarmInstances()) {
      const name = `${PREFIX}-${instance.id}`;
      expect({ name, parsed: parseAlarmName(name) }).toEqual({ name, parsed: { prefix: PREFIX, key: instance.key, ...(instance.resource === undefined ? {} : { resource: instance.resource }) } });
    }
    expect(parseAlarmName(`my-stack-${systemUnhealthy.key}`)).toEqual({ prefix: 'my-stack', key: systemUnhealthy.key });
    expect(parseAlarmName('someone-elses-alarm')).toBeUndefined();
  });

  test('statistics as CloudWatch computes them', () => {
    const values = Array.from({ length: 100 }, (_, i) => i + 1);
    expect(statistic('Sum', values)).toBe(5050);
    expect(statistic('Average', values)).toBe(50.5);
    expect(statistic('Maximum', values)).toBe(100);
    expect(statistic('p99', values)).toBe(99);
    expect(statistic('p50', values)).toBe(50);
    expect(statistic('p99', [])).toBeUndefined();
  });
});

describe('the local evaluator', () => {
  test('a burst of 5xx moves the write 5xx alarm to ALARM exactly once, and back to OK when the lines stop; one bus event per change', async () => {
    const { evaluator, advance, eventsOf, start } = setup();
    const name = `${PREFIX}-apiServerErrors-write`;
    // 20 write requests a period, all 500s, for 4 periods: the EMF lines the HTTP layer publishes.
    const burst = (at: number) => {
      if (at % PERIOD_MS === 0) return;
      for (let i = 0; i < 5; i += 1) publishMetrics({ Requests: 1, ServerErrors: 1, Latency: 10 }, [{ route_class: 'write' }, { route: 'updateStock' }]);
    };
    advance(start + 4 * PERIOD_MS, burst);
    expect(evaluator.state(name)).toBe('ALARM');
    // Reads were fine: their alarm is OK.
    expect(evaluator.state(`${PREFIX}-apiServerErrors-read`)).toBe('OK');
    expect(evaluator.state(`${PREFIX}-${systemUnhealthy.key}`)).toBe('ALARM');
    advance(start + 12 * PERIOD_MS);
    expect(evaluator.state(name)).toBe('OK');
    await evaluator.stop();

    const events = eventsOf(name);
    expect(events.map((e) => [(e.detail as any).previousState.value, (e.detail as any).state.value])).toEqual([
      ['INSUFFICIENT_DATA', 'OK'],
      ['OK', 'ALARM'],
      ['ALARM', 'OK'],
    ]);
    for (const event of events) expectCloudWatchShape(event, name);
    expect(evaluator.changes.filter((c) => c.alarmName === name)).toHaveLength(events.length);
    const alarm = events[1]!.detail as any;
    expect(alarm.state.reason).toMatch(/^Threshold Crossed: 3 out of the last 5 datapoints \[100\.0 .*\] were greater than the threshold \(5\.0\)/);
    expect(alarm.configuration.metrics).toEqual([
      expect.objectContaining({ expression: 'IF(d >= 10, 100 * FILL(n, 0) / d, 0)', returnData: true }),
      { id: 'n', metricStat: { metric: { namespace: 'Stockroom', name: 'ServerErrors', dimensions: { service: 'stockroom', route_class: 'write' } }, period: 1, stat: 'Sum' }, returnData: false },
      { id: 'd', metricStat: { metric: { namespace: 'Stockroom', name: 'Requests', dimensions: { service: 'stockroom', route_class: 'write' } }, period: 1, stat: 'Sum' }, returnData: false },
    ]);
    // What the operational-alert consumer makes of them: one alert raised, one resolved, the first change nothing.
    expect(events.map((e) => operationalEventOf(alarmStateChangeDetail.parse(e.detail)))).toEqual([undefined, 'OperationalAlertRaised', 'OperationalAlertResolved']);

    const composite = eventsOf(`${PREFIX}-${systemUnhealthy.key}`);
    expect(composite.map((e) => (e.detail as any).state.value)).toEqual(['OK', 'ALARM', 'OK']);
    expectCloudWatchShape(composite[1]!, `${PREFIX}-${systemUnhealthy.key}`);
    expect((composite[1]!.detail as any).configuration.alarmRule).toContain(`ALARM("arn:aws:cloudwatch:local:000000000000:alarm:${name}")`);
    expect((composite[1]!.detail as any).state.reason).toContain(name);
  });

  test('fewer requests than the minimum do not alarm, however many fail', async () => {
    const { evaluator, advance, start } = setup();
    advance(start + 6 * PERIOD_MS, (at) => {
      if (at % PERIOD_MS === PERIOD_MS / 4) publishMetrics({ Requests: 1, ServerErrors: 1 }, [{ route_class: 'read' }]);
    });
    expect(evaluator.state(`${PREFIX}-apiServerErrors-read`)).toBe('OK');
    await evaluator.stop();
  });

  test('a message in a dead-letter queue moves its DLQ alarm to ALARM, and back to OK when the queue is emptied', async () => {
    const queue = new LocalQueue({
      name: 'notifyAlerts',
      maxReceives: 1,
      visibilityTimeoutSeconds: 1,
      batchSize: 1,
      handler: () => Promise.reject(new Error('the consumer is broken')),
    });
    const { evaluator, advance, eventsOf, start, at } = setup({ samplers: localSamplers({ consumers: { queues: { notifyAlerts: queue }, syncQueues: {} } }) });
    const name = `${PREFIX}-deadLetters-notifyAlerts`;
    advance(start + 2 * PERIOD_MS);
    expect(evaluator.state(name)).toBe('OK');
    queue.start();
    queue.send(JSON.stringify({ 'detail-type': 'AlertOpened' }));
    await queue.drain(5_000);
    expect(queue.deadLetters).toHaveLength(1);
    advance(at() + 2 * PERIOD_MS);
    expect(evaluator.state(name)).toBe('ALARM');
    advance(at() + 3 * PERIOD_MS);
    expect(evaluator.state(name)).toBe('ALARM');
    // The operator redrives (or purges) the dead letters.
    queue.deadLetters.splice(0);
    advance(at() + 2 * PERIOD_MS);
    expect(evaluator.state(name)).toBe('OK');
    await queue.stop();
    await evaluator.stop();

    const events = eventsOf(name);
    expect(events.map((e) => (e.detail as any).state.value)).toEqual(['OK', 'ALARM', 'OK']);
    for (const event of events) expectCloudWatchShape(event, name);
    expect((events[1]!.detail as any).configuration.metrics).toEqual([
      expect.objectContaining({ metricStat: { metric: { namespace: 'AWS/SQS', name: 'ApproximateNumberOfMessagesVisible', dimensions: { QueueName: 'notifyAlerts-dead-letters' } }, period: 1, stat: 'Maximum' }, returnData: true }),
    ]);
    // The handler's throw counted as the function's error too (Lambda Errors), once.
    expect(eventsOf(`${PREFIX}-lambdaErrors-notifyAlerts`).map((e) => (e.detail as any).state.value)).toEqual(['OK', 'ALARM', 'OK']);
  });

  test('the stream processor falling behind for 5 periods raises the iterator age alarm', async () => {
    let ageMs = 0;
    const { evaluator, advance, start } = setup({ samplers: localSamplers({ poller: { deadLetters: [], iteratorAgeMs: () => ageMs } }) });
    const name = `${PREFIX}-streamIteratorAge-streamProcessor`;
    advance(start + PERIOD_MS);
    ageMs = 6 * 60 * 1000;
    advance(start + 5 * PERIOD_MS);
    expect(evaluator.state(name)).toBe('OK');
    advance(start + 7 * PERIOD_MS);
    expect(evaluator.state(name)).toBe('ALARM');
    ageMs = 0;
    advance(start + 9 * PERIOD_MS);
    expect(evaluator.state(name)).toBe('OK');
    await evaluator.stop();
  });

  test('with the declared periods (no --alarm-period-seconds) an alarm is evaluated at the end of its own period', async () => {
    const bus = new LocalBus();
    let now = Math.ceil(Date.now() / 60_000) * 60_000;
    const evaluator = new LocalAlarms({ bus, now: () => now, tickMs: 3_600_000 });
    const dlq = evaluator.alarms.find((a) => a.name === `${PREFIX}-deadLetters-notifyAlerts`)!;
    const queueAge = evaluator.alarms.find((a) => a.name === `${PREFIX}-queueAge-notifyAlerts`)!;
    expect([dlq.periodMs, queueAge.periodMs]).toEqual([60_000, 300_000]);
    now += 60_000;
    evaluator.tick(now);
    expect(dlq.state.value).toBe('OK');
    await evaluator.stop();
  });
});
