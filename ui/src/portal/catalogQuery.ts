/*
 * The portal's search state lives in the URL: q, category, tag (repeated),
 * sort and page.  These two functions are the only translation between the
 * query string and that state, so a shared link, a reload and the back
 * button all land on the same results.
 */
import { queryString } from '../shared/router';

export interface CatalogQuery {
  q: string;
  category: string;
  tags: string[];
  sort: '' | 'updated';
  page: number;
}

export const PAGE_SIZE = 20;

export function parseCatalogQuery(params: URLSearchParams): CatalogQuery {
  const page = Number.parseInt(params.get('page') ?? '', 10);
  const tags = params.getAll('tag').filter((t) => t !== '');
  return {
    q: params.get('q') ?? '',
    category: params.get('category') ?? '',
    tags: [...new Set(tags)],
    sort: params.get('sort') === 'updated' ? 'updated' : '',
    page: Number.isFinite(page) && page >= 1 ? page : 1,
  };
}

/* "?q=…&tag=…" for the state, leaving out defaults; "" for the default state. */
export function catalogSearch(s: CatalogQuery): string {
  return queryString({
    q: s.q,
    category: s.category,
    tag: s.tags,
    sort: s.sort,
    page: s.page > 1 ? s.page : null,
  });
}

export function toggleTag(s: CatalogQuery, tag: string): CatalogQuery {
  const tags = s.tags.includes(tag) ? s.tags.filter((t) => t !== tag) : [...s.tags, tag];
  return { ...s, tags, page: 1 };
}

export function toggleCategory(s: CatalogQuery, category: string): CatalogQuery {
  return { ...s, category: s.category === category ? '' : category, page: 1 };
}

export const hasFilters = (s: CatalogQuery) => s.q.trim() !== '' || s.category !== '' || s.tags.length > 0;
