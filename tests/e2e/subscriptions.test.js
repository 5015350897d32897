// Developer self-service in real browsers: a viewer subscribes to an
// approval-required API from its portal page, an admin approves it in the
// console, the viewer's "My applications" turns active without a reload and
// shows the key once; the config poll of a gateway with the API deployed
// carries the key's hash, and after the admin revokes it the hash is gone.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { startPortico, KEYS, GATEWAY_KEY, sleep } from '../api/lib/harness.js';
import { launch, newPage, screenshot, signInWithKey } from './lib/browser.js';

let p, browser;
before(async () => {
  p = await startPortico();
  browser = await launch();
});
after(async () => {
  await browser?.close();
  await p?.cleanup();
});

const sha256 = (s) => createHash('sha256').update(s).digest('hex');

async function waitFor(fn, ms, what) {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    const v = await fn();
    if (v) return v;
    await sleep(100);
  }
  throw new Error(`timed out waiting for ${what}`);
}

test('subscribe, approve, key once, gateway config, revoke', async () => {
  const created = await p.post('/v1/apis', {
    name: 'Weather', version: '2.0', status: 'published', description: 'Forecasts by city',
    subscription: 'approval', plans: [{ name: 'free', requests_per_minute: 10 }, { name: 'gold', requests_per_minute: 600 }],
  }, { key: KEYS.tenantAdmin });
  assert.equal(created.status, 201, created.text);
  const apiId = created.json.id;
  const reg = await p.post('/v1/internal/gateways/register',
    { hostname: 'e2e-subs', mode: 'edge-mcp', version: '1', environment: 'test', admin_url: 'http://127.0.0.1:9' },
    { headers: { 'X-Gateway-Key': GATEWAY_KEY } });
  assert.equal(reg.status, 201, reg.text);
  const gw = reg.json.id;
  assert.equal((await p.post('/v1/deployments', { api_id: apiId, gateway_id: gw }, { key: KEYS.admin })).status, 201);
  const config = async () => (await p.get(`/v1/internal/gateways/${gw}/config`, { headers: { 'X-Gateway-Key': GATEWAY_KEY } })).json;

  // The viewer subscribes from the API page, naming a new application and picking a plan.
  const dev = await newPage(browser, { baseURL: p.url });
  await dev.page.goto(`/portal/apis/${apiId}`);
  await signInWithKey(dev.page, KEYS.viewer);
  await dev.page.getByTestId('subscribe-open').click();
  await dev.page.getByTestId('subscribe-form').waitFor();
  await dev.page.getByTestId('subscribe-new-app').fill('Forecast widget');
  await dev.page.getByTestId('subscribe-plan').selectOption('gold');
  await screenshot(dev.page, 'portal-subscribe');
  await dev.page.getByTestId('subscribe-submit').click();
  await dev.page.getByTestId('subscribe-pending').waitFor();

  await dev.page.goto('/portal/apps');
  const devRow = dev.page.getByTestId('sub-row').first();
  await devRow.waitFor();
  assert.equal(await devRow.getAttribute('data-status'), 'pending');
  assert.match(await devRow.textContent(), /Weather.*gold \(600 requests\/min\)/);
  const subId = await devRow.getAttribute('data-sub-id');

  // The admin sees the request in the console (pending first) and approves it.
  const admin = await newPage(browser, { baseURL: p.url });
  await admin.page.goto('/console/subscriptions');
  await signInWithKey(admin.page, KEYS.admin);
  const adminRow = admin.page.locator(`[data-testid="subs-row"][data-sub-id="${subId}"]`);
  await adminRow.waitFor();
  assert.equal(await admin.page.getByTestId('subs-count-pending').textContent(), '1');
  await screenshot(admin.page, 'console-subscriptions');
  await adminRow.getByTestId('subs-approve').click();
  await admin.page.waitForFunction((id) => document.querySelector(`[data-testid="subs-row"][data-sub-id="${id}"]`)?.dataset.status === 'active', subId);

  // The viewer's page turns active without a reload and offers the key once.
  const row = dev.page.locator(`[data-testid="sub-row"][data-sub-id="${subId}"]`);
  await dev.page.waitForFunction((id) => document.querySelector(`[data-testid="sub-row"][data-sub-id="${id}"]`)?.dataset.status === 'active', subId, { timeout: 20000 });
  await row.getByTestId('sub-get-key').click();
  const key = (await dev.page.getByTestId('key-once-value').textContent()).trim();
  assert.match(key, /^sk_[a-z0-9]{8}_[A-Za-z0-9_-]{43}$/);
  await screenshot(dev.page, 'portal-apps');
  await dev.page.getByTestId('key-once-done').click();
  await dev.page.getByTestId('key-once').waitFor({ state: 'detached' });
  await dev.page.reload();
  await row.waitFor();
  assert.ok(!(await dev.page.content()).includes(key.slice(12)), 'the key is not shown again');
  assert.match(await row.textContent(), new RegExp(key.slice(0, 11)), 'only its prefix');

  // The gateway's config poll carries the hash.
  const c1 = await config();
  assert.deepEqual(c1.subscriptions, [{ subscription_id: subId, api_id: apiId, plan: 'gold', requests_per_minute: 600, key_sha256: sha256(key) }]);

  // The admin revokes; the hash leaves the config and the viewer sees it revoked.
  await adminRow.getByTestId('subs-revoke').click();
  await adminRow.getByTestId('subs-revoke-confirm').click();
  await admin.page.waitForFunction((id) => document.querySelector(`[data-testid="subs-row"][data-sub-id="${id}"]`)?.dataset.status === 'revoked', subId);
  await waitFor(async () => (await config()).subscriptions.length === 0, 10000, 'the hash to leave the config');
  await dev.page.waitForFunction((id) => document.querySelector(`[data-testid="sub-row"][data-sub-id="${id}"]`)?.dataset.status === 'revoked', subId, { timeout: 20000 });

  for (const x of [dev, admin]) assert.deepEqual(x.errors.filter((e) => !/Failed to load resource/.test(e)), []);
  await dev.context.close();
  await admin.context.close();
});

test('catalog admin edits the subscription mode and plans', async () => {
  const created = await p.post('/v1/apis', { name: 'Billing', version: '1.0', status: 'published' }, { key: KEYS.tenantAdmin });
  const { context, page, errors } = await newPage(browser, { baseURL: p.url });
  await page.goto(`/console/catalog/${created.json.id}`);
  await signInWithKey(page, KEYS.tenantAdmin);
  await page.getByTestId('api-subscription').selectOption('auto');
  await page.getByTestId('plan-add').click();
  await page.getByTestId('plan-name').fill('basic');
  await page.getByTestId('plan-rpm').fill('abc');
  await page.getByTestId('api-save').click();
  await page.getByText('requests per minute must be a whole number').waitFor();
  await page.getByTestId('plan-rpm').fill('120');
  await screenshot(page, 'console-plans');
  await page.getByTestId('api-save').click();
  await page.waitForURL(/\/console\/catalog$/);
  const after = await p.get(`/v1/apis/${created.json.id}`, { key: KEYS.tenantAdmin });
  assert.equal(after.json.subscription, 'auto');
  assert.deepEqual(after.json.plans, [{ name: 'basic', requests_per_minute: 120 }]);
  assert.deepEqual(errors.filter((e) => !/Failed to load resource/.test(e)), []);
  await context.close();
});
