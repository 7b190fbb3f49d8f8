import { CognitoIdentityProviderClient, UsernameExistsException, UserNotFoundException } from '@aws-sdk/client-cognito-identity-provider';
import { cognitoDirectory } from '../../functions/identity/cognito';
import type { DirectoryUser } from '../../functions/identity/directory';
import { AppError } from '../../functions/platform/errors';

/**
 * The Cognito side of the users API, held to the commands it sends: the SDK client's own middleware
 * stack stops each call at its first step (before any signing or network), records the command's name
 * and input, and answers what the test says Cognito answers. No AWS is reached.
 */
type Answer = (command: string, input: Record<string, unknown>) => unknown;

const recording = (answer: Answer = () => ({})) => {
  const client = new CognitoIdentityProviderClient({ region: 'eu-west-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' } });
  const sent: { command: string; input: Record<string, unknown> }[] = [];
  client.middlewareStack.add(
    (_next, context) => async (args) => {
      const command = String(context.commandName);
      const input = args.input as Record<string, unknown>;
      sent.push({ command, input });
      return { output: { $metadata: {}, ...(answer(command, input) as object) }, response: {} };
    },
    { step: 'initialize', name: 'recordAndAnswer' },
  );
  return { client, sent };
};

const POOL = 'eu-west-1_TestPool';
const ana: DirectoryUser = { tenantId: 't-acme', email: 'ana@example.com', name: 'Ana', role: 'clerk', warehouseIds: ['wh-1', 'wh-2'], disabled: false };

test('create is AdminCreateUser with the address as username, the tenant, role and scope attributes; the id is the sub', async () => {
  const { client, sent } = recording((command) => (command === 'AdminCreateUserCommand' ? { User: { Attributes: [{ Name: 'sub', Value: '5f0c-sub' }] } } : {}));
  const id = await cognitoDirectory({ userPoolId: POOL, client }).create(ana);
  expect(id).toBe('5f0c-sub');
  expect(sent).toEqual([
    {
      command: 'AdminCreateUserCommand',
      input: {
        UserPoolId: POOL,
        Username: 'ana@example.com',
        UserAttributes: [
          { Name: 'email', Value: 'ana@example.com' },
          { Name: 'email_verified', Value: 'true' },
          { Name: 'custom:tenant_id', Value: 't-acme' },
          { Name: 'name', Value: 'Ana' },
          { Name: 'custom:role', Value: 'clerk' },
          { Name: 'custom:warehouse_ids', Value: 'wh-1,wh-2' },
        ],
        DesiredDeliveryMediums: ['EMAIL'],
      },
    },
  ]);
});

test('an address with an account in the pool (any tenant) is 409 ALREADY_EXISTS, naming nothing of the other account', async () => {
  const { client } = recording(() => {
    throw new UsernameExistsException({ message: 'An account with the given email already exists.', $metadata: {} });
  });
  const attempt = cognitoDirectory({ userPoolId: POOL, client }).create(ana);
  await expect(attempt).rejects.toBeInstanceOf(AppError);
  await expect(attempt).rejects.toMatchObject({ status: 409, code: 'ALREADY_EXISTS', details: { email: 'ana@example.com' } });
});

test('disabling is AdminDisableUser then AdminUserGlobalSignOut, by sub; enabling again is AdminEnableUser alone', async () => {
  const { client, sent } = recording();
  const directory = cognitoDirectory({ userPoolId: POOL, client });
  await directory.change('5f0c-sub', ana, { ...ana, disabled: true });
  expect(sent.map((s) => s.command)).toEqual(['AdminDisableUserCommand', 'AdminUserGlobalSignOutCommand']);
  expect(sent.every((s) => s.input.UserPoolId === POOL && s.input.Username === '5f0c-sub')).toBe(true);
  sent.length = 0;
  await directory.change('5f0c-sub', { ...ana, disabled: true }, ana);
  expect(sent).toEqual([{ command: 'AdminEnableUserCommand', input: { UserPoolId: POOL, Username: '5f0c-sub' } }]);
});

test('a role or scope change updates only the changed attributes and signs the user out; a new name alone does not sign out', async () => {
  const { client, sent } = recording();
  const directory = cognitoDirectory({ userPoolId: POOL, client });
  const { warehouseIds: _scope, ...everywhere } = ana;
  await directory.change('5f0c-sub', ana, { ...everywhere, role: 'viewer' });
  expect(sent).toEqual([
    {
      command: 'AdminUpdateUserAttributesCommand',
      input: { UserPoolId: POOL, Username: '5f0c-sub', UserAttributes: [{ Name: 'custom:role', Value: 'viewer' }, { Name: 'custom:warehouse_ids', Value: '' }] },
    },
    { command: 'AdminUserGlobalSignOutCommand', input: { UserPoolId: POOL, Username: '5f0c-sub' } },
  ]);
  sent.length = 0;
  await directory.change('5f0c-sub', ana, { ...ana, name: 'Ana B.' });
  expect(sent).toEqual([
    { command: 'AdminUpdateUserAttributesCommand', input: { UserPoolId: POOL, Username: '5f0c-sub', UserAttributes: [{ Name: 'name', Value: 'Ana B.' }] } },
  ]);
});

test('remove signs out and deletes; a user Cognito no longer has is removed already', async () => {
  const { client, sent } = recording();
  await cognitoDirectory({ userPoolId: POOL, client }).remove('5f0c-sub');
  expect(sent.map((s) => s.command)).toEqual(['AdminUserGlobalSignOutCommand', 'AdminDeleteUserCommand']);
  const gone = recording(() => {
    throw new UserNotFoundException({ message: 'User does not exist.', $metadata: {} });
  });
  await expect(cognitoDirectory({ userPoolId: POOL, client: gone.client }).remove('5f0c-sub')).resolves.toBeUndefined();
});
