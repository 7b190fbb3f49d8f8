/**
 * `npm start`: the whole system on one machine, no AWS account (USAGE below, `npm start -- --help`).
 *   --in-memory   throwaway data (default: kept under .data/)
 *   --data-dir DIR   keep the data under DIR instead of .data/ (DynamoDB Local's database, the lake, channel credentials,
 *                 the local queues' messages and the stream checkpoint): a runtime killed and started again on DIR goes on
 *   --port N      HTTP port (default: $PORT or 3000)
 *   --seed        load the demo tenant (warehouses, a few hundred SKUs, history), connected to local Shopify and SP-API fakes
 *   --sweep-seconds N   run the scheduled functions every N seconds instead of their declared period
 *   --alarm-period-seconds N   evaluate the declared alarms over N-second periods instead of their declared ones
 *                 (every period becomes N seconds; evaluation periods, datapoints and thresholds stay: bin/local/alarms.ts)
 *   --no-web      do not build or serve the dashboard at / (web/; see bin/local/web.ts)
 *
 * Besides the API it runs what AWS runs beside it: the stream processor over
 * DynamoDB Local's stream (bin/local/streams.ts) publishing to an in-process
 * event bus (bin/local/bus.ts), the event consumers behind local queues
 * (bin/local/queues.ts), the lake feed writing every ledger row as Parquet
 * under .data/lake/ (bin/local/lake-feed.ts; a temp dir with --in-memory), and
 * the schedules (bin/local/scheduler.ts).
 *
 * DynamoDB Local is supervised (bin/local/dynamo-supervisor.ts): if its JVM dies, it is started again on the same
 * port and data, and the API answers 503 UNAVAILABLE with Retry-After meanwhile.
 *
 * SIGINT/SIGTERM/SIGHUP stop it in order: no new requests, the stream drained
 * (up to 5 s) and stopped, the bus and queues idle, the lake flushed and closed,
 * then DynamoDB Local. A second signal, or 20 s without finishing, stops at once;
 * DynamoDB Local's exit hook (bin/local/dynamodb.ts) kills Java however Node ends.
 */
import './local/esm-only-packages';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { parseArgs } from 'node:util';
import { join } from 'node:path';
import { processStream } from '../functions/events/processor';
import { dbFromEnv, DYNAMODB_ENDPOINT_ENV } from '../functions/platform/db';
import { ROLES } from '../functions/identity/roles';
import { errorMessage } from '../functions/platform/errors';
import { log } from '../functions/platform/log';
import { ATHENA_ENDPOINT_ENV, ATHENA_WORKGROUP_ENV, LAKE_DATABASE_ENV, LAKE_NAMES } from '../functions/platform/lake';
import { TABLE_NAME_ENV } from '../functions/platform/table';
import { EVENT_BUS_ENV } from '../functions/wiring';
import { LOCAL_MODE_ENV } from '../functions/notifications/model';
import { startLocalApi, type LocalApi } from './local/api-server';
import { startLocalAthena, type LocalAthena } from './local/athena';
import { LOCAL_LAKE_BUCKET, startLocalS3, type LocalS3 } from './local/s3';
import { LAKE_BUCKET_ENV, S3_ENDPOINT_ENV } from '../functions/platform/lake-objects';
import { CHANNEL_SECRETS_ENV } from '../functions/platform/secrets';
import { LocalBus, loggingRule } from './local/bus';
import { ensureTable, tablesExist } from './local/dynamodb';
import { superviseDynamoLocal } from './local/dynamo-supervisor';
import { createLocalIssuer } from './local/issuer';
import { javaProblem } from './local/java';
import { startLakeFeed, type LocalLakeFeed } from './local/lake-feed';
import { OPERATIONS_TENANT_ENV } from '../functions/operations/notify-operations';
import { VERSION_ENV } from '../functions/api/health';
import { version as PACKAGE_VERSION } from '../package.json';
import { dataPaths, DEMO_TENANT, ISSUER_KEY_FILE, LOCAL_TABLE } from './local/paths';
import { startLocalConsumers, type LocalConsumers } from './local/queues';
import { startLocalScheduler, type LocalScheduler } from './local/scheduler';
import { localSamplers, startLocalAlarms, type LocalAlarms } from './local/alarms';
import { ensureDemoAdmin, seedDemoTenant, DEMO_ADMIN } from './local/seed';
import { announceRuntime, tokenFor, withdrawRuntime } from './local/users';
import { seedDemoChannels, type DemoChannels } from './local/seed-channels';
import { createStreamPoller, fileCheckpoints, memoryCheckpoints, type StreamPoller } from './local/streams';
import { ensureWebBuild, serveWeb, WEB_DIST } from './local/web';

