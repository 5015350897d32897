// Developer self-service: applications, an API's subscription mode and
// plans, subscriptions with their approval workflow and keys, who may do
// what, the catalog's visibility rule, events, audit, and the active
// subscriptions (key hashes only) in a gateway's config poll with its etag.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomUUID } from 'node:crypto';
import { startPortico, assertError, KEYS, GATEWAY_KEY, sleep } from './lib/harness.js';
import { openEventStream } from './lib/sse.js';

let p;
before(async () => { p = await startPortico(); });
after(async () => { await p?.cleanup(); });

const sha256 = (s) => createHash('sha256').update(s).digest('hex');
const patch = (path, json, key) => p.request('PATCH', path, { json, key });
const KEY_RE = /^sk_[a-z0-9]{8}_[A-Za-z0-9_-]{43}$/;

async function waitFor(fn, ms = 8000, what = 'condition') {
  const end = Date.now() + ms;
  let last;
  while (Date.now() < end) {
    last = await fn();
    if (last) return last;
    await sleep(50);
  }
  throw new Error(`timed out waiting for ${what}`);
}

let seq = 0;
const uniq = (s) => `${s}-${process.pid}-${++seq}`;

async function app(key = KEYS.viewer, name = uniq('app')) {
  const r = await p.post('/v1/applications', { name, description: 'test app' }, { key });
  assert.equal(r.status, 201, r.text);
  return r.json;
}

// An API in the caller's tenant (tenant-admin: acme; admin: body tenant_id).
async function api(over = {}, key = KEYS.tenantAdmin) {
  const body = { name: uniq('api'), version: '1.0', status: 'published', subscription: 'auto', ...over };
  const r = await p.post('/v1/apis', body, { key });
  assert.equal(r.status, 201, r.text);
  return r.json;
}

async function subscribe(appId, apiId, key = KEYS.viewer, plan) {
  const body = { application_id: appId, api_id: apiId };
  if (plan !== undefined) body.plan = plan;
  return p.post('/v1/subscriptions', body, { key });
}

async function subscribed(appId, apiId, key = KEYS.viewer, plan) {
  const r = await subscribe(appId, apiId, key, plan);
  assert.equal(r.status, 201, r.text);
  return r.json;
}

// ---- applications -------------------------------------------------------------

test('applications: create, read, list only mine, rename, delete', async () => {
  const a = await app(KEYS.viewer, uniq('weather-client'));
  assert.deepEqual(Object.keys(a).sort(), ['created_at', 'description', 'id', 'name', 'owner', 'tenant_id', 'updated_at']);
  assert.equal(a.owner, 'apikey:viewer');
  assert.equal(a.tenant_id, 'acme');
  assert.equal(a.description, 'test app');
  const got = await p.get(`/v1/applications/${a.id}`, { key: KEYS.viewer });
  assert.equal(got.status, 200);
  assert.deepEqual(got.json, a);
  // Upper-case ids work too.
  assert.equal((await p.get(`/v1/applications/${a.id.toUpperCase()}`, { key: KEYS.viewer })).status, 200);

  const theirs = await app(KEYS.devops);
  const list = await p.get('/v1/applications?page_size=100', { key: KEYS.viewer });
  assert.equal(list.status, 200);
  assert.ok(list.json.items.some((x) => x.id === a.id));
  assert.ok(!list.json.items.some((x) => x.id === theirs.id), 'another subject\'s app is not mine');
  assert.equal(list.json.total, list.json.items.length);
  assert.equal(list.json.page, 1);

  // Another subject (even an admin) sees no such application.
  for (const key of [KEYS.devops, KEYS.admin, KEYS.tenantAdmin]) {
    assertError(assert, await p.get(`/v1/applications/${a.id}`, { key }), 404, 'not_found');
    assertError(assert, await patch(`/v1/applications/${a.id}`, { name: 'x' }, key), 404, 'not_found');
    assertError(assert, await p.del(`/v1/applications/${a.id}`, { key }), 404, 'not_found');
  }

  const renamed = await patch(`/v1/applications/${a.id}`, { name: a.name + '-2' }, KEYS.viewer);
  assert.equal(renamed.status, 200, renamed.text);
  assert.equal(renamed.json.name, a.name + '-2');
  assert.equal(renamed.json.description, 'test app', 'unchanged fields stay');
  const desc = await patch(`/v1/applications/${a.id}`, { description: '' }, KEYS.viewer);
  assert.equal(desc.json.description, '');
  assert.equal(desc.json.name, a.name + '-2');

  assert.equal((await p.del(`/v1/applications/${a.id}`, { key: KEYS.viewer })).status, 204);
  assertError(assert, await p.get(`/v1/applications/${a.id}`, { key: KEYS.viewer }), 404, 'not_found');
  assertError(assert, await p.del(`/v1/applications/${a.id}`, { key: KEYS.viewer }), 404, 'not_found');
});

