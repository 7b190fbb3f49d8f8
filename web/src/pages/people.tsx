import { useState } from 'preact/hooks';
import { api, downloadCsv, must, once } from '../api/client';
import type { paths } from '../api/schema';
import { Dialog, DialogActions, Field, LoadState, Page, Pager, ProblemBanner, Table, asProblem, useLoad, usePager, useAction } from '../components/ui';
import { fieldMessages, formMessages, type ApiProblem } from '../forms';
import { formatInstant, humanize } from '../format';
import { can } from '../session';

type User = paths['/api/users']['get']['responses'][200]['content']['application/json']['users'][number];
type Role = User['role'];
export const ROLES: readonly Role[] = ['admin', 'manager', 'purchaser', 'clerk', 'viewer', 'analyst', 'integration'];

const idsOf = (text: string): string[] | null => {
  const ids = text.split(',').map((id) => id.trim()).filter(Boolean);
  return ids.length === 0 ? null : ids;
};

/** The tenant's users: invite, change role and warehouse scope, disable (admins); managers read the list. */
export const UsersPage = () => {
  const pager = usePager();
  const users = useLoad(() => must(api.GET('/api/users', { params: { query: { limit: 50, ...(pager.cursor ? { cursor: pager.cursor } : {}) } } })), [pager.cursor]);
  const [editing, setEditing] = useState<User | 'new' | undefined>();
  const { problem, run } = useAction();
  const toggle = (user: User) =>
    run(async () => {
      await must(api.PATCH('/api/users/{user_id}', { params: { path: { user_id: user.user_id } }, body: { disabled: !user.disabled } }));
      users.reload();
    });
  const writer = can('users:write');
  return (
    <Page title="Users" actions={writer ? <button type="button" class="primary" onClick={() => setEditing('new')}>Invite a user</button> : undefined}>
      <ProblemBanner problem={problem} />
      <LoadState loaded={users} what="users">
        {(data) => (
          <>
            <Table caption="Users of this tenant" rows={data.users} rowKey={(u) => u.user_id} empty="No users."
              columns={[
                { label: 'Name', cell: (u) => u.name },
                { label: 'E-mail', cell: (u) => u.email },
                { label: 'Role', cell: (u) => humanize(u.role) },
                { label: 'Warehouses', cell: (u) => (u.warehouse_ids ? u.warehouse_ids.join(', ') : 'All') },
                { label: 'Status', cell: (u) => (u.disabled ? 'Disabled' : 'Active') },
                ...(writer ? [{ label: 'Actions', cell: (u: User) => (
                  <div class="row-actions">
                    <button type="button" onClick={() => setEditing(u)} aria-label={`Change ${u.email}`}>Change</button>
                    <button type="button" onClick={() => void toggle(u)} aria-label={`${u.disabled ? 'Enable' : 'Disable'} ${u.email}`}>{u.disabled ? 'Enable' : 'Disable'}</button>
                  </div>
                ) }] : []),
              ]} />
            <Pager pager={pager} nextCursor={data.next_cursor} />
          </>
        )}
      </LoadState>
      {editing && <UserDialog user={editing === 'new' ? undefined : editing} onClose={() => setEditing(undefined)} onDone={() => { setEditing(undefined); users.reload(); }} />}
    </Page>
  );
};

const INPUTS = ['email', 'name', 'role', 'warehouse_ids'];