const USAGE = `Usage: npm start -- [options]

  --data-dir DIR              keep the data under DIR (default .data/): DynamoDB Local's database, the lake, channel
                              credentials, the local queues' messages and the stream checkpoint; a runtime killed and
                              started again on the same DIR goes on where it stopped
  --in-memory                 throwaway data, gone when npm start ends (or when DynamoDB Local has to be restarted)
  --port N                    HTTP port (default: $PORT or 3000)
  --seed                      load the demo tenant, connected to local Shopify and SP-API fakes
  --sweep-seconds N           run the scheduled functions every N seconds instead of their declared period
  --alarm-period-seconds N    evaluate the declared alarms over N-second periods
  --no-web                    do not build or serve the dashboard at /
  --help                      this text
`;

const SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
const SHUTDOWN_LIMIT_MS = 20_000;
type Signal = (typeof SIGNALS)[number];
type Listeners = Map<Signal, NodeJS.SignalsListener[]>;

/** What is running, filled in as it starts: a signal during start-up stops what exists. */
interface Running {
  stopDynamo?: () => void;
  api?: LocalApi;
  poller?: StreamPoller;
  bus?: LocalBus;
  consumers?: LocalConsumers;
  scheduler?: LocalScheduler;
  /** The local CloudWatch: the declared alarms over the metric lines and the stand-ins' samples. */
  alarms?: LocalAlarms;
  lakeFeed?: LocalLakeFeed;
  /** The local Athena the reports query (over the same lake). */
  athena?: LocalAthena;
  /** The local S3 over the same lake: the daily close's reads and writes, the reports' closed.json. */
  s3?: LocalS3;
  /** A throwaway lake (--in-memory), removed at the end. */
  tempLake?: string;
  /** --seed: the Shopify and SP-API fakes the demo tenant is connected to. */
  demoChannels?: DemoChannels;
}

const running: Running = {};

const step = async (name: string, body: () => Promise<unknown>): Promise<void> => {
  try {
    await body();
  } catch (error) {
    log.error('shutdown step failed', { step: name, error: errorMessage(error) });
  }
};

const shutdown = async (): Promise<void> => {
  const r = running;
  if (r.api) await step('api', () => r.api?.close() ?? Promise.resolve());
  // What was written before the signal reaches the bus (and so the lake), if the stream can catch up soon.
  if (r.poller) await step('stream drain', () => r.poller?.drain(5_000) ?? Promise.resolve());
  if (r.poller) await step('stream', () => r.poller?.stop() ?? Promise.resolve());
  if (r.scheduler) await step('scheduler', () => r.scheduler?.stop() ?? Promise.resolve());
  if (r.alarms) await step('alarms', () => r.alarms?.stop() ?? Promise.resolve());
  if (r.bus) await step('bus', () => r.bus?.idle() ?? Promise.resolve());
  if (r.consumers) await step('consumers', () => r.consumers?.stop() ?? Promise.resolve());
  if (r.demoChannels) await step('channel fakes', () => r.demoChannels?.stop() ?? Promise.resolve());
  if (r.athena) await step('athena', () => r.athena?.close() ?? Promise.resolve());
  if (r.s3) await step('s3', () => r.s3?.close() ?? Promise.resolve());
  if (r.lakeFeed) await step('lake', () => r.lakeFeed?.close() ?? Promise.resolve());
  if (r.tempLake) await step('temp lake', () => rm(r.tempLake ?? '', { recursive: true, force: true }));
  withdrawRuntime();
  r.stopDynamo?.();
};