test('applications: names are unique per owner, not across owners', async () => {
  const name = uniq('dup');
  await app(KEYS.viewer, name);
  assertError(assert, await p.post('/v1/applications', { name }, { key: KEYS.viewer }), 409, 'conflict');
  await app(KEYS.devops, name); // another owner may use it
  const other = await app(KEYS.viewer);
  assertError(assert, await patch(`/v1/applications/${other.id}`, { name }, KEYS.viewer), 409, 'conflict');
  // Renaming to its own name is fine.
  assert.equal((await patch(`/v1/applications/${other.id}`, { name: other.name }, KEYS.viewer)).status, 200);
});

test('applications: bad input is a 400 naming the field; no credential is 401', async () => {
  const bad = [
    [{}, 'name'],
    [{ name: '' }, 'name'],
    [{ name: 'x'.repeat(101) }, 'name'],
    [{ name: 42 }, 'name'],
    [{ name: 'a\u0001b' }, 'name'],
    [{ name: ' padded' }, 'name'],
    [{ name: 'ok', description: 'x'.repeat(2001) }, 'description'],
    [{ name: 'ok', description: ['x'] }, 'description'],
    [{ name: 'ok', owner: 'someone-else' }, 'owner'],
  ];
  for (const [body, field] of bad) {
    const r = await p.post('/v1/applications', body, { key: KEYS.viewer });
    assertError(assert, r, 400, 'invalid_field');
    assert.match(r.json.error.message, new RegExp(`^${field}`), JSON.stringify(body));
  }
  assertError(assert, await p.post('/v1/applications', 'nope', { key: KEYS.viewer }), 400, 'invalid_json');
  assertError(assert, await p.post('/v1/applications', [], { key: KEYS.viewer }), 400, 'invalid_json');
  assertError(assert, await p.request('POST', '/v1/applications', { body: '{"name":"x"}', headers: { 'Content-Type': 'text/plain' }, key: KEYS.viewer }), 415);
  assertError(assert, await p.get('/v1/applications'), 401);
  assertError(assert, await p.post('/v1/applications', { name: 'x' }), 401);
  assertError(assert, await p.get('/v1/applications/not-a-uuid', { key: KEYS.viewer }), 404, 'not_found');
  assertError(assert, await p.get(`/v1/applications/${randomUUID()}`, { key: KEYS.viewer }), 404, 'not_found');
  assertError(assert, await p.get('/v1/applications?page=0', { key: KEYS.viewer }), 400);
  const a = await app();
  assertError(assert, await patch(`/v1/applications/${a.id}`, { id: randomUUID() }, KEYS.viewer), 400, 'invalid_field');
  assertError(assert, await patch(`/v1/applications/${a.id}`, { name: '' }, KEYS.viewer), 400, 'invalid_field');
});

// ---- the catalog's subscription settings -----------------------------------

test('catalog: subscription mode and plans, defaults and validation', async () => {
  const d = await p.post('/v1/apis', { name: uniq('api'), version: '1' }, { key: KEYS.tenantAdmin });
  assert.equal(d.status, 201, d.text);
  assert.equal(d.json.subscription, 'approval', 'the default mode asks for approval');
  assert.deepEqual(d.json.plans, []);
  const plans = [{ name: 'gold', requests_per_minute: 600 }, { name: 'free', requests_per_minute: 10 }];
  const u = await p.put(`/v1/apis/${d.json.id}`, { subscription: 'auto', plans }, { key: KEYS.tenantAdmin });
  assert.equal(u.status, 200, u.text);
  assert.equal(u.json.subscription, 'auto');
  assert.deepEqual(u.json.plans, plans);
  const g = await p.get(`/v1/apis/${d.json.id}`, { key: KEYS.tenantAdmin });
  assert.deepEqual(g.json.plans, plans);
  // Other edits keep them; null clears the plans.
  assert.deepEqual((await p.put(`/v1/apis/${d.json.id}`, { description: 'x' }, { key: KEYS.tenantAdmin })).json.plans, plans);
  const cleared = await p.put(`/v1/apis/${d.json.id}`, { plans: null, status: 'published' }, { key: KEYS.tenantAdmin });
  assert.deepEqual(cleared.json.plans, []);
  assert.equal(cleared.json.subscription, 'auto');
  // The portal detail shows them.
  const portal = await p.get(`/v1/portal/apis/${d.json.id}`, { key: KEYS.viewer });
  assert.equal(portal.json.subscription, 'auto');
  assert.deepEqual(portal.json.plans, []);

  const bad = [
    { subscription: 'sometimes' },
    { subscription: 1 },
    { plans: 'gold' },
    { plans: [{ name: 'gold' }] },
    { plans: [{ requests_per_minute: 5 }] },
    { plans: [{ name: 'gold', requests_per_minute: 0 }] },
    { plans: [{ name: 'gold', requests_per_minute: 1.5 }] },
    { plans: [{ name: 'gold', requests_per_minute: '5' }] },
    { plans: [{ name: 'gold', requests_per_minute: 5, price: 1 }] },
    { plans: [{ name: 'go ld', requests_per_minute: 5 }] },
    { plans: [{ name: 'x'.repeat(65), requests_per_minute: 5 }] },
    { plans: [{ name: 'a', requests_per_minute: 5 }, { name: 'a', requests_per_minute: 6 }] },
    { plans: ['gold'] },
    { plans: Array.from({ length: 21 }, (_, i) => ({ name: `p${i}`, requests_per_minute: 1 })) },
  ];
  for (const body of bad) {
    const r = await p.put(`/v1/apis/${d.json.id}`, body, { key: KEYS.tenantAdmin });
    assertError(assert, r, 400, 'invalid_field');
    assert.match(r.json.error.message, /^(subscription|plans)/, JSON.stringify(body));
  }
  // A publisher (devops) changes only status and visibility.
  assertError(assert, await p.put(`/v1/apis/${d.json.id}`, { subscription: 'closed' }, { key: KEYS.devops }), 403, 'forbidden');
  assertError(assert, await p.put(`/v1/apis/${d.json.id}`, { plans: [] }, { key: KEYS.devops }), 403, 'forbidden');
});

