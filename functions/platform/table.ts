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
