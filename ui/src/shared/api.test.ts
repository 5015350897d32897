import { describe, expect, it, vi } from 'vitest';
import { ApiError, buildQuery, createApiClient, type FetchLike } from './api';

interface Call {
  url: string;
  init: RequestInit;
  headers: Record<string, string>;
}

/* A fake fetch answering from a queue and recording what it was asked. */
function fakeFetch(...responses: Array<Response | (() => Response) | Error>) {
  const calls: Call[] = [];
  const fn: FetchLike = async (url, init = {}) => {
    calls.push({ url, init, headers: { ...(init.headers as Record<string, string>) } });
    const next = responses.shift();
    if (next === undefined) throw new Error(`unexpected request ${url}`);
    if (next instanceof Error) throw next;
    return typeof next === 'function' ? next() : next;
  };
  return { fn, calls };
}

const json = (status: number, body: unknown, headers: Record<string, string> = {}) =>
  new Response(JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json', ...headers } });

const whoami = {
  subject: 'apikey:demo',
  name: 'demo',
  email: null,
  auth_type: 'session',
  role: 'cpi-admin',
  tenant_id: 'default',
  scopes: ['stoa:admin'],
  csrf_token: 'csrf-123',
};

describe('buildQuery', () => {
  it('repeats arrays and skips empty values', () => {
    expect(buildQuery({ q: 'a b', tag: ['x', 'y'], category: '', page: 2, x: undefined, y: null })).toBe(
      '?q=a+b&tag=x&tag=y&page=2',
    );
    expect(buildQuery({})).toBe('');
    expect(buildQuery({ q: '100%' })).toBe('?q=100%25');
  });
});

describe('api client', () => {
  it('sends same-origin credentials and parses JSON', async () => {
    const f = fakeFetch(json(200, { items: [], total: 0, page: 1, page_size: 20, facets: { categories: {}, tags: {} } }));
    const api = createApiClient({ fetch: f.fn });
    const page = await api.portal.list({ q: 'user_profile', tag: ['a', 'b'], page: 1 });
    expect(page.total).toBe(0);
    expect(f.calls[0]!.url).toBe('/v1/portal/apis?q=user_profile&tag=a&tag=b&page=1');
    expect(f.calls[0]!.init.credentials).toBe('same-origin');
    expect(f.calls[0]!.init.method).toBe('GET');
    expect(f.calls[0]!.headers['X-CSRF-Token']).toBeUndefined();
  });

  it('sends the CSRF token from whoami on unsafe methods only', async () => {
    const f = fakeFetch(
      json(200, whoami),
      json(200, { items: [], total: 0, page: 1, page_size: 20 }),
      json(201, { id: 'k1', key: 'pk_secret' }),
      new Response(null, { status: 204 }),
    );
    const api = createApiClient({ fetch: f.fn });
    await api.whoami();
    expect(api.csrfToken).toBe('csrf-123');
    await api.apikeys.list();
    const created = await api.apikeys.create({ name: 'ci', role: 'viewer' });
    expect(created.key).toBe('pk_secret');
    await expect(api.apikeys.revoke('k1')).resolves.toBeUndefined();

    expect(f.calls[1]!.headers['X-CSRF-Token']).toBeUndefined();
    expect(f.calls[2]!.headers['X-CSRF-Token']).toBe('csrf-123');
    expect(f.calls[2]!.headers['Content-Type']).toBe('application/json');
    expect(JSON.parse(String(f.calls[2]!.init.body))).toEqual({ name: 'ci', role: 'viewer' });
    expect(f.calls[3]!.init.method).toBe('DELETE');
    expect(f.calls[3]!.url).toBe('/v1/apikeys/k1');
    expect(f.calls[3]!.headers['X-CSRF-Token']).toBe('csrf-123');
  });

  it('turns the error shape into a typed ApiError with the status', async () => {
    const f = fakeFetch(json(403, { error: { code: 'forbidden', message: 'role viewer may not do this' } }));
    const api = createApiClient({ fetch: f.fn });
    const err = await api.apis.create({
      name: 'x', version: '1', description: '', category: '', tags: [], status: 'draft',
      portal_visible: true, audience: 'public',
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect((err as ApiError).status).toBe(403);
    expect((err as ApiError).code).toBe('forbidden');
    expect((err as ApiError).message).toBe('role viewer may not do this');
  });

  it('copes with error bodies that are not JSON', async () => {
    const f = fakeFetch(new Response('<html>bad gateway</html>', { status: 502, statusText: 'Bad Gateway' }));
    const api = createApiClient({ fetch: f.fn });
    const err = (await api.gateways.get('g1').catch((e: unknown) => e)) as ApiError;
    expect(err).toBeInstanceOf(ApiError);
    expect(err.status).toBe(502);
    expect(err.code).toBe('http_502');
    expect(err.message).toContain('502');
  });

  it('reports network failures as status 0', async () => {
    const f = fakeFetch(new TypeError('Failed to fetch'));
    const api = createApiClient({ fetch: f.fn });
    const err = (await api.audit.list().catch((e: unknown) => e)) as ApiError;
    expect(err).toBeInstanceOf(ApiError);
    expect(err.status).toBe(0);
    expect(err.code).toBe('network_error');
  });

  it('lets aborts through untouched', async () => {
    const abort = new DOMException('aborted', 'AbortError');
    const f = fakeFetch(abort);
    const api = createApiClient({ fetch: f.fn });
    await expect(api.portal.get('x')).rejects.toBe(abort);
  });

  it('emits session-expired on a 401 from an ordinary call, not from sign-in', async () => {
    const f = fakeFetch(
      json(401, { error: { code: 'unauthorized', message: 'invalid API key' } }),
      json(401, { error: { code: 'unauthorized', message: 'not signed in' } }),
      json(401, { error: { code: 'unauthorized', message: 'session expired' } }),
    );
    const api = createApiClient({ fetch: f.fn });
    const seen = vi.fn();
    const off = api.onSessionExpired(seen);

    const bad = (await api.signInWithKey('wrong-key').catch((e: unknown) => e)) as ApiError;
    expect(bad.status).toBe(401);
    expect(bad.message).toBe('invalid API key');
    await expect(api.whoami()).rejects.toBeInstanceOf(ApiError);
    expect(seen).not.toHaveBeenCalled();

    await expect(api.gateways.get('g1')).rejects.toMatchObject({ status: 401 });
    expect(seen).toHaveBeenCalledTimes(1);
    expect((seen.mock.calls[0]![0] as ApiError).message).toBe('session expired');
    off();
  });

  it('posts the API key once and keeps only the CSRF token', async () => {
    const f = fakeFetch(json(200, whoami));
    const api = createApiClient({ fetch: f.fn });
    const me = await api.signInWithKey('pk_abcdefgh_0123456789');
    expect(me.role).toBe('cpi-admin');
    expect(f.calls[0]!.url).toBe('/auth/apikey');
    expect(f.calls[0]!.init.method).toBe('POST');
    expect(JSON.parse(String(f.calls[0]!.init.body))).toEqual({ api_key: 'pk_abcdefgh_0123456789' });
    expect(api.csrfToken).toBe('csrf-123');
    expect(JSON.stringify(api)).not.toContain('pk_abcdefgh');
  });

  it('logs out with the CSRF token and forgets it', async () => {
    const f = fakeFetch(json(200, whoami), json(200, { end_session_url: 'https://idp/logout' }));
    const api = createApiClient({ fetch: f.fn });
    await api.whoami();
    const out = await api.logout();
    expect(out.end_session_url).toBe('https://idp/logout');
    expect(f.calls[1]!.url).toBe('/auth/logout');
    expect(f.calls[1]!.headers['X-CSRF-Token']).toBe('csrf-123');
    expect(api.csrfToken).toBeNull();
  });

  it('uses If-None-Match and reports 304 as not modified', async () => {
    const f = fakeFetch(
      json(200, { items: [], total: 0, page: 1, page_size: 20, now: '2026-11-22T08:00:00Z' }, { ETag: '"v1"' }),
      new Response(null, { status: 304 }),
    );
    const api = createApiClient({ fetch: f.fn });
    const first = await api.gateways.list({ status: 'online' });
    expect(first.notModified).toBe(false);
    if (first.notModified) throw new Error('unreachable');
    expect(first.etag).toBe('"v1"');
    expect(first.data.now).toBe('2026-11-22T08:00:00Z');
    expect(f.calls[0]!.url).toBe('/v1/gateways?status=online');
    expect(f.calls[0]!.headers['If-None-Match']).toBeUndefined();

    const second = await api.gateways.list({ status: 'online' }, first.etag);
    expect(second.notModified).toBe(true);
    expect(f.calls[1]!.headers['If-None-Match']).toBe('"v1"');
  });

  it('sends OpenAPI imports with the right content type', async () => {
    const f = fakeFetch(json(201, { id: 'a1' }), json(201, { id: 'a2' }));
    const api = createApiClient({ fetch: f.fn });
    await api.apis.import('{"openapi":"3.0.0"}', 'json');
    await api.apis.import('openapi: 3.0.0\n', 'yaml');
    expect(f.calls[0]!.headers['Content-Type']).toBe('application/json');
    expect(f.calls[0]!.init.body).toBe('{"openapi":"3.0.0"}');
    expect(f.calls[1]!.headers['Content-Type']).toBe('application/yaml');
    expect(f.calls[1]!.init.body).toBe('openapi: 3.0.0\n');
  });

  it('escapes ids in paths', async () => {
    const f = fakeFetch(json(200, {}));
    const api = createApiClient({ fetch: f.fn });
    await api.portal.get('../admin?x=1');
    expect(f.calls[0]!.url).toBe('/v1/portal/apis/..%2Fadmin%3Fx%3D1');
  });

  it('rejects a 2xx body that is not JSON', async () => {
    const f = fakeFetch(new Response('<html>', { status: 200 }));
    const api = createApiClient({ fetch: f.fn });
    await expect(api.authConfig()).rejects.toMatchObject({ code: 'bad_response' });
  });
});
