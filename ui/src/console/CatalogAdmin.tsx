/*
 * Catalog management (/console/catalog…): the tenant's APIs including
 * drafts, with publish/unpublish and portal visibility in one click, a form
 * to create or edit an API, and OpenAPI import.  Which controls appear
 * follows the role (roles.ts); the server still decides.
 */
import { useEffect, useId, useRef, useState } from 'preact/hooks';
import { api, ApiError } from '../shared/api';
import type { ApiDetail, ApiInput, ApiStatus, ApiSummary, Audience, SubscriptionMode } from '../shared/types';
import { formatDate, plural } from '../shared/format';
import { useApi } from '../shared/hooks';
import { can } from '../shared/roles';
import { useSession } from '../shared/session';
import { Link, navigate, queryString, useLocation } from '../shared/router';
import { Icon } from '../shared/components/Icon';
import { StatusBadge } from '../shared/components/StatusBadge';
import { EmptyState, ErrorState, InlineError, Skeleton } from '../shared/components/States';
import { Pagination } from '../shared/components/Pagination';
import { ConfirmButton } from '../shared/components/ConfirmButton';
import { useTitle } from '../shared/components/Layout';

const PAGE_SIZE = 25;

/* The writable fields of an API, for a PUT that changes only some of them. */
export function toInput(a: ApiDetail): ApiInput {
  const input: ApiInput = {
    name: a.name,
    version: a.version,
    description: a.description ?? '',
    category: a.category ?? '',
    tags: a.tags ?? [],
    status: (a.status as ApiStatus) || 'draft',
    portal_visible: a.portal_visible,
    audience: (a.audience as Audience) || 'public',
  };
  if (a.openapi !== undefined && a.openapi !== null) input.openapi = a.openapi;
  return input;
}

async function patchApi(id: string, patch: Partial<ApiInput>): Promise<void> {
  const current = await api.apis.get(id);
  await api.apis.update(id, { ...toInput(current), ...patch });
}

export function CatalogAdminPage() {
  const { me } = useSession();
  const loc = useLocation();
  const q = loc.query.get('q') ?? '';
  const status = loc.query.get('status') ?? '';
  const page = Math.max(1, Number.parseInt(loc.query.get('page') ?? '1', 10) || 1);
  useTitle('Catalog', 'Console');
  const list = useApi((signal) => api.apis.list({ q, status, page, page_size: PAGE_SIZE, signal }), [q, status, page]);
  const [actionError, setActionError] = useState<unknown>(null);
  const [busy, setBusy] = useState<string | null>(null);
  const [text, setText] = useState(q);
  const searchId = useId();
  const statusId = useId();
  const urlQ = useRef(q);
  useEffect(() => {
    if (q !== urlQ.current) {
      urlQ.current = q;
      setText(q);
    }
  }, [q]);
  useEffect(() => {
    if (text === urlQ.current) return undefined;
    const t = setTimeout(() => {
      const replace = urlQ.current !== '';
      urlQ.current = text;
      navigate(`/console/catalog${queryString({ q: text, status })}`, { replace });
    }, 300);
    return () => clearTimeout(t);
  }, [text, status]);

  async function act(id: string, fn: () => Promise<void>) {
    setBusy(id);
    setActionError(null);
    try {
      await fn();
      list.reload();
    } catch (e) {
      setActionError(e);
    } finally {
      setBusy(null);
    }
  }

  return (
    <div>
      <div class="page-head">
        <div>
          <h1 class="page-title">Catalog</h1>
          <p class="page-sub">APIs of your tenant, published or not. The portal shows published and deprecated ones marked visible.</p>
        </div>
        {can.editCatalog(me) && (
          <div class="page-actions">
            <Link class="btn" href="/console/catalog/import" data-testid="catalog-import">
              <Icon name="download" class="icon--flip-v" />
              Import OpenAPI
            </Link>
            <Link class="btn btn--primary" href="/console/catalog/new" data-testid="catalog-new">
              <Icon name="plus" />
              New API
            </Link>
          </div>
        )}
      </div>
      <form class="filters" role="search" onSubmit={(e) => e.preventDefault()}>
        <div class="field field--grow">
          <label for={searchId}>Search</label>
          <input id={searchId} class="input" type="search" value={text} onInput={(e) => setText(e.currentTarget.value)} data-testid="catalog-search" />
        </div>
        <div class="field">
          <label for={statusId}>Status</label>
          <select
            id={statusId}
            class="input"
            value={status}
            onChange={(e) => navigate(`/console/catalog${queryString({ q, status: e.currentTarget.value })}`)}
          >
            <option value="">Any status</option>
            <option value="draft">Draft</option>
            <option value="published">Published</option>
            <option value="deprecated">Deprecated</option>
          </select>
        </div>
      </form>
      <InlineError error={actionError} />
      {list.error && !list.data ? (
        <ErrorState error={list.error} title="Could not load the catalog" onRetry={list.reload} />
      ) : !list.data ? (
        <Skeleton lines={6} class="skeleton--table" />
      ) : list.data.items.length === 0 ? (
        <EmptyState title={q || status ? 'No APIs match' : 'No APIs yet'}>
          {can.editCatalog(me) && !q && !status ? <p>Create one, or import an OpenAPI document.</p> : <p>Change the search or the status filter.</p>}
        </EmptyState>
      ) : (
        <>
          <p class="small muted" role="status">
            {plural(list.data.total, 'API')}
          </p>
          <div class="table-wrap" tabIndex={0} role="region" aria-label="APIs">
            <table class="table">
              <thead>
                <tr>
                  <th scope="col">Name</th>
                  <th scope="col">Version</th>
                  <th scope="col">Status</th>
                  <th scope="col">Portal</th>
                  <th scope="col" class="hide-narrow">
                    Category
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
                {list.data.items.map((a) => (
                  <CatalogRow key={a.id} a={a} busy={busy === a.id} act={act} />
                ))}
              </tbody>
            </table>
          </div>
          <Pagination
            page={list.data.page || page}
            pageSize={list.data.page_size || PAGE_SIZE}
            total={list.data.total}
            onPage={(p) => navigate(`/console/catalog${queryString({ q, status, page: p > 1 ? p : null })}`)}
            label="Catalog pages"
          />
        </>
      )}
    </div>
  );
}

