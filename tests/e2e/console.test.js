// The console in a real browser: a gateway registered by the test appears
// without a reload, the detail panel shows formatted health values and the
// degraded badge, and when heartbeats stop the live dot turns grey and the
// status text changes within the offline window.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { startPortico, KEYS, GATEWAY_KEY, DB_KIND, sleep } from '../api/lib/harness.js';
import { launch, newPage, screenshot, signInWithKey } from './lib/browser.js';

const OFFLINE_AFTER = 3;
let p, browser;
before(async () => {
  p = await startPortico({ config: { gateways: { offline_after_seconds: OFFLINE_AFTER, health_interval_ms: 200 } } });
  browser = await launch();
});
after(async () => {
  await browser?.close();
  await p?.cleanup();
});

const gw = (path, body) => p.request('POST', path, { json: body, headers: { 'X-Gateway-Key': GATEWAY_KEY } });

test('a gateway appears live, shows its health, degrades, then goes offline', async () => {
  const { context, page, errors } = await newPage(browser, { baseURL: p.url });
  await page.goto('/console/gateways');
  await signInWithKey(page, KEYS.admin);
  await page.getByTestId('count-online').waitFor();

  const reg = await gw('/v1/internal/gateways/register', {
    hostname: 'e2e-gw-1', mode: 'edge-mcp', version: '1.4.2', environment: 'prod',
    capabilities: ['mcp', 'rate-limit'], admin_url: 'http://e2e-gw-1:8081',
  });
  assert.equal(reg.status, 201, reg.text);
  const id = reg.json.id;
  const row = page.locator(`[data-testid="gateway-row"][data-gateway-id="${id}"]`);
  await row.waitFor({ timeout: 15000 }); // no reload: the event stream or polling brings it
  assert.equal(await row.getByTestId('gateway-name').textContent(), 'e2e-gw-1-edgemcp-prod');

  const beat = (error_rate) => gw(`/v1/internal/gateways/${id}/heartbeat`, {
    uptime_seconds: 5400, routes_count: 12, policies_count: 3, requests_total: 10000, error_rate,
  });
  assert.equal((await beat(0.02)).status, 204);
  await row.click();
  const detail = page.getByTestId('gateway-detail');
  await detail.waitFor();
  await page.waitForFunction(() => document.querySelector('[data-testid="detail-requests"]')?.textContent.includes('10,000'));
  assert.match(await detail.getByTestId('detail-uptime').textContent(), /1h 30m/);
  assert.match(await detail.getByTestId('detail-routes').textContent(), /12/);
  assert.match(await detail.getByTestId('detail-policies').textContent(), /3/);
  assert.match(await detail.getByTestId('detail-error-rate').textContent(), /2\.0%/);
  assert.equal(await detail.getByTestId('degraded-badge').count(), 0);
  assert.match(page.url(), new RegExp(id), 'the panel is deep-linkable');
  await screenshot(page, 'console-gateway-detail');

  // Degraded at 8 %: badge and status text.
  assert.equal((await beat(0.08)).status, 204);
  await detail.getByTestId('degraded-badge').waitFor({ timeout: 10000 });
  await page.waitForFunction((gid) => document.querySelector(`[data-testid="gateway-row"][data-gateway-id="${gid}"] [data-testid="gateway-status"]`)?.textContent.includes('Degraded'), id, { timeout: 10000 });
  assert.match(await detail.getByTestId('detail-error-rate').textContent(), /8\.0%/);

  // Healthy again, live dot green. The offline window counts from this
  // heartbeat, so the clock starts before it is sent (not after the
  // screenshots below, which take seconds on a loaded machine).
  const lastBeatSent = Date.now();
  assert.equal((await beat(0.01)).status, 204);
  await page.waitForFunction((gid) => document.querySelector(`[data-testid="gateway-row"][data-gateway-id="${gid}"]`)?.dataset.status === 'online', id, { timeout: 10000 });
  assert.equal(await row.getByTestId('live-dot').getAttribute('data-live'), 'true');
  await screenshot(page, 'console-gateways');

  // Heartbeats stop: grey dot and "Offline" within the window plus a few seconds.
  await page.waitForFunction((gid) => {
    const r = document.querySelector(`[data-testid="gateway-row"][data-gateway-id="${gid}"]`);
    return r && r.querySelector('[data-testid="live-dot"]')?.dataset.live === 'false' &&
      r.querySelector('[data-testid="gateway-status"]')?.textContent.includes('Offline');
  }, id, { timeout: (OFFLINE_AFTER + 12) * 1000 });
  assert.ok(Date.now() - lastBeatSent >= (OFFLINE_AFTER - 1) * 1000, 'not marked offline before the window');
  const announced = await page.getByTestId('gateway-announcer').textContent();
  assert.match(announced, /offline/i);
  await sleep(100);
  assert.deepEqual(errors.filter((e) => !/Failed to load resource/.test(e)), []);
  await context.close();
});

