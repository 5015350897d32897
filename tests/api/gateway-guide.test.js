// The gateway auto-registration guide, followed verbatim by a scripted
// gateway (register with "tenant_id": null → heartbeat → GET /health →
// config poll), and the protocol rules around it: shared gateways (tenant_id
// null) and who sees and maintains them, key ownership (403 for another
// configured key, takeover after rotation, only a digest stored), no silent
// tenant moves (409), failed calls logged once a minute per name/address
// without the key, the start-up warning without keys, the status thresholds
// in responses, and readiness that tells the truth at once.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { Portico, startPortico, assertError, KEYS, GATEWAY_KEY, DB_KIND, sleep, rawRequest } from './lib/harness.js';
import { startIdp, makeKey, CLIENT_ID, CLIENT_SECRET } from './lib/idp.js';

const KEY_A = 'gw_prod_key_alpha_0123456789abcdef';
const KEY_B = 'gw_prod_key_bravo_0123456789abcdef';
const KEY_C = 'gw_prod_key_charlie_0123456789abcd';

let p;
const extra = [];
before(async () => {
  p = await startPortico({ config: { gateways: { api_keys: `${GATEWAY_KEY},${KEY_A},${KEY_B}`, offline_after_seconds: 120 } } });
});
after(async () => {
  for (const x of extra.reverse()) await x.cleanup().catch(() => {});
  await p?.cleanup();
});

async function started(opts) {
  const x = await startPortico(opts);
  extra.push(x);
  return x;
}

const gw = (key = GATEWAY_KEY) => ({ headers: { 'X-Gateway-Key': key } });
const register = (inst, body, key) => inst.post('/v1/internal/gateways/register', body, gw(key));
const heartbeat = (inst, id, body, key) => inst.post(`/v1/internal/gateways/${id}/heartbeat`, body, gw(key));
const config = (inst, id, key) => inst.get(`/v1/internal/gateways/${id}/config`, gw(key));

let seq = 0;
function body(over = {}) {
  seq += 1;
  return { hostname: `guide-${process.pid}-${seq}`, mode: 'edge-mcp', version: '0.1.0', environment: 'prod', capabilities: ['rest'], admin_url: 'http://10.0.1.50:8080', ...over };
}

function runSql(inst, sql) {
  if (DB_KIND === 'postgres') return execFileSync('psql', ['-qAt', '-v', 'ON_ERROR_STOP=1', inst.dbUrl, '-c', sql]).toString();
  return execFileSync('sqlite3', ['-cmd', '.timeout 5000', join(inst.dir, 'portico.db'), sql]).toString();
}

// Polls fn until it returns a truthy value (or fails after ms).
async function waitFor(fn, ms, what) {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    const v = await fn();
    if (v) return v;
    await sleep(100);
  }
  assert.fail(`timed out waiting for ${what}`);
}

// ---- the guide, verbatim -----------------------------------------------------

