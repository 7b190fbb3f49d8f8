import { actionOf, channelOrderOf, sellerSkuMap, startingCheckpoint, tokensAt } from '../../functions/channels/amazon-poll';
import type { AmazonOrder } from '../../functions/channels/amazon/orders';
import type { Channel } from '../../functions/channels/store';

/** The Amazon poll's pure parts (functions/channels/amazon-poll.ts): statuses, mapping, the bucket, where a run starts. */
const order = (items: AmazonOrder['items'], unreadableItems = 0): AmazonOrder => ({ orderId: '111-0000001-0000001', lastUpdatedTime: '2026-03-01T00:00:00Z', fulfillmentStatus: 'UNSHIPPED', items, unreadableItems });
const item = (sellerSku: string | null, quantityOrdered: number, orderItemId = 'i1') => ({ orderItemId, sellerSku, quantityOrdered });
const listing = (sku_id: string, seller_sku?: string, status = 'mapped') => ({ sku_id, status, ...(seller_sku === undefined ? {} : { seller_sku }) });

test('placed statuses allocate, CANCELLED cancels, a pre-order, UNFULFILLABLE or no status waits', () => {
  expect(['PENDING', 'UNSHIPPED', 'PARTIALLY_SHIPPED', 'SHIPPED'].map(actionOf)).toEqual(['receive', 'receive', 'receive', 'receive']);
  expect(actionOf('CANCELLED')).toBe('cancel');
  expect(['PENDING_AVAILABILITY', 'UNFULFILLABLE', 'SOMETHING_NEW', null].map(actionOf)).toEqual(['skip', 'skip', 'skip', 'skip']);
});

test('seller SKUs map through mapped listings only (the seller SKU defaulting to the sku_id); two claims of one are ambiguous', () => {
  const skus = sellerSkuMap([listing('sku-1', 'AMZ-1'), listing('sku-2'), listing('sku-3', 'DUP'), listing('sku-4', 'DUP'), listing('sku-5', 'OFF', 'unmapped')]);
  const mapped = channelOrderOf(order([item('AMZ-1', 2, 'a'), item('sku-2', 1, 'b'), item('AMZ-1', 3, 'c'), item('sku-1', 1, 'd'), item('DUP', 1, 'e'), item('OFF', 1, 'f'), item(null, 4, 'g'), item('AMZ-1', 0, 'h')]), skus);
  expect(mapped).toEqual({
    external_id: '111-0000001-0000001',
    // One line per SKU, quantities merged; a cancelled item (quantityOrdered 0) reserves nothing.
    lines: [{ sku_id: 'sku-1', quantity: 5 }, { sku_id: 'sku-2', quantity: 1 }],
    unmapped: [
      { platform_sku: 'sku-1', quantity: 1 },
      { platform_sku: 'DUP', quantity: 1 },
      { platform_sku: 'OFF', quantity: 1 },
      { platform_sku: '(item g without a seller SKU)', quantity: 4 },
    ],
  });
  expect(channelOrderOf(order([item('AMZ-1', 1)]), skus)).toEqual({ external_id: '111-0000001-0000001', lines: [{ sku_id: 'sku-1', quantity: 1 }] });
  expect(channelOrderOf(order([item('AMZ-1', 1)], 2), skus).unmapped).toEqual([{ platform_sku: '(2 unreadable items)', quantity: 0 }]);
});

test('the bucket refills at its rate up to the burst of 20, never down when the clock steps back', () => {
  const at = '2026-03-01T00:00:00.000Z';
  const later = (s: number) => new Date(Date.parse(at) + s * 1000);
  expect(tokensAt({ tokens: 0, at, rate: 0.0056 }, later(180))).toBeCloseTo(1.008);
  expect(tokensAt({ tokens: 0, at, rate: 0.0056 }, later(100_000))).toBe(20);
  expect(tokensAt({ tokens: 3, at, rate: 1 }, later(-60))).toBe(3);
});

test('a run starts where the stored checkpoint is, or afresh from when the credentials were stored (another seller, or an earlier connection under this id)', () => {
  const channel = { channel_id: 'amz', created_at: '2026-03-01T00:00:00.000Z', credentials: { stored: true, fields: [], updated_at: '2026-03-02T00:00:00.000Z' } } as unknown as Channel;
  const now = new Date('2026-03-03T00:00:00.000Z');
  const fresh = startingCheckpoint(channel, 'A1', undefined, now);
  expect(fresh).toMatchObject({ seller_id: 'A1', after: '2026-03-02T00:00:00.000Z', before: null, next_token: null, version: 0, bucket: { tokens: 20, rate: 0.0056 } });
  const stored = { ...fresh, after: '2026-03-02T12:00:00.000Z', next_token: 'tok', version: 7 };
  expect(startingCheckpoint(channel, 'A1', stored, now)).toBe(stored);
  expect(startingCheckpoint(channel, 'A2', stored, now)).toMatchObject({ seller_id: 'A2', after: '2026-03-02T00:00:00.000Z', next_token: null, version: 7 });
  expect(startingCheckpoint({ ...channel, created_at: '2026-03-02T06:00:00.000Z' }, 'A1', stored, now)).toMatchObject({ next_token: null, version: 7 });
});
