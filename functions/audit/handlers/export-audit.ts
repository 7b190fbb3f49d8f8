import type { DynamoDBStreamEvent } from 'aws-lambda';
import { exportAuditRecords } from '../export';

/** The audit table's stream -> Object Lock'ed JSON Lines in the lake bucket (functions/audit/export.ts). */
export const handler = async (event: DynamoDBStreamEvent): Promise<void> => {
  await exportAuditRecords(event.Records);
};
