// Storage: the SQLite file is created (with its directory) in WAL mode; on
// PostgreSQL an outage gives 503 JSON errors and "database unreachable" on
// /readyz, and Portico recovers by itself when the server is back.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { startPortico, assertError, DB_KIND, ROOT, sleep, Portico } from './lib/harness.js';

const started = [];
after(async () => { for (const p of started) await p.cleanup(); });

test('SQLite: the database and its directory are created, in WAL mode', { skip: DB_KIND !== 'sqlite' && 'SQLite only' }, async () => {
  const q = new Portico();
  started.push(q);
  const nested = join(q.dir, 'a', 'b', 'portico.db');
  q.opts.config = { database: { sqlite_path: nested } };
  await q.start();
  assert.ok(existsSync(nested), 'database file exists');
  const mode = execFileSync('sqlite3', [nested, 'PRAGMA journal_mode;']).toString().trim();
  assert.equal(mode, 'wal');
  const version = execFileSync('sqlite3', [nested, 'SELECT MAX(version) FROM schema_migrations;']).toString().trim();
  assert.ok(Number(version) >= 1);
});

test('a restart on the same database applies no migration twice', async () => {
  const q = await startPortico();
  started.push(q);
  assert.equal(await q.stop(), 0);
  const first = q.stderr;
  assert.match(first, /migrate: applied sqlite\/001_init\.sql|migrate: applied postgres\/001_init\.sql/);
  q.stderr = '';
  await q.start();
  assert.doesNotMatch(q.stderr, /migrate: applied/);
  const r = await q.get('/readyz');
  assert.equal(r.status, 200);
});

test('PostgreSQL outage: 503 while down, recovery without restart', { skip: DB_KIND !== 'postgres' && 'PostgreSQL only' }, async () => {
  // A private cluster: stopping the shared one would break other test files.
  const dir = execFileSync('bash', [join(ROOT, 'scripts/pg.sh'), 'start']).toString().trim();
  const pg = (cmd) => execFileSync('bash', [join(ROOT, 'scripts/pg.sh'), cmd, dir]);
  const q = await startPortico({ dbUrl: execFileSync('bash', [join(ROOT, 'scripts/pg.sh'), 'url', dir]).toString().trim() });
  started.push({ cleanup: async () => { await q.cleanup(); pg('stop'); } });
  // A database-backed request: a pk_ key is looked up in the database.
  const dbKey = 'pk_abcdefgh_' + 'x'.repeat(43);
  const before = await q.get('/v1/whoami', { key: dbKey });
  assert.equal(before.status, 401);
  pg('stop-server');
  try {
    const down = await q.get('/v1/whoami', { key: dbKey });
    assertError(assert, down, 503, 'database_unavailable');
    let ready;
    for (let i = 0; i < 20; i++) { // readiness is re-checked at most every 5 s
      ready = await q.get('/readyz');
      if (ready.status === 503) break;
      await sleep(500);
    }
    assert.equal(ready.status, 503);
    assert.match(ready.text, /NOT READY: database unreachable/);
    assert.equal((await q.get('/healthz')).status, 200, 'liveness is unaffected');
  } finally {
    pg('start-server');
  }
  let after;
  for (let i = 0; i < 20; i++) {
    after = await q.get('/v1/whoami', { key: dbKey });
    if (after.status === 401) break;
    await sleep(300);
  }
  assert.equal(after.status, 401, 'requests reach the database again: ' + after.text + q.stderr);
  let ready;
  for (let i = 0; i < 30; i++) {
    ready = await q.get('/readyz');
    if (ready.status === 200) break;
    await sleep(500);
  }
  assert.equal(ready.status, 200);
});
