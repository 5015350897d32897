// Authentication and authorisation: credential resolution (cookie, X-API-Key,
// Bearer), exact 401 WWW-Authenticate values, anonymous access, roles against
// route classes, database API keys (create/list/revoke/expire), server-side
// sessions (POST /auth/apikey, cookie attributes in both cookie_secure modes,
// tampering, expiry, logout), CSRF and Origin checks, the `portico apikey
// create` CLI, and the cookie-secret start-up rules.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { startPortico, assertError, rawRequest, KEYS, BIN, sleep } from './lib/harness.js';

const run = promisify(execFile);

const WWW_NONE = 'Bearer realm="portico"';
const WWW_BAD = 'Bearer realm="portico", error="invalid_token"';
const KEY_RE = /^pk_[a-z0-9]{8}_[A-Za-z0-9_-]{43}$/;
const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const TIME_RE = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;

let p;    // anonymous off, cookie_secure false
let anon; // auth.allow_anonymous true (viewer)
let sec;  // cookie_secure true, session.ttl_seconds 2

before(async () => {
  [p, anon, sec] = await Promise.all([
    startPortico(),
    startPortico({ config: { auth: { allow_anonymous: true, anonymous_role: 'viewer' } } }),
    startPortico({ config: { session: { cookie_secure: true, ttl_seconds: 2 } } }),
  ]);
});
after(async () => {
  await Promise.all([p?.cleanup(), anon?.cleanup(), sec?.cleanup()]);
});

function setCookies(res) {
  return typeof res.headers.getSetCookie === 'function' ? res.headers.getSetCookie()
    : (res.headers.get('set-cookie') ? [res.headers.get('set-cookie')] : []);
}

// Signs in with a pasted key; returns {res, cookie ("name=value"), csrf, setCookie}.
async function signIn(inst, key, headers = {}) {
  const res = await inst.post('/auth/apikey', { api_key: key }, { headers });
  const sc = setCookies(res);
  const cookie = sc.length ? sc[0].split(';')[0] : undefined;
  return { res, cookie, csrf: res.json?.csrf_token, setCookie: sc[0] };
}

function notDenied(res, what) {
  assert.ok(res.status !== 401 && res.status !== 403, `${what}: expected neither 401 nor 403, got ${res.status}: ${res.text}`);
}

async function createKey(inst, body, key = KEYS.admin) {
  const r = await inst.post('/v1/apikeys', body, { key });
  assert.equal(r.status, 201, r.text);
  return r.json;
}

// ---- credential resolution ------------------------------------------------

test('no credential and anonymous off: 401 with the plain Bearer challenge', async () => {
  const r = await p.get('/v1/whoami');
  assertError(assert, r, 401, 'unauthenticated');
  assert.equal(r.headers.get('www-authenticate'), WWW_NONE);
});

test('a bad key by X-API-Key or by Bearer is 401 invalid_token with the exact challenge', async () => {
  for (const headers of [{ 'X-API-Key': 'not-a-real-key-0123456789' }, { Authorization: 'Bearer not-a-real-key-0123456789' },
    { 'X-API-Key': 'pk_abcdefgh_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA' }]) {
    const r = await p.get('/v1/whoami', { headers });
    assertError(assert, r, 401, 'invalid_token');
    assert.equal(r.headers.get('www-authenticate'), WWW_BAD);
  }
});

test('an empty X-API-Key or Bearer value is a bad credential, not a missing one', async () => {
  for (const h of ['X-API-Key: ', 'Authorization: Bearer ', 'Authorization: Basic dXNlcjpwYXNz']) {
    const raw = await rawRequest(p.port, `GET /v1/whoami HTTP/1.1\r\nHost: x\r\n${h}\r\nConnection: close\r\n\r\n`);
    assert.match(raw, /^HTTP\/1\.1 401/, h);
    assert.match(raw, /\r\nWWW-Authenticate: Bearer realm="portico", error="invalid_token"\r\n/i, h);
    assert.match(raw, /"code":"invalid_token"/, h);
  }
  // The same on an anonymous-enabled instance: never downgraded to anonymous.
  const raw = await rawRequest(anon.port, 'GET /v1/whoami HTTP/1.1\r\nHost: x\r\nX-API-Key: \r\nConnection: close\r\n\r\n');
  assert.match(raw, /^HTTP\/1\.1 401/);
});

