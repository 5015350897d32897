#!/usr/bin/env node
/*
 * A stand-in for the Portico server, for working on the UI alone:
 * `npm run build && npm run mock` then open http://127.0.0.1:5180/portal/.
 *
 * It serves ui/dist the way the real server does (deep-link fallback, the
 * same strict Content-Security-Policy, so CSP mistakes show up here) and
 * fakes the /v1 and /auth endpoints the UI uses, in memory: sessions by
 * cookie with a CSRF token, the catalog with search and facets, gateways
 * that heartbeat (with ETag and an SSE stream), deployments, keys, audit.
 * It is a development aid only; the contract is DESIGN.md, and the browser
 * tests run against the real binary.
 *
 * Env: PORT (5180), MOCK_OIDC=1 (advertise SSO), MOCK_ANON=1 (anonymous
 * viewer access), MOCK_SSE=0 (event stream answers 503, to see polling).
 * Demo key: demo-admin-key-0123456789 (cpi-admin); viewer-key-0123456789.
 * POST /mock/expire drops every session; POST /mock/silence/<name> stops a
 * gateway's heartbeats.
 */
import http from 'node:http';
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import { extname, join, normalize } from 'node:path';

const PORT = Number(process.env.PORT || 5180);
const DIST = join(import.meta.dirname, '..', 'dist');
const OFFLINE_AFTER = 20; // seconds, shorter than the real default to see changes quickly
const CSP =
  "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; " +
  "font-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

const KEYS = {
  'demo-admin-key-0123456789': { name: 'demo', role: 'cpi-admin', tenant: 'default' },
  'viewer-key-0123456789': { name: 'viewer', role: 'viewer', tenant: 'default' },
  'devops-key-0123456789': { name: 'ops', role: 'devops', tenant: 'default' },
};
const sessions = new Map(); // token -> { who, csrf }

const now = () => new Date().toISOString();
const ago = (s) => new Date(Date.now() - s * 1000).toISOString();

/* ---------- data ---------- */

const petstore = {
  openapi: '3.0.3',
  info: { title: 'Users', version: '2.1.0' },
  servers: [{ url: 'https://api.example.com/users/v2' }],
  tags: [{ name: 'users' }, { name: 'profiles' }],
  components: {
    securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } },
    parameters: { UserId: { name: 'id', in: 'path', required: true, schema: { type: 'string', format: 'uuid' }, description: 'User id' } },
    schemas: {
      User: { type: 'object', properties: { id: { type: 'string', format: 'uuid' }, email: { type: 'string', example: 'ada@example.com' }, name: { type: 'string' } } },
    },
  },
  security: [{ bearer: [] }],
  paths: {
    '/users': {
      get: {
        tags: ['users'],
        operationId: 'listUsers',
        summary: 'List users',
        parameters: [
          { name: 'limit', in: 'query', schema: { type: 'integer', format: 'int32', default: 20 }, description: 'Page size' },
          { name: 'q', in: 'query', schema: { type: 'string' }, description: 'Search text' },
        ],
        responses: { 200: { description: 'A page of users', content: { 'application/json': {} } }, 401: { description: 'Not signed in' } },
      },
      post: {
        tags: ['users'],
        operationId: 'createUser',
        summary: 'Create a user',
        requestBody: { required: true, content: { 'application/json': { schema: { $ref: '#/components/schemas/User' } } } },
        responses: { 201: { description: 'Created' }, 400: { description: 'Invalid input' } },
      },
    },
    '/users/{id}': {
      parameters: [{ $ref: '#/components/parameters/UserId' }],
      get: { tags: ['users'], operationId: 'getUser', summary: 'Get a user', responses: { 200: { description: 'The user' }, 404: { description: 'No such user' } } },
      delete: { tags: ['users'], operationId: 'deleteUser', summary: 'Delete a user', responses: { 204: { description: 'Deleted' } } },
    },
    '/users/{id}/user_profile': {
      parameters: [{ $ref: '#/components/parameters/UserId' }],
      get: { tags: ['profiles'], operationId: 'getUserProfile', summary: 'Read the user_profile record', responses: { 200: { description: 'Profile' } } },
      put: {
        tags: ['profiles'],
        operationId: 'putUserProfile',
        summary: 'Replace the profile',
        parameters: [{ name: 'If-Match', in: 'header', required: true, schema: { type: 'string' } }],
        requestBody: { content: { 'application/json': { example: { bio: "It's me" } } } },
        responses: { 200: { description: 'Updated' }, 412: { description: 'Changed meanwhile' } },
      },
    },
  },
};

