/*
 * The gateway detail panel (/console/gateways/<id>): health figures
 * formatted by format.ts (uptime "1h 30m", requests "10,000", error rate
 * "2.0%"), a Degraded badge above the server's error-rate threshold (5 % by
 * default, from the response's thresholds), identity, status reason,
 * the transition timeline, deployments with Sync, and — for roles allowed to
 * — the maintenance switch and Forget.  It refetches whenever the list feed
 * brings fresh data, so it follows the same live updates.
 */
import { useEffect, useId, useRef, useState } from 'preact/hooks';
import { api } from '../shared/api';
import type { Deployment, Gateway, GatewayDetail, GatewayThresholds } from '../shared/types';
import {
  formatAge,
  formatDate,
  formatDuration,
  formatNumber,
  formatPercent,
  formatRelative,
} from '../shared/format';
import { useApi, useEscape, useNow } from '../shared/hooks';
import { can } from '../shared/roles';
import { useSession } from '../shared/session';
import { Icon } from '../shared/components/Icon';
import { Chip, StatusBadge } from '../shared/components/StatusBadge';
import { ErrorState, InlineError, Skeleton } from '../shared/components/States';
import { LiveDot, heartbeatAge, isLive, tenantLabel, typeLabel } from './gatewayUi';
import { ConfirmButton } from '../shared/components/ConfirmButton';
import { HistoryCharts } from './HistoryCharts';
import { Link } from '../shared/router';

export function GatewayDetailPanel({
  id,
  listItem,
  thresholds,
  version,
  offsetMs,
  onClose,
  onChanged,
}: {
  id: string;
  listItem: Gateway | undefined;
  thresholds?: GatewayThresholds;
  version: number;
  offsetMs: number;
  onClose: () => void;
  onChanged: () => void;
}) {
  const { data, error, reload } = useApi((signal) => api.gateways.get(id, signal), [id, version]);
  const [received, setReceived] = useState(() => Date.now());
  useEffect(() => setReceived(Date.now()), [data]);
  const headingRef = useRef<HTMLHeadingElement>(null);
  const headingId = useId();
  useEscape(onClose);

  // Move focus into the panel when it opens, so keyboard users land on it.
  useEffect(() => {
    headingRef.current?.focus();
  }, [id]);

  const g: GatewayDetail | undefined = data ?? (listItem as GatewayDetail | undefined);

  return (
    <aside class="panel" aria-labelledby={headingId} data-testid="gateway-detail" data-gateway-id={id}>
      <div class="panel__head">
        <h2 id={headingId} class="panel__title" tabIndex={-1} ref={headingRef}>
          {g ? g.name : 'Gateway'}
        </h2>
        <button type="button" class="btn btn--ghost btn--icon" onClick={onClose} aria-label="Close details" data-testid="detail-close">
          <Icon name="x" />
        </button>
      </div>
      {error && !g ? (
        <ErrorState error={error} title="Could not load this gateway" onRetry={reload} />
      ) : !g ? (
        <div aria-busy="true">
          <p class="sr-only" role="status">
            Loading gateway…
          </p>
          <Skeleton lines={8} />
        </div>
      ) : (
        <DetailBody g={g} thresholds={g.thresholds ?? thresholds} fresh={!!data} received={received} offsetMs={offsetMs} onChanged={() => { reload(); onChanged(); }} onGone={onClose} />
      )}
    </aside>
  );
}