function CatalogRow({ a, busy, act }: { a: ApiSummary; busy: boolean; act: (id: string, fn: () => Promise<void>) => Promise<void> }) {
  const { me } = useSession();
  const published = a.status === 'published' || a.status === 'deprecated';
  const onPortal = published && a.portal_visible;
  return (
    <tr data-testid="catalog-row" data-api-id={a.id}>
      <td>
        {can.editCatalog(me) ? (
          <Link href={`/console/catalog/${encodeURIComponent(a.id)}`} class="strong">
            {a.name}
          </Link>
        ) : (
          <span class="strong">{a.name}</span>
        )}
        {a.audience === 'internal' && (
          <span class="small muted">
            {' '}
            · internal
          </span>
        )}
      </td>
      <td class="mono">{a.version}</td>
      <td>
        <StatusBadge status={a.status} />
      </td>
      <td>
        {onPortal ? (
          <a href={`/portal/apis/${encodeURIComponent(a.id)}`} class="small">
            <Icon name="eye" /> Visible
          </a>
        ) : (
          <span class="small muted">
            <Icon name="eye-off" /> {published ? 'Hidden' : 'Not published'}
          </span>
        )}
      </td>
      <td class="hide-narrow">{a.category || '—'}</td>
      <td class="hide-narrow small">
        <time dateTime={a.updated_at}>{formatDate(a.updated_at, { seconds: false })}</time>
      </td>
      <td>
        <div class="row-actions">
          {can.publish(me) && (
            <button
              type="button"
              class="btn btn--small"
              disabled={busy}
              onClick={() => void act(a.id, () => patchApi(a.id, { status: published ? 'draft' : 'published' }))}
              data-testid={published ? 'unpublish' : 'publish'}
            >
              {published ? 'Unpublish' : 'Publish'}
              <span class="sr-only"> {a.name}</span>
            </button>
          )}
          {can.publish(me) && (
            <button
              type="button"
              class="btn btn--small btn--ghost"
              disabled={busy}
              onClick={() => void act(a.id, () => patchApi(a.id, { portal_visible: !a.portal_visible }))}
              data-testid="toggle-visibility"
            >
              {a.portal_visible ? 'Hide from portal' : 'Show in portal'}
              <span class="sr-only"> {a.name}</span>
            </button>
          )}
          {can.editCatalog(me) && (
            <ConfirmButton
              label="Delete"
              question={`Delete ${a.name} ${a.version}?`}
              confirmLabel="Delete"
              disabled={busy}
              onConfirm={() => act(a.id, () => api.apis.remove(a.id))}
              testId="api-delete"
            />
          )}
        </div>
      </td>
    </tr>
  );
}

