/*
 * Subscriptions (/console/subscriptions): every subscription to APIs of the
 * tenants the caller manages (cpi-admin: all; tenant-admin: its own), pending
 * requests first.  Counts by status (click to filter), filters by API,
 * application and status (kept in the URL), approve, reject with a reason
 * the developer sees, revoke.  New requests arrive live through the
 * subscription event feed and are announced to screen readers.
 */
import { useId, useState } from 'preact/hooks';
import { api } from '../shared/api';
import type { Subscription, SubscriptionCounts, SubscriptionStatus } from '../shared/types';
import { SUBSCRIPTION_STATUSES } from '../shared/types';
import { formatDate, formatNumber, plural } from '../shared/format';
import { useApi } from '../shared/hooks';
import { navigate, queryString, useLocation } from '../shared/router';
import { useSubscriptionFeed, type SubscriptionEvent } from '../shared/subscriptionFeed';
import { StatusBadge } from '../shared/components/StatusBadge';
import { EmptyState, ErrorState, InlineError, Skeleton } from '../shared/components/States';
import { Pagination } from '../shared/components/Pagination';
import { ConfirmButton } from '../shared/components/ConfirmButton';
import { useTitle } from '../shared/components/Layout';

const PAGE_SIZE = 25;

interface Filters {
  status: string;
  api_id: string;
  application_id: string;
  page: number;
}

export function SubscriptionsPage() {
  useTitle('Subscriptions', 'Console');
  const loc = useLocation();
  const f: Filters = {
    status: loc.query.get('status') ?? '',
    api_id: loc.query.get('api_id') ?? '',
    application_id: loc.query.get('application_id') ?? '',
    page: Math.max(1, Number.parseInt(loc.query.get('page') ?? '1', 10) || 1),
  };
  const setFilters = (patch: Partial<Filters>) => {
    const next = { ...f, page: 1, ...patch };
    navigate(
      `/console/subscriptions${queryString({
        status: next.status || null,
        api_id: next.api_id || null,
        application_id: next.application_id || null,
        page: next.page > 1 ? next.page : null,
      })}`,
    );
  };
  const list = useApi(
    (signal) =>
      api.subscriptions.list({
        scope: 'manage',
        status: f.status,
        api_id: f.api_id,
        application_id: f.application_id,
        page: f.page,
        page_size: PAGE_SIZE,
        signal,
      }),
    [f.status, f.api_id, f.application_id, f.page],
  );
  // Filter choices: the APIs and applications seen among (up to 100) subscriptions.
  const all = useApi((signal) => api.subscriptions.list({ scope: 'manage', page_size: 100, signal }), []);
  const [announce, setAnnounce] = useState('');
  const [error, setError] = useState<unknown>(null);
  const mode = useSubscriptionFeed(
    () => {
      list.reload();
      all.reload();
    },
    (e: SubscriptionEvent) => {
      if (e.type === 'subscription.requested') setAnnounce(`New subscription request at ${formatDate(new Date().toISOString())}`);
    },
  );

  const act = async (fn: () => Promise<unknown>) => {
    setError(null);
    try {
      await fn();
    } catch (e) {
      setError(e);
    }
    list.reload();
    all.reload();
  };

  const apis = new Map<string, string>();
  const apps = new Map<string, string>();
  for (const s of all.data?.items ?? []) {
    apis.set(s.api_id, `${s.api_name} ${s.api_version}`);
    apps.set(s.application_id, `${s.application_name} (${s.owner})`);
  }

  return (
    <div>
      <div class="page-head">
        <div>
          <h1 class="page-title">Subscriptions</h1>
          <p class="page-sub">
            Requests from developers to use your APIs. Pending requests come first.{' '}
            <span class="small muted" data-testid="subs-feed-mode">
              {mode === 'live' ? 'Live' : 'Refreshing every few seconds'}
            </span>
          </p>
        </div>
      </div>
      <div class="sr-only" role="status" aria-live="polite" aria-atomic="true" data-testid="subs-announcer">
        {announce}
      </div>
      <StatusCounts counts={list.data?.counts} active={f.status} onPick={(s) => setFilters({ status: s === f.status ? '' : s })} />
      <SubFilters filters={f} apis={apis} apps={apps} onChange={setFilters} />
      <InlineError error={error} testId="subs-error" />
      {list.error && !list.data ? (
        <ErrorState error={list.error} title="Could not load subscriptions" onRetry={list.reload} />
      ) : !list.data ? (
        <Skeleton lines={5} class="skeleton--table" />
      ) : list.data.items.length === 0 ? (
        <EmptyState title={f.status || f.api_id || f.application_id ? 'No subscriptions match these filters' : 'No subscriptions yet'} />
      ) : (
        <>
          <p class="small muted">{plural(list.data.total, 'subscription')}</p>
          <div class="table-wrap" tabIndex={0} role="region" aria-label="Subscriptions">
            <table class="table">
              <thead>
                <tr>
                  <th scope="col">Application</th>
                  <th scope="col">API</th>
                  <th scope="col">Plan</th>
                  <th scope="col">Status</th>
                  <th scope="col" class="hide-narrow">
                    Requested
                  </th>
                  <th scope="col" class="hide-narrow">
                    Decided
                  </th>
                  <th scope="col">
                    <span class="sr-only">Actions</span>
                  </th>
                </tr>
              </thead>
              <tbody>
                {list.data.items.map((s) => (
                  <SubRow key={s.id} s={s} act={act} />
                ))}
              </tbody>
            </table>
          </div>
          <Pagination page={list.data.page || f.page} pageSize={list.data.page_size || PAGE_SIZE} total={list.data.total} onPage={(p) => setFilters({ page: p })} label="Subscription pages" />
        </>
      )}
    </div>
  );
}

