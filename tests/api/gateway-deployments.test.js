// Deployments end to end: a scripted gateway that follows the auto-registration guide
// verbatim (shared/reference/002…: the registration and heartbeat payloads as
// printed there, X-Gateway-Key, heartbeat every N s, config polling), plus
// Portico's deployment acknowledgement (docs/gateways.md): it registers,
// heartbeats, probes the control plane's health path, polls its config,
// applies a deployment and acknowledges it, then reports a different hash
// and the console sees the drift. Runs on SQLite and PostgreSQL.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startPortico, KEYS, GATEWAY_KEY, sleep } from './lib/harness.js';

let p;
before(async () => {
  p = await startPortico();
});
after(async () => {
  await p?.cleanup();
});

const HEARTBEAT_EVERY_MS = 1000; // the guide says 30 s; N = 1 s keeps the test short
const POLL_EVERY_MS = 500;

// The guide's gateway: STOA_CONTROL_PLANE_URL + STOA_CONTROL_PLANE_API_KEY.
class ScriptedGateway {
  constructor(url, key) {
    this.url = url;
    this.key = key;
    this.heartbeats = [];
    this.applied = new Map(); // deployment_id → content_hash
    this.errors = [];
  }

  async call(method, path, body) {
    const res = await fetch(this.url + path, {
      method,
      headers: { 'X-Gateway-Key': this.key, ...(body ? { 'Content-Type': 'application/json' } : {}) },
      body: body ? JSON.stringify(body) : undefined,
      signal: AbortSignal.timeout(10000),
    });
    const text = await res.text();
    return { status: res.status, text, json: text ? JSON.parse(text) : undefined };
  }

  // The guide's deep readiness probe: GET {CONTROL_PLANE_URL}/health(z).
  async ready() {
    const res = await fetch(this.url + this.healthPath, { signal: AbortSignal.timeout(3000) });
    return res.status === 200 && (await res.text()).trim() === 'ok';
  }

  async register() {
    // "The gateway sends this payload at startup" — verbatim.
    const r = await this.call('POST', '/v1/internal/gateways/register', {
      hostname: 'stoa-gateway-7f8b9c',
      mode: 'edge-mcp',
      version: '0.1.0',
      environment: 'prod',
      capabilities: ['rest', 'mcp', 'sse', 'oidc', 'rate_limiting'],
      admin_url: 'http://10.0.1.50:8080',
      tenant_id: null,
    });
    assert.equal(r.status, 201, r.text);
    this.id = r.json.id;
    this.name = r.json.name;
    this.started = Date.now();
  }

  start() {
    this.running = true;
    this.loops = Promise.all([this.heartbeatLoop(), this.pollLoop()]);
  }

  async stop() {
    this.running = false;
    await this.loops;
  }

  async heartbeatLoop() {
    while (this.running) {
      // "Every 30 seconds" — the guide's heartbeat payload, verbatim shape.
      const r = await this.call('POST', `/v1/internal/gateways/${this.id}/heartbeat`, {
        uptime_seconds: Math.floor((Date.now() - this.started) / 1000),
        routes_count: 15,
        policies_count: 5,
        requests_total: 10000,
        error_rate: 0.01,
      });
      this.heartbeats.push(r.status);
      await sleep(HEARTBEAT_EVERY_MS);
    }
  }

  // Polls config; applies every pending deployment it has not applied at
  // this hash and acknowledges it.
  async pollLoop() {
    while (this.running) {
      const c = await this.call('GET', `/v1/internal/gateways/${this.id}/config`);
      if (c.status !== 200) this.errors.push(`config ${c.status}: ${c.text}`);
      for (const d of c.json?.pending_deployments ?? []) {
        if (this.applied.get(d.deployment_id) === d.content_hash) continue;
        const a = await this.call('POST', `/v1/internal/gateways/${this.id}/deployments/${d.deployment_id}/status`, {
          status: 'synced',
          applied_hash: d.content_hash,
        });
        if (a.status !== 200) this.errors.push(`ack ${a.status}: ${a.text}`);
        else this.applied.set(d.deployment_id, d.content_hash);
      }
      this.lastConfig = c.json;
      await sleep(POLL_EVERY_MS);
    }
  }
}

