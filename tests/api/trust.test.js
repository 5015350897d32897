// Trust boundaries against a hostile tenant (issue 14): roles as permission
// sets for API keys, unique key names, key ids in audit principals, tenant
// audit visibility, credentials re-checked behind sessions and event
// streams, the per-caller stream cap, strict cookies, NULs in JSON and q,
// Content-Length with Transfer-Encoding, and the unauthenticated flood that
// must not fill (or overflow) the audit log. Each test fails on the code
// before the issue and holds the boundary listed in docs/authentication.md
// ("Threat model").
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { startPortico, assertError, rawRequest, KEYS, GATEWAY_KEY, DB_KIND, sleep } from './lib/harness.js';
import { openEventStream } from './lib/sse.js';

let p;
const extra = [];

before(async () => {
  p = await startPortico({ config: { audit: { enabled: true } } });
});
after(async () => {
  for (const x of extra.reverse()) await x.cleanup().catch(() => {});
  await p?.cleanup();
});

// Restarts an instance on the same database (a new port).
async function restart(inst) {
  await inst.stop();
  inst.stderr = '';
  await inst.start();
}

async function started(opts) {
  const x = await startPortico(opts);
  extra.push(x);
  return x;
}

// Polls fn until it returns a truthy value (or fails after ms).
async function waitFor(fn, ms = 10000, what = 'condition') {
  const end = Date.now() + ms;
  let last;
  while (Date.now() < end) {
    last = await fn();
    if (last) return last;
    await sleep(100);
  }
  assert.fail(`timed out waiting for ${what}`);
}

// Runs SQL on the instance's database (both backends).
function sql(inst, text) {
  if (DB_KIND === 'postgres') {
    return execFileSync('psql', ['-q', '-At', '-v', 'ON_ERROR_STOP=1', inst.dbUrl, '-c', text]).toString();
  }
  return execFileSync('sqlite3', [join(inst.dir, 'portico.db'), `PRAGMA busy_timeout=5000; ${text}`]).toString();
}

let seq = 0;
const uniq = (s) => `${s}-${process.pid}-${++seq}`;

async function mint(inst, by, body) {
  const res = await inst.post('/v1/apikeys', body, { key: by });
  assert.equal(res.status, 201, res.text);
  return res.json;
}

async function signIn(inst, key) {
  const res = await inst.post('/auth/apikey', { api_key: key });
  assert.equal(res.status, 200, res.text);
  const cookie = res.headers.get('set-cookie').split(';')[0];
  return { cookie, csrf: res.json.csrf_token };
}

// Opens /v1/gateways/events with the given headers and parses events.
function openStream(inst, headers) {
  return openEventStream(inst.url, headers);
}

let gwSeq = 0;
async function registerGateway(inst) {
  gwSeq += 1;
  const res = await inst.post('/v1/internal/gateways/register',
    { hostname: `trust-${process.pid}-${gwSeq}`, mode: 'edge-mcp', version: '1', environment: 'test', admin_url: 'http://10.0.0.1:8080', tenant_id: 'acme' },
    { headers: { 'X-Gateway-Key': GATEWAY_KEY } });
  assert.equal(res.status, 201, res.text);
  return res.json;
}

// ---- roles are permission sets ---------------------------------------------

test('keys: a tenant-admin mints only roles within its own permissions (never devops or cpi-admin)', async () => {
  for (const role of ['devops', 'cpi-admin']) {
    const res = await p.post('/v1/apikeys', { name: uniq('x'), role }, { key: KEYS.tenantAdmin });
    assertError(assert, res, 403, 'forbidden');
    assert.match(res.json.error.message, new RegExp(role));
  }
  for (const role of ['tenant-admin', 'viewer']) {
    const k = await mint(p, KEYS.tenantAdmin, { name: uniq('ok'), role });
    assert.equal(k.role, role);
    assert.equal(k.tenant_id, 'acme');
  }
  // Devops has no key permission at all; cpi-admin may mint anything.
  assertError(assert, await p.post('/v1/apikeys', { name: uniq('d'), role: 'viewer' }, { key: KEYS.devops }), 403, 'forbidden');
  assert.equal((await mint(p, KEYS.admin, { name: uniq('d'), role: 'devops', tenant_id: 'acme' })).role, 'devops');
});

