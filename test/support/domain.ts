import { createDocumentClient, type Db } from '../../functions/platform/db';
import type { RequestContext } from '../../functions/platform/http';
import { tableName } from '../../functions/platform/table';
import { newTenantId } from './api';

/** Domain functions called directly (no HTTP), for tests that need to steer the clock or the client. */
export const testDb = (): Db => ({ client: createDocumentClient(), table: tableName() });

export const contextFor = (tenantId = newTenantId(), now: () => Date = () => new Date()): RequestContext => ({
  caller: { tenantId, role: 'admin', subject: 'test' },
  requestId: 'test',
  now,
});