async function waitFor(fn, ms = 10000, what = 'condition') {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    const v = await fn();
    if (v) return v;
    await sleep(100);
  }
  assert.fail(`timed out waiting for ${what}`);
}

test('a gateway following the guide registers, heartbeats, applies and acknowledges a deployment, then drifts', async () => {
  const g = new ScriptedGateway(p.url, GATEWAY_KEY);
  // The guide probes /health; Portico answers it where it exists, /healthz always.
  g.healthPath = (await fetch(p.url + '/health')).status === 200 ? '/health' : '/healthz';
  assert.ok(await g.ready(), 'the control plane is ready');
  await g.register();
  g.start();
  try {
    // It appears in the console, online, with the guide's heartbeat figures.
    const listed = await waitFor(async () => {
      const r = await p.get(`/v1/gateways/${g.id}`, { key: KEYS.admin });
      return r.json?.health_details?.routes_count === 15 ? r.json : null;
    }, 10000, 'the first heartbeat');
    assert.equal(listed.name, 'stoa-gateway-7f8b9c-edgemcp-prod');
    assert.equal(listed.status, 'online');

    // An operator deploys an API to it.
    const a = await p.post('/v1/apis', { name: 'Guide Orders', version: '1.0', status: 'published' }, { key: KEYS.admin });
    assert.equal(a.status, 201, a.text);
    const d = await p.post('/v1/deployments', { api_id: a.json.id, gateway_id: g.id }, { key: KEYS.admin });
    assert.equal(d.status, 201, d.text);
    assert.equal(d.json.sync_status, 'pending');

    // The gateway picks it up, applies and acknowledges it: synced, and no
    // longer pending in its config polls.
    const synced = await waitFor(async () => {
      const r = await p.get(`/v1/deployments/${d.json.id}`, { key: KEYS.admin });
      return r.json.sync_status === 'synced' ? r.json : null;
    }, 10000, 'synced');
    assert.equal(synced.applied_hash, d.json.expected_hash);
    // (The gateway records it when the acknowledgement's response arrives.)
    await waitFor(() => g.applied.get(d.json.id) === d.json.expected_hash, 5000, 'the gateway to record it');
    await waitFor(() => g.lastConfig && g.lastConfig.pending_deployments.length === 0 && g.lastConfig.gateway_id === g.id, 5000, 'an empty config poll');

    // It keeps beating every N seconds meanwhile.
    await waitFor(() => g.heartbeats.length >= 2, 10000, 'a second heartbeat');

    // Later the gateway's content changes (someone edited it locally): it
    // reports the hash it now runs, and the control plane marks the drift.
    await g.stop();
    const r = await g.call('POST', `/v1/internal/gateways/${g.id}/deployments/${d.json.id}/status`, {
      status: 'synced',
      applied_hash: 'sha256:' + '0'.repeat(64),
    });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json.sync_status, 'drifted');
    const drifted = await p.get(`/v1/deployments?gateway_id=${g.id}&sync_status=drifted`, { key: KEYS.admin });
    assert.deepEqual(drifted.json.items.map((x) => x.id), [d.json.id]);
    const cfg = await g.call('GET', `/v1/internal/gateways/${g.id}/config`);
    assert.equal(cfg.json.pending_deployments[0].deployment_id, d.json.id);
    assert.equal(cfg.json.pending_deployments[0].sync_status, 'drifted');

    assert.ok(g.heartbeats.every((s) => s === 204), `heartbeats: ${g.heartbeats}`);
    assert.deepEqual(g.errors, []);
  } finally {
    await g.stop();
  }
});
