// bench/timing.mjs — the two timing goals that used to be test assertions
// (tests assert behaviour, not speed): requests stay fast while the audit
// writer is stalled by a locked database (goal: 30 requests in < 8 s), and
// shutdown with an open event stream is prompt (goal: < 5 s).
// Writes bench/results/timing.md and timing.summary. SQLite, 127.0.0.1 only;
// every wait is bounded.
// usage: node bench/timing.mjs RESULTS_DIR  (PORTICO_BIN = the binary)
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startPortico, KEYS, sleep } from '../tests/api/lib/harness.js';

const dir = process.argv[2];
const rows = [];

async function lockSqlite(inst) {
  const proc = spawn('sqlite3', [join(inst.dir, 'portico.db')], { stdio: ['pipe', 'pipe', 'pipe'] });
  let out = '';
  proc.stdout.on('data', (d) => { out += d.toString(); });
  const exited = new Promise((res) => proc.on('exit', res));
  proc.stdin.write("BEGIN EXCLUSIVE;\nSELECT 'locked';\n");
  const end = Date.now() + 10000;
  while (!out.includes('locked')) {
    if (Date.now() > end) { proc.kill(); throw new Error('could not lock the database'); }
    await sleep(20);
  }
  return async () => { proc.stdin.write('COMMIT;\n'); proc.stdin.end(); await exited; };
}

// 1. Requests while the audit writer cannot write (tiny buffer, locked db).
{
  const q = await startPortico({ config: { audit: { buffer_depth: 2 } } });
  try {
    const release = await lockSqlite(q);
    const t0 = Date.now();
    for (let i = 0; i < 30; i++) await q.get(`/v1/stalled-${i}`, { key: KEYS.admin, timeout: 10000 });
    const ms = Date.now() - t0;
    await release();
    rows.push(['30 requests with the audit writer stalled', `${ms}ms`, '< 8000ms', ms < 8000]);
  } finally {
    await q.cleanup();
  }
}

// 2. SIGTERM with an open event stream.
{
  const q = await startPortico({});
  try {
    const ac = new AbortController();
    const res = await fetch(q.url + '/v1/gateways/events', { headers: { 'X-API-Key': KEYS.admin }, signal: ac.signal });
    const t0 = Date.now();
    const code = await q.stop();
    const ms = Date.now() - t0;
    ac.abort();
    rows.push([`shutdown with an open stream (status ${res.status}, exit ${code})`, `${ms}ms`, '< 5000ms', ms < 5000 && code === 0]);
  } finally {
    await q.cleanup();
  }
}

const table = ['| measure | value | goal |', '|---|---|---|', ...rows.map(([m, v, g]) => `| ${m} | ${v} | ${g} |`)];
writeFileSync(join(dir, 'timing.md'), `# timing\n\n${table.join('\n')}\n`);
writeFileSync(join(dir, 'timing.summary'),
  rows.map(([m, v, g, ok]) => `| ${m} | ${v} | ${g} | ${ok ? 'ok' : 'MISSED'} | [timing.md](timing.md) |`).join('\n') + '\n');
process.exit(rows.every((r) => r[3]) ? 0 : 1);
