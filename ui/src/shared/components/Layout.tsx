/*
 * The frame around every signed-in page: skip link, header (brand, main
 * navigation, link to the other app, theme toggle, who is signed in, sign
 * out), and <main>.  On in-app navigation focus moves to the new page's <h1>
 * so keyboard and screen-reader users land on the new content.
 */
import type { ComponentChildren } from 'preact';
import { useEffect, useRef } from 'preact/hooks';
import { Link, useLocation } from '../router';
import { useSession } from '../session';
import { Icon } from './Icon';
import { ThemeToggle } from './ThemeToggle';

export interface NavItem {
  href: string;
  label: string;
  /* Path prefix that marks the item current (defaults to href). */
  match?: string;
}

export function Layout({
  product,
  home,
  nav,
  other,
  children,
}: {
  product: string;
  home: string;
  nav: NavItem[];
  other?: { href: string; label: string };
  children: ComponentChildren;
}) {
  const { me, anonymous, signOut, requestSignIn } = useSession();
  const loc = useLocation();
  const mainRef = useRef<HTMLElement>(null);
  const firstPath = useRef(loc.path);

  useEffect(() => {
    if (loc.path === firstPath.current) return undefined;
    firstPath.current = loc.path;
    // Wait a frame for the new page to render its heading.
    const t = setTimeout(() => {
      // A page that placed focus itself (a detail panel, a form) keeps it.
      const active = document.activeElement;
      if (active && active !== document.body && mainRef.current?.contains(active)) return;
      const h1 = mainRef.current?.querySelector<HTMLElement>('h1');
      const target = h1 ?? mainRef.current;
      if (!target) return;
      if (!target.hasAttribute('tabindex')) target.setAttribute('tabindex', '-1');
      target.focus({ preventScroll: false });
    }, 50);
    return () => clearTimeout(t);
  }, [loc.path]);

  const who = me.name || me.email || me.subject;

  return (
    <div class="app">
      <a class="skip-link" href="#main">
        Skip to content
      </a>
      <header class="topbar">
        <div class="topbar__inner">
          <Link class="brand" href={home}>
            <span class="brand__mark" aria-hidden="true" />
            <span class="brand__name">Portico</span>
            <span class="brand__product">{product}</span>
          </Link>
          <nav class="topnav" aria-label="Main">
            <ul>
              {nav.map((item) => {
                const active = loc.path === item.href || loc.path.startsWith(item.match ?? `${item.href}/`);
                return (
                  <li key={item.href}>
                    <Link href={item.href} class="topnav__link" aria-current={active ? 'page' : undefined}>
                      {item.label}
                    </Link>
                  </li>
                );
              })}
              {other && (
                <li>
                  <a href={other.href} class="topnav__link topnav__link--other">
                    {other.label}
                  </a>
                </li>
              )}
            </ul>
          </nav>
          <div class="topbar__end">
            <ThemeToggle />
            {anonymous ? (
              <button type="button" class="btn btn--small" onClick={requestSignIn} data-testid="signin-button">
                <Icon name="key" />
                Sign in
              </button>
            ) : (
              <>
                <span class="who" data-testid="whoami">
                  <span class="who__name">{who}</span>
                  <span class="who__role">{me.role}</span>
                </span>
                <button type="button" class="btn btn--small" onClick={() => void signOut()} data-testid="signout">
                  Sign out
                </button>
              </>
            )}
          </div>
        </div>
      </header>
      <main id="main" ref={mainRef} class="main" tabIndex={-1}>
        {children}
      </main>
    </div>
  );
}

/* Sets document.title for a page. */
export function useTitle(title: string, product: string) {
  useEffect(() => {
    document.title = title ? `${title} · Portico ${product}` : `Portico ${product}`;
  }, [title, product]);
}
