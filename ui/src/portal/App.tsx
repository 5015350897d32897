/* The developer portal: routes under /portal/. */
import { AuthGate } from '../shared/session';
import { Layout } from '../shared/components/Layout';
import { NotFound } from '../shared/components/NotFound';
import { matchRoute, useLocation } from '../shared/router';
import { CatalogPage } from './CatalogPage';
import { ApiPage } from './ApiPage';
import { AppsPage } from './AppsPage';

function Routes() {
  const { path } = useLocation();
  if (path === '/portal' || path === '/portal/' || path === '/' || path === '/portal/index.html') return <CatalogPage />;
  if (path === '/portal/apps' || path === '/portal/apps/') return <AppsPage />;
  const api = matchRoute('/portal/apis/:id', path);
  if (api) return <ApiPage id={api.id!} />;
  return <NotFound home="/portal/" />;
}

export function App() {
  return (
    <AuthGate product="Portal">
      <Layout
        product="Portal"
        home="/portal/"
        nav={[
          { href: '/portal/', label: 'Catalog', match: '/portal/apis/' },
          { href: '/portal/apps', label: 'My applications' },
        ]}
        other={{ href: '/console/', label: 'Console' }}
      >
        <Routes />
      </Layout>
    </AuthGate>
  );
}
