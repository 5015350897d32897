// The command line and the demo: --help on every command, version,
// `portico seed --demo` (≥ 40 realistic APIs, idempotent), and a dev server
// with demo.seed and simulated gateways that register and beat over HTTP.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { BIN, Portico, KEYS, toYaml, COOKIE_SECRET, GATEWAY_KEY, DB_KIND, freshPgDatabase, sleep } from './lib/harness.js';

const cleanups = [];
after(async () => { for (const c of cleanups) await c(); });

function cleanEnv() {
  const env = { ...process.env };
  for (const k of Object.keys(env)) if (k.startsWith('PORTICO_')) delete env[k];
  return env;
}
const run = (args) => spawnSync(BIN, args, { env: cleanEnv(), encoding: 'utf8', timeout: 30000 });

test('--help on every command, version, and unknown commands', () => {
  for (const args of [['--help'], ['serve', '--help'], ['check-config', '--help'], ['migrate', '--help'], ['seed', '--help'], ['apikey', 'create', '--help']]) {
    const r = run(args);
    assert.equal(r.status, 0, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stdout, /usage: portico/);
  }
  const v = run(['version']);
  assert.equal(v.status, 0);
  assert.match(v.stdout, /^portico \S+\n$/);
  const bad = run(['frobnicate']);
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /unknown command frobnicate/);
  const badOpt = run(['serve', '--nope']);
  assert.equal(badOpt.status, 2);
  assert.match(badOpt.stderr, /unknown option --nope/);
});

test('portico seed --demo fills a realistic catalog once', async () => {
  const q = new Portico();
  cleanups.push(() => q.cleanup());
  const db = DB_KIND === 'postgres' ? freshPgDatabase() : '';
  const cfg = join(q.dir, 'seed.yaml');
  writeFileSync(cfg, toYaml({ profile: 'dev', database: { url: db, sqlite_path: join(q.dir, 'portico.db') }, session: { cookie_secret: COOKIE_SECRET } }));
  const first = run(['seed', '--demo', '--config', cfg]);
  assert.equal(first.status, 0, first.stderr);
  const n = Number(first.stdout.match(/demo catalog: (\d+) APIs created/)?.[1]);
  assert.ok(n >= 40, `created ${n}`);
  const again = run(['seed', '--demo', '--config', cfg]);
  assert.equal(again.status, 0, again.stderr);
  assert.match(again.stdout, /demo catalog: 0 APIs created/);
  // The seeded catalog as the portal shows it.
  q.opts.dbUrl = db;
  await q.start();
  const r = await q.get('/v1/portal/apis?page_size=100', { key: KEYS.viewer });
  assert.equal(r.status, 200);
  assert.ok(r.json.total >= 40, `portal shows ${r.json.total}`);
  assert.ok(Object.keys(r.json.facets.categories).length >= 6);
  for (const api of r.json.items) {
    assert.ok(api.name && api.version && api.description, `${api.name} is complete`);
  }
  const withOps = await q.get(`/v1/portal/apis/${r.json.items[0].id}`, { key: KEYS.viewer });
  assert.ok(withOps.json.operations.length >= 1);
});

test('a dev server with the demo: seeded catalog and simulated gateways beating over HTTP', async () => {
  const q = new Portico({ config: { demo: { seed: true, simulated_gateways: 3 }, gateways: { api_keys: GATEWAY_KEY } } });
  cleanups.push(() => q.cleanup());
  await q.start();
  let list;
  for (let i = 0; i < 40; i++) {
    list = await q.get('/v1/gateways', { key: KEYS.admin });
    if (list.json?.total === 3 && list.json.items.every((g) => g.last_heartbeat_at)) break;
    await sleep(250);
  }
  assert.equal(list.json.total, 3);
  assert.ok(list.json.items.every((g) => g.live), 'every simulated gateway is live');
  const modes = new Set(list.json.items.map((g) => g.mode));
  assert.ok(modes.size >= 2, 'varied modes');
  const apis = await q.get('/v1/portal/apis', { key: KEYS.viewer });
  assert.ok(apis.json.total >= 40);
  // Demo APIs are deployed to the simulated environments; the gateways apply
  // and acknowledge them at their config poll (two prod gateways × 3 APIs,
  // one staging gateway × 2).
  let deps;
  for (let i = 0; i < 80; i++) {
    deps = await q.get('/v1/deployments?sync_status=synced', { key: KEYS.admin });
    if (deps.json?.total === 8) break;
    await sleep(250);
  }
  assert.equal(deps.json.total, 8, JSON.stringify(deps.json?.counts));
  assert.equal(await q.stop(), 0, 'the simulator stops with the server');
});

test('the demo is refused outside the dev profile', () => {
  const q = new Portico();
  cleanups.push(() => q.cleanup());
  const cfg = join(q.dir, 'live.yaml');
  writeFileSync(cfg, toYaml({ profile: 'live', session: { cookie_secret: COOKIE_SECRET }, demo: { seed: true } }));
  const r = run(['check-config', '--config', cfg]);
  assert.equal(r.status, 2);
  assert.match(r.stderr, /demo\.seed: the demo .* needs profile dev/);
});
