// Gateway history in the console: with known per-minute rows stored for a
// gateway, the detail panel's sparklines and status band render one entry per
// point of each range (60, 288, 168), gaps stay gaps, the restart marker and
// the degraded threshold line are drawn, the keyboard readout shows the
// stored values, the live current minute appears from the event stream, and
// the list shows the 24 h strip and the fleet summary. axe finds nothing
// serious with the charts on screen. The page runs under the strict CSP.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { startPortico, KEYS, GATEWAY_KEY, DB_KIND } from '../api/lib/harness.js';
import { launch, newPage, screenshot, signInWithKey, axeViolations } from './lib/browser.js';

let p, browser, id, current;
const MIN = 60000;
// Minutes before the current one that have rows (30 .. 1 minus a 5-minute gap).
const GAP = new Set([12, 13, 14, 15, 16]);
const rows = [];

function sql(text) {
  if (DB_KIND === 'postgres') execFileSync('psql', ['-q', '-v', 'ON_ERROR_STOP=1', p.dbUrl, '-c', text]);
  else execFileSync('sqlite3', [join(p.dir, 'portico.db'), `PRAGMA busy_timeout=5000; ${text}`]);
}

before(async () => {
  p = await startPortico({ config: { gateways: { offline_after_seconds: 120 } } });
  const reg = await p.request('POST', '/v1/internal/gateways/register', {
    json: { hostname: 'hist-e2e', mode: 'proxy', version: '2.0.0', environment: 'prod', admin_url: 'http://hist-e2e:8081' },
    headers: { 'X-Gateway-Key': GATEWAY_KEY },
  });
  id = reg.json.id;
  current = Math.floor(Date.now() / MIN) * MIN;
  for (let k = 30; k >= 1; k--) {
    if (GAP.has(k)) continue;
    const degraded = k >= 5 && k <= 8;
    rows.push({
      k, at: current - k * MIN, requests: 100 + k, rate: degraded ? 0.09 : 0.01, max: degraded ? 0.12 : 0.02,
      status: degraded ? 'degraded' : 'online', restarts: k === 20 ? 1 : 0,
    });
  }
  const values = rows.map((r) => `('${id}', 60, ${r.at}, 1, 2, ${r.at + 50000}, ${r.requests}, ${r.restarts}, ${r.rate}, ${r.max}, 8, 2, '${r.status}')`).join(', ');
  sql(`INSERT INTO gateway_history (gateway_id, step_s, bucket_at, minutes, samples, last_at, requests, restarts, error_rate, error_rate_max, routes_count, policies_count, status) VALUES ${values}`);
  browser = await launch();
});
after(async () => {
  await browser?.close();
  await p?.cleanup();
});

const beat = (body) => p.request('POST', `/v1/internal/gateways/${id}/heartbeat`, { json: body, headers: { 'X-Gateway-Key': GATEWAY_KEY } });