function opsOf(doc) {
  const out = [];
  if (!doc || typeof doc !== 'object' || !doc.paths) return out;
  for (const [p, item] of Object.entries(doc.paths)) {
    for (const m of ['get', 'put', 'post', 'delete', 'patch']) {
      if (item[m]) out.push({ method: m.toUpperCase(), path: p, operation_id: item[m].operationId ?? null, summary: item[m].summary ?? null });
    }
  }
  return out;
}

const apis = [];
function addApi(a) {
  const t = ago(Math.floor(Math.random() * 86400 * 30));
  const item = {
    id: randomUUID(),
    tenant_id: 'default',
    description: '',
    category: '',
    tags: [],
    status: 'published',
    portal_visible: true,
    audience: 'public',
    created_at: t,
    updated_at: t,
    openapi: null,
    ...a,
  };
  item.operations = opsOf(item.openapi);
  apis.push(item);
  return item;
}
addApi({ name: 'Users', version: '2.1.0', description: 'Accounts, sign-up and the user_profile record.', category: 'Identity', tags: ['users', 'gdpr'], openapi: petstore });
addApi({ name: 'Payments', version: '1.4.2', description: 'Charge cards, refund, and read settlements. 100% idempotent with Idempotency-Key.', category: 'Finance', tags: ['payments', 'pci'] });
addApi({ name: 'Invoices', version: '3.0.0', description: 'Create and send invoices; PDF rendering.', category: 'Finance', tags: ['billing'], openapi: 'openapi: 3.0.0\ninfo:\n  title: Invoices\n  version: 3.0.0\npaths: {}\n' });
addApi({ name: 'Shipping rates', version: '0.9.1', description: 'Quotes from carriers for a parcel.', category: 'Logistics', tags: ['shipping'], status: 'deprecated' });
addApi({ name: '<img src=x onerror=alert(1)>', version: '1.0', description: '<script>alert("xss")</script> should render as text', category: 'Security', tags: ['<b>tag</b>'] });
addApi({ name: 'Weather', version: '5.2.0', description: 'Forecasts and observations by location, hourly.', category: 'Data', tags: ['geo', 'public-data'] });
addApi({ name: 'Search', version: '1.0.0', description: 'Full-text search over documents.', category: 'Data', tags: ['search'], audience: 'internal' });
addApi({ name: 'Orders', version: '2.0.0', description: 'Orders and returns.', category: 'Commerce', tags: ['orders', 'billing'] });
addApi({ name: 'Catalog draft', version: '0.1.0', description: 'Not published yet.', category: 'Commerce', tags: ['draft'], status: 'draft' });
for (let i = 1; i <= 18; i++) addApi({ name: `Sample service ${String(i).padStart(2, '0')}`, version: `1.${i}.0`, description: `Generated sample API number ${i}.`, category: i % 2 ? 'Samples' : 'Data', tags: ['sample', i % 3 ? 'even' : 'odd'] });

const gateways = [];
const transitions = new Map(); // id -> [{from,to,reason,at}]
const silenced = new Set();
function register(hostname, mode, environment, caps, health) {
  const name = `${hostname}-${mode.replace(/[-_]/g, '')}-${environment}`.toLowerCase();
  const type = { 'edge-mcp': 'stoa_edge_mcp', sidecar: 'stoa_sidecar', proxy: 'stoa_proxy', shadow: 'stoa_shadow', connect: 'stoa' }[mode];
  let g = gateways.find((x) => x.name === name);
  if (!g) {
    g = { id: randomUUID(), name, hostname, type, mode, environment, version: '1.8.3', capabilities: caps, admin_url: `http://${hostname}:9090/admin`, tenant_id: 'default', maintenance: false, registered_at: now(), _status: null };
    gateways.push(g);
    transitions.set(g.id, []);
  }
  g.last_heartbeat_at = now();
  g.health = { uptime_seconds: 5400, routes_count: 42, policies_count: 7, requests_total: 10000, error_rate: 0.02, registered_at: g.registered_at, ...health };
  return g;
}
register('stoa-gw-abc123', 'edge-mcp', 'prod', ['mcp', 'rate-limit', 'oauth2'], {});
register('stoa-gw-def456', 'sidecar', 'prod', ['rate-limit'], { error_rate: 0.08, uptime_seconds: 183600, requests_total: 1234567 });
register('stoa-gw-ghi789', 'proxy', 'staging', ['cache'], { uptime_seconds: 45 });
register('stoa-gw-old001', 'shadow', 'dev', [], { uptime_seconds: 12 });
gateways[3].last_heartbeat_at = ago(600);
register('stoa-gw-mnt002', 'connect', 'dev', ['webmethods'], { error_rate: null, routes_count: null });
gateways[4].maintenance = true;