const UserDialog = ({ user, onClose, onDone }: { user: User | undefined; onClose: () => void; onDone: () => void }) => {
  const [email, setEmail] = useState(user?.email ?? '');
  const [name, setName] = useState(user?.name ?? '');
  const [role, setRole] = useState<Role>(user?.role ?? 'clerk');
  const [scope, setScope] = useState(user?.warehouse_ids?.join(', ') ?? '');
  const [problem, setProblem] = useState<ApiProblem | undefined>();
  const submit = async (event: Event) => {
    event.preventDefault();
    try {
      if (user) await must(api.PATCH('/api/users/{user_id}', { params: { path: { user_id: user.user_id } }, body: { name, role, warehouse_ids: idsOf(scope) } }));
      else {
        const ids = idsOf(scope);
        await must(api.POST('/api/users', { params: { header: once() }, body: { email, name, role, ...(ids ? { warehouse_ids: ids } : {}) } }));
      }
      onDone();
    } catch (error) {
      setProblem(asProblem(error));
    }
  };
  const fields = fieldMessages(problem, INPUTS);
  return (
    <Dialog title={user ? `Change ${user.email}` : 'Invite a user'} onClose={onClose}>
      <form onSubmit={submit} noValidate>
        <ProblemBanner problem={problem} extra={formMessages(problem, INPUTS)} />
        {!user && <Field label="E-mail" error={fields.email}>{(p) => <input {...p} type="email" value={email} onInput={(e) => setEmail(e.currentTarget.value)} />}</Field>}
        <Field label="Name" error={fields.name}>{(p) => <input {...p} value={name} onInput={(e) => setName(e.currentTarget.value)} />}</Field>
        <Field label="Role" error={fields.role}>
          {(p) => (
            <select {...p} value={role} onChange={(e) => setRole(e.currentTarget.value as Role)}>
              {ROLES.map((r) => <option key={r} value={r}>{humanize(r)}</option>)}
            </select>
          )}
        </Field>
        <Field label="Warehouses (comma-separated ids; empty: all)" error={fields.warehouse_ids}>{(p) => <input {...p} value={scope} onInput={(e) => setScope(e.currentTarget.value)} />}</Field>
        <DialogActions onClose={onClose} submit="{user ? 'Save' : 'Invite'}" />
      </form>
    </Dialog>
  );
};

type AuditQuery = NonNullable<paths['/api/audit']['get']['parameters']['query']>;

/** The audit trail (admins): search by actor, action, target and outcome, newest first, CSV download. */
export const AuditPage = () => {
  const [form, setForm] = useState({ actor: '', action: '', target_id: '', outcome: '' });
  const [query, setQuery] = useState<AuditQuery>({});
  const pager = usePager();
  const [problem, setProblem] = useState<ApiProblem | undefined>();
  const records = useLoad(() => must(api.GET('/api/audit', { params: { query: { ...query, limit: 50, ...(pager.cursor ? { cursor: pager.cursor } : {}) } } })), [query, pager.cursor]);
  const search = (event: Event) => {
    event.preventDefault();
    pager.reset();
    setQuery(Object.fromEntries(Object.entries(form).filter(([, v]) => v.trim() !== '').map(([k, v]) => [k, v.trim()])));
  };
  const fields = fieldMessages(records.problem, ['actor', 'action', 'target_id', 'outcome']);
  return (
    <Page title="Audit trail">
      <form class="filters" role="search" onSubmit={search} noValidate>
        {(['actor', 'action', 'target_id'] as const).map((name) => (
          <Field key={name} label={humanize(name)} error={fields[name]}>{(p) => <input {...p} value={form[name]} onInput={(e) => setForm({ ...form, [name]: e.currentTarget.value })} />}</Field>
        ))}
        <Field label="Outcome" error={fields.outcome}>
          {(p) => (
            <select {...p} value={form.outcome} onChange={(e) => setForm({ ...form, outcome: e.currentTarget.value })}>
              <option value="">Any</option>
              {['success', 'refused', 'failed', 'replay'].map((o) => <option key={o} value={o}>{humanize(o)}</option>)}
            </select>
          )}
        </Field>
        <button type="submit">Search</button>
        <button type="button" onClick={() => downloadCsv('/api/audit', query as Record<string, string>, 'audit.csv').catch((e: unknown) => setProblem(asProblem(e)))}>Download CSV</button>
      </form>
      <ProblemBanner problem={problem} />
      <LoadState loaded={records} what="the audit trail">
        {(data) => (
          <>
            <Table caption="Audit records, newest first" rows={data.records} rowKey={(r) => r.request_id + r.at} empty="No records match."
              columns={[
                { label: 'When', cell: (r) => formatInstant(r.at) },
                { label: 'Actor', cell: (r) => r.actor_email ?? r.actor_subject },
                { label: 'Role', cell: (r) => r.role },
                { label: 'Action', cell: (r) => r.action },
                { label: 'Targets', cell: (r) => r.target_ids.join(', ') },
                { label: 'Outcome', cell: (r) => `${humanize(r.replay ? 'replay' : r.result)} (${r.status})${r.error_message ? `: ${r.error_message}` : ''}` },
                { label: 'Changes', numeric: true, cell: (r) => r.changes.length + r.ledger_ids.length },
              ]} />
            <Pager pager={pager} nextCursor={data.next_cursor} />
          </>
        )}
      </LoadState>
    </Page>
  );
};