// ---- subscribing --------------------------------------------------------------

test('auto mode: active at once with a key shown once; GET never shows it', async () => {
  const a = await app();
  const x = await api({ subscription: 'auto' });
  const s = await subscribed(a.id, x.id);
  assert.equal(s.status, 'active');
  assert.match(s.key, KEY_RE);
  assert.equal(s.key_prefix, s.key.slice(0, 11));
  assert.equal(s.plan, 'default');
  assert.equal(s.requests_per_minute, null);
  assert.equal(s.application_id, a.id);
  assert.equal(s.application_name, a.name);
  assert.equal(s.api_id, x.id);
  assert.equal(s.api_name, x.name);
  assert.equal(s.owner, 'apikey:viewer');
  assert.ok(s.approved_at && s.created_at && s.key_created_at);
  const g = await p.get(`/v1/subscriptions/${s.id}`, { key: KEYS.viewer });
  assert.equal(g.status, 200);
  assert.equal(g.json.key, undefined);
  assert.ok(!g.text.includes(s.key.slice(12)), 'the secret is never returned again');
  assert.ok(!g.text.includes(sha256(s.key)), 'nor its hash');
});

test('approval mode: pending, approved by a tenant manager, the owner gets a key, regenerate replaces it', async () => {
  const a = await app();
  const x = await api({ subscription: 'approval' });
  const s = await subscribed(a.id, x.id);
  assert.equal(s.status, 'pending');
  assert.equal(s.key, undefined);
  assert.equal(s.key_prefix, null);
  assert.equal(s.approved_at, null);
  // The owner may not approve; a devops of the tenant sees nothing; another tenant's admin neither.
  assertError(assert, await p.post(`/v1/subscriptions/${s.id}/approve`, undefined, { key: KEYS.viewer }), 403, 'forbidden');
  assertError(assert, await p.post(`/v1/subscriptions/${s.id}/approve`, undefined, { key: KEYS.devops }), 404, 'not_found');
  assertError(assert, await p.post(`/v1/subscriptions/${s.id}/approve`, undefined, { key: KEYS.otherTenantAdmin }), 404, 'not_found');
  assertError(assert, await p.get(`/v1/subscriptions/${s.id}`, { key: KEYS.otherTenantAdmin }), 404, 'not_found');
  // No key for a pending subscription.
  assertError(assert, await p.post(`/v1/subscriptions/${s.id}/regenerate-key`, undefined, { key: KEYS.viewer }), 409, 'invalid_state');

  const ok = await p.post(`/v1/subscriptions/${s.id}/approve`, undefined, { key: KEYS.tenantAdmin });
  assert.equal(ok.status, 200, ok.text);
  assert.equal(ok.json.status, 'active');
  assert.equal(ok.json.decided_by, 'apikey:tenant-admin');
  assert.ok(ok.json.approved_at);
  assert.equal(ok.json.key, undefined, 'the approver never sees the key');
  assertError(assert, await p.post(`/v1/subscriptions/${s.id}/approve`, undefined, { key: KEYS.tenantAdmin }), 409, 'invalid_state');
  // Only the owner gets the key.
  assertError(assert, await p.post(`/v1/subscriptions/${s.id}/regenerate-key`, undefined, { key: KEYS.tenantAdmin }), 403, 'forbidden');
  const k1 = await p.post(`/v1/subscriptions/${s.id}/regenerate-key`, undefined, { key: KEYS.viewer });
  assert.equal(k1.status, 200, k1.text);
  assert.match(k1.json.key, KEY_RE);
  const k2 = await p.post(`/v1/subscriptions/${s.id}/regenerate-key`, undefined, { key: KEYS.viewer });
  assert.match(k2.json.key, KEY_RE);
  assert.notEqual(k2.json.key, k1.json.key);
  assert.equal(k2.json.key_prefix, k2.json.key.slice(0, 11));
});

