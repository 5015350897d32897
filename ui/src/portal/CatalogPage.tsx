/*
 * The portal's catalog: a search box (debounced 300 ms, "/" focuses it),
 * category and tag facets with counts, result cards, paging.  The URL holds
 * the whole state (catalogQuery.ts); this component only reads it, renders,
 * and navigates.  Typing replaces the current history entry after the first
 * keystroke of a search so Back returns to before the search, not to every
 * intermediate word; facet clicks, sort and paging push new entries.
 */
import { useEffect, useId, useRef, useState } from 'preact/hooks';
import { api } from '../shared/api';
import type { ApiSummary, Facets, PortalPage } from '../shared/types';
import { formatNumber, plural } from '../shared/format';
import { useApi, useMedia, useSlashFocus } from '../shared/hooks';
import { Link, navigate, useLocation } from '../shared/router';
import { Icon } from '../shared/components/Icon';
import { Chip, StatusBadge } from '../shared/components/StatusBadge';
import { EmptyState, ErrorState } from '../shared/components/States';
import { Pagination } from '../shared/components/Pagination';
import { useTitle } from '../shared/components/Layout';
import {
  PAGE_SIZE,
  catalogSearch,
  hasFilters,
  parseCatalogQuery,
  toggleCategory,
  toggleTag,
  type CatalogQuery,
} from './catalogQuery';

const DEBOUNCE_MS = 300;
const TAGS_SHOWN = 12;

const go = (s: CatalogQuery, replace = false) => navigate(`/portal/${catalogSearch(s)}`, { replace });

export function CatalogPage() {
  const loc = useLocation();
  const query = parseCatalogQuery(loc.query);
  useTitle(query.q ? `“${query.q}”` : 'API catalog', 'Portal');

  const searchRef = useRef<HTMLInputElement>(null);
  useSlashFocus(searchRef);
  const searchId = useId();

  // The box's text; the URL catches up 300 ms after the last keystroke.
  const [text, setText] = useState(query.q);
  const urlQ = useRef(query.q);
  useEffect(() => {
    // Back/forward or a link changed q: show it in the box.
    if (query.q !== urlQ.current) {
      urlQ.current = query.q;
      setText(query.q);
    }
  }, [query.q]);

  useEffect(() => {
    if (text === urlQ.current) return undefined;
    const t = setTimeout(() => commit(text), DEBOUNCE_MS);
    return () => clearTimeout(t);
  }, [text]);

  function commit(q: string) {
    // Read the URL now, not from the closure: facets may have changed meanwhile.
    const latest = parseCatalogQuery(new URLSearchParams(location.search));
    if (latest.q === q) return;
    urlQ.current = q;
    go({ ...latest, q, page: 1 }, latest.q !== '');
  }

  const result = useApi(
    (signal) =>
      api.portal.list({
        q: query.q,
        category: query.category,
        tag: query.tags,
        sort: query.sort,
        page: query.page,
        page_size: PAGE_SIZE,
        signal,
      }),
    [loc.search],
  );
  const data = result.data;
  // On a phone the facets fold away behind "Filters" so results come first.
  const narrow = useMedia('(max-width: 860px)');
  const activeCount = (query.category ? 1 : 0) + query.tags.length;

  return (
    <div class="catalog">
      <div class="page-head">
        <div>
          <h1 class="page-title">API catalog</h1>
          <p class="page-sub">Find an API, read its operations, copy a request.</p>
        </div>
      </div>

      <form
        class="searchbar"
        role="search"
        onSubmit={(e) => {
          e.preventDefault();
          commit(text);
        }}
      >
        <label for={searchId} class="sr-only">
          Search APIs
        </label>
        <Icon name="search" class="searchbar__icon" />
        <input
          ref={searchRef}
          id={searchId}
          class="input searchbar__input"
          type="search"
          placeholder="Search by name, tag, path…"
          value={text}
          onInput={(e) => setText(e.currentTarget.value)}
          autocomplete="off"
          spellcheck={false}
          aria-keyshortcuts="/"
          data-testid="search-input"
        />
        <kbd class="searchbar__kbd" aria-hidden="true">
          /
        </kbd>
      </form>

      <div class="catalog__body">
        <aside class="facets" aria-label="Filters">
          {narrow ? (
            <details class="facets__fold">
              <summary>
                Filters
                {activeCount > 0 && <span class="facets__active"> ({activeCount} active)</span>}
              </summary>
              <div class="facets__inner">
                <FacetPanel facets={data?.facets} query={query} failed={!!result.error} />
              </div>
            </details>
          ) : (
            <FacetPanel facets={data?.facets} query={query} failed={!!result.error} />
          )}
        </aside>

        <section class="results" aria-labelledby="results-heading" aria-busy={result.loading}>
          <div class="results__bar">
            <h2 id="results-heading" class="sr-only">
              Results
            </h2>
            <p class="results__count" role="status" data-testid="result-count">
              {data ? resultLabel(data, query) : result.error ? '' : 'Loading APIs…'}
            </p>
            <SortSelect query={query} />
          </div>
          <ActiveFilters query={query} />
          <Results result={result} query={query} />
        </section>
      </div>
    </div>
  );
}

