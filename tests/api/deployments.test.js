// Deployments: sync and drift (issue 18) and who may read them (issue 14).
// Create (to a gateway or an environment), the gateway's config poll and
// status report, every status rule (pending → synced, drifted by report or
// by an API edit, error, syncing after POST …/sync), history newest first,
// list filters and counts, catalog visibility (drafts invisible to viewers,
// never anonymous), deployment.status events, and every bad input.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { startPortico, assertError, KEYS, GATEWAY_KEY, sleep } from './lib/harness.js';
import { openEventStream } from './lib/sse.js';

let p, anon;
before(async () => {
  [p, anon] = await Promise.all([
    startPortico(),
    startPortico({ config: { auth: { allow_anonymous: true, anonymous_role: 'viewer' } } }),
  ]);
});
after(async () => {
  await anon?.cleanup();
  await p?.cleanup();
});

const gw = { headers: { 'X-Gateway-Key': GATEWAY_KEY } };
let seq = 0;
async function gateway(inst, over = {}) {
  seq += 1;
  const body = { hostname: `dep-${process.pid}-${seq}`, mode: 'edge-mcp', version: '0.1.0', environment: 'dep', admin_url: 'http://10.0.0.1:8080', tenant_id: 'acme', ...over };
  const r = await inst.post('/v1/internal/gateways/register', body, gw);
  assert.equal(r.status, 201, r.text);
  return r.json;
}
async function api(inst, over = {}, key = KEYS.tenantAdmin) {
  seq += 1;
  const r = await inst.post('/v1/apis', { name: `Orders ${seq}`, version: '1.0', status: 'published', ...over }, { key });
  assert.equal(r.status, 201, r.text);
  return r.json;
}
async function deploy(inst, apiId, gatewayId, key = KEYS.devops) {
  const r = await inst.post('/v1/deployments', { api_id: apiId, gateway_id: gatewayId }, { key });
  assert.equal(r.status, 201, r.text);
  return r.json;
}
const config = (inst, gid) => inst.get(`/v1/internal/gateways/${gid}/config`, gw);
const report = (inst, gid, did, body, opts = gw) => inst.post(`/v1/internal/gateways/${gid}/deployments/${did}/status`, body, opts);
const detail = (inst, id, key = KEYS.devops) => inst.get(`/v1/deployments/${id}`, { key });
const HASH = /^sha256:[0-9a-f]{64}$/;

async function waitFor(fn, ms = 6000, what = 'condition') {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    const v = await fn();
    if (v) return v;
    await sleep(50);
  }
  assert.fail(`timed out waiting for ${what}`);
}

test('create: shape, content hash, first history entry, and bad input', async () => {
  const g = await gateway(p);
  const a = await api(p);
  const bad = [
    [{ gateway_id: g.id }, 'invalid_field'],
    [{ api_id: 'x', gateway_id: g.id }, 'invalid_field'],
    [{ api_id: a.id }, 'invalid_field'],
    [{ api_id: a.id, gateway_id: g.id, environment: 'dep' }, 'invalid_field'],
    [{ api_id: a.id, gateway_id: 'nope' }, 'invalid_field'],
    [{ api_id: a.id, gateway_id: 7 }, 'invalid_field'],
    [{ api_id: a.id, environment: 'Bad Env' }, 'invalid_field'],
    [{ api_id: a.id, environment: '' }, 'invalid_field'],
    [{ api_id: a.id, environment: 'x'.repeat(64) }, 'invalid_field'],
  ];
  for (const [body, code] of bad) assertError(assert, await p.post('/v1/deployments', body, { key: KEYS.devops }), 400, code);
  assertError(assert, await p.post('/v1/deployments', { api_id: randomUUID(), gateway_id: g.id }, { key: KEYS.devops }), 404, 'not_found');
  assertError(assert, await p.post('/v1/deployments', { api_id: a.id, gateway_id: randomUUID() }, { key: KEYS.devops }), 404, 'not_found');
  // Another tenant's gateway is not found (cpi-admin, who sees every tenant, may).
  const other = await gateway(p, { tenant_id: 'globex' });
  assertError(assert, await p.post('/v1/deployments', { api_id: a.id, gateway_id: other.id }, { key: KEYS.devops }), 404, 'not_found');
  assertError(assert, await p.post('/v1/deployments', { api_id: a.id, gateway_id: other.id }, { key: KEYS.tenantAdmin }), 404, 'not_found');
  assertError(assert, await p.post('/v1/deployments', { api_id: a.id, gateway_id: g.id }, { key: KEYS.viewer }), 403, 'forbidden');

  const d = await deploy(p, a.id, g.id);
  assert.equal(d.sync_status, 'pending');
  assert.equal(d.api_name, a.name);
  assert.equal(d.api_version, '1.0');
  assert.equal(d.gateway_name, g.name);
  assert.equal(d.environment, 'dep');
  assert.equal(d.target_environment, null);
  assert.match(d.expected_hash, HASH);
  assert.equal(d.applied_hash, null);
  assert.equal(d.synced_at, null);
  assert.equal(d.last_reported_at, null);
  assertError(assert, await p.post('/v1/deployments', { api_id: a.id, gateway_id: g.id }, { key: KEYS.admin }), 409, 'already_deployed');
  const det = await detail(p, d.id);
  assert.equal(det.status, 200, det.text);
  assert.equal(det.json.history.length, 1);
  assert.equal(det.json.history[0].from, null);
  assert.equal(det.json.history[0].to, 'pending');
  assert.equal(det.json.history[0].actor, 'apikey:devops');
  assert.equal(det.json.history[0].expected_hash, d.expected_hash);
});

