/*
 * "Subscribe" on an API page: pick one of my applications (or name a new
 * one) and, when the API has plans, a plan.  An auto-approved subscription
 * comes back active with its key, shown once here; an approval-required one
 * comes back pending, and "My applications" follows it.
 */
import { useId, useState } from 'preact/hooks';
import { api } from '../shared/api';
import type { ApiDetail, SubscriptionWithKey } from '../shared/types';
import { useApi } from '../shared/hooks';
import { useSession } from '../shared/session';
import { Link } from '../shared/router';
import { Icon } from '../shared/components/Icon';
import { InlineError } from '../shared/components/States';
import { KeyOnce } from '../shared/components/KeyOnce';

const NEW_APP = '__new__';

export function planLabel(name: string, rpm: number | null | undefined): string {
  return rpm ? `${name} (${rpm.toLocaleString('en')} requests/min)` : `${name} (no rate limit)`;
}

export function SubscribePanel({ api: a }: { api: ApiDetail }) {
  const { anonymous, requestSignIn } = useSession();
  const [open, setOpen] = useState(false);
  const [done, setDone] = useState<SubscriptionWithKey | null>(null);
  const mode = a.subscription ?? 'approval';

  if (mode === 'closed')
    return (
      <p class="sub-panel muted small" data-testid="subscribe-closed">
        <Icon name="lock" /> This API does not take new subscriptions.
      </p>
    );
  if (anonymous)
    return (
      <div class="sub-panel">
        <button type="button" class="btn" onClick={requestSignIn} data-testid="subscribe-signin">
          Sign in to subscribe
        </button>
      </div>
    );
  return (
    <div class="sub-panel" data-testid="subscribe-panel">
      {done ? (
        <SubscribeResult sub={done} onDone={() => setDone(null)} />
      ) : open ? (
        <SubscribeForm api={a} onCancel={() => setOpen(false)} onDone={(s) => { setDone(s); setOpen(false); }} />
      ) : (
        <button type="button" class="btn btn--primary" onClick={() => setOpen(true)} data-testid="subscribe-open">
          <Icon name="key" />
          Subscribe
        </button>
      )}
      <p class="hint">
        {mode === 'auto' ? 'Subscriptions are approved at once.' : 'An administrator approves each subscription.'}{' '}
        <Link href="/portal/apps">My applications</Link>
      </p>
    </div>
  );
}

function SubscribeResult({ sub, onDone }: { sub: SubscriptionWithKey; onDone: () => void }) {
  if (sub.key)
    return <KeyOnce label={`Subscription key for ${sub.application_name} (plan ${sub.plan})`} value={sub.key} onDone={onDone} />;
  return (
    <p class="notice" role="status" data-testid="subscribe-pending">
      Request sent for <strong>{sub.application_name}</strong>: pending approval. You will find it, and its key once approved, under{' '}
      <Link href="/portal/apps">My applications</Link>.
    </p>
  );
}

function SubscribeForm({ api: a, onCancel, onDone }: { api: ApiDetail; onCancel: () => void; onDone: (s: SubscriptionWithKey) => void }) {
  const apps = useApi((signal) => api.applications.list({ page_size: 100, signal }), []);
  const plans = a.plans ?? [];
  const [appId, setAppId] = useState('');
  const [newName, setNewName] = useState('');
  const [plan, setPlan] = useState(plans[0]?.name ?? '');
  const [error, setError] = useState<unknown>(null);
  const [problem, setProblem] = useState('');
  const [busy, setBusy] = useState(false);
  const ids = { app: useId(), name: useId(), plan: useId() };
  const items = apps.data?.items ?? [];
  const chosen = appId || (items[0]?.id ?? NEW_APP);

  async function submit(e: Event) {
    e.preventDefault();
    setError(null);
    if (chosen === NEW_APP && !newName.trim()) {
      setProblem('Name the new application.');
      return;
    }
    setProblem('');
    setBusy(true);
    try {
      const application_id = chosen === NEW_APP ? (await api.applications.create({ name: newName.trim() })).id : chosen;
      const sub = await api.subscriptions.create({ application_id, api_id: a.id, ...(plans.length ? { plan } : {}) });
      onDone(sub);
    } catch (ex) {
      setError(ex);
      setBusy(false);
      apps.reload();
    }
  }

  return (
    <form class="form card" onSubmit={submit} noValidate data-testid="subscribe-form">
      <h2 class="section-title">Subscribe to {a.name}</h2>
      <div class="form__grid">
        <div class="field">
          <label for={ids.app}>Application</label>
          <select id={ids.app} class="input" value={chosen} onChange={(e) => setAppId(e.currentTarget.value)} data-testid="subscribe-app">
            {items.map((x) => (
              <option key={x.id} value={x.id}>
                {x.name}
              </option>
            ))}
            <option value={NEW_APP}>New application…</option>
          </select>
        </div>
        {chosen === NEW_APP && (
          <div class="field">
            <label for={ids.name}>New application name</label>
            <input id={ids.name} class="input" value={newName} maxLength={100} onInput={(e) => setNewName(e.currentTarget.value)} aria-invalid={!!problem} aria-describedby={problem ? `${ids.name}-err` : undefined} data-testid="subscribe-new-app" />
            {problem && (
              <p class="field__error" id={`${ids.name}-err`}>
                {problem}
              </p>
            )}
          </div>
        )}
        {plans.length > 0 && (
          <div class="field">
            <label for={ids.plan}>Plan</label>
            <select id={ids.plan} class="input" value={plan} onChange={(e) => setPlan(e.currentTarget.value)} data-testid="subscribe-plan">
              {plans.map((p) => (
                <option key={p.name} value={p.name}>
                  {planLabel(p.name, p.requests_per_minute)}
                </option>
              ))}
            </select>
          </div>
        )}
      </div>
      <InlineError error={error} testId="subscribe-error" />
      <div class="form__actions">
        <button type="submit" class="btn btn--primary" disabled={busy} data-testid="subscribe-submit">
          {busy ? 'Subscribing…' : 'Subscribe'}
        </button>
        <button type="button" class="btn btn--ghost" onClick={onCancel}>
          Cancel
        </button>
      </div>
    </form>
  );
}