function resultLabel(data: PortalPage, q: CatalogQuery): string {
  const n = plural(data.total, 'API');
  return q.q.trim() ? `${n} matching “${q.q.trim()}”` : n;
}

function SortSelect({ query }: { query: CatalogQuery }) {
  const id = useId();
  return (
    <div class="sort">
      <label for={id}>Sort</label>
      <select
        id={id}
        class="input input--small"
        value={query.sort}
        onChange={(e) => go({ ...query, sort: e.currentTarget.value === 'updated' ? 'updated' : '', page: 1 })}
        data-testid="sort-select"
      >
        <option value="">{query.q.trim() ? 'Best match' : 'Name'}</option>
        <option value="updated">Recently updated</option>
      </select>
    </div>
  );
}

function ActiveFilters({ query }: { query: CatalogQuery }) {
  if (!query.category && query.tags.length === 0) return null;
  return (
    <ul class="active-filters" aria-label="Active filters">
      {query.category && (
        <li>
          <button type="button" class="chip chip--removable" onClick={() => go(toggleCategory(query, query.category))}>
            <span class="sr-only">Remove filter </span>
            Category: {query.category}
            <Icon name="x" />
          </button>
        </li>
      )}
      {query.tags.map((t) => (
        <li key={t}>
          <button type="button" class="chip chip--removable" onClick={() => go(toggleTag(query, t))}>
            <span class="sr-only">Remove filter </span>
            Tag: {t}
            <Icon name="x" />
          </button>
        </li>
      ))}
      <li>
        <button type="button" class="btn btn--ghost btn--small" onClick={() => go({ ...query, category: '', tags: [], page: 1 })}>
          Clear filters
        </button>
      </li>
    </ul>
  );
}

/* Facet entries sorted by count, then name; selected ones always listed. */
function facetEntries(counts: Record<string, number> | undefined, selected: string[]): Array<[string, number]> {
  const map = new Map(Object.entries(counts ?? {}));
  for (const s of selected) if (!map.has(s)) map.set(s, 0);
  return [...map.entries()].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
}

function FacetPanel({ facets, query, failed }: { facets: Facets | undefined; query: CatalogQuery; failed: boolean }) {
  const [allTags, setAllTags] = useState(false);
  const categories = facetEntries(facets?.categories, query.category ? [query.category] : []);
  const tags = facetEntries(facets?.tags, query.tags);
  const shownTags = allTags ? tags : tags.slice(0, Math.max(TAGS_SHOWN, query.tags.length));
  if (!facets && failed) return null;
  if (!facets) {
    return (
      <div class="facets__skeleton" aria-hidden="true">
        <div class="skeleton__line skeleton__line--2" />
        <div class="skeleton__line skeleton__line--1" />
        <div class="skeleton__line skeleton__line--3" />
      </div>
    );
  }
  return (
    <>
      <FacetGroup
        title="Category"
        entries={categories}
        isSelected={(c) => c === query.category}
        onToggle={(c) => go(toggleCategory(query, c))}
        testId="facet-category"
      />
      <FacetGroup
        title="Tags"
        entries={shownTags}
        isSelected={(t) => query.tags.includes(t)}
        onToggle={(t) => go(toggleTag(query, t))}
        testId="facet-tag"
      />
      {tags.length > shownTags.length || allTags ? (
        <button type="button" class="btn btn--ghost btn--small" onClick={() => setAllTags(!allTags)} aria-expanded={allTags}>
          {allTags ? 'Show fewer tags' : `Show all ${tags.length} tags`}
        </button>
      ) : null}
    </>
  );
}