test('a good key works by X-API-Key and by Authorization: Bearer', async () => {
  for (const headers of [{ 'X-API-Key': KEYS.viewer }, { Authorization: `Bearer ${KEYS.viewer}` }]) {
    const r = await p.get('/v1/whoami', { headers });
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(r.json, {
      subject: 'apikey:viewer', name: 'viewer', email: null, auth_type: 'api_key',
      role: 'viewer', tenant_id: 'acme', scopes: ['stoa:read'],
    });
    assert.ok(!('csrf_token' in r.json));
  }
});

test('the first credential decides: a bad X-API-Key is not rescued by a good Bearer', async () => {
  const r = await p.get('/v1/whoami', { headers: { 'X-API-Key': 'wrong-key-0123456789abcdef', Authorization: `Bearer ${KEYS.admin}` } });
  assertError(assert, r, 401, 'invalid_token');
  const ok = await p.get('/v1/whoami', { headers: { 'X-API-Key': KEYS.devops, Authorization: 'Bearer wrong-key-0123456789abcdef' } });
  assert.equal(ok.status, 200);
  assert.equal(ok.json.role, 'devops');
});

test('scopes per role in whoami', async () => {
  const want = {
    [KEYS.admin]: ['cpi-admin', ['stoa:admin', 'stoa:write', 'stoa:read']],
    [KEYS.tenantAdmin]: ['tenant-admin', ['stoa:write', 'stoa:read']],
    [KEYS.devops]: ['devops', ['stoa:write', 'stoa:read']],
    [KEYS.viewer]: ['viewer', ['stoa:read']],
  };
  for (const [key, [role, scopes]] of Object.entries(want)) {
    const r = await p.get('/v1/whoami', { key });
    assert.equal(r.json.role, role);
    assert.deepEqual(r.json.scopes, scopes);
  }
});

// ---- anonymous --------------------------------------------------------------

test('anonymous on: no credential gets the anonymous role', async () => {
  const r = await anon.get('/v1/whoami');
  assert.equal(r.status, 200, r.text);
  assert.deepEqual(r.json, {
    subject: 'anonymous', name: null, email: null, auth_type: 'anonymous',
    role: 'viewer', tenant_id: 'default', scopes: ['stoa:read'],
  });
  notDenied(await anon.get('/v1/portal/apis'), 'anonymous GET /v1/portal/apis');
  notDenied(await anon.get('/v1/gateways'), 'anonymous GET /v1/gateways');
});

test('anonymous on: a route the anonymous role may not use is 401, not 403', async () => {
  for (const [m, path, json] of [['GET', '/v1/apikeys'], ['POST', '/v1/apikeys', { name: 'x', role: 'viewer' }],
    ['DELETE', '/v1/gateways/x'], ['GET', '/v1/audit'], ['GET', '/v1/apis']]) {
    const r = await anon.request(m, path, { json });
    assertError(assert, r, 401, 'unauthenticated');
    assert.equal(r.headers.get('www-authenticate'), WWW_NONE);
  }
  // An authenticated viewer on the same route is 403.
  assertError(assert, await anon.get('/v1/apikeys', { key: KEYS.viewer }), 403, 'forbidden');
});

test('anonymous on: a bad key is still 401 invalid_token', async () => {
  const r = await anon.get('/v1/portal/apis', { key: 'bad-key-0123456789abcdef' });
  assertError(assert, r, 401, 'invalid_token');
  assert.equal(r.headers.get('www-authenticate'), WWW_BAD);
  const b = await anon.get('/v1/whoami', { headers: { Authorization: 'Bearer bad-key-0123456789abcdef' } });
  assertError(assert, b, 401, 'invalid_token');
});

test('anonymous off: portal and gateways need a credential', async () => {
  for (const path of ['/v1/portal/apis', '/v1/gateways']) {
    const r = await p.get(path);
    assertError(assert, r, 401, 'unauthenticated');
  }
});

// ---- roles against route classes ---------------------------------------------

