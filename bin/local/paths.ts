import { resolve } from 'node:path';

/** Everything the local runtime keeps between runs lives here (git-ignored). */
export const DATA_DIR = resolve(__dirname, '../../.data');
export const ISSUER_KEY_FILE = resolve(DATA_DIR, 'dev-issuer-key.json');
/** The local encrypted store of sales channel credentials (functions/platform/secrets.ts localEncryptedStore). */
export const CHANNEL_SECRETS_DIR = resolve(DATA_DIR, 'channel-secrets');
export const LOCAL_TABLE = 'stockroom';
export const DEMO_TENANT = 'demo';
