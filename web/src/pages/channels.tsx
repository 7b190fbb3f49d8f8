import { useState } from 'preact/hooks';
import { api, must, once } from '../api/client';
import { LoadState, Page, ProblemBanner, Table, useAction, useLoad } from '../components/ui';
import { formatInstant, formatQuantity, humanize } from '../format';
import { can } from '../session';

/** Shopify and Amazon: whether each connection keeps up (lag, pushes waiting, drift at the last reconciliation), and a sync on demand. */
export const ChannelsPage = () => {
  const status = useLoad(() => must(api.GET('/api/integration/status', {})), []);
  const { problem, run } = useAction();
  const [notice, setNotice] = useState<string | undefined>();
  const sync = (channelId: string) =>
    run(async () => {
      const answer = await must(api.POST('/api/integration/sync', { params: { header: once() }, body: { channel_id: channelId } }));
      setNotice(`Reconciliation ${answer.reconciliations.map((r) => r.reconciliation_id).join(', ')} requested.`);
      status.reload();
    });
  return (
    <Page title="Channels">
      <ProblemBanner problem={problem} />
      {notice && <p class="notice" role="status">{notice}</p>}
      <LoadState loaded={status} what="channel status">
        {(data) => (
          <Table
            caption="Sales channel connections"
            rows={data.channels}
            rowKey={(c) => c.channel_id}
            empty="No sales channels are connected."
            columns={[
              { label: 'Channel', cell: (c) => `${c.channel_id} (${humanize(c.platform)})` },
              { label: 'Sync lag', numeric: true, cell: (c) => (c.sync_lag_ms === null ? '—' : `${(c.sync_lag_ms / 1000).toFixed(1)} s`) },
              { label: 'Awaiting push', numeric: true, cell: (c) => formatQuantity(c.queue_depth.listings_awaiting_push) },
              { label: 'Push failures', numeric: true, cell: (c) => formatQuantity(c.pushes.failed) },
              { label: 'Last reconciliation', cell: (c) => (c.last_reconciliation ? `${humanize(c.last_reconciliation.status)} ${formatInstant(c.last_reconciliation.completed_at ?? c.last_reconciliation.requested_at)}` : 'never') },
              { label: 'Drift', numeric: true, cell: (c) => (c.last_reconciliation ? formatQuantity(c.last_reconciliation.drifted) : '—') },
              { label: 'Failed orders', numeric: true, cell: (c) => formatQuantity(c.failed_inbound_orders.count) },
              ...(can('channel-sync:write') ? [{ label: 'Actions', cell: (c: (typeof data.channels)[number]) => <button type="button" disabled={c.reconciliation_in_progress !== null} onClick={() => void sync(c.channel_id)} aria-label={`Run a sync of ${c.channel_id}`}>Run sync</button> }] : []),
            ]}
          />
        )}
      </LoadState>
    </Page>
  );
};