test('a cpi-admin manages every tenant; reject carries a reason the developer sees', async () => {
  const a = await app();
  const x = await api({ subscription: 'approval', tenant_id: 'globex' }, KEYS.admin);
  const s = await subscribed(a.id, x.id);
  assert.equal(s.api_tenant_id, 'globex');
  // acme's tenant-admin does not manage globex's API.
  assertError(assert, await p.post(`/v1/subscriptions/${s.id}/reject`, { reason: 'no' }, { key: KEYS.tenantAdmin }), 404, 'not_found');
  assertError(assert, await p.post(`/v1/subscriptions/${s.id}/reject`, undefined, { key: KEYS.admin }), 400, 'invalid_json');
  assertError(assert, await p.post(`/v1/subscriptions/${s.id}/reject`, {}, { key: KEYS.admin }), 400, 'invalid_field');
  assertError(assert, await p.post(`/v1/subscriptions/${s.id}/reject`, { reason: '' }, { key: KEYS.admin }), 400, 'invalid_field');
  assertError(assert, await p.post(`/v1/subscriptions/${s.id}/reject`, { reason: 'x'.repeat(501) }, { key: KEYS.admin }), 400, 'invalid_field');
  assertError(assert, await p.post(`/v1/subscriptions/${s.id}/reject`, { reason: 'x', extra: 1 }, { key: KEYS.admin }), 400, 'invalid_field');
  const rj = await p.post(`/v1/subscriptions/${s.id}/reject`, { reason: 'Use the v2 API instead' }, { key: KEYS.admin });
  assert.equal(rj.status, 200, rj.text);
  assert.equal(rj.json.status, 'rejected');
  const seen = await p.get(`/v1/subscriptions/${s.id}`, { key: KEYS.viewer });
  assert.equal(seen.json.reason, 'Use the v2 API instead');
  assert.equal(seen.json.status, 'rejected');
  assertError(assert, await p.post(`/v1/subscriptions/${s.id}/approve`, undefined, { key: KEYS.admin }), 409, 'invalid_state');
  assertError(assert, await p.post(`/v1/subscriptions/${s.id}/revoke`, undefined, { key: KEYS.admin }), 409, 'invalid_state');
  // A rejected subscription still blocks a second one until it is cancelled.
  assertError(assert, await subscribe(a.id, x.id), 409, 'conflict');
  assert.equal((await p.del(`/v1/subscriptions/${s.id}`, { key: KEYS.viewer })).status, 204);
  assert.equal((await subscribe(a.id, x.id)).status, 201);
});

test('one live subscription per application and API; cancel frees it; cancel rules', async () => {
  const a = await app();
  const b = await app();
  const x = await api();
  const s = await subscribed(a.id, x.id);
  const dup = await subscribe(a.id, x.id);
  assertError(assert, dup, 409, 'conflict');
  assert.ok(dup.json.error.message.includes(s.id));
  await subscribed(b.id, x.id); // another application may
  // Only the owner cancels; a manager revokes instead.
  assertError(assert, await p.del(`/v1/subscriptions/${s.id}`, { key: KEYS.tenantAdmin }), 403, 'forbidden');
  assertError(assert, await p.del(`/v1/subscriptions/${s.id}`, { key: KEYS.devops }), 404, 'not_found');
  assert.equal((await p.del(`/v1/subscriptions/${s.id}`, { key: KEYS.viewer })).status, 204);
  const c = await p.get(`/v1/subscriptions/${s.id}`, { key: KEYS.viewer });
  assert.equal(c.json.status, 'cancelled');
  assert.ok(c.json.cancelled_at);
  assert.equal(c.json.key_prefix, null);
  assertError(assert, await p.del(`/v1/subscriptions/${s.id}`, { key: KEYS.viewer }), 409, 'invalid_state');
  assertError(assert, await p.post(`/v1/subscriptions/${s.id}/regenerate-key`, undefined, { key: KEYS.viewer }), 409, 'invalid_state');
  const again = await subscribed(a.id, x.id);
  assert.notEqual(again.id, s.id);
});