function StatusCounts({ counts, active, onPick }: { counts: SubscriptionCounts | undefined; active: string; onPick: (s: SubscriptionStatus) => void }) {
  return (
    <ul class="counts counts--five" aria-label="Subscriptions by status">
      {SUBSCRIPTION_STATUSES.map((s) => (
        <li key={s}>
          <button type="button" class={`count count--${s}${active === s ? ' is-active' : ''}`} aria-pressed={active === s} onClick={() => onPick(s)} title={`Show only ${s} subscriptions`}>
            <span class="count__value" data-testid={`subs-count-${s}`}>
              {counts ? formatNumber(counts[s] ?? 0) : '–'}
            </span>
            <StatusBadge status={s} />
          </button>
        </li>
      ))}
    </ul>
  );
}

function SubFilters({ filters, apis, apps, onChange }: { filters: Filters; apis: Map<string, string>; apps: Map<string, string>; onChange: (f: Partial<Filters>) => void }) {
  const ids = { api: useId(), app: useId(), status: useId() };
  return (
    <form class="filters" onSubmit={(e) => e.preventDefault()} aria-label="Filter subscriptions">
      <div class="field">
        <label for={ids.api}>API</label>
        <select id={ids.api} class="input" value={filters.api_id} onChange={(e) => onChange({ api_id: e.currentTarget.value })} data-testid="subs-filter-api">
          <option value="">All APIs</option>
          {[...apis].map(([id, label]) => (
            <option key={id} value={id}>
              {label}
            </option>
          ))}
        </select>
      </div>
      <div class="field">
        <label for={ids.app}>Application</label>
        <select id={ids.app} class="input" value={filters.application_id} onChange={(e) => onChange({ application_id: e.currentTarget.value })} data-testid="subs-filter-app">
          <option value="">All applications</option>
          {[...apps].map(([id, label]) => (
            <option key={id} value={id}>
              {label}
            </option>
          ))}
        </select>
      </div>
      <div class="field">
        <label for={ids.status}>Status</label>
        <select id={ids.status} class="input" value={filters.status} onChange={(e) => onChange({ status: e.currentTarget.value })} data-testid="subs-filter-status">
          <option value="">Any status</option>
          {SUBSCRIPTION_STATUSES.map((s) => (
            <option key={s} value={s}>
              {s}
            </option>
          ))}
        </select>
      </div>
    </form>
  );
}

