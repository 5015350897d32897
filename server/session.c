/*
 * session.c — server-side sessions (the browser flows that make and end
 * them are in signin.c and oidc.c).
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
 * (read-only, via config_active()) and `last_purge_ms` (atomic, only
 * rate-limits purging). Database work uses db_thread().
 */
#define _GNU_SOURCE
#include "portico/session.h"

#include "portico/principal.h"

#include <cJSON.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "portico/apikeys.h"
#include "portico/config.h"
#include "portico/cookie.h"
#include "portico/crypto.h"
#include "portico/db.h"
#include "portico/limits.h"
#include "portico/log.h"
#include "portico/util.h"

#define SESSION_COOKIE_SECURE "__Host-portico_session"
#define SESSION_COOKIE_PLAIN "portico_session"
#define SESSION_TOKEN_B64_LEN 43 /* base64url of SESSION_TOKEN_BYTES, no padding */
#define SESSION_PURGE_INTERVAL_MS 60000

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
    const struct config *c = config_active();
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

void session_drop_by_cookie(const char *cookie_header)
{
    struct session_opts o;
    opts_from_config(&o);
    char token[256], hash[CRYPTO_SHA256_HEX_LEN + 1];
    if (!cookie_header || !secret_usable(&o)) return;
    if (cookie_get(cookie_header, cookie_name_for(o.secure), token, sizeof token) != COOKIE_FOUND)
        return;
    if (!token_well_formed(token)) return;
    token_hash(o.secret, token, hash);
    db_exec(db_thread(), SQL_DELETE, DB_ARGS(DBP_TEXT(hash)), NULL);
}

int session_end(const char *session_hash, char **id_token)
{
    struct db_result *res = NULL;
    *id_token = NULL;
    enum db_err e =
        db_query(db_thread(), SQL_DELETE_RETURNING, DB_ARGS(DBP_TEXT(session_hash)), &res);
    if (e != DB_OK) return e;
    const char *tok = db_rows(res) == 1 ? db_get(res, 0, 0) : NULL;
    if (tok && tok[0]) {
        *id_token = util_strdup(tok);
        if (!*id_token) e = DB_ERR_INTERNAL;
    }
    db_result_free(res);
    return e;
}