test('each role against each route class', async () => {
  const D = 'denied', A = 'allowed';
  const routes = [
    // [method, path, body, {role: expectation}]
    ['GET', '/v1/portal/apis', undefined, { viewer: A, devops: A, tenantAdmin: A, admin: A }],
    ['GET', '/v1/gateways', undefined, { viewer: A, devops: A, tenantAdmin: A, admin: A }],
    ['GET', '/v1/apis', undefined, { viewer: D, devops: A, tenantAdmin: A, admin: A }],
    ['POST', '/v1/apis', { name: 'x', version: '1' }, { viewer: D, devops: D, tenantAdmin: A, admin: A }],
    ['GET', '/v1/apikeys', undefined, { viewer: D, devops: D, tenantAdmin: A, admin: A }],
    ['POST', '/v1/apikeys', { name: 'matrix', role: 'viewer' }, { viewer: D, devops: D, tenantAdmin: A, admin: A }],
    ['DELETE', '/v1/apikeys/00000000-0000-4000-8000-000000000000', undefined, { viewer: D, devops: D, tenantAdmin: A, admin: A }],
    ['DELETE', '/v1/gateways/x', undefined, { viewer: D, devops: D, tenantAdmin: D, admin: A }],
    ['POST', '/v1/gateways/x/maintenance', { enabled: true }, { viewer: D, devops: A, tenantAdmin: D, admin: A }],
    ['GET', '/v1/audit', undefined, { viewer: D, devops: D, admin: A }],
  ];
  for (const [method, path, json, expect] of routes) {
    for (const [role, outcome] of Object.entries(expect)) {
      const r = await p.request(method, path, { json, key: KEYS[role] });
      const what = `${role} ${method} ${path}`;
      if (outcome === D) {
        assertError(assert, r, 403, 'forbidden');
      } else {
        notDenied(r, what);
      }
    }
  }
});

// ---- API keys -----------------------------------------------------------------

test('create an API key: 201, shown once, pk_ format, never the hash', async () => {
  const k = await createKey(p, { name: 'ci deploy', role: 'devops', tenant_id: 'acme' });
  assert.match(k.key, KEY_RE);
  assert.match(k.id, UUID_RE);
  assert.equal(k.prefix, k.key.slice(0, 11));
  assert.equal(k.name, 'ci deploy');
  assert.equal(k.role, 'devops');
  assert.equal(k.tenant_id, 'acme');
  assert.equal(k.created_by, 'apikey:admin');
  assert.match(k.created_at, TIME_RE);
  assert.equal(k.expires_at, null);
  assert.equal(k.last_used_at, null);
  assert.equal(k.revoked, false);
  assert.equal(k.revoked_at, null);
  assert.ok(!('key_hash' in k));

  const who = await p.get('/v1/whoami', { key: k.key });
  assert.equal(who.status, 200, who.text);
  assert.equal(who.json.subject, 'apikey:ci deploy');
  assert.equal(who.json.role, 'devops');
  assert.equal(who.json.tenant_id, 'acme');
  const bearer = await p.get('/v1/whoami', { headers: { Authorization: `Bearer ${k.key}` } });
  assert.equal(bearer.status, 200);

  // A wrong secret with the right visible id is rejected.
  const forged = k.key.slice(0, 12) + (k.key[12] === 'A' ? 'B' : 'A') + k.key.slice(13);
  assertError(assert, await p.get('/v1/whoami', { key: forged }), 401, 'invalid_token');

  const list = await p.get('/v1/apikeys?page_size=100', { key: KEYS.admin });
  assert.equal(list.status, 200);
  const item = list.json.items.find((i) => i.id === k.id);
  assert.ok(item);
  assert.ok(!('key' in item) && !('key_hash' in item));
  assert.match(item.last_used_at, TIME_RE);
  assert.doesNotMatch(list.text, new RegExp(k.key.slice(12).replace(/[-]/g, '\\-')));
});

test('two created keys differ', async () => {
  const a = await createKey(p, { name: 'a', role: 'viewer' });
  const b = await createKey(p, { name: 'b', role: 'viewer' }); // names are unique per tenant
  assert.notEqual(a.key, b.key);
  assert.notEqual(a.prefix, b.prefix);
  assert.notEqual(a.id, b.id);
  assert.equal(a.tenant_id, 'default'); // the caller's tenant
});

