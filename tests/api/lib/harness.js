// Test harness: starts the real Portico binary on 127.0.0.1 port 0 with a
// fresh database (a temp SQLite file, or a fresh database on the throwaway
// PostgreSQL from scripts/pg.sh when PORTICO_DB=postgres), and talks HTTP to it.
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { randomBytes } from 'node:crypto';

const here = dirname(fileURLToPath(import.meta.url));
export const ROOT = resolve(here, '../../..');
export const BIN = process.env.PORTICO_BIN || join(ROOT, 'build/portico');
export const DB_KIND = process.env.PORTICO_DB === 'postgres' ? 'postgres' : 'sqlite';

// Well-known keys written to every test instance's keys file.
export const KEYS = {
  admin: 'test-admin-key-0123456789abcdef',
  tenantAdmin: 'test-tenant-admin-key-0123456789',
  devops: 'test-devops-key-0123456789abcdef',
  viewer: 'test-viewer-key-0123456789abcdef',
  otherTenantAdmin: 'test-other-tenant-admin-key-0123',
};
export const GATEWAY_KEY = 'test-gateway-key-0123456789abcdef';
export const COOKIE_SECRET = 'test-cookie-secret-0123456789abcdef0123456789';

const KEYS_YAML = `
- name: admin
  key: ${KEYS.admin}
  role: cpi-admin
  tenant: default
- name: tenant-admin
  key: ${KEYS.tenantAdmin}
  role: tenant-admin
  tenant: acme
- name: devops
  key: ${KEYS.devops}
  role: devops
  tenant: acme
- name: viewer
  key: ${KEYS.viewer}
  role: viewer
  tenant: acme
- name: other-tenant-admin
  key: ${KEYS.otherTenantAdmin}
  role: tenant-admin
  tenant: globex
`;

function yamlScalar(v) {
  if (typeof v === 'string') return JSON.stringify(v);
  return String(v);
}

// Serialises {section: {key: value}} (and top-level scalars) as YAML.
export function toYaml(obj) {
  let out = '';
  for (const [k, v] of Object.entries(obj)) {
    if (v !== null && typeof v === 'object') {
      out += `${k}:\n`;
      for (const [k2, v2] of Object.entries(v)) {
        if (v2 === undefined) continue;
        out += `  ${k2}: ${yamlScalar(v2)}\n`;
      }
    } else if (v !== undefined) {
      out += `${k}: ${yamlScalar(v)}\n`;
    }
  }
  return out;
}

function merge(base, over) {
  const out = { ...base };
  for (const [k, v] of Object.entries(over || {})) {
    if (v && typeof v === 'object' && !Array.isArray(v) && typeof out[k] === 'object') out[k] = { ...out[k], ...v };
    else out[k] = v;
  }
  return out;
}

// Creates a fresh PostgreSQL database on the test cluster; returns its URL.
export function freshPgDatabase() {
  const dir = process.env.PORTICO_PG_DIR;
  if (!dir) throw new Error('PORTICO_DB=postgres needs PORTICO_PG_DIR (run through scripts/with-pg.sh)');
  const name = 't_' + randomBytes(6).toString('hex');
  return execFileSync('bash', [join(ROOT, 'scripts/pg.sh'), 'createdb', dir, name]).toString().trim();
}

export class Portico {
  constructor(opts = {}) {
    this.opts = opts;
    this.stderr = '';
    this.dir = opts.dir || mkdtempSync(join(tmpdir(), 'portico-test-'));
    this.ownsDir = !opts.dir;
  }

