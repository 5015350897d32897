// Audit log and metrics: what is recorded (and what is not), redaction,
// RBAC and tenant scoping, filters, the NDJSON export, nothing lost across a
// SIGTERM under load, drops when the buffer is full and the database stalls,
// retention, and /metrics (parsed, counters move, optional bearer token).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { randomBytes, randomUUID } from 'node:crypto';
import { startPortico, Portico, assertError, KEYS, GATEWAY_KEY, DB_KIND, sleep } from './lib/harness.js';

const METRICS_TOKEN = 'metrics-token-0123456789abcdef';

let p;
before(async () => { p = await startPortico({ config: { audit: { retention_days: 0 } } }); });
after(async () => { await p?.cleanup(); });

const uniq = () => randomBytes(4).toString('hex');

// GET /v1/audit as admin (or `key`) with the given query string.
async function auditList(inst, query = '', key = KEYS.admin) {
  const r = await inst.get('/v1/audit' + (query ? '?' + query : ''), { key });
  assert.equal(r.status, 200, r.text);
  return r.json;
}

// Polls /v1/audit until `pred(body)` holds; returns the body.
async function waitAudit(inst, query, pred, what, timeout = 10000) {
  const end = Date.now() + timeout;
  let body;
  for (;;) {
    body = await auditList(inst, query);
    if (pred(body)) return body;
    if (Date.now() > end) assert.fail(`timed out waiting for ${what}; last: ${JSON.stringify(body).slice(0, 2000)}`);
    await sleep(100);
  }
}

// Waits until the event of response `res` (by X-Request-Id) is in the audit.
async function waitEvent(inst, res, path) {
  const id = res.headers.get('x-request-id');
  assert.ok(id, 'response has a request id');
  const body = await waitAudit(inst, `path=${encodeURIComponent(path)}&page_size=100`,
    (b) => b.items.some((i) => i.request_id === id), `the event of ${path}`);
  return body.items.find((i) => i.request_id === id);
}

// Runs SQL on an instance's database with the sqlite3 / psql command-line tools.
function runSql(inst, sql) {
  if (DB_KIND === 'postgres') return execFileSync('psql', ['-qAt', '-v', 'ON_ERROR_STOP=1', inst.dbUrl, '-c', sql]).toString();
  return execFileSync('sqlite3', [join(inst.dir, 'portico.db'), sql]).toString();
}

// Holds a write lock on the audit table from another process until release().
async function stallDatabase(inst) {
  const proc = DB_KIND === 'postgres'
    ? spawn('psql', ['-qAt', inst.dbUrl], { stdio: ['pipe', 'pipe', 'pipe'] })
    : spawn('sqlite3', [join(inst.dir, 'portico.db')], { stdio: ['pipe', 'pipe', 'pipe'] });
  let out = '';
  proc.stdout.on('data', (d) => { out += d.toString(); });
  proc.stderr.on('data', (d) => { out += d.toString(); });
  const exited = new Promise((res) => proc.on('exit', res));
  proc.stdin.write(DB_KIND === 'postgres'
    ? "BEGIN;\nLOCK TABLE audit_events IN EXCLUSIVE MODE;\nSELECT 'locked';\n"
    : "BEGIN EXCLUSIVE;\nSELECT 'locked';\n");
  const end = Date.now() + 10000;
  while (!out.includes('locked')) {
    if (Date.now() > end) { proc.kill(); assert.fail('could not lock the database: ' + out); }
    await sleep(20);
  }
  return {
    async release() {
      proc.stdin.write('COMMIT;\n');
      proc.stdin.end();
      await exited;
    },
  };
}