interface FormState {
  name: string;
  version: string;
  description: string;
  category: string;
  tags: string;
  status: ApiStatus;
  portal_visible: boolean;
  audience: Audience;
  tenant_id: string;
  openapi: string;
  subscription: SubscriptionMode;
  plans: PlanRow[];
}

/* A plan as the form edits it (the rate as typed). */
export interface PlanRow {
  name: string;
  rpm: string;
}

const EMPTY: FormState = {
  name: '',
  version: '1.0.0',
  description: '',
  category: '',
  tags: '',
  status: 'draft',
  portal_visible: true,
  audience: 'public',
  tenant_id: '',
  openapi: '',
  subscription: 'approval',
  plans: [],
};

function fromDetail(a: ApiDetail): FormState {
  return {
    name: a.name,
    version: a.version,
    description: a.description ?? '',
    category: a.category ?? '',
    tags: (a.tags ?? []).join(', '),
    status: (a.status as ApiStatus) || 'draft',
    portal_visible: a.portal_visible,
    audience: (a.audience as Audience) || 'public',
    tenant_id: a.tenant_id ?? '',
    openapi: a.openapi === undefined || a.openapi === null ? '' : typeof a.openapi === 'string' ? a.openapi : JSON.stringify(a.openapi, null, 2),
    subscription: a.subscription ?? 'approval',
    plans: (a.plans ?? []).map((p) => ({ name: p.name, rpm: String(p.requests_per_minute) })),
  };
}

/* Problems of the plan rows ("" when fine), as the server checks them. */
export function validatePlans(plans: PlanRow[]): string {
  if (plans.length > 20) return 'At most 20 plans.';
  const seen = new Set<string>();
  for (const p of plans) {
    if (!/^[A-Za-z0-9._-]{1,64}$/.test(p.name)) return 'Plan names: 1 to 64 letters, digits, ".", "_" or "-".';
    if (seen.has(p.name)) return `Plan "${p.name}" appears twice.`;
    seen.add(p.name);
    const n = Number(p.rpm);
    if (!/^\d+$/.test(p.rpm.trim()) || n < 1 || n > 100000000) return `Plan "${p.name}": requests per minute must be a whole number from 1 to 100,000,000.`;
  }
  return '';
}

export function parseTags(s: string): string[] {
  return [...new Set(s.split(',').map((t) => t.trim()).filter(Boolean))];
}

/* Field problems by field name; empty when the form may be sent. */
export function validateApi(f: FormState): Record<string, string> {
  const e: Record<string, string> = {};
  if (!f.name.trim()) e.name = 'Name is required.';
  else if (f.name.length > 200) e.name = 'At most 200 characters.';
  if (!f.version.trim()) e.version = 'Version is required.';
  else if (f.version.length > 50) e.version = 'At most 50 characters.';
  if (f.description.length > 5000) e.description = 'At most 5,000 characters.';
  if (f.category.length > 100) e.category = 'At most 100 characters.';
  const tags = parseTags(f.tags);
  if (tags.length > 20) e.tags = 'At most 20 tags.';
  else if (tags.some((t) => t.length > 50)) e.tags = 'Each tag at most 50 characters.';
  const doc = f.openapi.trim();
  if (doc.startsWith('{')) {
    try {
      JSON.parse(doc);
    } catch {
      e.openapi = 'This looks like JSON but does not parse.';
    }
  }
  const plans = validatePlans(f.plans);
  if (plans) e.plans = plans;
  return e;
}

function toApiInput(f: FormState, withTenant: boolean, withSubscriptions: boolean): ApiInput {
  const input: ApiInput = {
    name: f.name.trim(),
    version: f.version.trim(),
    description: f.description,
    category: f.category.trim(),
    tags: parseTags(f.tags),
    status: f.status,
    portal_visible: f.portal_visible,
    audience: f.audience,
  };
  const doc = f.openapi.trim();
  if (doc) input.openapi = doc.startsWith('{') ? (JSON.parse(doc) as unknown) : f.openapi;
  if (withTenant && f.tenant_id.trim()) input.tenant_id = f.tenant_id.trim();
  if (withSubscriptions) {
    input.subscription = f.subscription;
    input.plans = f.plans.map((p) => ({ name: p.name.trim(), requests_per_minute: Number(p.rpm) }));
  }
  return input;
}

