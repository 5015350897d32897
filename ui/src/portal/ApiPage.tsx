/*
 * One API in the portal (/portal/apis/<id>): overview, operations grouped by
 * tag — each with method, path, summary, and on expanding its parameters,
 * request body and responses from the OpenAPI document — a copy-as-curl
 * button per operation, and the document itself to read or download.
 */
import { useMemo, useState } from 'preact/hooks';
import { api } from '../shared/api';
import type { ApiDetail } from '../shared/types';
import { formatDate, plural } from '../shared/format';
import { useApi } from '../shared/hooks';
import { Link } from '../shared/router';
import { Icon } from '../shared/components/Icon';
import { StatusBadge } from '../shared/components/StatusBadge';
import { EmptyState, ErrorState, Skeleton } from '../shared/components/States';
import { CopyButton } from '../shared/components/CopyButton';
import { useTitle } from '../shared/components/Layout';
import { SubscribePanel } from './SubscribePanel';
import {
  buildOperations,
  curlFor,
  documentFileName,
  groupByTag,
  parseDocument,
  PLACEHOLDER_HOST,
  serverUrl,
  type OperationInfo,
  type ParsedDocument,
} from './openapi';

export function ApiPage({ id }: { id: string }) {
  const { data, error, reload } = useApi((signal) => api.portal.get(id, signal), [id]);
  useTitle(data?.name ?? 'API', 'Portal');

  return (
    <div class="api-page">
      <nav class="breadcrumb" aria-label="Breadcrumb">
        <ol>
          <li>
            <Link href="/portal/">Catalog</Link>
          </li>
          <li aria-current="page">{data?.name ?? '…'}</li>
        </ol>
      </nav>
      {error ? (
        <ErrorState error={error} title="Could not load this API" onRetry={reload} />
      ) : !data ? (
        <div aria-busy="true">
          <h1 class="sr-only">Loading API…</h1>
          <Skeleton lines={2} class="skeleton--title" />
          <Skeleton lines={6} />
        </div>
      ) : (
        <ApiView api={data} />
      )}
    </div>
  );
}

function ApiView({ api: a }: { api: ApiDetail }) {
  const parsed = useMemo(() => parseDocument(a.openapi), [a.openapi]);
  const doc = parsed?.doc ?? null;
  const operations = useMemo(() => buildOperations(a.operations, doc), [a.operations, doc]);
  const groups = useMemo(() => groupByTag(operations, doc), [operations, doc]);
  const base = useMemo(() => serverUrl(doc), [doc]);

  return (
    <article class="api-detail">
      <header class="api-detail__head">
        <div class="api-detail__titles">
          <h1 class="page-title" data-testid="api-title">
            {a.name}
          </h1>
          <span class="version" title="Version">
            {a.version}
          </span>
          <StatusBadge status={a.status} />
          {a.audience === 'internal' && <StatusBadge status="internal" />}
        </div>
        {a.description && <p class="lead">{a.description}</p>}
        <SubscribePanel api={a} />
      </header>

      <section class="overview" aria-labelledby="overview-heading">
        <h2 id="overview-heading" class="sr-only">
          Overview
        </h2>
        <dl class="facts">
          <div>
            <dt>Version</dt>
            <dd>{a.version}</dd>
          </div>
          <div>
            <dt>Category</dt>
            <dd>{a.category || '—'}</dd>
          </div>
          <div>
            <dt>Operations</dt>
            <dd>{plural(operations.length, 'operation')}</dd>
          </div>
          <div>
            <dt>Updated</dt>
            <dd>
              <time dateTime={a.updated_at}>{formatDate(a.updated_at, { seconds: false })}</time>
            </dd>
          </div>
          <div>
            <dt>Server</dt>
            <dd class="mono break">{base === PLACEHOLDER_HOST ? <span class="muted">not in the document</span> : base}</dd>
          </div>
          {a.tags && a.tags.length > 0 && (
            <div class="facts__wide">
              <dt>Tags</dt>
              <dd class="chips">
                {a.tags.map((t) => (
                  <Link key={t} class="chip chip--link" href={`/portal/?tag=${encodeURIComponent(t)}`}>
                    {t}
                  </Link>
                ))}
              </dd>
            </div>
          )}
        </dl>
        {parsed && <DownloadButton api={a} parsed={parsed} />}
      </section>

      <section class="operations" aria-labelledby="ops-heading">
        <h2 id="ops-heading" class="section-title">
          Operations
        </h2>
        {operations.length === 0 ? (
          <EmptyState title="No operations">
            <p>This API has no OpenAPI operations listed.</p>
          </EmptyState>
        ) : (
          groups.map((g) => (
            <section key={g.tag} class="op-group" aria-label={g.tag}>
              <h3 class="op-group__title">{g.tag}</h3>
              <ul class="op-list">
                {g.operations.map((op) => (
                  <OperationRow key={`${op.method} ${op.path}`} op={op} base={base} />
                ))}
              </ul>
            </section>
          ))
        )}
      </section>

      {parsed && (
        <section class="document" aria-labelledby="doc-heading">
          <h2 id="doc-heading" class="section-title">
            OpenAPI document
          </h2>
          <details class="document__details">
            <summary>Show the {parsed.format === 'yaml' ? 'YAML' : 'JSON'} document</summary>
            <pre class="code" tabIndex={0} aria-label="OpenAPI document" data-testid="openapi-document">
              {parsed.text}
            </pre>
          </details>
        </section>
      )}
    </article>
  );
}

