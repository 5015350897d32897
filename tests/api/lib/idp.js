// A real OpenID provider for tests: npm oidc-provider (v9) on 127.0.0.1, with
// a confidential client for Portico, test users with realm_access.roles, dev
// interactions (a login form any login/password passes) and PKCE. Signing keys
// are generated here with node:crypto and handed to the provider, so tests can
// also mint tokens with the provider's own keys (and claims of their choosing).
//
// The HTTP server is created first (its port gives the issuer URL, which
// Portico needs in its configuration), then a Provider is attached with
// configure() once Portico's callback URL is known. configure() again swaps
// in a new Provider (key rotation) on the same port; detach() makes the
// provider unreachable while the port stays reserved; close() stops it.
import http from 'node:http';
import net from 'node:net';
import { generateKeyPairSync, createHmac, sign as cryptoSign, constants, randomBytes } from 'node:crypto';
import Provider from 'oidc-provider';

export const CLIENT_ID = 'portico';
export const CLIENT_SECRET = 'portico-test-client-secret-0123456789';
export const AUTOMATION_ID = 'automation';
export const AUTOMATION_SECRET = 'automation-test-secret-0123456789';
export const API_AUDIENCE = 'portico-api';
export const API_RESOURCE = 'https://portico.test/api'; // resource indicator; its tokens have aud API_AUDIENCE

// Users: accountId → claims.
export const USERS = {
  alice: { name: 'Alice Admin', email: 'alice@example.test', realm_access: { roles: ['cpi-admin', 'offline_access'] } },
  bob: { name: 'Bob Builder', email: 'bob@example.test', realm_access: { roles: ['portal-devs'] }, tenant: 'acme' },
  carol: { name: 'Carol Nobody', email: 'carol@example.test', realm_access: { roles: ['uma_authorization'] } },
  dave: { name: 'Dave Двойной', email: 'dave@example.test', realm_access: { roles: ['viewer', 'tenant-admin'] }, tenant: 'acme' },
};

// A fresh RSA or EC signing key: { kid, alg, privateKey (KeyObject), publicKey, jwk (private, for the provider) }.
// `publishAlg` puts an "alg" into the JWK (providers like Keycloak do), which
// binds the key to that one algorithm.
export function makeKey(kind = 'RSA', kid = undefined, publishAlg = undefined) {
  const alg = kind === 'EC' ? 'ES256' : kind === 'EC384' ? 'ES384' : 'RS256';
  const { privateKey, publicKey } = kind === 'RSA'
    ? generateKeyPairSync('rsa', { modulusLength: 2048 })
    : generateKeyPairSync('ec', { namedCurve: kind === 'EC384' ? 'P-384' : 'P-256' });
  kid ||= `${kind.toLowerCase()}-${randomBytes(4).toString('hex')}`;
  const jwk = { ...privateKey.export({ format: 'jwk' }), kid, use: 'sig', ...(publishAlg ? { alg: publishAlg } : {}) };
  return { kid, alg, privateKey, publicKey, jwk };
}

const b64u = (buf) => Buffer.from(buf).toString('base64url');

// Signs a compact JWT. header.alg picks the algorithm: RS256/384/512, PS256,
// ES256/384 (with key.privateKey), HS256 with `hmacSecret`, or none.
export function mintJwt(header, claims, { key, hmacSecret } = {}) {
  const input = `${b64u(JSON.stringify(header))}.${b64u(JSON.stringify(claims))}`;
  const alg = header.alg;
  let sig;
  if (alg.toLowerCase() === 'none') sig = Buffer.alloc(0);
  else if (alg.startsWith('HS')) sig = createHmac('sha' + alg.slice(2), hmacSecret).update(input).digest();
  else if (alg.startsWith('RS')) sig = cryptoSign('sha' + alg.slice(2), Buffer.from(input), key.privateKey);
  else if (alg.startsWith('PS')) {
    sig = cryptoSign('sha' + alg.slice(2), Buffer.from(input), {
      key: key.privateKey, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: constants.RSA_PSS_SALTLEN_DIGEST,
    });
  } else if (alg.startsWith('ES')) {
    sig = cryptoSign('sha' + alg.slice(2), Buffer.from(input), { key: key.privateKey, dsaEncoding: 'ieee-p1363' });
  } else throw new Error('unknown alg ' + alg);
  return `${input}.${b64u(sig)}`;
}

