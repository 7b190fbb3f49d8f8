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

/**
 * Where one run of npm start keeps what must outlive it (the default `DATA_DIR`, or `--data-dir`): DynamoDB Local's
 * database, the lake, the channel credentials, and what SQS and Lambda's event source mapping would keep in AWS (the
 * local queues' messages and the stream checkpoint), so a runtime killed and started again on the same directory
 * carries on where it stopped. The issuer key and the runtime file stay in DATA_DIR: npm run token reads them there.
 */
export interface DataPaths {
  root: string;
  dynamodb: string;
  lake: string;
  channelSecrets: string;
  /** One journal per local queue (bin/local/queue-store.ts). */
  queues: string;
  /** The stream poller's checkpoint (bin/local/streams.ts fileCheckpoints). */
  streamCheckpoints: string;
}

export const dataPaths = (root: string = DATA_DIR): DataPaths => {
  const dir = resolve(root);
  return {
    root: dir,
    dynamodb: resolve(dir, 'dynamodb'),
    lake: resolve(dir, 'lake'),
    channelSecrets: resolve(dir, 'channel-secrets'),
    queues: resolve(dir, 'queues'),
    streamCheckpoints: resolve(dir, 'stream-checkpoints.json'),
  };
};
