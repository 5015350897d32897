/*
 * oidc.c — OpenID Connect sign-in and Bearer JWTs.
 *
 *  - Discovery (<issuer>/.well-known/openid-configuration) and the JWKS are
 *    fetched with httpclient.c (timeouts: oidc.http_timeout_ms), cached for
 *    OIDC_METADATA_TTL_S and refreshed by a background thread; while the
 *    provider is down the last good keys stay in use for up to
 *    OIDC_KEYS_STALE_MAX_S past their TTL. Portico starts without the
 *    provider: the thread retries discovery every OIDC_RETRY_S and
 *    oidc_ready() (readiness) is false until it succeeds. A token whose kid
 *    is unknown refreshes the JWKS at once, at most every OIDC_KID_REFRESH_S.
 *  - GET /auth/login: state, nonce and a PKCE S256 verifier go into the
 *    signed, short-lived `portico_oidc` cookie (HMAC-SHA-256 keyed by
 *    session.cookie_secret), then 302 to the authorization endpoint.
 *  - GET /auth/callback: cookie signature and expiry, state (constant time,
 *    single use through the oidc_states table), code exchange (client_secret
 *    basic or post), ID token verification (jwt.c), role mapping, session.
 *    Every failure is a small HTML page with the reason and a link to try
 *    again; nothing here ever redirects back to the provider on its own.
 *  - Bearer JWTs for /v1 (oidc_verify_bearer), the end-session URL for
 *    logout, and `portico oidc check`.
 *
 * Threading: the provider metadata and the key set are reference-counted
 * snapshots; the pointers to the current ones (and the timestamps next to
 * them) are guarded by `state_lock`, held only to swap or take a reference.
 * Network fetches are serialised by `fetch_lock` (taken before state_lock,
 * never after), so a burst of requests with an unknown kid makes one fetch.
 * `cfg`, `enabled` and the role map are written by oidc_init before the
 * server starts and read-only afterwards.
 */
#define _GNU_SOURCE
#include "portico/oidc.h"

#include <civetweb.h>
#include <cJSON.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "portico/audit.h"
#include "portico/config.h"
#include "portico/cookie.h"
#include "portico/crypto.h"
#include "portico/db.h"
#include "portico/http.h"
#include "portico/httpclient.h"
#include "portico/json.h"
#include "portico/jwt.h"
#include "portico/limits.h"
#include "portico/log.h"
#include "portico/rbac.h"
#include "portico/session.h"
#include "portico/tenant.h"
#include "portico/util.h"
#include "portico/worker.h"

#define OIDC_COOKIE "portico_oidc"
#define OIDC_RANDOM_BYTES 32
#define OIDC_RANDOM_LEN 43 /* base64url of 32 bytes */
#define OIDC_DEFAULT_RETURN_TO "/console/"
#define OIDC_COOKIE_MAX 4096
#define OIDC_URL_MAX 8192

static const char SQL_STATE_USE[] =
    "INSERT INTO oidc_states (state_hash, expires_at) VALUES ($1, $2) "
    "ON CONFLICT (state_hash) DO NOTHING";
static const char SQL_STATE_PURGE[] = "DELETE FROM oidc_states WHERE expires_at < $1";

/* ---- shared state ------------------------------------------------------- */

struct provider {
    atomic_int refs;
    char *issuer;
    char *authorization_endpoint;
    char *token_endpoint;
    char *jwks_uri;
    char *end_session_endpoint; /* NULL when the provider has none */
    char *auth_method;          /* the client authentication we use */
};

struct role_pair {
    char idp[128];
    enum role role;
};

static bool enabled;
static struct role_pair role_map[OIDC_ROLE_MAP_MAX];
static int role_map_count;

static pthread_mutex_t state_lock = PTHREAD_MUTEX_INITIALIZER;
static struct provider *meta;   /* state_lock */
static int64_t meta_at_ms;      /* state_lock; monotonic */
static struct jwt_keyset *keys; /* state_lock */
static int64_t keys_at_ms;      /* state_lock; monotonic */
static atomic_bool discovered;  /* discovery has succeeded at least once */

static pthread_mutex_t fetch_lock = PTHREAD_MUTEX_INITIALIZER;
static int64_t discovery_try_ms = -1; /* fetch_lock */
static int64_t kid_refresh_ms = -1;   /* fetch_lock */
static char last_problem[256];        /* fetch_lock: logged once per change */

static struct worker refresher = WORKER_INIT;

static int64_t mono_ms(void)
{
    return worker_now_ms();
}

static void provider_put(struct provider *p)
{
    if (!p || atomic_fetch_sub(&p->refs, 1) != 1) return;
    free(p->issuer);
    free(p->authorization_endpoint);
    free(p->token_endpoint);
    free(p->jwks_uri);
    free(p->end_session_endpoint);
    free(p->auth_method);
    free(p);
}

/* The current provider metadata with a reference the caller drops with
 * provider_put, or NULL before discovery succeeded. */
static struct provider *provider_get(void)
{
    pthread_mutex_lock(&state_lock);
    struct provider *p = meta;
    if (p) atomic_fetch_add(&p->refs, 1);
    pthread_mutex_unlock(&state_lock);
    return p;
}

/* The current key set with a reference the caller drops with
 * jwt_keyset_unref, or NULL (none yet, or too stale to trust). */
static struct jwt_keyset *keys_get(void)
{
    pthread_mutex_lock(&state_lock);
    struct jwt_keyset *ks = NULL;
    if (keys && mono_ms() - keys_at_ms <= (OIDC_METADATA_TTL_S + OIDC_KEYS_STALE_MAX_S) * 1000LL)
        ks = jwt_keyset_ref(keys);
    pthread_mutex_unlock(&state_lock);
    return ks;
}

/* Logs a provider problem once (until it changes or clears). fetch_lock held. */
static void note_problem(const char *what)
{
    if (!what) {
        if (last_problem[0]) log_info("oidc: the provider is reachable again");
        last_problem[0] = '\0';
        return;
    }
    if (strcmp(what, last_problem) == 0) return;
    util_copy(last_problem, sizeof last_problem, what);
    log_warn("oidc: %s", what);
}

/* ---- small helpers ------------------------------------------------------ */

static bool is_unreserved(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '.' || c == '_' || c == '~';
}

/* Appends s percent-encoded (RFC 3986 unreserved characters kept). */
static void url_encode(struct strbuf *b, const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (is_unreserved(*p)) {
            strbuf_append(b, (const char *)p, 1);
        } else {
            char e[3] = {'%', hex[*p >> 4], hex[*p & 15]};
            strbuf_append(b, e, 3);
        }
    }
}

static void html_escape(struct strbuf *b, const char *s)
{
    for (const char *p = s; *p; p++) {
        switch (*p) {
        case '&': strbuf_puts(b, "&amp;"); break;
        case '<': strbuf_puts(b, "&lt;"); break;
        case '>': strbuf_puts(b, "&gt;"); break;
        case '"': strbuf_puts(b, "&quot;"); break;
        case '\'': strbuf_puts(b, "&#39;"); break;
        default: strbuf_append(b, p, 1);
        }
    }
}

static int random_token(char out[OIDC_RANDOM_LEN + 1])
{
    unsigned char raw[OIDC_RANDOM_BYTES];
    if (crypto_random(raw, sizeof raw) != 0) return -1;
    crypto_b64url_encode(raw, sizeof raw, out);
    return 0;
}