// A free TCP port on 127.0.0.1 (for a provider that must be down).
export async function freePort() {
  return new Promise((res, rej) => {
    const s = net.createServer();
    s.on('error', rej);
    s.listen(0, '127.0.0.1', () => { const { port } = s.address(); s.close(() => res(port)); });
  });
}

export class Idp {
  constructor() {
    this.handler = null;
    this.requests = []; // paths requested, for assertions (JWKS fetch counts)
    this.tokenRequests = []; // {basic, body} of each POST /token, for client authentication checks
    this.server = http.createServer((req, res) => {
      this.requests.push(req.url);
      if (req.method === 'POST' && req.url === '/token') {
        const entry = { basic: /^Basic /i.test(req.headers.authorization || ''), body: '' };
        this.tokenRequests.push(entry);
        req.on('data', (d) => { entry.body += d.toString(); });
      }
      if (!this.handler) {
        res.writeHead(503, { 'content-type': 'text/plain' });
        res.end('provider not configured');
        return;
      }
      this.handler(req, res);
    });
    this.sockets = new Set();
    this.server.on('connection', (s) => { this.sockets.add(s); s.on('close', () => this.sockets.delete(s)); });
  }

  // Listens on `port` (0 = any); sets this.issuer.
  async listen(port = 0) {
    await new Promise((res, rej) => {
      this.server.once('error', rej);
      this.server.listen(port, '127.0.0.1', res);
    });
    this.port = this.server.address().port;
    this.issuer = `http://127.0.0.1:${this.port}`;
    return this;
  }

  // (Re)builds the provider with the given keys and Portico's URLs.
  // rolesInAccessToken: like Keycloak's defaults, realm_access is left out of
  // the ID token and put into a JWT access token (aud API_AUDIENCE) instead.
  // endSession: false = no end_session_endpoint (RP-initiated logout off).
  configure({ keys, redirectUris, postLogoutUris = [], users = USERS, idTokenAlg = 'RS256', rolesInAccessToken = false, tokenAuthMethod = 'client_secret_basic', endSession = true }) {
    this.keys = keys;
    const provider = new Provider(this.issuer, {
      clients: [
        {
          client_id: CLIENT_ID,
          client_secret: CLIENT_SECRET,
          redirect_uris: redirectUris,
          post_logout_redirect_uris: postLogoutUris,
          grant_types: ['authorization_code'],
          response_types: ['code'],
          token_endpoint_auth_method: tokenAuthMethod,
          id_token_signed_response_alg: idTokenAlg,
        },
        {
          client_id: AUTOMATION_ID,
          client_secret: AUTOMATION_SECRET,
          redirect_uris: [],
          response_types: [],
          grant_types: ['client_credentials'],
          token_endpoint_auth_method: 'client_secret_basic',
        },
      ],
      jwks: { keys: keys.map((k) => k.jwk) },
      pkce: { required: () => true },
      conformIdTokenClaims: false,
      claims: {
        openid: rolesInAccessToken ? ['sub', 'tenant'] : ['sub', 'realm_access', 'tenant'],
        profile: ['name', 'preferred_username'],
        email: ['email'],
      },
      findAccount: async (ctx, id) => (users[id] ? { accountId: id, claims: async () => ({ sub: id, preferred_username: id, ...users[id] }) } : undefined),
      features: {
        devInteractions: { enabled: true },
        clientCredentials: { enabled: true },
        rpInitiatedLogout: { enabled: endSession },
        resourceIndicators: {
          enabled: true,
          defaultResource: (ctx, client) => (client.clientId === AUTOMATION_ID || rolesInAccessToken ? API_RESOURCE : undefined),
          useGrantedResource: () => true,
          getResourceServerInfo: () => ({ scope: 'api', audience: API_AUDIENCE, accessTokenFormat: 'jwt', jwt: { sign: { alg: 'RS256' } } }),
        },
      },
      extraTokenClaims: async (ctx, token) => {
        if (token.clientId === AUTOMATION_ID) return { realm_access: { roles: ['viewer'] }, tenant: 'acme' };
        if (rolesInAccessToken && users[token.accountId]) return { realm_access: users[token.accountId].realm_access };
        return undefined;
      },
    });
    provider.on('server_error', (ctx, err) => { this.lastError = err; });
    this.provider = provider;
    this.handler = provider.callback();
    return this;
  }

  // Answers 503 to everything (keys and sessions are dropped).
  detach() { this.handler = null; this.provider = null; }

