#!/usr/bin/env node
/*
 * Checks the built UI against the rules the server's CSP and the bundle
 * budget impose; runs after `npm run build` (postbuild) and fails the build:
 *   - dist/portal/index.html and dist/console/index.html exist;
 *   - no inline <script>, no <style>, no style="" attribute, no data: URI in
 *     the HTML; scripts and stylesheets only from /assets/;
 *   - each entry's JavaScript (its module and every modulepreload) is under
 *     80 KB gzipped.
 */
import { readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';

const DIST = join(import.meta.dirname, '..', 'dist');
const BUDGET = 80 * 1024;
let failed = false;
const fail = (msg) => {
  console.error(`check-dist: ${msg}`);
  failed = true;
};

for (const entry of ['portal', 'console']) {
  const file = join(DIST, entry, 'index.html');
  if (!existsSync(file)) {
    fail(`${entry}/index.html is missing`);
    continue;
  }
  const html = readFileSync(file, 'utf8');
  for (const m of html.matchAll(/<script\b([^>]*)>([\s\S]*?)<\/script>/gi)) {
    if (!/\bsrc=/.test(m[1]) || m[2].trim()) fail(`${entry}: inline <script>`);
  }
  if (/<style\b/i.test(html)) fail(`${entry}: inline <style>`);
  if (/\sstyle\s*=/i.test(html)) fail(`${entry}: style="" attribute`);
  if (/data:/i.test(html)) fail(`${entry}: data: URI`);
  const refs = [...html.matchAll(/\b(?:src|href)="([^"]+)"/g)].map((m) => m[1]);
  for (const r of refs) if (!r.startsWith('/assets/')) fail(`${entry}: reference outside /assets/: ${r}`);
  const js = [...html.matchAll(/<(?:script[^>]*\bsrc|link[^>]*rel="modulepreload"[^>]*\bhref)="([^"]+\.js)"/g)].map((m) => m[1]);
  let total = 0;
  for (const r of new Set(js)) total += gzipSync(readFileSync(join(DIST, r))).length;
  const kb = (total / 1024).toFixed(1);
  if (total >= BUDGET) fail(`${entry}: ${kb} KB of JavaScript gzipped, budget 80 KB`);
  else console.log(`check-dist: ${entry}: ${js.length} JS files, ${kb} KB gzipped (budget 80 KB)`);
}
if (failed) process.exit(1);
