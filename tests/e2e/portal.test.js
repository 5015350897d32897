// The portal in a real browser: literal-safe search (user_profile, 100%),
// facets, URL state across reloads, the API page with its operations, and a
// hostile API name rendered as text.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startPortico, KEYS } from '../api/lib/harness.js';
import { launch, newPage, screenshot, seedApis, openapiDoc } from './lib/browser.js';

const XSS = '<img src=x onerror=alert(1)>';
let p, browser;
before(async () => {
  p = await startPortico({ config: { auth: { allow_anonymous: true } } });
  await seedApis(p, KEYS.admin, [
    { name: 'User Profile API', version: '1.0', status: 'published', category: 'Identity', tags: ['users'],
      description: 'Profiles of users.', openapi: openapiDoc('User Profile API', [['get', '/user_profile/{id}', 'getUserProfile', 'Get a user profile', 'profiles'], ['put', '/user_profile/{id}', 'updateUserProfile', 'Update a user profile', 'profiles']]) },
    { name: 'User-Profile Legacy', version: '0.9', status: 'published', category: 'Identity', tags: ['users', 'legacy'],
      description: 'The old profile service.', openapi: openapiDoc('User-Profile Legacy', [['get', '/user-profile/{id}', 'getLegacyProfile', 'Legacy profile']]) },
    { name: 'Discounts 100% off', version: '2.0', status: 'published', category: 'Commerce', tags: ['pricing'], description: 'Coupons.' },
    { name: 'Discounts 1000 off', version: '2.0', status: 'published', category: 'Commerce', tags: ['pricing'], description: 'Not a percentage.' },
    { name: 'Weather API', version: '3.1', status: 'published', category: 'Data', tags: ['weather'], description: 'Forecasts.' },
    { name: XSS, version: '1', status: 'published', category: 'Security', tags: ['xss'], description: '<script>alert(2)</script>' },
    { name: 'Draft Hidden API', version: '1', status: 'draft', category: 'Identity', tags: ['users'] },
  ]);
  browser = await launch();
});
after(async () => {
  await browser?.close();
  await p?.cleanup();
});

async function cardNames(page) {
  await page.waitForLoadState('networkidle');
  return page.getByTestId('api-card-name').allTextContents();
}

// Waits until the result cards are exactly `names` (in order), then returns
// them; on timeout returns what is shown so the assertion reports it.
async function waitForCards(page, names) {
  await page.waitForFunction((want) => {
    const got = [...document.querySelectorAll('[data-testid="api-card-name"]')].map((e) => e.textContent);
    return JSON.stringify(got) === JSON.stringify(want);
  }, names, { timeout: 10000 }).catch(() => {});
  return page.getByTestId('api-card-name').allTextContents();
}

async function search(page, q) {
  await page.getByTestId('search-input').fill(q);
  // Debounced: wait for the URL to carry the query, then for the results.
  await page.waitForURL((u) => new URL(u).searchParams.get('q') === q);
  await page.waitForLoadState('networkidle');
}

test('search is literal: user_profile and 100% show exactly the right cards', async () => {
  const { context, page, errors } = await newPage(browser, { baseURL: p.url });
  let dialogs = 0;
  page.on('dialog', async (d) => { dialogs++; await d.dismiss(); });
  await page.goto('/portal/');
  await page.getByTestId('api-card').first().waitFor();
  const all = await cardNames(page);
  assert.ok(all.includes('User Profile API'));
  assert.ok(!all.includes('Draft Hidden API'), 'drafts are not in the portal');
  await search(page, 'user_profile');
  assert.deepEqual(await waitForCards(page, ['User Profile API']), ['User Profile API']);
  await search(page, '100%');
  assert.deepEqual(await waitForCards(page, ['Discounts 100% off']), ['Discounts 100% off']);
  await screenshot(page, 'portal-search');
  assert.equal(dialogs, 0);
  assert.deepEqual(errors, []);
  await context.close();
});

test('/ focuses the search box; facets filter; the URL state survives a reload', async () => {
  const { context, page } = await newPage(browser, { baseURL: p.url });
  await page.goto('/portal/');
  await page.getByTestId('api-card').first().waitFor();
  await page.locator('body').press('/');
  assert.equal(await page.evaluate(() => document.activeElement?.getAttribute('data-testid')), 'search-input');
  const identity = page.locator('[data-testid="facet-category"][data-value="Identity"]');
  assert.match(await identity.textContent(), /2/);
  await identity.click();
  await page.waitForURL(/category=Identity/);
  assert.deepEqual(await waitForCards(page, ['User Profile API', 'User-Profile Legacy']), ['User Profile API', 'User-Profile Legacy']);
  await page.locator('[data-testid="facet-tag"][data-value="legacy"]').click();
  await page.waitForURL(/tag=legacy/);
  assert.deepEqual(await waitForCards(page, ['User-Profile Legacy']), ['User-Profile Legacy']);
  const url = page.url();
  await page.reload();
  await page.getByTestId('api-card').first().waitFor();
  assert.equal(page.url(), url);
  assert.deepEqual(await waitForCards(page, ['User-Profile Legacy']), ['User-Profile Legacy']);
  await page.goBack();
  await page.waitForURL((u) => !/tag=legacy/.test(u));
  assert.deepEqual(await waitForCards(page, ['User Profile API', 'User-Profile Legacy']), ['User Profile API', 'User-Profile Legacy']);
  await context.close();
});

test('the API page shows its operations', async () => {
  const { context, page, errors } = await newPage(browser, { baseURL: p.url });
  await page.goto('/portal/?q=user_profile');
  await page.getByTestId('api-card').first().waitFor();
  await page.getByTestId('api-card-name').first().locator('a').first().click().catch(async () => page.getByTestId('api-card-name').first().click());
  await page.getByTestId('api-title').waitFor();
  assert.equal((await page.getByTestId('api-title').textContent()).trim(), 'User Profile API');
  const paths = await page.getByTestId('operation-path').allTextContents();
  assert.ok(paths.some((t) => t.includes('/user_profile/{id}')), paths.join(','));
  assert.equal(await page.getByTestId('operation').count(), 2);
  await screenshot(page, 'portal-api-page');
  assert.deepEqual(errors, []);
  await context.close();
});

test('a hostile API name renders as text', async () => {
  const { context, page } = await newPage(browser, { baseURL: p.url });
  let dialogs = 0;
  page.on('dialog', async (d) => { dialogs++; await d.dismiss(); });
  await page.goto('/portal/?q=' + encodeURIComponent('<img'));
  await page.getByTestId('api-card').first().waitFor();
  assert.deepEqual(await waitForCards(page, [XSS]), [XSS]);
  assert.equal(await page.locator('img[src="x"]').count(), 0);
  await page.getByTestId('api-card-name').first().locator('a').first().click().catch(async () => page.getByTestId('api-card-name').first().click());
  await page.getByTestId('api-title').waitFor();
  assert.equal((await page.getByTestId('api-title').textContent()).trim(), XSS);
  assert.equal(await page.locator('img[src="x"]').count(), 0);
  assert.equal(dialogs, 0);
  await context.close();
});
