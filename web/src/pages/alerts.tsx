import { useState } from 'preact/hooks';
import { api, must, once } from '../api/client';
import { Dialog, DialogActions, Field, Link, LoadState, Page, Pager, ProblemBanner, Table, asProblem, useLoad, usePager, useAction } from '../components/ui';
import { fieldMessages, formMessages, parseQuantity, type ApiProblem } from '../forms';
import { formatDays, formatInstant, formatQuantity, humanize } from '../format';
import { can } from '../session';

type Status = 'open' | 'acknowledged' | 'resolved';

/** Alerts, most urgent first (the API's order), with acknowledge, thresholds and subscriptions. */
export const AlertsPage = () => {
  const [status, setStatus] = useState<Status>('open');
  const pager = usePager();
  const alerts = useLoad(() => must(api.GET('/api/alerts', { params: { query: { status, limit: 50, ...(pager.cursor ? { cursor: pager.cursor } : {}) } } })), [status, pager.cursor]);
  const { problem, run } = useAction();
  const [thresholds, setThresholds] = useState<{ sku_id: string; warehouse_id: string; reorder_point: number; safety_stock: number } | undefined>();
  const acknowledge = (alertId: string) =>
    run(async () => {
      await must(api.POST('/api/alerts/{alert_id}/acknowledge', { params: { path: { alert_id: alertId }, header: once() } }));
      alerts.reload();
    });
  return (
    <Page title="Alerts">
      <label>
        Show{' '}
        <select value={status} onChange={(e) => { setStatus(e.currentTarget.value as Status); pager.reset(); }}>
          <option value="open">Open</option>
          <option value="acknowledged">Acknowledged</option>
          <option value="resolved">Resolved</option>
        </select>
      </label>
      <ProblemBanner problem={problem} />
      <LoadState loaded={alerts} what="alerts">
        {(data) => (
          <>
            <Table
              caption="Low-stock alerts, most urgent first"
              rows={data.alerts}
              rowKey={(a) => a.alert_id}
              empty={`No ${status} alerts.`}
              columns={[
                { label: 'Severity', cell: (a) => <span class={`badge ${a.severity}`}>{humanize(a.severity)}</span> },
                { label: 'SKU', cell: (a) => <Link href={`/skus/${encodeURIComponent(a.sku_id)}`}>{a.sku_id}</Link> },
                { label: 'Warehouse', cell: (a) => a.warehouse_id },
                { label: 'Available', numeric: true, cell: (a) => formatQuantity(a.available) },
                { label: 'Reorder point', numeric: true, cell: (a) => formatQuantity(a.reorder_point) },
                { label: 'Days of cover', numeric: true, cell: (a) => formatDays(a.days_of_cover) },
                { label: 'Opened', cell: (a) => formatInstant(a.opened_at) },
                ...(can('alerts:write') || can('inventory:write')
                  ? [
                      {
                        label: 'Actions',
                        cell: (a: (typeof data.alerts)[number]) => (
                          <div class="row-actions">
                            {can('alerts:write') && a.status === 'open' && (
                              <button type="button" onClick={() => void acknowledge(a.alert_id)} aria-label={`Acknowledge the alert on ${a.sku_id} in ${a.warehouse_id}`}>Acknowledge</button>
                            )}
                            {can('inventory:write') && (
                              <button type="button" onClick={() => setThresholds({ sku_id: a.sku_id, warehouse_id: a.warehouse_id, reorder_point: a.reorder_point, safety_stock: a.safety_stock })} aria-label={`Edit thresholds of ${a.sku_id} in ${a.warehouse_id}`}>Thresholds</button>
                            )}
                          </div>
                        ),
                      },
                    ]
                  : []),
              ]}
            />
            <Pager pager={pager} nextCursor={data.next_cursor} />
          </>
        )}
      </LoadState>
      {thresholds && <ThresholdsDialog level={thresholds} onClose={() => setThresholds(undefined)} onDone={() => { setThresholds(undefined); alerts.reload(); }} />}
      {can('subscriptions:read') && <Subscriptions />}
    </Page>
  );
};

const ThresholdsDialog = ({ level, onClose, onDone }: { level: { sku_id: string; warehouse_id: string; reorder_point: number; safety_stock: number }; onClose: () => void; onDone: () => void }) => {
  const [reorderPoint, setReorderPoint] = useState(String(level.reorder_point));
  const [safetyStock, setSafetyStock] = useState(String(level.safety_stock));
  const [problem, setProblem] = useState<ApiProblem | undefined>();
  const [local, setLocal] = useState<Record<string, string>>({});
  const submit = async (event: Event) => {
    event.preventDefault();
    const rp = parseQuantity(reorderPoint, { min: 0 });
    const ss = parseQuantity(safetyStock, { min: 0 });
    const errors = { ...('error' in rp ? { reorder_point: rp.error } : {}), ...('error' in ss ? { safety_stock: ss.error } : {}) };
    setLocal(errors);
    if ('error' in rp || 'error' in ss) return;
    try {
      await must(api.PUT('/api/thresholds', { body: { sku_id: level.sku_id, warehouse_id: level.warehouse_id, reorder_point: rp.value, safety_stock: ss.value } }));
      onDone();
    } catch (error) {
      setProblem(asProblem(error));
    }
  };
  const inputs = ['reorder_point', 'safety_stock'];
  const fields = { ...fieldMessages(problem, inputs), ...local };
  return (
    <Dialog title={`Thresholds of ${level.sku_id} in ${level.warehouse_id}`} onClose={onClose}>
      <form onSubmit={submit} noValidate>
        <ProblemBanner problem={problem} extra={formMessages(problem, inputs)} />
        <Field label="Reorder point" error={fields.reorder_point}>
          {(props) => <input {...props} name="reorder_point" inputMode="numeric" value={reorderPoint} onInput={(e) => setReorderPoint(e.currentTarget.value)} />}
        </Field>
        <Field label="Safety stock" error={fields.safety_stock}>
          {(props) => <input {...props} name="safety_stock" inputMode="numeric" value={safetyStock} onInput={(e) => setSafetyStock(e.currentTarget.value)} />}
        </Field>
        <DialogActions onClose={onClose} submit="Save" />
      </form>
    </Dialog>
  );
};