export function ApiEditPage({ id }: { id?: string }) {
  const existing = useApi((signal) => (id ? api.apis.get(id, signal) : Promise.resolve(undefined)), [id]);
  useTitle(id ? 'Edit API' : 'New API', 'Console');
  if (id && existing.error) {
    return (
      <div>
        <BackLink />
        <h1 class="page-title">Edit API</h1>
        <ErrorState error={existing.error} onRetry={existing.reload} />
      </div>
    );
  }
  if (id && !existing.data) {
    return (
      <div aria-busy="true">
        <BackLink />
        <h1 class="page-title">Edit API</h1>
        <Skeleton lines={8} />
      </div>
    );
  }
  return <ApiForm key={id ?? 'new'} id={id} initial={existing.data ? fromDetail(existing.data) : EMPTY} />;
}

function BackLink() {
  return (
    <p class="back">
      <Link href="/console/catalog">
        <Icon name="arrow-left" /> Catalog
      </Link>
    </p>
  );
}

function ApiForm({ id, initial }: { id?: string; initial: FormState }) {
  const { me } = useSession();
  const [f, setF] = useState<FormState>(initial);
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const set = <K extends keyof FormState>(k: K, v: FormState[K]) => setF((prev) => ({ ...prev, [k]: v }));
  const ids = {
    name: useId(),
    version: useId(),
    description: useId(),
    category: useId(),
    tags: useId(),
    status: useId(),
    visible: useId(),
    audience: useId(),
    tenant: useId(),
    openapi: useId(),
    subscription: useId(),
    plans: useId(),
  };
  const err = (k: string) =>
    errors[k] ? (
      <p class="field__error" id={`${ids[k as keyof typeof ids]}-err`}>
        {errors[k]}
      </p>
    ) : null;
  const described = (k: keyof typeof ids) => (errors[k] ? `${ids[k]}-err` : undefined);
  const editable = can.editCatalog(me);

  async function submit(e: Event) {
    e.preventDefault();
    const problems = validateApi(f);
    setErrors(problems);
    if (Object.keys(problems).length) return;
    setBusy(true);
    setError(null);
    try {
      const input = toApiInput(f, can.chooseTenant(me), editable);
      if (id) await api.apis.update(id, input);
      else await api.apis.create(input);
      navigate('/console/catalog');
    } catch (ex) {
      setError(ex);
      setBusy(false);
    }
  }

  return (
    <div class="form-page">
      <BackLink />
      <h1 class="page-title">{id ? `Edit ${initial.name}` : 'New API'}</h1>
      <form class="form" onSubmit={submit} noValidate data-testid="api-form">
        <div class="form__grid">
          <div class="field">
            <label for={ids.name}>Name</label>
            <input id={ids.name} class="input" value={f.name} onInput={(e) => set('name', e.currentTarget.value)} maxLength={200} required aria-invalid={!!errors.name} aria-describedby={described('name')} disabled={!editable} data-testid="api-name" />
            {err('name')}
          </div>
          <div class="field">
            <label for={ids.version}>Version</label>
            <input id={ids.version} class="input" value={f.version} onInput={(e) => set('version', e.currentTarget.value)} maxLength={50} required aria-invalid={!!errors.version} aria-describedby={described('version')} disabled={!editable} data-testid="api-version" />
            {err('version')}
          </div>
          <div class="field field--wide">
            <label for={ids.description}>Description</label>
            <textarea id={ids.description} class="input" rows={3} value={f.description} onInput={(e) => set('description', e.currentTarget.value)} maxLength={5000} aria-describedby={described('description')} disabled={!editable} />
            {err('description')}
          </div>
          <div class="field">
            <label for={ids.category}>Category</label>
            <input id={ids.category} class="input" value={f.category} onInput={(e) => set('category', e.currentTarget.value)} maxLength={100} aria-describedby={described('category')} disabled={!editable} />
            {err('category')}
          </div>
          <div class="field">
            <label for={ids.tags}>Tags</label>
            <input id={ids.tags} class="input" value={f.tags} onInput={(e) => set('tags', e.currentTarget.value)} aria-describedby={`${ids.tags}-hint${errors.tags ? ` ${ids.tags}-err` : ''}`} disabled={!editable} />
            <p class="hint" id={`${ids.tags}-hint`}>
              Comma-separated, up to 20.
            </p>
            {err('tags')}
          </div>
          <div class="field">
            <label for={ids.status}>Status</label>
            <select id={ids.status} class="input" value={f.status} onChange={(e) => set('status', e.currentTarget.value as ApiStatus)}>
              <option value="draft">Draft</option>
              <option value="published">Published</option>
              <option value="deprecated">Deprecated</option>
            </select>
          </div>
          <div class="field">
            <label for={ids.audience}>Audience</label>
            <select id={ids.audience} class="input" value={f.audience} onChange={(e) => set('audience', e.currentTarget.value as Audience)} disabled={!editable}>
              <option value="public">Public (anyone who can see the portal)</option>
              <option value="internal">Internal (signed-in users only)</option>
            </select>
          </div>
          <div class="field field--check">
            <input id={ids.visible} type="checkbox" checked={f.portal_visible} onChange={(e) => set('portal_visible', e.currentTarget.checked)} />
            <label for={ids.visible}>Visible in the portal</label>
          </div>
          {can.chooseTenant(me) && (
            <div class="field">
              <label for={ids.tenant}>Tenant</label>
              <input id={ids.tenant} class="input" value={f.tenant_id} placeholder="default" onInput={(e) => set('tenant_id', e.currentTarget.value)} />
            </div>
          )}
          {editable && (
            <SubscriptionFields
              ids={{ mode: ids.subscription, plans: ids.plans }}
              mode={f.subscription}
              plans={f.plans}
              error={errors.plans}
              onMode={(m) => set('subscription', m)}
              onPlans={(p) => set('plans', p)}
            />
          )}
          <div class="field field--wide">
            <label for={ids.openapi}>OpenAPI document</label>
            <textarea id={ids.openapi} class="input mono" rows={12} value={f.openapi} onInput={(e) => set('openapi', e.currentTarget.value)} spellcheck={false} aria-describedby={`${ids.openapi}-hint${errors.openapi ? ` ${ids.openapi}-err` : ''}`} disabled={!editable} />
            <p class="hint" id={`${ids.openapi}-hint`}>
              JSON or YAML. Optional; operations are derived from it.
            </p>
            {err('openapi')}
          </div>
        </div>
        <InlineError error={error} testId="api-form-error" />
        <div class="form__actions">
          <button type="submit" class="btn btn--primary" disabled={busy} data-testid="api-save">
            {busy ? 'Saving…' : id ? 'Save changes' : 'Create API'}
          </button>
          <Link class="btn btn--ghost" href="/console/catalog">
            Cancel
          </Link>
        </div>
      </form>
    </div>
  );
}

