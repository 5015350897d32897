// Browser helper for e2e tests: Debian's chromium driven by playwright-core
// (never a downloaded browser). Collects console errors and CSP violations so
// tests can assert the page ran cleanly.
import { chromium } from 'playwright-core';
import { mkdirSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

export const SCREENSHOTS = join(dirname(fileURLToPath(import.meta.url)), '..', 'screenshots');

export async function launch() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
      '--disable-quic', '--no-first-run', '--disable-component-update', '--disable-sync'],
    timeout: 30000,
  });
}

// A fresh context + page with error collection. `errors` gathers console
// errors and uncaught exceptions.
export async function newPage(browser, { baseURL, colorScheme = 'light', viewport = { width: 1280, height: 860 }, bypassCSP = false } = {}) {
  const context = await browser.newContext({ baseURL, colorScheme, viewport, bypassCSP });
  const page = await context.newPage();
  page.setDefaultTimeout(10000);
  const errors = [];
  page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
  page.on('pageerror', (e) => errors.push(String(e)));
  return { context, page, errors };
}

export async function screenshot(page, name) {
  mkdirSync(SCREENSHOTS, { recursive: true });
  await page.screenshot({ path: join(SCREENSHOTS, `${name}.png`), fullPage: true });
}

// Signs in through the UI by pasting a key on the page currently shown.
export async function signInWithKey(page, key) {
  await page.getByTestId('apikey-input').fill(key);
  await page.getByTestId('apikey-input').press('Enter');
  await page.getByTestId('signout').waitFor();
}

// Runs axe-core in the page (the context must bypass CSP to inject it) and
// returns the serious and critical violations.
export async function axeViolations(page) {
  const { createRequire } = await import('node:module');
  const require = createRequire(import.meta.url);
  await page.addScriptTag({ path: require.resolve('axe-core/axe.min.js') });
  const result = await page.evaluate(async () => window.axe.run(document, { resultTypes: ['violations'] }));
  return result.violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.id} (${v.impact}): ${v.nodes.map((n) => n.target.join(' ')).slice(0, 3).join(', ')}`);
}

// Seeds APIs through the management API; returns the created objects.
export async function seedApis(p, key, apis) {
  const out = [];
  for (const api of apis) {
    const r = await p.post('/v1/apis', api, { key });
    if (r.status !== 201) throw new Error(`seeding ${api.name}: ${r.status} ${r.text}`);
    out.push(r.json);
  }
  return out;
}

export function openapiDoc(title, paths) {
  const doc = { openapi: '3.0.3', info: { title, version: '1.0.0' }, paths: {} };
  for (const [method, path, operationId, summary, tag] of paths) {
    doc.paths[path] ||= {};
    doc.paths[path][method] = { operationId, summary, tags: tag ? [tag] : undefined, parameters: path.includes('{id}') ? [{ name: 'id', in: 'path', required: true, schema: { type: 'string' } }] : undefined, responses: { 200: { description: 'OK' } } };
  }
  return doc;
}