/** Who gets told: the tenant's subscriptions (what, how urgent, where to), adding one and removing one. */
const Subscriptions = () => {
  const subscriptions = useLoad(() => must(api.GET('/api/alerts/subscriptions', { params: { query: { limit: 100 } } })), []);
  const [channel, setChannel] = useState<'email' | 'sms' | 'webhook'>('email');
  const [target, setTarget] = useState('');
  const [scopeKind, setScopeKind] = useState<'all' | 'sku_id' | 'warehouse_id'>('all');
  const [scopeId, setScopeId] = useState('');
  const [minSeverity, setMinSeverity] = useState<'normal' | 'high' | 'critical'>('normal');
  const [secret, setSecret] = useState<string | undefined>();
  const { problem, run } = useAction();
  const add = (event: Event) => {
    event.preventDefault();
    return run(async () => {
      const scope = scopeKind === 'all' ? { all: true as const } : scopeKind === 'sku_id' ? { sku_id: scopeId.trim() } : { warehouse_id: scopeId.trim() };
      const made = await must(api.POST('/api/alerts/subscribe', { params: { header: once() }, body: { scope, channel, target: target.trim(), min_severity: minSeverity } }));
      // A webhook's signing secret is in this answer only: shown once, for the receiver's configuration.
      setSecret(made.secret);
      setTarget('');
      subscriptions.reload();
    });
  };
  const remove = (subscriptionId: string) =>
    run(async () => {
      await must(api.DELETE('/api/alerts/subscriptions/{subscription_id}', { params: { path: { subscription_id: subscriptionId } } }));
      subscriptions.reload();
    });
  const inputs = ['target', 'channel', 'scope', 'min_severity'];
  const fields = fieldMessages(problem, inputs);
  return (
    <>
      <h2>Who gets told</h2>
      <ProblemBanner problem={problem} extra={formMessages(problem, inputs)} />
      {secret && (
        <p class="notice" role="status">
          The webhook's signing secret (shown this once): <code>{secret}</code>
        </p>
      )}
      <LoadState loaded={subscriptions} what="subscriptions">
        {(data) => (
          <Table
            caption="Alert subscriptions"
            rows={data.subscriptions}
            rowKey={(s) => s.subscription_id}
            empty="Nobody is subscribed yet."
            columns={[
              { label: 'Channel', cell: (s) => humanize(s.channel) },
              { label: 'Target', cell: (s) => s.target },
              { label: 'Alerts of', cell: (s) => ('operations' in s.scope ? 'Operational alerts (the system\'s alarms)' : 'all' in s.scope ? 'Every SKU and warehouse' : 'sku_id' in s.scope ? `SKU ${s.scope.sku_id}` : `Warehouse ${s.scope.warehouse_id}`) },
              { label: 'At least', cell: (s) => humanize(s.min_severity) },
              ...(can('alerts:write')
                ? [{ label: 'Actions', cell: (s: (typeof data.subscriptions)[number]) => <button type="button" onClick={() => void remove(s.subscription_id)} aria-label={`Unsubscribe ${s.target}`}>Unsubscribe</button> }]
                : []),
            ]}
          />
        )}
      </LoadState>
      {can('subscriptions:manage') && (
        <form class="inline-form" onSubmit={add} noValidate>
          <Field label="Channel" error={fields.channel}>
            {(props) => (
              <select {...props} value={channel} onChange={(e) => setChannel(e.currentTarget.value as typeof channel)}>
                <option value="email">Email</option>
                <option value="sms">SMS</option>
                <option value="webhook">Webhook</option>
              </select>
            )}
          </Field>
          <Field label="Address, phone number or URL" error={fields.target}>
            {(props) => <input {...props} name="target" value={target} onInput={(e) => setTarget(e.currentTarget.value)} />}
          </Field>
          <Field label="Alerts of" error={fields.scope}>
            {(props) => (
              <select {...props} value={scopeKind} onChange={(e) => setScopeKind(e.currentTarget.value as typeof scopeKind)}>
                <option value="all">Every SKU and warehouse</option>
                <option value="sku_id">One SKU</option>
                <option value="warehouse_id">One warehouse</option>
              </select>
            )}
          </Field>
          {scopeKind !== 'all' && (
            <Field label={scopeKind === 'sku_id' ? 'SKU id' : 'Warehouse id'} error={fields.scope}>
              {(props) => <input {...props} name="scope_id" value={scopeId} onInput={(e) => setScopeId(e.currentTarget.value)} />}
            </Field>
          )}
          <Field label="At least" error={fields.min_severity}>
            {(props) => (
              <select {...props} value={minSeverity} onChange={(e) => setMinSeverity(e.currentTarget.value as typeof minSeverity)}>
                <option value="normal">Normal</option>
                <option value="high">High</option>
                <option value="critical">Critical</option>
              </select>
            )}
          </Field>
          <button type="submit">Subscribe</button>
        </form>
      )}
    </>
  );
};
