// Accessibility: axe-core in the real pages (sign-in, catalog, API page,
// gateways, gateway detail) reports no serious or critical violations, in
// light and dark mode. Also saves review screenshots.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startPortico, KEYS, GATEWAY_KEY } from '../api/lib/harness.js';
import { launch, newPage, screenshot, signInWithKey, axeViolations, seedApis, openapiDoc } from './lib/browser.js';

let p, browser, apiId, gatewayId;
before(async () => {
  p = await startPortico();
  const [api] = await seedApis(p, KEYS.admin, [
    { name: 'Payments API', version: '2.1', status: 'published', category: 'Payments', tags: ['cards', 'refunds'],
      description: 'Charge cards and issue refunds.', openapi: openapiDoc('Payments API', [['post', '/charges', 'createCharge', 'Create a charge', 'charges'], ['get', '/charges/{id}', 'getCharge', 'Get a charge', 'charges']]) },
  ]);
  apiId = api.id;
  const reg = await p.request('POST', '/v1/internal/gateways/register', { json: { hostname: 'a11y-gw', mode: 'sidecar', version: '1.0.0', environment: 'staging', admin_url: 'http://a11y-gw:8081', tenant_id: 'acme' }, headers: { 'X-Gateway-Key': GATEWAY_KEY } });
  gatewayId = reg.json?.id;
  browser = await launch();
});
after(async () => {
  await browser?.close();
  await p?.cleanup();
});

for (const colorScheme of ['light', 'dark']) {
  test(`no serious or critical axe violations (${colorScheme})`, async () => {
    const { context, page } = await newPage(browser, { baseURL: p.url, bypassCSP: true, colorScheme });
    const found = {};
    await page.goto('/portal/');
    await page.getByTestId('signin-form').waitFor();
    found.signin = await axeViolations(page);
    await signInWithKey(page, KEYS.viewer);
    await page.getByTestId('api-card').first().waitFor();
    found.catalog = await axeViolations(page);
    await screenshot(page, `portal-catalog-${colorScheme}`);
    await page.goto(`/portal/apis/${apiId}`);
    await page.getByTestId('api-title').waitFor();
    found.apiPage = await axeViolations(page);
    await page.goto('/console/gateways');
    await page.getByTestId('gateway-row').first().waitFor();
    found.gateways = await axeViolations(page);
    await page.goto(`/console/gateways/${gatewayId}`);
    await page.getByTestId('gateway-detail').waitFor();
    await page.getByTestId('history-charts').waitFor(); // the history charts are part of the panel
    found.detail = await axeViolations(page);
    await screenshot(page, `console-detail-${colorScheme}`);
    for (const [where, v] of Object.entries(found)) assert.deepEqual(v, [], `${where}: ${v.join('; ')}`);
    await context.close();
  });
}
