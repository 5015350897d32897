// Gateway history (issue 19): per-minute points from heartbeats (request
// deltas, restarts, last and max error rate, status), explicit null gaps,
// the range and step rules, visibility, the live gateway.history event,
// rows surviving a restart (the open minute is written at shutdown), hourly
// rows past 48 h, the fleet view, and two replicas merging one minute.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { Portico, startPortico, assertError, KEYS, GATEWAY_KEY, DB_KIND, sleep } from './lib/harness.js';

let p;
const extra = [];
before(async () => {
  p = await startPortico({ config: { gateways: { offline_after_seconds: 120 } } });
});
after(async () => {
  for (const x of extra.reverse()) await x.cleanup().catch(() => {});
  await p?.cleanup();
});

const gw = { 'X-Gateway-Key': GATEWAY_KEY };
let seq = 0;
async function registered(inst, over = {}) {
  seq += 1;
  const r = await inst.post('/v1/internal/gateways/register', {
    hostname: `hist-${process.pid}-${seq}`, mode: 'proxy', version: '1.0', environment: 'test', admin_url: 'http://10.0.0.2:8080', ...over,
  }, { headers: gw });
  assert.equal(r.status, 201, r.text);
  return r.json;
}
async function beat(inst, id, body) {
  const r = await inst.post(`/v1/internal/gateways/${id}/heartbeat`, body, { headers: gw });
  assert.equal(r.status, 204, r.text);
}
const history = (inst, id, query = '', key = KEYS.admin) => inst.get(`/v1/gateways/${id}/history${query}`, { key });

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

// Sums over the points (robust to a minute boundary inside the test).
function totals(points) {
  const data = points.filter((x) => x.status !== null);
  return {
    requests: data.reduce((a, x) => a + (x.requests_per_min ?? 0), 0),
    restarts: data.reduce((a, x) => a + x.restarts, 0),
    max: Math.max(...data.map((x) => x.error_rate_max ?? 0)),
    last: data[data.length - 1],
    data,
  };
}

const recent = () => `?from=${encodeURIComponent(new Date(Date.now() - 5 * 60000).toISOString())}&step=60`;

// The sequence every test sends: deltas 60 + 40, then a restart that counts 5.
async function sequence(inst, id) {
  await beat(inst, id, { uptime_seconds: 10, requests_total: 100, error_rate: 0.01, routes_count: 4, policies_count: 2 });
  await beat(inst, id, { uptime_seconds: 20, requests_total: 160, error_rate: 0.09, routes_count: 4, policies_count: 2 });
  await beat(inst, id, { uptime_seconds: 30, requests_total: 200, error_rate: 0.02, routes_count: 5, policies_count: 2 });
  await beat(inst, id, { uptime_seconds: 2, requests_total: 5, error_rate: 0, routes_count: 5, policies_count: 3 });
}

function assertSequence(points) {
  const t = totals(points);
  assert.equal(t.requests, 105, JSON.stringify(t.data));
  assert.equal(t.restarts, 1);
  assert.equal(t.max, 0.09);
  assert.equal(t.last.error_rate, 0);
  assert.equal(t.last.status, 'online');
  assert.equal(t.last.routes_count, 5);
  assert.equal(t.last.policies_count, 3);
}

test('per-minute points: deltas, restarts, last and max error rate, explicit gaps', async () => {
  const g = await registered(p);
  await sequence(p, g.id);
  const r = await history(p, g.id, recent());
  assert.equal(r.status, 200, r.text);
  assert.equal(r.json.step_seconds, 60);
  assert.equal(r.json.degraded_error_rate, 0.05);
  assert.ok(r.json.points.length >= 5 && r.json.points.length <= 7, String(r.json.points.length));
  // Before the gateway existed: gaps, every value null (not zero).
  assert.deepEqual(r.json.points[0], {
    at: r.json.points[0].at, requests_per_min: null, error_rate: null, error_rate_max: null, status: null,
    restarts: null, routes_count: null, policies_count: null,
  });
  for (const pt of r.json.points) assert.equal(new Date(pt.at).getTime() % 60000, 0);
  assertSequence(r.json.points);
});