  // Starts the server; resolves when it prints its listening line.
  async start() {
    this.url = undefined;
    const db = this.opts.dbUrl !== undefined ? this.opts.dbUrl
      : (DB_KIND === 'postgres' ? (this.dbUrl ||= freshPgDatabase()) : '');
    this.dbUrl = db;
    writeFileSync(join(this.dir, 'keys.yaml'), this.opts.keysYaml ?? KEYS_YAML);
    const cfg = merge({
      profile: 'dev',
      server: { listen: '127.0.0.1:0', threads: 16 },
      database: { url: db, sqlite_path: join(this.dir, 'portico.db') },
      auth: { keys_file: join(this.dir, 'keys.yaml') },
      session: { cookie_secret: COOKIE_SECRET, cookie_secure: false },
      gateways: { api_keys: GATEWAY_KEY },
      log: { level: 'info' },
    }, this.opts.config);
    this.configPath = join(this.dir, 'portico.yaml');
    writeFileSync(this.configPath, this.opts.rawConfig ?? toYaml(cfg));
    const env = { ...process.env, ...(this.opts.env || {}) };
    for (const k of Object.keys(env)) if (k.startsWith('PORTICO_') && !(this.opts.env && k in this.opts.env)) delete env[k];
    // opts.spawn: extra child_process options (e.g. uid/gid to run as an
    // unprivileged user, so file permissions apply even when tests run as root).
    this.proc = spawn(BIN, ['serve', '--config', this.configPath], { env, stdio: ['ignore', 'pipe', 'pipe'], ...(this.opts.spawn || {}) });
    this.exited = new Promise((res) => this.proc.on('exit', (code, signal) => res({ code, signal })));
    this.proc.stdout.on('data', (d) => { this.stderr += d.toString(); });
    await new Promise((res, rej) => {
      const timer = setTimeout(() => rej(new Error('portico did not start in 15 s:\n' + this.stderr)), 15000);
      this.proc.stderr.on('data', (d) => {
        this.stderr += d.toString();
        const m = this.stderr.match(/portico: listening on (http:\/\/[0-9.]+:(\d+))/);
        if (m && !this.url && !this.proc.killed) {
          this.url = m[1];
          this.port = Number(m[2]);
          clearTimeout(timer);
          res();
        }
      });
      this.exited.then(({ code }) => { clearTimeout(timer); if (!this.url) rej(new Error(`portico exited (${code}) before listening:\n${this.stderr}`)); });
    });
    return this;
  }

  // Sends SIGTERM (or `signal`) and resolves with the exit code (kills after 15 s).
  async stop(signal = 'SIGTERM') {
    if (!this.proc) return 0; // never started
    if (this.proc.exitCode !== null || this.proc.signalCode) return (await this.exited).code;
    this.proc.kill(signal);
    const t = setTimeout(() => this.proc.kill('SIGKILL'), 15000);
    const { code } = await this.exited;
    clearTimeout(t);
    return code;
  }

  async cleanup() {
    await this.stop();
    if (this.ownsDir) rmSync(this.dir, { recursive: true, force: true });
  }

  // fetch wrapper: returns {status, headers, text, json}. `json` body is sent
  // as application/json; `key` adds X-API-Key.
  async request(method, path, { json, body, headers = {}, key, cookie, timeout = 10000 } = {}) {
    const h = { ...headers };
    if (key) h['X-API-Key'] = key;
    if (cookie) h['Cookie'] = cookie;
    let payload = body;
    if (json !== undefined) {
      payload = typeof json === 'string' ? json : JSON.stringify(json);
      if (!Object.keys(h).some((k) => k.toLowerCase() === 'content-type')) h['Content-Type'] = 'application/json';
    }
    const res = await fetch(this.url + path, { method, headers: h, body: payload, redirect: 'manual', signal: AbortSignal.timeout(timeout) });
    const text = await res.text();
    let parsed;
    try { parsed = text ? JSON.parse(text) : undefined; } catch { parsed = undefined; }
    return { status: res.status, headers: res.headers, text, json: parsed };
  }

  get(path, opts) { return this.request('GET', path, opts); }
  post(path, json, opts = {}) { return this.request('POST', path, { ...opts, json }); }
  put(path, json, opts = {}) { return this.request('PUT', path, { ...opts, json }); }
  del(path, opts) { return this.request('DELETE', path, opts); }
}

// Starts a Portico for a test file; returns the instance.
export async function startPortico(opts) {
  return new Portico(opts).start();
}

// Asserts the JSON error shape and code.
export function assertError(assert, res, status, code) {
  assert.equal(res.status, status, `expected ${status}, got ${res.status}: ${res.text}`);
  assert.ok(res.json && res.json.error, `expected a JSON error body, got: ${res.text}`);
  if (code) assert.equal(res.json.error.code, code, res.text);
  assert.equal(typeof res.json.error.message, 'string');
}

// Raw HTTP/1.1 over a socket (for malformed requests fetch refuses to send).
export async function rawRequest(port, data, { timeout = 5000 } = {}) {
  const net = await import('node:net');
  return new Promise((res, rej) => {
    const s = net.connect(port, '127.0.0.1');
    let buf = '';
    const t = setTimeout(() => { s.destroy(); res(buf); }, timeout);
    s.on('data', (d) => { buf += d.toString('latin1'); });
    s.on('end', () => { clearTimeout(t); res(buf); });
    s.on('error', (e) => { clearTimeout(t); buf ? res(buf) : rej(e); });
    s.write(data);
  });
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
