// Relative links in README.md and docs/**/*.md point at files that exist, and
// #anchors at headings that exist (GitHub's slug rules), so the docs a
// newcomer follows do not dead-end.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, existsSync, statSync } from 'node:fs';
import { join, dirname, relative } from 'node:path';
import { ROOT } from './lib/harness.js';

// Written by other changes (screenshots, OIDC, monitoring and audit pages):
// a link to one of these may wait for it; once the file exists it is checked
// like any other.
const PENDING = new Set([
  'docs/images/console.png',
  'docs/images/portal.png',
  'docs/configuration/oidc.md',
  'docs/operations/monitoring.md',
  'docs/operations/audit.md',
]);

function markdownFiles() {
  const out = [join(ROOT, 'README.md')];
  const walk = (dir) => {
    for (const e of readdirSync(dir)) {
      const p = join(dir, e);
      if (statSync(p).isDirectory()) walk(p);
      else if (e.endsWith('.md')) out.push(p);
    }
  };
  walk(join(ROOT, 'docs'));
  return out;
}

// GitHub's heading anchors: lower-case, punctuation dropped, spaces to '-'.
function anchors(md) {
  const set = new Set();
  let inFence = false;
  for (const line of md.split('\n')) {
    if (/^```/.test(line)) inFence = !inFence;
    if (inFence) continue;
    const m = line.match(/^#{1,6}\s+(.*)$/);
    if (!m) continue;
    const slug = m[1].trim().toLowerCase().replace(/`/g, '').replace(/[^\p{L}\p{N}\s_-]/gu, '').replace(/\s/g, '-');
    set.add(slug);
  }
  return set;
}

function links(md) {
  const out = [];
  let inFence = false;
  for (const line of md.split('\n')) {
    if (/^```/.test(line)) inFence = !inFence;
    if (inFence) continue;
    for (const m of line.matchAll(/!?\[[^\]]*\]\(([^)\s]+)\)/g)) out.push(m[1]);
  }
  return out;
}

test('README and docs have relative links that resolve', () => {
  const files = markdownFiles();
  assert.ok(files.length >= 9, `only ${files.length} markdown files`);
  const problems = [];
  let checked = 0;
  for (const file of files) {
    const md = readFileSync(file, 'utf8');
    for (const link of links(md)) {
      if (/^[a-z]+:/.test(link)) continue; // http:, https:, mailto:
      const [path, anchor] = link.split('#');
      const target = path ? join(dirname(file), path) : file;
      const rel = relative(ROOT, target);
      checked++;
      if (!existsSync(target)) {
        if (!PENDING.has(rel)) problems.push(`${relative(ROOT, file)}: ${link} (no ${rel})`);
        continue;
      }
      if (anchor && target.endsWith('.md') && !anchors(readFileSync(target, 'utf8')).has(anchor)) {
        problems.push(`${relative(ROOT, file)}: ${link} (no heading #${anchor})`);
      }
    }
  }
  assert.ok(checked > 30, `only ${checked} links checked`);
  assert.deepEqual(problems, []);
});

test('the link checker catches a dead link and a dead anchor', () => {
  const a = anchors('# Thread sizing\n## TLS termination\n```\n# not a heading\n```\n');
  assert.ok(a.has('thread-sizing') && a.has('tls-termination'));
  assert.ok(!a.has('not-a-heading'));
  assert.deepEqual(links('see [x](a.md#b) and ![i](p.png)\n```\n[no](c.md)\n```\n'), ['a.md#b', 'p.png']);
});
