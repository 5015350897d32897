/*
 * The audit log (/console/audit): newest first, filters in the URL (kind,
 * principal, method, status code or class, path prefix, time range), paging.
 * Text filters apply on submit, selects immediately.
 */
import { useEffect, useId, useState } from 'preact/hooks';
import { api, type AuditListParams } from '../shared/api';
import type { AuditEvent } from '../shared/types';
import { formatDate, formatMillis, plural } from '../shared/format';
import { useApi } from '../shared/hooks';
import { navigate, queryString, useLocation } from '../shared/router';
import { EmptyState, ErrorState, Skeleton } from '../shared/components/States';
import { Pagination } from '../shared/components/Pagination';
import { useTitle } from '../shared/components/Layout';

const PAGE_SIZE = 50;
const KEYS = ['kind', 'principal', 'method', 'status', 'path', 'from', 'to'] as const;
type Key = (typeof KEYS)[number];
type Filters = Record<Key, string>;

/* datetime-local value ("2026-11-22T08:00") in local time → RFC 3339 UTC. */
export function localToRfc3339(v: string): string {
  if (!v) return '';
  const t = new Date(v);
  return Number.isNaN(t.getTime()) ? '' : t.toISOString();
}

/* RFC 3339 → datetime-local value in local time. */
export function rfc3339ToLocal(v: string): string {
  if (!v) return '';
  const t = new Date(v);
  if (Number.isNaN(t.getTime())) return '';
  const p = (n: number) => String(n).padStart(2, '0');
  return `${t.getFullYear()}-${p(t.getMonth() + 1)}-${p(t.getDate())}T${p(t.getHours())}:${p(t.getMinutes())}`;
}

function statusClass(s: number | null | undefined): string {
  if (typeof s !== 'number') return 'code-badge';
  return `code-badge code-badge--${String(s).charAt(0)}`;
}

