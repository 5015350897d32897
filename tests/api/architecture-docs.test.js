// docs/architecture.md's module map names every module in server/ and no
// module that is not there, so the map a newcomer reads matches the code.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from './lib/harness.js';

test('the module map in docs/architecture.md matches server/*.c', () => {
  const md = readFileSync(join(ROOT, 'docs/architecture.md'), 'utf8');
  const lines = md.split('\n');
  const start = lines.findIndex((l) => l.startsWith('| module | does |'));
  assert.ok(start >= 0, 'the module table');
  const mapped = new Set();
  for (let i = start + 2; i < lines.length && lines[i].startsWith('|'); i++) {
    const first = lines[i].split('|')[1];
    for (const m of first.matchAll(/`([a-z_]+)`/g)) mapped.add(m[1]);
  }
  const modules = new Set(readdirSync(join(ROOT, 'server')).filter((f) => f.endsWith('.c')).map((f) => f.slice(0, -2)));
  assert.deepEqual([...modules].filter((m) => !mapped.has(m)).sort(), [], 'modules missing from the map');
  assert.deepEqual([...mapped].filter((m) => !modules.has(m)).sort(), [], 'mapped modules that do not exist');
});