test('create validation: 400 naming the field', async () => {
  const cases = [
    [{ role: 'viewer' }, /^name:/],
    [{ name: '', role: 'viewer' }, /^name:/],
    [{ name: 'x'.repeat(201), role: 'viewer' }, /^name:/],
    [{ name: 'a\u0001b', role: 'viewer' }, /^name:/],
    [{ name: 'x' }, /^role:/],
    [{ name: 'x', role: 'superuser' }, /^role:/],
    [{ name: 'x', role: 'viewer', tenant_id: 'bad tenant!' }, /^tenant_id:/],
    [{ name: 'x', role: 'viewer', expires_at: '2001-01-01T00:00:00Z' }, /^expires_at:/],
    [{ name: 'x', role: 'viewer', expires_at: 'tomorrow' }, /^expires_at:/],
    [{ name: 'x', role: 'viewer', expires_at: 12345 }, /^expires_at:/],
    [{ name: 'x', role: 'viewer', secret: 'mine' }, /^secret:/],
  ];
  for (const [body, msg] of cases) {
    const r = await p.post('/v1/apikeys', body, { key: KEYS.admin });
    assertError(assert, r, 400, 'invalid_field');
    assert.match(r.json.error.message, msg, JSON.stringify(body));
  }
  assertError(assert, await p.post('/v1/apikeys', 'not json', { key: KEYS.admin }), 400);
  const ok = await createKey(p, { name: 'x'.repeat(200), role: 'viewer', expires_at: null });
  assert.equal(ok.expires_at, null);
});

test('a tenant-admin creates keys for its own tenant only, and never cpi-admin (or devops) keys', async () => {
  // devops holds gateway maintenance, which a tenant-admin lacks (trust.test.js).
  for (const role of ['tenant-admin', 'viewer']) {
    const k = await createKey(p, { name: `ta-${role}`, role }, KEYS.tenantAdmin);
    assert.equal(k.tenant_id, 'acme');
    assert.equal(k.created_by, 'apikey:tenant-admin');
  }
  const own = await createKey(p, { name: 'explicit', role: 'viewer', tenant_id: 'acme' }, KEYS.tenantAdmin);
  assert.equal(own.tenant_id, 'acme');
  assertError(assert, await p.post('/v1/apikeys', { name: 'x', role: 'cpi-admin' }, { key: KEYS.tenantAdmin }), 403, 'forbidden');
  assertError(assert, await p.post('/v1/apikeys', { name: 'x', role: 'viewer', tenant_id: 'globex' }, { key: KEYS.tenantAdmin }), 403, 'forbidden');
  // A cpi-admin may do both.
  const g = await createKey(p, { name: 'globex-admin', role: 'cpi-admin', tenant_id: 'globex' });
  assert.equal(g.tenant_id, 'globex');
  assert.equal(g.role, 'cpi-admin');
});

test('listing is tenant-scoped for tenant-admins and pages like every list', async () => {
  await createKey(p, { name: 'globex-key', role: 'viewer' }, KEYS.otherTenantAdmin);
  const acme = await p.get('/v1/apikeys?page_size=100', { key: KEYS.tenantAdmin });
  assert.equal(acme.status, 200);
  assert.ok(acme.json.items.length > 0);
  assert.ok(acme.json.items.every((i) => i.tenant_id === 'acme'), acme.text);
  const globex = await p.get('/v1/apikeys?page_size=100', { key: KEYS.otherTenantAdmin });
  assert.ok(globex.json.items.every((i) => i.tenant_id === 'globex'));
  assert.ok(globex.json.items.some((i) => i.name === 'globex-key'));
  const all = await p.get('/v1/apikeys?page_size=100', { key: KEYS.admin });
  const tenants = new Set(all.json.items.map((i) => i.tenant_id));
  assert.ok(tenants.has('acme') && tenants.has('globex'), all.text);
  assert.equal(all.json.total, all.json.items.length);

  const page = await p.get('/v1/apikeys?page=1&page_size=1', { key: KEYS.admin });
  assert.equal(page.json.items.length, 1);
  assert.equal(page.json.page, 1);
  assert.equal(page.json.page_size, 1);
  assert.equal(page.json.total, all.json.total);
  const past = await p.get('/v1/apikeys?page=9999', { key: KEYS.admin });
  assert.equal(past.status, 200);
  assert.deepEqual(past.json.items, []);
  assertError(assert, await p.get('/v1/apikeys?page=0', { key: KEYS.admin }), 400);
  assertError(assert, await p.get('/v1/apikeys?page_size=101', { key: KEYS.admin }), 400);
});