test('keys: a tenant-admin neither lists nor revokes keys of roles it could not mint, even in its tenant', async () => {
  const boss = await mint(p, KEYS.admin, { name: uniq('boss'), role: 'cpi-admin', tenant_id: 'acme' });
  const ops = await mint(p, KEYS.admin, { name: uniq('ops'), role: 'devops', tenant_id: 'acme' });
  const mine = await mint(p, KEYS.admin, { name: uniq('mine'), role: 'viewer', tenant_id: 'acme' });
  const list = await p.get('/v1/apikeys?page_size=100', { key: KEYS.tenantAdmin });
  assert.equal(list.status, 200, list.text);
  const ids = list.json.items.map((k) => k.id);
  assert.ok(ids.includes(mine.id), 'its own tenant viewer key is listed');
  assert.ok(!ids.includes(boss.id), 'a cpi-admin key is never listed to a tenant-admin');
  assert.ok(!ids.includes(ops.id), 'a devops key (gateway maintenance) is not listed either');
  assert.ok(list.json.items.every((k) => ['tenant-admin', 'viewer'].includes(k.role) && k.tenant_id === 'acme'));
  assert.equal(list.json.total, list.json.items.length);
  for (const k of [boss, ops]) assertError(assert, await p.del(`/v1/apikeys/${k.id}`, { key: KEYS.tenantAdmin }), 404, 'not_found');
  // They still work: nothing was revoked.
  assert.equal((await p.get('/v1/whoami', { key: boss.key })).status, 200);
  assert.equal((await p.get('/v1/whoami', { key: ops.key })).status, 200);
  assert.equal((await p.del(`/v1/apikeys/${mine.id}`, { key: KEYS.tenantAdmin })).status, 204);
  // The cpi-admin sees all three.
  const all = await p.get('/v1/apikeys?page_size=100', { key: KEYS.admin });
  for (const k of [boss, ops, mine]) assert.ok(all.json.items.some((x) => x.id === k.id));
});

test('keys: names are unique per tenant among active keys (409 name_taken)', async () => {
  const name = uniq('ci');
  const first = await mint(p, KEYS.tenantAdmin, { name, role: 'viewer' });
  const dup = await p.post('/v1/apikeys', { name, role: 'tenant-admin' }, { key: KEYS.tenantAdmin });
  assertError(assert, dup, 409, 'name_taken');
  assert.match(dup.json.error.message, /^name: /);
  // Another tenant may use the name; a keys-file key's name is taken too.
  await mint(p, KEYS.otherTenantAdmin, { name, role: 'viewer' });
  assertError(assert, await p.post('/v1/apikeys', { name: 'viewer', role: 'viewer' }, { key: KEYS.tenantAdmin }), 409, 'name_taken');
  // Once revoked, the name is free again.
  assert.equal((await p.del(`/v1/apikeys/${first.id}`, { key: KEYS.tenantAdmin })).status, 204);
  await mint(p, KEYS.tenantAdmin, { name, role: 'viewer' });
});

test('keys: migration 007 keeps existing duplicate names apart instead of failing', async () => {
  const x = await started();
  await x.stop();
  x.stderr = '';
  // Back to the schema before 007, with duplicates made while it allowed them.
  sql(x, 'DROP INDEX api_keys_tenant_name; ALTER TABLE sessions DROP COLUMN file_key_ref; ' +
    'ALTER TABLE audit_events DROP COLUMN repeat_count; DELETE FROM schema_migrations WHERE version = 7;');
  const row = (id, prefix, at) => `('${id}', 'dup', '${prefix}', 'h-${id}', 'viewer', 'acme', '', ${at})`;
  sql(x, 'INSERT INTO api_keys (id, name, prefix, key_hash, role, tenant_id, created_by, created_at) VALUES ' +
    [row('00000000-0000-4000-8000-000000000001', 'pk_aaaaaaaa', 1000), row('00000000-0000-4000-8000-000000000002', 'pk_bbbbbbbb', 2000),
      row('00000000-0000-4000-8000-000000000003', 'pk_cccccccc', 3000)].join(', ') + ';');
  await x.start();
  const list = await x.get('/v1/apikeys?page_size=100', { key: KEYS.admin });
  const names = list.json.items.filter((k) => k.name.startsWith('dup')).map((k) => k.name).sort();
  assert.deepEqual(names, ['dup', 'dup (pk_bbbbbbbb)', 'dup (pk_cccccccc)']);
  assertError(assert, await x.post('/v1/apikeys', { name: 'dup', role: 'viewer', tenant_id: 'acme' }, { key: KEYS.admin }), 409, 'name_taken');
});

