/*
 * What each role may do, as far as the UI needs to know to hide controls it
 * cannot use (DESIGN.md §6).  The server is the authority: anything it still
 * refuses shows up as a 403 message.
 */
import type { Whoami } from './types';

type Me = Pick<Whoami, 'role'> | null | undefined;
const is = (me: Me, ...roles: string[]) => !!me && roles.includes(me.role);

export const can = {
  /* Catalog management page (read own tenant's APIs, incl. drafts). */
  viewCatalogAdmin: (me: Me) => is(me, 'cpi-admin', 'tenant-admin', 'devops'),
  /* Create, edit, import and delete APIs. */
  editCatalog: (me: Me) => is(me, 'cpi-admin', 'tenant-admin'),
  /* Change status (publish/unpublish) and portal visibility. */
  publish: (me: Me) => is(me, 'cpi-admin', 'tenant-admin', 'devops'),
  /* Choose the tenant of an API or key. */
  chooseTenant: (me: Me) => is(me, 'cpi-admin'),
  manageKeys: (me: Me) => is(me, 'cpi-admin', 'tenant-admin'),
  viewAudit: (me: Me) => is(me, 'cpi-admin', 'tenant-admin'),
  maintenance: (me: Me) => is(me, 'cpi-admin', 'devops'),
  deleteGateway: (me: Me) => is(me, 'cpi-admin'),
  deploy: (me: Me) => is(me, 'cpi-admin', 'tenant-admin', 'devops'),
  /* Approve, reject and revoke subscriptions to the tenant's APIs. */
  manageSubscriptions: (me: Me) => is(me, 'cpi-admin', 'tenant-admin'),
};
