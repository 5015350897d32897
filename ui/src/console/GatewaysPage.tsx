/*
 * The console's gateway list (/console/gateways): counts by status, filters
 * (status, environment, type, search — all in the URL), and a table whose
 * rows open the detail panel (/console/gateways/<id>, deep-linkable).  Data
 * comes from useGatewayFeed (events + polling); status changes are announced
 * in a polite live region.
 */
import { useEffect, useId, useRef, useState } from 'preact/hooks';
import type { FleetHistory, Gateway, GatewayCounts, GatewayStatus, GatewayThresholds } from '../shared/types';
import { GATEWAY_STATUSES } from '../shared/types';
import { formatAge, formatNumber, titleCase } from '../shared/format';
import { useNow } from '../shared/hooks';
import { navigate, queryString, useLocation } from '../shared/router';
import { Icon } from '../shared/components/Icon';
import { Chip, StatusBadge } from '../shared/components/StatusBadge';
import { EmptyState, ErrorState, Skeleton } from '../shared/components/States';
import { Pagination } from '../shared/components/Pagination';
import { useTitle } from '../shared/components/Layout';
import { useGatewayFeed, type FeedMode } from './gatewayFeed';
import { GatewayDetailPanel } from './GatewayDetail';
import { FleetSummary, StatusStrip, useFleetHistory } from './FleetHistory';
import { LiveDot, heartbeatAge, isLive, tenantLabel, typeLabel, typeOptions } from './gatewayUi';

const PAGE_SIZE = 50;
const DEBOUNCE_MS = 300;

interface Filters {
  status: string;
  environment: string;
  type: string;
  q: string;
  page: number;
}

function parseFilters(p: URLSearchParams): Filters {
  const page = Number.parseInt(p.get('page') ?? '', 10);
  return {
    status: p.get('status') ?? '',
    environment: p.get('environment') ?? '',
    type: p.get('type') ?? '',
    q: p.get('q') ?? '',
    page: Number.isFinite(page) && page > 0 ? page : 1,
  };
}

const filterSearch = (f: Filters) =>
  queryString({ status: f.status, environment: f.environment, type: f.type, q: f.q, page: f.page > 1 ? f.page : null });

export function GatewaysPage({ selectedId }: { selectedId?: string }) {
  const loc = useLocation();
  const filters = parseFilters(loc.query);
  const search = filterSearch(filters);
  useTitle(selectedId ? 'Gateway' : 'Gateways', 'Console');

  const feed = useGatewayFeed({
    status: filters.status,
    environment: filters.environment,
    type: filters.type,
    q: filters.q,
    page: filters.page,
    page_size: PAGE_SIZE,
  });
  const now = useNow(1000);
  // Read the URL at call time: a debounced search may fire after a select changed it.
  const setFilters = (f: Partial<Filters>, replace = false) =>
    navigate(`${location.pathname}${filterSearch({ ...parseFilters(new URLSearchParams(location.search)), page: 1, ...f })}`, {
      replace,
    });

  // Environments seen so far feed the environment field's suggestions.
  const [environments, setEnvironments] = useState<string[]>([]);
  useEffect(() => {
    const seen = feed.page?.items.map((g) => g.environment).filter(Boolean) ?? [];
    setEnvironments((prev) => {
      const all = [...new Set([...prev, ...seen])].sort();
      return all.length === prev.length ? prev : all;
    });
  }, [feed.page]);

  const fleet = useFleetHistory(feed.page?.items.map((g) => g.id) ?? []);

  // Types seen so far (any registrar's) feed the type filter's options.
  const [types, setTypes] = useState<string[]>([]);
  useEffect(() => {
    const seen = [...(feed.page?.items.map((g) => g.type) ?? []), filters.type].filter(Boolean);
    setTypes((prev) => {
      const all = [...new Set([...prev, ...seen])].sort();
      return all.length === prev.length ? prev : all;
    });
  }, [feed.page, filters.type]);

  const selected = selectedId ? feed.page?.items.find((g) => g.id === selectedId) : undefined;

  return (
    <div class={`gateways${selectedId ? ' has-panel' : ''}`}>
      <div class="page-head">
        <div>
          <h1 class="page-title">Gateways</h1>
          <p class="page-sub">
            Every gateway registered with this control plane, live. <FeedState mode={feed.mode} />
          </p>
        </div>
      </div>

      <div class="sr-only" role="status" aria-live="polite" aria-atomic="true" data-testid="gateway-announcer">
        {feed.announcement}
      </div>

      <StatusCounts counts={feed.page?.counts} active={filters.status} onPick={(s) => setFilters({ status: s === filters.status ? '' : s })} />

      <FleetSummary fleet={fleet} />

      <GatewayFilters filters={filters} environments={environments} types={types} onChange={setFilters} />

      <div class="split">
        <section class="split__main" aria-label="Gateway list">
          {feed.error && !feed.page ? (
            <ErrorState error={feed.error} title="Could not load gateways" onRetry={feed.refresh} />
          ) : !feed.page ? (
            <div aria-busy="true">
              <p class="sr-only" role="status">
                Loading gateways…
              </p>
              <Skeleton lines={6} class="skeleton--table" />
            </div>
          ) : feed.page.items.length === 0 ? (
            <EmptyState
              title={filters.status || filters.environment || filters.type || filters.q ? 'No gateways match' : 'No gateways yet'}
              action={
                filters.status || filters.environment || filters.type || filters.q ? (
                  <button type="button" class="btn" onClick={() => setFilters({ status: '', environment: '', type: '', q: '' })}>
                    Clear filters
                  </button>
                ) : undefined
              }
            >
              {filters.status || filters.environment || filters.type || filters.q ? (
                <p>Change or clear the filters to see more.</p>
              ) : (
                <p>
                  Gateways appear here when they call <code>POST /v1/internal/gateways/register</code>.
                </p>
              )}
            </EmptyState>
          ) : (
            <>
              {feed.error ? (
                <p class="inline-error" role="alert">
                  <Icon name="alert" />
                  <span>Updates are failing; showing the last known state.</span>
                </p>
              ) : null}
              <GatewayTable
                items={feed.page.items}
                fleet={fleet}
                now={now}
                offsetMs={feed.offsetMs}
                thresholds={feed.page.thresholds}
                selectedId={selectedId}
                onOpen={(id) => navigate(`/console/gateways/${encodeURIComponent(id)}${search}`)}
              />
              <Pagination
                page={feed.page.page || filters.page}
                pageSize={feed.page.page_size || PAGE_SIZE}
                total={feed.page.total}
                onPage={(page) => navigate(`${loc.path}${filterSearch({ ...filters, page })}`)}
                label="Gateway pages"
              />
            </>
          )}
        </section>
        {selectedId && (
          <GatewayDetailPanel
            key={selectedId}
            id={selectedId}
            listItem={selected}
            thresholds={feed.page?.thresholds}
            version={feed.version}
            offsetMs={feed.offsetMs}
            onClose={() => {
              navigate(`/console/gateways${search}`);
              // Give focus back to the row the panel belonged to.
              setTimeout(() => {
                const id = CSS.escape(selectedId);
                document.querySelector<HTMLElement>(`[data-gateway-id="${id}"] [data-testid=gateway-name]`)?.focus();
              }, 0);
            }}
            onChanged={feed.refresh}
          />
        )}
      </div>
    </div>
  );
}

