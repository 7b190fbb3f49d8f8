import { resolve } from 'node:path';

/** Everything the local runtime keeps between runs lives here (git-ignored). */
export const DATA_DIR = resolve(__dirname, '../../.data');
export const ISSUER_KEY_FILE = resolve(DATA_DIR, 'dev-issuer-key.json');
/** The local encrypted store of sales channel credentials (functions/platform/secrets.ts localEncryptedStore). */
export const CHANNEL_SECRETS_DIR = resolve(DATA_DIR, 'channel-secrets');
export const LOCAL_TABLE = 'stockroom';
export const DEMO_TENANT = 'demo';
/** DynamoDB Local's data between runs (npm start without --in-memory; npm run token when no server runs). */
export const LOCAL_DYNAMO_DIR = resolve(DATA_DIR, 'dynamodb');
/** Written by a running npm start: its pid and DynamoDB Local endpoint, so npm run token reaches the same user directory (STOCKROOM_RUNTIME_FILE elsewhere: the tests point the CLI at their own table). */
export const RUNTIME_FILE_ENV = 'STOCKROOM_RUNTIME_FILE';
export const RUNTIME_FILE = process.env[RUNTIME_FILE_ENV] ?? resolve(DATA_DIR, 'local-runtime.json');
