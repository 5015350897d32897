/*
 * Who is signed in, for both entries.  <AuthGate> asks /v1/whoami once; on
 * 401 it shows the sign-in screen, otherwise it renders the app with the
 * principal in SessionContext.  Any later 401 from the API client means the
 * session is gone: the gate swaps the app for the sign-in screen with "Your
 * session has expired" and — because the URL is left untouched — signing in
 * again re-renders the same page.  Nothing about the session is stored in
 * the browser; the HttpOnly cookie is the session.
 */
import { createContext, type ComponentChildren } from 'preact';
import { useCallback, useContext, useEffect, useRef, useState } from 'preact/hooks';
import { api, ApiError } from './api';
import type { Whoami } from './types';
import { SignIn } from './components/SignIn';
import { ErrorState, Loading } from './components/States';

export interface Session {
  me: Whoami;
  oidc: boolean;
  anonymous: boolean;
  signOut: () => Promise<void>;
  /* For anonymous visitors: show the sign-in screen. */
  requestSignIn: () => void;
}

export const SessionContext = createContext<Session | null>(null);

export function useSession(): Session {
  const s = useContext(SessionContext);
  if (!s) throw new Error('useSession outside <AuthGate>');
  return s;
}

type State =
  | { kind: 'loading' }
  | { kind: 'error'; error: unknown }
  | { kind: 'in'; me: Whoami }
  /* `anon` is set when anonymous browsing is available to fall back to. */
  | { kind: 'out'; message?: string; anon?: Whoami };

export const EXPIRED_MESSAGE = 'Your session has expired. Sign in again to continue.';

export function AuthGate({ product, children }: { product: string; children: ComponentChildren }) {
  const [state, setState] = useState<State>({ kind: 'loading' });
  const [oidc, setOidc] = useState(false);
  const stateRef = useRef(state);
  stateRef.current = state;

  const load = useCallback(async () => {
    setState({ kind: 'loading' });
    api
      .authConfig()
      .then((c) => setOidc(c.oidc_enabled === true))
      .catch(() => setOidc(false));
    try {
      setState({ kind: 'in', me: await api.whoami() });
    } catch (e) {
      if (e instanceof ApiError && e.status === 401) setState({ kind: 'out' });
      else setState({ kind: 'error', error: e });
    }
  }, []);

  useEffect(() => {
    void load();
  }, [load]);

  useEffect(
    () =>
      api.onSessionExpired(() => {
        const s = stateRef.current;
        if (s.kind !== 'in') return;
        if (s.me.auth_type === 'anonymous') {
          setState({ kind: 'out', message: 'Sign in to see this page.', anon: s.me });
        } else {
          setState({ kind: 'out', message: EXPIRED_MESSAGE });
        }
      }),
    [],
  );

  const signOut = useCallback(async () => {
    let url: string | null = null;
    try {
      url = (await api.logout()).end_session_url;
    } catch {
      /* the session may already be gone; either way we are signed out here */
    }
    if (url && /^https?:\/\//i.test(url)) {
      location.assign(url);
      return;
    }
    let anon: Whoami | undefined;
    try {
      const me = await api.whoami();
      if (me.auth_type === 'anonymous') anon = me;
    } catch {
      /* 401: anonymous access is off */
    }
    setState({ kind: 'out', message: 'You have signed out.', anon });
  }, []);

  if (state.kind === 'loading') {
    return (
      <div class="boot">
        <Loading label="Checking your session…" />
      </div>
    );
  }
  if (state.kind === 'error') {
    return (
      <main id="main" class="boot">
        <ErrorState error={state.error} title="Portico is not reachable" onRetry={() => void load()} />
      </main>
    );
  }
  if (state.kind === 'out') {
    const anon = state.anon;
    return (
      <SignIn
        product={product}
        oidc={oidc}
        message={state.message}
        onSignedIn={(me) => setState({ kind: 'in', me })}
        onCancel={anon ? () => setState({ kind: 'in', me: anon }) : undefined}
      />
    );
  }
  const me = state.me;
  const session: Session = {
    me,
    oidc,
    anonymous: me.auth_type === 'anonymous',
    signOut,
    requestSignIn: () => setState({ kind: 'out', anon: me }),
  };
  return <SessionContext.Provider value={session}>{children}</SessionContext.Provider>;
}
