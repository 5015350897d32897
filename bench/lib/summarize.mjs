// Turns the tables in bench/results/catalog.md and gateways.md into summary
// rows (bench/results/<name>.summary) next to the goals of issues 10 and 16.
// usage: node bench/lib/summarize.mjs RESULTS_DIR NAME
import { readFileSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';

const [dir, name] = process.argv.slice(2);
const md = join(dir, `${name}.md`);
if (!existsSync(md)) process.exit(0);
const text = readFileSync(md, 'utf8');

const rows = (header) => {
  const lines = text.split('\n');
  const start = lines.findIndex((l) => l.startsWith(header));
  if (start < 0) return [];
  const out = [];
  for (let i = start + 2; i < lines.length && lines[i].startsWith('|'); i++) {
    out.push(lines[i].split('|').slice(1, -1).map((c) => c.trim()));
  }
  return out;
};
const ms = (v) => {
  const m = /^([\d.]+)(us|ms|s)$/.exec(v || '');
  if (!m) return NaN;
  return Number(m[1]) * (m[2] === 'us' ? 0.001 : m[2] === 's' ? 1000 : 1);
};
const ok = (b) => (b ? 'ok' : 'MISSED');
const link = `[${name}.md](${name}.md)`;
const summary = [];

if (name === 'catalog') {
  const conns = /wrk: 2 threads, (\d+) connections/.exec(text)?.[1] ?? '?';
  for (const r of rows('| db | mode | q |')) {
    const [db, mode, q, , p99, rps, , load, floor] = r;
    if (mode !== 'index') continue;
    const v = ms(p99);
    // Issue 16: common and 1-character terms < 8 ms at c16; issue 10: < 20 ms.
    const goal = q === '`quasar`' ? 20 : 8;
    summary.push(`| /v1/portal/apis, 20,000 APIs, ${db}, q=${q}, c${conns}: p99 (req/s; load ${load}) | ${p99} (${rps}/s) | < ${goal} ms | ${ok(v < goal)} | ${link} |`);
    if (floor) summary.push(`| same query direct in ${db === 'sqlite' ? 'sqlite3' : 'psql'} (floor), q=${q} | ${floor} | within 2× | ${ok(ms(p99.replace(/\s/g, '')) <= 2 * ms(floor.replace(' ', '')))} | ${link} |`);
  }
  for (const [db, rss] of rows('| db | RSS after')) {
    summary.push(`| RSS after the search benchmark, 20,000 APIs, ${db} | ${rss} | < 60 MB | ${ok(parseFloat(rss) < 60)} | ${link} |`);
  }
}
if (name === 'gateways') {
  for (const r of rows('| database | heartbeats/s |')) {
    const [db, hbs, , , n, , lp99, fp99] = r;
    const rate = Number(hbs);
    summary.push(`| heartbeats/s, ${db} | ${hbs} | ≥ 5,000 (SQLite) | ${db === 'SQLite' ? ok(rate >= 5000) : ''} | ${link} |`);
    summary.push(`| GET /v1/gateways p99, ${n} gateways, ${db} | ${lp99} | < 20 ms | ${ok(ms(lp99) < 20)} | ${link} |`);
    summary.push(`| GET /v1/gateways filtered p99, ${db} | ${fp99} | < 20 ms | ${ok(ms(fp99) < 20)} | ${link} |`);
  }
}
if (summary.length) writeFileSync(join(dir, `${name}.summary`), summary.join('\n') + '\n');