export function AuditPage() {
  const loc = useLocation();
  const filters = Object.fromEntries(KEYS.map((k) => [k, loc.query.get(k) ?? ''])) as Filters;
  const page = Math.max(1, Number.parseInt(loc.query.get('page') ?? '1', 10) || 1);
  useTitle('Audit log', 'Console');
  const list = useApi(
    (signal) => api.audit.list({ ...(filters as AuditListParams), page, page_size: PAGE_SIZE, signal }),
    [loc.search],
  );
  const [draft, setDraft] = useState<Filters>(filters);
  useEffect(() => setDraft(filters), [loc.search]); // eslint-disable-line react-hooks/exhaustive-deps
  const apply = (f: Filters) => navigate(`/console/audit${queryString({ ...f })}`);
  const ids: Record<Key, string> = {
    kind: useId(),
    principal: useId(),
    method: useId(),
    status: useId(),
    path: useId(),
    from: useId(),
    to: useId(),
  };
  const setField = (k: Key, v: string) => setDraft((d) => ({ ...d, [k]: v }));
  const text = (k: Key, label: string, placeholder: string) => (
    <div class="field">
      <label for={ids[k]}>{label}</label>
      <input id={ids[k]} class="input" value={draft[k]} placeholder={placeholder} onInput={(e) => setField(k, e.currentTarget.value)} data-testid={`audit-${k}`} />
    </div>
  );

  return (
    <div>
      <div class="page-head">
        <div>
          <h1 class="page-title">Audit log</h1>
          <p class="page-sub">Every API call and sign-in, newest first.</p>
        </div>
      </div>
      <form
        class="filters filters--wrap"
        aria-label="Filter the audit log"
        onSubmit={(e) => {
          e.preventDefault();
          apply(draft);
        }}
      >
        <div class="field">
          <label for={ids.kind}>Kind</label>
          <select id={ids.kind} class="input" value={draft.kind} onChange={(e) => apply({ ...draft, kind: e.currentTarget.value })}>
            <option value="">Any</option>
            <option value="request">Requests</option>
            <option value="auth">Sign-ins</option>
          </select>
        </div>
        <div class="field">
          <label for={ids.method}>Method</label>
          <select id={ids.method} class="input" value={draft.method} onChange={(e) => apply({ ...draft, method: e.currentTarget.value })}>
            <option value="">Any</option>
            {['GET', 'POST', 'PUT', 'PATCH', 'DELETE'].map((m) => (
              <option key={m} value={m}>
                {m}
              </option>
            ))}
          </select>
        </div>
        {text('status', 'Status', '404 or 4xx')}
        {text('principal', 'Principal', 'apikey:ci')}
        {text('path', 'Path prefix', '/v1/apis')}
        <div class="field">
          <label for={ids.from}>From</label>
          <input id={ids.from} class="input" type="datetime-local" value={rfc3339ToLocal(draft.from)} onInput={(e) => setField('from', localToRfc3339(e.currentTarget.value))} />
        </div>
        <div class="field">
          <label for={ids.to}>To</label>
          <input id={ids.to} class="input" type="datetime-local" value={rfc3339ToLocal(draft.to)} onInput={(e) => setField('to', localToRfc3339(e.currentTarget.value))} />
        </div>
        <div class="field field--buttons">
          <button type="submit" class="btn btn--primary" data-testid="audit-apply">
            Apply
          </button>
          <button type="button" class="btn btn--ghost" onClick={() => apply(Object.fromEntries(KEYS.map((k) => [k, ''])) as Filters)}>
            Clear
          </button>
        </div>
      </form>

      {list.error ? (
        <ErrorState error={list.error} title="Could not load the audit log" onRetry={list.reload} />
      ) : !list.data ? (
        <Skeleton lines={8} class="skeleton--table" />
      ) : list.data.items.length === 0 ? (
        <EmptyState title="No events match" />
      ) : (
        <>
          <p class="small muted" role="status">
            {plural(list.data.total, 'event')}
          </p>
          <div class="table-wrap" tabIndex={0} role="region" aria-label="Audit events">
            <table class="table table--compact">
              <thead>
                <tr>
                  <th scope="col">Time</th>
                  <th scope="col">Kind</th>
                  <th scope="col">Request</th>
                  <th scope="col">Status</th>
                  <th scope="col">Principal</th>
                  <th scope="col" class="hide-narrow">
                    Duration
                  </th>
                  <th scope="col" class="hide-narrow">
                    Remote
                  </th>
                  <th scope="col" class="hide-narrow">
                    Request ID
                  </th>
                </tr>
              </thead>
              <tbody>
                {list.data.items.map((ev, i) => (
                  <AuditRow key={`${ev.request_id ?? ''}-${ev.at}-${i}`} ev={ev} />
                ))}
              </tbody>
            </table>
          </div>
          <Pagination
            page={list.data.page || page}
            pageSize={list.data.page_size || PAGE_SIZE}
            total={list.data.total}
            onPage={(p) => navigate(`/console/audit${queryString({ ...filters, page: p > 1 ? p : null })}`)}
            label="Audit pages"
          />
        </>
      )}
    </div>
  );
}

function AuditRow({ ev }: { ev: AuditEvent }) {
  return (
    <tr data-testid="audit-row">
      <td class="nowrap small">
        <time dateTime={ev.at}>{formatDate(ev.at)}</time>
      </td>
      <td>{ev.kind === 'auth' ? `sign-in${ev.action ? `: ${ev.action.replace(/_/g, ' ')}` : ''}` : ev.kind}</td>
      <td class="mono small break">
        {ev.method && <strong>{ev.method} </strong>}
        {ev.path}
        {ev.query ? `?${ev.query}` : ''}
      </td>
      <td>
        <span class={statusClass(ev.status)}>{ev.status ?? '—'}</span>
        {(ev.count ?? 1) > 1 && <span class="muted small"> ×{ev.count}</span>}
      </td>
      <td class="small break">
        {ev.principal || '—'}
        {ev.role && <span class="muted"> ({ev.role})</span>}
      </td>
      <td class="hide-narrow small">{formatMillis(ev.duration_ms)}</td>
      <td class="hide-narrow small mono">{ev.remote_addr || '—'}</td>
      <td class="hide-narrow small mono">{ev.request_id || '—'}</td>
    </tr>
  );
}
