/*
 * auth.c — who is calling. Credential order: session cookie, X-API-Key,
 * Authorization: Bearer (a JWT when OIDC is on, else an API key). A
 * credential that is present but bad answers 401 invalid_token and is never
 * downgraded to anonymous; no later credential is tried. Also: gateway keys
 * (X-Gateway-Key), CSRF and Origin checks, GET /v1/whoami, GET /v1/auth/config.
 *
 * Threading: `gateway_keys` is written by auth_init before the
 * server starts and read-only afterwards.
 */
#define _GNU_SOURCE
#include "portico/auth.h"

#include <civetweb.h>
#include <cJSON.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "portico/apikeys.h"
#include "portico/config.h"
#include "portico/cookie.h"
#include "portico/crypto.h"
#include "portico/db.h"
#include "portico/http.h"
#include "portico/json.h"
#include "portico/log.h"
#include "portico/oidc.h"
#include "portico/session.h"
#include "portico/util.h"

#define AUTH_GATEWAY_KEYS_MAX 16

static char *gateway_keys[AUTH_GATEWAY_KEYS_MAX];
static int gateway_key_count;

int auth_init(void)
{
    auth_cleanup();
    char *copy = util_strdup(config_active()->gateways.api_keys);
    if (!copy) return -1;
    char *save = NULL;
    for (char *tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        util_trim(tok);
        if (!*tok) continue;
        if (gateway_key_count == AUTH_GATEWAY_KEYS_MAX) {
            log_error("gateways.api_keys: at most %d keys", AUTH_GATEWAY_KEYS_MAX);
            free(copy);
            return -1;
        }
        gateway_keys[gateway_key_count++] = util_strdup(tok);
    }
    free(copy);
    if (apikeys_load_file(config_active()->auth.keys_file, stderr) != 0) return -1;
    return 0;
}

void auth_cleanup(void)
{
    for (int i = 0; i < gateway_key_count; i++) free(gateway_keys[i]);
    gateway_key_count = 0;
    apikeys_free_file();
}

static void set_anonymous(struct principal *p)
{
    memset(p, 0, sizeof *p);
    p->type = AUTH_ANONYMOUS;
    p->role = rbac_role_parse(config_active()->auth.anonymous_role);
    util_copy(p->subject, sizeof p->subject, "anonymous");
    util_copy(p->tenant_id, sizeof p->tenant_id, "default");
}

/* Resolves an API key or reports why not: 0 ok, else the status sent. */
static int resolve_key(struct req *r, const char *key)
{
    if (!key[0] || strlen(key) > AUTH_KEY_MAX_LEN)
        return http_send_unauthorized(r, true, "the API key is invalid");
    int rc = apikeys_lookup(key, &r->principal);
    if (rc == 0) return 0;
    if (rc < 0) return http_send_db_error(r, -rc);
    return http_send_unauthorized(r, true, "the API key is invalid, expired or revoked");
}

