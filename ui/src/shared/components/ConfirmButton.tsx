/*
 * A destructive action in two steps, inline: the button turns into a
 * question with Confirm and Cancel (no window.confirm, which blocks and
 * cannot be styled or tested easily).
 */
import { useEffect, useRef, useState } from 'preact/hooks';

export function ConfirmButton({
  label,
  confirmLabel = 'Confirm',
  question,
  onConfirm,
  disabled,
  testId,
  small = true,
}: {
  label: string;
  confirmLabel?: string;
  question: string;
  onConfirm: () => void | Promise<void>;
  disabled?: boolean;
  testId?: string;
  small?: boolean;
}) {
  const [asking, setAsking] = useState(false);
  const cancelRef = useRef<HTMLButtonElement>(null);
  useEffect(() => {
    if (asking) cancelRef.current?.focus();
  }, [asking]);
  const size = small ? ' btn--small' : '';
  if (!asking) {
    return (
      <button type="button" class={`btn btn--danger${size}`} disabled={disabled} onClick={() => setAsking(true)} data-testid={testId}>
        {label}
      </button>
    );
  }
  return (
    <span class="confirm" role="group" aria-label={question}>
      <span class="confirm__q">{question}</span>
      <button
        type="button"
        class={`btn btn--danger${size}`}
        disabled={disabled}
        onClick={async () => {
          await onConfirm();
          setAsking(false);
        }}
        data-testid={testId ? `${testId}-confirm` : undefined}
      >
        {confirmLabel}
      </button>
      <button type="button" ref={cancelRef} class={`btn btn--ghost${size}`} onClick={() => setAsking(false)}>
        Cancel
      </button>
    </span>
  );
}
