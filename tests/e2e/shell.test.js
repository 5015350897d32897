// The UI shell: /portal/ and /console/ render the real app (sign-in screen
// when not signed in) under the strict CSP, with no console errors.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startPortico } from '../api/lib/harness.js';
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

for (const entry of ['portal', 'console']) {
  test(`/${entry}/ renders the sign-in screen`, async () => {
    const { context, page, errors } = await newPage(browser, { baseURL: p.url });
    const res = await page.goto(`/${entry}/`);
    assert.equal(res.status(), 200);
    await page.getByTestId('signin-form').waitFor();
    assert.ok(await page.getByTestId('apikey-input').isVisible());
    assert.match(await page.title(), /Portico/i);
    await screenshot(page, `${entry}-signin`);
    // 401 from /v1/whoami is expected before signing in; nothing else.
    const unexpected = errors.filter((e) => !/401/.test(e));
    assert.deepEqual(unexpected, []);
    await context.close();
  });
}