test('the cycle: pending → synced → drifted → synced, error, syncing; history newest first', async () => {
  const g = await gateway(p);
  const a = await api(p);
  const d = await deploy(p, a.id, g.id);

  let cfg = await config(p, g.id);
  assert.equal(cfg.status, 200);
  assert.equal(cfg.json.pending_deployments.length, 1);
  const pd = cfg.json.pending_deployments[0];
  assert.equal(pd.deployment_id, d.id);
  assert.equal(pd.api_id, a.id);
  assert.equal(pd.version, '1.0');
  assert.equal(pd.content_hash, d.expected_hash);
  assert.equal(pd.sync_status, 'pending');

  // Applied the expected content: synced, and no longer pending in config polls.
  let r = await report(p, g.id, d.id, { status: 'synced', applied_hash: pd.content_hash });
  assert.equal(r.status, 200, r.text);
  assert.equal(r.json.sync_status, 'synced');
  assert.equal(r.json.applied_hash, pd.content_hash);
  assert.ok(r.json.synced_at);
  assert.ok(r.json.last_reported_at);
  cfg = await config(p, g.id);
  assert.deepEqual(cfg.json.pending_deployments, []);
  // The same report again changes nothing in the history.
  r = await report(p, g.id, d.id, { status: 'synced', applied_hash: pd.content_hash });
  assert.equal(r.json.sync_status, 'synced');
  assert.equal((await detail(p, d.id)).json.history.length, 2);

  // A later report with another hash: drifted, and pending again for the gateway.
  r = await report(p, g.id, d.id, { status: 'synced', applied_hash: 'sha256:' + 'f'.repeat(64) });
  assert.equal(r.json.sync_status, 'drifted');
  assert.equal(r.json.applied_hash, 'sha256:' + 'f'.repeat(64));
  cfg = await config(p, g.id);
  assert.equal(cfg.json.pending_deployments.length, 1);
  assert.equal(cfg.json.pending_deployments[0].sync_status, 'drifted');

  // The gateway re-applies: synced.
  r = await report(p, g.id, d.id, { status: 'synced', applied_hash: pd.content_hash });
  assert.equal(r.json.sync_status, 'synced');

  // An error with the gateway's message.
  r = await report(p, g.id, d.id, { status: 'error', message: 'upstream rejected the route' });
  assert.equal(r.json.sync_status, 'error');
  assert.equal(r.json.last_error, 'upstream rejected the route');
  assert.equal(r.json.applied_hash, pd.content_hash, 'an error keeps the last applied hash');
  r = await report(p, g.id, d.id, { status: 'error' });
  assert.equal(r.json.last_error, 'the gateway reported an error');

  // Sync: syncing until the gateway reports; listed in config meanwhile.
  const s = await p.post(`/v1/deployments/${d.id}/sync`, undefined, { key: KEYS.devops });
  assert.equal(s.status, 200, s.text);
  assert.equal(s.json.sync_status, 'syncing');
  assert.equal(s.json.sync_attempts, 1);
  cfg = await config(p, g.id);
  assert.equal(cfg.json.pending_deployments[0].sync_status, 'syncing');
  assert.equal(cfg.json.pending_deployments[0].sync_attempts, 1);
  assert.equal((await detail(p, d.id)).json.sync_status, 'syncing');
  r = await report(p, g.id, d.id, { status: 'synced', applied_hash: pd.content_hash });
  assert.equal(r.json.sync_status, 'synced');
  assert.equal(r.json.last_error, null);
  // Sync of a synced deployment goes back to syncing too (a forced re-apply).
  assert.equal((await p.post(`/v1/deployments/${d.id}/sync`, undefined, { key: KEYS.tenantAdmin })).json.sync_status, 'syncing');

  const h = (await detail(p, d.id)).json.history;
  assert.deepEqual(h.map((x) => `${x.from}>${x.to}`), [
    'synced>syncing', 'syncing>synced', 'error>syncing', 'synced>error', 'drifted>synced', 'synced>drifted', 'pending>synced', 'null>pending',
  ]);
  assert.equal(h[0].actor, 'apikey:tenant-admin');
  assert.equal(h[1].actor, `gateway:${g.name}`);
  assert.match(h[5].message, /expected sha256:/);
  assert.equal(h[5].applied_hash, 'sha256:' + 'f'.repeat(64));
  for (let i = 1; i < h.length; i++) assert.ok(h[i - 1].at >= h[i].at);
});