test('range rules: defaults, hourly past 48 h, at most 1440 points, 400 on bad ranges', async () => {
  const g = await registered(p);
  const d = await history(p, g.id);
  assert.equal(d.status, 200);
  assert.equal(d.json.step_seconds, 60); // 24 h fit in 1440 minutes
  assert.equal(d.json.points.length, 1440);
  const week = await history(p, g.id, `?from=${new Date(Date.now() - 7 * 86400000).toISOString()}`);
  assert.equal(week.status, 200);
  assert.equal(week.json.step_seconds, 3600);
  assert.ok(week.json.points.length <= 169 && week.json.points.length >= 168);
  // An explicit fine step past 48 h is answered hourly (the only rows there).
  const old = await history(p, g.id, `?from=${new Date(Date.now() - 3 * 86400000).toISOString()}&to=${new Date(Date.now() - 2.5 * 86400000).toISOString()}&step=60`);
  assert.equal(old.json.step_seconds, 3600);
  const bad = [
    `?from=${new Date().toISOString()}&to=${new Date(Date.now() - 1000).toISOString()}`,
    '?from=yesterday',
    '?to=2026-13-45T00:00:00Z',
    '?step=59',
    '?step=90',
    '?step=abc',
    '?step=86460',
    `?from=${new Date(Date.now() - 46 * 3600000).toISOString()}&step=60`, // 2760 points
  ];
  for (const q of bad) assertError(assert, await history(p, g.id, q), 400, 'invalid_parameter');
});

test('visibility: as the gateway (404 for unknown, malformed and other tenants)', async () => {
  const g = await registered(p, { tenant_id: 'acme' });
  assert.equal((await history(p, g.id, '', KEYS.viewer)).status, 200);
  assertError(assert, await history(p, g.id, '', KEYS.otherTenantAdmin), 404, 'not_found');
  assertError(assert, await history(p, randomUUID()), 404, 'not_found');
  assertError(assert, await history(p, 'not-a-uuid'), 404, 'not_found');
  const anon = await p.get(`/v1/gateways/${g.id}/history`);
  assert.equal(anon.status, 401);
});

test('live: the current minute is published as gateway.history', async () => {
  const g = await registered(p);
  const ac = new AbortController();
  const res = await fetch(p.url + '/v1/gateways/events', { headers: { 'X-API-Key': KEYS.admin }, signal: ac.signal });
  assert.equal(res.status, 200);
  const reader = res.body.getReader();
  const dec = new TextDecoder();
  let buf = '';
  const seen = (async () => {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return null;
      buf += dec.decode(value, { stream: true });
      for (const block of buf.split('\n\n')) {
        if (!block.includes('event: gateway.history')) continue;
        const data = JSON.parse(block.split('\n').find((l) => l.startsWith('data: ')).slice(6));
        if (data.id === g.id && data.point.error_rate === 0.03) return data;
      }
    }
  })();
  // The stream is open once its first bytes can arrive; beat until the point shows.
  await beat(p, g.id, { uptime_seconds: 10, requests_total: 100, error_rate: 0.01 });
  await beat(p, g.id, { uptime_seconds: 20, requests_total: 160, error_rate: 0.03 });
  const timer = setTimeout(() => ac.abort(), 10000);
  const ev = await seen.catch(() => null);
  clearTimeout(timer);
  ac.abort();
  // The second heartbeat's delta (60) lands in its own minute either way.
  assert.ok(ev, 'no gateway.history event with the second heartbeat');
  assert.equal(ev.step_seconds, 60);
  assert.equal(ev.point.requests_per_min, 60);
  assert.equal(ev.point.error_rate, 0.03);
  assert.equal(ev.point.error_rate_max, 0.03);
  assert.equal(ev.point.status, 'online');
});

function sql(inst, text) {
  if (DB_KIND === 'postgres') execFileSync('psql', ['-q', '-v', 'ON_ERROR_STOP=1', inst.dbUrl, '-c', text]);
  else execFileSync('sqlite3', [join(inst.dir, 'portico.db'), `PRAGMA busy_timeout=5000; ${text}`]);
}