test('concurrent subscribes of one application to one API: exactly one wins', async () => {
  const a = await app();
  const x = await api();
  const all = await Promise.all(Array.from({ length: 6 }, () => subscribe(a.id, x.id)));
  assert.deepEqual(all.map((r) => r.status).sort(), [201, 409, 409, 409, 409, 409], all.map((r) => r.text).join('\n'));
  for (const r of all.filter((q) => q.status === 409)) assertError(assert, r, 409, 'conflict');
  const list = await p.get(`/v1/subscriptions?application_id=${a.id}`, { key: KEYS.viewer });
  assert.equal(list.json.total, 1);
});

test('closed mode takes no subscriptions; plans are picked and checked', async () => {
  const a = await app();
  const closed = await api({ subscription: 'closed' });
  assertError(assert, await subscribe(a.id, closed.id), 403, 'subscriptions_closed');

  const plans = [{ name: 'gold', requests_per_minute: 600 }, { name: 'free', requests_per_minute: 10 }];
  const x = await api({ plans });
  const r1 = await subscribe(a.id, x.id);
  assertError(assert, r1, 400, 'invalid_field');
  assert.match(r1.json.error.message, /^plan: is required: one of gold, free/);
  assertError(assert, await subscribe(a.id, x.id, KEYS.viewer, 'platinum'), 400, 'invalid_field');
  assertError(assert, await subscribe(a.id, x.id, KEYS.viewer, 'default'), 400, 'invalid_field');
  assertError(assert, await subscribe(a.id, x.id, KEYS.viewer, ''), 400, 'invalid_field');
  assertError(assert, await subscribe(a.id, x.id, KEYS.viewer, 7), 400, 'invalid_field');
  const gold = await subscribed(a.id, x.id, KEYS.viewer, 'gold');
  assert.equal(gold.plan, 'gold');
  assert.equal(gold.requests_per_minute, 600);

  const one = await api({ plans: [{ name: 'basic', requests_per_minute: 60 }] });
  const b = await subscribed(a.id, one.id);
  assert.equal(b.plan, 'basic');
  assert.equal(b.requests_per_minute, 60);

  const none = await api();
  assertError(assert, await subscribe(a.id, none.id, KEYS.viewer, 'gold'), 400, 'invalid_field');
  const d = await subscribed(a.id, none.id, KEYS.viewer, 'default');
  assert.equal(d.plan, 'default');
});

test('subscribing follows the catalog visibility rule: draft, hidden and other tenants\' internal APIs are 404', async () => {
  const a = await app();
  const draft = await api({ status: 'draft' });
  const hidden = await api({ portal_visible: false });
  const internalOther = await api({ audience: 'internal', tenant_id: 'globex' }, KEYS.admin);
  const internalMine = await api({ audience: 'internal' });
  const publicOther = await api({ tenant_id: 'globex' }, KEYS.admin);
  for (const x of [draft, hidden, internalOther]) {
    assertError(assert, await p.get(`/v1/portal/apis/${x.id}`, { key: KEYS.viewer }), 404, 'not_found');
    const r = await subscribe(a.id, x.id);
    assertError(assert, r, 404, 'not_found');
    assert.equal(r.json.error.message, 'no such API');
  }
  assert.equal((await subscribe(a.id, internalMine.id)).status, 201);
  assert.equal((await subscribe(a.id, publicOther.id)).status, 201);
  assertError(assert, await subscribe(a.id, randomUUID()), 404, 'not_found');
  assertError(assert, await subscribe(a.id, 'not-a-uuid'), 404, 'not_found');
});

test('a developer acts only on its own applications', async () => {
  const mine = await app(KEYS.viewer);
  const theirs = await app(KEYS.devops);
  const x = await api();
  const r = await subscribe(theirs.id, x.id, KEYS.viewer);
  assertError(assert, r, 404, 'not_found');
  assert.equal(r.json.error.message, 'no such application');
  assertError(assert, await subscribe(randomUUID(), x.id), 404, 'not_found');
  const s = await subscribed(mine.id, x.id);
  // Another developer of the same tenant cannot see, cancel or re-key it.
  assertError(assert, await p.get(`/v1/subscriptions/${s.id}`, { key: KEYS.devops }), 404, 'not_found');
  assertError(assert, await p.post(`/v1/subscriptions/${s.id}/regenerate-key`, undefined, { key: KEYS.devops }), 404, 'not_found');
  const theirList = await p.get('/v1/subscriptions?page_size=100', { key: KEYS.devops });
  assert.ok(!theirList.json.items.some((i) => i.id === s.id));
});

