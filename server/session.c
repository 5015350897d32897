/*
 * session.c — server-side sessions and the browser flows that make and end
 * them (POST /auth/apikey, POST /auth/logout).
 *
 * The cookie carries a random 256-bit token (base64url); the database keeps
 * only HMAC-SHA-256(session.cookie_secret, token) as the row key, so a copy
 * of the database cannot be replayed as cookies. Sessions have an absolute
 * lifetime (session.ttl_seconds); expired rows are rejected on lookup and
 * purged (on lookup, and opportunistically at most once a minute when a
 * session is created). A session made from a database API key ends when
 * that key is revoked or expires.
 *
 * Threading: handlers run concurrently. Shared state: the configuration
 * (read-only, via http_config()) and `last_purge_ms` (atomic, only
 * rate-limits purging). Database work uses db_thread().
 */
#define _GNU_SOURCE
#include "portico/session.h"

#include <civetweb.h>
#include <cJSON.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "portico/apikeys.h"
#include "portico/audit.h"
#include "portico/auth.h"
#include "portico/config.h"
#include "portico/cookie.h"
#include "portico/crypto.h"
#include "portico/db.h"
#include "portico/events.h"
#include "portico/http.h"
#include "portico/json.h"
#include "portico/limits.h"
#include "portico/log.h"
#include "portico/oidc.h"
#include "portico/rbac.h"
#include "portico/util.h"

#define SESSION_COOKIE_SECURE "__Host-portico_session"
#define SESSION_COOKIE_PLAIN "portico_session"
#define SESSION_TOKEN_B64_LEN 43 /* base64url of SESSION_TOKEN_BYTES, no padding */
#define SESSION_PURGE_INTERVAL_MS 60000
#define SESSION_SET_COOKIE_MAX 256
#define SESSION_END_URL_MAX 4096

/* What the session functions need from the configuration; a struct so the
 * unit tests can run them without a server. */
struct session_opts {
    const char *secret;
    bool secure;
    long ttl_s;
};

static _Atomic int64_t last_purge_ms;

static const char SQL_INSERT[] =
    "INSERT INTO sessions (id_hash, subject, name, email, auth_type, role, tenant_id, csrf_token, "
    "key_id, id_token, created_at, expires_at, file_key_ref) "
    "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)";
/* The key columns let a revoked, expired or deleted database key end its
 * sessions even if revocation could not delete them. */
static const char SQL_LOOKUP[] =
    "SELECT s.subject, s.name, s.email, s.role, s.tenant_id, s.csrf_token, s.key_id, "
    "s.expires_at, k.id, k.expires_at, k.revoked_at, s.auth_type, s.file_key_ref "
    "FROM sessions s LEFT JOIN api_keys k ON k.id = s.key_id WHERE s.id_hash = $1";
static const char SQL_DELETE[] = "DELETE FROM sessions WHERE id_hash = $1";
static const char SQL_DELETE_RETURNING[] =
    "DELETE FROM sessions WHERE id_hash = $1 RETURNING id_token";
static const char SQL_PURGE[] = "DELETE FROM sessions WHERE expires_at <= $1";

static void opts_from_config(struct session_opts *o)
{
    const struct config *c = http_config();
    o->secret = c ? c->session.cookie_secret : NULL;
    o->secure = c ? c->session.cookie_secure : true;
    o->ttl_s = c ? c->session.ttl_seconds : 0;
}

static const char *cookie_name_for(bool secure)
{
    return secure ? SESSION_COOKIE_SECURE : SESSION_COOKIE_PLAIN;
}

const char *session_cookie_name(void)
{
    struct session_opts o;
    opts_from_config(&o);
    return cookie_name_for(o.secure);
}

/* "Set-Cookie: <name>=<value>; Path=/; HttpOnly; SameSite=Lax; Max-Age=<n>
 * [; Secure]\r\n" into out; false (out untouched) when it does not fit. */
static bool build_cookie(bool secure, const char *value, long max_age, char *out, size_t n)
{
    char line[SESSION_SET_COOKIE_MAX];
    int w = snprintf(line, sizeof line,
                     "Set-Cookie: %s=%s; Path=/; HttpOnly; SameSite=Lax; Max-Age=%ld%s\r\n",
                     cookie_name_for(secure), value, max_age, secure ? "; Secure" : "");
    if (w < 0 || (size_t)w >= sizeof line || (size_t)w >= n) return false;
    memcpy(out, line, (size_t)w + 1);
    return true;
}

