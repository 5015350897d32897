/*
 * "My applications" (/portal/apps): the signed-in developer's applications,
 * each with its subscriptions (status, plan, created and approved times,
 * the reason of a rejection), and the actions the owner has: cancel,
 * get / regenerate the key (shown once), delete the application.  Follows
 * approvals live through the subscription event feed.
 */
import { useId, useState } from 'preact/hooks';
import { api } from '../shared/api';
import type { Application, Subscription, SubscriptionWithKey } from '../shared/types';
import { formatDate, plural } from '../shared/format';
import { useApi } from '../shared/hooks';
import { useSession } from '../shared/session';
import { Link } from '../shared/router';
import { useSubscriptionFeed } from '../shared/subscriptionFeed';
import { Icon } from '../shared/components/Icon';
import { StatusBadge } from '../shared/components/StatusBadge';
import { EmptyState, ErrorState, InlineError, Skeleton } from '../shared/components/States';
import { ConfirmButton } from '../shared/components/ConfirmButton';
import { KeyOnce } from '../shared/components/KeyOnce';
import { useTitle } from '../shared/components/Layout';
import { planLabel } from './SubscribePanel';

export function AppsPage() {
  useTitle('My applications', 'Portal');
  const { anonymous, requestSignIn } = useSession();
  const apps = useApi((signal) => (anonymous ? Promise.resolve(undefined) : api.applications.list({ page_size: 100, signal })), [anonymous]);
  const subs = useApi((signal) => (anonymous ? Promise.resolve(undefined) : api.subscriptions.list({ page_size: 100, signal })), [anonymous]);
  const [shown, setShown] = useState<SubscriptionWithKey | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [showForm, setShowForm] = useState(false);
  useSubscriptionFeed(() => subs.reload(), undefined, !anonymous);

  if (anonymous)
    return (
      <div>
        <h1 class="page-title">My applications</h1>
        <EmptyState title="Sign in to manage your applications" action={<button type="button" class="btn btn--primary" onClick={requestSignIn}>Sign in</button>} />
      </div>
    );

  const reloadAll = () => {
    apps.reload();
    subs.reload();
  };
  const act = async (fn: () => Promise<void>) => {
    setError(null);
    try {
      await fn();
    } catch (e) {
      setError(e);
    }
    subs.reload();
  };

  return (
    <div>
      <div class="page-head">
        <div>
          <h1 class="page-title">My applications</h1>
          <p class="page-sub">Your applications and their subscriptions. A subscription key is shown once; regenerate it if it is lost.</p>
        </div>
        {!showForm && (
          <div class="page-actions">
            <button type="button" class="btn btn--primary" onClick={() => setShowForm(true)} data-testid="app-new">
              <Icon name="plus" />
              New application
            </button>
          </div>
        )}
      </div>
      {showForm && (
        <AppForm
          onCancel={() => setShowForm(false)}
          onCreated={() => {
            setShowForm(false);
            apps.reload();
          }}
        />
      )}
      {shown?.key && <KeyOnce label={`Subscription key for ${shown.application_name} → ${shown.api_name}`} value={shown.key} onDone={() => setShown(null)} />}
      <InlineError error={error} testId="apps-error" />
      {apps.error && !apps.data ? (
        <ErrorState error={apps.error} title="Could not load your applications" onRetry={reloadAll} />
      ) : !apps.data || !subs.data ? (
        <Skeleton lines={5} class="skeleton--table" />
      ) : apps.data.items.length === 0 ? (
        <EmptyState title="No applications yet">
          <p>
            Create one here, or subscribe from an API's page in the <Link href="/portal/">catalog</Link>.
          </p>
        </EmptyState>
      ) : (
        apps.data.items.map((a) => (
          <AppCard
            key={a.id}
            app={a}
            subs={subs.data!.items.filter((s) => s.application_id === a.id)}
            onKey={(s) => setShown(s)}
            act={act}
            onDeleted={reloadAll}
          />
        ))
      )}
    </div>
  );
}

