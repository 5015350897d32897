// Catalog: management CRUD, roles and tenants, OpenAPI import (JSON/YAML),
// portal search (the literal-matching regression corpus, ranking, facets,
// paging) and visibility. Runs on SQLite and PostgreSQL alike.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startPortico, Portico, KEYS, assertError } from './lib/harness.js';

let p;
const K = KEYS;

function doc(title, version, paths = {}, extra = {}) {
  return { openapi: '3.0.3', info: { title, version }, paths, ...extra };
}

async function create(body, key = K.admin) {
  const res = await p.post('/v1/apis', body, { key });
  assert.equal(res.status, 201, res.text);
  return res.json;
}

// Names (in result order) of a portal search.
async function search(q, { key = K.viewer, extra = '' } = {}) {
  const res = await p.get(`/v1/portal/apis?page_size=100&q=${encodeURIComponent(q)}${extra}`, { key });
  assert.equal(res.status, 200, res.text);
  return res.json.items.map((i) => i.name);
}

const pub = { status: 'published' };

// The search corpus: published, public APIs in tenant "default".
const CORPUS = [
  { name: 'Discounts 50%_off', version: '1.0', description: 'Get 100% of the value', tags: ['promo'], category: 'commerce' },
  { name: 'Rates 100 percent', version: '1.0', description: 'full 100 percent rates', category: 'commerce' },
  { name: 'Discounts 50 off', version: '1.0', description: 'plain fifty', tags: ['promo'], category: 'commerce' },
  { name: 'User Profile API', version: '2.0', category: 'identity', tags: ['users'],
    openapi: doc('User Profile API', '2.0', { '/user_profile/{id}': { get: { operationId: 'getUserProfile', summary: 'Read a profile' } } }) },
  { name: 'user-profile service', version: '1.0', category: 'identity', tags: ['users'] },
  { name: 'userXprofile legacy', version: '1.0', category: 'identity' },
  { name: 'Path back\\slash API', version: '1.0', category: 'tools' },
  { name: 'backslash plain', version: '1.0', category: 'tools' },
  { name: 'a/b testing', version: '1.0', category: 'tools' },
  { name: 'ab testing', version: '1.0', category: 'tools' },
  { name: 'Billing (prod)', version: '1.0', category: 'payments', tags: ['billing'] },
  { name: 'Billing prod', version: '1.0', category: 'payments', tags: ['billing'] },
  { name: 'Orders [v2]', version: '1.0', category: 'commerce' },
  { name: 'Orders v2', version: '1.0', category: 'commerce' },
  { name: 'CLI --help docs', version: '1.0', category: 'tools' },
  { name: 'Help center', version: '1.0', category: 'tools' },
  { name: 'Guest Users', version: '1.0', category: 'identity' },
  { name: 'Guest Checkout', version: '1.0', category: 'commerce' },
  { name: 'Café Finder', version: '1.0', category: 'places', tags: ['food'] },
  { name: 'Cafe Plain', version: '1.0', category: 'places' },
  { name: '<img src=x onerror=alert(1)>', version: '1.0', category: 'tools' },
];

before(async () => {
  p = await startPortico({ config: { auth: { allow_anonymous: true, anonymous_role: 'viewer' } } });
  for (const a of CORPUS) await create({ ...a, ...pub });
});
after(async () => { await p?.cleanup(); });