/* True for exactly SESSION_TOKEN_B64_LEN base64url characters: anything else
 * cannot be one of our tokens and is rejected before touching the database. */
static bool token_well_formed(const char *t)
{
    size_t n = 0;
    for (; t[n]; n++) {
        char c = t[n];
        bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                  c == '-' || c == '_';
        if (!ok || n >= SESSION_TOKEN_B64_LEN) return false;
    }
    return n == SESSION_TOKEN_B64_LEN;
}

static void token_hash(const char *secret, const char *token, char out[CRYPTO_SHA256_HEX_LEN + 1])
{
    crypto_hmac_sha256_hex(secret, strlen(secret), token, strlen(token), out);
}

static bool secret_usable(const struct session_opts *o)
{
    return o->secret && strlen(o->secret) >= SESSION_SECRET_MIN;
}

static long purge_before(int64_t now)
{
    long affected = 0;
    enum db_err e = db_exec(db_thread(), SQL_PURGE, DB_ARGS(DBP_INT(now)), &affected);
    return e == DB_OK ? affected : -1;
}

long session_purge_expired(void)
{
    return purge_before(util_now_ms());
}

/* Purges at most once per SESSION_PURGE_INTERVAL_MS across all threads. */
static void maybe_purge(int64_t now)
{
    int64_t last = atomic_load(&last_purge_ms);
    if (now - last < SESSION_PURGE_INTERVAL_MS) return;
    if (!atomic_compare_exchange_strong(&last_purge_ms, &last, now)) return;
    long n = purge_before(now);
    if (n > 0) log_debug("purged %ld expired sessions", n);
}

static int create_with(const struct session_opts *o, struct principal *p, const char *id_token,
                       int64_t now, char *set_cookie, size_t n)
{
    unsigned char raw[SESSION_TOKEN_BYTES], craw[SESSION_TOKEN_BYTES];
    char token[SESSION_TOKEN_B64_LEN + 4], csrf[SESSION_TOKEN_B64_LEN + 4];
    char hash[CRYPTO_SHA256_HEX_LEN + 1], line[SESSION_SET_COOKIE_MAX];
    if (!secret_usable(o) || o->ttl_s <= 0) {
        log_error("sessions: no usable session.cookie_secret / ttl");
        return DB_ERR_INTERNAL;
    }
    if (crypto_random(raw, sizeof raw) != 0 || crypto_random(craw, sizeof craw) != 0)
        return DB_ERR_INTERNAL;
    crypto_b64url_encode(raw, sizeof raw, token);
    crypto_b64url_encode(craw, sizeof craw, csrf);
    token_hash(o->secret, token, hash);
    if (!build_cookie(o->secure, token, o->ttl_s, line, sizeof line) || strlen(line) >= n)
        return DB_ERR_INTERNAL;
    const char *auth_type = p->type == AUTH_API_KEY ? "api_key" : "oidc";
    int64_t expires = now + (int64_t)o->ttl_s * 1000;
    char file_ref[CRYPTO_SHA256_HEX_LEN + 1] = "";
    if (p->type == AUTH_API_KEY && p->file_key_sha256[0])
        apikeys_file_key_ref(o->secret, p->file_key_sha256, file_ref);
    enum db_err e = db_exec(
        db_thread(), SQL_INSERT,
        DB_ARGS(DBP_TEXT(hash), DBP_TEXT(p->subject), DBP_TEXT(p->name), DBP_TEXT(p->email),
                DBP_TEXT(auth_type), DBP_TEXT(rbac_role_name(p->role)), DBP_TEXT(p->tenant_id),
                DBP_TEXT(csrf), p->key_id[0] ? DBP_TEXT(p->key_id) : DBP_NULL,
                id_token && id_token[0] ? DBP_TEXT(id_token) : DBP_NULL, DBP_INT(now),
                DBP_INT(expires), file_ref[0] ? DBP_TEXT(file_ref) : DBP_NULL),
        NULL);
    if (e != DB_OK) return (int)e;
    p->type = AUTH_SESSION;
    util_copy(p->csrf_token, sizeof p->csrf_token, csrf);
    util_copy(p->session_hash, sizeof p->session_hash, hash);
    memcpy(set_cookie, line, strlen(line) + 1);
    maybe_purge(now);
    return DB_OK;
}

