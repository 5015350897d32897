// Gateways: the protocol (register, heartbeat, config) with its key checks
// and validation, derived status and its transitions (recorded once), the
// console API (list, filters, counts, ETag, detail, maintenance, delete),
// deployments, the SSE event stream (order, cap, shutdown), restart on the
// same database, and two replicas on one PostgreSQL.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { Portico, startPortico, assertError, KEYS, GATEWAY_KEY, DB_KIND, sleep } from './lib/harness.js';
import { openEventStream } from './lib/sse.js';

// A short offline window so transitions happen within the test.
const WINDOW = { offline_after_seconds: 2, health_interval_ms: 200 };
let p, q; // q: a long window, for list tests that must not see gateways go offline
const extra = [];
before(async () => {
  [p, q] = await Promise.all([
    startPortico({ config: { gateways: WINDOW } }),
    startPortico({ config: { gateways: { offline_after_seconds: 120 } } }),
  ]);
  extra.push(q);
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

const gwHeaders = (key = GATEWAY_KEY) => (key === null ? {} : { 'X-Gateway-Key': key });
const register = (inst, body, key) => inst.post('/v1/internal/gateways/register', body, { headers: gwHeaders(key) });
const heartbeat = (inst, id, body, key) => inst.post(`/v1/internal/gateways/${id}/heartbeat`, body, { headers: gwHeaders(key) });
const detail = (inst, id, key = KEYS.admin) => inst.get(`/v1/gateways/${id}`, { key });

let seq = 0;
function gwBody(over = {}) {
  seq += 1;
  return { hostname: `gw-${process.pid}-${seq}`, mode: 'edge-mcp', version: '0.1.0', environment: 'test', admin_url: 'http://10.0.0.1:8080', ...over };
}

async function registered(inst, over) {
  const r = await register(inst, gwBody(over));
  assert.equal(r.status, 201, r.text);
  return r.json;
}

// Polls fn until it returns a truthy value (or fails after ms).
async function waitFor(fn, ms = 6000, what = 'condition') {
  const end = Date.now() + ms;
  let last;
  while (Date.now() < end) {
    last = await fn();
    if (last) return last;
    await sleep(50);
  }
  assert.fail(`timed out waiting for ${what}`);
}

const pairs = (transitions) => transitions.map((t) => `${t.from}>${t.to}`);

// Opens /v1/gateways/events and parses events as they arrive.
async function openStream(inst, key = KEYS.admin) {
  const s = await openEventStream(inst.url, { 'X-API-Key': key });
  s.waitFor = (pred, ms = 6000, what = 'an event') => waitFor(() => s.events.find(pred), ms, what);
  return s;
}

// Inserts an API row directly: the catalog module owns POST /v1/apis.
function insertApi(inst, { tenant = 'default', name = 'Orders', version = '1.0' } = {}) {
  const id = randomUUID();
  const now = Date.now();
  const sql = `INSERT INTO apis (id, tenant_id, name, name_lower, version, created_at, updated_at) VALUES ('${id}', '${tenant}', '${name}', '${name.toLowerCase()}', '${version}', ${now}, ${now});`;
  if (DB_KIND === 'postgres') execFileSync('psql', ['-q', '-v', 'ON_ERROR_STOP=1', inst.dbUrl, '-c', sql]);
  else execFileSync('sqlite3', [join(inst.dir, 'portico.db'), `PRAGMA busy_timeout=5000; ${sql}`]);
  return id;
}

// ---- the protocol -----------------------------------------------------------

test('no gateway keys configured: 503 before any other check', async () => {
  const x = await started({ config: { gateways: { api_keys: '' } } });
  assertError(assert, await register(x, gwBody()), 503, 'gateway_keys_not_configured');
  assertError(assert, await register(x, gwBody(), null), 503, 'gateway_keys_not_configured');
  assertError(assert, await heartbeat(x, randomUUID(), { uptime_seconds: 1 }), 503, 'gateway_keys_not_configured');
  assertError(assert, await x.get(`/v1/internal/gateways/${randomUUID()}/config`, { headers: gwHeaders() }), 503, 'gateway_keys_not_configured');
});

test('missing or wrong gateway key: 401; API keys are not gateway keys', async () => {
  assertError(assert, await register(p, gwBody(), null), 401);
  assertError(assert, await register(p, gwBody(), 'wrong-key'), 401);
  assertError(assert, await register(p, gwBody(), ''), 401);
  assertError(assert, await register(p, gwBody(), GATEWAY_KEY + 'x'), 401);
  const r = await p.post('/v1/internal/gateways/register', gwBody(), { key: KEYS.admin });
  assertError(assert, r, 401);
  // ...and a gateway key is not an API key.
  assertError(assert, await p.get('/v1/gateways', { headers: { 'X-API-Key': GATEWAY_KEY } }), 401);
});

test('register: every bad field is a 400 naming the field', async () => {
  const long = (n) => 'a'.repeat(n);
  const cases = [
    [{ hostname: undefined }, 'hostname'],
    [{ hostname: '' }, 'hostname'],
    [{ hostname: 'bad host' }, 'hostname'],
    [{ hostname: 'gw/1' }, 'hostname'],
    [{ hostname: long(254) }, 'hostname'],
    [{ hostname: 42 }, 'hostname'],
    [{ mode: undefined }, 'mode'],
    [{ mode: 'kong' }, 'mode'],
    [{ mode: 'edge mcp' }, 'mode'],
    [{ version: undefined }, 'version'],
    [{ version: '' }, 'version'],
    [{ version: long(101) }, 'version'],
    [{ environment: 'Prod' }, 'environment'],
    [{ environment: '' }, 'environment'],
    [{ environment: long(64) }, 'environment'],
    [{ environment: 'pr od' }, 'environment'],
    [{ capabilities: 'rest' }, 'capabilities'],
    [{ capabilities: [1] }, 'capabilities'],
    [{ capabilities: Array.from({ length: 33 }, (_, i) => `c${i}`) }, 'capabilities'],
    [{ admin_url: undefined }, 'admin_url'],
    [{ admin_url: 'ftp://10.0.0.1' }, 'admin_url'],
    [{ admin_url: 'http://' }, 'admin_url'],
    [{ admin_url: 'http://x/' + long(2048) }, 'admin_url'],
    [{ tenant_id: 'bad tenant!' }, 'tenant_id'],
    [{ tenant_id: '' }, 'tenant_id'],
  ];
  for (const [over, field] of cases) {
    const body = gwBody(over);
    for (const k of Object.keys(over)) if (over[k] === undefined) delete body[k];
    const r = await register(p, body);
    assertError(assert, r, 400, 'invalid_field');
    assert.ok(r.json.error.message.startsWith(field + ':'), `${JSON.stringify(over).slice(0, 80)} → ${r.json.error.message}`);
  }
  assertError(assert, await p.post('/v1/internal/gateways/register', 'not json', { headers: gwHeaders() }), 400, 'invalid_json');
  assertError(assert, await p.post('/v1/internal/gateways/register', [], { headers: gwHeaders() }), 400, 'invalid_json');
});

test('register: name derivation, type, defaults and the item shape', async () => {
  const r = await register(p, { hostname: 'stoa-gw-abc123', mode: 'edge-mcp', version: '0.1.0', environment: 'prod', capabilities: ['rest', 'mcp'], admin_url: 'http://10.0.1.50:8080', tenant_id: null });
  assert.equal(r.status, 201, r.text);
  const g = r.json;
  assert.equal(g.name, 'stoa-gw-abc123-edgemcp-prod');
  assert.equal(g.type, 'stoa_edge_mcp');
  assert.equal(g.mode, 'edge-mcp');
  assert.equal(g.tenant_id, null); // "tenant_id": null = shared, stored and returned as null
  assert.deepEqual(g.capabilities, ['rest', 'mcp']);
  assert.match(g.id, /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
  assert.deepEqual(Object.keys(g).sort(), ['admin_url', 'capabilities', 'environment', 'health_details', 'hostname', 'id', 'last_heartbeat_at', 'live', 'mode', 'name', 'registered_at', 'status', 'status_reason', 'tenant_id', 'type', 'version'].sort());
  assert.deepEqual(Object.keys(g.health_details).sort(), ['error_rate', 'policies_count', 'registered_at', 'requests_total', 'routes_count', 'uptime_seconds'].sort());
  // A registration counts as a heartbeat.
  assert.equal(g.status, 'online');
  assert.equal(g.live, true);
  assert.equal(g.last_heartbeat_at, g.registered_at);
  assert.match(g.status_reason, /^heartbeat \d+ s ago$/);
  assert.ok(!JSON.stringify(g).includes(GATEWAY_KEY));

  // Mode normalisation: these all name the same gateway.
  for (const mode of ['EDGE_MCP', 'edgemcp', 'mcp', 'Edge-Mcp']) {
    const again = await register(p, { hostname: 'STOA-GW-ABC123', mode, version: '0.1.1', environment: 'prod', admin_url: 'http://10.0.1.50:8080' });
    assert.equal(again.status, 201, again.text);
    assert.equal(again.json.id, g.id, mode);
    assert.equal(again.json.mode, 'edge-mcp');
  }
  const kinds = { sidecar: 'stoa_sidecar', proxy: 'stoa_proxy', shadow: 'stoa_shadow', connect: 'stoa' };
  for (const [mode, type] of Object.entries(kinds)) {
    const k = await register(p, { hostname: 'kong-sidecar-xyz', mode, version: '1', environment: 'staging', admin_url: 'https://k.example' });
    assert.equal(k.status, 201, k.text);
    assert.equal(k.json.type, type);
    assert.equal(k.json.name, `kong-sidecar-xyz-${mode}-staging`);
  }
  const d = await register(p, { hostname: 'envless', mode: 'proxy', version: '1', admin_url: 'http://a' });
  assert.equal(d.json.environment, 'dev');
  assert.equal(d.json.name, 'envless-proxy-dev');
  assert.deepEqual(d.json.capabilities, []);
});

test('re-registering the same name updates it in place: same id, fields replaced, no duplicate', async () => {
  const body = gwBody({ hostname: `idem-${process.pid}`, version: '1.0.0', capabilities: ['a'] });
  const first = (await register(p, body)).json;
  const second = await register(p, { ...body, version: '2.0.0', capabilities: ['b', 'c'], admin_url: 'https://new.example:9443' });
  assert.equal(second.status, 201);
  assert.equal(second.json.id, first.id);
  assert.equal(second.json.version, '2.0.0');
  assert.deepEqual(second.json.capabilities, ['b', 'c']);
  assert.equal(second.json.admin_url, 'https://new.example:9443');
  assert.equal(second.json.tenant_id, null);
  // Concurrent registrations of one name still make one row.
  const all = await Promise.all(Array.from({ length: 8 }, () => register(p, body)));
  for (const r of all) {
    assert.equal(r.status, 201, r.text);
    assert.equal(r.json.id, first.id);
  }
  const list = await p.get(`/v1/gateways?q=${encodeURIComponent(body.hostname)}`, { key: KEYS.admin });
  assert.equal(list.status, 200);
  assert.equal(list.json.total, 1);
  assert.equal(list.json.items[0].id, first.id);
  assert.equal(list.json.items[0].tenant_id, null);
});

test('heartbeat: 204, 404 for unknown or malformed ids, 400 naming the field', async () => {
  const g = await registered(p);
  const ok = await heartbeat(p, g.id, { uptime_seconds: 3600, routes_count: 15, policies_count: 5, requests_total: 10000, error_rate: 0.01 });
  assert.equal(ok.status, 204, ok.text);
  assert.equal(ok.text, '');
  assert.equal((await heartbeat(p, g.id.toUpperCase(), { uptime_seconds: 1 })).status, 204);
  assertError(assert, await heartbeat(p, randomUUID(), { uptime_seconds: 1 }), 404, 'not_found');
  assertError(assert, await heartbeat(p, 'not-a-uuid', { uptime_seconds: 1 }), 404, 'not_found');
  assertError(assert, await heartbeat(p, "1' OR '1'='1", { uptime_seconds: 1 }), 404, 'not_found');
  const bad = [
    [{}, 'uptime_seconds'],
    [{ uptime_seconds: -1 }, 'uptime_seconds'],
    [{ uptime_seconds: 1.5 }, 'uptime_seconds'],
    [{ uptime_seconds: '10' }, 'uptime_seconds'],
    [{ uptime_seconds: 1, routes_count: -1 }, 'routes_count'],
    [{ uptime_seconds: 1, policies_count: 2.5 }, 'policies_count'],
    [{ uptime_seconds: 1, requests_total: 'many' }, 'requests_total'],
    [{ uptime_seconds: 1, error_rate: 1.5 }, 'error_rate'],
    [{ uptime_seconds: 1, error_rate: -0.1 }, 'error_rate'],
    [{ uptime_seconds: 1, error_rate: 'high' }, 'error_rate'],
  ];
  for (const [body, field] of bad) {
    const r = await heartbeat(p, g.id, body);
    assertError(assert, r, 400, 'invalid_field');
    assert.ok(r.json.error.message.startsWith(field + ':'), r.json.error.message);
  }
  // Omitted optional fields become null; the previous sample is kept.
  const before = Date.now();
  assert.equal((await heartbeat(p, g.id, { uptime_seconds: 3700 })).status, 204);
  const d = (await detail(p, g.id)).json;
  assert.deepEqual({ ...d.health_details, registered_at: undefined }, { uptime_seconds: 3700, routes_count: null, policies_count: null, requests_total: null, error_rate: null, registered_at: undefined });
  assert.ok(Date.parse(d.last_heartbeat_at) >= before - 5, 'the heartbeat time is the server receive time');
  assert.equal(d.previous_health.uptime_seconds, 1);
  assert.equal(typeof d.seconds_since_heartbeat, 'number');
  assert.ok(Number.isInteger(d.seconds_since_heartbeat));
});

test('config: the gateway identity with pending deployments and policies', async () => {
  const g = await registered(p, { environment: 'cfg' });
  const r = await p.get(`/v1/internal/gateways/${g.id}/config`, { headers: gwHeaders() });
  assert.equal(r.status, 200, r.text);
  assert.deepEqual(r.json, { gateway_id: g.id, name: g.name, environment: 'cfg', tenant_id: null, pending_deployments: [], pending_policies: [], subscriptions: [], subscriptions_etag: r.json.subscriptions_etag, subscriptions_unchanged: false });
  assertError(assert, await p.get(`/v1/internal/gateways/${randomUUID()}/config`, { headers: gwHeaders() }), 404, 'not_found');
  assertError(assert, await p.get(`/v1/internal/gateways/${g.id}/config`), 401);
});

// ---- status -----------------------------------------------------------------

test('status transitions online→degraded→online→offline→online, each recorded once', async () => {
  const g = await registered(p);
  assert.equal((await heartbeat(p, g.id, { uptime_seconds: 1, error_rate: 0.01 })).status, 204);
  assert.equal((await detail(p, g.id)).json.status, 'online');

  assert.equal((await heartbeat(p, g.id, { uptime_seconds: 2, error_rate: 0.08 })).status, 204);
  let d = (await detail(p, g.id)).json;
  assert.equal(d.status, 'degraded');
  assert.equal(d.status_reason, 'error rate 8.0% above 5.0%');
  assert.equal(d.live, true);

  assert.equal((await heartbeat(p, g.id, { uptime_seconds: 3, error_rate: 0.01 })).status, 204);
  assert.equal((await detail(p, g.id)).json.status, 'online');

  d = await waitFor(async () => { const x = (await detail(p, g.id)).json; return x.status === 'offline' && x; }, 6000, 'offline');
  assert.equal(d.live, false);
  assert.match(d.status_reason, /^no heartbeat for \d+ s$/);
  assert.ok(d.seconds_since_heartbeat >= 2);
  // The worker records the transition within a few intervals.
  await waitFor(async () => pairs((await detail(p, g.id)).json.transitions).includes('online>offline'), 3000, 'online>offline recorded');

  assert.equal((await heartbeat(p, g.id, { uptime_seconds: 10, error_rate: 0 })).status, 204);
  d = (await detail(p, g.id)).json;
  assert.equal(d.status, 'online');
  assert.equal(d.live, true);
  await sleep(800); // several worker passes: nothing more may be recorded
  d = (await detail(p, g.id)).json;
  assert.deepEqual(pairs(d.transitions), ['offline>online', 'online>offline', 'degraded>online', 'online>degraded', 'null>online']);
  assert.equal(d.transitions[4].reason, 'registered');
  assert.equal(d.transitions[3].reason, 'error rate 8.0% above 5.0%');
  assert.match(d.transitions[2].reason, /^heartbeat \d+ s ago$/);
  assert.match(d.transitions[1].reason, /^no heartbeat for \d+ s$/);
  for (let i = 1; i < d.transitions.length; i++) assert.ok(d.transitions[i - 1].at >= d.transitions[i].at, 'newest first');
});

test('detail: 404 for unknown, malformed or other tenants\' gateways', async () => {
  assertError(assert, await detail(p, randomUUID()), 404, 'not_found');
  assertError(assert, await detail(p, 'nope'), 404, 'not_found');
  const g = await registered(p, { tenant_id: 'globex' });
  assert.equal((await detail(p, g.id)).status, 200);
  assertError(assert, await detail(p, g.id, KEYS.viewer), 404, 'not_found');
  assert.equal((await detail(p, g.id, KEYS.otherTenantAdmin)).status, 200);
  assertError(assert, await p.get(`/v1/gateways/${g.id}`), 401);
});

test('restart Portico on the same database: status is still right', async () => {
  const cfg = { gateways: WINDOW };
  const a = await started({ config: cfg });
  const g = (await register(a, gwBody())).json;
  assert.equal((await heartbeat(a, g.id, { uptime_seconds: 5, error_rate: 0.08 })).status, 204);
  assert.equal((await detail(a, g.id)).json.status, 'degraded');
  assert.equal(await a.stop(), 0);
  await sleep(2600);
  const b = new Portico({ dir: a.dir, dbUrl: a.dbUrl, config: cfg });
  await b.start();
  extra.push(b);
  const d = (await detail(b, g.id)).json;
  assert.equal(d.status, 'offline');
  assert.equal(d.live, false);
  assert.match(d.status_reason, /^no heartbeat for \d+ s$/);
  assert.ok(d.seconds_since_heartbeat >= 2);
  await waitFor(async () => pairs((await detail(b, g.id)).json.transitions).includes('degraded>offline'), 3000, 'degraded>offline');
  assert.equal((await heartbeat(b, g.id, { uptime_seconds: 1, error_rate: 0.01 })).status, 204);
  const e = (await detail(b, g.id)).json;
  assert.equal(e.status, 'online');
  assert.deepEqual(pairs(e.transitions), ['offline>online', 'degraded>offline', 'online>degraded', 'null>online']);
});

// ---- console ----------------------------------------------------------------

test('list: envelope, now, counts per status, filters and paging', async () => {
  const env = `flt${process.pid}`;
  const on = await registered(q, { environment: env, mode: 'proxy' });
  const deg = await registered(q, { environment: env, mode: 'sidecar' });
  await heartbeat(q, deg.id, { uptime_seconds: 1, error_rate: 0.5 });
  const mnt = await registered(q, { environment: env, mode: 'shadow' });
  assert.equal((await q.post(`/v1/gateways/${mnt.id}/maintenance`, { enabled: true }, { key: KEYS.admin })).status, 200);

  const all = await q.get('/v1/gateways?page_size=100', { key: KEYS.admin });
  assert.equal(all.status, 200);
  assert.ok(Date.parse(all.json.now) > 0);
  assert.deepEqual(Object.keys(all.json.counts).sort(), ['degraded', 'maintenance', 'offline', 'online']);
  assert.equal(all.json.page, 1);
  assert.equal(all.json.page_size, 100);
  const sum = Object.values(all.json.counts).reduce((a, b) => a + b, 0);
  assert.equal(sum, all.json.total);
  for (const s of ['online', 'offline', 'degraded', 'maintenance'])
    assert.equal(all.json.counts[s], all.json.items.filter((i) => i.status === s).length, s);

  const byEnv = await q.get(`/v1/gateways?environment=${env}`, { key: KEYS.admin });
  assert.equal(byEnv.json.total, 3);
  assert.deepEqual(byEnv.json.items.map((i) => i.status).sort(), ['degraded', 'maintenance', 'online']);
  for (const [status, id] of [['online', on.id], ['degraded', deg.id], ['maintenance', mnt.id]]) {
    const f = await q.get(`/v1/gateways?environment=${env}&status=${status}`, { key: KEYS.admin });
    assert.equal(f.status, 200);
    assert.deepEqual(f.json.items.map((i) => i.id), [id], status);
    assert.equal(f.json.total, 1);
  }
  const t = await q.get(`/v1/gateways?environment=${env}&type=stoa_sidecar`, { key: KEYS.admin });
  assert.deepEqual(t.json.items.map((i) => i.id), [deg.id]);
  const byName = await q.get(`/v1/gateways?q=${encodeURIComponent(deg.name.toUpperCase())}`, { key: KEYS.admin });
  assert.deepEqual(byName.json.items.map((i) => i.id), [deg.id]);
  // Words split on any ASCII whitespace, as in catalog search.
  const [w1, w2] = [deg.name.slice(0, 3), deg.name.slice(-3)];
  const spaced = await q.get(`/v1/gateways?q=${encodeURIComponent(`${w1} ${w2}`)}`, { key: KEYS.admin });
  assert.ok(spaced.json.items.some((i) => i.id === deg.id));
  for (const sep of ['\t', '\n', '\r', '\f', '\v']) {
    const r = await q.get(`/v1/gateways?q=${encodeURIComponent(`${w1}${sep}${w2}`)}`, { key: KEYS.admin });
    assert.deepEqual(r.json.items.map((i) => i.id), spaced.json.items.map((i) => i.id), JSON.stringify(sep));
  }
  for (const lit of ['%', '_', '\\', "'"]) {
    const r = await q.get(`/v1/gateways?q=${encodeURIComponent(lit)}`, { key: KEYS.admin });
    assert.equal(r.status, 200, lit);
    if (lit !== '_') assert.equal(r.json.total, 0, lit); // names hold no % \ or '
  }
  // Paging.
  const p1 = await q.get(`/v1/gateways?environment=${env}&page_size=2`, { key: KEYS.admin });
  const p2 = await q.get(`/v1/gateways?environment=${env}&page_size=2&page=2`, { key: KEYS.admin });
  const p9 = await q.get(`/v1/gateways?environment=${env}&page_size=2&page=9`, { key: KEYS.admin });
  assert.equal(p1.json.items.length, 2);
  assert.equal(p2.json.items.length, 1);
  assert.equal(p9.status, 200);
  assert.deepEqual(p9.json.items, []);
  assert.equal(new Set([...p1.json.items, ...p2.json.items].map((i) => i.id)).size, 3);
  // Bad parameters.
  assertError(assert, await q.get('/v1/gateways?status=sleeping', { key: KEYS.admin }), 400, 'invalid_parameter');
  assertError(assert, await q.get('/v1/gateways?page=0', { key: KEYS.admin }), 400, 'invalid_parameter');
  assertError(assert, await q.get('/v1/gateways?page_size=101', { key: KEYS.admin }), 400, 'invalid_parameter');
  assertError(assert, await q.get(`/v1/gateways?q=${'x'.repeat(201)}`, { key: KEYS.admin }), 400, 'invalid_parameter');
  assertError(assert, await q.get('/v1/gateways?q=%FF', { key: KEYS.admin }), 400, 'invalid_parameter');
});

test('filters do not change counts', async () => {
  await waitFor(async () => {
    const a = await p.get('/v1/gateways', { key: KEYS.admin });
    const b = await p.get('/v1/gateways?status=degraded&environment=nowhere&type=stoa&q=zzz', { key: KEYS.admin });
    assert.equal(b.json.total, 0);
    assert.deepEqual(b.json.items, []);
    const off = await p.get('/v1/gateways?status=offline&page_size=100', { key: KEYS.admin });
    assert.ok(off.json.items.every((i) => i.status === 'offline' && i.live === false));
    assert.equal(off.json.total, off.json.counts.offline);
    // A gateway may cross the offline line between the calls: retry.
    try {
      assert.deepEqual(b.json.counts, a.json.counts);
      assert.deepEqual(off.json.counts, a.json.counts);
      return a.json.counts.offline > 0;
    } catch { return false; }
  }, 4000, 'equal counts');
});

test('list is tenant-scoped for non-admins; counts too', async () => {
  const mine = await registered(q, { tenant_id: 'acme', environment: 'scoped' });
  await registered(q, { tenant_id: 'globex', environment: 'scoped' });
  const v = await q.get('/v1/gateways?page_size=100', { key: KEYS.viewer });
  assert.equal(v.status, 200);
  assert.ok(v.json.items.length >= 1);
  assert.ok(v.json.items.every((i) => i.tenant_id === 'acme' || i.tenant_id === null));
  assert.ok(v.json.items.some((i) => i.id === mine.id));
  assert.equal(Object.values(v.json.counts).reduce((a, b) => a + b, 0), v.json.total);
  const a = await q.get('/v1/gateways?environment=scoped', { key: KEYS.admin });
  assert.equal(a.json.total, 2);
  assertError(assert, await q.get('/v1/gateways'), 401);
});

test('list ETag covers everything but now; If-None-Match → 304', async () => {
  const g = await registered(q, { environment: 'etag' });
  let hit = false, tag;
  for (let i = 0; i < 5 && !hit; i++) {
    const a = await q.get('/v1/gateways?environment=etag', { key: KEYS.admin });
    tag = a.headers.get('etag');
    assert.match(tag, /^"[0-9a-f]+"$/);
    const b = await q.get('/v1/gateways?environment=etag', { key: KEYS.admin, headers: { 'If-None-Match': tag } });
    // status_reason counts seconds, so a second boundary may change the body.
    if (b.status === 304) { hit = true; assert.equal(b.text, ''); assert.equal(b.headers.get('etag'), tag); }
    else assert.equal(b.status, 200);
  }
  assert.ok(hit, 'expected a 304');
  await heartbeat(q, g.id, { uptime_seconds: 1, error_rate: 0.3 });
  const c = await q.get('/v1/gateways?environment=etag', { key: KEYS.admin, headers: { 'If-None-Match': tag } });
  assert.equal(c.status, 200);
  assert.notEqual(c.headers.get('etag'), tag);
});

test('maintenance on/off: heartbeats do not clear it; roles and tenants enforced', async () => {
  const g = await registered(p, { tenant_id: 'acme' });
  assertError(assert, await p.post(`/v1/gateways/${g.id}/maintenance`, { enabled: true }, { key: KEYS.viewer }), 403, 'forbidden');
  assertError(assert, await p.post(`/v1/gateways/${g.id}/maintenance`, { enabled: true }, { key: KEYS.tenantAdmin }), 403, 'forbidden');
  assertError(assert, await p.post(`/v1/gateways/${g.id}/maintenance`, { enabled: 'yes' }, { key: KEYS.devops }), 400, 'invalid_field');
  assertError(assert, await p.post(`/v1/gateways/${g.id}/maintenance`, {}, { key: KEYS.devops }), 400, 'invalid_field');
  assertError(assert, await p.post(`/v1/gateways/${randomUUID()}/maintenance`, { enabled: true }, { key: KEYS.devops }), 404, 'not_found');
  const other = await registered(p, { tenant_id: 'globex' });
  assertError(assert, await p.post(`/v1/gateways/${other.id}/maintenance`, { enabled: true }, { key: KEYS.devops }), 404, 'not_found');

  const on = await p.post(`/v1/gateways/${g.id}/maintenance`, { enabled: true }, { key: KEYS.devops });
  assert.equal(on.status, 200, on.text);
  assert.equal(on.json.id, g.id);
  assert.equal(on.json.status, 'maintenance');
  assert.equal(on.json.status_reason, 'in maintenance');
  assert.equal((await heartbeat(p, g.id, { uptime_seconds: 1, error_rate: 0.9 })).status, 204);
  assert.equal((await register(p, gwBody({ hostname: g.hostname, tenant_id: 'acme' }))).json.status, 'maintenance');
  const d = (await detail(p, g.id)).json;
  assert.equal(d.status, 'maintenance');
  assert.equal(d.live, true);
  const off = await p.post(`/v1/gateways/${g.id}/maintenance`, { enabled: false }, { key: KEYS.admin });
  assert.equal(off.status, 200);
  assert.equal(off.json.status, 'online');
  const t = pairs((await detail(p, g.id)).json.transitions);
  assert.deepEqual(t, ['maintenance>online', 'online>maintenance', 'null>online']);
});

test('delete: cpi-admin only; registering again makes a new id', async () => {
  const g = await registered(p);
  assertError(assert, await p.del(`/v1/gateways/${g.id}`, { key: KEYS.devops }), 403, 'forbidden');
  assertError(assert, await p.del(`/v1/gateways/${g.id}`, { key: KEYS.tenantAdmin }), 403, 'forbidden');
  const r = await p.del(`/v1/gateways/${g.id}`, { key: KEYS.admin });
  assert.equal(r.status, 204);
  assertError(assert, await detail(p, g.id), 404, 'not_found');
  assertError(assert, await p.del(`/v1/gateways/${g.id}`, { key: KEYS.admin }), 404, 'not_found');
  assertError(assert, await heartbeat(p, g.id, { uptime_seconds: 1 }), 404, 'not_found');
  const again = await register(p, gwBody({ hostname: g.hostname }));
  assert.equal(again.status, 201);
  assert.notEqual(again.json.id, g.id);
});

// ---- deployments ------------------------------------------------------------

test('deployments: deploy, list, conflict, sync, /config, roles and tenants', async () => {
  const g = await registered(p, { tenant_id: 'acme', environment: 'dep' });
  const apiId = insertApi(p, { tenant: 'acme', name: 'Orders', version: '2.1' });
  assertError(assert, await p.post('/v1/deployments', { api_id: apiId, gateway_id: g.id }, { key: KEYS.viewer }), 403, 'forbidden');
  assertError(assert, await p.post('/v1/deployments', { api_id: randomUUID(), gateway_id: g.id }, { key: KEYS.devops }), 404, 'not_found');
  assertError(assert, await p.post('/v1/deployments', { api_id: apiId, gateway_id: randomUUID() }, { key: KEYS.devops }), 404, 'not_found');
  assertError(assert, await p.post('/v1/deployments', { api_id: 'x', gateway_id: g.id }, { key: KEYS.devops }), 400, 'invalid_field');
  assertError(assert, await p.post('/v1/deployments', { api_id: apiId }, { key: KEYS.devops }), 400, 'invalid_field');
  // Another tenant's API or gateway is not found.
  assertError(assert, await p.post('/v1/deployments', { api_id: apiId, gateway_id: g.id }, { key: KEYS.otherTenantAdmin }), 404, 'not_found');

  const c = await p.post('/v1/deployments', { api_id: apiId, gateway_id: g.id }, { key: KEYS.devops });
  assert.equal(c.status, 201, c.text);
  assert.equal(c.json.api_id, apiId);
  assert.equal(c.json.api_name, 'Orders');
  assert.equal(c.json.gateway_id, g.id);
  assert.equal(c.json.tenant_id, 'acme');
  assert.equal(c.json.sync_status, 'pending');
  assert.equal(c.json.sync_attempts, 0);
  assert.equal(c.json.last_error, null);
  assert.deepEqual(Object.keys(c.json).sort(), ['api_id', 'api_name', 'api_version', 'applied_hash', 'created_at', 'desired_state', 'environment', 'expected_hash', 'gateway_id', 'gateway_name', 'id', 'last_error', 'last_reported_at', 'sync_attempts', 'sync_status', 'synced_at', 'target_environment', 'tenant_id', 'updated_at']);
  assertError(assert, await p.post('/v1/deployments', { api_id: apiId, gateway_id: g.id }, { key: KEYS.admin }), 409, 'already_deployed');

  // A draft API: its deployments are for management readers (viewers: tests/api/deployments.test.js).
  const l = await p.get(`/v1/deployments?gateway_id=${g.id}`, { key: KEYS.devops });
  assert.equal(l.status, 200);
  assert.equal(l.json.total, 1);
  assert.equal(l.json.items[0].id, c.json.id);
  assert.equal((await p.get(`/v1/deployments?gateway_id=${g.id}`, { key: KEYS.otherTenantAdmin })).json.total, 0);
  assertError(assert, await p.get('/v1/deployments?gateway_id=nope', { key: KEYS.admin }), 400, 'invalid_parameter');

  const cfg = await p.get(`/v1/internal/gateways/${g.id}/config`, { headers: gwHeaders() });
  assert.equal(cfg.status, 200);
  assert.equal(cfg.json.tenant_id, 'acme');
  assert.equal(cfg.json.pending_deployments.length, 1);
  const pd = cfg.json.pending_deployments[0];
  assert.equal(pd.id, c.json.id);
  assert.equal(pd.api_id, apiId);
  assert.equal(pd.api_name, 'Orders');
  assert.equal(pd.version, '2.1');
  assert.equal(pd.desired_state, 'deployed');
  assert.equal(pd.sync_attempts, 0);
  assert.ok(Array.isArray(cfg.json.pending_policies));

  const s = await p.post(`/v1/deployments/${c.json.id}/sync`, undefined, { key: KEYS.devops });
  assert.equal(s.status, 200, s.text);
  assert.equal(s.json.sync_status, 'syncing');
  assert.equal(s.json.sync_attempts, 1);
  assert.equal((await p.post(`/v1/deployments/${c.json.id}/sync`, undefined, { key: KEYS.admin })).json.sync_attempts, 2);
  assertError(assert, await p.post(`/v1/deployments/${c.json.id}/sync`, undefined, { key: KEYS.viewer }), 403, 'forbidden');
  assertError(assert, await p.post(`/v1/deployments/${c.json.id}/sync`, undefined, { key: KEYS.otherTenantAdmin }), 404, 'not_found');
  assertError(assert, await p.post(`/v1/deployments/${randomUUID()}/sync`, undefined, { key: KEYS.admin }), 404, 'not_found');
});

// ---- events -----------------------------------------------------------------

test('event stream: registered, heartbeat and status events in order', async () => {
  const s = await openStream(p);
  try {
    assert.equal(s.res.status, 200);
    assert.match(s.res.headers.get('content-type'), /^text\/event-stream/);
    const g = await registered(p, { environment: 'sse' });
    await heartbeat(p, g.id, { uptime_seconds: 7, error_rate: 0.2 });
    const st = await s.waitFor((e) => e.type === 'gateway.status' && e.data.id === g.id, 6000, 'gateway.status');
    const mine = s.events.filter((e) => e.data.id === g.id && e.type !== 'gateway.history'); // history: its own test
    assert.deepEqual(mine.map((e) => e.type), ['gateway.registered', 'gateway.heartbeat', 'gateway.status']);
    assert.equal(mine[0].data.name, g.name);
    assert.equal(mine[0].data.status, 'online');
    assert.equal(mine[1].data.health_details.uptime_seconds, 7);
    assert.equal(mine[1].data.status, 'degraded');
    assert.equal(mine[1].data.live, true);
    assert.ok(Date.parse(mine[1].data.last_heartbeat_at) > 0);
    assert.equal(st.data.from, 'online');
    assert.equal(st.data.to, 'degraded');
    assert.equal(st.data.reason, 'error rate 20.0% above 5.0%');
    assert.ok(Date.parse(st.data.at) > 0);
    // The worker's transitions arrive too.
    await s.waitFor((e) => e.type === 'gateway.status' && e.data.id === g.id && e.data.to === 'offline', 6000, 'offline event');
    assert.ok(s.comments.includes('connected'));
  } finally { s.close(); }
});

test('event stream: tenant-scoped for non-admins; needs a credential', async () => {
  assertError(assert, await p.get('/v1/gateways/events'), 401);
  const s = await openStream(p, KEYS.viewer);
  try {
    assert.equal(s.res.status, 200);
    const theirs = await registered(p, { tenant_id: 'globex' });
    const mine = await registered(p, { tenant_id: 'acme' });
    await s.waitFor((e) => e.type === 'gateway.registered' && e.data.id === mine.id, 5000, 'own registration');
    assert.ok(!s.events.some((e) => e.data.id === theirs.id));
  } finally { s.close(); }
});

test('event stream cap: beyond max_event_streams → 503; a vanished client frees its slot', async () => {
  const x = await started({ config: { gateways: { ...WINDOW, max_event_streams: 1 } } });
  const a = await openStream(x);
  assert.equal(a.res.status, 200);
  const b = await openStream(x);
  assert.equal(b.res.status, 503);
  assert.equal(JSON.parse(b.text).error.code, 'too_many_streams');
  a.close();
  // The server notices on its next writes: make some events.
  const g = await registered(x);
  const c = await waitFor(async () => {
    await heartbeat(x, g.id, { uptime_seconds: 1 });
    const s = await openStream(x);
    if (s.res.status === 200) return s;
    return null;
  }, 8000, 'a free stream slot');
  c.close();
});

// How prompt the shutdown is, is a goal of `make bench` (bench/timing.mjs);
// here: it ends the stream and exits 0 (stop() is bounded: SIGKILL after 15 s).
test('shutdown with an open stream ends the stream and exits 0', async () => {
  const x = await started({ config: { gateways: WINDOW } });
  const s = await openStream(x);
  assert.equal(s.res.status, 200);
  assert.equal(await x.stop(), 0);
  await s.done;
  assert.ok(s.ended);
});

// ---- replicas ---------------------------------------------------------------

test('two Portico processes on one PostgreSQL: events cross replicas, transitions recorded once',
  { skip: DB_KIND !== 'postgres' && 'needs PostgreSQL (PORTICO_DB=postgres)' }, async () => {
    const cfg = { gateways: WINDOW };
    const a = await started({ config: cfg });
    const b = new Portico({ dbUrl: a.dbUrl, config: cfg });
    await b.start();
    extra.push(b);
    const s = await openStream(a);
    try {
      const g = (await register(a, gwBody())).json;
      assert.equal((await heartbeat(b, g.id, { uptime_seconds: 42, error_rate: 0.3 })).status, 204);
      const hb = await s.waitFor((e) => e.type === 'gateway.heartbeat' && e.data.id === g.id, 5000, "B's heartbeat on A");
      assert.equal(hb.data.health_details.uptime_seconds, 42);
      await s.waitFor((e) => e.type === 'gateway.status' && e.data.id === g.id && e.data.to === 'degraded', 5000, "B's transition on A");
      // Both workers race to record the offline transition: once only.
      await waitFor(async () => pairs((await detail(a, g.id)).json.transitions).includes('degraded>offline'), 6000, 'offline recorded');
      await sleep(800);
      const t = pairs((await detail(b, g.id)).json.transitions);
      assert.deepEqual(t, ['degraded>offline', 'online>degraded', 'null>online']);
      const offline = s.events.filter((e) => e.type === 'gateway.status' && e.data.id === g.id && e.data.to === 'offline');
      assert.equal(offline.length, 1);
    } finally { s.close(); }
  });
