import { CreateSecretCommand, DeleteSecretCommand, GetSecretValueCommand, PutSecretValueCommand, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { mkdtemp, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CHANNEL_SECRETS_ENV, credentialStoreFromEnv, localEncryptedStore, memoryStore, secretsManagerStore } from '../../functions/platform/secrets';

/** The credential stores (functions/platform/secrets.ts): the only code here that reads a secret back is these tests. */
const secret = { shop_domain: 'acme.myshopify.com', access_token: 'shpat_PLAINTEXT_never_on_disk', webhook_secret: 'whsec_PLAINTEXT' };

describe('the local encrypted store', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'stockroom-secrets-unit-'));
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  test('puts, gets, replaces and deletes; a second store over the same directory reads what the first wrote', async () => {
    const store = localEncryptedStore(dir);
    expect(await store.get('t1', 'c1')).toBeUndefined();
    await store.put('t1', 'c1', secret);
    expect(await store.get('t1', 'c1')).toEqual(secret);
    expect(await localEncryptedStore(dir).get('t1', 'c1')).toEqual(secret);
    await store.put('t1', 'c1', { ...secret, access_token: 'rotated' });
    expect(await store.get('t1', 'c1')).toEqual({ ...secret, access_token: 'rotated' });
    expect(await store.get('t2', 'c1')).toBeUndefined();
    await store.delete('t1', 'c1');
    await store.delete('t1', 'c1');
    expect(await store.get('t1', 'c1')).toBeUndefined();
  });

  test('nothing on disk holds the plaintext; the key is 32 bytes with mode 0600; the secret files are 0600', async () => {
    const store = localEncryptedStore(dir);
    await store.put('t1', 'c1', secret);
    const key = join(dir, 'key');
    expect((await readFile(key)).length).toBe(32);
    expect((await stat(key)).mode & 0o777).toBe(0o600);
    const file = join(dir, 't1', 'c1.secret');
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    const text = await readFile(file, 'utf8');
    for (const value of Object.values(secret)) expect(text).not.toContain(value);
    expect(JSON.parse(text)).toMatchObject({ v: 1, alg: 'A256GCM' });
    expect(await readdir(join(dir, 't1'))).toEqual(['c1.secret']);
  });

  test('a file moved to another connection, or tampered with, does not decrypt', async () => {
    const store = localEncryptedStore(dir);
    await store.put('t1', 'c1', secret);
    const sealed = await readFile(join(dir, 't1', 'c1.secret'), 'utf8');
    await store.put('t1', 'c2', { other: true });
    await writeFile(join(dir, 't1', 'c2.secret'), sealed);
    await expect(store.get('t1', 'c2')).rejects.toThrow();
    const parsed = JSON.parse(sealed) as { data: string };
    const flipped = Buffer.from(parsed.data, 'base64');
    flipped[0] = (flipped[0] ?? 0) ^ 1;
    await writeFile(join(dir, 't1', 'c1.secret'), JSON.stringify({ ...parsed, data: flipped.toString('base64') }));
    await expect(store.get('t1', 'c1')).rejects.toThrow();
  });
});

test('the in-memory store keeps values apart per tenant and connection', async () => {
  const store = memoryStore();
  await store.put('t1', 'c1', secret);
  expect(await store.get('t1', 'c1')).toEqual(secret);
  expect(await store.get('t2', 'c1')).toBeUndefined();
  await store.delete('t1', 'c1');
  expect(await store.get('t1', 'c1')).toBeUndefined();
});

describe('the Secrets Manager store', () => {
  const named = (name: string) => Object.assign(new Error(name), { name });
  const fakeClient = (answer: (command: unknown) => unknown) => {
    const sent: unknown[] = [];
    const client = { send: async (command: unknown) => { sent.push(command); return answer(command); } } as unknown as SecretsManagerClient;
    return { client, sent };
  };

  test('put creates the secret <prefix><tenant>/<channel>, or puts a new value when it exists; delete forces deletion without recovery', async () => {
    let exists = false;
    const { client, sent } = fakeClient((command) => {
      if (command instanceof CreateSecretCommand && exists) throw named('ResourceExistsException');
      if (command instanceof CreateSecretCommand) exists = true;
      if (command instanceof GetSecretValueCommand) return { SecretString: JSON.stringify(secret) };
      if (command instanceof DeleteSecretCommand) throw named('ResourceNotFoundException');
      return {};
    });
    const store = secretsManagerStore(client, 'stockroom/S/channels/');
    await store.put('t1', 'c1', secret);
    await store.put('t1', 'c1', secret);
    expect(await store.get('t1', 'c1')).toEqual(secret);
    await store.delete('t1', 'c1');
    const inputs = sent.map((c) => [(c as object).constructor.name, (c as { input: Record<string, unknown> }).input]);
    expect(inputs).toEqual([
      ['CreateSecretCommand', expect.objectContaining({ Name: 'stockroom/S/channels/t1/c1', SecretString: JSON.stringify(secret) })],
      ['CreateSecretCommand', expect.objectContaining({ Name: 'stockroom/S/channels/t1/c1' })],
      ['PutSecretValueCommand', { SecretId: 'stockroom/S/channels/t1/c1', SecretString: JSON.stringify(secret) }],
      ['GetSecretValueCommand', { SecretId: 'stockroom/S/channels/t1/c1' }],
      ['DeleteSecretCommand', { SecretId: 'stockroom/S/channels/t1/c1', ForceDeleteWithoutRecovery: true }],
    ]);
    expect(sent.some((c) => c instanceof PutSecretValueCommand)).toBe(true);
  });

  test('an unknown secret reads as undefined; other errors propagate', async () => {
    const { client } = fakeClient(() => {
      throw named('ResourceNotFoundException');
    });
    expect(await secretsManagerStore(client, 'p/').get('t', 'c')).toBeUndefined();
    const { client: failing } = fakeClient(() => {
      throw named('ThrottlingException');
    });
    await expect(secretsManagerStore(failing, 'p/').put('t', 'c', {})).rejects.toThrow('ThrottlingException');
  });
});

test('the store is chosen by CHANNEL_SECRETS; unset or malformed is refused', () => {
  expect(() => credentialStoreFromEnv({})).toThrow(`${CHANNEL_SECRETS_ENV} is not set`);
  expect(() => credentialStoreFromEnv({ [CHANNEL_SECRETS_ENV]: 'plaintext:/tmp' })).toThrow(/must be/);
  expect(() => credentialStoreFromEnv({ [CHANNEL_SECRETS_ENV]: 'secretsmanager:no-slash' })).toThrow(/must be/);
  expect(credentialStoreFromEnv({ [CHANNEL_SECRETS_ENV]: 'memory' })).toBe(credentialStoreFromEnv({ [CHANNEL_SECRETS_ENV]: 'memory' }));
});