test('CRUD: create 201, get 200, update 200, duplicate 409, delete 204, then 404', async () => {
  const a = await create({ name: 'Crud API', version: '1.0', description: 'd', tags: ['x', 'x', 'y'] }, K.tenantAdmin);
  assert.match(a.id, /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
  assert.equal(a.tenant_id, 'acme');
  assert.equal(a.status, 'draft');
  assert.equal(a.portal_visible, true);
  assert.equal(a.audience, 'public');
  assert.deepEqual(a.tags, ['x', 'y']);
  assert.deepEqual(a.operations, []);
  assert.match(a.created_at, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
  const g = await p.get(`/v1/apis/${a.id}`, { key: K.tenantAdmin });
  assert.equal(g.status, 200);
  assert.equal(g.json.name, 'Crud API');
  const u = await p.put(`/v1/apis/${a.id}`, { description: 'new', status: 'published' }, { key: K.tenantAdmin });
  assert.equal(u.status, 200, u.text);
  assert.equal(u.json.description, 'new');
  assert.equal(u.json.name, 'Crud API');
  assert.equal(u.json.created_at, a.created_at);
  const dup = await p.post('/v1/apis', { name: 'Crud API', version: '1.0' }, { key: K.tenantAdmin });
  assertError(assert, dup, 409, 'conflict');
  // Same name and version in another tenant is fine.
  const other = await p.post('/v1/apis', { name: 'Crud API', version: '1.0' }, { key: K.otherTenantAdmin });
  assert.equal(other.status, 201, other.text);
  const d = await p.del(`/v1/apis/${a.id}`, { key: K.tenantAdmin });
  assert.equal(d.status, 204);
  assertError(assert, await p.get(`/v1/apis/${a.id}`, { key: K.tenantAdmin }), 404, 'not_found');
  assertError(assert, await p.del(`/v1/apis/${a.id}`, { key: K.tenantAdmin }), 404, 'not_found');
  assertError(assert, await p.get('/v1/apis/not-a-uuid', { key: K.tenantAdmin }), 404, 'not_found');
  assertError(assert, await p.get('/v1/portal/apis/not-a-uuid', { key: K.viewer }), 404, 'not_found');
});

test('validation: every field, 400 invalid_field naming it', async () => {
  const cases = [
    [{ version: '1' }, 'name'],
    [{ name: '', version: '1' }, 'name'],
    [{ name: 'x'.repeat(201), version: '1' }, 'name'],
    [{ name: 'ok' }, 'version'],
    [{ name: 'ok', version: 'v'.repeat(51) }, 'version'],
    [{ name: 'ok', version: '1', description: 'd'.repeat(5001) }, 'description'],
    [{ name: 'ok', version: '1', category: 'c'.repeat(101) }, 'category'],
    [{ name: 'ok', version: '1', tags: Array.from({ length: 21 }, (_, i) => `t${i}`) }, 'tags'],
    [{ name: 'ok', version: '1', tags: ['t'.repeat(51)] }, 'tags'],
    [{ name: 'ok', version: '1', tags: [''] }, 'tags'],
    [{ name: 'ok', version: '1', tags: 'a' }, 'tags'],
    [{ name: 'ok', version: '1', status: 'live' }, 'status'],
    [{ name: 'ok', version: '1', audience: 'everyone' }, 'audience'],
    [{ name: 'ok', version: '1', portal_visible: 'yes' }, 'portal_visible'],
    [{ name: 'ok', version: '1', openapi: 42 }, 'openapi'],
    [{ name: 'ok', version: '1', bogus: 1 }, 'bogus'],
    [{ name: 'ok', version: '1', id: 'x' }, 'id'],
    [{ name: 'ok\u0001', version: '1' }, 'name'],
  ];
  for (const [body, field] of cases) {
    const res = await p.post('/v1/apis', body, { key: K.admin });
    assertError(assert, res, 400, 'invalid_field');
    assert.ok(res.json.error.message.startsWith(`${field}:`), `${JSON.stringify(body).slice(0, 80)} → ${res.text}`);
  }
  // Boundaries are accepted.
  const ok = await p.post('/v1/apis', {
    name: 'n'.repeat(200), version: 'v'.repeat(50), description: 'd'.repeat(5000), category: 'c'.repeat(100),
    tags: Array.from({ length: 20 }, (_, i) => 't'.repeat(49) + String.fromCharCode(97 + i)),
  }, { key: K.admin });
  assert.equal(ok.status, 201, ok.text);
  assertError(assert, await p.request('POST', '/v1/apis', { key: K.admin, json: '[1,2]' }), 400);
  assertError(assert, await p.request('POST', '/v1/apis', { key: K.admin, json: '{bad' }), 400);
});

test('openapi field: object, JSON string, YAML string and plain text', async () => {
  const d = doc('Doc API', '1', { '/pets/{id}': { get: { operationId: 'getPet', summary: 'One pet', tags: ['pets'] }, delete: {} } });
  const a = await create({ name: 'Doc obj', version: '1', openapi: d });
  assert.deepEqual(a.openapi, d);
  assert.deepEqual(a.operations.map((o) => `${o.method} ${o.path} ${o.operation_id}`), ['GET /pets/{id} getPet', 'DELETE /pets/{id} ']);
  assert.deepEqual(a.operations[0].tags, ['pets']);
  const b = await create({ name: 'Doc json string', version: '1', openapi: JSON.stringify(d) });
  assert.deepEqual(b.openapi, d);
  assert.equal(b.operations.length, 2);
  const yaml = 'openapi: 3.0.0\ninfo:\n  title: Y\n  version: "1"\npaths:\n  /y:\n    post:\n      operationId: makeY\n';
  const c = await create({ name: 'Doc yaml string', version: '1', openapi: yaml });
  assert.equal(c.openapi, yaml);
  assert.deepEqual(c.operations.map((o) => o.operation_id), ['makeY']);
  const t = await create({ name: 'Doc text', version: '1', openapi: 'just: [unbalanced' });
  assert.equal(t.openapi, 'just: [unbalanced');
  assert.deepEqual(t.operations, []);
  // Clearing the document clears the operations.
  const u = await p.put(`/v1/apis/${a.id}`, { openapi: null }, { key: K.admin });
  assert.equal(u.status, 200);
  assert.equal(u.json.openapi, null);
  assert.deepEqual(u.json.operations, []);
});

test('roles: viewer and devops cannot create; devops may change only status and portal_visible', async () => {
  assertError(assert, await p.post('/v1/apis', { name: 'v', version: '1' }, { key: K.viewer }), 403, 'forbidden');
  assertError(assert, await p.post('/v1/apis', { name: 'v', version: '1' }, { key: K.devops }), 403, 'forbidden');
  const a = await create({ name: 'Devops target', version: '1' }, K.tenantAdmin);
  const ok = await p.put(`/v1/apis/${a.id}`, { status: 'published', portal_visible: false }, { key: K.devops });
  assert.equal(ok.status, 200, ok.text);
  assert.equal(ok.json.status, 'published');
  assert.equal(ok.json.portal_visible, false);
  assertError(assert, await p.put(`/v1/apis/${a.id}`, { name: 'renamed' }, { key: K.devops }), 403, 'forbidden');
  assertError(assert, await p.put(`/v1/apis/${a.id}`, { status: 'published', description: 'x' }, { key: K.devops }), 403, 'forbidden');
  assertError(assert, await p.del(`/v1/apis/${a.id}`, { key: K.devops }), 403, 'forbidden');
  assertError(assert, await p.put(`/v1/apis/${a.id}`, { status: 'gone' }, { key: K.devops }), 400, 'invalid_field');
  const g = await p.get(`/v1/apis/${a.id}`, { key: K.devops });
  assert.equal(g.status, 200);
  assert.equal(g.json.name, 'Devops target');
});

test('tenants: management is tenant-scoped; cpi-admin sees all and may set tenant_id', async () => {
  const a = await create({ name: 'Acme only', version: '1', tenant_id: 'globex' }, K.tenantAdmin);
  assert.equal(a.tenant_id, 'acme', 'a tenant-admin cannot write into another tenant');
  for (const res of [
    await p.get(`/v1/apis/${a.id}`, { key: K.otherTenantAdmin }),
    await p.put(`/v1/apis/${a.id}`, { description: 'x' }, { key: K.otherTenantAdmin }),
    await p.del(`/v1/apis/${a.id}`, { key: K.otherTenantAdmin }),
  ]) assertError(assert, res, 404, 'not_found');
  const list = await p.get('/v1/apis?page_size=100&q=acme%20only', { key: K.otherTenantAdmin });
  assert.equal(list.status, 200);
  assert.equal(list.json.total, 0);
  const mine = await p.get('/v1/apis?page_size=100&q=acme%20only', { key: K.tenantAdmin });
  assert.equal(mine.json.total, 1);
  assert.ok(mine.json.items.every((i) => i.tenant_id === 'acme'));
  const all = await p.get('/v1/apis?page_size=100', { key: K.admin });
  assert.ok(new Set(all.json.items.map((i) => i.tenant_id)).size >= 2);
  const g = await create({ name: 'Placed', version: '1', tenant_id: 'globex' }, K.admin);
  assert.equal(g.tenant_id, 'globex');
  assert.equal((await p.get(`/v1/apis/${g.id}`, { key: K.otherTenantAdmin })).status, 200);
  const d = await create({ name: 'Defaulted', version: '1' }, K.admin);
  assert.equal(d.tenant_id, 'default');
  assertError(assert, await p.post('/v1/apis', { name: 'x', version: '1', tenant_id: 'bad tenant!' }, { key: K.admin }), 400, 'invalid_field');
  // Management list filters and checks its parameters.
  const drafts = await p.get('/v1/apis?status=draft&page_size=100', { key: K.admin });
  assert.equal(drafts.status, 200);
  assert.ok(drafts.json.items.length > 0 && drafts.json.items.every((i) => i.status === 'draft'));
  assertError(assert, await p.get('/v1/apis?status=live', { key: K.admin }), 400, 'invalid_parameter');
});

test('import: JSON creates (201) then updates (200) by name+version; YAML; tags and x-category', async () => {
  const d = doc('Imported Pets', '1.2.0', {
    '/pets': { get: { operationId: 'listPets', summary: 'List pets' }, post: { operationId: 'addPet' } },
    '/pets/{petId}': { get: { operationId: 'showPetById' } },
  }, { tags: [{ name: 'pets' }, { name: 'animals' }], 'x-category': 'animals' });
  d.info.description = 'All the pets';
  const r1 = await p.post('/v1/apis/import', d, { key: K.tenantAdmin });
  assert.equal(r1.status, 201, r1.text);
  assert.equal(r1.json.name, 'Imported Pets');
  assert.equal(r1.json.version, '1.2.0');
  assert.equal(r1.json.description, 'All the pets');
  assert.equal(r1.json.category, 'animals');
  assert.deepEqual(r1.json.tags, ['pets', 'animals']);
  assert.equal(r1.json.tenant_id, 'acme');
  assert.deepEqual(r1.json.operations.map((o) => `${o.method} ${o.path}`), ['GET /pets', 'POST /pets', 'GET /pets/{petId}']);
  d.info.description = 'Changed';
  delete d.paths['/pets/{petId}'];
  const r2 = await p.post('/v1/apis/import', d, { key: K.tenantAdmin });
  assert.equal(r2.status, 200, r2.text);
  assert.equal(r2.json.id, r1.json.id);
  assert.equal(r2.json.description, 'Changed');
  assert.equal(r2.json.operations.length, 2);

  const yaml = [
    'openapi: "3.0.1"',
    'info:',
    '  title: Yaml Weather',
    "  version: '2024-01'",
    '  description: >-',
    '    Forecasts and',
    '    observations',
    'x-category: weather',
    'tags:',
    '  - name: forecast',
    'paths:',
    '  /forecast/{city}:',
    '    get:',
    '      operationId: getForecast',
    '      summary: "Forecast: 7 days"',
    '      responses:',
    '        200:',
    '          description: OK',
    '',
  ].join('\n');
  const r3 = await p.request('POST', '/v1/apis/import', { key: K.tenantAdmin, body: yaml, headers: { 'Content-Type': 'application/yaml' } });
  assert.equal(r3.status, 201, r3.text);
  assert.equal(r3.json.name, 'Yaml Weather');
  assert.equal(r3.json.version, '2024-01');
  assert.equal(r3.json.description, 'Forecasts and observations');
  assert.equal(r3.json.category, 'weather');
  assert.equal(r3.json.openapi, yaml, 'a YAML document is kept as given');
  assert.deepEqual(r3.json.operations.map((o) => [o.method, o.path, o.operation_id, o.summary]),
    [['GET', '/forecast/{city}', 'getForecast', 'Forecast: 7 days']]);
  // The imported operations are searchable.
  const m = await p.get('/v1/apis?q=getforecast', { key: K.tenantAdmin });
  assert.deepEqual(m.json.items.map((i) => i.name), ['Yaml Weather']);
  // Roles: devops and viewers may not import.
  assertError(assert, await p.post('/v1/apis/import', d, { key: K.devops }), 403, 'forbidden');
  assertError(assert, await p.post('/v1/apis/import', d, { key: K.viewer }), 403, 'forbidden');
});

test('import: invalid documents get 400 invalid_openapi naming the problem', async () => {
  const send = (body, ct = 'application/json') => p.request('POST', '/v1/apis/import', { key: K.admin, body, headers: { 'Content-Type': ct } });
  const cases = [
    [JSON.stringify({ swagger: '2.0', info: { title: 't', version: '1' }, paths: {} }), /^openapi: .*Swagger 2\.0/],
    [JSON.stringify({ info: { title: 't', version: '1' }, paths: {} }), /^openapi: is required/],
    [JSON.stringify({ openapi: '2.5', info: { title: 't', version: '1' }, paths: {} }), /^openapi: must be 3\.x/],
    [JSON.stringify({ openapi: '3.0.0', paths: {} }), /^info: is required/],
    [JSON.stringify({ openapi: '3.0.0', info: { version: '1' }, paths: {} }), /^info\.title: is required/],
    [JSON.stringify({ openapi: '3.0.0', info: { title: 't' }, paths: {} }), /^info\.version: is required/],
    [JSON.stringify({ openapi: '3.0.0', info: { title: 't', version: '1' } }), /^paths: is required/],
    [JSON.stringify({ openapi: '3.0.0', info: { title: 't', version: '1' }, paths: { pets: {} } }), /^paths\.pets: must start with/],
    [JSON.stringify({ openapi: '3.0.0', info: { title: 'x'.repeat(201), version: '1' }, paths: {} }), /^info\.title: /],
    [JSON.stringify({ openapi: '3.0.0', info: { title: 't', version: '1' }, paths: {}, tags: [{ nom: 'x' }] }), /^tags\[0\]\.name/],
    ['[1, 2]', /^document: must be an object/],
    ['openapi: 3.0.0\ninfo:\n  title: t\n  version: 1.0\npaths: {}\n', /^info\.version: must be a string/],
    ['openapi: 3.0.0\ninfo: [\n', /^line \d+, column \d+: /],
    ['openapi: 3.0.0\nbase: &a {x: 1}\nother: *a\n', /anchors|aliases/],
    ['openapi: 3.0.0\nopenapi: 3.0.1\n', /duplicate key/],
    ['"just a string"', /^document: must be an object/],
  ];
  for (const [body, re] of cases) {
    const res = await send(body, body.startsWith('{') || body.startsWith('[') ? 'application/json' : 'application/yaml');
    assertError(assert, res, 400, 'invalid_openapi');
    assert.match(res.json.error.message, re, body.slice(0, 60));
  }
  assertError(assert, await send(''), 400, 'invalid_openapi');
  assertError(assert, await send(Buffer.from([0x6f, 0x3a, 0x20, 0xff, 0xfe])), 400, 'invalid_openapi');
  assertError(assert, await send('{"openapi":"3.0.0"}', 'text/plain'), 415, 'unsupported_media_type');
});

test('search corpus: every character is literal', async () => {
  const cases = [
    ['100%', ['Discounts 50%_off']],
    ['50%_off', ['Discounts 50%_off']],
    ['%', ['Discounts 50%_off']],
    ['_', ['Discounts 50%_off', 'User Profile API']],
    ['user_profile', ['User Profile API']],
    ['user-profile', ['user-profile service']],
    ['back\\slash', ['Path back\\slash API']],
    ['\\', ['Path back\\slash API']],
    ['a/b', ['a/b testing']],
    ['(prod)', ['Billing (prod)']],
    ['[v2]', ['Orders [v2]']],
    ['{id}', ['User Profile API']],
    ['--help', ['CLI --help docs']],
    ["' OR 1=1 --", []],
    ['Café', ['Café Finder']],
    ['café', ['Café Finder']],
    ['CAFÉ', ['Café Finder']],
    ['<img', ['<img src=x onerror=alert(1)>']],
    ['*', []],
    ['?', []],
    ['.', ['Discounts 50%_off', 'Rates 100 percent', 'Discounts 50 off', 'User Profile API', 'user-profile service',
      'userXprofile legacy', 'Path back\\slash API', 'backslash plain', 'a/b testing', 'ab testing', 'Billing (prod)',
      'Billing prod', 'Orders [v2]', 'Orders v2', 'CLI --help docs', 'Help center', 'Guest Users', 'Guest Checkout',
      'Café Finder', 'Cafe Plain', '<img src=x onerror=alert(1)>'].filter(() => true)],
  ];
  for (const [q, expected] of cases) {
    const got = await search(q);
    if (q === '.') {
      // Every corpus API has version "1.0" or "2.0": "." matches all of them.
      for (const n of expected) assert.ok(got.includes(n), `q=. should match ${n}`);
      continue;
    }
    assert.deepEqual([...got].sort(), [...expected].sort(), `q=${JSON.stringify(q)}`);
  }
});

test('search: words are ANDed, each in any field; empty and whitespace-only are no filter', async () => {
  // "Guest U": "guest" AND "u" — every API containing guest (which contains u).
  assert.deepEqual(await search('Guest U'), ['Guest Users', 'Guest Checkout']);
  assert.deepEqual(await search('guest checkout'), ['Guest Checkout']);
  assert.deepEqual(await search('checkout users'), []);
  // Words from different fields: name + category.
  assert.deepEqual(await search('billing payments'), ['Billing (prod)', 'Billing prod']);
  // Operation path / operationId / summary and tags are searched.
  assert.deepEqual(await search('getuserprofile'), ['User Profile API']);
  assert.deepEqual(await search('read a profile'), ['User Profile API']);
  assert.deepEqual(await search('promo'), ['Discounts 50 off', 'Discounts 50%_off']);
  // A word never matches across two fields (fields are separate).
  assert.deepEqual(await search('apiidentity'), []);
  const all = await p.get('/v1/portal/apis?page_size=100', { key: K.viewer });
  for (const q of ['', '   ', '%20%09%20']) {
    const res = await p.get(`/v1/portal/apis?page_size=100&q=${q}`, { key: K.viewer });
    assert.equal(res.status, 200);
    assert.equal(res.json.total, all.json.total, `q=${q}`);
  }
  // Surrounding whitespace is trimmed.
  assert.deepEqual(await search('  (prod)  '), ['Billing (prod)']);
});

test('search: q limits — 200 characters ok, 201 → 400, invalid UTF-8 → 400, never 500', async () => {
  assert.equal((await p.get(`/v1/portal/apis?q=${'a'.repeat(200)}`, { key: K.viewer })).status, 200);
  assert.equal((await p.get(`/v1/portal/apis?q=${encodeURIComponent('é'.repeat(200))}`, { key: K.viewer })).status, 200);
  for (const q of ['a'.repeat(201), 'é'.repeat(201), 'x'.repeat(500), 'y'.repeat(5000)]) {
    const res = await p.get(`/v1/portal/apis?q=${encodeURIComponent(q)}`, { key: K.viewer });
    assertError(assert, res, 400, 'invalid_parameter');
    assert.match(res.json.error.message, /^q: /);
  }
  for (const raw of ['%ff%fe', '%c3', '%ed%a0%80', 'ok%80', '%00']) {
    const res = await p.get(`/v1/portal/apis?q=${raw}`, { key: K.viewer });
    assertError(assert, res, 400, 'invalid_parameter');
    assert.match(res.json.error.message, /^q: /);
  }
  const words = Array.from({ length: 17 }, (_, i) => `w${i}`).join(' ');
  assertError(assert, await p.get(`/v1/portal/apis?q=${encodeURIComponent(words)}`, { key: K.viewer }), 400, 'invalid_parameter');
  assert.equal((await p.get(`/v1/portal/apis?q=${encodeURIComponent(words.split(' ').slice(0, 16).join(' '))}`, { key: K.viewer })).status, 200);
  // Special characters never cause an error.
  for (const q of ["'", '"', ';', '%%', '\\%', '\\\\', '$1', '?', '&&', '\u0000x'.slice(1), '🙂', '\u00a0']) {
    assert.equal((await p.get(`/v1/portal/apis?q=${encodeURIComponent(q)}`, { key: K.viewer })).status, 200, q);
  }
});

test('ranking: exact name, prefix, contains, other fields; ties by name', async () => {
  await create({ name: 'Ledger', version: '1', ...pub, category: 'rank' });
  await create({ name: 'ledger', version: '2', ...pub, category: 'rank' });
  await create({ name: 'Ledger Archive', version: '1', ...pub, category: 'rank' });
  await create({ name: 'ledger-archive', version: '1', ...pub, category: 'rank' });
  await create({ name: 'General Ledger', version: '1', ...pub, category: 'rank' });
  await create({ name: 'Accounts', version: '1', ...pub, category: 'rank', description: 'posts to the ledger' });
  await create({ name: 'Books', version: '1', ...pub, category: 'rank', tags: ['ledger'] });
  const got = await search('LEDGER');
  assert.deepEqual(got.slice(0, 2).map((n) => n.toLowerCase()), ['ledger', 'ledger']);
  assert.deepEqual(got.slice(2), ['Ledger Archive', 'ledger-archive', 'General Ledger', 'Accounts', 'Books']);
  // Exact-name ties: by lower-cased name, then id.
  const res = await p.get('/v1/portal/apis?page_size=2&q=ledger', { key: K.viewer });
  const ids = res.json.items.map((i) => i.id);
  assert.deepEqual(ids, [...ids].sort());
  // Without q: by lower-cased name.
  const byName = await p.get('/v1/portal/apis?page_size=100&category=rank', { key: K.viewer });
  const names = byName.json.items.map((i) => i.name.toLowerCase());
  assert.deepEqual(names, [...names].sort());
  // sort=updated: newest first; ties (APIs written in the same millisecond)
  // by lower-cased name, then id, so the order is total and deterministic.
  const upd = await p.get('/v1/portal/apis?page_size=100&category=rank&sort=updated', { key: K.viewer });
  assert.equal(upd.json.items.length, 7);
  const byUpdated = (a, b) =>
    a.updated_at !== b.updated_at
      ? (a.updated_at < b.updated_at ? 1 : -1)
      : a.name.toLowerCase() !== b.name.toLowerCase()
        ? (a.name.toLowerCase() < b.name.toLowerCase() ? -1 : 1)
        : (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
  assert.deepEqual(upd.json.items.map((i) => i.id), [...upd.json.items].sort(byUpdated).map((i) => i.id));
  // An update moves an API to the front, whatever the creation order was.
  const acc = byName.json.items.find((i) => i.name === 'Accounts');
  await new Promise((r) => setTimeout(r, 5)); // a later millisecond than every creation above
  const touched = await p.put(`/v1/apis/${acc.id}`, { description: 'posts to the ledger, now with more' }, { key: K.admin });
  assert.equal(touched.status, 200);
  const upd2 = await p.get('/v1/portal/apis?page_size=100&category=rank&sort=updated', { key: K.viewer });
  assert.equal(upd2.json.items[0].name, 'Accounts');
  assert.deepEqual(upd2.json.items.map((i) => i.id), [...upd2.json.items].sort(byUpdated).map((i) => i.id));
  assertError(assert, await p.get('/v1/portal/apis?sort=relevance', { key: K.viewer }), 400, 'invalid_parameter');
});

test('facets: category and tag counts over the APIs matching q and the filters', async () => {
  const res = await p.get('/v1/portal/apis?q=discounts', { key: K.viewer });
  assert.deepEqual(res.json.facets, { categories: { commerce: 2 }, tags: { promo: 2 } });
  const ident = await p.get('/v1/portal/apis?category=identity&page_size=100', { key: K.viewer });
  assert.equal(ident.json.total, 4);
  assert.deepEqual(ident.json.facets.categories, { identity: 4 });
  assert.deepEqual(ident.json.facets.tags, { users: 2 });
  const tagged = await p.get('/v1/portal/apis?tag=users', { key: K.viewer });
  assert.deepEqual(tagged.json.items.map((i) => i.name), ['User Profile API', 'user-profile service']);
  // Repeated tag = AND.
  await create({ name: 'Two tags', version: '1', ...pub, tags: ['users', 'promo'] });
  const both = await p.get('/v1/portal/apis?tag=users&tag=promo', { key: K.viewer });
  assert.deepEqual(both.json.items.map((i) => i.name), ['Two tags']);
  assert.deepEqual(both.json.facets.tags, { promo: 1, users: 1 });
  const none = await p.get('/v1/portal/apis?category=nope', { key: K.viewer });
  assert.deepEqual(none.json, { items: [], total: 0, page: 1, page_size: 20, facets: { categories: {}, tags: {} } });
});

test('paging: bounds 400, page past the end is 200 and empty, pages partition the results', async () => {
  for (const q of ['page=0', 'page_size=0', 'page_size=101', 'page=-1', 'page=x', 'page_size=1.5']) {
    assertError(assert, await p.get(`/v1/portal/apis?${q}`, { key: K.viewer }), 400, 'invalid_parameter');
    assertError(assert, await p.get(`/v1/apis?${q}`, { key: K.admin }), 400, 'invalid_parameter');
  }
  const all = await p.get('/v1/portal/apis?page_size=100', { key: K.viewer });
  const total = all.json.total;
  assert.ok(total >= 20);
  const seen = [];
  for (let page = 1; page <= Math.ceil(total / 7); page++) {
    const res = await p.get(`/v1/portal/apis?page_size=7&page=${page}`, { key: K.viewer });
    assert.equal(res.json.page, page);
    assert.equal(res.json.page_size, 7);
    assert.equal(res.json.total, total);
    seen.push(...res.json.items.map((i) => i.id));
  }
  assert.deepEqual(seen, all.json.items.map((i) => i.id));
  const past = await p.get('/v1/portal/apis?page=1000', { key: K.viewer });
  assert.equal(past.status, 200);
  assert.deepEqual(past.json.items, []);
  assert.equal(past.json.total, total);
});

test('visibility: drafts, hidden, internal and other tenants', async () => {
  const draft = await create({ name: 'Vis draft', version: '1', category: 'vis' });
  const hidden = await create({ name: 'Vis hidden', version: '1', category: 'vis', ...pub, portal_visible: false });
  const dep = await create({ name: 'Vis deprecated', version: '1', category: 'vis', status: 'deprecated' });
  const acmeInternal = await create({ name: 'Vis acme internal', version: '1', category: 'vis', ...pub, audience: 'internal' }, K.tenantAdmin);
  const globexPublic = await create({ name: 'Vis globex public', version: '1', category: 'vis', ...pub }, K.otherTenantAdmin);
  const names = async (key) => {
    const res = await p.get('/v1/portal/apis?category=vis&page_size=100', { key });
    assert.equal(res.status, 200);
    assert.equal(res.json.total, res.json.items.length);
    return res.json.items.map((i) => i.name);
  };
  assert.deepEqual(await names(K.viewer), ['Vis acme internal', 'Vis deprecated', 'Vis globex public']);
  assert.deepEqual(await names(K.otherTenantAdmin), ['Vis deprecated', 'Vis globex public']);
  assert.deepEqual(await names(undefined), ['Vis deprecated', 'Vis globex public']);
  assert.deepEqual(await names(K.admin), ['Vis acme internal', 'Vis deprecated', 'Vis globex public']);
  // Facet counts never include invisible APIs.
  const f = await p.get('/v1/portal/apis?q=vis', { key: undefined });
  assert.deepEqual(f.json.facets.categories, { vis: 2 });
  // Detail: 404 for what the caller may not see.
  for (const [id, key] of [[draft.id, K.viewer], [hidden.id, K.admin], [acmeInternal.id, undefined],
    [acmeInternal.id, K.otherTenantAdmin]]) {
    assertError(assert, await p.get(`/v1/portal/apis/${id}`, { key }), 404, 'not_found');
  }
  const d = await p.get(`/v1/portal/apis/${dep.id}`);
  assert.equal(d.status, 200);
  assert.deepEqual(d.json.operations, []);
  assert.equal((await p.get(`/v1/portal/apis/${acmeInternal.id}`, { key: K.viewer })).status, 200);
  assert.equal((await p.get(`/v1/portal/apis/${globexPublic.id}`, { key: K.viewer })).status, 200);
  // Anonymous callers cannot reach management.
  assertError(assert, await p.get('/v1/apis'), 401, 'unauthenticated');
  // Unpublishing hides it again.
  await p.put(`/v1/apis/${dep.id}`, { status: 'draft' }, { key: K.admin });
  assertError(assert, await p.get(`/v1/portal/apis/${dep.id}`), 404, 'not_found');
  assert.deepEqual(await names(undefined), ['Vis globex public']);
});

test('detail: portal and management return operations and the document; names are verbatim', async () => {
  const list = await p.get(`/v1/portal/apis?q=${encodeURIComponent('<img')}`, { key: K.viewer });
  const id = list.json.items[0].id;
  const d = await p.get(`/v1/portal/apis/${id}`, { key: K.viewer });
  assert.equal(d.status, 200);
  assert.equal(d.json.name, '<img src=x onerror=alert(1)>');
  assert.match(d.headers.get('content-type'), /^application\/json/);
  const up = (await p.get(`/v1/portal/apis?q=getUserProfile`, { key: K.viewer })).json.items[0];
  const u = await p.get(`/v1/portal/apis/${up.id}`, { key: K.viewer });
  assert.deepEqual(u.json.operations, [{ method: 'GET', path: '/user_profile/{id}', operation_id: 'getUserProfile', summary: 'Read a profile', tags: [] }]);
  assert.equal(u.json.openapi.info.title, 'User Profile API');
  // Search by id.
  assert.deepEqual(await search(up.id.slice(0, 13)), ['User Profile API']);
});

test('the in-process index and the SQL path agree, and the index sees writes by another process', async () => {
  // A second Portico on the same database answers from SQL only.
  const sql = await new Portico({ dir: p.dir, dbUrl: p.dbUrl, env: { PORTICO_SEARCH_INDEX: 'off' },
    config: { auth: { allow_anonymous: true, anonymous_role: 'viewer' } } }).start();
  try {
    const queries = ['', 'e', 'a', '%', '_', '\\', 'ed', 'ab', 'discounts', '50%_off', 'user_profile', 'user-profile',
      'guest u', 'café', 'CAFÉ', '(prod)', '[v2]', '{id}', '--help', "' or 1=1 --", 'ledger', 'vis', 'profile api',
      'identity', '1.0', 'getuserprofile', 'zzz', 'o', 'in', '.', '/', 'e e e'];
    // Deep and small pages cross the rank buckets and the sort=updated
    // heap that the index keeps instead of ordering every match.
    const extras = ['', '&sort=updated', '&category=identity', '&tag=users', '&tag=users&tag=promo', '&page_size=3&page=2',
      '&page_size=1&page=5', '&page_size=2&page=4&sort=updated', '&page_size=100', '&page=50'];
    const keys = [K.viewer, K.otherTenantAdmin, K.admin, undefined];
    let compared = 0;
    for (const q of queries) {
      for (const extra of extras) {
        for (const key of keys) {
          const path = `/v1/portal/apis?q=${encodeURIComponent(q)}${extra}`;
          const [a, b] = await Promise.all([p.get(path, { key }), sql.get(path, { key })]);
          assert.equal(a.status, 200, a.text);
          assert.deepEqual(a.json, b.json, `${path} (${key})`);
          compared++;
        }
      }
    }
    assert.equal(compared, queries.length * extras.length * keys.length);
    // Warm the index, then change the catalog through the other process.
    assert.deepEqual(await search('freshness'), []);
    const made = await sql.post('/v1/apis', { name: 'Freshness probe', version: '1', ...pub }, { key: K.admin });
    assert.equal(made.status, 201);
    assert.deepEqual(await search('freshness'), ['Freshness probe']);
    await sql.put(`/v1/apis/${made.json.id}`, { name: 'Renamed probe' }, { key: K.admin });
    assert.deepEqual(await search('freshness'), []);
    assert.deepEqual(await search('renamed probe'), ['Renamed probe']);
    await sql.put(`/v1/apis/${made.json.id}`, { portal_visible: false }, { key: K.admin });
    assert.deepEqual(await search('renamed probe'), []);
    await sql.put(`/v1/apis/${made.json.id}`, { portal_visible: true, tags: ['fresh-tag'] }, { key: K.admin });
    assert.deepEqual((await p.get('/v1/portal/apis?tag=fresh-tag', { key: K.viewer })).json.items.map((i) => i.name), ['Renamed probe']);
    assert.equal((await sql.del(`/v1/apis/${made.json.id}`, { key: K.admin })).status, 204);
    assert.deepEqual(await search('renamed probe'), []);
  } finally {
    await sql.stop();
  }
});
