/*
 * The one typed client for the Portico HTTP API.  Every request the UI makes
 * goes through here (lint forbids fetch elsewhere), so the rules live in one
 * place:
 *   - cookies only (credentials 'same-origin'); no credential is ever stored
 *     in the browser — the API key posted to /auth/apikey lives only in the
 *     request body;
 *   - unsafe methods carry X-CSRF-Token, the token /v1/whoami (or the sign-in
 *     response) returned for this session;
 *   - error bodies {"error":{"code","message"}} become an ApiError carrying
 *     the HTTP status; network failures become ApiError status 0;
 *   - a 401 on an ordinary call means the session ended: listeners registered
 *     with onSessionExpired() are told, so the app can show the sign-in screen.
 * The fetch implementation is injected (createApiClient({fetch})) so tests can
 * drive the client with a fake.
 */
import type {
  ApiDetail,
  ApiInput,
  ApiKey,
  ApiKeyInput,
  ApiSummary,
  Application,
  ApplicationInput,
  AuditEvent,
  AuthConfig,
  CreatedApiKey,
  Deployment,
  DeploymentDetail,
  DeploymentPage,
  FleetHistory,
  GatewayDetail,
  GatewayHistory,
  GatewayPage,
  LogoutResult,
  Page,
  PortalPage,
  SubscriptionPage,
  SubscriptionWithKey,
  Whoami,
} from './types';

export class ApiError extends Error {
  readonly status: number;
  readonly code: string;

  constructor(status: number, code: string, message: string) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
  }
}

/* True for the rejection fetch gives when its AbortSignal fires. */
export function isAbortError(e: unknown): boolean {
  return typeof e === 'object' && e !== null && (e as { name?: unknown }).name === 'AbortError';
}

export type FetchLike = (input: string, init?: RequestInit) => Promise<Response>;

export type QueryValue = string | number | boolean | readonly string[] | null | undefined;
export type Query = Record<string, QueryValue>;

/* "?a=1&tag=x&tag=y", skipping empty values; "" when nothing is left. */
export function buildQuery(query?: Query): string {
  if (!query) return '';
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) {
    if (value === undefined || value === null || value === '') continue;
    if (Array.isArray(value)) {
      for (const v of value as readonly string[]) if (v !== '') params.append(key, v);
    } else {
      params.append(key, String(value));
    }
  }
  const s = params.toString();
  return s ? `?${s}` : '';
}

export interface RequestOptions {
  query?: Query;
  /* Sent as JSON. */
  json?: unknown;
  /* Sent as-is with the given content type (OpenAPI import). */
  raw?: { body: string; contentType: string };
  signal?: AbortSignal;
  /* Sent as If-None-Match (see gateways.list: a 304 resolves to { notModified: true }). */
  etag?: string | null;
  /* A 401 here is an answer, not a lost session (sign-in, whoami, logout). */
  quiet401?: boolean;
}

export type Conditional<T> = { notModified: true } | { notModified: false; data: T; etag: string | null };

export type ListParams = { page?: number; page_size?: number; signal?: AbortSignal };

export interface PortalListParams extends ListParams {
  q?: string;
  category?: string;
  tag?: readonly string[];
  sort?: 'name' | 'updated' | '';
}

export interface ApiListParams extends PortalListParams {
  status?: string;
}

export interface GatewayListParams extends ListParams {
  status?: string;
  environment?: string;
  type?: string;
  q?: string;
}

export interface DeploymentListParams extends ListParams {
  api_id?: string;
  gateway_id?: string;
  sync_status?: string;
}

export interface AuditListParams extends ListParams {
  kind?: string;
  principal?: string;
  method?: string;
  status?: string;
  path?: string;
  from?: string;
  to?: string;
}

export interface SubscriptionListParams extends ListParams {
  scope?: 'mine' | 'manage';
  status?: string;
  api_id?: string;
  application_id?: string;
}

export type SessionExpiredListener = (error: ApiError) => void;

const UNSAFE = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

function errorFromBody(status: number, statusText: string, body: unknown): ApiError {
  const err = (body as { error?: { code?: unknown; message?: unknown } } | null)?.error;
  if (err && typeof err === 'object') {
    const code = typeof err.code === 'string' ? err.code : `http_${status}`;
    const message = typeof err.message === 'string' && err.message ? err.message : defaultMessage(status, statusText);
    return new ApiError(status, code, message);
  }
  return new ApiError(status, `http_${status}`, defaultMessage(status, statusText));
}

function defaultMessage(status: number, statusText: string): string {
  switch (status) {
    case 401:
      return 'You are not signed in.';
    case 403:
      return 'You do not have permission to do this.';
    case 404:
      return 'Not found.';
    case 503:
      return 'The service is unavailable. Try again shortly.';
    default:
      return `Request failed (${status}${statusText ? ` ${statusText}` : ''}).`;
  }
}