test('sparklines, status band, markers and readout show the stored history', async () => {
  const { context, page, errors } = await newPage(browser, { baseURL: p.url });
  await page.goto(`/console/gateways/${id}`);
  await signInWithKey(page, KEYS.admin);
  const charts = page.getByTestId('history-charts');
  await charts.waitFor();
  // The 1 h range: 60 points, of which the stored rows have values.
  await page.waitForFunction(() => document.querySelector('[data-testid=spark-requests]')?.getAttribute('data-points') === '60');
  const req = page.getByTestId('spark-requests');
  assert.equal(await req.getAttribute('data-values'), String(rows.length));
  assert.equal(await page.getByTestId('status-band').locator('rect.band__cell').count(), 60);
  assert.equal(await page.getByTestId('status-band').locator('rect.band__cell--gap').count(), 60 - rows.length);
  assert.equal(await page.getByTestId('status-band').locator('rect.band__cell--degraded').count(), 4);
  // The line breaks at the gap: two segments (two M commands), one vertex per value.
  const d = await req.locator('path.spark__line').getAttribute('d');
  assert.equal((d.match(/M/g) || []).length, 2);
  assert.equal((d.match(/[ML]/g) || []).length, rows.length);
  assert.equal(await page.getByTestId('restart-marker').count(), 1);
  assert.equal(await page.getByTestId('threshold-line').count(), 1);
  assert.match(await page.getByTestId('threshold-line').textContent(), /degraded 5\.0%/);

  // Keyboard readout: End is the current minute (no heartbeat), then step back
  // (counting from the minute the page shows as current: it may be later than
  // the one the rows were written relative to).
  const text = (tid, want) =>
    page.waitForFunction(([t, w]) => document.querySelector(`[data-testid=${t}]`)?.textContent === w, [tid, want], { timeout: 5000 });
  await charts.focus();
  await charts.press('End');
  await text('readout-status', 'no heartbeat');
  const shown = Date.parse(await page.getByTestId('readout-time').getAttribute('datetime'));
  const shift = Math.round((shown - current) / MIN);
  const back = async (k) => {
    await charts.press('End');
    for (let i = 0; i < k + shift; i++) await charts.press('ArrowLeft');
  };
  await back(6); // degraded
  const six = rows.find((r) => r.k === 6);
  await text('readout-requests', `${six.requests}/min`);
  await text('readout-error', 'error rate 9.0% (max 12.0%)');
  await text('readout-status', 'Degraded');
  await back(20); // the restart
  await text('readout-restarts', '1 restart');
  await text('readout-requests', '120/min');
  await back(16); // the gap
  await text('readout-status', 'no heartbeat');
  // The pointer does the same: hover over the minute 6 minutes back.
  const bb = await req.boundingBox();
  await req.hover({ position: { x: ((59 - 6 - shift) / 59) * bb.width, y: bb.height / 2 } });
  await text('readout-requests', `${six.requests}/min`);
  await text('readout-status', 'Degraded');

  // Live: heartbeats fill the current minute without a reload.
  await beat({ uptime_seconds: 100, requests_total: 1000, error_rate: 0.01 });
  await beat({ uptime_seconds: 110, requests_total: 1250, error_rate: 0.03 });
  await page.waitForFunction(
    (n) => Number(document.querySelector('[data-testid=spark-requests]')?.getAttribute('data-values')) > n,
    rows.length,
    { timeout: 15000 },
  );

  // The other ranges: 24 h in 5-minute steps, 7 d in hours.
  await page.getByTestId('history-range-24h').click();
  await page.waitForFunction(() => document.querySelector('[data-testid=status-band]')?.getAttribute('data-points') === '288');
  assert.equal(await page.getByTestId('status-band').locator('rect.band__cell').count(), 288);
  assert.equal(await page.getByTestId('history-range-24h').getAttribute('aria-pressed'), 'true');
  await page.getByTestId('history-range-7d').click();
  await page.waitForFunction(() => document.querySelector('[data-testid=spark-errors]')?.getAttribute('data-points') === '168');
  await screenshot(page, 'console-history');
  assert.deepEqual(errors.filter((e) => !/Failed to load resource/.test(e)), []); // the 401 before sign-in
  await context.close();
});

test('the list shows a 24 h strip per gateway and the fleet summary; axe is clean', async () => {
  const { context, page, errors } = await newPage(browser, { baseURL: p.url, bypassCSP: true });
  await page.goto('/console/gateways');
  await signInWithKey(page, KEYS.admin);
  const row = page.locator(`[data-testid="gateway-row"][data-gateway-id="${id}"]`);
  const strip = row.getByTestId('status-strip');
  await strip.waitFor();
  assert.equal(await strip.getAttribute('data-slots'), '24');
  assert.equal(await strip.locator('rect').count(), 24);
  assert.match(await strip.getAttribute('aria-label'), /^Last 24 hours: /);
  const summary = page.getByTestId('fleet-summary');
  await summary.waitFor();
  assert.match(await page.getByTestId('fleet-share-degraded').textContent(), /^Degraded \d+\.\d%$/);
  assert.deepEqual(await axeViolations(page), []);
  await page.goto(`/console/gateways/${id}`);
  await page.getByTestId('history-charts').waitFor();
  await page.waitForFunction(() => document.querySelector('[data-testid=spark-requests]')?.getAttribute('data-points') === '60');
  assert.deepEqual(await axeViolations(page), []);
  assert.deepEqual(errors.filter((e) => !/Failed to load resource/.test(e)), []);
  await context.close();
});