test('an applied hash that was never expected on a pending deployment is drift, not sync', async () => {
  const g = await gateway(p);
  const d = await deploy(p, (await api(p)).id, g.id);
  const r = await report(p, g.id, d.id, { status: 'synced', applied_hash: 'v1' });
  assert.equal(r.json.sync_status, 'drifted');
});

test('the API changes after sync: drifted with the new expected hash; unrelated edits do not drift', async () => {
  const g = await gateway(p);
  const a = await api(p);
  const d = await deploy(p, a.id, g.id);
  await report(p, g.id, d.id, { status: 'synced', applied_hash: d.expected_hash });
  // The description is not deployed content: still synced.
  assert.equal((await p.put(`/v1/apis/${a.id}`, { description: 'now with words' }, { key: KEYS.tenantAdmin })).status, 200);
  let det = await detail(p, d.id);
  assert.equal(det.json.sync_status, 'synced');
  assert.equal(det.json.expected_hash, d.expected_hash);
  // A new version is.
  assert.equal((await p.put(`/v1/apis/${a.id}`, { version: '1.1' }, { key: KEYS.tenantAdmin })).status, 200);
  det = await detail(p, d.id);
  assert.equal(det.json.sync_status, 'drifted');
  assert.notEqual(det.json.expected_hash, d.expected_hash);
  assert.equal(det.json.history[0].from, 'synced');
  assert.equal(det.json.history[0].to, 'drifted');
  assert.equal(det.json.history[0].actor, 'control-plane');
  const cfg = await config(p, g.id);
  assert.equal(cfg.json.pending_deployments[0].content_hash, det.json.expected_hash);
  assert.equal(cfg.json.pending_deployments[0].version, '1.1');
  const r = await report(p, g.id, d.id, { status: 'synced', applied_hash: det.json.expected_hash });
  assert.equal(r.json.sync_status, 'synced');
});

test('an API edit with nobody reading is found by the health worker and streamed', async () => {
  const x = await startPortico({ config: { gateways: { health_interval_ms: 200 } } });
  try {
    const g = await gateway(x);
    const a = await api(x);
    const d = await deploy(x, a.id, g.id);
    await report(x, g.id, d.id, { status: 'synced', applied_hash: d.expected_hash });
    const s = await openStream(x);
    try {
      assert.equal((await x.put(`/v1/apis/${a.id}`, { version: '2.0' }, { key: KEYS.tenantAdmin })).status, 200);
      const ev = await s.waitFor((e) => e.type === 'deployment.status' && e.data.id === d.id && e.data.to === 'drifted');
      assert.equal(ev.data.from, 'synced');
      assert.equal(ev.data.gateway_id, g.id);
      assert.equal(ev.data.api_id, a.id);
      assert.equal(ev.data.tenant_id, 'acme');
    } finally {
      s.close();
    }
  } finally {
    await x.cleanup();
  }
});

