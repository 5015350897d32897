// Foundation: probes, error shapes (404/405/413/415), request ids, assets
// (caching, ETag/304, gzip, deep links, security headers), traversal,
// graceful shutdown.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startPortico, assertError, rawRequest, KEYS } from './lib/harness.js';

let p;
before(async () => { p = await startPortico({ config: { server: { max_body_bytes: 2048 } } }); });
after(async () => { await p?.cleanup(); });

test('healthz and readyz answer in plain text', async () => {
  const h = await p.get('/healthz');
  assert.equal(h.status, 200);
  assert.equal(h.text.trim(), 'ok');
  const r = await p.get('/readyz');
  assert.equal(r.status, 200);
  assert.equal(r.text.trim(), 'ready');
});

test('every response carries a request id', async () => {
  const a = await p.get('/healthz');
  const b = await p.get('/healthz');
  assert.match(a.headers.get('x-request-id'), /^[0-9a-f-]{36}$/);
  assert.notEqual(a.headers.get('x-request-id'), b.headers.get('x-request-id'));
});

test('unknown /v1 path is a JSON 404', async () => {
  const r = await p.get('/v1/does-not-exist');
  assertError(assert, r, 404, 'not_found');
  assert.match(r.headers.get('content-type'), /application\/json/);
});

test('wrong method is 405 with Allow', async () => {
  const r = await p.request('PATCH', '/v1/whoami');
  assertError(assert, r, 405, 'method_not_allowed');
  assert.equal(r.headers.get('allow'), 'GET');
  const r2 = await p.request('DELETE', '/v1/apis');
  assertError(assert, r2, 405, 'method_not_allowed');
  assert.deepEqual(r2.headers.get('allow').split(', ').sort(), ['GET', 'POST']);
});

test('a body over server.max_body_bytes is 413', async () => {
  const r = await p.post('/v1/apis', { name: 'x'.repeat(5000), version: '1' }, { key: KEYS.admin });
  assertError(assert, r, 413, 'payload_too_large');
});

test('a chunked body over the limit is 413 too', async () => {
  const big = 'a'.repeat(4096);
  const chunk = big.length.toString(16) + '\r\n' + big + '\r\n0\r\n\r\n';
  const raw = await rawRequest(p.port, `POST /v1/apis HTTP/1.1\r\nHost: x\r\nX-API-Key: ${KEYS.admin}\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n${chunk}`);
  assert.match(raw, /^HTTP\/1\.1 413/);
});

test('a non-JSON content type on a JSON route is 415', async () => {
  const r = await p.request('POST', '/v1/apis', { body: 'name=x', headers: { 'Content-Type': 'application/x-www-form-urlencoded' }, key: KEYS.admin });
  assertError(assert, r, 415, 'unsupported_media_type');
});

test('/ redirects to the portal', async () => {
  const r = await p.get('/');
  assert.equal(r.status, 302);
  assert.equal(r.headers.get('location'), '/portal/');
});

for (const entry of ['portal', 'console']) {
  test(`/${entry}/ serves the UI entry with security headers and no-cache`, async () => {
    const r = await p.get(`/${entry}/`);
    assert.equal(r.status, 200);
    assert.match(r.headers.get('content-type'), /text\/html/);
    assert.match(r.text, /<html/i);
    assert.equal(r.headers.get('cache-control'), 'no-cache');
    const csp = r.headers.get('content-security-policy');
    assert.match(csp, /script-src 'self'/);
    assert.match(csp, /frame-ancestors 'none'/);
    assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval/);
    assert.equal(r.headers.get('x-content-type-options'), 'nosniff');
    assert.equal(r.headers.get('referrer-policy'), 'same-origin');
    assert.ok(r.headers.get('etag'));
  });

  test(`/${entry}/ deep links fall back to index.html; missing files are 404`, async () => {
    const index = await p.get(`/${entry}/`);
    const deep = await p.get(`/${entry}/some/deep/link`);
    assert.equal(deep.status, 200);
    assert.equal(deep.text, index.text);
    const missing = await p.get(`/${entry}/missing.js`);
    assert.equal(missing.status, 404);
  });
}