/* A local path Portico may redirect to after sign-in: one leading "/", not
 * "//" or "/\" (both mean another host to browsers), no backslashes or
 * control characters anywhere, valid UTF-8, at most OIDC_RETURN_TO_MAX. */
static bool return_to_ok(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > OIDC_RETURN_TO_MAX || s[0] != '/') return false;
    if (s[1] == '/' || s[1] == '\\') return false;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x20 || c == 0x7f || c == '\\') return false;
    }
    return util_utf8_valid(s, n);
}

/* Appends a validated local path for a Location header: bytes outside
 * printable ASCII (and spaces, quotes) are percent-encoded. */
static void location_path(struct strbuf *b, const char *path)
{
    static const char hex[] = "0123456789ABCDEF";
    for (const unsigned char *p = (const unsigned char *)path; *p; p++) {
        if (*p > 0x20 && *p < 0x7f && *p != '"') {
            strbuf_append(b, (const char *)p, 1);
        } else {
            char e[3] = {'%', hex[*p >> 4], hex[*p & 15]};
            strbuf_append(b, e, 3);
        }
    }
}

static const char *public_url(void)
{
    return config_active()->server.public_url;
}

static void redirect_uri(char *out, size_t n)
{
    const char *base = public_url();
    size_t len = strlen(base);
    while (len > 0 && base[len - 1] == '/') len--;
    snprintf(out, n, "%.*s/auth/callback", (int)len, base);
}

/* ---- talking to the provider -------------------------------------------- */

/* GET url (form == NULL) or POST form as application/x-www-form-urlencoded,
 * with an optional "Authorization: ..." header line (httpclient_fetch's
 * contract: 0 with a response to clean up, or -1 with err). */
static int http_fetch(const char *url, const char *form, const char *authz,
                      struct httpclient_response *res, char *err, size_t errlen)
{
    struct httpclient_request rq = {
        .url = url,
        .body = form,
        .headers = {"Accept: application/json", authz},
        .timeout_ms = config_active()->oidc.http_timeout_ms,
        .max_bytes = OIDC_FETCH_MAX_BYTES,
    };
    return httpclient_fetch(&rq, res, err, errlen);
}

/* ---- discovery and keys ------------------------------------------------- */

/* An http(s) URL member of the discovery document, copied (caller frees), or NULL. */
static char *meta_url(const cJSON *doc, const char *name)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(doc, name);
    if (!cJSON_IsString(v)) return NULL;
    const char *s = v->valuestring;
    if (strncmp(s, "https://", 8) != 0 && strncmp(s, "http://", 7) != 0) return NULL;
    if (strlen(s) > 2048 || util_has_control(s, false)) return NULL;
    return util_strdup(s);
}

static bool list_has(const cJSON *arr, const char *s)
{
    const cJSON *v;
    cJSON_ArrayForEach(v, arr)
    {
        if (cJSON_IsString(v) && strcmp(v->valuestring, s) == 0) return true;
    }
    return false;
}

/* Fetches and validates the discovery document. 0 with *out (provider_put),
 * or -1 with a reason. `date` receives the response's Date header. */
static int fetch_discovery(struct provider **out, time_t *date, char *err, size_t errlen)
{
    char url[2200];
    size_t ilen = strlen(config_active()->oidc.issuer);
    while (ilen > 0 && config_active()->oidc.issuer[ilen - 1] == '/') ilen--;
    snprintf(url, sizeof url, "%.*s/.well-known/openid-configuration", (int)ilen,
             config_active()->oidc.issuer);
    struct httpclient_response res;
    cJSON *doc = NULL;
    struct provider *p = NULL;
    int rc = -1;
    if (http_fetch(url, NULL, NULL, &res, err, errlen) != 0) return -1;
    if (date) *date = res.date;
    if (res.status != 200) {
        snprintf(err, errlen, "%.300s answered HTTP %ld", url, res.status);
        goto out;
    }
    doc = res.body.data ? json_parse(res.body.data, res.body.len) : NULL;
    if (!cJSON_IsObject(doc)) {
        snprintf(err, errlen, "%.300s did not return a JSON object", url);
        goto out;
    }
    const cJSON *iss = cJSON_GetObjectItemCaseSensitive(doc, "issuer");
    if (!cJSON_IsString(iss) || strcmp(iss->valuestring, config_active()->oidc.issuer) != 0) {
        snprintf(err, errlen,
                 "the discovery issuer \"%.200s\" is not oidc.issuer \"%.200s\" (they must be "
                 "equal, trailing slash included)",
                 cJSON_IsString(iss) ? iss->valuestring : "", config_active()->oidc.issuer);
        goto out;
    }
    p = calloc(1, sizeof *p);
    if (!p) goto out;
    atomic_init(&p->refs, 1);
    p->issuer = util_strdup(iss->valuestring);
    p->authorization_endpoint = meta_url(doc, "authorization_endpoint");
    p->token_endpoint = meta_url(doc, "token_endpoint");
    p->jwks_uri = meta_url(doc, "jwks_uri");
    p->end_session_endpoint = meta_url(doc, "end_session_endpoint");
    if (!p->authorization_endpoint || !p->token_endpoint || !p->jwks_uri) {
        snprintf(err, errlen,
                 "the discovery document lacks an http(s) authorization_endpoint, token_endpoint "
                 "or jwks_uri");
        goto out;
    }
    /* Use the configured client authentication unless the provider lists
     * its methods and supports only the other one. */
    const char *method = config_active()->oidc.token_auth_method;
    const cJSON *methods =
        cJSON_GetObjectItemCaseSensitive(doc, "token_endpoint_auth_methods_supported");
    if (cJSON_IsArray(methods) && !list_has(methods, method)) {
        const char *other = strcmp(method, "client_secret_basic") == 0 ? "client_secret_post"
                                                                       : "client_secret_basic";
        if (list_has(methods, other)) method = other;
    }
    p->auth_method = util_strdup(method);
    if (!p->issuer || !p->auth_method) goto out;
    *out = p;
    p = NULL;
    rc = 0;
out:
    provider_put(p);
    cJSON_Delete(doc);
    strbuf_cleanup(&res.body);
    return rc;
}

/* Fetches the JWKS at uri. 0 with *out (jwt_keyset_unref), -1 with a reason. */
static int fetch_keys(const char *uri, struct jwt_keyset **out, char *err, size_t errlen)
{
    struct httpclient_response res;
    if (http_fetch(uri, NULL, NULL, &res, err, errlen) != 0) return -1;
    int rc = -1;
    if (res.status != 200) {
        snprintf(err, errlen, "%.300s answered HTTP %ld", uri, res.status);
    } else {
        char why[200];
        if (jwt_keyset_parse(res.body.data, res.body.len, out, why, sizeof why) == JWT_OK)
            rc = 0;
        else
            snprintf(err, errlen, "%.300s: %s", uri, why);
    }
    strbuf_cleanup(&res.body);
    return rc;
}

/* Refreshes the JWKS from the current metadata. fetch_lock held. */
static int refresh_keys_locked(void)
{
    struct provider *p = provider_get();
    if (!p) return -1;
    char err[300];
    struct jwt_keyset *ks = NULL;
    int rc = fetch_keys(p->jwks_uri, &ks, err, sizeof err);
    provider_put(p);
    if (rc != 0) {
        note_problem(err);
        return -1;
    }
    pthread_mutex_lock(&state_lock);
    struct jwt_keyset *old = keys;
    keys = ks;
    keys_at_ms = mono_ms();
    pthread_mutex_unlock(&state_lock);
    jwt_keyset_unref(old);
    return 0;
}

