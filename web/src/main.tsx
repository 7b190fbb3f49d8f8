import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { api, must, useApiAt } from './api/client';
import { completeCognitoSignIn, loadConfig, signInWithCognito, type DashboardConfig } from './auth';
import { Link, ProblemBanner, asProblem } from './components/ui';
import type { ApiProblem } from './forms';
import { humanize } from './format';
import { AlertsPage } from './pages/alerts';
import { ChannelsPage } from './pages/channels';
import { InventoryPage } from './pages/inventory';
import { OrdersPage } from './pages/orders';
import { OverviewPage } from './pages/overview';
import { AuditPage, UsersPage } from './pages/people';
import { PurchasingPage } from './pages/purchasing';
import { ReportsPage } from './pages/reports';
import { SkuPage } from './pages/sku';
import { currentPath, matchPath } from './router';
import { can, permissions, session } from './session';
import './styles.css';

/** The pages: their path, their name in the navigation, the permission it is offered for (the API enforces it anyway), and what renders them. */
const PAGES = [
  { href: '/', label: 'Overview', permission: 'reports:read', page: () => <OverviewPage /> },
  { href: '/inventory', label: 'Inventory', permission: 'inventory:read', page: () => <InventoryPage /> },
  { href: '/alerts', label: 'Alerts', permission: 'alerts:read', page: () => <AlertsPage /> },
  { href: '/purchasing', label: 'Purchasing', permission: 'purchasing:read', page: () => <PurchasingPage /> },
  { href: '/orders', label: 'Orders', permission: 'orders:read', page: () => <OrdersPage /> },
  { href: '/reports', label: 'Reports', permission: 'reports:read', page: () => <ReportsPage /> },
  { href: '/channels', label: 'Channels', permission: 'channels:read', page: () => <ChannelsPage /> },
  { href: '/users', label: 'Users', permission: 'users:read', page: () => <UsersPage /> },
  { href: '/audit', label: 'Audit', permission: 'audit:read', page: () => <AuditPage /> },
] as const;

const routed = (path: string) => {
  const sku = matchPath('/skus/:sku_id', path);
  if (sku?.sku_id) return <SkuPage skuId={sku.sku_id} />;
  const [bare] = path.split('?');
  // A role without the reports starts on the inventory.
  if (bare === '/' && !can('reports:read')) return <InventoryPage />;
  const found = PAGES.find((entry) => entry.href === bare);
  if (found) return found.page();
  return (
    <section class="page">
      <h1>Not found</h1>
      <p>
        There is no page at {bare}. <Link href="/">Go to the overview</Link>.
      </p>
    </section>
  );
};

const SignIn = ({ config, problem }: { config: DashboardConfig | undefined; problem: string | undefined }) => {
  const [token, setToken] = useState('');
  const ended = session.ended.value ?? problem;
  return (
    <main class="sign-in" id="main">
      <h1>Stockroom</h1>
      {ended && <p class="problem" role="alert">{ended}</p>}
      {config ? (
        <button type="button" class="primary" onClick={() => void signInWithCognito(config)}>Sign in</button>
      ) : (
        <>
          <p>
            Open the link <code>npm start</code> prints (<code>http://localhost:3000/#token=…</code>), or paste a token from <code>npm run token</code>.
          </p>
          <form onSubmit={(e) => { e.preventDefault(); if (token.trim()) session.signIn(token.trim()); }}>
            <label for="token">Token</label>
            <textarea id="token" rows={4} value={token} onInput={(e) => setToken(e.currentTarget.value)} />
            <button type="submit" class="primary">Sign in</button>
          </form>
        </>
      )}
    </main>
  );
};

const App = ({ config, signInProblem }: { config: DashboardConfig | undefined; signInProblem: string | undefined }) => {
  const claims = session.claims.value;
  const [problem, setProblem] = useState<ApiProblem | undefined>();
  const [ready, setReady] = useState(false);
  useEffect(() => {
    if (!claims) return;
    setReady(false);
    must(api.GET('/api/roles', {})).then(
      (matrix) => {
        permissions.value = new Set(matrix.roles.find((r) => r.role === claims.role)?.permissions ?? []);
        setReady(true);
      },
      (error: unknown) => setProblem(asProblem(error)),
    );
  }, [claims?.role, claims?.subject]);
  if (!claims) return <SignIn config={config} problem={signInProblem} />;
  const path = currentPath.value;
  return (
    <>
      <a class="skip" href="#main">Skip to content</a>
      <header class="top">
        <span class="brand">Stockroom</span>
        <nav aria-label="Pages">
          <ul>
            {PAGES.filter((item) => !ready || can(item.permission)).map((item) => (
              <li key={item.href}>
                <Link href={item.href} aria-current={(item.href === '/' ? path.split('?')[0] === '/' : path.startsWith(item.href)) ? 'page' : undefined}>
                  {item.label}
                </Link>
              </li>
            ))}
          </ul>
        </nav>
        <span class="who">
          {claims.email ?? claims.subject} · {humanize(claims.role)} · {claims.tenantId}{' '}
          <button type="button" onClick={() => session.signOut()}>Sign out</button>
        </span>
      </header>
      <main id="main" tabIndex={-1}>
        <ProblemBanner problem={problem} />
        {ready ? routed(path) : !problem && <p class="muted">Loading…</p>}
      </main>
    </>
  );
};

/** In AWS the deployed /config.json points at the API and the hosted UI; under npm start there is none. */
const start = async (): Promise<void> => {
  const config = await loadConfig();
  if (config) useApiAt(config.api_url);
  const signInProblem = config ? await completeCognitoSignIn(config).catch(() => 'The sign-in could not be completed: sign in again.') : undefined;
  const root = document.getElementById('app');
  if (root) render(<App config={config} signInProblem={signInProblem} />, root);
};
void start();
