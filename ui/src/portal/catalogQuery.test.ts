import { describe, expect, it } from 'vitest';
import { catalogSearch, hasFilters, parseCatalogQuery, toggleCategory, toggleTag } from './catalogQuery';

const parse = (s: string) => parseCatalogQuery(new URLSearchParams(s));

describe('catalog URL state', () => {
  it('parses every field and defaults the rest', () => {
    expect(parse('q=100%25&category=Finance&tag=a&tag=b&tag=a&sort=updated&page=3')).toEqual({
      q: '100%',
      category: 'Finance',
      tags: ['a', 'b'],
      sort: 'updated',
      page: 3,
    });
    expect(parse('')).toEqual({ q: '', category: '', tags: [], sort: '', page: 1 });
    expect(parse('page=-2&sort=bogus').page).toBe(1);
    expect(parse('page=abc').page).toBe(1);
  });

  it('round-trips through the query string and leaves out defaults', () => {
    const s = parse('q=user_profile&tag=x&tag=y&page=2');
    expect(catalogSearch(s)).toBe('?q=user_profile&tag=x&tag=y&page=2');
    expect(parse(catalogSearch(s).slice(1))).toEqual(s);
    expect(catalogSearch(parse('page=1'))).toBe('');
  });

  it('toggles facets and resets the page', () => {
    const s = parse('tag=a&page=4&category=C');
    expect(toggleTag(s, 'b')).toMatchObject({ tags: ['a', 'b'], page: 1 });
    expect(toggleTag(s, 'a')).toMatchObject({ tags: [], page: 1 });
    expect(toggleCategory(s, 'C')).toMatchObject({ category: '', page: 1 });
    expect(toggleCategory(s, 'D')).toMatchObject({ category: 'D', page: 1 });
    expect(hasFilters(parse('q=%20'))).toBe(false);
    expect(hasFilters(parse('tag=a'))).toBe(true);
  });
});