/* Runs discovery and the key fetch when they are due. fetch_lock held. */
static void refresh_due_locked(void)
{
    int64_t now = mono_ms();
    pthread_mutex_lock(&state_lock);
    bool meta_due = !meta || now - meta_at_ms >= OIDC_METADATA_TTL_S * 1000LL;
    bool keys_due = !keys || now - keys_at_ms >= OIDC_METADATA_TTL_S * 1000LL;
    pthread_mutex_unlock(&state_lock);
    if (meta_due) {
        char err[512];
        struct provider *p = NULL;
        discovery_try_ms = now;
        if (fetch_discovery(&p, NULL, err, sizeof err) != 0) {
            note_problem(err);
            if (!atomic_load(&discovered)) return;
        } else {
            pthread_mutex_lock(&state_lock);
            struct provider *old = meta;
            meta = p;
            meta_at_ms = now;
            pthread_mutex_unlock(&state_lock);
            provider_put(old);
            keys_due = true; /* the jwks_uri may have changed */
        }
    }
    if (keys_due && refresh_keys_locked() != 0) return;
    pthread_mutex_lock(&state_lock);
    bool have_keys = keys != NULL;
    pthread_mutex_unlock(&state_lock);
    if (have_keys && !atomic_load(&discovered)) {
        atomic_store(&discovered, true);
        log_info("oidc: provider %s discovered", config_active()->oidc.issuer);
    }
    if (have_keys) note_problem(NULL);
}

/* True once discovery succeeded; otherwise tries once more, at most every
 * OIDC_RETRY_S (callers: sign-in and Bearer requests). */
static bool ensure_discovered(void)
{
    if (atomic_load(&discovered)) return true;
    pthread_mutex_lock(&fetch_lock);
    if (!atomic_load(&discovered) &&
        (discovery_try_ms < 0 || mono_ms() - discovery_try_ms >= OIDC_RETRY_S * 1000LL))
        refresh_due_locked();
    pthread_mutex_unlock(&fetch_lock);
    return atomic_load(&discovered);
}

/* An unknown kid: refresh the keys now unless that happened recently. */
static void refresh_for_unknown_kid(void)
{
    pthread_mutex_lock(&fetch_lock);
    int64_t now = mono_ms();
    if (kid_refresh_ms < 0 || now - kid_refresh_ms >= OIDC_KID_REFRESH_S * 1000LL) {
        kid_refresh_ms = now;
        log_info("oidc: token signed with an unknown key; refreshing the JWKS");
        refresh_keys_locked();
    }
    pthread_mutex_unlock(&fetch_lock);
}

/* Waits, then refreshes what is due; oidc_init made the first attempt. */
static void *refresher_main(void *arg)
{
    (void)arg;
    for (;;) {
        int wait_s = atomic_load(&discovered) ? 15 : OIDC_RETRY_S;
        if (worker_sleep(&refresher, wait_s * 1000LL)) break;
        pthread_mutex_lock(&fetch_lock);
        refresh_due_locked();
        pthread_mutex_unlock(&fetch_lock);
    }
    return NULL;
}

/* ---- configuration ------------------------------------------------------ */

/* Parses oidc.role_map ("idp-role=portico-role, ..."); -1 with a message. */
static int parse_role_map(const char *text, FILE *err)
{
    role_map_count = 0;
    char *copy = util_strdup(text ? text : "");
    if (!copy) return -1;
    int rc = 0;
    char *save = NULL;
    for (char *tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        util_trim(tok);
        if (!*tok) continue;
        char *eq = strchr(tok, '=');
        if (!eq) {
            fprintf(err, "oidc.role_map: \"%s\" is not provider-role=portico-role\n", tok);
            rc = -1;
            continue;
        }
        *eq = '\0';
        char *idp = util_trim(tok), *mine = util_trim(eq + 1);
        enum role role = rbac_role_parse(mine);
        if (!*idp || role == ROLE_NONE) {
            fprintf(err,
                    "oidc.role_map: \"%s=%s\": the Portico role must be cpi-admin, tenant-admin, "
                    "devops or viewer\n",
                    idp, mine);
            rc = -1;
            continue;
        }
        if (role_map_count == OIDC_ROLE_MAP_MAX || strlen(idp) >= sizeof role_map[0].idp) {
            fprintf(err, "oidc.role_map: at most %d pairs, provider roles up to %zu bytes\n",
                    OIDC_ROLE_MAP_MAX, sizeof role_map[0].idp - 1);
            rc = -1;
            break;
        }
        util_copy(role_map[role_map_count].idp, sizeof role_map[0].idp, idp);
        role_map[role_map_count].role = role;
        role_map_count++;
    }
    free(copy);
    return rc;
}

int oidc_init(const struct config *config)
{
    enabled = config->oidc.issuer && config->oidc.issuer[0];
    if (!enabled) return 0;
    if (parse_role_map(config->oidc.role_map, stderr) != 0) return -1;
    if (httpclient_global_init() != 0) {
        log_error("oidc: cannot initialise libcurl");
        return -1;
    }
    /* Discovery once before Portico listens (each fetch bounded by
     * oidc.http_timeout_ms; a failed discovery skips the key fetch), so
     * /readyz tells the truth from the first request. Failure is not fatal:
     * the refresher retries every OIDC_RETRY_S. */
    pthread_mutex_lock(&fetch_lock);
    refresh_due_locked();
    pthread_mutex_unlock(&fetch_lock);
    return worker_start(&refresher, "oidc: discovery", refresher_main, NULL);
}

void oidc_cleanup(void)
{
    worker_stop(&refresher);
    pthread_mutex_lock(&state_lock);
    provider_put(meta);
    jwt_keyset_unref(keys);
    meta = NULL;
    keys = NULL;
    pthread_mutex_unlock(&state_lock);
    atomic_store(&discovered, false);
    if (enabled) httpclient_global_cleanup();
    enabled = false;
}

bool oidc_enabled(void)
{
    return enabled;
}

bool oidc_ready(void)
{
    return enabled && atomic_load(&discovered);
}

/* ---- tokens and roles --------------------------------------------------- */

/* Decodes and verifies token (signature by the kid key, refreshing the JWKS
 * once for an unknown kid, then claims). 0 with *out (jwt_cleanup), else
 * -1 with a reason. */
static int verify_token(const char *token, const struct jwt_expect *e, struct jwt *out, char *err,
                        size_t errlen)
{
    struct jwt t;
    if (jwt_decode(token, &t, err, errlen) != JWT_OK) return -1;
    int rc = -1;
    const struct jwt_key *key = NULL;
    struct jwt_keyset *ks = keys_get();
    int f = ks ? jwt_keyset_find(ks, t.kid, t.alg, &key, err, errlen) : JWT_ERR_NO_KEY;
    if (f == JWT_ERR_NO_KEY && t.kid) {
        jwt_keyset_unref(ks);
        refresh_for_unknown_kid();
        ks = keys_get();
        f = ks ? jwt_keyset_find(ks, t.kid, t.alg, &key, err, errlen) : JWT_ERR_NO_KEY;
    }
    if (f != JWT_OK) {
        if (!ks) snprintf(err, errlen, "the provider's signing keys are not available");
        goto out;
    }
    if (jwt_verify_signature(&t, key, err, errlen) != JWT_OK) goto out;
    if (jwt_check_claims(&t, e, err, errlen) != JWT_OK) goto out;
    *out = t;
    memset(&t, 0, sizeof t);
    rc = 0;
out:
    jwt_keyset_unref(ks);
    jwt_cleanup(&t);
    return rc;
}