function splitParams<P extends ListParams>(params: P | undefined): { query: Query; signal?: AbortSignal } {
  const { signal, ...rest } = params ?? ({} as P);
  return { query: rest as Query, signal };
}

export function createApiClient(options: { fetch?: FetchLike; baseUrl?: string } = {}) {
  const doFetch: FetchLike = options.fetch ?? ((input, init) => globalThis.fetch(input, init));
  const baseUrl = options.baseUrl ?? '';
  let csrf: string | null = null;
  const listeners = new Set<SessionExpiredListener>();

  async function send(method: string, path: string, opts: RequestOptions = {}): Promise<{ res: Response; body: unknown }> {
    const headers: Record<string, string> = { Accept: 'application/json' };
    let body: string | undefined;
    if (opts.raw) {
      headers['Content-Type'] = opts.raw.contentType;
      body = opts.raw.body;
    } else if (opts.json !== undefined) {
      headers['Content-Type'] = 'application/json';
      body = JSON.stringify(opts.json);
    }
    if (UNSAFE.has(method) && csrf) headers['X-CSRF-Token'] = csrf;
    if (opts.etag) headers['If-None-Match'] = opts.etag;

    let res: Response;
    try {
      res = await doFetch(baseUrl + path + buildQuery(opts.query), {
        method,
        headers,
        body,
        credentials: 'same-origin',
        signal: opts.signal,
      });
    } catch (e) {
      if (isAbortError(e)) throw e;
      throw new ApiError(0, 'network_error', 'Cannot reach the server. Check your connection and try again.');
    }

    if (res.status === 304 || res.status === 204) return { res, body: undefined };

    const text = await res.text();
    let parsed: unknown = undefined;
    if (text) {
      try {
        parsed = JSON.parse(text);
      } catch {
        if (res.ok) throw new ApiError(res.status, 'bad_response', 'The server sent a response the UI cannot read.');
      }
    }
    if (!res.ok) {
      const error = errorFromBody(res.status, res.statusText, parsed);
      if (res.status === 401 && !opts.quiet401) {
        for (const fn of [...listeners]) fn(error);
      }
      throw error;
    }
    return { res, body: parsed };
  }

  async function request<T>(method: string, path: string, opts: RequestOptions = {}): Promise<T> {
    const { body } = await send(method, path, opts);
    return body as T;
  }

  async function conditional<T>(path: string, opts: RequestOptions): Promise<Conditional<T>> {
    const { res, body } = await send('GET', path, opts);
    if (res.status === 304) return { notModified: true };
    return { notModified: false, data: body as T, etag: res.headers.get('ETag') };
  }

  const id = (v: string) => encodeURIComponent(v);

  return {
    request,

    setCsrfToken(token: string | null | undefined) {
      csrf = token || null;
    },
    get csrfToken(): string | null {
      return csrf;
    },

    /* Called with the error whenever an ordinary request gets a 401. */
    onSessionExpired(fn: SessionExpiredListener): () => void {
      listeners.add(fn);
      return () => listeners.delete(fn);
    },

    authConfig: () => request<AuthConfig>('GET', '/v1/auth/config', { quiet401: true }),

    async whoami(): Promise<Whoami> {
      const me = await request<Whoami>('GET', '/v1/whoami', { quiet401: true });
      csrf = me.csrf_token || null;
      return me;
    },

    /* The key travels in this one request body and is kept nowhere. */
    async signInWithKey(apiKey: string): Promise<Whoami> {
      const me = await request<Whoami>('POST', '/auth/apikey', { json: { api_key: apiKey }, quiet401: true });
      csrf = me.csrf_token || null;
      return me;
    },

    async logout(): Promise<LogoutResult> {
      try {
        return (await request<LogoutResult | undefined>('POST', '/auth/logout', { quiet401: true })) ?? {
          end_session_url: null,
        };
      } finally {
        csrf = null;
      }
    },

    portal: {
      list(params?: PortalListParams) {
        const { query, signal } = splitParams(params);
        return request<PortalPage>('GET', '/v1/portal/apis', { query, signal });
      },
      get(apiId: string, signal?: AbortSignal) {
        return request<ApiDetail>('GET', `/v1/portal/apis/${id(apiId)}`, { signal });
      },
    },

    apis: {
      list(params?: ApiListParams) {
        const { query, signal } = splitParams(params);
        return request<Page<ApiSummary>>('GET', '/v1/apis', { query, signal });
      },
      get: (apiId: string, signal?: AbortSignal) => request<ApiDetail>('GET', `/v1/apis/${id(apiId)}`, { signal }),
      create: (input: ApiInput) => request<ApiDetail>('POST', '/v1/apis', { json: input }),
      update: (apiId: string, input: ApiInput) => request<ApiDetail>('PUT', `/v1/apis/${id(apiId)}`, { json: input }),
      remove: (apiId: string) => request<void>('DELETE', `/v1/apis/${id(apiId)}`),
      /* body is OpenAPI JSON or YAML text. */
      import: (body: string, format: 'json' | 'yaml') =>
        request<ApiDetail>('POST', '/v1/apis/import', {
          raw: { body, contentType: format === 'json' ? 'application/json' : 'application/yaml' },
        }),
    },

    gateways: {
      /* Conditional GET: pass the last ETag to get { notModified: true } on 304. */
      list(params?: GatewayListParams, etag?: string | null) {
        const { query, signal } = splitParams(params);
        return conditional<GatewayPage>('/v1/gateways', { query, signal, etag });
      },
      get: (gatewayId: string, signal?: AbortSignal) =>
        request<GatewayDetail>('GET', `/v1/gateways/${id(gatewayId)}`, { signal }),
      setMaintenance: (gatewayId: string, enabled: boolean) =>
        request<unknown>('POST', `/v1/gateways/${id(gatewayId)}/maintenance`, { json: { enabled } }),
      remove: (gatewayId: string) => request<void>('DELETE', `/v1/gateways/${id(gatewayId)}`),
      eventsUrl: `${baseUrl}/v1/gateways/events`,
      /* Gateway history (issue 19): one gateway's points, and the fleet's 24 h strips. */
      history: (gatewayId: string, q: { from: string; to?: string; step: number }, signal?: AbortSignal) =>
        request<GatewayHistory>('GET', `/v1/gateways/${id(gatewayId)}/history`, { query: q, signal }),
      fleetHistory: (ids: readonly string[], signal?: AbortSignal) =>
        request<FleetHistory>('GET', '/v1/gateways/history', { query: { ids: ids.join(',') || null }, signal }),
    },

    deployments: {
      list(params?: DeploymentListParams) {
        const { query, signal } = splitParams(params);
        return request<DeploymentPage>('GET', '/v1/deployments', { query, signal });
      },
      get: (deploymentId: string, signal?: AbortSignal) =>
        request<DeploymentDetail>('GET', `/v1/deployments/${id(deploymentId)}`, { signal }),
      create: (apiId: string, gatewayId: string) =>
        request<Deployment>('POST', '/v1/deployments', { json: { api_id: apiId, gateway_id: gatewayId } }),
      sync: (deploymentId: string) => request<Deployment>('POST', `/v1/deployments/${id(deploymentId)}/sync`),
    },

    apikeys: {
      list(params?: ListParams) {
        const { query, signal } = splitParams(params);
        return request<Page<ApiKey>>('GET', '/v1/apikeys', { query, signal });
      },
      create: (input: ApiKeyInput) => request<CreatedApiKey>('POST', '/v1/apikeys', { json: input }),
      revoke: (keyId: string) => request<void>('DELETE', `/v1/apikeys/${id(keyId)}`),
    },

    applications: {
      list(params?: ListParams) {
        const { query, signal } = splitParams(params);
        return request<Page<Application>>('GET', '/v1/applications', { query, signal });
      },
      create: (input: ApplicationInput) => request<Application>('POST', '/v1/applications', { json: input }),
      update: (appId: string, input: ApplicationInput) =>
        request<Application>('PATCH', `/v1/applications/${id(appId)}`, { json: input }),
      remove: (appId: string) => request<void>('DELETE', `/v1/applications/${id(appId)}`),
    },

    subscriptions: {
      list(params?: SubscriptionListParams) {
        const { query, signal } = splitParams(params);
        return request<SubscriptionPage>('GET', '/v1/subscriptions', { query, signal });
      },
      create: (input: { application_id: string; api_id: string; plan?: string }) =>
        request<SubscriptionWithKey>('POST', '/v1/subscriptions', { json: input }),
      cancel: (subId: string) => request<void>('DELETE', `/v1/subscriptions/${id(subId)}`),
      approve: (subId: string) => request<SubscriptionWithKey>('POST', `/v1/subscriptions/${id(subId)}/approve`),
      reject: (subId: string, reason: string) =>
        request<SubscriptionWithKey>('POST', `/v1/subscriptions/${id(subId)}/reject`, { json: { reason } }),
      revoke: (subId: string, reason?: string) =>
        request<SubscriptionWithKey>('POST', `/v1/subscriptions/${id(subId)}/revoke`, reason ? { json: { reason } } : {}),
      regenerateKey: (subId: string) =>
        request<SubscriptionWithKey>('POST', `/v1/subscriptions/${id(subId)}/regenerate-key`),
    },

    audit: {
      list(params?: AuditListParams) {
        const { query, signal } = splitParams(params);
        return request<Page<AuditEvent>>('GET', '/v1/audit', { query, signal });
      },
    },
  };
}

export type ApiClient = ReturnType<typeof createApiClient>;

/* The client the app uses: same origin, the browser's fetch. */
export const api: ApiClient = createApiClient();
