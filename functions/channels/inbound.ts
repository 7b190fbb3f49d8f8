import * as z from 'zod';
import { allocateOrder, cancelOrder } from '../orders/orders';
import type { Deps } from '../platform/context';
import { AppError } from '../platform/errors';
import { keys } from '../platform/keys';
import { decodeWith, getItem, queryPage, type Page } from '../platform/storage';
import { putItem, writeOne } from '../platform/writes';
import type { Platform } from './model';
import type { Channel } from './store';

/**
 * Orders that arrive from a channel (a Shopify webhook, the Amazon poll) are allocated through the
 * orders context's own allocation, as if they had come through the API: order id
 * `<platform>.<channel_id>.<external id>`, from the connection's warehouses only. The same order
 * arriving again (a webhook retried, a poll page read twice) allocates nothing more: the order id
 * is the idempotency. Every inbound order is recorded per connection (keys.channelRecords 'INBOUND')
 * with its outcome, so one that could not be allocated is shown in the channel status, never dropped.
 */
export interface ChannelOrderLine {
  /** Our sku_id (the caller maps the platform's SKU to ours through the listing map). */
  sku_id: string;
  quantity: number;
}

export interface ChannelOrder {
  /** The platform's order id (Shopify's numeric id, Amazon's 123-1234567-1234567). */
  external_id: string;
  lines: ChannelOrderLine[];
  /** Where it ships, when the platform says (Shopify's shipping address coordinates). */
  ship_to?: { latitude: number; longitude: number; country?: string };
  /** Lines the caller could not map to one of our SKUs: the order is recorded as failed with them. */
  unmapped?: { platform_sku: string; quantity: number }[];
}

export const INBOUND_STATUSES = ['allocated', 'failed', 'cancelled'] as const;
export type InboundStatus = (typeof INBOUND_STATUSES)[number];

export const inboundRecord = z
  .object({
    channel_id: z.string(),
    external_id: z.string(),
    order_id: z.string(),
    status: z.enum(INBOUND_STATUSES),
    reason: z.string().optional(),
    error_code: z.string().optional(),
    lines: z.array(z.object({ sku_id: z.string(), quantity: z.number().int() })),
    received_at: z.string(),
    updated_at: z.string(),
    deliveries: z.number().int(),
  })
  .loose();
export type InboundRecord = z.output<typeof inboundRecord>;
const decodeInbound = decodeWith('inbound order', inboundRecord);

/** The order id an inbound order gets here: prefixed by the channel, so two channels' order 1001 never meet. */
export const channelOrderId = (platform: Platform, channelId: string, externalId: string): string => {
  const id = `${platform === 'shopify' ? 'shp' : 'amz'}.${channelId}.${externalId}`.replace(/[^A-Za-z0-9_.-]/g, '_');
  if (id.length > 64) throw new AppError('VALIDATION_FAILED', `the order id ${externalId} is too long to be prefixed by its channel`);
  return id;
};

const inboundKey = (tenantId: string, channelId: string, externalId: string) => ({ pk: keys.channelRecords(tenantId, channelId, 'INBOUND'), sk: externalId });

// Unconditional: two deliveries of one order racing both allocate the same order id (one wins, the
// other is answered with it), so either write records the same outcome.
interface InboundOutcome {
  channel_id: string;
  external_id: string;
  order_id: string;
  status: InboundStatus;
  reason?: string;
  error_code?: string;
  lines: ChannelOrderLine[];
}

const record = async (deps: Deps, channel: Channel, next: InboundOutcome, previous: InboundRecord | undefined): Promise<InboundRecord> => {
  const now = deps.ctx.now().toISOString();
  const value: InboundRecord = { ...next, received_at: previous?.received_at ?? now, updated_at: now, deliveries: (previous?.deliveries ?? 0) + 1 };
  await writeOne(
    deps.db,
    putItem(deps.db, { name: 'inbound order', key: inboundKey(deps.ctx.caller.tenantId, channel.channel_id, next.external_id), entity: 'channel-inbound', tenantId: deps.ctx.caller.tenantId, value }),
  );
  return value;
};

