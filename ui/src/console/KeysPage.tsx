/*
 * API keys (/console/keys): list, create, revoke.  A new key's secret is
 * shown exactly once, with a copy button and a warning; it lives only in
 * this component's state and is dropped when dismissed or on navigation.
 */
import { useEffect, useId, useRef, useState } from 'preact/hooks';
import { api } from '../shared/api';
import type { ApiKey, CreatedApiKey, Role } from '../shared/types';
import { ROLES } from '../shared/types';
import { formatDate, formatRelative, plural } from '../shared/format';
import { useApi } from '../shared/hooks';
import { can } from '../shared/roles';
import { useSession } from '../shared/session';
import { navigate, queryString, useLocation } from '../shared/router';
import { Icon } from '../shared/components/Icon';
import { StatusBadge } from '../shared/components/StatusBadge';
import { EmptyState, ErrorState, InlineError, Skeleton } from '../shared/components/States';
import { Pagination } from '../shared/components/Pagination';
import { CopyButton } from '../shared/components/CopyButton';
import { ConfirmButton } from '../shared/components/ConfirmButton';
import { useTitle } from '../shared/components/Layout';

const PAGE_SIZE = 25;

export function keyState(k: ApiKey, nowMs = Date.now()): 'active' | 'revoked' | 'expired' {
  if (k.revoked) return 'revoked';
  if (k.expires_at && Date.parse(k.expires_at) <= nowMs) return 'expired';
  return 'active';
}

export function KeysPage() {
  const { me } = useSession();
  const loc = useLocation();
  const page = Math.max(1, Number.parseInt(loc.query.get('page') ?? '1', 10) || 1);
  useTitle('API keys', 'Console');
  const list = useApi((signal) => api.apikeys.list({ page, page_size: PAGE_SIZE, signal }), [page]);
  const [created, setCreated] = useState<CreatedApiKey | null>(null);
  const [showForm, setShowForm] = useState(false);
  const [error, setError] = useState<unknown>(null);

  return (
    <div>
      <div class="page-head">
        <div>
          <h1 class="page-title">API keys</h1>
          <p class="page-sub">Keys for automation and for signing in. A key is shown once, when it is created.</p>
        </div>
        {can.manageKeys(me) && !showForm && (
          <div class="page-actions">
            <button type="button" class="btn btn--primary" onClick={() => { setShowForm(true); setCreated(null); }} data-testid="key-new">
              <Icon name="plus" />
              New key
            </button>
          </div>
        )}
      </div>

      {created && <NewKey created={created} onDone={() => setCreated(null)} />}
      {showForm && (
        <KeyForm
          onCancel={() => setShowForm(false)}
          onCreated={(k) => {
            setCreated(k);
            setShowForm(false);
            list.reload();
          }}
        />
      )}
      <InlineError error={error} />

      {list.error && !list.data ? (
        <ErrorState error={list.error} title="Could not load API keys" onRetry={list.reload} />
      ) : !list.data ? (
        <Skeleton lines={5} class="skeleton--table" />
      ) : list.data.items.length === 0 ? (
        <EmptyState title="No API keys yet" />
      ) : (
        <>
          <p class="small muted">{plural(list.data.total, 'key')}</p>
          <div class="table-wrap" tabIndex={0} role="region" aria-label="API keys">
            <table class="table">
              <thead>
                <tr>
                  <th scope="col">Name</th>
                  <th scope="col">Key</th>
                  <th scope="col">Role</th>
                  <th scope="col" class="hide-narrow">
                    Tenant
                  </th>
                  <th scope="col">State</th>
                  <th scope="col" class="hide-narrow">
                    Created
                  </th>
                  <th scope="col" class="hide-narrow">
                    Expires
                  </th>
                  <th scope="col" class="hide-narrow">
                    Last used
                  </th>
                  <th scope="col">
                    <span class="sr-only">Actions</span>
                  </th>
                </tr>
              </thead>
              <tbody>
                {list.data.items.map((k) => {
                  const state = keyState(k);
                  return (
                    <tr key={k.id} data-testid="key-row" data-key-id={k.id}>
                      <td class="strong">{k.name}</td>
                      <td class="mono">{k.prefix}…</td>
                      <td>{k.role}</td>
                      <td class="hide-narrow">{k.tenant_id || '—'}</td>
                      <td>
                        <StatusBadge status={state} />
                      </td>
                      <td class="hide-narrow small">
                        <time dateTime={k.created_at}>{formatDate(k.created_at, { seconds: false })}</time>
                      </td>
                      <td class="hide-narrow small">
                        {k.expires_at ? <time dateTime={k.expires_at}>{formatDate(k.expires_at, { seconds: false })}</time> : 'Never'}
                      </td>
                      <td class="hide-narrow small">{k.last_used_at ? formatRelative(k.last_used_at) : 'Never'}</td>
                      <td>
                        {can.manageKeys(me) && state !== 'revoked' && (
                          <ConfirmButton
                            label="Revoke"
                            confirmLabel="Revoke"
                            question={`Revoke ${k.name}? Anything using it stops working.`}
                            onConfirm={async () => {
                              setError(null);
                              try {
                                await api.apikeys.revoke(k.id);
                                list.reload();
                              } catch (e) {
                                setError(e);
                              }
                            }}
                            testId="key-revoke"
                          />
                        )}
                      </td>
                    </tr>
                  );
                })}
              </tbody>
            </table>
          </div>
          <Pagination
            page={list.data.page || page}
            pageSize={list.data.page_size || PAGE_SIZE}
            total={list.data.total}
            onPage={(p) => navigate(`/console/keys${queryString({ page: p > 1 ? p : null })}`)}
            label="Key pages"
          />
        </>
      )}
    </div>
  );
}