function AppCard({
  app: a,
  subs,
  onKey,
  act,
  onDeleted,
}: {
  app: Application;
  subs: Subscription[];
  onKey: (s: SubscriptionWithKey) => void;
  act: (fn: () => Promise<void>) => Promise<void>;
  onDeleted: () => void;
}) {
  return (
    <section class="card app-card" aria-labelledby={`app-${a.id}`} data-testid="app-card" data-app-id={a.id}>
      <div class="app-card__head">
        <div>
          <h2 class="section-title" id={`app-${a.id}`}>
            {a.name}
          </h2>
          {a.description && <p class="small muted">{a.description}</p>}
          <p class="small muted">
            Created <time dateTime={a.created_at}>{formatDate(a.created_at, { seconds: false })}</time> · {plural(subs.length, 'subscription')}
          </p>
        </div>
        <ConfirmButton
          label="Delete"
          confirmLabel="Delete application"
          question={`Delete ${a.name}? Its subscriptions are cancelled and their keys stop working.`}
          onConfirm={() => act(async () => {
            await api.applications.remove(a.id);
            onDeleted();
          })}
          testId="app-delete"
        />
      </div>
      {subs.length === 0 ? (
        <p class="small muted">
          No subscriptions. Open an API in the <Link href="/portal/">catalog</Link> and choose Subscribe.
        </p>
      ) : (
        <div class="table-wrap" tabIndex={0} role="region" aria-label={`Subscriptions of ${a.name}`}>
          <table class="table">
            <thead>
              <tr>
                <th scope="col">API</th>
                <th scope="col">Plan</th>
                <th scope="col">Status</th>
                <th scope="col" class="hide-narrow">
                  Requested
                </th>
                <th scope="col" class="hide-narrow">
                  Approved
                </th>
                <th scope="col">Key</th>
                <th scope="col">
                  <span class="sr-only">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {subs.map((s) => (
                <SubRow key={s.id} s={s} onKey={onKey} act={act} />
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}

function SubRow({ s, onKey, act }: { s: Subscription; onKey: (s: SubscriptionWithKey) => void; act: (fn: () => Promise<void>) => Promise<void> }) {
  const live = s.status !== 'cancelled';
  const getKey = () => act(async () => onKey(await api.subscriptions.regenerateKey(s.id)));
  return (
    <tr data-testid="sub-row" data-sub-id={s.id} data-status={s.status}>
      <td>
        <Link href={`/portal/apis/${encodeURIComponent(s.api_id)}`}>{s.api_name}</Link> <span class="small muted">{s.api_version}</span>
      </td>
      <td class="small">{planLabel(s.plan, s.requests_per_minute)}</td>
      <td>
        <StatusBadge status={s.status} testId="sub-status" />
        {s.reason && (s.status === 'rejected' || s.status === 'revoked') && (
          <p class="small" data-testid="sub-reason">
            Reason: {s.reason}
          </p>
        )}
      </td>
      <td class="hide-narrow small">
        <time dateTime={s.created_at}>{formatDate(s.created_at, { seconds: false })}</time>
      </td>
      <td class="hide-narrow small">{s.approved_at ? <time dateTime={s.approved_at}>{formatDate(s.approved_at, { seconds: false })}</time> : '—'}</td>
      <td class="mono small">{s.key_prefix ? `${s.key_prefix}…` : '—'}</td>
      <td class="actions">
        {s.status === 'active' &&
          (s.key_prefix ? (
            <ConfirmButton label="Regenerate key" confirmLabel="Regenerate" question="The current key stops working at once. Regenerate?" onConfirm={getKey} testId="sub-regenerate" />
          ) : (
            <button type="button" class="btn btn--small btn--primary" onClick={() => void getKey()} data-testid="sub-get-key">
              Get key
            </button>
          ))}
        {live && (
          <ConfirmButton
            label="Cancel"
            confirmLabel="Cancel subscription"
            question={`Cancel the subscription to ${s.api_name}? Its key stops working at once.`}
            onConfirm={() => act(() => api.subscriptions.cancel(s.id))}
            testId="sub-cancel"
          />
        )}
      </td>
    </tr>
  );
}

function AppForm({ onCancel, onCreated }: { onCancel: () => void; onCreated: () => void }) {
  const [name, setName] = useState('');
  const [description, setDescription] = useState('');
  const [problem, setProblem] = useState('');
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const ids = { name: useId(), description: useId() };
  return (
    <form
      class="form card"
      noValidate
      data-testid="app-form"
      onSubmit={async (e) => {
        e.preventDefault();
        if (!name.trim()) {
          setProblem('Give the application a name.');
          return;
        }
        setProblem('');
        setBusy(true);
        setError(null);
        try {
          await api.applications.create({ name: name.trim(), description });
          onCreated();
        } catch (ex) {
          setError(ex);
          setBusy(false);
        }
      }}
    >
      <h2 class="section-title">New application</h2>
      <div class="form__grid">
        <div class="field">
          <label for={ids.name}>Name</label>
          <input id={ids.name} class="input" value={name} maxLength={100} onInput={(e) => setName(e.currentTarget.value)} aria-invalid={!!problem} aria-describedby={problem ? `${ids.name}-err` : undefined} data-testid="app-name" />
          {problem && (
            <p class="field__error" id={`${ids.name}-err`}>
              {problem}
            </p>
          )}
        </div>
        <div class="field field--wide">
          <label for={ids.description}>Description</label>
          <textarea id={ids.description} class="input" rows={2} maxLength={2000} value={description} onInput={(e) => setDescription(e.currentTarget.value)} />
        </div>
      </div>
      <InlineError error={error} testId="app-form-error" />
      <div class="form__actions">
        <button type="submit" class="btn btn--primary" disabled={busy} data-testid="app-create">
          {busy ? 'Creating…' : 'Create application'}
        </button>
        <button type="button" class="btn btn--ghost" onClick={onCancel}>
          Cancel
        </button>
      </div>
    </form>
  );
}
