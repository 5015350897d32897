// docs/configuration/reference.md cannot drift from the key table in
// server/config.c: the same keys, types, defaults and environment names, and
// the binary's own `check-config` output lists exactly those keys.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT, BIN } from './lib/harness.js';

const TYPES = { CFG_STRING: 'string', CFG_INT: 'integer', CFG_DOUBLE: 'number', CFG_BOOL: 'boolean' };

// K("name", CFG_TYPE, field, "default", min, max, choices, secret, "help" ...)
function keyTable() {
  const src = readFileSync(join(ROOT, 'server/config.c'), 'utf8');
  const re = /\bK\("([^"]+)",\s*(CFG_\w+),\s*[\w.]+,\s*"((?:[^"\\]|\\.)*)",\s*([^,]+),\s*([^,]+),\s*(NULL|"[^"]*"),\s*(true|false),/g;
  const keys = new Map();
  for (const m of src.matchAll(re)) {
    keys.set(m[1], { type: TYPES[m[2]], def: m[3], choices: m[6] === 'NULL' ? null : m[6].slice(1, -1) });
  }
  const entries = (src.match(/\bK\("/g) || []).length;
  return { keys, entries };
}

// | `key` | type | `default` or *(empty)* | `ENV` | meaning |
function referenceRows() {
  const md = readFileSync(join(ROOT, 'docs/configuration/reference.md'), 'utf8');
  const rows = new Map();
  for (const line of md.split('\n')) {
    const m = line.match(/^\| `([a-z_]+(?:\.[a-z_]+)?)` \| (\w+) \| (\*\(empty\)\*|`[^`]*`) \| `(PORTICO_[A-Z_]+)` \| (.+) \|$/);
    if (!m) continue;
    assert.ok(!rows.has(m[1]), `reference.md lists ${m[1]} twice`);
    rows.set(m[1], { type: m[2], def: m[3] === '*(empty)*' ? '' : m[3].slice(1, -1), env: m[4], meaning: m[5] });
  }
  return rows;
}

const envName = (key) => 'PORTICO_' + key.replace(/\./g, '_').toUpperCase();

test('the key table parses (the regex still matches server/config.c)', () => {
  const { keys, entries } = keyTable();
  assert.ok(keys.size >= 30, `only ${keys.size} keys found`);
  assert.equal(keys.size, entries, 'every K("...") entry must match the full pattern');
});

test('every key in server/config.c is documented, and nothing else is', () => {
  const { keys } = keyTable();
  const rows = referenceRows();
  const missing = [...keys.keys()].filter((k) => !rows.has(k));
  const extra = [...rows.keys()].filter((k) => !keys.has(k));
  assert.deepEqual(missing, [], `keys missing from docs/configuration/reference.md: ${missing.join(', ')}`);
  assert.deepEqual(extra, [], `documented keys that server/config.c does not have: ${extra.join(', ')}`);
});

test('types, defaults and environment names match the key table', () => {
  const { keys } = keyTable();
  const rows = referenceRows();
  for (const [name, k] of keys) {
    const row = rows.get(name);
    assert.equal(row.type, k.type, `${name}: type`);
    assert.equal(row.def, k.def, `${name}: default`);
    assert.equal(row.env, envName(name), `${name}: environment variable`);
    if (k.choices) {
      for (const c of k.choices.split('|')) assert.ok(row.meaning.includes(`\`${c}\``), `${name}: choice ${c} not mentioned`);
    }
  }
});

test('check-config prints exactly the documented keys', () => {
  const dir = mkdtempSync(join(tmpdir(), 'portico-cfgdoc-'));
  try {
    const cfg = join(dir, 'c.yaml');
    writeFileSync(cfg, `profile: dev\ndatabase:\n  sqlite_path: ${JSON.stringify(join(dir, 'p.db'))}\n`);
    const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('PORTICO_') && k !== 'GATEWAY_API_KEYS'));
    const out = execFileSync(BIN, ['check-config', '--config', cfg], { env, encoding: 'utf8' });
    const printed = new Set();
    let section = null;
    for (const line of out.split('\n')) {
      if (!line || line.startsWith('#')) continue;
      let m = line.match(/^([a-z_]+):\s*$/);
      if (m) { section = m[1]; continue; }
      m = line.match(/^  ([a-z_]+): /);
      if (m) { printed.add(`${section}.${m[1]}`); continue; }
      m = line.match(/^([a-z_]+): /);
      if (m) { printed.add(m[1]); section = null; }
    }
    const rows = referenceRows();
    assert.deepEqual([...printed].sort(), [...rows.keys()].sort());
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a documented environment variable really overrides its key', () => {
  const dir = mkdtempSync(join(tmpdir(), 'portico-cfgdoc-'));
  try {
    const cfg = join(dir, 'c.yaml');
    writeFileSync(cfg, 'profile: dev\nserver:\n  threads: 8\n');
    const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('PORTICO_')));
    const row = referenceRows().get('server.threads');
    env[row.env] = '12';
    const out = execFileSync(BIN, ['check-config', '--config', cfg], { env, encoding: 'utf8' });
    assert.match(out, /\n {2}threads: 12\n/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