// A row another registrar wrote (any type), straight into the database.
function insertGateway(inst, { id, name, type, tenant }) {
  const now = Date.now();
  const sql = `INSERT INTO gateways (id, name, hostname, type, mode, environment, tenant_id, maintenance, registered_at, last_heartbeat_at, updated_at, search_text) VALUES ('${id}', '${name}', '${name}', '${type}', 'sidecar', 'prod', ${tenant ? `'${tenant}'` : 'NULL'}, 0, ${now}, ${now}, ${now}, '${name} ${type}')`;
  if (DB_KIND === 'postgres') execFileSync('psql', ['-q', '-v', 'ON_ERROR_STOP=1', inst.dbUrl, '-c', sql]);
  else execFileSync('sqlite3', ['-cmd', '.timeout 5000', join(inst.dir, 'portico.db'), sql]);
}

test('a shared gateway shows "shared"; any registrar type gets a label and a filter', async () => {
  const { context, page, errors } = await newPage(browser, { baseURL: p.url });
  // The guide's payload: "tenant_id": null.
  const reg = await gw('/v1/internal/gateways/register', {
    hostname: 'e2e-shared', mode: 'edge-mcp', version: '0.1.0', environment: 'prod',
    capabilities: ['rest'], admin_url: 'http://10.0.1.50:8080', tenant_id: null,
  });
  assert.equal(reg.status, 201, reg.text);
  const wm = randomUUID();
  insertGateway(p, { id: wm, name: 'e2e-webmethods-1', type: 'webmethods', tenant: null });
  // A viewer of tenant acme sees both shared gateways.
  await page.goto('/console/gateways?q=e2e-');
  await signInWithKey(page, KEYS.viewer);
  const shared = page.locator(`[data-testid="gateway-row"][data-gateway-id="${reg.json.id}"]`);
  const other = page.locator(`[data-testid="gateway-row"][data-gateway-id="${wm}"]`);
  await shared.waitFor({ timeout: 15000 });
  await other.waitFor({ timeout: 15000 });
  assert.equal((await shared.getByTestId('gateway-tenant').textContent()).trim(), 'shared');
  assert.equal((await other.getByTestId('gateway-type').textContent()).trim(), 'Webmethods');
  assert.equal((await shared.getByTestId('gateway-type').textContent()).trim(), 'Edge MCP');

  // Filter by the unknown type: only that gateway stays.
  await page.getByTestId('filter-type').selectOption('webmethods');
  await page.waitForFunction(() => {
    const rows = [...document.querySelectorAll('[data-testid="gateway-row"]')];
    return rows.length > 0 && rows.every((r) => r.querySelector('[data-testid="gateway-type"]')?.dataset.type === 'webmethods');
  }, null, { timeout: 10000 });
  assert.match(page.url(), /type=webmethods/);
  assert.equal(await other.count(), 1);

  // The detail panel says shared too, and names the type.
  await other.getByTestId('gateway-name').click();
  const detail = page.getByTestId('gateway-detail');
  await detail.waitFor();
  await page.waitForFunction(() => document.querySelector('[data-testid="detail-tenant"]')?.textContent.trim() === 'shared');
  assert.match(await detail.textContent(), /Webmethods/);
  await screenshot(page, 'console-gateway-shared');
  assert.deepEqual(errors.filter((e) => !/Failed to load resource/.test(e)), []);
  await context.close();
});