export const readInbound = (deps: Deps, channelId: string, externalId: string): Promise<InboundRecord | undefined> =>
  getItem(deps.db, inboundKey(deps.ctx.caller.tenantId, channelId, externalId), decodeInbound);

/** A page of a connection's inbound orders (the status shows the failed ones). */
export const inboundPage = (deps: Deps, channelId: string, cursor?: string, limit = 100): Promise<Page<InboundRecord>> =>
  queryPage(deps.db, { partition: keys.channelRecords(deps.ctx.caller.tenantId, channelId, 'INBOUND'), cursor, limit }, decodeInbound);

/**
 * Allocates an order from a channel once. An order already allocated (or cancelled) is answered as
 * recorded; a failed one is tried again (the stock may have arrived). A refusal the caller cannot
 * fix by retrying (not enough stock, an unknown SKU, an unmapped line) is recorded as failed with
 * its reason and answered, not thrown: the platform is told the delivery was received.
 */
export const receiveChannelOrder = async (deps: Deps, channel: Channel, order: ChannelOrder): Promise<InboundRecord> => {
  const previous = await readInbound(deps, channel.channel_id, order.external_id);
  if (previous && previous.status !== 'failed') return previous;
  const orderId = channelOrderId(channel.platform, channel.channel_id, order.external_id);
  const base = { channel_id: channel.channel_id, external_id: order.external_id, order_id: orderId, lines: order.lines };
  if (order.unmapped?.length) {
    const names = order.unmapped.map((line) => line.platform_sku).join(', ');
    return record(deps, channel, { ...base, status: 'failed', error_code: 'UNMAPPED_SKU', reason: `no SKU here is mapped to the channel's ${names}` }, previous);
  }
  if (order.lines.length === 0) return record(deps, channel, { ...base, status: 'failed', error_code: 'NO_LINES', reason: 'the order has no line this system stocks' }, previous);
  try {
    await allocateOrder(deps, {
      order_id: orderId,
      lines: order.lines,
      // Without coordinates the nearest warehouse cannot be told: the channel's warehouses in their priority order.
      ship_to: order.ship_to ?? { latitude: 0, longitude: 0 },
      strategy: order.ship_to ? 'nearest' : 'priority',
      allow_split: true,
      warehouse_ids: channel.warehouse_ids,
    });
    return await record(deps, channel, { ...base, status: 'allocated' }, previous);
  } catch (error) {
    if (error instanceof AppError && error.status >= 400 && error.status < 500 && error.status !== 429) {
      return record(deps, channel, { ...base, status: 'failed', error_code: error.code, reason: error.message }, previous);
    }
    throw error;
  }
};

/** Cancels an order a channel cancelled: its units go back once; an order never allocated here is recorded cancelled. */
export const cancelChannelOrder = async (deps: Deps, channel: Channel, externalId: string): Promise<InboundRecord> => {
  const previous = await readInbound(deps, channel.channel_id, externalId);
  if (previous?.status === 'cancelled') return previous;
  const orderId = channelOrderId(channel.platform, channel.channel_id, externalId);
  // Whatever the record says: an order allocated by a delivery that crashed before recording it has
  // no record (or an older failed one), and its units must go back all the same. Cancelling twice
  // releases nothing more; an order never allocated here is 404, with nothing to give back.
  try {
    await cancelOrder(deps, orderId);
  } catch (error) {
    // Shipped already: the channel's cancel came too late to give stock back; recorded with the reason.
    if (error instanceof AppError && error.status === 409) {
      return record(deps, channel, { channel_id: channel.channel_id, external_id: externalId, order_id: orderId, lines: previous?.lines ?? [], status: 'failed', error_code: error.code, reason: `cancelled on the channel, but here: ${error.message}` }, previous);
    }
    if (!(error instanceof AppError && error.code === 'NOT_FOUND')) throw error;
  }
  return record(deps, channel, { channel_id: channel.channel_id, external_id: externalId, order_id: orderId, lines: previous?.lines ?? [], status: 'cancelled' }, previous);
};