// ---- audit -------------------------------------------------------------------

async function auditItems(inst, key, query) {
  const res = await inst.get(`/v1/audit?page_size=100&${query}`, { key });
  assert.equal(res.status, 200, res.text);
  return res.json.items;
}

test('audit: an API key principal names the key id, so same-named keys of two tenants differ', async () => {
  const name = uniq('robot');
  const a = await mint(p, KEYS.tenantAdmin, { name, role: 'viewer' });
  const b = await mint(p, KEYS.otherTenantAdmin, { name, role: 'viewer' });
  const pa = `/v1/whoami?probe=${uniq('a')}`;
  assert.equal((await p.get(pa, { key: a.key })).status, 200);
  assert.equal((await p.get(`/v1/whoami?probe=${uniq('b')}`, { key: b.key })).status, 200);
  const mine = await waitFor(async () => {
    const items = await auditItems(p, KEYS.admin, 'path=/v1/whoami');
    const x = items.find((i) => i.principal === `apikey:${name} [${a.id}]`);
    const y = items.find((i) => i.principal === `apikey:${name} [${b.id}]`);
    return x && y && [x, y];
  }, 10000, 'both audit records');
  assert.notEqual(mine[0].principal, mine[1].principal);
  assert.equal(mine[0].tenant_id, 'acme');
  // Keys-file keys are marked as such.
  await p.get('/v1/whoami', { key: KEYS.viewer });
  await waitFor(async () => (await auditItems(p, KEYS.admin, 'principal=' + encodeURIComponent('apikey:viewer [keys-file]'))).length > 0, 10000, 'keys-file principal');
});

test('audit: a tenant-admin sees only its tenant and never cpi-admin activity (even under its tenant)', async () => {
  const boss = await mint(p, KEYS.admin, { name: uniq('boss'), role: 'cpi-admin', tenant_id: 'acme' });
  const marker = uniq('m');
  assert.equal((await p.get(`/v1/whoami?m=${marker}`, { key: boss.key })).status, 200);
  assert.equal((await p.get(`/v1/whoami?m=${marker}`, { key: KEYS.viewer })).status, 200);
  assert.equal((await p.get(`/v1/whoami?m=${marker}`, { key: KEYS.otherTenantAdmin })).status, 200);
  // The cpi-admin sees all three.
  await waitFor(async () => (await auditItems(p, KEYS.admin, 'path=/v1/whoami')).filter((i) => i.query === `m=${marker}`).length === 3, 10000, 'three records');
  const seen = (await auditItems(p, KEYS.tenantAdmin, 'path=/v1/whoami')).filter((i) => i.query === `m=${marker}`);
  assert.deepEqual(seen.map((i) => i.role), ['viewer']);
  assert.ok(seen.every((i) => i.tenant_id === 'acme'));
  const everything = await auditItems(p, KEYS.tenantAdmin, '');
  assert.ok(everything.every((i) => i.tenant_id === 'acme' && i.role !== 'cpi-admin'));
  // The export applies the same scope.
  const exp = await p.get('/v1/audit/export.ndjson', { key: KEYS.tenantAdmin });
  assert.equal(exp.status, 200);
  const lines = exp.text.trim().split('\n').filter(Boolean).map((l) => JSON.parse(l));
  assert.ok(lines.length > 0);
  assert.ok(lines.every((i) => i.tenant_id === 'acme' && i.role !== 'cpi-admin'));
  assertError(assert, await p.get('/v1/audit', { key: KEYS.devops }), 403, 'forbidden');
});