static enum role role_of(const char *name)
{
    enum role best = rbac_role_parse(name);
    for (int i = 0; i < role_map_count; i++)
        if (strcmp(role_map[i].idp, name) == 0 && role_map[i].role > best) best = role_map[i].role;
    return best;
}

/* The best Portico role in claims' roles claim; *found tells whether the
 * claim exists at all. The enum order is the privilege order. */
static enum role map_roles(const cJSON *claims, bool *found)
{
    const cJSON *v = jwt_claim_path(claims, config_active()->oidc.roles_claim);
    enum role best = ROLE_NONE;
    *found = v != NULL;
    if (cJSON_IsString(v))
        return role_of(v->valuestring); // NOLINT(clang-analyzer-core.NullDereference)
    const cJSON *item;
    if (cJSON_IsArray(v)) {
        cJSON_ArrayForEach(item, v)
        {
            if (!cJSON_IsString(item)) continue;
            enum role r = role_of(item->valuestring);
            if (r > best) best = r;
        }
    }
    return best;
}

static void copy_claim(const cJSON *claims, const char *name, char *out, size_t n)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(claims, name);
    if (cJSON_IsString(v) && util_utf8_valid(v->valuestring, strlen(v->valuestring)) &&
        !util_has_control(v->valuestring, false))
        util_copy(out, n, v->valuestring);
}

/* Fills p's identity (not the role) from claims. 0 ok, -1 bad tenant claim. */
static int principal_identity(const cJSON *claims, struct principal *p, char *err, size_t errlen)
{
    copy_claim(claims, "sub", p->subject, sizeof p->subject);
    copy_claim(claims, "name", p->name, sizeof p->name);
    if (!p->name[0]) copy_claim(claims, "preferred_username", p->name, sizeof p->name);
    copy_claim(claims, "email", p->email, sizeof p->email);
    util_copy(p->tenant_id, sizeof p->tenant_id, "default");
    const cJSON *t = cJSON_GetObjectItemCaseSensitive(claims, "tenant");
    if (cJSON_IsArray(t) && cJSON_GetArraySize(t) == 1) t = cJSON_GetArrayItem(t, 0);
    if (t) {
        if (!cJSON_IsString(t) || !tenant_id_valid(t->valuestring)) {
            snprintf(err, errlen,
                     "the tenant claim is not a valid tenant id (1..%d letters, digits, '-', '_' "
                     "or '.')",
                     AUTH_TENANT_MAX);
            return -1;
        }
        util_copy(p->tenant_id, sizeof p->tenant_id, t->valuestring);
    }
    if (!p->subject[0]) {
        snprintf(err, errlen, "the token subject (sub) is not usable");
        return -1;
    }
    return 0;
}

/* True (with the reason) when a verified token carries the marks of an ID
 * token: a nonce claim, a typ claim "ID" (Keycloak), or an audience that
 * names our client_id (the ID token's audience) while oidc.audience is a
 * different value. ID tokens prove a sign-in to this client; they are not
 * API credentials. */
static bool id_token_marked(const struct jwt *t, char *err, size_t errlen)
{
    if (cJSON_GetObjectItemCaseSensitive(t->claims, "nonce")) {
        snprintf(err, errlen, "an ID token (it has a nonce claim) is not an API credential");
        return true;
    }
    const cJSON *typ = cJSON_GetObjectItemCaseSensitive(t->claims, "typ");
    if (cJSON_IsString(typ) && strcasecmp(typ->valuestring, "ID") == 0) {
        snprintf(err, errlen, "an ID token (typ ID) is not an API credential");
        return true;
    }
    if (strcmp(config_active()->oidc.audience, config_active()->oidc.client_id) == 0) return false;
    const cJSON *aud = cJSON_GetObjectItemCaseSensitive(t->claims, "aud");
    const cJSON *item;
    bool ours =
        cJSON_IsString(aud) && strcmp(aud->valuestring, config_active()->oidc.client_id) == 0;
    if (cJSON_IsArray(aud)) {
        cJSON_ArrayForEach(item, aud)
        {
            if (cJSON_IsString(item) &&
                strcmp(item->valuestring, config_active()->oidc.client_id) == 0)
                ours = true;
        }
    }
    if (ours)
        snprintf(err, errlen,
                 "a token whose audience is the client_id is an ID token, not an "
                 "API credential");
    return ours;
}

int oidc_verify_bearer(const char *token, struct principal *p)
{
    if (!enabled || !jwt_is_compact(token)) return 1;
    char err[300];
    if (!ensure_discovered()) {
        log_info("oidc: Bearer JWT refused: the provider has not been discovered yet");
        return -1;
    }
    /* Without oidc.audience there is no audience that marks a token as
     * meant for this API (the client_id is the ID tokens' audience), so
     * Bearer JWTs are refused rather than accepting ID tokens. */
    if (!config_active()->oidc.audience[0]) {
        log_info("oidc: Bearer JWT refused: oidc.audience is not set");
        return -1;
    }
    struct jwt_expect e = {
        .issuer = config_active()->oidc.issuer,
        .audience = config_active()->oidc.audience,
        .now = util_now_ms() / 1000,
        .skew = config_active()->oidc.clock_skew_seconds,
        .id_token = false,
    };
    struct jwt t;
    if (verify_token(token, &e, &t, err, sizeof err) != 0) {
        log_info("oidc: Bearer JWT refused: %s", err);
        return -1;
    }
    struct principal q;
    memset(&q, 0, sizeof q);
    bool found;
    int rc = -1;
    if (id_token_marked(&t, err, sizeof err)) {
        log_info("oidc: Bearer JWT refused: %s", err);
        goto out;
    }
    if (principal_identity(t.claims, &q, err, sizeof err) != 0) {
        log_info("oidc: Bearer JWT refused: %s", err);
        goto out;
    }
    q.role = map_roles(t.claims, &found);
    if (q.role == ROLE_NONE) {
        log_info("oidc: Bearer JWT for %s refused: no Portico role in %s", q.subject,
                 config_active()->oidc.roles_claim);
        rc = 2;
        goto out;
    }
    q.type = AUTH_JWT;
    *p = q;
    rc = 0;
out:
    jwt_cleanup(&t);
    return rc;
}

void oidc_end_session_url(const char *id_token, char *out, size_t n)
{
    if (n) out[0] = '\0';
    if (!enabled) return;
    struct provider *p = provider_get();
    if (!p || !p->end_session_endpoint) {
        provider_put(p);
        return;
    }
    char post_logout[2200];
    if (config_active()->oidc.post_logout_redirect_uri[0]) {
        util_copy(post_logout, sizeof post_logout, config_active()->oidc.post_logout_redirect_uri);
    } else {
        const char *base = public_url();
        size_t len = strlen(base);
        while (len > 0 && base[len - 1] == '/') len--;
        snprintf(post_logout, sizeof post_logout, "%.*s/portal/", (int)len, base);
    }
    struct strbuf b;
    strbuf_init(&b, n);
    strbuf_puts(&b, p->end_session_endpoint);
    strbuf_puts(&b, strchr(p->end_session_endpoint, '?') ? "&" : "?");
    if (id_token && id_token[0]) {
        strbuf_puts(&b, "id_token_hint=");
        url_encode(&b, id_token);
        strbuf_puts(&b, "&");
    }
    strbuf_puts(&b, "post_logout_redirect_uri=");
    url_encode(&b, post_logout);
    strbuf_puts(&b, "&client_id=");
    url_encode(&b, config_active()->oidc.client_id);
    char *s = strbuf_take(&b);
    if (s) util_copy(out, n, s);
    free(s);
    provider_put(p);
}