int session_create(struct principal *p, const char *id_token, char *set_cookie, size_t n)
{
    struct session_opts o;
    opts_from_config(&o);
    return create_with(&o, p, id_token, util_now_ms(), set_cookie, n);
}

static int lookup_with(const struct session_opts *o, const char *token, int64_t now,
                       struct principal *p)
{
    if (!secret_usable(o) || !token || !token_well_formed(token)) return 1;
    char hash[CRYPTO_SHA256_HEX_LEN + 1];
    token_hash(o->secret, token, hash);
    struct db *db = db_thread();
    struct db_result *res = NULL;
    enum db_err e = db_query(db, SQL_LOOKUP, DB_ARGS(DBP_TEXT(hash)), &res);
    if (e != DB_OK) return -(int)e;
    int rc = 1;
    if (db_rows(res) != 1) goto out;
    bool expired = db_get_int(res, 0, 7) <= now;
    bool from_key = !db_is_null(res, 0, 6);
    bool key_gone = from_key && (db_is_null(res, 0, 8) || !db_is_null(res, 0, 10) ||
                                 (!db_is_null(res, 0, 9) && db_get_int(res, 0, 9) <= now));
    enum role role = rbac_role_parse(db_get(res, 0, 3));
    /* A session made from a keys-file key lives only as long as that key
     * stays in the file with the same role and tenant (checked against the
     * file as loaded at this start). */
    bool api_key = strcmp(db_get(res, 0, 11), "api_key") == 0;
    if (api_key && !from_key &&
        !apikeys_file_key_current(db_get(res, 0, 1), db_get(res, 0, 3), db_get(res, 0, 4),
                                  o->secret, db_get(res, 0, 12)))
        key_gone = true;
    if (expired || key_gone || role == ROLE_NONE) {
        e = db_exec(db, SQL_DELETE, DB_ARGS(DBP_TEXT(hash)), NULL);
        if (e != DB_OK) log_warn("sessions: cannot delete an ended session (%s)", db_err_name(e));
        goto out;
    }
    memset(p, 0, sizeof *p);
    p->type = AUTH_SESSION;
    p->role = role;
    util_copy(p->subject, sizeof p->subject, db_get(res, 0, 0));
    util_copy(p->name, sizeof p->name, db_get(res, 0, 1));
    util_copy(p->email, sizeof p->email, db_get(res, 0, 2));
    util_copy(p->tenant_id, sizeof p->tenant_id, db_get(res, 0, 4));
    util_copy(p->csrf_token, sizeof p->csrf_token, db_get(res, 0, 5));
    util_copy(p->session_hash, sizeof p->session_hash, hash);
    if (from_key) util_copy(p->key_id, sizeof p->key_id, db_get(res, 0, 6));
    p->file_key = api_key && !from_key;
    rc = 0;
out:
    db_result_free(res);
    return rc;
}

int session_lookup(const char *token, struct principal *p)
{
    struct session_opts o;
    opts_from_config(&o);
    return lookup_with(&o, token, util_now_ms(), p);
}

void session_clear_cookie(char *out, size_t n)
{
    struct session_opts o;
    opts_from_config(&o);
    if (!build_cookie(o.secure, "", 0, out, n) && n) out[0] = '\0';
}

/* ---- browser flows ------------------------------------------------------ */

/* A name for a rejected key in the audit log that does not reveal it: the
 * visible prefix of a database key, else "apikey:unknown". */
static void failed_subject(const char *key, char *out, size_t n)
{
    bool db_shaped = strncmp(key, "pk_", 3) == 0 && strlen(key) > 11 && key[11] == '_';
    for (int i = 3; db_shaped && i < 11; i++)
        if (!((key[i] >= 'a' && key[i] <= 'z') || (key[i] >= '0' && key[i] <= '9')))
            db_shaped = false;
    if (db_shaped)
        snprintf(out, n, "apikey:%.11s", key);
    else
        util_copy(out, n, "apikey:unknown");
}

/* Deletes the session the request's cookie names, if any (signing in again
 * replaces it rather than leaving it behind). */
