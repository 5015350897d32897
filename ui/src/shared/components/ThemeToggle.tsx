/* Switches between light and dark; the first choice overrides the system setting. */
import { useEffect, useState } from 'preact/hooks';
import { effectiveTheme, setTheme, type Theme } from '../theme';
import { Icon } from './Icon';

export function ThemeToggle() {
  const [theme, setLocal] = useState<Theme>(effectiveTheme);
  useEffect(() => {
    const mq = window.matchMedia?.('(prefers-color-scheme: dark)');
    if (!mq) return undefined;
    const update = () => setLocal(effectiveTheme());
    mq.addEventListener('change', update);
    return () => mq.removeEventListener('change', update);
  }, []);
  const next: Theme = theme === 'dark' ? 'light' : 'dark';
  return (
    <button
      type="button"
      class="btn btn--ghost btn--icon"
      onClick={() => {
        setTheme(next);
        setLocal(next);
      }}
      aria-label={`Use ${next} theme`}
      title={`Use ${next} theme`}
      data-testid="theme-toggle"
    >
      <Icon name={theme === 'dark' ? 'sun' : 'moon'} />
    </button>
  );
}