/* ---- the portico_oidc cookie --------------------------------------------- */

struct flow {
    char state[OIDC_RANDOM_LEN + 1];
    char verifier[OIDC_RANDOM_LEN + 1];
    char nonce[OIDC_RANDOM_LEN + 1];
    char return_to[OIDC_RETURN_TO_MAX + 1];
    int64_t expires_ms;
};

static void flow_mac(const char *payload, size_t n, char out[CRYPTO_SHA256_LEN * 2])
{
    /* Domain-separated from other uses of the cookie secret. */
    struct strbuf b;
    strbuf_init(&b, OIDC_COOKIE_MAX + 32);
    strbuf_puts(&b, OIDC_COOKIE ":");
    strbuf_append(&b, payload, n);
    unsigned char mac[CRYPTO_SHA256_LEN];
    const char *key = config_active()->session.cookie_secret;
    crypto_hmac_sha256(key, strlen(key), b.data ? b.data : "", b.len, mac);
    crypto_b64url_encode(mac, sizeof mac, out);
    strbuf_cleanup(&b);
}

/* The cookie value "<b64url(json)>.<b64url(hmac)>" into out; 0 on success. */
static int flow_encode(const struct flow *f, char *out, size_t n)
{
    cJSON *o = cJSON_CreateObject();
    char *json = NULL, *payload = NULL;
    int rc = -1;
    if (!o) return -1;
    cJSON_AddStringToObject(o, "s", f->state);
    cJSON_AddStringToObject(o, "v", f->verifier);
    cJSON_AddStringToObject(o, "n", f->nonce);
    cJSON_AddStringToObject(o, "r", f->return_to);
    cJSON_AddNumberToObject(o, "e", (double)f->expires_ms);
    json = json_print(o);
    if (!json) goto out;
    size_t jlen = strlen(json);
    payload = malloc(4 * (jlen / 3 + 1) + 1);
    if (!payload) goto out;
    size_t plen = crypto_b64url_encode(json, jlen, payload);
    char mac[CRYPTO_SHA256_LEN * 2];
    flow_mac(payload, plen, mac);
    int w = snprintf(out, n, "%s.%s", payload, mac);
    if (w > 0 && (size_t)w < n) rc = 0;
out:
    free(payload);
    free(json);
    cJSON_Delete(o);
    return rc;
}

static bool copy_field(const cJSON *o, const char *name, char *out, size_t n)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
    return cJSON_IsString(v) && util_copy(out, n, v->valuestring);
}

/* Verifies and parses the cookie value. 0 ok, -1 forged or malformed,
 * -2 expired (f->return_to is still filled when readable). */
static int flow_decode(const char *value, struct flow *f)
{
    memset(f, 0, sizeof *f);
    const char *dot = strrchr(value, '.');
    if (!dot || dot == value) return -1;
    size_t plen = (size_t)(dot - value);
    char mac[CRYPTO_SHA256_LEN * 2];
    flow_mac(value, plen, mac);
    if (!crypto_streq(dot + 1, mac)) return -1;
    size_t jlen = 0;
    unsigned char *json = jwt_b64url_decode(value, plen, &jlen);
    cJSON *o = json ? json_parse((const char *)json, jlen) : NULL;
    free(json);
    int rc = -1;
    const cJSON *e = cJSON_GetObjectItemCaseSensitive(o, "e");
    if (!cJSON_IsObject(o) || !copy_field(o, "s", f->state, sizeof f->state) ||
        !copy_field(o, "v", f->verifier, sizeof f->verifier) ||
        !copy_field(o, "n", f->nonce, sizeof f->nonce) ||
        !copy_field(o, "r", f->return_to, sizeof f->return_to) || !cJSON_IsNumber(e) ||
        !return_to_ok(f->return_to))
        goto out;
    f->expires_ms = (int64_t)e->valuedouble;
    rc = util_now_ms() > f->expires_ms ? -2 : 0;
out:
    cJSON_Delete(o);
    return rc;
}

static void flow_cookie_header(struct strbuf *b, const char *value, int max_age)
{
    strbuf_printf(
        b, "Set-Cookie: " OIDC_COOKIE "=%s; Path=/auth/; Max-Age=%d; HttpOnly; SameSite=Lax%s\r\n",
        value, max_age, config_active()->session.cookie_secure ? "; Secure" : "");
}

/* ---- pages -------------------------------------------------------------- */

/* A plain HTML page (no script, no inline style) with a link to start over.
 * `extra` are header lines (clearing the flow cookie). */
static int send_page(struct req *r, int status, const char *title, const char *reason,
                     const char *return_to, const char *extra)
{
    struct strbuf b;
    strbuf_init(&b, 16384);
    strbuf_puts(&b, "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
                    "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
                    "<title>");
    html_escape(&b, title);
    strbuf_puts(&b, " — Portico</title></head>\n<body><main>\n<h1>");
    html_escape(&b, title);
    strbuf_puts(&b, "</h1>\n<p>");
    html_escape(&b, reason);
    strbuf_puts(&b, "</p>\n<p><a href=\"/auth/login?return_to=");
    struct strbuf link;
    strbuf_init(&link, 4 * OIDC_RETURN_TO_MAX);
    url_encode(&link, return_to && return_to_ok(return_to) ? return_to : OIDC_DEFAULT_RETURN_TO);
    html_escape(&b, link.data ? link.data : "");
    strbuf_cleanup(&link);
    strbuf_puts(&b, "\">Try signing in again</a> · <a href=\"/portal/\">Go to the portal</a></p>\n"
                    "</main></body></html>\n");
    char *html = strbuf_take(&b);
    int rc = http_send(r, status, "text/html; charset=utf-8", html ? html : "",
                       html ? strlen(html) : 0, extra);
    free(html);
    return rc;
}

/* A failed callback: audit, clear the flow cookie, show the page. */
static int callback_fail(struct req *r, int status, const char *subject, const char *title,
                         const char *reason, const char *return_to)
{
    log_info("oidc: sign-in failed (%d): %s", status, reason);
    audit_record_auth(r, "sign_in_failed", subject && subject[0] ? subject : "unknown");
    struct strbuf h;
    strbuf_init(&h, 512);
    flow_cookie_header(&h, "", 0);
    int rc = send_page(r, status, title, reason, return_to, h.data);
    strbuf_cleanup(&h);
    return rc;
}

static int not_configured(struct req *r)
{
    return send_page(r, 404, "Single sign-on is not configured",
                     "This Portico has no OpenID Connect provider (oidc.issuer). Sign in with an "
                     "API key instead.",
                     NULL, NULL);
}

/* ---- GET /auth/login ---------------------------------------------------- */