function SubRow({ s, act }: { s: Subscription; act: (fn: () => Promise<unknown>) => Promise<void> }) {
  const [rejecting, setRejecting] = useState(false);
  return (
    <tr data-testid="subs-row" data-sub-id={s.id} data-status={s.status}>
      <td>
        <span class="strong">{s.application_name}</span>
        <div class="small muted break">
          {s.owner} · {s.owner_tenant_id}
        </div>
      </td>
      <td>
        {s.api_name} <span class="small muted">{s.api_version}</span>
      </td>
      <td class="small">
        {s.plan}
        {s.requests_per_minute ? ` · ${formatNumber(s.requests_per_minute)}/min` : ''}
      </td>
      <td>
        <StatusBadge status={s.status} testId="subs-status" />
        {s.reason && <p class="small">Reason: {s.reason}</p>}
      </td>
      <td class="hide-narrow small">
        <time dateTime={s.created_at}>{formatDate(s.created_at, { seconds: false })}</time>
      </td>
      <td class="hide-narrow small">
        {s.decided_at ? (
          <>
            <time dateTime={s.decided_at}>{formatDate(s.decided_at, { seconds: false })}</time>
            <div class="muted break">{s.decided_by}</div>
          </>
        ) : (
          '—'
        )}
      </td>
      <td class="actions">
        {s.status === 'pending' && !rejecting && (
          <>
            <button type="button" class="btn btn--small btn--primary" onClick={() => void act(() => api.subscriptions.approve(s.id))} data-testid="subs-approve">
              Approve
            </button>
            <button type="button" class="btn btn--small" onClick={() => setRejecting(true)} data-testid="subs-reject">
              Reject…
            </button>
          </>
        )}
        {rejecting && <RejectForm onCancel={() => setRejecting(false)} onReject={(reason) => act(() => api.subscriptions.reject(s.id, reason))} />}
        {s.status === 'active' && (
          <ConfirmButton
            label="Revoke"
            confirmLabel="Revoke"
            question={`Revoke ${s.application_name}'s access to ${s.api_name}? Its key stops working at once.`}
            onConfirm={() => act(() => api.subscriptions.revoke(s.id))}
            testId="subs-revoke"
          />
        )}
      </td>
    </tr>
  );
}

function RejectForm({ onCancel, onReject }: { onCancel: () => void; onReject: (reason: string) => Promise<void> }) {
  const [reason, setReason] = useState('');
  const [problem, setProblem] = useState('');
  const id = useId();
  return (
    <form
      class="reject-form"
      noValidate
      onSubmit={(e) => {
        e.preventDefault();
        if (!reason.trim()) {
          setProblem('Say why; the developer sees it.');
          return;
        }
        void onReject(reason.trim());
      }}
    >
      <label for={id} class="small">
        Reason (shown to the developer)
      </label>
      <input id={id} class="input" value={reason} maxLength={500} onInput={(e) => setReason(e.currentTarget.value)} aria-invalid={!!problem} aria-describedby={problem ? `${id}-err` : undefined} data-testid="subs-reject-reason" />
      {problem && (
        <p class="field__error" id={`${id}-err`}>
          {problem}
        </p>
      )}
      <div class="form__actions">
        <button type="submit" class="btn btn--small btn--danger" data-testid="subs-reject-confirm">
          Reject
        </button>
        <button type="button" class="btn btn--small btn--ghost" onClick={onCancel}>
          Cancel
        </button>
      </div>
    </form>
  );
}
