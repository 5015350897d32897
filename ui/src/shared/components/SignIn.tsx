/*
 * The sign-in screen of both entries: "Sign in with SSO" when the server has
 * OIDC configured, and "Paste an API key".  The key goes from the input to
 * the one POST /auth/apikey and nowhere else: the input is uncontrolled and
 * emptied as soon as the form is submitted, nothing is written to storage.
 */
import { useEffect, useId, useRef, useState } from 'preact/hooks';
import { api, ApiError } from '../api';
import type { Whoami } from '../types';
import { Icon } from './Icon';
import { ThemeToggle } from './ThemeToggle';

export function SignIn({
  product,
  oidc,
  message,
  onSignedIn,
  onCancel,
}: {
  product: string;
  oidc: boolean;
  message?: string;
  onSignedIn: (me: Whoami) => void;
  onCancel?: () => void;
}) {
  const inputId = useId();
  const hintId = useId();
  const input = useRef<HTMLInputElement>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const returnTo = location.pathname + location.search;

  useEffect(() => {
    document.title = `Sign in · Portico ${product}`;
    input.current?.focus();
  }, [product]);

  async function submit(e: Event) {
    e.preventDefault();
    const el = input.current;
    if (!el) return;
    const key = el.value.trim();
    el.value = '';
    if (!key) {
      setError('Paste an API key to sign in.');
      el.focus();
      return;
    }
    setBusy(true);
    setError(null);
    try {
      const me = await api.signInWithKey(key);
      onSignedIn(me);
    } catch (err) {
      setError(
        err instanceof ApiError && err.status === 401
          ? err.message || 'That API key was not accepted.'
          : err instanceof ApiError
            ? err.message
            : 'Sign-in failed.',
      );
      setBusy(false);
      el.focus();
    }
  }

  return (
    <div class="signin-page">
      <div class="signin-page__theme">
        <ThemeToggle />
      </div>
      <main id="main" class="signin">
        <div class="signin__card">
          <div class="signin__brand">
            <span class="brand__mark" aria-hidden="true" />
            <span>Portico {product}</span>
          </div>
          <h1 class="signin__title">Sign in</h1>
          {message && (
            <p class="notice" role="status" data-testid="signin-message">
              <Icon name="clock" />
              <span>{message}</span>
            </p>
          )}
          {oidc && (
            <>
              <a
                class="btn btn--primary btn--block"
                href={`/auth/login?return_to=${encodeURIComponent(returnTo)}`}
                data-testid="sso-button"
              >
                <Icon name="lock" />
                Sign in with SSO
              </a>
              <p class="signin__or">
                <span>or</span>
              </p>
            </>
          )}
          <form class="signin__form" onSubmit={submit} data-testid="signin-form" noValidate>
            <label for={inputId}>Paste an API key</label>
            <input
              ref={input}
              id={inputId}
              class="input"
              type="password"
              name="api_key"
              autocomplete="off"
              autocapitalize="off"
              spellcheck={false}
              aria-describedby={hintId}
              aria-invalid={error ? true : undefined}
              data-testid="apikey-input"
            />
            <p id={hintId} class="hint">
              The key is sent once to start a session and is not kept in this browser.
            </p>
            {error && (
              <p class="inline-error" role="alert" data-testid="signin-error">
                <Icon name="alert" />
                <span>{error}</span>
              </p>
            )}
            <button type="submit" class={`btn ${oidc ? '' : 'btn--primary '}btn--block`} disabled={busy}>
              <Icon name="key" />
              {busy ? 'Signing in…' : 'Sign in with API key'}
            </button>
          </form>
          {onCancel && (
            <button type="button" class="btn btn--ghost btn--block signin__cancel" onClick={onCancel}>
              Continue without signing in
            </button>
          )}
        </div>
      </main>
    </div>
  );
}
