import { newId } from '../platform/ids';
import type { Role } from '../platform/permissions';

/**
 * Where people sign in, besides the table's user records (which the status check reads and which stay
 * the truth for it): in AWS the Cognito user pool (its id in USER_POOL_ID), which issues the tokens;
 * locally nothing beyond the table (the local issuer reads the table itself). The users API calls it
 * after (or, to learn the new user's id, before) its own transaction.
 */
export { USER_POOL_ID_ENV } from '../platform/routes';

/** A user as the sign-in side needs to know them. */
export interface DirectoryUser {
  tenantId: string;
  email: string;
  name: string;
  role: Role;
  /** undefined: every warehouse. */
  warehouseIds?: readonly string[];
  disabled: boolean;
}

export interface UserDirectory {
  /** Creates the sign-in identity and returns the user id (Cognito's `sub`). An address that has an account already is 409. */
  create: (user: DirectoryUser) => Promise<string>;
  /**
   * Follows a change of a user: attributes, enabled or disabled, and a global sign-out (every refresh token revoked)
   * when the user was disabled or their role or scope changed, so no new token carries the old claims.
   */
  change: (userId: string, before: DirectoryUser, after: DirectoryUser) => Promise<void>;
  /** Signs the user out everywhere and deletes the identity; one already gone is fine. */
  remove: (userId: string) => Promise<void>;
}

/** The table is the whole directory: the id is ours to make, and there is nothing else to follow a change. */
export const tableOnlyDirectory: UserDirectory = {
  create: () => Promise.resolve(newId()),
  change: () => Promise.resolve(),
  remove: () => Promise.resolve(),
};
