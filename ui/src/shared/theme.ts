/*
 * Light/dark theme.  By default the page follows prefers-color-scheme (the
 * CSS does that on its own through `color-scheme: light dark` and
 * light-dark() colours); the toggle stores an explicit choice in localStorage
 * — the only thing the UI keeps in the browser — and sets data-theme on
 * <html>, which pins `color-scheme`.
 */
export type Theme = 'light' | 'dark';

const KEY = 'portico.theme';

export function storedTheme(): Theme | null {
  try {
    const v = localStorage.getItem(KEY);
    return v === 'light' || v === 'dark' ? v : null;
  } catch {
    return null;
  }
}

export function systemTheme(): Theme {
  return window.matchMedia?.('(prefers-color-scheme: dark)').matches ? 'dark' : 'light';
}

export function effectiveTheme(): Theme {
  return storedTheme() ?? systemTheme();
}

export function applyStoredTheme(): void {
  const t = storedTheme();
  if (t) document.documentElement.dataset.theme = t;
  else delete document.documentElement.dataset.theme;
}

export function setTheme(t: Theme): void {
  try {
    localStorage.setItem(KEY, t);
  } catch {
    /* private mode: the choice lasts for this page only */
  }
  document.documentElement.dataset.theme = t;
}
