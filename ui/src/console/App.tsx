/* The admin console: routes under /console/, navigation filtered by role. */
import { useEffect } from 'preact/hooks';
import { AuthGate, useSession } from '../shared/session';
import { Layout, type NavItem } from '../shared/components/Layout';
import { NotFound } from '../shared/components/NotFound';
import { ErrorState } from '../shared/components/States';
import { ApiError } from '../shared/api';
import { can } from '../shared/roles';
import { matchRoute, navigate, useLocation } from '../shared/router';
import { GatewaysPage } from './GatewaysPage';
import { ApiEditPage, CatalogAdminPage, ImportPage } from './CatalogAdmin';
import { KeysPage } from './KeysPage';
import { AuditPage } from './AuditPage';
import { SubscriptionsPage } from './SubscriptionsPage';
import { DeploymentsPage } from './DeploymentsPage';

const forbidden = new ApiError(403, 'forbidden', 'Your role cannot open this page.');

function Redirect({ to }: { to: string }) {
  useEffect(() => navigate(to, { replace: true }), [to]);
  return null;
}

function Routes() {
  const { me } = useSession();
  const { path } = useLocation();
  const p = path.replace(/\/+$/, '') || '/';
  if (p === '/console' || p === '/' || p === '/console/index.html') return <Redirect to="/console/gateways" />;
  if (p === '/console/gateways') return <GatewaysPage />;
  const gw = matchRoute('/console/gateways/:id', p);
  if (gw) return <GatewaysPage selectedId={gw.id} />;
  if (p === '/console/deployments') return <DeploymentsPage />;
  const dep = matchRoute('/console/deployments/:id', p);
  if (dep) return <DeploymentsPage selectedId={dep.id} />;

  if (p.startsWith('/console/catalog') && !can.viewCatalogAdmin(me)) return <ErrorState error={forbidden} />;
  if (p === '/console/catalog') return <CatalogAdminPage />;
  if (p === '/console/catalog/new') return can.editCatalog(me) ? <ApiEditPage /> : <ErrorState error={forbidden} />;
  if (p === '/console/catalog/import') return can.editCatalog(me) ? <ImportPage /> : <ErrorState error={forbidden} />;
  const edit = matchRoute('/console/catalog/:id', p);
  if (edit) return <ApiEditPage id={edit.id} />;

  if (p === '/console/keys') return can.manageKeys(me) ? <KeysPage /> : <ErrorState error={forbidden} />;
  if (p === '/console/audit') return can.viewAudit(me) ? <AuditPage /> : <ErrorState error={forbidden} />;
  if (p === '/console/subscriptions') return can.manageSubscriptions(me) ? <SubscriptionsPage /> : <ErrorState error={forbidden} />;
  return <NotFound home="/console/gateways" />;
}

function ConsoleLayout() {
  const { me } = useSession();
  const nav: NavItem[] = [{ href: '/console/gateways', label: 'Gateways' }];
  nav.push({ href: '/console/deployments', label: 'Deployments' });
  if (can.viewCatalogAdmin(me)) nav.push({ href: '/console/catalog', label: 'Catalog' });
  if (can.manageKeys(me)) nav.push({ href: '/console/keys', label: 'API keys' });
  if (can.viewAudit(me)) nav.push({ href: '/console/audit', label: 'Audit log' });
  if (can.manageSubscriptions(me)) nav.push({ href: '/console/subscriptions', label: 'Subscriptions' });
  return (
    <Layout product="Console" home="/console/gateways" nav={nav} other={{ href: '/portal/', label: 'Portal' }}>
      <Routes />
    </Layout>
  );
}

export function App() {
  return (
    <AuthGate product="Console">
      <ConsoleLayout />
    </AuthGate>
  );
}