test('revoking: 204, the key stops working at once, other tenants get 404', async () => {
  const k = await createKey(p, { name: 'to-revoke', role: 'viewer' }, KEYS.tenantAdmin);
  assert.equal((await p.get('/v1/whoami', { key: k.key })).status, 200);
  assertError(assert, await p.del(`/v1/apikeys/${k.id}`, { key: KEYS.otherTenantAdmin }), 404, 'not_found');
  assert.equal((await p.get('/v1/whoami', { key: k.key })).status, 200);
  assertError(assert, await p.del('/v1/apikeys/00000000-0000-4000-8000-000000000000', { key: KEYS.tenantAdmin }), 404, 'not_found');
  assertError(assert, await p.del('/v1/apikeys/not-a-uuid', { key: KEYS.tenantAdmin }), 404, 'not_found');

  const d = await p.del(`/v1/apikeys/${k.id}`, { key: KEYS.tenantAdmin });
  assert.equal(d.status, 204);
  assert.equal(d.text, '');
  const r = await p.get('/v1/whoami', { key: k.key });
  assertError(assert, r, 401, 'invalid_token');
  assert.equal(r.headers.get('www-authenticate'), WWW_BAD);
  const list = await p.get('/v1/apikeys?page_size=100', { key: KEYS.tenantAdmin });
  const item = list.json.items.find((i) => i.id === k.id);
  assert.equal(item.revoked, true);
  assert.match(item.revoked_at, TIME_RE);
  // Revoking again is harmless.
  assert.equal((await p.del(`/v1/apikeys/${k.id}`, { key: KEYS.tenantAdmin })).status, 204);
});

test('a cpi-admin revokes keys of any tenant', async () => {
  const k = await createKey(p, { name: 'globex-victim', role: 'viewer' }, KEYS.otherTenantAdmin);
  assert.equal((await p.del(`/v1/apikeys/${k.id}`, { key: KEYS.admin })).status, 204);
  assertError(assert, await p.get('/v1/whoami', { key: k.key }), 401, 'invalid_token');
});

test('an expired database key is rejected', async () => {
  const expires = new Date(Date.now() + 1500).toISOString();
  const k = await createKey(p, { name: 'short-lived', role: 'viewer', expires_at: expires });
  assert.equal(k.expires_at, expires);
  assert.equal((await p.get('/v1/whoami', { key: k.key })).status, 200);
  await sleep(Date.parse(expires) - Date.now() + 300);
  const r = await p.get('/v1/whoami', { key: k.key });
  assertError(assert, r, 401, 'invalid_token');
  assert.equal(r.headers.get('www-authenticate'), WWW_BAD);
  // And it cannot be exchanged for a session either.
  const s = await signIn(p, k.key);
  assertError(assert, s.res, 401);
  assert.equal(s.setCookie, undefined);
});

// ---- sessions ------------------------------------------------------------------

test('POST /auth/apikey: session cookie attributes (cookie_secure false) and the whoami body', async () => {
  const s = await signIn(p, KEYS.tenantAdmin);
  assert.equal(s.res.status, 200, s.res.text);
  assert.match(s.setCookie, /^portico_session=[A-Za-z0-9_-]{43}; Path=\/; HttpOnly; SameSite=Lax; Max-Age=28800$/);
  assert.doesNotMatch(s.setCookie, /Secure/);
  assert.equal(s.res.json.auth_type, 'session');
  assert.equal(s.res.json.subject, 'apikey:tenant-admin');
  assert.equal(s.res.json.role, 'tenant-admin');
  assert.equal(s.res.json.tenant_id, 'acme');
  assert.deepEqual(s.res.json.scopes, ['stoa:write', 'stoa:read']);
  assert.match(s.csrf, /^[A-Za-z0-9_-]{43}$/);
  // The key itself is not in the cookie or the body.
  assert.ok(!s.setCookie.includes(KEYS.tenantAdmin) && !s.res.text.includes(KEYS.tenantAdmin));

  const who = await p.get('/v1/whoami', { cookie: s.cookie });
  assert.equal(who.status, 200);
  assert.equal(who.json.auth_type, 'session');
  assert.equal(who.json.csrf_token, s.csrf);
  assert.equal(who.json.subject, 'apikey:tenant-admin');
  // Stays signed in across requests ("page loads").
  assert.equal((await p.get('/v1/apikeys', { cookie: s.cookie })).status, 200);
  assert.equal((await p.get('/v1/whoami', { cookie: s.cookie })).status, 200);
});