/* How developers subscribe: the mode and the plans (name + rate limit). */
function SubscriptionFields({
  ids,
  mode,
  plans,
  error,
  onMode,
  onPlans,
}: {
  ids: { mode: string; plans: string };
  mode: SubscriptionMode;
  plans: PlanRow[];
  error?: string;
  onMode: (m: SubscriptionMode) => void;
  onPlans: (p: PlanRow[]) => void;
}) {
  const setRow = (i: number, patch: Partial<PlanRow>) => onPlans(plans.map((p, j) => (j === i ? { ...p, ...patch } : p)));
  return (
    <>
      <div class="field">
        <label for={ids.mode}>Subscriptions</label>
        <select id={ids.mode} class="input" value={mode} onChange={(e) => onMode(e.currentTarget.value as SubscriptionMode)} data-testid="api-subscription">
          <option value="auto">Approved at once</option>
          <option value="approval">Need an administrator's approval</option>
          <option value="closed">Closed (no new subscriptions)</option>
        </select>
      </div>
      <fieldset class="field field--wide plans" aria-describedby={`${ids.plans}-hint${error ? ` ${ids.plans}-err` : ''}`} data-testid="api-plans">
        <legend>Plans</legend>
        <p class="hint" id={`${ids.plans}-hint`}>
          Without plans, subscribers get the default plan with no rate limit.
        </p>
        {plans.map((p, i) => (
          <div class="plan-row" key={i}>
            <label class="sr-only" for={`${ids.plans}-n${i}`}>
              Plan {i + 1} name
            </label>
            <input id={`${ids.plans}-n${i}`} class="input" placeholder="gold" value={p.name} maxLength={64} onInput={(e) => setRow(i, { name: e.currentTarget.value })} data-testid="plan-name" />
            <label class="sr-only" for={`${ids.plans}-r${i}`}>
              Plan {i + 1} requests per minute
            </label>
            <input id={`${ids.plans}-r${i}`} class="input" inputMode="numeric" placeholder="600" value={p.rpm} onInput={(e) => setRow(i, { rpm: e.currentTarget.value })} data-testid="plan-rpm" />
            <span class="small muted">requests/min</span>
            <button type="button" class="btn btn--small btn--ghost" onClick={() => onPlans(plans.filter((_, j) => j !== i))} aria-label={`Remove plan ${p.name || i + 1}`}>
              <Icon name="minus" />
            </button>
          </div>
        ))}
        {plans.length < 20 && (
          <button type="button" class="btn btn--small" onClick={() => onPlans([...plans, { name: '', rpm: '' }])} data-testid="plan-add">
            <Icon name="plus" />
            Add plan
          </button>
        )}
        {error && (
          <p class="field__error" id={`${ids.plans}-err`}>
            {error}
          </p>
        )}
      </fieldset>
    </>
  );
}

