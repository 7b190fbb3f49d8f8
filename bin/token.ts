/** `npm run --silent token -- --tenant <id> --role <role>`: prints a local dev token, alone, on stdout. */
import { parseArgs } from 'node:util';
import { isRole, ROLES } from '../functions/identity/roles';
import { ID_PATTERN } from '../functions/platform/ids';
import { createLocalIssuer, DEFAULT_TOKEN_LIFETIME, lifetimeSeconds, MAX_TOKEN_LIFETIME } from './local/issuer';
import { DEMO_TENANT, ISSUER_KEY_FILE } from './local/paths';

const USAGE = `usage: npm run --silent token -- [--tenant <id>] [--role <${ROLES.join('|')}>] [--subject <name>] [--expires-in <30m|12h|1d, at most ${MAX_TOKEN_LIFETIME}>]`;

const POSITIVE_LIFETIME = `--expires-in must be a positive lifetime such as 30m, 12h or 1d, at most ${MAX_TOKEN_LIFETIME}`;

/** A bad command line: one line saying what is wrong, and exit 2 (no stack trace). */
const refuse = (message: string): never => {
  console.error(`token: ${message.replace(/\s*\n\s*/g, ' ')} (--help for usage)`);
  process.exit(2);
};

const parsed = (() => {
  try {
    return parseArgs({
      options: {
        tenant: { type: 'string', default: DEMO_TENANT },
        role: { type: 'string', default: 'admin' },
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
const role = isRole(values.role) ? values.role : refuse(`--role must be one of: ${ROLES.join(', ')}`);
if (values.subject !== undefined && !/^\S{1,128}$/.test(values.subject)) refuse('--subject must be 1-128 characters without spaces');
const expiresIn = values['expires-in'];
const lifetime = (() => {
  try {
    return lifetimeSeconds(expiresIn);
  } catch (error) {
    return refuse(`--expires-in: ${error instanceof Error ? error.message : String(error)}`);
  }
})();
if (lifetime <= 0) refuse(`${POSITIVE_LIFETIME} (got '${expiresIn}')`);
createLocalIssuer(ISSUER_KEY_FILE)
  .then((issuer) => issuer.sign({ tenantId: values.tenant, role, subject: values.subject, expiresIn }))
  .then((token) => process.stdout.write(`${token}\n`))
  .catch((error: unknown) => {
    console.error(`token: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  });