test('subscriptions: bad input is a 400 naming the field; unknown ids 404; no credential 401', async () => {
  const a = await app();
  const x = await api();
  const bad = [
    [{ api_id: x.id }, 'application_id'],
    [{ application_id: a.id }, 'api_id'],
    [{ application_id: 5, api_id: x.id }, 'application_id'],
    [{ application_id: a.id, api_id: [x.id] }, 'api_id'],
    [{ application_id: a.id, api_id: x.id, key: 'sk_x' }, 'key'],
    [{ application_id: a.id, api_id: x.id, status: 'active' }, 'status'],
    [{ application_id: a.id, api_id: x.id, plan: 'x'.repeat(65) }, 'plan'],
  ];
  for (const [body, field] of bad) {
    const r = await p.post('/v1/subscriptions', body, { key: KEYS.viewer });
    assertError(assert, r, 400, 'invalid_field');
    assert.match(r.json.error.message, new RegExp(`^${field}`), JSON.stringify(body));
  }
  assertError(assert, await p.post('/v1/subscriptions', 'x', { key: KEYS.viewer }), 400, 'invalid_json');
  assertError(assert, await p.request('POST', '/v1/subscriptions', { body: '{}', headers: { 'Content-Type': 'text/plain' }, key: KEYS.viewer }), 415);
  assertError(assert, await p.post('/v1/subscriptions', { application_id: a.id, api_id: x.id }), 401);
  assertError(assert, await p.get('/v1/subscriptions'), 401);
  for (const id of [randomUUID(), 'nope', '../x']) {
    const res = await p.get(`/v1/subscriptions/${encodeURIComponent(id)}`, { key: KEYS.admin });
    assert.ok([404, 400].includes(res.status), res.text);
    assertError(assert, await p.post(`/v1/subscriptions/${randomUUID()}/approve`, undefined, { key: KEYS.admin }), 404, 'not_found');
  }
  assertError(assert, await p.del(`/v1/subscriptions/${randomUUID()}`, { key: KEYS.viewer }), 404, 'not_found');
  assertError(assert, await p.put(`/v1/subscriptions/${randomUUID()}`, {}, { key: KEYS.viewer }), 405, 'method_not_allowed');
  for (const q of ['scope=all', 'status=done', 'api_id=x', 'application_id=1', 'page_size=0']) {
    const res = await p.get(`/v1/subscriptions?${q}`, { key: KEYS.admin });
    assertError(assert, res, 400);
  }
  assertError(assert, await p.get('/v1/subscriptions?scope=manage', { key: KEYS.viewer }), 403, 'forbidden');
  assertError(assert, await p.get('/v1/subscriptions?scope=manage', { key: KEYS.devops }), 403, 'forbidden');
  // revoke takes an optional reason, checked when present.
  const s = await subscribed(a.id, x.id);
  assertError(assert, await p.post(`/v1/subscriptions/${s.id}/revoke`, { reason: 5 }, { key: KEYS.tenantAdmin }), 400, 'invalid_field');
  assertError(assert, await p.post(`/v1/subscriptions/${s.id}/revoke`, { reason: 'a\u0001b' }, { key: KEYS.tenantAdmin }), 400, 'invalid_field');
});

test('lists: mine vs manage, pending first, filters, counts', async () => {
  const a = await app();
  const b = await app();
  const x = await api({ subscription: 'approval' });
  const y = await api({ subscription: 'auto' });
  const s1 = await subscribed(a.id, y.id); // active
  const s2 = await subscribed(a.id, x.id); // pending
  const s3 = await subscribed(b.id, x.id); // pending → rejected
  await p.post(`/v1/subscriptions/${s3.id}/reject`, { reason: 'no' }, { key: KEYS.tenantAdmin });

  const mine = await p.get(`/v1/subscriptions?application_id=${a.id}`, { key: KEYS.viewer });
  assert.equal(mine.status, 200, mine.text);
  assert.deepEqual(mine.json.items.map((i) => i.id), [s2.id, s1.id], 'pending first');
  assert.equal(mine.json.total, 2);
  assert.deepEqual(mine.json.counts, { pending: 1, active: 1, rejected: 0, revoked: 0, cancelled: 0 });

  const byApi = await p.get(`/v1/subscriptions?scope=manage&api_id=${x.id}`, { key: KEYS.tenantAdmin });
  assert.deepEqual(byApi.json.items.map((i) => i.id).sort(), [s2.id, s3.id].sort());
  assert.equal(byApi.json.items[0].id, s2.id, 'pending first');
  assert.deepEqual(byApi.json.counts, { pending: 1, active: 0, rejected: 1, revoked: 0, cancelled: 0 });
  const rejected = await p.get(`/v1/subscriptions?scope=manage&api_id=${x.id}&status=rejected`, { key: KEYS.tenantAdmin });
  assert.deepEqual(rejected.json.items.map((i) => i.id), [s3.id]);
  assert.equal(rejected.json.total, 1);
  assert.equal(rejected.json.counts.pending, 1, 'counts ignore the status filter');
  // Another tenant's admin manages none of them; the cpi-admin all of them.
  const other = await p.get(`/v1/subscriptions?scope=manage&api_id=${x.id}`, { key: KEYS.otherTenantAdmin });
  assert.equal(other.json.total, 0);
  const all = await p.get(`/v1/subscriptions?scope=manage&api_id=${x.id}`, { key: KEYS.admin });
  assert.equal(all.json.total, 2);
  // Paging.
  const p1 = await p.get(`/v1/subscriptions?application_id=${a.id}&page_size=1&page=2`, { key: KEYS.viewer });
  assert.deepEqual(p1.json.items.map((i) => i.id), [s1.id]);
  assert.equal(p1.json.total, 2);
});

