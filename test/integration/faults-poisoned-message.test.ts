import { findActiveAlert, listAlerts } from '../../functions/alerts/alerts';
import { findAlertState } from '../../functions/alerts/store';
import { LocalBus } from '../../bin/local/bus';
import { startLocalConsumers, type LocalConsumers } from '../../bin/local/queues';
import { eventConsumers } from '../../functions/wiring';
import { newTenantId } from '../support/api';
import { contextFor, testDb } from '../support/domain';
import { stockLevelChanged } from '../support/events';

/**
 * Fault: a consumer throws for one poisoned message (issue 15, scope item 3). The real alert
 * evaluator (eventConsumers.evaluateAlerts, its handler module as the local runtime loads it) behind
 * the local SQS stand-in, fed by the local bus's rule, with the queue's declared maxReceives and
 * batch size; only the visibility timeout is shortened so the redeliveries come within the test.
 *
 * The poison is a well-formed StockLevelChanged whose SKU id is longer than DynamoDB allows in a
 * partition key (2,048 bytes): the schema reads it, and DynamoDB refuses the evaluator's read of the
 * level's alert state (ValidationException) every time. It arrives in one batch with healthy events.
 */
const db = testDb();
const declared = eventConsumers.evaluateAlerts.queue;
const VISIBILITY_SECONDS = 0.2;
const HEALTHY = 9;

let bus: LocalBus;
let consumers: LocalConsumers;

afterAll(async () => {
  await consumers?.stop();
  db.client.destroy();
});

test('a StockLevelChanged the evaluator throws on is retried maxReceives times and dead-lettered, and every other event of its batch is applied once', async () => {
  const tenantId = newTenantId();
  bus = new LocalBus();
  consumers = await startLocalConsumers(bus, {
    consumers: { evaluateAlerts: { ...eventConsumers.evaluateAlerts, queue: { ...declared, visibilityTimeoutSeconds: VISIBILITY_SECONDS } } },
    syncQueues: {},
    narrow: { detail: { tenant_id: [tenantId] } },
  });
  const queue = consumers.queues.evaluateAlerts!;

  const poisonSku = `sku-${'x'.repeat(2100)}`;
  const healthy = Array.from({ length: HEALTHY }, (_, i) => stockLevelChanged(tenantId, 3, 1, { sku_id: `sku-${i}` }));
  const poison = stockLevelChanged(tenantId, 3, 1, { sku_id: poisonSku });
  // The poison in the middle of the batch (the declared batch size is 10: one batch holds them all).
  const details = [...healthy.slice(0, 4), poison, ...healthy.slice(4)];
  expect(details.length).toBeLessThanOrEqual(declared.batchSize);
  const put = await bus.putEvents(details.map((d) => ({ Source: 'stockroom', DetailType: 'StockLevelChanged', Detail: JSON.stringify(d), EventBusName: bus.name })));
  expect(put.FailedEntryCount).toBe(0);
  await consumers.drain(20_000);

  // The poisoned message: received maxReceives times, then in the dead-letter list, nowhere else.
  expect(queue.deadLetters).toHaveLength(1);
  const [letter] = queue.deadLetters;
  expect(letter!.receiveCount).toBe(declared.maxReceives);
  expect(JSON.parse(letter!.body)).toMatchObject({ 'detail-type': 'StockLevelChanged', detail: { event_id: poison.event_id, sku_id: poisonSku } });
  expect(queue.depth).toBe(0);
  // The healthy ones: each received once and deleted once (its first answer was a success).
  expect(queue.stats).toMatchObject({ sent: HEALTHY + 1, received: HEALTHY + declared.maxReceives, deleted: HEALTHY });
  // One batch of all ten, then the poison alone on each redelivery: a partial failure, never the whole batch.
  expect(queue.stats).toMatchObject({ batches: declared.maxReceives, errors: 0 });

  // And applied: one open alert per healthy level, at version 1 (never evaluated twice), state at the event's version.
  const ctx = contextFor(tenantId);
  for (const detail of healthy) {
    expect(await findActiveAlert({ db, ctx }, detail.sku_id, detail.warehouse_id)).toMatchObject({ status: 'open', available: 1, version: 1, level_version: 3 });
    expect(await findAlertState({ db, ctx }, detail.sku_id, detail.warehouse_id)).toMatchObject({ last_version: 3 });
  }
  const page = await listAlerts({ db, ctx }, { limit: 100 });
  expect(page.alerts.map((a) => a.sku_id).sort()).toEqual(healthy.map((d) => d.sku_id).sort());
});
