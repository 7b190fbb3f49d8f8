/** `npm run token -- --tenant <id> --role <role>`: prints a local dev token, alone, on stdout. */
import { parseArgs } from 'node:util';
import { isRole, ROLES } from '../functions/identity/roles';
import { ID_PATTERN } from '../functions/platform/ids';
import { createLocalIssuer } from './local/issuer';
import { DEMO_TENANT, ISSUER_KEY_FILE } from './local/paths';

const { values } = parseArgs({
  options: {
    tenant: { type: 'string', default: DEMO_TENANT },
    role: { type: 'string', default: 'admin' },
    subject: { type: 'string' },
    'expires-in': { type: 'string', default: '12h' },
  },
});

if (!ID_PATTERN.test(values.tenant)) {
  console.error(`--tenant must match ${ID_PATTERN}`);
  process.exit(2);
}
if (!isRole(values.role)) {
  console.error(`--role must be one of: ${ROLES.join(', ')}`);
  process.exit(2);
}
const role = values.role;
createLocalIssuer(ISSUER_KEY_FILE)
  .then((issuer) => issuer.sign({ tenantId: values.tenant, role, subject: values.subject, expiresIn: values['expires-in'] }))
  .then((token) => process.stdout.write(`${token}\n`))
  .catch((error: unknown) => {
    console.error(error instanceof Error ? error.message : error);
    process.exit(1);
  });