test('audit: 10,000 unauthenticated 401/404s are summarised per address and minute, and nothing is dropped', async () => {
  const x = await started({ config: { audit: { buffer_depth: 64 } } });
  const TOTAL = 10000, CONNS = 16;
  let sent = 0;
  // Keep-alive connections, each sending requests back to back.
  const worker = () => new Promise((resolve, reject) => {
    const s = net.connect(x.port, '127.0.0.1');
    let buf = '', waiting = 0;
    const next = () => {
      if (sent >= TOTAL) { s.end(); return; }
      sent += 1;
      waiting += 1;
      const path = sent % 2 ? '/v1/whoami' : `/v1/no-such-${sent}`;
      s.write(`GET ${path} HTTP/1.1\r\nHost: x\r\nX-API-Key: not-a-real-key-${sent}-0123456789\r\n\r\n`);
    };
    s.on('connect', next);
    s.on('data', (d) => {
      buf += d.toString('latin1');
      let m;
      while ((m = /^HTTP\/1\.1 (\d{3})[^]*?\r\n\r\n/.exec(buf))) {
        const len = Number((/content-length: (\d+)/i.exec(m[0]) || [0, 0])[1]);
        if (buf.length < m[0].length + len) break;
        assert.ok(m[1] === '401' || m[1] === '404', m[1]);
        buf = buf.slice(m[0].length + len);
        waiting -= 1;
        next();
      }
    });
    s.on('close', () => (waiting === 0 ? resolve() : reject(new Error('connection closed early'))));
    s.on('error', reject);
    s.setTimeout(60000, () => { s.destroy(); reject(new Error('flood timed out')); });
  });
  await Promise.all(Array.from({ length: CONNS }, worker));
  const metrics = await x.get('/metrics');
  assert.match(metrics.text, /^portico_audit_events_dropped_total 0$/m);
  // A restart flushes the open windows' summaries.
  await restart(x);
  const items = [];
  for (let page = 1; ; page++) {
    const res = await x.get(`/v1/audit?page_size=100&page=${page}`, { key: KEYS.admin });
    items.push(...res.json.items.filter((i) => i.principal === null || i.principal === ''));
    if (res.json.items.length < 100) break;
  }
  const counted = items.filter((i) => i.status === 401 || i.status === 404);
  // 10 one by one per minute window, then one summary (the flood may span two windows).
  assert.ok(counted.length <= 2 * 11, `at most 11 records per minute window, got ${counted.length}`);
  assert.equal(counted.reduce((n, i) => n + i.count, 0), TOTAL);
  assert.ok(counted.every((i) => i.remote_addr === '127.0.0.1'));
  assert.match((await x.get('/metrics')).text, /^portico_audit_events_dropped_total 0$/m);
});

// ---- credential lifetime ---------------------------------------------------------

test('sessions: a session made from a keys-file key ends when the key leaves the file or changes role', async () => {
  const x = await started();
  const viewer = await signIn(x, KEYS.viewer);
  const devops = await signIn(x, KEYS.devops);
  const db = await mint(x, KEYS.admin, { name: uniq('db'), role: 'viewer', tenant_id: 'acme' });
  const dbs = await signIn(x, db.key);
  for (const s of [viewer, devops, dbs]) assert.equal((await x.get('/v1/whoami', { cookie: s.cookie })).status, 200);
  // Restart with viewer gone and devops made a viewer.
  await x.stop();
  x.stderr = '';
  x.opts.keysYaml = `
- name: admin
  key: ${KEYS.admin}
  role: cpi-admin
- name: devops
  key: ${KEYS.devops}
  role: viewer
  tenant: acme
`;
  await x.start();
  for (const s of [viewer, devops]) {
    const res = await x.get('/v1/whoami', { cookie: s.cookie });
    assertError(assert, res, 401, 'invalid_token');
  }
  // A session from a database key lives on, and ends at revocation.
  assert.equal((await x.get('/v1/whoami', { cookie: dbs.cookie })).status, 200);
  assert.equal((await x.del(`/v1/apikeys/${db.id}`, { key: KEYS.admin })).status, 204);
  assertError(assert, await x.get('/v1/whoami', { cookie: dbs.cookie }), 401, 'invalid_token');
});

