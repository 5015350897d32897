// Hostile input: oversized headers, URLs and bodies, lying Content-Length,
// deep JSON, invalid UTF-8, wrong content types, duplicate keys, numbers out
// of range, NUL bytes, path traversal and its encodings, SQL and template
// injection strings, slow clients and idle keep-alive connections.
//
// The rule for every case: a clear 4xx (JSON error shape on Portico's own
// answers) or a correct answer — never a 5xx, a crash or a hang. After every
// test /healthz still answers 200 and the process is still running.
import { test, before, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { startPortico, assertError, rawRequest, KEYS, GATEWAY_KEY, sleep } from './lib/harness.js';

const MAX_BODY = 4096;
let p;

before(async () => {
  p = await startPortico({ config: { server: { threads: 16, max_body_bytes: MAX_BODY } } });
});
after(async () => {
  await p?.cleanup();
});
afterEach(async () => {
  assert.equal(p.proc.exitCode, null, 'the process is still running:\n' + p.stderr.slice(-2000));
  assert.equal(p.proc.signalCode, null, 'the process was not killed by a signal');
  const h = await p.get('/healthz');
  assert.equal(h.status, 200, '/healthz still answers');
});

// Raw request helpers ------------------------------------------------------

function statusOf(raw) {
  const m = /^HTTP\/1\.[01] (\d{3})/.exec(raw);
  return m ? Number(m[1]) : 0;
}

function bodyOf(raw) {
  const i = raw.indexOf('\r\n\r\n');
  return i < 0 ? '' : raw.slice(i + 4);
}

function jsonOf(raw) {
  try { return JSON.parse(bodyOf(raw)); } catch { return undefined; }
}

// A complete request line + headers (Connection: close so the server ends
// the exchange) as one string.
function req(method, path, headers = {}, body) {
  let s = `${method} ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n`;
  for (const [k, v] of Object.entries(headers)) s += `${k}: ${v}\r\n`;
  if (body !== undefined && !Object.keys(headers).some((k) => k.toLowerCase() === 'content-length')) {
    s += `Content-Length: ${Buffer.byteLength(body, 'latin1')}\r\n`;
  }
  return s + '\r\n' + (body ?? '');
}

// Never a 5xx from a request a client chose to malform. Portico's own
// answers carry the JSON error shape; civetweb's protocol-level refusals
// (400/411/413/431/505 before Portico sees the request) are plain text.
function assertClientError(raw, label) {
  const st = statusOf(raw);
  assert.ok(st >= 400 && st < 500, `${label}: expected a 4xx, got ${st || 'no response'}: ${raw.slice(0, 300)}`);
  return st;
}

function assertNot5xx(res, label) {
  assert.ok(res.status < 500, `${label}: got ${res.status}: ${res.text?.slice(0, 300)}`);
}


// Routes that take a JSON body and nothing else to check first, with the
// credential each needs.
const JSON_ROUTES = [
  { method: 'POST', path: '/v1/apis', headers: { 'X-API-Key': KEYS.admin } },
  { method: 'POST', path: '/v1/apikeys', headers: { 'X-API-Key': KEYS.admin } },
  { method: 'POST', path: '/v1/internal/gateways/register', headers: { 'X-Gateway-Key': GATEWAY_KEY } },
  { method: 'POST', path: '/auth/apikey', headers: {} },
];

async function sendJson(route, body, contentType = 'application/json') {
  return p.request(route.method, route.path, { body, headers: { ...route.headers, 'Content-Type': contentType } });
}

// Oversized requests ---------------------------------------------------------

test('headers larger than 16 KB are refused with a 4xx, not a crash', async () => {
  const raw = await rawRequest(p.port, req('GET', '/healthz', { 'X-Big': 'a'.repeat(20000) }));
  const st = assertClientError(raw, 'one 20 KB header');
  assert.ok(st === 400 || st === 431, `400 or 431, got ${st}`);
  const many = {};
  for (let i = 0; i < 400; i++) many[`X-H${i}`] = 'v'.repeat(60);
  const raw2 = await rawRequest(p.port, req('GET', '/healthz', many));
  const st2 = assertClientError(raw2, '400 headers of 60 bytes');
  assert.ok(st2 === 400 || st2 === 431, `400 or 431, got ${st2}`);
});

test('an oversized URL is refused with a 4xx', async () => {
  // Longer than civetweb's 16 KB request-head limit.
  for (const path of ['/v1/' + 'a'.repeat(20000), '/portal/' + 'b'.repeat(20000), '/v1/whoami?q=' + 'c'.repeat(20000)]) {
    const raw = await rawRequest(p.port, req('GET', path, { 'X-API-Key': KEYS.admin }));
    assertClientError(raw, `URL of ${path.length} bytes`);
  }
  // A path just over Portico's own limit (HTTP_PATH_MAX 2048) but inside
  // civetweb's: Portico's JSON 400.
  const raw = await rawRequest(p.port, req('GET', '/portal/' + 'd'.repeat(3000)));
  assert.equal(statusOf(raw), 400);
  assert.equal(jsonOf(raw)?.error?.code, 'bad_path');
  // A long query inside the limits is a request like any other.
  const long = await p.get('/v1/whoami?q=' + 'c'.repeat(12000), { key: KEYS.admin });
  assert.equal(long.status, 200);
});

test('a body over server.max_body_bytes is 413, for every body route', async () => {
  const big = JSON.stringify({ name: 'x'.repeat(MAX_BODY * 2), version: '1' });
  for (const route of JSON_ROUTES) {
    const res = await sendJson(route, big);
    assertError(assert, res, 413, 'payload_too_large');
  }
});

test('a Content-Length larger than the body sent: no 5xx, the server stays responsive', async () => {
  // Declares 1000 bytes, sends 7, then waits: Portico waits for the rest
  // (bounded by server.request_timeout_ms); other clients are served meanwhile.
  const s = net.connect(p.port, '127.0.0.1');
  let got = '';
  s.on('data', (d) => { got += d.toString('latin1'); });
  s.on('error', () => {});
  await new Promise((r) => s.once('connect', r));
  s.write(req('POST', '/v1/apis', { 'X-API-Key': KEYS.admin, 'Content-Type': 'application/json', 'Content-Length': '1000' }, '{"a":1}'));
  await sleep(300);
  const other = await p.get('/v1/whoami', { key: KEYS.viewer });
  assert.equal(other.status, 200, 'another client is served while the body is pending');
  assert.equal(got, '', 'no answer before the body is complete');
  // The client gives up: the worker is released (healthz in afterEach).
  s.destroy();
  // Declared length bigger than the limit: refused at once, before reading.
  const raw = await rawRequest(p.port, req('POST', '/v1/apis', { 'X-API-Key': KEYS.admin, 'Content-Type': 'application/json', 'Content-Length': String(MAX_BODY * 100) }, '{}'));
  assert.equal(statusOf(raw), 413);
  assert.equal(jsonOf(raw)?.error?.code, 'payload_too_large');
  // Nonsense lengths are protocol errors.
  for (const cl of ['-5', 'abc', '99999999999999999999999']) {
    const r = await rawRequest(p.port, req('POST', '/v1/apis', { 'X-API-Key': KEYS.admin, 'Content-Type': 'application/json', 'Content-Length': cl }, '{}'));
    assertClientError(r, `Content-Length: ${cl}`);
  }
});

test('a chunked body with a bad chunk size gets no 5xx', async () => {
  const raw = await rawRequest(p.port, req('POST', '/v1/apis', { 'X-API-Key': KEYS.admin, 'Content-Type': 'application/json', 'Transfer-Encoding': 'chunked' }, 'zz\r\nabc\r\n0\r\n\r\n'), { timeout: 3000 });
  const st = statusOf(raw);
  assert.ok(st === 0 || st < 500, `got ${st}: ${raw.slice(0, 200)}`);
});

// JSON bodies ----------------------------------------------------------------

test('deeply nested JSON (1000 arrays) is 400 invalid_json', async () => {
  const deep = '{"name":' + '['.repeat(1000) + ']'.repeat(1000) + '}';
  for (const route of JSON_ROUTES) {
    const r = await sendJson(route, deep);
    assertError(assert, r, 400, 'invalid_json');
  }
});

test('invalid UTF-8 in JSON strings is 400', async () => {
  const bad = Buffer.concat([Buffer.from('{"name":"'), Buffer.from([0xc0, 0xae, 0xff, 0xfe]), Buffer.from('","version":"1"}')]);
  for (const route of JSON_ROUTES) {
    const r = await p.request(route.method, route.path, { body: bad, headers: { ...route.headers, 'Content-Type': 'application/json' } });
    assert.equal(r.status, 400, `${route.path}: ${r.text}`);
    assert.ok(r.json?.error?.code, 'JSON error shape');
  }
});

test('malformed JSON bodies are 400 invalid_json', async () => {
  for (const body of ['{', '{"a":1} trailing', '[1,2,3]', '"just a string"', 'null', '{"a":NaN}', '\u0000{}']) {
    for (const route of JSON_ROUTES) {
      const r = await sendJson(route, body);
      assertError(assert, r, 400, 'invalid_json');
    }
  }
});

test('wrong content types are 415', async () => {
  for (const ct of ['text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', 'application/jsonx', 'application/xml']) {
    for (const route of JSON_ROUTES) {
      const res = await sendJson(route, '{"name":"x","version":"1"}', ct);
      assertError(assert, res, 415, 'unsupported_media_type');
    }
  }
  // A body with no Content-Type at all.
  const raw = await rawRequest(p.port, req('POST', '/v1/apis', { 'X-API-Key': KEYS.admin }, '{"name":"x"}'));
  assert.equal(statusOf(raw), 415);
  assert.equal(jsonOf(raw)?.error?.code, 'unsupported_media_type');
});

test('duplicate JSON keys get a clear answer, never a 5xx', async () => {
  const body = '{"name":"first","name":"second","version":"1","version":"2"}';
  for (const route of JSON_ROUTES) {
    const r = await sendJson(route, body);
    assertNot5xx(r, route.path);
    if (r.status === 201 && r.json?.name !== undefined) assert.ok(['first', 'second'].includes(r.json.name));
  }
});

// Query parameters -----------------------------------------------------------

const LIST_ROUTES = ['/v1/apis', '/v1/portal/apis', '/v1/gateways', '/v1/audit', '/v1/apikeys'];

test('paging numbers out of range or not numbers are 400', async () => {
  const bad = ['page=99999999999999999999', 'page=0', 'page=-1', 'page=1.5', 'page=1e3', 'page=%201', 'page=0x10',
    'page_size=-1', 'page_size=0', 'page_size=101', 'page_size=99999999999999999999', 'page_size=abc', 'page=1%00', 'page_size='];
  for (const path of LIST_ROUTES) {
    for (const q of bad) {
      const r = await p.get(`${path}?${q}`, { key: KEYS.admin });
      assertError(assert, r, 400, 'invalid_parameter');
    }
  }
});

test('NUL bytes in paths are 400; in query values never a 5xx', async () => {
  for (const path of ['/healthz%00x', '/v1/whoami%00', '/portal/index.html%00.png', '/portal/%00', '/v1/apis/%00']) {
    const res = await p.get(path, { key: KEYS.admin });
    assertError(assert, res, 400, 'bad_path');
  }
  // A raw NUL byte in the request line is a protocol error.
  const raw = await rawRequest(p.port, `GET /v1/who\u0000ami HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`);
  assertClientError(raw, 'raw NUL in the path');
  for (const path of ['/v1/whoami?x=%00', '/v1/portal/apis?q=a%00b', '/v1/gateways?status=%00', '/v1/audit?path=%2f%00']) {
    const r = await p.get(path, { key: KEYS.admin });
    assertNot5xx(r, path);
  }
  // whoami ignores its query: a correct answer.
  assert.equal((await p.get('/v1/whoami?x=%00', { key: KEYS.admin })).status, 200);
});

test('path traversal and its encodings never reach a file outside the embedded UI', async () => {
  const indexes = [(await p.get('/portal/')).text, (await p.get('/console/')).text];
  const paths = [
    '/../../etc/passwd', '/portal/../../etc/passwd', '/portal/%2e%2e/%2e%2e/etc/passwd',
    '/portal/%2E%2E%2Fetc%2Fpasswd', '/portal/%252e%252e/%252e%252e/etc/passwd', '/portal/..%252f..%252fetc/passwd',
    '/portal/%c0%ae%c0%ae/etc/passwd', '/portal/%c0%af..%c0%afetc/passwd', '/portal/..\\..\\etc\\passwd',
    '/portal/..%5c..%5cetc%5cpasswd', '/assets/..%2f..%2fetc%2fpasswd', '/%2e%2e/%2e%2e/etc/passwd',
    '/portal/.%2e/.%2e/etc/passwd', '/portal/%u002e%u002e/etc/passwd', '//etc/passwd', '/portal//../../etc/shadow',
    '/v1/apis/..%2f..%2f..%2fetc%2fpasswd', '/v1/../etc/passwd', '/console/....//....//etc/passwd',
  ];
  for (const path of paths) {
    const raw = await rawRequest(p.port, req('GET', path, { 'X-API-Key': KEYS.admin }));
    const st = statusOf(raw);
    assert.doesNotMatch(raw, /root:.*:0:0:/, path);
    // 400 (refused), 404 (no such file), 401/403 (API routes), or the
    // entry's own index.html (a deep link that is only a name).
    if (st === 200) assert.ok(indexes.includes(bodyOf(raw)), `${path}: 200 only for the SPA fallback`);
    else assert.ok([400, 401, 403, 404, 405].includes(st), `${path} → ${st}`);
  }
});

test('absolute-form and odd request targets get no 5xx', async () => {
  for (const target of ['http://other.example/healthz', '*', 'healthz', '/healthz#frag', '/?', '/healthz?%zz=%zz']) {
    const raw = await rawRequest(p.port, `GET ${target} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`, { timeout: 3000 });
    const st = statusOf(raw);
    assert.ok(st === 0 || st < 500, `${target} → ${st}: ${raw.slice(0, 200)}`);
  }
  const raw = await rawRequest(p.port, 'GET / HTTP/9.9\r\nHost: x\r\n\r\n', { timeout: 3000 });
  const st = statusOf(raw);
  assert.ok(st === 0 || st === 400 || st === 505, `HTTP/9.9 → ${st}`);
  const tls = await rawRequest(p.port, '\u0016\u0003\u0001\u0000\u00a5\u0001\u0000\u0000\u00a1\u0003\u0003' + '\u0000'.repeat(60) + '\r\n\r\n', { timeout: 3000 });
  assert.ok(statusOf(tls) === 0 || statusOf(tls) === 400, 'a TLS hello on the plain port');
});

// Injection strings ----------------------------------------------------------

const INJECTIONS = [
  "' OR 1=1 --", "'; DROP TABLE api_keys; --", '" OR ""="', '1) UNION SELECT key_hash FROM api_keys --',
  '{{7*7}}', '${7*7}', '<%= 7*7 %>', '#{7*7}', '<script>alert(1)</script>', '%', '_', '\\', '\\%_',
  '../../etc/passwd', 'ñandú ünïcödé', '😀', '\u202eevil',
];

test('injection strings as credentials are 401 invalid_token, never anything else', async () => {
  for (const s of INJECTIONS) {
    const key = s.length >= 16 ? s : s + 'x'.repeat(16);
    for (const headers of [{ 'X-API-Key': key }, { Authorization: `Bearer ${key}` }, { 'X-API-Key': `pk_${s}_${'a'.repeat(40)}` }]) {
      // Header values are bytes: send non-ASCII as UTF-8 through a raw request.
      const raw = await rawRequest(p.port, Buffer.from(req('GET', '/v1/whoami', headers), 'utf8'));
      assert.equal(statusOf(raw), 401, `${JSON.stringify(headers)} → ${raw.slice(0, 120)}`);
      assert.equal(jsonOf(raw)?.error?.code, 'invalid_token');
    }
    const cookie = await p.get('/v1/whoami', { cookie: `portico_session=${encodeURIComponent(s)}` });
    assertError(assert, cookie, 401, 'invalid_token');
  }
  // The key table survived every attempt.
  assert.equal((await p.get('/v1/whoami', { key: KEYS.admin })).status, 200);
});

test('injection strings in query parameters get a 4xx or a correct answer', async () => {
  const params = ['q', 'category', 'tag', 'sort', 'status', 'environment', 'type', 'kind', 'principal', 'method', 'path', 'from', 'to'];
  for (const s of INJECTIONS) {
    for (const path of LIST_ROUTES) {
      const qs = params.map((k) => `${k}=${encodeURIComponent(s)}`).join('&');
      const r = await p.get(`${path}?${qs}`, { key: KEYS.admin });
      assertNot5xx(r, `${path} ${s}`);
      if (r.status === 200) assert.ok(Array.isArray(r.json?.items), 'a list answer');
      if (r.status === 200) assert.doesNotMatch(r.text, /\b49\b/, 'templates are not evaluated');
    }
    const asset = await p.get(`/portal/?q=${encodeURIComponent(s)}`);
    assert.equal(asset.status, 200);
    assert.doesNotMatch(asset.text, /<script>alert\(1\)<\/script>/, 'query strings are never reflected');
  }
});

test('injection strings in free-text JSON fields are stored as text or refused, never a 5xx', async () => {
  for (const s of INJECTIONS) {
    const bodies = [
      { route: JSON_ROUTES[0], body: { name: s, version: s, description: s, category: s, tags: [s] } },
      { route: JSON_ROUTES[1], body: { name: s, role: 'viewer' } },
      { route: JSON_ROUTES[2], body: { hostname: s, mode: s, version: s, environment: s, admin_url: s, capabilities: [s] } },
      { route: JSON_ROUTES[3], body: { api_key: s } },
    ];
    for (const { route, body } of bodies) {
      const r = await sendJson(route, JSON.stringify(body));
      assertNot5xx(r, `${route.path} ${s}`);
      if (r.status >= 400) assert.ok(r.json?.error?.code, 'JSON error shape');
      // Stored values come back verbatim: nothing evaluated or rewritten.
      if (r.status === 201 && route.path === '/v1/apis') assert.equal(r.json.name, s);
      if (route.path === '/auth/apikey') assert.equal(r.status, 401, 'a wrong key is 401');
    }
  }
});

// Slow and idle clients ------------------------------------------------------

// Opens a connection and resolves with the socket once connected.
function connect(port) {
  return new Promise((res, rej) => {
    const s = net.connect(port, '127.0.0.1', () => res(s));
    s.on('error', rej);
  });
}

test('a slow client (one byte every 100 ms) does not block other clients', async () => {
  const s = await connect(p.port);
  const request = `GET /v1/whoami HTTP/1.1\r\nHost: x\r\nX-API-Key: ${KEYS.viewer}\r\nConnection: close\r\n\r\n`;
  let answer = '';
  const closed = new Promise((r) => s.on('close', r));
  s.on('data', (d) => { answer += d.toString('latin1'); });
  let sent = 0;
  const trickle = (async () => {
    for (const ch of request) {
      if (s.destroyed) return;
      s.write(ch);
      sent++;
      await sleep(100);
    }
  })();
  await sleep(500);
  // Several normal requests complete while the slow one is still sending.
  for (let i = 0; i < 5; i++) {
    const r = await p.get('/v1/whoami', { key: KEYS.admin });
    assert.equal(r.status, 200);
  }
  assert.ok(sent < request.length, `the slow request is still in flight (${sent}/${request.length} bytes)`);
  assert.equal(answer, '', 'and has no answer yet');
  await trickle;
  await closed;
  // The slow client gets a correct answer too.
  assert.equal(statusOf(answer), 200, answer.slice(0, 200));
});

test('idle keep-alive connections: threads - 1 idle leave the server responsive; more are closed after the keep-alive timeout', async () => {
  // civetweb holds one worker per open connection (see docs/operations/sizing.md).
  const q = await startPortico({ config: { server: { threads: 8 } } });
  const socks = [];
  try {
    const openAfterOneRequest = async () => {
      const s = await connect(q.port);
      s.closedByServer = false;
      s.on('end', () => { s.closedByServer = true; });
      s.on('error', () => {});
      let buf = '';
      s.answered = new Promise((res) => s.on('data', (d) => { buf += d; if (/\r\n\r\nok\n/.test(buf)) res(true); }));
      s.write('GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n'); // keep-alive
      socks.push(s);
      return s;
    };
    // 7 idle keep-alive connections on 8 workers.
    // New requests go on new connections (fetch would reuse a pooled one).
    const fresh = (timeout) => rawRequest(q.port, 'GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n', { timeout });
    for (let i = 0; i < 7; i++) await (await openAfterOneRequest()).answered;
    const r1 = await fresh(4000);
    assert.equal(statusOf(r1), 200, 'a new request completes with threads - 1 idle connections');
    assert.ok(socks.every((s) => !s.closedByServer && !s.destroyed), 'while the idle connections are still open');

    // 13 more: 20 idle connections on 8 workers. The 8 served ones hold every
    // worker; new connections wait in the accept queue until the keep-alive
    // timeout (5 s) closes idle ones.
    for (let i = 0; i < 13; i++) await openAfterOneRequest();
    const t0 = Date.now();
    const r2 = await fresh(30000);
    assert.equal(statusOf(r2), 200, 'the server recovers: a new request completes');
    const closed = socks.filter((s) => s.closedByServer).length;
    assert.ok(closed >= 1, `idle connections were closed by the server (keep-alive timeout), ${closed} closed after ${Date.now() - t0} ms`);
    assert.equal((await q.get('/readyz')).status, 200);
  } finally {
    for (const s of socks) s.destroy();
    await q.cleanup();
  }
});