export function FeedState({ mode }: { mode: FeedMode }) {
  const text = mode === 'live' ? 'Live updates on.' : mode === 'polling' ? 'Live updates unavailable; refreshing every 5 s.' : 'Connecting to live updates…';
  return (
    <span class={`feed feed--${mode}`} data-testid="feed-mode" data-mode={mode}>
      {text}
    </span>
  );
}

function StatusCounts({
  counts,
  active,
  onPick,
}: {
  counts: GatewayCounts | undefined;
  active: string;
  onPick: (s: GatewayStatus) => void;
}) {
  return (
    <ul class="counts" aria-label="Gateways by status">
      {GATEWAY_STATUSES.map((s) => (
        <li key={s}>
          <button
            type="button"
            class={`count count--${s}${active === s ? ' is-active' : ''}`}
            aria-pressed={active === s}
            onClick={() => onPick(s)}
            title={`Show only ${s} gateways`}
          >
            <span class="count__value" data-testid={`count-${s}`}>
              {counts ? formatNumber(counts[s] ?? 0) : '–'}
            </span>
            <StatusBadge status={s} />
          </button>
        </li>
      ))}
    </ul>
  );
}

function GatewayFilters({
  filters,
  environments,
  types,
  onChange,
}: {
  filters: Filters;
  environments: string[];
  types: string[];
  onChange: (f: Partial<Filters>, replace?: boolean) => void;
}) {
  const ids = { status: useId(), env: useId(), type: useId(), q: useId(), list: useId() };
  const [text, setText] = useState(filters.q);
  const urlQ = useRef(filters.q);
  useEffect(() => {
    if (filters.q !== urlQ.current) {
      urlQ.current = filters.q;
      setText(filters.q);
    }
  }, [filters.q]);
  useEffect(() => {
    if (text === urlQ.current) return undefined;
    const t = setTimeout(() => {
      const replace = urlQ.current !== '';
      urlQ.current = text;
      onChange({ q: text }, replace);
    }, DEBOUNCE_MS);
    return () => clearTimeout(t);
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [text]);
  const [envText, setEnvText] = useState(filters.environment);
  useEffect(() => setEnvText(filters.environment), [filters.environment]);

  return (
    <form class="filters" onSubmit={(e) => e.preventDefault()} aria-label="Filter gateways">
      <div class="field field--grow">
        <label for={ids.q}>Search</label>
        <input
          id={ids.q}
          class="input"
          type="search"
          placeholder="Name, hostname, version…"
          value={text}
          onInput={(e) => setText(e.currentTarget.value)}
          data-testid="gateway-search"
        />
      </div>
      <div class="field">
        <label for={ids.status}>Status</label>
        <select
          id={ids.status}
          class="input"
          value={filters.status}
          onChange={(e) => onChange({ status: e.currentTarget.value })}
          data-testid="filter-status"
        >
          <option value="">Any status</option>
          {GATEWAY_STATUSES.map((s) => (
            <option key={s} value={s}>
              {titleCase(s)}
            </option>
          ))}
        </select>
      </div>
      <div class="field">
        <label for={ids.env}>Environment</label>
        <input
          id={ids.env}
          class="input"
          list={ids.list}
          value={envText}
          placeholder="Any"
          onInput={(e) => setEnvText(e.currentTarget.value)}
          onChange={(e) => onChange({ environment: e.currentTarget.value.trim() })}
          onKeyDown={(e) => {
            if (e.key === 'Enter') onChange({ environment: e.currentTarget.value.trim() });
          }}
          data-testid="filter-environment"
        />
        <datalist id={ids.list}>
          {environments.map((env) => (
            <option key={env} value={env} />
          ))}
        </datalist>
      </div>
      <div class="field">
        <label for={ids.type}>Type</label>
        <select
          id={ids.type}
          class="input"
          value={filters.type}
          onChange={(e) => onChange({ type: e.currentTarget.value })}
          data-testid="filter-type"
        >
          <option value="">Any type</option>
          {typeOptions(types).map(([v, label]) => (
            <option key={v} value={v}>
              {label}
            </option>
          ))}
        </select>
      </div>
    </form>
  );
}

function GatewayTable({
  items,
  fleet,
  now,
  offsetMs,
  thresholds,
  selectedId,
  onOpen,
}: {
  items: Gateway[];
  fleet: FleetHistory | undefined;
  now: number;
  offsetMs: number;
  thresholds: GatewayThresholds | undefined;
  selectedId?: string;
  onOpen: (id: string) => void;
}) {
  return (
    <div class="table-wrap" tabIndex={0} role="region" aria-label="Gateways">
      <table class="table gw-table">
        <thead>
          <tr>
            <th scope="col">Name</th>
            <th scope="col">Status</th>
            <th scope="col">Live</th>
            <th scope="col" class="hide-narrow hide-with-panel">
              Last 24 h
            </th>
            <th scope="col">Type</th>
            <th scope="col">Environment</th>
            <th scope="col" class="hide-narrow hide-with-panel">
              Tenant
            </th>
            <th scope="col" class="hide-narrow hide-with-panel">
              Version
            </th>
            <th scope="col" class="hide-narrow hide-with-panel">
              Capabilities
            </th>
          </tr>
        </thead>
        <tbody>
          {items.map((g) => {
            const age = heartbeatAge(g, now, offsetMs);
            return (
              <tr
                key={g.id}
                class={`gw-row${g.id === selectedId ? ' is-selected' : ''}`}
                data-testid="gateway-row"
                data-gateway-id={g.id}
                data-status={g.status}
                onClick={(e) => {
                  // Whole-row click for pointer users; the name button is the keyboard path.
                  if ((e.target as HTMLElement).closest('button, a')) return;
                  onOpen(g.id);
                }}
              >
                <td>
                  <button
                    type="button"
                    class="linklike gw-name"
                    onClick={() => onOpen(g.id)}
                    aria-current={g.id === selectedId ? 'true' : undefined}
                    data-testid="gateway-name"
                  >
                    {g.name}
                  </button>
                  <div class="small muted break">{g.hostname}</div>
                </td>
                <td>
                  <StatusBadge status={g.status} testId="gateway-status" />
                </td>
                <td>
                  <span class="live">
                    <LiveDot live={isLive(g, age, thresholds)} />
                    <span class="small" data-testid="heartbeat-age">
                      {age === null ? 'no heartbeat yet' : `last heartbeat ${formatAge(age)}`}
                    </span>
                  </span>
                </td>
                <td class="hide-narrow hide-with-panel">
                  <StatusStrip slots={fleet?.gateways.find((f) => f.id === g.id)?.slots} />
                </td>
                <td data-testid="gateway-type" data-type={g.type}>
                  {typeLabel(g.type)}
                </td>
                <td>
                  <span class="env">{g.environment}</span>
                </td>
                <td class={`hide-narrow hide-with-panel${g.tenant_id ? '' : ' muted'}`} data-testid="gateway-tenant">
                  {tenantLabel(g.tenant_id)}
                </td>
                <td class="hide-narrow hide-with-panel mono">{g.version}</td>
                <td class="hide-narrow hide-with-panel">
                  <span class="chips">
                    {(g.capabilities ?? []).map((c) => (
                      <Chip key={c} testId="capability">
                        {c}
                      </Chip>
                    ))}
                  </span>
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}