int oidc_handle_login(struct req *r)
{
    if (!enabled) return not_configured(r);
    struct flow f;
    memset(&f, 0, sizeof f);
    char rt[OIDC_RETURN_TO_MAX + 8];
    int n = http_query_param(r, "return_to", 0, rt, sizeof rt);
    util_copy(f.return_to, sizeof f.return_to,
              n > 0 && return_to_ok(rt) ? rt : OIDC_DEFAULT_RETURN_TO);

    if (!ensure_discovered())
        return send_page(r, 503, "Single sign-on is unavailable",
                         "Portico cannot reach the OpenID Connect provider right now. Try again in "
                         "a moment, or sign in with an API key.",
                         f.return_to, "Retry-After: 5\r\n");
    struct provider *p = provider_get();
    if (!p)
        return send_page(r, 503, "Single sign-on is unavailable",
                         "The OpenID Connect provider is not available.", f.return_to,
                         "Retry-After: 5\r\n");

    int rc;
    char cookie[OIDC_COOKIE_MAX], challenge[OIDC_RANDOM_LEN + 1], cb[2200];
    unsigned char digest[CRYPTO_SHA256_LEN];
    struct strbuf loc, hdr;
    strbuf_init(&loc, OIDC_URL_MAX);
    strbuf_init(&hdr, OIDC_URL_MAX + OIDC_COOKIE_MAX + 256);
    if (random_token(f.state) || random_token(f.nonce) || random_token(f.verifier)) {
        rc = http_send_error(r, 500, "internal", "no randomness available");
        goto out;
    }
    crypto_sha256(f.verifier, strlen(f.verifier), digest);
    crypto_b64url_encode(digest, sizeof digest, challenge);
    f.expires_ms = util_now_ms() + OIDC_FLOW_TTL_S * 1000LL;
    if (flow_encode(&f, cookie, sizeof cookie) != 0) {
        rc = http_send_error(r, 500, "internal", "cannot build the sign-in cookie");
        goto out;
    }
    redirect_uri(cb, sizeof cb);
    strbuf_puts(&loc, p->authorization_endpoint);
    strbuf_puts(&loc, strchr(p->authorization_endpoint, '?') ? "&" : "?");
    strbuf_puts(&loc, "response_type=code&client_id=");
    url_encode(&loc, config_active()->oidc.client_id);
    strbuf_puts(&loc, "&redirect_uri=");
    url_encode(&loc, cb);
    strbuf_puts(&loc, "&scope=");
    url_encode(&loc, config_active()->oidc.scopes);
    strbuf_puts(&loc, "&state=");
    strbuf_puts(&loc, f.state);
    strbuf_puts(&loc, "&nonce=");
    strbuf_puts(&loc, f.nonce);
    strbuf_puts(&loc, "&code_challenge=");
    strbuf_puts(&loc, challenge);
    strbuf_puts(&loc, "&code_challenge_method=S256");
    if (loc.failed) {
        rc = http_send_error(r, 500, "internal", "the authorization URL is too long");
        goto out;
    }
    strbuf_printf(&hdr, "Location: %s\r\n", loc.data);
    flow_cookie_header(&hdr, cookie, OIDC_FLOW_TTL_S);
    if (hdr.failed) {
        rc = http_send_error(r, 500, "internal", "the redirect is too long");
        goto out;
    }
    rc = http_send(r, 302, "text/html; charset=utf-8", NULL, 0, hdr.data);
out:
    strbuf_cleanup(&loc);
    strbuf_cleanup(&hdr);
    provider_put(p);
    return rc;
}

/* ---- GET /auth/callback ------------------------------------------------- */

/* Marks the state used; 0 first use, 1 replay, or a db_err (> 1 never: the
 * error is returned negated). */
static int state_use(const char *state, int64_t expires_ms)
{
    char hash[CRYPTO_SHA256_HEX_LEN + 1];
    crypto_sha256_hex(state, strlen(state), hash);
    struct db *db = db_thread();
    int64_t now = util_now_ms();
    long affected = 0;
    enum db_err e = db_exec(db, SQL_STATE_PURGE, DB_ARGS(DBP_INT(now)), NULL);
    if (e == DB_OK)
        e = db_exec(db, SQL_STATE_USE, DB_ARGS(DBP_TEXT(hash), DBP_INT(expires_ms)), &affected);
    if (e != DB_OK) return -(int)e;
    return affected == 1 ? 0 : 1;
}

/* Appends "name=value&" form-encoded. */
static void form_add(struct strbuf *b, const char *name, const char *value)
{
    if (b->len) strbuf_puts(b, "&");
    strbuf_puts(b, name);
    strbuf_puts(b, "=");
    url_encode(b, value);
}

/* Exchanges the code. 0 with *tokens (cJSON_Delete), -1 with a reason. */
static int exchange_code(const struct provider *p, const char *code, const char *verifier,
                         cJSON **tokens, char *err, size_t errlen)
{
    char cb[2200];
    redirect_uri(cb, sizeof cb);
    struct strbuf form, cred;
    strbuf_init(&form, 16384);
    strbuf_init(&cred, 4096);
    char *authz = NULL;
    int rc = -1;
    struct httpclient_response res;
    memset(&res, 0, sizeof res);
    form_add(&form, "grant_type", "authorization_code");
    form_add(&form, "code", code);
    form_add(&form, "redirect_uri", cb);
    form_add(&form, "code_verifier", verifier);
    if (strcmp(p->auth_method, "client_secret_post") == 0) {
        form_add(&form, "client_id", config_active()->oidc.client_id);
        form_add(&form, "client_secret", config_active()->oidc.client_secret);
    } else {
        /* RFC 6749 2.3.1: both parts form-encoded before base64. */
        url_encode(&cred, config_active()->oidc.client_id);
        strbuf_puts(&cred, ":");
        url_encode(&cred, config_active()->oidc.client_secret);
        if (cred.failed) goto fail_size;
        size_t cap = 4 * (cred.len / 3 + 1) + 32;
        authz = malloc(cap + 32);
        if (!authz) goto fail_size;
        memcpy(authz, "Authorization: Basic ", 21);
        EVP_EncodeBlock((unsigned char *)authz + 21, (const unsigned char *)cred.data,
                        (int)cred.len);
    }
    if (form.failed) goto fail_size;
    if (http_fetch(p->token_endpoint, form.data, authz, &res, err, errlen) != 0) goto out;
    cJSON *j = res.body.data ? json_parse(res.body.data, res.body.len) : NULL;
    if (res.status != 200) {
        const cJSON *e = cJSON_GetObjectItemCaseSensitive(j, "error");
        const cJSON *d = cJSON_GetObjectItemCaseSensitive(j, "error_description");
        snprintf(err, errlen, "the provider's token endpoint answered HTTP %ld%s%.100s%s%.200s%s",
                 res.status, cJSON_IsString(e) ? " (" : "", cJSON_IsString(e) ? e->valuestring : "",
                 cJSON_IsString(d) ? ": " : "", cJSON_IsString(d) ? d->valuestring : "",
                 cJSON_IsString(e) ? ")" : "");
        cJSON_Delete(j);
        goto out;
    }
    if (!cJSON_IsObject(j) || !cJSON_IsString(cJSON_GetObjectItemCaseSensitive(j, "id_token"))) {
        snprintf(
            err, errlen,
            "the provider's token endpoint returned no id_token (is \"openid\" in oidc.scopes?)");
        cJSON_Delete(j);
        goto out;
    }
    *tokens = j;
    rc = 0;
    goto out;
fail_size:
    snprintf(err, errlen, "the token request is too large");
out:
    strbuf_cleanup(&res.body);
    strbuf_cleanup(&form);
    strbuf_cleanup(&cred);
    free(authz);
    return rc;
}

