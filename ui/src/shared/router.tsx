/*
 * A tiny history router.  The URL is the state: pages read the path and the
 * query from useLocation() and change them with navigate(), so links are
 * shareable, reload restores the page and the back button works.  The server
 * falls back to the entry's index.html for any path under /portal/ or
 * /console/, so every route here is also a deep link.
 */
import type { ComponentChildren, PartialAnchorHTMLAttributes, TargetedMouseEvent } from 'preact';
import { useEffect, useState } from 'preact/hooks';

const NAV_EVENT = 'portico:navigate';

export interface Loc {
  path: string;
  search: string;
  query: URLSearchParams;
}

function current(): Loc {
  return { path: location.pathname, search: location.search, query: new URLSearchParams(location.search) };
}

/* Go to a same-origin URL ("/console/gateways?status=online"). */
export function navigate(to: string, opts: { replace?: boolean } = {}): void {
  const url = new URL(to, location.href);
  if (url.origin !== location.origin) {
    location.assign(url.href);
    return;
  }
  const target = url.pathname + url.search + url.hash;
  if (target === location.pathname + location.search + location.hash) return;
  if (opts.replace) history.replaceState(null, '', target);
  else history.pushState(null, '', target);
  window.dispatchEvent(new Event(NAV_EVENT));
}

/* The current location; re-renders on navigate() and on back/forward. */
export function useLocation(): Loc {
  const [loc, setLoc] = useState<Loc>(current);
  useEffect(() => {
    const update = () =>
      setLoc((prev) => (prev.path === location.pathname && prev.search === location.search ? prev : current()));
    window.addEventListener('popstate', update);
    window.addEventListener(NAV_EVENT, update);
    // A child may have navigated (in its own effect) before this listener existed.
    update();
    return () => {
      window.removeEventListener('popstate', update);
      window.removeEventListener(NAV_EVENT, update);
    };
  }, []);
  return loc;
}

/* The query string for `params`, keeping array values as repeated keys and dropping empty ones. */
export function queryString(params: Record<string, string | number | readonly string[] | null | undefined>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) {
    if (v === null || v === undefined || v === '') continue;
    if (Array.isArray(v)) for (const x of v as readonly string[]) q.append(k, x);
    else q.append(k, String(v));
  }
  const s = q.toString();
  return s ? `?${s}` : '';
}

/* Match "/console/gateways/:id" against a path; returns the params or null. */
export function matchRoute(pattern: string, path: string): Record<string, string> | null {
  const p = pattern.split('/').filter(Boolean);
  const s = path.split('/').filter(Boolean);
  if (p.length !== s.length) return null;
  const out: Record<string, string> = {};
  for (let i = 0; i < p.length; i++) {
    const seg = p[i]!;
    const val = s[i]!;
    if (seg.startsWith(':')) {
      try {
        out[seg.slice(1)] = decodeURIComponent(val);
      } catch {
        return null;
      }
    } else if (seg !== val) {
      return null;
    }
  }
  return out;
}

type AnchorProps = Omit<PartialAnchorHTMLAttributes<HTMLAnchorElement>, 'role' | 'href'> & { href: string; children?: ComponentChildren; replace?: boolean };

/* An <a> that navigates in-app on a plain left click and behaves like a link otherwise. */
export function Link({ href, replace, onClick, ...rest }: AnchorProps) {
  return (
    <a
      {...rest}
      href={href}
      onClick={(e: TargetedMouseEvent<HTMLAnchorElement>) => {
        if (typeof onClick === 'function') onClick(e);
        if (e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
        e.preventDefault();
        navigate(href, { replace });
      }}
    />
  );
}