function statusOf(g) {
  const age = (Date.now() - Date.parse(g.last_heartbeat_at)) / 1000;
  if (g.maintenance) return ['maintenance', 'set by an administrator'];
  if (age > OFFLINE_AFTER) return ['offline', `no heartbeat for ${Math.floor(age)} s`];
  if ((g.health.error_rate ?? 0) > 0.05) return ['degraded', `error rate ${(g.health.error_rate * 100).toFixed(1)}% above 5.0%`];
  return ['online', 'heartbeating'];
}
function view(g) {
  const [status, reason] = statusOf(g);
  const age = (Date.now() - Date.parse(g.last_heartbeat_at)) / 1000;
  return {
    id: g.id, name: g.name, hostname: g.hostname, type: g.type, mode: g.mode, environment: g.environment, version: g.version,
    capabilities: g.capabilities, admin_url: g.admin_url, tenant_id: g.tenant_id, status, live: age <= OFFLINE_AFTER,
    last_heartbeat_at: g.last_heartbeat_at, registered_at: g.registered_at, health_details: g.health, status_reason: reason,
  };
}

const deployments = [];
for (const g of gateways.slice(0, 3)) {
  for (const a of apis.slice(0, 2)) {
    deployments.push({ id: randomUUID(), api_id: a.id, api_name: a.name, gateway_id: g.id, desired_state: 'deployed', sync_status: deployments.length % 3 === 2 ? 'error' : 'synced', sync_attempts: 1, last_error: deployments.length % 3 === 2 ? 'upstream returned 502' : null, created_at: ago(3600), updated_at: ago(120) });
  }
}

const apikeys = [
  { id: randomUUID(), name: 'ci-pipeline', prefix: 'pk_1a2b3c4d', role: 'devops', tenant_id: 'default', created_at: ago(86400 * 12), expires_at: null, last_used_at: ago(40), revoked: false },
  { id: randomUUID(), name: 'old-script', prefix: 'pk_9f8e7d6c', role: 'viewer', tenant_id: 'default', created_at: ago(86400 * 90), expires_at: ago(86400), last_used_at: null, revoked: false },
];
const audit = [];
function log(ev) {
  audit.unshift({ at: now(), request_id: randomBytes(8).toString('hex'), remote_addr: '127.0.0.1', ...ev });
  if (audit.length > 500) audit.pop();
}

/* ---------- events ---------- */

const streams = new Set();
function publish(type, data) {
  const line = `event: ${type}\ndata: ${JSON.stringify(data)}\n\n`;
  for (const res of streams) res.write(line);
}
setInterval(() => {
  for (const g of gateways) {
    if (silenced.has(g.id) || g.name.includes('old001')) continue;
    g.last_heartbeat_at = now();
    g.health.uptime_seconds = (g.health.uptime_seconds ?? 0) + 5;
    if (g.health.requests_total !== null) g.health.requests_total += Math.floor(Math.random() * 20);
    const v = view(g);
    publish('gateway.heartbeat', { id: g.id, last_heartbeat_at: v.last_heartbeat_at, health_details: v.health_details, status: v.status, live: v.live });
  }
}, 5000);
setInterval(() => {
  for (const g of gateways) {
    const [s, reason] = statusOf(g);
    if (g._status && g._status !== s) {
      const t = { from: g._status, to: s, reason, at: now() };
      transitions.get(g.id).unshift(t);
      publish('gateway.status', { id: g.id, ...t });
    }
    if (!g._status) transitions.get(g.id).unshift({ from: null, to: s, reason: 'registered', at: g.registered_at });
    g._status = s;
  }
}, 1000);
setInterval(() => {
  for (const res of streams) res.write(': keep-alive\n\n');
}, 15000);

/* ---------- http helpers ---------- */

function send(res, status, body, headers = {}) {
  const data = body === undefined ? '' : JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': 'application/json', 'Cache-Control': 'no-store', ...headers });
  res.end(data);
}
const fail = (res, status, code, message, headers) => send(res, status, { error: { code, message } }, headers);