function DownloadButton({ api: a, parsed }: { api: ApiDetail; parsed: ParsedDocument }) {
  const name = documentFileName(a.name, a.version, parsed.format);
  return (
    <button
      type="button"
      class="btn"
      data-testid="download-openapi"
      onClick={() => {
        const blob = new Blob([parsed.text], {
          type: parsed.format === 'json' ? 'application/json' : 'application/yaml',
        });
        const url = URL.createObjectURL(blob);
        const link = document.createElement('a');
        link.href = url;
        link.download = name;
        document.body.appendChild(link);
        link.click();
        link.remove();
        setTimeout(() => URL.revokeObjectURL(url), 10000);
      }}
    >
      <Icon name="download" />
      Download OpenAPI ({parsed.format.toUpperCase()})
    </button>
  );
}

export function MethodBadge({ method }: { method: string }) {
  const m = method.toUpperCase();
  return <span class={`method method--${m.toLowerCase()}`}>{m}</span>;
}

function OperationRow({ op, base }: { op: OperationInfo; base: string }) {
  const [open, setOpen] = useState(false);
  const curl = useMemo(() => curlFor(op, base), [op, base]);
  const panelId = `op-${op.method}-${op.path}`.replace(/[^A-Za-z0-9_-]/g, '_');
  return (
    <li class={`op${op.deprecated ? ' op--deprecated' : ''}`} data-testid="operation" data-method={op.method} data-path={op.path}>
      <div class="op__row">
        <button
          type="button"
          class="op__toggle"
          aria-expanded={open}
          aria-controls={panelId}
          onClick={() => setOpen(!open)}
        >
          <MethodBadge method={op.method} />
          <code class="op__path" data-testid="operation-path">
            {op.path}
          </code>
          <span class="op__summary">{op.summary || op.operationId}</span>
          {op.deprecated && <span class="tag-deprecated">Deprecated</span>}
          <Icon name="arrow-left" class={`op__chevron${open ? ' is-open' : ''}`} />
        </button>
        <CopyButton text={curl} label="Copy as curl" testId="copy-curl" />
      </div>
      {open && (
        <div class="op__body" id={panelId}>
          {op.description && <p class="op__desc">{op.description}</p>}
          {op.operationId && (
            <p class="small muted">
              Operation ID <code>{op.operationId}</code>
            </p>
          )}
          <h4 class="op__h">Parameters</h4>
          {op.parameters.length === 0 ? (
            <p class="muted small">No parameters.</p>
          ) : (
            <div class="table-wrap" tabIndex={0} role="region" aria-label={`Parameters of ${op.method} ${op.path}`}>
              <table class="table table--compact">
                <thead>
                  <tr>
                    <th scope="col">Name</th>
                    <th scope="col">In</th>
                    <th scope="col">Type</th>
                    <th scope="col">Required</th>
                    <th scope="col">Description</th>
                  </tr>
                </thead>
                <tbody>
                  {op.parameters.map((p) => (
                    <tr key={`${p.in}:${p.name}`}>
                      <td>
                        <code>{p.name}</code>
                      </td>
                      <td>{p.in}</td>
                      <td class="mono">{p.type || '—'}</td>
                      <td>{p.required ? 'Yes' : 'No'}</td>
                      <td>{p.description}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )}
          {op.body && (
            <>
              <h4 class="op__h">Request body</h4>
              <p class="small">
                {op.body.required ? 'Required. ' : 'Optional. '}
                {op.body.contentTypes.length > 0 && <code>{op.body.contentTypes.join(', ')}</code>}
                {op.body.type && <> — {op.body.type}</>}
              </p>
              {op.body.description && <p class="small">{op.body.description}</p>}
            </>
          )}
          <h4 class="op__h">Responses</h4>
          {op.responses.length === 0 ? (
            <p class="muted small">No responses documented.</p>
          ) : (
            <ul class="responses">
              {op.responses.map((r) => (
                <li key={r.code}>
                  <span class={`code-badge code-badge--${r.code.charAt(0)}`}>{r.code}</span>
                  <span>{r.description || '—'}</span>
                  {r.contentTypes.length > 0 && <code class="small">{r.contentTypes.join(', ')}</code>}
                </li>
              ))}
            </ul>
          )}
          <h4 class="op__h">Example request</h4>
          <pre class="code" tabIndex={0} aria-label={`curl for ${op.method} ${op.path}`} data-testid="curl">
            {curl}
          </pre>
        </div>
      )}
    </li>
  );
}
