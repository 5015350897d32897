/*
 * The console's deployments (/console/deployments): counts by sync status
 * (click to filter), a status filter and the gateway/API filters in the URL,
 * a table where drift stands out, Sync for roles that may deploy, and a
 * detail panel (/console/deployments/<id>) with the hashes and the history
 * of status changes.  deployment.status events refetch the list and the
 * panel, so a change shows without a reload.
 */
import { useId, useRef, useState } from 'preact/hooks';
import { api, type DeploymentListParams } from '../shared/api';
import type { Deployment, DeploymentCounts, DeploymentDetail, SyncStatus } from '../shared/types';
import { SYNC_STATUSES } from '../shared/types';
import { formatDate, formatNumber, formatRelative, titleCase } from '../shared/format';
import { useApi, useEscape, useNow } from '../shared/hooks';
import { can } from '../shared/roles';
import { useSession } from '../shared/session';
import { Link, navigate, queryString, useLocation } from '../shared/router';
import { Icon } from '../shared/components/Icon';
import { StatusBadge } from '../shared/components/StatusBadge';
import { EmptyState, ErrorState, InlineError, Skeleton } from '../shared/components/States';
import { Pagination } from '../shared/components/Pagination';
import { useTitle } from '../shared/components/Layout';
import { useDeploymentEvents } from './deploymentFeed';
import { FeedState } from './GatewaysPage';

const PAGE_SIZE = 50;

interface Filters {
  sync_status: string;
  gateway_id: string;
  api_id: string;
  page: number;
}

function parseFilters(p: URLSearchParams): Filters {
  const page = Number.parseInt(p.get('page') ?? '', 10);
  return {
    sync_status: p.get('sync_status') ?? '',
    gateway_id: p.get('gateway_id') ?? '',
    api_id: p.get('api_id') ?? '',
    page: Number.isFinite(page) && page > 0 ? page : 1,
  };
}

const filterSearch = (f: Filters) =>
  queryString({ sync_status: f.sync_status, gateway_id: f.gateway_id, api_id: f.api_id, page: f.page > 1 ? f.page : null });

/* "sha256:1a2b3c4d…" — enough to tell two hashes apart at a glance. */
function shortHash(h: string | null | undefined): string {
  if (!h) return '—';
  const i = h.indexOf(':');
  const head = i >= 0 ? h.slice(0, i + 1) : '';
  const body = i >= 0 ? h.slice(i + 1) : h;
  return body.length > 12 ? `${head}${body.slice(0, 12)}…` : h;
}

const isDrifted = (d: Deployment) => d.sync_status === 'drifted';

