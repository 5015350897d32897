// Seeds N active subscriptions on one gateway through the HTTP API: A APIs
// (auto-approved, one plan each) deployed to a new gateway, and
// ceil(N / A) applications each subscribed to every API, with bounded
// concurrency. Prints the gateway id.
// usage: node subs_seed.mjs URL ADMIN_KEY GATEWAY_KEY N [A]
const [url, adminKey, gwKey, n, a] = process.argv.slice(2);
const total = Number(n);
const nApis = Number(a || 100);
const nApps = Math.ceil(total / nApis);
const admin = { 'X-API-Key': adminKey, 'Content-Type': 'application/json' };

async function post(path, body, headers = admin) {
  const r = await fetch(url + path, { method: 'POST', headers, body: JSON.stringify(body) });
  if (r.status !== 201) throw new Error(`POST ${path}: HTTP ${r.status} ${await r.text()}`);
  return r.json();
}

async function pool(count, fn, width = 16) {
  let next = 0;
  const out = new Array(count);
  await Promise.all(Array.from({ length: width }, async () => {
    for (;;) {
      const i = next++;
      if (i >= count) return;
      out[i] = await fn(i);
    }
  }));
  return out;
}

const gw = await post('/v1/internal/gateways/register',
  { hostname: `bench-subs-${process.pid}`, mode: 'edge-mcp', version: '1', environment: 'bench', admin_url: 'http://127.0.0.1:9' },
  { 'X-Gateway-Key': gwKey, 'Content-Type': 'application/json' });
const apis = await pool(nApis, (i) => post('/v1/apis', {
  name: `bench-api-${i}`, version: '1', status: 'published', subscription: 'auto',
  plans: [{ name: 'standard', requests_per_minute: 600 + i }],
}));
await pool(nApis, (i) => post('/v1/deployments', { api_id: apis[i].id, gateway_id: gw.id }));
const apps = await pool(nApps, (i) => post('/v1/applications', { name: `bench-app-${i}` }));
await pool(total, (i) => post('/v1/subscriptions', { application_id: apps[Math.floor(i / nApis)].id, api_id: apis[i % nApis].id, plan: 'standard' }));
process.stdout.write(`${gw.id}\n`);