test('stored: the open minute is written at shutdown; hourly rows answer old ranges; fleet view', async () => {
  const a = new Portico({ config: { gateways: { offline_after_seconds: 120 } } });
  extra.push(a);
  await a.start();
  // A tenant's gateway (a gateway without one is shared: every tenant sees it).
  const g = await registered(a, { tenant_id: 'acme' });
  await sequence(a, g.id);
  assert.equal(await a.stop(), 0);
  // An hourly row three days ago, as the downsampler leaves them.
  const hour = Math.floor((Date.now() - 3 * 86400000) / 3600000) * 3600000;
  const a2 = new Portico({ dir: a.dir, dbUrl: a.dbUrl, config: { gateways: { offline_after_seconds: 120 } } });
  extra.push(a2);
  sql(a, `INSERT INTO gateway_history (gateway_id, step_s, bucket_at, minutes, samples, last_at, requests, restarts, error_rate, error_rate_max, routes_count, policies_count, status) VALUES ('${g.id}', 3600, ${hour}, 30, 60, ${hour + 1800000}, 3000, 2, 0.07, 0.2, 4, 2, 'degraded')`);
  await a2.start();
  const r = await history(a2, g.id, recent());
  assert.equal(r.status, 200);
  assertSequence(r.json.points);
  const old = await history(a2, g.id, `?from=${new Date(hour - 3600000).toISOString()}&to=${new Date(hour + 7200000).toISOString()}`);
  assert.equal(old.json.step_seconds, 3600);
  assert.equal(old.json.points.length, 3);
  assert.deepEqual(old.json.points.map((x) => x.status), [null, 'degraded', null]);
  assert.equal(old.json.points[1].requests_per_min, 100); // 3000 over 30 minutes with data
  assert.equal(old.json.points[1].restarts, 2);
  assert.equal(old.json.points[1].error_rate_max, 0.2);

  const f = await a2.get(`/v1/gateways/history?ids=${g.id}`, { key: KEYS.admin });
  assert.equal(f.status, 200, f.text);
  assert.equal(f.json.step_seconds, 3600);
  assert.equal(f.json.gateways.length, 1);
  const slots = f.json.gateways[0].slots;
  assert.equal(slots.length, 24);
  // The sequence's minute is in the current hour (or the one before, when the hour just turned).
  assert.ok(slots[22].online + slots[23].online >= 1, JSON.stringify(slots.slice(22)));
  assert.ok(slots.slice(0, 22).every((x) => x.status === null), 'nothing before the gateway existed');
  const sh = f.json.summary.share;
  assert.ok(Math.abs(sh.online + sh.degraded + sh.offline + sh.maintenance - 1) < 1e-9);
  assert.equal(f.json.summary.gateways, 1);
  // Without ids: the summary only.
  const s = await a2.get('/v1/gateways/history', { key: KEYS.admin });
  assert.deepEqual(s.json.gateways, []);
  assertError(assert, await a2.get('/v1/gateways/history?ids=nope', { key: KEYS.admin }), 400, 'invalid_parameter');
  assertError(assert, await a2.get(`/v1/gateways/history?ids=${g.id},`, { key: KEYS.admin }), 400, 'invalid_parameter');
  // Tenant scope: another tenant sees no gateways.
  const o = await a2.get(`/v1/gateways/history?ids=${g.id}`, { key: KEYS.otherTenantAdmin });
  assert.equal(o.json.summary.gateways, 0);
  assert.deepEqual(o.json.gateways, []);
});

test('history off (retention 0): nothing recorded, points are gaps', async () => {
  const x = await startPortico({ config: { gateways: { history_retention_days: 0 } } });
  extra.push(x);
  const g = await registered(x);
  await beat(x, g.id, { uptime_seconds: 10, requests_total: 100 });
  await beat(x, g.id, { uptime_seconds: 20, requests_total: 200 });
  const r = await history(x, g.id, recent());
  assert.equal(r.status, 200);
  assert.ok(r.json.points.every((pt) => pt.status === null && pt.requests_per_min === null));
});

test('two replicas on one PostgreSQL: heartbeats alternating, one merged row per minute', { skip: DB_KIND !== 'postgres' }, async () => {
  const a = new Portico({ config: { gateways: { offline_after_seconds: 120 } } });
  extra.push(a);
  await a.start();
  const b = new Portico({ dbUrl: a.dbUrl, config: { gateways: { offline_after_seconds: 120 } } });
  extra.push(b);
  await b.start();
  const g = await registered(a);
  const body = (i) => ({ uptime_seconds: 10 * (i + 1), requests_total: 100 * (i + 1), error_rate: i === 2 ? 0.3 : 0.01 });
  for (let i = 0; i < 6; i++) await beat(i % 2 ? b : a, g.id, body(i));
  assert.equal(await a.stop(), 0);
  assert.equal(await b.stop(), 0);
  const c = new Portico({ dbUrl: a.dbUrl, config: { gateways: { offline_after_seconds: 120 } } });
  extra.push(c);
  await c.start();
  const r = await history(c, g.id, recent());
  const t = totals(r.json.points);
  // Deltas after the first heartbeat: 5 × 100, each counted by exactly one replica.
  assert.equal(t.requests, 500, JSON.stringify(t.data));
  assert.equal(t.max, 0.3);
  assert.equal(t.last.error_rate, 0.01);
  const rows = execFileSync('psql', ['-At', a.dbUrl, '-c', `SELECT COUNT(*), COUNT(DISTINCT bucket_at) FROM gateway_history WHERE gateway_id = '${g.id}'`]).toString().trim();
  const [n, distinct] = rows.split('|').map(Number);
  assert.equal(n, distinct); // merged: one row per minute
});