test('events: a stream ends when its key is revoked, and the revoked client gets no further events', async () => {
  const k = await mint(p, KEYS.admin, { name: uniq('watch'), role: 'viewer', tenant_id: 'acme' });
  const s = await openStream(p, { 'X-API-Key': k.key });
  assert.equal(s.res.status, 200);
  const before = await registerGateway(p);
  await waitFor(() => s.events.find((e) => e.data.id === before.id), 10000, 'an event before revocation');
  assert.equal((await p.del(`/v1/apikeys/${k.id}`, { key: KEYS.admin })).status, 204);
  await waitFor(() => s.ended, 10000, 'the stream to end after revocation');
  const count = s.events.length;
  const afterGw = await registerGateway(p);
  await sleep(300);
  assert.equal(s.events.length, count);
  assert.ok(!s.events.some((e) => e.data.id === afterGw.id));
});

test('events: a stream ends at sign-out and when its session expires', async () => {
  const x = await started({ config: { session: { ttl_seconds: 3 } } });
  const short = await signIn(x, KEYS.viewer);
  const s1 = await openStream(x, { Cookie: short.cookie });
  assert.equal(s1.res.status, 200);
  await waitFor(() => s1.ended, 15000, 'the stream to end when the session expires');

  const y = await started();
  const sess = await signIn(y, KEYS.viewer);
  const s2 = await openStream(y, { Cookie: sess.cookie });
  assert.equal(s2.res.status, 200);
  const out = await y.post('/auth/logout', {}, { cookie: sess.cookie, headers: { 'X-CSRF-Token': sess.csrf } });
  assert.equal(out.status, 200, out.text);
  await waitFor(() => s2.ended, 10000, 'the stream to end at sign-out');
});

test('events: at most gateways.max_event_streams_per_principal streams per caller; 503 names the cap', async () => {
  const x = await started({ config: { gateways: { max_event_streams: 6, max_event_streams_per_principal: 2 } } });
  const open = [];
  try {
    for (let i = 0; i < 2; i++) {
      const s = await openStream(x, { 'X-API-Key': KEYS.viewer });
      open.push(s);
      assert.equal(s.res.status, 200);
    }
    const third = await openStream(x, { 'X-API-Key': KEYS.viewer });
    assert.equal(third.res.status, 503);
    assert.equal(third.json.error.code, 'too_many_streams');
    assert.match(third.json.error.message, /max_event_streams_per_principal/);
    // Another caller still gets one, up to the global cap, which names itself.
    for (const key of [KEYS.admin, KEYS.admin, KEYS.devops, KEYS.devops]) {
      const s = await openStream(x, { 'X-API-Key': key });
      open.push(s);
      assert.equal(s.res.status, 200);
    }
    const global = await openStream(x, { 'X-API-Key': KEYS.tenantAdmin });
    assert.equal(global.res.status, 503);
    assert.match(global.json.error.message, /gateways\.max_event_streams = 6/);
    // Closing one frees the slot (the server notices on its next writes).
    open.shift().close();
    await waitFor(async () => {
      await registerGateway(x);
      const s = await openStream(x, { 'X-API-Key': KEYS.viewer });
      if (s.res.status === 200) { open.push(s); return true; }
      return false;
    }, 10000, 'a freed stream slot');
  } finally {
    for (const s of open) s.close();
  }
});

test('events: the default per-caller cap is 4', async () => {
  const x = await started();
  const open = [];
  try {
    for (let i = 0; i < 4; i++) {
      const s = await openStream(x, { 'X-API-Key': KEYS.viewer });
      open.push(s);
      assert.equal(s.res.status, 200);
    }
    const fifth = await openStream(x, { 'X-API-Key': KEYS.viewer });
    assert.equal(fifth.res.status, 503);
    assert.match(fifth.json.error.message, /max_event_streams_per_principal = 4/);
  } finally {
    for (const s of open) s.close();
  }
});

// ---- parsing -----------------------------------------------------------------------