export function DeploymentsPage({ selectedId }: { selectedId?: string }) {
  const loc = useLocation();
  const filters = parseFilters(loc.query);
  const search = filterSearch(filters);
  useTitle(selectedId ? 'Deployment' : 'Deployments', 'Console');
  const params: DeploymentListParams = {
    sync_status: filters.sync_status,
    gateway_id: filters.gateway_id,
    api_id: filters.api_id,
    page: filters.page,
    page_size: PAGE_SIZE,
  };
  const list = useApi((signal) => api.deployments.list({ ...params, signal }), [search]);
  const [version, setVersion] = useState(0);
  const mode = useDeploymentEvents(() => {
    list.reload();
    setVersion((v) => v + 1);
  });
  const setFilters = (f: Partial<Filters>) =>
    navigate(`/console/deployments${filterSearch({ ...parseFilters(new URLSearchParams(location.search)), page: 1, ...f })}`);
  const filtered = !!(filters.sync_status || filters.gateway_id || filters.api_id);
  const first = list.data?.items[0];

  return (
    <div class={`deployments-page${selectedId ? ' has-panel' : ''}`}>
      <div class="page-head">
        <div>
          <h1 class="page-title">Deployments</h1>
          <p class="page-sub">
            APIs assigned to gateways and whether each gateway runs what it should. <FeedState mode={mode} />
          </p>
        </div>
      </div>

      <SyncCounts
        counts={list.data?.counts}
        active={filters.sync_status}
        onPick={(s) => setFilters({ sync_status: s === filters.sync_status ? '' : s })}
      />

      <DeploymentFilters filters={filters} first={first} onChange={setFilters} />

      <div class="split">
        <section class="split__main" aria-label="Deployment list">
          {list.error && !list.data ? (
            <ErrorState error={list.error} title="Could not load deployments" onRetry={list.reload} />
          ) : !list.data ? (
            <div aria-busy="true">
              <p class="sr-only" role="status">
                Loading deployments…
              </p>
              <Skeleton lines={6} class="skeleton--table" />
            </div>
          ) : list.data.items.length === 0 ? (
            <EmptyState
              title={filtered ? 'No deployments match' : 'No deployments yet'}
              action={
                filtered ? (
                  <button type="button" class="btn" onClick={() => setFilters({ sync_status: '', gateway_id: '', api_id: '' })}>
                    Clear filters
                  </button>
                ) : undefined
              }
            >
              {filtered ? (
                <p>Change or clear the filters to see more.</p>
              ) : (
                <p>Deploy an API from a gateway's detail panel; it shows here until the gateway reports it applied.</p>
              )}
            </EmptyState>
          ) : (
            <>
              <DeploymentTable
                items={list.data.items}
                selectedId={selectedId}
                onOpen={(id) => navigate(`/console/deployments/${encodeURIComponent(id)}${search}`)}
                onSynced={list.reload}
              />
              <Pagination
                page={list.data.page || filters.page}
                pageSize={list.data.page_size || PAGE_SIZE}
                total={list.data.total}
                onPage={(page) => navigate(`/console/deployments${filterSearch({ ...filters, page })}`)}
                label="Deployment pages"
              />
            </>
          )}
        </section>
        {selectedId && (
          <DeploymentPanel
            key={selectedId}
            id={selectedId}
            version={version}
            onClose={() => navigate(`/console/deployments${search}`)}
            onSynced={list.reload}
          />
        )}
      </div>
    </div>
  );
}

function SyncCounts({
  counts,
  active,
  onPick,
}: {
  counts: DeploymentCounts | undefined;
  active: string;
  onPick: (s: SyncStatus) => void;
}) {
  return (
    <ul class="counts counts--5" aria-label="Deployments by sync status">
      {SYNC_STATUSES.map((s) => (
        <li key={s}>
          <button
            type="button"
            class={`count count--${s}${active === s ? ' is-active' : ''}`}
            aria-pressed={active === s}
            onClick={() => onPick(s)}
            title={`Show only ${s} deployments`}
          >
            <span class="count__value" data-testid={`deploy-count-${s}`}>
              {counts ? formatNumber(counts[s] ?? 0) : '–'}
            </span>
            <StatusBadge status={s} />
          </button>
        </li>
      ))}
    </ul>
  );
}

function DeploymentFilters({
  filters,
  first,
  onChange,
}: {
  filters: Filters;
  first: Deployment | undefined;
  onChange: (f: Partial<Filters>) => void;
}) {
  const statusId = useId();
  return (
    <form class="filters" onSubmit={(e) => e.preventDefault()} aria-label="Filter deployments">
      <div class="field">
        <label for={statusId}>Sync status</label>
        <select
          id={statusId}
          class="input"
          value={filters.sync_status}
          onChange={(e) => onChange({ sync_status: e.currentTarget.value })}
          data-testid="deploy-filter-status"
        >
          <option value="">Any status</option>
          {SYNC_STATUSES.map((s) => (
            <option key={s} value={s}>
              {titleCase(s)}
            </option>
          ))}
        </select>
      </div>
      {filters.gateway_id && (
        <div class="field">
          <span class="field__label">Gateway</span>
          <button type="button" class="btn btn--small" onClick={() => onChange({ gateway_id: '' })} data-testid="deploy-filter-gateway">
            {first?.gateway_id === filters.gateway_id && first.gateway_name ? first.gateway_name : 'this gateway'}
            <Icon name="x" />
            <span class="sr-only"> (remove this filter)</span>
          </button>
        </div>
      )}
      {filters.api_id && (
        <div class="field">
          <span class="field__label">API</span>
          <button type="button" class="btn btn--small" onClick={() => onChange({ api_id: '' })} data-testid="deploy-filter-api">
            {first?.api_id === filters.api_id && first.api_name ? first.api_name : 'this API'}
            <Icon name="x" />
            <span class="sr-only"> (remove this filter)</span>
          </button>
        </div>
      )}
    </form>
  );
}

