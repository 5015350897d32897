// Registers N gateways against a running Portico as fast as it allows
// (bounded concurrency) and prints their ids, one per line.
// usage: node gw_register.mjs URL GATEWAY_KEY N PREFIX
const [url, key, n, prefix] = process.argv.slice(2);
const total = Number(n);
const ids = new Array(total);
let next = 0;
async function worker() {
  for (;;) {
    const i = next++;
    if (i >= total) return;
    const body = { hostname: `${prefix}-${i}`, mode: ['edge-mcp', 'sidecar', 'proxy', 'shadow', 'connect'][i % 5], version: '1.0.0', environment: ['prod', 'staging', 'dev'][i % 3], capabilities: ['rest'], admin_url: `http://10.0.${(i >> 8) & 255}.${i & 255}:8080` };
    const r = await fetch(`${url}/v1/internal/gateways/register`, { method: 'POST', headers: { 'X-Gateway-Key': key, 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
    if (r.status !== 201) throw new Error(`register ${i}: HTTP ${r.status} ${await r.text()}`);
    ids[i] = (await r.json()).id;
  }
}
await Promise.all(Array.from({ length: 16 }, worker));
process.stdout.write(ids.join('\n') + '\n');