// A small Prometheus text-format parser: returns {samples: [{name, labels, value}], types}.
function parseMetrics(text) {
  const samples = [];
  const types = {};
  const lineRe = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (-?[0-9]+(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?|\+Inf|-Inf|NaN)$/;
  const labelRe = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"(,|$)/y;
  for (const line of text.split('\n')) {
    if (line === '') continue;
    if (line.startsWith('#')) {
      const m = line.match(/^# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) (counter|gauge|histogram|summary|untyped)$/);
      if (m) types[m[1]] = m[2];
      else assert.match(line, /^# HELP [a-zA-Z_:][a-zA-Z0-9_:]* .+$/, `bad comment line: ${line}`);
      continue;
    }
    const m = line.match(lineRe);
    assert.ok(m, `not a valid sample line: ${JSON.stringify(line)}`);
    const labels = {};
    if (m[2] !== undefined) {
      labelRe.lastIndex = 0;
      while (labelRe.lastIndex < m[2].length) {
        const l = labelRe.exec(m[2]);
        assert.ok(l, `bad labels in: ${line}`);
        labels[l[1]] = l[2];
      }
    }
    samples.push({ name: m[1], labels, value: Number(m[3]) });
  }
  return { samples, types };
}

function metricValue(parsed, name, labels = {}) {
  const s = parsed.samples.find((x) => x.name === name &&
    Object.entries(labels).every(([k, v]) => x.labels[k] === v));
  return s ? s.value : undefined;
}

async function scrape(inst, headers = {}) {
  const r = await inst.get('/metrics', { headers });
  assert.equal(r.status, 200, r.text);
  return parseMetrics(r.text);
}

test('a request is audited with the right fields, path without query and secrets redacted', async () => {
  const before = Date.now();
  const res = await p.get('/v1/portal/apis?q=x&api_key=secret&Token=abc', { key: KEYS.admin, headers: { 'User-Agent': 'audit-test/1.0' } });
  const ev = await waitEvent(p, res, '/v1/portal/apis');
  assert.equal(ev.kind, 'request');
  assert.equal(ev.method, 'GET');
  assert.equal(ev.path, '/v1/portal/apis');
  assert.equal(ev.query, 'q=x&api_key=REDACTED&Token=REDACTED');
  assert.equal(ev.status, res.status);
  assert.equal(ev.principal, 'apikey:admin [keys-file]'); // names the key: a keys-file key here
  assert.equal(ev.auth_type, 'api_key');
  assert.equal(ev.role, 'cpi-admin');
  assert.equal(ev.tenant_id, 'default');
  assert.equal(ev.remote_addr, '127.0.0.1');
  assert.equal(ev.user_agent, 'audit-test/1.0');
  assert.equal(typeof ev.duration_ms, 'number');
  assert.ok(ev.duration_ms >= 0);
  assert.match(ev.at, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
  const at = Date.parse(ev.at);
  assert.ok(at >= before - 2000 && at <= Date.now() + 2000, `at ${ev.at} is now`);
  assert.ok(!('action' in ev), 'request events carry no action');
  assert.doesNotMatch(JSON.stringify(ev), /secret|abc/);
});

test('a long User-Agent is cut to 256 bytes', async () => {
  const res = await p.get('/v1/whoami', { key: KEYS.admin, headers: { 'User-Agent': 'u'.repeat(1000) } });
  assert.equal(res.status, 200);
  const ev = await waitEvent(p, res, '/v1/whoami');
  assert.equal(ev.user_agent, 'u'.repeat(256));
});

test('401s and 404s under /v1 are audited', async () => {
  const missing = `/v1/audit-test-missing-${uniq()}`;
  const r404 = await p.get(missing, { key: KEYS.admin });
  assert.equal(r404.status, 404);
  const e404 = await waitEvent(p, r404, missing);
  assert.equal(e404.status, 404);
  assert.equal(e404.method, 'GET');

  const r401 = await p.get('/v1/whoami');
  assert.equal(r401.status, 401);
  const e401 = await waitEvent(p, r401, '/v1/whoami');
  assert.equal(e401.status, 401);
  assert.equal(e401.auth_type, 'none');
  assert.equal(e401.principal, '');

  const bad = await p.get('/v1/apis', { key: 'not-a-valid-key-at-all-0000' });
  assert.equal(bad.status, 401);
  const eBad = await waitEvent(p, bad, '/v1/apis');
  assert.equal(eBad.status, 401);
  assert.doesNotMatch(JSON.stringify(eBad), /not-a-valid-key/);
});

test('health, readiness, metrics, assets, heartbeats and config polls are not audited', async () => {
  const gw = randomUUID();
  const hb = await p.post(`/v1/internal/gateways/${gw}/heartbeat`, { uptime_seconds: 1 }, { headers: { 'X-Gateway-Key': GATEWAY_KEY } });
  assert.notEqual(hb.status, 401);
  const cf = await p.get(`/v1/internal/gateways/${gw}/config`, { headers: { 'X-Gateway-Key': GATEWAY_KEY } });
  assert.notEqual(cf.status, 401);
  for (const path of ['/healthz', '/readyz', '/metrics', '/portal/', '/console/', '/portal/some/deep/link', '/']) {
    const r = await p.get(path);
    assert.ok(r.status < 500, `${path} → ${r.status}`);
  }
  // A sentinel after them: once it is written, they would have been too.
  const sentinelPath = `/v1/audit-test-sentinel-${uniq()}`;
  const sentinel = await p.get(sentinelPath, { key: KEYS.admin });
  await waitEvent(p, sentinel, sentinelPath);
  await sleep(300);
  const exp = await p.get('/v1/audit/export.ndjson', { key: KEYS.admin });
  assert.equal(exp.status, 200);
  const paths = exp.text.trim().split('\n').map((l) => JSON.parse(l).path);
  assert.ok(paths.includes(sentinelPath));
  for (const path of paths) {
    assert.match(path, /^\/v1(\/|$)/, `only /v1 requests are audited, found ${path}`);
    assert.doesNotMatch(path, /\/heartbeat$|^\/v1\/internal\/gateways\/[^/]+\/config$/, `found ${path}`);
  }
});

test('viewers and devops get 403; anonymous callers 401', async () => {
  assertError(assert, await p.get('/v1/audit', { key: KEYS.viewer }), 403, 'forbidden');
  assertError(assert, await p.get('/v1/audit', { key: KEYS.devops }), 403, 'forbidden');
  assertError(assert, await p.get('/v1/audit/export.ndjson', { key: KEYS.viewer }), 403, 'forbidden');
  assertError(assert, await p.get('/v1/audit'), 401, 'unauthenticated');
});

test('a tenant-admin sees only its own tenant\'s events', async () => {
  const path = `/v1/audit-test-tenant-${uniq()}`;
  const mine = await p.get(path + '/acme', { key: KEYS.tenantAdmin });
  const theirs = await p.get(path + '/globex', { key: KEYS.otherTenantAdmin });
  const admins = await p.get(path + '/admin', { key: KEYS.admin });
  await waitEvent(p, admins, path + '/admin');
  await waitEvent(p, theirs, path + '/globex');
  await waitEvent(p, mine, path + '/acme');
  // The 404s of unknown paths are recorded before authentication: use
  // routes that authenticate to see the tenant.
  const who = await p.get('/v1/whoami', { key: KEYS.tenantAdmin });
  const whoOther = await p.get('/v1/whoami', { key: KEYS.otherTenantAdmin });
  const ev = await waitEvent(p, who, '/v1/whoami');
  await waitEvent(p, whoOther, '/v1/whoami');
  assert.equal(ev.tenant_id, 'acme');
  assert.equal(ev.role, 'tenant-admin');

  const list = await auditList(p, 'page_size=100', KEYS.tenantAdmin);
  assert.ok(list.items.length > 0);
  for (const i of list.items) assert.equal(i.tenant_id, 'acme', JSON.stringify(i));
  assert.ok(list.items.some((i) => i.request_id === who.headers.get('x-request-id')));
  assert.ok(!list.items.some((i) => i.request_id === whoOther.headers.get('x-request-id')));
  const byPrincipal = await auditList(p, 'principal=apikey%3Aother-tenant-admin', KEYS.tenantAdmin);
  assert.equal(byPrincipal.total, 0);
  const other = await auditList(p, 'principal=apikey%3Aother-tenant-admin', KEYS.otherTenantAdmin);
  assert.ok(other.total >= 1);
  for (const i of other.items) assert.equal(i.tenant_id, 'globex');

  const exp = await p.get('/v1/audit/export.ndjson', { key: KEYS.tenantAdmin });
  assert.equal(exp.status, 200);
  for (const l of exp.text.trim().split('\n')) assert.equal(JSON.parse(l).tenant_id, 'acme');
});

test('filters: status code and class, path prefix, principal, method, kind, from/to', async () => {
  const tag = uniq();
  const a = await p.get(`/v1/flt_${tag}/one`, { key: KEYS.admin });
  const b = await p.get(`/v1/fltX${tag}/two`, { key: KEYS.admin });
  const c = await p.request('DELETE', `/v1/flt_${tag}/three`, { key: KEYS.admin });
  const v = await p.get('/v1/whoami', { key: KEYS.viewer });
  await waitEvent(p, a, `/v1/flt_${tag}/one`);
  await waitEvent(p, b, `/v1/fltX${tag}/two`);
  await waitEvent(p, c, `/v1/flt_${tag}/three`);
  await waitEvent(p, v, '/v1/whoami');

  // Path prefix: "_" is literal, and the match is case-sensitive.
  const pre = await auditList(p, `path=${encodeURIComponent(`/v1/flt_${tag}`)}`);
  assert.equal(pre.total, 2);
  assert.deepEqual(pre.items.map((i) => i.path).sort(), [`/v1/flt_${tag}/one`, `/v1/flt_${tag}/three`]);
  assert.equal((await auditList(p, `path=${encodeURIComponent(`/V1/FLT_${tag}`)}`)).total, 0);
  assert.equal((await auditList(p, `path=${encodeURIComponent(`/v1/flt%${tag}`)}`)).total, 0);
  // Newest first.
  assert.equal(pre.items[0].path, `/v1/flt_${tag}/three`);

  const del = await auditList(p, `path=${encodeURIComponent(`/v1/flt_${tag}`)}&method=DELETE`);
  assert.equal(del.total, 1);
  assert.equal(del.items[0].method, 'DELETE');
  assert.equal((await auditList(p, `path=${encodeURIComponent(`/v1/flt_${tag}`)}&method=delete`)).total, 1);

  const cls = await auditList(p, 'status=4xx&page_size=100');
  assert.ok(cls.total >= 3);
  for (const i of cls.items) assert.ok(i.status >= 400 && i.status <= 499, JSON.stringify(i));
  const exact = await auditList(p, 'status=404&page_size=100');
  assert.ok(exact.total >= 3);
  for (const i of exact.items) assert.equal(i.status, 404);
  const ok = await auditList(p, 'status=2xx&page_size=100');
  for (const i of ok.items) assert.ok(i.status >= 200 && i.status <= 299);

  const viewer = await auditList(p, 'principal=apikey%3Aviewer&page_size=100');
  assert.ok(viewer.total >= 1);
  for (const i of viewer.items) assert.equal(i.principal, 'apikey:viewer [keys-file]');
  assert.equal((await auditList(p, 'principal=apikey%3Anobody')).total, 0);

  assert.ok((await auditList(p, 'kind=request')).total > 0);
  assert.equal((await auditList(p, 'kind=auth')).total, 0);

  // from/to (inclusive).
  const at = pre.items[1].at; // the older of the two
  const from = await auditList(p, `path=${encodeURIComponent(`/v1/flt_${tag}`)}&from=${encodeURIComponent(at)}`);
  assert.equal(from.total, 2);
  const to = await auditList(p, `path=${encodeURIComponent(`/v1/flt_${tag}`)}&to=${encodeURIComponent(at)}`);
  assert.ok(to.total >= 1);
  assert.ok(to.items.every((i) => Date.parse(i.at) <= Date.parse(at)));
  assert.equal((await auditList(p, 'from=2999-01-01T00:00:00Z')).total, 0);
  assert.equal((await auditList(p, 'to=2000-01-01T00:00:00Z')).total, 0);
  assert.equal((await auditList(p, `path=${encodeURIComponent(`/v1/flt_${tag}`)}&from=2000-01-01T00:00:00Z&to=2999-01-01T00:00:00.000Z`)).total, 2);

  // Paging.
  const p1 = await auditList(p, `path=${encodeURIComponent(`/v1/flt_${tag}`)}&page_size=1`);
  const p2 = await auditList(p, `path=${encodeURIComponent(`/v1/flt_${tag}`)}&page_size=1&page=2`);
  const p3 = await auditList(p, `path=${encodeURIComponent(`/v1/flt_${tag}`)}&page_size=1&page=3`);
  assert.equal(p1.items.length, 1);
  assert.equal(p2.items.length, 1);
  assert.equal(p3.items.length, 0);
  assert.equal(p1.total, 2);
  assert.equal(p1.page_size, 1);
  assert.equal(p2.page, 2);
  assert.notEqual(p1.items[0].request_id, p2.items[0].request_id);
});

test('bad filters are 400 naming the parameter', async () => {
  const cases = [
    ['status=abc', /status/], ['status=4x', /status/], ['status=600', /status/], ['status=44xx', /status/],
    ['from=yesterday', /from/], ['to=2026-13-01T00:00:00Z', /to/], ['from=2026-01-02T00:00:00Z&to=2026-01-01T00:00:00Z', /to/],
    ['kind=other', /kind/], ['method=G3T', /method/], ['path=nope', /path/], ['page=0', /page/], ['page_size=101', /page_size/],
    [`principal=${'x'.repeat(300)}`, /principal/],
  ];
  for (const [q, re] of cases) {
    for (const path of ['/v1/audit', '/v1/audit/export.ndjson']) {
      if (path.endsWith('ndjson') && /^page/.test(q)) continue;
      const r = await p.get(`${path}?${q}`, { key: KEYS.admin });
      assertError(assert, r, 400, 'invalid_parameter');
      assert.match(r.json.error.message, re, `${path}?${q}: ${r.json.error.message}`);
    }
  }
});

test('export.ndjson streams every matching event as one JSON object per line', async () => {
  const tag = uniq();
  for (let i = 0; i < 5; i++) {
    const r = await p.get(`/v1/exp-${tag}/${i}?token=t${i}`, { key: KEYS.admin });
    assert.equal(r.status, 404);
  }
  await waitAudit(p, `path=/v1/exp-${tag}/`, (b) => b.total === 5, 'five export events');
  const r = await p.get(`/v1/audit/export.ndjson?path=/v1/exp-${tag}/`, { key: KEYS.admin });
  assert.equal(r.status, 200);
  assert.match(r.headers.get('content-type'), /^application\/x-ndjson/);
  assert.ok(r.text.endsWith('\n'));
  const lines = r.text.trim().split('\n').map((l) => JSON.parse(l));
  assert.equal(lines.length, 5);
  assert.deepEqual(lines.map((l) => l.path), [4, 3, 2, 1, 0].map((i) => `/v1/exp-${tag}/${i}`));
  for (const [n, l] of lines.entries()) {
    assert.equal(l.query, 'token=REDACTED');
    assert.equal(l.status, 404);
    assert.equal(l.kind, 'request');
    assert.match(l.request_id, /^[0-9a-f-]{36}$/);
    if (n > 0) assert.ok(Date.parse(l.at) <= Date.parse(lines[n - 1].at));
  }
  // Everything, across the export's internal pages, matches the list total.
  const t1 = (await auditList(p, 'page_size=1')).total;
  const all = await p.get('/v1/audit/export.ndjson', { key: KEYS.admin });
  const n = all.text.trim().split('\n').length;
  const t2 = (await auditList(p, 'page_size=1')).total;
  assert.ok(n >= t1 && n <= t2, `${t1} <= ${n} <= ${t2}`);
  const none = await p.get('/v1/audit/export.ndjson?from=2999-01-01T00:00:00Z', { key: KEYS.admin });
  assert.equal(none.status, 200);
  assert.equal(none.text, '');
});

test('/metrics parses, has every family, and its counters move', async () => {
  const r = await p.get('/metrics');
  assert.equal(r.status, 200);
  assert.match(r.headers.get('content-type'), /^text\/plain; version=0\.0\.4/);
  const m1 = parseMetrics(r.text);
  assert.equal(metricValue(m1, 'portico_up'), 1);
  const build = m1.samples.find((s) => s.name === 'portico_build_info');
  assert.ok(build && build.labels.version && build.value === 1);
  for (const st of ['online', 'offline', 'degraded', 'maintenance']) assert.equal(typeof metricValue(m1, 'portico_gateways', { status: st }), 'number');
  for (const name of ['portico_heartbeats_total', 'portico_event_streams_open', 'portico_audit_events_written_total',
    'portico_audit_events_dropped_total', 'portico_db_errors_total']) assert.equal(typeof metricValue(m1, name), 'number', name);
  assert.equal(m1.types.portico_http_requests_total, 'counter');
  assert.equal(m1.types.portico_http_request_duration_seconds, 'histogram');
  assert.equal(m1.types.portico_gateways, 'gauge');
  assert.equal(m1.types.portico_audit_events_dropped_total, 'counter');

  const lbl = { route: 'whoami', method: 'GET', status_class: '2xx' };
  const before = metricValue(m1, 'portico_http_requests_total', lbl) ?? 0;
  const countBefore = metricValue(m1, 'portico_http_request_duration_seconds_count', { route: 'whoami' }) ?? 0;
  const writtenBefore = metricValue(m1, 'portico_audit_events_written_total');
  for (let i = 0; i < 3; i++) assert.equal((await p.get('/v1/whoami', { key: KEYS.admin })).status, 200);
  await p.get('/portal/');
  await p.request('PROPFIND', `/v1/nothing-${uniq()}`);
  await sleep(300);
  const m2 = await scrape(p);
  assert.ok(metricValue(m2, 'portico_http_requests_total', lbl) >= before + 3);
  assert.ok(metricValue(m2, 'portico_http_request_duration_seconds_count', { route: 'whoami' }) >= countBefore + 3);
  assert.ok(metricValue(m2, 'portico_audit_events_written_total') > writtenBefore);
  assert.ok(metricValue(m2, 'portico_http_requests_total', { route: 'assets', method: 'GET', status_class: '2xx' }) >= 1);
  // Unknown methods and paths do not create new label values.
  assert.ok(!m2.samples.some((s) => s.labels.method === 'PROPFIND'));
  for (const s of m2.samples.filter((x) => x.name === 'portico_http_requests_total')) {
    assert.match(s.labels.method, /^(GET|HEAD|POST|PUT|DELETE|PATCH|OPTIONS|OTHER)$/);
    assert.match(s.labels.status_class, /^[1-5]xx$/);
    assert.doesNotMatch(s.labels.route, /\//, 'route labels are names, not paths');
  }
  // Histogram buckets are cumulative and end with +Inf = count.
  const buckets = m2.samples.filter((s) => s.name === 'portico_http_request_duration_seconds_bucket' && s.labels.route === 'whoami');
  assert.equal(buckets.length, 13);
  for (let i = 1; i < buckets.length; i++) assert.ok(buckets[i].value >= buckets[i - 1].value);
  assert.equal(buckets.at(-1).labels.le, '+Inf');
  assert.equal(buckets.at(-1).value, metricValue(m2, 'portico_http_request_duration_seconds_count', { route: 'whoami' }));
  assert.ok(metricValue(m2, 'portico_http_request_duration_seconds_sum', { route: 'whoami' }) > 0);
});

test('portico_gateways counts gateways by derived status', async () => {
  const now = Date.now();
  const old = now - 3600 * 1000;
  const row = (id, name, maint, hb, err) =>
    `('${id}', '${name}', 'h', 'stoa', 'edge-mcp', 'dev', ${maint}, ${old}, ${hb === null ? 'NULL' : hb}, ${err === null ? 'NULL' : err}, ${now})`;
  runSql(p, 'INSERT INTO gateways (id, name, hostname, type, mode, environment, maintenance, registered_at, last_heartbeat_at, error_rate, updated_at) VALUES ' + [
    row(randomUUID(), 'g-online', 0, now, 0.01),
    row(randomUUID(), 'g-online2', 0, now, null),
    row(randomUUID(), 'g-offline', 0, old, 0.01),
    row(randomUUID(), 'g-never', 0, null, null),
    row(randomUUID(), 'g-degraded', 0, now, 0.5),
    row(randomUUID(), 'g-maint', 1, old, 0.9),
  ].join(', '));
  const m = await scrape(p);
  assert.equal(metricValue(m, 'portico_gateways', { status: 'online' }), 2);
  assert.equal(metricValue(m, 'portico_gateways', { status: 'offline' }), 2);
  assert.equal(metricValue(m, 'portico_gateways', { status: 'degraded' }), 1);
  assert.equal(metricValue(m, 'portico_gateways', { status: 'maintenance' }), 1);
  runSql(p, "DELETE FROM gateways WHERE name LIKE 'g-%'");
});

test('audit.enabled: false records nothing', async () => {
  const q = await startPortico({ config: { audit: { enabled: false } } });
  try {
    for (let i = 0; i < 3; i++) await q.get(`/v1/nothing-${i}`, { key: KEYS.admin });
    await sleep(300);
    const list = await auditList(q);
    assert.equal(list.total, 0);
    const m = await scrape(q);
    assert.equal(metricValue(m, 'portico_audit_events_written_total'), 0);
    assert.equal(metricValue(m, 'portico_audit_events_dropped_total'), 0);
  } finally {
    await q.cleanup();
  }
});

test('a burst of 500 requests, then SIGTERM: after a restart all 500 are there; retention purges old events', async () => {
  const q = await startPortico({ config: { audit: { retention_days: 0 } } });
  let q2;
  try {
    const tag = uniq();
    let next = 0;
    const statuses = [];
    const worker = async () => {
      while (next < 500) {
        const i = next++;
        const r = await q.get(`/v1/burst-${tag}/${i}`, { key: KEYS.admin });
        statuses.push(r.status);
      }
    };
    await Promise.all(Array.from({ length: 20 }, worker));
    assert.equal(statuses.length, 500);
    assert.ok(statuses.every((s) => s === 404), `statuses: ${[...new Set(statuses)]}`);
    assert.equal(await q.stop('SIGTERM'), 0, q.stderr);
    assert.doesNotMatch(q.stderr, /dropp/);

    // An event far older than the retention period, added while stopped.
    const old = Date.now() - 30 * 86400 * 1000;
    runSql(q, `INSERT INTO audit_events (kind, at, method, path, status, duration_ms, principal, auth_type) VALUES ('request', ${old}, 'GET', '/v1/ancient-${tag}', 200, 1, 'apikey:admin', 'api_key')`);

    q2 = new Portico({ dir: q.dir, dbUrl: q.dbUrl, config: { audit: { retention_days: 7 } } });
    await q2.start();
    const list = await auditList(q2, `path=${encodeURIComponent(`/v1/burst-${tag}/`)}&page_size=1`);
    assert.equal(list.total, 500);
    const exp = await q2.get(`/v1/audit/export.ndjson?path=${encodeURIComponent(`/v1/burst-${tag}/`)}`, { key: KEYS.admin });
    const lines = exp.text.trim().split('\n').map((l) => JSON.parse(l));
    assert.equal(lines.length, 500);
    assert.equal(new Set(lines.map((l) => l.path)).size, 500);
    assert.equal(new Set(lines.map((l) => l.request_id)).size, 500);
    await waitAudit(q2, `path=${encodeURIComponent(`/v1/ancient-${tag}`)}`, (b) => b.total === 0, 'the retention purge');
    // The export pages through more than one internal page (500 rows).
    const everything = await q2.get('/v1/audit/export.ndjson', { key: KEYS.admin });
    assert.ok(everything.text.trim().split('\n').length > 500);
  } finally {
    await q2?.stop();
    await q.cleanup();
  }
});

test('a stalled database with a tiny buffer: drops are counted and logged, the server stays responsive', async () => {
  const q = await startPortico({ config: { audit: { buffer_depth: 2 }, metrics: { token: METRICS_TOKEN } } });
  const auth = { Authorization: `Bearer ${METRICS_TOKEN}` };
  let lock;
  try {
    // metrics.token is required when set.
    assertError(assert, await q.get('/metrics'), 401, 'unauthenticated');
    assertError(assert, await q.get('/metrics', { headers: { Authorization: 'Bearer wrong' } }), 401, 'invalid_token');
    assertError(assert, await q.get('/metrics', { headers: { Authorization: `Basic ${METRICS_TOKEN}` } }), 401, 'invalid_token');
    const m0 = await scrape(q, auth);
    assert.equal(metricValue(m0, 'portico_audit_events_dropped_total'), 0);

    lock = await stallDatabase(q);
    // Every request still answers (bounded by its timeout); how fast is a
    // goal of `make bench` (bench/timing.mjs), not an assertion here.
    for (let i = 0; i < 30; i++) {
      const r = await q.get(`/v1/stalled-${i}`, { key: KEYS.admin, timeout: 5000 });
      assert.equal(r.status, 404);
    }
    const h = await q.get('/healthz');
    assert.equal(h.status, 200);
    const m1 = await scrape(q, auth);
    assert.ok(metricValue(m1, 'portico_audit_events_dropped_total') >= 20, `dropped: ${metricValue(m1, 'portico_audit_events_dropped_total')}`);
    assert.ok(metricValue(m1, 'portico_audit_events_pending') <= 2);
    assert.match(q.stderr, /audit buffer full; dropping events \(\d+ dropped so far/);
    // Rate-limited: one line for the whole burst.
    assert.equal(q.stderr.match(/audit buffer full/g).length, 1);

    await lock.release();
    lock = undefined;
    // The events that were kept get written once the database is back.
    const end = Date.now() + 15000;
    for (;;) {
      const m = await scrape(q, auth);
      if (metricValue(m, 'portico_audit_events_pending') === 0 && metricValue(m, 'portico_audit_events_written_total') >= 2) break;
      if (Date.now() > end) assert.fail('the buffer did not drain after the database came back');
      await sleep(200);
    }
    const list = await auditList(q, 'path=/v1/stalled-');
    assert.ok(list.total >= 2 && list.total <= 10, `kept ${list.total}`);
    assert.equal(await q.stop(), 0);
  } finally {
    await lock?.release();
    await q.cleanup();
  }
});
