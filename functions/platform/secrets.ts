import { traced } from './tracing';
import { CreateSecretCommand, DeleteSecretCommand, GetSecretValueCommand, PutSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { mkdir, open, readFile, rename, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { errorName } from './errors';

/**
 * Where a tenant's connection credentials live (issue 11, sales channels): write-only for
 * the API (it puts and deletes; the channel workers of later steps get). One JSON secret
 * per connection. Chosen by CHANNEL_SECRETS_ENV, as lake-objects.ts chooses S3 by its env:
 *
 * - `secretsmanager:<prefix>`: AWS Secrets Manager, the secret named `<prefix><tenant>/<channel>`
 *   (the CDK sets the prefix `stockroom/<stack name>/channels/` and grants exactly that name space);
 * - `file:<dir>`: the local encrypted store (npm start, the tests): AES-256-GCM, one file per
 *   connection under `<dir>/<tenant>/<channel>.secret`, the key in `<dir>/key` (32 random bytes,
 *   created on first use with mode 0600); nothing is ever written in plaintext;
 * - `memory`: the same shape held in this process only (`npm start -- --in-memory`).
 *
 * Unset, the store is refused: no code path falls back to keeping secrets somewhere unsaid.
 */
export const CHANNEL_SECRETS_ENV = 'CHANNEL_SECRETS';

export interface CredentialStore {
  /** Creates or replaces the connection's secret whole. */
  put(tenantId: string, channelId: string, secret: object): Promise<void>;
  /** The secret as put, or undefined when there is none. */
  get(tenantId: string, channelId: string): Promise<object | undefined>;
  /** Removes it at once (no recovery window); absent is fine. */
  delete(tenantId: string, channelId: string): Promise<void>;
}

/** The one spelling of a connection's secret name below a prefix (ids are [A-Za-z0-9_.-], valid in secret names and paths). */
export const channelSecretName = (prefix: string, tenantId: string, channelId: string): string => `${prefix}${tenantId}/${channelId}`;

/** The Secrets Manager name space of one stack's channel secrets (lib/ grants `<this>*`). */
export const channelSecretsPrefix = (stackName: string): string => `stockroom/${stackName}/channels/`;

const asObject = (text: string): object => {
  const value: unknown = JSON.parse(text);
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new Error('a stored channel secret is not a JSON object');
  return value;
};

export const secretsManagerStore = (client: SecretsManagerClient, prefix: string): CredentialStore => ({
  async put(tenantId, channelId, secret) {
    const SecretId = channelSecretName(prefix, tenantId, channelId);
    const SecretString = JSON.stringify(secret);
    try {
      await client.send(new CreateSecretCommand({ Name: SecretId, SecretString, Description: 'Stockroom sales channel credentials' }));
    } catch (error) {
      if (errorName(error) !== 'ResourceExistsException') throw error;
      await client.send(new PutSecretValueCommand({ SecretId, SecretString }));
    }
  },
  async get(tenantId, channelId) {
    try {
      const answer = await client.send(new GetSecretValueCommand({ SecretId: channelSecretName(prefix, tenantId, channelId) }));
      return answer.SecretString === undefined ? undefined : asObject(answer.SecretString);
    } catch (error) {
      if (errorName(error) === 'ResourceNotFoundException') return undefined;
      throw error;
    }
  },
  async delete(tenantId, channelId) {
    try {
      await client.send(new DeleteSecretCommand({ SecretId: channelSecretName(prefix, tenantId, channelId), ForceDeleteWithoutRecovery: true }));
    } catch (error) {
      if (errorName(error) !== 'ResourceNotFoundException') throw error;
    }
  },
});

const KEY_BYTES = 32;
const IV_BYTES = 12;

/** The local store's key: read, or made on first use (exclusive create, 0600, so two processes agree on one). */
const localKey = async (dir: string): Promise<Buffer> => {
  const path = join(dir, 'key');
  await mkdir(dir, { recursive: true, mode: 0o700 });
  try {
    const file = await open(path, 'wx', 0o600);
    try {
      const key = randomBytes(KEY_BYTES);
      await file.writeFile(key);
      return key;
    } finally {
      await file.close();
    }
  } catch (error) {
    if (errorName(error) !== 'EEXIST' && (error as { code?: string }).code !== 'EEXIST') throw error;
  }
  const key = await readFile(path);
  if (key.length !== KEY_BYTES) throw new Error(`${path} is not a ${KEY_BYTES}-byte key`);
  return key;
};

/** AES-256-GCM with a fresh IV per write; the secret's name is the additional data, so a file moved to another connection does not decrypt. */
export const seal = (key: Buffer, name: string, plaintext: string): string => {
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(Buffer.from(name));
  const data = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  return JSON.stringify({ v: 1, alg: 'A256GCM', iv: iv.toString('base64'), tag: cipher.getAuthTag().toString('base64'), data: data.toString('base64') });
};

export const unseal = (key: Buffer, name: string, sealed: string): string => {
  const parsed = JSON.parse(sealed) as { iv: string; tag: string; data: string };
  const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(parsed.iv, 'base64'));
  decipher.setAAD(Buffer.from(name));
  decipher.setAuthTag(Buffer.from(parsed.tag, 'base64'));
  return Buffer.concat([decipher.update(Buffer.from(parsed.data, 'base64')), decipher.final()]).toString('utf8');
};

export const localEncryptedStore = (dir: string): CredentialStore => {
  let key: Promise<Buffer> | undefined;
  const keyOnce = (): Promise<Buffer> => (key ??= localKey(dir));
  const pathOf = (tenantId: string, channelId: string): string => join(dir, tenantId, `${channelId}.secret`);
  const isMissing = (error: unknown): boolean => (error as { code?: string }).code === 'ENOENT';
  return {
    async put(tenantId, channelId, secret) {
      const path = pathOf(tenantId, channelId);
      const sealed = seal(await keyOnce(), channelSecretName('', tenantId, channelId), JSON.stringify(secret));
      await mkdir(dirname(path), { recursive: true, mode: 0o700 });
      // Written aside, then renamed over: a reader never sees half a file.
      const temp = `${path}.${randomBytes(6).toString('hex')}.tmp`;
      const file = await open(temp, 'wx', 0o600);
      try {
        await file.writeFile(sealed);
      } finally {
        await file.close();
      }
      await rename(temp, path);
    },
    async get(tenantId, channelId) {
      let sealed: string;
      try {
        sealed = await readFile(pathOf(tenantId, channelId), 'utf8');
      } catch (error) {
        if (isMissing(error)) return undefined;
        throw error;
      }
      return asObject(unseal(await keyOnce(), channelSecretName('', tenantId, channelId), sealed));
    },
    async delete(tenantId, channelId) {
      await rm(pathOf(tenantId, channelId), { force: true });
    },
  };
};

/** The local store's shape in this process only (--in-memory): values kept as JSON text, as a real store would. */
export const memoryStore = (): CredentialStore => {
  const held = new Map<string, string>();
  return {
    put: async (tenantId, channelId, secret) => {
      held.set(channelSecretName('', tenantId, channelId), JSON.stringify(secret));
    },
    get: async (tenantId, channelId) => {
      const text = held.get(channelSecretName('', tenantId, channelId));
      return text === undefined ? undefined : asObject(text);
    },
    delete: async (tenantId, channelId) => {
      held.delete(channelSecretName('', tenantId, channelId));
    },
  };
};

const cached = new Map<string, CredentialStore>();

/** The store CHANNEL_SECRETS_ENV names, one per setting for the process (Lambda reuses it across invocations). */
export const credentialStoreFromEnv = (env: NodeJS.ProcessEnv = process.env): CredentialStore => {
  const setting = env[CHANNEL_SECRETS_ENV];
  if (!setting) throw new Error(`${CHANNEL_SECRETS_ENV} is not set`);
  const found = cached.get(setting);
  if (found) return found;
  let store: CredentialStore;
  if (setting === 'memory') store = memoryStore();
  else if (setting.startsWith('file:') && setting.length > 'file:'.length) store = localEncryptedStore(setting.slice('file:'.length));
  else if (setting.startsWith('secretsmanager:') && setting.endsWith('/')) store = secretsManagerStore(traced(new SecretsManagerClient({})), setting.slice('secretsmanager:'.length));
  else throw new Error(`${CHANNEL_SECRETS_ENV} must be 'memory', 'file:<dir>' or 'secretsmanager:<prefix ending in />', got '${setting}'`);
  cached.set(setting, store);
  return store;
};