test('cookies: a duplicate session cookie with another value is 401; names are exact and case-sensitive', async () => {
  const a = await signIn(p, KEYS.viewer);
  const b = await signIn(p, KEYS.tenantAdmin);
  const [name, va] = a.cookie.split('=');
  const vb = b.cookie.split('=')[1];
  assert.equal(name, 'portico_session');
  const who = (cookie) => p.get('/v1/whoami', { cookie });
  assert.equal((await who(`${name}=${va}`)).json.role, 'viewer');
  assertError(assert, await who(`${name}=${va}; ${name}=${vb}`), 401, 'invalid_token');
  assertError(assert, await who(`${name}=${vb}; other=1; ${name}=${va}`), 401, 'invalid_token');
  assert.equal((await who(`${name}=${va}; ${name}=${va}`)).json.role, 'viewer');
  // Not a session cookie at all: a differently cased name, or the name inside another value.
  assertError(assert, await who(`Portico_session=${va}`), 401, 'unauthenticated');
  assertError(assert, await who(`x=${name}=${va}`), 401, 'unauthenticated');
  assertError(assert, await who(`x"${name}=${va}`), 401, 'unauthenticated');
});

test('JSON: a string holding \\u0000 is 400 naming the field, never silently cut', async () => {
  const post = (body) => p.request('POST', '/v1/apis', { key: KEYS.admin, json: body });
  let res = await post('{"name":"Orders\\u0000Admin","version":"1.0"}');
  assertError(assert, res, 400, 'invalid_field');
  assert.match(res.json.error.message, /^name: .*NUL/);
  res = await post('{"name":"Orders","version":"1.0","tags":["ok","b\\u0000d"]}');
  assertError(assert, res, 400, 'invalid_field');
  assert.match(res.json.error.message, /^tags\[1\]: /);
  res = await p.request('POST', '/v1/apikeys', { key: KEYS.admin, json: '{"name":"x\\u0000y","role":"viewer"}' });
  assertError(assert, res, 400, 'invalid_field');
  assert.match(res.json.error.message, /^name: /);
  // An escaped backslash before u0000 is just text.
  res = await post(`{"name":"${uniq('Back')}\\\\u0000","version":"1.0"}`);
  assert.equal(res.status, 201, res.text);
  assert.match(res.json.name, /\\u0000$/);
});

test('q: a NUL in the search query is 400 saying the value is invalid, not too long', async () => {
  for (const path of ['/v1/portal/apis?q=a%00b', '/v1/apis?q=%00']) {
    const res = await p.get(path, { key: KEYS.admin });
    assertError(assert, res, 400, 'invalid_parameter');
    assert.match(res.json.error.message, /^q: .*invalid/);
    assert.doesNotMatch(res.json.error.message, /at most/);
  }
  const long = await p.get(`/v1/portal/apis?q=${'a'.repeat(300)}`, { key: KEYS.admin });
  assert.match(long.json.error.message, /at most 200/);
});

test('HTTP: Content-Length with Transfer-Encoding is 400 and the connection is closed', async () => {
  const smuggled = 'GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n';
  const raw = await rawRequest(p.port,
    `POST /v1/apikeys HTTP/1.1\r\nHost: x\r\nX-API-Key: ${KEYS.admin}\r\nContent-Type: application/json\r\n` +
    `Content-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n${smuggled}`, { timeout: 8000 });
  assert.match(raw, /^HTTP\/1\.1 400 /);
  assert.match(raw, /"code":"ambiguous_framing"/);
  assert.match(raw, /\r\nConnection: close\r\n/i);
  assert.equal((raw.match(/HTTP\/1\.1 /g) || []).length, 1, 'the smuggled request is never answered');
  // Also with the headers the other way round and on a GET.
  const raw2 = await rawRequest(p.port,
    `GET /healthz HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nContent-Length: 0\r\nConnection: keep-alive\r\n\r\n0\r\n\r\n${smuggled}`, { timeout: 8000 });
  assert.match(raw2, /^HTTP\/1\.1 400 /);
  assert.equal((raw2.match(/HTTP\/1\.1 /g) || []).length, 1);
});