function cookies(req) {
  const out = {};
  for (const part of (req.headers.cookie || '').split(';')) {
    const i = part.indexOf('=');
    if (i > 0) out[part.slice(0, i).trim()] = part.slice(i + 1).trim();
  }
  return out;
}

async function body(req) {
  const chunks = [];
  for await (const c of req) chunks.push(c);
  return Buffer.concat(chunks).toString('utf8');
}

function principal(req) {
  const tok = cookies(req).portico_session;
  const s = tok && sessions.get(tok);
  if (s) return { ...s.who, auth_type: 'session', csrf: s.csrf, token: tok };
  if (tok) return { bad: true };
  if (process.env.MOCK_ANON === '1') return { name: 'anonymous', role: 'viewer', tenant: 'default', auth_type: 'anonymous', subject: 'anonymous' };
  return null;
}

function page(items, q) {
  const pageN = Math.max(1, Number(q.get('page') || 1));
  const size = Math.min(100, Math.max(1, Number(q.get('page_size') || 20)));
  return { items: items.slice((pageN - 1) * size, pageN * size), total: items.length, page: pageN, page_size: size };
}

function matches(a, words) {
  const hay = [a.name, a.description, a.version, a.id, a.category, ...(a.tags || []), ...a.operations.flatMap((o) => [o.path, o.operation_id, o.summary])]
    .filter(Boolean)
    .map((s) => String(s).toLowerCase());
  return words.every((w) => hay.some((h) => h.includes(w)));
}

function searchApis(list, q) {
  const text = (q.get('q') || '').trim().toLowerCase();
  const words = text ? text.split(/\s+/) : [];
  let out = list.filter((a) => matches(a, words));
  const category = q.get('category');
  const tags = q.getAll('tag');
  const status = q.get('status');
  const facetBase = out;
  if (category) out = out.filter((a) => a.category === category);
  if (tags.length) out = out.filter((a) => tags.every((t) => a.tags.includes(t)));
  if (status) out = out.filter((a) => a.status === status);
  const rank = (a) => {
    const n = a.name.toLowerCase();
    return !text ? 0 : n === text ? 0 : n.startsWith(text) ? 1 : n.includes(text) ? 2 : 3;
  };
  out.sort((a, b) => (q.get('sort') === 'updated' ? b.updated_at.localeCompare(a.updated_at) : rank(a) - rank(b) || a.name.toLowerCase().localeCompare(b.name.toLowerCase())));
  const facets = { categories: {}, tags: {} };
  for (const a of facetBase.filter((a) => (!category || a.category === category) && (!tags.length || tags.every((t) => a.tags.includes(t))))) {
    if (a.category) facets.categories[a.category] = (facets.categories[a.category] || 0) + 1;
    for (const t of a.tags) facets.tags[t] = (facets.tags[t] || 0) + 1;
  }
  return { out, facets };
}

const publicApi = (a) => {
  const { openapi: _o, operations: _p, ...rest } = a;
  return rest;
};

/* ---------- API ---------- */

