// The container files agree with each other and with Portico, checked
// without a Docker engine: the compose stack's Portico configuration passes
// `portico check-config`, the Keycloak realm matches the OIDC settings and
// Portico's roles, Caddy proxies to the right place, and the runtime image
// installs a package for every library the binary links.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { execFileSync, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { ROOT, BIN } from './lib/harness.js';
import { parseYaml } from '../../scripts/yaml2json.mjs';

const compose = parseYaml(readFileSync(join(ROOT, 'docker/compose.yaml'), 'utf8'));
const realm = JSON.parse(readFileSync(join(ROOT, 'docker/keycloak/portico-realm.json'), 'utf8'));
const caddyfile = readFileSync(join(ROOT, 'docker/Caddyfile'), 'utf8');
const dockerfile = readFileSync(join(ROOT, 'docker/Dockerfile'), 'utf8');

// Compose-style interpolation of ${VAR}, ${VAR:-default}, ${VAR:?message}.
function interpolate(value, env) {
  return String(value).replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)(?::([-?])([^}]*))?\}/g, (_, name, op, arg) => {
    if (env[name] !== undefined && env[name] !== '') return env[name];
    if (op === '-') return arg;
    if (op === '?') throw new Error(`${name} is required: ${arg}`);
    return '';
  });
}

// The portico service's environment as the container would see it.
function porticoEnv(hostEnv) {
  const out = {};
  for (const [k, v] of Object.entries(compose.services.portico.environment)) out[k] = interpolate(v, hostEnv);
  return out;
}

const SECRET = 'docker-test-cookie-secret-0123456789abcdef';

// `portico check-config` on the config file the stack mounts, with the
// stack's environment: { status, stdout, stderr }.
function checkStackConfig() {
  const env = porticoEnv({ PORTICO_COOKIE_SECRET: SECRET });
  const vol = compose.services.portico.volumes.find((v) => v.endsWith(':/etc/portico/portico.yaml:ro'));
  assert.ok(vol, 'the live config is mounted');
  const cfgFile = join(ROOT, 'docker', vol.split(':')[0]);
  const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('PORTICO_') && !k.startsWith('OIDC_') && k !== 'DATABASE_URL' && k !== 'GATEWAY_API_KEYS'));
  return spawnSync(BIN, ['check-config', '--config', cfgFile], { env: { ...clean, ...env }, encoding: 'utf8' });
}

test('compose: the services of the stack are there', () => {
  assert.deepEqual(Object.keys(compose.services).sort(), ['caddy', 'keycloak', 'portico', 'postgres']);
  assert.match(compose.services.postgres.image, /^postgres:15/);
  assert.match(compose.services.keycloak.image, /^quay\.io\/keycloak\/keycloak:/);
  assert.match(compose.services.caddy.image, /^caddy:2/);
  assert.equal(compose.services.portico.build.dockerfile, 'docker/Dockerfile');
  assert.equal(compose.services.portico.depends_on.postgres.condition, 'service_healthy');
});

test('compose: the cookie secret must come from the environment', () => {
  assert.throws(() => porticoEnv({}), /PORTICO_COOKIE_SECRET is required/);
});

test('compose: Portico accepts the configuration the stack gives it (check-config)', () => {
  const env = porticoEnv({ PORTICO_COOKIE_SECRET: SECRET });
  assert.deepEqual(compose.services.portico.command, ['serve', '--config', '/etc/portico/portico.yaml']);
  const r = checkStackConfig();
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /^profile: "live"$/m);
  assert.match(r.stdout, /^ {2}public_url: "https:\/\/localhost"$/m);
  assert.match(r.stdout, /^ {2}cookie_secure: true$/m);
  assert.match(r.stdout, /^ {2}issuer: "http:\/\/auth\.localhost:8081\/realms\/portico"$/m);
  assert.match(r.stdout, /^database:\n {2}url: "<redacted>"$/m);
  assert.match(r.stdout, /^gateways:\n {2}api_keys: "<redacted>"$/m);
  assert.match(env.DATABASE_URL, /^postgres:\/\/portico:[^@]+@postgres:5432\/portico/);
});