test('POST /auth/apikey: a database key works too', async () => {
  const k = await createKey(p, { name: 'browser key', role: 'devops', tenant_id: 'acme' });
  const s = await signIn(p, `  ${k.key}\n`); // pasted with whitespace
  assert.equal(s.res.status, 200, s.res.text);
  assert.equal(s.res.json.subject, 'apikey:browser key');
  assert.equal(s.res.json.role, 'devops');
});

test('POST /auth/apikey: a bad key is 401 with no cookie; empty or missing field is 400', async () => {
  const bad = await signIn(p, 'wrong-key-0123456789abcdef');
  assertError(assert, bad.res, 401, 'invalid_token');
  assert.equal(bad.setCookie, undefined);
  for (const body of [{ api_key: '' }, { api_key: '   ' }, {}, { api_key: 42 }]) {
    const r = await p.post('/auth/apikey', body);
    assertError(assert, r, 400, 'invalid_field');
    assert.match(r.json.error.message, /^api_key:/);
    assert.equal(setCookies(r).length, 0);
  }
  assertError(assert, await p.post('/auth/apikey', '{"api_key":'), 400, 'invalid_json');
  assertError(assert, await p.request('POST', '/auth/apikey', { body: 'api_key=x', headers: { 'Content-Type': 'application/x-www-form-urlencoded' } }), 415);
});

test('POST /auth/apikey: a foreign Origin is 403 and sets no cookie; the public origin is fine', async () => {
  const f = await signIn(p, KEYS.viewer, { Origin: 'https://evil.example' });
  assertError(assert, f.res, 403, 'origin_mismatch');
  assert.equal(f.setCookie, undefined);
  const ok = await signIn(p, KEYS.viewer, { Origin: p.url });
  assert.equal(ok.res.status, 200, ok.res.text);
});

test('signing in again replaces the old session', async () => {
  const a = await signIn(p, KEYS.viewer);
  const b = await p.post('/auth/apikey', { api_key: KEYS.viewer }, { cookie: a.cookie, headers: {} });
  assert.equal(b.status, 200);
  const newCookie = setCookies(b)[0].split(';')[0];
  assert.notEqual(newCookie, a.cookie);
  assertError(assert, await p.get('/v1/whoami', { cookie: a.cookie }), 401, 'invalid_token');
  assert.equal((await p.get('/v1/whoami', { cookie: newCookie })).status, 200);
});

test('cookie_secure true: __Host- name with Secure; the cookie works', async () => {
  const s = await signIn(sec, KEYS.admin);
  assert.equal(s.res.status, 200, s.res.text);
  assert.match(s.setCookie, /^__Host-portico_session=[A-Za-z0-9_-]{43}; Path=\/; HttpOnly; SameSite=Lax; Max-Age=2; Secure$/);
  assert.ok(s.cookie.startsWith('__Host-portico_session='));
  const who = await sec.get('/v1/whoami', { cookie: s.cookie });
  assert.equal(who.status, 200, who.text);
  assert.equal(who.json.auth_type, 'session');
  // Logout clears the __Host- cookie with the same attributes.
  const out = await sec.post('/auth/logout', undefined, { cookie: s.cookie, headers: { 'X-CSRF-Token': s.csrf } });
  assert.equal(out.status, 200, out.text);
  assert.match(setCookies(out)[0], /^__Host-portico_session=; Path=\/; HttpOnly; SameSite=Lax; Max-Age=0; Secure$/);
});

test('a tampered, truncated or empty session cookie is 401 invalid_token', async () => {
  const s = await signIn(p, KEYS.viewer);
  const [name, value] = s.cookie.split('=');
  const flipped = value.slice(0, 10) + (value[10] === 'A' ? 'B' : 'A') + value.slice(11);
  for (const v of [flipped, value.slice(0, -1), value + 'A', '', 'x'.repeat(43), '%00' + value.slice(3)]) {
    const r = await p.get('/v1/whoami', { cookie: `${name}=${v}` });
    assertError(assert, r, 401, 'invalid_token');
    assert.equal(r.headers.get('www-authenticate'), WWW_BAD);
  }
  // A bad cookie is not rescued by a good key.
  assertError(assert, await p.get('/v1/whoami', { cookie: `${name}=${flipped}`, key: KEYS.admin }), 401, 'invalid_token');
  // The original still works; the cookie wins over a bad key.
  const ok = await p.get('/v1/whoami', { cookie: s.cookie, key: 'bad-key-0123456789abcdef' });
  assert.equal(ok.status, 200);
  assert.equal(ok.json.auth_type, 'session');
});

