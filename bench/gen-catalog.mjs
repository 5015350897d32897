// Generates a synthetic catalog as SQL INSERTs (portable: SQLite and
// PostgreSQL) on stdout: N APIs (default 20000) with 10 operations each,
// tags, categories, and search_text computed exactly as catalog.c does
// (fields lower-cased and joined by "\n"; the generator uses ASCII only, so
// JavaScript's toLowerCase agrees with util_utf8_lower).
// Planted terms: "quasar" in 5 descriptions (rare); "order" in most APIs
// (common). Usage: node bench/gen-catalog.mjs [N] > catalog.sql
const N = Number(process.argv[2] || 20000);
let seed = 42;
const rnd = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);
const pick = (a) => a[Math.floor(rnd() * a.length)];
const WORDS = ['payment', 'user', 'order', 'invoice', 'shipment', 'weather', 'token', 'account', 'profile',
  'search', 'report', 'ledger', 'refund', 'customer', 'catalog', 'inventory', 'price', 'quote', 'tracking',
  'address', 'message', 'device', 'session', 'policy', 'metric', 'event', 'schema', 'tenant', 'gateway', 'review'];
const CATS = ['Payments', 'Identity', 'Logistics', 'Weather', 'Commerce', 'Communications', 'Data', 'Tools'];
const METHODS = ['GET', 'POST', 'PUT', 'DELETE', 'PATCH'];
const q = (s) => `'${String(s).replace(/'/g, "''")}'`;
const hex = (n) => Array.from({ length: n }, () => Math.floor(rnd() * 16).toString(16)).join('');
const uuid = (i) => `${hex(8)}-${hex(4)}-4${hex(3)}-a${hex(3)}-${i.toString(16).padStart(12, '0')}`;
const title = (w) => w[0].toUpperCase() + w.slice(1);

const out = [];
out.push('BEGIN;');
const t0 = 1790000000000;
for (let i = 0; i < N; i++) {
  const id = uuid(i);
  const w1 = pick(WORDS), w2 = pick(WORDS);
  const name = `${title(w1)} ${title(w2)} Service ${i}`;
  const version = `${1 + (i % 4)}.${i % 10}.0`;
  let description = `Manage ${w1}s and ${w2}s: ${Array.from({ length: 10 }, () => pick(WORDS)).join(' ')}.`;
  if (i % 4000 === 7) description += ' Powered by quasar.';
  if (i % 10 !== 0 && !description.includes('order')) description += ' Supports order lookups.';
  const category = CATS[i % CATS.length];
  const tags = [...new Set([w1, w2, pick(WORDS)])];
  const ops = [];
  for (let k = 0; k < 10; k++) {
    const w = pick(WORDS);
    ops.push({ method: pick(METHODS), path: `/v${1 + (k % 2)}/${w}s/{id}/${pick(WORDS)}`,
      opId: `${pick(['get', 'list', 'create', 'update', 'delete'])}${title(w)}${k}`,
      summary: `Returns the ${w} for the given ${pick(WORDS)}` });
  }
  const fields = [name, description, version, id, ...tags, category];
  for (const o of ops) fields.push(o.path, o.opId, o.summary);
  const searchText = fields.filter((f) => f).join('\n').toLowerCase();
  const status = i % 50 === 0 ? 'draft' : 'published';
  const audience = i % 97 === 0 ? 'internal' : 'public';
  const at = t0 + i * 1000;
  out.push(`INSERT INTO apis (id, tenant_id, name, name_lower, version, description, category, tags_json, status, portal_visible, audience, owner, openapi, openapi_format, search_text, created_at, updated_at) VALUES (${[
    q(id), q(i % 5 === 0 ? 'acme' : 'default'), q(name), q(name.toLowerCase()), q(version), q(description), q(category),
    q(JSON.stringify(tags)), q(status), 1, q(audience), q('bench'), 'NULL', 'NULL', q(searchText), at, at].join(', ')});`);
  for (const t of tags) out.push(`INSERT INTO api_tags (api_id, tag) VALUES (${q(id)}, ${q(t)});`);
  ops.forEach((o, k) => out.push(`INSERT INTO api_operations (api_id, seq, method, path, operation_id, summary, tags_json) VALUES (${[
    q(id), k, q(o.method), q(o.path), q(o.opId), q(o.summary), q('[]')].join(', ')});`));
  if (out.length > 5000) { process.stdout.write(out.join('\n') + '\n'); out.length = 0; }
}
out.push('COMMIT;');
process.stdout.write(out.join('\n') + '\n');
