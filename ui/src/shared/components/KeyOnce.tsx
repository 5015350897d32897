/*
 * A secret shown exactly once (a new subscription key), with a copy button
 * and a warning.  It lives only in the parent's state and is gone when
 * dismissed or on navigation.
 */
import { useEffect, useRef } from 'preact/hooks';
import { Icon } from './Icon';
import { CopyButton } from './CopyButton';

export function KeyOnce({ label, value, onDone }: { label: string; value: string; onDone: () => void }) {
  const ref = useRef<HTMLDivElement>(null);
  useEffect(() => {
    ref.current?.focus();
  }, []);
  return (
    <div class="new-key" role="region" aria-label={label} tabIndex={-1} ref={ref} data-testid="key-once">
      <p class="new-key__warn">
        <Icon name="alert" />
        <strong>Copy this key now.</strong> It is shown only once; Portico keeps only a hash of it.
      </p>
      <p class="small">{label}</p>
      <div class="new-key__value">
        <code class="mono break" data-testid="key-once-value">
          {value}
        </code>
        <CopyButton text={value} label="Copy key" testId="key-once-copy" />
      </div>
      <button type="button" class="btn btn--small" onClick={onDone} data-testid="key-once-done">
        I have copied it
      </button>
    </div>
  );
}