test('a session expires after session.ttl_seconds', async () => {
  const s = await signIn(sec, KEYS.viewer);
  assert.equal((await sec.get('/v1/whoami', { cookie: s.cookie })).status, 200);
  await sleep(2300);
  const r = await sec.get('/v1/whoami', { cookie: s.cookie });
  assertError(assert, r, 401, 'invalid_token');
  assert.equal(r.headers.get('www-authenticate'), WWW_BAD);
});

test('logout deletes the session server-side and clears the cookie', async () => {
  const s = await signIn(p, KEYS.devops);
  // Without the CSRF token logout is refused and the session lives on.
  assertError(assert, await p.post('/auth/logout', undefined, { cookie: s.cookie }), 403, 'csrf_failed');
  assert.equal((await p.get('/v1/whoami', { cookie: s.cookie })).status, 200);
  const out = await p.post('/auth/logout', undefined, { cookie: s.cookie, headers: { 'X-CSRF-Token': s.csrf } });
  assert.equal(out.status, 200, out.text);
  assert.deepEqual(out.json, { end_session_url: null });
  assert.match(setCookies(out)[0], /^portico_session=; Path=\/; HttpOnly; SameSite=Lax; Max-Age=0$/);
  // The old cookie (a client that ignores the clearing) no longer works.
  assertError(assert, await p.get('/v1/whoami', { cookie: s.cookie }), 401, 'invalid_token');
  assertError(assert, await p.post('/auth/logout', undefined, { cookie: s.cookie, headers: { 'X-CSRF-Token': s.csrf } }), 401, 'invalid_token');
});

test('logout without any credential is 401; with a foreign Origin 403', async () => {
  assertError(assert, await p.post('/auth/logout'), 401, 'unauthenticated');
  const s = await signIn(p, KEYS.viewer);
  assertError(assert, await p.post('/auth/logout', undefined, { cookie: s.cookie, headers: { 'X-CSRF-Token': s.csrf, Origin: 'http://evil.example' } }), 403, 'origin_mismatch');
  assert.equal((await p.get('/v1/whoami', { cookie: s.cookie })).status, 200);
});

test('revoking a database key ends the sessions made from it', async () => {
  const k = await createKey(p, { name: 'session-key', role: 'tenant-admin', tenant_id: 'acme' });
  const s = await signIn(p, k.key);
  assert.equal(s.res.status, 200);
  assert.equal((await p.get('/v1/whoami', { cookie: s.cookie })).status, 200);
  assert.equal((await p.del(`/v1/apikeys/${k.id}`, { key: KEYS.admin })).status, 204);
  assertError(assert, await p.get('/v1/whoami', { cookie: s.cookie }), 401, 'invalid_token');
});

// ---- CSRF ------------------------------------------------------------------------

test('CSRF: cookie-authenticated unsafe requests need the right X-CSRF-Token', async () => {
  const s = await signIn(p, KEYS.tenantAdmin);
  const body = { name: 'csrf', role: 'viewer' };
  assertError(assert, await p.post('/v1/apikeys', body, { cookie: s.cookie }), 403, 'csrf_failed');
  assertError(assert, await p.post('/v1/apikeys', body, { cookie: s.cookie, headers: { 'X-CSRF-Token': 'wrong' } }), 403, 'csrf_failed');
  assertError(assert, await p.post('/v1/apikeys', body, { cookie: s.cookie, headers: { 'X-CSRF-Token': '' } }), 403, 'csrf_failed');
  const other = await signIn(p, KEYS.tenantAdmin);
  assertError(assert, await p.post('/v1/apikeys', body, { cookie: s.cookie, headers: { 'X-CSRF-Token': other.csrf } }), 403, 'csrf_failed');
  const ok = await p.post('/v1/apikeys', body, { cookie: s.cookie, headers: { 'X-CSRF-Token': s.csrf } });
  assert.equal(ok.status, 201, ok.text);
  assert.equal(ok.json.created_by, 'apikey:tenant-admin');
  const del = await p.del(`/v1/apikeys/${ok.json.id}`, { cookie: s.cookie });
  assertError(assert, del, 403, 'csrf_failed');
  assert.equal((await p.del(`/v1/apikeys/${ok.json.id}`, { cookie: s.cookie, headers: { 'X-CSRF-Token': s.csrf } })).status, 204);
  // Safe methods need no token.
  assert.equal((await p.get('/v1/apikeys', { cookie: s.cookie })).status, 200);
  // Header credentials are not CSRF-able: no token needed.
  assert.equal((await p.post('/v1/apikeys', body, { key: KEYS.tenantAdmin })).status, 201);
});