function DetailBody({
  g,
  thresholds,
  fresh,
  received,
  offsetMs,
  onChanged,
  onGone,
}: {
  g: GatewayDetail;
  thresholds: GatewayThresholds | undefined;
  fresh: boolean;
  received: number;
  offsetMs: number;
  onChanged: () => void;
  onGone: () => void;
}) {
  const now = useNow(1000);
  const h = g.health_details ?? {};
  const errorRate = h.error_rate;
  // The server's threshold (gateways.degraded_error_rate), never a constant of ours.
  const degraded = typeof errorRate === 'number' && !!thresholds && errorRate > thresholds.degraded_error_rate;
  const age =
    fresh && typeof g.seconds_since_heartbeat === 'number'
      ? g.seconds_since_heartbeat + Math.max(0, Math.floor((now - received) / 1000))
      : heartbeatAge(g, now, offsetMs);
  const registered = g.registered_at ?? h.registered_at;

  return (
    <div class="panel__body">
      <div class="panel__status">
        <StatusBadge status={g.status} testId="detail-status" />
        {degraded && (
          <span class="badge badge--warn" data-testid="degraded-badge">
            <Icon name="alert" />
            <span>Degraded</span>
          </span>
        )}
        <span class="live">
          <LiveDot live={isLive(g, age, thresholds)} />
          <span class="small" data-testid="detail-heartbeat">
            {age === null ? 'no heartbeat yet' : `last heartbeat ${formatAge(age)}`}
          </span>
        </span>
      </div>
      {g.status_reason && (
        <p class="panel__reason" data-testid="detail-reason">
          {g.status_reason}
        </p>
      )}

      <h3 class="panel__h">Health</h3>
      <dl class="stats">
        <div>
          <dt>Uptime</dt>
          <dd data-testid="detail-uptime">{formatDuration(h.uptime_seconds)}</dd>
        </div>
        <div>
          <dt>Routes</dt>
          <dd data-testid="detail-routes">{formatNumber(h.routes_count)}</dd>
        </div>
        <div>
          <dt>Policies</dt>
          <dd data-testid="detail-policies">{formatNumber(h.policies_count)}</dd>
        </div>
        <div>
          <dt>Requests</dt>
          <dd data-testid="detail-requests">{formatNumber(h.requests_total)}</dd>
        </div>
        <div>
          <dt>Error rate</dt>
          <dd data-testid="detail-error-rate" class={degraded ? 'is-warn' : undefined}>
            {formatPercent(errorRate)}
          </dd>
        </div>
      </dl>

      <h3 class="panel__h">History</h3>
      <HistoryCharts gatewayId={g.id} offsetMs={offsetMs} />

      <h3 class="panel__h">Gateway</h3>
      <dl class="kv">
        <div>
          <dt>Registered</dt>
          <dd data-testid="detail-registered">
            {registered ? (
              <time dateTime={registered} title={registered}>
                {formatDate(registered)}
              </time>
            ) : (
              '—'
            )}
          </dd>
        </div>
        <div>
          <dt>Version</dt>
          <dd class="mono" data-testid="detail-version">
            {g.version || '—'}
          </dd>
        </div>
        <div>
          <dt>Type</dt>
          <dd>
            {typeLabel(g.type)} <span class="muted small">({g.mode})</span>
          </dd>
        </div>
        <div>
          <dt>Environment</dt>
          <dd>{g.environment}</dd>
        </div>
        <div>
          <dt>Hostname</dt>
          <dd class="mono break">{g.hostname}</dd>
        </div>
        <div>
          <dt>Admin URL</dt>
          <dd class="mono break" data-testid="detail-admin-url">
            {g.admin_url && /^https?:\/\//i.test(g.admin_url) ? (
              <a href={g.admin_url} target="_blank" rel="noopener noreferrer">
                {g.admin_url}
              </a>
            ) : (
              g.admin_url || '—'
            )}
          </dd>
        </div>
        <div>
          <dt>Tenant</dt>
          <dd data-testid="detail-tenant">{tenantLabel(g.tenant_id)}</dd>
        </div>
        <div>
          <dt>Last heartbeat</dt>
          <dd>
            {g.last_heartbeat_at ? (
              <time dateTime={g.last_heartbeat_at}>{formatDate(g.last_heartbeat_at)}</time>
            ) : (
              '—'
            )}
          </dd>
        </div>
        <div>
          <dt>ID</dt>
          <dd class="mono break small">{g.id}</dd>
        </div>
      </dl>
      {g.capabilities && g.capabilities.length > 0 && (
        <div class="chips panel__caps" aria-label="Capabilities">
          {g.capabilities.map((c) => (
            <Chip key={c}>{c}</Chip>
          ))}
        </div>
      )}

      <AdminActions g={g} onChanged={onChanged} onGone={onGone} />

      <h3 class="panel__h">Status history</h3>
      <Timeline g={g} now={now} />

      <h3 class="panel__h">Deployments</h3>
      <Deployments gatewayId={g.id} />
    </div>
  );
}