function FacetGroup({
  title,
  entries,
  isSelected,
  onToggle,
  testId,
}: {
  title: string;
  entries: Array<[string, number]>;
  isSelected: (name: string) => boolean;
  onToggle: (name: string) => void;
  testId: string;
}) {
  const headingId = useId();
  return (
    <section class="facet-group" aria-labelledby={headingId}>
      <h2 id={headingId} class="facet-group__title">
        {title}
      </h2>
      {entries.length === 0 ? (
        <p class="muted small">None</p>
      ) : (
        <ul class="facet-list">
          {entries.map(([name, count]) => {
            const on = isSelected(name);
            return (
              <li key={name}>
                <button
                  type="button"
                  class={`facet${on ? ' facet--on' : ''}`}
                  aria-pressed={on}
                  onClick={() => onToggle(name)}
                  data-testid={testId}
                  data-value={name}
                >
                  <span class="facet__check" aria-hidden="true">
                    {on && <Icon name="check" />}
                  </span>
                  <span class="facet__name">{name}</span>
                  <span class="facet__count">
                    <span class="sr-only">, </span>
                    {formatNumber(count)}
                    <span class="sr-only"> APIs</span>
                  </span>
                </button>
              </li>
            );
          })}
        </ul>
      )}
    </section>
  );
}

function Results({
  result,
  query,
}: {
  result: { data: PortalPage | undefined; error: unknown; loading: boolean; reload: () => void };
  query: CatalogQuery;
}) {
  const { data, error, loading, reload } = result;
  if (error) return <ErrorState error={error} title="Could not load the catalog" onRetry={reload} />;
  if (!data) return <CardSkeletons />;
  if (data.items.length === 0 && data.total > 0) {
    return (
      <EmptyState
        title="No APIs on this page"
        action={
          <button type="button" class="btn" onClick={() => go({ ...query, page: 1 })}>
            Go to the first page
          </button>
        }
      >
        <p>The results end before page {query.page}.</p>
      </EmptyState>
    );
  }
  if (data.items.length === 0) {
    return (
      <EmptyState
        title={hasFilters(query) ? 'No APIs match' : 'The catalog is empty'}
        action={
          hasFilters(query) ? (
            <button type="button" class="btn" onClick={() => go({ q: '', category: '', tags: [], sort: query.sort, page: 1 })}>
              Clear search and filters
            </button>
          ) : undefined
        }
      >
        {hasFilters(query) ? <p>Try fewer words, or remove a filter.</p> : <p>No published APIs are visible to you yet.</p>}
      </EmptyState>
    );
  }
  return (
    <>
      <ul class={`cards${loading ? ' is-stale' : ''}`}>
        {data.items.map((a) => (
          <ApiCard key={a.id} api={a} />
        ))}
      </ul>
      <Pagination
        page={data.page || query.page}
        pageSize={data.page_size || PAGE_SIZE}
        total={data.total}
        onPage={(page) => {
          go({ ...query, page });
          window.scrollTo({ top: 0 });
        }}
        label="Catalog pages"
      />
    </>
  );
}

function CardSkeletons() {
  return (
    <div aria-hidden="true" class="cards cards--skeleton">
      {Array.from({ length: 6 }, (_, i) => (
        <div key={i} class="card api-card">
          <div class="skeleton">
            <div class="skeleton__line skeleton__line--title" />
            <div class="skeleton__line skeleton__line--1" />
            <div class="skeleton__line skeleton__line--2" />
            <div class="skeleton__line skeleton__line--3" />
          </div>
        </div>
      ))}
    </div>
  );
}

function ApiCard({ api: a }: { api: ApiSummary }) {
  return (
    <li class="card api-card" data-testid="api-card" data-api-id={a.id}>
      <div class="api-card__head">
        <h3 class="api-card__title">
          <Link class="stretched" href={`/portal/apis/${encodeURIComponent(a.id)}`} data-testid="api-card-name">
            {a.name}
          </Link>
        </h3>
        <span class="version" title="Version">
          {a.version}
        </span>
      </div>
      <div class="api-card__badges">
        <StatusBadge status={a.status} />
        {a.audience === 'internal' && <StatusBadge status="internal" />}
      </div>
      <p class="api-card__desc">{a.description || <span class="muted">No description.</span>}</p>
      {(a.category || (a.tags && a.tags.length > 0)) && (
        <div class="api-card__meta">
          {a.category && (
            <span class="api-card__category">
              <span class="sr-only">Category: </span>
              {a.category}
            </span>
          )}
          {a.tags && a.tags.length > 0 && (
            <span class="api-card__tags">
              <span class="sr-only">Tags: </span>
              {a.tags.map((t) => (
                <Chip key={t}>{t}</Chip>
              ))}
            </span>
          )}
        </div>
      )}
    </li>
  );
}