function NewKey({ created, onDone }: { created: CreatedApiKey; onDone: () => void }) {
  const ref = useRef<HTMLDivElement>(null);
  useEffect(() => {
    ref.current?.focus();
  }, []);
  return (
    <div class="new-key" role="region" aria-label="New API key" tabIndex={-1} ref={ref} data-testid="new-key">
      <p class="new-key__warn">
        <Icon name="alert" />
        <strong>Copy this key now.</strong> It is shown only once; Portico keeps only a hash of it.
      </p>
      <p class="small">
        Key <strong>{created.name}</strong> ({created.role})
      </p>
      <div class="new-key__value">
        <code class="mono break" data-testid="new-key-value">
          {created.key}
        </code>
        <CopyButton text={created.key} label="Copy key" testId="new-key-copy" />
      </div>
      <button type="button" class="btn btn--small" onClick={onDone}>
        I have copied it
      </button>
    </div>
  );
}

function KeyForm({ onCancel, onCreated }: { onCancel: () => void; onCreated: (k: CreatedApiKey) => void }) {
  const { me } = useSession();
  const roles = ROLES.filter((r) => can.chooseTenant(me) || r !== 'cpi-admin');
  const [name, setName] = useState('');
  const [role, setRole] = useState<Role>('viewer');
  const [tenant, setTenant] = useState('');
  const [expires, setExpires] = useState('');
  const [error, setError] = useState<unknown>(null);
  const [nameError, setNameError] = useState('');
  const [busy, setBusy] = useState(false);
  const ids = { name: useId(), role: useId(), tenant: useId(), expires: useId() };
  const nameRef = useRef<HTMLInputElement>(null);
  useEffect(() => nameRef.current?.focus(), []);

  return (
    <form
      class="form card"
      data-testid="key-form"
      noValidate
      onSubmit={async (e) => {
        e.preventDefault();
        if (!name.trim()) {
          setNameError('Give the key a name.');
          return;
        }
        setNameError('');
        setBusy(true);
        setError(null);
        try {
          const k = await api.apikeys.create({
            name: name.trim(),
            role,
            ...(can.chooseTenant(me) && tenant.trim() ? { tenant_id: tenant.trim() } : {}),
            // End of the chosen day, UTC.
            ...(expires ? { expires_at: `${expires}T23:59:59Z` } : {}),
          });
          onCreated(k);
        } catch (ex) {
          setError(ex);
          setBusy(false);
        }
      }}
    >
      <h2 class="section-title">New API key</h2>
      <div class="form__grid">
        <div class="field">
          <label for={ids.name}>Name</label>
          <input ref={nameRef} id={ids.name} class="input" value={name} onInput={(e) => setName(e.currentTarget.value)} maxLength={100} aria-invalid={!!nameError} aria-describedby={nameError ? `${ids.name}-err` : undefined} data-testid="key-name" />
          {nameError && (
            <p class="field__error" id={`${ids.name}-err`}>
              {nameError}
            </p>
          )}
        </div>
        <div class="field">
          <label for={ids.role}>Role</label>
          <select id={ids.role} class="input" value={role} onChange={(e) => setRole(e.currentTarget.value as Role)} data-testid="key-role">
            {roles.map((r) => (
              <option key={r} value={r}>
                {r}
              </option>
            ))}
          </select>
        </div>
        {can.chooseTenant(me) && (
          <div class="field">
            <label for={ids.tenant}>Tenant</label>
            <input id={ids.tenant} class="input" value={tenant} placeholder={me.tenant_id ?? 'default'} onInput={(e) => setTenant(e.currentTarget.value)} />
          </div>
        )}
        <div class="field">
          <label for={ids.expires}>Expires (optional)</label>
          <input id={ids.expires} class="input" type="date" value={expires} onInput={(e) => setExpires(e.currentTarget.value)} />
        </div>
      </div>
      <InlineError error={error} testId="key-form-error" />
      <div class="form__actions">
        <button type="submit" class="btn btn--primary" disabled={busy} data-testid="key-create">
          {busy ? 'Creating…' : 'Create key'}
        </button>
        <button type="button" class="btn btn--ghost" onClick={onCancel}>
          Cancel
        </button>
      </div>
    </form>
  );
}
