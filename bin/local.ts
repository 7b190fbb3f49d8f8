/**
 * `npm start`: the whole system on one machine, no AWS account.
 *   --in-memory   throwaway data (default: kept under .data/)
 *   --port N      HTTP port (default: $PORT or 3000)
 *   --seed        load the demo tenant (warehouses, a few hundred SKUs, history)
 *   --sweep-seconds N   run the scheduled functions every N seconds instead of their declared period
 *
 * Besides the API it runs what AWS runs beside it: the stream processor over
 * DynamoDB Local's stream (bin/local/streams.ts) publishing to an in-process
 * event bus (bin/local/bus.ts), and the schedules (bin/local/scheduler.ts).
 */
import './local/esm-only-packages';
import { parseArgs } from 'node:util';
import { resolve } from 'node:path';
import { processStream } from '../functions/events/processor';
import { dbFromEnv, DYNAMODB_ENDPOINT_ENV } from '../functions/platform/db';
import { ROLES } from '../functions/identity/roles';
import { log } from '../functions/platform/log';
import { TABLE_NAME_ENV } from '../functions/platform/table';
import { EVENT_BUS_ENV } from '../functions/wiring';
import { LOCAL_MODE_ENV } from '../functions/notifications/model';
import { startLocalApi } from './local/api-server';
import { LocalBus, loggingRule } from './local/bus';
import { ensureTable, startDynamoLocal } from './local/dynamodb';
import { createLocalIssuer } from './local/issuer';
import { javaProblem } from './local/java';
import { DATA_DIR, DEMO_TENANT, ISSUER_KEY_FILE, LOCAL_TABLE } from './local/paths';
import { startLocalConsumers } from './local/queues';
import { startLocalScheduler } from './local/scheduler';
import { seedDemoTenant } from './local/seed';
import { createStreamPoller } from './local/streams';

const main = async (): Promise<void> => {
  const { values } = parseArgs({
    options: {
      'in-memory': { type: 'boolean', default: false },
      port: { type: 'string', default: process.env.PORT ?? '3000' },
      seed: { type: 'boolean', default: false },
      'sweep-seconds': { type: 'string' },
    },
  });
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
  const problem = javaProblem();
  if (problem) {
    console.error(problem);
    process.exit(1);
  }
  // Local mode: email and SMS go to the outbox, webhooks may be plain http to loopback (functions/notifications/model.ts).
  process.env[LOCAL_MODE_ENV] = '1';
  const dynamo = await startDynamoLocal({ dataDir: values['in-memory'] ? undefined : resolve(DATA_DIR, 'dynamodb') });
  process.env[DYNAMODB_ENDPOINT_ENV] = dynamo.endpoint;
  process.env[TABLE_NAME_ENV] = LOCAL_TABLE;
  await ensureTable(dynamo.endpoint, LOCAL_TABLE);
  const issuer = await createLocalIssuer(ISSUER_KEY_FILE);
  const api = await startLocalApi({ issuer, port });
  // The stream processor and the schedules, as in AWS: item changes -> domain events on the bus.
  const bus = new LocalBus({ rules: [loggingRule()] });
  process.env[EVENT_BUS_ENV] ??= bus.name;
  const publisher = bus.publisher();
  const poller = createStreamPoller({
    endpoint: dynamo.endpoint,
    tableName: LOCAL_TABLE,
    process: (event) => processStream({ db: dbFromEnv(), publisher }, event),
  });
  await poller.start();
  // The event consumers (alerts, notifications), each behind its local queue, fed by bus rules with their patterns.
  const consumers = await startLocalConsumers(bus);
  const scheduler = startLocalScheduler({ ...(sweepSeconds ? { everySeconds: sweepSeconds } : {}) });
  process.once('exit', () => {
    void poller.stop();
    void consumers.stop();
    void scheduler.stop();
  });
  if (values.seed) {
    const seeded = await seedDemoTenant(DEMO_TENANT);
    log.info('seeded demo tenant', { tenant_id: DEMO_TENANT, ...seeded });
  }
  const token = await issuer.sign({ tenantId: DEMO_TENANT, role: 'admin', subject: 'demo-admin' });
  process.stdout.write(
    [
      '',
      `Stockroom is up: ${api.url}/api  (DynamoDB Local at ${dynamo.endpoint}, data ${values['in-memory'] ? 'in memory' : `in ${DATA_DIR}`})`,
      `Stream processor (table stream -> in-process event bus '${bus.name}'), event consumers (${Object.keys(consumers.queues).join(', ')}, behind local queues) and scheduler (${scheduler.schedules.map((s) => `${s.name} every ${s.everySeconds} s`).join(', ')}) are running.`,
      `Dev token for tenant '${DEMO_TENANT}' (role admin), valid 12 h:`,
      '',
      `export TOKEN=${token}`,
      '',
      `Try: curl -s ${api.url}/api/warehouses -H "Authorization: Bearer $TOKEN"`,
      `Other tenants and roles: npm run --silent token -- --tenant <id> --role <${ROLES.join('|')}>`,
      '',
    ].join('\n'),
  );
};

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