/* What the callback's steps share. Each step returns 0 to go on, or the
 * status of the error page it sent. */
struct callback {
    struct flow f;
    struct provider *p;
    cJSON *tokens;        /* the token endpoint's answer */
    const char *id_token; /* in tokens */
    struct jwt idt, at;   /* the verified ID token and (maybe) access token */
    int64_t now;          /* seconds */
    struct principal pr;
    char subject[256];
};

/* The portico_oidc cookie set by GET /auth/login: present, signed, current. */
static int callback_read_flow(struct req *r, struct callback *c)
{
    const char *cookies = http_header(r, "Cookie");
    char value[OIDC_COOKIE_MAX];
    if (!cookies || cookie_get(cookies, OIDC_COOKIE, value, sizeof value) != COOKIE_FOUND)
        return callback_fail(r, 400, NULL, "Sign-in could not be completed",
                             "The sign-in cookie is missing. It expires after 10 minutes, and your "
                             "browser must accept cookies from Portico. Start again.",
                             NULL);
    int d = flow_decode(value, &c->f);
    if (d != 0)
        return callback_fail(
            r, 400, NULL, "Sign-in could not be completed",
            d == -2 ? "The sign-in took longer than 10 minutes and has expired. Start again."
                    : "The sign-in cookie is not valid (it was altered or signed with another "
                      "secret). Start again.",
            d == -2 ? c->f.return_to : NULL);
    return 0;
}

/* The state parameter is this browser's, and used once. */
static int callback_check_state(struct req *r, struct callback *c)
{
    char state[256];
    int sn = http_query_param(r, "state", 0, state, sizeof state);
    if (sn <= 0 || !crypto_secret_eq(state, c->f.state))
        return callback_fail(r, 400, NULL, "Sign-in could not be completed",
                             "The state returned by the provider does not match this browser's "
                             "sign-in (state mismatch). Start again.",
                             c->f.return_to);
    int st = state_use(c->f.state, c->f.expires_ms);
    if (st < 0)
        return callback_fail(r, 503, NULL, "Sign-in could not be completed",
                             "The database is unavailable; try again shortly.", c->f.return_to);
    if (st == 1)
        return callback_fail(
            r, 400, NULL, "Sign-in could not be completed",
            "This sign-in response was already used (state replayed). Start again.",
            c->f.return_to);
    return 0;
}

/* The provider's answer: our issuer (RFC 9207 mix-up defence), no error,
 * an authorization code (copied into code). */
static int callback_read_response(struct req *r, struct callback *c, char *code, size_t n)
{
    char iss[2200], err[512];
    if (http_query_param(r, "iss", 0, iss, sizeof iss) >= 0 &&
        strcmp(iss, config_active()->oidc.issuer) != 0)
        return callback_fail(r, 400, NULL, "Sign-in could not be completed",
                             "The response names another issuer than the configured provider (iss "
                             "mismatch). Start again.",
                             c->f.return_to);
    char perr[256], pdesc[512];
    if (http_query_param(r, "error", 0, perr, sizeof perr) >= 0) {
        if (http_query_param(r, "error_description", 0, pdesc, sizeof pdesc) < 0) pdesc[0] = '\0';
        if (!util_utf8_valid(perr, strlen(perr))) util_copy(perr, sizeof perr, "(unreadable)");
        if (!util_utf8_valid(pdesc, strlen(pdesc))) pdesc[0] = '\0';
        snprintf(err, sizeof err, "The identity provider reported an error: %.100s%s%.300s", perr,
                 pdesc[0] ? " — " : "", pdesc);
        return callback_fail(r, 400, NULL, "Sign-in was not completed", err, c->f.return_to);
    }
    if (http_query_param(r, "code", 0, code, n) <= 0)
        return callback_fail(r, 400, NULL, "Sign-in could not be completed",
                             "The provider's response has no authorization code.", c->f.return_to);
    return 0;
}

/* Trades the code (with the PKCE verifier) for tokens and verifies the ID
 * token (issuer, audience, nonce, lifetime). */
static int callback_redeem_code(struct req *r, struct callback *c, const char *code)
{
    char err[512], reason[700];
    if (!ensure_discovered() || !(c->p = provider_get()))
        return callback_fail(r, 502, NULL, "Sign-in could not be completed",
                             "Portico cannot reach the OpenID Connect provider.", c->f.return_to);
    if (exchange_code(c->p, code, c->f.verifier, &c->tokens, err, sizeof err) != 0) {
        snprintf(reason, sizeof reason, "Exchanging the authorization code failed: %s", err);
        return callback_fail(r, 502, NULL, "Sign-in could not be completed", reason,
                             c->f.return_to);
    }
    c->id_token = cJSON_GetObjectItemCaseSensitive(c->tokens, "id_token")->valuestring;
    c->now = util_now_ms() / 1000;
    struct jwt_expect e = {
        .issuer = config_active()->oidc.issuer,
        .audience = config_active()->oidc.client_id,
        .client_id = config_active()->oidc.client_id,
        .nonce = c->f.nonce,
        .now = c->now,
        .skew = config_active()->oidc.clock_skew_seconds,
        .id_token = true,
    };
    if (verify_token(c->id_token, &e, &c->idt, err, sizeof err) != 0) {
        snprintf(reason, sizeof reason, "The ID token from the provider is not valid: %s", err);
        return callback_fail(r, 400, NULL, "Sign-in could not be completed", reason,
                             c->f.return_to);
    }
    return 0;
}

/* Who signed in, and with which Portico role (from the ID token, else from
 * a genuine access token about the same user). */
static int callback_resolve_principal(struct req *r, struct callback *c)
{
    char err[512];
    struct principal *pr = &c->pr;
    if (principal_identity(c->idt.claims, pr, err, sizeof err) != 0)
        return callback_fail(r, 400, pr->subject, "Sign-in could not be completed", err,
                             c->f.return_to);
    util_copy(c->subject, sizeof c->subject, pr->subject);
    bool found = false;
    pr->role = map_roles(c->idt.claims, &found);
    const cJSON *atj = cJSON_GetObjectItemCaseSensitive(c->tokens, "access_token");
    if (!found && cJSON_IsString(atj) && jwt_is_compact(atj->valuestring)) {
        /* Keycloak puts realm roles in the access token by default. Its
         * audience is not ours to check, but it must be genuine and current,
         * and about the same user. */
        struct jwt_expect ea = {
            .issuer = config_active()->oidc.issuer,
            .now = c->now,
            .skew = config_active()->oidc.clock_skew_seconds,
        };
        const cJSON *asub;
        if (verify_token(atj->valuestring, &ea, &c->at, err, sizeof err) == 0 &&
            cJSON_IsString(asub = cJSON_GetObjectItemCaseSensitive(c->at.claims, "sub")) &&
            strcmp(asub->valuestring, pr->subject) == 0)
            pr->role = map_roles(c->at.claims, &found);
        else
            log_info("oidc: roles not taken from the access token: %s", err);
    }
    if (pr->role == ROLE_NONE) {
        char reason[600];
        snprintf(reason, sizeof reason,
                 "You signed in as %s, but your account has no Portico role. Ask an administrator "
                 "to give you one of cpi-admin, tenant-admin, devops or viewer (claim %s).",
                 pr->name[0] ? pr->name : pr->subject, config_active()->oidc.roles_claim);
        return callback_fail(r, 403, c->subject, "Your account has no Portico role", reason,
                             c->f.return_to);
    }
    pr->type = AUTH_SESSION;
    return 0;
}