test('a gateway following the guide verbatim: register (tenant_id null) → heartbeat → /health → config', async () => {
  // "Registration Payload" exactly as the guide prints it.
  const payload = {
    hostname: `stoa-gateway-7f8b9c-${process.pid}`,
    mode: 'edge-mcp',
    version: '0.1.0',
    environment: 'prod',
    capabilities: ['rest', 'mcp', 'sse', 'oidc', 'rate_limiting'],
    admin_url: 'http://10.0.1.50:8080',
    tenant_id: null,
  };
  const reg = await register(p, payload);
  assert.equal(reg.status, 201, reg.text);
  const g = reg.json;
  assert.equal(g.name, `stoa-gateway-7f8b9c-${process.pid}-edgemcp-prod`);
  assert.equal(g.tenant_id, null);
  assert.equal(g.status, 'online');
  // Stored as NULL, never "default".
  assert.equal(runSql(p, `SELECT COUNT(*) FROM gateways WHERE id = '${g.id}' AND tenant_id IS NULL`).trim(), '1');

  // "Heartbeat Payload", a few times ("every 30 seconds": here back to back).
  for (let i = 0; i < 3; i++) {
    const hb = await heartbeat(p, g.id, { uptime_seconds: 3600 + i, routes_count: 15, policies_count: 5, requests_total: 10000 + i, error_rate: 0.01 });
    assert.equal(hb.status, 204, hb.text);
  }
  // The readiness probe and the troubleshooting call: {CONTROL_PLANE_URL}/health.
  const health = await p.get('/health');
  assert.equal(health.status, 200);
  assert.equal(health.text, 'ok\n');
  assert.match(health.headers.get('content-type'), /^text\/plain/);
  const head = await rawRequest(p.port, 'HEAD /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
  assert.match(head, /^HTTP\/1\.1 200/);
  assert.doesNotMatch(head, /\r\n\r\nok/);
  // Config fetch.
  const c = await config(p, g.id);
  assert.equal(c.status, 200, c.text);
  assert.equal(c.json.gateway_id, g.id);
  assert.equal(c.json.tenant_id, null);
  assert.ok(Array.isArray(c.json.pending_deployments));
  assert.ok(Array.isArray(c.json.pending_policies));
  // The console sees it with the heartbeat's figures.
  const d = await p.get(`/v1/gateways/${g.id}`, { key: KEYS.viewer });
  assert.equal(d.status, 200, d.text);
  assert.equal(d.json.tenant_id, null);
  assert.equal(d.json.health_details.routes_count, 15);
  assert.equal(d.json.status, 'online');
  // The guide's troubleshooting registration (no tenant_id at all) is shared too.
  const t = await register(p, { hostname: `test-gateway-${process.pid}`, mode: 'edge-mcp', version: '0.1.0', environment: 'dev', capabilities: ['rest'], admin_url: 'http://localhost:8080' });
  assert.equal(t.status, 201, t.text);
  assert.equal(t.json.tenant_id, null);
});

test('GET /health needs no credential and is not audited', async () => {
  const x = await started({ config: { auth: { allow_anonymous: false } } });
  assert.equal((await x.get('/health')).status, 200);
  assert.equal((await x.request('HEAD', '/health')).status, 200);
  assertError(assert, await x.post('/health', {}), 405, 'method_not_allowed');
  // Audited requests land in the log; /health never does.
  await waitFor(async () => {
    const a = await x.get('/v1/audit?page_size=100', { key: KEYS.admin });
    return a.status === 200 && a.json.items.length > 0;
  }, 8000, 'the audit log to show the audit request');
  const a = await x.get('/v1/audit?path=/health&page_size=100', { key: KEYS.admin });
  assert.equal(a.status, 200, a.text);
  assert.equal(a.json.items.filter((i) => i.path === '/health').length, 0);
});

// ---- shared gateways -----------------------------------------------------------

test('a shared gateway is visible to every signed-in reader of every tenant; a tenant one only to its tenant', async () => {
  const env = `shared${process.pid}`;
  const shared = (await register(p, body({ environment: env, tenant_id: null }))).json;
  const acme = (await register(p, body({ environment: env, tenant_id: 'acme' }))).json;
  const globex = (await register(p, body({ environment: env, tenant_id: 'globex' }))).json;
  const ids = async (key) => (await p.get(`/v1/gateways?environment=${env}`, { key })).json.items.map((i) => i.id).sort();
  assert.deepEqual(await ids(KEYS.viewer), [shared.id, acme.id].sort());
  assert.deepEqual(await ids(KEYS.tenantAdmin), [shared.id, acme.id].sort());
  assert.deepEqual(await ids(KEYS.otherTenantAdmin), [shared.id, globex.id].sort());
  assert.deepEqual(await ids(KEYS.admin), [shared.id, acme.id, globex.id].sort());
  for (const key of [KEYS.viewer, KEYS.otherTenantAdmin, KEYS.devops]) {
    const d = await p.get(`/v1/gateways/${shared.id}`, { key });
    assert.equal(d.status, 200, d.text);
    assert.equal(d.json.tenant_id, null);
  }
  assertError(assert, await p.get(`/v1/gateways/${globex.id}`, { key: KEYS.viewer }), 404, 'not_found');
  assertError(assert, await p.get(`/v1/gateways/${acme.id}`, { key: KEYS.otherTenantAdmin }), 404, 'not_found');
  assertError(assert, await p.get(`/v1/gateways/${shared.id}`), 401);
  // Counts cover what the caller sees: shared + own.
  const v = (await p.get('/v1/gateways?page_size=1', { key: KEYS.viewer })).json;
  assert.equal(Object.values(v.counts).reduce((a, b) => a + b, 0), v.total);
  assert.ok(v.total >= 2);
});

test('a shared gateway: only cpi-admin and devops put it in maintenance; only cpi-admin deletes it', async () => {
  const g = (await register(p, body({ tenant_id: null }))).json;
  const maint = (key, enabled = true) => p.post(`/v1/gateways/${g.id}/maintenance`, { enabled }, { key });
  assertError(assert, await maint(KEYS.viewer), 403, 'forbidden');
  assertError(assert, await maint(KEYS.tenantAdmin), 403, 'forbidden');
  assertError(assert, await maint(KEYS.otherTenantAdmin), 403, 'forbidden');
  const on = await maint(KEYS.devops);
  assert.equal(on.status, 200, on.text);
  assert.equal(on.json.status, 'maintenance');
  assert.equal(on.json.tenant_id, null);
  const off = await maint(KEYS.admin, false);
  assert.equal(off.status, 200, off.text);
  assert.equal(off.json.status, 'online');
  assertError(assert, await p.del(`/v1/gateways/${g.id}`, { key: KEYS.devops }), 403, 'forbidden');
  assertError(assert, await p.del(`/v1/gateways/${g.id}`, { key: KEYS.tenantAdmin }), 403, 'forbidden');
  assert.equal((await p.del(`/v1/gateways/${g.id}`, { key: KEYS.admin })).status, 204);
});

test('a shared gateway\'s events reach every tenant\'s stream', async () => {
  const ac = new AbortController();
  const res = await fetch(p.url + '/v1/gateways/events', { headers: { 'X-API-Key': KEYS.otherTenantAdmin }, signal: ac.signal });
  assert.equal(res.status, 200);
  const reader = res.body.getReader();
  const dec = new TextDecoder();
  let buf = '';
  const g = (await register(p, body({ tenant_id: null }))).json;
  try {
    await waitFor(async () => {
      const { value } = await Promise.race([reader.read(), sleep(500).then(() => ({}))]);
      if (value) buf += dec.decode(value, { stream: true });
      return buf.includes(g.id);
    }, 8000, 'the shared gateway\'s registration on a globex stream');
    assert.match(buf, /event: gateway\.registered/);
    assert.match(buf, /"tenant_id":null/);
  } finally {
    ac.abort();
  }
});

// ---- ownership and tenants ------------------------------------------------------

test('the key that registered a gateway owns it: another configured key gets 403 everywhere', async () => {
  const b = body({ tenant_id: 'acme' });
  const g = (await register(p, b, KEY_A)).json;
  assert.ok(g.id);
  assertError(assert, await register(p, b, KEY_B), 403, 'gateway_owned');
  assertError(assert, await heartbeat(p, g.id, { uptime_seconds: 1 }, KEY_B), 403, 'gateway_owned');
  assertError(assert, await config(p, g.id, KEY_B), 403, 'gateway_owned');
  // Deployment status reports follow the same rule (checked before the
  // deployment is looked up: the owner gets 404 for an unknown deployment).
  const did = '00000000-0000-4000-8000-000000000001';
  const rep = (key) => p.post(`/v1/internal/gateways/${g.id}/deployments/${did}/status`, { status: 'synced', applied_hash: 'sha256:00' }, gw(key));
  assertError(assert, await rep(KEY_B), 403, 'gateway_owned');
  assertError(assert, await rep(KEY_A), 404, 'not_found');
  // The owner still works, and nothing changed under the refused calls.
  assert.equal((await heartbeat(p, g.id, { uptime_seconds: 2 }, KEY_A)).status, 204);
  assert.equal((await config(p, g.id, KEY_A)).status, 200);
  const again = await register(p, { ...b, version: '0.2.0' }, KEY_A);
  assert.equal(again.status, 201, again.text);
  assert.equal(again.json.id, g.id);
  // Only a digest of the owner key is stored.
  const stored = runSql(p, `SELECT owner_key_hash FROM gateways WHERE id = '${g.id}'`).trim();
  assert.match(stored, /^[0-9a-f]{64}$/);
  assert.ok(!stored.includes(KEY_A));
  // Unknown ids are still 404 for any key, the wrong key still 401.
  assertError(assert, await heartbeat(p, randomUUID(), { uptime_seconds: 1 }, KEY_B), 404, 'not_found');
  assertError(assert, await heartbeat(p, g.id, { uptime_seconds: 1 }, 'gw_not_configured'), 401);
});

test('key rotation: when the owner key is no longer configured, the new key takes ownership', async () => {
  const a = await started({ config: { gateways: { api_keys: `${KEY_A},${KEY_B}` } } });
  const b = body();
  const g = (await register(a, b, KEY_A)).json;
  assertError(assert, await heartbeat(a, g.id, { uptime_seconds: 1 }, KEY_B), 403, 'gateway_owned');
  assert.equal(await a.stop(), 0);
  // The guide's rotation: add the new key, restart, move gateways, drop the old key.
  const r = new Portico({ dir: a.dir, dbUrl: a.dbUrl, config: { gateways: { api_keys: `${KEY_B},${KEY_C}` } } });
  await r.start();
  extra.push(r);
  assertError(assert, await heartbeat(r, g.id, { uptime_seconds: 1 }, KEY_A), 401);
  assert.equal((await heartbeat(r, g.id, { uptime_seconds: 3 }, KEY_B)).status, 204);
  // KEY_B owns it now: KEY_C (configured) is refused.
  assertError(assert, await heartbeat(r, g.id, { uptime_seconds: 4 }, KEY_C), 403, 'gateway_owned');
  assertError(assert, await register(r, b, KEY_C), 403, 'gateway_owned');
  assert.equal((await config(r, g.id, KEY_B)).status, 200);
  const re = await register(r, b, KEY_B);
  assert.equal(re.status, 201, re.text);
  assert.equal(re.json.id, g.id);
});

test('a registration never moves a gateway to another tenant: 409, the gateway unchanged', async () => {
  const b = body({ tenant_id: 'acme' });
  const g = (await register(p, b)).json;
  for (const tenant_id of ['globex', null]) {
    const r = await register(p, { ...b, tenant_id, version: '9.9.9' });
    assertError(assert, r, 409, 'tenant_mismatch');
    assert.match(r.json.error.message, /acme/);
  }
  const s = (await register(p, body({ tenant_id: null }))).json;
  assertError(assert, await register(p, { hostname: s.hostname, mode: 'edge-mcp', version: '1', environment: 'prod', admin_url: 'http://a', tenant_id: 'acme' }), 409, 'tenant_mismatch');
  const d = (await p.get(`/v1/gateways/${g.id}`, { key: KEYS.admin })).json;
  assert.equal(d.tenant_id, 'acme');
  assert.equal(d.version, '0.1.0');
  // Deleted by a cpi-admin, it may register for another tenant (a new id).
  assert.equal((await p.del(`/v1/gateways/${g.id}`, { key: KEYS.admin })).status, 204);
  const moved = await register(p, { ...b, tenant_id: 'globex' });
  assert.equal(moved.status, 201, moved.text);
  assert.notEqual(moved.json.id, g.id);
  assert.equal(moved.json.tenant_id, 'globex');
});

// ---- logs ---------------------------------------------------------------------

test('failed registrations and heartbeats are logged once per name or address per minute, never the key', async () => {
  const x = await started({ config: { gateways: { api_keys: `${KEY_A},${KEY_B}` } } });
  const wrong = 'gw_wrong_secret_never_logged_42';
  for (let i = 0; i < 5; i++) assertError(assert, await register(x, body(), wrong), 401);
  const lines = () => x.stderr.split('\n').filter((l) => l.includes('gateways.'));
  await waitFor(async () => lines().some((l) => /warn/.test(l) && l.includes('address 127.0.0.1')), 5000, 'the 401 warning');
  const byAddr = lines().filter((l) => l.includes('address 127.0.0.1'));
  assert.equal(byAddr.length, 1, byAddr.join('\n'));
  assert.match(byAddr[0], /gateways\.register/);
  assert.match(byAddr[0], /401/);
  assert.match(byAddr[0], /invalid/);
  // By name: a 403 for another key's gateway, then a 400 heartbeat for it.
  const b = body();
  const g = (await register(x, b, KEY_A)).json;
  for (let i = 0; i < 3; i++) assertError(assert, await heartbeat(x, g.id, { uptime_seconds: 1 }, KEY_B), 403, 'gateway_owned');
  assertError(assert, await heartbeat(x, g.id, { uptime_seconds: -1 }, KEY_A), 400, 'invalid_field');
  await waitFor(async () => lines().some((l) => l.includes(`gateway ${g.name}`)), 5000, 'the 403 warning');
  const byName = lines().filter((l) => l.includes(`for gateway ${g.name}`));
  assert.equal(byName.length, 1, byName.join('\n'));
  assert.match(byName[0], /403 gateway_owned/);
  for (const k of [wrong, KEY_A, KEY_B]) assert.ok(!x.stderr.includes(k), 'a key in the log');
});

test('serve warns at start when no gateway keys are configured', async () => {
  const x = await started({ config: { gateways: { api_keys: '' } } });
  assert.match(x.stderr, /gateways\.api_keys is empty.*registration is disabled/);
  assert.doesNotMatch(p.stderr, /registration is disabled/);
  const r = await register(x, body());
  assertError(assert, r, 503, 'gateway_keys_not_configured');
  await waitFor(async () => /gateways\.register failed for address 127\.0\.0\.1.*503/.test(x.stderr), 5000, 'the 503 warning');
});

// ---- thresholds -------------------------------------------------------------------

test('list and detail carry the status thresholds the server uses', async () => {
  const x = await started({ config: { gateways: { offline_after_seconds: 45, degraded_error_rate: 0.2 } } });
  const g = (await register(x, body())).json;
  const l = await x.get('/v1/gateways', { key: KEYS.viewer });
  assert.deepEqual(l.json.thresholds, { offline_after_seconds: 45, degraded_error_rate: 0.2 });
  const d = await x.get(`/v1/gateways/${g.id}`, { key: KEYS.viewer });
  assert.deepEqual(d.json.thresholds, { offline_after_seconds: 45, degraded_error_rate: 0.2 });
  // 0.15 is below this server's threshold: online, where the default 0.05 would say degraded.
  assert.equal((await heartbeat(x, g.id, { uptime_seconds: 1, error_rate: 0.15 })).status, 204);
  assert.equal((await x.get(`/v1/gateways/${g.id}`, { key: KEYS.viewer })).json.status, 'online');
});

// ---- readiness ----------------------------------------------------------------------

function oidcConfig(issuer) {
  return { oidc: { issuer, client_id: CLIENT_ID, client_secret: CLIENT_SECRET, http_timeout_ms: 3000 } };
}

test('readiness is true from the first request when the provider is up', async () => {
  const idp = await startIdp();
  try {
    idp.configure({ keys: [makeKey('RSA', undefined, 'RS256')], redirectUris: ['http://127.0.0.1:9/auth/callback'] });
    // A provider that takes its time (well within oidc.http_timeout_ms):
    // discovery in the background would still be running at the first probe.
    const handler = idp.handler;
    idp.handler = (req, res) => setTimeout(() => handler(req, res), 700);
    const x = await started({ config: oidcConfig(idp.issuer) });
    // Right after the listening line, no waiting.
    const r = await x.get('/readyz');
    assert.equal(r.status, 200, r.text);
    assert.equal(r.text, 'ready\n');
  } finally {
    await idp.close();
  }
});

test('a negative readiness answer is not kept once the provider is discovered', async () => {
  const idp = await startIdp(); // listening, but no provider yet: discovery fails
  try {
    const x = await started({ config: oidcConfig(idp.issuer) });
    const first = await x.get('/readyz');
    assert.equal(first.status, 503);
    assert.match(first.text, /NOT READY: OIDC provider unreachable/);
    idp.configure({ keys: [makeKey('RSA', undefined, 'RS256')], redirectUris: [x.url + '/auth/callback'] });
    // Keep asking /readyz (a cached "not ready" would stick for seconds) until
    // sign-in shows discovery happened; the very next probe must say ready.
    await waitFor(async () => {
      await x.get('/readyz');
      return (await x.get('/auth/login')).status === 302;
    }, 20000, 'discovery');
    const r = await x.get('/readyz');
    assert.equal(r.status, 200, r.text);
  } finally {
    await idp.close();
  }
});