static void drop_cookie_session(struct req *r)
{
    const char *cookies = http_header(r, "Cookie");
    struct session_opts o;
    opts_from_config(&o);
    char token[256], hash[CRYPTO_SHA256_HEX_LEN + 1];
    if (!cookies || !secret_usable(&o)) return;
    if (cookie_get(cookies, cookie_name_for(o.secure), token, sizeof token) != COOKIE_FOUND) return;
    if (!token_well_formed(token)) return;
    token_hash(o.secret, token, hash);
    db_exec(db_thread(), SQL_DELETE, DB_ARGS(DBP_TEXT(hash)), NULL);
}

int session_handle_apikey_login(struct req *r)
{
    char err[JSON_ERR_MAX], key[AUTH_KEY_MAX_LEN + 1], subject[64], cookie[SESSION_SET_COOKIE_MAX];
    char *text = NULL;
    const char *given = NULL;
    struct principal p;
    int rc;
    cJSON *body = http_json_body(r);
    if (!body) return r->status;
    if (json_string(body, "api_key", 1, AUTH_KEY_MAX_LEN, true, &given, err) != 0) {
        rc = http_send_error(r, 400, "invalid_field", "%s", err);
        goto out;
    }
    util_copy(key, sizeof key, given);
    util_trim(key); /* pasted keys often carry a newline */
    if (!key[0]) {
        rc = http_send_error(r, 400, "invalid_field", "api_key: must not be empty");
        goto out;
    }

    int found = apikeys_lookup(key, &p);
    if (found < 0) {
        rc = http_send_db_error(r, -found);
        goto out;
    }
    if (found != 0) {
        failed_subject(key, subject, sizeof subject);
        rc = http_send_unauthorized(r, true, "the API key is invalid, expired or revoked");
        audit_record_auth(r, "sign_in_failed", subject);
        goto out;
    }

    drop_cookie_session(r);
    r->principal = p;
    int e = session_create(&r->principal, NULL, cookie, sizeof cookie);
    if (e != DB_OK) {
        memset(&r->principal, 0, sizeof r->principal);
        rc = http_send_db_error(r, e);
        goto out;
    }
    cJSON *who = auth_whoami_json(r);
    text = who ? json_print(who) : NULL;
    cJSON_Delete(who);
    if (!text) {
        rc = http_send_error(r, 500, "internal", "out of memory");
        goto out;
    }
    rc = http_send(r, 200, "application/json", text, strlen(text), cookie);
    audit_record_auth(r, "sign_in", NULL);
    log_info("signed in: %s (api key, role %s)", r->principal.subject,
             rbac_role_name(r->principal.role));
out:
    free(text);
    cJSON_Delete(body);
    return rc;
}

int session_handle_logout(struct req *r)
{
    char cookie[SESSION_SET_COOKIE_MAX], url[SESSION_END_URL_MAX];
    struct db_result *res = NULL;
    char *text = NULL;
    cJSON *o = NULL;
    int rc;
    url[0] = '\0';
    bool session = r->principal.type == AUTH_SESSION;
    if (session) {
        enum db_err e = db_query(db_thread(), SQL_DELETE_RETURNING,
                                 DB_ARGS(DBP_TEXT(r->principal.session_hash)), &res);
        if (e != DB_OK) {
            rc = http_send_db_error(r, e);
            goto out;
        }
        events_credentials_changed(); /* the session's event streams end now */
        const char *id_token = db_rows(res) == 1 ? db_get(res, 0, 0) : NULL;
        if (id_token && id_token[0]) oidc_end_session_url(id_token, url, sizeof url);
    }
    session_clear_cookie(cookie, sizeof cookie);
    o = cJSON_CreateObject();
    if (o) json_add_str_or_null(o, "end_session_url", url[0] ? url : NULL);
    text = o ? json_print(o) : NULL;
    if (!text) {
        rc = http_send_error(r, 500, "internal", "out of memory");
        goto out;
    }
    rc = http_send(r, 200, "application/json", text, strlen(text), cookie);
    if (session) {
        audit_record_auth(r, "sign_out", NULL);
        log_info("signed out: %s", r->principal.subject);
    }
out:
    free(text);
    cJSON_Delete(o);
    db_result_free(res);
    return rc;
}