int auth_resolve(struct req *r)
{
    struct principal *p = &r->principal;
    memset(p, 0, sizeof *p);

    /* 1. Session cookie. */
    char ctoken[256];
    enum cookie_result cr =
        cookie_get(http_header(r, "Cookie"), session_cookie_name(), ctoken, sizeof ctoken);
    if (cr == COOKIE_CONFLICT)
        return http_send_unauthorized(r, true, "more than one session cookie was sent");
    if (cr != COOKIE_ABSENT) {
        if (cr != COOKIE_FOUND || !ctoken[0])
            return http_send_unauthorized(r, true, "the session cookie is invalid");
        int rc = session_lookup(ctoken, p);
        if (rc == 0) return 0;
        memset(p, 0, sizeof *p);
        if (rc < 0) return http_send_db_error(r, -rc);
        return http_send_unauthorized(r, true, "the session has expired or was signed out");
    }

    /* 2. X-API-Key. */
    const char *key = http_header(r, "X-API-Key");
    if (key) return resolve_key(r, key);

    /* 3. Authorization: Bearer. */
    const char *authz = http_header(r, "Authorization");
    if (authz) {
        if (strncasecmp(authz, "Bearer ", 7) != 0)
            return http_send_unauthorized(r, true, "only Bearer authorization is supported");
        char token[8192];
        if (!util_copy(token, sizeof token, authz + 7))
            return http_send_unauthorized(r, true, "the bearer token is too long");
        util_trim(token);
        if (!token[0]) return http_send_unauthorized(r, true, "the bearer token is empty");
        if (oidc_enabled()) {
            int rc = oidc_verify_bearer(token, p);
            if (rc == 0) return 0;
            memset(p, 0, sizeof *p);
            if (rc == 2)
                return http_send_error(r, 403, "forbidden",
                                       "the token is valid but carries no Portico role in %s",
                                       config_active()->oidc.roles_claim);
            if (rc < 0) return http_send_unauthorized(r, true, "the bearer token is invalid");
        }
        return resolve_key(r, token);
    }

    /* No credential. */
    if (config_active()->auth.allow_anonymous) set_anonymous(p);
    return 0;
}

/* The principal behind the request's credential, in the same order as
 * auth_resolve, without sending anything: 0 with *p filled (AUTH_ANONYMOUS
 * when there is no credential and anonymous access is on), else nonzero. */
static int resolve_quiet(struct req *r, struct principal *p)
{
    char token[8192];
    memset(p, 0, sizeof *p);
    enum cookie_result cr =
        cookie_get(http_header(r, "Cookie"), session_cookie_name(), token, AUTH_KEY_MAX_LEN + 1);
    if (cr != COOKIE_ABSENT) return cr == COOKIE_FOUND ? session_lookup(token, p) : 1;
    const char *key = http_header(r, "X-API-Key");
    const char *authz = http_header(r, "Authorization");
    if (key) {
        util_copy(token, sizeof token, key);
    } else if (authz) {
        if (strncasecmp(authz, "Bearer ", 7) != 0 || !util_copy(token, sizeof token, authz + 7))
            return 1;
        util_trim(token);
        int rc = oidc_enabled() ? oidc_verify_bearer(token, p) : 1;
        if (rc != 1) return rc;
    } else {
        if (!config_active()->auth.allow_anonymous) return 1;
        set_anonymous(p);
        return 0;
    }
    if (!token[0] || strlen(token) > AUTH_KEY_MAX_LEN) return 1;
    return apikeys_lookup(token, p);
}

void auth_identify(struct req *r)
{
    struct principal p;
    if (resolve_quiet(r, &p) == 0) r->principal = p;
}

bool auth_still_valid(struct req *r)
{
    const struct principal *was = &r->principal;
    struct principal now;
    if (was->type == AUTH_NONE || was->type == AUTH_GATEWAY) return true; /* nothing to re-check */
    if (resolve_quiet(r, &now) != 0 || now.type != was->type) return false;
    if (was->type == AUTH_SESSION && strcmp(now.session_hash, was->session_hash) != 0) return false;
    if (strcmp(now.tenant_id, was->tenant_id) != 0 || strcmp(now.subject, was->subject) != 0)
        return false;
    return rbac_allows(now.role, r->route ? r->route->perms : PERM_READ);
}

int auth_gateway(struct req *r)
{
    if (gateway_key_count == 0)
        return http_send_error(
            r, 503, "gateway_keys_not_configured",
            "no gateway keys are configured (gateways.api_keys / GATEWAY_API_KEYS)");
    const char *key = http_header(r, "X-Gateway-Key");
    if (!key) return http_send_unauthorized(r, false, "X-Gateway-Key is required");
    bool ok = false;
    /* Compare against every key, in constant time, without an early exit. */
    for (int i = 0; i < gateway_key_count; i++) ok |= crypto_secret_eq(key, gateway_keys[i]);
    if (!ok) return http_send_unauthorized(r, true, "the gateway key is invalid");
    memset(&r->principal, 0, sizeof r->principal);
    r->principal.type = AUTH_GATEWAY;
    util_copy(r->principal.subject, sizeof r->principal.subject, "gateway");
    return 0;
}