test('hashed assets are immutable, support ETag/304 and gzip', async () => {
  const index = await p.get('/portal/');
  const m = index.text.match(/\/assets\/[^"']+\.js/);
  assert.ok(m, 'index.html references a hashed script');
  const a = await p.get(m[0], { headers: { 'Accept-Encoding': 'identity' } });
  assert.equal(a.status, 200);
  assert.match(a.headers.get('content-type'), /javascript/);
  assert.equal(a.headers.get('cache-control'), 'public, max-age=31536000, immutable');
  const etag = a.headers.get('etag');
  assert.match(etag, /^"[0-9a-f]+"$/);
  const again = await p.get(m[0], { headers: { 'If-None-Match': etag, 'Accept-Encoding': 'identity' } });
  assert.equal(again.status, 304);
  assert.equal(again.text, '');
  // gzip: raw request so the client does not decode it.
  const raw = await rawRequest(p.port, `GET ${m[0]} HTTP/1.1\r\nHost: x\r\nAccept-Encoding: gzip\r\nConnection: close\r\n\r\n`);
  assert.match(raw, /Content-Encoding: gzip/i);
  assert.match(raw, /Vary: Accept-Encoding/i);
});

test('assets on one keep-alive connection: full bodies, HEAD without one, gzip 304, HTTP/1.0 closes', async () => {
  const index = await p.get('/portal/');
  const js = index.text.match(/\/assets\/[^"']+\.js/)[0];
  // rawRequest reads bytes as latin1: compare the body the same way.
  const body = Buffer.from((await p.get(js, { headers: { 'Accept-Encoding': 'identity' } })).text).toString('latin1');
  const gz = await rawRequest(p.port, `GET ${js} HTTP/1.1\r\nHost: x\r\nAccept-Encoding: gzip\r\nConnection: close\r\n\r\n`);
  const gzEtag = gz.match(/\r\nETag: ("[^"]+")\r\n/i)[1];
  assert.match(gzEtag, /-gz"$/);
  // Pipelined: identity body, HEAD (length, no body), gzip 304, and a last
  // request closing the connection; each answer is whole and in order.
  const raw = await rawRequest(p.port,
    `GET ${js} HTTP/1.1\r\nHost: x\r\n\r\n` +
    `HEAD ${js} HTTP/1.1\r\nHost: x\r\n\r\n` +
    `GET ${js} HTTP/1.1\r\nHost: x\r\nAccept-Encoding: gzip\r\nIf-None-Match: ${gzEtag}\r\n\r\n` +
    `GET /portal/ HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`);
  const parts = raw.split(/(?=HTTP\/1\.1 \d{3} )/);
  assert.equal(parts.length, 4, raw.slice(0, 200));
  const [get, head, nm, last] = parts;
  const len = body.length;
  assert.match(get, new RegExp(`^HTTP/1\\.1 200 OK\\r\\n[\\s\\S]*Content-Length: ${len}\\r\\n`));
  assert.match(get, /\r\nConnection: keep-alive\r\n/);
  assert.ok(get.endsWith(`\r\n\r\n${body}`), 'the whole body follows the head');
  assert.match(head, new RegExp(`Content-Length: ${len}\\r\\n`));
  assert.ok(head.endsWith('\r\n\r\n'), 'HEAD has no body');
  assert.match(nm, /^HTTP\/1\.1 304 Not Modified\r\n/);
  assert.doesNotMatch(nm, /\r\nContent-(Encoding|Length|Type):/i);
  for (const h of [get, head, nm, last]) {
    assert.match(h, /\r\nX-Request-Id: [0-9a-f-]{36}\r\n/);
    assert.match(h, /\r\nDate: \w{3}, \d{2} \w{3} \d{4} \d{2}:\d{2}:\d{2} GMT\r\n/);
    assert.match(h, /\r\nX-Content-Type-Options: nosniff\r\n/);
  }
  assert.match(last, /\r\nConnection: close\r\n/);
  const old = await rawRequest(p.port, 'GET /portal/ HTTP/1.0\r\nHost: x\r\n\r\n');
  assert.match(old, /^HTTP\/1\.1 200[\s\S]*\r\nConnection: close\r\n/);
});

test('path traversal never escapes the embedded assets', async () => {
  for (const path of ['/portal/../../etc/passwd', '/assets/..%2f..%2fetc%2fpasswd', '/portal/%2e%2e/%2e%2e/etc/passwd', '/..%5c..%5cetc/passwd']) {
    const raw = await rawRequest(p.port, `GET ${path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`);
    const status = Number(raw.slice(9, 12));
    assert.ok(status === 400 || status === 404, `${path} → ${status}`);
    assert.doesNotMatch(raw, /root:x:0:0/);
  }
});

test('graceful shutdown exits 0', async () => {
  const q = await startPortico();
  const code = await q.stop('SIGTERM');
  assert.equal(code, 0);
  await q.cleanup();
});

test('SIGINT also exits 0', async () => {
  const q = await startPortico();
  assert.equal(await q.stop('SIGINT'), 0);
  await q.cleanup();
});

test('a bad configuration stops the start with file:line: key: reason', async () => {
  const { Portico } = await import('./lib/harness.js');
  const q = new Portico({ rawConfig: 'profile: dev\nserver:\n  listen: "127.0.0.1:0"\n  threads: 2\n  bogus: 1\n' });
  await assert.rejects(q.start(), (e) => {
    assert.match(e.message, /portico\.yaml:4: server\.threads: must be a whole number from 4 to 1024/);
    assert.match(e.message, /portico\.yaml:5: server\.bogus: unknown key/);
    return true;
  });
  await q.cleanup();
});

test('a 304 for an entry page carries the page CSP (browsers merge 304 headers into the cache)', async () => {
  const identity = { 'Accept-Encoding': 'identity' };
  const first = await p.get('/console/', { headers: identity });
  const etag = first.headers.get('etag');
  const again = await p.get('/console/', { headers: { ...identity, 'If-None-Match': etag } });
  assert.equal(again.status, 304);
  assert.equal(again.headers.get('content-security-policy'), first.headers.get('content-security-policy'));
  assert.match(again.headers.get('content-security-policy'), /script-src 'self'/);
  assert.equal(again.headers.get('content-type'), null, 'no Content-Type on a 304');
  assert.equal(again.headers.get('content-length'), null, 'no Content-Length on a 304');
  // The connection stays usable after a bodiless response.
  const raw = await rawRequest(p.port, `GET /console/ HTTP/1.1\r\nHost: x\r\nIf-None-Match: ${etag}\r\n\r\nGET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`);
  assert.match(raw, /^HTTP\/1\.1 304[\s\S]*HTTP\/1\.1 200[\s\S]*ok\n$/);
});

test('HEAD is GET without a body on API routes (not on streams)', async () => {
  const h = await rawRequest(p.port, 'HEAD /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
  assert.match(h, /^HTTP\/1\.1 200/);
  assert.match(h, /Content-Length: 3\r\n/i);
  assert.ok(h.endsWith('\r\n\r\n'), 'no body after the headers');
  const who = await rawRequest(p.port, 'HEAD /v1/whoami HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
  assert.match(who, /^HTTP\/1\.1 401/);
  assert.ok(who.endsWith('\r\n\r\n'));
  const events = await p.request('HEAD', '/v1/gateways/events', { key: KEYS.admin });
  assert.equal(events.status, 405);
});