test('status report: key, ids and every bad input', async () => {
  const g = await gateway(p);
  const g2 = await gateway(p);
  const d = await deploy(p, (await api(p)).id, g.id);
  const ok = { status: 'synced', applied_hash: d.expected_hash };
  assertError(assert, await report(p, g.id, d.id, ok, {}), 401);
  assertError(assert, await report(p, g.id, d.id, ok, { headers: { 'X-Gateway-Key': 'wrong' } }), 401);
  assertError(assert, await report(p, g.id, d.id, ok, { key: KEYS.admin }), 401);
  assertError(assert, await report(p, 'nope', d.id, ok), 404, 'not_found');
  assertError(assert, await report(p, g.id, 'nope', ok), 404, 'not_found');
  assertError(assert, await report(p, randomUUID(), d.id, ok), 404, 'not_found');
  assertError(assert, await report(p, g.id, randomUUID(), ok), 404, 'not_found');
  // Another gateway cannot report for this deployment.
  assertError(assert, await report(p, g2.id, d.id, ok), 404, 'not_found');
  const bad = [
    {},
    { status: 'drifted', applied_hash: 'x' },
    { status: 'pending', applied_hash: 'x' },
    { status: 7, applied_hash: 'x' },
    { status: 'synced' },
    { status: 'synced', applied_hash: '' },
    { status: 'synced', applied_hash: 42 },
    { status: 'synced', applied_hash: 'x'.repeat(129) },
    { status: 'synced', applied_hash: 'a\u0001b' },
    { status: 'error', message: 'x'.repeat(1001) },
    { status: 'error', message: 'bell\u0007' },
    { status: 'error', message: 5 },
  ];
  for (const body of bad) assertError(assert, await report(p, g.id, d.id, body), 400, 'invalid_field');
  assertError(assert, await report(p, g.id, d.id, '[1]'), 400);
  assertError(assert, await report(p, g.id, d.id, '{"status":'), 400);
  const r = await p.request('POST', `/v1/internal/gateways/${g.id}/deployments/${d.id}/status`, { body: 'status=synced', headers: { ...gw.headers, 'Content-Type': 'text/plain' } });
  assertError(assert, r, 415);
  // Nothing changed through all of that.
  assert.equal((await detail(p, d.id)).json.sync_status, 'pending');
  // Upper-case ids are the same ids.
  const up = await report(p, g.id.toUpperCase(), d.id.toUpperCase(), ok);
  assert.equal(up.status, 200, up.text);
  assert.equal(up.json.sync_status, 'synced');
});

test('list: every filter honoured, counts, paging, bad values → 400', async () => {
  const g1 = await gateway(p, { environment: 'flt' });
  const g2 = await gateway(p, { environment: 'flt' });
  const a1 = await api(p);
  const a2 = await api(p);
  const d11 = await deploy(p, a1.id, g1.id);
  const d12 = await deploy(p, a1.id, g2.id);
  const d21 = await deploy(p, a2.id, g1.id);
  await report(p, g1.id, d11.id, { status: 'synced', applied_hash: d11.expected_hash });
  await report(p, g2.id, d12.id, { status: 'error', message: 'boom' });
  const ids = (r) => r.json.items.map((d) => d.id).sort();
  const list = (q, key = KEYS.devops) => p.get(`/v1/deployments?${q}`, { key });

  let r = await list(`api_id=${a1.id}`);
  assert.equal(r.status, 200, r.text);
  assert.deepEqual(ids(r), [d11.id, d12.id].sort());
  assert.equal(r.json.total, 2);
  assert.deepEqual(r.json.counts, { pending: 0, syncing: 0, synced: 1, drifted: 0, error: 1 });
  r = await list(`gateway_id=${g1.id}`);
  assert.deepEqual(ids(r), [d11.id, d21.id].sort());
  r = await list(`api_id=${a1.id}&gateway_id=${g1.id}`);
  assert.deepEqual(ids(r), [d11.id]);
  r = await list(`gateway_id=${g1.id}&sync_status=pending`);
  assert.deepEqual(ids(r), [d21.id]);
  assert.equal(r.json.total, 1);
  // Counts ignore sync_status (so the console can show them all) but honour the rest.
  assert.deepEqual(r.json.counts, { pending: 1, syncing: 0, synced: 1, drifted: 0, error: 0 });
  r = await list(`api_id=${a1.id}&sync_status=error`);
  assert.deepEqual(ids(r), [d12.id]);
  r = await list(`api_id=${a2.id}&sync_status=synced`);
  assert.deepEqual(ids(r), []);
  assert.equal(r.json.total, 0);
  r = await list(`api_id=${a1.id}&page_size=1&page=2`);
  assert.equal(r.json.items.length, 1);
  assert.equal(r.json.total, 2);
  assert.equal(r.json.page, 2);
  // Upper-case UUIDs filter the same.
  assert.deepEqual(ids(await list(`api_id=${a1.id.toUpperCase()}`)), [d11.id, d12.id].sort());

  for (const q of ['api_id=x', 'api_id=', `api_id=${a1.id}x`, 'gateway_id=nope', 'gateway_id=', 'sync_status=bogus', 'sync_status=', 'sync_status=SYNCED', `sync_status=${'x'.repeat(3000)}`, 'page=0', 'page_size=100000']) {
    assertError(assert, await list(q), 400, 'invalid_parameter');
  }
});

