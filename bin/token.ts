/**
 * `npm run --silent token -- --tenant <id> --role <role>`: prints a local dev token, alone, on stdout, for the
 * tenant's development user of that role (`<tenant>-<role>`, or --subject), who is created in the user directory
 * if there is none. `--email <address>` instead: a token for that existing user, or, on stderr with exit 1, why
 * not (unknown, disabled). Either way the token carries the directory's role, scope and e-mail (issue 12).
 *
 * The directory is the table of a running `npm start` (its DynamoDB Local, named in .data/local-runtime.json,
 * also with --in-memory); with no server running, the persisted one under .data/dynamodb, opened for the moment.
 */
import { parseArgs } from 'node:util';
import { isRole, ROLES } from '../functions/identity/roles';
import { DYNAMODB_ENDPOINT_ENV, dbFromEnv } from '../functions/platform/db';
import { ID_PATTERN } from '../functions/platform/ids';
import { TABLE_NAME_ENV } from '../functions/platform/table';
import { ensureTable, startDynamoLocal, type LocalDynamo } from './local/dynamodb';
import { createLocalIssuer, DEFAULT_TOKEN_LIFETIME, lifetimeSeconds, MAX_TOKEN_LIFETIME } from './local/issuer';
import { javaProblem } from './local/java';
import { DEMO_TENANT, ISSUER_KEY_FILE, LOCAL_DYNAMO_DIR, LOCAL_TABLE } from './local/paths';
import { readRuntime, tokenFor, UserRefused, type WhoFor } from './local/users';

const USAGE = `usage: npm run --silent token -- [--tenant <id>] [--role <${ROLES.join('|')}> [--subject <user id>] | --email <address>] [--expires-in <30m|12h|1d, at most ${MAX_TOKEN_LIFETIME}>]`;

const POSITIVE_LIFETIME = `--expires-in must be a positive lifetime such as 30m, 12h or 1d, at most ${MAX_TOKEN_LIFETIME}`;

/** A bad command line: one line saying what is wrong, and exit 2 (no stack trace). */
const refuse = (message: string): never => {
  console.error(`token: ${message.replace(/\s*\n\s*/g, ' ')} (--help for usage)`);
  process.exit(2);
};

/** No token for this user (unknown, disabled) or no directory to ask: one line, exit 1. */
const fail = (message: string): never => {
  console.error(`token: ${message.replace(/\s*\n\s*/g, ' ')}`);
  process.exit(1);
};

const parsed = (() => {
  try {
    return parseArgs({
      options: {
        tenant: { type: 'string', default: DEMO_TENANT },
        role: { type: 'string' },
        email: { type: 'string' },
        subject: { type: 'string' },
        'expires-in': { type: 'string', default: DEFAULT_TOKEN_LIFETIME },
        help: { type: 'boolean', default: false },
      },
    });
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    // `--expires-in -1h`: parseArgs takes the value for an option; what is meant is a negative lifetime, refused below too.
    if (/'--expires-in' argument is ambiguous/.test(message)) return refuse(POSITIVE_LIFETIME);
    // Otherwise parseArgs explains itself (unknown option, missing value, a positional argument).
    return refuse(message);
  }
})();
const { values } = parsed;
if (values.help) {
  console.log(USAGE);
  process.exit(0);
}

if (!ID_PATTERN.test(values.tenant)) refuse(`--tenant must match ${ID_PATTERN}`);
if (values.email !== undefined && (values.role !== undefined || values.subject !== undefined)) {
  refuse('--email names an existing user, whose role is the directory\'s: give --email, or --role (and --subject), not both');
}
if (values.email !== undefined && !/^[^\s@]{1,64}@[^\s@]{1,253}$/.test(values.email)) refuse('--email must be an e-mail address');
const roleName = values.role ?? 'admin';
const role = isRole(roleName) ? roleName : refuse(`--role must be one of: ${ROLES.join(', ')}`);
if (values.subject !== undefined && !ID_PATTERN.test(values.subject)) refuse(`--subject must match ${ID_PATTERN}`);
const expiresIn = values['expires-in'];
const lifetime = (() => {
  try {
    return lifetimeSeconds(expiresIn);
  } catch (error) {
    return refuse(`--expires-in: ${error instanceof Error ? error.message : String(error)}`);
  }
})();
if (lifetime <= 0) refuse(`${POSITIVE_LIFETIME} (got '${expiresIn}')`);
const who: WhoFor = values.email !== undefined ? { email: values.email } : { role, ...(values.subject === undefined ? {} : { subject: values.subject }) };

/** The running server's table, or the persisted one opened now (stopped again when the token is out). */
const reachDirectory = async (): Promise<LocalDynamo | undefined> => {
  const running = readRuntime();
  if (running) {
    process.env[DYNAMODB_ENDPOINT_ENV] = running.dynamodb_endpoint;
    process.env[TABLE_NAME_ENV] = running.table;
    return undefined;
  }
  const problem = javaProblem();
  if (problem) fail(`no npm start is running, and opening the user directory under .data/ needs Java: ${problem}`);
  const dynamo = await startDynamoLocal({ dataDir: LOCAL_DYNAMO_DIR });
  await ensureTable(dynamo.endpoint, LOCAL_TABLE);
  process.env[DYNAMODB_ENDPOINT_ENV] = dynamo.endpoint;
  process.env[TABLE_NAME_ENV] = LOCAL_TABLE;
  return dynamo;
};

const main = async (): Promise<void> => {
  const opened = await reachDirectory();
  const db = dbFromEnv();
  try {
    const issuer = await createLocalIssuer(ISSUER_KEY_FILE);
    const { token } = await tokenFor(issuer, db, values.tenant, who, expiresIn);
    process.stdout.write(`${token}\n`);
  } finally {
    // The client's kept-alive sockets to a running server's DynamoDB Local would keep this process from exiting.
    db.client.destroy();
    opened?.stop();
  }
};

main().catch((error: unknown) => {
  if (error instanceof UserRefused) fail(error.message);
  fail(error instanceof Error ? error.message : String(error));
});
