// Takes the README screenshots (docs/images/) from a demo instance: the dev
// profile with the seeded catalog and simulated gateways, in Debian chromium.
// Run from tests/ (for its node_modules): node ../scripts/screenshots.mjs
import { startPortico, sleep, KEYS } from '../tests/api/lib/harness.js';
import { launch, newPage, signInWithKey } from '../tests/e2e/lib/browser.js';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const out = join(dirname(fileURLToPath(import.meta.url)), '..', 'docs', 'images');
const p = await startPortico({ config: { demo: { seed: true, simulated_gateways: 6 } } });
await sleep(4000); // the simulated gateways register and beat
const browser = await launch();
try {
  const { page } = await newPage(browser, { baseURL: p.url, viewport: { width: 1280, height: 800 } });
  await page.goto('/console/gateways');
  await signInWithKey(page, 'test-admin-key-0123456789abcdef');
  await page.getByTestId('gateway-row').first().waitFor();
  await sleep(1500);
  await page.getByTestId('gateway-row').first().click();
  await page.getByTestId('gateway-detail').waitFor();
  await sleep(500);
  await page.screenshot({ path: join(out, 'console.png') });
  // The detail panel's history charts: the gateway with the daily incident, over 24 h.
  await page.getByTestId('gateway-row').filter({ hasText: 'kong-sidecar-xyz' }).getByTestId('gateway-name').click();
  await page.getByTestId('history-range-24h').click();
  await page.waitForFunction(() => document.querySelector('[data-testid=status-band]')?.getAttribute('data-points') === '288');
  const charts = page.getByTestId('history');
  await charts.scrollIntoViewIfNeeded();
  const box = await page.getByTestId('gateway-detail').boundingBox();
  await page.getByTestId('history-charts').hover({ position: { x: 200, y: 60 } });
  await sleep(300);
  await page.screenshot({ path: join(out, 'console-history.png'), clip: { x: box.x, y: 0, width: box.width, height: 800 } });
  await page.goto('/portal/');
  await page.getByTestId('api-card').first().waitFor();
  await sleep(500);
  await page.screenshot({ path: join(out, 'portal.png') });

  // Self-service (docs/subscriptions.md): an approval-required API with
  // plans, a developer's request, the console's Subscriptions page, and the
  // developer's applications with a key shown once.
  const H = (key) => ({ key });
  const weather = await p.post('/v1/apis', {
    name: 'Weather forecasts', version: '2.1', status: 'published', category: 'Data',
    description: 'Hourly and daily forecasts for any city.', subscription: 'approval',
    plans: [{ name: 'free', requests_per_minute: 60 }, { name: 'gold', requests_per_minute: 1200 }],
  }, H(KEYS.tenantAdmin));
  const dev = await newPage(browser, { baseURL: p.url, viewport: { width: 1280, height: 800 } });
  await dev.page.goto(`/portal/apis/${weather.json.id}`);
  await signInWithKey(dev.page, KEYS.viewer);
  await dev.page.getByTestId('subscribe-open').click();
  await dev.page.getByTestId('subscribe-new-app').fill('Travel planner');
  await dev.page.getByTestId('subscribe-plan').selectOption('gold');
  await dev.page.screenshot({ path: join(out, 'subscriptions-subscribe.png') });
  await dev.page.getByTestId('subscribe-submit').click();
  await dev.page.getByTestId('subscribe-pending').waitFor();
  const other = await p.post('/v1/applications', { name: 'Fleet dashboard' }, H(KEYS.devops));
  await p.post('/v1/subscriptions', { application_id: other.json.id, api_id: weather.json.id, plan: 'free' }, H(KEYS.devops));
  await page.goto('/console/subscriptions');
  await page.getByTestId('subs-row').first().waitFor();
  await sleep(500);
  await page.screenshot({ path: join(out, 'subscriptions-console.png') });
  await page.getByTestId('subs-row').filter({ hasText: 'Travel planner' }).getByTestId('subs-approve').click();
  await dev.page.goto('/portal/apps');
  await dev.page.getByTestId('sub-get-key').first().click({ timeout: 20000 });
  await dev.page.getByTestId('key-once').waitFor();
  await sleep(300);
  await dev.page.screenshot({ path: join(out, 'subscriptions-apps.png') });
} finally {
  await browser.close();
  await p.cleanup();
}