// ---- events and audit -----------------------------------------------------------

async function openStream(key) {
  const s = await openEventStream(p.url, { 'X-API-Key': key });
  assert.equal(s.res.status, 200);
  return s;
}

test('every state change is an event on the stream and an audit record', async () => {
  const mgr = await openStream(KEYS.tenantAdmin);
  const other = await openStream(KEYS.otherTenantAdmin);
  try {
    const a = await app();
    const x = await api({ subscription: 'approval' });
    const s = await subscribed(a.id, x.id);
    const seen = (type) => waitFor(() => mgr.events.find((e) => e.type === type && e.data.id === s.id), 8000, type);
    const ev = await seen('subscription.requested');
    assert.deepEqual(Object.keys(ev.data).sort(), ['api_id', 'application_id', 'at', 'id', 'plan', 'status']);
    assert.equal(ev.data.status, 'pending');
    await p.post(`/v1/subscriptions/${s.id}/approve`, undefined, { key: KEYS.tenantAdmin });
    assert.equal((await seen('subscription.approved')).data.status, 'active');
    await p.post(`/v1/subscriptions/${s.id}/regenerate-key`, undefined, { key: KEYS.viewer });
    await seen('subscription.key_regenerated');
    await p.post(`/v1/subscriptions/${s.id}/revoke`, { reason: 'abuse' }, { key: KEYS.tenantAdmin });
    assert.equal((await seen('subscription.revoked')).data.status, 'revoked');
    await p.del(`/v1/subscriptions/${s.id}`, { key: KEYS.viewer });
    await seen('subscription.cancelled');
    assert.ok(!other.events.some((e) => e.data.id === s.id), 'another tenant hears nothing');
    // The audit log has each change.
    await waitFor(async () => {
      const r = await p.get('/v1/audit?page_size=100', { key: KEYS.admin });
      const paths = (r.json?.items || []).map((i) => `${i.method} ${i.path} ${i.status}`);
      return [`POST /v1/subscriptions/${s.id}/approve 200`, `POST /v1/subscriptions/${s.id}/revoke 200`,
        `DELETE /v1/subscriptions/${s.id} 204`, `POST /v1/subscriptions/${s.id}/regenerate-key 200`].every((x) => paths.includes(x));
    }, 10000, 'audit records');
  } finally {
    mgr.close();
    other.close();
  }
});

// ---- the gateway contract -------------------------------------------------------

