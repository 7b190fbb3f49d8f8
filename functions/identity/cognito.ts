import { traced } from '../platform/tracing';
import {
  AdminCreateUserCommand,
  AdminDeleteUserCommand,
  AdminDisableUserCommand,
  AdminEnableUserCommand,
  AdminUpdateUserAttributesCommand,
  AdminUserGlobalSignOutCommand,
  CognitoIdentityProviderClient,
  type AttributeType,
} from '@aws-sdk/client-cognito-identity-provider';
import { AppError, errorName } from '../platform/errors';
import { CLAIMS } from '../platform/permissions';
import type { DirectoryUser, UserDirectory } from './directory';

/**
 * The users API's side of the Cognito user pool (lib/identity.ts), through the official SDK client: exactly
 * AdminCreateUser, AdminUpdateUserAttributes, AdminDisableUser, AdminEnableUser, AdminUserGlobalSignOut and
 * AdminDeleteUser, the actions lib/ grants the user routes on the pool. The pool's username is the e-mail
 * address (signInAliases email); every later call names the user by their `sub`, which Cognito accepts as
 * the username of such a pool and which never changes.
 */

/** The custom attributes the tokens carry (CLAIMS) as the pool names them, with the `custom:` prefix. */
const attributesOf = (user: DirectoryUser): AttributeType[] => [
  { Name: 'name', Value: user.name },
  { Name: CLAIMS.role, Value: user.role },
  // Empty: every warehouse (functions/platform/http.ts reads an empty claim so).
  { Name: CLAIMS.warehouses, Value: (user.warehouseIds ?? []).join(',') },
];

const sameScope = (a: readonly string[] | undefined, b: readonly string[] | undefined): boolean =>
  (a === undefined) === (b === undefined) && (a ?? []).join(',') === (b ?? []).join(',');

export const cognitoDirectory = (options: { userPoolId: string; client?: CognitoIdentityProviderClient }): UserDirectory => {
  const client = options.client ?? traced(new CognitoIdentityProviderClient({}));
  const UserPoolId = options.userPoolId;
  return {
    create: async (user) => {
      try {
        const created = await client.send(
          new AdminCreateUserCommand({
            UserPoolId,
            Username: user.email,
            UserAttributes: [
              { Name: 'email', Value: user.email },
              // The administrator vouches for the address; Cognito mails the temporary password there.
              { Name: 'email_verified', Value: 'true' },
              // Immutable in the pool: set here once, never by the user.
              { Name: CLAIMS.tenant, Value: user.tenantId },
              ...attributesOf(user),
            ],
            DesiredDeliveryMediums: ['EMAIL'],
          }),
        );
        const sub = created.User?.Attributes?.find((attribute) => attribute.Name === 'sub')?.Value;
        if (!sub) throw new Error('Cognito created the user but returned no sub');
        return sub;
      } catch (error) {
        // The pool is shared by every tenant: the address may have an account in another one, which this
        // tenant must not learn more about than "taken".
        if (errorName(error) === 'UsernameExistsException' || errorName(error) === 'AliasExistsException') {
          throw new AppError('ALREADY_EXISTS', `the e-mail address ${user.email} already has an account`, { email: user.email });
        }
        throw error;
      }
    },
    change: async (userId, before, after) => {
      const attributes = attributesOf(after);
      const old = new Map(attributesOf(before).map((a) => [a.Name, a.Value]));
      const changed = attributes.filter((a) => old.get(a.Name) !== a.Value);
      if (changed.length > 0) await client.send(new AdminUpdateUserAttributesCommand({ UserPoolId, Username: userId, UserAttributes: changed }));
      if (after.disabled && !before.disabled) await client.send(new AdminDisableUserCommand({ UserPoolId, Username: userId }));
      if (!after.disabled && before.disabled) await client.send(new AdminEnableUserCommand({ UserPoolId, Username: userId }));
      // Tokens already issued keep their claims until they expire (the status check overrides them within its TTL);
      // signing out revokes the refresh tokens, so no new token is issued with the old role, scope or access.
      const revoke = (after.disabled && !before.disabled) || after.role !== before.role || !sameScope(after.warehouseIds, before.warehouseIds);
      if (revoke) await client.send(new AdminUserGlobalSignOutCommand({ UserPoolId, Username: userId }));
    },
    remove: async (userId) => {
      try {
        await client.send(new AdminUserGlobalSignOutCommand({ UserPoolId, Username: userId }));
        await client.send(new AdminDeleteUserCommand({ UserPoolId, Username: userId }));
      } catch (error) {
        if (errorName(error) !== 'UserNotFoundException') throw error;
      }
    },
  };
};