function SyncButton({ d, onSynced, small = true }: { d: Deployment; onSynced: () => void; small?: boolean }) {
  const { me } = useSession();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  if (!can.deploy(me)) return null;
  return (
    <span class="sync-action">
      <button
        type="button"
        class={`btn${small ? ' btn--small' : ''}${isDrifted(d) || d.sync_status === 'error' ? ' btn--primary' : ''}`}
        disabled={busy}
        onClick={async (e) => {
          e.stopPropagation();
          setBusy(true);
          setError(null);
          try {
            await api.deployments.sync(d.id);
            onSynced();
          } catch (err) {
            setError(err);
          } finally {
            setBusy(false);
          }
        }}
        data-testid="deployment-sync"
      >
        <Icon name="refresh" />
        {busy ? 'Syncing…' : 'Sync'}
        <span class="sr-only"> {d.api_name || d.api_id} on {d.gateway_name || d.gateway_id}</span>
      </button>
      <InlineError error={error} />
    </span>
  );
}

function DeploymentTable({
  items,
  selectedId,
  onOpen,
  onSynced,
}: {
  items: Deployment[];
  selectedId?: string;
  onOpen: (id: string) => void;
  onSynced: () => void;
}) {
  return (
    <div class="table-wrap" tabIndex={0} role="region" aria-label="Deployments">
      <table class="table deploy-table">
        <thead>
          <tr>
            <th scope="col">API</th>
            <th scope="col">Gateway</th>
            <th scope="col">Sync status</th>
            <th scope="col" class="hide-narrow hide-with-panel">
              Gateway runs
            </th>
            <th scope="col" class="hide-narrow">
              Updated
            </th>
            <th scope="col">
              <span class="sr-only">Actions</span>
            </th>
          </tr>
        </thead>
        <tbody>
          {items.map((d) => (
            <tr
              key={d.id}
              class={`gw-row${d.id === selectedId ? ' is-selected' : ''}${isDrifted(d) ? ' is-drifted' : ''}`}
              data-testid="deployment-row"
              data-deployment-id={d.id}
              data-sync-status={d.sync_status}
              onClick={(e) => {
                if ((e.target as HTMLElement).closest('button, a')) return;
                onOpen(d.id);
              }}
            >
              <td>
                <button type="button" class="linklike gw-name" onClick={() => onOpen(d.id)} data-testid="deployment-open">
                  {d.api_name || d.api_id}
                </button>
                {d.api_version && <div class="small muted">{d.api_version}</div>}
              </td>
              <td>
                <span class="break">{d.gateway_name || d.gateway_id}</span>
                {d.environment && (
                  <div>
                    <span class="env">{d.environment}</span>
                  </div>
                )}
              </td>
              <td>
                <StatusBadge status={d.sync_status} testId="deployment-status" />
                {isDrifted(d) && <div class="small drift-note">Gateway differs from the desired state</div>}
                {d.sync_status === 'error' && d.last_error && <div class="small deploy__error">{d.last_error}</div>}
              </td>
              <td class="hide-narrow hide-with-panel mono small">
                <span title={d.applied_hash ?? undefined}>{shortHash(d.applied_hash)}</span>
              </td>
              <td class="hide-narrow small">
                <time dateTime={d.updated_at}>{formatRelative(d.updated_at)}</time>
              </td>
              <td>
                <SyncButton d={d} onSynced={onSynced} />
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

function DeploymentPanel({
  id,
  version,
  onClose,
  onSynced,
}: {
  id: string;
  version: number;
  onClose: () => void;
  onSynced: () => void;
}) {
  const { data, error, reload } = useApi((signal) => api.deployments.get(id, signal), [id, version]);
  const headingId = useId();
  const headingRef = useRef<HTMLHeadingElement>(null);
  useEscape(onClose);
  const now = useNow(5000);
  const d: DeploymentDetail | undefined = data;
  return (
    <aside class="panel" aria-labelledby={headingId} data-testid="deployment-detail" data-deployment-id={id}>
      <div class="panel__head">
        <h2 id={headingId} class="panel__title" tabIndex={-1} ref={headingRef}>
          {d ? `${d.api_name ?? d.api_id} ${d.api_version ?? ''}`.trim() : 'Deployment'}
        </h2>
        <button type="button" class="btn btn--ghost btn--icon" onClick={onClose} aria-label="Close details" data-testid="detail-close">
          <Icon name="x" />
        </button>
      </div>
      {error && !d ? (
        <ErrorState error={error} title="Could not load this deployment" onRetry={reload} />
      ) : !d ? (
        <div aria-busy="true">
          <Skeleton lines={8} />
        </div>
      ) : (
        <div class="panel__body">
          <div class="panel__status">
            <StatusBadge status={d.sync_status} testId="deployment-detail-status" />
            <SyncButton
              d={d}
              small={false}
              onSynced={() => {
                reload();
                onSynced();
              }}
            />
          </div>
          {isDrifted(d) && (
            <p class="panel__reason drift-note" data-testid="drift-explained">
              <Icon name="alert" /> The gateway reported <code>{shortHash(d.applied_hash)}</code> but should run{' '}
              <code>{shortHash(d.expected_hash)}</code>. Sync to have it apply the desired state again.
            </p>
          )}
          {d.sync_status === 'error' && d.last_error && <p class="panel__reason deploy__error">{d.last_error}</p>}
          <dl class="kv">
            <dt>Gateway</dt>
            <dd>
              <Link href={`/console/gateways/${encodeURIComponent(d.gateway_id)}`}>{d.gateway_name || d.gateway_id}</Link>
              {d.environment ? ` · ${d.environment}` : ''}
            </dd>
            {d.target_environment && (
              <>
                <dt>Deployed to</dt>
                <dd>every gateway of {d.target_environment}</dd>
              </>
            )}
            <dt>Expected content</dt>
            <dd class="mono small break" title={d.expected_hash ?? undefined}>
              {shortHash(d.expected_hash)}
            </dd>
            <dt>Gateway runs</dt>
            <dd class="mono small break" title={d.applied_hash ?? undefined}>
              {d.applied_hash ? shortHash(d.applied_hash) : 'nothing reported yet'}
            </dd>
            <dt>Last report</dt>
            <dd>{d.last_reported_at ? formatRelative(d.last_reported_at, now) : 'none yet'}</dd>
            <dt>Sync requests</dt>
            <dd>{formatNumber(d.sync_attempts ?? 0)}</dd>
          </dl>
          <h3 class="panel__h">History</h3>
          {d.history.length === 0 ? (
            <p class="muted small">No status changes recorded yet.</p>
          ) : (
            <ol class="timeline" data-testid="deployment-history">
              {d.history.map((h, i) => (
                <li key={`${h.at}-${i}`} class="timeline__item" data-testid="deployment-change" data-to={h.to}>
                  <div class="timeline__change">
                    {h.from ? <StatusBadge status={h.from} /> : <span class="muted small">new</span>}
                    <Icon name="arrow-left" class="icon--flip" />
                    <span class="sr-only">to</span>
                    <StatusBadge status={h.to} />
                  </div>
                  <p class="timeline__reason break">{h.message}</p>
                  <p class="small muted break">
                    {h.actor} · <time dateTime={h.at}>{formatDate(h.at)}</time> · {formatRelative(h.at, now)}
                  </p>
                </li>
              ))}
            </ol>
          )}
        </div>
      )}
    </aside>
  );
}