test('compose: the Keycloak realm matches the OIDC settings and Portico roles', () => {
  const env = porticoEnv({ PORTICO_COOKIE_SECRET: SECRET });
  const issuer = new URL(env.OIDC_ISSUER);
  assert.equal(issuer.pathname, `/realms/${realm.realm}`);
  const kc = compose.services.keycloak;
  assert.ok(kc.command.includes(`--hostname=${issuer.origin}`), 'Keycloak hostname = issuer origin');
  assert.ok(kc.command.includes(`--http-port=${issuer.port}`));
  assert.ok(kc.networks.default.aliases.includes(issuer.hostname), 'Portico resolves the issuer host inside the network');
  assert.ok(kc.ports.some((p) => p.endsWith(`:${issuer.port}:${issuer.port}`)), 'the browser reaches the issuer port');
  assert.ok(kc.volumes.some((v) => v.startsWith('./keycloak/portico-realm.json:/opt/keycloak/data/import/')));

  const rbac = readFileSync(join(ROOT, 'server/rbac.c'), 'utf8');
  const porticoRoles = [...rbac.matchAll(/\{ROLE_\w+, "([a-z-]+)",/g)].map((m) => m[1]).sort();
  assert.deepEqual(realm.roles.realm.map((r) => r.name).sort(), porticoRoles);

  const client = realm.clients.find((c) => c.clientId === env.OIDC_CLIENT_ID);
  assert.ok(client, 'the client Portico uses exists');
  assert.equal(client.publicClient, false, 'confidential client');
  assert.equal(client.secret, env.OIDC_CLIENT_SECRET);
  assert.equal(client.standardFlowEnabled, true);
  assert.deepEqual(client.redirectUris, [`${env.PORTICO_PUBLIC_URL}/auth/callback`]);
  assert.equal(client.attributes['pkce.code.challenge.method'], 'S256');
  const roleMapper = client.protocolMappers.find((m) => m.protocolMapper === 'oidc-usermodel-realm-role-mapper');
  assert.equal(roleMapper.config['claim.name'], 'realm_access.roles', 'the default oidc.roles_claim');
  assert.equal(roleMapper.config['id.token.claim'], 'true', 'roles in the ID token');

  const users = Object.fromEntries(realm.users.map((u) => [u.username, u]));
  assert.deepEqual(users.alice.realmRoles, ['cpi-admin']);
  assert.deepEqual(users.bob.realmRoles, ['viewer']);
  assert.equal(users.alice.credentials[0].value, 'alice');
  assert.equal(users.bob.credentials[0].value, 'bob');
});

test('Caddy terminates TLS for the public URL and proxies to the portico service', () => {
  const env = porticoEnv({ PORTICO_COOKIE_SECRET: SECRET });
  const pub = new URL(env.PORTICO_PUBLIC_URL);
  assert.equal(pub.protocol, 'https:');
  assert.match(caddyfile, new RegExp(`^${pub.hostname} \\{`, 'm'), 'a site block for the public host');
  assert.match(caddyfile, /^\s*tls internal$/m);
  const r = checkStackConfig();
  assert.equal(r.status, 0, r.stderr);
  const port = r.stdout.match(/^ {2}listen: "0\.0\.0\.0:(\d+)"$/m)[1];
  assert.match(caddyfile, new RegExp(`reverse_proxy portico:${port} `));
  assert.ok(compose.services.portico.expose.includes(port));
  assert.match(caddyfile, /flush_interval -1/, 'SSE is not buffered');
  assert.ok(compose.services.caddy.volumes.includes('./Caddyfile:/etc/caddy/Caddyfile:ro'));
});

// soname → Debian bookworm runtime package.
const RUNTIME_PACKAGES = {
  'libcivetweb.so.1': 'libcivetweb1',
  'libsqlite3.so.0': 'libsqlite3-0',
  'libpq.so.5': 'libpq5',
  'libcjson.so.1': 'libcjson1',
  'libssl.so.3': 'libssl3',
  'libcrypto.so.3': 'libssl3',
  'libcurl.so.4': 'libcurl4',
  'libyaml-0.so.2': 'libyaml-0-2',
  'libz.so.1': 'zlib1g',
};
const BASE = ['libc.so.6', 'libm.so.6', 'libpthread.so.0', 'libdl.so.2', 'ld-linux-x86-64.so.2'];

function runtimeStage() {
  const stages = dockerfile.split(/^FROM /m);
  return stages[stages.length - 1];
}

test('Dockerfile: the runtime image installs a package for every library the binary links', () => {
  const installed = runtimeStage().match(/apt-get install[^&]*/s)[0].split(/\s+/).filter((w) => /^[a-z0-9][a-z0-9.+-]+$/.test(w));
  for (const pkg of new Set(Object.values(RUNTIME_PACKAGES))) assert.ok(installed.includes(pkg), `runtime stage lacks ${pkg}`);
  const dyn = execFileSync('objdump', ['-p', BIN], { encoding: 'utf8' });
  const needed = [...dyn.matchAll(/NEEDED\s+(\S+)/g)].map((m) => m[1]);
  assert.ok(needed.length > 3);
  for (const lib of needed) {
    if (BASE.includes(lib)) continue;
    // Sanitizer runtimes appear only in `make asan` builds, never in the image.
    if (/^lib(asan|ubsan|lsan|tsan)\.so/.test(lib)) continue;
    assert.ok(RUNTIME_PACKAGES[lib], `build/portico needs ${lib}: add its package to docker/Dockerfile's runtime stage and to this table`);
  }
});

test('Dockerfile: slim runtime, non-root, healthcheck on /healthz, the binary only', () => {
  assert.match(dockerfile, /^FROM node:20-bookworm AS ui$/m);
  assert.match(dockerfile, /^FROM debian:bookworm AS build$/m);
  const rt = runtimeStage();
  assert.match(rt, /^debian:bookworm-slim\n/);
  assert.match(rt, /^USER portico:portico$/m);
  assert.match(rt, /^HEALTHCHECK [^\n]*\\\n\s+CMD \["curl", "-fsS", "-o", "\/dev\/null", "http:\/\/127\.0\.0\.1:8080\/healthz"\]$/m);
  assert.match(rt, /^EXPOSE 8080$/m);
  const copies = rt.match(/^COPY .*$/gm);
  assert.deepEqual(copies, ['COPY --from=build /src/build/portico /usr/local/bin/portico']);
  assert.match(rt, /^ENTRYPOINT \["\/usr\/local\/bin\/portico"\]$/m);
});
