// GET /v1/openapi.json: the document is served, and it cannot drift from the
// route table — every route in server/routes.c is in `paths` with its method,
// and nothing else is; public and gateway routes declare matching security.
// Also the build-time converter (scripts/yaml2json.mjs) on its YAML subset.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { startPortico, ROOT } from './lib/harness.js';
import { parseYaml } from '../../scripts/yaml2json.mjs';

const METHODS = ['get', 'put', 'post', 'delete', 'patch', 'head', 'options', 'trace'];

// {"METHOD", "/path", handler, PERMS, FLAGS, "name"} entries of the route table.
function routeTable() {
  const src = readFileSync(join(ROOT, 'server/routes.c'), 'utf8');
  const re = /\{\s*"([A-Z]+)",\s*"([^"]+)",\s*(\w+),\s*([\w| ]+?),\s*([\w| ]+?),\s*"([^"]+)"\s*\}/g;
  const routes = [];
  for (const m of src.matchAll(re)) {
    routes.push({ method: m[1].toLowerCase(), path: m[2], flags: m[5].split('|').map((s) => s.trim()), name: m[6] });
  }
  return routes;
}

let p;
let doc;
before(async () => {
  p = await startPortico();
  const r = await p.get('/v1/openapi.json');
  assert.equal(r.status, 200, r.text);
  doc = r.json;
});
after(async () => { await p?.cleanup(); });