test('CSRF: an Origin other than server.public_url is 403 even with the right token', async () => {
  const s = await signIn(p, KEYS.tenantAdmin);
  const body = { name: 'origin', role: 'viewer' };
  for (const origin of ['http://evil.example', 'null', p.url.replace('127.0.0.1', 'localhost'), p.url + '.evil.example']) {
    const r = await p.post('/v1/apikeys', body, { cookie: s.cookie, headers: { 'X-CSRF-Token': s.csrf, Origin: origin } });
    assertError(assert, r, 403, 'origin_mismatch');
  }
  const ok = await p.post('/v1/apikeys', body, { cookie: s.cookie, headers: { 'X-CSRF-Token': s.csrf, Origin: p.url } });
  assert.equal(ok.status, 201, ok.text);
});

// ---- CLI -------------------------------------------------------------------------

function cliEnv() {
  const env = { ...process.env };
  for (const k of Object.keys(env)) if (k.startsWith('PORTICO_')) delete env[k];
  return env;
}

test('`portico apikey create` prints a working key once', async () => {
  const { stdout, stderr } = await run(BIN, ['apikey', 'create', '--name', 'from-cli', '--role', 'devops', '--tenant', 'acme', '--config', p.configPath], { env: cliEnv() });
  const key = stdout.trim();
  assert.match(key, KEY_RE);
  assert.match(stderr, /shown only once/);
  const who = await p.get('/v1/whoami', { key });
  assert.equal(who.status, 200, who.text);
  assert.equal(who.json.subject, 'apikey:from-cli');
  assert.equal(who.json.role, 'devops');
  assert.equal(who.json.tenant_id, 'acme');
  const list = await p.get('/v1/apikeys?page_size=100', { key: KEYS.admin });
  const item = list.json.items.find((i) => i.name === 'from-cli');
  assert.equal(item.created_by, 'cli');
  assert.equal(item.prefix, key.slice(0, 11));

  await assert.rejects(run(BIN, ['apikey', 'create', '--name', 'x', '--role', 'root', '--config', p.configPath], { env: cliEnv() }),
    (e) => e.code === 2 && /--role/.test(e.stderr));
  await assert.rejects(run(BIN, ['apikey', 'create', '--name', 'x', '--role', 'viewer', '--tenant', 'bad tenant', '--config', p.configPath], { env: cliEnv() }),
    (e) => e.code !== 0 && /invalid/.test(e.stderr));
});

// ---- start-up rules for the cookie secret ---------------------------------------

test('profile live without a cookie secret refuses to start; with one it starts', async () => {
  await assert.rejects(startPortico({ config: { profile: 'live', session: { cookie_secret: '' } } }),
    /session\.cookie_secret: is required with profile live/);
  await assert.rejects(startPortico({ config: { profile: 'live', session: { cookie_secret: 'short-secret-0123456789' } } }),
    /session\.cookie_secret: must be at least 32 bytes/);
  const live = await startPortico({ config: { profile: 'live' } });
  try {
    assert.equal((await live.get('/v1/whoami', { key: KEYS.viewer })).status, 200);
  } finally {
    await live.cleanup();
  }
});

test('profile dev without a cookie secret generates one, warns, and sessions work', async () => {
  const dev = await startPortico({ config: { session: { cookie_secret: '' } } });
  try {
    assert.match(dev.stderr, /session\.cookie_secret is not set: generated a random one/);
    const s = await signIn(dev, KEYS.viewer);
    assert.equal(s.res.status, 200, s.res.text);
    assert.equal((await dev.get('/v1/whoami', { cookie: s.cookie })).status, 200);
  } finally {
    await dev.cleanup();
  }
});