/* Creates the session, records the sign-in and redirects to return_to. */
static int callback_start_session(struct req *r, struct callback *c)
{
    char set_cookie[1024];
    /* The raw ID token is kept only when logout will need it (as the
     * end-session id_token_hint), and only as long as the session. */
    const char *keep = c->p && c->p->end_session_endpoint ? c->id_token : NULL;
    if (session_create(&c->pr, keep, set_cookie, sizeof set_cookie) != 0)
        return callback_fail(r, 503, c->subject, "Sign-in could not be completed",
                             "Portico could not create your session (the database is unavailable). "
                             "Try again shortly.",
                             c->f.return_to);
    r->principal = c->pr;
    audit_record_auth(r, "sign_in", c->subject);
    log_info("oidc: %s signed in as %s (tenant %s)", c->subject, rbac_role_name(c->pr.role),
             c->pr.tenant_id);
    struct strbuf h;
    strbuf_init(&h, 8192);
    strbuf_puts(&h, "Location: ");
    location_path(&h, c->f.return_to);
    strbuf_puts(&h, "\r\n");
    strbuf_puts(&h, set_cookie);
    flow_cookie_header(&h, "", 0);
    int rc = h.failed ? http_send_error(r, 500, "internal", "the redirect is too long")
                      : http_send(r, 302, "text/html; charset=utf-8", NULL, 0, h.data);
    strbuf_cleanup(&h);
    return rc;
}

int oidc_handle_callback(struct req *r)
{
    if (!enabled) return not_configured(r);
    struct callback c;
    memset(&c, 0, sizeof c);
    char code[4096];
    int rc;
    if ((rc = callback_read_flow(r, &c)) == 0 && (rc = callback_check_state(r, &c)) == 0 &&
        (rc = callback_read_response(r, &c, code, sizeof code)) == 0 &&
        (rc = callback_redeem_code(r, &c, code)) == 0 &&
        (rc = callback_resolve_principal(r, &c)) == 0)
        rc = callback_start_session(r, &c);
    provider_put(c.p);
    jwt_cleanup(&c.idt);
    jwt_cleanup(&c.at);
    cJSON_Delete(c.tokens);
    return rc;
}

/* ---- portico oidc check ------------------------------------------------- */

int oidc_check_cli(const struct config *config)
{
    if (!config->oidc.issuer[0]) {
        fprintf(stderr, "oidc check: oidc.issuer is not set; OIDC sign-in is off\n");
        return 1;
    }
    if (parse_role_map(config->oidc.role_map, stderr) != 0) return 1;
    if (httpclient_global_init() != 0) return 1;
    int problems = 0, rc_ks = -1;
    char err[600];
    struct provider *p = NULL;
    struct jwt_keyset *ks = NULL;
    time_t date = 0;
    FILE *o = stdout;
    fprintf(o, "issuer:              %s\n", config->oidc.issuer);
    fprintf(o, "client id:           %s\n", config->oidc.client_id);
    if (fetch_discovery(&p, &date, err, sizeof err) != 0) {
        fprintf(o, "discovery:           FAILED: %s\n", err);
        problems++;
        goto summary;
    }
    fprintf(o, "discovery:           ok\n");
    fprintf(o, "  authorization:     %s\n", p->authorization_endpoint);
    fprintf(o, "  token:             %s (client authentication %s%s)\n", p->token_endpoint,
            p->auth_method,
            strcmp(p->auth_method, config->oidc.token_auth_method)
                ? ", not the configured one: the provider does not support it"
                : "");
    fprintf(o, "  end session:       %s\n",
            p->end_session_endpoint ? p->end_session_endpoint
                                    : "none (sign-out ends only the Portico session)");
    if (date > 0) {
        long diff = (long)(date - (time_t)(util_now_ms() / 1000));
        fprintf(o,
                "clock:               the provider is %ld s %s this machine (allowed skew %ld s)\n",
                labs(diff), diff >= 0 ? "ahead of" : "behind", config->oidc.clock_skew_seconds);
        if (labs(diff) > config->oidc.clock_skew_seconds) {
            fprintf(o, "  PROBLEM: the clocks differ by more than oidc.clock_skew_seconds; tokens "
                       "will be refused (sync with NTP)\n");
            problems++;
        }
    } else {
        fprintf(o, "clock:               unknown (the provider sent no Date header)\n");
    }
    rc_ks = fetch_keys(p->jwks_uri, &ks, err, sizeof err);
    if (rc_ks != 0) {
        fprintf(o, "jwks:                FAILED: %s\n", err);
        problems++;
    } else {
        fprintf(o, "jwks:                %zu usable signing key(s):", jwt_keyset_count(ks));
        for (size_t i = 0; i < jwt_keyset_count(ks); i++) {
            const struct jwt_key *k = jwt_keyset_key(ks, i);
            const char *type = k->type == JWT_KEY_RSA       ? "RSA (RS256/RS384/RS512/PS256)"
                               : k->type == JWT_KEY_EC_P256 ? "EC P-256 (ES256)"
                                                            : "EC P-384 (ES384)";
            fprintf(o, "%s kid=%s %s", i ? "," : "", k->kid[0] ? k->kid : "(none)",
                    k->alg[0] ? k->alg : type);
        }
        fputc('\n', o);
    }
summary : {
    char cb[2200];
    redirect_uri(cb, sizeof cb);
    fprintf(o, "redirect URI:        %s   <- register this at the provider\n", cb);
    if (config->public_url_derived)
        fprintf(o, "  note: server.public_url is derived from server.listen; set it to the URL "
                   "browsers use\n");
    fprintf(o, "post-logout URI:     %s%s\n",
            config->oidc.post_logout_redirect_uri[0] ? config->oidc.post_logout_redirect_uri
                                                     : config->server.public_url,
            config->oidc.post_logout_redirect_uri[0] ? "" : "/portal/");
    fprintf(o,
            "sign-in cookie:      " OIDC_COOKIE
            "; Path=/auth/; Max-Age=%d; HttpOnly; SameSite=Lax%s\n",
            OIDC_FLOW_TTL_S, config->session.cookie_secure ? "; Secure" : "");
    fprintf(o, "session cookie:      %s; Path=/; HttpOnly; SameSite=Lax%s\n",
            config->session.cookie_secure ? "__Host-portico_session" : "portico_session",
            config->session.cookie_secure ? "; Secure" : "");
    bool https = strncmp(config->server.public_url, "https://", 8) == 0;
    if (config->session.cookie_secure && !https) {
        fprintf(o, "  PROBLEM: session.cookie_secure is true but server.public_url is not "
                   "https://; browsers will drop the cookies\n");
        problems++;
    } else if (!config->session.cookie_secure && https) {
        fprintf(o, "  warning: session.cookie_secure is false on an https:// public URL\n");
    }
    fprintf(o, "roles:               claim %s; %d extra mapping(s)\n", config->oidc.roles_claim,
            role_map_count);
    if (!config->oidc.client_secret[0]) {
        fprintf(o, "  PROBLEM: oidc.client_secret is empty (a confidential client is required)\n");
        problems++;
    }
}
    fprintf(o, problems ? "result:              %d problem(s)\n" : "result:              ok\n",
            problems);
    jwt_keyset_unref(ks);
    provider_put(p);
    httpclient_global_cleanup();
    return problems ? 1 : 0;
}