/* JSON when the text starts with "{", else YAML. */
export function detectFormat(text: string): 'json' | 'yaml' {
  return text.trimStart().startsWith('{') ? 'json' : 'yaml';
}

export function ImportPage() {
  useTitle('Import OpenAPI', 'Console');
  const [text, setText] = useState('');
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const [created, setCreated] = useState<ApiDetail | null>(null);
  const fileId = useId();
  const textId = useId();

  async function readFile(file: File) {
    setError(null);
    if (file.size > 1024 * 1024) {
      setError(new ApiError(413, 'too_large', 'The file is larger than 1 MB.'));
      return;
    }
    setText(await file.text());
  }

  return (
    <div class="form-page">
      <BackLink />
      <h1 class="page-title">Import an OpenAPI document</h1>
      <p class="page-sub">OpenAPI 3, JSON or YAML. The API is created from its info block and operations.</p>
      {created ? (
        <div class="notice notice--ok" role="status" data-testid="import-done">
          <Icon name="check-circle" />
          <span>
            Imported <strong>{created.name}</strong> {created.version}.{' '}
            <Link href={`/console/catalog/${encodeURIComponent(created.id)}`}>Edit it</Link> or{' '}
            <button type="button" class="linklike" onClick={() => { setCreated(null); setText(''); }}>
              import another
            </button>
            .
          </span>
        </div>
      ) : (
        <form
          class="form"
          onSubmit={async (e) => {
            e.preventDefault();
            if (!text.trim()) {
              setError(new ApiError(400, 'empty', 'Paste a document or choose a file first.'));
              return;
            }
            setBusy(true);
            setError(null);
            try {
              setCreated(await api.apis.import(text, detectFormat(text)));
            } catch (ex) {
              setError(ex);
            } finally {
              setBusy(false);
            }
          }}
        >
          <div class="field">
            <label for={fileId}>File</label>
            <input
              id={fileId}
              type="file"
              accept=".json,.yaml,.yml,application/json,application/yaml,text/yaml"
              onChange={(e) => {
                const file = e.currentTarget.files?.[0];
                if (file) void readFile(file);
              }}
            />
          </div>
          <div class="field">
            <label for={textId}>Or paste the document</label>
            <textarea id={textId} class="input mono" rows={16} value={text} onInput={(e) => setText(e.currentTarget.value)} spellcheck={false} data-testid="import-text" />
            {text.trim() && <p class="hint">Detected: {detectFormat(text) === 'json' ? 'JSON' : 'YAML'}</p>}
          </div>
          <InlineError error={error} testId="import-error" />
          <div class="form__actions">
            <button type="submit" class="btn btn--primary" disabled={busy} data-testid="import-submit">
              {busy ? 'Importing…' : 'Import'}
            </button>
          </div>
        </form>
      )}
    </div>
  );
}
