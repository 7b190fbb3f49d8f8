/**
 * `npm start`: the whole system on one machine, no AWS account.
 *   --in-memory   throwaway data (default: kept under .data/)
 *   --port N      HTTP port (default: $PORT or 3000)
 *   --seed        load the demo tenant (warehouses, a few hundred SKUs, history)
 */
import './local/esm-only-packages';
import { parseArgs } from 'node:util';
import { resolve } from 'node:path';
import { DYNAMODB_ENDPOINT_ENV } from '../functions/platform/db';
import { log } from '../functions/platform/log';
import { TABLE_NAME_ENV } from '../functions/platform/table';
import { startLocalApi } from './local/api-server';
import { ensureTable, startDynamoLocal } from './local/dynamodb';
import { createLocalIssuer } from './local/issuer';
import { javaProblem } from './local/java';
import { DATA_DIR, DEMO_TENANT, ISSUER_KEY_FILE, LOCAL_TABLE } from './local/paths';
import { seedDemoTenant } from './local/seed';

const main = async (): Promise<void> => {
  const { values } = parseArgs({
    options: {
      'in-memory': { type: 'boolean', default: false },
      port: { type: 'string', default: process.env.PORT ?? '3000' },
      seed: { type: 'boolean', default: false },
    },
  });
  const port = Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    console.error(`--port must be a port number, got '${values.port}'`);
    process.exit(2);
  }
  const problem = javaProblem();
  if (problem) {
    console.error(problem);
    process.exit(1);
  }
  const dynamo = await startDynamoLocal({ dataDir: values['in-memory'] ? undefined : resolve(DATA_DIR, 'dynamodb') });
  process.env[DYNAMODB_ENDPOINT_ENV] = dynamo.endpoint;
  process.env[TABLE_NAME_ENV] = LOCAL_TABLE;
  await ensureTable(dynamo.endpoint, LOCAL_TABLE);
  const issuer = await createLocalIssuer(ISSUER_KEY_FILE);
  const api = await startLocalApi({ issuer, port });
  if (values.seed) {
    const seeded = await seedDemoTenant(DEMO_TENANT);
    log.info('seeded demo tenant', { tenant_id: DEMO_TENANT, ...seeded });
  }
  const token = await issuer.sign({ tenantId: DEMO_TENANT, role: 'admin', subject: 'demo-admin' });
  process.stdout.write(
    [
      '',
      `Stockroom is up: ${api.url}/api  (DynamoDB Local at ${dynamo.endpoint}, data ${values['in-memory'] ? 'in memory' : `in ${DATA_DIR}`})`,
      `Dev token for tenant '${DEMO_TENANT}' (role admin), valid 12 h:`,
      '',
      `export TOKEN=${token}`,
      '',
      `Try: curl -s ${api.url}/api/warehouses -H "Authorization: Bearer $TOKEN"`,
      'Other tenants and roles: npm run token -- --tenant <id> --role <admin|manager|clerk|viewer>',
      '',
    ].join('\n'),
  );
};

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