  // Stops listening and drops open connections (the provider is then down).
  async close() {
    for (const s of this.sockets) s.destroy();
    await new Promise((res) => this.server.close(() => res()));
  }

  count(pathPrefix) { return this.requests.filter((u) => u.startsWith(pathPrefix)).length; }
}

// Starts a provider: listens, then configures it when opts has redirectUris.
export async function startIdp(opts = {}) {
  const idp = new Idp();
  await idp.listen(opts.port || 0);
  if (opts.redirectUris) idp.configure(opts);
  return idp;
}

// ---- a scripted browser ---------------------------------------------------

// A cookie jar with browser-like rules that matter here: per origin, by
// (name, path), path-prefix matching, Max-Age=0 deletes.
export class CookieJar {
  constructor() { this.cookies = new Map(); }

  store(url, res) {
    const u = new URL(url);
    for (const line of res.headers.getSetCookie()) {
      const [pair, ...attrs] = line.split(';').map((s) => s.trim());
      const eq = pair.indexOf('=');
      const name = pair.slice(0, eq), value = pair.slice(eq + 1);
      let path = '/', maxAge;
      for (const a of attrs) {
        const [k, v] = a.split('=');
        if (k.toLowerCase() === 'path') path = v;
        if (k.toLowerCase() === 'max-age') maxAge = Number(v);
        if (k.toLowerCase() === 'expires' && Date.parse(v) < Date.now()) maxAge = 0;
      }
      const key = `${u.host}|${name}|${path}`;
      if (maxAge !== undefined && maxAge <= 0) this.cookies.delete(key);
      else this.cookies.set(key, { host: u.host, name, value, path });
    }
  }

  header(url) {
    const u = new URL(url);
    const out = [];
    for (const c of this.cookies.values()) {
      if (c.host !== u.host) continue;
      if (!(u.pathname === c.path || u.pathname.startsWith(c.path.endsWith('/') ? c.path : c.path + '/'))) continue;
      out.push(`${c.name}=${c.value}`);
    }
    return out.join('; ');
  }

  get(host, name) {
    for (const c of this.cookies.values()) if (c.host === host && c.name === name) return c.value;
    return undefined;
  }

  set(host, name, value, path = '/') { this.cookies.set(`${host}|${name}|${path}`, { host, name, value, path }); }
}

// One request with the jar, no automatic redirects.
export async function jarFetch(jar, url, { method = 'GET', body, headers = {} } = {}) {
  const h = { ...headers };
  const c = jar.header(url);
  if (c) h.cookie = c;
  if (body !== undefined && typeof body !== 'string') {
    body = new URLSearchParams(body).toString();
    h['content-type'] = 'application/x-www-form-urlencoded';
  }
  const res = await fetch(url, { method, headers: h, body, redirect: 'manual', signal: AbortSignal.timeout(10000) });
  jar.store(url, res);
  const text = await res.text();
  return { status: res.status, headers: res.headers, text, url };
}

// Follows the provider's redirects and interaction forms (login as `login`,
// then consent) from the authorization URL until the provider redirects to
// `callbackPrefix`; returns that callback URL (not requested).
export async function signInAtProvider(jar, authUrl, login, callbackPrefix) {
  let url = authUrl;
  for (let i = 0; i < 20; i++) {
    const res = await jarFetch(jar, url);
    if (res.status >= 300 && res.status < 400) {
      const next = new URL(res.headers.get('location'), url).toString();
      if (next.startsWith(callbackPrefix)) return next;
      url = next;
      continue;
    }
    if (res.status !== 200) throw new Error(`provider answered ${res.status} at ${url}: ${res.text.slice(0, 500)}`);
    const action = res.text.match(/<form[^>]*action="([^"]+)"/);
    if (!action) throw new Error(`no form at ${url}: ${res.text.slice(0, 500)}`);
    const submit = new URL(action[1].replace(/&amp;/g, '&'), url).toString();
    const form = res.text.includes('name="login"')
      ? { prompt: 'login', login, password: 'any-password' }
      : { prompt: 'consent' };
    const post = await jarFetch(jar, submit, { method: 'POST', body: form });
    if (post.status < 300 || post.status >= 400) throw new Error(`form post answered ${post.status}: ${post.text.slice(0, 500)}`);
    url = new URL(post.headers.get('location'), submit).toString();
    if (url.startsWith(callbackPrefix)) return url;
  }
  throw new Error('too many redirects at the provider');
}