test('reading needs the catalog-read permission of the API: drafts invisible to viewers, never anonymous', async () => {
  const g = await gateway(p);
  const draft = await api(p, { status: 'draft' });
  const pub = await api(p, { status: 'published' });
  const hidden = await api(p, { status: 'published', portal_visible: false });
  const internal = await api(p, { status: 'published', audience: 'internal' });
  const dDraft = await deploy(p, draft.id, g.id);
  const dPub = await deploy(p, pub.id, g.id);
  const dHidden = await deploy(p, hidden.id, g.id);
  const dInternal = await deploy(p, internal.id, g.id);
  const ids = (r) => r.json.items.map((d) => d.id).sort();

  // A viewer reads what the portal shows it: published and visible, internal of its own tenant.
  let r = await p.get(`/v1/deployments?gateway_id=${g.id}`, { key: KEYS.viewer });
  assert.equal(r.status, 200, r.text);
  assert.deepEqual(ids(r), [dPub.id, dInternal.id].sort());
  assert.equal(r.json.total, 2);
  assert.equal(r.json.counts.pending, 2);
  assertError(assert, await detail(p, dDraft.id, KEYS.viewer), 404, 'not_found');
  assertError(assert, await detail(p, dHidden.id, KEYS.viewer), 404, 'not_found');
  assert.equal((await detail(p, dPub.id, KEYS.viewer)).status, 200);
  assert.equal((await detail(p, dInternal.id, KEYS.viewer)).status, 200);
  // Management readers of the tenant see the drafts too.
  for (const key of [KEYS.devops, KEYS.tenantAdmin, KEYS.admin]) {
    r = await p.get(`/v1/deployments?gateway_id=${g.id}`, { key });
    assert.deepEqual(ids(r), [dDraft.id, dPub.id, dHidden.id, dInternal.id].sort());
    assert.equal((await detail(p, dDraft.id, key)).status, 200);
  }
  // Another tenant sees none of them.
  r = await p.get(`/v1/deployments?gateway_id=${g.id}`, { key: KEYS.otherTenantAdmin });
  assert.equal(r.json.total, 0);
  assertError(assert, await detail(p, dPub.id, KEYS.otherTenantAdmin), 404, 'not_found');
  assertError(assert, await p.post(`/v1/deployments/${dPub.id}/sync`, undefined, { key: KEYS.otherTenantAdmin }), 404, 'not_found');
  // No credential: 401, on an instance without and with anonymous access.
  assertError(assert, await p.get('/v1/deployments'), 401);
  assertError(assert, await p.get(`/v1/deployments/${dPub.id}`), 401);
  const ag = await gateway(anon);
  const ad = await deploy(anon, (await api(anon)).id, ag.id);
  assert.equal((await anon.get('/v1/portal/apis')).status, 200, 'anonymous reads the portal here');
  assertError(assert, await anon.get('/v1/deployments'), 401);
  assertError(assert, await anon.get(`/v1/deployments?gateway_id=${ag.id}`), 401);
  assertError(assert, await anon.get(`/v1/deployments/${ad.id}`), 401);
  // Detail: unknown and malformed ids.
  assertError(assert, await detail(p, randomUUID()), 404, 'not_found');
  assertError(assert, await detail(p, 'nope'), 404, 'not_found');
  assertError(assert, await p.post('/v1/deployments/nope/sync', undefined, { key: KEYS.devops }), 404, 'not_found');
});

