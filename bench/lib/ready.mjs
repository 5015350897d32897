// bench/lib/ready.mjs — time from spawn to the first 200 on /readyz.
//   node bench/lib/ready.mjs BIN CONFIG PORT RUNS [fresh-db-path]
// With fresh-db-path the SQLite file (and -wal/-shm) is removed before each
// run, so migrations are part of the time. Prints one line:
// "<median ms> <min ms> <max ms>".
import { spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import http from 'node:http';

const [bin, config, port, runsArg, freshDb] = process.argv.slice(2);
const runs = Number(runsArg || 7);

function readyOnce() {
  return new Promise((resolve) => {
    const req = http.get({ host: '127.0.0.1', port: Number(port), path: '/readyz', agent: false }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode === 200));
    });
    req.on('error', () => resolve(false));
  });
}

async function one() {
  if (freshDb) for (const s of ['', '-wal', '-shm']) rmSync(freshDb + s, { force: true });
  const t0 = process.hrtime.bigint();
  const child = spawn(bin, ['serve', '--config', config], { stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  child.stderr.on('data', (d) => { err += d; });
  const exited = new Promise((r) => child.on('exit', r));
  let ms = -1;
  for (;;) {
    if (await readyOnce()) { ms = Number(process.hrtime.bigint() - t0) / 1e6; break; }
    if (child.exitCode !== null) throw new Error('portico exited: ' + err);
    if (Number(process.hrtime.bigint() - t0) > 10e9) throw new Error('not ready in 10 s: ' + err);
    await new Promise((r) => setTimeout(r, 1));
  }
  child.kill('SIGTERM');
  await exited;
  return ms;
}

const times = [];
for (let i = 0; i < runs; i++) times.push(await one());
times.sort((a, b) => a - b);
const median = times[Math.floor(times.length / 2)];
console.log(`${median.toFixed(1)} ${times[0].toFixed(1)} ${times[times.length - 1].toFixed(1)}`);
