/**
 * The single table, declared once. The CDK stack builds its `TableV2` from
 * this and the local runtime and tests create the same table in DynamoDB
 * Local from it, so the two cannot drift.
 */
export const TABLE = {
  partitionKey: 'pk',
  sortKey: 'sk',
  /** Secondary index for "children of a parent" and per-warehouse ledger reads. */
  gsi1: { name: 'gsi1', partitionKey: 'gsi1pk', sortKey: 'gsi1sk' },
  /** Epoch seconds; DynamoDB deletes the item some time after (idempotency records). */
  ttlAttribute: 'expires_at',
} as const;

export const TABLE_NAME_ENV = 'TABLE_NAME';

export const tableName = (): string => {
  const name = process.env[TABLE_NAME_ENV];
  if (!name) throw new Error(`${TABLE_NAME_ENV} is not set`);
  return name;
};

/**
 * The audit trail's own table (issue 12): apart from the single table so that IAM can grant the
 * HTTP functions PutItem on it and nothing else (no update, no delete: records are immutable),
 * and the audit reader Query only. Keys (functions/platform/keys.ts auditRecord): one partition
 * per tenant per UTC day, sort key `<ISO instant>#<request id>`, so a day reads newest first and
 * no tenant's trail is one partition forever. Its stream (new images) feeds the exporter that
 * copies the trail to the lake's bucket under Object Lock.
 */
export const AUDIT_TABLE = {
  partitionKey: 'pk',
  sortKey: 'sk',
} as const;

export const AUDIT_TABLE_NAME_ENV = 'AUDIT_TABLE_NAME';

/** The audit table beside a table of this name, where no AUDIT_TABLE_NAME says otherwise (locally, tests, benchmarks). */
export const auditTableBeside = (table: string): string => `${table}-audit`;

/** The audit table: AUDIT_TABLE_NAME (the CDK stack sets it), else the one beside TABLE_NAME (bin/local/dynamodb.ts ensureTable creates both). */
export const auditTableName = (): string => process.env[AUDIT_TABLE_NAME_ENV] || auditTableBeside(tableName());
