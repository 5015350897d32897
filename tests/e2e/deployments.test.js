// The console's Deployments page in a real browser: a deployment goes
// pending → synced → drifted → (Sync click, a CSRF-protected POST from the
// session) → syncing → synced while the page stays open, driven by a gateway
// that talks the protocol; counts, drift highlight and history follow
// without a reload. The gateway detail panel links to the page.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startPortico, KEYS, GATEWAY_KEY } from '../api/lib/harness.js';
import { launch, newPage, screenshot, signInWithKey, axeViolations } from './lib/browser.js';

let p, browser;
before(async () => {
  p = await startPortico();
  browser = await launch();
});
after(async () => {
  await browser?.close();
  await p?.cleanup();
});

const gwHeaders = { 'X-Gateway-Key': GATEWAY_KEY };
const gwCall = (method, path, json) => p.request(method, path, { json, headers: gwHeaders });

test('a deployment goes pending → synced → drifted → Sync → synced in the console, live', async () => {
  const reg = await gwCall('POST', '/v1/internal/gateways/register', {
    hostname: 'e2e-dep-gw', mode: 'edge-mcp', version: '1.0.0', environment: 'prod', admin_url: 'http://e2e-dep-gw:8081', tenant_id: 'acme',
  });
  assert.equal(reg.status, 201, reg.text);
  const gid = reg.json.id;
  const api = await p.post('/v1/apis', { name: 'Payments', version: '3.2', status: 'published' }, { key: KEYS.tenantAdmin });
  assert.equal(api.status, 201, api.text);
  const dep = await p.post('/v1/deployments', { api_id: api.json.id, gateway_id: gid }, { key: KEYS.devops });
  assert.equal(dep.status, 201, dep.text);
  const did = dep.json.id;
  const report = (applied_hash) => gwCall('POST', `/v1/internal/gateways/${gid}/deployments/${did}/status`, { status: 'synced', applied_hash });

  const { context, page, errors } = await newPage(browser, { baseURL: p.url });
  await page.goto('/console/deployments');
  await signInWithKey(page, KEYS.devops);
  const row = page.locator(`[data-testid="deployment-row"][data-deployment-id="${did}"]`);
  const rowStatus = (s, timeout = 15000) =>
    page.waitForFunction(([id, want]) => document.querySelector(`[data-testid="deployment-row"][data-deployment-id="${id}"]`)?.dataset.syncStatus === want, [did, s], { timeout });
  await row.waitFor();
  assert.equal(await row.getAttribute('data-sync-status'), 'pending');
  assert.equal(await page.getByTestId('deploy-count-pending').textContent(), '1');
  await page.getByTestId('feed-mode').and(page.locator('[data-mode="live"]')).waitFor({ timeout: 15000 });

  // The gateway polls its config and acknowledges the expected hash.
  const cfg = await gwCall('GET', `/v1/internal/gateways/${gid}/config`);
  const hash = cfg.json.pending_deployments[0].content_hash;
  assert.equal((await report(hash)).status, 200);
  await rowStatus('synced');
  await page.waitForFunction(() => document.querySelector('[data-testid="deploy-count-synced"]')?.textContent === '1');
  assert.equal(await page.getByTestId('deploy-count-pending').textContent(), '0');

  // Open the detail panel; then the gateway reports a different hash: drift shows, highlighted.
  await row.getByTestId('deployment-open').click();
  const panel = page.getByTestId('deployment-detail');
  await panel.waitFor();
  assert.match(page.url(), new RegExp(`/console/deployments/${did}`));
  assert.equal((await report('sha256:' + 'e'.repeat(64))).status, 200);
  await rowStatus('drifted');
  assert.match(await row.getAttribute('class'), /is-drifted/);
  await panel.getByTestId('drift-explained').waitFor();
  assert.match(await panel.getByTestId('drift-explained').textContent(), /sha256:eeeeeeeeeeee…/);
  await page.waitForFunction(() => document.querySelector('[data-testid="deploy-count-drifted"]')?.textContent === '1');
  await screenshot(page, 'console-deployments-drifted');

  // Sync from the panel: a POST with the session's CSRF token → syncing.
  await panel.getByTestId('deployment-sync').click();
  await rowStatus('syncing');
  await page.waitForFunction(() => document.querySelector('[data-testid="deployment-detail-status"]')?.textContent === 'Syncing');
  const again = await gwCall('GET', `/v1/internal/gateways/${gid}/config`);
  assert.equal(again.json.pending_deployments[0].sync_status, 'syncing');
  assert.equal((await report(hash)).status, 200);
  await rowStatus('synced');
  assert.doesNotMatch(await row.getAttribute('class'), /is-drifted/);

  // The history in the panel, newest first, without a reload.
  await page.waitForFunction(() => document.querySelectorAll('[data-testid="deployment-change"]').length === 5);
  const tos = await panel.locator('[data-testid="deployment-change"]').evaluateAll((els) => els.map((e) => e.dataset.to));
  assert.deepEqual(tos, ['synced', 'syncing', 'drifted', 'synced', 'pending']);
  assert.match(await panel.getByTestId('deployment-history').textContent(), /sync requested by/);

  // The sync-status filter narrows the list.
  await page.getByTestId('deploy-filter-status').selectOption('drifted');
  await page.waitForFunction(() => document.querySelectorAll('[data-testid="deployment-row"]').length === 0);
  await page.getByTestId('deploy-filter-status').selectOption('synced');
  await row.waitFor();
  await page.getByTestId('deploy-filter-status').selectOption('');

  // The gateway detail panel's deployment list links here.
  await page.goto(`/console/gateways/${gid}`);
  await page.getByTestId('deployment-link').click();
  await page.waitForURL(new RegExp(`/console/deployments/${did}$`));
  await page.getByTestId('deployment-detail').waitFor();
  await page.goto(`/console/gateways/${gid}`);
  await page.getByTestId('deployments-all').click();
  await page.waitForURL(new RegExp(`/console/deployments\\?gateway_id=${gid}`));
  await row.waitFor();
  await page.getByTestId('deploy-filter-gateway').waitFor();

  assert.deepEqual(errors.filter((e) => !/Failed to load resource/.test(e)), []);
  await context.close();
});

test('the Deployments page has no serious accessibility violations', async () => {
  const { context, page } = await newPage(browser, { baseURL: p.url, bypassCSP: true });
  await page.goto('/console/deployments');
  await signInWithKey(page, KEYS.viewer);
  await page.getByTestId('deploy-count-pending').waitFor();
  await page.locator('[data-testid="deployment-row"]').first().waitFor();
  assert.equal(await page.getByTestId('deployment-sync').count(), 0, 'a viewer has no Sync button');
  assert.deepEqual(await axeViolations(page), []);
  await context.close();
});