/**
 * Takes the signals over from bin/local/dynamodb.ts, whose handlers kill Java and exit at once
 * (too soon for the lake's last flush): the listeners it added are replaced by an orderly shutdown.
 * Its 'exit' hook stays, so Java still dies with Node whatever happens.
 */
const takeOverSignals = (before: Listeners): void => {
  for (const signal of SIGNALS) {
    for (const listener of process.listeners(signal)) if (!(before.get(signal) ?? []).includes(listener)) process.removeListener(signal, listener);
    let stopping = false;
    process.on(signal, () => {
      const code = signal === 'SIGINT' ? 130 : 143;
      if (stopping) {
        running.stopDynamo?.();
        process.exit(code);
      }
      stopping = true;
      log.info('shutting down', { signal });
      setTimeout(() => {
        log.error('shutdown did not finish in time; stopping now', { limit_ms: SHUTDOWN_LIMIT_MS });
        running.stopDynamo?.();
        process.exit(code);
      }, SHUTDOWN_LIMIT_MS).unref();
      void shutdown().finally(() => process.exit(code));
    });
  }
};

const main = async (): Promise<void> => {
  const { values } = parseArgs({
    options: {
      'in-memory': { type: 'boolean', default: false },
      port: { type: 'string', default: process.env.PORT ?? '3000' },
      seed: { type: 'boolean', default: false },
      // Skip the dashboard's build and serving (the API alone, as the tests and benchmarks run it).
      'no-web': { type: 'boolean', default: false },
      'sweep-seconds': { type: 'string' },
      'alarm-period-seconds': { type: 'string' },
      'data-dir': { type: 'string' },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    process.stdout.write(USAGE);
    process.exit(0);
  }
  if (values['data-dir'] !== undefined && values['in-memory']) {
    console.error('--data-dir and --in-memory contradict each other: choose where to keep the data, or to keep none');
    process.exit(2);
  }
  if (values['data-dir'] === '') {
    console.error('--data-dir needs a directory');
    process.exit(2);
  }
  const inMemory = values['in-memory'];
  const paths = dataPaths(values['data-dir']);
  const port = Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    console.error(`--port must be a port number, got '${values.port}'`);
    process.exit(2);
  }
  const sweepSeconds = values['sweep-seconds'] === undefined ? undefined : Number(values['sweep-seconds']);
  if (sweepSeconds !== undefined && !(sweepSeconds > 0)) {
    console.error(`--sweep-seconds must be a positive number, got '${values['sweep-seconds']}'`);
    process.exit(2);
  }
  const alarmPeriodSeconds = values['alarm-period-seconds'] === undefined ? undefined : Number(values['alarm-period-seconds']);
  if (alarmPeriodSeconds !== undefined && !(alarmPeriodSeconds > 0)) {
    console.error(`--alarm-period-seconds must be a positive number, got '${values['alarm-period-seconds']}'`);
    process.exit(2);
  }
  const problem = javaProblem();
  if (problem) {
    console.error(problem);
    process.exit(1);
  }
  // Local mode: email and SMS go to the outbox, webhooks may be plain http to loopback (functions/notifications/model.ts).
  process.env[LOCAL_MODE_ENV] = '1';
  // The demo tenant's admins operate this machine: its `operations` subscribers hear the local alarms.
  process.env[OPERATIONS_TENANT_ENV] ??= DEMO_TENANT;
  process.env[VERSION_ENV] ??= PACKAGE_VERSION;
  const listenersBefore: Listeners = new Map(SIGNALS.map((signal) => [signal, process.listeners(signal)]));
  const dynamo = await superviseDynamoLocal({
    ...(inMemory ? {} : { dataDir: paths.dynamodb }),
    // A restarted DynamoDB Local on the same data has the tables; one that comes back empty (in memory, or its files
    // gone) gets them again, so the API works, and the log says the data went with it.
    afterRestart: async ({ endpoint, persistent }) => {
      if (await tablesExist(endpoint, LOCAL_TABLE)) return;
      log.error('DynamoDB Local came back without the tables: every item was lost; creating them again', {
        reason: persistent ? `the data under ${paths.dynamodb} is gone` : 'npm start --in-memory keeps the data in the JVM that died (use --data-dir to keep it)',
      });
      await ensureTable(endpoint, LOCAL_TABLE);
    },
  });
  running.stopDynamo = () => dynamo.stop();
  takeOverSignals(listenersBefore);
  process.env[DYNAMODB_ENDPOINT_ENV] = dynamo.endpoint;
  process.env[TABLE_NAME_ENV] = LOCAL_TABLE;
  await ensureTable(dynamo.endpoint, LOCAL_TABLE);
  // npm run token finds this server's user directory (also an in-memory one) through this file.
  announceRuntime({ pid: process.pid, dynamodb_endpoint: dynamo.endpoint, table: LOCAL_TABLE });
  // The lake the feed writes and the reports read (through the local Athena): a temp dir with --in-memory.
  const lakeRoot = inMemory ? await mkdtemp(join(tmpdir(), 'stockroom-lake-')) : paths.lake;
  if (inMemory) running.tempLake = lakeRoot;
  // The deployed stack's names (functions/platform/lake.ts LAKE_NAMES), so a report behaves as in AWS.
  process.env[ATHENA_WORKGROUP_ENV] = LAKE_NAMES.workgroup;
  process.env[LAKE_DATABASE_ENV] = LAKE_NAMES.database;
  const athena = await startLocalAthena({ lakeRoot, workgroups: [LAKE_NAMES.workgroup] });
  running.athena = athena;
  process.env[ATHENA_ENDPOINT_ENV] = athena.endpoint;
  // The lake bucket, as S3 over the same directory: the daily close (scheduledFunctions.closeLake) writes level_days there.
  const s3 = await startLocalS3({ root: lakeRoot, buckets: [LOCAL_LAKE_BUCKET] });
  running.s3 = s3;
  process.env[LAKE_BUCKET_ENV] = LOCAL_LAKE_BUCKET;
  process.env[S3_ENDPOINT_ENV] = s3.endpoint;
  // Sales channel credentials: the local encrypted store under .data/ (AES-256-GCM, key file 0600), or held in memory with --in-memory.
  process.env[CHANNEL_SECRETS_ENV] = inMemory ? 'memory' : `file:${paths.channelSecrets}`;
  const issuer = await createLocalIssuer(ISSUER_KEY_FILE);
  // The dashboard, built if its sources changed since the last build (a few seconds), served at `/`.
  if (!values['no-web']) {
    const build = ensureWebBuild();
    if (build.built) log.info('built the dashboard', { ms: build.ms, dir: WEB_DIST });
  }
  const api = await startLocalApi({ issuer, port, ...(values['no-web'] ? {} : { web: serveWeb }) });
  running.api = api;
  // The stream processor and the schedules, as in AWS: item changes -> domain events on the bus.
  const bus = new LocalBus({ rules: [loggingRule()] });
  running.bus = bus;
  process.env[EVENT_BUS_ENV] ??= bus.name;
  // Everything that listens on the bus subscribes before the stream is read, so no event passes unheard.
  // The ledger into the lake, as the EventBridge rule -> Firehose does in AWS.
  const lakeFeed = await startLakeFeed(bus, { root: lakeRoot });
  running.lakeFeed = lakeFeed;
  // The event consumers (alerts, notifications), each behind its local queue, fed by bus rules with their patterns.
  // Their messages are kept under the data dir, as SQS keeps them: a runtime killed and started again delivers them.
  const consumers = await startLocalConsumers(bus, inMemory ? {} : { journalDir: paths.queues });
  running.consumers = consumers;
  const publisher = bus.publisher();
  const poller = createStreamPoller({
    endpoint: dynamo.endpoint,
    tableName: LOCAL_TABLE,
    // Where the last run got to in the stream (Lambda's event source mapping keeps it in AWS).
    checkpoints: inMemory ? memoryCheckpoints() : fileCheckpoints(paths.streamCheckpoints),
    process: (event) => processStream({ db: dbFromEnv(), publisher }, event),
  });
  await poller.start();
  running.poller = poller;
  // The declared alarms (functions/operations/alarms.ts), as CloudWatch evaluates them: their state changes go on the bus, to notifyOperations.
  running.alarms = startLocalAlarms({ bus, tableName: LOCAL_TABLE, samplers: localSamplers({ consumers, poller }), ...(alarmPeriodSeconds ? { periodSeconds: alarmPeriodSeconds } : {}) });
  const scheduler = startLocalScheduler({ ...(sweepSeconds ? { everySeconds: sweepSeconds } : {}) });
  running.scheduler = scheduler;
  if (values.seed) {
    const seeded = await seedDemoTenant(DEMO_TENANT);
    log.info('seeded demo tenant', { tenant_id: DEMO_TENANT, ...seeded });
    const channels = await seedDemoChannels(DEMO_TENANT);
    running.demoChannels = channels;
    log.info('connected the demo tenant to local channel fakes', { shopify: channels.shopify.url, amazon: channels.amazon.url, skus: channels.skus, pushed: channels.pushed });
  }
  // The dev token is a real user's: the demo admin, made (or made an enabled admin again) in the directory.
  await ensureDemoAdmin(DEMO_TENANT);
  const { token } = await tokenFor(issuer, dbFromEnv(), DEMO_TENANT, { email: DEMO_ADMIN.email });
  process.stdout.write(
    [
      '',
      `Stockroom is up: ${api.url}/api  (DynamoDB Local at ${dynamo.endpoint}, pid ${dynamo.pid() ?? '?'}, supervised; data ${inMemory ? 'in memory' : `in ${paths.root}`})`,
      `Stream processor (table stream -> in-process event bus '${bus.name}'), event consumers (${Object.keys(consumers.queues).join(', ')}, behind local queues) and scheduler (${scheduler.schedules.map((s) => `${s.name} every ${s.everySeconds} s`).join(', ')}) are running.`,
      `Alarms: the ${running.alarms?.alarms.length ?? 0} declared alarms and the composite, evaluated over ${alarmPeriodSeconds ? `${alarmPeriodSeconds}-second periods` : 'their declared periods'} (--alarm-period-seconds N); state changes go on the bus as CloudWatch Alarm State Change.`,
      `Lake feed: every ledger row as Parquet under ${lakeRoot}/movements/ within ${lakeFeed.lake.flushEveryMs / 1000} s${inMemory ? ' (a temp dir, removed on exit)' : ''}; reports query it through the local Athena at ${athena.endpoint}; the hourly close rolls finished days up through the local S3 at ${s3.endpoint}.`,
      `Dev token for tenant '${DEMO_TENANT}', the demo admin ${DEMO_ADMIN.email} (a user of the directory: GET /api/users), valid 12 h:`,
      '',
      `export TOKEN=${token}`,
      '',
      ...(values['no-web'] ? [] : [`Dashboard, signed in as the demo admin: ${api.url}/#token=${token}`, '']),
      `Try: curl -s ${api.url}/api/warehouses -H "Authorization: Bearer $TOKEN"`,
      ...(running.demoChannels
        ? [
            `Sales channels: the demo tenant's first ${running.demoChannels.skus} SKUs are on a local Shopify fake (${running.demoChannels.shopify.url}) and a local SP-API fake (${running.demoChannels.amazon.url});`,
            `  change stock in wh-newark, wh-dallas or wh-reno and see the push: curl -s ${api.url}/api/channels/demo-shopify/listings -H "Authorization: Bearer $TOKEN"`,
          ]
        : []),
      `Other tenants and roles: npm run --silent token -- --tenant <id> --role <${ROLES.join('|')}> (a development user of that role, made if needed)`,
      `An existing user: npm run --silent token -- --tenant <id> --email <address> (refused if unknown or disabled)`,
      '',
    ].join('\n'),
  );
};

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
