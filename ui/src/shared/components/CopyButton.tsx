/*
 * Copies text to the clipboard and says so ("Copied") in a polite live
 * region.  Falls back to a hidden textarea where the async clipboard API is
 * missing (plain-HTTP origins other than localhost).
 */
import { useEffect, useState } from 'preact/hooks';
import { Icon } from './Icon';

export async function copyText(text: string): Promise<boolean> {
  try {
    if (navigator.clipboard?.writeText) {
      await navigator.clipboard.writeText(text);
      return true;
    }
  } catch {
    /* fall through to the legacy path */
  }
  const ta = document.createElement('textarea');
  ta.value = text;
  ta.setAttribute('readonly', '');
  ta.className = 'offscreen';
  document.body.appendChild(ta);
  ta.select();
  let ok: boolean;
  try {
    ok = document.execCommand('copy');
  } catch {
    ok = false;
  }
  ta.remove();
  return ok;
}

export function CopyButton({
  text,
  label = 'Copy',
  class: cls,
  testId,
}: {
  text: string;
  label?: string;
  class?: string;
  testId?: string;
}) {
  const [state, setState] = useState<'idle' | 'copied' | 'failed'>('idle');
  useEffect(() => {
    if (state === 'idle') return undefined;
    const t = setTimeout(() => setState('idle'), 2000);
    return () => clearTimeout(t);
  }, [state]);
  return (
    <span class="copy">
      <button
        type="button"
        class={`btn btn--small${cls ? ` ${cls}` : ''}`}
        onClick={async () => setState((await copyText(text)) ? 'copied' : 'failed')}
        data-testid={testId}
      >
        <Icon name={state === 'copied' ? 'check' : 'copy'} />
        {label}
      </button>
      <span class="copy__status" role="status" aria-live="polite">
        {state === 'copied' ? 'Copied' : state === 'failed' ? 'Copy failed — select and copy by hand' : ''}
      </span>
    </span>
  );
}
