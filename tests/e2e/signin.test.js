// Signing in by pasting an API key: a wrong key shows an error, a right one
// signs in and stays signed in across reloads (cookie session, key never kept
// in the browser), sign-out ends the session server-side.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startPortico, KEYS } from '../api/lib/harness.js';
import { launch, newPage, screenshot } from './lib/browser.js';

let p, browser;
before(async () => {
  p = await startPortico();
  browser = await launch();
});
after(async () => {
  await browser?.close();
  await p?.cleanup();
});

test('a wrong key shows an error and sets no cookie', async () => {
  const { context, page } = await newPage(browser, { baseURL: p.url });
  await page.goto('/console/');
  await page.getByTestId('apikey-input').fill('not-a-real-key-0000000000');
  await page.getByTestId('apikey-input').press('Enter');
  const err = page.getByTestId('signin-error');
  await err.waitFor();
  assert.match(await err.textContent(), /invalid|wrong|not/i);
  const cookies = await context.cookies();
  assert.equal(cookies.filter((c) => /portico_session/.test(c.name)).length, 0);
  await context.close();
});

test('pasting a key signs in, survives a reload, and signing out ends the session', async () => {
  const { context, page, errors } = await newPage(browser, { baseURL: p.url });
  await page.goto('/console/');
  await page.getByTestId('apikey-input').fill(KEYS.admin);
  await page.getByTestId('apikey-input').press('Enter');
  await page.getByTestId('signout').waitFor();
  const cookies = await context.cookies();
  const session = cookies.find((c) => c.name === 'portico_session');
  assert.ok(session, 'session cookie set');
  assert.equal(session.httpOnly, true);
  assert.equal(session.sameSite, 'Lax');
  // The key is not stored anywhere in the page's storage.
  const stored = await page.evaluate(() => JSON.stringify({ ...localStorage }) + JSON.stringify({ ...sessionStorage }));
  assert.ok(!stored.includes(KEYS.admin), 'key not in web storage');
  assert.equal(await page.getByTestId('apikey-input').count(), 0);
  await screenshot(page, 'console-signed-in');

  await page.reload();
  await page.getByTestId('signout').waitFor();

  await page.getByTestId('signout').click();
  await page.getByTestId('signin-form').waitFor();
  // The old cookie no longer works server-side.
  const r = await p.get('/v1/whoami', { cookie: `portico_session=${session.value}` });
  assert.equal(r.status, 401);
  const unexpected = errors.filter((e) => !/401/.test(e));
  assert.deepEqual(unexpected, []);
  await context.close();
});