test('deploy to an environment: every gateway of it now, and gateways that come later', async () => {
  const env = `env${process.pid}`;
  const g1 = await gateway(p, { environment: env });
  const g2 = await gateway(p, { environment: env });
  const otherTenant = await gateway(p, { environment: env, tenant_id: 'globex' });
  const elsewhere = await gateway(p, { environment: 'elsewhere' });
  const a = await api(p);
  const pre = await deploy(p, a.id, g2.id); // already there: kept as it is
  const r = await p.post('/v1/deployments', { api_id: a.id, environment: env }, { key: KEYS.devops });
  assert.equal(r.status, 201, r.text);
  assert.equal(r.json.target.environment, env);
  assert.equal(r.json.target.api_id, a.id);
  assert.deepEqual(r.json.items.map((d) => d.gateway_id).sort(), [g1.id, g2.id].sort());
  assert.equal(r.json.items.find((d) => d.gateway_id === g2.id).id, pre.id);
  assert.equal(r.json.items.find((d) => d.gateway_id === g1.id).target_environment, env);
  assertError(assert, await p.post('/v1/deployments', { api_id: a.id, environment: env }, { key: KEYS.devops }), 409, 'already_deployed');
  assert.deepEqual((await config(p, otherTenant.id)).json.pending_deployments, []);
  assert.deepEqual((await config(p, elsewhere.id)).json.pending_deployments, []);
  // A gateway of the environment that registers later gets it at its first poll.
  const late = await gateway(p, { environment: env });
  const cfg = await config(p, late.id);
  assert.equal(cfg.json.pending_deployments.length, 1);
  assert.equal(cfg.json.pending_deployments[0].api_id, a.id);
  assert.equal((await config(p, late.id)).json.pending_deployments.length, 1, 'created once');
  const l = await p.get(`/v1/deployments?api_id=${a.id}`, { key: KEYS.devops });
  assert.equal(l.json.total, 3);
  const det = await detail(p, cfg.json.pending_deployments[0].deployment_id);
  assert.equal(det.json.history[0].actor, 'apikey:devops');
  assert.match(det.json.history[0].message, new RegExp(`environment ${env}`));
});

test('deployment.status events on the stream, in order', async () => {
  const g = await gateway(p);
  const s = await openStream(p);
  try {
    const d = await deploy(p, (await api(p)).id, g.id);
    await report(p, g.id, d.id, { status: 'synced', applied_hash: d.expected_hash });
    await report(p, g.id, d.id, { status: 'synced', applied_hash: 'other' });
    await p.post(`/v1/deployments/${d.id}/sync`, undefined, { key: KEYS.devops });
    await s.waitFor((e) => e.type === 'deployment.status' && e.data.id === d.id && e.data.to === 'syncing');
    const mine = s.events.filter((e) => e.type === 'deployment.status' && e.data.id === d.id).map((e) => `${e.data.from}>${e.data.to}`);
    assert.deepEqual(mine, ['null>pending', 'pending>synced', 'synced>drifted', 'drifted>syncing']);
  } finally {
    s.close();
  }
  // Another tenant's stream does not carry them.
  const o = await openStream(p, KEYS.otherTenantAdmin);
  try {
    const d = await deploy(p, (await api(p)).id, g.id);
    const marker = await gateway(p, { tenant_id: 'globex' });
    await o.waitFor((e) => e.type === 'gateway.registered' && e.data.id === marker.id);
    assert.equal(o.events.filter((e) => e.type === 'deployment.status' && e.data.id === d.id).length, 0);
  } finally {
    o.close();
  }
});

// Opens /v1/gateways/events and parses events as they arrive.
async function openStream(inst, key = KEYS.admin) {
  const s = await openEventStream(inst.url, { 'X-API-Key': key });
  assert.equal(s.res.status, 200);
  s.waitFor = (pred, ms = 6000, what = 'an event') => waitFor(() => s.events.find(pred), ms, what);
  return s;
}
