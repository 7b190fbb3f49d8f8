import { createDocumentClient, type Db } from '../../functions/platform/db';
import { AppError } from '../../functions/platform/errors';
import type { RequestContext } from '../../functions/platform/context';
import { tableName } from '../../functions/platform/table';
import { newTenantId } from './api';

/** Domain functions called directly (no HTTP), for tests that need to steer the clock or the client. */
export const testDb = (): Db => ({ client: createDocumentClient(), table: tableName() });

export const contextFor = (tenantId = newTenantId(), now: () => Date = () => new Date()): RequestContext => ({
  caller: { kind: 'user', tenantId, role: 'admin', subject: 'test' },
  requestId: 'test',
  now,
});

/** The code of the AppError a domain call rejects with, undefined when it succeeds; anything else is rethrown. */
export const codeOf = async (promise: Promise<unknown>): Promise<string | undefined> => {
  try {
    await promise;
    return undefined;
  } catch (error) {
    if (error instanceof AppError) return error.code;
    throw error;
  }
};
