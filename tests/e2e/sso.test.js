// Sign-in with SSO in a real browser against a real OpenID provider (npm
// oidc-provider): the console's "Sign in with SSO" goes to the provider, the
// user signs in there, lands back on the page they came from with a session
// whose whoami shows the mapped role; signing out ends the session.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startPortico, sleep } from '../api/lib/harness.js';
import { startIdp, makeKey, CLIENT_ID, CLIENT_SECRET } from '../api/lib/idp.js';
import { launch, newPage, screenshot } from './lib/browser.js';

let p, idp, browser;
before(async () => {
  idp = await startIdp();
  p = await startPortico({ config: { oidc: { issuer: idp.issuer, client_id: CLIENT_ID, client_secret: CLIENT_SECRET, http_timeout_ms: 2000 } } });
  idp.configure({ keys: [makeKey('RSA')], redirectUris: [p.url + '/auth/callback'], postLogoutUris: [p.url + '/portal/'] });
  for (let i = 0; i < 60; i++) { // discovery is retried in the background
    if ((await p.get('/readyz')).status === 200) break;
    await sleep(250);
  }
  browser = await launch();
});
after(async () => {
  await browser?.close();
  await p?.cleanup();
  await idp?.close();
});

test('sign in with SSO lands on return_to with the provider role; sign out ends the session', async () => {
  const { context, page, errors } = await newPage(browser, { baseURL: p.url });
  await page.goto('/console/audit');
  const sso = page.getByTestId('sso-button');
  await sso.waitFor();
  await sso.click();
  // The provider's own login form (dev interactions).
  await page.waitForURL((u) => u.toString().startsWith(idp.issuer));
  await page.locator('input[name="login"]').fill('alice');
  await page.locator('input[name="password"]').fill('any-password');
  await page.locator('button[type="submit"], input[type="submit"]').first().click();
  // Consent, when the provider asks for it.
  for (let i = 0; i < 3 && page.url().startsWith(idp.issuer); i++) {
    const cont = page.locator('button[type="submit"], input[type="submit"]').first();
    if (await cont.count()) await cont.click();
    await page.waitForLoadState('load');
  }
  await page.waitForURL((u) => u.toString().startsWith(p.url + '/console/audit'), { timeout: 15000 });
  await page.getByTestId('signout').waitFor();
  // The entry page was revalidated (304) on the way back: it must still run.
  assert.deepEqual(errors.filter((e) => /Content Security Policy/.test(e) && e.includes(p.url)), []);
  const who = await page.evaluate(async () => (await fetch('/v1/whoami')).json());
  assert.equal(who.auth_type, 'session');
  assert.equal(who.subject, 'alice');
  assert.equal(who.role, 'cpi-admin');
  assert.equal(who.email, 'alice@example.test');
  await screenshot(page, 'console-after-sso');
  const cookie = (await context.cookies()).find((c) => c.name === 'portico_session');
  assert.ok(cookie);

  await page.getByTestId('signout').click();
  // Either the provider's end-session page or Portico's sign-in screen.
  await page.waitForURL((u) => u.toString().startsWith(idp.issuer) || u.toString().includes('/portal/') || u.toString().includes('/console/'), { timeout: 15000 });
  await sleep(300);
  const r = await p.get('/v1/whoami', { cookie: `portico_session=${cookie.value}` });
  assert.equal(r.status, 401, 'the session is gone server-side');
  await context.close();
});
