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

/** The pages and the permission each needs to be offered (the API enforces it anyway). */
const NAV = [
  { href: '/', label: 'Overview', permission: 'reports:read' },
  { href: '/inventory', label: 'Inventory', permission: 'inventory:read' },
  { href: '/alerts', label: 'Alerts', permission: 'alerts:read' },
  { href: '/purchasing', label: 'Purchasing', permission: 'purchasing:read' },
  { href: '/orders', label: 'Orders', permission: 'orders:read' },
  { href: '/reports', label: 'Reports', permission: 'reports:read' },
  { href: '/channels', label: 'Channels', permission: 'channels:read' },
  { href: '/users', label: 'Users', permission: 'users:read' },
  { href: '/audit', label: 'Audit', permission: 'audit:read' },
] as const;

const routed = (path: string) => {
  const sku = matchPath('/skus/:sku_id', path);
  if (sku?.sku_id) return <SkuPage skuId={sku.sku_id} />;
  const [bare] = path.split('?');
  switch (bare) {
    case '/':
      return can('reports:read') ? <OverviewPage /> : <InventoryPage />;
    case '/inventory':
      return <InventoryPage />;
    case '/alerts':
      return <AlertsPage />;
    case '/purchasing':
      return <PurchasingPage />;
    case '/orders':
      return <OrdersPage />;
    case '/reports':
      return <ReportsPage />;
    case '/channels':
      return <ChannelsPage />;
    case '/users':
      return <UsersPage />;
    case '/audit':
      return <AuditPage />;
    default:
      return (
        <section class="page">
          <h1>Not found</h1>
          <p>
            There is no page at {bare}. <Link href="/">Go to the overview</Link>.
          </p>
        </section>
      );
  }
};

const SignIn = ({ config, problem }: { config: DashboardConfig | undefined; problem: string | undefined }) => {
  const [token, setToken] = useState('');
  if (config) {
    return (
      <main class="sign-in" id="main">
        <h1>Stockroom</h1>
        {(session.ended.value ?? problem) && <p class="problem" role="alert">{session.ended.value ?? problem}</p>}
        <button type="button" class="primary" onClick={() => void signInWithCognito(config)}>Sign in</button>
      </main>
    );
  }
  return (
    <main class="sign-in" id="main">
      <h1>Stockroom</h1>
      {(session.ended.value ?? problem) && <p class="problem" role="alert">{session.ended.value ?? problem}</p>}
      <p>
        Open the link <code>npm start</code> prints (<code>http://localhost:3000/#token=…</code>), or paste a token from <code>npm run token</code>.
      </p>
      <form onSubmit={(e) => { e.preventDefault(); if (token.trim()) session.signIn(token.trim()); }}>
        <label for="token">Token</label>
        <textarea id="token" rows={4} value={token} onInput={(e) => setToken(e.currentTarget.value)} />
        <button type="submit" class="primary">Sign in</button>
      </form>
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
            {NAV.filter((item) => !ready || can(item.permission)).map((item) => (
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