test('gateway config: active keyed subscriptions of deployed APIs as hashes, with an etag', async () => {
  const reg = await p.post('/v1/internal/gateways/register',
    { hostname: uniq('gw'), mode: 'edge-mcp', version: '1', environment: 'test', admin_url: 'http://10.0.0.1:8080' },
    { headers: { 'X-Gateway-Key': GATEWAY_KEY } });
  assert.equal(reg.status, 201, reg.text);
  const gw = reg.json.id;
  const config = (etag) => p.get(`/v1/internal/gateways/${gw}/config${etag ? `?subscriptions_etag=${etag}` : ''}`, { headers: { 'X-Gateway-Key': GATEWAY_KEY } });

  const empty = await config();
  assert.equal(empty.status, 200, empty.text);
  assert.deepEqual(empty.json.subscriptions, []);
  assert.match(empty.json.subscriptions_etag, /^[0-9a-f]{32}$/);

  const a = await app();
  const deployed = await api({ subscription: 'auto', plans: [{ name: 'gold', requests_per_minute: 600 }] });
  const elsewhere = await api({ subscription: 'auto' });
  const dep = await p.post('/v1/deployments', { api_id: deployed.id, gateway_id: gw }, { key: KEYS.admin });
  assert.equal(dep.status, 201, dep.text);
  const s = await subscribed(a.id, deployed.id);
  const t = await subscribed(a.id, elsewhere.id);

  const c1 = await config();
  assert.deepEqual(c1.json.subscriptions, [{ subscription_id: s.id, api_id: deployed.id, plan: 'gold', requests_per_minute: 600, key_sha256: sha256(s.key) }]);
  assert.ok(!c1.text.includes(s.key), 'never the key itself');
  assert.ok(!c1.text.includes(t.id), 'not an API deployed elsewhere');
  assert.notEqual(c1.json.subscriptions_etag, empty.json.subscriptions_etag);
  // Polling with the current etag: unchanged, no list.
  const c2 = await config(c1.json.subscriptions_etag);
  assert.equal(c2.json.subscriptions_unchanged, true);
  assert.equal(c2.json.subscriptions, undefined);
  assert.equal(c2.json.subscriptions_etag, c1.json.subscriptions_etag);
  assert.ok(Array.isArray(c2.json.pending_deployments), 'the rest of the config is still there');
  // A stale or malformed etag gets the list.
  assert.equal((await config('0'.repeat(32))).json.subscriptions.length, 1);
  assert.equal((await config('zz')).json.subscriptions.length, 1);

  // A new key replaces the hash and changes the etag.
  const k = await p.post(`/v1/subscriptions/${s.id}/regenerate-key`, undefined, { key: KEYS.viewer });
  const c3 = await config(c1.json.subscriptions_etag);
  assert.equal(c3.json.subscriptions_unchanged, false);
  assert.deepEqual(c3.json.subscriptions.map((x) => x.key_sha256), [sha256(k.json.key)]);

  // Pending and approved-without-key subscriptions carry nothing.
  const b = await app();
  const appr = await api({ subscription: 'approval' });
  const before = (await config()).json.subscriptions_etag;
  await p.post('/v1/deployments', { api_id: appr.id, gateway_id: gw }, { key: KEYS.admin });
  assert.notEqual((await config()).json.subscriptions_etag, before, 'a deployment moves the etag');
  const pend = await subscribed(b.id, appr.id);
  assert.equal((await config()).json.subscriptions.length, 1);
  await p.post(`/v1/subscriptions/${pend.id}/approve`, undefined, { key: KEYS.admin });
  assert.equal((await config()).json.subscriptions.length, 1);
  const pk = await p.post(`/v1/subscriptions/${pend.id}/regenerate-key`, undefined, { key: KEYS.viewer });
  const c4 = await config();
  assert.deepEqual(c4.json.subscriptions.map((x) => x.key_sha256).sort(), [sha256(k.json.key), sha256(pk.json.key)].sort());
  assert.equal(c4.json.subscriptions.find((x) => x.subscription_id === pend.id).requests_per_minute, null);

  // Editing a plan's rate reaches existing subscriptions (and moves the etag).
  const e1 = (await config()).json.subscriptions_etag;
  const edited = await p.put(`/v1/apis/${deployed.id}`, { plans: [{ name: 'gold', requests_per_minute: 300 }, { name: 'silver', requests_per_minute: 5 }] }, { key: KEYS.tenantAdmin });
  assert.equal(edited.status, 200, edited.text);
  const c4b = await config(e1);
  assert.equal(c4b.json.subscriptions_unchanged, false);
  assert.equal(c4b.json.subscriptions.find((x) => x.subscription_id === s.id).requests_per_minute, 300);
  assert.equal((await p.get(`/v1/subscriptions/${s.id}`, { key: KEYS.viewer })).json.requests_per_minute, 300);
  // A plan removed: the subscription keeps its last rate.
  await p.put(`/v1/apis/${deployed.id}`, { plans: [{ name: 'silver', requests_per_minute: 5 }] }, { key: KEYS.tenantAdmin });
  assert.equal((await p.get(`/v1/subscriptions/${s.id}`, { key: KEYS.viewer })).json.requests_per_minute, 300);

  // Revoke and cancel remove them at once.
  await p.post(`/v1/subscriptions/${pend.id}/revoke`, undefined, { key: KEYS.tenantAdmin });
  assert.deepEqual((await config()).json.subscriptions.map((x) => x.subscription_id), [s.id]);
  await p.del(`/v1/subscriptions/${s.id}`, { key: KEYS.viewer });
  const c5 = await config();
  assert.deepEqual(c5.json.subscriptions, []);
  assert.notEqual(c5.json.subscriptions_etag, c4.json.subscriptions_etag, 'every change moves the etag');
});

test('deleting an application cancels its subscriptions; deleting an API removes them', async () => {
  const a = await app();
  const x = await api();
  const y = await api();
  const s = await subscribed(a.id, x.id);
  const b = await app();
  const t = await subscribed(b.id, y.id);
  assert.equal((await p.del(`/v1/applications/${a.id}`, { key: KEYS.viewer })).status, 204);
  assertError(assert, await p.get(`/v1/subscriptions/${s.id}`, { key: KEYS.viewer }), 404, 'not_found');
  assert.equal((await p.del(`/v1/apis/${y.id}`, { key: KEYS.tenantAdmin })).status, 204);
  assertError(assert, await p.get(`/v1/subscriptions/${t.id}`, { key: KEYS.viewer }), 404, 'not_found');
});