function AdminActions({ g, onChanged, onGone }: { g: GatewayDetail; onChanged: () => void; onGone: () => void }) {
  const { me } = useSession();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const id = useId();
  const inMaintenance = g.status === 'maintenance';
  if (!can.maintenance(me) && !can.deleteGateway(me)) return null;

  async function run(fn: () => Promise<unknown>, after: () => void) {
    setBusy(true);
    setError(null);
    try {
      await fn();
      after();
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  }

  return (
    <div class="panel__actions">
      {can.maintenance(me) && (
        <div class="switch">
          <input
            id={id}
            type="checkbox"
            role="switch"
            checked={inMaintenance}
            disabled={busy}
            onChange={(e) => {
              const enabled = e.currentTarget.checked;
              void run(() => api.gateways.setMaintenance(g.id, enabled), onChanged);
            }}
            data-testid="maintenance-toggle"
          />
          <label for={id}>Maintenance mode</label>
        </div>
      )}
      {can.deleteGateway(me) && (
        <ConfirmButton
          label="Forget gateway"
          confirmLabel="Forget it"
          question={`Forget ${g.name}? It gets a new id if it registers again.`}
          disabled={busy}
          onConfirm={() => run(() => api.gateways.remove(g.id), onGone)}
          testId="gateway-delete"
        />
      )}
      <InlineError error={error} />
    </div>
  );
}

function Timeline({ g, now }: { g: GatewayDetail; now: number }) {
  const list = g.transitions ?? [];
  if (list.length === 0) return <p class="muted small">No status changes recorded yet.</p>;
  return (
    <ol class="timeline" data-testid="transitions">
      {list.map((t, i) => (
        <li key={`${t.at}-${i}`} class="timeline__item">
          <div class="timeline__change">
            {t.from ? <StatusBadge status={t.from} /> : <span class="muted small">new</span>}
            <Icon name="arrow-left" class="icon--flip" />
            <span class="sr-only">to</span>
            <StatusBadge status={t.to} />
          </div>
          {t.reason && <p class="timeline__reason">{t.reason}</p>}
          <p class="small muted">
            <time dateTime={t.at}>{formatDate(t.at)}</time> · {formatRelative(t.at, now)}
          </p>
        </li>
      ))}
    </ol>
  );
}

function Deployments({ gatewayId }: { gatewayId: string }) {
  const { me } = useSession();
  const list = useApi((signal) => api.deployments.list({ gateway_id: gatewayId, page_size: 100, signal }), [gatewayId]);
  const [error, setError] = useState<unknown>(null);
  const [syncing, setSyncing] = useState<string | null>(null);

  async function sync(d: Deployment) {
    setSyncing(d.id);
    setError(null);
    try {
      await api.deployments.sync(d.id);
      list.reload();
    } catch (e) {
      setError(e);
    } finally {
      setSyncing(null);
    }
  }

  return (
    <div class="deployments">
      {list.error && !list.data ? (
        <InlineError error={list.error} />
      ) : !list.data ? (
        <Skeleton lines={2} />
      ) : list.data.items.length === 0 ? (
        <p class="muted small">No APIs deployed to this gateway.</p>
      ) : (
        <ul class="deploy-list">
          {list.data.items.map((d) => (
            <li key={d.id} class="deploy" data-testid="deployment" data-sync-status={d.sync_status}>
              <div class="deploy__main">
                <Link class="deploy__name" href={`/console/deployments/${encodeURIComponent(d.id)}`} data-testid="deployment-link">
                  {d.api_name || d.api_id}
                </Link>
                <StatusBadge status={d.sync_status} />
              </div>
              <p class="small muted">
                {d.desired_state ? `Desired: ${d.desired_state} · ` : ''}
                {typeof d.sync_attempts === 'number' ? `${formatNumber(d.sync_attempts)} attempts · ` : ''}
                updated <time dateTime={d.updated_at}>{formatRelative(d.updated_at)}</time>
              </p>
              {d.last_error && <p class="small deploy__error">{d.last_error}</p>}
              {can.deploy(me) && (
                <button
                  type="button"
                  class="btn btn--small"
                  onClick={() => void sync(d)}
                  disabled={syncing === d.id}
                  data-testid="deployment-sync"
                >
                  <Icon name="refresh" />
                  {syncing === d.id ? 'Syncing…' : 'Sync'}
                  <span class="sr-only"> {d.api_name || d.api_id}</span>
                </button>
              )}
            </li>
          ))}
        </ul>
      )}
      {list.data && list.data.items.length > 0 && (
        <p class="small">
          <Link href={`/console/deployments?gateway_id=${encodeURIComponent(gatewayId)}`} data-testid="deployments-all">
            Sync status and history of these deployments
          </Link>
        </p>
      )}
      <InlineError error={error} />
      {can.deploy(me) && <DeployForm gatewayId={gatewayId} onDone={list.reload} />}
    </div>
  );
}

function DeployForm({ gatewayId, onDone }: { gatewayId: string; onDone: () => void }) {
  const [open, setOpen] = useState(false);
  const apis = useApi((signal) => (open ? api.apis.list({ page_size: 100, signal }) : Promise.resolve(undefined)), [open]);
  const [apiId, setApiId] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const id = useId();
  if (!open) {
    return (
      <button type="button" class="btn btn--small" onClick={() => setOpen(true)} data-testid="deploy-open">
        <Icon name="plus" />
        Deploy an API
      </button>
    );
  }
  return (
    <form
      class="deploy-form"
      onSubmit={async (e) => {
        e.preventDefault();
        if (!apiId) return;
        setBusy(true);
        setError(null);
        try {
          await api.deployments.create(apiId, gatewayId);
          setOpen(false);
          setApiId('');
          onDone();
        } catch (err) {
          setError(err);
        } finally {
          setBusy(false);
        }
      }}
    >
      <label for={id}>API to deploy</label>
      <div class="row">
        <select id={id} class="input" value={apiId} onChange={(e) => setApiId(e.currentTarget.value)} required>
          <option value="">{apis.data ? 'Choose an API' : 'Loading…'}</option>
          {apis.data?.items.map((a) => (
            <option key={a.id} value={a.id}>
              {a.name} {a.version}
            </option>
          ))}
        </select>
        <button type="submit" class="btn btn--primary btn--small" disabled={busy || !apiId}>
          Deploy
        </button>
        <button type="button" class="btn btn--ghost btn--small" onClick={() => setOpen(false)}>
          Cancel
        </button>
      </div>
      <InlineError error={error ?? apis.error} />
    </form>
  );
}
