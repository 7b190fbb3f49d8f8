import type { Context, ScheduledEvent } from 'aws-lambda';
import { dbFromEnv } from '../../platform/db';
import { log } from '../../platform/log';
import { credentialStoreFromEnv } from '../../platform/secrets';
import { pollAmazonConnections, type PollRunSummary } from '../amazon-poll';

/** Scheduled (functions/wiring.ts channelSchedules.pollAmazonOrders): every Amazon connection's orders since its checkpoint, paced, until the deadline. */
export const handler = async (event: ScheduledEvent, context: Context): Promise<Omit<PollRunSummary, 'polls'>> => {
  const { polls, ...summary } = await pollAmazonConnections({ db: dbFromEnv(), credentials: credentialStoreFromEnv(), now: () => new Date(), deadline: Date.now() + context.getRemainingTimeInMillis(), requestId: `amazon-poll-${event.id}` });
  if (summary.connections) log.info('amazon orders polled', { ...summary, failed: polls.filter((p) => p.outcome === 'failed').map((p) => ({ tenant_id: p.tenant_id, channel_id: p.channel_id, error: p.error })) });
  return summary;
};