test('the route table parses (the regex still matches server/routes.c)', () => {
  const routes = routeTable();
  assert.ok(routes.length >= 30, `only ${routes.length} routes found`);
  const src = readFileSync(join(ROOT, 'server/routes.c'), 'utf8');
  const entries = src.match(/\{\s*"(GET|POST|PUT|DELETE|PATCH)",/g) || [];
  assert.equal(routes.length, entries.length, 'every route entry must match the full pattern');
});

test('GET /v1/openapi.json is OpenAPI 3.0.3 JSON, public, with ETag and no-cache', async () => {
  const r = await p.get('/v1/openapi.json');
  assert.equal(r.status, 200);
  assert.match(r.headers.get('content-type'), /^application\/json/);
  assert.equal(r.headers.get('cache-control'), 'no-cache');
  assert.match(r.headers.get('etag'), /^"[0-9a-f]{32}"$/);
  assert.equal(r.json.openapi, '3.0.3');
  assert.equal(r.json.info.title, 'Portico API');
  assert.equal(typeof r.json.paths, 'object');
});

test('If-None-Match with the ETag is 304; another tag is 200', async () => {
  const first = await p.get('/v1/openapi.json');
  const etag = first.headers.get('etag');
  const again = await p.get('/v1/openapi.json', { headers: { 'If-None-Match': etag } });
  assert.equal(again.status, 304);
  assert.equal(again.text, '');
  assert.equal(again.headers.get('etag'), etag);
  const list = await p.get('/v1/openapi.json', { headers: { 'If-None-Match': `"nope", ${etag}` } });
  assert.equal(list.status, 304);
  const other = await p.get('/v1/openapi.json', { headers: { 'If-None-Match': '"0000"' } });
  assert.equal(other.status, 200);
  assert.equal(other.json.openapi, '3.0.3');
});

test('the served document is docs/openapi.yaml converted', () => {
  const fromSource = parseYaml(readFileSync(join(ROOT, 'docs/openapi.yaml'), 'utf8'));
  assert.deepEqual(doc, fromSource);
});

test('every route is documented with its method, and nothing else is', () => {
  const inTable = new Set(routeTable().map((r) => `${r.method.toUpperCase()} ${r.path}`));
  const inDoc = new Set();
  for (const [path, item] of Object.entries(doc.paths)) {
    for (const m of Object.keys(item)) if (METHODS.includes(m)) inDoc.add(`${m.toUpperCase()} ${path}`);
  }
  const missing = [...inTable].filter((x) => !inDoc.has(x));
  const extra = [...inDoc].filter((x) => !inTable.has(x));
  assert.deepEqual(missing, [], `routes missing from docs/openapi.yaml: ${missing.join(', ')}`);
  assert.deepEqual(extra, [], `documented but not in server/routes.c: ${extra.join(', ')}`);
});

test('security matches the route flags: public routes allow no credential, gateway routes need X-Gateway-Key', () => {
  for (const r of routeTable()) {
    const op = doc.paths[r.path][r.method];
    const where = `${r.method.toUpperCase()} ${r.path}`;
    if (r.flags.includes('GW')) {
      assert.deepEqual(op.security, [{ GatewayKey: [] }], `${where}: gateway route`);
    } else if (r.flags.includes('PUB')) {
      assert.ok(Array.isArray(op.security), `${where}: public route needs an explicit security`);
      assert.ok(op.security.length === 0 || op.security.some((s) => Object.keys(s).length === 0),
        `${where}: public route must allow no credential`);
    } else {
      const sec = op.security ?? doc.security;
      assert.ok(sec.length > 0 && sec.every((s) => Object.keys(s).length > 0), `${where}: needs a credential`);
      assert.ok(!sec.some((s) => 'GatewayKey' in s), `${where}: user route must not take gateway keys`);
    }
  }
});

test('operations are complete: ids unique, path parameters declared, responses present', () => {
  const ids = new Set();
  const resolve = (o) => {
    if (!o || !o.$ref) return o;
    const parts = o.$ref.replace(/^#\//, '').split('/');
    let cur = doc;
    for (const k of parts) cur = cur?.[k];
    assert.ok(cur, `unresolved $ref ${o.$ref}`);
    return cur;
  };
  for (const [path, item] of Object.entries(doc.paths)) {
    const captures = [...path.matchAll(/\{(\w+)\}/g)].map((m) => m[1]);
    for (const m of METHODS) {
      const op = item[m];
      if (!op) continue;
      const where = `${m.toUpperCase()} ${path}`;
      assert.ok(op.operationId && !ids.has(op.operationId), `${where}: operationId missing or repeated`);
      ids.add(op.operationId);
      assert.ok(op.summary, `${where}: summary`);
      assert.ok(op.responses && Object.keys(op.responses).length > 0, `${where}: responses`);
      assert.ok(Object.keys(op.responses).some((c) => /^[23]/.test(c)), `${where}: a success response`);
      const params = (op.parameters || []).map(resolve);
      const pathParams = params.filter((x) => x.in === 'path').map((x) => x.name);
      assert.deepEqual(pathParams.sort(), [...captures].sort(), `${where}: path parameters`);
      for (const resp of Object.values(op.responses)) resolve(resp);
    }
  }
});

test('every $ref in the document resolves', () => {
  const refs = [];
  const walk = (v) => {
    if (Array.isArray(v)) v.forEach(walk);
    else if (v && typeof v === 'object') {
      if (typeof v.$ref === 'string') refs.push(v.$ref);
      Object.values(v).forEach(walk);
    }
  };
  walk(doc);
  assert.ok(refs.length > 50);
  for (const ref of refs) {
    assert.match(ref, /^#\//, ref);
    let cur = doc;
    for (const k of ref.slice(2).split('/')) cur = cur?.[k];
    assert.ok(cur !== undefined, `unresolved ${ref}`);
  }
});

test('the documented schemas carry the contract fields', () => {
  const s = doc.components.schemas;
  assert.deepEqual(s.Error.properties.error.required, ['code', 'message']);
  assert.deepEqual(s.Page.required, ['items', 'total', 'page', 'page_size']);
  assert.deepEqual(s.AuthConfig.required, ['oidc_enabled', 'api_key_enabled', 'anonymous_enabled']);
  for (const f of ['subject', 'name', 'email', 'auth_type', 'role', 'tenant_id', 'scopes', 'csrf_token'])
    assert.ok(f in s.Whoami.properties, `Whoami.${f}`);
  for (const f of ['id', 'name', 'hostname', 'type', 'mode', 'environment', 'version', 'capabilities',
    'admin_url', 'tenant_id', 'status', 'live', 'last_heartbeat_at', 'registered_at', 'health_details'])
    assert.ok(f in s.Gateway.properties, `Gateway.${f}`);
  assert.deepEqual(s.GatewayStatus.enum, ['online', 'offline', 'degraded', 'maintenance']);
  assert.ok('key' in s.ApiKeyCreated.allOf[1].properties);
  const schemes = doc.components.securitySchemes;
  assert.equal(schemes.ApiKeyHeader.name, 'X-API-Key');
  assert.equal(schemes.GatewayKey.name, 'X-Gateway-Key');
  assert.equal(schemes.BearerAuth.scheme, 'bearer');
  assert.equal(schemes.SessionCookie.in, 'cookie');
});

test('the response to an unauthenticated call matches what the document says', async () => {
  // /v1/whoami inherits the global security: no credential → 401 with the error shape.
  const r = await p.get('/v1/whoami');
  assert.equal(r.status, 401);
  assert.ok('401' in doc.paths['/v1/whoami'].get.responses);
  assert.equal(typeof r.json.error.code, 'string');
});

// ---- scripts/yaml2json.mjs -------------------------------------------------

test('yaml2json: the subset converts like YAML does', () => {
  const y = [
    '# comment',
    'a: 1',
    'b: "x: y"',
    "c: 'it''s'",
    'd: 3.0.3',
    'e: [x, "y z", 2, null, true]',
    'f: {}',
    'g: []',
    'h:',
    '- one',
    '- k: v',
    '  n: 2',
    '-',
    '  deep: ~',
    'i: |',
    '  line 1',
    '  line 2',
    'j: >-',
    '  folded',
    '  text',
    '',
    '  para',
    "'200':",
    '  description: OK   # trailing comment',
    'url: http://x/y#z',
  ].join('\n');
  assert.deepEqual(parseYaml(y), {
    a: 1, b: 'x: y', c: "it's", d: '3.0.3', e: ['x', 'y z', 2, null, true], f: {}, g: [],
    h: ['one', { k: 'v', n: 2 }, { deep: null }],
    i: 'line 1\nline 2\n', j: 'folded text\npara',
    200: { description: 'OK' }, url: 'http://x/y#z',
  });
});

test('yaml2json: anything outside the subset is refused with its line', () => {
  const bad = {
    'a: &x 1': 1,
    'a: *x': 1,
    'a: !!str 1': 1,
    'a: {b: 1}': 1,
    'a: b: c': 1,
    'a: 1\na: 2': 2,
    'a:\n\t- x': 2,
    '---\na: 1': 1,
    'a: "open\n  close"': 1,
    'a: [1, [2]]': 1,
    'a: 1\n   b: 2': 2,
  };
  for (const [text, line] of Object.entries(bad)) {
    assert.throws(() => parseYaml(text), (e) => e.line === line, JSON.stringify(text));
  }
});