async function api(req, res, url) {
  const path = url.pathname;
  const q = url.searchParams;
  const m = req.method;
  const started = Date.now();
  const who = principal(req);
  const done = (status) => {
    if (path.startsWith('/v1/')) log({ kind: 'request', method: m, path, query: url.search.slice(1), status, duration_ms: Date.now() - started, principal: who && !who.bad ? (who.auth_type === 'anonymous' ? 'anonymous' : `apikey:${who.name}`) : null, auth_type: who?.auth_type ?? null, role: who?.role ?? null });
  };

  if (path === '/v1/auth/config') return send(res, 200, { oidc_enabled: process.env.MOCK_OIDC === '1' });

  if (path === '/auth/apikey' && m === 'POST') {
    let key;
    try {
      key = JSON.parse(await body(req)).api_key || '';
    } catch {
      return fail(res, 400, 'bad_request', 'body must be JSON');
    }
    const k = KEYS[key];
    if (!k) {
      log({ kind: 'auth', action: 'sign_in_failed', status: 401, principal: null });
      return fail(res, 401, 'invalid_credentials', 'That API key is not valid.', { 'WWW-Authenticate': 'Bearer realm="portico", error="invalid_token"' });
    }
    const tok = randomBytes(32).toString('hex');
    const csrf = randomBytes(16).toString('hex');
    sessions.set(tok, { who: { ...k, subject: `apikey:${k.name}` }, csrf });
    log({ kind: 'auth', action: 'sign_in', status: 200, principal: `apikey:${k.name}`, role: k.role });
    return send(res, 200, { subject: `apikey:${k.name}`, name: k.name, email: null, auth_type: 'session', role: k.role, tenant_id: k.tenant, scopes: [], csrf_token: csrf }, {
      'Set-Cookie': `portico_session=${tok}; HttpOnly; SameSite=Lax; Path=/`,
    });
  }
  if (path === '/auth/login') {
    res.writeHead(302, { Location: url.searchParams.get('return_to') || '/portal/' });
    return res.end();
  }

  if (!who || who.bad) {
    if (path === '/v1/whoami' || path.startsWith('/v1/') || path === '/auth/logout') {
      done(401);
      return fail(res, 401, who?.bad ? 'invalid_token' : 'unauthorized', who?.bad ? 'Your session is no longer valid.' : 'Sign in first.');
    }
  }
  if (m !== 'GET' && who.auth_type === 'session' && req.headers['x-csrf-token'] !== who.csrf) {
    done(403);
    return fail(res, 403, 'csrf', 'Missing or wrong X-CSRF-Token.');
  }
  if (path === '/auth/logout' && m === 'POST') {
    sessions.delete(who.token);
    log({ kind: 'auth', action: 'sign_out', status: 200, principal: who.subject });
    return send(res, 200, { end_session_url: null }, { 'Set-Cookie': 'portico_session=; Max-Age=0; Path=/' });
  }
  if (path === '/v1/whoami') {
    done(200);
    return send(res, 200, { subject: who.subject ?? `apikey:${who.name}`, name: who.name, email: null, auth_type: who.auth_type, role: who.role, tenant_id: who.tenant, scopes: [], csrf_token: who.csrf ?? null });
  }
  const admin = who.role === 'cpi-admin' || who.role === 'tenant-admin';
  const deny = () => {
    done(403);
    return fail(res, 403, 'forbidden', `Role ${who.role} may not do this.`);
  };

  let mm;
  if (path === '/v1/portal/apis') {
    const visible = apis.filter((a) => (a.status === 'published' || a.status === 'deprecated') && a.portal_visible && (who.auth_type !== 'anonymous' || a.audience === 'public'));
    const { out, facets } = searchApis(visible, q);
    done(200);
    return send(res, 200, { ...page(out.map(publicApi), q), facets });
  }
  if ((mm = /^\/v1\/portal\/apis\/([^/]+)$/.exec(path))) {
    const a = apis.find((x) => x.id === decodeURIComponent(mm[1]));
    if (!a) {
      done(404);
      return fail(res, 404, 'not_found', 'No such API.');
    }
    done(200);
    return send(res, 200, a);
  }
  if (path === '/v1/apis' && m === 'GET') {
    if (who.role === 'viewer') return deny();
    done(200);
    return send(res, 200, page(searchApis(apis, q).out.map(publicApi), q));
  }
  if (path === '/v1/apis' && m === 'POST') {
    if (!admin) return deny();
    const input = JSON.parse(await body(req));
    if (!input.name) return fail(res, 400, 'invalid_field', 'name is required');
    const a = addApi({ ...input, tags: input.tags ?? [] });
    done(201);
    return send(res, 201, a);
  }
  if (path === '/v1/apis/import' && m === 'POST') {
    if (!admin) return deny();
    const text = await body(req);
    let doc;
    try {
      doc = req.headers['content-type']?.includes('json') ? JSON.parse(text) : null;
    } catch {
      return fail(res, 400, 'invalid_openapi', 'The document is not valid JSON.');
    }
    const title = doc?.info?.title ?? /title:\s*(.+)/.exec(text)?.[1]?.trim();
    const version = doc?.info?.version ?? /version:\s*(.+)/.exec(text)?.[1]?.trim();
    if (!title || !version) return fail(res, 400, 'invalid_openapi', 'info.title and info.version are required.');
    const a = addApi({ name: title, version, status: 'draft', openapi: doc ?? text });
    done(201);
    return send(res, 201, a);
  }
  if ((mm = /^\/v1\/apis\/([^/]+)$/.exec(path))) {
    const i = apis.findIndex((x) => x.id === decodeURIComponent(mm[1]));
    if (i < 0) return fail(res, 404, 'not_found', 'No such API.');
    if (m === 'GET') return send(res, 200, apis[i]);
    if (m === 'PUT') {
      if (who.role === 'viewer') return deny();
      const input = JSON.parse(await body(req));
      apis[i] = { ...apis[i], ...input, updated_at: now() };
      apis[i].operations = opsOf(apis[i].openapi);
      done(200);
      return send(res, 200, apis[i]);
    }
    if (m === 'DELETE') {
      if (!admin) return deny();
      apis.splice(i, 1);
      done(204);
      return send(res, 204);
    }
  }
  if (path === '/v1/gateways/events') {
    if (process.env.MOCK_SSE === '0' || streams.size >= 8) return fail(res, 503, 'too_many_streams', 'Too many event streams.');
    res.writeHead(200, { 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-store', Connection: 'keep-alive' });
    res.write(': hello\n\n');
    streams.add(res);
    req.on('close', () => streams.delete(res));
    return undefined;
  }
  if (path === '/v1/gateways' && m === 'GET') {
    let list = gateways.map(view);
    const counts = { online: 0, offline: 0, degraded: 0, maintenance: 0 };
    for (const g of list) counts[g.status]++;
    for (const k of ['status', 'environment', 'type']) if (q.get(k)) list = list.filter((g) => g[k] === q.get(k));
    const text = (q.get('q') || '').toLowerCase();
    if (text) list = list.filter((g) => `${g.name} ${g.hostname} ${g.version}`.toLowerCase().includes(text));
    list.sort((a, b) => a.name.localeCompare(b.name));
    const payload = { ...page(list, q), counts };
    const etag = `"${createHash('sha1').update(JSON.stringify(payload)).digest('hex').slice(0, 16)}"`;
    done(200);
    if (req.headers['if-none-match'] === etag) {
      res.writeHead(304, { ETag: etag });
      return res.end();
    }
    return send(res, 200, { ...payload, now: now() }, { ETag: etag });
  }
  if ((mm = /^\/v1\/gateways\/([^/]+)(\/maintenance)?$/.exec(path))) {
    const g = gateways.find((x) => x.id === decodeURIComponent(mm[1]));
    if (!g) return fail(res, 404, 'not_found', 'No such gateway.');
    if (mm[2] && m === 'POST') {
      if (who.role !== 'cpi-admin' && who.role !== 'devops') return deny();
      g.maintenance = !!JSON.parse(await body(req)).enabled;
      done(200);
      return send(res, 200, view(g));
    }
    if (m === 'DELETE') {
      if (who.role !== 'cpi-admin') return deny();
      gateways.splice(gateways.indexOf(g), 1);
      done(204);
      return send(res, 204);
    }
    const v = view(g);
    done(200);
    return send(res, 200, { ...v, seconds_since_heartbeat: Math.floor((Date.now() - Date.parse(g.last_heartbeat_at)) / 1000), transitions: transitions.get(g.id).slice(0, 50) });
  }
  if (path === '/v1/deployments' && m === 'GET') {
    done(200);
    return send(res, 200, page(deployments.filter((d) => !q.get('gateway_id') || d.gateway_id === q.get('gateway_id')), q));
  }
  if (path === '/v1/deployments' && m === 'POST') {
    const input = JSON.parse(await body(req));
    const a = apis.find((x) => x.id === input.api_id);
    const d = { id: randomUUID(), api_id: input.api_id, api_name: a?.name ?? null, gateway_id: input.gateway_id, desired_state: 'deployed', sync_status: 'pending', sync_attempts: 0, last_error: null, created_at: now(), updated_at: now() };
    deployments.push(d);
    done(201);
    return send(res, 201, d);
  }
  if ((mm = /^\/v1\/deployments\/([^/]+)\/sync$/.exec(path)) && m === 'POST') {
    const d = deployments.find((x) => x.id === mm[1]);
    if (!d) return fail(res, 404, 'not_found', 'No such deployment.');
    Object.assign(d, { sync_status: 'synced', sync_attempts: d.sync_attempts + 1, last_error: null, updated_at: now() });
    done(200);
    return send(res, 200, d);
  }
  if (path === '/v1/apikeys' && m === 'GET') {
    if (!admin) return deny();
    done(200);
    return send(res, 200, page(apikeys, q));
  }
  if (path === '/v1/apikeys' && m === 'POST') {
    if (!admin) return deny();
    const input = JSON.parse(await body(req));
    if (!input.name) return fail(res, 400, 'invalid_field', 'name is required');
    const id8 = randomBytes(4).toString('hex');
    const k = { id: randomUUID(), name: input.name, prefix: `pk_${id8}`, role: input.role, tenant_id: input.tenant_id ?? 'default', created_at: now(), expires_at: input.expires_at ?? null, last_used_at: null, revoked: false };
    apikeys.unshift(k);
    done(201);
    return send(res, 201, { ...k, key: `pk_${id8}_${randomBytes(32).toString('base64url')}` });
  }
  if ((mm = /^\/v1\/apikeys\/([^/]+)$/.exec(path)) && m === 'DELETE') {
    if (!admin) return deny();
    const k = apikeys.find((x) => x.id === mm[1]);
    if (!k) return fail(res, 404, 'not_found', 'No such key.');
    k.revoked = true;
    done(204);
    return send(res, 204);
  }
  if (path === '/v1/audit') {
    if (who.role !== 'cpi-admin') return deny();
    let list = audit;
    for (const k of ['kind', 'principal', 'method']) if (q.get(k)) list = list.filter((e) => e[k] === q.get(k));
    const st = q.get('status');
    if (st) list = list.filter((e) => (/^\dxx$/i.test(st) ? String(e.status).startsWith(st[0]) : String(e.status) === st));
    if (q.get('path')) list = list.filter((e) => (e.path || '').startsWith(q.get('path')));
    if (q.get('from')) list = list.filter((e) => e.at >= q.get('from'));
    if (q.get('to')) list = list.filter((e) => e.at <= q.get('to'));
    return send(res, 200, page(list, q));
  }
  done(404);
  return fail(res, 404, 'not_found', 'No such endpoint.');
}

/* ---------- static ---------- */

const TYPES = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript', '.css': 'text/css', '.svg': 'image/svg+xml', '.png': 'image/png', '.json': 'application/json' };

async function file(res, rel, fallback) {
  const full = normalize(join(DIST, rel));
  if (!full.startsWith(DIST)) return fail(res, 404, 'not_found', 'Not found');
  try {
    if (!(await stat(full)).isFile()) throw new Error('dir');
    const data = await readFile(full);
    const headers = { 'Content-Type': TYPES[extname(full)] ?? 'application/octet-stream', 'X-Content-Type-Options': 'nosniff' };
    if (full.endsWith('.html')) Object.assign(headers, { 'Content-Security-Policy': CSP, 'Referrer-Policy': 'same-origin', 'Cache-Control': 'no-cache' });
    res.writeHead(200, headers);
    return res.end(data);
  } catch {
    if (fallback) return file(res, fallback, null);
    res.writeHead(404, { 'Content-Type': 'text/plain' });
    return res.end('not found');
  }
}

http
  .createServer(async (req, res) => {
    const url = new URL(req.url, `http://${req.headers.host || 'localhost'}`);
    const p = url.pathname;
    try {
      if (p === '/mock/expire' && req.method === 'POST') {
        sessions.clear();
        return send(res, 200, { ok: true });
      }
      let mm;
      if ((mm = /^\/mock\/silence\/(.+)$/.exec(p)) && req.method === 'POST') {
        const g = gateways.find((x) => x.name === decodeURIComponent(mm[1]));
        if (g) silenced.add(g.id);
        return send(res, 200, { ok: !!g });
      }
      if ((mm = /^\/mock\/register\/(.+)$/.exec(p)) && req.method === 'POST') {
        const g = register(decodeURIComponent(mm[1]), 'proxy', 'test', ['new'], {});
        publish('gateway.registered', view(g));
        return send(res, 201, view(g));
      }
      if (p.startsWith('/v1/') || p.startsWith('/auth/')) return await api(req, res, url);
      if (p === '/') {
        res.writeHead(302, { Location: '/portal/' });
        return res.end();
      }
      const entry = /^\/(portal|console)(\/|$)/.exec(p);
      if (entry) {
        const last = p.split('/').pop();
        if (!last.includes('.')) return await file(res, `${entry[1]}/index.html`, null);
      }
      return await file(res, p, null);
    } catch (e) {
      console.error(e);
      if (!res.headersSent) fail(res, 500, 'internal', 'Mock server error.');
    }
  })
  .listen(PORT, '127.0.0.1', () => console.log(`mock: listening on http://127.0.0.1:${PORT}`));