bool auth_origin_ok(struct req *r)
{
    const char *origin = http_header(r, "Origin");
    if (!origin) return true;
    char want[256];
    config_public_origin(config_active(), want, sizeof want);
    return strcasecmp(origin, want) == 0;
}

int auth_check_csrf(struct req *r)
{
    unsigned flags = r->route ? r->route->flags : 0;
    bool session = r->principal.type == AUTH_SESSION;
    if (!session && !(flags & ROUTE_AUTH_FLOW)) return 0;
    if (!auth_origin_ok(r))
        return http_send_error(r, 403, "origin_mismatch",
                               "the Origin header does not match server.public_url");
    if (session && !(flags & ROUTE_CSRF_EXEMPT)) {
        const char *t = http_header(r, "X-CSRF-Token");
        if (!t || !crypto_secret_eq(t, r->principal.csrf_token))
            return http_send_error(r, 403, "csrf_failed",
                                   "X-CSRF-Token is missing or wrong (get it from /v1/whoami)");
    }
    return 0;
}

cJSON *auth_whoami_json(const struct req *r)
{
    const struct principal *p = &r->principal;
    cJSON *o = cJSON_CreateObject();
    if (!o) return NULL;
    cJSON_AddStringToObject(o, "subject", p->subject);
    json_add_str_or_null(o, "name", p->name[0] ? p->name : NULL);
    json_add_str_or_null(o, "email", p->email[0] ? p->email : NULL);
    cJSON_AddStringToObject(o, "auth_type", principal_type_name(p->type));
    cJSON_AddStringToObject(o, "role", rbac_role_name(p->role));
    cJSON_AddStringToObject(o, "tenant_id", p->tenant_id);
    cJSON *scopes = cJSON_AddArrayToObject(o, "scopes");
    char buf[128];
    util_copy(buf, sizeof buf, rbac_role_scopes(p->role));
    char *save = NULL;
    for (char *s = strtok_r(buf, " ", &save); s; s = strtok_r(NULL, " ", &save))
        cJSON_AddItemToArray(scopes, cJSON_CreateString(s));
    if (p->type == AUTH_SESSION) cJSON_AddStringToObject(o, "csrf_token", p->csrf_token);
    return o;
}

int auth_handle_whoami(struct req *r)
{
    return http_send_json_take(r, 200, auth_whoami_json(r));
}

int auth_handle_config(struct req *r)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddBoolToObject(o, "oidc_enabled", oidc_enabled());
    cJSON_AddBoolToObject(o, "api_key_enabled", true);
    cJSON_AddBoolToObject(o, "anonymous_enabled", config_active()->auth.allow_anonymous);
    return http_send_json_take(r, 200, o);
}

/* ---- gateway key ownership ---------------------------------------------- */

int auth_gateway_key_count(void)
{
    return gateway_key_count;
}

void auth_gateway_key_digest(const char *key, char out[AUTH_GATEWAY_DIGEST_LEN + 1])
{
    /* A keyed hash under a fixed label, so the stored digest is useless as
     * any other credential's digest. Only this digest is ever stored. */
    static const char label[] = "portico gateway owner v1";
    crypto_hmac_sha256_hex(label, sizeof label - 1, key, strlen(key), out);
}

bool auth_gateway_digest_configured(const char *digest)
{
    bool found = false;
    char d[AUTH_GATEWAY_DIGEST_LEN + 1];
    /* Every key, no early exit: fixed-size digests compared in constant time. */
    for (int i = 0; i < gateway_key_count; i++) {
        auth_gateway_key_digest(gateway_keys[i], d);
        found |= crypto_streq(d, digest);
    }
    return found;
}
